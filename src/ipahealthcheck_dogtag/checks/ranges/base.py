"""What every dogtag.ranges check shares: walking this server's repositories."""

from ipahealthcheck_dogtag.directory import DirectoryError
from ipahealthcheck_dogtag.discovery import Problem
from ipahealthcheck_dogtag.dogtag.last_number import lookup_failure
from ipahealthcheck_dogtag.dogtag.lookup import BadValue
from ipahealthcheck_dogtag.checks.plugin import DogtagCheck
from ipahealthcheck_dogtag.dogtag.repositories import repositories
from ipahealthcheck_dogtag.findings import ranges as F


class RangeCheck(DogtagCheck):
    """Walks the repositories of this server, reporting those it cannot use."""

    numbered_only = True        # skip replica IDs, which have no records
    reads_repository = True     # False: CS.cfg alone answers this check

    def check_database(self, database, deadline):
        for skipped, item in self.sequential_repositories(database):
            if skipped is None and self.reads_repository:
                skipped = self.missing_container(*item)
            if skipped is not None:
                yield skipped
            else:
                yield from self.check_repository(database, *item, deadline)

    def missing_container(self, repo, fields):
        """The result saying the repository's entry (or the whole CA
        suffix) is missing, or None when it exists. pkispawn creates every
        repository and replica entry (dogtagpki/pki v11.5.4, base/ca and
        base/kra database/ds/create.ldif), so a missing one is a fault."""
        if self.context.exists(repo.container):
            return None
        suffix = repo.subsystem.basedn
        missing = repo.container if self.context.exists(suffix) else suffix
        return self.finding(
            F.CONTAINER_MISSING, repo.key, missing_dn=missing,
            uri=self.context.database().ldap_uri, basedn=suffix, **fields)

    def check_repository(self, database, repo, fields, deadline):
        raise NotImplementedError

    def sequential_repositories(self, database):
        """Yield results for repositories to skip, then (repo, fields) pairs."""
        for kind, repo in repositories(database):
            if self.numbered_only and not kind.numbered:
                continue
            if isinstance(repo, Problem):
                yield self.problem(repo, kind.key), None
                continue
            fields = repo.fields()
            fields['pki_version'] = database.pki_version_text
            if not repo.sequential:
                yield self.finding(F.RANDOM, kind.key, **fields), None
                continue
            yield None, (repo, fields)

    def lookup(self, repo, fields):
        """Dogtag's answer, or the result that explains why there is none."""
        try:
            return self.context.lookup(repo), None
        except (BadValue, DirectoryError) as e:
            if isinstance(e, DirectoryError) and e.connection:
                raise           # the check's one `ldap` result says it
            return None, self.verdict(lookup_failure(repo, e, fields))
