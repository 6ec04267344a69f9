"""Every way the local 389-DS can misbehave, through the installed command.

Each case runs `dogtag-healthcheck --config CONF --output-type json` (every
source) against a server that is down, silent, frozen, killed or restarted
in the middle of a scan, or reached by a caller it does not map to
Directory Manager, and asserts what a user must be able to rely on: no
CRITICAL, nothing killed by ipa-healthcheck's alarm ("Request timed out",
a result without key), a run that ends within the bound the README gives
for `timeout`, the expected key and severity, and no secret in the output.

The faults are real: the server is stopped, SIGSTOPped or SIGKILLed, the
silent peer is a socket that accepts and never answers. Only the moment of
a mid-scan fault is chosen from inside the command (a site hook that runs
when the scan has received its first entry), because nothing outside can
see that moment.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from sandbox import cadb
from sandbox.ds import DirectoryServer

BIN = os.path.dirname(sys.executable)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = 'not-for-output-%d' % os.getpid()
CERTS = 30000           # a scan of them outgrows the socket buffers

# ipahealthcheck_dogtag/checks/plugin.py: a check's reads all return by
# LIMIT_SHARE x timeout; a bind gets at most CONNECT_LIMIT seconds.
LIMIT_SHARE = 0.85
CONNECT_LIMIT = 5.0
STARTUP = 4.0           # interpreter, ipahealthcheck and discovery, loaded


def worst_case(timeout):
    """The README's bound for a server that stops answering: one check's
    reads cut at their limit, then one bind that times out (remembered)."""
    if timeout <= 0:
        return CONNECT_LIMIT + STARTUP
    limit = LIMIT_SHARE * timeout
    return limit + min(CONNECT_LIMIT, limit) + STARTUP


# Runs in the command's own process (a sitecustomize on PYTHONPATH): once,
# when a scan has received its first entry, it executes DOGTAG_TEST_ON_SCAN
# with the Directory, the scan's deadline and the sandbox root at hand.
HOOK = '''
import os
code = os.environ.get('DOGTAG_TEST_ON_SCAN')
if code:
    from ipahealthcheck_dogtag import directory as _directory
    _original = _directory.Directory.stream
    _fired = []

    def _stream(self, base, filterstr, attrs, deadline=None, **kw):
        for n, item in enumerate(_original(self, base, filterstr, attrs,
                                           deadline, **kw)):
            yield item
            if n == 0 and not _fired:
                _fired.append(base)
                exec(code, {'directory': self, 'deadline': deadline,
                            'sandbox_root': %r})
    _directory.Directory.stream = _stream
''' % ROOT

KILL = '''
import os, signal, time
os.kill(%(pid)d, signal.SIGKILL)
while os.path.exists('/proc/%(pid)d') and \\
        open('/proc/%(pid)d/stat').read().split()[2] != 'Z':
    time.sleep(0.01)
'''
# Killed as above, and started again in the background once the process
# is reaped (389-DS refuses to start while its old pid exists).
RESTART = KILL + '''
import subprocess, sys
subprocess.Popen([sys.executable, '-c', %(restart)r], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
'''
RESTARTER = '''
import os, sys, time
sys.path.insert(0, %(root)r)
from sandbox.ds import DirectoryServer
while os.path.exists('/proc/%(pid)d'):
    time.sleep(0.05)
DirectoryServer(name=%(name)r, root=%(ds_root)r).start()
'''
# A slow server, seen from the client: the scan's next entry comes after
# its deadline.
LATE = '''
import time
time.sleep(max(0.0, deadline - time.monotonic()) + 0.1)
'''

# Slower still: the next entry comes after the check's time limit for all
# reads (0.85 x timeout), still before ipa-healthcheck's alarm.
PAST_LIMIT = '''
import time
time.sleep(max(0.0, directory.deadline - time.monotonic()) + 0.05)
'''


class Silent:
    """A socket that accepts every connection and never says a word."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(64)
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        for conn in self.held:
            conn.close()
        self.sock.close()


class Sandbox:
    """A dedicated 389-DS (these cases stop, freeze and kill it) with one
    CA database, its files readable by any user, and a site hook."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='behaviours-')
        os.chmod(self.dir, 0o755)
        self.ds = DirectoryServer(name='behaviours').create()
        cadb.prepare_backend(self.ds)
        self.tree = cadb.CATree('o=behaviours,%s' % cadb.SUFFIX,
                                'behaviours')
        # Online adds, then the index task, as on every scenario: the
        # offline import (ns-slapd ldif2db) crashed on 389-DS 3.1.2 (LMDB,
        # Debian 13), and LMDB wants a VLV index rebuilt once defined.
        conn = self.ds.connect()
        try:
            self.tree.create(conn, kra=False)
            cadb.add_entries(conn, (self.tree.cert(n)
                                    for n in range(1, CERTS + 1)))
            cadb.add_entries(conn, self.tree.requests_(range(1, 11)))
            self.tree.add_vlv(conn, ('allCerts', 'caAll'))
        finally:
            conn.unbind_s()
        self.ds.reindex(vlv_indexes=self.tree.vlv_index_names(
            ('allCerts', 'caAll')))
        self.instance_dir = os.path.join(self.dir, 'behaviours')
        self.tree.write_cs_cfg(self.instance_dir, 'ca',
                               internaldb__ldapauth__password=SECRET)
        with open(os.path.join(self.instance_dir, 'conf',
                               'password.conf'), 'w') as f:
            f.write('internaldb=%s\nreplicationdb=%s\n' % (SECRET, SECRET))
        for path, _, files in os.walk(self.instance_dir):
            os.chmod(path, 0o755)
            for name in files:
                os.chmod(os.path.join(path, name), 0o644)
        self.hook_dir = os.path.join(self.dir, 'hook')
        os.mkdir(self.hook_dir, 0o755)
        with open(os.path.join(self.hook_dir, 'sitecustomize.py'), 'w') as f:
            f.write(HOOK)

    def config(self, timeout, uri=None, extra=''):
        path = os.path.join(self.dir, 'healthcheck-%s.conf' % timeout)
        cadb.write_healthcheck_conf(path, self.instance_dir, self.ds,
                                    timeout=timeout)
        text = open(path).read()
        if uri:
            text = text.replace(self.ds.socket_path, uri)
        with open(path, 'w') as f:
            f.write(text + extra)
        os.chmod(path, 0o644)
        return path

    def run(self, conf, on_scan=None, user=None, output='json'):
        env = dict(os.environ, PYTHONPATH=self.hook_dir)
        if on_scan:
            env['DOGTAG_TEST_ON_SCAN'] = on_scan
        argv = [os.path.join(BIN, 'dogtag-healthcheck'), '--config', conf,
                '--output-type', output]
        if user:
            # The installed package, where another user can read it: on a
            # fresh machine the checkout (and .venv) may live in /root.
            env['PYTHONPATH'] += os.pathsep + self.readable_install()
            argv = ['setpriv', '--reuid', user, '--regid', 'nogroup',
                    '--clear-groups', '/usr/bin/python3', '-m',
                    'ipahealthcheck_dogtag.commands.healthcheck'] + argv[1:]
        started = time.monotonic()
        done = subprocess.run(argv, cwd=self.dir, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=120)
        return done, time.monotonic() - started

    def readable_install(self):
        return readable_install(os.path.join(self.dir, 'site'))

    def wait_until_answering(self, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.ds.connect().unbind_s()
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError('the sandbox server did not come back')

    def ensure_running(self):
        pid = self.ds.pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass
            # A killed server stays a zombie until reaped, and 389-DS
            # refuses to start while its old pid exists.
            deadline = time.monotonic() + 30
            while _zombie(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        if not self.ds.running():
            self.ds.start()

    def destroy(self):
        self.ds.destroy()
        shutil.rmtree(self.dir, ignore_errors=True)


def readable_install(target):
    """A copy of the installed package and its metadata (entry points
    included) in a directory any user can read."""
    if not os.path.isdir(target):
        import ipahealthcheck_dogtag
        site = os.path.dirname(os.path.dirname(
            ipahealthcheck_dogtag.__file__))
        os.mkdir(target, 0o755)
        for name in os.listdir(site):
            if name.startswith('ipahealthcheck_dogtag'):
                shutil.copytree(os.path.join(site, name),
                                os.path.join(target, name))
        for path, dirs, files in os.walk(target):
            os.chmod(path, 0o755)
            for name in files:
                os.chmod(os.path.join(path, name), 0o644)
    return target


def _zombie(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split()[2] == 'Z'
    except OSError:
        return False


@pytest.fixture(scope='module')
def sandbox():
    box = Sandbox()
    yield box
    box.destroy()


@pytest.fixture
def box(sandbox):
    sandbox.ensure_running()
    yield sandbox
    sandbox.ensure_running()


# -- the server's behaviours ------------------------------------------------

def down(box, timeout):
    box.ds.stop()
    try:
        return box.run(box.config(timeout))
    finally:
        box.ds.start()


def silent(box, timeout):
    path = os.path.join(box.dir, 'silent.socket')
    peer = Silent(path)
    try:
        return box.run(box.config(timeout, uri=path))
    finally:
        peer.close()
        os.unlink(path)


def frozen(box, timeout):
    pid = box.ds.pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        return box.run(box.config(timeout))
    finally:
        os.kill(pid, signal.SIGCONT)


def killed_mid_scan(box, timeout):
    return box.run(box.config(timeout), on_scan=KILL % {'pid': box.ds.pid()})


def restarted_mid_scan(box, timeout):
    pid = box.ds.pid()
    restart = RESTARTER % {'root': ROOT, 'pid': pid, 'name': box.ds.name,
                           'ds_root': box.ds.root}
    outcome = box.run(box.config(timeout), on_scan=RESTART % {
        'pid': pid, 'restart': restart})
    box.wait_until_answering()
    return outcome


def non_root_caller(box, timeout):
    """The socket is reachable; 389-DS maps only root to Directory Manager,
    and refuses EXTERNAL to other callers (it asks for TLS)."""
    opened = [box.ds.root, os.path.dirname(box.ds.socket_path)]
    modes = [os.stat(p).st_mode for p in opened]
    for path in opened:
        os.chmod(path, os.stat(path).st_mode | 0o005)
    try:
        return box.run(box.config(timeout), user='nobody')
    finally:
        for path, mode in zip(opened, modes):
            os.chmod(path, mode)


def mapped_non_root_caller(box, timeout):
    """With nsslapd-ldapimaptoentries (389-DS cn=config, 2.3) the caller's
    uid maps to an entry of its own: the bind works, but that identity sees
    no cn=config, and the checks would read an empty picture."""
    import ldap
    people = 'ou=people,%s' % box.tree.base
    dn = 'uid=nobody,%s' % people
    conn = box.ds.connect()
    try:
        conn.add_s(dn, [
            ('objectClass', [b'top', b'account', b'posixAccount']),
            ('uid', [b'nobody']), ('cn', [b'nobody']),
            ('uidNumber', [b'65534']), ('gidNumber', [b'65534']),
            ('homeDirectory', [b'/nonexistent'])])
        conn.modify_s('cn=config', [
            (ldap.MOD_REPLACE, 'nsslapd-ldapimaptoentries', b'on'),
            (ldap.MOD_REPLACE, 'nsslapd-ldapientrysearchbase',
             people.encode())])
        return non_root_caller(box, timeout)
    finally:
        conn.modify_s('cn=config', [
            (ldap.MOD_REPLACE, 'nsslapd-ldapimaptoentries', b'off')])
        conn.delete_s(dn)
        conn.unbind_s()


ALL_LDAP = 'every check'

# (behaviour, timeout, failure, what each check reports)
CASES = [
    (down, 2, 'unreachable', ALL_LDAP),
    (silent, 2, 'silent', ALL_LDAP),
    (silent, 0, 'silent', ALL_LDAP),
    (frozen, 2, 'silent', ALL_LDAP),
    (killed_mid_scan, 3, 'unreachable', 'from LastNumberCheck on'),
    (restarted_mid_scan, 3, 'unreachable', 'from LastNumberCheck on'),
    (non_root_caller, 2, 'refused', ALL_LDAP),
    (mapped_non_root_caller, 2, 'refused', ALL_LDAP),
]


def _results(done):
    """The results of the sources that read the directory: dogtag.logs
    reads only this host's debug logs, whatever the server does."""
    assert done.stdout.strip(), done.stderr
    results = json.loads(done.stdout)
    assert all(r['result'] == 'SUCCESS' for r in results
               if r['source'] == 'dogtag.logs'), results
    return [r for r in results if r['source'] != 'dogtag.logs']


def assert_contract(done, elapsed, timeout):
    """What holds for every behaviour."""
    results = _results(done)
    assert 'Traceback' not in done.stderr, done.stderr
    for r in results:
        assert r['result'] != 'CRITICAL', r
        assert 'key' in r['kw'], r             # the alarm's results have none
        assert 'Request timed out' not in json.dumps(r), r
    assert SECRET not in done.stdout + done.stderr
    assert elapsed < worst_case(timeout), (elapsed, worst_case(timeout))
    return results


@pytest.mark.parametrize(
    'behaviour,timeout,failure,reach', CASES,
    ids=['%s-timeout%d' % (c[0].__name__, c[1]) for c in CASES])
def test_server_behaviour(box, behaviour, timeout, failure, reach):
    done, elapsed = behaviour(box, timeout)
    results = assert_contract(done, elapsed, timeout)
    assert done.returncode == 1
    ldap_results = [r for r in results if r['kw']['key'] == 'ldap']
    checks = [r['check'] for r in results]
    order = list(dict.fromkeys(checks))
    if reach == ALL_LDAP:
        # One result per check: the first check's full ERROR, then each
        # later check's brief WARNING that it did not look, naming it.
        assert [r['check'] for r in ldap_results] == order
        assert len(results) == len(order)
        first, rest = ldap_results[0], ldap_results[1:]
        assert rest
        told = '%s.%s' % (first['source'], first['check'])
        assert all(r['result'] == 'WARNING' and 'error' not in r['kw'] and
                   r['kw']['failure'] == failure and
                   r['kw']['reported_by'] == told for r in rest), rest
    else:
        failed = order[order.index('LastNumberCheck'):]
        assert [r['check'] for r in ldap_results] == failed
        assert all(r['result'] == 'SUCCESS' for r in results
                   if r['check'] not in failed)
    if behaviour is restarted_mid_scan:
        # Back after the restart: nothing was lost or written, and the
        # next run reads as before.
        again, _ = box.run(box.config(10))
        assert not [r for r in _results(again)
                    if r['kw']['key'] == 'ldap' or
                    r['result'] in ('ERROR', 'CRITICAL')], again.stdout
    # A server that is down, silent or refuses us is never an index fault
    # nor a permission problem of cn=config.
    assert not [r for r in results if r['check'] == 'VLVIndexCheck' and
                r['kw']['key'] != 'ldap' and r['result'] != 'SUCCESS']
    first = ldap_results[0]
    assert first['result'] == 'ERROR'
    assert first['kw']['failure'] == failure, first
    assert first['kw']['uri'].startswith('ldapi://')
    text = first['kw']['msg'].format(**first['kw'])
    assert first['kw']['uri'] in text
    assert first['kw']['code'] == 'DTR0005'
    if failure == 'refused':
        assert 'Run the check as root' in first['kw']['fix']
    if behaviour is mapped_non_root_caller:
        assert first['kw']['error'] == 'bound as dn: uid=nobody,ou=people,' \
            '%s, which cannot read cn=config' % box.tree.base


def test_silent_socket_at_the_default_timeout(box):
    """The issue's measurement: 12 x 10 s before, one bind limit now."""
    done, elapsed = silent(box, 10)
    assert_contract(done, elapsed, 10)
    assert elapsed < 15


def test_human_output_of_a_silent_server(box):
    """The message as ipa-healthcheck prints it: one line per check, the
    advice in it, no secret from CS.cfg or password.conf."""
    path = os.path.join(box.dir, 'silent.socket')
    peer = Silent(path)
    try:
        done, elapsed = box.run(box.config(1, uri=path), output='human')
    finally:
        peer.close()
        os.unlink(path)
    assert elapsed < worst_case(1)
    # dogtag.logs reads files only: its SUCCESS line is not about the server.
    lines = [line for line in done.stdout.splitlines()
             if not line.startswith('SUCCESS: dogtag.logs.')]
    assert len(lines) > 1, done.stderr
    assert lines[0].startswith('ERROR: dogtag.') and '.ldap: Cannot read ' \
        'the CA database at ldapi://' in lines[0]
    told = lines[0].split()[1][:-len('.ldap:')]
    assert all(line.startswith('WARNING: dogtag.') and '.ldap: Not checked: '
               'the CA database at ldapi://' in line and
               line.endswith('(silent); see %s.' % told)
               for line in lines[1:]), lines
    assert SECRET not in done.stdout + done.stderr
    assert 'Traceback' not in done.stderr


def test_excludes_key_ldap_silences_a_stopped_server(box):
    box.ds.stop()
    try:
        done, elapsed = box.run(box.config(2, extra='[excludes]\n'
                                           'key = ldap\n'))
    finally:
        box.ds.start()
    assert _results(done) == []
    assert done.returncode == 0, done.stdout


def _full_ldap_errors(results):
    return [r for r in results if r['kw']['key'] == 'ldap' and
            r['result'] == 'ERROR' and r['kw'].get('code') == 'DTR0005' and
            {'uri', 'what', 'error', 'failure', 'advice', 'fix'} <=
            set(r['kw'])]


def _directory_checks(box, conf):
    """(source, check) of every check that reads the directory, as
    --list-sources prints them."""
    done = subprocess.run([os.path.join(BIN, 'dogtag-healthcheck'),
                           '--config', conf, '--list-sources'],
                          stdout=subprocess.PIPE, text=True, check=True)
    checks, source = set(), None
    for line in done.stdout.splitlines():
        if not line.startswith(' '):
            source = line.strip()
        elif source != 'dogtag.logs':
            checks.add((source, line.strip()))
    assert len(checks) > 5, done.stdout
    return checks


def assert_one_voice(box, conf, done):
    """A stopped server: one full `ldap` ERROR; every other directory check
    still has a result, a brief WARNING that it did not look; none says
    SUCCESS; the run fails."""
    assert 'Traceback' not in done.stderr, done.stderr
    results = _results(done)
    [full] = _full_ldap_errors(results)
    assert full['kw']['failure'] == 'unreachable'
    assert 'Start it' in full['kw']['advice']
    told = '%s.%s' % (full['source'], full['check'])
    assert {(r['source'], r['check']) for r in results} == \
        _directory_checks(box, conf)
    rest = [r for r in results if r is not full]
    assert len(rest) == len(results) - 1 > 0
    for r in rest:
        assert (r['result'], r['kw']['key']) == ('WARNING', 'ldap'), r
        assert r['kw']['code'] == 'DTR0007', r
        assert r['kw']['msg'].format(**r['kw']) == (
            'Not checked: the CA database at %s cannot be read '
            '(unreachable); see %s.' % (full['kw']['uri'], told)), r
    assert not [r for r in results if r['result'] == 'SUCCESS']
    assert done.returncode == 1


def test_a_stopped_server_is_told_once_by_dogtag_healthcheck(box):
    """Before, each of the directory checks gave the same full ERROR."""
    conf = box.config(2)
    box.ds.stop()
    try:
        done, _ = box.run(conf)
    finally:
        box.ds.start()
    assert_one_voice(box, conf, done)


def test_a_stopped_server_is_told_once_by_pki_healthcheck(box):
    """The same run through pki-healthcheck's main (reproduced in
    test_pki_healthcheck.py), which has no service checks either."""
    from test_pki_healthcheck import pki_healthcheck
    conf = box.config(2, extra='[dogtag]\ninstance_name = behaviours\n')
    box.ds.stop()
    try:
        done = pki_healthcheck(box.dir, conf)
    finally:
        box.ds.start()
    assert_one_voice(box, conf, done)


# -- a scan cut short by the time budget ------------------------------------

def test_a_scan_cut_short_leaves_the_directory_usable(box):
    """The scan of certificates gets its next entry only after its deadline
    (`timeout` 10, the default: scans stop at 7 s): it must be abandoned on
    the server, no other scan may start after the deadline, and every later
    read of the run must work, so the other checks say what they can prove:
    here that the equality-index probe finds no record above Dogtag's
    answer. The default leaves the reads after the deadline 1.5 s, which a
    busy machine needs (at `timeout` 3 they once ran out of time there)."""
    log_start = len(box.ds.access_log())
    done, elapsed = box.run(box.config(10), on_scan=LATE)
    results = assert_contract(done, elapsed, 10)
    last = {r['kw']['key']: r for r in results
            if r['check'] == 'LastNumberCheck'}
    for key in ('ca.certificates', 'ca.requests'):
        assert key in last, results
        assert last[key]['result'] == 'SUCCESS', last[key]
        assert last[key]['kw']['scan_complete'] is False
        assert last[key]['kw']['proof'] == 'equality index probe'
    # ca.requests: looked up, but its scan would start after the deadline.
    assert last['ca.requests']['kw']['records_scanned'] == 0
    vlv = {r['kw']['key']: r for r in results if r['check'] == 'VLVIndexCheck'}
    assert {r['result'] for r in vlv.values()} == {'SUCCESS'}
    assert vlv['allCerts-behaviours']['kw']['proof'] == \
        'equality index probe'
    assert not [r for r in results if r['kw']['key'] == 'ldap']

    log = box.ds.access_log()[log_start:]
    scans = [line for line in log.splitlines()
             if 'SRCH base="%s"' % box.tree.certs in line and
             'scope=1 filter="(objectClass=*)"' in line]
    assert len(scans) == 1, scans
    conn, op = scans[0].split()[2:4]            # conn=N op=M
    # Ended on the server: abandoned by us, or, on a loaded machine, by the
    # server-side time limit we send with it (err=3), whichever came first.
    assert any(('%s op=' % conn in line and 'ABANDON targetop=%s' %
                op.split('=')[1] in line) or
               ('%s %s RESULT err=3 ' % (conn, op)) in line
               for line in log.splitlines()), \
        '\n'.join(line for line in log.splitlines() if conn + ' ' in line)
    # Drained, not cut off: the server was not left writing to nobody.
    assert 'failed to flush' not in log
    assert not [line for line in log.splitlines()
                if 'SRCH base="%s"' % box.tree.ca_requests in line and
                'scope=1 filter="(objectClass=*)"' in line]


def test_a_check_out_of_time_warns_and_the_next_check_reads(box):
    """LastNumberCheck has used up its time limit when the scan is cut: it
    says so (a WARNING: only the budget is at fault; Dogtag's lookup after
    the scan, which its verdict needs, finds no time left), within the
    alarm, and VLVIndexCheck, with its own limit, reads on a new
    connection."""
    done, elapsed = box.run(box.config(3), on_scan=PAST_LIMIT)
    results = assert_contract(done, elapsed, 3)
    last = {r['kw']['key']: r for r in results
            if r['check'] == 'LastNumberCheck'}
    # What it proved before the time ran out stands (the probe); the rest
    # is the one `ldap` WARNING.
    assert all(r['result'] == 'SUCCESS' and
               r['kw']['proof'] == 'equality index probe'
               for key, r in last.items() if key != 'ldap')
    assert last['ldap']['result'] == 'WARNING'
    assert last['ldap']['kw']['failure'] == 'out_of_time'
    assert 'raise timeout' in last['ldap']['kw']['advice']
    vlv = [r for r in results if r['check'] == 'VLVIndexCheck']
    assert vlv and all(r['kw']['key'] != 'ldap' for r in vlv)
    assert not [r for r in results if r['result'] == 'ERROR']


# -- what a real server cannot show root: mocked ----------------------------

@pytest.mark.parametrize('error,blamed', [
    ('INSUFFICIENT_ACCESS', True), ('SERVER_DOWN', False), ('TIMEOUT', False),
], ids=['refused', 'down', 'silent'])
def test_vlv_blame(scenario, mocker, error, blamed):
    """VLVIndexCheck calls it a cn=config permission problem only when the
    server refuses. 389-DS never refuses cn=config to Directory Manager, so
    only a mock can answer "insufficient access"; a lost or silent server
    is the check's `ldap` result."""
    import ldap
    from conftest import by_key
    from ipahealthcheck_dogtag.directory import DirectoryError
    from ipahealthcheck_dogtag.dogtag import vlv
    scenario.build(certs=range(1, 4), ca_requests=range(1, 4), kra=False)
    mocker.patch.object(vlv, 'read_definitions', side_effect=DirectoryError(
        'searching cn=config', getattr(ldap, error)({'desc': error})))
    results = by_key(scenario.run('VLVIndexCheck'), 'VLVIndexCheck')
    key = 'allCerts-%s' % scenario.name if blamed else 'ldap'
    assert set(results) <= {key, 'caAll-%s' % scenario.name}, results
    assert results[key]['result'] == 'ERROR'
    kw = results[key]['kw']
    assert (kw['code'] == 'DTR0200') == blamed
    assert ('as root' in kw['fix']) == blamed
