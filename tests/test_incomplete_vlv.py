"""A VLV index defined over existing records and never rebuilt: after a
restart 389-DS trusts an index that holds only the records added since.
The same state on 389-DS 2.x (BerkeleyDB) and 3.x (LMDB); see
sandbox.cadb.make_incomplete_vlv for how each gets there."""

from sandbox import cadb
from conftest import by_key


def test_index_missing_the_older_records_is_an_error(scenario, ds):
    scenario.build(certs=range(1, 21), ca_requests=range(1, 3), kra=False,
                   vlv=('allCerts', 'caAll'), reindex=False)
    name = scenario.tree.vlv_index_names(['allCerts'])[0]
    cadb.make_incomplete_vlv(ds, [name], scenario.tree.certs_(range(21, 24)))
    results = scenario.run()
    index = by_key(results, 'VLVIndexCheck')['allCerts-' + scenario.name]
    assert index['result'] == 'ERROR'
    assert (index['kw']['indexed'], index['kw']['records']) == (3, 23)
    assert index['kw']['code'] == 'DTR0211'
    # 389-DS restarts only on LMDB, where the rebuilt index keeps its old
    # length in memory until then.
    restarts = [s['service'] for s in index['kw']['fix_steps']
                if s['effect'] == 'restarts-service']
    assert restarts == (['dirsrv@ipaca.service'] if ds.db_lib == 'mdb'
                        else []) + ['pki-tomcatd@%s.service' % scenario.name]
    # The newest records are indexed, so Dogtag's window still ends at the
    # real last number: no collision, only the index is wrong.
    certs = by_key(results, 'LastNumberCheck')['ca.certificates']
    assert certs['result'] == 'SUCCESS'
    assert certs['kw']['dogtag_last'] == certs['kw']['real_last'] == '23'

    # The fix makes it whole: on BerkeleyDB the reindex alone, on LMDB the
    # reindex and a restart (the sandbox's reindex restarts there).
    ds.reindex(vlv_indexes=[name])
    cadb.verify_vlv_complete(ds, [name])
    index = by_key(scenario.run(), 'VLVIndexCheck')['allCerts-' + scenario.name]
    assert index['result'] == 'SUCCESS'
