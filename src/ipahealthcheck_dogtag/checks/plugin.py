"""The registry, the per-run context the checks share, and their base class."""

import re
import string
import time

import ldap
import ldap.dn
from ipahealthcheck.core import constants
from ipahealthcheck.core.plugin import Plugin, Registry, Result, duration

from ipahealthcheck_dogtag import findings
from ipahealthcheck_dogtag.discovery import NoCA, Problem, Settings, discover
from ipahealthcheck_dogtag.directory import (
    OUT_OF_TIME, Directory, DirectoryError)
from ipahealthcheck_dogtag.dogtag.lookup import BadValue, dogtag_lookup
from ipahealthcheck_dogtag.dogtag.topology import read_topology
from ipahealthcheck_dogtag.dogtag import bookkeeping, fixes, truth, vlv
from ipahealthcheck_dogtag.findings import common

# ipahealthcheck's run_plugin (core/core.py: 0.11, and the later upstream
# revision 001e8d9) arms signal.alarm(timeout) around each check; when it fires,
# whatever the check has not yielded yet is lost behind an ERROR with no
# key ("Request timed out" in 0.11, "Health check ... cancelled" later).
# So a check's streamed scans stop at SCAN_SHARE of timeout,
# every LDAP operation (wait, server time limit, reconnect) has returned by
# LIMIT_SHARE of it, and the rest is left for building the results: the
# alarm never fires first, whatever the value of timeout.
SCAN_SHARE = 0.7
LIMIT_SHARE = 0.85


def budget(settings):
    """Seconds a check's scans may take, or None when `timeout` is 0."""
    if settings.timeout <= 0:
        return None
    return settings.timeout * SCAN_SHARE


def limit(settings):
    """Seconds by which all of a check's reads have returned, or None."""
    if settings.timeout <= 0:
        return None
    return settings.timeout * LIMIT_SHARE


# Values shown in a message (and keys) come from the directory, CS.cfg and
# the config: each is shown on one line (line breaks and control characters
# escaped), and shortened when absurdly long, so that no value can start a
# line of the human output or drown it. `fix` is built from checked values.
SHOWN_LIMIT = 300
_UNPRINTABLE = re.compile('[\x00-\x1f\x7f-\x9f\u2028\u2029]')


def one_line(text, limit=SHOWN_LIMIT):
    text = _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)
    if limit is not None and len(text) > limit:
        text = '%s... (%d characters)' % (text[:limit], len(text))
    return text


def shown_on_one_line(msg, fields):
    """`fields` with every string the message template shows made safe."""
    shown = set()
    try:
        for _, name, _, _ in string.Formatter().parse(msg):
            if name:
                shown.add(re.split(r'[.\[]', name, maxsplit=1)[0])
    except ValueError:
        pass
    return {name: one_line(value, None if name == 'fix' else SHOWN_LIMIT)
            if name in shown and isinstance(value, str) else value
            for name, value in fields.items()}


class Context:
    """Discovery, the LDAP session and results shared by one run's checks.

    Each repository is looked up and scanned at most once per run, whichever
    check needs it first.
    """

    def __init__(self, settings):
        self.settings = settings
        self._database = None
        self._directory = None
        self._until = None
        self._lookups = {}
        self._scans = {}
        self._vlv = {}
        self._lmdb = {}
        self._recorded = {}
        self._topology = None
        self._exists = {}
        self._server = None
        self._told = []     # (DirectoryError, source.check) reported in full
        self.silenced, self.unknown_excludes = findings.parse_excludes(
            settings.exclude)
        self.excludes_told = False

    def told(self, error):
        """The check that reported this very failure in full, or None."""
        for seen, check in self._told:
            if seen is error:
                return check
        return None

    def tell(self, error, check):
        self._told.append((error, check))

    def start_check(self, started):
        """A check begins: its reads must all return within limit()."""
        seconds = limit(self.settings)
        self._until = None if seconds is None else started + seconds
        if self._directory is not None:
            self._directory.deadline = self._until

    def database(self):
        """CADatabase or NoCA; raises Problem (remembered) when unusable."""
        if self._database is None:
            try:
                self._database = discover(self.settings)
            except Problem as finding:
                self._database = finding
            else:
                # What the fix builders must know of 389-DS: read when a
                # fix first asks (fixes.server_facts).
                self._database.server = self.server_facts
        if isinstance(self._database, Problem):
            raise self._database
        return self._database

    def directory(self):
        """The connected Directory; raises DirectoryError. A failure to
        connect is remembered by the Directory: later checks get it at
        once instead of waiting again."""
        if self._directory is None:
            self._directory = Directory(self.database().ldap_uri,
                                        self._until)
        self._directory.connect()
        return self._directory

    def lookup(self, repo):
        if repo.key not in self._lookups:
            self._lookups[repo.key] = dogtag_lookup(
                self.directory(), repo, self.database().pki_version)
        return self._lookups[repo.key]

    def scan(self, repo, deadline):
        """One streamed pass; a pass cut short by the budget is not retried.

        The VLV content count before the pass is kept with it, so that a
        count taken after it can tell records added meanwhile from records
        the index misses.
        """
        if repo.key not in self._scans:
            before = None
            try:
                answer = self.lookup(repo)
                last = answer.last
                before = answer.content_count
            except BadValue:
                last = repo.active.begin - 1    # LastNumberCheck reports it
            if before is None:
                before = self._vlv_count(repo)
            result = truth.scan(self.directory(), repo, last, deadline)
            result.vlv_count_before = before
            self._scans[repo.key] = result
        return self._scans[repo.key]

    def _vlv_count(self, repo):
        """The range VLV index's content count if it is built and matches
        Dogtag's query (else a count would sort every record), or None."""
        if repo.vlv_name is None:
            return None
        definition = self.vlv_definitions(repo.subsystem.database).get(
            repo.vlv_name.lower())
        if definition is None or not definition.built or \
                definition.mismatches(repo):
            return None
        return self.directory().vlv_count(repo.container, definition.filter,
                                          repo.kind.attribute)

    def recorded_ranges(self, repo):
        """The allocations recorded for a repository (read once a run)."""
        if repo.key not in self._recorded:
            self._recorded[repo.key] = bookkeeping.recorded_ranges(
                self.directory(), repo)
        return self._recorded[repo.key]

    def topology(self):
        """Which servers exist (read once a run); raises Problem, remembered,
        when the server list cannot be read."""
        if self._topology is None:
            try:
                _check_basedn(self.database().ipa_basedn)
                self._topology = read_topology(self.directory(),
                                               self.database())
            except Problem as finding:
                self._topology = finding
        if isinstance(self._topology, Problem):
            raise self._topology
        return self._topology

    def exists(self, dn):
        """Is there an entry at `dn`? (asked once a run)"""
        if dn not in self._exists:
            self._exists[dn] = self.directory().entry(dn, ['1.1']) is not None
        return self._exists[dn]

    def vlv_definitions(self, backend):
        if backend not in self._vlv:
            self._vlv[backend] = vlv.read_definitions(self.directory(),
                                                      backend)
        return self._vlv[backend]

    def server_facts(self):
        """The local 389-DS's database implementation and version, read
        once a run; a read that failed is not remembered when it only ran
        out of the check's time."""
        if self._server is None:
            try:
                directory = self.directory()
                config = directory.entry('cn=config',
                                         ['nsslapd-versionstring'])
                ldbm = directory.entry(fixes.LDBM_CONFIG,
                                       ['nsslapd-backend-implement'])
                return self._remember(fixes.ServerFacts.from_entries(
                    config, ldbm))
            except DirectoryError as e:
                facts = fixes.ServerFacts(problem='reading the 389-DS '
                                          'configuration failed (%s)'
                                          % e.reason)
                return facts if e.reason == OUT_OF_TIME else \
                    self._remember(facts)
        return self._server

    def _remember(self, facts):
        self._server = facts
        return facts

    def lmdb_databases(self, backend):
        """The backend's registered LMDB databases, or None off LMDB."""
        if backend not in self._lmdb:
            self._lmdb[backend] = vlv.lmdb_databases(self.directory(),
                                                     backend)
        return self._lmdb[backend]


def _check_basedn(basedn):
    """A configured IPA suffix that is not a DN is a configuration problem,
    not a directory failure."""
    if not basedn:
        return
    try:
        valid = bool(ldap.dn.str2dn(basedn))
    except ldap.DECODING_ERROR:
        valid = False
    if not valid:
        raise Problem('ipa-suffix-not-dn', 'topology', basedn=basedn)


class DogtagRegistry(Registry):
    def initialize(self, framework, config, options=None):
        # Nothing here may raise (since ipahealthcheck 0.10 our checks run
        # anyway): discovery waits for the first check, which reports its
        # problems as results.
        super().initialize(framework, config, options)
        self.settings = Settings(config)
        self.context = Context(self.settings)

    def get_context(self):
        if getattr(self, 'context', None) is None:     # never initialized
            self.initialize(self.framework, self.config, self.options)
        return self.context


registry = DogtagRegistry()


class DogtagCheck(Plugin):
    """Base of every check: public source name, results, preflight, budget."""

    # False for checks that read files only (dogtag.logs): no LDAP session.
    requires_directory = True

    # Numeric config keys this check uses: an unusable value is reported by
    # each check that uses it (key `config`), with the default used meanwhile.
    settings_used = ('timeout',)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The framework names a check's source after its class's module. Our
        # public names are dogtag.<name>, from ipahealthcheck_dogtag.checks.
        # <name>[.<module>]: a source may span several modules.
        parts = cls.__module__.split('.')
        if 'checks' in parts[:-1]:
            cls.__module__ = 'dogtag.' + parts[parts.index('checks') + 1]

    @property
    def context(self):
        return self.registry.get_context()

    def result(self, level, key, msg, **fields):
        # A Fix becomes the `fix` text plus its labelled steps and their
        # strongest effect (fix_steps, fix_effect).
        fix = fields.get('fix')
        if isinstance(fix, fixes.Fix):
            fields.update(fix.fields())
        # The human output prints the key too: one line as well.
        return Result(self, level, key=one_line(str(key), None), msg=msg,
                      **shown_on_one_line(msg, fields))

    def finding(self, finding, key=None, level=None, **facts):
        """The result of a declared finding (a Finding, its name or its
        code) with the facts the check supplies. The declaration decides
        the message, the severity (or the levels `level` may take), the
        fields that must be there and, when the check gives none, the fix.
        A finding that dogtag_exclude silences becomes a SUCCESS that says
        so."""
        spec = findings.resolve(finding)
        if level is None and len(spec.levels) == 1:
            level = spec.levels[0]
        elif not isinstance(level, str):
            level = constants.getLevelName(level)
        if level not in spec.levels:
            raise findings.CatalogError('%s cannot be %s' % (spec.code,
                                                             level))
        key = key if key is not None else spec.literal_key
        missing = [name for name in spec.fields if name not in facts]
        if key is None or missing:
            raise findings.CatalogError('%s lacks %s' % (
                spec.code, missing or 'its key'))
        if level != findings.SUCCESS:
            if facts.get('fix') is None:
                facts['fix'] = spec.static_fix()
            if facts['fix'] is None:
                raise findings.CatalogError('%s without a fix' % spec.code)
            if findings.is_silenced(self.context.silenced, spec.code,
                                    str(key)):
                facts = dict(silenced=spec.code, silenced_severity=level,
                             silenced_title=spec.title)
                spec, level = common.SILENCED, findings.SUCCESS
        result = self.result(getattr(constants, level), key, spec.msg,
                             code=spec.code, **facts)
        findings.record(spec.code, spec.msg, result.kw)
        return result

    def verdict(self, verdict):
        """The result of a domain verdict (a Verdict of dogtag/, as data):
        the fix, when it needs values, from the builder its declaration
        names."""
        facts = dict(verdict.facts)
        if verdict.fix_args is not None:
            build = findings.resolve(verdict.finding).builder()
            facts['fix'] = build(*verdict.fix_args)
        return self.finding(verdict.finding, verdict.key, **facts)

    def problem(self, problem, key=None, **facts):
        """The result of a Problem raised below the checks (under `key`
        when the check reports it for something else, e.g. a repository
        whose subsystem's CS.cfg is missing)."""
        return self.finding(problem.name, key or problem.key,
                            **dict(facts, **problem.facts))

    @duration
    def check(self):
        started = self.now()
        self.context.start_check(started)
        database = yield from self.preflight()
        if database is None:
            return
        try:
            yield from self.check_database(database, self.deadline(started))
        except DirectoryError as e:
            # A server that fails mid-check: a result, not a traceback.
            yield self.ldap_result(database, e)

    def ldap_result(self, database, error):
        """The `ldap` result a check gives when it cannot read: an ERROR, or
        a WARNING when only the check's time budget ran out.

        A failure to connect is remembered for the run (Directory.connect),
        so a stopped server would give every check the same full ERROR. The
        first check to meet it reports it in full; the later ones report,
        briefly, that they did not look and where the full result is.
        Upstream's convention (`requires = ('dirsrv',)`) is not used:
        ipahealthcheck's core/core.py run_plugins, in every tag 0.11 to
        0.19, skips a check whose requirements are not in `available` with
        a debug log line only ("Not providing a Result in this case"), and
        only IPA's service checks (meta/services.py, class dirsrv, 0.11 to
        0.19) put `dirsrv` in `available`: under pki-healthcheck and
        dogtag-healthcheck, which have none, every check would be skipped
        in silence, and under ipa-healthcheck a stopped server would leave
        our checks without any result. The dirsrv service checked there is
        IPA's instance, not necessarily dogtag_ldap_uri.
        """
        reported_by = self.context.told(error)
        if reported_by is not None:
            return self.finding(common.LDAP_NOT_READ, uri=database.ldap_uri,
                                failure=error.reason, reported_by=reported_by)
        self.context.tell(error, '%s.%s' % (
            self.__class__.__module__, self.__class__.__name__))
        fix = fixes.directory_advice(error.reason)
        return self.finding(
            common.LDAP_OUT_OF_TIME if error.reason == OUT_OF_TIME
            else common.LDAP_UNREADABLE, uri=database.ldap_uri,
            what=error.what, error=error.error, failure=error.reason,
            advice=str(fix), fix=fix)

    def check_database(self, database, deadline):
        """Yield the check's results for a usable CA database."""
        raise NotImplementedError

    def deadline(self, started):
        seconds = budget(self.context.settings)
        return None if seconds is None else started + seconds

    def preflight(self):
        """Yield the results that stop a check early; return the database.

        Used as `database = yield from self.preflight()`: None means the
        check has nothing more to do.
        """
        for name in self.settings_used:
            problem = self.context.settings.problems.get(name)
            if problem is not None:
                yield self.setting_problem(problem)
        if self.context.unknown_excludes and not self.context.excludes_told:
            self.context.excludes_told = True
            yield self.finding(common.EXCLUDE_UNKNOWN,
                               unknown=', '.join(self.context.unknown_excludes),
                               value=self.context.settings.exclude)
        try:
            database = self.context.database()
        except Problem as problem:
            yield self.problem(problem)
            return None
        if isinstance(database, NoCA):
            yield self.finding(common.NO_CA, reason=database.reason)
            return None
        if not self.requires_directory:
            return database
        if database.ldap_problem is not None:
            yield self.problem(database.ldap_problem)
            return None
        try:
            self.context.directory()
        except DirectoryError as e:
            yield self.ldap_result(database, e)
            return None
        return database

    def setting_problem(self, problem):
        return self.finding(
            common.SETTING_UNUSABLE, setting=problem.name, value=problem.value,
            accepted=problem.accepted, default_used=problem.default)

    @staticmethod
    def now():
        return time.monotonic()
