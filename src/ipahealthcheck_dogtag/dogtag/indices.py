"""The indices of the CA backends and whether 389-DS built them; Dogtag's
CRL VLV index (PKI 11.9).

On LMDB an index defined while 389-DS runs has no database until an index
task or a restart opens one; a write that must update it then fails with
"Operations error" (errors log: "Attempt to open dbi ... while txn is
already pending", dogtagpki/pki#4919, 389ds/389-ds-base#5976). BerkeleyDB
creates the file at first use. The backend monitor lists the databases
(see dogtag/vlv.py `lmdb_stats`).
"""

import re

import ldap.dn
import ldap.filter

from ipahealthcheck_dogtag.dogtag.repositories import normalize_dn
from ipahealthcheck_dogtag.dogtag.vlv import Definition

ATTRIBUTE, VLV = 'attribute', 'vlv'
BACKEND = 'cn=%s,cn=ldbm database,cn=plugins,cn=config'

# dogtagpki/pki v11.9.0 base/ca/database/ds/vlv.ldif (PRs #5268, #5270):
# the VLV search behind CRL generation, per CA instance.
CRL_INDEX = 'allRevokedCertsByIssuer'
CRL_PKI = (11, 9)
CRL_SORT = 'serialno'
CRL_BASE_RDN = 'ou=certificateRepository,ou=ca'
# The form of CRLIssuingPoint.getFilter (v11.9.0 base/ca/src/main/java/
# com/netscape/ca/CRLIssuingPoint.java) for the host authority's full CRL.
CRL_FILTER = '(&(certStatus=REVOKED)(|(!(issuerName=*))(issuerName=%s)))'
_CRL_FILTER = re.compile(
    r'^\(&\(certstatus=revoked\)\(\|\(!\(issuername=\*\)\)'
    r'\(issuername=(.*)\)\)\)$', re.IGNORECASE)


class Index:
    """One index definition of a backend and the LMDB database it needs."""

    def __init__(self, kind, name, search=None):
        self.kind = kind
        self.name = name            # attribute type, or the vlvIndex cn
        self.search = search        # the vlvSearch cn of a VLV index

    @property
    def database(self):
        """The database name as the monitor lists it, lower-cased and
        without "<backend>/" and ".db" (389-ds-base 3.1.3 db-mdb/
        mdb_instance.c, dbmdb_build_dbname lower-cases
        "<backend>/<file>.db"; an attribute index's file is its type, a
        VLV index's is "vlv#" and its cn's letters and digits: vlv_srch.c,
        vlvIndex_build_filename)."""
        if self.kind == VLV:
            return Definition(self.name, {}, {'cn': [
                self.name.encode()]}).database
        return self.name.lower()


def _text(attrs, name):
    values = attrs.get(name)
    return values[0].decode('utf-8', 'replace') if values else None


def read_indices(directory, backend):
    """Every attribute index (cn=<attr>,cn=index,cn=<backend>,...) that
    indexes something, and every vlvIndex entry of the backend."""
    base = BACKEND % backend
    found = []
    entries, _ = directory.search('cn=index,' + base, '(objectClass=nsIndex)',
                                  ['cn', 'nsIndexType'],
                                  scope=ldap.SCOPE_ONELEVEL)
    for _, attrs in entries:
        name = _text(attrs, 'cn')
        types = {v.decode('utf-8', 'replace').strip().lower()
                 for v in attrs.get('nsindextype', [])}
        if name and types - {'none'}:
            found.append(Index(ATTRIBUTE, name))
    entries, _ = directory.search(base, '(objectClass=vlvIndex)', ['cn'])
    for dn, attrs in entries:
        name = _text(attrs, 'cn')
        parent = ldap.dn.str2dn(dn)[1:2]
        search = parent[0][0][1] if parent else None
        if name:
            found.append(Index(VLV, name, search))
    return found


def _order(name):
    """389-DS lists the databases sorted by full name (strcasecmp of
    "<backend>/<name>.db", mdb_instance.c cmp_dbi_names)."""
    return name + '.db'


def database_verdict(index, databases):
    """'present', 'missing' (a name after it is listed, so the listing went
    past it) or 'unlisted' (the listing ends before its place: the monitor
    stops at a database it cannot read, mdb_instance.c
    dbdmd_gather_stats, so absence there is not proven)."""
    wanted = index.database
    if wanted in databases:
        return 'present'
    if any(_order(name) > _order(wanted) for name in databases):
        return 'missing'
    return 'unlisted'


# -- the CRL index ---------------------------------------------------------

def crl_index_name(instance_id):
    return '%s-%s' % (CRL_INDEX, instance_id)


def crl_applies(version):
    return version is not None and tuple(version) >= CRL_PKI


def vlv_in_use(definitions, instance_id):
    """Did pkispawn set up this instance's VLV indices (pki_ds_setup_vlv)?
    Any vlvSearch named "<name>-<instance>" other than the CRL one says
    so (v11.9.0 vlv.ldif names every search that way)."""
    tail = '-' + instance_id.lower()
    crl = crl_index_name(instance_id).lower()
    return any(name.endswith(tail) and name != crl for name in definitions)


def dn_key(text):
    """A DN compared as 389-DS and X.500 do: per AVA, case and the
    spaces around separators ignored; None when not a DN."""
    try:
        rdns = ldap.dn.str2dn(text or '')
    except ldap.DECODING_ERROR:
        return None
    if not rdns:
        return None
    return tuple(tuple(sorted((t.lower(), ' '.join(v.lower().split()))
                              for t, v, _ in rdn)) for rdn in rdns)


def x500_text(dn_text):
    """The DN as the CA writes it into its CRL search: JSS X500Name.
    toString joins the RDNs with ", " (jss org.mozilla.jss.netscape.
    security.x509.X500Name.generateDN; CRLIssuingPoint.getFilter uses
    ca.getX500Name().toString())."""
    rdns = ldap.dn.str2dn(dn_text)
    return ', '.join(ldap.dn.dn2str([rdn]) for rdn in rdns)


def crl_filter(issuer_dn):
    return CRL_FILTER % x500_text(issuer_dn)


def crl_records_filter(issuer_dn):
    """The records the CRL index holds, as a search filter (values
    escaped)."""
    return CRL_FILTER % ldap.filter.escape_filter_chars(x500_text(issuer_dn))


def host_authority(directory, basedn, nickname):
    """The host authority's DN (authorityDN) from ou=authorities,ou=ca:
    CAEngine.addHostAuthorityEntry (v11.9.0 base/ca/src/main/java/org/
    dogtagpki/server/ca/CAEngine.java) records the CA's own subject with
    its signing key nickname (CS.cfg ca.signing.nickname); lightweight
    CAs carry authorityParentID. Returns (dn text or None, entries seen)."""
    base = 'ou=authorities,ou=ca,%s' % basedn
    entries, _ = directory.search(
        base, '(objectClass=authority)',
        ['authorityDN', 'authorityKeyNickname', 'authorityParentID'],
        scope=ldap.SCOPE_ONELEVEL)
    hosts = [attrs for _, attrs in entries
             if not attrs.get('authorityparentid')]
    wanted = _nickname(nickname)
    if wanted:
        named = [a for a in hosts
                 if _nickname(_text(a, 'authoritykeynickname')) == wanted]
        hosts = named or hosts
    dns = {_text(a, 'authoritydn') for a in hosts} - {None}
    if len(dns) == 1:
        return dns.pop(), len(entries)
    return None, len(entries)


def _nickname(text):
    """A nickname without its token ("NHSM6000:caSigningCert ...")."""
    return (text or '').split(':', 1)[-1].strip().lower()


def crl_mismatches(definition, container, issuer_dn):
    """[(attribute, text)] where the CRL VLV definition differs from the
    search the CA sends: base, scope, filter (its form and the issuer it
    names) and sort. 389-DS serves a VLV request only when all match, the
    filter compared as text (389-ds-base 3.1.3 vlv_srch.c,
    vlvSearch_equal: strcasecmp)."""
    out = []
    if normalize_dn(definition.base or '') != normalize_dn(container):
        out.append(('vlvBase', 'vlvBase is %s, expected %s' % (
            definition.base or 'missing', container)))
    if (definition.scope or '').strip() != '1':
        out.append(('vlvScope', 'vlvScope is %s, expected 1' % (
            definition.scope or 'missing')))
    found = (definition.filter or '').strip()
    match = _CRL_FILTER.match(found)
    expected = crl_filter(issuer_dn)
    if match is None:
        out.append(('vlvFilter', 'vlvFilter is %s, expected %s' % (
            found or 'missing', expected)))
    elif dn_key(match.group(1)) != dn_key(issuer_dn):
        out.append(('vlvFilter', 'vlvFilter names the issuer %s, this CA '
                    'is %s' % (match.group(1), issuer_dn)))
    elif found.lower() != expected.lower() and \
            not set('\\+') & set(match.group(1)):
        # Same DN, other text: 389-DS will not match the CA's search.
        # (Escapes and multi-valued RDNs may be written otherwise by
        # JSS: not judged.)
        out.append(('vlvFilter', 'vlvFilter is %s, the CA sends %s' % (
            found, expected)))
    if (definition.sort or '').strip().lower() != CRL_SORT:
        out.append(('vlvSort', 'vlvSort is %s, expected %s' % (
            definition.sort or 'missing', CRL_SORT)))
    return out


def filter_issuer(definition):
    match = _CRL_FILTER.match((definition.filter or '').strip())
    return match.group(1) if match else None
