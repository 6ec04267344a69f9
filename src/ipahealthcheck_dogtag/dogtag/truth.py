"""What the repository really holds, found without the index under test.

Two tiers. The probe asks the attribute's equality index for records above
Dogtag's answer inside the range: when the VLV index is stale those are the
records it misses, and there are few of them, so the probe is fast at any
repository size. The full scan then walks every record of the container
once (a one-level search, which 389-DS serves from its parent index, never
from a VLV index), streaming, and proves the counts.

The truth is every numbered record, not only those Dogtag's lookup filter
matches: Dogtag adds a record as `cn=<number>,<container>`, so any entry
with that DN collides whatever its attributes (a KRA request with a
`realm`, which `(!(realm=*))` hides; a certificate entry without
`certStatus`). Those are counted apart as "outside the filter".

Numbers are read as Dogtag reads them (`decode_lenient`); a value that is
not in Dogtag's own length-prefixed form is also listed as a bad value.
"""

from ipahealthcheck_dogtag.directory import OutOfTime
from ipahealthcheck_dogtag.dogtag.numbers import (
    NumberError, decode, decode_lenient, encode)

PROBE_LIMIT = 1000
BAD_VALUES_KEPT = 5


def _attrs(kind):
    return sorted({kind.attribute} | set(kind.required) | set(kind.excluded))


def _cn_number(dn):
    """The number a record's DN claims (`cn=<decimal>`), or None."""
    rdn = dn.split(',', 1)[0]
    name, _, value = rdn.partition('=')
    value = value.strip()
    if name.strip().lower() == 'cn' and value.isdigit() and value.isascii():
        return int(value)
    return None


def record_number(kind, dn, attrs):
    """(number, matches Dogtag's filter) of one record, number None if none.

    Records the lookup filter matches are read as Dogtag reads them, from
    the number attribute; the others by the DN they occupy, which is what
    a new record with that number collides with.
    """
    matches = kind.matches(attrs)
    raw = (attrs.get(kind.attribute.lower()) or [b''])[0]
    number = None
    try:
        number = decode_lenient(raw)
    except NumberError:
        pass
    if not matches:
        cn = _cn_number(dn)
        number = cn if cn is not None else number
    return number, matches


class Probe:
    def __init__(self, numbers, outside, truncated):
        self.numbers = sorted(numbers)      # (number, dn), ascending
        self.outside = sorted(outside)      # same, outside Dogtag's filter
        self.truncated = truncated

    @property
    def found(self):
        return bool(self.numbers)

    def above(self, last):
        return [n for n in self.numbers if n[0] > last]

    def outside_above(self, last):
        return [n for n in self.outside if n[0] > last]


def probe(directory, repo, last, timelimit):
    """Records in (last, end of range], found through the equality index of
    the number attribute, whether or not Dogtag's filter matches them."""
    kind = repo.kind
    high = repo.active.end
    if last >= high:
        return Probe([], [], False)
    filterstr = '(&(%s>=%s)(%s<=%s))' % (
        kind.attribute, encode(max(last + 1, 0)), kind.attribute,
        encode(high))
    entries, truncated = directory.search(
        repo.container, filterstr, _attrs(kind), scope=1,
        sizelimit=PROBE_LIMIT, timelimit=max(1, int(timelimit)))
    numbers, outside = [], []
    for dn, attrs in entries:
        number, matches = record_number(kind, dn, attrs)
        if number is not None and last < number <= high:
            (numbers if matches else outside).append((number, dn))
    return Probe(numbers, outside, truncated)


class Scan:
    """Counts from one streamed pass over a repository container."""

    def __init__(self, repo, last):
        self.repo = repo
        self.last = last            # Dogtag's answer, to keep what it misses
        self.entries = 0            # records seen
        self.matching = 0           # records Dogtag's filter matches
        self.matching_to_high = 0   # ... numbered up to the range's end
        self.in_range = 0           # ... with a number in the active range
        self.first_in_range = None  # lowest such number, and its DN
        self.first_in_range_dn = None
        self.real_last = None       # highest such number, and its DN
        self.real_last_dn = None
        self.above_numbers = []     # (number, dn) in range above `last`
        self.outside_numbers = []   # same for records outside the filter
        self.bad_values = []        # (dn, value), the first few
        self.bad_count = 0
        self.complete = False
        # The VLV content count taken before the scan (see Context.scan).
        self.vlv_count_before = None

    def add(self, dn, attrs):
        kind = self.repo.kind
        self.entries += 1
        raw = (attrs.get(kind.attribute.lower()) or [None])[0]
        if raw is not None:
            try:
                decode(raw)
            except NumberError:
                self.bad_count += 1
                if len(self.bad_values) < BAD_VALUES_KEPT:
                    self.bad_values.append(
                        (dn, raw.decode('utf-8', 'replace')))
        number, matches = record_number(kind, dn, attrs)
        active = self.repo.active
        if matches:
            self.matching += 1
            if number is not None and number <= active.end:
                self.matching_to_high += 1
        # A record whose number Dogtag cannot read is skipped by its lookup
        # (LDAPVirtualList, dogtagpki/pki v11.5.0), yet its DN cn=<n> still
        # takes that number: it counts like a record outside the filter.
        seen = matches and number is not None
        if number is None:
            number = _cn_number(dn)
        if number is None or not active.begin <= number <= active.end:
            return
        if not seen:
            if number > self.last:
                self.outside_numbers.append((number, dn))
            return
        self.in_range += 1
        if self.first_in_range is None or number < self.first_in_range:
            self.first_in_range, self.first_in_range_dn = number, dn
        if self.real_last is None or number > self.real_last:
            self.real_last, self.real_last_dn = number, dn
        if number > self.last:
            self.above_numbers.append((number, dn))

    def above(self, last):
        """Records Dogtag's filter matches in the range above `last`
        (at least this scan's `last`), ascending."""
        return sorted(n for n in self.above_numbers if n[0] > last)

    def outside_above(self, last):
        return sorted(n for n in self.outside_numbers if n[0] > last)


def scan(directory, repo, last, deadline):
    """A Scan of the whole container; `complete` is False if time ran out."""
    result = Scan(repo, last)
    try:
        for dn, entry in directory.stream(repo.container, '(objectClass=*)',
                                          _attrs(repo.kind), deadline):
            result.add(dn, entry)
        result.complete = True
    except OutOfTime:
        pass
    return result


# -- Evidence that no index of the container's children serves ----------
#
# A one-level search, Dogtag's lookups and our probe and scan alike, starts
# from the parentid index (389-DS's one-level candidate list). After an
# upgrade that adds integerOrderingMatch to parentid/ancestorid without a
# reindex, that index answers nothing or too little (389ds/389-ds-base
# #7172, #7223; 389-ds-base 3.2.1 back-ldbm/instance.c,
# ldbm_instance_check_index_config, logs "MISMATCH" at start), and every
# one-level reader then agrees on "empty". A read by DN goes through the
# entryrdn index instead, and numSubordinates is kept in the parent entry
# itself, so neither shares that fault.

PARENTID_INDEX = 'cn=parentid,cn=index,cn=%s,cn=ldbm database,' \
    'cn=plugins,cn=config'


def record_dn(repo, number):
    """The DN Dogtag gives a new record: cn=<decimal number>,<container>
    (dogtagpki/pki v11.6.0 CertificateRepository: "cn=" + serialNo + ","
    + mBaseDN; the same in KeyRepository and for requests)."""
    return 'cn=%d,%s' % (number, repo.container)


def next_taken(directory, repo, last):
    """(DN, exists) of the record Dogtag would add after `last`, read by
    base scope."""
    dn = record_dn(repo, last + 1)
    return dn, directory.entry(dn, ['1.1']) is not None


def subordinates(directory, container):
    """The container's numSubordinates (absent means none), or None when
    the container is not there."""
    attrs = directory.entry(container, ['numSubordinates'])
    if attrs is None:
        return None
    values = attrs.get('numsubordinates') or [b'0']
    try:
        return int(values[0])
    except ValueError:
        return None


def hidden_subentries(directory, container):
    """Children that a plain search hides but numSubordinates counts:
    ldapSubEntry entries, e.g. replication conflict entries (389-DS 1.4+)."""
    entries, _ = directory.search(container, '(objectClass=ldapSubEntry)',
                                  ['1.1'], scope=1)
    return len(entries)


def one_level_missing(directory, repo, scan, before, after):
    """How many children numSubordinates counts that the one-level scan did
    not return (0 if none or unknown). `before`/`after` are read around
    the scan: a record added or deleted meanwhile is in only one of them."""
    if not scan.complete or before is None or after is None:
        return 0
    missing = min(before, after) - scan.entries
    if missing > 0:
        missing -= hidden_subentries(directory, repo.container)
    return max(missing, 0)


def matching_rules(directory, backend):
    """The parentid index's nsMatchingRule values, as configured."""
    attrs = directory.entry(PARENTID_INDEX % backend, ['nsMatchingRule'])
    return sorted(v.decode('utf-8', 'replace')
                  for v in (attrs or {}).get('nsmatchingrule', []))
