"""389-DS version advisories (dogtag.indices DSAdvisoryCheck): the releases
that 389ds/389-ds-base#6057 (reindex skips VLV indices with hyphens) and
#6347/#6356 (LMDB VLV searches fail with err=1) affect, as the upstream tags
of their fixes say: 6057 fixed in 2.5.2 (570fc4a9c), 3.0.2 (87932714a),
3.1.0 (a380deb06); 6347+6356 in 2.5.3 / 2.6.0 (179288433, a40564b84), 3.0.5
(47184c795, fd8879b3e), 3.1.2 (145e7f4aa, 83668192b). Both are in
back-ldbm/db-mdb, from 2.1.0 on.

The sandbox's 389-DS (Debian 12: 2.3.x BerkeleyDB; Debian 13: 3.x LMDB)
is read first and judged by the test's own reading of the release table;
an affected 389-DS is not available, so the affected verdicts are shown by
the check with the server facts replaced, and by the pure rule."""

import ldap
import pytest

from ipahealthcheck_dogtag.checks.plugin import Context
from ipahealthcheck_dogtag.dogtag import advisories, fixes

SOURCE = 'dogtag.indices'
CHECK = 'DSAdvisoryCheck'


def run(scenario, pki='11.5.0'):
    scenario.build(certs=range(1, 3), kra=False, vlv=())
    scenario.pki_version = pki
    return {r['kw']['key']: r for r in scenario.run(CHECK, SOURCE)}


def read_server(ds):
    """The version and database implementation, read over LDAP here."""
    conn = ds.connect()
    try:
        _, config = conn.search_s('cn=config', ldap.SCOPE_BASE,
                                  attrlist=['nsslapd-versionstring'])[0]
        _, ldbm = conn.search_s(fixes.LDBM_CONFIG, ldap.SCOPE_BASE,
                                attrlist=['nsslapd-backend-implement'])[0]
    finally:
        conn.unbind_s()
    text = config['nsslapd-versionstring'][0].decode()
    version = tuple(int(n) for n in text.split('/')[1].split()[0].split('.'))
    backend = ldbm.get('nsslapd-backend-implement', [b'bdb'])[0].decode()
    return version, backend


def test_the_real_server_is_read_and_unaffected(scenario, ds):
    version, backend = read_server(ds)
    assert backend == ds.db_lib
    # The releases outside both advisories, by hand from the tags above.
    unaffected = backend == 'bdb' or version >= (3, 1, 2) or \
        (3, 0, 5) <= version < (3, 1) or (2, 5, 3) <= version < (3,)
    assert unaffected, (version, backend)        # both sandboxes are
    found = run(scenario)
    assert set(found) == {'389-ds'}
    kw = found['389-ds']['kw']
    assert found['389-ds']['result'] == 'SUCCESS'
    assert kw['code'] == 'DTR1050'
    assert kw['ds_version'] == '.'.join(map(str, version))
    assert kw['backend'] == backend
    assert kw['checked'] == 2


@pytest.fixture
def facts(monkeypatch):
    """Replace what the context reads from cn=config."""
    def use(backend, version, problem=None):
        server = fixes.ServerFacts(backend, version, problem)
        monkeypatch.setattr(Context, 'server_facts', lambda self: server)
    return use


def test_lmdb_3_0_1_has_both_defects(scenario, facts):
    facts('mdb', (3, 0, 1))
    found = run(scenario)
    assert set(found) == {'389ds-6057', '389ds-6347'}
    reindex, search = found['389ds-6057'], found['389ds-6347']
    assert reindex['result'] == 'WARNING'
    assert reindex['kw']['code'] == 'DTR1052'
    assert reindex['kw']['fixed_in'] == '3.0.2'
    assert 'from 3.0.1 to 3.0.2 or later' in reindex['kw']['fix']
    assert reindex['kw']['fix_effect'] == 'manual'
    # PKI 11.5 reads the range VLV index at start-up: a failed search is
    # taken for an empty range.
    assert search['result'] == 'ERROR'
    assert search['kw']['code'] == 'DTR1053'
    assert search['kw']['fixed_in'] == '3.0.5'
    assert search['kw']['pki_version'] == '11.5.0'
    assert '389ds/389-ds-base#6347' in search['kw']['fix']


def test_lmdb_search_defect_weighs_less_from_pki_11_6(scenario, facts):
    facts('mdb', (3, 1, 1))
    found = run(scenario, pki='11.6.0')
    assert set(found) == {'389ds-6347'}
    assert found['389ds-6347']['result'] == 'WARNING'
    assert found['389ds-6347']['kw']['fixed_in'] == '3.1.2'


def test_the_same_release_on_berkeleydb_is_unaffected(scenario, facts):
    facts('bdb', (3, 0, 1))
    found = run(scenario)
    assert found['389-ds']['kw']['code'] == 'DTR1050'
    assert found['389-ds']['kw']['backend'] == 'bdb'


def test_an_unreadable_version_is_said(scenario, facts):
    facts('mdb', None, 'cn=config has no readable nsslapd-versionstring')
    found = run(scenario)
    assert set(found) == {'389-ds'}
    assert found['389-ds']['result'] == 'WARNING'
    kw = found['389-ds']['kw']
    assert kw['code'] == 'DTR1051'
    assert 'nsslapd-versionstring' in kw['problem']
    assert len(kw['undecided']) == 2


def test_unreadable_backend_on_an_affected_release_is_said(scenario, facts):
    facts(None, (3, 0, 3), 'nsslapd-backend-implement is neither bdb nor mdb')
    found = run(scenario)
    assert found['389-ds']['kw']['code'] == 'DTR1051'
    assert found['389-ds']['kw']['undecided'] == [
        '389ds/389-ds-base#6347, #6356']


@pytest.mark.parametrize('version, backend, expected', [
    ((2, 1, 0), 'mdb', {'389ds-6057', '389ds-6347'}),
    ((2, 4, 6), 'mdb', {'389ds-6057', '389ds-6347'}),
    ((2, 5, 2), 'mdb', {'389ds-6347'}),
    ((2, 5, 3), 'mdb', set()),
    ((2, 6, 0), 'mdb', set()),
    ((3, 0, 0), 'mdb', {'389ds-6057', '389ds-6347'}),
    ((3, 0, 2), 'mdb', {'389ds-6347'}),
    ((3, 0, 4), 'mdb', {'389ds-6347'}),
    ((3, 0, 5), 'mdb', set()),
    ((3, 1, 0), 'mdb', {'389ds-6347'}),
    ((3, 1, 2), 'mdb', set()),
    ((3, 2, 0), 'mdb', set()),
    ((3, 0, 1), 'bdb', set()),
    ((1, 4, 3, 39), 'bdb', set()),
])
def test_release_table(version, backend, expected):
    affected, undecided = advisories.judge(
        fixes.ServerFacts(backend, version))
    assert {a.key for a, _ in affected} == expected
    assert undecided == []
    # the existing reindex fix follows the same rule
    assert fixes.lmdb_reindex_broken(fixes.ServerFacts(backend, version)) \
        == ('389ds-6057' in expected)
