"""Range bookkeeping: this server's ranges in CS.cfg against each other,
against nextRange and against the allocations the directory records.

Every result carries this server's ranges (as in CS.cfg and in decimal)
and `server`, so the JSON of all servers tells who owns what; the cluster
report reads exactly that.
"""

from ipahealthcheck.core import constants

from ipahealthcheck_dogtag.dogtag import bookkeeping
from ipahealthcheck_dogtag.checks.ranges.base import RangeCheck
from ipahealthcheck_dogtag.directory import DirectoryError
from ipahealthcheck_dogtag.discovery import Finding
from ipahealthcheck_dogtag.dogtag.numbers import NumberError
from ipahealthcheck_dogtag.checks.plugin import registry


class BookkeepingCheck(RangeCheck):
    numbered_only = False       # replica ID ranges are bookkept the same way

    def check_repository(self, database, repo, fields, deadline):
        try:
            yield from self.judge(database, repo, fields)
        except Finding as finding:          # a malformed dbs.* setting
            yield self.result(constants.ERROR, repo.key, finding.msg,
                              **dict(fields, **finding.fields))
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
    """Is the active range a range, and does the standby range follow it?"""

    def judge(self, database, repo, fields):
        active, standby = repo.active, repo.standby
        if active.begin > active.end:
            yield self.result(
                constants.ERROR, repo.key, 'The active range {range_cfg} '
                '(decimal {range_begin}..{range_end}) ends before it '
                'begins: Dogtag finds no number to issue. Fix: with the CA '
                'stopped, restore dbs.begin/end values from CS.cfg.bak or '
                'from the range this server was given.', **fields)
        elif standby and standby.begin > standby.end:
            yield self.result(
                constants.ERROR, repo.key, 'The standby range {standby_cfg} '
                '(decimal {standby_begin}..{standby_end}) ends before it '
                'begins. Fix: with the CA stopped, remove the dbs.next* '
                'values so that Dogtag allocates a new standby range.',
                **fields)
        elif standby and standby.begin <= active.end:
            yield self.result(
                constants.ERROR, repo.key, 'The standby range {standby_cfg} '
                '(decimal {standby_begin}..{standby_end}) does not follow '
                'the active range {range_cfg} (decimal {range_begin}..'
                '{range_end}): when Dogtag switches to it, it issues numbers '
                'of the active range again. Fix: with the CA stopped, remove '
                'the dbs.next* values so that Dogtag allocates a new standby '
                'range from nextRange.', **fields)
        else:
            yield self.result(
                constants.SUCCESS, repo.key, 'The active range {range_cfg} '
                'is valid' + (' and the standby range {standby_cfg} follows '
                              'it.' if standby else '; there is no standby '
                              'range.'), **fields)


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


@registry
class CloneTransferCheck(BookkeepingCheck):
    """Can the next clone made from this server get its numbers here?

    A new clone takes the transfer size from the end of its master's active
    range; when less is left there, from the end of the standby range, and
    with no standby range the request fails with a server error (dogtagpki
    ticket 3055: a clone of a clone whose range equals the transfer size).
    """

    def judge(self, database, repo, fields):
        transfer = repo.setting('CloneTransferNumber')
        left, problem = self.usage(repo, fields)
        if problem is not None:
            yield problem
            return
        fields['transfer_size'] = None if transfer is None else str(transfer)
        if transfer is None or left > transfer or \
                _size(repo.standby) > transfer:
            yield self.result(
                constants.SUCCESS, repo.key, 'A clone made from this server '
                'can take its ' + repo.kind.title + ' from here ({left_in_range} '
                'left in the active range, {standby_size} in standby, '
                'transfer size {transfer_size}).', **fields)
            return
        outcome = ('takes every remaining number, and this server must then '
                   'switch to a standby range it does not have'
                   if left == transfer else
                   'fails with a server error: less than the transfer size '
                   'is left and there is no standby range to take it from')
        yield self.result(
            constants.WARNING, repo.key, 'Only {left_in_range} numbers are '
            'left in the active range {range_cfg} and the clone transfer size '
            'is {transfer_size}: the next clone created from this server ' +
            outcome + ' (dogtagpki ticket 3055). Fix: create new clones from '
            'another CA server, or let this one get a standby range first '
            '(dbs.enableSerialManagement=true and a restart).', **fields)


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
        if text is None:
            fields['fix'] = _set_next_range(repo, recorded, own_end, database)
            yield self.result(
                constants.ERROR if repo.serial_management else
                constants.WARNING, repo.key,
                '{next_range_dn} has no nextRange: Dogtag cannot allocate a '
                'new ' + repo.kind.title + ' range (serial management is ' +
                ('on' if repo.serial_management else 'off') + '). '
                'Fix: {fix}.', **fields)
            return
        try:
            start = bookkeeping.next_range_start(repo, text)
        except NumberError:
            fields['fix'] = _set_next_range(repo, recorded, own_end, database)
            yield self.result(
                constants.ERROR, repo.key, 'nextRange on {next_range_dn} is '
                '{next_range}: expected a decimal number. Fix: {fix}.',
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
        else:
            yield self.result(
                constants.SUCCESS, repo.key, 'nextRange {next_range} (next '
                'range from {next_range_start}) is above this server\'s '
                'ranges and all {recorded_ranges} recorded allocations.',
                **fields)


def _set_next_range(repo, recorded, own_end, database):
    """A nextRange value above everything allocated, and how to set it."""
    floor = max([int(r.end_text) for r in recorded] + [0]) + 1
    if repo.hex_digits_in_ldap:
        # Dogtag reads the digits as hex for the range itself: the digits
        # must be above every recorded endRange and, read as hex, above
        # this server's own range.
        value = max(floor, int(_digits_only_hex_above(own_end)))
    else:
        value = max(floor, own_end + 1)
    return ('on one CA server, ldapmodify -Y EXTERNAL -H %s with "dn: %s", '
            '"changetype: modify", "replace: nextRange", "nextRange: %d" '
            '(above every range allocated so far; check the other servers\' '
            'ranges with the cluster report first)'
            % (database.ldap_uri, repo.next_range_dn, value))


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
            'same numbers. Fix: stop issuing on one of them and give it a '
            'fresh range above nextRange (check every server with the '
            'cluster report first).', **fields)


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
            'record, and both may issue its numbers. Fix: find which servers '
            'hold that range in CS.cfg (dogtag-clustercheck), give all but '
            'one a fresh range above nextRange with the CAs stopped, then '
            'delete the conflict entry.', count=len(found), **fields)
