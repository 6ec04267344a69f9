"""What every dogtag.ranges check shares: walking this server's repositories."""

from ipahealthcheck.core import constants

from ipahealthcheck_dogtag.directory import DirectoryError
from ipahealthcheck_dogtag.discovery import Finding
from ipahealthcheck_dogtag.dogtag.lookup import BadValue
from ipahealthcheck_dogtag.checks.plugin import DogtagCheck
from ipahealthcheck_dogtag.dogtag.repositories import repositories

RANDOM_MSG = ('{generator} generator (random serial numbers, RSNv3): Dogtag '
              'keeps no number ranges for this repository, so there is '
              'nothing to check.')


class RangeCheck(DogtagCheck):
    """Walks the repositories of this server, reporting those it cannot use."""

    numbered_only = True        # skip replica IDs, which have no records

    def check_database(self, database, deadline):
        for skipped, item in self.sequential_repositories(database):
            if skipped is not None:
                yield skipped
            else:
                yield from self.check_repository(database, *item, deadline)

    def check_repository(self, database, repo, fields, deadline):
        raise NotImplementedError

    def sequential_repositories(self, database):
        """Yield results for repositories to skip, then (repo, fields) pairs."""
        for kind, repo in repositories(database):
            if self.numbered_only and not kind.numbered:
                continue
            key = kind.key
            if isinstance(repo, Finding):
                yield self.result(constants.ERROR, key, repo.msg,
                                  **repo.fields), None
                continue
            fields = repo.fields()
            fields['pki_version'] = database.pki_version_text
            if not repo.sequential:
                yield self.result(constants.SUCCESS, key, RANDOM_MSG,
                                  **fields), None
                continue
            yield None, (repo, fields)

    def lookup(self, repo, fields):
        """Dogtag's answer, or the result that explains why there is none."""
        try:
            return self.context.lookup(repo), None
        except BadValue as bad:
            return None, self.result(
                constants.ERROR, repo.key,
                'Dogtag\'s last-number lookup reads {bad_value} in {bad_dn}: '
                'expected a length-prefixed decimal number in {attribute}. '
                'Dogtag fails to start its number generator on such a value. '
                'Correct the value or remove the entry.',
                bad_dn=bad.dn, bad_value=bad.value,
                attribute=repo.kind.attribute, **fields)
        except DirectoryError as e:
            if e.connection:
                raise           # the check's one `ldap` result says it
            return None, self.result(
                constants.ERROR, repo.key,
                'Could not repeat Dogtag\'s last-number lookup in '
                '{container}: {error}. Expected the search to succeed as it '
                'does for Dogtag at start-up. Check the 389-DS errors log.',
                error=e.error, **fields)
