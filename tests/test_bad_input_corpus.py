"""A corpus of bad inputs, each run through the installed command.

Every case (a config value, a CS.cfg content or file type, or values
planted on the sandbox 389-DS) runs every source (dogtag.ranges,
dogtag.replication, dogtag.accounts) with `dogtag-healthcheck --config
CONF --output-type json` and `--output-type human`, and must keep the
invariants of `assert_invariants`: no CRITICAL, no result of the
framework's alarm, the run ends within a bound derived from `timeout`, the
expected key and severity, no planted secret in any output, and no fix
that leaves a planted shell payload outside quotes.
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

import ldap
import pytest

from sandbox import cadb
from conftest import SANDBOX, assert_fix_labelled

BIN = os.path.dirname(sys.executable)
SOURCES = ('dogtag.ranges', 'dogtag.replication', 'dogtag.accounts')
SECRET = 'CorpusSecret-7f3a9c'
PAYLOAD = 'touch /tmp/corpus-pwned'
STARTUP_SLACK = 20      # seconds for the interpreter, imports and sandbox I/O
BASE = 'corpusbase'


@dataclass
class Case:
    name: str
    expect: tuple                       # (check, key, severity), ...
    config: dict = field(default_factory=dict)
    cs_cfg: dict = field(default_factory=dict)
    kra_cs_cfg: dict = field(default_factory=dict)
    file: object = None                 # f(CS.cfg path): replaces the file
    kra_file: object = None
    directory: object = None            # f(conn, tree, case dir): plants
    vlv_overrides: dict = field(default_factory=dict)
    instance_dir_name: str = None       # instead of the tree's instance
    hostile: tuple = ()                 # texts that must never run


def _sparse(path):
    with open(path, 'wb') as f:
        f.truncate(17 * 1024 * 1024)


def _garbage(path):
    with open(path, 'wb') as f:
        f.write(bytes(range(256)) * 64)


def _non_utf8_comment(path):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(b'# caf\xe9 \xff\xfe\n' + data)


def _symlinked(path):
    os.rename(path, path + '.real')
    os.symlink(path + '.real', path)


def _replace_with(make):
    def plant(path):
        os.unlink(path)
        make(path)
    return plant


def _set(dn, attribute, value):
    def plant(conn, tree, where):
        conn.modify_s(dn.format(base=tree.base), [
            (ldap.MOD_REPLACE, attribute, [value.encode()])])
    return plant


def _range_record(attribute, value, begin=30000001, end=40000000):
    def plant(conn, tree, where):
        tree.add_range(conn, 'ou=certificateRepository', begin, end,
                       'other.example.test')
        conn.modify_s('cn=%d,ou=certificateRepository,ou=ranges,%s'
                      % (begin, tree.base),
                      [(ldap.MOD_REPLACE, attribute, [value.encode()])])
    return plant


def _cert(number, **changes):
    def plant(conn, tree, where):
        dn, attrs = tree.cert(number)
        for name, value in changes.items():
            if value is None:
                attrs.pop(name, None)
            else:
                attrs[name] = [value.encode()]
        cadb.add_entries(conn, [(dn, attrs)])
    return plant


def _leftover_admin(conn, tree, where):
    cadb.add(conn, 'uid=admin-r1.example.test,ou=people,' + tree.base,
             objectClass=['top', 'person', 'organizationalPerson',
                          'inetOrgPerson', 'cmsuser'],
             uid='admin-r1.example.test', cn='x', sn='x',
             usertype='adminType', userstate='1')


SOCKET_PAYLOAD = 'touch${IFS}pwned'        # a file name holds no '/'
HOSTILE_NAME = 'pki;%s;$(id)' % SOCKET_PAYLOAD
HOSTILE_SOCKET = 'slapd-x;%s;$(id)' % SOCKET_PAYLOAD


def _hostile_socket(conn, tree, where):
    """A symlink to the real socket whose name is shell syntax: dsconf
    fixes name the instance after it."""
    os.symlink(where['ds'].socket_path,
               os.path.join(where['dir'], HOSTILE_SOCKET + '.socket'))
    where['config']['dogtag_ldap_uri'] = os.path.join(
        where['dir'], HOSTILE_SOCKET + '.socket')


LAST, VLV = 'LastNumberCheck', 'VLVIndexCheck'
HEALTHY = ((LAST, 'ca.certificates', 'SUCCESS'),
           ('AgreementCheck', 'replication', 'SUCCESS'),
           ('TemporaryAdminCheck', 'admin-accounts', 'SUCCESS'))
CERTS_ERROR = ((LAST, 'ca.certificates', 'ERROR'),
               (LAST, 'ca.requests', 'SUCCESS'))
CONFIG_ERROR = ((LAST, 'ca.config', 'ERROR'),)

CORPUS = [
    # -- config values ------------------------------------------------------
    *[Case('hours-%s' % v, (('AgreementCheck', 'config', 'ERROR'),) +
           HEALTHY, config={'dogtag_agreement_failure_hours': v})
      for v in ('nan', 'inf', '-inf', '1e400', '-1', 'abc', 'true')],
    *[Case('grace-%s' % v, (('TemporaryAdminCheck', 'config', 'ERROR'),) +
           HEALTHY, config={'dogtag_admin_grace_minutes': v})
      for v in ('nan', '-5', '1e400', '99999999999')],
    Case('timeout-negative', ((LAST, 'config', 'ERROR'),) + HEALTHY,
         config={'timeout': '-1'}),
    Case('timeout-0', HEALTHY, config={'timeout': '0'}),
    Case('timeout-1', HEALTHY, config={'timeout': '1'}),
    Case('pki-version-word', CONFIG_ERROR,
         config={'dogtag_pki_version': 'eleven'}),
    Case('pki-version-huge', CONFIG_ERROR,
         config={'dogtag_pki_version': '9' * 5000 + '.1'}),
    Case('instance-dir-nowhere', CONFIG_ERROR,
         config={'dogtag_instance_dir': '/nonexistent/pki-x'}),
    Case('ipa-basedn-not-a-dn', HEALTHY,
         config={'dogtag_ipa_basedn': 'not a dn'}),
    # The first check gives the full ERROR; LastNumberCheck, later, the
    # brief WARNING that it did not look.
    Case('ldap-uri-nowhere', ((LAST, 'ldap', 'WARNING'),),
         config={'dogtag_ldap_uri': '/nonexistent/slapd.socket'}),
    # -- CS.cfg contents ----------------------------------------------------
    Case('end-120-digits', CERTS_ERROR,
         cs_cfg={'dbs.endSerialNumber': '1' * 120}),
    Case('end-5000-digits', CERTS_ERROR,
         cs_cfg={'dbs.endSerialNumber': '1' * 5000}),
    Case('end-superscript', CERTS_ERROR,
         cs_cfg={'dbs.endSerialNumber': '\u00b2'}),
    Case('end-not-hex', CERTS_ERROR, cs_cfg={'dbs.endSerialNumber': '12zz'}),
    Case('begin-missing', CERTS_ERROR, cs_cfg={'dbs.beginSerialNumber': None}),
    Case('begin-leading-zeros', CERTS_ERROR,
         cs_cfg={'dbs.beginSerialNumber': '0' * 4400 + '1',
                 'dbs.endSerialNumber': '1' * 100}),
    Case('low-water-mark-nan', (('RangeDepletionCheck', 'ca.certificates',
                                 'ERROR'),) + HEALTHY,
         cs_cfg={'dbs.serialLowWaterMark': 'nan'}),
    Case('flush-interval-huge', (('SecurityDomainSessionCheck', 'sessions',
                                  'SUCCESS'),) + HEALTHY,
         cs_cfg={'securitydomain.flushinterval': '9' * 5000}),
    Case('non-utf8-comment', HEALTHY, file=_non_utf8_comment),
    Case('garbage', ((LAST, 'ca.certificates', 'ERROR'),), file=_garbage),
    Case('empty', CONFIG_ERROR, file=_replace_with(lambda p: open(p, 'w'))),
    Case('serial-dn-missing', CERTS_ERROR,
         cs_cfg={'dbs.serialDN': 'ou=gone, ou=ca'}),
    Case('basedn-missing', ((LAST, 'ca.certificates', 'ERROR'),),
         cs_cfg={'internaldb.basedn': 'o=nothere,o=ipaca'}),
    Case('instance-id-shell', ((VLV, 'allCerts-pki;%s#' % PAYLOAD,
                                'ERROR'),),
         cs_cfg={'instanceId': 'pki;%s#' % PAYLOAD}, hostile=(PAYLOAD,)),
    Case('instance-dir-shell', ((VLV, 'allCerts-' + HOSTILE_NAME, 'ERROR'),),
         instance_dir_name=HOSTILE_NAME,
         hostile=(SOCKET_PAYLOAD, '$(id)')),
    Case('kra-cs-cfg-fifo', ((LAST, 'kra.keys', 'ERROR'),
                             (LAST, 'ca.certificates', 'SUCCESS')),
         kra_file=_replace_with(os.mkfifo)),
    # -- CS.cfg file types ----------------------------------------------------
    Case('cs-cfg-dev-zero', CONFIG_ERROR,
         file=_replace_with(lambda p: os.symlink('/dev/zero', p))),
    Case('cs-cfg-fifo', CONFIG_ERROR, file=_replace_with(os.mkfifo)),
    Case('cs-cfg-directory', CONFIG_ERROR, file=_replace_with(os.mkdir)),
    Case('cs-cfg-17mb', CONFIG_ERROR, file=_replace_with(_sparse)),
    Case('cs-cfg-symlink-to-file', HEALTHY, file=_symlinked),
    # -- directory values planted on the sandbox ------------------------------
    Case('next-range-superscript', (('NextRangeCheck', 'ca.certificates',
                                     'ERROR'),),
         directory=_set('ou=certificateRepository,ou=ca,{base}',
                        'nextRange', '\u00b2')),
    Case('next-range-4400-digits', (('NextRangeCheck', 'ca.certificates',
                                     'ERROR'),),
         directory=_set('ou=certificateRepository,ou=ca,{base}',
                        'nextRange', '4' * 4400)),
    Case('next-range-shell', (('NextRangeCheck', 'ca.certificates',
                               'ERROR'),),
         directory=_set('ou=certificateRepository,ou=ca,{base}',
                        'nextRange', '1;' + PAYLOAD), hostile=(PAYLOAD,)),
    Case('range-end-superscript', (('NextRangeCheck', 'ca.certificates',
                                    'WARNING'),
                                   ('RangeOverlapCheck', 'ca.certificates',
                                    'SUCCESS')),
         directory=_range_record('endRange', '\u00b2')),
    Case('range-begin-4400-digits', (('NextRangeCheck', 'ca.certificates',
                                      'WARNING'),),
         directory=_range_record('beginRange', '9' * 4400)),
    Case('range-host-newline', (('RangeOverlapCheck', 'ca.certificates',
                                 'ERROR'),),
         directory=_range_record('host', 'x.example.test\nCRITICAL: '
                                 'injected', begin=5, end=9)),
    # cn=9 above Dogtag's answer 5, a number its lookup cannot read: the
    # lookup skips it, its DN still collides when Dogtag reaches 9.
    Case('cert-without-serialno', ((LAST, 'ca.certificates.outside_filter',
                                    'ERROR'),),
         directory=_cert(9, serialno=None)),
    Case('cert-serialno-text', ((LAST, 'ca.certificates.outside_filter',
                                 'ERROR'),
                                (LAST, 'ca.certificates.values', 'ERROR')),
         directory=_cert(9, serialno='abc')),
    Case('cert-serialno-huge', ((LAST, 'ca.certificates.outside_filter',
                                 'ERROR'),
                                (LAST, 'ca.certificates.values', 'ERROR')),
         directory=_cert(9, serialno='9' * 4400)),
    Case('leftover-admin', (('TemporaryAdminCheck', 'admin-r1.example.test',
                             'ERROR'),),
         config={'dogtag_admin_grace_minutes': '0'},
         directory=_leftover_admin),
    Case('leftover-admin-bad-basedn', (('TemporaryAdminCheck',
                                        'admin-r1.example.test', 'ERROR'),),
         config={'dogtag_admin_grace_minutes': '0',
                 'dogtag_ipa_basedn': 'not a dn'},
         directory=_leftover_admin),
    Case('socket-name-shell', ((VLV, 'allCerts-socketnameshell', 'ERROR'),),
         directory=_hostile_socket, hostile=(SOCKET_PAYLOAD, '$(id)'),
         vlv_overrides={'allCerts': (None, '(certStatus=VALID)',
                                     'serialno')}),
]


# -- the invariants ---------------------------------------------------------------

def unquoted(command):
    """The characters of a shell line that a shell would not take as quoted
    text (outside '...', "..." and backslash escapes)."""
    out, quote, i = [], None, 0
    while i < len(command):
        c = command[i]
        if quote == "'":
            quote = None if c == "'" else quote
        elif quote == '"':
            if c == '\\':
                i += 1
            elif c == '"':
                quote = None
        elif c in '\'"':
            quote = c
        elif c == '\\':
            i += 1
        else:
            out.append(c)
        i += 1
    return ''.join(out)


def unsafe_fixes(results, hostile):
    """Fix strings in which a planted payload would run."""
    bad = []
    for r in results:
        fix = r['kw'].get('fix') or ''
        if any(h.replace(' ', '') in unquoted(fix).replace(' ', '')
               for h in hostile):
            bad.append(fix)
        if '\n' in fix:
            bad.append(fix)
    return bad


def assert_invariants(case, run, timeout):
    """What must hold for every bad input; returns the JSON results."""
    json_run, human_run = run['json'], run['human']
    assert json_run.returncode in (0, 1), json_run.stderr
    assert 'Traceback' not in json_run.stderr + human_run.stderr
    results = json.loads(json_run.stdout)
    for r in results:
        assert r['result'] != 'CRITICAL', r
        assert 'exception' not in r['kw'], r      # the framework's alarm
        assert r['kw'].get('key') and '\n' not in r['kw']['key'], r
        assert_fix_labelled(r, SANDBOX.get('db_lib'))  # the JSON keeps them
    bound = (timeout or 0) + STARTUP_SLACK
    assert run['seconds'] < bound, '%s took %.1f s' % (case.name,
                                                       run['seconds'])
    found = {(r['check'], r['kw']['key'], r['result']) for r in results}
    for expected in case.expect:
        assert expected in found, (expected, sorted(
            f for f in found if f[0] == expected[0]))
    for text in (json_run.stdout, json_run.stderr, human_run.stdout,
                 human_run.stderr):
        assert SECRET not in text
    for line in human_run.stdout.splitlines():
        assert not line.startswith(('CRITICAL: injected', 'injected')), line
    assert unsafe_fixes(results, case.hostile) == []
    return results


# -- running ------------------------------------------------------------------

def _write_secrets(instance_dir):
    for sub in ('ca', 'kra'):
        conf = os.path.join(instance_dir, 'conf', sub)
        if os.path.isdir(conf):
            with open(os.path.join(conf, 'password.conf'), 'w') as f:
                f.write('internaldb=%s\nreplicationdb=%s\n'
                        % (SECRET, SECRET))


def _prepare(case, ds, base_tree, tmp):
    where = {'dir': str(tmp), 'ds': ds, 'config': {}}
    tree = base_tree
    if case.directory or case.vlv_overrides:
        name = ''.join(c for c in case.name if c.isalnum())[:30]
        tree = cadb.CATree('o=%s,%s' % (name, cadb.SUFFIX), name)
        _build(ds, tree, case.vlv_overrides)
        conn = ds.connect()
        try:
            if case.directory:
                case.directory(conn, tree, where)
        finally:
            conn.unbind_s()
    instance_dir = str(tmp / (case.instance_dir_name or tree.instance))
    secret = {'internaldb.ldapauth.password': SECRET}
    for sub, changes, plant in (('ca', case.cs_cfg, case.file),
                                ('kra', case.kra_cs_cfg, case.kra_file)):
        path = tree.write_cs_cfg(instance_dir, sub, **{
            k.replace('.', '__'): v for k, v in dict(secret,
                                                     **changes).items()})
        if plant:
            plant(path)
    _write_secrets(instance_dir)
    config = dict(case.config)
    config.update(where['config'])
    conf = str(tmp / 'healthcheck.conf')
    lines = ['[default]', 'dogtag_instance_dir = %s' % instance_dir,
             'dogtag_ldap_uri = %s' % ds.socket_path,
             'dogtag_pki_version = 11.5.0']
    overridden = {line.split(' = ')[0]: line for line in lines[1:]}
    for key, value in config.items():
        overridden[key] = '%s = %s' % (key, value)
    with open(conf, 'w') as f:
        f.write('\n'.join(['[default]'] + list(overridden.values())) + '\n')
    return conf, config


def _build(ds, tree, vlv_overrides=None):
    conn = ds.connect()
    try:
        tree.create(conn, kra=True)
        cadb.add_entries(conn, tree.certs_(range(1, 6)) +
                         tree.requests_(range(1, 6)) + tree.keys_(range(1, 4))
                         + tree.requests_(range(1, 4), kra=True))
        overrides = {name: (getattr(tree, cadb.VLV[name][0]),) + rest[1:]
                     for name, rest in (vlv_overrides or {}).items()}
        tree.add_vlv(conn, **overrides)
    finally:
        conn.unbind_s()
    ds.reindex(vlv_indexes=tree.vlv_index_names(list(cadb.VLV)))


def run_sources(conf):
    """json and human runs of every source, side by side; wall time."""
    command = [os.path.join(BIN, 'dogtag-healthcheck'), '--config', conf]
    started = time.monotonic()
    procs = {kind: subprocess.Popen(command + ['--output-type', kind],
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
             for kind in ('json', 'human')}
    done = {}
    for kind, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        done[kind] = subprocess.CompletedProcess(proc.args, proc.returncode,
                                                 out, err)
    done['seconds'] = time.monotonic() - started
    return done


@pytest.fixture(scope='module')
def base_tree(ds):
    tree = cadb.CATree('o=%s,%s' % (BASE, cadb.SUFFIX), BASE)
    _build(ds, tree)
    return tree


TALLY = {'cases': 0, 'tracebacks': 0, 'alarm_kills': 0, 'unsafe_fixes': 0}


@pytest.mark.parametrize('case', CORPUS, ids=[c.name for c in CORPUS])
def test_bad_input(case, ds, base_tree, tmp_path):
    conf, config = _prepare(case, ds, base_tree, tmp_path)
    run = run_sources(conf)
    TALLY['cases'] += 1
    TALLY['tracebacks'] += sum(
        'Traceback' in run[k].stderr for k in ('json', 'human'))
    try:
        results = json.loads(run['json'].stdout)
    except ValueError:
        results = []
    TALLY['tracebacks'] += sum(r['result'] == 'CRITICAL' for r in results)
    TALLY['alarm_kills'] += sum('exception' in r['kw'] for r in results)
    TALLY['unsafe_fixes'] += len(unsafe_fixes(results, case.hostile))
    timeout = int(config.get('timeout', 10))
    assert_invariants(case, run, max(timeout, 0))


def test_corpus_tally():
    """Runs after the corpus (file order): the counts of the closing note."""
    print('bad-input corpus: %(cases)d cases, %(tracebacks)d tracebacks, '
          '%(alarm_kills)d alarm kills, %(unsafe_fixes)d unsafe fixes'
          % TALLY)
    if TALLY['cases']:
        assert TALLY['tracebacks'] == TALLY['alarm_kills'] == \
            TALLY['unsafe_fixes'] == 0


def test_the_invariants_catch_what_they_should():
    """The checker itself: a payload outside quotes is caught, inside not."""
    assert unsafe_fixes([{'kw': {'fix': 'ipa-replica-manage del x; '
                                 + PAYLOAD}}], (PAYLOAD,))
    assert unsafe_fixes([{'kw': {'fix': 'dsconf "a" "x";%s' % PAYLOAD}}],
                        (PAYLOAD,))
    assert not unsafe_fixes([{'kw': {'fix': "pki-server x -i 'p;%s#'"
                                     % PAYLOAD}}], (PAYLOAD,))
