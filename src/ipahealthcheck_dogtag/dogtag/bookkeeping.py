"""What the directory records of range allocations: nextRange and pkiRange.

When a server's active and standby ranges run low, Dogtag reads `nextRange`
N, writes N + increment back, records `cn=N,<range container>` (beginRange
N, endRange, host, SecurePort) and takes [N, N + increment - 1] as its new
standby range. Only such allocations are recorded: a master's initial range
and the ranges a clone receives from its master (taken from the end of the
master's range) have no entry. Entries of removed servers stay on purpose.

The radix trap, for certificate serial numbers and KRA key IDs under the
SSNv1 (`legacy`) generator, whose CS.cfg values are hexadecimal:

- LDAP values (nextRange, beginRange, endRange) are decimal strings, and
  Dogtag compares them among themselves as decimal numbers.
- But the standby range it takes is parse(N's digits, 16): the digits of
  `cn`/`beginRange` are the digits of the owner's CS.cfg nextBegin, so the
  real first number is the hex reading of beginRange.
- The end depends on the PKI that made the allocation. Up to 10.10 the
  increment's digits were added as a decimal number in LDAP
  (`DBSubsystem.getNextRange`, v10.5.18 and v10.10.0), while the owner's
  CS.cfg got hex(beginRange) + hex(increment) - 1 (`Repository.checkRanges`
  with `mIncrementNo = new BigInteger(increment, 16)`, same tags). The two
  digit strings agree only while the decimal sum does not carry: with IPA's
  increment `10000000`, 10000001..20000000 in both places, but 90000001
  gives endRange 100000000 while the real end is 0xA0000000. So the real
  end is hex(beginRange) + hex(size digits) - 1. From 10.11 the
  increment is the real (hex-read) number added in decimal: endRange =
  beginRange + 268435456 - 1 = 278435456, whose digits mean nothing in hex;
  the real range is [hex(beginRange), hex(beginRange) + increment - 1].
  An entry tells which rule made it: its decimal size endRange - beginRange
  + 1 is the increment's digits read as decimal (<= 10.10) or the real
  increment (>= 10.11).

Request IDs and replica IDs are decimal everywhere, and SSNv2 (`legacy2`)
writes consistent decimal values: there an entry's numbers are real.
"""

import ldap

from ipahealthcheck_dogtag.dogtag.numbers import NumberError, decimal

RULE_DECIMAL = 'decimal'
RULE_UP_TO_10_10 = 'hex digits, end as written (PKI <= 10.10)'
RULE_FROM_10_11 = 'hex digits, end from the size (PKI >= 10.11)'


def _text(attrs, name):
    values = attrs.get(name)
    return values[0].decode('utf-8', 'replace').strip() if values else None


def _decimal(text):
    return decimal(text)        # ASCII digits, at most 99: Dogtag's limit


def _is_decimal(text):
    try:
        decimal(text)
    except NumberError:
        return False
    return True


class Recorded:
    """One pkiRange entry and the real numbers it stands for."""

    def __init__(self, dn, host, port, begin_text, end_text, extent):
        self.dn = dn
        self.host = host
        self.port = port
        self.begin_text = begin_text
        self.end_text = end_text
        self.begin, self.end, self.rule = extent

    def fields(self):
        return {'dn': self.dn, 'host': self.host, 'begin': str(self.begin),
                'end': str(self.end), 'ldap': '%s..%s' % (
                    self.begin_text, self.end_text), 'rule': self.rule}


def real_extent(repo, begin_text, end_text, increment_text):
    """(first, last, rule): the real numbers of a recorded range."""
    begin, end = _decimal(begin_text), _decimal(end_text)
    if not repo.hex_digits_in_ldap:
        return begin, end, RULE_DECIMAL
    first = int(begin_text, 16)         # the owner's CS.cfg digits
    size = end - begin + 1              # computed by Dogtag in decimal
    if increment_text and _is_decimal(increment_text) and \
            size == decimal(increment_text):
        # the size's digits are the increment's hex digits
        return first, first + int(str(size), 16) - 1, RULE_UP_TO_10_10
    return first, first + size - 1, RULE_FROM_10_11


def recorded_ranges(directory, repo):
    """([Recorded], [DNs of unreadable entries]) under the range container."""
    entries, _ = directory.search(
        repo.range_container, '(objectClass=pkiRange)',
        ['beginRange', 'endRange', 'host', 'SecurePort'],
        scope=ldap.SCOPE_ONELEVEL)
    increment_text = repo.subsystem.get(
        'dbs.%sIncrement' % repo.kind.prefix.lower())
    recorded, unreadable = [], []
    for dn, attrs in entries:
        begin, end = _text(attrs, 'beginrange'), _text(attrs, 'endrange')
        try:
            extent = real_extent(repo, begin, end, increment_text)
        except NumberError:
            unreadable.append(dn)
            continue
        recorded.append(Recorded(dn, (_text(attrs, 'host') or '').lower(),
                                 _text(attrs, 'secureport'), begin, end,
                                 extent))
    return sorted(recorded, key=lambda r: r.begin), unreadable


def conflicts(directory, repo):
    """Replication conflict entries among the range records: the same range
    allocated on two servers before either saw the other's record. 389-DS
    hides them as ldapsubentries, which only a filter that names that class
    finds (Dogtag's own conflict search does not name it).
    [(dn, host, beginRange, endRange, nsds5ReplConflict)]"""
    entries, _ = directory.search(
        repo.range_container,
        '(&(objectClass=ldapsubentry)(nsds5ReplConflict=*))',
        ['host', 'beginRange', 'endRange', 'nsds5ReplConflict'],
        scope=ldap.SCOPE_SUBTREE)
    return [(dn, _text(a, 'host'), _text(a, 'beginrange'),
             _text(a, 'endrange'), _text(a, 'nsds5replconflict'))
            for dn, a in entries]


def next_range(directory, repo, dn=None):
    """The nextRange text on `dn` (default: where Dogtag reads it), or None
    when the entry or the value is missing."""
    attrs = directory.entry(dn or repo.next_range_dn, ['nextRange'])
    return _text(attrs or {}, 'nextrange')


def next_range_start(repo, text):
    """The real first number of the next allocation from nextRange."""
    value = _decimal(text)
    return int(text, 16) if repo.hex_digits_in_ldap else value


def size(r):
    """How many numbers a Range holds (0 for no range)."""
    return r.end - r.begin + 1 if r else 0


def shape(r):
    """Why Dogtag reads a range as empty: its getLastSerialNumberInRange
    returns null when low >= high (see checks/ranges/bookkeeping.py)."""
    return 'begin > end' if r.begin > r.end else 'begin = end'


def delegated(mine, other, transfer):
    """A clone's range taken from the end of `other`'s allocation
    (UpdateNumberRange): it lies inside it and has exactly the transfer
    size."""
    return (transfer is not None and other.begin <= mine.begin and
            mine.end <= other.end and mine.end - mine.begin + 1 == transfer)


def safe_next_range(repo, recorded, own_end, at_least=0):
    """A nextRange value above every recorded allocation and, read as
    Dogtag reads it, above this server's own ranges (ending at own_end)."""
    floor = max([int(r.end_text) for r in recorded] + [0]) + 1
    if repo.hex_digits_in_ldap:
        # Dogtag reads the digits as hex for the range itself: the digits
        # must be above every recorded endRange and, read as hex, above
        # this server's own range.
        value = max(floor, int(_digits_only_hex_above(own_end)))
    else:
        value = max(floor, own_end + 1)
    return max(value, at_least)


def _digits_only_hex_above(number):
    """The smallest hex string of digits 0-9 only whose value exceeds
    `number` (SSNv1 cannot use a-f in range values)."""
    text = format(number + 1, 'x')
    for i, char in enumerate(text):
        if char not in '0123456789':
            return str(int(text[:i] or '0') + 1) + '0' * (len(text) - i)
    return text


# How the active range in CS.cfg stands to its own range record.
RECORD_NONE = 'none'                # a first or a handed-over range
RECORD_AGREES = 'agrees'
RECORD_RADIX_GAP = 'radix gap'      # SSNv1 hex, PKI >= 10.11 arithmetic
RECORD_TAIL_HANDED_OVER = 'tail handed over'
RECORD_EXCEEDED = 'exceeded'
RECORD_SHORT = 'short'


def own_record(recorded, local, begin):
    """The record of a range of this server that begins at `begin`: Dogtag
    finds it the same way, by host, port and beginRange = the CS.cfg begin
    in its radix (Repository.hasRangeConflict, dogtagpki/pki v10.10.0
    DBSubsystem, v11.5.0 and master Repository), and so does the SSNv2
    migration ("cn=" + dbs.beginSerialNumber: SubsystemIdGeneratorUpdateCLI,
    v11.6.0 .. master)."""
    for record in recorded:
        if record.host == local and record.begin == begin:
            return record
    return None


def reserved_end(repo, record):
    """The last number a record keeps from every later allocation. Each
    later nextRange is above its endRange as a decimal string, and for SSNv1
    hex repositories Dogtag reads nextRange's digits as hex for the range
    it takes (checkRanges): the record keeps everything up to endRange's
    digits read as hex, more than the range Dogtag computed for it since
    10.11 (the gap of dogtagpki/pki PR #4840)."""
    return int(record.end_text, 16) if repo.hex_digits_in_ldap \
        else record.end


def record_verdict(repo, record, transfer):
    """(verdict, facts): the active range in CS.cfg against its record.

    Dogtag uses CS.cfg alone: the repositories read dbs.begin*/dbs.end*
    (CertificateRepository / KeyRepository / RequestRepository /
    ReplicaIDRepository init, v11.5.0; initLegacyGenerator, master) and
    write the records only (Repository.getNextRange). The record's end
    is read back only by the SSNv2 migration, which then takes endRange's
    digits as the new CS.cfg end (SubsystemIdGeneratorUpdateCLI, v11.6.0
    .. master), the remedy the reporter of PR #4840 applied by hand."""
    if record is None:
        return RECORD_NONE, {}
    end, reserved = record.end, reserved_end(repo, record)
    mine = repo.active.end
    facts = dict(record_dn=record.dn, record_ldap='%s..%s' % (
        record.begin_text, record.end_text), record_end=str(end),
        reserved_end=str(reserved), extent_rule=record.rule)
    if mine == end and reserved > end:
        return RECORD_RADIX_GAP, dict(facts, unused=str(reserved - end))
    if mine in (end, reserved):
        return RECORD_AGREES, facts
    if mine > reserved:
        return RECORD_EXCEEDED, dict(facts, beyond=str(mine - reserved))
    if mine < end and transfer and (end - mine) % transfer == 0:
        # UpdateNumberRange lowers the end by the transfer size for each
        # clone made from this range.
        return RECORD_TAIL_HANDED_OVER, dict(
            facts, handed_over=str(end - mine),
            clones=str((end - mine) // transfer))
    return RECORD_SHORT, dict(facts, unused=str(reserved - mine))


def cfg_text(repo, number):
    """A number written as CS.cfg holds it for this repository."""
    if repo.radix == 16:
        return ('0x%x' if repo.generator == 'legacy2' else '%x') % number
    return str(number)
