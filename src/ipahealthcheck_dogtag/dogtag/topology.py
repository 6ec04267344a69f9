"""Which servers exist, as the directory records them.

In IPA the truth is the main suffix: `cn=<host>,cn=masters,cn=ipa,cn=etc`
(a server), its `cn=CA` child enabled or hidden (the CA role), and the
segments under `cn=ca,cn=topology,cn=ipa,cn=etc` (which servers replicate
o=ipaca with each other). A standalone Dogtag has only its security domain,
`ou=Security Domain,<base>`, listing each subsystem's host.
Host names compare case-insensitively.
"""

import ldap
import ldap.dn

from ipahealthcheck_dogtag.discovery import Finding

CA_ROLE_STATES = ('enabledservice', 'hiddenservice')


def _text(attrs, name):
    return [v.decode('utf-8', 'replace') for v in attrs.get(name, [])]


class Topology:
    def __init__(self, kind, where, servers, ca_servers, segments, local):
        self.kind = kind                    # 'ipa' or 'security domain'
        self.where = where                  # the DN read, for messages
        self.servers = servers
        self.ca_servers = ca_servers
        self.segments = segments            # set of frozenset({a, b})
        self.local = (local or '').lower()

    @property
    def ipa(self):
        return self.kind == 'ipa'

    def is_server(self, host):
        return host.lower() in self.servers

    def has_ca(self, host):
        return host.lower() in self.ca_servers

    def joined(self, host):
        """Does a CA segment join this server and `host`?"""
        return frozenset((self.local, host.lower())) in self.segments


def read_topology(directory, database):
    """The Topology for this CA; raises Finding when it cannot be read."""
    if database.ipa_basedn:
        return _ipa(directory, database.ipa_basedn, database.hostname)
    return _security_domain(directory, database.subsystem('ca').basedn,
                            database.hostname)


def _ipa(directory, basedn, local):
    masters = 'cn=masters,cn=ipa,cn=etc,%s' % basedn
    entries, _ = directory.search(masters, '(objectClass=*)',
                                  ['cn', 'ipaConfigString'],
                                  scope=ldap.SCOPE_SUBTREE)
    if not entries:
        raise Finding('topology', 'Cannot read the IPA servers: expected '
                      'entries under {masters}, found none. Check '
                      'dogtag_ipa_basedn (now {basedn}) or the basedn of '
                      '/etc/ipa/default.conf.', masters=masters,
                      basedn=basedn)
    servers, ca_servers = set(), set()
    depth = masters.count(',') + 1
    for dn, attrs in entries:
        rdns = ldap.dn.explode_dn(dn, notypes=True)
        if len(rdns) == depth + 1:
            servers.add(rdns[0].lower())
        elif len(rdns) == depth + 2 and rdns[0].lower() == 'ca':
            states = {s.lower() for s in _text(attrs, 'ipaconfigstring')}
            if states & set(CA_ROLE_STATES):
                ca_servers.add(rdns[1].lower())
    where = 'cn=ca,cn=topology,cn=ipa,cn=etc,%s' % basedn
    found, _ = directory.search(
        where, '(objectClass=*)', ['ipaReplTopoSegmentLeftNode',
                                   'ipaReplTopoSegmentRightNode'],
        scope=ldap.SCOPE_ONELEVEL)
    segments = set()
    for _, attrs in found:
        ends = (_text(attrs, 'iparepltoposegmentleftnode') +
                _text(attrs, 'iparepltoposegmentrightnode'))
        if len(ends) == 2:
            segments.add(frozenset(e.lower() for e in ends))
    return Topology('ipa', masters, servers, ca_servers, segments, local)


def _security_domain(directory, basedn, local):
    where = 'ou=Security Domain,%s' % basedn
    entries, _ = directory.search(where, '(objectClass=pkiSubsystem)',
                                  ['host'], scope=ldap.SCOPE_SUBTREE)
    if not entries:
        raise Finding('topology', 'Cannot read the security domain: '
                      'expected subsystem entries under {where}, found '
                      'none. On an IPA server set dogtag_ipa_basedn (or fix '
                      '/etc/ipa/default.conf); on a standalone Dogtag check '
                      'the security domain with pki securitydomain-show.',
                      where=where)
    servers, ca_servers = set(), set()
    for dn, attrs in entries:
        for host in _text(attrs, 'host'):
            servers.add(host.lower())
            if ',cn=calist,' in dn.lower():
                ca_servers.add(host.lower())
    return Topology('security domain', where, servers, ca_servers, set(),
                    local)
