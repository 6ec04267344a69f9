"""The registry, the per-run context the checks share, and their base class."""

import time

from ipahealthcheck.core import constants
from ipahealthcheck.core.plugin import Plugin, Registry, Result, duration

from ipahealthcheck_dogtag.discovery import Finding, NoCA, Settings, discover
from ipahealthcheck_dogtag.directory import Directory, DirectoryError
from ipahealthcheck_dogtag.dogtag.lookup import BadValue, dogtag_lookup
from ipahealthcheck_dogtag.dogtag.topology import read_topology
from ipahealthcheck_dogtag.dogtag import bookkeeping, truth, vlv

# Share of the framework's per-check `timeout` our scans may use, so that a
# check reports what it proved instead of being killed by the alarm.
BUDGET_SHARE = 0.75


def budget(settings):
    """Seconds a check may spend reading, or None when `timeout` is 0."""
    if settings.timeout <= 0:
        return None
    return max(1.0, settings.timeout * BUDGET_SHARE)


class Context:
    """Discovery, the LDAP session and results shared by one run's checks.

    Each repository is looked up and scanned at most once per run, whichever
    check needs it first.
    """

    def __init__(self, settings):
        self.settings = settings
        self._database = None
        self._directory = None
        self._connect_error = None
        self._lookups = {}
        self._scans = {}
        self._vlv = {}
        self._recorded = {}
        self._topology = None

    def database(self):
        """CADatabase or NoCA; raises Finding (remembered) when unusable."""
        if self._database is None:
            try:
                self._database = discover(self.settings)
            except Finding as finding:
                self._database = finding
        if isinstance(self._database, Finding):
            raise self._database
        return self._database

    def directory(self):
        if self._connect_error is not None:
            raise self._connect_error
        if self._directory is None:
            directory = Directory(self.database().ldap_uri,
                                  budget(self.settings))
            try:
                directory.connect()
            except DirectoryError as e:
                self._connect_error = e
                raise
            self._directory = directory
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
        """Which servers exist (read once a run); raises Finding, remembered,
        when the server list cannot be read."""
        if self._topology is None:
            try:
                self._topology = read_topology(self.directory(),
                                               self.database())
            except Finding as finding:
                self._topology = finding
        if isinstance(self._topology, Finding):
            raise self._topology
        return self._topology

    def vlv_definitions(self, backend):
        if backend not in self._vlv:
            self._vlv[backend] = vlv.read_definitions(self.directory(),
                                                      backend)
        return self._vlv[backend]


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
        return Result(self, level, key=key, msg=msg, **fields)

    @duration
    def check(self):
        started = self.now()
        database = yield from self.preflight()
        if database is None:
            return
        try:
            yield from self.check_database(database, self.deadline(started))
        except DirectoryError as e:
            # A server that fails mid-check: a result, not a traceback.
            yield self.result(
                constants.ERROR, 'ldap', 'Reading the CA database at {uri} '
                'failed while {what}: {error}. Check that the local 389 '
                'Directory Server runs and answers, and its errors log.',
                uri=database.ldap_uri, what=e.what, error=e.error)

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
        try:
            database = self.context.database()
        except Finding as finding:
            yield self.result(constants.ERROR, finding.key, finding.msg,
                              **finding.fields)
            return None
        if isinstance(database, NoCA):
            yield self.result(constants.SUCCESS, 'ca',
                              'Nothing to check: {reason}.',
                              reason=database.reason)
            return None
        try:
            self.context.directory()
        except DirectoryError as e:
            yield self.result(
                constants.ERROR, 'ldap',
                'Cannot read the CA database at {uri}: {error}. Expected the '
                'local 389 Directory Server to accept a SASL EXTERNAL bind '
                'as root. Start it (ipactl start, or systemctl start '
                'dirsrv@<instance>) and run the check as root, or correct '
                'dogtag_ldap_uri in the healthcheck configuration.',
                uri=database.ldap_uri, error=e.error)
            return None
        return database

    @staticmethod
    def now():
        return time.monotonic()
