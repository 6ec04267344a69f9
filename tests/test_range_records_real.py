"""RangeRecordCheck on a real 389-DS: the active range in CS.cfg against
this server's own pkiRange record (dogtagpki/pki PR #4840: SSNv1 computed
the record's end and the CS.cfg end in different radixes).

Dogtag uses CS.cfg: the repositories read dbs.begin*/dbs.end* (v11.5.0
CertificateRepository / RequestRepository init; master
initLegacyGenerator) and only write the records (Repository.getNextRange);
Repository.hasRangeConflict and the SSNv2 migration
(SubsystemIdGeneratorUpdateCLI, v11.6.0 .. master) find a range's record by
host and beginRange = the CS.cfg begin. pkispawn records no range for the
first server (SubsystemRangeUpdateCLI, v11.5.0, writes nextRange only)."""

import ldap

from conftest import by_key
from test_bookkeeping_real import CERTS, ME, REQUESTS, build

CHECK = 'RangeRecordCheck'


def records(scenario):
    return by_key(scenario.run(CHECK), CHECK)


def read_record(scenario, rdn, begin):
    """The record as the server holds it: the fault is really planted."""
    conn = scenario.ds.connect()
    try:
        _, attrs = conn.search_s(
            'cn=%s,%s,ou=ranges,%s' % (begin, rdn, scenario.tree.base),
            ldap.SCOPE_BASE)[0]
    finally:
        conn.unbind_s()
    return {k.lower(): v[0].decode() for k, v in attrs.items()}


def cs_cfg(scenario):
    with open(records(scenario)['ca.requests']['kw']['cs_cfg']) as f:
        return dict(line.strip().split('=', 1) for line in f if '=' in line)


def test_a_fresh_master_has_no_record_and_stays_quiet(scenario):
    """ipa-server-install's master: first ranges, nextRange only."""
    found = records(build(scenario))
    assert set(found) == {'ca.certificates', 'ca.requests', 'ca.replica_ids'}
    for key, result in found.items():
        assert result['result'] == 'SUCCESS', (key, result['text'])
        assert result['kw']['code'] == 'DTR0339'
        assert result['kw']['dogtag_uses'] == 'CS.cfg'


def test_records_equal_to_cs_cfg_are_quiet(scenario):
    found = records(build(
        scenario, ranges=[(REQUESTS, 10000001, 20000000, ME)],
        dbs__beginRequestNumber='10000001', dbs__endRequestNumber='20000000'))
    requests = found['ca.requests']
    assert requests['result'] == 'SUCCESS'
    assert requests['kw']['code'] == 'DTR0340'
    assert requests['kw']['record_ldap'] == '10000001..20000000'


def test_a_record_whose_end_differs_from_cs_cfg(scenario):
    """The record ends at 19000000, CS.cfg at 20000000: this server issues
    a million numbers no record holds for it."""
    build(scenario, ranges=[(REQUESTS, 10000001, 19000000, ME)],
          dbs__beginRequestNumber='10000001',
          dbs__endRequestNumber='20000000')
    assert read_record(scenario, REQUESTS, 10000001)['endrange'] == \
        '19000000'
    assert cs_cfg(scenario)['dbs.endRequestNumber'] == '20000000'
    result = records(scenario)['ca.requests']
    assert result['result'] == 'WARNING'
    kw = result['kw']
    assert kw['code'] == 'DTR0343'
    assert kw['reserved_end'] == '19000000'
    assert kw['beyond'] == '1000000'
    assert kw['range_cfg'] == '10000001..20000000'
    assert kw['dogtag_uses'] == 'CS.cfg'
    assert 'dbs.endRequestNumber=19000000' in kw['fix']
    assert kw['fix_effect'] == 'restarts-service'


def test_a_hex_range_past_its_10_10_record(scenario):
    """SSNv1 serials, record written by PKI <= 10.10 (10000001..20000000
    means 0x10000001..0x20000000): a CS.cfg end of 0x20000fff goes past
    it; the fix writes the end back in CS.cfg's radix."""
    build(scenario, ranges=[(CERTS, 10000001, 20000000, ME)],
          dbs__beginSerialNumber='10000001', dbs__endSerialNumber='20000fff')
    kw = records(scenario)['ca.certificates']['kw']
    assert kw['code'] == 'DTR0343'
    assert kw['reserved_end'] == str(0x20000000)
    assert kw['beyond'] == str(0xfff)
    assert 'dbs.endSerialNumber=20000000' in kw['fix']


def test_the_radix_gap_of_pr_4840_is_told_not_warned(scenario):
    """PKI >= 10.11 SSNv1: the record 10000001..278435456 and CS.cfg
    10000001..20000000 (hex) come from one allocation; the numbers from
    0x20000001 to 0x278435456 are kept from everyone and never used."""
    build(scenario, ranges=[(CERTS, 10000001, 278435456, ME)],
          dbs__beginSerialNumber='10000001', dbs__endSerialNumber='20000000')
    assert read_record(scenario, CERTS, 10000001)['endrange'] == '278435456'
    result = records(scenario)['ca.certificates']
    assert result['result'] == 'SUCCESS'
    kw = result['kw']
    assert kw['code'] == 'DTR0341'
    assert kw['record_end'] == str(0x20000000)
    assert kw['unused'] == str(0x278435456 - 0x20000000)


def test_the_end_pr_4840s_reporter_set_by_hand_agrees(scenario):
    """CS.cfg end = the record's endRange digits (what the SSNv2 migration
    writes too): inside the allocation."""
    build(scenario, ranges=[(CERTS, 10000001, 278435456, ME)],
          dbs__beginSerialNumber='10000001', dbs__endSerialNumber='278435456')
    assert records(scenario)['ca.certificates']['kw']['code'] == 'DTR0340'


def test_clone_transfers_explain_a_shorter_range(scenario):
    build(scenario, ranges=[(REQUESTS, 10000001, 20000000, ME)],
          dbs__beginRequestNumber='10000001', dbs__endRequestNumber='19980000')
    result = records(scenario)['ca.requests']
    assert result['result'] == 'SUCCESS'
    assert result['kw']['code'] == 'DTR0342'
    assert result['kw']['clones'] == '2'


def test_a_shorter_range_nothing_explains(scenario):
    build(scenario, ranges=[(REQUESTS, 10000001, 20000000, ME)],
          dbs__beginRequestNumber='10000001', dbs__endRequestNumber='19999000')
    assert cs_cfg(scenario)['dbs.endRequestNumber'] == '19999000'
    result = records(scenario)['ca.requests']
    assert result['result'] == 'WARNING'
    assert result['kw']['code'] == 'DTR0344'
    assert result['kw']['unused'] == '1000'


def test_another_hosts_record_is_not_this_servers(scenario):
    """A record at the same begin for another host is RangeOverlapCheck's
    question, not a record of this server."""
    found = records(build(
        scenario, ranges=[(REQUESTS, 10000001, 19000000, 'other.example.test')],
        dbs__beginRequestNumber='10000001', dbs__endRequestNumber='20000000'))
    assert found['ca.requests']['kw']['code'] == 'DTR0339'
