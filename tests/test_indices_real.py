"""dogtag.indices on a real 389-DS of its own (the check reads every index
of the backend, so the shared server's other scenarios stay out of it).

LMDB (Debian 13, 389-DS 3.x): an index defined after start and never
rebuilt has no database in the backend monitor, and a write that must
update it fails with "Operations error" (dogtagpki/pki#4919,
389ds/389-ds-base#5976; 389-ds-base 3.1.3 db-mdb/mdb_instance.c,
dbmdb_open_dbi_from_filename). BerkeleyDB (Debian 12) creates the file at
first use: the check says it applies to LMDB only.

The CRL VLV index is dogtagpki/pki v11.9.0 base/ca/database/ds/vlv.ldif
(PRs #5268 and #5270, docs/changes/v11.9.0/Server-Changes.adoc).
"""

import ldap
import pytest

import conftest
from conftest import Scenario, by_key
from ipahealthcheck_dogtag.checks import plugin
from ipahealthcheck_dogtag.dogtag import fixes, vlv
from sandbox import cadb
from sandbox.ds import DirectoryServer

SOURCE = 'dogtag.indices'
BACKEND = 'cn=ipaca,cn=ldbm database,cn=plugins,cn=config'
ISSUER = 'CN=Certificate Authority,O=IPA.TEST'
NICKNAME = 'caSigningCert cert-pki-ca'
AUTHORITY_SCHEMA = (
    ["( %s-oid NAME '%s' %s )" % (a, a, cadb.DSTRING)
     for a in ('authorityID', 'authorityDN', 'authorityKeyNickname',
               'authorityParentID')],
    ["( authority-oid NAME 'authority' SUP top STRUCTURAL MUST cn MAY ( "
     "authorityID $ authorityDN $ authorityKeyNickname $ "
     "authorityParentID ) X-ORIGIN 'sandbox' )"])


@pytest.fixture(scope='module')
def own_ds(request):
    server = DirectoryServer().create()
    cadb.prepare_backend(server)
    conn = server.connect()
    try:
        attrs, classes = AUTHORITY_SCHEMA
        conn.modify_s('cn=schema', [
            (ldap.MOD_ADD, 'attributeTypes', [a.encode() for a in attrs]),
            (ldap.MOD_ADD, 'objectClasses', [c.encode() for c in classes])])
    finally:
        conn.unbind_s()
    yield server
    server.destroy()


@pytest.fixture
def scn(own_ds, tmp_path, request):
    name = ''.join(c for c in request.node.name.replace('test_', '', 1)
                   if c.isalnum())[:40]
    return Scenario(own_ds, tmp_path, name)


def monitor_names(ds):
    conn = ds.connect()
    try:
        attrs = conn.search_s('cn=monitor,' + BACKEND, ldap.SCOPE_BASE,
                              attrlist=['*'])[0][1]
    finally:
        conn.unbind_s()
    return {v[0].decode().lower() for k, v in attrs.items()
            if k.lower().startswith('dbiname-')}


def add_index(ds, attribute):
    conn = ds.connect()
    try:
        cadb.add(conn, cadb.INDEX_CONFIG % (attribute, 'ipaca'),
                 objectClass=['top', 'nsIndex'], cn=attribute,
                 nsSystemIndex='false', nsIndexType=['eq'])
    finally:
        conn.unbind_s()


def add_vlv(ds, search, base, flt, sort='serialno'):
    conn = ds.connect()
    try:
        dn = 'cn=%s,%s' % (search, BACKEND)
        cadb.add(conn, dn, objectClass=['top', 'vlvSearch'], cn=search,
                 vlvBase=base, vlvScope='1', vlvFilter=flt)
        cadb.add(conn, 'cn=%sIndex,%s' % (search, dn),
                 objectClass=['top', 'vlvIndex'], cn=search + 'Index',
                 vlvSort=sort)
    finally:
        conn.unbind_s()


def drop_vlv(ds, search):
    conn = ds.connect()
    try:
        dn = 'cn=%s,%s' % (search, BACKEND)
        conn.delete_s('cn=%sIndex,%s' % (search, dn))
        conn.delete_s(dn)
    finally:
        conn.unbind_s()


def problems(results):
    return [r for r in results if r['result'] != 'SUCCESS']


def test_attribute_index_never_built(scn, own_ds):
    """Plant: an attribute index added while 389-DS runs, no reindex."""
    scn.build(certs=range(1, 6), ca_requests=range(1, 4), kra=False)
    add_index(own_ds, 'subjectName')
    try:
        results = scn.run('IndexDatabaseCheck', SOURCE)
        if own_ds.db_lib == 'mdb':
            # Proof on the server: no database, and a write fails.
            assert 'ipaca/subjectname.db' not in monitor_names(own_ds)
            with pytest.raises(ldap.OPERATIONS_ERROR):
                scn.add(scn.tree.certs_([50]))
            found = by_key(results, 'IndexDatabaseCheck')
            hit = found['ipaca:subjectName']
            assert (hit['result'], hit['kw']['code']) == ('ERROR', 'DTR1001')
            assert hit['kw']['kind'] == 'attribute'
            assert hit['kw']['database_name'] == 'subjectname'
            assert '--attr subjectName' in hit['kw']['fix']
            # The command of the release waits for its task (dsconf
            # --wait), or a wait step follows it.
            assert '--wait' in hit['kw']['fix'] or \
                'nsTaskExitCode' in hit['kw']['fix']
            assert len(problems(results)) == 1
        else:
            assert [r['kw']['code'] for r in results] == ['DTR1003']
            assert not problems(results)
    finally:
        own_ds.reindex(attributes=['subjectName'])
    # Control: rebuilt, the same server is quiet.
    results = scn.run('IndexDatabaseCheck', SOURCE)
    assert not problems(results)
    codes = {r['kw']['code'] for r in results}
    assert codes == ({'DTR1000'} if own_ds.db_lib == 'mdb' else {'DTR1003'})


def test_vlv_index_never_built(scn, own_ds):
    """Plant: a VLV index (not a range one) added with no index task."""
    scn.build(certs=range(1, 4), kra=False, vlv=('allCerts', 'caAll'))
    search = 'caPending-' + scn.name
    add_vlv(own_ds, search, scn.tree.ca_requests,
            '(requestState=pending)', 'requestId')
    try:
        results = scn.run('IndexDatabaseCheck', SOURCE)
        if own_ds.db_lib == 'mdb':
            database = 'vlv#' + search.replace('-', '').lower() + 'index'
            assert 'ipaca/%s.db' % database not in monitor_names(own_ds)
            hit = by_key(results, 'IndexDatabaseCheck')[
                'ipaca:%sIndex' % search]
            assert (hit['result'], hit['kw']['code']) == ('ERROR', 'DTR1001')
            assert hit['kw']['kind'] == 'vlv'
            assert 'vlv-index reindex' in hit['kw']['fix']
            # The range indices are VLVIndexCheck's: not reported here.
            assert len(problems(results)) == 1
        else:
            assert not problems(results)
    finally:
        drop_vlv(own_ds, search)


def add_authority(scn, dn=ISSUER, nickname=NICKNAME):
    conn = scn.ds.connect()
    try:
        base = 'ou=authorities,ou=ca,' + scn.tree.base
        cadb.add(conn, base, objectClass=['top', 'organizationalUnit'],
                 ou='authorities')
        cadb.add(conn, 'cn=host,' + base, objectClass=['top', 'authority'],
                 cn='host', authorityID='1234', authorityDN=dn,
                 authorityKeyNickname=nickname)
    finally:
        conn.unbind_s()


def crl_scenario(scn, version='11.9.0'):
    scn.build(certs=range(1, 6), ca_requests=range(1, 4), kra=False,
              vlv=('allCerts', 'caAll'))
    revoked = [scn.tree.cert(n, status='REVOKED') for n in (20, 21)]
    for _, attrs in revoked:        # as the CA writes it (JSS X500Name)
        attrs['issuerName'] = [b'CN=Certificate Authority, O=IPA.TEST']
    scn.add(revoked)
    add_authority(scn)
    scn.pki_version = version
    scn.write_cs_cfg(**{'ca__signing__nickname': NICKNAME})
    return 'allRevokedCertsByIssuer-' + scn.name


def crl_result(scn):
    results = scn.run('CRLIndexCheck', SOURCE)
    assert len(results) == 1
    return results[0]


def read_filter(ds, search):
    conn = ds.connect()
    try:
        found = conn.search_s('cn=%s,%s' % (search, BACKEND),
                              ldap.SCOPE_BASE, attrlist=['vlvFilter'])
        return found[0][1]['vlvFilter'][0].decode()
    except ldap.NO_SUCH_OBJECT:
        return None
    finally:
        conn.unbind_s()


def test_crl_index_missing(scn, own_ds):
    name = crl_scenario(scn)
    assert read_filter(own_ds, name) is None
    hit = crl_result(scn)
    assert (hit['result'], hit['kw']['code']) == ('WARNING', 'DTR1013')
    assert 'pki-server ca-db-vlv-add' in hit['kw']['fix']
    assert 'pki-server ca-db-vlv-reindex' in hit['kw']['fix']


def test_crl_index_wrong_issuer(scn, own_ds):
    name = crl_scenario(scn)
    other = '(&(certStatus=REVOKED)(|(!(issuerName=*))' \
        '(issuerName=CN=Other CA, O=ELSEWHERE)))'
    add_vlv(own_ds, name, scn.tree.certs, other)
    own_ds.reindex(vlv_indexes=[name + 'Index'])
    try:
        assert 'Other CA' in read_filter(own_ds, name)
        hit = crl_result(scn)
        assert (hit['result'], hit['kw']['code']) == ('WARNING', 'DTR1014')
        assert hit['kw']['filter_issuer'] == 'CN=Other CA, O=ELSEWHERE'
        assert hit['kw']['issuer_dn'] == ISSUER
        assert 'edit-search' in hit['kw']['fix']
        assert 'CN=Certificate Authority, O=IPA.TEST' in hit['kw']['fix']
    finally:
        drop_vlv(own_ds, name)


def test_crl_index_unbuilt(scn, own_ds):
    """Defined with this CA's issuer, never rebuilt."""
    name = crl_scenario(scn)
    add_vlv(own_ds, name, scn.tree.certs,
            '(&(certStatus=REVOKED)(|(!(issuerName=*))'
            '(issuerName=CN=Certificate Authority, O=IPA.TEST)))')
    try:
        hit = crl_result(scn)
        if own_ds.db_lib == 'mdb':
            database = 'vlv#' + name.replace('-', '').lower() + 'index'
            assert 'ipaca/%s.db' % database not in monitor_names(own_ds)
            assert (hit['result'], hit['kw']['code']) == ('ERROR', 'DTR1016')
        else:
            assert (hit['result'], hit['kw']['code']) == \
                ('WARNING', 'DTR1015')
        assert 'vlv-index reindex' in hit['kw']['fix']
        # Control: rebuilt, the right index is quiet.
        own_ds.reindex(vlv_indexes=[name + 'Index'])
        hit = crl_result(scn)
        assert (hit['result'], hit['kw']['code']) == ('SUCCESS', 'DTR1012')
        assert hit['kw']['issuer_dn'] == ISSUER
    finally:
        drop_vlv(own_ds, name)


def test_crl_index_before_11_9(scn):
    crl_scenario(scn, '11.8.1')
    hit = crl_result(scn)
    assert (hit['result'], hit['kw']['code']) == ('SUCCESS', 'DTR1010')
    assert hit['kw']['pki_version'] == '11.8.1'


def test_crl_index_without_vlv(scn):
    scn.build(certs=range(1, 3), kra=False, vlv=())
    scn.pki_version = '11.9.0'
    hit = crl_result(scn)
    assert (hit['result'], hit['kw']['code']) == ('SUCCESS', 'DTR1011')


def test_crl_issuer_unknown(scn, own_ds):
    scn.build(certs=range(1, 3), kra=False, vlv=('allCerts', 'caAll'))
    scn.pki_version = '11.9.0'
    name = 'allRevokedCertsByIssuer-' + scn.name
    add_vlv(own_ds, name, scn.tree.certs,
            '(&(certStatus=REVOKED)(|(!(issuerName=*))'
            '(issuerName=CN=Certificate Authority, O=IPA.TEST)))')
    own_ds.reindex(vlv_indexes=[name + 'Index'])
    try:
        hit = crl_result(scn)
        assert (hit['result'], hit['kw']['code']) == ('WARNING', 'DTR1017')
        assert hit['kw']['entries'] == 0
    finally:
        drop_vlv(own_ds, name)


def test_crl_version_unknown(scn, monkeypatch):
    from ipahealthcheck_dogtag import discovery
    scn.build(certs=range(1, 3), kra=False, vlv=('allCerts', 'caAll'))
    scn.pki_version = None
    monkeypatch.setattr(discovery, 'installed_pki_version',
                        lambda path=None: None)
    hit = crl_result(scn)
    assert (hit['result'], hit['kw']['code']) == ('WARNING', 'DTR1018')


# -- what only a monitor of another shape shows ------------------------------

def _pretend_lmdb(monkeypatch, stats):
    """A BerkeleyDB sandbox cannot show an LMDB monitor: the check's two
    reads of the implementation and the monitor are replaced."""
    monkeypatch.setattr(plugin.Context, 'server_facts',
                        lambda self: fixes.ServerFacts('mdb', (3, 1, 3)))
    monkeypatch.setattr(vlv, 'lmdb_stats', lambda directory, backend: stats)
    monkeypatch.setitem(conftest.SANDBOX, 'db_lib', 'mdb')


def test_listing_cut_short(scn, monkeypatch):
    """The monitor stops at a database it cannot read (389-ds-base 3.1.3
    mdb_instance.c, dbdmd_gather_stats): an index after the last name
    listed is unproven, a WARNING, not an ERROR; one before it is."""
    scn.build(certs=range(1, 3), kra=False, vlv=('allCerts', 'caAll'))
    listed = {'certstatus': vlv.LMDBStat({'OPEN'}, 2)}
    _pretend_lmdb(monkeypatch, listed)
    found = by_key(scn.run('IndexDatabaseCheck', SOURCE),
                   'IndexDatabaseCheck')
    assert found['ipaca:serialno']['kw']['code'] == 'DTR1002'
    assert found['ipaca:serialno']['kw']['last_listed'] == 'certstatus'
    assert found['ipaca:aci']['kw']['code'] == 'DTR1001'


def test_monitor_unreadable(scn, monkeypatch):
    scn.build(certs=range(1, 3), kra=False, vlv=('allCerts', 'caAll'))
    _pretend_lmdb(monkeypatch, None)
    hit = by_key(scn.run('IndexDatabaseCheck', SOURCE),
                 'IndexDatabaseCheck')['ipaca']
    assert (hit['result'], hit['kw']['code']) == ('WARNING', 'DTR1004')


def test_monitor_complete(scn, own_ds, monkeypatch):
    """A monitor that lists every index's database: quiet (on LMDB the
    real one is shown by test_attribute_index_never_built's control)."""
    scn.build(certs=range(1, 3), kra=False, vlv=('allCerts', 'caAll'))
    conn = own_ds.connect()
    try:
        names = {a['cn'][0].decode().lower() for _, a in conn.search_s(
            'cn=index,' + BACKEND, ldap.SCOPE_ONELEVEL, '(objectClass=*)',
            ['cn'])}
        names |= {'vlv#' + ''.join(c for c in a['cn'][0].decode().lower()
                                   if c.isalnum())
                  for _, a in conn.search_s(
                      BACKEND, ldap.SCOPE_SUBTREE, '(objectClass=vlvIndex)',
                      ['cn'])}
    finally:
        conn.unbind_s()
    _pretend_lmdb(monkeypatch, {n: vlv.LMDBStat({'OPEN'}, 1) for n in names})
    hit = by_key(scn.run('IndexDatabaseCheck', SOURCE),
                 'IndexDatabaseCheck')['ipaca']
    assert (hit['result'], hit['kw']['code']) == ('SUCCESS', 'DTR1000')


def test_crl_index_no_database_monitor(scn, own_ds, monkeypatch):
    """The CRL index defined, and an LMDB monitor that lists names after
    its database but not it."""
    name = crl_scenario(scn)
    add_vlv(own_ds, name, scn.tree.certs,
            '(&(certStatus=REVOKED)(|(!(issuerName=*))'
            '(issuerName=CN=Certificate Authority, O=IPA.TEST)))')
    try:
        _pretend_lmdb(monkeypatch,
                      {'~recno-cache/zzz': vlv.LMDBStat({'OPEN'}, 0)})
        hit = crl_result(scn)
        assert (hit['result'], hit['kw']['code']) == ('ERROR', 'DTR1016')
        assert 'systemctl restart' in hit['kw']['fix']
    finally:
        drop_vlv(own_ds, name)
