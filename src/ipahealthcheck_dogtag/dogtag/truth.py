"""What the repository really holds, found without the index under test.

Two tiers. The probe asks the attribute's equality index for records above
Dogtag's answer inside the range: when the VLV index is stale those are the
records it misses, and there are few of them, so the probe is fast at any
repository size. The full scan then walks every record of the container
once (a one-level search, which 389-DS serves from its parent index, never
from a VLV index), streaming, and proves the counts.
"""

from ipahealthcheck_dogtag.directory import OutOfTime
from ipahealthcheck_dogtag.dogtag.numbers import NumberError, decode, encode

PROBE_LIMIT = 1000
BAD_VALUES_KEPT = 5


class Probe:
    def __init__(self, numbers, truncated):
        self.numbers = sorted(numbers)      # (number, dn), ascending
        self.truncated = truncated

    @property
    def found(self):
        return bool(self.numbers)


def probe(directory, repo, last, timelimit):
    """Records in (last, end of range] that Dogtag's filter matches."""
    kind = repo.kind
    high = repo.active.end
    if last >= high:
        return Probe([], False)
    filterstr = '(&%s(%s>=%s)(%s<=%s))' % (
        kind.lookup_filter, kind.attribute, encode(last + 1),
        kind.attribute, encode(high))
    entries, truncated = directory.search(
        repo.container, filterstr, [kind.attribute], scope=1,
        sizelimit=PROBE_LIMIT, timelimit=max(1, int(timelimit)))
    numbers = []
    for dn, attrs in entries:
        try:
            number = decode(attrs.get(kind.attribute.lower(), [b''])[0])
        except NumberError:
            continue                    # the scan reports bad values
        if last < number <= high:
            numbers.append((number, dn))
    return Probe(numbers, truncated)


class Scan:
    """Counts from one streamed pass over a repository container."""

    def __init__(self, repo, last):
        self.repo = repo
        self.last = last            # Dogtag's answer, to count what it misses
        self.entries = 0            # records seen
        self.matching = 0           # records Dogtag's filter matches
        self.in_range = 0           # ... with a number in the active range
        self.real_last = None       # highest such number, and its DN
        self.real_last_dn = None
        self.above = 0              # ... above Dogtag's answer
        self.first_above = None     # lowest such number, and its DN
        self.first_above_dn = None
        self.bad_values = []        # (dn, value), the first few
        self.bad_count = 0
        self.complete = False

    def add(self, dn, attrs):
        kind = self.repo.kind
        self.entries += 1
        if not kind.matches(attrs):
            return
        self.matching += 1
        raw = attrs[kind.attribute.lower()][0] \
            if kind.attribute.lower() in attrs else b''
        try:
            number = decode(raw)
        except NumberError:
            self.bad_count += 1
            if len(self.bad_values) < BAD_VALUES_KEPT:
                self.bad_values.append(
                    (dn, raw.decode('utf-8', 'replace')))
            return
        active = self.repo.active
        if not active.begin <= number <= active.end:
            return
        self.in_range += 1
        if self.real_last is None or number > self.real_last:
            self.real_last, self.real_last_dn = number, dn
        if number > self.last:
            self.above += 1
            if self.first_above is None or number < self.first_above:
                self.first_above, self.first_above_dn = number, dn


def scan(directory, repo, last, deadline):
    """A Scan of the whole container; `complete` is False if time ran out."""
    kind = repo.kind
    attrs = sorted({kind.attribute} | set(kind.required) |
                   set(kind.excluded))
    result = Scan(repo, last)
    try:
        for dn, entry in directory.stream(repo.container, '(objectClass=*)',
                                          attrs, deadline):
            result.add(dn, entry)
        result.complete = True
    except OutOfTime:
        pass
    return result
