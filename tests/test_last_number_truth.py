"""LastNumberCheck and VLVIndexCheck: what counts as proof, what Dogtag's
own bind sees, how numbers are read and which fixes run, on a real 389-DS."""

import time

import ldap
import pytest
from ldap.controls.libldap import SimplePagedResultsControl
from ldap.controls.sss import SSSRequestControl
from ldap.controls.vlv import VLVRequestControl

from ipahealthcheck_dogtag.discovery import Settings, discover
from ipahealthcheck_dogtag.dogtag import fixes, truth
from ipahealthcheck_dogtag.dogtag.repositories import repositories
from sandbox import cadb
from conftest import by_key

LAST = 'LastNumberCheck'
VLV = 'VLVIndexCheck'


def hook_scan(monkeypatch, before=None, after=None, expired=False):
    """Run code around the full scan of the repositories, on the real
    server, as a busy CA would issue meanwhile; `expired` hands the scan a
    deadline already past, as a big repository and the default timeout do
    (the benchmark shows that for real at 1,000,000 records)."""
    real_scan = truth.scan

    def scan(directory, repo, last, deadline):
        if before:
            before(repo)
        result = real_scan(directory, repo, last,
                           time.monotonic() - 1 if expired else deadline)
        if after:
            after(repo)
        return result
    monkeypatch.setattr(truth, 'scan', scan)


def _sorted_lookup_as(scenario, bind_dn):
    """Dogtag's 11.6 request lookup (sorted on -requestId, paged), run for
    real on the sandbox by Dogtag's own bind."""
    user = ldap.initialize(scenario.ds.ldap_uri)
    user.simple_bind_s(bind_dn, 'Secret.123')
    try:
        msgid = user.search_ext(
            scenario.tree.ca_requests, ldap.SCOPE_ONELEVEL,
            '(&(requestId<=0810000000)(requeststate=*))', ['requestId'],
            serverctrls=[SSSRequestControl(criticality=True,
                                           ordering_rules=['-requestId']),
                         SimplePagedResultsControl(False, size=500,
                                                   cookie='')])
        return user.result3(msgid)
    finally:
        user.unbind_s()


def test_issuance_during_the_check_is_no_stale_index(scenario, ds,
                                                     monkeypatch):
    """A CA issuing while we read: records 61..65 appear between Dogtag's
    lookup and the scan, 66..70 between the scan and the VLV count. Neither
    check may call that a stale index: both are judged against readings
    taken before and after the scan."""
    scenario.build(certs=range(1, 61), ca_requests=range(1, 4), kra=False)

    def issue(numbers):
        def add(repo):
            if repo.key == 'ca.certificates':
                scenario.add(scenario.tree.certs_(numbers))
        return add
    hook_scan(monkeypatch, before=issue(range(61, 66)),
              after=issue(range(66, 71)))
    results = scenario.run()
    certs = by_key(results, LAST)['ca.certificates']
    assert certs['result'] == 'SUCCESS', certs['text']
    assert certs['kw']['dogtag_last_before_scan'] == '60'
    assert certs['kw']['dogtag_last'] == '70'       # re-run after the scan
    assert certs['kw']['real_last'] == '65'         # what the scan saw
    assert certs['kw']['proof'] == 'full scan'
    assert certs['kw']['code'] == 'DTR0115'
    assert certs['kw']['radix'] == 16
    index = by_key(results, VLV)['allCerts-' + scenario.name]
    assert index['result'] == 'SUCCESS', index['text']
    assert (index['kw']['indexed_before_scan'], index['kw']['records'],
            index['kw']['indexed']) == (60, 65, 70)

    # A stale index while the CA issues: the record issued meanwhile enters
    # the index, so a restart now would answer 76 and issue 77, no
    # collision; the index still misses 71..75, and VLVIndexCheck says so.
    monkeypatch.undo()
    cadb.make_stale_vlv(ds, scenario.tree.vlv_index_names(['allCerts']),
                        scenario.tree.certs_(range(71, 76)))
    hook_scan(monkeypatch, before=issue([76]))
    results = scenario.run()
    certs = by_key(results, LAST)['ca.certificates']
    assert certs['kw']['dogtag_last'] == '76'
    index = by_key(results, VLV)['allCerts-' + scenario.name]
    assert index['result'] == 'ERROR'
    assert (index['kw']['indexed_before_scan'], index['kw']['records'],
            index['kw']['indexed']) == (70, 76, 71)


def test_unfinished_scan_is_success_on_the_probe_proof(scenario, ds,
                                                       monkeypatch):
    """The default timeout cannot scan a big CA; the probe through the
    serialno/requestId equality index proves the usual fault absent, so a
    healthy CA gets SUCCESS saying which proof it rests on."""
    scenario.build(certs=range(1, 61), ca_requests=range(1, 61),
                   keys=range(1, 5), kra_requests=range(1, 5))
    hook_scan(monkeypatch, expired=True)
    results = scenario.run()
    for key, result in by_key(results, LAST).items():
        assert result['result'] == 'SUCCESS', (key, result['text'])
        assert result['kw']['scan_complete'] is False
        assert result['kw']['proof'] == 'equality index probe'
        assert result['kw']['code'] == 'DTR0117'
    for key, result in by_key(results, VLV).items():
        assert result['result'] == 'SUCCESS', (key, result['text'])
        assert result['kw']['proof'] == 'equality index probe'

    # An ERROR still needs proof, and the probe gives it.
    cadb.make_stale_vlv(ds, scenario.tree.vlv_index_names(['allCerts']),
                        scenario.tree.certs_(range(61, 64)))
    results = scenario.run()
    certs = by_key(results, LAST)['ca.certificates']
    assert certs['result'] == 'ERROR'
    assert certs['kw']['proof'] == 'equality index probe'
    assert certs['kw']['first_reused'] == '61'
    index = by_key(results, VLV)['allCerts-' + scenario.name]
    assert index['result'] == 'ERROR'
    assert index['kw']['first_missing'] == '61'


def test_certificate_without_status_above_the_answer(scenario):
    """Dogtag's CA lookup filter is (certStatus=*) (v11.5.0 and v11.6.0
    CertificateRepository.getLastSerialNumberInRange): an entry without it
    is invisible to the lookup but holds its cn=<n>."""
    scenario.build(certs=range(1, 11), ca_requests=range(1, 3), kra=False)
    dn, attrs = scenario.tree.cert(11)
    del attrs['certStatus']
    scenario.add([(dn, attrs)])
    found = by_key(scenario.run(), LAST)
    assert found['ca.certificates']['result'] == 'SUCCESS'
    outside = found['ca.certificates.outside_filter']
    assert outside['result'] == 'ERROR'
    assert outside['kw']['first_outside_dn'] == dn
    assert outside['kw']['next_number'] == '11'
    assert outside['kw']['outside_filter'] == '(certStatus=*)'


def test_numbers_are_read_as_dogtag_reads_them(scenario):
    """BigIntegerMapper.BigIntegerFromDB drops two characters unchecked
    (dogtagpki/pki v10.5.0..master): `997` is 7 to Dogtag; `0x1f` it cannot
    read, and LDAPVirtualList (<= 11.5) leaves such a record out."""
    from ipahealthcheck_dogtag.dogtag.numbers import (
        NumberError, decode_lenient)
    assert decode_lenient('997') == 7
    assert decode_lenient(b'011') == 1
    with pytest.raises(NumberError):
        decode_lenient('0x1f')
    scenario.build(certs=range(1, 6), ca_requests=range(1, 3), kra=False)

    def odd(number, value):
        dn, attrs = scenario.tree.cert(number)
        attrs['serialno'] = [value]
        scenario.add([(dn, attrs)])
        return dn
    odd(7, b'997')
    found = by_key(scenario.run(), LAST)
    certs = found['ca.certificates']
    assert certs['result'] == 'SUCCESS', certs['text']
    assert certs['kw']['dogtag_last'] == certs['kw']['real_last'] == '7'
    values = found['ca.certificates.values']
    assert values['result'] == 'ERROR'
    assert values['kw']['bad_value'] == '997'
    assert values['kw']['code'] == 'DTR0106'
    assert values['kw']['pki_version'] == '11.5.0'

    # 0x1f sorts after 0910000000, so it is the VLV target; Dogtag leaves
    # it out, walks back to 5 and would issue 6, then 7 again.
    odd(6, b'0x1f')
    certs = by_key(scenario.run(), LAST)['ca.certificates']
    assert certs['result'] == 'ERROR', certs['text']
    assert (certs['kw']['dogtag_last'], certs['kw']['first_reused']) == \
        ('5', '7')

    # From 11.6 the sorted search gets 02ab first and Dogtag cannot start.
    dn = odd(8, b'02ab')
    scenario.pki_version = '11.6.0'
    certs = by_key(scenario.run(), LAST)['ca.certificates']
    assert certs['result'] == 'ERROR'
    assert (certs['kw']['bad_dn'], certs['kw']['bad_value']) == (dn, '02ab')
    assert certs['kw']['code'] == 'DTR0102'


def test_inverted_range(scenario):
    """getLastSerialNumberInRange returns null for low >= high, and
    Repository.initCache moves to the standby range (v11.5.0)."""
    scenario.build(certs=range(1, 6), ca_requests=range(1, 3), kra=False)
    scenario.write_cs_cfg(dbs__beginSerialNumber='20',
                          dbs__endSerialNumber='20')
    certs = by_key(scenario.run(), LAST)['ca.certificates']
    assert certs['result'] == 'ERROR'
    assert certs['kw']['code'] == 'DTR0104'

    scenario.write_cs_cfg(dbs__beginSerialNumber='30',
                          dbs__endSerialNumber='20',
                          dbs__nextBeginSerialNumber='1',
                          dbs__nextEndSerialNumber='100')
    certs = by_key(scenario.run(), LAST)['ca.certificates']
    assert certs['result'] == 'SUCCESS'
    assert certs['kw']['range_used'] == 'standby'
    assert certs['kw']['dogtag_last'] == '5'


def test_next_number_with_a_gap(scenario, ds):
    """Dogtag issues last + 1: with 41..44 free it fails only at 45."""
    scenario.build(certs=range(1, 41), ca_requests=range(1, 3), kra=False)
    cadb.make_stale_vlv(ds, scenario.tree.vlv_index_names(['allCerts']),
                        scenario.tree.certs_(range(45, 53)))
    certs = by_key(scenario.run(), LAST)['ca.certificates']
    assert certs['result'] == 'ERROR'
    kw = certs['kw']
    assert (kw['next_number'], kw['first_reused']) == ('41', '45')
    assert kw['code'] == 'DTR0112'
    assert (kw['dogtag_last'], kw['first_reused_dn']) == (
        '40', 'cn=45,' + scenario.tree.certs)


def assert_request_lookup_refused(scenario, user):
    """Dogtag's VLV request lookup (up to PKI 11.5), as `user` binds:
    389-DS sorts unindexed and refuses it with error 11."""
    vlv = VLVRequestControl(criticality=True, before_count=5, after_count=0,
                            greater_than_or_equal='0810000000')
    sss = SSSRequestControl(criticality=True, ordering_rules=['requestId'])
    with pytest.raises(ldap.ADMINLIMIT_EXCEEDED):
        user.search_ext_s(scenario.tree.ca_requests, ldap.SCOPE_ONELEVEL,
                          '(requeststate=*)', ['requestId'],
                          serverctrls=[sss, vlv])


def _pkidbuser(scenario, **limits):
    dn = 'uid=pkidbuser,ou=people,' + scenario.tree.base
    conn = scenario.ds.connect()
    try:
        cadb.add(conn, dn, objectClass=['top', 'person', 'organizationalPerson',
                                        'inetOrgPerson'],
                 uid='pkidbuser', cn='pkidbuser', sn='pkidbuser',
                 userPassword='Secret.123', **limits)
        conn.modify_s(scenario.tree.base, [(ldap.MOD_ADD, 'aci', [(
            '(targetattr="*")(version 3.0; acl "dbuser"; allow (read,search,'
            'compare) userdn="ldap:///%s";)' % dn).encode()])])
        # As Dogtag grants its bind (dogtagpki/pki v11.5.0 base/server/
        # database/ds/db-access-grant.ldif, "Cert Manager access for VLV
        # searches"): read on the VLV definitions, without which 389-DS
        # answers "Insufficient access (VLV Control)" once the index is in use.
        conn.modify_s('cn=ldbm database,cn=plugins,cn=config', [(
            ldap.MOD_ADD, 'aci', [(
                '(targetattr = "*")(version 3.0; acl "Cert Manager access '
                'for VLV searches"; allow (read) userdn="ldap:///%s";)'
                % dn).encode()])])
    finally:
        conn.unbind_s()
    user = ldap.initialize(scenario.ds.ldap_uri)
    user.simple_bind_s(dn, 'Secret.123')
    return user


def test_dogtags_own_bind_meets_its_limits(scenario):
    """Dogtag binds as pkidbuser, to whom 389-DS applies the look-through
    limit (ldbm_search.c compute_lookthrough_limit; root has none). Up to
    11.5 an unbuilt VLV index is a missing one (vlv_srch.c
    vlvSearch_findenabled): the request sorts in memory and fails with
    error 11, and Dogtag answers begin - 1 ("index may be empty", v11.5.0
    RequestRepository / LDAPVirtualList.getJumpToPage)."""
    scenario.build(certs=range(1, 4), ca_requests=range(1, 61), kra=False,
                   vlv=('allCerts',))
    user = _pkidbuser(scenario, nsLookThroughLimit='20')
    # caAll defined over the records and never rebuilt, defined last: on
    # LMDB (389-DS 3.1.2) a restart would switch it on, empty.
    conn = scenario.ds.connect()
    try:
        scenario.tree.add_vlv(conn, ('caAll',))
    finally:
        conn.unbind_s()
    assert_request_lookup_refused(scenario, user)      # the fault is real
    results = scenario.run()
    requests = by_key(results, LAST)['ca.requests']
    assert requests['result'] == 'ERROR', requests['text']
    kw = requests['kw']
    assert kw['dogtag_bind'] == 'uid=pkidbuser,ou=people,' + \
        scenario.tree.base
    assert (kw['lookthrough_limit'], kw['candidates']) == (20, 60)
    assert kw['dogtag_would_answer'] == '0'
    assert (kw['next_number'], kw['first_reused']) == ('1', '1')
    assert 'pki-server ca-db-vlv-reindex' in kw['fix']
    assert 'nsLookThroughLimit: -1' in kw['fix']
    # Our root lookup itself is fine and the built allCerts index serves
    # the certificate lookup: no alarm there.
    assert by_key(results, LAST)['ca.certificates']['result'] == 'SUCCESS'
    assert by_key(results, VLV)['caAll-' + scenario.name]['result'] == \
        'ERROR'

    # From 11.6 the sorted paged search meets the ID-list scan limit:
    # 389-DS refuses to sort an "all IDs" candidate list (sort.c), error
    # 53, and Dogtag does not start (dogtagpki/pki#5171).
    conn = scenario.ds.connect()
    conn.modify_s(kw['dogtag_bind'], [
        (ldap.MOD_REPLACE, 'nsLookThroughLimit', [b'-1']),
        (ldap.MOD_ADD, 'nsIDListScanLimit', [b'10'])])
    conn.unbind_s()
    with pytest.raises(ldap.UNWILLING_TO_PERFORM):
        _sorted_lookup_as(scenario, kw['dogtag_bind'])
    scenario.pki_version = '11.6.0'
    requests = by_key(scenario.run(), LAST)['ca.requests']
    assert requests['result'] == 'ERROR', requests['text']
    assert requests['kw']['limit_exceeded'] == 'ID-list scan limit'
    assert requests['kw']['idlistscan_limit'] == 10
    assert requests['kw']['code'] == 'DTR0109'

    # pkidbuser's nsPagedSizeLimit (20000 from PKI 11.4 to 11.8, #5133)
    # below the page Dogtag asks for: error 4, for real.
    conn = scenario.ds.connect()
    conn.modify_s(kw['dogtag_bind'], [
        (ldap.MOD_DELETE, 'nsIDListScanLimit', None),
        (ldap.MOD_ADD, 'nsPagedSizeLimit', [b'20'])])
    conn.unbind_s()
    with pytest.raises(ldap.SIZELIMIT_EXCEEDED):
        _sorted_lookup_as(scenario, kw['dogtag_bind'])
    requests = by_key(scenario.run(), LAST)['ca.requests']
    assert requests['result'] == 'ERROR', requests['text']
    assert requests['kw']['limit_exceeded'].startswith('paged size limit')
    assert 'nsPagedSizeLimit: -1' in requests['kw']['fix']


def _repo(scenario, key):
    database = discover(Settings(scenario.config()))
    return database, {k.key: r for k, r in repositories(database)}[key]


def test_reindex_commands_exist_for_the_version(scenario):
    """pki-server ca-db-vlv-* came with PKI 10.11 (v10.11.0 cli/db.py),
    kra-db-vlv-reindex with 10.3 (v10.5.0 cli/kra.py); RHEL 7's 389-DS 1.3
    has no dsconf but db2index.pl -T (man db2index.pl, 1.3.11)."""
    scenario.build(certs=range(1, 3), ca_requests=range(1, 3),
                   keys=range(1, 3), kra_requests=range(1, 3))
    scenario.pki_version = '10.5.0'
    database, certs = _repo(scenario, 'ca.certificates')
    fix = fixes.vlv_reindex(certs, database)
    assert 'ca-db-vlv-reindex' not in fix
    assert 'db2index.pl -Z ' in fix and '-T allCerts-%sIndex' % \
        scenario.name in fix
    assert 'dsconf' in fix
    _, kra = _repo(scenario, 'kra.requests')
    # (after the backup that LMDB needs: the backend is not read here)
    rebuild = [s.do for s in fixes.vlv_reindex(kra, database).steps
               if 'backup create' not in s.do]
    assert rebuild[0].startswith('pki-server kra-db-vlv-reindex -i ')

    scenario.pki_version = None
    database, certs = _repo(scenario, 'ca.certificates')
    assert 'version is unknown' in fixes.vlv_reindex(certs, database)

    # From 11.6 the lookup reads the presence index of its filter too.
    scenario.pki_version = '11.6.0'
    database, certs = _repo(scenario, 'ca.certificates')
    assert '--attr serialno --attr certstatus ' in \
        fixes.attribute_reindex(certs, database)
    _, kra = _repo(scenario, 'kra.requests')
    assert '--attr requestid --attr requeststate --attr realm ' in \
        fixes.attribute_reindex(kra, database)


def test_wrong_vlv_sort_is_not_fixed_with_edit_search(scenario):
    """dsconf's edit-search cannot change vlvSort, which lives on the
    vlvIndex child (lib389 cli_conf/backend.py)."""
    scenario.build(certs=range(1, 6), ca_requests=range(1, 6), kra=False,
                   vlv=('allCerts', 'caAll'),
                   allCerts=(scenario.tree.certs, '(certstatus=*)',
                             'notAfter'))
    index = by_key(scenario.run(), VLV)['allCerts-' + scenario.name]
    assert index['result'] == 'ERROR'
    fix = index['kw']['fix']
    assert 'edit-search' not in fix
    assert 'del-index' in fix and '--sort serialno' in fix
