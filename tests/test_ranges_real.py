"""dogtag.ranges against a real 389-DS with real VLV indices and records."""

import ldap

from sandbox import cadb
from conftest import by_key

LAST = 'LastNumberCheck'
VLV = 'VLVIndexCheck'


def healthy(scenario, **kw):
    return scenario.build(certs=range(1, 61), ca_requests=range(1, 61),
                          keys=range(1, 21), kra_requests=range(1, 21), **kw)


def levels(results, checks=(LAST, VLV)):
    return {(r['check'], r['kw']['key']): r['result'] for r in results
            if r['check'] in checks}


def test_healthy_ca_is_all_success(scenario):
    healthy(scenario)
    results = scenario.run()
    assert {r['result'] for r in results} == {'SUCCESS'}
    assert levels(results) == {
        (LAST, 'ca.certificates'): 'SUCCESS',
        (LAST, 'ca.requests'): 'SUCCESS',
        (LAST, 'kra.keys'): 'SUCCESS',
        (LAST, 'kra.requests'): 'SUCCESS',
        (VLV, 'allCerts-healthycaisallsuccess'): 'SUCCESS',
        (VLV, 'caAll-healthycaisallsuccess'): 'SUCCESS',
        (VLV, 'kraAll-healthycaisallsuccess'): 'SUCCESS',
    }
    assert {r['source'] for r in results} == {'dogtag.ranges'}
    certs = by_key(results, LAST)['ca.certificates']['kw']
    assert certs['dogtag_last'] == certs['real_last'] == '60'
    assert certs['range_cfg'] == '1..10000000'
    assert certs['range_end'] == str(0x10000000)
    assert certs['records_in_range'] == 60
    assert certs['lookup'] == 'vlv'
    assert certs['index'] == 'allCerts-healthycaisallsuccess'
    keys = by_key(results, LAST)['kra.keys']['kw']
    assert keys['index'].startswith('none')
    index = by_key(results, VLV)['allCerts-healthycaisallsuccess']['kw']
    assert index['indexed'] == index['records'] == 60


def test_stale_vlv_index_is_an_error_with_the_numbers(scenario, ds):
    scenario.build(certs=range(1, 41), ca_requests=range(1, 11), kra=False)
    later = scenario.tree.certs_(range(41, 53))
    cadb.make_stale_vlv(ds, scenario.tree.vlv_index_names(['allCerts']),
                        later)
    results = scenario.run()
    stale = by_key(results, LAST)['ca.certificates']
    assert stale['result'] == 'ERROR'
    kw = stale['kw']
    assert kw['dogtag_last'] == '40'
    assert kw['real_last'] == '52'
    assert kw['first_reused'] == '41'
    assert kw['first_reused_dn'] == 'cn=41,' + scenario.tree.certs
    assert kw['missing_records'] == 12
    assert kw['index'] == 'allCerts-stalevlvindexisanerrorwiththenumbers'
    reindex = 'pki-server ca-db-vlv-reindex -i ' \
        'stalevlvindexisanerrorwiththenumbers'
    if ds.db_lib == 'mdb':
        # A reindex that aborts on LMDB deletes the backend's data
        # (389ds/389-ds-base#7539): a backup comes first there.
        first, then = kw['fix'].split(', then ', 1)
        assert first.startswith('dsconf slapd-') and 'backup create' in first
        assert then.startswith(reindex)
    else:
        assert kw['fix'].startswith(reindex)
    assert 'vlv-del' not in kw['fix']
    assert kw['code'] == 'DTR0112'
    # The next number Dogtag issues is already held: "Object already exists".
    assert kw['next_number'] == kw['first_reused'] == '41'
    index = by_key(results, VLV)[kw['index']]
    assert index['result'] == 'ERROR'
    assert (index['kw']['indexed'], index['kw']['records']) == (40, 52)
    # Requests were not touched: quiet.
    assert by_key(results, LAST)['ca.requests']['result'] == 'SUCCESS'

    # From 11.6 Dogtag sorts instead: the same data is no collision risk,
    # and the stale index only hurts listings.
    scenario.pki_version = '11.6.0'
    results = scenario.run()
    certs = by_key(results, LAST)['ca.certificates']
    assert certs['result'] == 'SUCCESS'
    assert certs['kw']['lookup'] == 'sorted'
    assert certs['kw']['dogtag_last'] == '52'
    assert by_key(results, VLV)[kw['index']]['result'] == 'WARNING'

    # A reindex (what the fix says) repairs it.
    ds.reindex(vlv_indexes=scenario.tree.vlv_index_names(['allCerts']))
    scenario.pki_version = '11.5.0'
    results = scenario.run()
    assert all(r['result'] == 'SUCCESS' for r in results), results


def test_records_of_another_replicas_range_are_no_alarm(scenario):
    # This server owns 0x1..0x100; another replica issued 0x200.. and above.
    scenario.build(certs=list(range(1, 31)) + list(range(0x200, 0x210)),
                   ca_requests=list(range(1, 11)) + list(range(500, 520)),
                   kra=False)
    scenario.write_cs_cfg(dbs__endSerialNumber='100',
                          dbs__endRequestNumber='100')
    results = scenario.run()
    assert set(levels(results).values()) == {'SUCCESS'}
    last = by_key(results, LAST)
    assert last['ca.certificates']['kw']['dogtag_last'] == '30'
    assert last['ca.certificates']['kw']['range_end'] == '256'
    assert last['ca.requests']['kw']['dogtag_last'] == '10'


def test_empty_range_is_no_alarm(scenario):
    # Records below and above; none inside the active range 0x1000..0x1fff.
    scenario.build(certs=list(range(1, 21)) + [0x3000, 0x3001],
                   ca_requests=range(1, 5), kra=False)
    scenario.write_cs_cfg(dbs__beginSerialNumber='1000',
                          dbs__endSerialNumber='1fff')
    results = scenario.run()
    certs = by_key(results, LAST)['ca.certificates']
    assert certs['result'] == 'SUCCESS'
    assert certs['kw']['dogtag_last'] == str(0x1000 - 1)
    assert certs['kw']['real_last'] is None
    assert certs['kw']['code'] == 'DTR0116'


def test_random_generator_skips_ranges(scenario):
    scenario.build(certs=range(1, 6), ca_requests=range(1, 6), kra=False)
    scenario.write_cs_cfg(dbs__cert__id__generator='random',
                          dbs__request__id__generator='random',
                          dbs__beginSerialNumber=None)
    results = scenario.run()
    assert set(levels(results).values()) == {'SUCCESS'}
    assert levels(results) == {(LAST, 'ca.certificates'): 'SUCCESS',
                               (LAST, 'ca.requests'): 'SUCCESS',
                               (VLV, 'ca.certificates'): 'SUCCESS',
                               (VLV, 'ca.requests'): 'SUCCESS'}
    for r in results:
        if r['kw']['key'] != 'ca.replica_ids':  # no random replica IDs
            assert r['kw']['generator'] == 'random'
            assert r['kw']['code'] == 'DTR0100'


def test_hex_ranges_above_2_64(scenario, ds):
    base = 2 ** 64
    scenario.build(certs=[base + n for n in range(1, 21)],
                   ca_requests=range(1, 3), kra=False)
    scenario.write_cs_cfg(dbs__beginSerialNumber='10000000000000001',
                          dbs__endSerialNumber='1000000000000ffff')
    results = scenario.run()
    certs = by_key(results, LAST)['ca.certificates']['kw']
    assert certs['range_begin'] == str(base + 1)
    assert certs['range_end'] == str(base + 0xffff)
    assert certs['dogtag_last'] == certs['real_last'] == str(base + 20)
    assert isinstance(certs['dogtag_last'], str)

    cadb.make_stale_vlv(ds, scenario.tree.vlv_index_names(['allCerts']),
                        scenario.tree.certs_([base + 21, base + 22]))
    certs = by_key(scenario.run(), LAST)['ca.certificates']
    assert certs['result'] == 'ERROR'
    assert certs['kw']['first_reused'] == str(base + 21)
    assert certs['kw']['real_last'] == str(base + 22)


def test_legacy2_and_radix_properties(scenario):
    scenario.build(certs=range(1, 11), ca_requests=range(1, 11), kra=False)
    scenario.pki_version = '11.6.0'
    scenario.write_cs_cfg(dbs__cert__id__generator='legacy2',
                          dbs__beginSerialNumber='0x1',
                          dbs__endSerialNumber='0x10000000',
                          dbs__request__id__radix='16',
                          dbs__endRequestNumber='ff')
    results = scenario.run()
    last = by_key(results, LAST)
    assert last['ca.certificates']['kw']['range_end'] == str(0x10000000)
    assert last['ca.certificates']['kw']['generator'] == 'legacy2'
    assert last['ca.requests']['kw']['range_end'] == '255'
    assert set(levels(results).values()) == {'SUCCESS'}


def test_missing_and_unbuilt_vlv_indices(scenario):
    scenario.build(certs=range(1, 11), ca_requests=range(1, 11), kra=False,
                   vlv=('caAll', 'allValidCerts'), reindex=False)
    results = scenario.run()
    index = by_key(results, VLV)
    missing = index['allCerts-missingandunbuiltvlvindices']
    assert missing['result'] == 'ERROR'
    assert missing['kw']['code'] == 'DTR0202'
    assert missing['kw']['fix'].startswith('pki-server ca-db-vlv-add')
    # Up to 11.5 389-DS treats an unbuilt index as a missing one
    # (vlvSearch_findenabled): the same severity.
    unbuilt = index['caAll-missingandunbuiltvlvindices']
    assert unbuilt['result'] == 'ERROR'
    assert unbuilt['kw']['vlv_enabled'] is False
    # (On LMDB an index defined since the start has no database yet: the
    # never-built ERROR, vlvEnabled: 0 as well.)
    assert unbuilt['kw']['code'] in ('DTR0209', 'DTR0205')
    # Without an index 389-DS still sorts correctly: no collision.
    assert by_key(results, LAST)['ca.certificates']['result'] == 'SUCCESS'

    scenario.pki_version = '11.7.0'
    index = by_key(scenario.run(), VLV)
    assert index['allCerts-missingandunbuiltvlvindices']['result'] == \
        'SUCCESS'
    scenario.pki_version = '11.6.1'
    index = by_key(scenario.run(), VLV)
    assert index['allCerts-missingandunbuiltvlvindices']['result'] == \
        'WARNING'


def test_vlv_definition_that_does_not_match_dogtags_query(scenario):
    scenario.build(certs=range(1, 6), ca_requests=range(1, 6), kra=False,
                   vlv=('allCerts', 'caAll'),
                   allCerts=(scenario.tree.certs, '(certstatus=VALID)',
                             'serialno'))
    index = by_key(scenario.run(), VLV)['allCerts-' + scenario.name]
    assert index['result'] == 'ERROR'
    assert index['kw']['mismatches'] == [
        'vlvFilter is (certstatus=valid), expected (certstatus=*)']
    assert 'edit-search' in index['kw']['fix']


def test_kra_requests_with_a_realm_are_not_dogtags_numbers(scenario):
    """Realm requests are outside Dogtag's KRA request filter
    `(&(requeststate=*)(!(realm=*)))` (dogtagpki/pki KeyRequestRepository),
    so its lookup answers 8; but they hold cn=9..11 of the same sequence, so
    they are reported apart, as a collision to come."""
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3),
                   keys=range(1, 9), kra_requests=range(1, 9))
    scenario.add([scenario.tree.request(n, kra=True, realm='dogtag')
                  for n in range(9, 12)])
    results = scenario.run()
    found = by_key(results, LAST)
    kra = found['kra.requests']['kw']
    assert found['kra.requests']['result'] == 'SUCCESS'
    assert kra['dogtag_last'] == kra['real_last'] == '8'
    outside = found['kra.requests.outside_filter']
    assert outside['result'] == 'ERROR'
    assert outside['kw']['outside_filter_records'] == 3
    assert outside['kw']['first_outside'] == '9'
    assert outside['kw']['first_outside_dn'] == \
        'cn=9,' + scenario.tree.kra_requests
    name = 'kraAll-' + scenario.name
    assert by_key(results, VLV)[name]['kw']['records'] == 8


def test_non_numeric_serialno_is_a_clear_error(scenario):
    scenario.build(certs=range(1, 6), ca_requests=range(1, 3), kra=False)
    dn, attrs = scenario.tree.cert(6)
    attrs['serialno'] = [b'0x1f']
    scenario.add([(dn, attrs)])
    results = scenario.run()
    found = by_key(results, LAST)
    bad = found.get('ca.certificates.values') or found['ca.certificates']
    assert bad['result'] == 'ERROR'
    assert bad['kw']['bad_dn'] == dn
    assert bad['kw']['bad_value'] == '0x1f'
    assert bad['kw']['code'] == ('DTR0106' if 'ca.certificates.values' in found
                                 else 'DTR0102')


def test_read_only(scenario, ds):
    healthy(scenario)
    audit, access = ds.audit_log(), len(ds.access_log())
    results = scenario.run()
    assert results
    assert ds.audit_log() == audit
    operations = ds.access_log()[access:]
    assert ' SRCH ' in operations
    for write in (' ADD ', ' MOD ', ' DEL ', ' MODRDN '):
        assert write not in operations


def test_index_defined_over_records_and_never_built(scenario, ds):
    """The field fault of VLV definitions added after the data (by hand or
    by an upgrade) and never rebuilt, judged at PKI 11.7, where an unbuilt
    index is otherwise normal.

    On LMDB (389-DS 3.x) such an index has no database until an index task
    or a start creates it, and 389-DS will not create one inside a write
    (389-ds-base 3.1.2 db-mdb/mdb_instance.c,
    dbmdb_open_dbi_from_filename; vlv.c do_vlv_update_index logs "Can't
    get index file"). The add then fails with "Operations error", or goes
    through unindexed when a later VLV update of the same add succeeds
    (vlv.c vlv_update_all_indexes keeps the last result). The test takes
    from the server's errors log which indices missed their add before it
    judges the check: exactly those are errors. BerkeleyDB creates the
    file on the first add, so there nothing misses and nothing is an error.
    As after an upgrade, the KRA's indices are built, and the CA's are
    added later (the check needs a listed database after the missing one:
    see VLVIndexCheck.never_opened).
    """
    scenario.build(certs=range(1, 11), ca_requests=range(1, 11),
                   keys=range(1, 4), kra_requests=range(1, 4),
                   vlv=('allKeys', 'kraAll'))
    tree = scenario.tree
    conn = ds.connect()
    try:
        tree.add_vlv(conn, ('caAll', 'allCerts'))
    finally:
        conn.unbind_s()
    cadb.verify_vlv_unbuilt(ds, tree.vlv_index_names(['caAll', 'allCerts']))
    scenario.pki_version = '11.7.0'
    records = {'allCerts-' + scenario.name: tree.certs_([11]),
               'caAll-' + scenario.name: tree.requests_([11])}
    logged_before = ds.errors_log()
    refused = set()
    conn = ds.connect()
    try:
        for key, entries in records.items():
            try:
                cadb.add_entries(conn, entries)
            except ldap.OPERATIONS_ERROR:
                refused.add(key)
    finally:
        conn.unbind_s()
    logged = ds.errors_log()[len(logged_before):].lower()
    missed = {key for key in records
              if "can't get index file 'vlv#%sindex'" % key.replace('-', '')
              .lower() in logged}
    assert refused <= missed
    if ds.db_lib == 'mdb' and not missed:
        raise cadb.PlantError('a VLV index without its database',
                              'every add entered every index')
    if ds.db_lib != 'mdb':
        assert not missed

    index = by_key(scenario.run(), VLV)
    errors = {key for key in records if index[key]['result'] == 'ERROR'}
    assert errors == missed
    for key in missed:
        assert index[key]['kw']['code'] == 'DTR0205'
        assert index[key]['kw']['vlv_enabled'] is False
        assert 'restart' in index[key]['kw']['fix']
    for key in set(records) - missed:
        assert index[key]['result'] == 'SUCCESS'
        assert index[key]['kw']['code'] != 'DTR0205'

    # The fix (rebuild, then restart) lets adds through and ends the alarm.
    ds.reindex(vlv_indexes=tree.vlv_index_names(['allCerts', 'caAll']))
    ds.restart()
    scenario.add(tree.certs_([12]) + tree.requests_([12]))
    index = by_key(scenario.run(), VLV)
    for key in records:
        assert index[key]['result'] == 'SUCCESS'
        assert index[key]['kw']['code'] == 'DTR0212'
