"""Findings of ranges: declared here, given by its checks.

DTR0100-DTR0199: what every ranges check shares (checks/ranges/base.py)
and LastNumberCheck; DTR0200-DTR0299: VLVIndexCheck.
"""

from ipahealthcheck_dogtag import findings
from ipahealthcheck_dogtag.dogtag.steps import Fix, manual
from ipahealthcheck_dogtag.findings import (
    ERROR, SUCCESS, WARNING, Finding)

SOURCE = 'dogtag.ranges'
LAST = 'LastNumberCheck'
VLV = 'VLVIndexCheck'

# The fields a result about one repository carries (Repository.fields and
# the PKI version), with its active range when it is sequential.
REPO = ('cs_cfg', 'container', 'generator', 'server', 'pki_version')
RANGE = REPO + ('radix', 'range_cfg', 'range_begin', 'range_end')
# ... with Dogtag's lookup repeated, and what the reads around it found.
LOOKUP = RANGE + ('lookup', 'dogtag_last', 'index')
READ = LOOKUP + ('next_dn', 'next_dn_exists', 'subordinates',
                 'scan_complete', 'records_scanned')
BIND = ('dogtag_bind', 'lookthrough_limit', 'idlistscan_limit')
INDEX = RANGE + ('index', 'repository', 'backend')

ERRORS_LOG = Fix(manual('Check the 389-DS errors log '
                        '(/var/log/dirsrv/slapd-<instance>/errors)'))
MORE_TIME = Fix(manual('Raise timeout in the [default] section of the '
                       'healthcheck configuration and run again'))
VLV_RULE = ('ERROR up to PKI 11.5, whose start-up lookup of the last number '
            'uses the index; WARNING from PKI 11.6, which uses it only to '
            'list records')
VLV_UPSTREAM = ('389ds/389-ds-base ldap/servers/slapd/back-ldbm/vlv_srch.c: '
                'vlvSearch_findenabled; dogtagpki/pki v11.5.0 '
                'LDAPVirtualList, v11.6.0 CertificateRepository.'
                'getLastSerialNumberInRange')

# -- every ranges check ----------------------------------------------------

RANDOM = Finding(
    'DTR0100', 'range-random', SOURCE, None, SUCCESS,
    'Random serial numbers: no ranges to check',
    '{generator} generator (RSNv3): Dogtag keeps no number ranges here.',
    key='<repository>', fields=REPO,
    meaning='With random serial numbers (RSNv3) Dogtag allocates no '
            'number ranges for the repository, so no range check applies.',
    upstream='dogtagpki/pki v11.5.0 CertificateRepository / KeyRepository: '
             'dbs.cert.id.generator, dbs.key.id.generator = random')

CONTAINER_MISSING = Finding(
    'DTR0101', 'repository-entry-missing', SOURCE, None, ERROR,
    'A repository entry of the CA database is missing',
    'The entry {missing_dn} does not exist in the directory at {uri}.',
    key='<repository>', fields=REPO + ('missing_dn', 'uri', 'basedn'),
    fix=Fix(manual('Check that dogtag_ldap_uri points at the CA\'s 389-DS '
                   'instance and that internaldb.basedn and the '
                   'repository\'s dbs.*DN in CS.cfg are right; otherwise '
                   'restore the CA database from a backup')),
    meaning='pkispawn creates every repository entry, so a missing one (or '
            'a missing CA suffix, `basedn` from CS.cfg internaldb.basedn) '
            'is a fault: neither the repository\'s records nor its '
            'nextRange exist where Dogtag looks for them.',
    upstream='dogtagpki/pki v11.5.4 base/ca and base/kra '
             'database/ds/create.ldif')

LOOKUP_BAD_VALUE = Finding(
    'DTR0102', 'lookup-bad-value', SOURCE, None, ERROR,
    'Dogtag\'s lookup meets a number it cannot read',
    'Dogtag\'s sorted lookup in {container} gets {bad_dn} first, whose '
    '{attribute} it cannot read.',
    key='<repository>', fields=REPO + ('bad_dn', 'bad_value', 'attribute'),
    fix=Fix(manual('Correct the value (a length-prefixed decimal number) '
                   'or remove the entry named in bad_dn')),
    meaning='From PKI 11.6 Dogtag finds its last number with a search '
            'sorted on the number attribute and takes the first record. '
            'When that record has no value, or one that is not a '
            'length-prefixed decimal number (`bad_value`), Dogtag takes a '
            'null record and the subsystem fails to start.',
    upstream='dogtagpki/pki v11.6.0 DBSearchResults.nextElement, '
             'CertificateRepository.getLastSerialNumberInRange')

LOOKUP_FAILED = Finding(
    'DTR0103', 'lookup-failed', SOURCE, None, ERROR,
    'Dogtag\'s last-number lookup fails',
    'Repeating Dogtag\'s last-number lookup in {container} failed: {error}.',
    key='<repository>', fields=REPO + ('error',), fix=ERRORS_LOG,
    meaning='Dogtag runs the same search at start-up and meets the same '
            'error. An "unwilling to perform" is 389-DS refusing to sort '
            'more candidates than nsslapd-idlistscanlimit.',
    upstream='dogtagpki/pki#5171; 389ds/389-ds-base back-ldbm/sort.c: '
             'sort_candidates')

# -- LastNumberCheck -------------------------------------------------------

RANGE_INVALID = Finding(
    'DTR0104', 'active-range-invalid', SOURCE, LAST, ERROR,
    'The active range is empty or inverted, with no standby range',
    'The active range {range_cfg} (CS.cfg, radix {radix}) is empty or '
    'inverted, with no usable standby range.',
    key='<repository>', fields=RANGE,
    fix=Fix(manual('Follow the fix RangeConfigCheck gives for this '
                   'repository')),
    meaning='Dogtag\'s last-number lookup gives no answer for a range whose '
            'begin is not below its end, and without a standby range the '
            'subsystem fails to start ("Error in obtaining the last serial '
            'number").',
    upstream='dogtagpki/pki v11.5.0 Repository.initCache, '
             'CertificateRepository.getLastSerialNumberInRange')

RECORDS_UNREADABLE = Finding(
    'DTR0105', 'records-unreadable', SOURCE, LAST, ERROR,
    'The records of a repository cannot be read',
    'Cannot read the records of {container}: {error}.',
    key='<repository>', fields=LOOKUP + ('error',), fix=ERRORS_LOG,
    meaning='A one-level search of the repository (or a read by DN of one '
            'of its records) failed, so Dogtag\'s answer cannot be checked '
            'against the records.')

BAD_VALUES = Finding(
    'DTR0106', 'bad-number-values', SOURCE, LAST, ERROR,
    'Records carry numbers Dogtag cannot read',
    '{bad_count} record(s) in {container} have a {attribute} that is not a '
    'length-prefixed decimal number, e.g. {bad_dn}.',
    key='<repository>.values',
    fields=('bad_count', 'bad_dn', 'bad_value', 'bad_dns', 'attribute',
            'container', 'cs_cfg', 'pki_version'),
    fix=Fix(manual('Correct or remove these entries (bad_dns lists the '
                   'first of them)')),
    meaning='Dogtag sorts numbers as text, so such values can make its '
            'lookup answer too low. Up to PKI 11.5 it reads a number by '
            'dropping the first two characters, and leaves a record it '
            'cannot read at all out of its lookup; from 11.6, if such a '
            'record comes first in its sorted lookup, it takes a null '
            'record and the subsystem fails to start. `bad_value` is the '
            'value of `bad_dn` (null: none).',
    upstream='dogtagpki/pki v11.5.0 LDAPVirtualList.getEntries, v11.6.0 '
             'DBSearchResults.nextElement')

VLV_RIGHTS_UNREADABLE = Finding(
    'DTR0107', 'vlv-rights-unreadable', SOURCE, LAST, ERROR,
    'The rights of Dogtag\'s bind on its VLV index cannot be read',
    'Cannot read the rights of {dogtag_bind} on {vlv_search}: {error}.',
    key='<repository>.vlv_access',
    fields=LOOKUP + ('dogtag_bind', 'vlv_search', 'error'), fix=ERRORS_LOG,
    meaning='A Get Effective Rights read as root failed, so whether 389-DS '
            'lets Dogtag\'s VLV lookup use the index is not known.')

VLV_REFUSED = Finding(
    'DTR0108', 'vlv-access-refused', SOURCE, LAST, ERROR,
    'Dogtag\'s bind may not use its VLV index',
    'Dogtag\'s bind {dogtag_bind} may not read {vlv_search}, so its lookup '
    'answers {dogtag_would_answer}.',
    key='<repository>.vlv_access',
    fields=LOOKUP + ('dogtag_bind', 'vlv_search', 'rights',
                     'dogtag_would_answer'),
    fix='vlv_access_grant',
    meaning='389-DS serves a VLV request from an index only if the bind may '
            'read the vlvSearch entry (read expected in `rights`); else it '
            'refuses the search with error 50. Up to PKI 11.5 Dogtag takes '
            'that as an empty range ("index may be empty"), answers the '
            'range\'s begin - 1 and reissues numbers at its next start.',
    upstream='389ds/389-ds-base 2.3.1 vlv_srch.c: vlvSearch_accessallowed; '
             'dogtagpki/pki#4717, v11.5.0 LDAPVirtualList.getJumpToPage')

SORTED_OVER_LIMIT = Finding(
    'DTR0109', 'sorted-lookup-over-limit', SOURCE, LAST, ERROR,
    'Dogtag\'s own sorted lookup exceeds a limit of its bind',
    'Dogtag\'s sorted lookup as {dogtag_bind} must look at {candidates} '
    'records, over its {limit_exceeded} ({limit}).',
    key='<repository>',
    fields=READ + BIND + ('limit_exceeded', 'limit', 'candidates'),
    fix='limit_fix',
    meaning='We read as root, whom 389-DS exempts from most limits; Dogtag '
            'binds as its database user. Its paged sorted search then '
            'fails, PKI 11.6 and later cannot find its last number, and the '
            'subsystem does not start. `candidates` is a lower bound when '
            'scan_complete is false.',
    upstream='dogtagpki/pki#5171, #5133; 389ds/389-ds-base '
             'back-ldbm/ldbm_search.c: compute_lookthrough_limit, '
             'compute_allids_limit')

VLV_OVER_LIMIT_EMPTY = Finding(
    'DTR0110', 'vlv-lookup-over-limit-empty', SOURCE, LAST, WARNING,
    'Dogtag\'s own VLV lookup exceeds a limit; its range is still empty',
    'Dogtag\'s VLV lookup as {dogtag_bind} must sort {candidates} records, '
    'over its {limit_exceeded} ({limit}).',
    key='<repository>',
    fields=READ + BIND + ('limit_exceeded', 'limit', 'candidates',
                          'dogtag_would_answer'),
    fix='limit_fix',
    meaning='Not served by a built VLV index, the search sorts in memory '
            'and fails for Dogtag\'s own bind. Up to PKI 11.5 Dogtag then '
            'takes its range as empty ("index may be empty") and answers '
            'dogtag_would_answer (begin - 1). No record of the range is '
            'seen yet (or before the scan stopped), but once it holds '
            'records, the next restart issues their numbers again.',
    upstream='dogtagpki/pki v11.5.0 LDAPVirtualList.getJumpToPage, '
             'CertificateRepository.getLastSerialNumberInRange; '
             '389ds/389-ds-base vlv_srch.c: vlvSearch_findenabled')

VLV_OVER_LIMIT = Finding(
    'DTR0111', 'vlv-lookup-over-limit', SOURCE, LAST, ERROR,
    'Dogtag\'s own VLV lookup exceeds a limit and will reissue numbers',
    'Dogtag\'s VLV lookup as {dogtag_bind} fails, so after a restart it '
    'reissues {next_number}, which {first_reused_dn} holds.',
    key='<repository>',
    fields=READ + BIND + ('limit_exceeded', 'limit', 'candidates',
                          'dogtag_would_answer', 'first_reused',
                          'first_reused_dn', 'next_number'),
    fix='limit_fix',
    meaning='Not served by a built VLV index, the search must sort '
            '`candidates` records in memory, more than the '
            '`limit_exceeded` (`limit`) of Dogtag\'s bind. Up to PKI 11.5 '
            'Dogtag then takes its range as empty ("index may be empty"), '
            'answers begin - 1 and after its next restart issues numbers '
            'already held: "Object already exists". Numbers in decimal.',
    upstream='dogtagpki/pki v11.5.0 LDAPVirtualList.getJumpToPage; '
             '389ds/389-ds-base back-ldbm/ldbm_search.c: '
             'compute_lookthrough_limit')

STALE = Finding(
    'DTR0112', 'last-number-stale', SOURCE, LAST, ERROR,
    'Dogtag\'s lookup misses records of its range',
    'Dogtag\'s lookup answers {dogtag_last}, but {container} holds records '
    'up to {real_last} (decimal).',
    key='<repository>',
    fields=READ + BIND + ('real_last', 'first_reused', 'first_reused_dn',
                          'missing_records', 'next_number', 'proof'),
    fix='stale_index',
    meaning='The index behind Dogtag\'s start-up lookup misses '
            '`missing_records` records of the range. Dogtag issues '
            'next_number next; when it reaches first_reused, which '
            'first_reused_dn already holds, it fails with "Object already '
            'exists". `proof` says how the records were found: by a full '
            'scan, or through the equality index when the scan did not '
            'finish.',
    upstream='dogtagpki/pki v11.5.0 CertificateRepository.'
             'getLastSerialNumberInRange (VLV), v11.6.0 (sorted search)')

NEXT_TAKEN = Finding(
    'DTR0113', 'next-number-taken', SOURCE, LAST, ERROR,
    'The record Dogtag adds next already exists',
    'Dogtag\'s next record {next_dn} already exists, unseen by its lookup '
    '({dogtag_last}, decimal).',
    key='<repository>',
    fields=READ + BIND + ('first_reused', 'first_reused_dn', 'proof'),
    fix='one_level_reindex',
    meaning='Read by DN, the record Dogtag adds next exists, yet no '
            'one-level search saw it: after an upgrade that changed the '
            'parentid index\'s ordering, or with a stale equality index. '
            'Dogtag fails with "Object already exists".',
    upstream='389ds/389-ds-base#7172, #7223; 3.2.1 back-ldbm/instance.c: '
             'ldbm_instance_check_index_config')

ONE_LEVEL_SHORT = Finding(
    'DTR0114', 'one-level-short', SOURCE, LAST, ERROR,
    'One-level searches miss records of a repository',
    'A one-level search of {container} returns {records_scanned} records, '
    'but it has {subordinates}.',
    key='<repository>',
    fields=READ + BIND + ('one_level_missing', 'proof'),
    fix='one_level_reindex',
    meaning='numSubordinates, kept in the container itself, counts '
            '`one_level_missing` more children than the one-level search '
            'returns. The parentid index, which every one-level search '
            'starts from (Dogtag\'s lookup included), misses them, so '
            'Dogtag can reissue their numbers.',
    upstream='389ds/389-ds-base#7172, #7223')

LAST_PROVEN = Finding(
    'DTR0115', 'last-number-proven', SOURCE, LAST, SUCCESS,
    'Dogtag\'s lookup finds the real last number (full scan)',
    'Dogtag\'s lookup finds {dogtag_last}, the real last number of the '
    'range in {container} (decimal).',
    key='<repository>',
    fields=READ + BIND + ('records_in_range', 'real_last', 'proof'),
    meaning='A full scan of the container, which no index under test '
            'serves, proves the answer; the range holds records_in_range '
            'records.')

RANGE_EMPTY = Finding(
    'DTR0116', 'range-empty', SOURCE, LAST, SUCCESS,
    'The range holds no record yet, as Dogtag\'s lookup says',
    'The range {range_cfg} (CS.cfg, radix {radix}) holds no record yet, '
    'and Dogtag\'s lookup agrees.',
    key='<repository>',
    fields=READ + BIND + ('records_in_range', 'real_last', 'proof'),
    meaning='A full scan of the container found no record in the range.')

PROVEN_BY_PROBE = Finding(
    'DTR0117', 'last-number-probed', SOURCE, LAST, SUCCESS,
    'No record above Dogtag\'s answer (equality index probe)',
    'Dogtag\'s lookup answers {dogtag_last} (decimal); the {attribute} '
    'index holds nothing above it in the range.',
    key='<repository>', fields=READ + BIND + ('attribute', 'proof'),
    meaning='A stale index, the usual fault, is absent. The index-free '
            'full scan did not finish within the time budget (stopped '
            'after records_scanned records), so the record count is not '
            'given.')

PROVEN_BY_NEXT_DN = Finding(
    'DTR0118', 'next-number-free', SOURCE, LAST, SUCCESS,
    'The record Dogtag adds next is free (read by DN)',
    'Dogtag\'s lookup answers {dogtag_last} (decimal), and {next_dn}, the '
    'record it adds next, is free.',
    key='<repository>', fields=READ + BIND + ('proof',),
    meaning='From PKI 11.6 Dogtag\'s sorted search is served by the same '
            'equality index as our probe, so only a read that shares no '
            'index with it proves the answer. The full scan did not finish, '
            'so older records are not checked.',
    upstream='dogtagpki/pki v11.6.0 CertificateRepository.'
             'getLastSerialNumberInRange')

LAST_UNPROVEN = Finding(
    'DTR0119', 'last-number-unproven', SOURCE, LAST, WARNING,
    'Dogtag\'s answer is not proven within the time budget',
    'Dogtag\'s lookup answers {dogtag_last} (decimal), not proven within '
    'the time budget ({timeout} s).',
    key='<repository>', fields=READ + BIND + ('attribute', 'timeout'),
    fix=MORE_TIME,
    meaning='Neither the probe of the equality index nor the full scan of '
            'the container (stopped after records_scanned records) '
            'finished in time. Nothing is known to be wrong.')

OUTSIDE_FILTER = Finding(
    'DTR0120', 'records-outside-filter', SOURCE, LAST, ERROR,
    'Records of the range are invisible to Dogtag\'s lookup',
    '{outside_filter_records} record(s) in {container} above {dogtag_last} '
    '(decimal) do not match Dogtag\'s lookup filter.',
    key='<repository>.outside_filter',
    fields=REPO + ('radix', 'range_cfg', 'lookup', 'dogtag_last', 'index',
                   'outside_filter', 'outside_filter_records',
                   'first_outside', 'first_outside_dn', 'next_number'),
    fix=Fix(manual('Find out what created these entries; if they are not '
                   'Dogtag records, move them out of the container, else '
                   'raise the range\'s begin above them with the '
                   'subsystem stopped')),
    meaning='These records match not the filter of Dogtag\'s lookup '
            '(`outside_filter`), or carry a number it cannot read, so the '
            'lookup never sees them. Dogtag names a new record cn=<number> '
            'whatever the filter: when it reaches first_outside it fails '
            'with "Object already exists". The result carries no range '
            'bounds, so that a whole-topology report does not take it for '
            'a range this server owns.',
    upstream='dogtagpki/pki v11.6.0 CertificateRepository: "cn=" + '
             'serialNo + "," + mBaseDN')

# -- VLVIndexCheck ---------------------------------------------------------

VLV_UNREADABLE_REFUSED = Finding(
    'DTR0200', 'vlv-unreadable-refused', SOURCE, VLV, ERROR,
    'The VLV index definition may not be read',
    'Cannot read the VLV index {index}: {error}.',
    key='<VLV index>', fields=('index', 'error', 'repository'),
    fix=Fix(manual('Run the healthcheck as root (e.g. sudo '
                   'ipa-healthcheck)')),
    meaning='cn=config of the local 389-DS must be readable by the bind of '
            'this check (root over LDAPI).')

VLV_UNREADABLE = Finding(
    'DTR0201', 'vlv-unreadable', SOURCE, VLV, ERROR,
    'The VLV index definition cannot be read',
    'Cannot read the VLV index {index}: {error}.',
    key='<VLV index>', fields=('index', 'error', 'repository'),
    fix=ERRORS_LOG,
    meaning='Reading the VLV definitions or counting the index failed for '
            'a reason other than permissions.')

VLV_MISSING = Finding(
    'DTR0202', 'vlv-missing', SOURCE, VLV, (ERROR, WARNING),
    'A VLV index of Dogtag is not defined',
    'The VLV index {index} of backend {backend} is not defined.',
    key='<VLV index>', fields=INDEX, fix='vlv_recreate',
    severity_rule=VLV_RULE + ' (from PKI 11.7 DTR0203 instead)',
    meaning='Without it 389-DS sorts every record in memory, which is slow '
            'and, for Dogtag\'s own bind, fails once the repository '
            'outgrows the look-through limit. Up to PKI 11.5 Dogtag finds '
            'the last number of its range with it at start-up.',
    upstream=VLV_UPSTREAM)

VLV_NOT_NEEDED = Finding(
    'DTR0203', 'vlv-not-needed', SOURCE, VLV, SUCCESS,
    'A VLV index this PKI does not use is not defined',
    'The VLV index {index} is not defined, and PKI {pki_version} does not '
    'use it for ranges.',
    key='<VLV index>', fields=INDEX,
    meaning='From PKI 11.7 Dogtag neither uses nor creates the range VLV '
            'indices, so their absence is normal.')

VLV_MISMATCH = Finding(
    'DTR0204', 'vlv-mismatch', SOURCE, VLV, (ERROR, WARNING),
    'A VLV index does not match Dogtag\'s query',
    'The VLV index {index} does not match Dogtag\'s query (see mismatches).',
    key='<VLV index>', fields=INDEX + ('mismatches',), fix='vlv_edit',
    severity_rule=VLV_RULE,
    meaning='389-DS serves a VLV request from an index only when its base, '
            'scope, filter and sort equal the request\'s; otherwise it '
            'sorts in memory. `mismatches` lists each difference.',
    upstream=VLV_UPSTREAM)

VLV_NEVER_OPENED = Finding(
    'DTR0205', 'vlv-never-opened', SOURCE, VLV, ERROR,
    'A VLV index was never built and has no LMDB database',
    'The VLV index {index} was never built (vlvEnabled: 0), and its LMDB '
    'database does not exist.',
    key='<VLV index>',
    fields=INDEX + ('records', 'scan_complete', 'vlv_enabled'),
    fix='vlv_reindex',
    meaning='389-DS on LMDB will not create an index database inside a '
            'write, so an add of a record under the container either fails '
            'with "Operations error" or goes through without entering the '
            'index (errors log: "Can\'t get index file"). Only a rebuild of '
            'this index is a fix: a restart or another index task on the '
            'backend creates it empty, and 389-DS then trusts an index that '
            'holds none of the `records` already there (at least that many '
            'when scan_complete is false). If the rebuild fails with '
            '"MDB_DBS_FULL", raise nsslapd-mdb-max-dbs and restart 389-DS '
            'first.',
    upstream='389ds/389-ds-base 3.1.2 db-mdb/mdb_instance.c: '
             'dbmdb_open_dbi_from_filename, dbmdb_open_all_files; vlv.c: '
             'vlv_update_all_indexes; mdb_config.c: '
             'dbmdb_ctx_t_db_max_dbs_set')

VLV_ON_DISK = Finding(
    'DTR0206', 'vlv-built-on-disk', SOURCE, VLV, SUCCESS,
    'A VLV index is built; 389-DS switches it on at first use',
    'The VLV index {index} is built: its LMDB database holds '
    '{indexed_on_disk} items for {records} records.',
    key='<VLV index>',
    fields=INDEX + ('records', 'scan_complete', 'vlv_enabled',
                    'indexed_on_disk', 'lmdb_flags'),
    meaning='On LMDB an index rebuilt online keeps vlvEnabled: 0 until the '
            'first matching VLV search (such as Dogtag\'s start-up lookup) '
            'switches it on, if its database opens.',
    upstream='389ds/389-ds-base 3.1.2 vlv_srch.c: vlvSearch_findenabled, '
             'vlvIndex_checkforindex')

VLV_ON_DISK_INCOMPLETE = Finding(
    'DTR0207', 'vlv-incomplete-on-disk', SOURCE, VLV, (ERROR, WARNING),
    'A VLV index switched on at first use misses records',
    'The VLV index {index} holds {indexed_on_disk} items on disk, but '
    '{records} records of {container} match it.',
    key='<VLV index>',
    fields=INDEX + ('records', 'scan_complete', 'vlv_enabled',
                    'indexed_on_disk', 'lmdb_flags'),
    fix='vlv_reindex', severity_rule=VLV_RULE,
    meaning='vlvEnabled is 0 until the first matching VLV search, and '
            '389-DS then switches the index on as it is, incomplete.',
    upstream='389ds/389-ds-base 3.1.2 vlv_srch.c: vlvSearch_findenabled, '
             'vlvIndex_checkforindex')

VLV_UNBUILT_EMPTY = Finding(
    'DTR0208', 'vlv-unbuilt-empty', SOURCE, VLV, SUCCESS,
    'A VLV index is not built, with nothing to index',
    'The VLV index {index} is not built yet, and no record matches it.',
    key='<VLV index>',
    fields=INDEX + ('records', 'scan_complete', 'vlv_enabled'))

VLV_UNBUILT = Finding(
    'DTR0209', 'vlv-unbuilt', SOURCE, VLV, ERROR,
    'A VLV index Dogtag\'s start-up lookup needs is not built',
    'The VLV index {index} is defined but not built (vlvEnabled: 0).',
    key='<VLV index>',
    fields=INDEX + ('records', 'scan_complete', 'vlv_enabled'),
    fix='vlv_reindex',
    meaning='389-DS treats an unbuilt index as a missing one: up to PKI '
            '11.5 Dogtag\'s start-up lookup sorts all `records` in memory, '
            'which fails for Dogtag\'s own bind once they outnumber its '
            'look-through limit; Dogtag then starts again at the range\'s '
            'begin.',
    upstream=VLV_UPSTREAM)

VLV_UNBUILT_UNUSED = Finding(
    'DTR0210', 'vlv-unbuilt-unused', SOURCE, VLV, SUCCESS,
    'A VLV index used only to list records is not built',
    'The VLV index {index} is not built (vlvEnabled: 0); PKI {pki_version} '
    'uses it only to list records.',
    key='<VLV index>',
    fields=INDEX + ('records', 'scan_complete', 'vlv_enabled'),
    fix='vlv_reindex',
    meaning='From PKI 11.6 the last-number lookup no longer uses the index; '
            'listing records then sorts in memory. The fix is given for '
            'that.')

VLV_INCOMPLETE = Finding(
    'DTR0211', 'vlv-incomplete', SOURCE, VLV, (ERROR, WARNING),
    'A VLV index misses records',
    'The VLV index {index} holds {indexed} records, but {records} records '
    'of {container} match it.',
    key='<VLV index>',
    fields=INDEX + ('records', 'scan_complete', 'vlv_enabled', 'indexed'),
    fix='vlv_reindex', severity_rule=VLV_RULE,
    meaning='The index\'s content count is below the records the full scan '
            'counted (a count taken before the scan, indexed_before_scan, '
            'allows for records added meanwhile; on LMDB the items on disk '
            'count). Up to PKI 11.5 Dogtag\'s start-up lookup then answers '
            'too low.',
    upstream='389ds/389-ds-base 3.1.2 vlv.c: do_vlv_update_index')

VLV_COMPLETE = Finding(
    'DTR0212', 'vlv-complete', SOURCE, VLV, SUCCESS,
    'A VLV index is defined, built and complete',
    'The VLV index {index} is built as Dogtag expects and holds all '
    '{records} matching records.',
    key='<VLV index>',
    fields=INDEX + ('records', 'scan_complete', 'vlv_enabled', 'indexed',
                    'proof'))

VLV_TOP_CURRENT = Finding(
    'DTR0213', 'vlv-top-current', SOURCE, VLV, SUCCESS,
    'A VLV index\'s top is current (equality index probe)',
    'A lookup through the VLV index {index} answers {vlv_last} (decimal), '
    'and no record of the range is above it.',
    key='<VLV index>',
    fields=INDEX + ('records', 'scan_complete', 'vlv_enabled', 'indexed',
                    'vlv_last', 'attribute', 'proof'),
    meaning='The attribute\'s equality index holds no record of the range '
            'above the answer. The index-free count did not finish within '
            'the time budget, so completeness below the top is not given.')

VLV_TOP_STALE = Finding(
    'DTR0214', 'vlv-top-stale', SOURCE, VLV, (ERROR, WARNING),
    'A VLV index misses the top of the range',
    'A lookup through the VLV index {index} answers {vlv_last}, but '
    '{first_missing_dn} holds {first_missing} (decimal).',
    key='<VLV index>',
    fields=INDEX + ('records', 'scan_complete', 'vlv_enabled', 'indexed',
                    'vlv_last', 'attribute', 'first_missing',
                    'first_missing_dn'),
    fix='vlv_reindex', severity_rule=VLV_RULE,
    meaning='Found through the attribute\'s equality index, a record above '
            'the VLV answer in the range is missing from the index.')

VLV_UNPROVEN = Finding(
    'DTR0215', 'vlv-unproven', SOURCE, VLV, WARNING,
    'A VLV index\'s completeness is not proven within the time budget',
    'The VLV index {index} holds {indexed} records; its completeness is not '
    'proven within the time budget.',
    key='<VLV index>',
    fields=INDEX + ('records', 'scan_complete', 'vlv_enabled', 'indexed',
                    'vlv_last'),
    fix=MORE_TIME,
    meaning='The full scan of the container stopped after `records` '
            'matching records when the time budget ran out, and the probe '
            'did not finish either.')


# Every result these checks give about a repository carries its range.
findings.carry(findings.REPOSITORY, [
    f for f in findings.CATALOG.values()
    if f.source == SOURCE and f.name != 'range-random'])
