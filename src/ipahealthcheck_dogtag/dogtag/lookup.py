"""Repeat the query Dogtag runs to find the last number used in its range.

Up to PKI 11.5 Dogtag asks for a VLV window: the five entries before the
first one whose number is >= the range's upper bound, plus that entry, in
ascending order of the number. It then walks back from that target entry,
examining at most five entries (the first of the six is never looked at),
and takes the first number inside the range; none means the range is empty
and the answer is begin - 1. A stale VLV index answers from an old picture
of the repository, so the walk stops too low.

From PKI 11.6 Dogtag instead runs a paged search for numbers <= the upper
bound, sorted descending on the server, and takes the first entry.

Numbers are read as Dogtag reads them (`decode_lenient`). A record it
cannot read is skipped by the VLV lookup: up to 11.5 `LDAPVirtualList.
getEntries` (dogtagpki/pki base/server/.../dbs/LDAPVirtualList.java,
v10.5.0..v11.5.0) logs the mapping failure and leaves the record out of
the window. From 11.6 `DBSearchResults.nextElement` returns null for it and
`getLastSerialNumberInRange` then dereferences that null first record
(v11.6.0 CertificateRepository, RequestRepository, KeyRepository): BadValue.

A range whose begin is not below its end gets no answer at all:
`getLastSerialNumberInRange` returns null when low >= high (v11.5.0
CertificateRepository, v11.6.0 RequestRepository), and `Repository.
initCache` then switches to the standby range if there is one.
"""

from ipahealthcheck_dogtag.dogtag.numbers import (
    NumberError, decode_lenient, encode)

VLV_BEFORE = 5
VLV_EXAMINED = 5
SORTED_FROM = (11, 6)


class BadValue(Exception):
    """Dogtag's sorted lookup (PKI >= 11.6) met a first record it cannot
    read as a number."""

    def __init__(self, dn, value):
        super().__init__('%s: %r' % (dn, value))
        self.dn = dn
        self.value = value


class Answer:
    """What Dogtag would take as the last used number of its active range."""

    def __init__(self, method, last, index=None, window=(),
                 content_count=None):
        self.method = method
        self.last = last
        self.index = index
        self.window = list(window)
        self.content_count = content_count

    def fields(self):
        out = {'lookup': self.method, 'dogtag_last': str(self.last)}
        if self.content_count is not None:
            out['vlv_content_count'] = self.content_count
        return out


def uses_sorted_search(pki_version):
    """PKI 11.6 replaced the VLV lookup; an unknown version gets the VLV one,
    the lookup that a stale index can fool."""
    return pki_version is not None and tuple(pki_version) >= SORTED_FROM


def _number(dn, attrs, attribute):
    value = (attrs.get(attribute.lower()) or [b''])[0]
    try:
        return decode_lenient(value)
    except NumberError:
        raise BadValue(dn, value.decode('utf-8', 'replace'))


def _readable(entries, attribute):
    """The numbers of a VLV window, leaving out what Dogtag cannot read."""
    numbers = []
    for dn, attrs in entries:
        try:
            numbers.append(_number(dn, attrs, attribute))
        except BadValue:
            continue
    return numbers


def vlv_lookup(directory, repo):
    low, high = repo.active.begin, repo.active.end
    kind = repo.kind
    entries, _, content_count = directory.vlv_window(
        repo.container, kind.lookup_filter, kind.attribute, encode(high),
        VLV_BEFORE)
    window = _readable(entries, kind.attribute)
    last = low - 1
    for number in reversed(window[-VLV_EXAMINED:]):
        if low <= number <= high:
            last = number
            break
    return Answer('vlv', last, repo.vlv_name, window, content_count)


def sorted_lookup(directory, repo):
    low, high = repo.active.begin, repo.active.end
    kind = repo.kind
    first = directory.sorted_first(repo.container,
                                   kind.sorted_filter(encode(high)),
                                   '-' + kind.attribute, kind.attribute)
    last = low - 1
    if first is not None:
        number = _number(first[0], first[1], kind.attribute)
        if number >= low and (number <= high or not kind.upper_checked):
            last = number
    return Answer('sorted', last)


def dogtag_lookup(directory, repo, pki_version):
    if uses_sorted_search(pki_version):
        return sorted_lookup(directory, repo)
    return vlv_lookup(directory, repo)
