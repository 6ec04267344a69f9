"""Findings of the 389-DS version advisories (checks/indices/advisories.py):
releases of 389-DS whose defects break Dogtag's VLV indices or the fixes we
give for them. Codes DTR1050-DTR1099.

The version and the database implementation are read from the server
(cn=config nsslapd-versionstring; nsslapd-backend-implement on the ldbm
configuration entry), never assumed."""

from ipahealthcheck_dogtag.dogtag.steps import Fix, reads
from ipahealthcheck_dogtag.findings import ERROR, SUCCESS, WARNING, Finding

SOURCE = 'dogtag.indices'
CHECK = 'DSAdvisoryCheck'
ADVISORY = ('ds_version', 'backend', 'issues', 'fixed_in')

NONE_APPLIES = Finding(
    'DTR1050', 'ds-advisories-none-apply', SOURCE, CHECK, SUCCESS,
    'No known 389-DS defect of Dogtag\'s VLV indices applies',
    '389-DS {ds_version} ({backend}) has none of the {checked} known '
    'defects of VLV indices.', key='389-ds',
    fields=('ds_version', 'backend', 'checked', 'advisories'),
    upstream='389ds/389-ds-base tags of the fixes of #6057, #6347, #6356',
    meaning='The version and database implementation read from this '
            '389-DS are outside every release that a known defect of VLV '
            'indices affects (see DTR1052 and DTR1053); advisories lists '
            'the defects looked at.')

UNKNOWN = Finding(
    'DTR1051', 'ds-version-unknown', SOURCE, CHECK, WARNING,
    'The 389-DS version or database cannot be read',
    'Cannot tell which 389-DS defects apply here: {problem}.', key='389-ds',
    fields=('problem', 'ds_version', 'backend', 'undecided'),
    fix=Fix(reads('read nsslapd-versionstring on cn=config and '
                  'nsslapd-backend-implement on cn=config,cn=ldbm database,'
                  'cn=plugins,cn=config as Directory Manager (or run '
                  'dsctl <instance> status and dsconf <instance> backend '
                  'config get), and compare them with the releases in '
                  'DTR1052 and DTR1053')),
    meaning='The version or the database implementation of the local '
            '389-DS could not be read (or the version string holds no '
            'version), so whether its known VLV defects apply is not known: '
            'it is not assumed to be fine. undecided names the defects left '
            'open.')

REINDEX_BROKEN = Finding(
    'DTR1052', 'ds-lmdb-vlv-reindex-broken', SOURCE, CHECK, WARNING,
    'This 389-DS does not rebuild Dogtag\'s VLV indices on reindex',
    '389-DS {ds_version} on LMDB does not rebuild VLV indices with hyphens '
    'in their names on reindex.', key='389ds-6057',
    fields=ADVISORY, fix='ds_upgrade',
    upstream='389ds/389-ds-base#6057, fixed by "vlv search may result '
             'wrong result with lmdb (#6091)" in 389-ds-base-2.5.2 '
             '(570fc4a9c), 3.0.2 (87932714a) and 3.1.0 (a380deb06)',
    meaning='On LMDB, an explicit reindex of a VLV index whose name has '
            'hyphens, as every Dogtag range index has (allCerts-<instance>, '
            'caAll-<instance>), leaves it unbuilt or stale: the reindex '
            'fixes we give for a stale or unbuilt VLV index (LastNumberCheck, '
            'VLVIndexCheck) do not work until 389-DS is upgraded. Affected: '
            'LMDB on 389-DS before 2.5.2 and 3.0.0 to 3.0.1.')

SEARCH_FAILS = Finding(
    'DTR1053', 'ds-lmdb-vlv-search-fails', SOURCE, CHECK, (ERROR, WARNING),
    'VLV searches of this 389-DS may fail',
    '389-DS {ds_version} on LMDB may fail VLV searches with err=1 after '
    'updates; fixed in {fixed_in}.', key='389ds-6347',
    fields=ADVISORY + ('pki_version',), fix='ds_upgrade',
    severity_rule='ERROR when the configured PKI is 11.5 or earlier, whose '
                  'start-up last-number lookup reads the range VLV index '
                  'and takes a failed search for an empty range; WARNING '
                  'from PKI 11.6 (a paged search, not the VLV index) or '
                  'when the PKI version is not known',
    upstream='389ds/389-ds-base#6347 and #6356, fixed by #6357 and #6358 '
             'in 389-ds-base-2.5.3, 2.6.0, 3.0.5 and 3.1.2; dogtagpki/pki '
             'v11.5.0 LDAPVirtualList.getJumpToPage (any exception: size '
             'stays -1) and CertificateRepository.'
             'getLastSerialNumberInRange ("index may be empty")',
    meaning='On LMDB, 389-DS keeps a cache of positions for each VLV index '
            'that an update did not always clear (#6356) or rebuilt outside '
            'its write transaction (#6347): a VLV search then fails with '
            'err=1 and "vlv_build_idl - Can\'t follow db cursor (err '
            '-12797)" in the errors log. Dogtag up to 11.5 takes the failed '
            'search of its start-up lookup for an empty range ("index may '
            'be empty") and starts again at the range begin, re-issuing used '
            'serial numbers or request IDs. Affected: LMDB on 389-DS before '
            '2.5.3, 3.0.0 to 3.0.4 and 3.1.0 to 3.1.1.')
