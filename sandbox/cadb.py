"""A Dogtag-shaped CA database in a sandbox 389-DS instance.

Schema, containers, attribute indices and VLV definitions follow what
pkispawn and IPA create for `o=ipaca` (CA) and `o=kra,o=ipaca` (KRA); records
carry the attributes Dogtag's lookups and our checks read. Used by the test
suite, the demo and the benchmark; never by the checks themselves.
"""

import base64
import os
import subprocess

import ldap
import ldap.modlist

from ipahealthcheck_dogtag.dogtag.numbers import encode

INSTANCE_ID = 'pki-tomcat'
SUFFIX = 'o=ipaca'

DSTRING = "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 X-ORIGIN 'sandbox'"
INTEGER = "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE X-ORIGIN 'sandbox'"
BOOLEAN = "SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE X-ORIGIN 'sandbox'"
BINARY = "SYNTAX 1.3.6.1.4.1.1466.115.121.1.5 X-ORIGIN 'sandbox'"

# Dogtag's attributes are plain directory strings with no matching rules,
# so 389-DS orders them as text: the length prefix makes that numeric.
STRING_ATTRIBUTES = (
    'serialno', 'certStatus', 'subjectName', 'issuerName', 'notBefore',
    'notAfter', 'metaInfo', 'dateOfCreate', 'dateOfModify', 'duration',
    'requestId', 'requestState', 'requestType', 'requestOwner', 'realm',
    'keyState', 'ownerName', 'nextRange', 'beginRange', 'endRange',
    'publishingStatus', 'usertype', 'userstate', 'SubsystemName',
    'cmsUserGroup', 'extension', 'algorithmId', 'issuedBy',
)
OBJECT_CLASSES = (
    "( certificateRecord-oid NAME 'certificateRecord' SUP top STRUCTURAL "
    "MUST cn MAY ( serialno $ certStatus $ subjectName $ issuerName $ "
    "notBefore $ notAfter $ metaInfo $ dateOfCreate $ dateOfModify $ "
    "duration $ extension $ algorithmId $ issuedBy $ userCertificate $ "
    "publicKeyData ) X-ORIGIN 'sandbox' )",
    "( request-oid NAME 'request' SUP top STRUCTURAL MUST cn MAY ( "
    "requestId $ requestState $ requestType $ requestOwner $ realm $ "
    "dateOfCreate $ dateOfModify ) X-ORIGIN 'sandbox' )",
    "( keyRecord-oid NAME 'keyRecord' SUP top STRUCTURAL MUST cn MAY ( "
    "serialno $ keyState $ ownerName $ realm $ dateOfCreate $ "
    "publicKeyData ) X-ORIGIN 'sandbox' )",
    "( repository-oid NAME 'repository' SUP top STRUCTURAL MUST ou MAY ( "
    "serialno $ description $ nextRange $ publishingStatus ) "
    "X-ORIGIN 'sandbox' )",
    "( pkiRange-oid NAME 'pkiRange' SUP top STRUCTURAL MUST ( cn $ "
    "beginRange $ endRange $ host $ SecurePort ) X-ORIGIN 'sandbox' )",
    "( cmsuser-oid NAME 'cmsuser' SUP top STRUCTURAL MUST usertype MAY "
    "userstate X-ORIGIN 'sandbox' )",
    "( pkiSecurityDomain-oid NAME 'pkiSecurityDomain' SUP top STRUCTURAL "
    "MUST ( ou $ name ) X-ORIGIN 'sandbox' )",
    "( pkiSecurityGroup-oid NAME 'pkiSecurityGroup' SUP top STRUCTURAL "
    "MUST cn X-ORIGIN 'sandbox' )",
    "( pkiSubsystem-oid NAME 'pkiSubsystem' SUP top STRUCTURAL MUST ( cn $ "
    "host $ SecurePort $ SubsystemName $ Clone ) MAY DomainManager "
    "X-ORIGIN 'sandbox' )",
    "( securityDomainSessionEntry-oid NAME 'securityDomainSessionEntry' "
    "SUP top STRUCTURAL MUST ( cn $ host $ uid $ cmsUserGroup $ "
    "dateOfCreate ) X-ORIGIN 'sandbox' )",
)

# Attribute indices of Dogtag's index.ldif that our data touches.
INDEXED = ('serialno', 'certstatus', 'requestid', 'requeststate',
           'requesttype', 'realm')

# name: (container key, filter, sort) as in Dogtag's CA and KRA vlv.ldif.
VLV = {
    'allCerts': ('certs', '(certstatus=*)', 'serialno'),
    'allValidCerts': ('certs', '(certstatus=VALID)', 'serialno'),
    'caAll': ('ca_requests', '(requeststate=*)', 'requestId'),
    'caComplete': ('ca_requests', '(requeststate=complete)', 'requestId'),
    'allKeys': ('keys', '(&(serialno=*)(!(realm=*)))', 'serialno'),
    'kraAll': ('kra_requests', '(&(requeststate=*)(!(realm=*)))',
               'requestId'),
}
RANGE_VLV = ('allCerts', 'caAll', 'kraAll')
RANGE_CONTAINERS = ('ou=certificateRepository', 'ou=requests', 'ou=replica')


def _b(values):
    return [v if isinstance(v, bytes) else str(v).encode() for v in values]


def add(conn, dn, **attrs):
    entry = {k: _b(v if isinstance(v, (list, tuple)) else [v])
             for k, v in attrs.items()}
    conn.add_s(dn, ldap.modlist.addModlist(entry))


def load_schema(conn):
    conn.modify_s('cn=schema', [
        (ldap.MOD_ADD, 'attributeTypes', _b(
            ["( %s-oid NAME '%s' %s )" % (a, a, DSTRING)
             for a in STRING_ATTRIBUTES] +
            ["( SecurePort-oid NAME 'SecurePort' %s )" % INTEGER,
             "( Clone-oid NAME 'Clone' %s )" % BOOLEAN,
             "( DomainManager-oid NAME 'DomainManager' %s )" % BOOLEAN,
             "( publicKeyData-oid NAME 'publicKeyData' %s )" % BINARY])),
        (ldap.MOD_ADD, 'objectClasses', _b(OBJECT_CLASSES)),
    ])


def add_indexes(conn, backend='ipaca'):
    for attr in INDEXED:
        add(conn, 'cn=%s,cn=index,cn=%s,cn=ldbm database,cn=plugins,'
            'cn=config' % (attr, backend), objectClass=['top', 'nsIndex'],
            cn=attr, nsSystemIndex='false', nsIndexType=['eq', 'pres'])


def prepare_backend(ds):
    """Schema and attribute indices, once per instance, before any data.

    The indices are rebuilt right after they are defined, as pkispawn does
    (pki 11.10.1, base/server/python/pki/server/deployment/__init__.py,
    setup_database: add_indexes() then rebuild_indexes(), which runs
    indextasks.ldif through LDAPConfigurator.rebuildIndexes). On LMDB
    (389-DS 3.x) the next write fails with "Operations error" otherwise:
    the new index's database is only opened by an index task.
    """
    conn = ds.connect()
    try:
        load_schema(conn)
        add_indexes(conn)
    finally:
        conn.unbind_s()
    ds.reindex(attributes=INDEXED)


class CATree:
    """One CA (and KRA) database below `base`, as pkispawn lays it out.

    The VLV indices are named after `instance`, as Dogtag names them after
    its instance directory, so several trees can share one backend.
    """

    def __init__(self, base=SUFFIX, instance=INSTANCE_ID, backend='ipaca'):
        self.base = base
        self.kra_base = 'o=kra,' + base
        self.instance = instance
        self.backend = backend
        self.certs = 'ou=certificateRepository,ou=ca,' + base
        self.ca_requests = 'ou=ca,ou=requests,' + base
        self.keys = 'ou=keyRepository,ou=kra,' + self.kra_base
        self.kra_requests = 'ou=kra,ou=requests,' + self.kra_base

    # -- containers and indices --------------------------------------------
    def create(self, conn, kra=True):
        """The containers pkispawn's create.ldif and IPA make."""
        if self.base != SUFFIX:
            add(conn, self.base, objectClass=['top', 'organization'],
                o=self.base.split(',')[0].split('=')[1])
        for rdn in ('ou=ca', 'ou=requests', 'ou=ranges', 'ou=people',
                    'ou=groups'):
            _ou(conn, '%s,%s' % (rdn, self.base))
        # nextRange as an IPA install leaves it (pki-server ca-range-update).
        _ou(conn, self.certs, 'repository', serialno='011',
            nextRange='10000001')
        _ou(conn, self.ca_requests, 'repository', serialno='010',
            nextRange='10000001')
        _ou(conn, 'ou=replica,' + self.base, 'repository', serialno='010',
            nextRange='1000')
        for rdn in RANGE_CONTAINERS:
            _ou(conn, '%s,ou=ranges,%s' % (rdn, self.base))
        if kra:
            add(conn, self.kra_base, objectClass=['top', 'organization'],
                o='kra')
            for rdn in ('ou=kra', 'ou=requests'):
                _ou(conn, '%s,%s' % (rdn, self.kra_base))
            _ou(conn, self.keys, 'repository', serialno='010',
                nextRange='10000001')
            _ou(conn, self.kra_requests, 'repository', serialno='010',
                nextRange='10000001')
            _ou(conn, 'ou=replica,' + self.kra_base, 'repository',
                serialno='010', nextRange='1000')
            _ou(conn, 'ou=ranges,' + self.kra_base)
            for rdn in ('ou=keyRepository', 'ou=requests', 'ou=replica'):
                _ou(conn, '%s,ou=ranges,%s' % (rdn, self.kra_base))

    def add_range(self, conn, rdn, begin, end, host, v2=False, port=443):
        """A pkiRange allocation record, as Dogtag writes it (decimal)."""
        container = '%s,ou=%s,%s' % (rdn, 'ranges_v2' if v2 else 'ranges',
                                     self.base)
        add(conn, 'cn=%s,%s' % (begin, container),
            objectClass=['top', 'pkiRange'], cn=str(begin),
            beginRange=str(begin), endRange=str(end), host=host,
            SecurePort=str(port))

    def create_ranges_v2(self, conn, next_ranges):
        """SSNv2 containers, each holding its nextRange ({rdn: value})."""
        _ou(conn, 'ou=ranges_v2,' + self.base)
        for rdn, value in next_ranges.items():
            _ou(conn, '%s,ou=ranges_v2,%s' % (rdn, self.base), 'repository',
                nextRange=str(value))

    def vlv_dn(self, name):
        return 'cn=%s-%s,cn=%s,cn=ldbm database,cn=plugins,cn=config' % (
            name, self.instance, self.backend)

    def add_vlv(self, conn, names=tuple(VLV), **overrides):
        """vlvSearch + vlvIndex pairs; overrides={name: (base, filter, sort)}."""
        for name in names:
            container, filterstr, sort = VLV[name]
            base, filterstr, sort = overrides.get(
                name, (getattr(self, container), filterstr, sort))
            dn = self.vlv_dn(name)
            add(conn, dn, objectClass=['top', 'vlvSearch'],
                cn='%s-%s' % (name, self.instance), vlvBase=base,
                vlvScope='1', vlvFilter=filterstr)
            add(conn, 'cn=%s-%sIndex,%s' % (name, self.instance, dn),
                objectClass=['top', 'vlvIndex'],
                cn='%s-%sIndex' % (name, self.instance), vlvSort=sort)

    def vlv_index_names(self, names=RANGE_VLV):
        return ['%s-%sIndex' % (n, self.instance) for n in names]

    # -- records -------------------------------------------------------------
    def cert(self, number, status='VALID', payload=b''):
        attrs = {
            'objectClass': [b'top', b'certificateRecord'],
            'cn': [str(number).encode()],
            'serialno': [encode(number).encode()],
            'certStatus': [status.encode()],
            'subjectName': [b'CN=host%d.ipa.test,O=IPA.TEST' % number],
            'issuerName': [b'CN=Certificate Authority,O=IPA.TEST'],
            'notBefore': [b'20260101000000Z'],
            'notAfter': [b'20280101000000Z'],
            'metaInfo': [b'requestId:%d' % number,
                         b'profileId:caIPAserviceCert'],
            'dateOfCreate': [b'20260101000000Z'],
        }
        if payload:
            attrs['userCertificate;binary'] = [payload]
        return 'cn=%d,%s' % (number, self.certs), attrs

    def request(self, number, kra=False, state='complete', realm=None):
        attrs = {
            'objectClass': [b'top', b'request', b'extensibleObject'],
            'cn': [str(number).encode()],
            'requestId': [encode(number).encode()],
            'requestState': [state.encode()],
            'requestType': [b'enrollment'],
            'dateOfCreate': [b'20260101000000Z'],
        }
        if realm:
            attrs['realm'] = [realm.encode()]
        container = self.kra_requests if kra else self.ca_requests
        return 'cn=%d,%s' % (number, container), attrs

    def key(self, number):
        return 'cn=%d,%s' % (number, self.keys), {
            'objectClass': [b'top', b'keyRecord'],
            'cn': [str(number).encode()],
            'serialno': [encode(number).encode()],
            'keyState': [b'VALID'],
            'ownerName': [b'host%d' % number],
        }

    def certs_(self, numbers, **kw):
        return [self.cert(n, **kw) for n in numbers]

    def requests_(self, numbers, **kw):
        return [self.request(n, **kw) for n in numbers]

    def keys_(self, numbers):
        return [self.key(n) for n in numbers]

    # -- configuration -------------------------------------------------------
    def write_cs_cfg(self, instance_dir, subsystem='ca', **settings):
        """conf/<subsystem>/CS.cfg with IPA's defaults for this tree;
        `a__b=value` sets a.b, a None value drops the key."""
        cfg = dict(CA_DEFAULTS if subsystem == 'ca' else KRA_DEFAULTS)
        cfg['internaldb.basedn'] = \
            self.base if subsystem == 'ca' else self.kra_base
        for key, value in settings.items():
            key = key.replace('__', '.')
            if value is None:
                cfg.pop(key, None)
            else:
                cfg[key] = str(value)
        path = os.path.join(instance_dir, 'conf', subsystem, 'CS.cfg')
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write('# written by the sandbox\n')
            f.writelines('%s=%s\n' % kv for kv in sorted(cfg.items()))
        return path


def _ou(conn, dn, object_class='organizationalUnit', **attrs):
    add(conn, dn, objectClass=['top', object_class],
        ou=dn.split(',')[0].split('=')[1], **attrs)


def add_entries(conn, entries):
    for dn, attrs in entries:
        conn.add_s(dn, list(attrs.items()))


# -- bulk loading ------------------------------------------------------------

def write_ldif(path, entries):
    """Entries as LDIF for an offline import (ldif2db)."""
    with open(path, 'w') as f:
        for dn, attrs in entries:
            f.write('dn: %s\n' % dn)
            for name, values in attrs.items():
                for v in values:
                    if name.endswith(';binary'):
                        f.write('%s:: %s\n' % (
                            name, base64.b64encode(v).decode()))
                    else:
                        f.write('%s: %s\n' % (name, v.decode()))
            f.write('\n')


def export_tree(conn, base=SUFFIX):
    """Every entry below `base`, to re-import together with new records."""
    return [(dn, attrs) for dn, attrs in
            conn.search_s(base, ldap.SCOPE_SUBTREE, '(objectClass=*)')]


def import_ldif(ds, ldif, backend='ipaca'):
    """Offline bulk load, far faster than LDAP adds for big repositories.
    It replaces the backend's content: the LDIF must hold the whole tree."""
    ds.stop()
    subprocess.run(['/usr/sbin/ns-slapd', 'ldif2db', '-D', ds.config_dir,
                    '-n', backend, '-i', ldif], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ds.start()


# -- configuration -----------------------------------------------------------

CA_DEFAULTS = {
    'internaldb.database': 'ipaca',
    'internaldb.ldapconn.host': 'ipa.example.test',
    'internaldb.ldapconn.port': '636',
    'internaldb.ldapauth.authtype': 'SslClientAuth',
    'internaldb.ldapauth.clientCertNickname': 'subsystemCert cert-pki-ca',
    'machineName': 'ipa.example.test',
    'dbs.serialDN': 'ou=certificateRepository, ou=ca',
    'dbs.requestDN': 'ou=ca, ou=requests',
    'dbs.replicaDN': 'ou=replica',
    'dbs.beginSerialNumber': '1',
    'dbs.endSerialNumber': '10000000',
    'dbs.beginRequestNumber': '1',
    'dbs.endRequestNumber': '10000000',
    'dbs.beginReplicaNumber': '1',
    'dbs.endReplicaNumber': '100',
    'dbs.serialIncrement': '10000000',
    'dbs.requestIncrement': '10000000',
    'dbs.serialLowWaterMark': '2000000',
    'dbs.requestLowWaterMark': '2000000',
    'dbs.serialCloneTransferNumber': '10000',
    'dbs.requestCloneTransferNumber': '10000',
    'dbs.replicaIncrement': '100',
    'dbs.replicaLowWaterMark': '20',
    'dbs.replicaCloneTransferNumber': '5',
    'dbs.enableSerialManagement': 'true',
}
KRA_DEFAULTS = dict(CA_DEFAULTS, **{
    'dbs.serialDN': 'ou=keyRepository, ou=kra',
    'dbs.requestDN': 'ou=kra, ou=requests',
})


def write_healthcheck_conf(path, instance_dir, ds, pki_version='11.5.0',
                           **extra):
    """The [default] keys that point our checks at a sandbox."""
    lines = ['[default]',
             'dogtag_instance_dir = %s' % instance_dir,
             # A socket path, not an ldapi:// URI: ConfigParser would read
             # the URI's %2F as an interpolation.
             'dogtag_ldap_uri = %s' % ds.socket_path]
    if pki_version:
        lines.append('dogtag_pki_version = %s' % pki_version)
    lines += ['%s = %s' % kv for kv in extra.items()]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


class PlantError(RuntimeError):
    """A fault the sandbox meant to plant is not on the server.

    Raised before a test or the demo relies on the fault, so that a failed
    plant never reads as a finding (or a miss) of the checks.
    """

    def __init__(self, fault, evidence):
        super().__init__('the sandbox could not plant %s: %s'
                         % (fault, evidence))


class VLVView:
    """What a VLV index answers, next to what the records really are.

    The VLV side asks as Dogtag up to 11.5 does for the last number: sort
    on the index's key, a window of a few entries before a target beyond
    any number (pki 11.5.0, base/server/src/main/java/com/netscape/cmscore/
    dbs/Repository.java); the record side is a plain one-level search with
    the index's filter. Both are python-ldap only, independent of the
    checks under test.
    """

    def __init__(self, ds, index_name, backend='ipaca'):
        config = 'cn=%s,cn=ldbm database,cn=plugins,cn=config' % backend
        conn = ds.connect()
        try:
            found = conn.search_s(
                config, ldap.SCOPE_SUBTREE,
                '(&(objectClass=vlvIndex)(cn=%s))' % index_name,
                ['vlvSort', 'vlvEnabled'])
            if not found:
                raise PlantError('a VLV view of %s' % index_name,
                                 'no vlvIndex entry of that name')
            index_dn, index = found[0]
            search_dn = index_dn.split(',', 1)[1]
            search = conn.search_s(search_dn, ldap.SCOPE_BASE,
                                   attrlist=['vlvBase', 'vlvFilter'])[0][1]
            self.base = search['vlvBase'][0].decode()
            self.filter = search['vlvFilter'][0].decode()
            self.sort = index['vlvSort'][0].decode()
            self.enabled = index.get('vlvEnabled', [b'0'])[0] == b'1'
            self._ask_vlv(conn)
            records = conn.search_s(self.base, ldap.SCOPE_ONELEVEL,
                                    self.filter, ['cn'])
        finally:
            conn.unbind_s()
        self.records = len(records)
        self.real_last = max((_number(dn) for dn, _ in records),
                             default=None)

    def _ask_vlv(self, conn):
        from ldap.controls.sss import SSSRequestControl
        from ldap.controls.vlv import VLVRequestControl, VLVResponseControl
        controls = [
            SSSRequestControl(ordering_rules=[self.sort]),
            VLVRequestControl(before_count=3, after_count=0,
                              greater_than_or_equal=encode(10 ** 40))]
        msgid = conn.search_ext(self.base, ldap.SCOPE_ONELEVEL, self.filter,
                                ['cn'], serverctrls=controls)
        _, window, _, response = conn.result3(msgid)
        answer = [c for c in response
                  if c.controlType == VLVResponseControl.controlType]
        self.content_count = answer[0].content_count if answer else None
        numbers = [_number(dn) for dn, _ in window if dn]
        self.vlv_last = numbers[-1] if numbers else None

    def __str__(self):
        return ('the VLV search on %s answers last record %s and '
                'content count %s (vlvEnabled %d); a one-level search finds '
                '%d records, the last %s' % (
                    self.base, self.vlv_last, self.content_count,
                    self.enabled, self.records, self.real_last))


def _number(dn):
    """The record number of a sandbox record DN (cn=<decimal number>)."""
    return int(dn.split(',', 1)[0].split('=', 1)[1])


def verify_vlv_complete(ds, index_names, fault='a complete VLV index'):
    """Every named index answers for every record it should hold."""
    for name in index_names:
        view = VLVView(ds, name)
        # An index that matches no record may stay vlvEnabled: 0.
        if not ((view.enabled or view.records == 0) and
                view.content_count == view.records and
                view.vlv_last == view.real_last):
            raise PlantError('%s (%s)' % (fault, name), view)


def verify_vlv_unbuilt(ds, index_names):
    """Each named index is defined, not built, and 389-DS falls back to an
    in-memory sort that still sees every record."""
    for name in index_names:
        view = VLVView(ds, name)
        if view.enabled or view.content_count != view.records:
            raise PlantError('an unbuilt VLV index (%s)' % name, view)


def _verify_plant(ds, before, fault, holds):
    """Each index is enabled, more records match it than before, and
    `holds(view, old)`; else PlantError with what the server shows."""
    for name, old in before.items():
        view = VLVView(ds, name)
        if not (view.enabled and view.records > old.records and
                holds(view, old)):
            raise PlantError('%s (%s)' % (fault, name),
                             '%s; before the new records: %s' % (view, old))


def make_stale_vlv(ds, index_names, add_later):
    """The field fault: a VLV index older than the records, trusted.

    Build the indices, then take their definitions away, add `add_later`
    records and define the indices again without a reindex: as
    `pki-server ca-db-vlv-del`, certificates issued meanwhile and
    `pki-server ca-db-vlv-add` with no `ca-db-vlv-reindex` would. Deleting
    a vlvSearch/vlvIndex entry only forgets the definition in memory and
    keeps the index's database file (389-ds-base 2.3.1 and 3.1.2,
    ldap/servers/slapd/back-ldbm/vlv.c, vlv_DeleteSearchEntry and
    vlv_DeleteIndexEntry); at the next start the definition finds that
    file and trusts it (vlv_srch.c, vlvIndex_checkforindex). This works
    alike on BerkeleyDB (389-DS 2.x) and LMDB (3.x), where index files
    cannot be swapped.
    The fault is verified before returning: see `PlantError`.
    """
    ds.reindex(vlv_indexes=index_names)
    if ds.db_lib != 'mdb':      # (on LMDB reindex() ran offline)
        # Seen with 2.3.1: an index file rebuilt by the running server is
        # removed when its definition is deleted before the next restart.
        ds.restart()
    before = {name: VLVView(ds, name) for name in index_names}
    for name, view in before.items():
        if not (view.enabled and view.content_count == view.records):
            raise PlantError('a stale VLV index (%s)' % name,
                             'the index is not complete to begin with: %s'
                             % view)
    conn = ds.connect()
    try:
        saved = [_take_vlv_definition(conn, name) for name in index_names]
        add_entries(conn, add_later)
        for entries in saved:
            add_entries(conn, entries)
    finally:
        conn.unbind_s()
    # From the next start on, 389-DS trusts the old file (vlvEnabled: 1).
    ds.restart()
    _verify_plant(ds, before, 'a stale VLV index', lambda view, old: (
        view.content_count == old.records and
        view.vlv_last == old.real_last and view.real_last != view.vlv_last))
    return list(index_names)


def make_incomplete_vlv(ds, index_names, add_later):
    """A VLV index defined after the data and never rebuilt, then trusted.

    The caller has defined the indices over existing records without a
    reindex (a manual change, or an upgrade adding a definition). Restart,
    add `add_later`, restart: the index then holds only the later records,
    and 389-DS trusts it (vlvEnabled: 1). Seen alike on 389-DS 2.3.1
    (BerkeleyDB: the first add creates the index file, the next start
    enables it) and 3.1.2 (LMDB: the start enables an empty index, the adds
    fill it; an add before that start fails with "Operations error").
    Verified before returning: see `PlantError`.
    """
    before = {name: VLVView(ds, name) for name in index_names}
    for name, view in before.items():
        if view.enabled:
            raise PlantError('an incomplete VLV index (%s)' % name,
                             'the index is built already: %s' % view)
    ds.restart()
    conn = ds.connect()
    try:
        add_entries(conn, add_later)
    finally:
        conn.unbind_s()
    ds.restart()
    _verify_plant(ds, before, 'an incomplete VLV index', lambda view, old: (
        view.content_count == view.records - old.records))
    return list(index_names)


def _take_vlv_definition(conn, index_name, backend='ipaca'):
    """Delete a vlvSearch and its vlvIndex; return them for adding back."""
    config = 'cn=%s,cn=ldbm database,cn=plugins,cn=config' % backend
    index_dn = conn.search_s(config, ldap.SCOPE_SUBTREE,
                             '(&(objectClass=vlvIndex)(cn=%s))' % index_name,
                             ['1.1'])[0][0]
    search_dn = index_dn.split(',', 1)[1]
    entries = []
    for dn in (search_dn, index_dn):
        attrs = conn.search_s(dn, ldap.SCOPE_BASE)[0][1]
        # vlvEnabled and vlvUses are computed by the server, not stored.
        entries.append((dn, {k: v for k, v in attrs.items()
                             if k.lower() not in ('vlvenabled', 'vlvuses')}))
    conn.delete_s(index_dn)
    conn.delete_s(search_dn)
    return entries


INDEX_CONFIG = 'cn=%s,cn=index,cn=%s,cn=ldbm database,cn=plugins,cn=config'


def children(ds, container):
    """(numSubordinates, entries a one-level search returns) of an entry:
    the first is kept in the entry itself, the second comes through the
    parentid index."""
    conn = ds.connect()
    try:
        attrs = conn.search_s(container, ldap.SCOPE_BASE,
                              attrlist=['numSubordinates'])[0][1]
        listed = conn.search_s(container, ldap.SCOPE_ONELEVEL,
                               attrlist=['1.1'])
    finally:
        conn.unbind_s()
    return int(attrs.get('numSubordinates', [b'0'])[0]), len(listed)


def make_one_level_defect(ds, container, parents=100, backend='ipaca'):
    """389-DS's one-level index defect (389ds/389-ds-base#7172, #7223).

    An upgrade to a 389-DS that configures parentid with
    integerOrderingMatch (3.1.4 to 3.2.0, back-ldbm/instance.c,
    ldbm_instance_create_default_indexes) over an index written in text
    order makes lookups of a parent's key miss. Planted the same way: add
    `parents` entries with children after `container` (more parentid keys,
    in an order where text and number differ), put integerOrderingMatch on
    the parentid index without a reindex, restart. Seen on 389-DS 2.3.1:
    the one-level search of the container returns nothing while its
    numSubordinates is unchanged. Verified before returning (PlantError).
    """
    subs, listed = children(ds, container)
    if subs == 0 or listed != subs:
        raise PlantError('a one-level index defect', 'the container does '
                         'not start healthy: numSubordinates %d, one-level '
                         '%d' % (subs, listed))
    conn = ds.connect()
    try:
        suffix = container.split(',')[-1]
        filler = 'ou=filler,%s' % suffix
        add(conn, filler, objectClass=['top', 'organizationalUnit'],
            ou='filler')
        for i in range(parents):
            parent = 'ou=p%d,%s' % (i, filler)
            add(conn, parent, objectClass=['top', 'organizationalUnit'],
                ou='p%d' % i)
            add(conn, 'ou=c,' + parent,
                objectClass=['top', 'organizationalUnit'], ou='c')
        conn.modify_s(INDEX_CONFIG % ('parentid', backend), [
            (ldap.MOD_ADD, 'nsMatchingRule', [b'integerOrderingMatch'])])
    finally:
        conn.unbind_s()
    ds.restart()
    after, listed = children(ds, container)
    if not (after == subs and listed < subs):
        raise PlantError('a one-level index defect', 'numSubordinates %d '
                         '(was %d), one-level search %d' % (after, subs,
                                                            listed))


def make_empty_equality_index(ds, attribute, backend='ipaca'):
    """An equality index that 389-DS trusts and that holds nothing: delete
    its definition and add it back without a reindex. Seen on 389-DS
    2.3.1: the delete drops the index file, the new definition starts an
    empty one, and searches on the attribute then match no record (as a
    lost or stale index does). Verified by the caller on its records."""
    dn = INDEX_CONFIG % (attribute, backend)
    conn = ds.connect()
    try:
        saved = conn.search_s(dn, ldap.SCOPE_BASE)[0][1]
        conn.delete_s(dn)
        conn.add_s(dn, list(saved.items()))
    finally:
        conn.unbind_s()
    ds.restart()
