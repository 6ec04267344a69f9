"""The installed package, found by the real ipahealthcheck core through its
entry points, run as a command: JSON on stdout, exit code by severity."""

import json
import os
import subprocess
import sys

import pytest

from sandbox import cadb

BIN = os.path.dirname(sys.executable)

# ipa-healthcheck's own main(), on a machine where IPA is not installed:
# only its "is IPA configured?" guard is answered.
IPA_HEALTHCHECK = (
    'import sys, ipahealthcheck.core.main as m; '
    'm.is_ipa_configured = lambda: True; '
    'sys.argv[0] = "ipa-healthcheck"; m.main()')


def run(args, cwd):
    return subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=300)


def dogtag_healthcheck(scenario, *args):
    scenario.config()
    return run([os.path.join(BIN, 'dogtag-healthcheck'), '--config',
                scenario.config_path] + list(args), scenario.instance_dir)


def ipa_healthcheck(scenario, *args):
    scenario.config()
    return run([sys.executable, '-c', IPA_HEALTHCHECK, '--config',
                scenario.config_path] + list(args), scenario.instance_dir)


def stale_scenario(ds, directory, name):
    """A CA whose allCerts index misses certificates 31 to 35: Dogtag's
    lookup then finds 30 as the last serial number."""
    from conftest import Scenario
    scenario = Scenario(ds, directory, name)
    scenario.build(certs=range(1, 31), ca_requests=range(1, 31), kra=False)
    cadb.make_stale_vlv(ds, scenario.tree.vlv_index_names(['allCerts']),
                        scenario.tree.certs_(range(31, 36)))
    return scenario


@pytest.fixture(scope='module')
def stale(ds, tmp_path_factory):
    return stale_scenario(ds, tmp_path_factory.mktemp('e2e'), 'endtoendstale')


def test_dogtag_healthcheck_reports_the_fault_as_json(stale):
    done = dogtag_healthcheck(stale)
    assert done.returncode == 1, done.stderr
    results = json.loads(done.stdout)
    errors = [r for r in results if r['result'] == 'ERROR']
    assert {(r['source'], r['check'], r['kw']['key']) for r in errors} == {
        ('dogtag.ranges', 'LastNumberCheck', 'ca.certificates'),
        ('dogtag.ranges', 'VLVIndexCheck', 'allCerts-endtoendstale')}
    certs = [r for r in errors if r['check'] == 'LastNumberCheck'][0]
    assert certs['kw']['first_reused'] == '31'
    assert set(results[0]) == {'source', 'check', 'result', 'uuid', 'when',
                               'duration', 'kw'}


def test_ipa_healthcheck_discovers_the_plugin(stale):
    done = ipa_healthcheck(stale, '--list-sources')
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split()
    for name in ('dogtag.ranges', 'dogtag.replication', 'dogtag.accounts',
                 'LastNumberCheck', 'VLVIndexCheck', 'NextRangeCheck',
                 'AgreementCheck', 'TemporaryAdminCheck'):
        assert name in listed
    assert not any(n.startswith('ipahealthcheck_dogtag') for n in listed)

    done = ipa_healthcheck(stale, '--source', 'dogtag.ranges',
                           '--failures-only')
    assert done.returncode == 1, done.stderr
    results = json.loads(done.stdout)
    assert len(results) == 2
    assert all(r['result'] == 'ERROR' for r in results)

    done = ipa_healthcheck(stale, '--source', 'dogtag.ranges',
                           '--output-type', 'prometheus')
    assert done.returncode == 1
    assert 'ipa_healthcheck{result="ERROR"} 2' in done.stdout

    done = ipa_healthcheck(stale, '--source', 'dogtag', '--check',
                           'LastNumberCheck', '--output-type', 'human')
    assert done.returncode == 1
    assert 'ERROR: dogtag.ranges.LastNumberCheck.ca.certificates: ' \
        "Dogtag's lookup answers" in done.stdout
    assert 'Output raised' not in done.stderr


def test_excludes_and_healthy_exit_code(stale, ds):
    # [excludes] key= takes the findings away: exit code 0.
    stale.extra = {}
    stale.config()
    with open(stale.config_path, 'a') as f:
        f.write('[excludes]\nkey = ca.certificates\n'
                'key = allCerts-endtoendstale\n')
    done = run([os.path.join(BIN, 'dogtag-healthcheck'), '--config',
                stale.config_path], stale.instance_dir)
    assert done.returncode == 0, done.stdout
    assert all(r['result'] == 'SUCCESS' for r in json.loads(done.stdout))

    # [excludes] source= keeps a whole source from running.
    stale.config()
    with open(stale.config_path, 'a') as f:
        f.write('[excludes]\nsource = dogtag.ranges\n')
    done = run([os.path.join(BIN, 'dogtag-healthcheck'), '--config',
                stale.config_path], stale.instance_dir)
    sources = {r['source'] for r in json.loads(done.stdout)}
    assert sources == {'dogtag.replication', 'dogtag.accounts',
                       'dogtag.logs', 'dogtag.indices', 'dogtag.topology',
                       'dogtag.limits'}

    ds.reindex(vlv_indexes=stale.tree.vlv_index_names(['allCerts']))
    done = dogtag_healthcheck(stale, '--output-type', 'human', '--all')
    assert done.returncode == 0, done.stdout
    assert 'SUCCESS: dogtag.ranges.VLVIndexCheck.allCerts-endtoendstale' \
        in done.stdout


def test_commands_run_the_installed_package():
    """The console scripts used above are the wheel's, installed in .venv:
    they start this interpreter and import the package from its
    site-packages, not from src/ and not as an editable install."""
    import sysconfig
    from importlib.metadata import distribution
    site = os.path.realpath(sysconfig.get_paths()['purelib'])
    for command in ('dogtag-healthcheck', 'dogtag-clustercheck'):
        with open(os.path.join(BIN, command)) as f:
            assert f.readline().strip() == '#!' + sys.executable
    done = run([sys.executable, '-c', 'import ipahealthcheck_dogtag as p; '
                'print(p.__file__)'], BIN)
    where = os.path.realpath(done.stdout.strip())
    assert where == os.path.join(site, 'ipahealthcheck_dogtag',
                                 '__init__.py'), done.stderr
    direct_url = distribution('ipahealthcheck_dogtag').read_text(
        'direct_url.json') or '{}'
    assert not json.loads(direct_url).get('dir_info', {}).get('editable')


def test_pki_healthcheck_registry_is_declared():
    from importlib.metadata import entry_points
    names = {ep.value for group in ('ipahealthcheck.registry',
                                    'pkihealthcheck.registry',
                                    'dogtaghealthcheck.registry')
             for ep in entry_points().select(group=group)}
    assert names == {'ipahealthcheck_dogtag.checks.plugin:registry'}
