"""Range bookkeeping: this server's ranges in CS.cfg against each other,
against nextRange and against the allocations the directory records.

Every result carries this server's ranges (as in CS.cfg and in decimal)
and `server`, so the JSON of all servers tells who owns what; the cluster
report reads exactly that.
"""

from ipahealthcheck.core import constants

from ipahealthcheck_dogtag.dogtag import bookkeeping, fixes
from ipahealthcheck_dogtag.checks.ranges.base import RangeCheck
from ipahealthcheck_dogtag.directory import DirectoryError
from ipahealthcheck_dogtag.discovery import Problem
from ipahealthcheck_dogtag.dogtag.numbers import NumberError
from ipahealthcheck_dogtag.checks.plugin import registry


class BookkeepingCheck(RangeCheck):
    numbered_only = False       # replica ID ranges are bookkept the same way

    def check_repository(self, database, repo, fields, deadline):
        try:
            yield from self.judge(database, repo, fields)
        except Problem as problem:          # a malformed dbs.* setting
            yield self.problem(problem, **fields)
        except DirectoryError as e:
            if e.connection:
                raise           # the check's one `ldap` result says it
            yield self.result(
                constants.ERROR, repo.key, 'Could not read the range '
                'records of {container}: {error}. Check the 389-DS errors '
                'log.', error=e.error, **fields)

    def judge(self, database, repo, fields):
        raise NotImplementedError

    def usage(self, repo, fields):
        """(numbers left in the active range, or None with the result that
        explains why); puts last_used, left_in_range and standby_size in
        `fields`."""
        if repo.kind.numbered:
            answer, problem = self.lookup(repo, fields)
            if problem is not None:
                return None, problem
            last = answer.last
        else:
            # Dogtag's replica ID repository reads no records: the begin of
            # its range is all it knows as used.
            last = repo.active.begin
        left = max(0, repo.active.end - last)
        fields.update(last_used=str(last), left_in_range=str(left),
                      standby_size=str(_size(repo.standby)))
        return left, None


def _size(r):
    return r.end - r.begin + 1 if r else 0


@registry
class RangeConfigCheck(BookkeepingCheck):
    """Is the active range a range, and does the standby range follow it?

    Every getLastSerialNumberInRange returns null when low >= high
    (dogtagpki/pki CertificateRepository, KeyRepository, ReplicaIDRepository
    in v10.5.18, v10.10.0, v11.5.0 and master; for requests
    RequestQueue.getLastRequestIdInRange up to 10.10, RequestRepository
    getPagedRequestsByFilter in v11.5.0, getLastSerialNumberInRange in
    master). Repository.initCache
    then switches to the standby range if there is one, else throws "Error
    in obtaining the last serial number in the repository!". A range whose
    rest a clone took (UpdateNumberRange may leave end = begin or end =
    begin - 1) is thus fine with a standby range and stuck without one.
    """

    reads_repository = False

    def judge(self, database, repo, fields):
        active, standby = repo.active, repo.standby
        if active.begin >= active.end:
            yield self._unusable_active(database, repo, fields)
        elif standby and standby.begin >= standby.end:
            yield self.result(
                constants.ERROR, repo.key, 'The standby range {standby_cfg} '
                '(decimal {standby_begin}..{standby_end}) ' + (
                    'ends before it begins' if standby.begin > standby.end
                    else 'holds a single number, which Dogtag reads as an '
                    'empty range') + '. Fix: {fix}.',
                fix=_edit(database, fields, 'remove the dbs.next* values of '
                          'this range so that Dogtag allocates a new standby '
                          'range'), **fields)
        elif standby and standby.begin <= active.end:
            yield self.result(
                constants.ERROR, repo.key, 'The standby range {standby_cfg} '
                '(decimal {standby_begin}..{standby_end}) does not follow '
                'the active range {range_cfg} (decimal {range_begin}..'
                '{range_end}): when Dogtag switches to it, it issues numbers '
                'of the active range again. Fix: {fix}.',
                fix=_edit(database, fields, 'remove the dbs.next* values of '
                          'this range so that Dogtag allocates a new standby '
                          'range from nextRange'), **fields)
        else:
            yield self.result(
                constants.SUCCESS, repo.key, 'The active range {range_cfg} '
                'is valid' + (' and the standby range {standby_cfg} follows '
                              'it.' if standby else '; there is no standby '
                              'range.'), **fields)

    def _unusable_active(self, database, repo, fields):
        active, standby = repo.active, repo.standby
        shape = ('ends before it begins' if active.begin > active.end else
                 'holds a single number (begin = end)')
        if standby and standby.begin < standby.end:
            return self.result(
                constants.SUCCESS, repo.key, 'The active range {range_cfg} '
                + shape + ', which Dogtag reads as used up (as after a clone '
                'took its rest); Dogtag moves to the standby range '
                '{standby_cfg}.', **fields)
        if not repo.kind.numbered:
            return self.result(
                constants.WARNING, repo.key, 'The replica ID range '
                '{range_cfg} ' + shape + ' and there is no standby range: '
                'Dogtag reads such a range as empty (low >= high), so the '
                'next clone created from this server fails to get its '
                'replica IDs ("Error in obtaining the last serial number"). '
                'Fix: {fix}.', fix=fixes.new_clones_elsewhere() +
                fixes.alternative(_edit(
                    database, fields, 'restore dbs.beginReplicaNumber and '
                    'dbs.endReplicaNumber from CS.cfg.bak'), None),
                **fields)
        return self.result(
            constants.ERROR, repo.key, 'The active range {range_cfg} '
            '(decimal {range_begin}..{range_end}) ' + shape + ' and there is '
            'no standby range: Dogtag reads such a range as empty (low >= '
            'high) and, at its next start or first new number, fails with '
            '"Error in obtaining the last serial number in the repository". '
            'Fix: {fix}.', fix=_edit(
                database, fields, 'restore the dbs.begin*/dbs.end* values '
                'from CS.cfg.bak or from the range this server was given'),
            **fields)


@registry
class RangeDepletionCheck(BookkeepingCheck):
    """Will this server run out of numbers?"""

    def judge(self, database, repo, fields):
        left, problem = self.usage(repo, fields)
        if problem is not None:
            yield problem
            return
        low = repo.setting('LowWaterMark')
        fields.update(low_water_mark=None if low is None else str(low),
                      serial_management=repo.serial_management)
        if not repo.kind.numbered:
            yield self._replica_ids(repo, fields)
            return
        managed = repo.serial_management
        if left == 0 and not repo.standby:
            yield self.result(
                constants.ERROR, repo.key, 'The active range {range_cfg} '
                '(decimal {range_begin}..{range_end}) is used up and there '
                'is no standby range: Dogtag refuses to issue more ' +
                repo.kind.title + ' ("limit reached"). ' + (
                    'Serial management is on, yet no new range was '
                    'allocated: look for range errors in the CA debug log '
                    'and restart the CA.' if managed else
                    'Serial management is off (dbs.enableSerialManagement), '
                    'so Dogtag never asks for a new range: turn it on, or '
                    'give this server a range no other server owns.'),
                **fields)
        elif low is not None and left + _size(repo.standby) < low:
            yield self.result(
                constants.WARNING, repo.key, 'Only {left_in_range} numbers '
                'are left in the active range {range_cfg} (decimal '
                '{range_begin}..{range_end}) plus {standby_size} in standby, '
                'below the low-water mark {low_water_mark}. ' + (
                    'Dogtag should already have allocated a new standby '
                    'range from nextRange: look for range errors in the CA '
                    'debug log and restart the CA.' if managed else
                    'Serial management is off (dbs.enableSerialManagement), '
                    'so issuance will stop at the end of the range: turn it '
                    'on, or plan a new range for this server.'), **fields)
        else:
            yield self.result(
                constants.SUCCESS, repo.key, '{left_in_range} numbers are '
                'left in the active range {range_cfg} plus {standby_size} in '
                'standby' + (', above the low-water mark {low_water_mark}.'
                             if low is not None else '.'), **fields)

    def _replica_ids(self, repo, fields):
        """Replica IDs are not issued: Dogtag only hands ranges of them to
        new clones. It checks this range only in UpdateNumberRange, which
        for replicaId calls checkRanges() before the transfer and so
        allocates a standby range on demand; no start-up or periodic task
        does: every other checkRanges() caller is for certificates, keys
        or requests (CMSEngine, CertificateRepository and KeyRepository
        tasks in v10.5.18; CAEngine, KRAEngine, SerialNumberUpdateTask and
        KeyStatusUpdateTask in v11.5.0 and master). Every clone gets a range of
        dbs.replicaCloneTransferNumber (5) IDs, below the low-water mark
        (20) from the start: pkispawn always requests replicaId
        (ConfigurationUtils.java v10.5.18; subsystem.py request_ranges
        v10.10.0 .. master). In IPA nothing consumes them (it sets up
        o=ipaca replication itself); only Dogtag's own replication setup
        takes IDs from dbs.beginReplicaNumber
        (SubsystemDBReplicationEnableCLI, master). Whether the next clone
        can be served is CloneTransferCheck's."""
        return self.result(
            constants.SUCCESS, repo.key, 'The replica ID range {range_cfg} '
            '({left_in_range} after its begin, {standby_size} in standby) is '
            'only drawn on when a clone is created from this server; Dogtag '
            'checks it then and allocates a standby range if needed, so the '
            'low-water mark does not apply here.', **fields)


@registry
class CloneTransferCheck(BookkeepingCheck):
    """Can the next clone made from this server get its numbers here?

    UpdateNumberRange (dogtagpki/pki base/server/.../csadmin/
    UpdateNumberRange.java; same logic in v10.5.18, v10.10.0, v11.5.0,
    v11.6.0 and master) takes the transfer size T from the end of the active
    range when at least T numbers are left after the last one used (exactly
    T is fine: Dogtag then moves to its standby range), else from the end of
    the standby range. With no standby range the request fails; a standby
    range smaller than T is cut below its begin, handing the clone numbers
    this server never owned (dogtagpki ticket 3055). For replica IDs it
    first calls checkRanges(), which with serial management on allocates a
    standby range when the IDs left fall below the low-water mark.
    """

    def judge(self, database, repo, fields):
        transfer = repo.setting('CloneTransferNumber')
        left, problem = self.usage(repo, fields)
        if problem is not None:
            yield problem
            return
        prop = 'dbs.%sCloneTransferNumber' % repo.kind.prefix.lower()
        fields.update(transfer_property=prop, transfer_size=None if
                      transfer is None else str(transfer))
        if transfer is None:
            yield self.result(
                constants.WARNING, repo.key, '{cs_cfg} has no '
                '{transfer_property}: UpdateNumberRange reads it without a '
                'default, so a clone asking this server for its ' +
                repo.kind.title + ' fails. Fix: {fix}.', fix=_edit(
                    database, fields, 'set %s as pkispawn does (5 for '
                    'replica IDs, 10000 otherwise)' % prop), **fields)
            return
        source, note = self._standby_source(repo, left, fields)
        if source is None:
            yield self.result(
                constants.WARNING, repo.key, 'The next clone created from '
                'this server fails to get its replica IDs from {range_cfg}: '
                + note + '. Fix: {fix}.', fix=fixes.new_clones_elsewhere() + (
                    fixes.Fix() if 'nextRange' not in note else
                    fixes.Fix(fixes.manual('correct nextRange (see '
                                           'NextRangeCheck)'))), **fields)
            return
        left, standby = source
        fields['standby_available'] = str(standby)
        if left >= transfer or standby >= transfer:
            where = 'active' if left >= transfer else 'standby'
            yield self.result(
                constants.SUCCESS, repo.key, 'A clone made from this server '
                'can take its ' + repo.kind.title + ' from the end of the ' +
                where + ' range ({left_in_range} left in the active range, '
                '{standby_available} in standby' + note + ', transfer size '
                '{transfer_size}).', **fields)
            return
        if standby:
            outcome = ('takes {transfer_size} numbers from the end of a '
                       'standby range that holds only {standby_available}: '
                       'the clone gets numbers below that range which this '
                       'server does not own and another server may (an '
                       'overlap risk)')
        else:
            outcome = ('fails with a server error: less than the transfer '
                       'size is left and there is no standby range to take '
                       'it from' + ('' if repo.kind.numbered or
                                    repo.serial_management else
                                    ', and with serial management off '
                                    'Dogtag allocates none'))
        fix = fixes.new_clones_elsewhere()
        if standby:
            fix += fixes.alternative(_edit(
                database, fields, 'remove the dbs.next* values so that '
                'Dogtag allocates a full standby range from nextRange'), None)
        elif repo.kind.numbered:
            fix += fixes.alternative(_edit(
                database, fields, 'let this server get a standby range '
                'first: set dbs.enableSerialManagement=true'), None)
        yield self.result(
            constants.WARNING, repo.key, 'Only {left_in_range} numbers are '
            'left in the active range {range_cfg} and the clone transfer size '
            'is {transfer_size}: the next clone created from this server ' +
            outcome + ' (dogtagpki ticket 3055). Fix: {fix}.', fix=fix,
            **fields)

    def _standby_source(self, repo, left, fields):
        """((numbers left, standby size) as UpdateNumberRange will see them,
        note) or (None, '') when it cannot read the range at all."""
        standby = _size(repo.standby)
        if repo.kind.numbered:
            return (left, standby), ''
        active = repo.active
        if active.begin >= active.end:
            # ReplicaIDRepository reads no ID there (low >= high):
            # initCache moves to the standby range or fails.
            if not repo.standby or repo.standby.begin >= repo.standby.end:
                return None, ('it holds no ID Dogtag can read (begin >= '
                              'end) and there is no standby range')
            left, standby = repo.standby.end - repo.standby.begin, 0
        low = repo.setting('LowWaterMark')
        increment = repo.setting('Increment')
        fields['low_water_mark'] = None if low is None else str(low)
        if repo.serial_management and low is not None and increment and \
                left + standby < low:
            text = bookkeeping.next_range(self.context.directory(), repo)
            if not (text and text.isdigit()):
                # getNextRange() returns null and checkRanges() then throws
                # on new BigInteger(null, radix): the transfer fails
                # (Repository.java, master; v10.10.0 likewise).
                fields.update(next_range_dn=repo.next_range_dn,
                              next_range=text)
                return None, (
                    'Dogtag first allocates a standby range (fewer IDs '
                    'than the low-water mark {low_water_mark} are left), '
                    'but {next_range_dn} has no readable nextRange')
            fields['standby_on_demand'] = str(increment)
            return (left, increment), (
                ' once Dogtag allocates one from nextRange, as it does '
                'before every replica ID transfer')
        return (left, standby), ''


@registry
class NextRangeCheck(BookkeepingCheck):
    """Is nextRange above every allocated range and this server's own?"""

    def judge(self, database, repo, fields):
        directory = self.context.directory()
        text = bookkeeping.next_range(directory, repo)
        recorded, unreadable = self.context.recorded_ranges(repo)
        fields.update(next_range=text, next_range_dn=repo.next_range_dn,
                      range_container=repo.range_container,
                      recorded_ranges=len(recorded),
                      unreadable_entries=unreadable)
        own_end = max(repo.active.end,
                      repo.standby.end if repo.standby else 0)
        other = None
        if repo.installer_next_range_dn != repo.next_range_dn:
            # legacy2 KRA keys: the installer and Dogtag disagree on where
            # nextRange lives (see Repository.installer_next_range_dn).
            other = bookkeeping.next_range(directory, repo,
                                           repo.installer_next_range_dn)
            fields.update(installer_next_range_dn=repo.installer_next_range_dn,
                          installer_next_range=other)
        if text is None:
            fields['fix'] = _set_next_range(repo, recorded, own_end, database)
            yield self.result(
                constants.ERROR if repo.serial_management else
                constants.WARNING, repo.key,
                '{next_range_dn} has no nextRange: Dogtag cannot allocate a '
                'new ' + repo.kind.title + ' range (serial management is ' +
                ('on' if repo.serial_management else 'off') + ')' + (
                    '. The installer wrote nextRange {installer_next_range} '
                    'to {installer_next_range_dn} instead, which Dogtag '
                    '(11.6 and later, KeyRepository) never reads'
                    if other is not None else '') + '. Fix: {fix}.',
                **fields)
            return
        try:
            start = bookkeeping.next_range_start(repo, text)
        except NumberError:
            fields['fix'] = _set_next_range(repo, recorded, own_end, database)
            yield self.result(
                constants.ERROR, repo.key, 'nextRange on {next_range_dn} is '
                '{next_range}: expected a decimal number of at most 99 '
                'digits (what Dogtag can store). Fix: {fix}.',
                **fields)
            return
        fields['next_range_start'] = str(start)
        above = [r for r in recorded if int(r.end_text) >= int(text)]
        if above:
            worst = max(above, key=lambda r: int(r.end_text))
            fields.update(conflicting_dn=worst.dn, conflicting_host=worst.host,
                          conflicting_end=worst.end_text,
                          fix=_set_next_range(repo, recorded, own_end,
                                              database))
            yield self.result(
                constants.ERROR, repo.key, 'nextRange {next_range} is not '
                'above the range recorded as {conflicting_dn} (host '
                '{conflicting_host}, endRange {conflicting_end}): the next '
                'allocation hands out numbers already allocated. '
                'Fix: {fix}.', **fields)
        elif start <= own_end:
            fields['fix'] = _set_next_range(repo, recorded, own_end, database)
            yield self.result(
                constants.ERROR, repo.key, 'nextRange {next_range} makes the '
                'next allocated range start at {next_range_start}, inside '
                'this server\'s own range {range_cfg} (decimal {range_begin}'
                '..{range_end})' + (' or its standby range' if repo.standby
                                    else '') + '. Fix: {fix}.', **fields)
        elif unreadable:
            yield self.result(
                constants.WARNING, repo.key, '{range_container} holds '
                'range entries whose beginRange or endRange is not a '
                'decimal number: {unreadable_entries}. Correct or remove '
                'them.', **fields)
        elif other is not None and other != text:
            highest = max(int(v) for v in (text, other) if v.isdigit())
            fields['fix'] = _set_next_range(
                repo, recorded, own_end, database, at_least=highest) + \
                fixes.Fix(fixes.writes('set the same value on %s'
                                       % fixes.quote(
                                           repo.installer_next_range_dn)))
            yield self.result(
                constants.WARNING, repo.key, 'nextRange {next_range} on '
                '{next_range_dn}, which Dogtag reads for legacy2 KRA keys '
                '(KeyRepository keeps the SSNv1 location), differs from '
                'nextRange {installer_next_range} that the installer wrote to '
                '{installer_next_range_dn}: a PKI or tool that reads the '
                'latter would hand out ranges already allocated. Fix: {fix}.',
                **fields)
        else:
            yield self.result(
                constants.SUCCESS, repo.key, 'nextRange {next_range} (next '
                'range from {next_range_start}) is above this server\'s '
                'ranges and all {recorded_ranges} recorded allocations.',
                **fields)


def _edit(database, fields, what):
    """Stop the PKI instance, edit the subsystem's CS.cfg, start it."""
    return fixes.cs_cfg_edit(database, 'in %s, %s' % (
        fixes.quote(fields.get('cs_cfg') or 'CS.cfg'), what))


def _set_next_range(repo, recorded, own_end, database, at_least=0):
    """A nextRange value above everything allocated, and how to set it."""
    floor = max([int(r.end_text) for r in recorded] + [0]) + 1
    if repo.hex_digits_in_ldap:
        # Dogtag reads the digits as hex for the range itself: the digits
        # must be above every recorded endRange and, read as hex, above
        # this server's own range.
        value = max(floor, int(_digits_only_hex_above(own_end)))
    else:
        value = max(floor, own_end + 1)
    return fixes.set_next_range(database, repo.next_range_dn,
                                max(value, at_least))


def _digits_only_hex_above(number):
    """The smallest hex string of digits 0-9 only whose value exceeds
    `number` (SSNv1 cannot use a-f in range values)."""
    text = format(number + 1, 'x')
    for i, char in enumerate(text):
        if char not in '0123456789':
            return str(int(text[:i] or '0') + 1) + '0' * (len(text) - i)
    return text


@registry
class RangeOverlapCheck(BookkeepingCheck):
    """Do this server's ranges overlap what other hosts were allocated?"""

    def judge(self, database, repo, fields):
        recorded, _ = self.context.recorded_ranges(repo)
        local = (fields.get('server') or database.hostname or '').lower()
        transfer = repo.setting('CloneTransferNumber')
        fields['recorded'] = [r.fields() for r in recorded]
        overlaps, delegated = [], []
        for name, mine in (('active', repo.active),
                           ('standby', repo.standby)):
            if mine is None:
                continue
            for other in recorded:
                if other.host == local or mine.end < other.begin or \
                        other.end < mine.begin:
                    continue
                if name == 'active' and _delegated(mine, other, transfer):
                    delegated.append(other.dn)
                else:
                    overlaps.append(dict(other.fields(), mine=name))
        fields['delegated_from'] = delegated
        if not overlaps:
            yield self.result(
                constants.SUCCESS, repo.key, 'This server\'s ' +
                repo.kind.title + ' ranges overlap none of the {count} '
                'ranges recorded for other hosts under {range_container}' + (
                    ' (the active range was handed over from {delegated})'
                    if delegated else '') + '.',
                count=sum(1 for r in recorded if r.host != local),
                range_container=repo.range_container,
                delegated=', '.join(delegated), **fields)
            return
        first = overlaps[0]
        fields.update(overlaps=overlaps, other_host=first['host'],
                      other_dn=first['dn'], other_begin=first['begin'],
                      other_end=first['end'], mine=first['mine'],
                      extent_rule=first['rule'])
        yield self.result(
            constants.ERROR, repo.key, 'This server\'s {mine} range (decimal '
            + ('{range_begin}..{range_end}' if first['mine'] == 'active' else
               '{standby_begin}..{standby_end}') + ') overlaps the range '
            'recorded for {other_host} ({other_dn}: decimal {other_begin}..'
            '{other_end}, read as {extent_rule}): both servers may issue the '
            'same numbers. Fix: {fix}.', fix=fixes.Fix(
                fixes.reads(fixes.CLUSTER_REPORT),
                fixes.manual('stop issuing on one of them and give it a '
                             'fresh range above nextRange')), **fields)


def _delegated(mine, other, transfer):
    """A clone's range taken from the end of `other`'s allocation: it lies
    inside it and has exactly the transfer size."""
    return (transfer is not None and other.begin <= mine.begin and
            mine.end <= other.end and mine.end - mine.begin + 1 == transfer)


@registry
class RangeConflictCheck(BookkeepingCheck):
    """Was one range allocated twice, on two servers at once?"""

    def judge(self, database, repo, fields):
        found = bookkeeping.conflicts(self.context.directory(), repo)
        fields['range_container'] = repo.range_container
        if not found:
            yield self.result(
                constants.SUCCESS, repo.key, 'No replication conflict among '
                'the range records under {range_container}.', **fields)
            return
        dn, host, begin, end, reason = found[0]
        fields.update(conflicts=[c[0] for c in found], conflict_dn=dn,
                      conflict_host=host, conflict_range='%s..%s' % (
                          begin, end), conflict=reason)
        yield self.result(
            constants.ERROR, repo.key, '{range_container} holds '
            '{count} replication conflict entries, e.g. {conflict_dn} '
            '(host {conflict_host}, range {conflict_range}: {conflict}): two '
            'servers allocated the same range before either saw the other\'s '
            'record, and both may issue its numbers. Fix: {fix}.',
            fix=fixes.range_conflict(database, dn), count=len(found),
            **fields)
