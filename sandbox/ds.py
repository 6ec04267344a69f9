"""Throwaway 389 Directory Server instances that run without systemd.

`dscreate` insists on systemd unless it is given a private prefix whose
defaults.inf says `with_systemd = 0` and moves every writable path under the
prefix; that is all this module does before handing over to the real tools.
Each instance listens on loopback and on its own LDAPI socket, where root
binds with SASL EXTERNAL as cn=Directory Manager.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time

import ldap
import ldap.sasl

DEFAULTS_INF = '/usr/share/dirsrv/inf/defaults.inf'
BACKEND = 'ipaca'
SUFFIX = 'o=ipaca'

# defaults.inf keys that point at writable places: all go under the prefix.
_WRITABLE = (
    'sysconf_dir', 'initconfig_dir', 'config_dir', 'local_state_dir',
    'run_dir', 'ldapi', 'pid_file', 'inst_dir', 'tmpfiles_d', 'schema_dir',
    'cert_dir', 'lock_dir', 'log_dir', 'access_log', 'audit_log',
    'error_log', 'security_log', 'db_dir', 'db_home_dir', 'backup_dir',
    'ldif_dir',
)


def _private_defaults(prefix):
    """defaults.inf with systemd off and writable paths below `prefix`.

    The database home (BerkeleyDB's `__db.*` region files) is pinned to the
    database directory. Otherwise it would depend on the machine: lib389's
    instance/setup.py (389-ds-base 2.3.1 and 3.1.2) asks
    `systemd-detect-virt -c` and keeps defaults.inf's
    `/dev/shm/slapd-<name>` outside a container, the database directory
    inside one.
    """
    out = []
    db_dir = None
    with open(DEFAULTS_INF) as f:
        for line in f:
            key, sep, value = line.partition('=')
            key = key.strip()
            if sep and key == 'with_systemd':
                line = 'with_systemd = 0\n'
            elif sep and key == 'db_dir':
                db_dir = value.strip()
            if sep and key == 'db_home_dir':
                continue
            if sep and key in _WRITABLE:
                line = '%s = %s%s\n' % (key, prefix, value.strip())
            out.append(line)
    if db_dir is None:
        raise RuntimeError('%s has no db_dir' % DEFAULTS_INF)
    out.append('db_home_dir = %s%s\n' % (prefix, db_dir))
    return ''.join(out)


# Failed offline rebuilds the sandbox recovered from (see
# DirectoryServer._reindex_offline), for the test run's summary.
REINDEX_FAILURES = []


def _copy_tree(source, target):
    """`target` becomes a copy of directory `source`; holes stay holes (an
    LMDB file may be sparse up to its map size)."""
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(['cp', '-a', '--sparse=always', source, target],
                   check=True)


def _alive(pid):
    """Whether process `pid` still exists (a zombie child counts as gone)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[-1].split()[0] != 'Z'
    except OSError:
        return False


def _norm(dn):
    return ','.join(part.strip() for part in dn.lower().split(','))


def read_dse(path):
    """dse.ldif as {lower-case dn: {lower-case attribute: [values]}}."""
    entries, dn, attrs, last = {}, None, None, None
    with open(path) as f:
        lines = f.read().split('\n')
    for line in lines + ['']:
        if line.startswith(' ') and last is not None:   # folded line
            attrs[last][-1] += line[1:]
            continue
        if not line.strip():
            if dn is not None:
                entries[_norm(dn)] = attrs
            dn, attrs, last = None, None, None
            continue
        if line.startswith('#'):
            continue
        name, _, value = line.partition(':')
        value = value.lstrip(' ')
        if dn is None and name.lower() == 'dn':
            dn, attrs = value, {}
            continue
        if attrs is not None:
            last = name.lower()
            attrs.setdefault(last, []).append(value)
    return entries


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class DirectoryServer:
    """One 389-DS instance living entirely below a temporary directory."""

    def __init__(self, name='ipaca', root=None, port=None, suffixes=None,
                 hostname='localhost'):
        self.name = name
        self.hostname = hostname        # what the RUV and logs call us
        # backend name -> suffix; `ipaca` holds o=ipaca as in IPA
        self.suffixes = dict({BACKEND: SUFFIX}, **(suffixes or {}))
        self.root = root or tempfile.mkdtemp(prefix='dtds-')
        self.port = port or free_port()
        self.secure_port = free_port()
        self.password = 'sandbox-dm-%d' % os.getpid()
        self._paths = None

    # -- paths ---------------------------------------------------------
    @property
    def config_dir(self):
        return '%s/etc/dirsrv/slapd-%s' % (self.root, self.name)

    @property
    def db_dir(self):
        return self.paths()['db_dir']

    @property
    def db_home_dir(self):
        """Where BerkeleyDB keeps its region files (unused by LMDB)."""
        return self.paths()['db_home_dir']

    @property
    def db_lib(self):
        """'bdb' (389-DS 2.x) or 'mdb' (LMDB, the default of 3.x)."""
        return self.paths()['db_lib']

    def paths(self):
        """The paths the server really uses, read back from its dse.ldif."""
        if not self._paths:
            self._paths = self._read_paths()
        return self._paths

    def _read_paths(self):
        dse = read_dse(os.path.join(self.config_dir, 'dse.ldif'))
        config = dse['cn=config']
        ldbm = dse['cn=config,cn=ldbm database,cn=plugins,cn=config']
        # 389-DS 2.x keeps the BerkeleyDB settings in a cn=bdb child;
        # lib389's paths.py (2.3.1) reads the db home from either entry.
        bdb = dse.get(
            'cn=bdb,cn=config,cn=ldbm database,cn=plugins,cn=config', {})
        first = (lambda entry, attr, default=None:
                 entry.get(attr, [default])[0])
        return {
            'db_dir': first(ldbm, 'nsslapd-directory'),
            'db_home_dir': first(bdb, 'nsslapd-db-home-directory') or
            first(ldbm, 'nsslapd-db-home-directory'),
            'db_lib': first(ldbm, 'nsslapd-backend-implement', 'bdb'),
            'ldapi': first(config, 'nsslapd-ldapifilepath'),
            'error_log': first(config, 'nsslapd-errorlog'),
            'access_log': first(config, 'nsslapd-accesslog'),
            'lock_dir': first(config, 'nsslapd-lockdir'),
            'tmp_dir': first(config, 'nsslapd-tmpdir'),
            'cert_dir': first(config, 'nsslapd-certdir'),
        }

    def check_paths(self):
        """Every writable path of the instance lies below its prefix."""
        outside = {k: v for k, v in self.paths().items()
                   if k not in ('db_lib', 'tmp_dir') and v and
                   not v.startswith(self.root + '/')}
        if outside:
            raise RuntimeError('389-DS instance %s uses paths outside %s: %s'
                               % (self.name, self.root, outside))

    @property
    def log_dir(self):
        return '%s/var/log/dirsrv/slapd-%s' % (self.root, self.name)

    @property
    def socket_path(self):
        if self._paths:         # what the server really listens on
            return self._paths['ldapi']
        return '%s/run/slapd-%s.socket' % (self.root, self.name)

    @property
    def pid_file(self):
        return '%s/run/dirsrv/slapd-%s.pid' % (self.root, self.name)

    @property
    def ldapi_uri(self):
        return 'ldapi://' + self.socket_path.replace('/', '%2F')

    @property
    def ldap_uri(self):
        return 'ldap://127.0.0.1:%d' % self.port

    def _env(self):
        return dict(os.environ, PREFIX=self.root)

    # -- life cycle ----------------------------------------------------
    def create(self, cache_mb=256):
        inf_dir = os.path.join(self.root, 'share/dirsrv/inf')
        os.makedirs(inf_dir, exist_ok=True)
        with open(os.path.join(inf_dir, 'defaults.inf'), 'w') as f:
            f.write(_private_defaults(self.root))
        for sub in ('schema', 'config'):
            target = os.path.join(self.root, 'etc/dirsrv', sub)
            if not os.path.exists(target):
                shutil.copytree('/etc/dirsrv/' + sub, target)
        setup = os.path.join(self.root, 'setup.inf')
        with open(setup, 'w') as f:
            f.write(
                '[general]\nfull_machine_name = %s\nstart = True\n'
                '[slapd]\ninstance_name = %s\nport = %d\nsecure_port = %d\n'
                'self_sign_cert = False\nroot_password = %s\n'
                'user = root\ngroup = root\n'
                % (self.hostname, self.name, self.port, self.secure_port,
                   self.password))
            for backend, suffix in self.suffixes.items():
                f.write('[backend-%s]\nsuffix = %s\n'
                        'create_suffix_entry = True\n' % (backend, suffix))
        subprocess.run(['dscreate', 'from-file', setup], env=self._env(),
                       check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
        os.unlink(setup)  # it holds the Directory Manager password
        self._paths = None
        self.check_paths()
        self._tune(cache_mb)
        return self

    def _tune(self, cache_mb):
        """Small caches, unbuffered logs, audit log on: tests read them."""
        conn = self.connect()
        try:
            conn.modify_s('cn=config', [
                (ldap.MOD_REPLACE, 'nsslapd-accesslog-logbuffering', b'off'),
                (ldap.MOD_REPLACE, 'nsslapd-auditlog-logging-enabled',
                 b'on'),
            ])
            conn.modify_s(
                'cn=config,cn=ldbm database,cn=plugins,cn=config',
                [(ldap.MOD_REPLACE, 'nsslapd-cache-autosize', b'0')])
            conn.modify_s(
                'cn=%s,cn=ldbm database,cn=plugins,cn=config' % BACKEND,
                [(ldap.MOD_REPLACE, 'nsslapd-cachememsize',
                  str(cache_mb * 2**20).encode())])
            if self.db_lib == 'mdb':
                # Every index of every scenario is an LMDB sub-database;
                # the suite's shared instance outgrows the default count
                # (lib389 backend.py: nsslapd-mdb-max-dbs, 3.1.2).
                conn.modify_s(
                    'cn=mdb,cn=config,cn=ldbm database,cn=plugins,cn=config',
                    [(ldap.MOD_REPLACE, 'nsslapd-mdb-max-dbs', b'4096')])
        finally:
            conn.unbind_s()
        self.restart()

    def pid(self):
        try:
            with open(self.pid_file) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def running(self):
        pid = self.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False

    def start(self, timeout=60):
        env = self._env()
        jemalloc = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'
        if os.path.exists(jemalloc):
            # Debian's glibc malloc lets big scans balloon the server.
            env['LD_PRELOAD'] = jemalloc
        subprocess.run(['/usr/sbin/ns-slapd', '-D', self.config_dir,
                        '-i', self.pid_file], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                self.connect().unbind_s()
                return
            except ldap.LDAPError:
                time.sleep(0.1)
        raise RuntimeError('389-DS instance %s did not start' % self.name)

    def stop(self, timeout=60):
        pid = self.pid()
        if pid is None or not self.running():
            return
        os.kill(pid, signal.SIGTERM)
        # Wait for the process, not its pid file: ns-slapd removes the file
        # before it exits (389-ds-base 3.1.3 daemon.c slapd_daemon), and an
        # offline db2index refuses to run beside it (main.c
        # add_new_slapd_process).
        deadline = time.time() + timeout
        while time.time() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)

    def restart(self):
        self.stop()
        self.start()

    def kill(self):
        pid = self.pid()
        if pid is not None and self.running():
            os.kill(pid, signal.SIGKILL)
            while self.running():
                time.sleep(0.05)

    def destroy(self):
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- access --------------------------------------------------------
    def connect(self):
        """A Directory Manager session over LDAPI (root autobind)."""
        conn = ldap.initialize(self.ldapi_uri)
        conn.sasl_interactive_bind_s('', ldap.sasl.external())
        return conn

    @contextlib.contextmanager
    def session(self):
        """connect(), unbound when the `with` block ends."""
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.unbind_s()

    def run_task(self, kind, attrs, timeout=600):
        """Add a cn=tasks entry and wait for its exit code."""
        dn = 'cn=%s-%d,cn=%s,cn=tasks,cn=config' % (
            kind, int(time.time() * 1000), kind)
        entry = [('objectClass', [b'top', b'extensibleObject']),
                 ('cn', [dn.split(',')[0][3:].encode()])]
        entry += [(k, [v.encode() for v in vs]) for k, vs in attrs.items()]
        conn = self.connect()
        try:
            conn.add_s(dn, entry)
            deadline = time.time() + timeout
            while time.time() < deadline:
                try:
                    res = conn.search_s(dn, ldap.SCOPE_BASE,
                                        attrlist=['nsTaskExitCode'])
                except ldap.NO_SUCH_OBJECT:
                    return 0
                code = res[0][1].get('nsTaskExitCode')
                if code:
                    return int(code[0])
                time.sleep(0.2)
            raise RuntimeError('task %s did not finish' % dn)
        finally:
            conn.unbind_s()

    def reindex(self, attributes=(), vlv_indexes=()):
        """Rebuild indices of the backend: online with a task on
        BerkeleyDB, offline on LMDB (see _reindex_offline)."""
        if self.db_lib == 'mdb':
            self._reindex_offline(attributes, vlv_indexes)
            return
        attrs = {'nsInstance': [BACKEND]}
        if attributes:
            attrs['nsIndexAttribute'] = list(attributes)
        if vlv_indexes:
            attrs['nsIndexVLVAttribute'] = list(vlv_indexes)
        code = self.run_task('index', attrs)
        if code != 0:
            raise RuntimeError('index task failed with %d; errors log:\n%s'
                               % (code, '\n'.join(self.error_log_tail(20))))

    def _reindex_offline(self, attributes, vlv_indexes, attempts=3):
        """ns-slapd db2index with the server stopped (389-ds-base 3.1.3
        main.c slapd_exemode_db2index: -t attribute, -T VLV index, each
        repeatable); the start after it switches rebuilt VLV indices on (an
        online rebuild leaves vlvEnabled at 0: only the BerkeleyDB path
        calls vlvIndex_go_online, 3.1.2 db-bdb/bdb_ldif2db.c).

        On LMDB a reindex runs through the import framework, and a job
        that fails deletes the whole backend (db-mdb/mdb_import.c,
        dbmdb_public_dbmdb_import_main calls dbmdb_delete_instance_dir;
        389-ds-base issue 7539). With 3.1.x it fails now and then by
        itself, online and offline alike: a worker given no entry ("Invalid
        entry (no rdn) in database for id N entry: (null)", exit -23 & ~8),
        or a crash. So the database is copied first, put back after a
        failure, and the rebuild tried again; each failure is kept in
        REINDEX_FAILURES for the run's summary."""
        command = ['/usr/sbin/ns-slapd', 'db2index', '-D', self.config_dir,
                   '-n', BACKEND]
        for name in attributes:
            command += ['-t', name]
        for name in vlv_indexes:
            command += ['-T', name]
        saved = self.db_dir.rstrip('/') + '.before-reindex'
        self.stop()
        try:
            _copy_tree(self.db_dir, saved)
            for _ in range(attempts):
                done = subprocess.run(command, env=self._env(),
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT,
                                      errors='replace')
                if done.returncode == 0:
                    return
                why = [line for line in done.stdout.splitlines()
                       if ' - ERR - ' in line][:3]
                REINDEX_FAILURES.append('%s: db2index exited %d: %s' % (
                    ', '.join(list(attributes) + list(vlv_indexes)),
                    done.returncode, ' | '.join(why) or '(no error line)'))
                _copy_tree(saved, self.db_dir)
            raise RuntimeError('db2index failed %d times: %s' % (
                attempts, done.stdout.strip()[-2000:]))
        finally:
            shutil.rmtree(saved, ignore_errors=True)
            self.start()

    def _log(self, name):
        with open(os.path.join(self.log_dir, name), errors='replace') as f:
            return f.read()

    def access_log(self):
        return self._log('access')

    def errors_log(self):
        return self._log('errors')

    def audit_log(self):
        """The audit log, or '' when there is no file (yet)."""
        try:
            return self._log('audit')
        except FileNotFoundError:
            return ''

    def error_log_tail(self, lines=80):
        """The last warnings and errors of the errors log, without the
        backtrace lines 389-DS adds to some of them."""
        try:
            text = self.errors_log().splitlines()
        except OSError as e:
            return ['(no errors log: %s)' % e]
        levels = (' - WARN - ', ' - ERR - ', ' - CRIT - ', ' - EMERG - ')
        serious = [t for t in text if any(level in t for level in levels)
                   and 'slapi_log_backtrace' not in t]
        return serious[-lines:]
