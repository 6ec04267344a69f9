"""One UTC timeline of several hosts' logs, narrowed to the failure, with
the known causes matched and the hosts' clocks cross-checked."""

import json
import math
import os
import re
from datetime import datetime, timedelta, timezone

from ipahealthcheck_dogtag.logs import causes, formats, redact

SCHEMA = 'dogtag-diagnose/1'
FAILED = re.compile(r'The (ipa-\S+) command failed')
STARTED = re.compile(r'(ipa-\S+) was invoked with arguments')
SPAWN_NAME = re.compile(r'pki-(?:ca|kra)-spawn\.(\d{14})\.log')
# Sources needed to judge an install: where each piece of evidence lives.
INSTALL_SOURCES = ('ipa', 'pkispawn')
JULI_CLOSED = 'FileHandler is closed or not yet initialized'
NEARBY = timedelta(hours=14)
SKEW = timedelta(minutes=1)        # the widest zone mistake worth noticing
SHOWN_LEVELS = formats.ERROR_LEVELS | {'WARNING', 'ERR', 'CRITICAL'}
# Offsets are sampled this many seconds apart, then a change is found to
# the second. In tzdata 2025b no zone's offset changes twice within 95
# hours (the closest: Africa/Freetown, 1939), so no change is missed.
OFFSET_GRID = 900


def iso(when):
    return when.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


class Failure:
    """Where the last failed install ended and when it started."""

    def __init__(self, event, command, start):
        self.event = event
        self.command = command
        self.start = start


def find_failure(hosts):
    """The last failed ipa-*-install among the hosts (IPA logs in UTC, the
    surest clock), else the last failed pkispawn, or None."""
    last = {'ipa': None, 'pkispawn': None}
    for host in hosts:
        started = None
        for source, path in host.files():
            if source not in INSTALL_SOURCES:
                continue
            first = None
            for event in host.file_events(source, path):
                first = first or event
                m = STARTED.search(event.text)
                if m:
                    started = event
                command = None
                m = FAILED.search(event.text)
                if m:
                    command = m.group(1)
                elif event.source.endswith('pkispawn') and \
                        event.level in ('ERROR', 'CRITICAL'):
                    command = 'pkispawn'
                kind = 'pkispawn' if command == 'pkispawn' else 'ipa'
                if command and (last[kind] is None or
                                event.when >= last[kind].event.when):
                    begin = first if kind == 'pkispawn' else started
                    last[kind] = Failure(event, command,
                                         begin.when if begin else None)
    return last['ipa'] or last['pkispawn']


def analyse(hosts, since=None, until=None, before=None, after=None,
            everything=False, limit=400):
    """The report (a JSON-safe dict, schema SCHEMA) of several hosts."""
    failure = find_failure(hosts)
    success = _last_success(hosts)
    if failure and success and success[1].when > failure.event.when:
        failure = None              # a later run of the install worked
    before = before if before is not None else timedelta(minutes=30)
    after = after if after is not None else timedelta(minutes=2)
    if failure:
        # A minute's margin: whole-second clocks and a little drift between
        # the hosts must not push the master's first reaction out.
        start = (failure.start or failure.event.when - before) - SKEW
        start = max(min(start, failure.event.when - timedelta(minutes=2)),
                    failure.event.when - timedelta(hours=6))
        end = failure.event.when + after
        anchor = failure.event.when
    else:
        start, end, anchor = None, None, None
    start, end = since or start, until or end
    for host in hosts:          # the year of year-less journal lines
        host.around = anchor or end or since

    window, nearby = [], {h.host: 0 for h in hosts}
    standing = {h.host: [] for h in hosts}
    for host in hosts:
        for event in host.events():
            if _standing(event, host, start, end):
                standing[host.host].append(event)
            if (start and event.when < start) or (end and event.when > end):
                if start and end and \
                        start - NEARBY <= event.when <= end + NEARBY:
                    nearby[host.host] += 1
                continue
            window.append(event)
    if not (start and end) and window:
        # No failure found: a bound not given is that of the last two
        # hours of the logs (or of the two hours before --until).
        end = end or max(e.when for e in window)
        start = start or end - timedelta(hours=2)
        window = [e for e in window if start <= e.when <= end]
    window.sort(key=lambda e: (e.when, e.host))
    anchor = anchor or end

    inside = {id(e) for e in window}
    earlier = sorted((e for events in standing.values() for e in events
                      if id(e) not in inside), key=lambda e: e.when)
    matched = causes.match(earlier + window, anchor)
    evidence = {id(e) for m in matched for _, e in m['hits']}
    zones = {h.host: h.zone for h in hosts}
    shown = [e for e in window if everything or id(e) in evidence or
             e.level in SHOWN_LEVELS or formats.is_error(e) or _marker(e)]
    report = {
        'schema': SCHEMA,
        'window': {'start': iso(start) if start else None,
                   'end': iso(end) if end else None},
        'failure': _failure(failure, zones),
        'hosts': [_host(h, window, nearby, start, end, failure,
                        standing[h.host]) for h in hosts],
        'causes': [_cause(m, zones) for m in matched],
        'verdict': None,
        'nearest_errors': [],
        'success': None,
        'timeline': [_event(e, zones) for e in shown[-limit:]],
        'timeline_truncated': max(0, len(shown) - limit),
        'notes': [],
    }
    if len(hosts) == 1:
        report['notes'].append(
            'only one host\'s logs: the error is often logged on the other '
            'side (the master for a replica install); add its logs')
    if not window:
        report['notes'].append('no log line in the window')
    # A consequence (what the failure left) is never the verdict: with no
    # primary cause the errors nearest the failure speak instead.
    primary = [c for c in report['causes'] if c['primary']]
    if primary:
        report['verdict'] = primary[0]['id']
    else:
        report['nearest_errors'] = _nearest_errors(window, anchor, zones)
    if failure is None:
        report['success'] = _success(success, start, end, zones)
    return report


SUCCEEDED = re.compile(r'The (ipa-\S+) command was successful')


def _last_success(hosts):
    """(command, event) of the last successful ipa-*-install: IPA's last
    line of a run that worked (ipapython/admintool.py, release-4-12-0)."""
    last = None
    for host in hosts:
        for source, path in host.files():
            if source != 'ipa':
                continue
            for event in host.file_events(source, path):
                m = SUCCEEDED.search(event.text)
                if m and (last is None or event.when >= last[1].when):
                    last = (m.group(1), event)
    return last


def _success(success, start, end, zones):
    if success is None or (start and success[1].when < start) or \
            (end and success[1].when > end):
        return None
    command, event = success
    return {'command': command, 'host': event.host, 'utc': iso(event.when),
            'event': _event(event, zones)}


# Said once, long before the failure, and true until fixed: the JDK's
# ErrorManager reports JULI's closed FileHandler once, just after midnight
# (dogtagpki/pki#4907), so it is looked for from the start of the window's
# first local day; 389-DS warns of the parentid matching rule at each start
# (upgrade.c upgrade_check_id_index_matching_rule, 389ds/389-ds-base#7172).
PARENTID_WARNING = re.compile(r'upgrade_check_id_index_matching_rule')


def _standing(event, host, start, end):
    if end and event.when > end:
        return False
    if PARENTID_WARNING.search(event.text):
        return True
    if JULI_CLOSED not in event.text:
        return False
    if start is None:
        return True
    local = start.astimezone(host.zone or timezone.utc)
    return event.when >= local.replace(hour=0, minute=0, second=0,
                                       microsecond=0)


def _marker(event):
    return event.source == 'ipa' and event.level == 'INFO' and \
        bool(re.search(r'\[\d+/\d+\]|Configuring|was invoked', event.text))


def _local(when, zone):
    if zone is None:
        return None
    # ISO 8601 at the precision of 'utc', so both name the same second;
    # a log's own fraction of a second stays in 'printed'.
    return when.astimezone(zone).isoformat(timespec='seconds')


def _event(event, zones):
    # A sosreport is not redacted as our archives are: mask here too, the
    # whole text before it is cut, so no part of a secret survives the cut.
    return {'utc': iso(event.when),
            'local': _local(event.when, zones.get(event.host)),
            'host': event.host, 'source': event.source,
            'level': event.level,
            'text': redact.redact(event.text)[:2000],
            'file': event.file, 'printed': event.local, 'note': event.note}


def _failure(failure, zones):
    if failure is None:
        return None
    return {'command': failure.command, 'host': failure.event.host,
            'utc': iso(failure.event.when),
            'started': iso(failure.start) if failure.start else None,
            'event': _event(failure.event, zones)}


def _cause(entry, zones):
    cause = entry['cause']
    return {'id': cause.id, 'title': cause.title, 'ticket': cause.ticket,
            'url': cause.url, 'primary': cause.primary,
            'hosts': entry['hosts'], 'patterns': entry['patterns'],
            'todo': cause.todo, 'confirmed_by': cause.confirm(),
            'evidence': [_event(e, zones) for _, e in entry['hits'][:12]]}


def _nearest_errors(window, anchor, zones, per_host=5):
    by_host = {}
    for event in window:
        if formats.is_error(event):
            by_host.setdefault(event.host, []).append(event)
    out = []
    for host, events in sorted(by_host.items()):
        events.sort(key=lambda e: abs((e.when - anchor).total_seconds()))
        out.extend(_event(e, zones) for e in sorted(events[:per_host],
                                                    key=lambda e: e.when))
    return out


# The replica asks (pkispawn 10.10+ / Dogtag 10.x on the clone), the master
# answers in its debug log (TokenAuthenticate, UpdateNumberRange,
# SecurityDomainProcessor: dogtagpki/pki base/server/.../csadmin, v10.5.0 to
# v11.5.0). An answer before any question, or after the install had already
# failed, means the answering host's clock or zone is off.
REQUEST = re.compile(r'Getting install token|Requesting \S+ .*range|'
                     r'updateNumberRange start|Logged into security domain')
ANSWER = re.compile(r'TokenAuthenticat|UpdateNumberRange|'
                    r'SecurityDomainProcessor|getInstallToken')
CAUSALITY_SLACK = timedelta(seconds=30)


def _causality(host, window, failure):
    if failure is None or failure.event.host == host.host:
        return []
    asked = [e.when for e in window if e.host == failure.event.host and
             REQUEST.search(e.text)]
    answers = [e for e in window if e.host == host.host and
               e.source.endswith('debug') and ANSWER.search(e.text)]
    if not asked or not answers:
        return []
    first, last = answers[0], answers[-1]
    if first.when < asked[0] - CAUSALITY_SLACK:
        return ['%s answered the replica at %s, %d s before %s first asked '
                '(%s): its clock or zone is behind' % (
                    host.host, iso(first.when),
                    (asked[0] - first.when).total_seconds(),
                    failure.event.host, iso(asked[0]))]
    if last.when > failure.event.when + CAUSALITY_SLACK:
        return ['%s answered the replica at %s, after the install had '
                'failed (%s): its clock or zone is ahead' % (
                    host.host, iso(last.when), iso(failure.event.when))]
    return []


def _host(host, window, nearby, start, end, failure, standing=()):
    mine = [e for e in window if e.host == host.host]
    sources = sorted({e.source for e in mine})
    problems = list(host.problems)
    files = [s for s, _ in host.files()]
    if 'debug' not in files and not _never_started(mine):
        problems.append(_no_debug_log(host))
    if start and end and not mine:
        if nearby[host.host]:
            problems.append(
                'no event in the failure window, %d within %d hours of it: '
                'the host logged nothing then, or its clock or zone is off '
                '(then its lines sit a whole number of hours away)'
                % (nearby[host.host], NEARBY.seconds // 3600
                   + NEARBY.days * 24))
        else:
            problems.append('no event near the failure: its evidence is '
                            'missing (collect its logs for this window)')
    if any(JULI_CLOSED in e.text for e in mine + list(standing)):
        # dogtagpki/pki#4907 (PKI 11.5): after midnight JULI's FileHandler
        # is closed and the records go to stderr, i.e. the journal.
        problems.append('the Dogtag debug log stopped (dogtagpki/pki#4907): '
                        'its records are in the journal of pki-tomcatd')
    problems.extend(_clock_checks(host, mine))
    problems.extend(_causality(host, window, failure))
    return {'host': host.host, 'input': host.label, 'origin': host.origin,
            'zone': host.zone_name,
            'utc_offsets': _offsets(host.zone, start, end),
            'sources': sources, 'events_in_window': len(mine),
            'problems': problems}


# pkispawn starts the server after the range requests ("Starting server",
# configuration.py v10.10.0; "Starting PKI server", v11.5.0): without it the
# CA never ran in the window and wrote no debug log.
SERVER_STARTING = re.compile(r'Starting (PKI )?server')


def _never_started(events):
    spawned = [e for e in events if e.source.endswith('pkispawn')]
    return bool(spawned) and not any(SERVER_STARTING.search(e.text)
                                     for e in spawned)


def _no_debug_log(host):
    """Why a host has no Dogtag debug log, by the kind of input."""
    if host.origin == 'archive':
        return ('no Dogtag debug log in the archive: collect found none '
                'under /var/log/pki/<instance>/ca or kra')
    version = _sos_version(host.root)
    if host.origin == 'sosreport' and _before_41(version):
        return ('no Dogtag debug log (sos before 4.1 collects only ca/debug, '
                'which PKI 10.6 and later do not write)')
    return ('no Dogtag debug log%s: its CA may not run here, or the logs '
            'under /var/log/pki/<instance>/ca were not collected'
            % (' in the sosreport (sos %s)' % version if version else ''))


def _before_41(version):
    numbers = re.match(r'(\d+)\.(\d+)', version or '')
    return numbers is None or tuple(map(int, numbers.groups())) < (4, 1)


def _sos_version(root):
    """sos 4.0 and later record their version in sos_reports/manifest.json
    (sosreport/sos sos/component.py, field 'version'); older ones none."""
    try:
        with open(os.path.join(root, 'sos_reports', 'manifest.json')) as f:
            version = json.load(f).get('version')
    except (OSError, ValueError, AttributeError):
        return None
    return str(version) if version else None


def _offsets(zone, start, end):
    """The UTC offsets in force over the window, each change at the second
    the zone data puts it."""
    if zone is None or start is None or end is None:
        return []
    # TZif transitions fall on whole seconds (RFC 8536 section 3.2), so
    # whole seconds since the epoch lose no change.
    lo, stop = math.floor(start.timestamp()), math.floor(end.timestamp())
    out = [{'from': iso(start), 'offset': _offset_at(zone, lo)}]
    while lo < stop:
        hi = min(lo + OFFSET_GRID, stop)
        if _offset_at(zone, hi) != _offset_at(zone, lo):
            hi = _first_change(zone, lo, hi)
            out.append({'from': iso(datetime.fromtimestamp(hi, timezone.utc)),
                        'offset': _offset_at(zone, hi)})
        lo = hi
    return out


def _offset_at(zone, seconds):
    return datetime.fromtimestamp(seconds, zone).strftime('%z')


def _first_change(zone, lo, hi):
    """The first second in (lo, hi] whose offset is not lo's."""
    before = _offset_at(zone, lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_at(zone, mid) == before:
            lo = mid
        else:
            hi = mid
    return hi


def _clock_checks(host, events):
    """Compare the zone we use with offsets the host printed itself."""
    problems = []
    if host.zone is None:
        return problems
    for event in events:
        if event.source.startswith('ds-') and event.local:
            printed = datetime.fromisoformat(event.local) - \
                event.when.replace(tzinfo=None)
            expected = event.when.astimezone(host.zone).utcoffset()
            if printed != expected:
                problems.append(
                    '389-DS printed UTC%s at %s but the zone %s gives UTC%s:'
                    ' the local-time logs may be placed wrongly'
                    % (_fmt(printed), iso(event.when), host.zone_name,
                       _fmt(expected)))
                break
    for event in events:
        m = SPAWN_NAME.search(event.text) if event.source == 'ipa' else None
        if m:
            named = datetime.strptime(m.group(1), '%Y%m%d%H%M%S')
            seen = named - event.when.replace(tzinfo=None)
            seen = timedelta(minutes=15 * round(seen.total_seconds() / 900))
            expected = event.when.astimezone(host.zone).utcoffset()
            if seen != expected:
                problems.append(
                    'the pkispawn log named at %s local time was started at '
                    '%s: UTC%s, but the zone %s gives UTC%s'
                    % (m.group(1), iso(event.when), _fmt(seen),
                       host.zone_name, _fmt(expected)))
            break
    return problems


def _fmt(delta):
    minutes = int(delta.total_seconds() // 60)
    sign = '-' if minutes < 0 else '+'
    return '%s%02d%02d' % (sign, abs(minutes) // 60, abs(minutes) % 60)
