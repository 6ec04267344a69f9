"""What removed servers leave behind in o=ipaca and in CS.cfg, as verdicts.

Each function answers one question with data; the checks of
`dogtag.topology` (checks/topology.py) turn the answers into findings.

- The security domain, `ou=Security Domain,<CA base>`: one `pkiSubsystem`
  entry `cn=<host>:<SecurePort>` per subsystem under `cn=<TYPE>List`, with
  Host, SecurePort, SubsystemName, Clone and DomainManager
  (dogtagpki/pki SecurityDomainProcessor.addHost, v10.10.0 and v11.5.0).
- The subsystem users `uid=<TYPE>-<machineName>-<service.securePort>` in
  ou=People, userType agentType, member of `cn=Subsystem Group`, holding
  the subsystem certificate (dogtagpki/pki CertUtil.addUserCertificate in
  v10.5.18; SubsystemGroupUpdater from v11.x; UGSubsystem.addUserCert
  writes userCertificate and description).
- `securitydomain.host` in a subsystem's CS.cfg: where installs of more
  subsystems on this server log in (freeipa c26038d24, pagure 6895).
- `ca.connector.KRA.transportCert` in the CA's CS.cfg against the KRA's
  `kra.transport.cert` (freeipa 886722364, pagure 9692).
"""

import base64
import binascii
import re
from datetime import datetime, timezone

import ldap
import ldap.dn
import ldap.filter

from ipahealthcheck_dogtag.dogtag.topology import (
    CONFIGURED, ENABLED, HIDDEN)

# A server "holds" a role while its cn=<ROLE> entry below cn=masters is in
# any of these states: configuredService too, since an install registers in
# the security domain before it switches the role on (freeipa
# ipaserver/install/service.py ldap_configure / enable_services,
# release-4-13-3).
HOLDING = (ENABLED, HIDDEN, CONFIGURED)
# Security-domain lists (and user types) whose IPA role cn=masters records.
IPA_ROLES = {'CA': 'ca', 'KRA': 'kra'}
# uid=<TYPE>-<host>-<port>: the host may hold hyphens, the port never.
SUBSYSTEM_USER = re.compile(r'^(CA|KRA|OCSP|TKS|TPS|RA)-(.+)-(\d+)$')
# The entry where IPA publishes a renewed KRA transport certificate for
# the other servers (freeipa ipaserver/install/cainstance.py
# update_ca_renewal_entry; ipalib/constants.py container_ca_renewal;
# installutils.get_nickname_by_subject_dn, release-4-13-3).
RENEWAL_NICKNAME = 'transportCert cert-pki-kra'


def _text(attrs, name):
    return [v.decode('utf-8', 'replace') for v in attrs.get(name, [])]


def _first(attrs, name):
    values = _text(attrs, name)
    return values[0] if values else None


def _flag(value):
    return None if value is None else value.strip().upper() == 'TRUE'


# -- the security domain -----------------------------------------------------

class Registration:
    """One subsystem entry of the security domain."""

    def __init__(self, dn, kind, host, port, clone, manager, name):
        self.dn = dn
        self.kind = kind            # CA, KRA, OCSP, ... (from cn=<kind>List)
        self.host = host
        self.port = port
        self.clone = clone          # True, False or None when unset
        self.manager = manager
        self.name = name            # SubsystemName

    @property
    def key(self):
        return '%s:%s:%s' % (self.kind, self.host, self.port)


def security_domain_dn(basedn):
    return 'ou=Security Domain,%s' % basedn


def read_security_domain(directory, basedn):
    """The Registrations of the security domain, or None when this CA has
    no security domain entry at all."""
    where = security_domain_dn(basedn)
    if directory.entry(where, ['1.1']) is None:
        return None
    entries, _ = directory.search(
        where, '(objectClass=pkiSubsystem)',
        ['host', 'securePort', 'clone', 'domainManager', 'subsystemName'],
        scope=ldap.SCOPE_SUBTREE)
    found = []
    for dn, attrs in entries:
        rdns = ldap.dn.explode_dn(dn, notypes=True)
        listed = rdns[1] if len(rdns) > 1 else ''
        kind = listed[:-4].upper() if listed.lower().endswith('list') \
            else listed.upper()
        found.append(Registration(
            dn, kind, (_first(attrs, 'host') or '').strip(),
            (_first(attrs, 'secureport') or '').strip(),
            _flag(_first(attrs, 'clone')),
            _flag(_first(attrs, 'domainmanager')),
            _first(attrs, 'subsystemname')))
    return found


def managers(registrations):
    """Hosts of the CAs marked DomainManager TRUE, lower-cased."""
    return sorted({r.host.lower() for r in registrations or ()
                   if r.kind == 'CA' and r.manager})


# -- hosts against the IPA server list ---------------------------------------

CURRENT, NO_SERVER, NO_ROLE = 'current', 'no-server', 'no-role'


def host_verdict(topology, kind, host):
    """(verdict, role, states) for a subsystem of `kind` on `host`:
    CURRENT when `host` is an IPA server holding the role (or, for kinds
    IPA has no role for, when it is a server at all); NO_SERVER when it is
    no IPA server; NO_ROLE when it is one without that role."""
    if not topology.is_server(host):
        return NO_SERVER, IPA_ROLES.get(kind), None
    role = IPA_ROLES.get(kind)
    if role is None:
        return CURRENT, None, None
    states = topology.role_states(role, host)
    if states and set(states) & set(HOLDING):
        return CURRENT, role, states
    return NO_ROLE, role, states or []


# -- subsystem users ---------------------------------------------------------

class SubsystemUser:
    def __init__(self, dn, uid, kind, host, port, certificates):
        self.dn = dn
        self.uid = uid
        self.kind = kind
        self.host = host
        self.port = port
        self.certificates = certificates    # [(serial, not_after)] parsed

    def certificate(self):
        """(serial, not_after) of the certificate that expires last, or
        (None, None)."""
        known = [c for c in self.certificates if c[1] is not None]
        if not known:
            return None, None
        return max(known, key=lambda c: c[1])


def read_subsystem_users(directory, basedn):
    """Dogtag's subsystem users in ou=People (agentType, uid matching
    <TYPE>-<host>-<port>)."""
    people = 'ou=People,%s' % basedn
    entries, _ = directory.search(
        people, '(&(objectClass=cmsuser)(usertype=agentType))',
        ['uid', 'userCertificate', 'userCertificate;binary'],
        scope=ldap.SCOPE_ONELEVEL)
    users = []
    for dn, attrs in entries:
        uid = _first(attrs, 'uid') or ''
        match = SUBSYSTEM_USER.match(uid)
        if not match:
            continue
        ders = attrs.get('usercertificate', []) + \
            attrs.get('usercertificate;binary', [])
        certs = [c for c in (parse_certificate(d) for d in ders) if c]
        users.append(SubsystemUser(dn, uid, match.group(1), match.group(2),
                                   match.group(3), certs))
    return people, users


def reinstall_blocked(version):
    """Does pkispawn of this PKI version fail on an existing subsystem
    user (err=68) when the host is installed again? dogtagpki/pki#3544:
    from v10.11.0 until "Fix replica reinstallation" (v10.11.5, v10.12.0,
    v11.1.0; not in v11.0.x). Unknown: it may."""
    if version is None:
        return True
    version = tuple(version)
    return (10, 11) <= version < (10, 11, 5) or (11, 0) <= version < (11, 1)


def groups_of(directory, basedn, member):
    """DNs of the groups in ou=groups listing `member`."""
    found, _ = directory.search(
        'ou=groups,%s' % basedn, '(uniqueMember=%s)'
        % ldap.filter.escape_filter_chars(member), ['cn'],
        scope=ldap.SCOPE_ONELEVEL)
    return [dn for dn, _ in found]


# -- certificates (DER, read with the standard library only) -----------------

def _tlv(data, at):
    """(tag, start of value, end of value) of the DER element at `at`."""
    tag = data[at]
    length = data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7f
        if not 0 < count <= 4:
            raise ValueError('bad length')
        length = int.from_bytes(data[at:at + count], 'big')
        at += count
    if at + length > len(data):
        raise ValueError('truncated')
    return tag, at, at + length


def _time(tag, raw):
    text = raw.decode('ascii')
    if tag == 0x17:                         # UTCTime, RFC 5280 4.1.2.5.1
        year = int(text[:2])
        text = ('19' if year >= 50 else '20') + text
    return datetime.strptime(text[:14], '%Y%m%d%H%M%S').replace(
        tzinfo=timezone.utc)


def parse_certificate(der):
    """(serial as decimal text, notAfter as datetime) of an X.509
    certificate in DER, or None when it is not one (RFC 5280 4.1)."""
    try:
        tag, start, _ = _tlv(der, 0)                    # Certificate
        if tag != 0x30:
            return None
        tag, at, _ = _tlv(der, start)                   # tbsCertificate
        if tag != 0x30:
            return None
        tag, value, end = _tlv(der, at)
        if tag == 0xa0:                                 # [0] version
            at = end
            tag, value, end = _tlv(der, at)
        if tag != 0x02:
            return None
        serial = int.from_bytes(der[value:end], 'big', signed=True)
        _, _, at = _tlv(der, end)                       # signature
        _, _, at = _tlv(der, at)                        # issuer
        tag, at, _ = _tlv(der, at)                      # validity
        if tag != 0x30:
            return None
        _, _, at = _tlv(der, at)                        # notBefore
        tag, value, end = _tlv(der, at)                 # notAfter
        if tag not in (0x17, 0x18):
            return None
        return str(serial), _time(tag, der[value:end])
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def certificate_blob(text):
    """The DER bytes of a CS.cfg certificate value (base64, no PEM
    headers, as freeipa dogtaginstance.update_cert_cs_cfg writes it), or
    None when it is not base64."""
    if not text:
        return None
    try:
        return base64.b64decode(re.sub(r'\s+', '', text), validate=True)
    except (binascii.Error, ValueError):
        return None


def iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ') if moment else None


def renewal_entry_dn(ipa_basedn):
    return 'cn=%s,cn=ca_renewal,cn=ipa,cn=etc,%s' % (RENEWAL_NICKNAME,
                                                     ipa_basedn)


def read_renewed_transport(directory, ipa_basedn):
    """(DN, DER) of the KRA transport certificate IPA published for the
    other servers, or (DN, None) when there is no such entry."""
    where = renewal_entry_dn(ipa_basedn)
    attrs = directory.entry(where, ['userCertificate',
                                    'userCertificate;binary'])
    if not attrs:
        return where, None
    ders = attrs.get('usercertificate', []) + \
        attrs.get('usercertificate;binary', [])
    return where, (ders[0] if ders else None)


# -- securitydomain.host -----------------------------------------------------

SD_CURRENT, SD_GONE, SD_NOT_MANAGER = 'current', 'gone', 'not-manager'


def sd_host_verdict(host, topology, registrations):
    """Is `host` (securitydomain.host) still where the security domain
    is? With IPA: SD_GONE when it is no IPA server. Without: SD_GONE when
    the security domain lists no CA on it. Then SD_NOT_MANAGER when no CA
    on it is marked DomainManager TRUE."""
    name = host.lower()
    if topology is not None:
        gone = not topology.is_server(name)
    else:
        gone = name not in {r.host.lower() for r in registrations or ()
                            if r.kind == 'CA'}
    if gone:
        return SD_GONE
    if name not in managers(registrations):
        return SD_NOT_MANAGER
    return SD_CURRENT


def suggested_sd_host(local, registrations):
    """The host securitydomain.host should name: this server when its CA
    is a domain manager (what freeipa c26038d24 gives pkispawn for a KRA),
    else the first manager, or None."""
    found = managers(registrations)
    if local and local.lower() in found:
        return local.lower()
    return found[0] if found else None
