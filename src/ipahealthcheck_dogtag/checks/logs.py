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

from ipahealthcheck_dogtag import discovery, findings
from ipahealthcheck_dogtag.checks.plugin import DogtagCheck, registry
from ipahealthcheck_dogtag.findings import logs as F
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
# What finds each log finding of the catalog (findings/logs.py
# LOG_FINDINGS, which says what it means).
PATTERNS = {'already_exists': ALREADY_EXISTS, 'range_failures': RANGE_FAILED}
assert set(PATTERNS) == {row[0] for row in F.LOG_FINDINGS} == \
    set(F.LOG_FINDING_NAMES)
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
                for name, regex in PATTERNS.items():
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
            facts = {'subsystem': name, 'hours': hours,
                     'log_dir': os.path.join(database.instance_dir, 'logs',
                                             name),
                     'log_files': len(paths), 'window_complete': complete,
                     'since': iso(start)}
            for finding in PATTERNS:
                facts.update(counted(finding, found.get(finding)))
            seen = [row for row in F.LOG_FINDINGS if row[0] in found]
            if seen:
                facts['findings'] = summary(seen, found)
            # Not the bare subsystem name: key `ca` means "no CA on this
            # host" to every consumer (README, dogtag-clustercheck).
            key = '%s.debug' % name
            if unreadable:
                # PKI writes its logs 0660/0770 for its own user
                # (dogtagpki/pki v11.5.4 pki/server/__init__.py makedirs):
                # a file we may not read says nothing about its records.
                facts.update(unreadable_files=[p for p, _ in unreadable],
                             unreadable_count=len(unreadable),
                             unreadable_first=unreadable[0][0],
                             error=unreadable[0][1], user=discovery.caller())
            if unreadable and not (seen and findings.is_silenced(
                    self.context.silenced, F.LOG_UNREADABLE.code, key)):
                yield self.finding(F.LOG_UNREADABLE, key, **facts)
            elif seen:
                yield self.finding(self.reported(seen, key), key, **facts)
            elif not paths:
                yield self.finding(F.LOG_NONE, key, **facts)
            else:
                yield self.finding(F.LOG_CLEAN if complete
                                   else F.LOG_CLEAN_PARTIAL, key, **facts)

    def reported(self, seen, key):
        """The most severe log finding found, unless dogtag_exclude
        silences it and another was found too: silencing one never hides
        another."""
        for _, finding, _, _, _ in seen:
            if not findings.is_silenced(self.context.silenced, finding.code,
                                        key):
                return finding
        return seen[0][1]


def counted(finding, entry):
    """The fields of one log finding: its count, first and last time, and
    an example."""
    count, first, last, example = entry or [0, None, None, None]
    return {
        finding: count,
        finding + '_first': iso(first) if first else None,
        finding + '_last': iso(last) if last else None,
        # Log text leaving the host: masked first, then cut, so no part of
        # a secret survives the cut.
        finding + '_example':
            redact.redact(example)[:500] if example else None,
    }


def summary(seen, found):
    """The `findings` field: each log finding found, with its count, time
    span and the check that explains it."""
    return '; '.join(
        '%s (%d, %s .. %s UTC; explained by %s in %s)' % (
            words, found[name][0], iso(found[name][1]), iso(found[name][2]),
            check, source)
        for name, _, check, source, words in seen)
