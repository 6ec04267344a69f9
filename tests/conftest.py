"""A real 389 Directory Server for the whole session, and CA scenarios in it.

Each scenario is a Dogtag CA (and KRA) database below its own suffix of the
shared `ipaca` backend, with VLV indices named after its own instance
directory, as several Dogtag instances would name theirs. Building one takes
a second or two; the server is created once and destroyed at the end.
"""

import json
import os
import re
import tempfile

import pytest

from ipahealthcheck.core.config import read_config

import ipahealthcheck_dogtag
from ipahealthcheck_dogtag import findings
from ipahealthcheck_dogtag.dogtag import fixes
from ipahealthcheck_dogtag.checks.plugin import registry
# Import every check module, as the framework does through entry points.
from ipahealthcheck_dogtag.checks import (  # noqa: F401
    accounts, limits, logs, replication, topology)
from ipahealthcheck_dogtag.checks.ranges import (  # noqa: F401
    bookkeeping, last_number)
from ipahealthcheck_dogtag.checks.indices import databases  # noqa: F401
from ipahealthcheck_dogtag.checks.indices import (  # noqa: F401
    advisories)
from sandbox import cadb
from sandbox import ds as ds_module
from sandbox.ds import DirectoryServer


SOURCE_TREE = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'src')


def pytest_sessionstart(session):
    """The suite judges what a user installs: the built wheel, not src/."""
    where = os.path.abspath(ipahealthcheck_dogtag.__file__)
    if where.startswith(SOURCE_TREE + os.sep) and \
            not os.environ.get('DOGTAG_TEST_SOURCE_TREE'):
        pytest.exit('ipahealthcheck_dogtag is imported from the source tree '
                    '(%s), not from an installed wheel: run ./scripts/test '
                    '(or set DOGTAG_TEST_SOURCE_TREE=1 while developing).'
                    % where, returncode=3)
    # Every result the suite produces, in this process or in a command it
    # runs, is recorded with its code and test (findings.record).
    handle, path = tempfile.mkstemp(prefix='dogtag-findings-')
    os.close(handle)
    os.chmod(path, 0o666)       # commands run as nobody record too
    os.environ[findings.RECORD] = path
    session.config.findings_record = path


# Codes a real server of one 389-DS backend only can show; a whole run on
# that backend must produce them, a run on the other may not.
ONE_BACKEND = {
    # The SUCCESS saying that index databases are judged on LMDB only.
    'DTR1003': 'bdb',
    # On LMDB a CRL index never rebuilt has no database at all: DTR1016
    # (test_indices_real.py test_crl_index_unbuilt shows both).
    'DTR1015': 'bdb',
}


def pytest_sessionfinish(session, exitstatus):
    """After a whole, passing run: every code of the catalog was produced
    by some test, or its declaration says why no test can produce it."""
    path = getattr(session.config, 'findings_record', None)
    if not path:
        return
    seen, lengths = {}, []
    with open(path) as lines:
        for line in lines:
            code, length, test = (line.strip().split(' ', 2) + [''])[:3]
            seen.setdefault(code, test)
            lengths.append(int(length))
    session.config.findings_lengths = sorted(lengths)
    os.unlink(path)
    tests = os.path.dirname(os.path.abspath(__file__))
    files = {f for f in os.listdir(tests)
             if f.startswith('test_') and f.endswith('.py')}
    ran = {os.path.basename(item.fspath) for item in session.items}
    whole = ran == files and not session.config.getoption('keyword') and \
        not session.config.getoption('markexpr') and \
        len(session.items) == session.testscollected
    session.config.findings_seen = seen
    if not whole or exitstatus != 0:
        return
    db_lib = SANDBOX.get('db_lib')
    unshown = [f.code for f in findings.load()
               if f.code not in seen and not f.unseen and
               ONE_BACKEND.get(f.code, db_lib) == db_lib]
    if unshown:
        session.config.findings_unshown = unshown
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    _server_errors(terminalreporter)
    config = terminalreporter.config
    unshown = getattr(config, 'findings_unshown', None)
    seen = getattr(config, 'findings_seen', None)
    if unshown:
        terminalreporter.section('findings no test produced')
        for code in unshown:
            terminalreporter.write_line(
                '%s %s' % (code, findings.CATALOG[code].title))
    elif seen is not None:
        terminalreporter.write_line(
            'findings: %d of %d codes produced by the tests'
            % (len(set(seen) & set(findings.CATALOG)),
               len(findings.load())))
    lengths = getattr(config, 'findings_lengths', None)
    if lengths:
        terminalreporter.write_line(
            'messages: %d results, median %d characters as printed, '
            'longest %d' % (len(lengths), lengths[len(lengths) // 2],
                            lengths[-1]))


_SERVER_ERRORS = []
# The database implementation of the sandbox's 389-DS ('bdb' or 'mdb'), as
# its dse.ldif says: what every fix the suite sees is judged against.
SANDBOX = {}


@pytest.fixture(scope='session')
def ds(request):
    server = DirectoryServer().create()
    cadb.prepare_backend(server)
    SANDBOX['db_lib'] = server.db_lib
    yield server
    if request.session.testsfailed:
        # The shared server's own account of a failed run, before it goes.
        _SERVER_ERRORS.extend(server.error_log_tail())
    server.destroy()


def _server_errors(terminalreporter):
    if ds_module.REINDEX_FAILURES:
        terminalreporter.section('LMDB rebuilds that failed and were redone')
        for line in ds_module.REINDEX_FAILURES:
            terminalreporter.write_line(line)
    if _SERVER_ERRORS:
        terminalreporter.section('errors log of the shared 389-DS')
        for line in _SERVER_ERRORS:
            terminalreporter.write_line(line)


class Scenario:
    """One CA database: its tree, CS.cfg files and healthcheck config."""

    def __init__(self, ds, tmp_path, name):
        self.ds = ds
        self.name = name
        self.tree = cadb.CATree('o=%s,%s' % (name, cadb.SUFFIX), name)
        self.instance_dir = str(tmp_path / name)
        self.config_path = str(tmp_path / ('%s.conf' % name))
        self.pki_version = '11.5.0'
        self.extra = {}

    def build(self, certs=(), ca_requests=(), keys=(), kra_requests=(),
              kra=True, vlv=tuple(cadb.VLV), reindex=True, **vlv_overrides):
        if not kra:     # 389-DS refuses a VLV whose base does not exist
            vlv = [n for n in vlv if n not in ('allKeys', 'kraAll')]
        conn = self.ds.connect()
        try:
            self.tree.create(conn, kra=kra)
            entries = (self.tree.certs_(certs) +
                       self.tree.requests_(ca_requests))
            if kra:
                entries += (self.tree.keys_(keys) +
                            self.tree.requests_(kra_requests, kra=True))
            cadb.add_entries(conn, entries)
            self.tree.add_vlv(conn, vlv, **vlv_overrides)
        finally:
            conn.unbind_s()
        names = self.tree.vlv_index_names(vlv)
        if reindex and vlv:
            self.ds.reindex(vlv_indexes=names)
        # Prove the starting point: indices whose definition matches
        # Dogtag's query are complete when built, unbuilt otherwise.
        plain = self.tree.vlv_index_names(
            [n for n in vlv if n not in vlv_overrides])
        if reindex:
            cadb.verify_vlv_complete(self.ds, plain)
        else:
            cadb.verify_vlv_unbuilt(self.ds, plain)
        self.write_cs_cfg()
        if kra:
            self.write_cs_cfg('kra')
        return self

    def write_cs_cfg(self, subsystem='ca', **settings):
        return self.tree.write_cs_cfg(self.instance_dir, subsystem, **settings)

    def add(self, entries):
        conn = self.ds.connect()
        try:
            cadb.add_entries(conn, entries)
        finally:
            conn.unbind_s()

    def config(self):
        cadb.write_healthcheck_conf(self.config_path, self.instance_dir,
                                    self.ds, self.pki_version, **self.extra)
        return read_config(self.config_path)

    def run(self, check=None, source='dogtag.ranges'):
        return run_checks(self.config(), check, source)


def run_checks(config, check=None, source=None):
    """Run our registry's checks as the framework does; results as dicts."""
    registry.initialize(object(), config, config)
    results = []
    for plugin in registry.get_plugins():
        if check and plugin.__class__.__name__ != check:
            continue
        if source and plugin.__module__ != source:
            continue
        for result in plugin.check():
            assert result is not None
            record = {'source': result.source, 'check': result.check,
                      'result': _level(result.result), 'kw': result.kw,
                      # what the human output prints: braces must be safe
                      'text': result.kw['msg'].format(**result.kw)}
            json.dumps(record)          # every field must be JSON-safe
            assert 'exception' not in result.kw
            # Every result is a finding of the catalog, with its code.
            assert findings.CATALOG[result.kw['code']].check in (
                None, result.check), result.kw
            assert_fix_labelled(record, SANDBOX.get('db_lib'))
            results.append(record)
    return results


def assert_fix_labelled(record, db_lib):
    """Every fix says, step by step, what it does to the service; and on
    BerkeleyDB no fix of a number range restarts 389-DS: bdb switches a
    rebuilt VLV index back on by itself (only IPA's topology plugin, which
    acts at start, needs a 389-DS restart on any backend)."""
    kw = record['kw']
    if 'fix' not in kw:
        return
    steps = kw['fix_steps']
    assert steps and kw['fix'] == _rendered(steps), kw
    assert kw['fix_effect'] == max((s['effect'] for s in steps),
                                   key=fixes.EFFECTS.index), kw
    for step in steps:
        assert set(step) == {'do', 'effect', 'service', 'alternative'}
        assert step['effect'] in fixes.EFFECTS, step
        assert (step['service'] is not None) == \
            (step['effect'] == fixes.RESTARTS), step
        if step['service']:
            assert re.match(r'^(dirsrv|pki-tomcatd)@[^ ]+\.service$',
                            step['service']), step
            assert 'outage' in step['do'], step
        if db_lib == 'bdb' and record['source'] != 'dogtag.replication':
            assert not (step['service'] or '').startswith('dirsrv@'), kw
    # On LMDB a reindex that aborts deletes the backend's data
    # (389ds/389-ds-base#7539): a backup comes before any rebuild there,
    # and never on BerkeleyDB.
    dos = [step['do'] for step in steps]
    backups = [i for i, do in enumerate(dos) if ' backup create ' in do]
    rebuilds = [i for i, do in enumerate(dos) if REBUILD.search(do)]
    if db_lib == 'bdb':     # (when the backend was not read, "only if")
        assert all(dos[i].startswith('only if ') for i in backups), kw
    elif rebuilds:
        assert backups and backups[0] < rebuilds[0], kw


# The commands of our fixes that rebuild an index.
REBUILD = re.compile(r"(^|[\s'])(dsconf \S+ backend (vlv-)?index reindex|"
                     r"pki-server \S+-db-vlv-reindex|db2index(\.pl)? )")


def _rendered(steps):
    out = ''
    for step in steps:
        if out:
            out += ', or instead ' if step['alternative'] else ', then '
        out += step['do']
    return out


def _level(value):
    from ipahealthcheck.core.constants import getLevelName
    return getLevelName(value)


def by_key(results, check):
    return {r['kw']['key']: r for r in results if r['check'] == check}


@pytest.fixture
def scenario(ds, tmp_path, request):
    name = request.node.name.replace('test_', '', 1)
    name = ''.join(c for c in name if c.isalnum())[:40]
    return Scenario(ds, tmp_path, name)


@pytest.fixture(autouse=True)
def _no_ipa(monkeypatch, tmp_path):
    """Discovery must not find this machine's own IPA or PKI files."""
    from ipahealthcheck_dogtag import discovery
    monkeypatch.setattr(discovery, 'IPA_DEFAULT_CONF',
                        str(tmp_path / 'no-ipa-default.conf'))
    monkeypatch.setattr(discovery, 'PKI_VERSION_FILE',
                        str(tmp_path / 'no-pki-VERSION'))
    monkeypatch.setattr(discovery, 'DIRSRV_CONF_DIR',
                        str(tmp_path / 'no-dirsrv'))
    os.environ.pop('PYTHONWARNINGS', None)
