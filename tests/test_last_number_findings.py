"""LastNumberCheck and VLVIndexCheck: the findings no other test shows, on a
real 389-DS where it can show them, mocked where it cannot (a failure
between two reads that succeed, an LMDB monitor on BerkeleyDB)."""

import ldap

from ipahealthcheck_dogtag import directory as directory_module
from ipahealthcheck_dogtag.directory import DirectoryError
from ipahealthcheck_dogtag.dogtag import truth, vlv
from sandbox import cadb
from conftest import by_key
from test_last_number_truth import _pkidbuser, hook_scan

LAST = 'LastNumberCheck'
VLV = 'VLVIndexCheck'


def test_a_lookup_that_fails_for_root_too(scenario, mocker):
    """Our repetition of Dogtag's lookup fails (an "unwilling to perform"
    is 389-DS refusing to sort more candidates than its ID-list scan
    limit, dogtagpki/pki#5171): the repository's ERROR, from every check
    that needs the answer. Mocked: the sandbox's 389-DS sorts for root at
    any limit; Dogtag's own bind meets it for real in
    test_last_number_truth."""
    scenario.build(certs=range(1, 6), ca_requests=range(1, 4), kra=False)
    scenario.pki_version = '11.6.0'
    mocker.patch.object(
        directory_module.Directory, 'sorted_first',
        side_effect=DirectoryError('sorting x', ldap.UNWILLING_TO_PERFORM(
            {'desc': 'Server is unwilling to perform'})))
    results = scenario.run()
    certs = by_key(results, LAST)['ca.certificates']
    assert certs['result'] == 'ERROR', certs['text']
    assert certs['kw']['code'] == 'DTR0103'
    assert certs['kw']['error'] == 'Server is unwilling to perform'


def test_vlv_lookup_over_its_limit_in_an_empty_range(scenario):
    """Up to 11.5, unindexed, Dogtag's VLV request lookup sorts all 60
    requests in memory and fails under pkidbuser's look-through limit of
    20 (389-ds-base ldbm_search.c, compute_lookthrough_limit): Dogtag takes
    its range 1000..2000 as empty. It is, so far: a WARNING."""
    scenario.build(certs=range(1, 4), ca_requests=range(1, 61), kra=False,
                   vlv=('allCerts',))
    _pkidbuser(scenario, nsLookThroughLimit='20')
    conn = scenario.ds.connect()
    try:
        scenario.tree.add_vlv(conn, ('caAll',))     # defined, never built
    finally:
        conn.unbind_s()
    scenario.write_cs_cfg(dbs__beginRequestNumber='1000',
                          dbs__endRequestNumber='2000')
    requests = by_key(scenario.run(LAST), LAST)['ca.requests']
    assert requests['result'] == 'WARNING', requests['text']
    kw = requests['kw']
    assert kw['code'] == 'DTR0110'
    assert (kw['lookthrough_limit'], kw['candidates']) == (20, 60)
    assert kw['dogtag_would_answer'] == '999'
    assert 'nsLookThroughLimit: -1' in kw['fix']


def test_records_that_cannot_be_read_after_the_lookup(scenario, mocker):
    """The lookup answers, then the one-level scan fails (not a lost
    server): the repository's own ERROR, for each check that scans."""
    scenario.build(certs=range(1, 5), ca_requests=range(1, 5), kra=False)
    mocker.patch.object(directory_module.Directory, 'stream',
                        side_effect=DirectoryError(
                            'scanning x', ldap.OPERATIONS_ERROR(
                                {'desc': 'Operations error'})))
    results = scenario.run()
    certs = by_key(results, LAST)['ca.certificates']
    assert certs['result'] == 'ERROR'
    assert certs['kw']['code'] == 'DTR0105'
    assert certs['kw']['error'] == 'Operations error'
    index = by_key(results, VLV)['allCerts-' + scenario.name]
    assert (index['result'], index['kw']['code']) == ('ERROR', 'DTR0201')


def test_rights_on_the_vlv_index_that_cannot_be_read(scenario, mocker):
    scenario.build(certs=range(1, 6), ca_requests=range(1, 4), kra=False)
    _pkidbuser(scenario)
    mocker.patch.object(vlv, 'may_use', side_effect=DirectoryError(
        'reading rights', ldap.OPERATIONS_ERROR({'desc': 'Operations error'})))
    results = by_key(scenario.run(LAST), LAST)
    rights = results['ca.certificates.vlv_access']
    assert rights['result'] == 'ERROR'
    assert rights['kw']['code'] == 'DTR0107'
    assert rights['kw']['vlv_search'].lower().startswith('cn=allcerts-')
    # The answer itself is still judged.
    assert results['ca.certificates']['kw']['code'] == 'DTR0115'


def test_nothing_proven_when_the_probe_does_not_finish(scenario,
                                                       monkeypatch):
    """Neither the scan nor the equality-index probe finishes in time (a
    probe cut at its size or time limit, as on a huge repository): a
    WARNING saying what to raise, from both checks."""
    scenario.build(certs=range(1, 21), ca_requests=range(1, 4), kra=False)
    hook_scan(monkeypatch, expired=True)
    monkeypatch.setattr(truth, 'probe',
                        lambda *args: truth.Probe([], [], True))
    results = scenario.run()
    certs = by_key(results, LAST)['ca.certificates']
    assert certs['result'] == 'WARNING', certs['text']
    assert certs['kw']['code'] == 'DTR0119'
    assert certs['kw']['scan_complete'] is False
    assert 'timeout' in certs['kw']['fix']
    index = by_key(results, VLV)['allCerts-' + scenario.name]
    assert (index['result'], index['kw']['code']) == ('WARNING', 'DTR0215')


def test_probe_finds_what_the_vlv_index_misses(scenario, ds, monkeypatch):
    """The scan does not finish; a lookup through the stale index answers
    20, and the equality index holds 21..25 above it."""
    scenario.build(certs=range(1, 21), ca_requests=range(1, 3), kra=False)
    cadb.make_stale_vlv(ds, scenario.tree.vlv_index_names(['allCerts']),
                        scenario.tree.certs_(range(21, 26)))
    hook_scan(monkeypatch, expired=True)
    index = by_key(scenario.run(VLV), VLV)['allCerts-' + scenario.name]
    assert index['result'] == 'ERROR', index['text']
    kw = index['kw']
    assert kw['code'] == 'DTR0214'
    assert (kw['vlv_last'], kw['first_missing']) == ('20', '21')
    assert kw['first_missing_dn'] == 'cn=21,' + scenario.tree.certs


def test_unbuilt_index_with_nothing_to_index(scenario, monkeypatch):
    scenario.build(certs=range(1, 4), kra=False, vlv=('allCerts', 'caAll'),
                   reindex=False)
    _lmdb_monitor(monkeypatch, None)    # the LMDB cases are below
    index = by_key(scenario.run(VLV), VLV)
    requests = index['caAll-' + scenario.name]
    assert (requests['result'], requests['kw']['code']) == ('SUCCESS',
                                                            'DTR0208')
    assert (requests['kw']['records'], requests['kw']['vlv_enabled']) == \
        (0, False)


def test_unbuilt_index_pki_no_longer_looks_up_with(scenario, monkeypatch):
    """From PKI 11.6 the range VLV index only lists records: unbuilt, it
    is no fault of the lookup (a SUCCESS that still carries its fix). On
    LMDB such an index has no database yet (DTR0205), so the monitor is
    shown as BerkeleyDB's, which has none."""
    scenario.build(certs=range(1, 6), ca_requests=range(1, 4), kra=False,
                   vlv=('allCerts', 'caAll'), reindex=False)
    _lmdb_monitor(monkeypatch, None)
    scenario.pki_version = '11.6.1'
    certs = by_key(scenario.run(VLV), VLV)['allCerts-' + scenario.name]
    assert (certs['result'], certs['kw']['code']) == ('SUCCESS', 'DTR0210')
    assert certs['kw']['vlv_enabled'] is False and certs['kw']['fix']


def _lmdb_monitor(monkeypatch, stats):
    """The LMDB monitor as 389-DS 3.x shows it (vlv.lmdb_stats), on either
    backend: {database name: LMDBStat}."""
    monkeypatch.setattr(vlv, 'lmdb_stats', lambda directory, backend: stats)


def test_lmdb_index_switched_on_at_first_use(scenario, monkeypatch):
    """vlvEnabled: 0 with an LMDB database 389-DS can open: complete when
    it holds every record (389-ds-base 3.1.2 vlv_srch.c,
    vlvSearch_findenabled), else incomplete."""
    scenario.build(certs=range(1, 11), ca_requests=range(1, 4), kra=False,
                   vlv=('allCerts', 'caAll'), reindex=False)
    name = 'allCerts-' + scenario.name
    # The vlvIndex entry's cn is the search's name + "Index" (vlv.py).
    database = 'vlv#' + name.replace('-', '').lower() + 'index'
    _lmdb_monitor(monkeypatch, {database: vlv.LMDBStat({'OPEN'}, 10),
                                '~recno-cache/' + database:
                                vlv.LMDBStat({'OPEN'}, 1)})
    index = by_key(scenario.run(VLV), VLV)[name]
    assert (index['result'], index['kw']['code']) == ('SUCCESS', 'DTR0206')
    assert index['kw']['indexed_on_disk'] == 10

    _lmdb_monitor(monkeypatch, {database: vlv.LMDBStat({'OPEN'}, 4),
                                '~recno-cache/' + database:
                                vlv.LMDBStat({'OPEN'}, 1)})
    index = by_key(scenario.run(VLV), VLV)[name]
    assert (index['result'], index['kw']['code']) == ('ERROR', 'DTR0207')
    assert (index['kw']['indexed_on_disk'], index['kw']['records']) == \
        (4, 10)


def test_lmdb_index_never_opened(scenario, monkeypatch):
    """Defined since 389-DS started, no index task since: the LMDB monitor
    lists databases after its name but not it (389-ds-base 3.1.2
    db-mdb/mdb_instance.c, dbmdb_open_dbi_from_filename)."""
    scenario.build(certs=range(1, 6), ca_requests=range(1, 4), kra=False,
                   vlv=('allCerts', 'caAll'), reindex=False)
    name = 'caAll-' + scenario.name
    later = vlv.LMDBStat({'OPEN'}, 0)      # listed after the index's name
    _lmdb_monitor(monkeypatch, {'~recno-cache/zzz': later})
    index = by_key(scenario.run(VLV), VLV)[name]
    assert (index['result'], index['kw']['code']) == ('ERROR', 'DTR0205')
    assert 'reindex' in index['kw']['fix']
