"""Range bookkeeping: this server's ranges in CS.cfg against each other,
against nextRange and against the allocations the directory records.

Every result carries this server's ranges (as in CS.cfg and in decimal)
and `server`, so the JSON of all servers tells who owns what; the cluster
report reads exactly that. The findings are declared in
findings/bookkeeping.py (DTR0300-DTR0399).
"""

from ipahealthcheck_dogtag.dogtag import bookkeeping, fixes
from ipahealthcheck_dogtag.checks.ranges.base import RangeCheck
from ipahealthcheck_dogtag.directory import DirectoryError
from ipahealthcheck_dogtag.discovery import Problem
from ipahealthcheck_dogtag.dogtag.bookkeeping import size
from ipahealthcheck_dogtag.dogtag.numbers import NumberError
from ipahealthcheck_dogtag.checks.plugin import registry
from ipahealthcheck_dogtag.findings import bookkeeping as F


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
            yield self.finding(F.READ_FAILED, repo.key, error=e.error,
                               what=e.what, **fields)

    def judge(self, database, repo, fields):
        raise NotImplementedError

    def usage(self, repo, fields):
        """((numbers left in the active range, the usage facts
        last_used, left_in_range and standby_size), None), or (None, the
        result that explains why they are not known)."""
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
        return (left, dict(last_used=str(last), left_in_range=str(left),
                           standby_size=str(size(repo.standby)))), None


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
        cs_cfg = fields.get('cs_cfg')
        if active.begin >= active.end:
            usable_standby = standby and standby.begin < standby.end
            shape = bookkeeping.shape(active)
            if usable_standby:
                yield self.finding(F.ACTIVE_SPENT, repo.key, shape=shape,
                                   **fields)
            elif not repo.kind.numbered:
                yield self.finding(
                    F.REPLICA_IDS_EMPTY, repo.key, shape=shape,
                    fix=fixes.replica_id_range_restore(database, cs_cfg),
                    **fields)
            else:
                yield self.finding(
                    F.ACTIVE_EMPTY, repo.key, shape=shape,
                    fix=fixes.active_range_restore(database, cs_cfg),
                    **fields)
        elif standby and standby.begin >= standby.end:
            yield self.finding(
                F.STANDBY_EMPTY, repo.key, shape=bookkeeping.shape(standby),
                fix=fixes.standby_range_reset(database, cs_cfg), **fields)
        elif standby and standby.begin <= active.end:
            yield self.finding(
                F.STANDBY_NOT_FOLLOWING, repo.key,
                fix=fixes.standby_range_reset(database, cs_cfg), **fields)
        elif standby:
            yield self.finding(F.RANGES_VALID, repo.key, **fields)
        else:
            yield self.finding(F.RANGE_VALID_NO_STANDBY, repo.key, **fields)


@registry
class RangeDepletionCheck(BookkeepingCheck):
    """Will this server run out of numbers?

    Replica IDs are not issued: Dogtag only hands ranges of them to new
    clones. It checks this range only in UpdateNumberRange, which for
    replicaId calls checkRanges() before the transfer and so allocates a
    standby range on demand; no start-up or periodic task does: every
    other checkRanges() caller is for certificates, keys or requests
    (CMSEngine, CertificateRepository and KeyRepository tasks in v10.5.18;
    CAEngine, KRAEngine, SerialNumberUpdateTask and KeyStatusUpdateTask in
    v11.5.0 and master). Every clone gets a range of
    dbs.replicaCloneTransferNumber (5) IDs, below the low-water mark (20)
    from the start: pkispawn always requests replicaId
    (ConfigurationUtils.java v10.5.18; subsystem.py request_ranges
    v10.10.0 .. master). In IPA nothing consumes them (it sets up o=ipaca
    replication itself); only Dogtag's own replication setup takes IDs
    from dbs.beginReplicaNumber (SubsystemDBReplicationEnableCLI, master).
    Whether the next clone can be served is CloneTransferCheck's.
    """

    def judge(self, database, repo, fields):
        known, problem = self.usage(repo, fields)
        if problem is not None:
            yield problem
            return
        left, used = known
        low = repo.setting('LowWaterMark')
        managed = repo.serial_management
        facts = dict(fields, low_water_mark=None if low is None else str(low),
                     serial_management=managed, **used)
        if not repo.kind.numbered:
            yield self.finding(F.REPLICA_IDS_ON_DEMAND, repo.key, **facts)
        elif left == 0 and not repo.standby:
            yield self.finding(
                F.RANGE_EXHAUSTED if managed else F.RANGE_EXHAUSTED_UNMANAGED,
                repo.key, fix=self._more_numbers(database, repo, fields),
                **facts)
        elif low is not None and left + size(repo.standby) < low:
            yield self.finding(
                F.RANGE_LOW if managed else F.RANGE_LOW_UNMANAGED,
                repo.key, fix=self._more_numbers(database, repo, fields),
                **facts)
        elif low is not None:
            yield self.finding(F.ENOUGH_LEFT, repo.key, **facts)
        else:
            yield self.finding(F.LEFT_NO_MARK, repo.key, **facts)

    @staticmethod
    def _more_numbers(database, repo, fields):
        if repo.serial_management:
            return fixes.range_allocation_retry(database)
        return fixes.serial_management_on(database, fields.get('cs_cfg'))


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
        known, problem = self.usage(repo, fields)
        if problem is not None:
            yield problem
            return
        left, used = known
        prop = 'dbs.%sCloneTransferNumber' % repo.kind.prefix.lower()
        facts = dict(fields, transfer_property=prop, transfer_size=None if
                     transfer is None else str(transfer), **used)
        cs_cfg = fields.get('cs_cfg')
        if transfer is None:
            yield self.finding(
                F.TRANSFER_SIZE_MISSING, repo.key,
                fix=fixes.transfer_size_set(database, cs_cfg, prop), **facts)
            return
        blocked, seen, left, standby = self._standby_source(repo, left)
        facts.update(seen)
        if blocked is not None:
            yield self.finding(blocked, repo.key, **facts)
            return
        facts['standby_available'] = str(standby)
        if left >= transfer:
            yield self.finding(F.CLONE_FROM_ACTIVE, repo.key, **facts)
        elif standby >= transfer:
            yield self.finding(
                F.CLONE_FROM_STANDBY_ON_DEMAND if 'standby_on_demand' in facts
                else F.CLONE_FROM_STANDBY, repo.key, **facts)
        elif standby:
            yield self.finding(
                F.CLONE_CUTS_BELOW_STANDBY, repo.key,
                fix=fixes.clone_standby_small(database, cs_cfg), **facts)
        elif repo.kind.numbered:
            yield self.finding(
                F.CLONE_NO_STANDBY, repo.key,
                fix=fixes.clone_no_standby(database, cs_cfg), **facts)
        else:
            yield self.finding(F.CLONE_IDS_NO_STANDBY, repo.key,
                               serial_management=repo.serial_management,
                               **facts)

    def _standby_source(self, repo, left):
        """(None, facts, numbers left, standby size) as UpdateNumberRange
        will see them, or (the finding, facts, None, None) when it cannot
        read the range at all."""
        standby = size(repo.standby)
        if repo.kind.numbered:
            return None, {}, left, standby
        active = repo.active
        if active.begin >= active.end:
            # ReplicaIDRepository reads no ID there (low >= high):
            # initCache moves to the standby range or fails.
            if not repo.standby or repo.standby.begin >= repo.standby.end:
                return F.CLONE_IDS_RANGE_EMPTY, {}, None, None
            left, standby = repo.standby.end - repo.standby.begin, 0
        low = repo.setting('LowWaterMark')
        increment = repo.setting('Increment')
        facts = {'low_water_mark': None if low is None else str(low)}
        if repo.serial_management and low is not None and increment and \
                left + standby < low:
            text = bookkeeping.next_range(self.context.directory(), repo)
            if not (text and text.isdigit()):
                # getNextRange() returns null and checkRanges() then throws
                # on new BigInteger(null, radix): the transfer fails
                # (Repository.java, master; v10.10.0 likewise).
                facts.update(next_range_dn=repo.next_range_dn,
                             next_range=text)
                return F.CLONE_IDS_NO_NEXT_RANGE, facts, None, None
            facts['standby_on_demand'] = str(increment)
            standby = increment
        return None, facts, left, standby


@registry
class NextRangeCheck(BookkeepingCheck):
    """Is nextRange above every allocated range and this server's own?"""

    def judge(self, database, repo, fields):
        directory = self.context.directory()
        text = bookkeeping.next_range(directory, repo)
        recorded, unreadable = self.context.recorded_ranges(repo)
        facts = dict(fields, next_range=text,
                     next_range_dn=repo.next_range_dn,
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
            facts.update(installer_next_range_dn=repo.installer_next_range_dn,
                         installer_next_range=other)

        def reset(at_least=0):
            return fixes.set_next_range(
                database, repo.next_range_dn, bookkeeping.safe_next_range(
                    repo, recorded, own_end, at_least))

        managed = repo.serial_management
        if text is None:
            if other is not None:
                finding = F.NEXT_RANGE_ELSEWHERE if managed else \
                    F.NEXT_RANGE_ELSEWHERE_UNMANAGED
            else:
                finding = F.NEXT_RANGE_MISSING if managed else \
                    F.NEXT_RANGE_MISSING_UNMANAGED
            yield self.finding(finding, repo.key, fix=reset(), **facts)
            return
        try:
            start = bookkeeping.next_range_start(repo, text)
        except NumberError:
            yield self.finding(F.NEXT_RANGE_NOT_A_NUMBER, repo.key,
                               fix=reset(), **facts)
            return
        facts['next_range_start'] = str(start)
        above = [r for r in recorded if int(r.end_text) >= int(text)]
        if above:
            worst = max(above, key=lambda r: int(r.end_text))
            yield self.finding(
                F.NEXT_RANGE_NOT_ABOVE, repo.key, conflicting_dn=worst.dn,
                conflicting_host=worst.host, conflicting_end=worst.end_text,
                fix=reset(), **facts)
        elif start <= own_end:
            yield self.finding(F.NEXT_RANGE_INSIDE_OWN, repo.key,
                               fix=reset(), **facts)
        elif unreadable:
            yield self.finding(F.RECORDS_MALFORMED, repo.key, **facts)
        elif other is not None and other != text:
            highest = max(int(v) for v in (text, other) if v.isdigit())
            yield self.finding(
                F.NEXT_RANGE_COPIES_DIFFER, repo.key,
                fix=fixes.next_range_align(
                    database, repo.next_range_dn, bookkeeping.safe_next_range(
                        repo, recorded, own_end, highest),
                    repo.installer_next_range_dn), **facts)
        else:
            yield self.finding(F.NEXT_RANGE_ABOVE, repo.key, **facts)


@registry
class RangeOverlapCheck(BookkeepingCheck):
    """Do this server's ranges overlap what other hosts were allocated?"""

    def judge(self, database, repo, fields):
        recorded, _ = self.context.recorded_ranges(repo)
        local = (fields.get('server') or database.hostname or '').lower()
        transfer = repo.setting('CloneTransferNumber')
        overlaps, delegated = [], []
        for name, mine in (('active', repo.active),
                           ('standby', repo.standby)):
            if mine is None:
                continue
            for other in recorded:
                if other.host == local or mine.end < other.begin or \
                        other.end < mine.begin:
                    continue
                if name == 'active' and \
                        bookkeeping.delegated(mine, other, transfer):
                    delegated.append(other.dn)
                else:
                    overlaps.append(dict(other.fields(), mine=name))
        facts = dict(fields, recorded=[r.fields() for r in recorded],
                     delegated_from=delegated)
        if not overlaps:
            yield self.finding(
                F.NO_OVERLAP_DELEGATED if delegated else F.NO_OVERLAP,
                repo.key, count=sum(1 for r in recorded if r.host != local),
                range_container=repo.range_container,
                delegated=', '.join(delegated), **facts)
            return
        first = overlaps[0]
        yield self.finding(
            F.RANGE_OVERLAP, repo.key, overlaps=overlaps,
            other_host=first['host'], other_dn=first['dn'],
            other_begin=first['begin'], other_end=first['end'],
            mine=first['mine'], extent_rule=first['rule'],
            fix=fixes.range_overlap(), **facts)


@registry
class RangeConflictCheck(BookkeepingCheck):
    """Was one range allocated twice, on two servers at once?"""

    def judge(self, database, repo, fields):
        found = bookkeeping.conflicts(self.context.directory(), repo)
        facts = dict(fields, range_container=repo.range_container)
        if not found:
            yield self.finding(F.NO_CONFLICT, repo.key, **facts)
            return
        dn, host, begin, end, reason = found[0]
        yield self.finding(
            F.RANGE_CONFLICT, repo.key, conflicts=[c[0] for c in found],
            conflict_dn=dn, conflict_host=host,
            conflict_range='%s..%s' % (begin, end), conflict=reason,
            count=len(found), fix=fixes.range_conflict(database, dn), **facts)


@registry
class RangeRecordCheck(BookkeepingCheck):
    """Does the active range in CS.cfg match this server's own record of
    it in the range container?

    Dogtag issues from CS.cfg and never reads its records back (see
    dogtag/bookkeeping.py record_verdict); other servers know this one's
    allocation only from the record. SSNv1 computed the two in different
    radixes (dogtagpki/pki PR #4840), and hand edits move them apart.
    """

    _VERDICTS = {
        bookkeeping.RECORD_NONE: F.RANGE_NOT_RECORDED,
        bookkeeping.RECORD_AGREES: F.RANGE_RECORD_AGREES,
        bookkeeping.RECORD_RADIX_GAP: F.RANGE_RECORD_RADIX_GAP,
        bookkeeping.RECORD_TAIL_HANDED_OVER: F.RANGE_RECORD_HANDED_OVER,
        bookkeeping.RECORD_EXCEEDED: F.RANGE_PAST_RECORD,
        bookkeeping.RECORD_SHORT: F.RANGE_SHORT_OF_RECORD,
    }

    def judge(self, database, repo, fields):
        recorded, _ = self.context.recorded_ranges(repo)
        local = (fields.get('server') or database.hostname or '').lower()
        record = bookkeeping.own_record(recorded, local, repo.active.begin)
        verdict, found = bookkeeping.record_verdict(
            repo, record, repo.setting('CloneTransferNumber'))
        facts = dict(fields, range_container=repo.range_container,
                     dogtag_uses='CS.cfg', **found)
        if verdict == bookkeeping.RECORD_EXCEEDED:
            facts['fix'] = fixes.range_end_to_record(
                database, fields.get('cs_cfg'),
                'dbs.end%sNumber' % repo.kind.prefix,
                bookkeeping.cfg_text(repo, int(found['reserved_end'])))
        yield self.finding(self._VERDICTS[verdict], repo.key, **facts)
