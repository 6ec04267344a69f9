"""Our registry as pki-healthcheck runs it, on a standalone Dogtag.

pki-healthcheck cannot be installed here, so its main() is reproduced from
its source (dogtagpki/pki v11.5.4, base/server/healthcheck/pki/server/
healthcheck/core/main.py): `PKIChecks(RunChecks)` with `pre_check` doing
nothing and its own options, run as `PKIChecks(['pkihealthcheck.registry'],
'/etc/pki/healthcheck.conf').run_healthcheck()`. Its registries call
`merge_dogtag_config(config)` in `initialize` (meta/plugin.py), which puts
`instance_name` from the file's [dogtag] section (default pki-tomcat) into
the shared config; those registries are not installed here, so the
reproduction does that merge itself, before any registry is initialized,
from the same file. /var/lib/pki is the sandbox's directory.
"""

import json
import os
import subprocess
import sys

PKI_HEALTHCHECK = r'''
import sys
from configparser import ConfigParser

from ipahealthcheck.core import constants
from ipahealthcheck.core.core import RunChecks

from ipahealthcheck_dogtag import discovery

root, config_file = sys.argv[1:3]
discovery.PKI_INSTANCE_ROOT = root


def merge_dogtag_config(config):
    parser = ConfigParser()
    parser.read(config_file)
    config.merge({'instance_name': 'pki-tomcat'})
    if parser.has_section('dogtag'):
        for key, value in parser.items('dogtag'):
            config[key] = value


class PKIChecks(RunChecks):
    def pre_check(self):
        merge_dogtag_config(self.options)   # stands in for pki's registries

    def add_options(self):
        self.parser.add_argument('--input-file', dest='infile')
        self.parser.add_argument('--failures-only', dest='failures_only',
                                 action='store_true', default=False)
        self.parser.add_argument('--all', dest='all', action='store_true',
                                 default=False)
        self.parser.add_argument('--severity', dest='severity',
                                 action='append',
                                 choices=list(constants._nameToLevel))


sys.argv = ['pki-healthcheck'] + sys.argv[3:]
sys.exit(PKIChecks(['pkihealthcheck.registry'],
                   config_file).run_healthcheck())
'''


def pki_healthcheck(root, config_file, *args):
    return subprocess.run(
        [sys.executable, '-c', PKI_HEALTHCHECK, str(root), str(config_file)]
        + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, timeout=300)


def write_conf(path, scenario, instance_name):
    path.write_text(
        '[default]\n'
        'dogtag_ldap_uri = %s\n'
        'dogtag_pki_version = 11.5.0\n'
        '[dogtag]\n'
        'instance_name = %s\n' % (scenario.ds.socket_path, instance_name))


def test_pki_healthcheck_finds_the_instance_by_its_name(scenario, tmp_path):
    scenario.build(certs=range(1, 5), ca_requests=range(1, 3), kra=False)
    root = os.path.dirname(scenario.instance_dir)
    conf = tmp_path / 'healthcheck.conf'
    write_conf(conf, scenario, scenario.name)

    done = pki_healthcheck(root, conf, '--list-sources')
    assert done.returncode == 0, done.stderr
    assert 'dogtag.ranges' in done.stdout.split()

    done = pki_healthcheck(root, conf, '--source', 'dogtag.ranges',
                           '--check', 'LastNumberCheck')
    assert done.returncode == 0, done.stderr + done.stdout
    results = {r['kw']['key']: r for r in json.loads(done.stdout)}
    certs = results['ca.certificates']
    assert certs['result'] == 'SUCCESS'
    assert certs['kw']['cs_cfg'] == os.path.join(
        root, scenario.name, 'conf', 'ca', 'CS.cfg')
    assert certs['kw']['real_last'] == '4'
    # The [default] keys of that file are ours too.
    assert certs['kw']['pki_version'] == '11.5.0'


def test_pki_healthcheck_names_an_instance_that_is_not_there(
        scenario, tmp_path):
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3), kra=False)
    conf = tmp_path / 'healthcheck.conf'
    write_conf(conf, scenario, 'pki-nothere')
    done = pki_healthcheck(os.path.dirname(scenario.instance_dir), conf,
                           '--source', 'dogtag.ranges', '--check',
                           'LastNumberCheck')
    assert done.returncode == 1, done.stderr
    [result] = json.loads(done.stdout)
    assert (result['result'], result['kw']['key']) == ('ERROR', 'ca.config')
    assert result['kw']['code'] == 'DTR0017'
    assert result['kw']['setting'] == 'instance_name'
    assert result['kw']['instance_dir'].endswith('/pki-nothere')
