"""Findings of logs: what a subsystem's debug log says about the faults the
other checks explain. Codes DTR0600-DTR0699.

LogCheck gives one result per subsystem (key `<subsystem>.debug`) that
counts every log finding in its fields (`<name>`, `<name>_first`,
`<name>_last`, `<name>_example`). Each log finding is declared once here
with its own code and severity; the result takes the code of the most
severe one found (one silenced by dogtag_exclude gives way to the next),
so that silencing the range-request WARNING never hides an "already
exists" ERROR, and the fields stay what they were.
"""

from ipahealthcheck_dogtag.dogtag.steps import Fix, manual, reads
from ipahealthcheck_dogtag.findings import ERROR, SUCCESS, WARNING, Finding

SOURCE = 'dogtag.logs'
KEY = '<subsystem>.debug'

# What every result of LogCheck carries, then what each log finding adds.
WINDOW = ('subsystem', 'hours', 'log_dir', 'log_files', 'window_complete',
          'since')
LOG_FINDING_NAMES = ('already_exists', 'range_failures')
COUNTS = tuple('%s%s' % (name, part) for name in LOG_FINDING_NAMES
               for part in ('', '_first', '_last', '_example'))
READ = WINDOW + COUNTS
FOUND = READ + ('findings',)
PKI_LOGS = ('dogtagpki/pki base/ca/shared/webapps/ca/WEB-INF/classes/'
            'logging.properties v10.6.0-v11.5.0 (debug.<date>.log); CS.cfg '
            'debug.filename v10.5.0 (debug)')


def _run(check):
    return Fix(reads('ipa-healthcheck --source dogtag.ranges --check %s '
                     'says what is wrong and prints the fix' % check))


LOG_NONE = Finding(
    'DTR0600', 'log-none', SOURCE, 'LogCheck', SUCCESS,
    'A subsystem has no debug log',
    'No {subsystem} debug log under {log_dir}: nothing to read.', key=KEY,
    fields=READ, upstream=PKI_LOGS,
    meaning='Neither debug.<date>.log (PKI 10.6 and later) nor debug (PKI '
            '10.5) is in the subsystem\'s log directory.')

LOG_CLEAN = Finding(
    'DTR0601', 'log-clean', SOURCE, 'LogCheck', SUCCESS,
    'A debug log shows none of our faults',
    'No "already exists" error and no failed range request in the '
    '{subsystem} debug log since {since}.', key=KEY, fields=READ,
    meaning='The whole window of dogtag_log_hours was read.')

LOG_CLEAN_PARTIAL = Finding(
    'DTR0602', 'log-clean-partial', SOURCE, 'LogCheck', SUCCESS,
    'The newest part of a debug log shows none of our faults',
    'No "already exists" error and no failed range request in the newest '
    '{subsystem} debug records read.', key=KEY, fields=READ,
    meaning='The time budget (70% of timeout) ran out before the start of '
            'the window (`since`) was reached: the older records were not '
            'read, so this says nothing about them.')

LOG_ALREADY_EXISTS = Finding(
    'DTR0603', 'log-already-exists', SOURCE, 'LogCheck', ERROR,
    'Records refused as "already exists" (LDAP 68) in a debug log',
    'The {subsystem} debug log shows {already_exists} record(s) refused as '
    '"already exists" since {since}.', key=KEY, fields=FOUND,
    fix=_run('LastNumberCheck'),
    upstream='dogtagpki/pki LDAPSession.java v11.5.0 (Unable to add LDAP '
             'entry), LDAPExceptionConverter.java v11.10.0 (Record already '
             'exists), DBSSession (LDAP operation failure, up to 10.10)',
    meaning='Dogtag added a certificate or request record under a number '
            'that already has one: its next number is behind the records '
            '(LastNumberCheck in dogtag.ranges explains why). Expected '
            'none. `findings` sums up every log finding with its count, '
            'first and last time; a failed range request may be counted '
            'too (range_failures).')

LOG_RANGE_FAILURES = Finding(
    'DTR0604', 'log-range-failures', SOURCE, 'LogCheck', WARNING,
    'Failed number-range requests in a debug log',
    'The {subsystem} debug log shows {range_failures} failed number-range '
    'request(s) since {since}.', key=KEY, fields=FOUND,
    fix=_run('CloneTransferCheck'),
    upstream='dogtagpki/pki UpdateNumberRange.java (the master\'s side), '
             'the 10.x Java client and the 10.10+ pki-server '
             '<subsystem>-range-request (the clone\'s)',
    meaning='A clone asked its master for a new number range and did not '
            'get one (CloneTransferCheck in dogtag.ranges explains why). '
            'Expected none.')

LOG_UNREADABLE = Finding(
    'DTR0605', 'log-unreadable', SOURCE, 'LogCheck', ERROR,
    'A debug log of the window cannot be read',
    'Cannot read {unreadable_count} of the {subsystem} debug logs as {user} '
    '({error}).', key=KEY,
    fields=READ + ('unreadable_files', 'unreadable_count',
                   'unreadable_first', 'error', 'user'),
    fix=Fix(manual('Run the healthcheck as root (e.g. sudo '
                   'ipa-healthcheck)')),
    upstream='dogtagpki/pki v11.5.4 base/server/python/pki/server/'
             '__init__.py: PKIServer.makedirs (0770 directories, 0660 '
             'files)',
    meaning='PKI writes its logs for its own user: a file this user may '
            'not read says nothing about its records, so no all-clear is '
            'given. The fields count what the readable files show '
            '(`findings` when they show any).')

# LogCheck's table, most severe first: the field names a log finding
# fills, its declaration, the check and source that explain it, and its
# words in the `findings` summary.
LOG_FINDINGS = (
    ('already_exists', LOG_ALREADY_EXISTS, 'LastNumberCheck', 'dogtag.ranges',
     'records refused as "already exists" (LDAP 68)'),
    ('range_failures', LOG_RANGE_FAILURES, 'CloneTransferCheck',
     'dogtag.ranges', 'failed number-range requests'),
)
