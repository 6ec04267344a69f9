"""Dogtag's last-number lookup against the truth, and its VLV indices."""

from ipahealthcheck_dogtag.dogtag import fixes, limits, truth, vlv
from ipahealthcheck_dogtag.checks.ranges.base import RangeCheck
from ipahealthcheck_dogtag.directory import (
    OUT_OF_TIME, REFUSED, DirectoryError)
from ipahealthcheck_dogtag.dogtag.last_number import (
    PROOF_PROBE, PROOF_SCAN, Evidence, judge, range_in_use)
from ipahealthcheck_dogtag.dogtag.numbers import encode
from ipahealthcheck_dogtag.dogtag.lookup import (
    Answer, BadValue, dogtag_lookup, uses_sorted_search, vlv_lookup)
from ipahealthcheck_dogtag.checks.plugin import registry
from ipahealthcheck_dogtag.findings import ERROR, WARNING
from ipahealthcheck_dogtag.findings import ranges as F

# A capped count runs after a scan that spent the budget: the margin left
# before the check's own time limit (checks/plugin.py) bounds it.
COUNT_SECONDS = 1


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
        evidence = self.gather(database, repo, fields, deadline)
        for verdict in judge(evidence):
            yield self.verdict(verdict)

    def gather(self, database, repo, facts, deadline):
        """The Evidence about one repository: Dogtag's answer, then reads
        that share no index with it."""
        used, extra = range_in_use(repo)
        ev = Evidence(used or repo, database, dict(facts, **extra))
        if used is None:
            ev.range_usable = False
            return ev
        try:
            ev.answer = self.context.lookup(used)
        except (BadValue, DirectoryError) as e:
            if isinstance(e, DirectoryError) and e.connection:
                raise           # the check's one `ldap` result says it
            ev.lookup_error = e
            return ev
        try:
            self.read_records(ev, deadline)
        except DirectoryError as e:
            if e.connection:
                raise
            ev.read_error = e
            return ev
        ev.vlv_usable = vlv_usable(self.context, used)
        self.read_vlv_rights(ev)
        self.read_first_in_range(ev)
        ev.timeout = self.context.settings.timeout
        return ev

    def read_records(self, ev, deadline):
        repo, database, answer = ev.repo, ev.database, ev.answer
        directory = self.context.directory()
        ev.bind = self.limits(database, repo)   # before the scan's cost
        remaining = deadline - self.now() if deadline else 10
        ev.probe = truth.probe(directory, repo, answer.last, remaining)
        before = truth.subordinates(directory, repo.container)
        ev.scan = self.context.scan(repo, deadline)
        # Judge against Dogtag's answer after the scan: a record issued
        # while we read is then below it, a record the index misses is
        # still above it.
        last = self.repeat_lookup(directory, repo, database, answer)
        ev.subordinates = truth.subordinates(directory, repo.container)
        ev.last, ev.next_dn, ev.next_taken = self.next_record(
            directory, repo, database, last)
        ev.one_level_missing = truth.one_level_missing(
            directory, repo, ev.scan, before, ev.subordinates)
        if ev.one_level_missing or ev.next_taken:
            ev.matching_rules = truth.matching_rules(
                directory, repo.subsystem.database)
        ev.counts = self.limit_counts(directory, database, repo, ev.scan,
                                      ev.bind, ev.subordinates)

    def read_vlv_rights(self, ev):
        """May Dogtag's bind use the VLV index that serves its request?
        Asked only where it decides the answer: up to PKI 11.5, for a bind
        other than root that exists (vlv.may_use)."""
        bind = ev.bind
        if ev.sorted_search or bind.root or not bind.user_found or \
                not ev.vlv_usable:
            return
        definition = self.context.vlv_definitions(
            ev.repo.subsystem.database)[ev.repo.vlv_name.lower()]
        ev.vlv_search = definition.dn
        try:
            ev.vlv_rights = vlv.may_use(self.context.directory(),
                                        definition, bind.dn)
        except DirectoryError as e:
            if e.connection:
                raise
            ev.vlv_rights_error = e

    def read_first_in_range(self, ev):
        """The range's lowest record, which a VLV lookup over its limits
        reissues first; read by DN when the scan stopped early."""
        scan, repo = ev.scan, ev.repo
        ev.first_in_range = (scan.first_in_range, scan.first_in_range_dn)
        if scan.first_in_range is not None or scan.complete or \
                ev.sorted_search or ev.limit_verdict is None:
            return
        begin = repo.active.begin
        dn, taken = truth.next_taken(self.context.directory(), repo,
                                     begin - 1)
        if taken:
            ev.first_in_range = (begin, dn)

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


@registry
class VLVIndexCheck(RangeCheck):
    """Are the VLV indices behind Dogtag's lookup defined, built and complete?"""

    def check_repository(self, database, repo, fields, deadline):
        if repo.vlv_name is None:
            return                  # Dogtag's key lookup never had an index
        used, extra = range_in_use(repo)
        repo, fields = used or repo, dict(fields, **extra)
        try:
            yield from self.check_index(database, repo, fields, deadline)
        except DirectoryError as e:
            if e.connection:
                raise           # down or silent: not a permission problem
            yield self.finding(
                F.VLV_UNREADABLE_REFUSED if e.reason == REFUSED
                else F.VLV_UNREADABLE, repo.vlv_name, index=repo.vlv_name,
                error=e.error, repository=repo.key)

    @staticmethod
    def faulty(database):
        """The level of a faulty index by what it means to this PKI: up to
        11.5 Dogtag's start-up lookup uses it (VLV_RULE)."""
        if uses_sorted_search(database.pki_version):
            return WARNING
        return ERROR

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
        faulty = self.faulty(database)
        version = database.pki_version
        definitions = self.context.vlv_definitions(repo.subsystem.database)
        definition = definitions.get(name.lower())
        if definition is None or not definition.has_index:
            if version is not None and tuple(version) >= (11, 7):
                yield self.finding(F.VLV_NOT_NEEDED, name, **fields)
            else:
                yield self.finding(
                    F.VLV_MISSING, name, level=faulty,
                    fix=fixes.vlv_recreate(repo, database), **fields)
            return
        wrong = definition.mismatches(repo)
        if wrong:
            yield self.finding(
                F.VLV_MISMATCH, name, level=faulty, mismatches=wrong,
                fix=fixes.vlv_edit(repo, database,
                                   definition.mismatched_attributes(repo)),
                **fields)
            return
        scan = self.context.scan(repo, deadline)
        fields.update(records=scan.matching, scan_complete=scan.complete,
                      vlv_enabled=definition.built)
        if not definition.built and self.never_opened(repo, definition):
            yield self.finding(F.VLV_NEVER_OPENED, name,
                               fix=fixes.vlv_reindex(repo, database),
                               **fields)
            return
        stat = lmdb_stat(self.context, repo, definition)
        if stat is not None and stat.entries is not None:
            fields.update(indexed_on_disk=stat.entries,
                          lmdb_flags=sorted(stat.flags))
        if not definition.built and scan.complete and stat is not None \
                and not stat.dirty and stat.entries is not None:
            # vlvEnabled: 0 on LMDB with a database 389-DS can open: the
            # first matching VLV search switches it on (see built_on_lmdb),
            # so what counts is whether that database holds every record.
            if stat.entries >= scan.matching:
                yield self.finding(F.VLV_ON_DISK, name, **fields)
            else:
                yield self.finding(
                    F.VLV_ON_DISK_INCOMPLETE, name, level=faulty,
                    fix=fixes.vlv_reindex(repo, database), **fields)
            return
        if not definition.built:
            if scan.complete and scan.matching == 0:
                yield self.finding(F.VLV_UNBUILT_EMPTY, name, **fields)
            else:
                # Up to 11.5 389-DS treats an unbuilt index exactly like a
                # missing one (vlvSearch_findenabled): an error there.
                yield self.finding(
                    F.VLV_UNBUILT if faulty == ERROR
                    else F.VLV_UNBUILT_UNUSED, name,
                    fix=fixes.vlv_reindex(repo, database), **fields)
            return
        indexed = self.context.directory().vlv_count(
            repo.container, definition.filter, repo.kind.attribute)
        before = scan.vlv_count_before
        fields['indexed'] = indexed
        if before is not None and before != indexed:
            fields['indexed_before_scan'] = before
        if not scan.complete:
            yield self.unproven(database, repo, fields, faulty)
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
            yield self.finding(F.VLV_INCOMPLETE, name, level=faulty,
                               fix=fixes.vlv_reindex(repo, database),
                               **fields)
        else:
            yield self.finding(F.VLV_COMPLETE, name, proof=PROOF_SCAN,
                               **fields)

    def unproven(self, database, repo, fields, faulty):
        """The scan did not finish: prove instead that a VLV lookup through
        the index finds the last number the equality index knows."""
        directory = self.context.directory()
        answer = vlv_lookup(directory, repo)
        remaining = max(1, self.context.settings.timeout)
        found = truth.probe(directory, repo, answer.last, remaining)
        fields = dict(fields, vlv_last=str(answer.last))
        attribute = repo.kind.attribute
        if not found.truncated and not found.found:
            return self.finding(F.VLV_TOP_CURRENT, repo.vlv_name,
                                proof=PROOF_PROBE, attribute=attribute,
                                **fields)
        if found.found:
            first, first_dn = found.numbers[0]
            return self.finding(
                F.VLV_TOP_STALE, repo.vlv_name, level=faulty,
                first_missing=str(first), first_missing_dn=first_dn,
                attribute=attribute, fix=fixes.vlv_reindex(repo, database),
                **fields)
        return self.finding(F.VLV_UNPROVEN, repo.vlv_name, **fields)
