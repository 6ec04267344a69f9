"""Findings of limits: Dogtag's own searches under the limits of its bind,
wherever they will run. Declared here, given by checks/limits.py.

DTR0900-DTR0909: StartupLimitsCheck (the start-up searches of PKI 11.6 and
later, after an upgrade of this server and on a new replica);
DTR0910-DTR0919: StatusUpdateLimitsCheck (the CA's periodic certificate
status update of PKI 11.6 and later);
DTR0920-DTR0929: CertSearchLimitsCheck (the CA's certificate searches:
ipa cert-find and the agent's certificate list).
"""

from ipahealthcheck_dogtag.dogtag.steps import Fix, manual
from ipahealthcheck_dogtag.findings import SUCCESS, WARNING, Finding

SOURCE = 'dogtag.limits'
STARTUP = 'StartupLimitsCheck'

# Every result about one repository's start-up searches.
REPO = ('repository', 'container', 'pki_version', 'dogtag_bind',
        'children', 'candidates', 'in_range')
# ... and about one verdict.
VERDICT = REPO + ('search', 'limit_exceeded', 'limit', 'limit_attribute')

UPSTREAM = ('dogtagpki/pki v11.6.0 CertificateRepository.'
            'getLastSerialNumberInRange, getInRangeCount; LDAPPagedSearch.'
            'getPage; RequestRepository.getLastSerialNumberInRange; '
            '389ds/389-ds-base back-ldbm/ldbm_search.c: '
            'compute_lookthrough_limit, compute_allids_limit; sort.c: '
            'sort_candidates')

STARTUP_FIT = Finding(
    'DTR0900', 'startup-searches-fit', SOURCE, STARTUP, SUCCESS,
    'Dogtag\'s start-up searches fit its limits after an upgrade and on a '
    'new replica',
    'Dogtag\'s start-up searches of {container} fit the limits of '
    '{dogtag_bind} ({scenarios}).',
    key='<repository>',
    fields=REPO + ('scenarios', 'in_range_count'),
    meaning='From PKI 11.6 Dogtag starts each repository with a sorted, '
            'paged search of its records, and counts the certificates of '
            'its range with an unpaged search. `scenarios` says under which '
            'limits they were judged: this server after an upgrade (its '
            'bind entry\'s limits, else cn=config) and a new replica (the '
            'bind entry\'s limits, which replicate, else a new 389-DS '
            'instance\'s defaults). `in_range_count` names a limit the '
            'count exceeds, which Dogtag only logs, or is null. '
            '`candidates` and `in_range` are lower bounds, proven by counts '
            'capped at each limit + 1; no count is made for a limit at or '
            'above `children` (numSubordinates), which bounds them.',
    upstream=UPSTREAM)

UPGRADE_OVER = Finding(
    'DTR0901', 'upgrade-lookup-over-limit', SOURCE, STARTUP, WARNING,
    'After an upgrade to PKI 11.6+, Dogtag\'s start-up lookup exceeds a limit',
    'After an upgrade to PKI 11.6+, Dogtag cannot start: its lookup of '
    '{container} exceeds the {limit_exceeded} ({limit}).',
    key='<repository>.upgrade',
    fields=VERDICT + ('in_range_count', 'new_replica_too'),
    fix='startup_limit_fix',
    meaning='This server runs a PKI older than 11.6, whose lookup of the '
            'last number is a VLV request. From 11.6 it is a sorted, paged '
            'search of every record up to the range\'s end, run as '
            '`dogtag_bind` under its own limits (the entry\'s ns* '
            'attributes, else cn=config): with more than `limit` '
            'candidates 389-DS refuses it (error 11 for a look-through '
            'limit, 53 for the ID-list scan limit, 4 for a page size '
            'limit) and the subsystem does not start ("RecordPagedList: '
            'Error to get a new page", a null first record). Seen after '
            'upgrades: dogtagpki/pki#5171, #5225. `new_replica_too`: a new '
            'replica meets the same limit (the bind entry\'s own, or a '
            'cn=config value equal to a new 389-DS\'s default); it is then '
            'not reported again under <repository>.new_replica, and the '
            'same fix lifts it there.',
    upstream=UPSTREAM + '; dogtagpki/pki#5171, #5225')

REPLICA_OVER = Finding(
    'DTR0902', 'replica-lookup-over-limit', SOURCE, STARTUP, WARNING,
    'On a new replica, Dogtag\'s start-up lookup would exceed a limit',
    'A new CA replica would not start: its lookup of {container} exceeds '
    'the {limit_exceeded} ({limit}).',
    key='<repository>.new_replica',
    fields=VERDICT + ('in_range_count', 'ds_version', 'replica_defaults'),
    fix='startup_limit_fix',
    meaning='A new replica\'s 389-DS has its own cn=config, which does not '
            'replicate: until IPA applies its updates, after the CA clone '
            'has started, its limits are a new instance\'s defaults '
            '(`replica_defaults`, for the 389-DS version `ds_version` '
            'assumed the same as here). Only the limits set on '
            '`dogtag_bind`\'s entry replicate with the CA suffix. With PKI '
            '11.6 or later the clone\'s start-up lookup is a sorted, paged '
            'search of every record up to its range\'s end, at least '
            '`candidates`: over `limit` it fails and the install stops '
            '(freeipa/freeipa-container#680, dogtagpki/pki#5133, '
            'freeipa/freeipa-healthcheck#360). `limit_attribute` is the '
            'attribute on the bind entry that lifts it.',
    upstream=(UPSTREAM + '; 389ds/389-ds-base slap.h, back-ldbm/'
              'ldbm_config.c (defaults); freeipa release-4-12-5 '
              'replicainstall.py (ca.install before ds.apply_updates)'))

STARTUP_UNPROVEN = Finding(
    'DTR0903', 'startup-limits-unproven', SOURCE, STARTUP, WARNING,
    'The records Dogtag\'s start-up lookup sorts were not counted in time',
    'Counting the records of {container} against the {limit} limit did not '
    'finish in time: its start-up limits are unproven.',
    key='<repository>',
    fields=REPO + ('limit',),
    fix=Fix(manual('Raise timeout in the [default] section of the '
                   'healthcheck configuration and run again')),
    meaning='A count capped at each limit + 1 decides whether Dogtag\'s '
            'sorted start-up lookup exceeds it; this one ran out of the '
            'check\'s time, so the check cannot say whether an upgrade or a '
            'new replica would start.',
    upstream=UPSTREAM)

TOLD_BY_LAST_NUMBER = Finding(
    'DTR0904', 'replica-limit-as-here', SOURCE, STARTUP, SUCCESS,
    'A new replica would meet the limit LastNumberCheck reports here',
    'A new replica would meet the same {limit_exceeded} ({limit}) on '
    '{container} that LastNumberCheck reports on this server.',
    key='<repository>',
    fields=REPO + ('limit_exceeded', 'limit'),
    meaning='This server runs PKI 11.6 or later, so dogtag.ranges '
            'LastNumberCheck already reports (sorted-lookup-over-limit) '
            'that Dogtag\'s start-up lookup exceeds a limit of its bind. '
            'The limit is the bind entry\'s own, which replicates, so a '
            'new replica meets it too; lifting it as LastNumberCheck says '
            'lifts it there as well.',
    upstream=UPSTREAM)

NOTHING_JUDGED = Finding(
    'DTR0905', 'startup-nothing-judged', SOURCE, None, SUCCESS,
    'No repository whose start-up searches could be judged',
    'No repository with a usable range and container to judge; '
    'dogtag.ranges says why.',
    key='repositories',
    meaning='Random-numbered repositories have no range lookup; a repository '
            'whose CS.cfg, range or container is unusable is reported by '
            'the dogtag.ranges checks, and judged here once it is usable.',
    upstream=UPSTREAM)

# -- DTR0910-DTR0919: StatusUpdateLimitsCheck -------------------------------

STATUS = 'StatusUpdateLimitsCheck'
STATUS_FIELDS = ('container', 'pki_version', 'dogtag_bind', 'children',
                 'searches')
STATUS_UPSTREAM = ('dogtagpki/pki v11.6.0 CertStatusUpdateTask.'
                   'updateCertStatus; CertificateRepository.'
                   'getValidCertsByNotAfterDate (and the INVALID and '
                   'REVOKED ones), findPagedCertRecords; LDAPPagedSearch.'
                   'getPage')

STATUS_FITS = Finding(
    'DTR0910', 'status-update-fits', SOURCE, STATUS, SUCCESS,
    'Dogtag\'s certificate status update fits the limits of its bind',
    'The searches of Dogtag\'s certificate status update in {container} fit '
    'the limits of {dogtag_bind}.',
    key='ca.certificates.status_update',
    fields=STATUS_FIELDS,
    meaning='From PKI 11.6 the CA\'s periodic status update (certificates '
            'becoming valid, expiring, revoked ones expiring) walks three '
            'paged, unsorted searches as Dogtag\'s bind. `searches` gives, '
            'for each, a lower bound of the records it looks through.',
    upstream=STATUS_UPSTREAM)

STATUS_OVER = Finding(
    'DTR0911', 'status-update-over-limit', SOURCE, STATUS, WARNING,
    'Dogtag\'s certificate status update exceeds a limit of its bind',
    'Dogtag\'s status update ({search}) in {container} exceeds the '
    '{limit_exceeded} ({limit}) of its bind.',
    key='ca.certificates.status_update',
    fields=STATUS_FIELDS + ('search', 'filter', 'matching',
                            'limit_exceeded', 'limit', 'limit_attribute'),
    fix='startup_limit_fix',
    meaning='From PKI 11.6 (and after an upgrade to it) the CA\'s periodic '
            'status update walks paged, unsorted searches as `dogtag_bind`. '
            '389-DS counts the paged look-through limit over the whole walk '
            'and the paged size limit per page: with at least `matching` '
            'records to go through, the walk fails with error 11 (or 4), '
            'Dogtag gets a null record (LDAPPagedSearch.getPage, '
            'DBSearchResults.nextElement) and those certificates keep their '
            'old status: expired ones stay VALID. A failure of this kind '
            'was reported as dogtagpki/pki#5138 (root cause not '
            'established there).',
    upstream=STATUS_UPSTREAM + '; dogtagpki/pki#5138')

STATUS_UNPROVEN = Finding(
    'DTR0912', 'status-update-unproven', SOURCE, STATUS, WARNING,
    'The records of Dogtag\'s status update were not counted in time',
    'Counting the records of Dogtag\'s status update ({search}) against the '
    '{limit} limit did not finish in time.',
    key='ca.certificates.status_update',
    fields=STATUS_FIELDS + ('search', 'filter', 'limit'),
    fix=Fix(manual('Raise timeout in the [default] section of the '
                   'healthcheck configuration and run again')),
    meaning='A count capped at the limit + 1 decides whether the search '
            'exceeds it; this one ran out of the check\'s time.',
    upstream=STATUS_UPSTREAM)


# -- DTR0920-DTR0929: CertSearchLimitsCheck ---------------------------------

SEARCHES = 'CertSearchLimitsCheck'
SEARCH_FIELDS = ('container', 'pki_version', 'dogtag_bind', 'children',
                 'certificates')
SEARCH_VERDICT = SEARCH_FIELDS + ('search', 'filter', 'returned', 'looked',
                                  'limit_exceeded', 'limit',
                                  'limit_attribute')
SEARCH_UPSTREAM = ('dogtagpki/pki v11.6.0 (the same v11.5.0-v11.9.0) '
                   'CertService.searchCerts, FilterBuilder.buildFilter, '
                   'CertificateRepository.findCertRecordsInList, '
                   'LDAPVirtualList; v11.4.0 ListCerts.processCertFilter; '
                   'freeipa release-4-12-5 ipaserver/plugins/dogtag.py '
                   'ra.find')

SEARCHES_FIT = Finding(
    'DTR0920', 'cert-searches-fit', SOURCE, SEARCHES, SUCCESS,
    'The CA\'s certificate searches fit the limits of Dogtag\'s bind',
    'ipa cert-find and the agent\'s certificate list over {container} fit '
    'the limits of {dogtag_bind}.',
    key='ca.certificates.searches',
    fields=SEARCH_FIELDS + ('agent_list',),
    meaning='`ipa cert-find` and the web UI\'s certificate list ask the CA '
            'for a sorted VLV window as wide as IPA\'s size limit (every '
            'certificate when it is 0, as the web UI asks); up to PKI 11.4 '
            'the agent\'s certificate list was a sorted VLV request on a '
            'serial-number range, which no VLV index serves. As '
            '`dogtag_bind` they meet its plain look-through and size '
            'limits. `certificates` is a lower bound of the records, proven '
            'by counts capped at each limit + 1. `agent_list` says how the '
            'agent\'s list was judged for this PKI version: from 11.5 it '
            'reads only the pages the agent asks for, which no record '
            'count makes fail.',
    upstream=SEARCH_UPSTREAM)

CERT_FIND_OVER = Finding(
    'DTR0921', 'cert-find-over-limit', SOURCE, SEARCHES, WARNING,
    'ipa cert-find over every certificate exceeds a limit of Dogtag\'s bind',
    'ipa cert-find over every certificate in {container} exceeds the '
    '{limit_exceeded} ({limit}) of {dogtag_bind}.',
    key='ca.certificates.cert_find',
    fields=SEARCH_VERDICT,
    fix='search_limit_fix',
    meaning='IPA posts cert-find to the CA\'s /ca/rest/certs/search with '
            'its size limit as the window (0x7fffffff when the size limit '
            'is 0, as the web UI\'s certificate list asks). Dogtag runs it '
            'as one sorted VLV request (findCertRecordsInList on '
            'serialno, filter (certstatus=*) without criteria). Returning '
            'at least `returned` entries after looking through at least '
            '`looked`, it exceeds `limit`: 389-DS answers error 11 '
            '(look-through) or 4 (size), Dogtag fails the request and IPA '
            'says "Unable to search for certificates (500)" (freeipa PR '
            '#6821, pagure.io/freeipa/issue/9369: nsSizeLimit 100 on '
            'pkidbuser). `limit_attribute` on `dogtag_bind`\'s entry lifts '
            'it.',
    upstream=SEARCH_UPSTREAM + '; freeipa/freeipa#6821')

AGENT_LIST_OVER = Finding(
    'DTR0922', 'agent-list-over-limit', SOURCE, SEARCHES, WARNING,
    'The agent\'s certificate list exceeds a limit of Dogtag\'s bind',
    'The agent\'s sorted certificate list over {container} exceeds the '
    '{limit_exceeded} ({limit}) of {dogtag_bind}.',
    key='ca.certificates.agent_list',
    fields=SEARCH_VERDICT,
    fix='search_limit_fix',
    meaning='Up to PKI 11.4 the agent\'s certificate list (ListCerts) asks a '
            'VLV window sorted on serialno for a serial-number range, which '
            'no VLV index serves: 389-DS sorts it in memory and looks '
            'through every record of the range (every entry of the backend '
            'once the range exceeds the ID-list scan limit), at least '
            '`looked`, so over '
            '`limit` it answers error 11 and the agent sees no list '
            '(dogtagpki/pki#3464 reports this search failing on a clone '
            'once the serial numbers passed 4000). Only the look-through '
            'limit is judged: `returned` is null, the page being the '
            'agent\'s choice. From PKI 11.5 the list is an unsorted paged '
            'search and this does not apply.',
    upstream=SEARCH_UPSTREAM + '; dogtagpki/pki#3464')

SEARCHES_UNPROVEN = Finding(
    'DTR0923', 'cert-searches-unproven', SOURCE, SEARCHES, WARNING,
    'The certificates the CA\'s searches go through were not counted in time',
    'Counting the certificates of {container} against the {limit} limit did '
    'not finish in time: the search limits are unproven.',
    key='ca.certificates.searches',
    fields=SEARCH_FIELDS + ('filter', 'limit'),
    fix=Fix(manual('Raise timeout in the [default] section of the '
                   'healthcheck configuration and run again')),
    meaning='A count capped at the limit + 1 decides whether the search '
            'exceeds it; this one ran out of the check\'s time.',
    upstream=SEARCH_UPSTREAM)
