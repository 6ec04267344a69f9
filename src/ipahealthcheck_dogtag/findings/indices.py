"""Findings of dogtag.indices (databases.py): every index of the CA backends
has its LMDB database, and the CRL VLV index of PKI 11.9. Codes
DTR1000-DTR1049."""

from ipahealthcheck_dogtag.dogtag.steps import Fix, manual
from ipahealthcheck_dogtag.findings import ERROR, SUCCESS, WARNING, Finding

SOURCE = 'dogtag.indices'
DATABASES = 'IndexDatabaseCheck'
CRL = 'CRLIndexCheck'

LMDB_UPSTREAM = ('389ds/389-ds-base 3.1.3 ldap/servers/slapd/back-ldbm/'
                 'db-mdb/mdb_instance.c: dbmdb_open_dbi_from_filename, '
                 'dbmdb_build_dbname, dbdmd_gather_stats; db-mdb/'
                 'mdb_monitor.c: dbmdb_monitor_instance_search; '
                 'dogtagpki/pki#4919; 389ds/389-ds-base#5976')
CRL_UPSTREAM = ('dogtagpki/pki v11.9.0 base/ca/database/ds/vlv.ldif, '
                'vlvtasks.ldif (PRs #5268, #5270); docs/changes/v11.9.0/'
                'Server-Changes.adoc "VLV Index for CRL Generation"; '
                'base/ca/src/main/java/com/netscape/ca/CRLIssuingPoint.java: '
                'getFilter; base/server/src/main/java/org/dogtagpki/server/'
                'cli/SubsystemDBVLVAddCLI.java: execute')
MONITOR_FIX = Fix(manual(
    'Check that the healthcheck runs as root and that 389-DS answers '
    'searches of cn=monitor,cn=<backend>,cn=ldbm database,cn=plugins,'
    'cn=config (see error); then run the check again'))

INDEX = ('index', 'kind', 'backend', 'database_name')

DATABASES_PRESENT = Finding(
    'DTR1000', 'index-databases-present', SOURCE, DATABASES, SUCCESS,
    'Every index of a CA backend has its LMDB database',
    'Every index of backend {backend} has its LMDB database ({indices} '
    'indices).',
    key='<backend>', fields=('backend', 'indices', 'db_lib'),
    meaning='Each attribute index and each VLV index defined for the '
            'backend appears in its LMDB monitor: 389-DS can update it '
            'when a record is written. The three range VLV indices are '
            'judged by VLVIndexCheck, and the CRL index of PKI 11.9 by '
            'CRLIndexCheck.',
    upstream=LMDB_UPSTREAM)

NO_DATABASE = Finding(
    'DTR1001', 'index-no-database', SOURCE, DATABASES, ERROR,
    'An index was defined and never built: it has no LMDB database',
    'The {kind} index {index} of backend {backend} has no LMDB database: '
    'it was never built.',
    key='<backend>:<index>', fields=INDEX + ('db_lib',),
    fix='index_build',
    meaning='389-DS on LMDB opens an index database only at start or in '
            'an index task, never inside a write. While the index is '
            'defined and has no database, every add or modify that must '
            'update it fails with "Operations error" (errors log: '
            '"Attempt to open dbi <backend>/<index> while txn is already '
            'pending. Usually that means that the index must be reindex"), '
            'as OCSP installs saw on 389-DS 3.x. The monitor listed a '
            'database whose name sorts after this one, so its absence is '
            'proven. Only a rebuild of the index is a fix: a restart '
            'creates the database empty. If the rebuild fails with '
            '"MDB_DBS_FULL", raise nsslapd-mdb-max-dbs and restart 389-DS '
            'first.',
    upstream=LMDB_UPSTREAM)

UNLISTED = Finding(
    'DTR1002', 'index-database-unlisted', SOURCE, DATABASES, WARNING,
    'An index is not in its backend\'s LMDB monitor listing',
    'The {kind} index {index} of backend {backend} is not in the LMDB '
    'monitor, whose listing ends before it.',
    key='<backend>:<index>', fields=INDEX + ('db_lib', 'last_listed'),
    fix='index_build',
    meaning='The monitor lists the databases in name order and stops at '
            'the first it cannot read, so an index whose name sorts after '
            'the last one listed (`last_listed`) may be missing (then '
            'writes fail as for DTR1001) or hidden by that stop. A rebuild '
            'is harmless either way.',
    upstream=LMDB_UPSTREAM)

BDB = Finding(
    'DTR1003', 'index-databases-bdb', SOURCE, DATABASES, SUCCESS,
    'Index databases are checked on LMDB only',
    'Backend {backend} is on BerkeleyDB: index databases are checked on '
    'LMDB only.',
    key='<backend>', fields=('backend', 'db_lib'),
    meaning='BerkeleyDB creates an index file when a write first needs '
            'it, so an index defined and not yet built does not make '
            'writes fail there.',
    upstream='389ds/389-ds-base 2.3.1 back-ldbm/index.c: '
             'index_addordel_values_ext_sv -> dblayer.c: '
             'dblayer_get_index_file with DBOPEN_CREATE')

UNREADABLE = Finding(
    'DTR1004', 'index-databases-unreadable', SOURCE, DATABASES, WARNING,
    'The indices of a CA backend or its monitor cannot be read',
    'The indices of backend {backend} could not be checked: {error}.',
    key='<backend>', fields=('backend', 'error'),
    fix=MONITOR_FIX,
    meaning='The index definitions, the LMDB monitor of the backend or '
            'the database implementation (nsslapd-backend-implement) '
            'could not be read, so whether every index has its database '
            'is unknown; nothing is claimed about them.',
    upstream=LMDB_UPSTREAM)

# -- the CRL VLV index ------------------------------------------------------

CRL_FIELDS = ('index', 'backend', 'pki_version')

CRL_NOT_EXPECTED = Finding(
    'DTR1010', 'crl-index-not-expected', SOURCE, CRL, SUCCESS,
    'This PKI predates the CRL VLV index',
    'PKI {pki_version} predates the CRL VLV index of PKI 11.9: nothing to '
    'check.',
    key='<CRL index>', fields=CRL_FIELDS,
    meaning='PKI 11.9 added a VLV index for the search behind CRL '
            'generation; earlier releases neither create nor use it.',
    upstream=CRL_UPSTREAM)

CRL_VLV_UNUSED = Finding(
    'DTR1011', 'crl-index-vlv-unused', SOURCE, CRL, SUCCESS,
    'This CA has no VLV indices: no CRL VLV index is expected',
    'The CA has no VLV indices in backend {backend}: no CRL VLV index is '
    'expected.',
    key='<CRL index>', fields=CRL_FIELDS,
    meaning='PKI creates the CRL index only with its other VLV indices '
            '(pkispawn pki_ds_setup_vlv=True, off by default); none of '
            'this instance\'s VLV searches is defined here.',
    upstream=CRL_UPSTREAM)

CRL_OK = Finding(
    'DTR1012', 'crl-index-built', SOURCE, CRL, SUCCESS,
    'The CRL VLV index matches this CA and is built',
    'The CRL VLV index {index} names this CA ({issuer_dn}) and is built.',
    key='<CRL index>', fields=CRL_FIELDS + ('issuer_dn', 'db_lib'),
    meaning='The definition matches the search the CA sends to list its '
            'revoked certificates (base, scope, filter naming this CA, '
            'sort), and the index is built (BerkeleyDB: vlvEnabled 1; '
            'LMDB: its database holds at least the matching records).',
    upstream=CRL_UPSTREAM)

CRL_MISSING = Finding(
    'DTR1013', 'crl-index-missing', SOURCE, CRL, WARNING,
    'The CRL VLV index of PKI 11.9 is missing',
    'The CRL VLV index {index} is not defined in backend {backend} (PKI '
    '{pki_version} uses it).',
    key='<CRL index>', fields=CRL_FIELDS,
    fix='crl_index_add',
    meaning='The CA\'s other VLV indices exist, so it was installed with '
            'VLV indices, but the index PKI 11.9 added for CRL generation '
            'is not: instances upgraded to 11.9 must add it by hand, and '
            'each replica for itself (VLV definitions are not replicated). '
            'Without it every CRL generation reads the revoked '
            'certificates with an unindexed search.',
    upstream=CRL_UPSTREAM)

CRL_MISMATCH = Finding(
    'DTR1014', 'crl-index-mismatch', SOURCE, CRL, WARNING,
    'The CRL VLV index does not match the CA\'s CRL search',
    'The CRL VLV index {index} does not match the search this CA sends '
    'for its CRL.',
    key='<CRL index>', fields=CRL_FIELDS + ('issuer_dn', 'mismatches'),
    fix='crl_index_edit',
    meaning='389-DS uses a VLV index only for a search with the same base, '
            'scope, sort and filter, the filter compared as text. The '
            'filter must name this CA\'s subject as the CA writes it (its '
            'host authority entry, authorityDN, read as a DN); an index '
            'made for another CA, or written by hand, is never used and '
            'CRL generation searches unindexed. `mismatches` says what '
            'differs.',
    upstream=(CRL_UPSTREAM + '; 389ds/389-ds-base 3.1.3 back-ldbm/'
              'vlv_srch.c: vlvSearch_equal'))

CRL_UNBUILT = Finding(
    'DTR1015', 'crl-index-unbuilt', SOURCE, CRL, WARNING,
    'The CRL VLV index is defined but not built',
    'The CRL VLV index {index} of backend {backend} is defined but not '
    'built.',
    key='<CRL index>', fields=CRL_FIELDS + ('db_lib',),
    fix='crl_index_reindex',
    meaning='On BerkeleyDB vlvEnabled is not 1; on LMDB the database '
            'holds fewer items than the records it must index '
            '(`indexed_on_disk`, `records`) or is being rebuilt (DIRTY). '
            '389-DS does not use the index until it is rebuilt: CRL '
            'generation searches unindexed, or misses revoked '
            'certificates when an incomplete index is trusted.',
    upstream=(CRL_UPSTREAM + '; 389ds/389-ds-base 3.1.3 back-ldbm/'
              'vlv_srch.c: vlvSearch_findenabled'))

CRL_NO_DATABASE = Finding(
    'DTR1016', 'crl-index-no-database', SOURCE, CRL, ERROR,
    'The CRL VLV index was never built and has no LMDB database',
    'The CRL VLV index {index} of backend {backend} has no LMDB database: '
    'it was never built.',
    key='<CRL index>', fields=CRL_FIELDS + ('db_lib',),
    fix='crl_index_reindex',
    meaning='As for DTR1001: on LMDB, while the index has no database, a '
            'write that must update it (a revocation, which sets '
            'certStatus REVOKED) fails with "Operations error".',
    upstream=CRL_UPSTREAM + '; ' + LMDB_UPSTREAM)

CRL_ISSUER_UNKNOWN = Finding(
    'DTR1017', 'crl-issuer-unknown', SOURCE, CRL, WARNING,
    'This CA\'s issuer DN cannot be read',
    'This CA\'s subject DN is not in {authorities}: the CRL VLV index '
    'filter cannot be checked.',
    key='<CRL index>', fields=CRL_FIELDS + ('authorities', 'nickname',
                                            'entries'),
    fix=Fix(manual(
        'Check that the CA has started once since its installation (it '
        'adds its host authority entry then, with authorityDN and '
        'authorityKeyNickname equal to ca.signing.nickname of CS.cfg), '
        'and compare the index\'s vlvFilter with the subject of the CA '
        'signing certificate by hand')),
    meaning='The check reads the CA\'s subject from its host authority '
            'entry: the one without authorityParentID whose '
            'authorityKeyNickname is CS.cfg\'s ca.signing.nickname. None, '
            'or several with different DNs, were found.',
    upstream='dogtagpki/pki v11.9.0 base/ca/src/main/java/org/dogtagpki/'
             'server/ca/CAEngine.java: addHostAuthorityEntry; '
             'rest/base/AuthorityRepository.java: addAuthorityRecord')

CRL_VERSION_UNKNOWN = Finding(
    'DTR1018', 'crl-index-version-unknown', SOURCE, CRL, WARNING,
    'The PKI version is unknown: the CRL VLV index is not judged',
    'The PKI version is unknown, so whether the CRL VLV index {index} is '
    'expected is not judged.',
    key='<CRL index>', fields=('index', 'backend'),
    fix=Fix(manual('Set dogtag_pki_version in the [default] section of '
                   'the healthcheck configuration to the installed PKI '
                   'version')),
    meaning='The CRL VLV index exists from PKI 11.9; the installed version '
            'could not be read and is not configured.',
    upstream=CRL_UPSTREAM)
