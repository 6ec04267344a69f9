"""What every dogtag.ranges check shares: walking this server's repositories."""

from ipahealthcheck.core import constants

from ipahealthcheck_dogtag.directory import DirectoryError
from ipahealthcheck_dogtag.discovery import Problem
from ipahealthcheck_dogtag.dogtag.lookup import BadValue
from ipahealthcheck_dogtag.checks.plugin import DogtagCheck
from ipahealthcheck_dogtag.dogtag.repositories import repositories

RANDOM_MSG = ('{generator} generator (random serial numbers, RSNv3): Dogtag '
              'keeps no number ranges for this repository, so there is '
              'nothing to check.')


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
        return self.result(
            constants.ERROR, repo.key, 'The entry {missing_dn} does not '
            'exist in the directory at {uri}, so neither do the ' +
            repo.kind.title + ' of {container} and their nextRange. '
            'Expected the CA database that pkispawn created (CS.cfg '
            'internaldb.basedn: {basedn}). Check that dogtag_ldap_uri points '
            'at the CA\'s 389-DS instance and that internaldb.basedn and '
            + repo.kind.dn_property + ' in {cs_cfg} are right; otherwise '
            'restore the CA database from a backup.', missing_dn=missing,
            uri=self.context.database().ldap_uri, basedn=suffix, **fields)

    def check_repository(self, database, repo, fields, deadline):
        raise NotImplementedError

    def sequential_repositories(self, database):
        """Yield results for repositories to skip, then (repo, fields) pairs."""
        for kind, repo in repositories(database):
            if self.numbered_only and not kind.numbered:
                continue
            key = kind.key
            if isinstance(repo, Problem):
                yield self.problem(repo, key), None
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
            found = 'whose {attribute} {bad_value} it cannot read as a ' \
                'number' if bad.value else 'which has no {attribute} value'
            return None, self.result(
                constants.ERROR, repo.key,
                'Dogtag\'s last-number lookup (a search sorted on '
                '{attribute}, PKI 11.6 and later) gets {bad_dn} first, ' +
                found + ': it then takes a null record and the subsystem '
                'fails to start (dogtagpki/pki DBSearchResults, '
                'getLastSerialNumberInRange). Expected a length-prefixed '
                'decimal number. Correct the value or remove the entry.',
                bad_dn=bad.dn, bad_value=bad.value,
                attribute=repo.kind.attribute, **fields)
        except DirectoryError as e:
            if e.connection:
                raise           # the check's one `ldap` result says it
            return None, self.result(
                constants.ERROR, repo.key,
                'Could not repeat Dogtag\'s last-number lookup in '
                '{container}: {error}. Expected the search to succeed as it '
                'must for Dogtag at start-up; Dogtag meets the same error '
                '(an "unwilling to perform" here is 389-DS refusing to sort '
                'more candidates than nsslapd-idlistscanlimit, '
                'dogtagpki/pki#5171). Check the 389-DS errors log.',
                error=e.error, **fields)
