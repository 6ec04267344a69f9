"""Dogtag's last-number lookup against the truth, and its VLV indices."""

import copy

from ipahealthcheck.core import constants

from ipahealthcheck_dogtag.dogtag import fixes, limits, truth, vlv
from ipahealthcheck_dogtag.checks.ranges.base import RangeCheck
from ipahealthcheck_dogtag.directory import (
    OUT_OF_TIME, REFUSED, DirectoryError)
from ipahealthcheck_dogtag.dogtag.numbers import encode
from ipahealthcheck_dogtag.dogtag.lookup import (
    Answer, BadValue, dogtag_lookup, uses_sorted_search, vlv_lookup)
from ipahealthcheck_dogtag.checks.plugin import registry

RANGE = ('the range {range_cfg} (CS.cfg, radix {radix}; decimal '
         '{range_begin}..{range_end})')
PROOF_SCAN = 'full scan'
PROOF_PROBE = 'equality index probe'
PROOF_NEXT_DN = 'base read of the next DN'
# A capped count runs after a scan that spent the budget: the margin left
# before the check's own time limit (checks/plugin.py) bounds it.
COUNT_SECONDS = 1
ONE_LEVEL = ('the parentid index, which every one-level search of '
             '{container} starts from, Dogtag\'s lookup included')


def range_in_use(repo, fields):
    """The range Dogtag looks up: the active one, or the standby one when
    the active range is empty or inverted (begin >= end).

    `getLastSerialNumberInRange` returns null for low >= high and
    `Repository.initCache` then switches to the standby range (dogtagpki/pki
    v11.5.0 Repository.java, CertificateRepository.java). Returns None when
    there is no range Dogtag can use.
    """
    active = repo.active
    if active.begin < active.end:
        return repo
    standby = repo.standby
    if standby is None or standby.begin >= standby.end:
        return None
    used = copy.copy(repo)
    used.active = standby
    fields.update(used.fields(), range_used='standby')
    return used


def vlv_usable(context, repo):
    """Is the range VLV index defined as Dogtag queries it and built? Only
    then 389-DS serves the request from it (vlvSearch_findenabled)."""
    if repo.vlv_name is None:
        return False
    definition = context.vlv_definitions(repo.subsystem.database).get(
        repo.vlv_name.lower())
    if definition is None or not definition.has_index or \
            definition.mismatches(repo):
        return False
    return definition.built or built_on_lmdb(context, repo, definition)


def lmdb_stat(context, repo, definition):
    """The monitor's view of the index's LMDB database, or None."""
    stats = vlv.lmdb_stats(context.directory(), repo.subsystem.database)
    return (stats or {}).get(definition.database)


def built_on_lmdb(context, repo, definition):
    """On LMDB an index rebuilt online keeps vlvEnabled: 0 until the first
    matching VLV search at least 60 s after 389-DS last looked, Dogtag's
    start-up lookup for one, which then switches it on if its database
    opens, i.e. exists and is not DIRTY (389-ds-base 3.1.2 vlv_srch.c,
    vlvSearch_findenabled and vlvIndex_checkforindex)."""
    stat = lmdb_stat(context, repo, definition)
    return stat is not None and not stat.dirty


@registry
class LastNumberCheck(RangeCheck):
    """Does Dogtag's own lookup find the real last number of its range?"""

    def check_repository(self, database, repo, fields, deadline):
        used = range_in_use(repo, fields)
        if used is None:
            yield self.invalid_range(repo, fields)
            return
        repo = used
        answer, problem = self.lookup(repo, fields)
        if problem is not None:
            yield problem
            return
        fields.update(answer.fields())
        fields['index'] = self.index_used(repo, answer)
        directory = self.context.directory()
        try:
            bind = self.limits(database, repo)      # before the scan's cost
            remaining = deadline - self.now() if deadline else 10
            found = truth.probe(directory, repo, answer.last, remaining)
            before = truth.subordinates(directory, repo.container)
            scan = self.context.scan(repo, deadline)
            # Judge against Dogtag's answer after the scan: a record issued
            # while we read is then below it, a record the index misses is
            # still above it.
            last = self.repeat_lookup(directory, repo, database, answer)
            after = truth.subordinates(directory, repo.container)
            last, next_dn, taken = self.next_record(directory, repo,
                                                    database, last)
            missing = truth.one_level_missing(directory, repo, scan, before,
                                              after)
            if missing or taken:
                fields['parentid_matching_rule'] = truth.matching_rules(
                    directory, repo.subsystem.database)
            counts = self.limit_counts(directory, database, repo, scan,
                                       bind, after)
        except DirectoryError as e:
            if e.connection:
                raise           # the check's one `ldap` result says it
            yield self.result(
                constants.ERROR, repo.key,
                'Could not read the records of {container}: {error}. '
                'Expected a one-level search of the repository to succeed. '
                'Check the 389-DS errors log.', error=e.error, **fields)
            return
        if last != answer.last:
            fields.update(dogtag_last=str(last),
                          dogtag_last_before_scan=str(answer.last))
        fields.update(next_dn=next_dn, next_dn_exists=taken,
                      subordinates=after)
        if scan.bad_count:
            yield self.bad_values(repo, scan, fields, database)
        fields['scan_complete'] = scan.complete
        fields['records_scanned'] = scan.entries
        if scan.complete:
            fields['records_in_range'] = scan.in_range
            above = scan.above(last)
            outside = scan.outside_above(last)
        else:
            above = found.above(last)
            outside = found.outside_above(last)
        # A record outside Dogtag's filter has its own result.
        taken = taken and last + 1 not in {n for n, _ in outside}
        refused = self.vlv_refused(database, repo, fields, bind)
        if refused is not None:
            yield refused
        failing = self.failing_search(database, repo, fields, scan, bind,
                                      counts)
        if failing is not None:
            yield failing
        elif above:
            real_last = scan.real_last if scan.complete else above[-1][0]
            yield self.stale(database, repo, fields, last, real_last,
                             above)
        elif taken:
            yield self.next_number_taken(database, repo, fields)
        elif missing:
            yield self.one_level_short(database, repo, fields, missing)
        elif scan.complete:
            yield self.healthy(repo, fields, scan)
        elif uses_sorted_search(database.pki_version):
            yield self.proven_by_next_dn(repo, fields)
        elif not found.truncated:
            yield self.proven_by_probe(repo, fields)
        else:
            yield self.result(
                constants.WARNING, repo.key,
                'Dogtag\'s lookup ({lookup}) answers {dogtag_last} '
                '(decimal) for ' + RANGE + ', but neither the probe of the '
                '{attribute} equality index nor the full scan of {container} '
                '(stopped after {records_scanned} records) finished within '
                'the time budget, so it is not proven. Raise timeout in the '
                '[default] section of the healthcheck configuration (now '
                '{timeout} s) and run again.',
                timeout=self.context.settings.timeout,
                attribute=repo.kind.attribute, **fields)
        if outside:
            yield self.outside_filter(repo, fields, last, outside)

    def repeat_lookup(self, directory, repo, database, answer):
        try:
            return dogtag_lookup(directory, repo, database.pki_version).last
        except BadValue:
            return answer.last
        except DirectoryError as e:
            if e.reason != OUT_OF_TIME:
                raise
            # A scan cut short left no time: judge by the answer taken
            # before it, which the probe followed at once.
            return answer.last

    def next_record(self, directory, repo, database, last):
        """(last, DN, taken) for the record Dogtag would add after `last`,
        read by DN, which no index of the container's children serves. If
        it is taken, look up once more: a record the CA issued meanwhile
        moves Dogtag's answer past it. At the range's end Dogtag moves on
        to its next range, and the number after it is not its own."""
        if last >= repo.active.end:
            return last, truth.record_dn(repo, last + 1), False
        dn, taken = truth.next_taken(directory, repo, last)
        if taken:
            again = self.repeat_lookup(directory, repo, database,
                                       Answer('again', last))
            if again > last:
                last = again
                dn, taken = truth.next_taken(directory, repo, last)
        return last, dn, taken

    def limits(self, database, repo):
        cache = self.__dict__.setdefault('_limits', {})
        sub = repo.kind.subsystem
        if sub not in cache:
            cache[sub] = limits.read_limits(self.context.directory(),
                                            database, repo.subsystem)
        return cache[sub]

    @staticmethod
    def index_used(repo, answer):
        if answer.method == 'vlv':
            # Dogtag's KRA key lookup matches no VLV definition.
            return answer.index or 'none (389-DS sorts in memory)'
        return repo.kind.attribute.lower() + ' (equality index)'

    def invalid_range(self, repo, fields):
        return self.result(
            constants.ERROR, repo.key,
            'The active range {range_cfg} (decimal {range_begin}..'
            '{range_end}) is invalid: its begin is not below its end, and '
            'there is no usable standby range. Dogtag\'s last-number lookup '
            'gives no answer for such a range, so the subsystem fails to '
            'start ("Error in obtaining the last serial number"). '
            'RangeConfigCheck gives the fix.', **fields)

    def limit_counts(self, directory, database, repo, scan, bind,
                     subordinates):
        """(candidates, children) to judge the limits of Dogtag's bind by.
        A scan cut short counted only part of them, exactly on the big CAs
        where limits bite: then numSubordinates gives the children, and a
        count capped at each limit + 1 tells whether the candidates exceed
        it."""
        sorted_search = uses_sorted_search(database.pki_version)
        candidates = scan.matching_to_high if sorted_search else scan.matching
        if scan.complete:
            return candidates, scan.entries
        kind = repo.kind
        filterstr = (kind.sorted_filter(encode(repo.active.end))
                     if sorted_search else kind.lookup_filter)
        wanted = limits.relevant(bind, sorted_search,
                                 vlv_usable(self.context, repo))
        candidates = limits.candidates_at_least(
            directory, repo.container, filterstr, candidates, subordinates,
            wanted, COUNT_SECONDS)
        return candidates, max(scan.entries, subordinates or 0)

    def failing_search(self, database, repo, fields, scan, bind, counts):
        """The result when Dogtag's own bind cannot run the lookup."""
        sorted_search = uses_sorted_search(database.pki_version)
        fields.update(bind.fields(sorted_search))
        candidates, children = counts
        verdict = limits.judge(bind, sorted_search,
                               vlv_usable(self.context, repo), candidates,
                               children)
        if verdict is None:
            return None
        fields.update(limit_exceeded=verdict.limit_name,
                      limit=verdict.limit, candidates=verdict.candidates)
        counted = ('at least ' if not scan.complete else '')
        if sorted_search:
            fields['fix'] = fixes.limit_fix(
                database, repo, bind.dn, verdict, sorted_search)
            return self.result(
                constants.ERROR, repo.key,
                'Dogtag\'s own lookup fails: it binds as {dogtag_bind}, and '
                'its sorted search of {container} must look at ' + counted +
                '{candidates} records, more than the {limit_exceeded} '
                '({limit}) 389-DS applies to it. PKI {pki_version} then '
                'cannot find its last number and the subsystem does not '
                'start (dogtagpki/pki#5171, #5133). Our root lookup answers '
                '{dogtag_last} (decimal) for ' + RANGE + '. Fix: {fix}.',
                **fields)
        begin = repo.active.begin
        fields['dogtag_would_answer'] = str(begin - 1)
        fields['fix'] = fixes.limit_fix(database, repo, bind.dn, verdict,
                                        sorted_search)
        first, first_dn = scan.first_in_range, scan.first_in_range_dn
        if first is None and not scan.complete:
            # The scan stopped early: the range's first DN, read by DN.
            dn, taken = truth.next_taken(self.context.directory(), repo,
                                         begin - 1)
            if taken:
                first, first_dn = begin, dn
        if first is None:
            seen = ('holds no record yet' if scan.complete else
                    'showed no record before the scan stopped')
            return self.result(
                constants.WARNING, repo.key,
                'Dogtag\'s own lookup fails: it binds as {dogtag_bind}, '
                'and its VLV search of {container}, not served by a built '
                'VLV index, must sort ' + counted + '{candidates} records, '
                'more than its {limit_exceeded} ({limit}). Dogtag then '
                'takes ' + RANGE + ' as empty ("index may be empty") and '
                'answers {dogtag_would_answer}. The range ' + seen + ', but '
                'once it holds records, the next restart issues their '
                'numbers again. Fix: {fix}.', **fields)
        fields.update(first_reused=str(first), first_reused_dn=first_dn,
                      next_number=str(begin))
        return self.result(
            constants.ERROR, repo.key,
            'Dogtag\'s own lookup fails: it binds as {dogtag_bind}, and its '
            'VLV search of {container}, not served by a built VLV index, '
            'must sort ' + counted + '{candidates} records, more than its '
            '{limit_exceeded} ({limit}). Dogtag then takes ' + RANGE +
            ' as empty ("index may be empty"), answers '
            '{dogtag_would_answer} and after its next restart issues '
            '{next_number} (decimal) again, which {first_reused_dn} '
            'already holds: "Object already exists". Fix: {fix}.', **fields)

    def vlv_refused(self, database, repo, fields, bind):
        """Up to PKI 11.5 a VLV request refused by ACL (error 50) takes the
        "index may be empty" path of a failed lookup (dogtagpki/pki#4717;
        v11.5.0 LDAPVirtualList.getJumpToPage): Dogtag answers begin - 1.
        389-DS checks access only when an index serves the request."""
        if uses_sorted_search(database.pki_version) or bind.root or \
                not bind.user_found or not vlv_usable(self.context, repo):
            return None
        definition = self.context.vlv_definitions(
            repo.subsystem.database)[repo.vlv_name.lower()]
        out = dict(fields, dogtag_bind=bind.dn, vlv_search=definition.dn)
        try:
            allowed, rights = vlv.may_use(self.context.directory(),
                                          definition, bind.dn)
        except DirectoryError as e:
            if e.connection:
                raise
            return self.result(
                constants.ERROR, repo.key + '.vlv_access',
                'Could not read the rights of {dogtag_bind} on {vlv_search}: '
                '{error}. Expected a Get Effective Rights read to succeed '
                'as root. Check the 389-DS errors log.', error=e.error, **out)
        if allowed is not False:
            return None
        out.update(rights=rights or 'none',
                   dogtag_would_answer=str(repo.active.begin - 1),
                   fix=fixes.vlv_access_grant(database, bind.dn))
        return self.result(
            constants.ERROR, repo.key + '.vlv_access',
            'Dogtag\'s bind {dogtag_bind} may not read {vlv_search} (rights: '
            '{rights}; read expected), so 389-DS refuses its VLV lookup with '
            'error 50 and Dogtag answers {dogtag_would_answer}, reissuing '
            'numbers at its next start. Fix: {fix}.', **out)

    def healthy(self, repo, fields, scan):
        fields['proof'] = PROOF_SCAN
        fields['real_last'] = str(scan.real_last) \
            if scan.real_last is not None else None
        if scan.real_last is None:
            msg = (RANGE[0].upper() + RANGE[1:] + ' holds no record yet '
                   'and Dogtag\'s lookup ({lookup}) agrees.')
        else:
            msg = ('Dogtag\'s lookup ({lookup}) finds {dogtag_last} '
                   '(decimal), the real last number of ' + RANGE + ', which '
                   'holds {records_in_range} records (proven by a full '
                   'scan).')
        return self.result(constants.SUCCESS, repo.key, msg, **fields)

    def proven_by_probe(self, repo, fields):
        fields['proof'] = PROOF_PROBE
        return self.result(
            constants.SUCCESS, repo.key,
            'Dogtag\'s lookup ({lookup}) answers {dogtag_last} (decimal) '
            'for ' + RANGE + ', and the {attribute} equality index holds no '
            'record of the range above it: a stale index, the usual fault, '
            'is absent. Proof: {proof}; the index-free full scan of '
            '{container} did not finish within the time budget (stopped '
            'after {records_scanned} records), so the record count is not '
            'given.', attribute=repo.kind.attribute, **fields)

    def next_number_taken(self, database, repo, fields):
        """The record Dogtag adds next exists, yet no one-level reader saw
        it: after an upgrade that changed the parentid index's ordering
        (389ds/389-ds-base#7172) or with a stale equality index."""
        fields.update(first_reused=str(int(fields['dogtag_last']) + 1),
                      first_reused_dn=fields['next_dn'], proof=PROOF_NEXT_DN,
                      fix=fixes.one_level_reindex(repo, database))
        return self.result(
            constants.ERROR, repo.key,
            'Dogtag\'s lookup ({lookup}) answers {dogtag_last} (decimal) for '
            + RANGE + ', but {next_dn}, the record it adds next, already '
            'exists (read by DN), unseen by the indexed searches: Dogtag '
            'fails with "Object already exists". Fix: {fix}.', **fields)

    def one_level_short(self, database, repo, fields, missing):
        fields.update(one_level_missing=missing, proof='numSubordinates',
                      fix=fixes.one_level_reindex(repo, database))
        return self.result(
            constants.ERROR, repo.key,
            'A one-level search of {container} returns {records_scanned} '
            'records, but its numSubordinates counts {subordinates}: '
            + ONE_LEVEL + ', misses {one_level_missing}, so Dogtag can '
            'reissue their numbers. Fix: {fix}.', **fields)

    def proven_by_next_dn(self, repo, fields):
        """From PKI 11.6 Dogtag's sorted search is served by the same
        equality index as our probe (dogtagpki/pki v11.6.0
        CertificateRepository.getLastSerialNumberInRange), so only a read
        that shares no index with it proves the answer."""
        fields['proof'] = PROOF_NEXT_DN
        return self.result(
            constants.SUCCESS, repo.key,
            'Dogtag\'s lookup ({lookup}) answers {dogtag_last} (decimal) '
            'for ' + RANGE + ', and {next_dn}, the record it adds next, is '
            'free (read by DN). Proof: {proof}; the full scan stopped after '
            '{records_scanned} records, so older records are not checked.',
            **fields)

    def stale(self, database, repo, fields, last, real_last, above):
        if fields['lookup'] == 'vlv' and repo.vlv_name:
            fix = fixes.vlv_reindex(repo, database)
        elif fields['lookup'] == 'vlv':
            fix = fixes.restart(database)
        else:
            fix = fixes.attribute_reindex(repo, database)
        first, first_dn = above[0]
        fields.update(real_last=str(real_last), first_reused=str(first),
                      first_reused_dn=first_dn, missing_records=len(above),
                      next_number=str(last + 1), fix=fix,
                      proof=PROOF_SCAN if fields['scan_complete']
                      else PROOF_PROBE)
        if first == last + 1:
            then = ('Dogtag would next issue {first_reused}, which '
                    '{first_reused_dn} already holds, and fail with "Object '
                    'already exists".')
        else:
            then = ('Dogtag would next issue {next_number}; numbers up to '
                    'the one before {first_reused} are free, and when it '
                    'reaches {first_reused}, which {first_reused_dn} already '
                    'holds, it fails with "Object already exists".')
        return self.result(
            constants.ERROR, repo.key,
            'Dogtag\'s start-up lookup ({lookup}, index {index}) answers '
            '{dogtag_last}, but ' + RANGE + ' already holds numbers up to '
            '{real_last} (numbers in decimal): the index misses '
            '{missing_records} record(s) of the range. ' + then +
            ' Fix: {fix}.', **fields)

    def outside_filter(self, repo, fields, last, outside):
        first, first_dn = outside[0]
        fields = dict(fields, outside_filter=repo.kind.lookup_filter,
                      outside_filter_records=len(outside),
                      first_outside=str(first), first_outside_dn=first_dn,
                      next_number=str(last + 1))
        span = RANGE.format(**fields).replace('{', '{{').replace('}', '}}')
        # Without the range fields: a whole-topology report takes a result
        # that carries them for a repository's own range.
        for name in ('fix', 'first_reused', 'first_reused_dn',
                     'missing_records', 'real_last', 'range_begin',
                     'range_end', 'standby_begin', 'standby_end'):
            fields.pop(name, None)
        return self.result(
            constants.ERROR, repo.key + '.outside_filter',
            '{outside_filter_records} record(s) of ' + span + ' above '
            'Dogtag\'s answer {dogtag_last} (decimal) do not match the '
            'filter of its lookup, {outside_filter}, or carry a number it '
            'cannot read, so the lookup never sees them, e.g. '
            '{first_outside_dn}. Dogtag names a new record '
            'cn=<number> whatever the filter: when it reaches '
            '{first_outside} it fails with "Object already exists". Find '
            'out what created these entries; if they are not Dogtag '
            'records, move them out of {container}, else raise the range\'s '
            'begin above them with the subsystem stopped.', **fields)

    def bad_values(self, repo, scan, fields, database):
        if uses_sorted_search(database.pki_version):
            effect = ('PKI {pki_version} sorts them as text; if such a '
                      'record comes first in its lookup it cannot read it '
                      'and the subsystem fails to start (a null record)')
        else:
            effect = ('PKI {pki_version} sorts them as text and reads a '
                      'number by dropping the first two characters; a record '
                      'it cannot read at all is left out of its lookup')
        return self.result(
            constants.ERROR, repo.key + '.values',
            '{bad_count} record(s) in {container} have a {attribute} that is '
            'not a length-prefixed decimal number, e.g. {bad_dn} has ' + (
                '{bad_value}' if scan.bad_values[0][1] else 'none') + '. ' +
            effect + ', so such values can make it answer too low. Correct '
            'or remove these entries.', bad_count=scan.bad_count,
            bad_dn=scan.bad_values[0][0], bad_value=scan.bad_values[0][1],
            bad_dns=[dn for dn, _ in scan.bad_values],
            attribute=repo.kind.attribute, container=repo.container,
            cs_cfg=fields['cs_cfg'], pki_version=fields['pki_version'])


@registry
class VLVIndexCheck(RangeCheck):
    """Are the VLV indices behind Dogtag's lookup defined, built and complete?"""

    def check_repository(self, database, repo, fields, deadline):
        if repo.vlv_name is None:
            return                  # Dogtag's key lookup never had an index
        repo = range_in_use(repo, fields) or repo
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
        """(missing, faulty, unbuilt) severities by what the index means to
        this PKI. Up to 11.5 389-DS treats an unbuilt index exactly like a
        missing one (vlvSearch_findenabled), so both are errors."""
        version = database.pki_version
        if not uses_sorted_search(version):
            return constants.ERROR, constants.ERROR, constants.ERROR
        if tuple(version) >= (11, 7):
            return constants.SUCCESS, constants.WARNING, constants.SUCCESS
        return constants.WARNING, constants.WARNING, constants.SUCCESS

    def never_opened(self, repo, definition):
        """On LMDB, a VLV index defined since 389-DS started, with no
        index task on its backend since, has no database; an add cannot
        create one (389-ds-base 3.1.2, db-mdb/mdb_instance.c,
        dbmdb_open_dbi_from_filename). The add fails, or skips the index
        when a later VLV update succeeds (vlv.c, vlv_update_all_indexes
        keeps the last result). Any index task on the backend, or a start,
        creates the database empty (dbmdb_open_all_files), and only a
        rebuild of this index fills it. Seen on 3.1.2. BerkeleyDB creates
        the file on the first add.

        The monitor lists the databases in name order and stops early if
        one cannot be read (mdb_instance.c, dbdmd_gather_stats), so a name
        counts as missing only when a name after it is listed (every built
        VLV index has a "~recno-cache/..." database, which sorts last)."""
        databases = self.context.lmdb_databases(repo.subsystem.database)
        wanted = definition.database
        return databases is not None and wanted is not None and \
            wanted not in databases and \
            any(name > wanted for name in databases)

    def check_index(self, database, repo, fields, deadline):
        name = repo.vlv_name
        fields = dict(fields, index=name, repository=repo.key,
                      backend=repo.subsystem.database)
        missing, faulty, unbuilt = self.severities(database)
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
            fields.update(mismatches=wrong, fix=fixes.vlv_edit(
                repo, database, definition.mismatched_attributes(repo)))
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
        if not definition.built and self.never_opened(repo, definition):
            fields['fix'] = fixes.vlv_reindex(repo, database)
            yield self.result(
                constants.ERROR, name,
                'The VLV index {index} is defined but was never built '
                '(vlvEnabled: 0), and its LMDB database does not exist yet. '
                '389-DS on LMDB will not create it inside a write, so an add '
                'of a record under {container} either fails with '
                '"Operations error" or goes through without entering the '
                'index (errors log: "Can\'t get index file"). Only a '
                'rebuild of this index is a fix: a restart or another index '
                'task on the backend creates it empty, and 389-DS then '
                'trusts an index that holds none of the records already '
                'there' + (' ({records} found)' if scan.complete else
                           ' (at least {records})') + '. If the rebuild fails '
                'with "MDB_DBS_FULL" in the errors log, raise '
                # mdb_config.c dbmdb_ctx_t_db_max_dbs_set (3.1.2)
                'nsslapd-mdb-max-dbs and restart 389-DS first: a new value '
                'takes effect only at a restart. Fix: {fix}.',
                **fields)
            return
        stat = lmdb_stat(self.context, repo, definition)
        if stat is not None and stat.entries is not None:
            fields.update(indexed_on_disk=stat.entries,
                          lmdb_flags=sorted(stat.flags))
        if not definition.built and scan.complete and stat is not None \
                and not stat.dirty and stat.entries is not None:
            yield self.switched_on_at_first_use(database, repo, fields,
                                                stat, faulty, role)
            return
        if not definition.built:
            if scan.complete and scan.matching == 0:
                yield self.result(
                    constants.SUCCESS, name,
                    'The VLV index {index} is defined and not built yet; no '
                    'record matches it, so there is nothing to index.',
                    **fields)
                return
            fields['fix'] = fixes.vlv_reindex(repo, database)
            if unbuilt == constants.ERROR:
                msg = ('The VLV index {index} is defined but not built '
                       '(vlvEnabled: 0), and 389-DS treats an unbuilt index '
                       'as a missing one: Dogtag\'s start-up lookup sorts '
                       'all {records} records in memory, which fails for '
                       'Dogtag\'s own bind once they outnumber its '
                       'look-through limit; Dogtag then starts again at the '
                       'range\'s begin. Fix: {fix}.')
            else:
                msg = ('The VLV index {index} is defined but not built '
                       '(vlvEnabled: 0); PKI {pki_version} uses it only to '
                       'list records, which 389-DS then sorts in memory. '
                       'Fix: {fix}.')
            yield self.result(unbuilt, name, msg, **fields)
            return
        indexed = self.context.directory().vlv_count(
            repo.container, definition.filter, repo.kind.attribute)
        before = scan.vlv_count_before
        fields['indexed'] = indexed
        if before is not None and before != indexed:
            fields['indexed_before_scan'] = before
        if not scan.complete:
            yield self.unproven(database, repo, fields)
            return
        # Records added or removed while we scanned move the count between
        # the two readings; an index that misses records stays outside.
        low, high = sorted((indexed, indexed if before is None else before))
        incomplete = not low <= scan.matching <= high
        if stat is not None and stat.entries is not None:
            # On LMDB an online reindex adds the new count to the one in
            # memory (389-ds-base 3.1.2 vlv.c do_vlv_update_index after
            # mdb_import.c truncate_index_dbi) until a restart: the items
            # on disk are the truth, and a record added during the scan
            # can only raise them.
            incomplete = incomplete and stat.entries < scan.matching
        if incomplete:
            fields['fix'] = fixes.vlv_reindex(repo, database)
            yield self.result(
                faulty, name,
                'The VLV index {index} is incomplete: it holds {indexed} '
                'records, but {records} records of {container} match its '
                'filter. ' + role + '. Fix: {fix}.', **fields)
        else:
            fields['proof'] = PROOF_SCAN
            yield self.result(
                constants.SUCCESS, name,
                'The VLV index {index} is defined as Dogtag expects, built, '
                'and holds all {records} matching records.', **fields)

    def switched_on_at_first_use(self, database, repo, fields, stat,
                                 faulty, role):
        """vlvEnabled: 0 on LMDB with a database 389-DS can open: the
        first matching VLV search switches it on (see built_on_lmdb), so
        what counts is whether that database holds every record."""
        if stat.entries >= fields['records']:
            return self.result(
                constants.SUCCESS, repo.vlv_name,
                'The VLV index {index} is built: its LMDB database holds '
                '{indexed_on_disk} items for {records} matching records. '
                'vlvEnabled stays 0 until the first matching VLV search, '
                'such as Dogtag\'s start-up lookup, switches it on.',
                **fields)
        fields['fix'] = fixes.vlv_reindex(repo, database)
        return self.result(
            faulty, repo.vlv_name,
            'The VLV index {index} is incomplete: its LMDB database holds '
            '{indexed_on_disk} items, but {records} records of {container} '
            'match its filter, and 389-DS switches it on at the first '
            'matching VLV search (vlvEnabled: 0 until then). ' + role +
            '. Fix: {fix}.', **fields)

    def unproven(self, database, repo, fields):
        """The scan did not finish: prove instead that a VLV lookup through
        the index finds the last number the equality index knows."""
        directory = self.context.directory()
        answer = vlv_lookup(directory, repo)
        remaining = max(1, self.context.settings.timeout)
        found = truth.probe(directory, repo, answer.last, remaining)
        fields['vlv_last'] = str(answer.last)
        if not found.truncated and not found.found:
            fields['proof'] = PROOF_PROBE
            return self.result(
                constants.SUCCESS, repo.vlv_name,
                'The VLV index {index} holds {indexed} records and its top '
                'is current: a lookup through it answers {vlv_last} '
                '(decimal), and the {attribute} equality index holds no '
                'record of the range above that. Proof: {proof}; the '
                'index-free count of {container} did not finish within the '
                'time budget, so completeness below the top is not given.',
                attribute=repo.kind.attribute, **fields)
        if found.found:
            first, first_dn = found.numbers[0]
            fields.update(first_missing=str(first), first_missing_dn=first_dn,
                          fix=fixes.vlv_reindex(repo, database))
            return self.result(
                self.severities(database)[1], repo.vlv_name,
                'The VLV index {index} is incomplete: a lookup through it '
                'answers {vlv_last} (decimal), but {first_missing_dn} holds '
                '{first_missing}, above it in the range (found through the '
                '{attribute} equality index). Fix: {fix}.',
                attribute=repo.kind.attribute, **fields)
        return self.result(
            constants.WARNING, repo.vlv_name,
            'The VLV index {index} holds {indexed} records; the full scan of '
            '{container} stopped after {records} matching records when the '
            'time budget ran out, so completeness is not proven. Raise '
            'timeout in the [default] section of the healthcheck '
            'configuration and run again.', **fields)
