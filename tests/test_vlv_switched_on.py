"""An index rebuilt online on LMDB is built before vlvEnabled says so
(issue 14, point 11).

389-DS switches a matching, not yet enabled index on at the first VLV
search at least 60 s after it last looked, if its database opens (389-ds-base
3.1.2 vlv_srch.c, vlvSearch_findenabled, vlvIndex_checkforindex); Dogtag's
start-up lookup is such a search. BerkeleyDB switches it on at the end of
the rebuild (db-bdb/bdb_ldif2db.c, vlvIndex_go_online). So on LMDB,
vlvEnabled: 0 right after an online rebuild is no fault, and the monitor's
dbiFlags-<n> (not DIRTY) and dbiEntries-<n> tell a built index from an
unbuilt one. Run on 389-DS 3.x by ./scripts/test-debian13; on 2.3.1 the
same test proves BerkeleyDB's side.
"""

from ipahealthcheck_dogtag.dogtag import vlv
from ipahealthcheck_dogtag.directory import Directory
from sandbox import cadb
from conftest import by_key

LAST = 'LastNumberCheck'
VLV = 'VLVIndexCheck'


def test_index_rebuilt_online_is_healthy(scenario, ds):
    """The old code said ERROR on LMDB: "defined but not built"."""
    scenario.build(certs=range(1, 31), ca_requests=range(1, 6), kra=False,
                   reindex=False)
    names = scenario.tree.vlv_index_names(['allCerts', 'caAll'])
    # An online rebuild (the sandbox's reindex() rebuilds offline on LMDB).
    assert ds.run_task('index', {'nsInstance': ['ipaca'],
                                 'nsIndexVLVAttribute': names}) == 0
    view = cadb.VLVView(ds, names[0])
    stats = vlv.lmdb_stats(Directory(ds.ldapi_uri), 'ipaca')
    if ds.db_lib == 'mdb':
        # Planted: not switched on, yet built on disk.
        assert not view.enabled, view
        stat = stats['vlv#' + names[0].replace('-', '').lower()]
        assert stat.entries == 30 and not stat.dirty, stat.__dict__
    else:
        assert view.enabled, view
        assert stats is None            # BerkeleyDB's monitor lists files
    results = scenario.run()
    index = by_key(results, VLV)['allCerts-' + scenario.name]
    assert index['result'] == 'SUCCESS', index['text']
    assert index['kw']['records'] == 30
    if ds.db_lib == 'mdb':
        assert index['kw']['vlv_enabled'] is False
        assert index['kw']['indexed_on_disk'] == 30
        assert index['kw']['code'] == 'DTR0206'
    for key, result in by_key(results, LAST).items():
        assert result['result'] == 'SUCCESS', (key, result['text'])
