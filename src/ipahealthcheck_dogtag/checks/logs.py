"""Source `dogtag.logs`: what this host's CA and KRA debug logs say about
the faults the other checks explain.

Over the last `dogtag_log_hours`, per subsystem: records refused by LDAP
with "already exists" (error 68) when Dogtag adds a certificate or request
record, and failed number-range requests. Reads no LDAP: only the tail of
the debug logs, newest file first, backwards, stopping at the window start.

Where the logs are: `<instance>/logs/<subsystem>/` (a link to
/var/log/pki/<instance>/<subsystem>), `debug.<YYYY-MM-DD>.log` for PKI 10.6+
(Tomcat JULI FileHandler, prefix `debug.`, dogtagpki/pki
base/ca/shared/webapps/ca/WEB-INF/classes/logging.properties v10.6.0-v11.5.0)
or the single file `debug` for PKI 10.5 (CS.cfg debug.filename, v10.5.0).
Times are the JVM's local time (formats.py).
"""

import glob
import os
import re
import time
from datetime import datetime, timedelta, timezone

from ipahealthcheck.core import constants

from ipahealthcheck_dogtag import discovery
from ipahealthcheck_dogtag.checks.plugin import DogtagCheck, registry
from ipahealthcheck_dogtag.logs import bundle, formats, redact, tail

# Dogtag's texts for an add refused with LDAP 68, by version: ldapjdk
# "error result" / "Already exists" through LDAPSession.java ("Unable to
# add LDAP entry", v11.5.0), LDAPExceptionConverter.java ("Record already
# exists", v11.10.0), DBSSession "LDAP operation failure" (<= 10.10).
ALREADY_EXISTS = re.compile(
    r'Record already exists|Object already exists|Unable to add LDAP entry:'
    r'[^\n]*(Already exists|error result)|LDAP operation failure[^\n]*error '
    r'result|\(68\)|Unable to add certificate record', re.I)
# Failed range requests, on the clone (10.x Java client, 10.10+ pki-server
# <sub>-range-request) and on the master (UpdateNumberRange.java).
RANGE_FAILED = re.compile(
    r'UpdateNumberRange: (Unable|Failed) to update number range|'
    r'UpdateNumberRange: Authentication failed|Current range depleted but '
    r'no next range available|updateNumberRange\(\): status=(?!200)\d+|'
    r'range-request[^\n]*returned non-zero exit', re.I)
FINDINGS = [
    ('already_exists', ALREADY_EXISTS, constants.ERROR, 'LastNumberCheck',
     'dogtag.ranges'),
    ('range_failures', RANGE_FAILED, constants.WARNING, 'CloneTransferCheck',
     'dogtag.ranges'),
]
# Words one of which every match holds (lower case): a substring test is far
# cheaper than the regexes, which then run on few records.
HINTS = {
    'already_exists': ('already exists', 'error result', '(68)',
                       'unable to add certificate record'),
    'range_failures': ('range',),
}


def debug_logs(instance_dir, subsystem):
    """The subsystem's debug logs, newest first; raises Problem when the
    directory is there but this process may not list it (a glob would
    find nothing)."""
    base = os.path.join(instance_dir, 'logs', subsystem)
    try:
        os.listdir(base)
    except PermissionError as e:
        raise discovery.no_access(
            '%s.debug' % subsystem, base, e, 'the %s debug logs, which PKI '
            'lets only root and the PKI user read (mode 0770)' % subsystem)
    except OSError:
        pass                    # no directory: the result says no log
    dated = sorted(glob.glob(os.path.join(base, 'debug.*.log')),
                   reverse=True)
    single = os.path.join(base, 'debug')
    return dated + ([single] if os.path.isfile(single) else [])


def local_zone():
    """This host's zone, as the JVM takes it (TZ, /etc/localtime), or None
    (then times are read as UTC)."""
    name = os.environ.get('TZ', '').lstrip(':')
    zone = bundle.zone_named(name) if name else None
    if zone is None:
        zone = bundle.zone_named(bundle.zone_of_tree('/'))
    return zone


def scan(paths, start, zone, deadline=None, unreadable=None):
    """{finding: [count, first, last, example]} over the records at or after
    `start`, and whether the whole window was read. A file that cannot be
    read goes into `unreadable` as (path, error): not read is no answer."""
    found = {}
    for path in paths:
        fmt = None
        try:
            # The file's first lines tell its version.
            with open(path, errors='replace') as f:
                fmt = formats.sniff('debug', [next(f, '') for _ in range(20)])
            clock = formats.LocalClock(zone)
            for m, rest in tail.reverse_records(path, fmt):
                if deadline is not None and time.monotonic() > deadline:
                    return found, False
                try:
                    naive, _, text = fmt.parse(m)
                except (ValueError, KeyError):
                    continue
                when, _ = clock.to_utc(naive)
                if when < start:
                    return found, True
                text = '\n'.join([text] + rest)
                lower = text.lower()
                for name, regex, _, _, _ in FINDINGS:
                    if any(h in lower for h in HINTS[name]) and \
                            regex.search(text):
                        entry = found.setdefault(name, [0, when, when, text])
                        entry[0] += 1
                        entry[1] = min(entry[1], when)
                        entry[2] = max(entry[2], when)
        except OSError as e:
            if unreadable is not None:
                unreadable.append((path, e.strerror or str(e)))
    return found, True


def iso(when):
    return when.strftime('%Y-%m-%dT%H:%M:%SZ')


@registry
class LogCheck(DogtagCheck):
    """LDAP 68 on record creation and failed range requests in the logs."""

    requires_directory = False
    settings_used = DogtagCheck.settings_used + ('dogtag_log_hours',)

    def check_database(self, database, deadline):
        hours = self.context.settings.log_hours
        now = datetime.now(timezone.utc)
        start = now - timedelta(hours=hours)
        zone = local_zone()
        for name in sorted(database.subsystems):
            try:
                paths = debug_logs(database.instance_dir, name)
            except discovery.Problem as problem:
                yield self.problem(problem)
                continue
            unreadable = []
            found, complete = scan(paths, start, zone, deadline, unreadable)
            fields = {'subsystem': name, 'hours': hours,
                      'log_dir': os.path.join(database.instance_dir, 'logs',
                                              name),
                      'log_files': len(paths), 'window_complete': complete,
                      'since': iso(start)}
            problems = []
            level = constants.SUCCESS
            for finding, _, severity, check, source in FINDINGS:
                count, first, last, example = found.get(
                    finding, [0, None, None, None])
                fields.update({
                    finding: count,
                    finding + '_first': iso(first) if first else None,
                    finding + '_last': iso(last) if last else None,
                    # Log text leaving the host: masked first, then cut,
                    # so no part of a secret survives the cut.
                    finding + '_example':
                        redact.redact(example)[:500] if example else None,
                })
                if count:
                    level = max(level, severity)
                    problems.append('%s (%d, %s .. %s UTC; explained by '
                                    '%s in %s)' % (
                                        _TITLES[finding], count, iso(first),
                                        iso(last), check, source))
            if not paths:
                msg = ('No {subsystem} debug log under {log_dir}: nothing '
                       'to read.')
            elif level == constants.SUCCESS:
                msg = ('No "already exists" error and no failed number-range '
                       'request in the {subsystem} debug log since {since}.')
            else:
                fields['findings'] = '; '.join(problems)
                msg = ('The {subsystem} debug log shows, since {since}: '
                       '{findings}. Expected none. Run the named checks: '
                       'they say what is wrong and print the fix.')
            if not complete:
                msg += (' Only the newest part of the window was read within '
                        'the time budget.')
            if unreadable:
                # PKI writes its logs 0660/0770 for its own user
                # (dogtagpki/pki v11.5.4 pki/server/__init__.py makedirs):
                # a file we may not read says nothing about its records.
                level = constants.ERROR
                fields.update(unreadable_files=[p for p, _ in unreadable],
                              error=unreadable[0][1],
                              user=discovery.caller())
                msg = ('Cannot read {unreadable_count} of the {subsystem} '
                       'debug logs as {user} ({error}, e.g. '
                       '{unreadable_first}): expected to read every debug '
                       'log of the window. Run the healthcheck as root. Of '
                       'the rest: ' + msg[0].lower() + msg[1:])
                fields.update(unreadable_count=len(unreadable),
                              unreadable_first=unreadable[0][0])
            # Not the bare subsystem name: key `ca` means "no CA on this host"
            # to every consumer (README, dogtag-clustercheck).
            yield self.result(level, '%s.debug' % name, msg, **fields)


_TITLES = {
    'already_exists': 'records refused as "already exists" (LDAP 68)',
    'range_failures': 'failed number-range requests',
}
