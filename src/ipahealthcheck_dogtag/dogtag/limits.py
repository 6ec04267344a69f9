"""Would Dogtag's own search succeed under the limits of Dogtag's own bind?

We read the directory as root, whom 389-DS exempts from its look-through
limit; Dogtag binds as its database user (`pkidbuser`), to whom every limit
applies. So the lookup we repeat can succeed where Dogtag's fails.

389-DS (389ds/389-ds-base ldap/servers/slapd/back-ldbm/ldbm_search.c,
`compute_lookthrough_limit`, `compute_allids_limit`; the same in 1.3.x):
- a search that must sort its candidates in memory gives up with error 11
  (adminLimitExceeded) once it has looked through more entries than the
  look-through limit: the bind entry's `nsLookThroughLimit`, else
  `nsslapd-lookthroughlimit` of `cn=config,cn=ldbm database,...`; for a
  paged search `nsPagedLookThroughLimit`, else a non-zero
  `nsslapd-pagedlookthroughlimit`, else the plain one. Root has no limit.
- an index key with more entries than the ID-list scan limit reads as
  "all IDs" (`nsIDListScanLimit`, else `nsslapd-idlistscanlimit`; paged:
  `nsPagedIDListScanLimit`, else a non-zero
  `nsslapd-pagedidlistscanlimit`), and `sort_candidates` (sort.c) refuses
  to sort such a list: error 53, for root as well.
- a VLV request is served by an index only if a vlvSearch matches it AND
  its index is built (`vlvSearch_findenabled`, vlv_srch.c): an unbuilt
  index is exactly a missing one, and the request sorts in memory.

What Dogtag then does (dogtagpki/pki):
- up to 11.5 `LDAPVirtualList.getJumpToPage` swallows the failure, the list
  size stays 0 and `getLastSerialNumberInRange` logs "index may be empty"
  and answers begin - 1 (v11.5.0 CertificateRepository, RequestRepository,
  KeyRepository; the same in v10.5.0): it starts again at the range's
  begin, over numbers already used.
- from 11.6 the sorted paged search throws ("RecordPagedList: Error to get
  a new page") and the subsystem does not start: dogtagpki/pki#5171 (error
  53 above nsslapd-idlistscanlimit). #5133 is the same start-up failure
  (a null first record) under `pkidbuser`'s `nsPagedSizeLimit`, which
  pkispawn set to 20000 from 11.4 to 11.8 and to -1 from 11.9 (PR #5193,
  base/server/python/pki/server/deployment/__init__.py). 389-DS applies
  the paged size limit to each page (ldbm_search.c) and Dogtag's page holds
  at most 500 entries (LDAPSession.MAX_PAGED_SEARCH_SIZE), so we report it
  only when the limit is below the page Dogtag asks for.
"""

from ipahealthcheck_dogtag.directory import OUT_OF_TIME, DirectoryError
from ipahealthcheck_dogtag.dogtag.repositories import normalize_dn

PAGE = 500                      # LDAPSession.MAX_PAGED_SEARCH_SIZE
LDBM_CONFIG = 'cn=config,cn=ldbm database,cn=plugins,cn=config'
USER_LIMITS = ('nsLookThroughLimit', 'nsPagedLookThroughLimit',
               'nsIDListScanLimit', 'nsPagedIDListScanLimit',
               'nsSizeLimit', 'nsPagedSizeLimit')


def _int(attrs, name):
    values = attrs.get(name.lower()) if attrs else None
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


def bind_dn(database, subsystem):
    """The DN Dogtag binds as: BasicAuth's bindDN, else its database user
    (`internaldb.dbuser`, else IPA's `uid=pkidbuser,ou=people,<CA base>`,
    to which the subsystem certificate maps)."""
    authtype = (subsystem.get('internaldb.ldapauth.authtype') or '').strip()
    if authtype == 'BasicAuth' and subsystem.get('internaldb.ldapauth.bindDN'):
        return subsystem.get('internaldb.ldapauth.bindDN').strip()
    dbuser = subsystem.get('internaldb.dbuser')
    if dbuser:
        return dbuser.strip()
    ca = database.subsystem('ca') or subsystem
    return 'uid=pkidbuser,ou=people,%s' % ca.basedn


class Limits:
    """The limits that apply to Dogtag's bind; -1 means none."""

    def __init__(self, dn, root, user, ldbm, config=None):
        self.dn = dn
        self.root = root
        self.user_found = user is not None
        self.user = user            # the bind entry's own limits, or None

        def pick(user_attr, ldbm_attr, default):
            value = _int(user, user_attr)
            if value is None:
                value = _int(ldbm, ldbm_attr)
            return default if value is None else value

        self.lookthrough = pick('nsLookThroughLimit',
                                'nsslapd-lookthroughlimit', 5000)
        self.allids = pick('nsIDListScanLimit', 'nsslapd-idlistscanlimit',
                           4000)
        paged = _int(user, 'nsPagedLookThroughLimit')
        if paged is None:
            paged = _int(ldbm, 'nsslapd-pagedlookthroughlimit') or None
        self.paged_lookthrough = self.lookthrough if paged is None else paged
        paged = _int(user, 'nsPagedIDListScanLimit')
        if paged is None:
            paged = _int(ldbm, 'nsslapd-pagedidlistscanlimit') or None
        self.paged_allids = self.allids if paged is None else paged
        # Paged size limit: nsPagedSizeLimit, else a non-zero
        # nsslapd-pagedsizelimit, else the plain size limit (389-DS
        # compute_limits, ldap/servers/slapd/opshared.c).
        size = _int(user, 'nsPagedSizeLimit')
        if size is None:
            size = _int(config, 'nsslapd-pagedsizelimit') or None
        if size is None:
            size = _int(user, 'nsSizeLimit')
        if size is None:
            size = _int(config, 'nsslapd-sizelimit')
        self.paged_size = size
        # Unpaged size limit: nsSizeLimit, else nsslapd-sizelimit.
        size = _int(user, 'nsSizeLimit')
        self.size = _int(config, 'nsslapd-sizelimit') if size is None \
            else size

    def fields(self, sorted_search):
        """The limits that govern the lookup of this PKI version."""
        if sorted_search:
            lookthrough, allids = self.paged_lookthrough, self.paged_allids
        else:
            lookthrough, allids = self.lookthrough, self.allids
        return {'dogtag_bind': self.dn,
                'lookthrough_limit': None if self.root else lookthrough,
                'idlistscan_limit': allids}


def read_limits(directory, database, subsystem):
    dn = bind_dn(database, subsystem)
    config = directory.entry('cn=config', [
        'nsslapd-rootdn', 'nsslapd-sizelimit', 'nsslapd-pagedsizelimit']) or {}
    rootdn = (config.get('nsslapd-rootdn') or [b'cn=Directory Manager'])[0]
    root = normalize_dn(dn) == normalize_dn(rootdn.decode('utf-8',
                                                          'replace'))
    user = None if root else directory.entry(dn, list(USER_LIMITS))
    ldbm = directory.entry(LDBM_CONFIG, [
        'nsslapd-lookthroughlimit', 'nsslapd-pagedlookthroughlimit',
        'nsslapd-idlistscanlimit', 'nsslapd-pagedidlistscanlimit'])
    return Limits(dn, root, user, ldbm, config)


def _over(count, limit):
    return limit is not None and limit >= 0 and count > limit


class Verdict:
    """Why Dogtag's own search fails, or None."""

    def __init__(self, reason, limit_name, limit, candidates):
        self.reason = reason
        self.limit_name = limit_name
        self.limit = limit
        self.candidates = candidates


def judge(limits, sorted_search, indexed, candidates, children, page=PAGE):
    """Does Dogtag's lookup fail under `limits`?

    `candidates` is a lower bound of the entries 389-DS must look through
    (records that match Dogtag's filter, up to the range's end for the
    sorted search); `children` the records of the container. `indexed`:
    the VLV request is served by a built, matching VLV index.
    """
    if not sorted_search:
        if indexed or limits.root:
            return None
        if _over(candidates, limits.lookthrough):
            return Verdict('lookthrough', 'look-through limit',
                           limits.lookthrough, candidates)
        return None
    if _over(candidates, limits.paged_allids) and \
            _over(children, limits.paged_allids):
        return Verdict('idlistscan', 'ID-list scan limit',
                       limits.paged_allids, candidates)
    if limits.root:
        return None
    if _over(candidates, limits.paged_lookthrough):
        return Verdict('lookthrough', 'paged look-through limit',
                       limits.paged_lookthrough, candidates)
    if _over(min(candidates, page), limits.paged_size):
        return Verdict('pagedsize', 'paged size limit (nsPagedSizeLimit)',
                       limits.paged_size, candidates)
    return None


def count_over(directory, base, filterstr, limit, timelimit):
    """Does a one-level search for `filterstr` match more than `limit`
    records? True or False, None when time ran out. Asked as root with
    size limit limit + 1, so it reads at most that many entries, which is
    what lets a scan cut short on a big CA still judge the limits."""
    entries, truncated = directory.search(
        base, filterstr, ['1.1'], scope=1, sizelimit=limit + 1,
        timelimit=timelimit)
    if len(entries) > limit:
        return True
    return None if truncated else False


def relevant(limits, sorted_search, indexed, page=PAGE):
    """The limits `judge` compares the candidate count with."""
    if not sorted_search:
        return [] if indexed or limits.root else [limits.lookthrough]
    found = [limits.paged_allids]
    if not limits.root:
        found += [limits.paged_lookthrough]
        if limits.paged_size is not None and limits.paged_size < page:
            found += [limits.paged_size]
    return found


def candidates_at_least(directory, base, filterstr, seen, children,
                        limits, timelimit):
    """A lower bound of the candidates, raised from `seen` (what a scan cut
    short counted) past each limit a capped count proves exceeded. A
    limit at or above `children` (the container's numSubordinates, which
    costs nothing) cannot be exceeded and is not counted."""
    for limit in sorted({n for n in limits if n is not None and n >= 0}):
        if limit < seen:
            continue
        if children is not None and limit >= children:
            break
        try:
            over = count_over(directory, base, filterstr, limit, timelimit)
        except DirectoryError as e:
            if e.reason != OUT_OF_TIME:
                raise
            over = None         # the budget is spent: keep the lower bound
        if not over:
            break
        seen = limit + 1
    return seen


# -- Dogtag's start-up searches from PKI 11.6, wherever they will run -------
#
# From PKI 11.6 `getLastSerialNumberInRange` of each repository runs a
# one-level search sorted on the number, descending, in pages
# (dogtagpki/pki v11.6.0 LDAPPagedSearch.getPage: at most
# LDAPSession.MAX_PAGED_SEARCH_SIZE = 500 entries a page; the request
# repository asks pages of 5, RequestRepository.getLastSerialNumberInRange).
# A failed page stops the subsystem's start (#5171, #5133). The certificate
# repository first counts its range with an unpaged, unsorted one-level
# search, (&(serialno>=begin)(serialno<=end)) with no client size limit
# (CertificateRepository.getInRangeCount, LDAPSession.search: setMaxResults
# (0)); DBSearchResults.nextElement logs its failure and the start goes on.
# The same at v11.7.0, v11.8.0 and v11.9.0.

PAGES = {'ca.requests': 5, 'kra.requests': 5}

# 389-DS's own values for a new instance (389ds/389-ds-base
# ldap/servers/slapd/slap.h SLAPD_DEFAULT_SIZELIMIT,
# SLAPD_DEFAULT_LOOKTHROUGHLIMIT, SLAPD_DEFAULT_PAGEDSIZELIMIT;
# back-ldbm/ldbm_config.c ldbm_config table: paged look-through and paged
# ID-list scan limits 0, i.e. "use the plain one"). The ID-list scan limit
# was 4000 until "Issue 2435 - RFE - Raise IDL Scan Limit to INT_MAX":
# 2147483646 from 1.4.3.35 (not in 1.4.4), 2.0.20, 2.1.8, 2.2.8 and 2.3.3.
FRESH_SIZE = 2000
FRESH_LOOKTHROUGH = 5000
FRESH_IDLISTSCAN_OLD = 4000
FRESH_IDLISTSCAN_NEW = 2147483646
IDLISTSCAN_RAISED = (((1, 4, 3, 35), (1, 4, 4)), ((2, 0, 20), (2, 1)),
                     ((2, 1, 8), (2, 2)), ((2, 2, 8), (2, 3)),
                     ((2, 3, 3), (999,)))


def fresh_idlistscan(ds_version):
    """A new 389-DS instance's nsslapd-idlistscanlimit; the old, lower
    value when the version is unknown."""
    if ds_version is not None:
        version = tuple(ds_version)
        for low, high in IDLISTSCAN_RAISED:
            if low <= version < high:
                return FRESH_IDLISTSCAN_NEW
    return FRESH_IDLISTSCAN_OLD


def new_replica_limits(now, ds_version):
    """The limits Dogtag's bind meets on a NEW replica: the bind entry's
    own limits, which replicate with the CA suffix, else a fresh
    instance's defaults, since cn=config does not replicate. IPA raises
    the global limits only after the CA clone has started (freeipa
    release-4-12-5 ipaserver/install/server/replicainstall.py: ca.install
    before ds.apply_updates, which applies install/updates/
    10-config.update)."""
    ldbm = {'nsslapd-lookthroughlimit': [b'%d' % FRESH_LOOKTHROUGH],
            'nsslapd-idlistscanlimit': [
                b'%d' % fresh_idlistscan(ds_version)]}
    config = {'nsslapd-sizelimit': [b'%d' % FRESH_SIZE]}
    return Limits(now.dn, now.root, now.user, ldbm, config)


def count_verdict(limits, in_range, children):
    """Does the unpaged in-range count fail under `limits`? Over the ID-list
    scan limit the range reads as all IDs and 389-DS looks through every
    child; root has no look-through or size limit."""
    if limits.root:
        return None
    looked = in_range if not _over(in_range, limits.allids) else children
    if _over(looked, limits.lookthrough):
        return Verdict('lookthrough', 'look-through limit',
                       limits.lookthrough, looked)
    if _over(in_range, limits.size):
        return Verdict('size', 'size limit', limits.size, in_range)
    return None


def count_limits(limits):
    """The limits count_verdict compares the in-range count with."""
    if limits.root:
        return []
    return [limits.allids, limits.lookthrough, limits.size]


class Bound:
    """A lower bound of the records that match a filter, proven by counts
    capped at each limit + 1; `unknown` is the first limit a count could
    not decide in time (None when every limit was decided)."""

    def __init__(self, at_least, unknown=None):
        self.at_least = at_least
        self.unknown = unknown


def bound(directory, base, filterstr, children, limits, timelimit):
    """How many records match, as far as the limits need: a limit at or
    above `children` (numSubordinates) cannot be exceeded, a count capped
    at limit + 1 decides each other one, lowest first."""
    seen = 0
    for limit in sorted({n for n in limits if n is not None and n >= 0}):
        if children is not None and limit >= children:
            break
        try:
            over = count_over(directory, base, filterstr, limit, timelimit)
        except DirectoryError as e:
            if e.reason != OUT_OF_TIME:
                raise
            over = None
        if over is None:
            return Bound(seen, limit)
        if not over:
            break
        seen = limit + 1
    return Bound(seen)


class Prediction:
    """Dogtag's start-up searches of one repository under one set of
    limits: the sorted lookup's verdict, the in-range count's verdict
    (certificates only), each None when it succeeds."""

    def __init__(self, lookup, count):
        self.lookup = lookup
        self.count = count


def predict(limits, key, candidates, in_range, children):
    """The Prediction for a repository (`key`), from the records the sorted
    lookup must sort (`candidates`), the certificates of the range
    (`in_range`, None for other repositories) and the container's
    children."""
    lookup = judge(limits, True, False, candidates, children,
                   PAGES.get(key, PAGE))
    count = None if in_range is None else \
        count_verdict(limits, in_range, children)
    return Prediction(lookup, count)


def wanted(limits, key):
    """Every limit the sorted lookup of `key` is judged by."""
    return relevant(limits, True, False, PAGES.get(key, PAGE))


def same(first, second):
    """Do two verdicts name the same limit at the same value?"""
    return first is not None and second is not None and \
        (first.limit_name, first.limit) == (second.limit_name, second.limit)


# -- Dogtag's periodic certificate status update, PKI 11.6 and later -------
#
# CertStatusUpdateTask.updateCertStatus (dogtagpki/pki v11.6.0) walks three
# paged, unsorted one-level searches of the certificate repository
# (CertificateRepository.getInvalidCertsByNotBeforeDate,
# getValidCertsByNotAfterDate, getRevokedCertsByNotAfterDate through
# findPagedCertRecords: pages of 500, no sort key), times as DateMapper
# writes them (yyyyMMddHHmmss'Z'). On 389-DS 2.x and 3.x an unsorted
# paged search meets the paged look-through limit over the WHOLE walk, the
# paged size limit page by page, and no ID-list scan limit (tests/
# test_limits_real.py shows it): records that match are each looked
# through, so their count is a lower bound of what it looks through.
STATUS_UPDATE = (('INVALID', 'notBefore'), ('VALID', 'notAfter'),
                 ('REVOKED', 'notAfter'))


def status_update_filters(now):
    """(name, filter) of the task's searches at `now` (a UTC datetime)."""
    stamp = now.strftime('%Y%m%d%H%M%SZ')
    return [('%s certificates by %s' % (status.lower(), attribute),
             '(&(certStatus=%s)(%s<=%s))' % (status, attribute, stamp))
            for status, attribute in STATUS_UPDATE]


def paged_list_verdict(limits, matching):
    """Does an unsorted paged walk over `matching` records fail?"""
    if limits.root:
        return None
    if _over(matching, limits.paged_lookthrough):
        return Verdict('lookthrough', 'paged look-through limit',
                       limits.paged_lookthrough, matching)
    if _over(min(matching, PAGE), limits.paged_size):
        return Verdict('pagedsize', 'paged size limit (nsPagedSizeLimit)',
                       limits.paged_size, matching)
    return None


def paged_list_limits(limits):
    if limits.root:
        return []
    found = [limits.paged_lookthrough]
    if limits.paged_size is not None and limits.paged_size < PAGE:
        found.append(limits.paged_size)
    return found


# -- The CA's certificate searches under Dogtag's bind ---------------------
#
# `ipa cert-find` and the IPA web UI's certificate list post to the CA's
# /ca/rest/certs/search (freeipa release-4-12-5 ipaserver/plugins/dogtag.py
# ra.find: size = the cert-find size limit, 0x7fffffff when it is 0, as the
# web UI asks). Dogtag serves it with findCertRecordsInList(filter, null,
# "serialno", size) (dogtagpki/pki CertService.searchCerts, unchanged from
# v11.5.0 to v11.9.0): a VLV request sorted on serialno, one window of
# `size` entries, no paging; with no criteria the filter is (certstatus=*),
# the allCerts VLV index's (FilterBuilder.buildFilter).
# The agent's certificate list (ListCerts.processCertFilter) was the same
# kind of sorted VLV request, on a serial-number range no VLV index
# matches, up to v11.4.0 (findCertRecordsInList with "serialno"); from
# v11.5.0 it is an unsorted paged search that reads only the pages the
# agent asks for (searchCertificates(filter, -1, start, maxCount),
# LDAPSession.pagedSearch with no sort key), which no record count fails.
#
# What 389-DS does to such a request as a bound user that is not root
# (tests/test_limits_real.py, 2.x bdb and 3.x LMDB): the plain
# look-through limit fails it (error 11) once it reads more entries than
# the limit, which a window as wide as the records does whether or not a
# VLV index serves it, and an unindexed request does for any window; the
# plain size limit fails it (error 4) when the window returns more entries
# than the limit; the paged limits do not touch it, nor does the ID-list
# scan limit by itself. Over that limit, though, an unindexed request's
# candidates read as all IDs and it looked through more than the
# container's records (seen in a backend shared with other test trees:
# error 11 under a look-through limit above the certificates), so the
# container's children stand as a lower bound of what it looks through.
CERT_FIND_FILTER = '(certstatus=*)'


def vlv_list_verdict(limits, returned, looked, everything=None):
    """Does a sorted VLV request fail, returning `returned` entries (None:
    not judged) after looking through at least `looked`? For a request no
    VLV index serves, `everything` is a lower bound of the backend's
    entries: over the ID-list scan limit its candidates read as all IDs
    and it looks through at least that many."""
    if limits.root:
        return None
    if everything is not None and _over(looked, limits.allids):
        looked = max(looked, everything)
    if _over(looked, limits.lookthrough):
        return Verdict('plainlookthrough', 'look-through limit',
                       limits.lookthrough, looked)
    if returned is not None and _over(returned, limits.size):
        return Verdict('size', 'size limit', limits.size, returned)
    return None


def vlv_list_limits(limits):
    return [] if limits.root else [limits.allids, limits.lookthrough,
                                   limits.size]
