"""Dogtag's last-number lookup against the truth, and its VLV indices."""

from ipahealthcheck.core import constants

from ipahealthcheck_dogtag.dogtag import fixes, truth
from ipahealthcheck_dogtag.checks.ranges.base import RangeCheck
from ipahealthcheck_dogtag.directory import REFUSED, DirectoryError
from ipahealthcheck_dogtag.dogtag.lookup import uses_sorted_search
from ipahealthcheck_dogtag.checks.plugin import registry


@registry
class LastNumberCheck(RangeCheck):
    """Does Dogtag's own lookup find the real last number of its range?"""

    def check_repository(self, database, repo, fields, deadline):
        answer, problem = self.lookup(repo, fields)
        if problem is not None:
            yield problem
            return
        fields.update(answer.fields())
        fields['index'] = self.index_used(repo, answer)
        try:
            remaining = deadline - self.now() if deadline else 10
            found = truth.probe(self.context.directory(), repo, answer.last,
                                remaining)
            scan = self.context.scan(repo, deadline)
        except DirectoryError as e:
            if e.connection:
                raise           # the check's one `ldap` result says it
            yield self.result(
                constants.ERROR, repo.key,
                'Could not read the records of {container}: {error}. '
                'Expected a one-level search of the repository to succeed. '
                'Check the 389-DS errors log.', error=e.error, **fields)
            return
        if scan.bad_count:
            yield self.bad_values(repo, scan, fields)
        fields['scan_complete'] = scan.complete
        fields['records_scanned'] = scan.entries
        if scan.complete:
            fields['records_in_range'] = scan.in_range
            if scan.real_last is not None and scan.real_last > answer.last:
                yield self.stale(database, repo, fields, scan.real_last,
                                 scan.first_above, scan.first_above_dn,
                                 scan.above)
            else:
                yield self.healthy(repo, fields, scan)
        elif found.found:
            # The probe alone proves the fault; the counts are lower bounds.
            first, first_dn = found.numbers[0]
            yield self.stale(database, repo, fields, found.numbers[-1][0],
                             first, first_dn, len(found.numbers))
        else:
            yield self.result(
                constants.WARNING, repo.key,
                'Dogtag\'s lookup ({lookup}) answers {dogtag_last} for the '
                'range {range_cfg} and no record above it was found, but the '
                'full scan of {container} stopped after {records_scanned} '
                'records when the time budget ran out, so the count is not '
                'proven. Raise timeout in the [default] section of the '
                'healthcheck configuration (now {timeout} s) and run again.',
                timeout=self.context.settings.timeout, **fields)

    @staticmethod
    def index_used(repo, answer):
        if answer.method == 'vlv':
            # Dogtag's KRA key lookup matches no VLV definition.
            return answer.index or 'none (389-DS sorts in memory)'
        return repo.kind.attribute.lower() + ' (equality index)'

    def healthy(self, repo, fields, scan):
        fields['real_last'] = str(scan.real_last) \
            if scan.real_last is not None else None
        if scan.real_last is None:
            msg = ('The range {range_cfg} (decimal {range_begin}..{range_end}) '
                   'holds '
                   'no record yet and Dogtag\'s lookup ({lookup}) agrees.')
        else:
            msg = ('Dogtag\'s lookup ({lookup}) finds {dogtag_last}, the '
                   'real last number of the range {range_cfg} '
                   '(decimal {range_begin}..{range_end}, {records_in_range} '
                   'records).')
        return self.result(constants.SUCCESS, repo.key, msg, **fields)

    def stale(self, database, repo, fields, real_last, first, first_dn,
              missing):
        if fields['lookup'] == 'vlv' and repo.vlv_name:
            fix = fixes.vlv_reindex(repo, database)
        elif fields['lookup'] == 'vlv':
            fix = fixes.restart(database)
        else:
            fix = fixes.attribute_reindex(repo, database)
        fields.update(real_last=str(real_last), first_reused=str(first),
                      first_reused_dn=first_dn, missing_records=missing,
                      fix=fix)
        return self.result(
            constants.ERROR, repo.key,
            'Dogtag\'s start-up lookup ({lookup}, index {index}) answers '
            '{dogtag_last}, but the range {range_cfg} (decimal '
            '{range_begin}..{range_end}) already holds numbers up to '
            '{real_last}: the index misses {missing_records} record(s) of '
            'the range. Dogtag would '
            'next issue {first_reused}, which {first_reused_dn} already '
            'holds, and fail with "Object already exists". Fix: {fix}.',
            **fields)

    def bad_values(self, repo, scan, fields):
        return self.result(
            constants.ERROR, repo.key + '.values',
            '{bad_count} record(s) in {container} have a {attribute} that is '
            'not a length-prefixed decimal number, e.g. {bad_dn} has '
            '{bad_value}. Dogtag sorts and reads these numbers as text, so '
            'such values derail its lookup. Correct or remove these '
            'entries.', bad_count=scan.bad_count,
            bad_dn=scan.bad_values[0][0], bad_value=scan.bad_values[0][1],
            bad_dns=[dn for dn, _ in scan.bad_values],
            attribute=repo.kind.attribute, container=repo.container,
            cs_cfg=fields['cs_cfg'])


@registry
class VLVIndexCheck(RangeCheck):
    """Are the VLV indices behind Dogtag's lookup defined, built and complete?"""

    def check_repository(self, database, repo, fields, deadline):
        if repo.vlv_name is None:
            return                  # Dogtag's key lookup never had an index
        try:
            yield from self.check_index(database, repo, fields, deadline)
        except DirectoryError as e:
            if e.connection:
                raise           # down or silent: not a permission problem
            if e.reason == REFUSED:
                msg = ('Could not read the VLV index {index}: {error}. '
                       'Expected cn=config of the local 389-DS to be '
                       'readable by the bind of this check (root over '
                       'LDAPI). Run the check as root.')
            else:
                msg = ('Could not read the VLV index {index}: {error}. '
                       'Check the 389-DS errors log.')
            yield self.result(constants.ERROR, repo.vlv_name, msg,
                              index=repo.vlv_name, error=e.error,
                              repository=repo.key)

    @staticmethod
    def severities(database):
        """(missing, faulty) severities by what the index means to this PKI."""
        version = database.pki_version
        if not uses_sorted_search(version):
            return constants.ERROR, constants.ERROR     # it finds the number
        if tuple(version) >= (11, 7):
            return constants.SUCCESS, constants.WARNING  # not set up by default
        return constants.WARNING, constants.WARNING      # listings only

    def check_index(self, database, repo, fields, deadline):
        name = repo.vlv_name
        fields = dict(fields, index=name, repository=repo.key,
                      backend=repo.subsystem.database)
        missing, faulty = self.severities(database)
        role = ('Dogtag finds the last number of this range with it at '
                'start-up' if not uses_sorted_search(database.pki_version)
                else 'PKI {pki_version} uses it only to list records')
        definitions = self.context.vlv_definitions(repo.subsystem.database)
        definition = definitions.get(name.lower())
        if definition is None or not definition.has_index:
            fields['fix'] = fixes.vlv_recreate(repo, database)
            if missing == constants.SUCCESS:
                msg = ('The VLV index {index} is not defined; PKI '
                       '{pki_version} neither uses nor creates it for '
                       'number ranges, so this is normal.')
                del fields['fix']
            else:
                msg = ('The VLV index {index} of backend {backend} is not '
                       'defined; ' + role + '. Without it 389-DS sorts every '
                       'record in memory, which is slow and, for Dogtag\'s '
                       'own bind, fails once the repository outgrows the '
                       'look-through limit. Fix: {fix}.')
            yield self.result(missing, name, msg, **fields)
            return
        wrong = definition.mismatches(repo)
        if wrong:
            fields.update(mismatches=wrong, fix=fixes.vlv_edit(repo, database))
            yield self.result(
                faulty, name,
                'The VLV index {index} does not match Dogtag\'s query, so '
                '389-DS cannot use it: ' + '; '.join(
                    w.replace('{', '{{').replace('}', '}}') for w in wrong) +
                '. ' + role + '. Fix: {fix}.', **fields)
            return
        scan = self.context.scan(repo, deadline)
        fields.update(records=scan.matching, scan_complete=scan.complete,
                      vlv_enabled=definition.built)
        if not definition.built:
            if scan.complete and scan.matching == 0:
                yield self.result(
                    constants.SUCCESS, name,
                    'The VLV index {index} is defined and not built yet; no '
                    'record matches it, so there is nothing to index.',
                    **fields)
                return
            fields['fix'] = fixes.vlv_reindex(repo, database)
            yield self.result(
                constants.WARNING if faulty == constants.ERROR else
                constants.SUCCESS, name,
                'The VLV index {index} is defined but not built '
                '(vlvEnabled: 0): 389-DS answers with an in-memory sort of '
                'all {records} records, correct but slow, and after the next '
                'restart it may trust a partial index file. Fix: {fix}.',
                **fields)
            return
        indexed = self.context.directory().vlv_count(
            repo.container, definition.filter, repo.kind.attribute)
        fields['indexed'] = indexed
        if not scan.complete:
            yield self.result(
                constants.WARNING, name,
                'The VLV index {index} holds {indexed} records; the full '
                'scan of {container} stopped after {records} matching '
                'records when the time budget ran out, so completeness is '
                'not proven. Raise timeout in the [default] section of the '
                'healthcheck configuration and run again.', **fields)
        elif indexed != scan.matching:
            fields['fix'] = fixes.vlv_reindex(repo, database)
            yield self.result(
                faulty, name,
                'The VLV index {index} is incomplete: it holds {indexed} '
                'records, but {records} records of {container} match its '
                'filter. ' + role + '. Fix: {fix}.', **fields)
        else:
            yield self.result(
                constants.SUCCESS, name,
                'The VLV index {index} is defined as Dogtag expects, built, '
                'and holds all {records} matching records.', **fields)
