"""Range bookkeeping on a real 389-DS: CS.cfg ranges of simulated servers
against nextRange and the pkiRange records, under both radix rules and both
SSNv1 (legacy) and SSNv2 (legacy2)."""

import pytest

from conftest import by_key
from sandbox import cadb

SOURCE = 'dogtag.ranges'
CHECKS = ('RangeConfigCheck', 'RangeDepletionCheck', 'CloneTransferCheck',
          'NextRangeCheck', 'RangeOverlapCheck')
ME = 'ipa.example.test'           # machineName in the sandbox CS.cfg
CERTS = 'ou=certificateRepository'
REQUESTS = 'ou=requests'


def bookkeeping(scenario):
    results = scenario.run()
    return {check: by_key(results, check) for check in CHECKS}


def build(scenario, ranges=(), **cfg):
    """A CA with a few records, IPA's defaults, `ranges` recorded in LDAP
    as (container rdn, begin, end, host), and CS.cfg overrides."""
    scenario.build(certs=range(1, 11), ca_requests=range(1, 11), kra=False,
                   vlv=())
    conn = scenario.ds.connect()
    try:
        for rdn, begin, end, host in ranges:
            scenario.tree.add_range(conn, rdn, begin, end, host)
    finally:
        conn.unbind_s()
    scenario.write_cs_cfg(**cfg)
    return scenario


def test_ipa_defaults_are_quiet(scenario):
    """A master as ipa-server-install leaves it: 1..10000000 (hex for
    serials), nextRange 10000001, replica IDs 1..100 and nextRange 1000."""
    found = bookkeeping(build(scenario, dbs__enableSerialManagement='false'))
    for check, results in found.items():
        assert set(results) == {'ca.certificates', 'ca.requests',
                                'ca.replica_ids'}, check
        for key, result in results.items():
            assert result['result'] == 'SUCCESS', (check, key, result['text'])
            assert result['kw']['server'] == ME
    assert {key: r['kw']['code'] for key, r in
            found['RangeConfigCheck'].items()} == dict.fromkeys(
        ('ca.certificates', 'ca.requests', 'ca.replica_ids'), 'DTR0302')
    depletion = found['RangeDepletionCheck']
    assert depletion['ca.certificates']['kw']['code'] == 'DTR0308'
    assert depletion['ca.replica_ids']['kw']['code'] == 'DTR0310'
    assert found['CloneTransferCheck']['ca.certificates']['kw'][
        'code'] == 'DTR0316'
    assert found['RangeOverlapCheck']['ca.certificates']['kw'][
        'code'] == 'DTR0334'
    certs = found['NextRangeCheck']['ca.certificates']['kw']
    assert certs['code'] == 'DTR0324'
    assert certs['next_range'] == '10000001'
    assert certs['next_range_start'] == str(0x10000001)
    assert certs['range_cfg'] == '1..10000000'
    assert certs['range_end'] == str(0x10000000)


def test_clone_with_a_delegated_range_and_its_own_standby(scenario):
    """A replica: its active range came from the end of the master's range
    (no LDAP record), its standby range from nextRange (recorded for it,
    PKI >= 10.11 arithmetic), nextRange moved on to 278435457."""
    build(scenario,
          ranges=[(CERTS, 10000001, 278435456, ME),
                  (REQUESTS, 10000001, 20000000, ME)],
          dbs__beginSerialNumber='fff0001', dbs__endSerialNumber='10000000',
          dbs__nextBeginSerialNumber='10000001',
          dbs__nextEndSerialNumber='20000000',
          dbs__beginRequestNumber='1', dbs__endRequestNumber='10000',
          dbs__nextBeginRequestNumber='10000001',
          dbs__nextEndRequestNumber='20000000',
          dbs__serialCloneTransferNumber='10000',
          dbs__requestCloneTransferNumber='10000')
    conn = scenario.ds.connect()
    try:
        for dn, value in ((scenario.tree.certs, b'278435457'),
                          (scenario.tree.ca_requests, b'20000001')):
            conn.modify_s(dn, [(2, 'nextRange', [value])])
    finally:
        conn.unbind_s()
    found = bookkeeping(scenario)
    for check, results in found.items():
        for key, result in results.items():
            assert result['result'] == 'SUCCESS', (check, key, result['text'])
    assert found['RangeConfigCheck']['ca.certificates']['kw'][
        'code'] == 'DTR0301'
    certs = found['RangeOverlapCheck']['ca.certificates']['kw']
    assert certs['recorded'][0]['rule'].startswith('hex digits, end from')
    assert certs['recorded'][0]['end'] == str(0x10000001 + 0x10000000 - 1)


def test_overlap_with_another_hosts_allocation_after_10_11(scenario):
    # Another host got 10000001 (hex) too: a replication race allocated it
    # twice. Its record was written by PKI >= 10.11.
    found = bookkeeping(build(
        scenario, ranges=[(CERTS, 10000001, 278435456, 'other.example.test')],
        dbs__nextBeginSerialNumber='10000001',
        dbs__nextEndSerialNumber='20000000'))
    overlap = found['RangeOverlapCheck']['ca.certificates']
    assert overlap['result'] == 'ERROR'
    assert overlap['kw']['code'] == 'DTR0336'
    assert overlap['kw']['mine'] == 'standby'
    assert overlap['kw']['other_host'] == 'other.example.test'
    assert overlap['kw']['other_begin'] == str(0x10000001)
    assert overlap['kw']['other_end'] == str(0x20000000)
    assert 'PKI >= 10.11' in overlap['kw']['extent_rule']
    # and nextRange 10000001 is not above that allocation
    nxt = found['NextRangeCheck']['ca.certificates']
    assert nxt['result'] == 'ERROR'
    assert nxt['kw']['code'] == 'DTR0330'
    assert nxt['kw']['conflicting_host'] == 'other.example.test'
    assert 'nextRange: 278435457' in nxt['kw']['fix']


def test_the_10_10_rule_decides_what_overlaps(scenario):
    """10000001..20000000 recorded by PKI <= 10.10 means 0x10000001..
    0x20000000; read with the 10.11 rule it would end at 0x10989680."""
    found = bookkeeping(build(
        scenario, ranges=[(CERTS, 10000001, 20000000, 'old.example.test')],
        dbs__beginSerialNumber='15000000', dbs__endSerialNumber='15ffffff'))
    overlap = found['RangeOverlapCheck']['ca.certificates']
    assert overlap['result'] == 'ERROR'
    assert overlap['kw']['mine'] == 'active'
    assert 'PKI <= 10.10' in overlap['kw']['extent_rule']
    assert overlap['kw']['other_end'] == str(0x20000000)


def test_the_10_11_rule_gives_no_false_overlap(scenario):
    """10000001..278435456 (PKI >= 10.11) ends at 0x20000000, not at
    0x278435456: a range at 0x30000000 is free."""
    found = bookkeeping(build(
        scenario, ranges=[(CERTS, 10000001, 278435456, 'new.example.test')],
        dbs__beginSerialNumber='30000000', dbs__endSerialNumber='3000ffff'))
    overlap = found['RangeOverlapCheck']['ca.certificates']
    assert overlap['result'] == 'SUCCESS', overlap['text']


def test_delegated_range_inside_another_hosts_allocation_is_normal(scenario):
    # The master owns 0x10000001..0x20000000 (recorded); this clone got the
    # top 0x10000 of it, the transfer size.
    found = bookkeeping(build(
        scenario, ranges=[(CERTS, 10000001, 278435456, 'master.example.test')],
        dbs__beginSerialNumber='1fff0001', dbs__endSerialNumber='20000000',
        dbs__serialCloneTransferNumber='10000'))
    overlap = found['RangeOverlapCheck']['ca.certificates']
    assert overlap['result'] == 'SUCCESS', overlap['text']
    assert overlap['kw']['code'] == 'DTR0335'
    assert overlap['kw']['delegated_from'] == [
        'cn=10000001,%s,ou=ranges,%s' % (CERTS, scenario.tree.base)]


def test_missing_and_low_next_range(scenario):
    build(scenario, ranges=[(REQUESTS, 10000001, 20000000, 'b.example.test')])
    conn = scenario.ds.connect()
    try:
        conn.modify_s(scenario.tree.certs, [(1, 'nextRange', None)])
        conn.modify_s(scenario.tree.ca_requests,
                      [(2, 'nextRange', [b'15000000'])])
        conn.modify_s('ou=replica,' + scenario.tree.base,
                      [(2, 'nextRange', [b'50'])])
    finally:
        conn.unbind_s()
    found = bookkeeping(scenario)['NextRangeCheck']
    missing = found['ca.certificates']
    assert missing['result'] == 'ERROR'           # serial management is on
    assert missing['kw']['code'] == 'DTR0325'
    assert missing['kw']['next_range'] is None
    assert 'nextRange: 10000001' in missing['kw']['fix']
    below = found['ca.requests']
    assert below['result'] == 'ERROR'
    assert below['kw']['code'] == 'DTR0330'
    assert below['kw']['conflicting_end'] == '20000000'
    assert 'nextRange: 20000001' in below['kw']['fix']
    inside = found['ca.replica_ids']
    assert inside['result'] == 'ERROR'
    assert inside['kw']['next_range_start'] == '50'
    assert inside['kw']['code'] == 'DTR0331'
    assert 'nextRange: 101' in inside['kw']['fix']


def test_missing_next_range_without_serial_management_warns(scenario):
    build(scenario, dbs__enableSerialManagement='false')
    conn = scenario.ds.connect()
    try:
        conn.modify_s(scenario.tree.certs, [(1, 'nextRange', None)])
    finally:
        conn.unbind_s()
    found = bookkeeping(scenario)['NextRangeCheck']['ca.certificates']
    assert found['result'] == 'WARNING'
    assert found['kw']['code'] == 'DTR0326'
    assert 'nextRange: 10000001' in found['kw']['fix']


def test_depleted_ranges(scenario):
    # Requests: 10 used of 1..10, no standby, serial management off: stop.
    # Certificates: 0x10 used of 1..0x20, low-water 0x40: running low.
    found = bookkeeping(build(
        scenario, dbs__enableSerialManagement='false',
        dbs__endRequestNumber='10', dbs__endSerialNumber='20',
        dbs__serialLowWaterMark='40'))['RangeDepletionCheck']
    requests = found['ca.requests']
    assert requests['result'] == 'ERROR'
    assert requests['kw']['left_in_range'] == '0'
    assert requests['kw']['code'] == 'DTR0314'
    assert requests['kw']['serial_management'] is False
    assert 'dbs.enableSerialManagement=true' in requests['kw']['fix']
    certs = found['ca.certificates']
    assert certs['result'] == 'WARNING'
    assert (certs['kw']['left_in_range'], certs['kw']['low_water_mark']) == (
        str(0x20 - 10), str(0x40))
    assert certs['kw']['code'] == 'DTR0312'
    # With serial management on, the same shortage means no range came.
    scenario.write_cs_cfg(dbs__endSerialNumber='20',
                          dbs__serialLowWaterMark='40',
                          dbs__endRequestNumber='10')
    found = bookkeeping(scenario)['RangeDepletionCheck']
    certs = found['ca.certificates']
    assert certs['result'] == 'WARNING'
    assert certs['kw']['code'] == 'DTR0311'
    assert certs['kw']['fix_effect'] == 'restarts-service'
    requests = found['ca.requests']
    assert (requests['result'], requests['kw']['code']) == ('ERROR',
                                                            'DTR0313')
    assert requests['kw']['serial_management'] is True
    # No low-water mark: nothing to compare with but an exhausted range.
    scenario.write_cs_cfg(dbs__endSerialNumber='20',
                          dbs__serialLowWaterMark=None)
    certs = bookkeeping(scenario)['RangeDepletionCheck']['ca.certificates']
    assert (certs['result'], certs['kw']['code']) == ('SUCCESS', 'DTR0309')
    assert certs['kw']['low_water_mark'] is None


def test_clone_transfer_condition_of_ticket_3055(scenario):
    """UpdateNumberRange (dogtagpki/pki v11.5.0, master) takes the transfer
    size T from the end of the active range when at least T are left after
    the last number used, exactly T included (its comment: "We allow this
    to occur"), else from the end of the standby range, and fails without
    one."""
    # Requests 1..15 with 10 used: 5 left, transfer size 10, no standby.
    # Replica IDs 96..100: 4 after the begin, transfer size 4.
    found = bookkeeping(build(
        scenario, dbs__endRequestNumber='15',
        dbs__requestCloneTransferNumber='10',
        dbs__beginReplicaNumber='96', dbs__replicaCloneTransferNumber='4'))
    found = found['CloneTransferCheck']
    requests = found['ca.requests']
    assert requests['result'] == 'WARNING'
    assert requests['kw']['code'] == 'DTR0322'
    assert requests['kw']['transfer_size'] == '10'
    replicas = found['ca.replica_ids']
    assert replicas['result'] == 'SUCCESS', replicas['text']
    assert replicas['kw']['code'] == 'DTR0316'
    assert found['ca.certificates']['result'] == 'SUCCESS'
    # A big enough standby range is where the transfer comes from: quiet.
    scenario.write_cs_cfg(dbs__endRequestNumber='15',
                          dbs__requestCloneTransferNumber='10',
                          dbs__nextBeginRequestNumber='1000',
                          dbs__nextEndRequestNumber='2000')
    found = bookkeeping(scenario)['CloneTransferCheck']
    assert found['ca.requests']['result'] == 'SUCCESS'
    assert found['ca.requests']['kw']['code'] == 'DTR0317'


def test_what_is_left_equal_to_the_transfer_size_is_enough(scenario):
    # Requests 1..20 with 10 used: exactly 10 left, transfer size 10.
    found = bookkeeping(build(
        scenario, dbs__endRequestNumber='20',
        dbs__requestCloneTransferNumber='10'))['CloneTransferCheck']
    assert found['ca.requests']['result'] == 'SUCCESS', \
        found['ca.requests']['text']


def test_a_standby_smaller_than_the_transfer_size_is_an_overlap_risk(
        scenario):
    """UpdateNumberRange cuts newEnd = nextEnd - T from the standby range
    without checking its begin (UpdateNumberRange.java, master): the clone
    gets numbers below the standby range."""
    found = bookkeeping(build(
        scenario, dbs__endRequestNumber='15',
        dbs__requestCloneTransferNumber='10',
        dbs__nextBeginRequestNumber='1000',
        dbs__nextEndRequestNumber='1004'))['CloneTransferCheck']
    requests = found['ca.requests']
    assert requests['result'] == 'WARNING'
    assert requests['kw']['code'] == 'DTR0321'
    assert requests['kw']['standby_available'] == '5'


def test_a_missing_transfer_size_is_named_not_printed_as_none(scenario):
    found = bookkeeping(build(
        scenario, dbs__replicaCloneTransferNumber=None))['CloneTransferCheck']
    replicas = found['ca.replica_ids']
    assert replicas['result'] == 'WARNING'
    assert replicas['kw']['code'] == 'DTR0315'
    assert 'None' not in replicas['text']
    assert replicas['kw']['transfer_property'] == \
        'dbs.replicaCloneTransferNumber'


def test_a_clone_replica_id_range_is_quiet(scenario):
    """Point 1: every IPA clone gets 5 replica IDs (96..100 from a fresh
    master) and no standby range: pkispawn's request_ranges always asks for
    replicaId (dogtagpki/pki master base/server/python/pki/server/
    subsystem.py). Dogtag checks that range only in UpdateNumberRange,
    which for replicaId calls checkRanges() first and so allocates a
    standby range on demand; no start-up or periodic task does
    (UpdateNumberRange.java, CAEngine.startupSubsystems: v11.5.0, master).
    Nothing may warn, let alone advise a restart."""
    found = bookkeeping(build(
        scenario, dbs__beginReplicaNumber='96', dbs__endReplicaNumber='100'))
    for check, results in found.items():
        result = results['ca.replica_ids']
        assert result['result'] == 'SUCCESS', (check, result['text'])
        assert 'restart' not in result['text']
    transfer = found['CloneTransferCheck']['ca.replica_ids']['kw']
    assert transfer['code'] == 'DTR0318'
    assert transfer['standby_on_demand'] == '100'   # dbs.replicaIncrement
    assert transfer['left_in_range'] == '4'


def test_replica_id_faults_that_stop_the_next_clone(scenario):
    """With serial management off, checkRanges() is a no-op, so 4 IDs left
    and a transfer size of 5 leave UpdateNumberRange without a standby
    range to cut from; a one-ID range is read as empty
    (ReplicaIDRepository.getLastSerialNumberInRange returns null when
    low >= high, v10.5.18 .. master) and initCache fails."""
    found = bookkeeping(build(
        scenario, dbs__enableSerialManagement='false',
        dbs__beginReplicaNumber='96', dbs__endReplicaNumber='100'))
    transfer = found['CloneTransferCheck']['ca.replica_ids']
    assert transfer['result'] == 'WARNING'
    assert transfer['kw']['code'] == 'DTR0323'
    assert transfer['kw']['serial_management'] is False
    assert 'restart' not in transfer['kw']['fix']
    assert found['RangeDepletionCheck']['ca.replica_ids'][
        'result'] == 'SUCCESS'
    scenario.write_cs_cfg(dbs__beginReplicaNumber='100',
                          dbs__endReplicaNumber='100')
    found = bookkeeping(scenario)
    config = found['RangeConfigCheck']['ca.replica_ids']
    assert (config['result'], config['kw']['code']) == ('WARNING', 'DTR0305')
    assert config['kw']['shape'] == 'begin = end'
    transfer = found['CloneTransferCheck']['ca.replica_ids']
    assert transfer['result'] == 'WARNING'
    assert transfer['kw']['code'] == 'DTR0319'


def test_a_range_whose_begin_equals_its_end(scenario):
    """getLastSerialNumberInRange returns null when low >= high
    (CertificateRepository, RequestRepository, KeyRepository,
    ReplicaIDRepository; dogtagpki/pki v10.5.18, v11.5.0, master);
    Repository.initCache then moves to the standby range or throws."""
    found = bookkeeping(build(
        scenario, dbs__beginRequestNumber='500',
        dbs__endRequestNumber='500'))['RangeConfigCheck']
    requests = found['ca.requests']
    assert requests['result'] == 'ERROR'
    assert requests['kw']['code'] == 'DTR0304'
    assert requests['kw']['shape'] == 'begin = end'
    scenario.write_cs_cfg(dbs__beginRequestNumber='500',
                          dbs__endRequestNumber='500',
                          dbs__nextBeginRequestNumber='10000001',
                          dbs__nextEndRequestNumber='20000000')
    found = bookkeeping(scenario)['RangeConfigCheck']
    assert found['ca.requests']['result'] == 'SUCCESS'
    assert found['ca.requests']['kw']['code'] == 'DTR0303'


def test_a_0x_prefix_under_the_legacy_generator(scenario):
    """SSNv1 reads CS.cfg hex with new BigInteger(value, 16), which throws
    on "0x" (dogtagpki/pki master CertificateRepository.initLegacyGenerator;
    v10.10.0 Repository.java): the CA does not start."""
    found = bookkeeping(build(scenario, dbs__endSerialNumber='0x10000000'))
    result = found['RangeConfigCheck']['ca.certificates']
    assert result['result'] == 'ERROR'
    assert result['kw']['property'] == 'dbs.endSerialNumber'
    assert result['kw']['code'] == 'DTR0021'
    assert 'without 0x' in result['kw']['fix']


def test_standby_range_that_does_not_follow(scenario):
    found = bookkeeping(build(
        scenario, dbs__nextBeginRequestNumber='5000',
        dbs__nextEndRequestNumber='6000'))['RangeConfigCheck']
    assert found['ca.requests']['result'] == 'ERROR'
    assert found['ca.requests']['kw']['code'] == 'DTR0307'
    scenario.write_cs_cfg(dbs__beginRequestNumber='500',
                          dbs__endRequestNumber='400')
    found = bookkeeping(scenario)['RangeConfigCheck']
    assert found['ca.requests']['kw']['code'] == 'DTR0304'
    assert found['ca.requests']['kw']['shape'] == 'begin > end'
    # A standby range of one number is read as empty too.
    scenario.write_cs_cfg(dbs__nextBeginRequestNumber='20000000',
                          dbs__nextEndRequestNumber='20000000')
    found = bookkeeping(scenario)['RangeConfigCheck']['ca.requests']
    assert (found['result'], found['kw']['code']) == ('ERROR', 'DTR0306')
    assert found['kw']['shape'] == 'begin = end'
    assert 'dbs.next*' in found['kw']['fix']


def test_legacy2_keeps_its_books_in_ranges_v2(scenario):
    """pkispawn writes dbs.serialRangeDN=ou=certificateRepository,
    ou=ranges_v2 for legacy2 (dogtagpki/pki master deployment/__init__.py
    configure_ca); nextRange lives there (CertificateRepository
    getNextRangeDN)."""
    build(scenario, dbs__cert__id__generator='legacy2',
          dbs__serialRangeDN='ou=certificateRepository,ou=ranges_v2',
          dbs__beginSerialNumber='0x1', dbs__endSerialNumber='0x10000000',
          dbs__nextBeginSerialNumber='0x10000001',
          dbs__nextEndSerialNumber='0x20000000',
          dbs__request__id__generator='legacy2',
          dbs__requestRangeDN='ou=requests,ou=ranges_v2')
    scenario.pki_version = '11.6.0'
    conn = scenario.ds.connect()
    try:
        scenario.tree.create_ranges_v2(conn, {CERTS: 536870913,
                                              REQUESTS: 10000001})
        # SSNv2 records real numbers in decimal: 0x10000001..0x20000000.
        scenario.tree.add_range(conn, CERTS, 268435457, 536870912, ME,
                                v2=True)
        scenario.tree.add_range(conn, CERTS, 536870913, 805306368,
                                'other.example.test', v2=True)
    finally:
        conn.unbind_s()
    found = bookkeeping(scenario)
    nxt = found['NextRangeCheck']['ca.certificates']
    assert nxt['kw']['next_range_dn'].startswith(CERTS + ',ou=ranges_v2,')
    assert nxt['result'] == 'ERROR'     # 536870913 <= other's end
    assert nxt['kw']['conflicting_host'] == 'other.example.test'
    overlap = found['RangeOverlapCheck']['ca.certificates']
    assert overlap['result'] == 'SUCCESS', overlap['text']
    assert overlap['kw']['recorded'][1]['rule'] == 'decimal'
    # legacy2 requests keep Dogtag's radix 10 (RequestRepository DEC).
    requests = found['RangeConfigCheck']['ca.requests']['kw']
    assert (requests['generator'], requests['radix']) == ('legacy2', 10)
    assert overlap['kw']['radix'] == 16


def test_the_range_dn_is_used_as_configured(scenario):
    """`pki-server ca-id-generator-update --range <name>` may name any
    container (SubsystemIdGeneratorUpdateCLI.java, master): Dogtag uses
    dbs.serialRangeDN as written, so do we."""
    build(scenario, ranges=[(CERTS, 268435457, 536870912,
                             'other.example.test')],
          dbs__cert__id__generator='legacy2',
          dbs__serialRangeDN='ou=certificateRepository,ou=ranges',
          dbs__beginSerialNumber='0x10000001',
          dbs__endSerialNumber='0x10001000')
    overlap = bookkeeping(scenario)['RangeOverlapCheck']['ca.certificates']
    assert overlap['result'] == 'ERROR'
    assert overlap['kw']['other_host'] == 'other.example.test'
    assert overlap['kw']['other_dn'].startswith(
        'cn=268435457,%s,ou=ranges,' % CERTS)


@pytest.mark.parametrize('setting', ['dbs.serialLowWaterMark',
                                     'dbs.serialCloneTransferNumber'])
def test_malformed_bookkeeping_setting(scenario, setting):
    build(scenario, **{setting.replace('.', '__'): 'lots'})
    found = bookkeeping(scenario)
    check = 'RangeDepletionCheck' if 'LowWater' in setting else \
        'CloneTransferCheck'
    result = found[check]['ca.certificates']
    assert result['result'] == 'ERROR'
    assert result['kw']['property'] == setting
    assert result['kw']['value'] == 'lots'


def test_a_10_10_allocation_whose_decimal_end_carried(scenario):
    """Up to PKI 10.10 DBSubsystem.getNextRange wrote endRange = beginRange
    + increment digits - 1 in decimal, while the owner's CS.cfg got
    hex(beginRange) + hex(increment) - 1 (Repository.checkRanges,
    mIncrementNo read in radix 16; dogtagpki/pki v10.5.18, v10.10.0). For
    90000001 the decimal sum carries: endRange 100000000, real end
    0xA0000000, not 0x100000000."""
    found = bookkeeping(build(
        scenario, ranges=[(CERTS, 90000001, 100000000, 'old.example.test')],
        dbs__beginSerialNumber='b0000000', dbs__endSerialNumber='b000ffff'))
    overlap = found['RangeOverlapCheck']['ca.certificates']
    assert overlap['result'] == 'SUCCESS', overlap['text']
    assert overlap['kw']['recorded'][0]['end'] == str(0xA0000000)
    scenario.write_cs_cfg(dbs__beginSerialNumber='a0000000',
                          dbs__endSerialNumber='a000ffff')
    overlap = bookkeeping(scenario)['RangeOverlapCheck']['ca.certificates']
    assert overlap['result'] == 'ERROR'
    assert overlap['kw']['other_end'] == str(0xA0000000)
    assert 'PKI <= 10.10' in overlap['kw']['extent_rule']


def kra_legacy2(scenario, **cfg):
    """A KRA whose keys use legacy2 as pkispawn sets it up (dogtagpki/pki
    master deployment/__init__.py configure_kra: dbs.serialRangeDN=
    ou=keyRepository,ou=ranges_v2), its first nextRange written by
    `pki-server kra-range-update` to that container
    (SubsystemRangeUpdateCLI.getSerialNextRangeDN)."""
    scenario.build(keys=range(1, 5), kra_requests=range(1, 5), vlv=())
    base = scenario.tree.kra_base
    conn = scenario.ds.connect()
    try:
        conn.modify_s(scenario.tree.keys, [(1, 'nextRange', None)])
        cadb.add(conn, 'ou=ranges_v2,' + base,
                 objectClass=['top', 'organizationalUnit'], ou='ranges_v2')
        cadb.add(conn, 'ou=keyRepository,ou=ranges_v2,' + base,
                 objectClass=['top', 'repository'], ou='keyRepository',
                 nextRange='268435457')
    finally:
        conn.unbind_s()
    scenario.write_cs_cfg(
        'kra', dbs__key__id__generator='legacy2',
        dbs__serialRangeDN='ou=keyRepository,ou=ranges_v2',
        dbs__beginSerialNumber='0x1', dbs__endSerialNumber='0x10000000',
        dbs__serialIncrement='0x10000000',
        dbs__serialLowWaterMark='0x2000000',
        dbs__serialCloneTransferNumber='0x10000', **cfg)
    scenario.pki_version = '11.6.0'
    return scenario


def test_legacy2_kra_keys_read_next_range_where_the_installer_did_not(
        scenario):
    """KeyRepository has no getNextRangeDN override (dogtagpki/pki v11.6.0
    .. v11.10.0, master), so Dogtag reads nextRange for legacy2 keys on
    ou=keyRepository,ou=kra,<base>, not where the installer put it."""
    kra_legacy2(scenario)
    keys = bookkeeping(scenario)['NextRangeCheck']['kra.keys']
    assert keys['result'] == 'ERROR'
    assert keys['kw']['next_range_dn'] == scenario.tree.keys
    assert keys['kw']['installer_next_range'] == '268435457'
    assert keys['kw']['code'] == 'DTR0327'
    conn = scenario.ds.connect()
    try:
        conn.modify_s(scenario.tree.keys, [(0, 'nextRange', [b'536870913'])])
    finally:
        conn.unbind_s()
    keys = bookkeeping(scenario)['NextRangeCheck']['kra.keys']
    assert keys['result'] == 'WARNING'
    assert keys['kw']['code'] == 'DTR0333'
    assert 'nextRange: 536870913' in keys['kw']['fix']
    assert 'ou=keyRepository,ou=ranges_v2' in keys['kw']['fix']


def test_next_range_where_the_installer_put_it_without_serial_management(
        scenario):
    kra_legacy2(scenario, dbs__enableSerialManagement='false')
    keys = bookkeeping(scenario)['NextRangeCheck']['kra.keys']
    assert (keys['result'], keys['kw']['code']) == ('WARNING', 'DTR0328')
    assert keys['kw']['installer_next_range'] == '268435457'


def test_security_domain_sessions_expire_on_dogtags_default_interval(
        scenario):
    """With no securitydomain.checkinterval in CS.cfg Dogtag checks every
    5000 ms (CMSEngine: config.getString("securitydomain.checkinterval",
    "5000"), dogtagpki/pki v10.5.18, v10.10.0, v11.5.0, master), so a
    session 24 h + 2 min old is overdue."""
    import time
    scenario.build(kra=False, vlv=())
    base = scenario.tree.base
    sessions = 'ou=sessions,ou=Security Domain,' + base
    conn = scenario.ds.connect()
    try:
        for dn in ('ou=Security Domain,' + base, sessions):
            cadb.add(conn, dn, objectClass=['top', 'organizationalUnit'],
                     ou=dn.split(',')[0][3:])
        cadb.add(conn, 'cn=42,' + sessions,
                 objectClass=['top', 'securityDomainSessionEntry'], cn='42',
                 host='192.0.2.7', uid='admin-replica9.ipa.test',
                 cmsUserGroup='Enterprise CA Administrators',
                 dateOfCreate=str(int(time.time() * 1000) -
                                  (86400 + 120) * 1000))
    finally:
        conn.unbind_s()
    results = scenario.run('SecurityDomainSessionCheck', source=None)
    found = by_key(results, 'SecurityDomainSessionCheck')['sessions']
    assert found['result'] == 'WARNING', found['text']
    assert found['kw']['code'] == 'DTR0504'         # sessions-stale
    scenario.write_cs_cfg(securitydomain__checkinterval='300000')
    results = scenario.run('SecurityDomainSessionCheck', source=None)
    found = by_key(results, 'SecurityDomainSessionCheck')['sessions']
    assert found['result'] == 'SUCCESS', found['text']
    assert found['kw']['code'] == 'DTR0503'         # sessions-fresh


def test_a_replica_id_standby_on_demand_needs_next_range(scenario):
    """Repository.getNextRange() fails without nextRange (dogtagpki/pki
    master), so the standby range a replica-ID transfer needs never comes."""
    build(scenario, dbs__beginReplicaNumber='96', dbs__endReplicaNumber='100')
    conn = scenario.ds.connect()
    try:
        conn.modify_s('ou=replica,' + scenario.tree.base,
                      [(1, 'nextRange', None)])
    finally:
        conn.unbind_s()
    transfer = bookkeeping(scenario)['CloneTransferCheck']['ca.replica_ids']
    assert transfer['result'] == 'WARNING'
    assert transfer['kw']['code'] == 'DTR0320'
    assert transfer['kw']['next_range'] is None
    assert 'restart' not in transfer['kw']['fix']


def test_a_range_dn_389ds_refuses_is_a_read_failure(scenario):
    """A range DN that is no DN (no attribute=value): 389-DS refuses the
    search of its records (invalid DN syntax), which is not a connection
    failure."""
    build(scenario, dbs__requestRangeDN='norequests')
    found = bookkeeping(scenario)['RangeOverlapCheck']['ca.requests']
    assert (found['result'], found['kw']['code']) == ('ERROR', 'DTR0300')
    assert 'Invalid DN syntax' in found['kw']['error']
