"""The exit status of the installed dogtag-healthcheck, as its man page
states it (EXIT STATUS): the core's engine, whose behaviour we do not
change.

ipahealthcheck core 0.11 to 0.19, core/core.py RunChecks.run_healthcheck:
the status is 1 when any result (after exclude_keys) is not SUCCESS,
computed from all results, while --severity and --failures-only only filter
what Output.strip_output (core/output.py) writes. core/config.py
read_config: a configuration file that does not exist is logged ("config
file %s does not exist, using defaults") and the defaults are returned;
only a file that exists but does not parse, lacks [default] or has a bad
value gives None, hence status 1."""

import json
import os
import subprocess
import sys

HEALTHCHECK = os.path.join(os.path.dirname(sys.executable),
                           'dogtag-healthcheck')


def run(tmp_path, *args):
    return subprocess.run([HEALTHCHECK] + list(args), cwd=str(tmp_path),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=300)


def test_severity_hides_errors_but_not_from_the_status(tmp_path):
    """Man page: "--severity WARNING on a host with only ERROR findings
    prints [] and exits 1"."""
    instance = tmp_path / 'pki-tomcat'
    (instance / 'conf' / 'ca').mkdir(parents=True)
    (instance / 'conf' / 'ca' / 'CS.cfg').write_text('')
    conf = tmp_path / 'healthcheck.conf'
    conf.write_text('[default]\ndogtag_instance_dir = %s\n'
                    'dogtag_ldap_uri = %s\n' % (instance, tmp_path / 'none'))
    every = run(tmp_path, '--config', str(conf))
    found = {r['result'] for r in json.loads(every.stdout)}
    assert 'ERROR' in found and 'WARNING' not in found, every.stdout
    assert every.returncode == 1
    done = run(tmp_path, '--config', str(conf), '--severity', 'WARNING')
    assert (done.stdout, done.returncode) == ('[]\n', 1), done.stderr


def test_a_missing_config_file_is_no_error(tmp_path):
    """Man page: a configuration file that does not exist is no error; the
    engine warns, runs with the defaults, and the status is that of the
    results (0 on a host without a Dogtag CA)."""
    missing = str(tmp_path / 'nowhere.conf')
    done = run(tmp_path, '--config', missing)
    assert 'config file %s does not exist, using defaults' % missing \
        in done.stderr
    results = json.loads(done.stdout)
    assert results
    assert done.returncode == int(any(r['result'] != 'SUCCESS'
                                      for r in results))
    if not os.path.exists('/var/lib/pki/pki-tomcat/conf/ca'):
        assert done.returncode == 0
