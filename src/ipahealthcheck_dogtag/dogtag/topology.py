"""Which servers exist, as the directory records them.

In IPA the truth is the main suffix: `cn=<host>,cn=masters,cn=ipa,cn=etc`
(a server), its `cn=CA` child (the CA role, by its `ipaConfigString`
state), the server's `ipaReplTopoManagedSuffix` values (the hosts IPA's
topology plugin manages for a suffix), the segments under
`cn=ca,cn=topology,cn=ipa,cn=etc`, and the domain level
(`cn=Domain Level,cn=ipa,cn=etc`, `ipaDomainLevel`). A standalone Dogtag
has only its security domain, `ou=Security Domain,<base>`, listing each
subsystem's host. Host names compare case-insensitively.
"""

import ldap
import ldap.dn

from ipahealthcheck_dogtag.discovery import Problem

# ipaConfigString states of a service entry (freeipa/freeipa
# ipaserver/install/service.py, release-4-13-3): ldap_configure() writes
# configuredService; enable_services()/hide_services() switch it to
# enabledService or hiddenService at the very end of an install.
ENABLED, HIDDEN, CONFIGURED = 'enabledservice', 'hiddenservice', \
    'configuredservice'
CA_ROLE_STATES = (ENABLED, HIDDEN)


def _text(attrs, name):
    return [v.decode('utf-8', 'replace') for v in attrs.get(name, [])]


def normal_dn(text):
    """A DN in one spelling (case, spaces), to compare suffixes."""
    try:
        return ','.join('+'.join('%s=%s' % (t.lower(), v.lower())
                                 for t, v, _ in rdn)
                        for rdn in ldap.dn.str2dn(text))
    except ldap.DECODING_ERROR:
        return text.strip().lower()


class Topology:
    def __init__(self, kind, where, servers, ca_servers, segments, local,
                 ca_entries=None, managed=None, domain_level=None):
        self.kind = kind                    # 'ipa' or 'security domain'
        self.where = where                  # the DN read, for messages
        self.servers = servers
        self.ca_servers = ca_servers        # CA role enabled or hidden
        # host -> lower-cased ipaConfigString values of its cn=CA entry
        self.ca_entries = ca_entries or {}
        self.managed = managed or set()     # managed for the CA suffix
        self.segments = segments            # frozenset({a, b}) -> name
        self.local = (local or '').lower()
        self.domain_level = domain_level    # None outside IPA
        # role ('ca', 'kra') -> host -> lower-cased ipaConfigString values
        self.roles = {'ca': self.ca_entries}

    @property
    def ipa(self):
        return self.kind == 'ipa'

    @property
    def managed_topology(self):
        """Is IPA's topology plugin active? It is from domain level 1 on
        (freeipa daemons/ipa-slapi-plugins/topology/topology_cfg.c
        topo_min_domain_level = 1, topology_util.c
        ipa_topo_util_check_plugin_active, release-4-13-3)."""
        return self.ipa and (self.domain_level or 0) >= 1

    def is_server(self, host):
        return host.lower() in self.servers

    def has_ca(self, host):
        return host.lower() in self.ca_servers

    def has_ca_entry(self, host):
        """Any cn=CA entry, whatever its state: what `ipa-replica-manage
        clean-dangling-ruv` takes for "CA configured"."""
        return host.lower() in self.ca_entries

    def ca_configured_only(self, host):
        states = self.ca_entries.get(host.lower(), ())
        return CONFIGURED in states and not set(states) & set(CA_ROLE_STATES)

    def role_states(self, role, host):
        """The ipaConfigString states of `host`'s cn=<role> entry (role
        'ca' or 'kra'), or None when it has none."""
        return self.roles.get(role.lower(), {}).get(host.lower())

    def is_managed(self, host):
        """Does the topology plugin manage `host` for the CA suffix?"""
        return host.lower() in self.managed

    def joined(self, host):
        """Does a CA segment join this server and `host`?"""
        return self.segment(host) is not None

    def segment(self, host):
        """The name of the CA segment joining this server and `host`."""
        return self.segments.get(frozenset((self.local, host.lower())))


def read_topology(directory, database):
    """The Topology for this CA; raises Problem when it cannot be read."""
    if database.ipa_basedn:
        return _ipa(directory, database.ipa_basedn, database.hostname,
                    database.subsystem('ca').basedn)
    return _security_domain(directory, database.subsystem('ca').basedn,
                            database.hostname)


def domain_level_dn(basedn):
    return 'cn=Domain Level,cn=ipa,cn=etc,%s' % basedn


def _domain_level(directory, basedn):
    """ipaDomainLevel; 0 when the entry or value is missing, as the
    topology plugin takes it (topology_util.c
    ipa_topo_util_set_domain_level, topology_cfg.c
    ipa_topo_set_domain_level, release-4-13-3)."""
    attrs = directory.entry(domain_level_dn(basedn), ['ipaDomainLevel'])
    values = _text(attrs or {}, 'ipadomainlevel')
    try:
        return int(values[0]) if values else 0
    except ValueError:
        return 0


def _ipa(directory, basedn, local, ca_suffix):
    masters = 'cn=masters,cn=ipa,cn=etc,%s' % basedn
    entries, _ = directory.search(masters, '(objectClass=*)',
                                  ['cn', 'ipaConfigString',
                                   'ipaReplTopoManagedSuffix'],
                                  scope=ldap.SCOPE_SUBTREE)
    if not entries:
        raise Problem('ipa-servers-unreadable', 'topology', masters=masters,
                      basedn=basedn)
    servers, ca_servers, ca_entries, managed = set(), set(), {}, set()
    kra_entries = {}
    suffix = normal_dn(ca_suffix)
    depth = masters.count(',') + 1
    for dn, attrs in entries:
        rdns = ldap.dn.explode_dn(dn, notypes=True)
        if len(rdns) == depth + 1:
            host = rdns[0].lower()
            servers.add(host)
            if suffix in {normal_dn(s) for s in
                          _text(attrs, 'iparepltopomanagedsuffix')}:
                managed.add(host)
        elif len(rdns) == depth + 2 and rdns[0].lower() == 'ca':
            states = {s.lower() for s in _text(attrs, 'ipaconfigstring')}
            ca_entries[rdns[1].lower()] = sorted(states)
            if states & set(CA_ROLE_STATES):
                ca_servers.add(rdns[1].lower())
        elif len(rdns) == depth + 2 and rdns[0].lower() == 'kra':
            # The KRA role, as ipa-kra-install records it (freeipa
            # ipaserver/install/krainstance.py __enable_instance ->
            # ldap_configure('KRA', ...), release-4-13-3).
            kra_entries[rdns[1].lower()] = sorted(
                s.lower() for s in _text(attrs, 'ipaconfigstring'))
    where = 'cn=ca,cn=topology,cn=ipa,cn=etc,%s' % basedn
    found, _ = directory.search(
        where, '(objectClass=*)', ['cn', 'ipaReplTopoSegmentLeftNode',
                                   'ipaReplTopoSegmentRightNode'],
        scope=ldap.SCOPE_ONELEVEL)
    segments = {}
    for dn, attrs in found:
        ends = (_text(attrs, 'iparepltoposegmentleftnode') +
                _text(attrs, 'iparepltoposegmentrightnode'))
        if len(ends) == 2:
            name = (_text(attrs, 'cn') or
                    ldap.dn.explode_dn(dn, notypes=True)[:1])[0]
            segments[frozenset(e.lower() for e in ends)] = name
    topology = Topology('ipa', masters, servers, ca_servers, segments,
                        local, ca_entries=ca_entries, managed=managed,
                        domain_level=_domain_level(directory, basedn))
    topology.roles['kra'] = kra_entries
    return topology


def _security_domain(directory, basedn, local):
    where = 'ou=Security Domain,%s' % basedn
    entries, _ = directory.search(where, '(objectClass=pkiSubsystem)',
                                  ['host'], scope=ldap.SCOPE_SUBTREE)
    if not entries:
        raise Problem('security-domain-unreadable', 'topology', where=where)
    servers, ca_servers = set(), set()
    for dn, attrs in entries:
        for host in _text(attrs, 'host'):
            servers.add(host.lower())
            if ',cn=calist,' in dn.lower():
                ca_servers.add(host.lower())
    return Topology('security domain', where, servers, ca_servers, {},
                    local)


# The roles a CA server's install leaves under cn=<host>,cn=masters: the
# CA's and the KRA's service entries (freeipa/freeipa release-4-13-3
# ipaserver/install/cainstance.py and krainstance.py, service.py
# ldap_configure writes configuredService, enable_services and
# hide_services switch it at the very end).
PKI_ROLES = ('CA', 'KRA')


def unfinished_roles(directory, basedn):
    """[(host, role)] whose cn=CA or cn=KRA entry under cn=masters is only
    configuredService; raises Problem when cn=masters cannot be read."""
    masters = 'cn=masters,cn=ipa,cn=etc,%s' % basedn
    entries, _ = directory.search(masters, '(objectClass=*)',
                                  ['ipaConfigString'],
                                  scope=ldap.SCOPE_SUBTREE)
    if not entries:
        raise Problem('ipa-servers-unreadable', 'topology', masters=masters,
                      basedn=basedn)
    depth = masters.count(',') + 1
    found = []
    for dn, attrs in entries:
        rdns = ldap.dn.explode_dn(dn, notypes=True)
        if len(rdns) != depth + 2 or rdns[0].upper() not in PKI_ROLES:
            continue
        states = {s.lower() for s in _text(attrs, 'ipaconfigstring')}
        if CONFIGURED in states and not states & set(CA_ROLE_STATES):
            found.append((rdns[1].lower(), rdns[0].upper()))
    return sorted(found)
