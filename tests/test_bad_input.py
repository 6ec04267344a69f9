"""Bad input, one point at a time: every value a result, never a traceback.

Config values, huge numbers, files that are not regular files, values with
line breaks, and the messages for a missing CA database or a bad IPA
suffix. Everything a directory value needs is planted on the sandbox.
"""

import os

import ldap
import pytest

from ipahealthcheck.core.config import Config

from ipahealthcheck_dogtag import discovery
from ipahealthcheck_dogtag.discovery import Settings
from sandbox import cadb
from conftest import by_key

LAST = 'LastNumberCheck'
FAILURE_HOURS = 'dogtag_agreement_failure_hours'
GRACE = 'dogtag_admin_grace_minutes'
NON_NUMBERS = ['nan', 'inf', '-inf', '1e400', '-1', 'abc', 'true', '1' * 40]


def settings(**values):
    config = Config()
    config.merge(values)
    return Settings(config)


def config_results(results, check):
    return [r for r in results
            if r['check'] == check and r['kw']['key'] == 'config']


# -- 1. config values ---------------------------------------------------------

@pytest.mark.parametrize('name', [FAILURE_HOURS, GRACE])
@pytest.mark.parametrize('value', NON_NUMBERS)
def test_an_unusable_number_is_named_and_replaced_by_its_default(name,
                                                                 value):
    used = settings(**{name: value})
    problem = used.problems[name]
    assert (problem.name, problem.value) == (name, value)
    assert problem.accepted.startswith('a number of')
    default = 24 if name == FAILURE_HOURS else 60
    attribute = ('agreement_failure_hours' if name == FAILURE_HOURS
                 else 'admin_grace_minutes')
    assert getattr(used, attribute) == default


@pytest.mark.parametrize('value, used', [('0', 0), ('1.5', 1.5),
                                         (' 48 ', 48), (2, 2)])
def test_usable_numbers_are_used(value, used):
    got = settings(dogtag_agreement_failure_hours=value)
    assert got.problems == {}
    assert got.agreement_failure_hours == used


@pytest.mark.parametrize('value', [-1, 2.5, 'nan', 10 ** 6])
def test_timeout_as_we_read_it(value):
    got = settings(timeout=value)
    assert got.problems['timeout'].value == str(value)
    assert got.timeout == 10


def test_the_checks_that_use_a_key_report_it(scenario):
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3), kra=False)
    scenario.extra = {FAILURE_HOURS: 'nan', GRACE: '-1'}
    results = scenario.run(source=None)
    hours = config_results(results, 'AgreementCheck')
    assert len(hours) == 1 and hours[0]['result'] == 'ERROR'
    assert hours[0]['kw']['setting'] == FAILURE_HOURS
    assert hours[0]['kw']['value'] == 'nan'
    assert hours[0]['kw']['default_used'] == 24
    assert hours[0]['kw']['code'] == 'DTR0001'
    assert hours[0]['kw']['accepted'].startswith('a number of hours from 0')
    grace = config_results(results, 'TemporaryAdminCheck')
    assert [r['kw']['value'] for r in grace] == ['-1']
    # A check that uses neither says nothing about them.
    assert config_results(results, LAST) == []
    assert {r['result'] for r in results} <= {'SUCCESS', 'ERROR'}


# -- 2. huge numbers ----------------------------------------------------------

@pytest.mark.parametrize('digits', [100, 120, 5000])
def test_huge_range_end(scenario, digits):
    scenario.build(certs=range(1, 4), ca_requests=range(1, 4), kra=False)
    scenario.write_cs_cfg(dbs__endSerialNumber='1' * digits)
    results = scenario.run()
    for check in (LAST, 'VLVIndexCheck', 'NextRangeCheck',
                  'RangeOverlapCheck'):
        certs = [r for r in results if r['check'] == check and
                 r['kw']['key'] == 'ca.certificates']
        assert [r['result'] for r in certs] == ['ERROR'], check
        assert certs[0]['kw']['code'] == 'DTR0022'
        assert '99 decimal digits' in certs[0]['kw']['reason']
        assert len(certs[0]['text']) < 1500    # the value is shortened
    # The other repository's results are all there.
    assert by_key(results, LAST)['ca.requests']['result'] == 'SUCCESS'
    assert by_key(results, 'VLVIndexCheck')['caAll-' + scenario.name][
        'result'] == 'SUCCESS'


@pytest.mark.parametrize('value', ['\u00b2', '4' * 4400, '1' * 100, '12a'])
def test_bad_next_range(scenario, value):
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3), kra=False)
    conn = scenario.ds.connect()
    try:
        conn.modify_s(scenario.tree.certs, [(ldap.MOD_REPLACE, 'nextRange',
                                             [value.encode()])])
    finally:
        conn.unbind_s()
    found = by_key(scenario.run('NextRangeCheck'), 'NextRangeCheck')
    certs = found['ca.certificates']
    assert certs['result'] == 'ERROR'
    assert 'at most 99 digits' in certs['text']
    assert found['ca.requests']['result'] == 'SUCCESS'


@pytest.mark.parametrize('value', ['\u00b2', '7' * 4400])
def test_bad_range_record(scenario, value):
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3), kra=False)
    conn = scenario.ds.connect()
    try:
        scenario.tree.add_range(conn, 'ou=certificateRepository', 30000001,
                                40000000, 'other.example.test')
        conn.modify_s('cn=30000001,ou=certificateRepository,ou=ranges,'
                      + scenario.tree.base,
                      [(ldap.MOD_REPLACE, 'endRange', [value.encode()])])
    finally:
        conn.unbind_s()
    results = scenario.run()
    nxt = by_key(results, 'NextRangeCheck')['ca.certificates']
    assert nxt['result'] == 'WARNING'
    assert nxt['kw']['unreadable_entries'] == [
        'cn=30000001,ou=certificateRepository,ou=ranges,' +
        scenario.tree.base]
    assert by_key(results, 'RangeOverlapCheck')['ca.certificates'][
        'result'] == 'SUCCESS'


# -- 3. files -------------------------------------------------------------------

def _cs_cfg(scenario):
    return os.path.join(scenario.instance_dir, 'conf', 'ca', 'CS.cfg')


@pytest.mark.parametrize('make, reason', [
    (lambda p: os.symlink('/dev/zero', p), 'character device'),
    (lambda p: os.mkfifo(p), 'FIFO'),
    (lambda p: os.mkdir(p), 'directory'),
    (lambda p: open(p, 'wb').truncate(discovery.CS_CFG_LIMIT + 1),
     'more than'),
])
def test_cs_cfg_not_regular(scenario, make, reason):
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3), kra=False)
    os.unlink(_cs_cfg(scenario))
    make(_cs_cfg(scenario))
    results = scenario.run()
    assert {(r['result'], r['kw']['key']) for r in results} == {
        ('ERROR', 'ca.config')}
    assert reason in results[0]['kw']['reason']
    assert 'Refused to read' in results[0]['text']


def test_other_files_are_read_only_when_regular(tmp_path, monkeypatch):
    fifo = tmp_path / 'fifo'
    os.mkfifo(fifo)
    monkeypatch.setattr(discovery, 'IPA_DEFAULT_CONF', str(fifo))
    assert discovery.read_ipa_conf() == {}
    assert discovery.installed_pki_version('/dev/zero') is None
    assert discovery.installed_pki_version(str(fifo)) is None
    assert discovery._dse_ldapi_path(str(fifo)) is None


def test_a_non_utf8_byte_in_a_comment_is_read_as_dogtag_reads_it(scenario):
    """Dogtag reads CS.cfg as ISO-8859-1 (SimpleProperties.load, dogtagpki/
    pki v11.5.4): no byte refuses the file."""
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3), kra=False)
    path = _cs_cfg(scenario)
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(b'# caf\xe9 \xff\xfe written by hand\n! another comment\n')
        f.write(data)
    certs = by_key(scenario.run(LAST), LAST)['ca.certificates']
    assert certs['result'] == 'SUCCESS'


def test_cs_cfg_syntax_as_dogtag_reads_it():
    cfg = discovery.parse_properties(
        b'#c\xe9\n!x=1\na=1\n  b : 2 \nc\\\n   ontinued=3\n'
        b'd=\xc3\xa9\ne=\xe9\nf\ndup=1\ndup=2\n\r\nlast=x\\\\\n')
    assert cfg == {'a': '1', 'b': '2', 'continued': '3', 'd': '\u00e9',
                   'e': '\u00e9', 'f': '', 'dup': '2', 'last': 'x\\\\'}


# -- 5. one line -----------------------------------------------------------------

def test_a_host_with_a_line_break_stays_on_its_line(scenario):
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3), kra=False)
    host = 'other.example.test\nERROR: injected line'
    conn = scenario.ds.connect()
    try:
        # Overlaps this server's active range 1..0x10000000.
        scenario.tree.add_range(conn, 'ou=certificateRepository', 5, 9, host)
    finally:
        conn.unbind_s()
    results = scenario.run()
    overlap = by_key(results, 'RangeOverlapCheck')['ca.certificates']
    assert overlap['result'] == 'ERROR'
    assert '\n' not in overlap['text']
    assert 'other.example.test\\nerror: injected line' in overlap['text']
    assert all('\n' not in r['text'] for r in results)


# -- 6. messages that point the right way ---------------------------------------

def test_a_missing_repository_container_is_said(scenario):
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3), kra=False)
    scenario.write_cs_cfg(dbs__serialDN='ou=gone, ou=ca')
    results = scenario.run()
    for check in ('LastNumberCheck', 'VLVIndexCheck', 'NextRangeCheck',
                  'RangeDepletionCheck'):
        certs = [r for r in results if r['check'] == check and
                 r['kw']['key'] == 'ca.certificates']
        assert [r['result'] for r in certs] == ['ERROR']
        assert certs[0]['kw']['missing_dn'] == 'ou=gone,ou=ca,' + \
            scenario.tree.base
        assert 'does not exist' in certs[0]['text']
        assert 'VLV response' not in certs[0]['text']
        assert 'has no nextRange' not in certs[0]['text']
    assert by_key(results, LAST)['ca.requests']['result'] == 'SUCCESS'


def test_a_missing_ca_suffix_is_said(scenario):
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3), kra=False)
    scenario.write_cs_cfg(internaldb__basedn='o=nothere,' + cadb.SUFFIX)
    results = scenario.run()
    last = by_key(results, LAST)
    assert {r['kw']['missing_dn'] for r in last.values()} == {
        'o=nothere,' + cadb.SUFFIX}


def test_a_certificate_without_serialno_is_not_shown_as_blank(scenario):
    scenario.build(certs=range(1, 4), ca_requests=range(1, 3), kra=False)
    dn, attrs = scenario.tree.cert(3)
    dn = dn.replace('cn=3,', 'cn=nonumber,')
    del attrs['serialno']
    attrs['cn'] = [b'nonumber']
    scenario.add([(dn, attrs)])
    # The entry is no numbered record (its cn is no number), so it can
    # never collide. Up to 11.5 Dogtag's LDAPVirtualList skips a record it
    # cannot map; from 11.6 the sorted lookup's serialno range filter does
    # not match it. Either way Dogtag's answer stands: no false alarm, and
    # no message with a blank where a value should be.
    for version in ('11.5.0', '11.6.0'):
        scenario.pki_version = version
        results = scenario.run(LAST)
        found = by_key(results, LAST)['ca.certificates']
        assert found['result'] == 'SUCCESS', (version, found['text'])
        assert found['kw']['dogtag_last'] == '3'
        assert not any('reads  in' in r['text'] for r in results)


def test_a_bad_ipa_suffix_does_not_hide_a_leftover_admin(scenario):
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3), kra=False)
    conn = scenario.ds.connect()
    try:
        cadb.add(conn, 'uid=admin-r1.example.test,ou=people,' +
                 scenario.tree.base, objectClass=[
                     'top', 'person', 'organizationalPerson',
                     'inetOrgPerson', 'cmsuser'],
                 uid='admin-r1.example.test', cn='x', sn='x',
                 usertype='adminType', userstate='1')
    finally:
        conn.unbind_s()
    scenario.extra = {'dogtag_ipa_basedn': 'not a dn', GRACE: '0'}
    found = by_key(scenario.run(source='dogtag.accounts'),
                   'TemporaryAdminCheck')
    assert found['admin-r1.example.test']['result'] == 'ERROR'
    assert found['admin-r1.example.test']['kw']['host_is_server'] is None
    assert found['admin-r1.example.test']['kw']['code'] == 'DTR0502'
    agreements = scenario.run('AgreementCheck', source=None)
    assert 'ldap' not in {r['kw']['key'] for r in agreements}


# -- 7. dse.ldif ----------------------------------------------------------------

def test_dse_ldif_is_read_by_an_ldif_parser(tmp_path):
    dse = tmp_path / 'dse.ldif'
    dse.write_text(
        '# written by 389-DS\n'
        'dn: cn=config\n'
        'cn: config\n'
        '# a comment between attributes\n'
        'nsslapd-ldapifilepath:: L3J1bi9zbGFwZC1FWEFNUExFLVRFU1Quc29ja2V0\n'
        '\n'
        'dn: cn=other,cn=config\n'
        'nsslapd-ldapifilepath: /wrong\n')
    assert discovery._dse_ldapi_path(str(dse)) == \
        '/run/slapd-EXAMPLE-TEST.socket'
