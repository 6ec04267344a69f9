"""Findings of dogtag-clustercheck, the whole topology's view from each CA
server's healthcheck JSON; and what it reads of those reports. Codes
DTR0700-DTR0799.

Plain Python: the command runs where neither ipahealthcheck nor
python-ldap is installed."""

from ipahealthcheck_dogtag import findings
from ipahealthcheck_dogtag.dogtag.steps import Fix, manual, writes
from ipahealthcheck_dogtag.findings import (
    CRITICAL, ERROR, SUCCESS, WARNING, Finding)

SOURCE = 'dogtag.cluster'

# ipahealthcheck core 0.11 to 0.19 (core/output.py, Output.write_file and
# JSON.generate) writes what we read; --failures-only leaves out SUCCESS.
COLLECT = Fix(manual('Write the report again on that server without '
                     '--failures-only (ipa-healthcheck --output-file '
                     '<file>), and collect it into the directory'))
INPUT_FIELDS = ('servers', 'files', 'unusable', 'listed', 'missing',
                'directory')
ROW_FIELDS = ('server', 'file', 'errors', 'warnings', 'findings', 'listing',
              'findings_shown', 'ca', 'ranges')
ROW_FIX = Fix(manual('On that server, act on each finding listed in '
                     '`findings`: its fix is in that server\'s own report'))

DIRECTORY_UNLISTABLE = Finding(
    'DTR0700', 'cluster-directory-unlistable', SOURCE, 'InputCheck',
    CRITICAL, 'The directory of reports cannot be listed',
    'Cannot list {directory}: {error}.', key='directory',
    fields=('directory', 'error'),
    fix=Fix(manual('Give a readable directory holding one healthcheck JSON '
                   'file per CA server')),
    meaning='Nothing was compared: the command takes a directory holding '
            'one ipa-healthcheck (or dogtag-healthcheck) JSON output per '
            'CA server, as ipa-clustercheck does.')

REPORT_UNUSABLE = Finding(
    'DTR0701', 'cluster-report-unusable', SOURCE, 'InputCheck', ERROR,
    'A report is not a healthcheck JSON output',
    '{file} is unusable: {problem}.', key='<file name>',
    fields=('file', 'field', 'problem'), fix=COLLECT,
    meaning='The file is not the JSON output of ipa-healthcheck: '
            'unreadable, not JSON, or a result of the wrong shape '
            '(`field` names which, e.g. [3].kw.range_begin). The other '
            'reports are still compared without it, so whatever it would '
            'have shown (its ranges, its replica ID) is missing.')

REPORT_WITHOUT_DOGTAG = Finding(
    'DTR0702', 'cluster-report-without-dogtag', SOURCE, 'InputCheck', ERROR,
    'A report holds no dogtag.* result',
    '{file} holds no dogtag.* result: nothing is known of the CA of '
    '{server}.', key='<file name>', fields=('file', 'server'),
    fix=Fix(manual('Install ipahealthcheck_dogtag on that server, then '
                   'write the report again without --failures-only, '
                   '--source or an [excludes] entry for dogtag')),
    meaning='Every check of ours says something, even "no CA here" (key '
            'ca), so a report without any dogtag.* result was written '
            'without the plugin, with --failures-only on a healthy '
            'server, or with dogtag excluded: it tells nothing, and is no '
            'all-clear.')

NO_REPORT = Finding(
    'DTR0703', 'cluster-no-report', SOURCE, 'InputCheck', ERROR,
    'No usable server report',
    'No server report in {directory}: {files} file(s), {unusable} of them '
    'unusable.', key='inputs', fields=INPUT_FIELDS,
    fix=Fix(manual('Collect each CA server\'s report (ipa-healthcheck '
                   '--output-file <file>) into the directory and run '
                   'again')),
    meaning='A copy that failed leaves the directory empty, or holding '
            'only broken files: nothing was compared, which is no '
            'all-clear.')

REPORTS_MISSING = Finding(
    'DTR0704', 'cluster-reports-missing', SOURCE, 'InputCheck', ERROR,
    'Some listed servers sent no report',
    'Read {servers} report(s), but the reports list {listed} servers: none '
    'from {missing_servers}.', key='inputs',
    fields=INPUT_FIELDS + ('missing_servers',),
    fix=Fix(manual('Collect the missing servers\' reports into the '
                   'directory and run again')),
    meaning='IPA\'s server list (ipa-healthcheck\'s IPAMetaCheck) and the '
            'CA replication peers of the reports name servers that sent '
            'no report: their ranges and replica IDs are not compared. '
            'Each also gets DTR0707.')

REPORTS_COMPLETE = Finding(
    'DTR0705', 'cluster-reports-complete', SOURCE, 'InputCheck', SUCCESS,
    'A report from every listed server',
    'Read {servers} server report(s) from {directory}: one from each '
    'listed server.', key='inputs', fields=INPUT_FIELDS,
    meaning='Every server of IPA\'s server list and every CA replication '
            'peer the reports name sent a report.')

REPORTS_UNLISTED = Finding(
    'DTR0706', 'cluster-reports-unlisted', SOURCE, 'InputCheck', SUCCESS,
    'Reports read; no report lists the servers',
    'Read {servers} server report(s) from {directory}; none lists the '
    'servers.', key='inputs', fields=INPUT_FIELDS,
    meaning='IPA\'s server list comes with ipa-healthcheck\'s '
            'IPAMetaCheck, and no report carries it (dogtag-healthcheck '
            'alone, or a standalone Dogtag): a server that sent no report '
            'cannot be named.')

SERVER_WITHOUT_REPORT = Finding(
    'DTR0707', 'cluster-server-without-report', SOURCE,
    'MissingRangesCheck', ERROR,
    'A listed server sent no report',
    'No report from {server}, which the others list: its ranges are not '
    'compared.', key='<server>', fields=('server',),
    fix=Fix(manual('Collect that server\'s healthcheck JSON (its nightly '
                   '--output-file) into the directory')),
    meaning='The other reports name it as an IPA server or a CA '
            'replication peer. Its ranges are recorded nowhere in the '
            'input, so a range it shares with another server cannot be '
            'seen.')

REPORT_WITHOUT_RANGES = Finding(
    'DTR0708', 'cluster-report-without-ranges', SOURCE,
    'MissingRangesCheck', ERROR,
    'A CA server\'s report carries no range',
    'The report of {server} ({file}) has Dogtag results but no range.',
    key='<server>', fields=('server', 'file'),
    fix=Fix(manual('Act on that server\'s own findings (its CS.cfg could '
                   'not be read, or dogtag.ranges was excluded), then '
                   'collect its report again')),
    meaning='The server has a CA, yet no result of its report carries a '
            'repository\'s ranges: they cannot be compared with the '
            'others\'.')

RANGE_OWNED_TWICE = Finding(
    'DTR0709', 'cluster-range-owned-twice', SOURCE, 'RangeOwnershipCheck',
    ERROR, 'Two servers own the same numbers',
    '{server} and {other} both own {repository} numbers {first}..{last} '
    '(decimal).', key='<repository>:<server>:<other server>',
    fields=('repository', 'server', 'which', 'begin', 'end', 'other',
            'other_which', 'other_begin', 'other_end', 'first', 'last'),
    fix=Fix(manual('Stop one of the two from issuing in that range: with '
                   'its CA stopped, give it a fresh range above nextRange '
                   'in its CS.cfg')),
    upstream='dogtagpki/pki v11.5.4 base/server/src/main/java/com/netscape/'
             'cmscore/dbs/Repository.java (a server issues from its own '
             'active range, then its standby range)',
    meaning='Each CA server issues serial and request numbers (and replica '
            'IDs) from the ranges in its own CS.cfg. `which` and '
            '`other_which` say which of each server\'s ranges (active or '
            'standby) overlap; the bounds are decimal. Both can issue the '
            'same number: a duplicate serial number, or an "Object already '
            'exists" failure once replication meets the second one.')

RANGES_OWNED_ONCE = Finding(
    'DTR0710', 'cluster-ranges-owned-once', SOURCE, 'RangeOwnershipCheck',
    SUCCESS, 'No two servers own the same numbers',
    'No two of the {servers} servers own the same {repository} numbers.',
    key='<repository>', fields=('servers', 'repository'),
    meaning='The active and standby ranges the reports carry for this '
            'repository do not overlap between servers.')

REPLICA_ID_STRAY = Finding(
    'DTR0711', 'cluster-replica-id-stray', SOURCE, 'ReplicaIdCheck', ERROR,
    'A replica ID in the RUV belongs to no server',
    'Replica ID {replica_id} ({host}) in the o=ipaca RUV of {holders} '
    'belongs to no server.', key='replica-id-<replica ID>',
    fields=('replica_id', 'host', 'holders'),
    fix=Fix(writes('ipa-replica-manage clean-ruv <replica ID> (or the '
                   'cleanallruv task)')),
    upstream='freeipa/freeipa ipa-replica-manage clean-ruv',
    meaning='Every server reported, and none reports this ID as its own: '
            'it is left from a removed server or from an earlier '
            'installation of the host (which the local RUVCheck cannot '
            'tell, the host being a server).')

REPLICA_ID_UNCLAIMED = Finding(
    'DTR0712', 'cluster-replica-id-unclaimed', SOURCE, 'ReplicaIdCheck',
    WARNING, 'A replica ID in the RUV belongs to no reporting server',
    'Replica ID {replica_id} ({host}) in the o=ipaca RUV of {holders} '
    'belongs to no reporting server.', key='replica-id-<replica ID>',
    fields=('replica_id', 'host', 'holders'),
    fix=Fix(manual('Collect the missing reports and run again'),
            writes('ipa-replica-manage clean-ruv <replica ID> (or the '
                   'cleanallruv task)', when='if no server owns it')),
    upstream='freeipa/freeipa ipa-replica-manage clean-ruv',
    meaning='As DTR0711, but some reports are missing (DTR0704), so the ID '
            'may be a silent server\'s own.')

REPLICA_IDS_OWNED = Finding(
    'DTR0713', 'cluster-replica-ids-owned', SOURCE, 'ReplicaIdCheck',
    SUCCESS, 'Every replica ID in the RUVs belongs to a server',
    'Every replica ID in the o=ipaca RUVs belongs to a reporting server: '
    '{owned}.', key='ruv', fields=('owned',))

SERVER_ERRORS = Finding(
    'DTR0714', 'cluster-server-errors', SOURCE, 'ServerFindingsCheck',
    ERROR, 'A server has errors in dogtag.*',
    '{server}: {errors} error(s), {warnings} warning(s) in dogtag.*: '
    '{findings_shown}.', key='<server>', fields=ROW_FIELDS, fix=ROW_FIX,
    meaning='One row of the table: the server\'s own ERROR and CRITICAL '
            'results (then its WARNINGs), as source.check.key.')

SERVER_WARNINGS = Finding(
    'DTR0715', 'cluster-server-warnings', SOURCE, 'ServerFindingsCheck',
    WARNING, 'A server has warnings in dogtag.*',
    '{server}: {warnings} warning(s) in dogtag.*: {findings_shown}.',
    key='<server>', fields=ROW_FIELDS, fix=ROW_FIX,
    meaning='One row of the table: the server\'s own WARNING results, as '
            'source.check.key.')

SERVER_CLEAN = Finding(
    'DTR0716', 'cluster-server-clean', SOURCE, 'ServerFindingsCheck',
    SUCCESS, 'A server has no error or warning in dogtag.*',
    '{server}: no error or warning in dogtag.*.', key='<server>',
    fields=ROW_FIELDS)

ROWS = (SERVER_ERRORS, SERVER_WARNINGS, SERVER_CLEAN)

GENERATORS_MIXED = Finding(
    'DTR0717', 'cluster-generators-mixed', SOURCE, 'GeneratorCheck', ERROR,
    'CA servers number one repository with different generators',
    'The CA servers number {repository} with different generators: '
    '{generators_shown}.', key='<repository>',
    fields=('repository', 'generators', 'generators_shown'),
    fix=Fix(manual('Pick one generator for the whole topology (IPA installs '
                   'with random serial numbers only when the first server '
                   'did, ipa-server-install --random-serial-numbers): '
                   'remove the servers that differ (ipa server-del) and '
                   'install them again as replicas of one that has it')),
    upstream='freeipa/ansible-freeipa PR #864 and #1060; freeipa/freeipa '
             'PR #7533 (pagure 9661)',
    meaning='Each server numbers certificates, requests and keys with the '
            'generator its CS.cfg names (legacy, legacy2: ranges; random: '
            'RSNv3). They share one database, so a server issuing random '
            'numbers beside ones handing out ranges breaks both: replicas '
            'installed against a random server failed to set up their CA, '
            'and healthcheck met "Certificate ID 0x1 not found" (ansible-'
            'freeipa PR #864, #1060); IPA has no way to force a single '
            'generator on the topology (freeipa PR #7533, pagure 9661). '
            '`generators` maps each generator to its servers.')

GENERATORS_SAME = Finding(
    'DTR0718', 'cluster-generators-same', SOURCE, 'GeneratorCheck', SUCCESS,
    'Every CA server numbers a repository with one generator',
    'The {servers} CA servers number {repository} with one generator: '
    '{generator}.', key='<repository>',
    fields=('repository', 'generator', 'servers'))


# What dogtag-clustercheck reads of a server's report, by role. A result
# plays a role by its code; a report written before 0.4.0 has no codes, so
# its results play it as they were then: by source, check class (None: any),
# key and result. Support engineers still feed such reports.
class Role:
    def __init__(self, names, source, checks_before_codes=None,
                 key_before_codes=None, result=None):
        self._names = names     # names of findings, or a function giving them
        self.source = source
        self.checks_before_codes = checks_before_codes
        self.key_before_codes = key_before_codes
        self.result = result            # only results of this level

    @property
    def names(self):
        return tuple(self._names()) if callable(self._names) else self._names

    def codes(self):
        """The codes of `names` (the catalog loaded when first asked)."""
        findings.load()
        return {findings.resolve(name).code for name in self.names}

    def played_before_codes(self, source, check, key, result):
        return (source == self.source or
                source.startswith(self.source + '.')) and \
            (self.checks_before_codes is None or
             check in self.checks_before_codes) and \
            self.key_before_codes in (None, key) and \
            self.result in (None, result)


def _repository_ranges():
    """Every dogtag.ranges finding keyed by a repository that must carry
    its active range (the declaration enforces it on every result): the
    range checks' results, not VLVIndexCheck's, keyed by index."""
    return [f.name for f in findings.load()
            if f.source == 'dogtag.ranges' and f.key == '<repository>' and
            {'range_begin', 'range_end'} <= set(f.fields)]


def _repository_generators():
    return [f.name for f in findings.load()
            if f.source == 'dogtag.ranges' and f.key == '<repository>' and
            'generator' in f.fields]


ROLES = {
    'ranges': Role(
        names=_repository_ranges,
        source='dogtag.ranges',
        checks_before_codes=('RangeConfigCheck', 'RangeDepletionCheck',
                             'CloneTransferCheck', 'NextRangeCheck',
                             'RangeOverlapCheck', 'RangeConflictCheck',
                             'RangeRecordCheck', 'LastNumberCheck')),
    # A working replication agreement of o=ipaca, naming its peer.
    'peer': Role(names=('agreement-ok', 'agreement-failing-recent'),
                 source='dogtag.replication',
                 checks_before_codes=('AgreementCheck',), result=SUCCESS),
    # This server's o=ipaca RUV: its own replica ID and the others'.
    'ruv': Role(names=('ruv-install-unfinished', 'ruv-dangling',
                       'ruv-clean'), source='dogtag.replication',
                checks_before_codes=('RUVCheck',)),
    # A repository's generator (legacy, legacy2, random): every result of
    # dogtag.ranges keyed by a repository carries it, range-random too.
    'generator': Role(names=_repository_generators, source='dogtag.ranges'),
    # "No CA here" (common.NO_CA): any check of ours, keyed `ca`.
    'no-ca': Role(names=('no-ca',), source='dogtag', key_before_codes='ca'),
}


# The fields read from the input results, in one place: renaming one of
# them in a check makes every report unreadable here.
class Read:
    FQDN = 'fqdn'                       # ipahealthcheck.meta.core MetaCheck
    MASTERS = 'masters'                 # ipahealthcheck.ipa.meta IPAMetaCheck
    SERVER = 'server'                   # dogtag.ranges: CS.cfg machineName
    ACTIVE = ('range_begin', 'range_end')
    STANDBY = ('standby_begin', 'standby_end')
    PEER = 'peer'
    RUV = 'ruv'                         # [[replica ID, host], ...]
    LOCAL_REPLICA_ID = 'local_replica_id'
    CODE = 'code'
    GENERATOR = 'generator'             # dogtag.ranges: CS.cfg's generator
