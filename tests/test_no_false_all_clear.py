"""No all-clear without looking.

A caller who may not look into the PKI instance directory (PKI makes it
mode 0770: dogtagpki/pki v11.5.4, base/server/python/pki/server/
__init__.py DEFAULT_DIR_MODE, PKIServer.makedirs) is told so, never "no
CA here"; a host without 389-DS still gets the checks that read only
files. The non-root caller is real: the installed command runs as
`nobody` (setpriv), against real directories of this run.
"""

import json
import os
import shutil
import subprocess
import tempfile
import textwrap
import time

import pytest
from ipahealthcheck.core.config import read_config

from ipahealthcheck_dogtag.checks import logs as logs_check  # noqa: F401
from conftest import by_key, run_checks
from sandbox import cadb
from test_server_behaviours import readable_install

# The installed command, with discovery's fixed places (/var/lib/pki,
# /etc/ipa, /etc/dirsrv) moved under this test's directory: this machine's
# own files must not answer for the host under test.
RUNNER = textwrap.dedent('''\
    import sys
    from ipahealthcheck_dogtag import discovery
    root = sys.argv.pop(1)
    discovery.PKI_INSTANCE_ROOT = root + '/pki'
    discovery.DEFAULT_INSTANCE_DIR = root + '/pki/pki-tomcat'
    discovery.IPA_DEFAULT_CONF = root + '/no-ipa-default.conf'
    discovery.DIRSRV_CONF_DIR = root + '/no-dirsrv'
    from ipahealthcheck_dogtag.commands.healthcheck import main
    main()
''')


class Host:
    """A directory any user may traverse, holding /var/lib/pki and the
    healthcheck config of a host, and the package where nobody reads it."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='allclear-')
        os.chmod(self.root, 0o755)
        self.site = readable_install(os.path.join(self.root, 'site'))
        self.instance_dir = os.path.join(self.root, 'pki', 'pki-tomcat')
        os.makedirs(os.path.join(self.root, 'pki'), 0o755)

    def config(self, ds, instance_dir=None):
        """Our keys, without dogtag_instance_dir unless given, and without
        dogtag_ldap_uri when `ds` is None."""
        path = os.path.join(self.root, 'healthcheck.conf')
        lines = ['[default]', 'dogtag_pki_version = 11.5.0']
        if ds is not None:
            lines.append('dogtag_ldap_uri = %s' % ds.socket_path)
        if instance_dir:
            lines.append('dogtag_instance_dir = %s' % instance_dir)
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        os.chmod(path, 0o644)
        return path

    def install_ca(self, tree):
        """conf/ca/CS.cfg, with the modes PKI gives (0770, 0660)."""
        path = tree.write_cs_cfg(self.instance_dir, 'ca')
        for directory in (self.instance_dir,
                          os.path.join(self.instance_dir, 'conf'),
                          os.path.dirname(path)):
            os.chmod(directory, 0o770)
        os.chmod(path, 0o660)

    def run(self, conf, user=None):
        argv = ['/usr/bin/python3', '-c', RUNNER, self.root, '--config',
                conf, '--output-type', 'json']
        if user:
            argv = ['setpriv', '--reuid', user, '--regid', 'nogroup',
                    '--clear-groups'] + argv
        done = subprocess.run(argv, cwd=self.root, text=True,
                              env=dict(os.environ, PYTHONPATH=self.site),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=120)
        assert 'Traceback' not in done.stderr, done.stderr
        assert done.stdout.strip(), done.stderr
        return done.returncode, json.loads(done.stdout)


@pytest.fixture
def host():
    made = Host()
    yield made
    shutil.rmtree(made.root, ignore_errors=True)


def text(result):
    return result['kw']['msg'].format(**result['kw'])


def assert_cannot_look(code, results, blocked):
    assert code == 1
    assert results
    for r in results:
        assert (r['result'], r['kw']['key']) == ('ERROR', 'ca.config'), r
        message = text(r)
        assert 'Nothing to check' not in message
        assert 'does not exist' not in message
        assert 'nobody (uid 65534)' in message, message
        assert 'Permission denied' in message
        assert r['kw']['blocked'] == blocked
        assert r['kw']['code'] == 'DTR0009'
        assert 'Run the healthcheck as root' in r['kw']['fix']


def test_a_caller_who_may_not_look_is_not_told_there_is_no_ca(
        scenario, host):
    """The issue's case: the default instance, mode 0770, a monitoring
    agent's own user. Before: every check SUCCESS "Nothing to check: no
    Dogtag CA is configured on this host", exit 0."""
    scenario.build(certs=range(1, 4), ca_requests=range(1, 4), kra=False,
                   vlv=())
    host.install_ca(scenario.tree)
    conf = host.config(scenario.ds)
    code, results = host.run(conf, user='nobody')
    assert_cannot_look(code, results, host.instance_dir)

    # root looks and gets the checks' own results.
    code, results = host.run(conf)
    keys = {(r['check'], r['kw']['key']) for r in results}
    assert not [r for r in results if r['kw']['key'] in ('ca', 'ca.config')]
    assert ('RangeConfigCheck', 'ca.certificates') in keys
    assert ('LogCheck', 'ca.debug') in keys


def test_a_configured_instance_the_caller_may_not_enter(scenario, host):
    """dogtag_instance_dir set: the error said the directory "does not
    exist"; it does, the caller may not look."""
    host.install_ca(cadb.CATree('o=unused,%s' % cadb.SUFFIX, 'unused'))
    code, results = host.run(host.config(scenario.ds, host.instance_dir),
                             user='nobody')
    assert_cannot_look(code, results, host.instance_dir)


def test_no_instance_at_all_is_still_nothing_to_check(scenario, host):
    """What the caller can see is not there: the quiet answer stays, for
    root and for any other user."""
    conf = host.config(scenario.ds)
    for user in (None, 'nobody'):
        code, results = host.run(conf, user=user)
        assert code == 0, results
        assert results
        assert {(r['result'], r['kw']['key']) for r in results} == {
            ('SUCCESS', 'ca')}
        assert 'Nothing to check: no Dogtag CA' in text(results[0])


def test_logs_need_no_directory_server(tmp_path):
    """dogtag.logs reads files only: with no 389-DS instance to be found
    (no dogtag_ldap_uri, no IPA, nothing under /etc/dirsrv), it still
    reads the logs; the checks that read the directory say what is
    missing. Before: LogCheck too gave the `ldap` ERROR."""
    instance = tmp_path / 'pki-tomcat'
    (instance / 'conf' / 'ca').mkdir(parents=True)
    (instance / 'conf' / 'ca' / 'CS.cfg').write_text(
        'internaldb.basedn=o=ipaca\n')
    (instance / 'logs' / 'ca').mkdir(parents=True)
    conf = tmp_path / 'hc.conf'
    conf.write_text('[default]\ndogtag_instance_dir = %s\n' % instance)
    results = run_checks(read_config(str(conf)))
    logs = by_key(results, 'LogCheck')
    assert {k: r['result'] for k, r in logs.items()} == {
        'ca.debug': 'SUCCESS'}
    others = [r for r in results if r['check'] != 'LogCheck']
    assert others
    for r in others:
        assert (r['result'], r['kw']['key']) == ('ERROR', 'ldap'), r
        assert r['kw']['code'] == 'DTR0015', r
        assert 'dogtag_ldap_uri' in r['kw']['fix']


def test_debug_logs_the_caller_may_not_list(scenario, host):
    """The configuration is readable, the log directory (0770 as PKI
    makes it) is not: the log check says so instead of "No ca debug log
    ...: nothing to read" (a SUCCESS before)."""
    host.install_ca(scenario.tree)
    for directory in (host.instance_dir,
                      os.path.join(host.instance_dir, 'conf')):
        os.chmod(directory, 0o755)
    ca_conf = os.path.join(host.instance_dir, 'conf', 'ca')
    os.chmod(ca_conf, 0o755)
    os.chmod(os.path.join(ca_conf, 'CS.cfg'), 0o644)
    log_dir = os.path.join(host.instance_dir, 'logs', 'ca')
    os.makedirs(log_dir, 0o770)
    os.chmod(os.path.join(host.instance_dir, 'logs'), 0o755)
    code, results = host.run(host.config(scenario.ds, host.instance_dir),
                             user='nobody')
    logs = [r for r in results if r['check'] == 'LogCheck']
    assert [(r['result'], r['kw']['key']) for r in logs] == [
        ('ERROR', 'ca.debug')]
    message = text(logs[0])
    assert message.startswith('Cannot read %s: Permission denied for '
                              'nobody (uid 65534)' % log_dir), message
    assert 'Run the healthcheck as root' in logs[0]['kw']['fix']
    assert code == 1


def test_a_debug_log_the_caller_may_not_read(scenario, host):
    """The log directory can be listed, but one day's debug log is 0660
    for the PKI user: it holds an "already exists" record the caller
    cannot see. Before, the file was skipped and the check said SUCCESS
    ("No "already exists" error ..."); now it is an ERROR naming the file
    and the caller, whatever the readable files say."""
    host.install_ca(scenario.tree)
    for directory in (host.instance_dir,
                      os.path.join(host.instance_dir, 'conf'),
                      os.path.join(host.instance_dir, 'conf', 'ca')):
        os.chmod(directory, 0o755)
    os.chmod(os.path.join(host.instance_dir, 'conf', 'ca', 'CS.cfg'), 0o644)
    log_dir = os.path.join(host.instance_dir, 'logs', 'ca')
    os.makedirs(log_dir)
    os.chmod(os.path.join(host.instance_dir, 'logs'), 0o755)
    os.chmod(log_dir, 0o755)
    hidden = os.path.join(log_dir, 'debug.%s.log'
                          % time.strftime('%Y-%m-%d'))
    with open(hidden, 'w') as f:
        f.write('%s [main] SEVERE: Unable to add LDAP entry: Already '
                'exists\n' % time.strftime('%Y-%m-%d %H:%M:%S,000'))
    os.chmod(hidden, 0o600)
    seen = subprocess.run(['setpriv', '--reuid', 'nobody', '--regid',
                           'nogroup', '--clear-groups', 'cat', hidden],
                          capture_output=True, text=True)
    assert 'Permission denied' in seen.stderr       # planted: nobody cannot
    code, results = host.run(host.config(scenario.ds, host.instance_dir),
                             user='nobody')
    logs = [r for r in results if r['check'] == 'LogCheck']
    assert [(r['result'], r['kw']['key']) for r in logs] == [
        ('ERROR', 'ca.debug')], logs
    kw = logs[0]['kw']
    assert kw['unreadable_files'] == [hidden]
    assert kw['user'] == 'nobody (uid 65534)'
    assert text(logs[0]).startswith('Cannot read 1 of the ca debug logs as '
                                    'nobody (uid 65534)'), text(logs[0])
    assert code == 1


def test_a_dirsrv_configuration_the_caller_may_not_read(scenario, host):
    """No dogtag_ldap_uri and no IPA: the only 389-DS instance's dse.ldif
    names the socket, and its directory is mode 0770 (as 389-DS makes
    /etc/dirsrv/slapd-<id>). Before: "found 0" instances; now the checks
    that read the directory say who may not read it; dogtag.logs, which
    reads files only, still runs."""
    host.install_ca(scenario.tree)
    for path, dirs, files in os.walk(host.instance_dir):
        os.chmod(path, 0o755)
        for name in files:
            os.chmod(os.path.join(path, name), 0o644)
    instance = os.path.join(host.root, 'no-dirsrv', 'slapd-EXAMPLE')
    os.makedirs(instance)
    os.chmod(os.path.dirname(instance), 0o755)
    with open(os.path.join(instance, 'dse.ldif'), 'w') as f:
        f.write('dn: cn=config\nnsslapd-ldapifilepath: %s\n'
                % scenario.ds.socket_path)
    os.chmod(instance, 0o770)
    code, results = host.run(host.config(None, host.instance_dir),
                             user='nobody')
    assert code == 1
    for r in results:
        if r['check'] == 'LogCheck':
            assert (r['result'], r['kw']['key']) == ('SUCCESS', 'ca.debug')
            continue
        assert (r['result'], r['kw']['key']) == ('ERROR', 'ldap'), r
        assert r['kw']['blocked'] == instance
        assert 'for nobody (uid 65534)' in text(r)
        assert 'LDAPI socket' in r['kw']['needed']
    assert {r['check'] for r in results} > {'LogCheck'}
