"""dogtag.limits on a real 389-DS: Dogtag's own searches under the limits of
its bind, as they are today, after an upgrade to PKI 11.6 and on a new
replica.

The first test is the experiment the model rests on: it runs, as a bound
user that is not root, the very searches PKI 11.6 runs at start-up
(dogtagpki/pki v11.6.0 CertificateRepository.getLastSerialNumberInRange:
a one-level search for (&(certStatus=*)(serialno<=end)), sorted on
-serialno, in pages of 500, LDAPPagedSearch.getPage and
LDAPSession.MAX_PAGED_SEARCH_SIZE; before it getInRangeCount, an unpaged
one-level search for (&(serialno>=begin)(serialno<=end)) with no client
size limit, LDAPSession.search) against 1,000 records, one limit at a time.
"""

import contextlib

import ldap
import pytest
from ldap.controls.libldap import SimplePagedResultsControl
from ldap.controls.sss import SSSRequestControl

from ipahealthcheck_dogtag.dogtag import limits
from ipahealthcheck_dogtag.dogtag.numbers import encode
from conftest import by_key
from test_last_number_truth import _pkidbuser

STARTUP = 'StartupLimitsCheck'
SOURCE = 'dogtag.limits'
LDBM = 'cn=config,cn=ldbm database,cn=plugins,cn=config'

RECORDS = 1000
END = 0x0fffffff        # IPA's first certificate range ends far above


def _outcome(call):
    try:
        return call()
    except ldap.LDAPError as e:
        return type(e).__name__


def sorted_paged(user, container, pages=None):
    """Dogtag's sorted paged lookup; the entries read, page after page."""
    cookie, seen, page = '', 0, 0
    while True:
        paging = SimplePagedResultsControl(False, size=500, cookie=cookie)
        msgid = user.search_ext(
            container, ldap.SCOPE_ONELEVEL,
            '(&(certStatus=*)(serialno<=%s))' % encode(END), ['serialno'],
            serverctrls=[SSSRequestControl(criticality=True,
                                           ordering_rules=['-serialno']),
                         paging])
        _, entries, _, controls = user.result3(msgid)
        seen += len(entries)
        page += 1
        cookie = next((c.cookie for c in controls
                       if c.controlType == paging.controlType), b'')
        if not cookie or (pages and page >= pages):
            return seen


def in_range_count(user, container):
    entries = user.search_ext_s(
        container, ldap.SCOPE_ONELEVEL,
        '(&(serialno>=%s)(serialno<=%s))' % (encode(1), encode(END)),
        ['serialno'])
    return len(entries)


def set_limits(scenario, dn, **values):
    """Set (None: remove) limits on an entry, and read them back."""
    conn = scenario.ds.connect()
    try:
        conn.modify_s(dn, [
            (ldap.MOD_DELETE, name, None) if value is None else
            (ldap.MOD_REPLACE, name, [str(value).encode()])
            for name, value in values.items()
            if value is not None or _has(conn, dn, name)])
        entry = conn.search_s(dn, ldap.SCOPE_BASE,
                              attrlist=list(values))[0][1]
    finally:
        conn.unbind_s()
    for name, value in values.items():
        assert entry.get(name) == (None if value is None
                                   else [str(value).encode()]), entry


def _has(conn, dn, name):
    return bool(conn.search_s(dn, ldap.SCOPE_BASE,
                              attrlist=[name])[0][1].get(name))


def as_user(scenario, dn, call):
    """`call(connection)` bound as `dn`, freshly: limits are read at bind."""
    user = ldap.initialize(scenario.ds.ldap_uri)
    user.simple_bind_s(dn, 'Secret.123')
    try:
        return _outcome(lambda: call(user))
    finally:
        user.unbind_s()


@contextlib.contextmanager
def global_limits(scenario, **values):
    """cn=config limits of the shared server, restored afterwards."""
    conn = scenario.ds.connect()
    names = {'nsslapd-lookthroughlimit': LDBM,
             'nsslapd-idlistscanlimit': LDBM, 'nsslapd-sizelimit':
             'cn=config'}
    before = {}
    for name, value in values.items():
        name = name.replace('_', '-')
        before[name] = conn.search_s(names[name], ldap.SCOPE_BASE,
                                     attrlist=[name])[0][1][name]
        conn.modify_s(names[name], [(ldap.MOD_REPLACE, name,
                                     [str(value).encode()])])
    conn.unbind_s()
    try:
        yield
    finally:
        conn = scenario.ds.connect()
        for name, value in before.items():
            conn.modify_s(names[name], [(ldap.MOD_REPLACE, name, value)])
        conn.unbind_s()


def results(scenario):
    return by_key(scenario.run(check=STARTUP, source=SOURCE), STARTUP)


def no_problem(found):
    bad = [r for r in found.values() if r['result'] != 'SUCCESS']
    assert not bad, [r['text'] for r in bad]


# What each per-user limit at 600 and at 400 does to Dogtag's 11.6 searches
# over 1,000 records: (first page of the sorted lookup, the whole paged
# walk, the unpaged in-range count); a number is the entries read.
SEEN = {
    ('nsPagedSizeLimit', 600): (500, 1000, 1000),
    ('nsPagedSizeLimit', 400): ('SIZELIMIT_EXCEEDED', 'SIZELIMIT_EXCEEDED',
                                1000),
    ('nsSizeLimit', 600): (500, 1000, 'SIZELIMIT_EXCEEDED'),
    ('nsSizeLimit', 400): ('SIZELIMIT_EXCEEDED', 'SIZELIMIT_EXCEEDED',
                           'SIZELIMIT_EXCEEDED'),
    ('nsIDListScanLimit', 600): ('UNWILLING_TO_PERFORM',
                                 'UNWILLING_TO_PERFORM', 1000),
    ('nsIDListScanLimit', 400): ('UNWILLING_TO_PERFORM',
                                 'UNWILLING_TO_PERFORM', 1000),
    ('nsPagedIDListScanLimit', 600): ('UNWILLING_TO_PERFORM',
                                      'UNWILLING_TO_PERFORM', 1000),
    ('nsPagedIDListScanLimit', 400): ('UNWILLING_TO_PERFORM',
                                      'UNWILLING_TO_PERFORM', 1000),
    ('nsLookThroughLimit', 600): ('ADMINLIMIT_EXCEEDED',
                                  'ADMINLIMIT_EXCEEDED',
                                  'ADMINLIMIT_EXCEEDED'),
    ('nsLookThroughLimit', 400): ('ADMINLIMIT_EXCEEDED',
                                  'ADMINLIMIT_EXCEEDED',
                                  'ADMINLIMIT_EXCEEDED'),
    ('nsPagedLookThroughLimit', 600): ('ADMINLIMIT_EXCEEDED',
                                       'ADMINLIMIT_EXCEEDED', 1000),
    ('nsPagedLookThroughLimit', 400): ('ADMINLIMIT_EXCEEDED',
                                       'ADMINLIMIT_EXCEEDED', 1000),
}


def test_which_limit_stops_dogtags_start_up_search(scenario):
    """Which per-user limit really fails PKI 11.6's searches, 1,000 records
    (SEEN; the same on 389-DS 2.x bdb and 3.x LMDB).

    A paged size limit of 600 (or a plain one of 600, to which the paged one
    falls back) stops neither the first page nor the whole paged walk:
    389-DS applies it page by page (389ds/389-ds-base
    ldap/servers/slapd/pagedresults.c, opshared.c). Below the page Dogtag
    asks (500) it stops the first page. The ID-list scan limit, paged or
    not, fails the sorted search with error 53 (back-ldbm/sort.c
    sort_candidates refuses "all IDs"); the look-through limit, paged or
    not, with error 11 (ldbm_search.c compute_lookthrough_limit). The
    unpaged in-range count fails under a plain size or look-through limit
    below the range's records. The model (dogtag/limits.py judge,
    count_verdict) must say the same for each."""
    scenario.build(certs=range(1, RECORDS + 1), kra=False,
                   vlv=('allCerts',))
    _pkidbuser(scenario).unbind_s()
    dn = 'uid=pkidbuser,ou=people,' + scenario.tree.base
    certs = scenario.tree.certs
    seen = {}
    for limit, value in SEEN:
        set_limits(scenario, dn, **{limit: value})
        seen[limit, value] = (
            as_user(scenario, dn, lambda u: sorted_paged(u, certs, pages=1)),
            as_user(scenario, dn, lambda u: sorted_paged(u, certs)),
            as_user(scenario, dn, lambda u: in_range_count(u, certs)))
        set_limits(scenario, dn, **{limit: None})
        # The model agrees: same verdicts from the same entry.
        user = {limit.lower(): [str(value).encode()]}
        bind = limits.Limits(dn, False, user, {}, {})
        lookup = limits.judge(bind, True, False, RECORDS, RECORDS)
        count = limits.count_verdict(bind, RECORDS, RECORDS)
        assert (lookup is None) == isinstance(seen[limit, value][0], int), \
            (limit, value, seen[limit, value])
        assert (count is None) == isinstance(seen[limit, value][2], int), \
            (limit, value, seen[limit, value])
    assert seen == SEEN


def test_upgrade_would_stop_the_ca(scenario):
    """PKI 11.5 today, served by its VLV index; pkidbuser's own ID-list scan
    limit of 600 below 1,000 records stops the sorted lookup of 11.6
    (dogtagpki/pki#5171, error 53): a WARNING before the upgrade, and the
    fix (nsPagedIDListScanLimit on the entry) lifts it."""
    scenario.build(certs=range(1, RECORDS + 1), kra=False,
                   vlv=('allCerts', 'caAll'))
    _pkidbuser(scenario, nsIDListScanLimit='600').unbind_s()
    dn = 'uid=pkidbuser,ou=people,' + scenario.tree.base
    certs = scenario.tree.certs
    assert as_user(scenario, dn, lambda u: sorted_paged(u, certs, pages=1)) \
        == 'UNWILLING_TO_PERFORM'                  # the fault is real
    found = results(scenario)
    warning = found['ca.certificates.upgrade']
    assert warning['result'] == 'WARNING', warning['text']
    kw = warning['kw']
    assert kw['code'] == 'DTR0901'
    assert kw['limit_exceeded'] == 'ID-list scan limit'
    assert kw['limit'] == 600 and kw['candidates'] == 601
    assert kw['children'] == RECORDS
    assert kw['limit_attribute'] == 'nsPagedIDListScanLimit'
    assert kw['dogtag_bind'] == dn
    assert 'nsPagedIDListScanLimit: 2147483646' in kw['fix'], kw['fix']
    # The limit replicates with the entry: a new replica meets the same
    # one, told once.
    assert 'ca.certificates.new_replica' not in found
    assert kw['new_replica_too'] is True
    # Dogtag's 11.5 lookup today is served by its index: no ERROR there.
    last = by_key(scenario.run(check='LastNumberCheck'), 'LastNumberCheck')
    assert last['ca.certificates']['result'] == 'SUCCESS'

    set_limits(scenario, dn, nsPagedIDListScanLimit=2147483646)   # the fix
    assert as_user(scenario, dn, lambda u: sorted_paged(u, certs)) == RECORDS
    found = results(scenario)
    no_problem(found)
    assert found['ca.certificates']['kw']['code'] == 'DTR0900'


REPLICA_RECORDS = limits.FRESH_LOOKTHROUGH + 100
RAISED = dict(nsslapd_lookthroughlimit=100000, nsslapd_idlistscanlimit=100000,
              nsslapd_sizelimit=100000)


def ds_version(scenario):
    conn = scenario.ds.connect()
    try:
        text = conn.search_s('cn=config', ldap.SCOPE_BASE, attrlist=[
            'nsslapd-versionstring'])[0][1]['nsslapd-versionstring'][0]
    finally:
        conn.unbind_s()
    return tuple(int(n) for n in
                 text.decode().split('/')[1].split()[0].split('.'))


def test_new_replica_would_not_start(scenario):
    """cn=config raised as IPA raises it (freeipa release-4-12-5
    install/updates/10-config.update: look-through, ID-list scan and size
    limits 100000): this server's Dogtag is fine, after an upgrade too. A
    new replica's cn=config is a fresh 389-DS's (look-through 5000,
    389ds/389-ds-base slap.h SLAPD_DEFAULT_LOOKTHROUGHLIMIT; ID-list scan
    4000 before 2.3.3, ldbm_config.c) until IPA updates it after the CA
    clone started: with 5,100 certificates its sorted lookup fails there
    (freeipa-container#680). Proven by running the lookup as pkidbuser
    under the fresh values; each fix, a per-user paged limit on pkidbuser
    (which replicates), lifts its limit, until the replica would start."""
    scenario.build(certs=range(1, REPLICA_RECORDS + 1), kra=False,
                   vlv=('allCerts', 'caAll'))
    _pkidbuser(scenario).unbind_s()
    dn = 'uid=pkidbuser,ou=people,' + scenario.tree.base
    certs = scenario.tree.certs
    fresh_idl = limits.fresh_idlistscan(ds_version(scenario))
    fresh = dict(nsslapd_lookthroughlimit=limits.FRESH_LOOKTHROUGH,
                 nsslapd_idlistscanlimit=fresh_idl,
                 nsslapd_sizelimit=limits.FRESH_SIZE)
    # The limits a fresh replica meets, in the order 389-DS applies them.
    expected = [('paged look-through limit', limits.FRESH_LOOKTHROUGH,
                 'nsPagedLookThroughLimit', 'ADMINLIMIT_EXCEEDED')]
    if fresh_idl < REPLICA_RECORDS:
        expected.insert(0, ('ID-list scan limit', fresh_idl,
                            'nsPagedIDListScanLimit',
                            'UNWILLING_TO_PERFORM'))
    with global_limits(scenario, **RAISED):
        assert as_user(scenario, dn, lambda u: sorted_paged(u, certs, 1)) \
            == 500                                  # fine here
        for name, limit, attribute, error in expected:
            with global_limits(scenario, **fresh):
                assert as_user(scenario, dn,
                               lambda u: sorted_paged(u, certs, 1)) == \
                    error                           # a fresh instance
            found = results(scenario)
            assert 'ca.certificates.upgrade' not in found
            warning = found['ca.certificates.new_replica']
            assert warning['result'] == 'WARNING', warning['text']
            kw = warning['kw']
            assert kw['code'] == 'DTR0902'
            assert (kw['limit_exceeded'], kw['limit']) == (name, limit)
            assert kw['candidates'] > limit
            assert kw['limit_attribute'] == attribute
            assert '%s: ' % attribute in kw['fix'], kw['fix']
            assert 'nsslapd-lookthroughlimit 5000' in kw['replica_defaults']
            set_limits(scenario, dn, **{attribute: -1 if 'look' in name
                                        else 2147483646})     # the fix
        with global_limits(scenario, **fresh):
            assert as_user(scenario, dn, lambda u: sorted_paged(u, certs)) \
                == REPLICA_RECORDS
        found = results(scenario)
        no_problem(found)
        # The unpaged in-range count still meets a fresh plain limit there
        # (look-through, or size 2000): Dogtag only logs that, and the
        # field says so; here, under IPA's raised limits, it succeeds.
        assert found['ca.certificates']['kw']['in_range_count'] in (
            'a new replica: look-through limit (5000)',
            'a new replica: size limit (2000)')


def test_limit_already_reported_here(scenario):
    """PKI 11.6 with pkidbuser's nsPagedSizeLimit below Dogtag's page:
    LastNumberCheck reports the failing lookup here (DTR0109); the new
    check does not report it again, and says a replica meets it too."""
    scenario.build(certs=range(1, 601), kra=False, vlv=('allCerts',))
    _pkidbuser(scenario, nsPagedSizeLimit='400').unbind_s()
    dn = 'uid=pkidbuser,ou=people,' + scenario.tree.base
    assert as_user(scenario, dn, lambda u: sorted_paged(
        u, scenario.tree.certs, 1)) == 'SIZELIMIT_EXCEEDED'
    scenario.pki_version = '11.6.0'
    last = by_key(scenario.run(check='LastNumberCheck'), 'LastNumberCheck')
    assert last['ca.certificates']['kw']['code'] == 'DTR0109'
    found = results(scenario)
    assert set(found) == {'ca.certificates', 'ca.requests'}, found
    told = found['ca.certificates']['kw']
    assert told['code'] == 'DTR0904'
    assert told['limit'] == 400


def test_healthy_control(scenario):
    """389-DS's defaults, a few records, no per-user limits: no WARNING,
    for either PKI generation."""
    scenario.build(certs=range(1, 31), ca_requests=range(1, 11),
                   keys=range(1, 6), kra_requests=range(1, 6))
    _pkidbuser(scenario).unbind_s()
    for version in ('11.5.0', '11.6.0'):
        scenario.pki_version = version
        found = results(scenario)
        no_problem(found)
        assert set(found) == {'ca.certificates', 'ca.requests', 'kra.keys',
                              'kra.requests'}
        assert {r['kw']['code'] for r in found.values()} == {'DTR0900'}
        assert found['ca.certificates']['kw']['in_range'] == 0


def test_count_out_of_time(scenario, monkeypatch):
    """A capped count that runs out of the check's time leaves the limits
    unproven: said, never taken as "within the limits"."""
    scenario.build(certs=range(1, 50), kra=False, vlv=('allCerts',))
    _pkidbuser(scenario, nsPagedLookThroughLimit='20').unbind_s()
    monkeypatch.setattr(limits, 'count_over', lambda *a, **k: None)
    found = results(scenario)
    unproven = found['ca.certificates']
    assert unproven['result'] == 'WARNING'
    assert unproven['kw']['code'] == 'DTR0903'
    assert unproven['kw']['limit'] == 20
    assert 'ca.certificates.upgrade' not in found


@pytest.mark.parametrize('version,expected', [
    ((2, 3, 1), 4000), ((2, 3, 3), 2147483646), ((1, 4, 3, 35), 2147483646),
    ((1, 4, 4, 19), 4000), ((3, 1, 2), 2147483646), (None, 4000)])
def test_fresh_idlistscan_by_version(version, expected):
    """389ds/389-ds-base back-ldbm/ldbm_config.c by tag (Issue 2435)."""
    assert limits.fresh_idlistscan(version) == expected


def test_nothing_to_judge(scenario):
    """Every repository's range unusable (dogtag.ranges says why): one
    SUCCESS saying nothing was judged, never silence."""
    scenario.build(certs=range(1, 4), ca_requests=range(1, 4), kra=False)
    scenario.write_cs_cfg(dbs__endSerialNumber='12zz',
                          dbs__endRequestNumber='34zz')
    found = results(scenario)
    assert list(found) == ['repositories']
    assert found['repositories']['kw']['code'] == 'DTR0905'


STATUS = 'StatusUpdateLimitsCheck'


def paged_unsorted(user, container, filterstr):
    """A paged walk with no sort, as Dogtag's findPagedCertRecords(filter,
    attrs, null) runs it (pages of 500)."""
    cookie, seen = '', 0
    while True:
        paging = SimplePagedResultsControl(False, size=500, cookie=cookie)
        msgid = user.search_ext(container, ldap.SCOPE_ONELEVEL, filterstr,
                                ['serialno'], serverctrls=[paging])
        _, entries, _, controls = user.result3(msgid)
        seen += len(entries)
        cookie = next((c.cookie for c in controls
                       if c.controlType == paging.controlType), b'')
        if not cookie:
            return seen


def expired(tree, numbers):
    entries = tree.certs_(numbers)
    for _, attrs in entries:
        attrs['notAfter'] = [b'20200101000000Z']
    return entries


def test_status_update_over_paged_lookthrough(scenario):
    """PKI 11.6's status update walks (&(certStatus=VALID)(notAfter<=now))
    paged and unsorted (dogtagpki/pki v11.6.0 CertStatusUpdateTask,
    CertificateRepository.getValidCertsByNotAfterDate). 389-DS counts the
    paged look-through limit over the whole walk, not per page (seen here:
    the first page passes, the walk fails), so 700 expired VALID
    certificates and pkidbuser's nsPagedLookThroughLimit of 600 stop it:
    expired certificates stay VALID. The fix lifts it; the control, with
    no expired certificate, stays quiet."""
    scenario.build(certs=range(1, 11), kra=False, vlv=('allCerts',))
    scenario.add(expired(scenario.tree, range(11, 711)))
    _pkidbuser(scenario, nsPagedLookThroughLimit='600').unbind_s()
    dn = 'uid=pkidbuser,ou=people,' + scenario.tree.base
    walk = '(&(certStatus=VALID)(notAfter<=20261231000000Z))'
    certs = scenario.tree.certs
    assert as_user(scenario, dn, lambda u: paged_unsorted(u, certs, walk)) \
        == 'ADMINLIMIT_EXCEEDED'                    # the fault is real
    scenario.pki_version = '11.6.0'
    found = by_key(scenario.run(check=STATUS, source=SOURCE), STATUS)
    result = found['ca.certificates.status_update']
    assert result['result'] == 'WARNING', result['text']
    kw = result['kw']
    assert kw['code'] == 'DTR0911'
    assert kw['search'] == 'valid certificates by notAfter'
    assert kw['limit'] == 600 and kw['matching'] == 601
    assert kw['limit_attribute'] == 'nsPagedLookThroughLimit'
    assert 'nsPagedLookThroughLimit: -1' in kw['fix'], kw['fix']

    set_limits(scenario, dn, nsPagedLookThroughLimit=-1)      # the fix
    assert as_user(scenario, dn, lambda u: paged_unsorted(u, certs, walk)) \
        == 700
    found = by_key(scenario.run(check=STATUS, source=SOURCE), STATUS)
    result = found['ca.certificates.status_update']
    assert result['kw']['code'] == 'DTR0910', result['text']


def test_status_update_healthy_control(scenario):
    """Defaults, 30 certificates none expired: SUCCESS, nothing counted
    above the container's children."""
    scenario.build(certs=range(1, 31), kra=False, vlv=('allCerts',))
    _pkidbuser(scenario).unbind_s()
    found = by_key(scenario.run(check=STATUS, source=SOURCE), STATUS)
    result = found['ca.certificates.status_update']
    assert result['result'] == 'SUCCESS'
    assert result['kw']['code'] == 'DTR0910'


def test_status_update_count_out_of_time(scenario, monkeypatch):
    """A count that runs out of time: said, not taken as "fits"."""
    scenario.build(certs=range(1, 11), kra=False, vlv=('allCerts',))
    _pkidbuser(scenario, nsPagedLookThroughLimit='5').unbind_s()
    monkeypatch.setattr(limits, 'count_over', lambda *a, **k: None)
    found = by_key(scenario.run(check=STATUS, source=SOURCE), STATUS)
    result = found['ca.certificates.status_update']
    assert result['result'] == 'WARNING'
    assert result['kw']['code'] == 'DTR0912'
    assert result['kw']['limit'] == 5


# -- CertSearchLimitsCheck: the CA's certificate searches -------------------

SEARCHES = 'CertSearchLimitsCheck'


def vlv_sorted(user, container, filterstr, after):
    """A VLV request sorted on serialno from the first entry, `after` + 1
    entries wide, as LDAPVirtualList asks it (dogtagpki/pki v11.6.0
    LDAPVirtualList: LDAPSortControl with LDAPVirtualListControl)."""
    from ldap.controls.vlv import VLVRequestControl
    vlv = VLVRequestControl(criticality=True, before_count=0,
                            after_count=after, offset=1, content_count=0)
    msgid = user.search_ext(
        container, ldap.SCOPE_ONELEVEL, filterstr, ['serialno'],
        serverctrls=[SSSRequestControl(criticality=True,
                                       ordering_rules=['serialno']), vlv])
    return len(user.result3(msgid)[1])


CERT_FIND = '(certstatus=*)'
AGENT = '(&(serialno>=%s)(serialno<=%s))' % (encode(1), encode(END))


# What each per-user limit at 600 and at 400 does to the CA's certificate
# searches over 1,000 records: (ipa cert-find's window over every record,
# a cert-find window of 20, the agent's sorted list of 20 on a serial
# range), with the allCerts VLV index built or not.
VLV_SEEN = {}
for _limit, _value in SEEN:
    for _built in (True, False):
        VLV_SEEN[_built, _limit, _value] = (RECORDS, 20, 20)
    if _limit == 'nsLookThroughLimit':
        VLV_SEEN[True, _limit, _value] = ('ADMINLIMIT_EXCEEDED', 20,
                                          'ADMINLIMIT_EXCEEDED')
        VLV_SEEN[False, _limit, _value] = ('ADMINLIMIT_EXCEEDED',) * 3
    if _limit == 'nsSizeLimit':
        for _built in (True, False):
            VLV_SEEN[_built, _limit, _value] = ('SIZELIMIT_EXCEEDED', 20, 20)


@pytest.mark.parametrize('built', [True, False])
def test_which_limit_stops_the_certificate_searches(scenario, built):
    """Which per-user limit really fails the CA's sorted VLV searches,
    1,000 records (VLV_SEEN; the same on 389-DS 2.x bdb and 3.x LMDB).

    ipa cert-find posts to /ca/rest/certs/search (freeipa release-4-12-5
    ipaserver/plugins/dogtag.py ra.find, window = its size limit,
    0x7fffffff for 0 as the web UI asks); Dogtag answers with one VLV
    request sorted on serialno (dogtagpki/pki v11.6.0 CertService.
    searchCerts, findCertRecordsInList, LDAPVirtualList; (certstatus=*)
    without criteria, FilterBuilder.buildFilter). Up to v11.4.0 the agent's
    list (ListCerts.processCertFilter) was the same request on a serial
    range, which no VLV index serves. Seen: the plain look-through limit
    fails a window over every record, indexed or not, and any unindexed
    request (error 11); the plain size limit a window returning more
    entries (error 4); the ID-list scan limits (unlike the sorted paged
    lookup, no error 53) and the paged limits touch none of them. The model
    (dogtag/limits.py vlv_list_verdict) must say the same."""
    scenario.build(certs=range(1, RECORDS + 1), kra=False,
                   vlv=('allCerts',) if built else ())
    _pkidbuser(scenario).unbind_s()
    dn = 'uid=pkidbuser,ou=people,' + scenario.tree.base
    certs = scenario.tree.certs
    seen = {}
    # cn=config's look-through limit above the whole backend, as IPA
    # raises it: each per-user limit alone.
    with global_limits(scenario, nsslapd_lookthroughlimit=10 ** 7):
        for limit, value in SEEN:
            set_limits(scenario, dn, **{limit: value})
            seen[built, limit, value] = (
                as_user(scenario, dn, lambda u: vlv_sorted(
                    u, certs, CERT_FIND, RECORDS - 1)),
                as_user(scenario, dn, lambda u: vlv_sorted(
                    u, certs, CERT_FIND, 19)),
                as_user(scenario, dn, lambda u: vlv_sorted(
                    u, certs, AGENT, 19)))
            set_limits(scenario, dn, **{limit: None})
            user = {limit.lower(): [str(value).encode()]}
            bind = limits.Limits(dn, False, user, {}, {})
            cert_find = limits.vlv_list_verdict(bind, RECORDS, RECORDS)
            agent = limits.vlv_list_verdict(bind, None, RECORDS, RECORDS)
            assert (cert_find is None) == isinstance(
                seen[built, limit, value][0], int), (limit, value, seen)
            assert (agent is None) == isinstance(
                seen[built, limit, value][2], int), (limit, value, seen)
    assert seen == {k: v for k, v in VLV_SEEN.items() if k[0] == built}


def searches(scenario):
    return by_key(scenario.run(check=SEARCHES, source=SOURCE), SEARCHES)


def test_cert_find_over_size_limit(scenario):
    """pagure.io/freeipa/issue/9369 (freeipa PR #6821): a small nsSizeLimit
    on pkidbuser, more certificates than it: ipa cert-find over every
    certificate fails (error 4, "Unable to search for certificates"). The
    check says so; the fix (nsSizeLimit -1 on the entry) lifts it."""
    scenario.build(certs=range(1, 701), kra=False, vlv=('allCerts',))
    _pkidbuser(scenario, nsSizeLimit='600').unbind_s()
    dn = 'uid=pkidbuser,ou=people,' + scenario.tree.base
    certs = scenario.tree.certs
    assert as_user(scenario, dn, lambda u: vlv_sorted(
        u, certs, CERT_FIND, 699)) == 'SIZELIMIT_EXCEEDED'   # the fault
    found = searches(scenario)
    assert set(found) == {'ca.certificates.cert_find'}, found
    result = found['ca.certificates.cert_find']
    assert result['result'] == 'WARNING', result['text']
    kw = result['kw']
    assert kw['code'] == 'DTR0921'
    assert (kw['limit_exceeded'], kw['limit']) == ('size limit', 600)
    assert kw['returned'] == 601 and kw['certificates'] == 601
    assert kw['limit_attribute'] == 'nsSizeLimit'
    assert kw['dogtag_bind'] == dn
    assert 'nsSizeLimit: -1' in kw['fix'], kw['fix']

    set_limits(scenario, dn, nsSizeLimit=-1)                 # the fix
    assert as_user(scenario, dn, lambda u: vlv_sorted(
        u, certs, CERT_FIND, 699)) == 700
    found = searches(scenario)
    assert found['ca.certificates.searches']['kw']['code'] == 'DTR0920'
    no_problem(found)


def test_agent_list_over_lookthrough(scenario):
    """PKI 11.4: the agent's list sorted on serialno over a serial range,
    served by no VLV index (dogtagpki/pki v11.4.0 ListCerts, #3464), under
    pkidbuser's nsLookThroughLimit of 600 with 700 certificates: error 11
    for a page of 20. Both the agent's list and cert-find over every
    certificate are told; the fix (nsLookThroughLimit -1) lifts both."""
    scenario.build(certs=range(1, 701), kra=False, vlv=('allCerts',))
    _pkidbuser(scenario, nsLookThroughLimit='600').unbind_s()
    dn = 'uid=pkidbuser,ou=people,' + scenario.tree.base
    certs = scenario.tree.certs
    assert as_user(scenario, dn, lambda u: vlv_sorted(
        u, certs, AGENT, 19)) == 'ADMINLIMIT_EXCEEDED'       # the fault
    scenario.pki_version = '11.4.0'
    found = searches(scenario)
    assert set(found) == {'ca.certificates.cert_find',
                          'ca.certificates.agent_list'}, found
    kw = found['ca.certificates.agent_list']['kw']
    assert found['ca.certificates.agent_list']['result'] == 'WARNING'
    assert kw['code'] == 'DTR0922'
    assert (kw['limit_exceeded'], kw['limit']) == ('look-through limit',
                                                   600)
    assert kw['looked'] == 601 and kw['returned'] is None
    assert kw['limit_attribute'] == 'nsLookThroughLimit'
    assert 'nsLookThroughLimit: -1' in kw['fix'], kw['fix']
    assert found['ca.certificates.cert_find']['kw']['code'] == 'DTR0921'
    # From 11.5 the agent's list is unsorted and paged: not judged.
    scenario.pki_version = '11.5.0'
    assert set(searches(scenario)) == {'ca.certificates.cert_find'}

    scenario.pki_version = '11.4.0'
    set_limits(scenario, dn, nsLookThroughLimit=-1)          # the fix
    assert as_user(scenario, dn, lambda u: vlv_sorted(
        u, certs, AGENT, 19)) == 20
    found = searches(scenario)
    no_problem(found)
    kw = found['ca.certificates.searches']['kw']
    assert kw['code'] == 'DTR0920'
    assert kw['agent_list'] == 'sorted VLV list judged'


def test_cert_searches_healthy_control(scenario):
    """Defaults, 30 certificates: one SUCCESS for either PKI generation."""
    scenario.build(certs=range(1, 31), kra=False, vlv=('allCerts',))
    _pkidbuser(scenario).unbind_s()
    for version in ('11.4.0', '11.6.0'):
        scenario.pki_version = version
        found = searches(scenario)
        no_problem(found)
        assert [r['kw']['code'] for r in found.values()] == ['DTR0920']


def test_cert_searches_out_of_time(scenario, monkeypatch):
    """A count that runs out of time: said, not taken as "fits"."""
    scenario.build(certs=range(1, 11), kra=False, vlv=('allCerts',))
    _pkidbuser(scenario, nsSizeLimit='5').unbind_s()
    monkeypatch.setattr(limits, 'count_over', lambda *a, **k: None)
    found = searches(scenario)
    result = found['ca.certificates.searches']
    assert result['result'] == 'WARNING'
    assert result['kw']['code'] == 'DTR0923'
    assert result['kw']['limit'] == 5
