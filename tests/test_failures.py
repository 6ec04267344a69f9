"""Every failure is a result with a message, never a traceback."""

import os
import time

import ldap
import ldap.ldapobject
import pytest

from ipahealthcheck.core.config import Config

from ipahealthcheck_dogtag import directory as directory_module
from ipahealthcheck_dogtag import discovery
from ipahealthcheck_dogtag.checks.plugin import registry
from conftest import by_key, run_checks

LAST = 'LastNumberCheck'


def config(**values):
    c = Config()
    c.merge({'timeout': 10})
    c.merge(values)
    return c


def only(results, check=LAST):
    """The one result of `check` (each check reports a discovery problem)."""
    found = [r for r in results if r['check'] == check]
    assert len(found) == 1, found
    return found[0]


def test_host_without_a_ca_is_one_quiet_success(tmp_path, monkeypatch):
    monkeypatch.setattr(discovery, 'DEFAULT_INSTANCE_DIR',
                        str(tmp_path / 'pki-tomcat'))
    results = run_checks(config())
    # Every check of every source: exactly one quiet SUCCESS.
    assert len(results) == len({r['check'] for r in results}) == \
        len(registry.plugins)
    assert {(r['result'], r['kw']['key']) for r in results} == {
        ('SUCCESS', 'ca')}
    assert 'no Dogtag CA' in results[0]['kw']['reason']


def test_configured_instance_dir_that_does_not_exist(tmp_path):
    result = only(run_checks(config(dogtag_instance_dir=str(tmp_path / 'x'))))
    assert (result['result'], result['kw']['key']) == ('ERROR', 'ca.config')
    assert result['kw']['code'] == 'DTR0017'
    assert result['kw']['setting'] == 'dogtag_instance_dir'


def test_missing_cs_cfg(tmp_path):
    (tmp_path / 'inst' / 'conf' / 'ca').mkdir(parents=True)
    result = only(run_checks(config(dogtag_instance_dir=str(tmp_path /
                                                            'inst'))))
    assert (result['result'], result['kw']['key']) == ('ERROR', 'ca.config')
    assert result['kw']['path'].endswith('conf/ca/CS.cfg')
    assert result['kw']['code'] == 'DTR0011'
    assert 'CS.cfg not found' in result['text']


def test_a_path_that_cannot_be_examined(tmp_path):
    """A symlink loop where conf/ca should be: neither "no CA" nor a
    permission problem (ELOOP)."""
    conf = tmp_path / 'inst' / 'conf'
    conf.mkdir(parents=True)
    os.symlink('ca', str(conf / 'ca'))
    result = only(run_checks(config(dogtag_instance_dir=str(tmp_path /
                                                            'inst'))))
    assert (result['result'], result['kw']['code']) == ('ERROR', 'DTR0010')
    assert result['kw']['path'].endswith('conf/ca')


def test_cs_cfg_that_cannot_be_read(tmp_path):
    ca = tmp_path / 'inst' / 'conf' / 'ca'
    ca.mkdir(parents=True)
    os.symlink('CS.cfg', str(ca / 'CS.cfg'))     # a loop: ELOOP on open
    result = only(run_checks(config(dogtag_instance_dir=str(tmp_path /
                                                            'inst'))))
    assert (result['result'], result['kw']['code']) == ('ERROR', 'DTR0013')
    assert result['kw']['error']


def test_instance_name_outside_the_pki_root():
    """pki-healthcheck's instance_name must name a directory under
    /var/lib/pki."""
    result = only(run_checks(config(instance_name='../../etc')))
    assert (result['result'], result['kw']['code']) == ('ERROR', 'DTR0016')
    assert result['kw']['value'] == '../../etc'


def test_empty_cs_cfg(tmp_path):
    # Bytes that are not UTF-8 are no reason to refuse CS.cfg: Dogtag
    # reads it as ISO-8859-1 (test_bad_input.py).
    cfg = tmp_path / 'inst' / 'conf' / 'ca' / 'CS.cfg'
    cfg.parent.mkdir(parents=True)
    cfg.write_text('# nothing here\n\n')
    result = only(run_checks(config(dogtag_instance_dir=str(tmp_path /
                                                            'inst'))))
    assert result['kw']['code'] == 'DTR0014'
    assert 'holds no key=value lines' in result['text']


def test_malformed_range_value(scenario):
    scenario.build(certs=range(1, 4), ca_requests=range(1, 4), kra=False)
    scenario.write_cs_cfg(dbs__endSerialNumber='12zz',
                          dbs__endRequestNumber=None)
    results = by_key(scenario.run(LAST), LAST)
    certs = results['ca.certificates']
    assert certs['result'] == 'ERROR'
    assert certs['kw']['property'] == 'dbs.endSerialNumber'
    assert certs['kw']['value'] == '12zz'
    assert 'hexadecimal' in certs['text']
    requests = results['ca.requests']
    assert requests['result'] == 'ERROR'
    assert requests['kw']['property'] == 'dbs.endRequestNumber'


def test_broken_kra_config_does_not_hide_the_ca(scenario):
    scenario.build(certs=range(1, 4), ca_requests=range(1, 4))
    os.unlink(os.path.join(scenario.instance_dir, 'conf/kra/CS.cfg'))
    results = by_key(scenario.run(LAST), LAST)
    assert results['ca.certificates']['result'] == 'SUCCESS'
    for key in ('kra.keys', 'kra.requests'):
        assert results[key]['result'] == 'ERROR'
        assert results[key]['kw']['code'] == 'DTR0011'
        assert results[key]['kw']['path'].endswith('conf/kra/CS.cfg')


def test_ldap_server_down(scenario, tmp_path):
    scenario.build(certs=range(1, 4), ca_requests=range(1, 4), kra=False)
    scenario.config()
    text = open(scenario.config_path).read().replace(
        scenario.ds.socket_path, str(tmp_path / 'gone.socket'))
    open(scenario.config_path, 'w').write(text)
    from ipahealthcheck.core.config import read_config
    results = run_checks(read_config(scenario.config_path))
    # dogtag.logs reads files only: the server being down is not its finding
    logs = [r for r in results if r['source'] == 'dogtag.logs']
    assert [(r['result'], r['kw']['key']) for r in logs] == [
        ('SUCCESS', 'ca.debug')]
    results = [r for r in results if r['source'] != 'dogtag.logs']
    assert len(results) == len(registry.plugins) - 1
    assert [r['kw']['key'] for r in results] == ['ldap'] * len(results)
    # The first check tells the failure in full, and what to do about it;
    # each later check, briefly, that it did not look (same key).
    assert results[0]['result'] == 'ERROR'
    assert "Can't contact LDAP server" in results[0]['kw']['error']
    assert results[0]['kw']['failure'] == 'unreachable'
    assert results[0]['kw']['code'] == 'DTR0005'
    assert 'ipactl start' in results[0]['kw']['fix']
    told = '%s.%s' % (results[0]['source'], results[0]['check'])
    assert {r['kw']['code'] for r in results[1:]} == {'DTR0007'}
    assert {r['text'] for r in results[1:]} == {
        'Not checked: the CA database at %s cannot be read (unreachable); '
        'see %s.' % (results[0]['kw']['uri'], told)}
    assert {r['result'] for r in results[1:]} == {'WARNING'}


def test_no_ldapi_to_be_found(tmp_path):
    inst = tmp_path / 'inst' / 'conf' / 'ca'
    inst.mkdir(parents=True)
    (inst / 'CS.cfg').write_text('dbs.beginSerialNumber=1\n')
    result = only(run_checks(config(dogtag_instance_dir=str(tmp_path /
                                                            'inst'))))
    assert (result['result'], result['kw']['key']) == ('ERROR', 'ldap')
    assert result['kw']['code'] == 'DTR0015'
    assert 'dogtag_ldap_uri' in result['kw']['fix']


def test_ldapi_found_from_the_ipa_realm(tmp_path, monkeypatch):
    conf = tmp_path / 'default.conf'
    conf.write_text('[global]\nrealm = EXAMPLE.TEST\n')
    dse = tmp_path / 'dirsrv' / 'slapd-EXAMPLE-TEST' / 'dse.ldif'
    dse.parent.mkdir(parents=True)
    dse.write_text('dn: cn=config\nnsslapd-ldapifilepath: /run/slapd-EXAM\n'
                   ' PLE-TEST.socket\nnsslapd-port: 389\n')
    monkeypatch.setattr(discovery, 'IPA_DEFAULT_CONF', str(conf))
    monkeypatch.setattr(discovery, 'DIRSRV_CONF_DIR', str(tmp_path /
                                                          'dirsrv'))
    assert discovery.discover_ldap_uri() == \
        'ldapi://%2Frun%2Fslapd-EXAMPLE-TEST.socket'
    dse.unlink()
    assert discovery.discover_ldap_uri() == \
        'ldapi://%2Frun%2Fslapd-EXAMPLE-TEST.socket'


def test_bad_pki_version_setting(scenario):
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3), kra=False)
    scenario.pki_version = 'eleven'
    result = only(scenario.run(LAST))
    assert result['result'] == 'ERROR'
    assert result['kw']['value'] == 'eleven'


# -- what a real server cannot show: mocked ---------------------------------

def _scan_deadline_passed(mocker):
    """The scan gets a deadline already past (what a big repository and the
    default timeout give); the reads around it keep their time."""
    from ipahealthcheck_dogtag.dogtag import truth
    real_scan = truth.scan
    mocker.patch.object(truth, 'scan', side_effect=lambda d, r, last, _: (
        real_scan(d, r, last, time.monotonic() - 1)))


def test_time_budget_runs_out_on_a_healthy_repository(scenario, mocker):
    scenario.build(certs=range(1, 30), ca_requests=range(1, 30), kra=False)
    _scan_deadline_passed(mocker)
    certs = by_key(scenario.run(LAST), LAST)['ca.certificates']
    # The equality-index probe proves the usual fault absent: no WARNING.
    assert certs['result'] == 'SUCCESS'
    assert certs['kw']['scan_complete'] is False
    assert certs['kw']['proof'] == 'equality index probe'
    assert certs['kw']['code'] == 'DTR0117'


def test_probe_proves_a_fault_when_the_budget_runs_out(scenario, ds, mocker):
    from sandbox import cadb
    scenario.build(certs=range(1, 21), ca_requests=range(1, 3), kra=False)
    cadb.make_stale_vlv(ds, scenario.tree.vlv_index_names(['allCerts']),
                        scenario.tree.certs_(range(21, 26)))
    _scan_deadline_passed(mocker)
    certs = by_key(scenario.run(LAST), LAST)['ca.certificates']
    assert certs['result'] == 'ERROR'
    assert certs['kw']['scan_complete'] is False
    assert (certs['kw']['dogtag_last'], certs['kw']['first_reused'],
            certs['kw']['real_last']) == ('20', '21', '25')


def test_ldap_error_during_the_scan(scenario, mocker):
    scenario.build(certs=range(1, 5), ca_requests=range(1, 5), kra=False)
    error = ldap.SERVER_DOWN({'desc': "Can't contact LDAP server"})
    mocker.patch.object(directory_module.Directory, 'stream',
                        side_effect=directory_module.DirectoryError(
                            'scanning x', error))
    results = by_key(scenario.run(LAST), LAST)
    # A lost server is the check's one `ldap` result, not a repository's.
    assert set(results) == {'ldap'}
    assert results['ldap']['result'] == 'ERROR'
    assert results['ldap']['kw']['error'] == "Can't contact LDAP server"
    assert results['ldap']['kw']['what'] == 'scanning x'


@pytest.mark.parametrize('value,answer', [('', '0'), ('abc', '0'),
                                          ('0312', '12')])
def test_malformed_number_in_dogtags_window(scenario, mocker, value, answer):
    """Up to 11.5 LDAPVirtualList leaves out a record it cannot map, and
    BigIntegerMapper reads `0312` as 12 without checking its prefix
    (dogtagpki/pki v11.5.0): a window of one such record answers begin - 1
    or 12, never a traceback."""
    scenario.build(certs=range(1, 5), ca_requests=range(1, 5), kra=False)
    mocker.patch.object(
        directory_module.Directory, 'vlv_window',
        return_value=([('cn=4,x', {'serialno': [value.encode()]})], 1, 1))
    results = scenario.run()        # VLVIndexCheck too: no traceback
    certs = by_key(results, LAST)['ca.certificates']
    assert certs['kw']['dogtag_last'] == answer
    assert certs['result'] == ('ERROR' if answer == '0' else 'SUCCESS')


def test_server_that_stops_answering(scenario, mocker):
    """A server that binds, then never answers a read: one `ldap` result
    per check, found once (the connect's own read) and remembered."""
    scenario.build(certs=range(1, 4), ca_requests=range(1, 4), kra=False)
    config = scenario.config()
    waits = mocker.patch.object(ldap.ldapobject.SimpleLDAPObject, 'result3',
                                side_effect=ldap.TIMEOUT)
    results = run_checks(config)
    # Every check that reads the directory gives the one `ldap` result;
    # LogCheck reads only the debug logs.
    reading = [p.__name__ for p in registry.plugins if p.requires_directory]
    failed = [r for r in results if r['kw']['key'] == 'ldap']
    assert [r['check'] for r in failed] == reading
    assert all(r['kw']['failure'] == 'silent' for r in failed)
    assert [r['result'] for r in failed] == \
        ['ERROR'] + ['WARNING'] * (len(failed) - 1)
    assert 'no answer to the bind within' in failed[0]['kw']['error']
    assert waits.call_count == 1
