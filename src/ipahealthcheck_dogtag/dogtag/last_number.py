"""Does Dogtag's lookup find the real last number of its range?

LastNumberCheck gathers the `Evidence` of one repository (Dogtag's answer,
and what reads that share no index with it found, see truth.py); `judge`
gives the verdicts that evidence supports, as data: which finding (by its
name in the catalog), its key and its facts.
"""

import copy

from ipahealthcheck_dogtag.dogtag import limits
from ipahealthcheck_dogtag.dogtag.lookup import BadValue, uses_sorted_search

PROOF_SCAN = 'full scan'
PROOF_PROBE = 'equality index probe'
PROOF_NEXT_DN = 'base read of the next DN'
PROOF_SUBORDINATES = 'numSubordinates'

# Range fields a result about records outside Dogtag's filter leaves out:
# a whole-topology report takes a result that carries them for one that
# states this server's own range.
NOT_OUTSIDE = ('fix', 'first_reused', 'first_reused_dn', 'missing_records',
               'real_last', 'range_begin', 'range_end', 'standby_begin',
               'standby_end')


class Verdict:
    """A finding (its catalog name) with its key and facts. `fix_args` are
    the arguments of the fix builder its declaration names (None: the
    declaration's own fix, if any)."""

    def __init__(self, finding, key, facts, fix_args=None):
        self.finding = finding
        self.key = key
        self.facts = facts
        self.fix_args = fix_args


def range_in_use(repo):
    """(the repository with the range Dogtag looks up, facts saying so).

    The active range, or the standby one when the active range is empty or
    inverted (begin >= end): `getLastSerialNumberInRange` returns null for
    low >= high and `Repository.initCache` then switches to the standby
    range (dogtagpki/pki v11.5.0 Repository.java,
    CertificateRepository.java). (None, {}) when no range is usable.
    """
    active = repo.active
    if active.begin < active.end:
        return repo, {}
    standby = repo.standby
    if standby is None or standby.begin >= standby.end:
        return None, {}
    used = copy.copy(repo)
    used.active = standby
    return used, dict(used.fields(), range_used='standby')


def lookup_failure(repo, error, facts):
    """Why Dogtag's lookup gave no answer: a first record it cannot read
    (BadValue, PKI 11.6 and later) or a failed search (DirectoryError)."""
    if isinstance(error, BadValue):
        return Verdict('lookup-bad-value', repo.key, dict(
            facts, bad_dn=error.dn, bad_value=error.value,
            attribute=repo.kind.attribute))
    return Verdict('lookup-failed', repo.key, dict(facts, error=error.error))


def index_used(repo, answer):
    if answer.method == 'vlv':
        # Dogtag's KRA key lookup matches no VLV definition.
        return answer.index or 'none (389-DS sorts in memory)'
    return repo.kind.attribute.lower() + ' (equality index)'


class Evidence:
    """What was read about one repository, in the order it was read."""

    def __init__(self, repo, database, facts):
        self.repo = repo            # with the range Dogtag looks up
        self.database = database
        self.facts = facts          # the repository's: CS.cfg, PKI version
        self.range_usable = True
        self.lookup_error = None    # BadValue or DirectoryError: no answer
        self.answer = None          # Dogtag's lookup, before the scan
        self.read_error = None      # a DirectoryError reading the records
        self.probe = None           # truth.Probe above the answer
        self.scan = None            # truth.Scan of the container
        self.last = None            # Dogtag's answer after the scan
        self.next_dn = None         # the record it adds next ...
        self.next_taken = False     # ... exists (read by DN)
        self.subordinates = None    # numSubordinates after the scan
        self.one_level_missing = 0  # children one-level searches miss
        self.matching_rules = None  # parentid's, when a one-level fault shows
        self.bind = None            # limits.Limits of Dogtag's bind
        self.counts = None          # (candidates, children) for the limits
        self.vlv_usable = False     # a built VLV index serves its request
        self.vlv_search = None      # the vlvSearch DN, if its rights matter
        self.vlv_rights = None      # (allowed or None, rights) ...
        self.vlv_rights_error = None    # ... or why they were not read
        self.first_in_range = (None, None)  # (number, DN), the lowest seen
        self.timeout = None         # the configured timeout, for advice

    @property
    def sorted_search(self):
        return uses_sorted_search(self.database.pki_version)

    @property
    def limit_verdict(self):
        """limits.Verdict when Dogtag's own bind cannot run its lookup."""
        candidates, children = self.counts
        return limits.judge(self.bind, self.sorted_search, self.vlv_usable,
                            candidates, children)


def judge(ev):
    """The verdicts on one repository: bad number values, a VLV index
    Dogtag may not use, the answer itself, and records outside its
    filter, each only when it applies."""
    repo = ev.repo
    if not ev.range_usable:
        return [Verdict('active-range-invalid', repo.key, ev.facts)]
    if ev.lookup_error is not None:
        return [lookup_failure(repo, ev.lookup_error, ev.facts)]
    facts = dict(ev.facts, **ev.answer.fields())
    facts['index'] = index_used(repo, ev.answer)
    if ev.read_error is not None:
        return [Verdict('records-unreadable', repo.key,
                        dict(facts, error=ev.read_error.error))]
    scan, last = ev.scan, ev.last
    if ev.one_level_missing or ev.next_taken:
        facts['parentid_matching_rule'] = ev.matching_rules
    if last != ev.answer.last:
        facts.update(dogtag_last=str(last),
                     dogtag_last_before_scan=str(ev.answer.last))
    facts.update(next_dn=ev.next_dn, next_dn_exists=ev.next_taken,
                 subordinates=ev.subordinates, scan_complete=scan.complete,
                 records_scanned=scan.entries)
    verdicts = []
    if scan.bad_count:
        verdicts.append(bad_values(ev))
    if scan.complete:
        facts['records_in_range'] = scan.in_range
        above, outside = scan.above(last), scan.outside_above(last)
    else:
        above, outside = ev.probe.above(last), ev.probe.outside_above(last)
    refused = vlv_refused(ev, facts)
    if refused is not None:
        verdicts.append(refused)
    facts.update(ev.bind.fields(ev.sorted_search))
    # A record outside Dogtag's filter at the next number has its own
    # verdict.
    taken = ev.next_taken and last + 1 not in {n for n, _ in outside}
    answer = over_limit(ev, facts)
    if answer is None:
        if above:
            answer = stale(ev, facts, above)
        elif taken:
            answer = next_taken(ev, facts)
        elif ev.one_level_missing:
            answer = one_level_short(ev, facts)
        else:
            answer = proven(ev, facts)
    verdicts.append(answer)
    if outside:
        verdicts.append(outside_filter(ev, answer.facts, outside))
    return verdicts


def bad_values(ev):
    scan, repo = ev.scan, ev.repo
    return Verdict('bad-number-values', repo.key + '.values', dict(
        bad_count=scan.bad_count, bad_dn=scan.bad_values[0][0],
        bad_value=scan.bad_values[0][1],
        bad_dns=[dn for dn, _ in scan.bad_values],
        attribute=repo.kind.attribute, container=repo.container,
        cs_cfg=ev.facts['cs_cfg'], pki_version=ev.facts['pki_version']))


def vlv_refused(ev, facts):
    """Up to PKI 11.5 a VLV request refused by ACL (error 50) takes the
    "index may be empty" path of a failed lookup (dogtagpki/pki#4717;
    v11.5.0 LDAPVirtualList.getJumpToPage): Dogtag answers begin - 1.
    389-DS checks access only when an index serves the request."""
    if ev.vlv_search is None:
        return None
    key = ev.repo.key + '.vlv_access'
    out = dict(facts, dogtag_bind=ev.bind.dn, vlv_search=ev.vlv_search)
    if ev.vlv_rights_error is not None:
        return Verdict('vlv-rights-unreadable', key,
                       dict(out, error=ev.vlv_rights_error.error))
    allowed, rights = ev.vlv_rights
    if allowed is not False:
        return None
    out.update(rights=rights or 'none',
               dogtag_would_answer=str(ev.repo.active.begin - 1))
    return Verdict('vlv-access-refused', key, out,
                   (ev.database, ev.bind.dn))


def over_limit(ev, facts):
    """Dogtag's own bind cannot run its lookup (limits.py)."""
    verdict = ev.limit_verdict
    if verdict is None:
        return None
    repo = ev.repo
    facts = dict(facts, limit_exceeded=verdict.limit_name,
                 limit=verdict.limit, candidates=verdict.candidates)
    fix_args = (ev.database, repo, ev.bind.dn, verdict, ev.sorted_search)
    if ev.sorted_search:
        return Verdict('sorted-lookup-over-limit', repo.key, facts, fix_args)
    begin = repo.active.begin
    facts['dogtag_would_answer'] = str(begin - 1)
    first, first_dn = ev.first_in_range
    if first is None:
        return Verdict('vlv-lookup-over-limit-empty', repo.key, facts,
                       fix_args)
    facts.update(first_reused=str(first), first_reused_dn=first_dn,
                 next_number=str(begin))
    return Verdict('vlv-lookup-over-limit', repo.key, facts, fix_args)


def stale(ev, facts, above):
    """Records of the range above Dogtag's answer: its index misses them."""
    first, first_dn = above[0]
    real_last = ev.scan.real_last if ev.scan.complete else above[-1][0]
    facts = dict(facts, real_last=str(real_last), first_reused=str(first),
                 first_reused_dn=first_dn, missing_records=len(above),
                 next_number=str(ev.last + 1),
                 proof=PROOF_SCAN if ev.scan.complete else PROOF_PROBE)
    return Verdict('last-number-stale', ev.repo.key, facts,
                   (ev.repo, ev.database, facts['lookup']))


def next_taken(ev, facts):
    """The record Dogtag adds next exists, yet no one-level reader saw it:
    after an upgrade that changed the parentid index's ordering
    (389ds/389-ds-base#7172) or with a stale equality index."""
    facts = dict(facts, first_reused=str(ev.last + 1),
                 first_reused_dn=ev.next_dn, proof=PROOF_NEXT_DN)
    return Verdict('next-number-taken', ev.repo.key, facts,
                   (ev.repo, ev.database))


def one_level_short(ev, facts):
    facts = dict(facts, one_level_missing=ev.one_level_missing,
                 proof=PROOF_SUBORDINATES)
    return Verdict('one-level-short', ev.repo.key, facts,
                   (ev.repo, ev.database))


def proven(ev, facts):
    """No fault found: how far the answer is proven."""
    key, scan = ev.repo.key, ev.scan
    if scan.complete:
        real_last = scan.real_last
        return Verdict(
            'range-empty' if real_last is None else 'last-number-proven',
            key, dict(facts, proof=PROOF_SCAN, real_last=None
                      if real_last is None else str(real_last)))
    if ev.sorted_search:
        # From PKI 11.6 Dogtag's sorted search is served by the same
        # equality index as our probe (dogtagpki/pki v11.6.0
        # CertificateRepository.getLastSerialNumberInRange), so only a
        # read that shares no index with it proves the answer.
        return Verdict('next-number-free', key,
                       dict(facts, proof=PROOF_NEXT_DN))
    attribute = ev.repo.kind.attribute
    if not ev.probe.truncated:
        return Verdict('last-number-probed', key,
                       dict(facts, proof=PROOF_PROBE, attribute=attribute))
    return Verdict('last-number-unproven', key,
                   dict(facts, timeout=ev.timeout, attribute=attribute))


def outside_filter(ev, facts, outside):
    """Records numbered in the range above the answer that Dogtag's
    filter does not match: its next record collides with them by DN."""
    first, first_dn = outside[0]
    facts = {name: value for name, value in facts.items()
             if name not in NOT_OUTSIDE}
    facts.update(outside_filter=ev.repo.kind.lookup_filter,
                 outside_filter_records=len(outside),
                 first_outside=str(first), first_outside_dn=first_dn,
                 next_number=str(ev.last + 1))
    return Verdict('records-outside-filter', ev.repo.key + '.outside_filter',
                   facts)
