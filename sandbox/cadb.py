"""A Dogtag-shaped CA database in a sandbox 389-DS instance.

Schema, containers, attribute indices and VLV definitions follow what
pkispawn and IPA create for `o=ipaca` (CA) and `o=kra,o=ipaca` (KRA); records
carry the attributes Dogtag's lookups and our checks read. Used by the test
suite, the demo and the benchmark; never by the checks themselves.
"""

import os
import subprocess
import tempfile

import ldap
import ldap.modlist

from ipahealthcheck_dogtag.numbers import encode

INSTANCE_ID = 'pki-tomcat'
CA_BASE = 'o=ipaca'
KRA_BASE = 'o=kra,o=ipaca'
CERTS = 'ou=certificateRepository,ou=ca,o=ipaca'
CA_REQUESTS = 'ou=ca,ou=requests,o=ipaca'
KEYS = 'ou=keyRepository,ou=kra,o=kra,o=ipaca'
KRA_REQUESTS = 'ou=kra,ou=requests,o=kra,o=ipaca'

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

# name: (base, filter, sort) as in Dogtag's vlv.ldif for CA and KRA.
VLV = {
    'allCerts': (CERTS, '(certstatus=*)', 'serialno'),
    'allValidCerts': (CERTS, '(certstatus=VALID)', 'serialno'),
    'caAll': (CA_REQUESTS, '(requeststate=*)', 'requestId'),
    'caComplete': (CA_REQUESTS, '(requeststate=complete)', 'requestId'),
    'allKeys': (KEYS, '(&(serialno=*)(!(realm=*)))', 'serialno'),
    'kraAll': (KRA_REQUESTS, '(&(requeststate=*)(!(realm=*)))', 'requestId'),
}
RANGE_VLV = ('allCerts', 'caAll', 'kraAll')


def _b(values):
    return [v if isinstance(v, bytes) else str(v).encode() for v in values]


def add(conn, dn, **attrs):
    entry = {k.replace('_', '-'): _b(v if isinstance(v, (list, tuple))
                                     else [v]) for k, v in attrs.items()}
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


def ou(conn, dn, object_class='organizationalUnit', **attrs):
    add(conn, dn, objectClass=['top', object_class],
        ou=dn.split(',')[0].split('=')[1], **attrs)


def create_tree(conn, kra=True):
    """The containers pkispawn's create.ldif and IPA make."""
    for dn in ('ou=ca,o=ipaca', 'ou=requests,o=ipaca', 'ou=ranges,o=ipaca',
               'ou=people,o=ipaca', 'ou=groups,o=ipaca'):
        ou(conn, dn)
    ou(conn, CERTS, 'repository', serialno='011')
    ou(conn, CA_REQUESTS, 'repository', serialno='010')
    ou(conn, 'ou=replica,o=ipaca', 'repository', serialno='010',
       nextRange='1000')
    if kra:
        add(conn, KRA_BASE, objectClass=['top', 'organization'], o='kra')
        for dn in ('ou=kra,o=kra,o=ipaca', 'ou=requests,o=kra,o=ipaca'):
            ou(conn, dn)
        ou(conn, KEYS, 'repository', serialno='010')
        ou(conn, KRA_REQUESTS, 'repository', serialno='010')


def add_indexes(conn, backend='ipaca'):
    for attr in INDEXED:
        add(conn, 'cn=%s,cn=index,cn=%s,cn=ldbm database,cn=plugins,'
            'cn=config' % (attr, backend), objectClass=['top', 'nsIndex'],
            cn=attr, nsSystemIndex='false', nsIndexType=['eq', 'pres'])


def vlv_dn(name, backend='ipaca', instance=INSTANCE_ID):
    return 'cn=%s-%s,cn=%s,cn=ldbm database,cn=plugins,cn=config' % (
        name, instance, backend)


def add_vlv(conn, names=tuple(VLV), backend='ipaca', instance=INSTANCE_ID,
            **overrides):
    """vlvSearch + vlvIndex pairs; overrides={name: (base, filter, sort)}."""
    for name in names:
        base, filterstr, sort = overrides.get(name, VLV[name])
        dn = vlv_dn(name, backend, instance)
        add(conn, dn, objectClass=['top', 'vlvSearch'],
            cn='%s-%s' % (name, instance), vlvBase=base, vlvScope='1',
            vlvFilter=filterstr)
        add(conn, 'cn=%s-%sIndex,%s' % (name, instance, dn),
            objectClass=['top', 'vlvIndex'],
            cn='%s-%sIndex' % (name, instance), vlvSort=sort)


def vlv_index_names(names=RANGE_VLV, instance=INSTANCE_ID):
    return ['%s-%sIndex' % (n, instance) for n in names]


# -- records ---------------------------------------------------------------

def cert_entry(number, status='VALID', payload=b''):
    attrs = {
        'objectClass': [b'top', b'certificateRecord'],
        'cn': [str(number).encode()],
        'serialno': [encode(number).encode()],
        'certStatus': [status.encode()],
        'subjectName': [b'CN=host%d.ipa.test,O=IPA.TEST' % number],
        'issuerName': [b'CN=Certificate Authority,O=IPA.TEST'],
        'notBefore': [b'20260101000000Z'],
        'notAfter': [b'20280101000000Z'],
        'metaInfo': [b'requestId:%d' % number, b'profileId:caIPAserviceCert'],
        'dateOfCreate': [b'20260101000000Z'],
    }
    if payload:
        attrs['userCertificate;binary'] = [payload]
    return '%s,%s' % ('cn=%d' % number, CERTS), attrs


def request_entry(number, container=CA_REQUESTS, state='complete',
                  realm=None):
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
    return 'cn=%d,%s' % (number, container), attrs


def key_entry(number):
    return 'cn=%d,%s' % (number, KEYS), {
        'objectClass': [b'top', b'keyRecord'],
        'cn': [str(number).encode()],
        'serialno': [encode(number).encode()],
        'keyState': [b'VALID'],
        'ownerName': [b'host%d' % number],
    }


def add_entries(conn, entries):
    for dn, attrs in entries:
        conn.add_s(dn, list(attrs.items()))


def certs(numbers, **kw):
    return (cert_entry(n, **kw) for n in numbers)


def requests(numbers, **kw):
    return (request_entry(n, **kw) for n in numbers)


def keys(numbers):
    return (key_entry(n) for n in numbers)


def write_ldif(path, entries):
    """Entries as LDIF for an offline import (ldif2db)."""
    import base64
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


def import_ldif(ds, ldif, backend='ipaca'):
    """Offline bulk load: far faster than LDAP adds for large repositories.
    Replaces the backend's content, so the LDIF must hold the whole tree."""
    ds.stop()
    subprocess.run(['/usr/sbin/ns-slapd', 'ldif2db', '-D', ds.config_dir,
                    '-n', backend, '-i', ldif], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ds.start()


def export_tree(conn):
    """Every entry of o=ipaca, for re-importing with more records."""
    return [(dn, attrs) for dn, attrs in
            conn.search_s(CA_BASE, ldap.SCOPE_SUBTREE, '(objectClass=*)')]


# -- CS.cfg ------------------------------------------------------------------

CA_DEFAULTS = {
    'internaldb.basedn': 'o=ipaca',
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
    'dbs.enableSerialManagement': 'true',
}
KRA_DEFAULTS = dict(
    CA_DEFAULTS, **{
        'internaldb.basedn': 'o=kra,o=ipaca',
        'dbs.serialDN': 'ou=keyRepository, ou=kra',
        'dbs.requestDN': 'ou=kra, ou=requests',
    })


def write_cs_cfg(instance_dir, subsystem='ca', **settings):
    """conf/<subsystem>/CS.cfg with IPA's defaults; None values drop a key."""
    cfg = dict(CA_DEFAULTS if subsystem == 'ca' else KRA_DEFAULTS)
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


def write_healthcheck_conf(path, instance_dir, ds, pki_version='11.5.0',
                           **extra):
    """The [default] keys that point our checks at a sandbox."""
    lines = ['[default]',
             'dogtag_instance_dir = %s' % instance_dir,
             # A socket path, not an ldapi:// URI: ConfigParser would read
             # the URI's %2F as an interpolation.
             'dogtag_ldap_uri = %s' % ds.socket_path,
             'dogtag_pki_version = %s' % pki_version]
    lines += ['%s = %s' % kv for kv in extra.items()]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def make_stale_vlv(ds, index_names, add_later):
    """The field fault: a VLV index file older than the records.

    Build the indices, save their files, add `add_later` records, then put
    the old files back (dropping the database environment's region files,
    whose cached pages would otherwise win). 389-DS then answers VLV
    searches from the old picture while the records are all there.
    """
    ds.reindex(vlv_indexes=index_names)
    ds.stop()
    saved = tempfile.mkdtemp(prefix='vlv-')
    files = [f for f in os.listdir(os.path.join(ds.db_dir, 'ipaca'))
             if f.startswith('vlv#')]
    for name in files:
        subprocess.run(['cp', '-p', os.path.join(ds.db_dir, 'ipaca', name),
                        saved], check=True)
    ds.start()
    conn = ds.connect()
    add_entries(conn, add_later)
    conn.unbind_s()
    ds.stop()
    for name in files:
        subprocess.run(['cp', '-p', os.path.join(saved, name),
                        os.path.join(ds.db_dir, 'ipaca', name)], check=True)
    for name in os.listdir(ds.db_dir):
        if name.startswith('__db.'):
            os.unlink(os.path.join(ds.db_dir, name))
    subprocess.run(['rm', '-rf', saved], check=True)
    ds.start()
