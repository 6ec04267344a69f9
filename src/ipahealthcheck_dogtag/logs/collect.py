"""`dogtag-diagnose collect`: this host's logs of one window, redacted, in
one tar.gz with a manifest.

Read-only: the logs are read and only the archive is written. Bounded: a
file last modified before the window is not opened, only the window's
records are kept, and at most `max_file_bytes` of each file (its end).
"""

import collections
import glob
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
from datetime import datetime, timedelta, timezone

from ipahealthcheck_dogtag import __version__, discovery
from ipahealthcheck_dogtag.logs import bundle, formats, redact, timeline

MANIFEST_SCHEMA = 'dogtag-diagnose-archive/1'
DEFAULT_HOURS = 24
JOURNAL_FIELDS = ('__REALTIME_TIMESTAMP', '_HOSTNAME', '_SYSTEMD_UNIT',
                  'SYSLOG_IDENTIFIER', '_PID', 'PRIORITY', 'MESSAGE')


class CollectError(Exception):
    pass


class NothingToCollect(CollectError):
    """No log of the window: no archive is left behind."""


def default_window(host, now=None):
    """Around the last failed install in this host's logs, else the last
    DEFAULT_HOURS hours."""
    failure = timeline.find_failure([host])
    if failure:
        start = failure.start or failure.event.when - timedelta(hours=1)
        return (min(start, failure.event.when - timedelta(minutes=10))
                - timedelta(minutes=10),
                failure.event.when + timedelta(minutes=30))
    now = now or datetime.now(timezone.utc)
    return now - timedelta(hours=DEFAULT_HOURS), now


def collect(root='/', since=None, until=None, output=None,
            instance='pki-tomcat', max_file_bytes=8 << 20, journalctl=None):
    """Write the archive; return (its path, the manifest)."""
    try:
        os.listdir(root)
    except OSError as e:
        raise CollectError('cannot read --root %s: %s. Expected the root '
                           'directory of this host\'s files (default /); '
                           'give an existing directory.'
                           % (root, e.strerror or e))
    host = bundle.from_tree(root, 'host')
    host.problems.extend(_unreadable_log_dirs(root))
    if root == '/' or not bundle.host_of_tree(root):
        host.host = socket.getfqdn() if root == '/' else host.host
    if since is None or until is None:
        start, end = default_window(host)
        since, until = since or start, until or end
    if since >= until:
        raise CollectError('the window is empty: --since %s is not before '
                           '--until %s' % (since, until))
    stamp = datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')
    top = 'dogtag-diagnose-%s-%s' % (host.host, stamp)
    output = output or top + '.tar.gz'
    redactor = redact.Redactor()
    manifest = {
        'schema': MANIFEST_SCHEMA, 'version': __version__,
        'fqdn': host.host, 'zone': host.zone_name,
        'created': timeline.iso(datetime.now(timezone.utc)),
        'window': {'start': timeline.iso(since), 'end': timeline.iso(until)},
        'utc_offsets': timeline._offsets(host.zone, since, until),
        'files': [], 'skipped': [], 'journal': [], 'problems': host.problems,
    }
    if journalctl is None and root == '/':
        journalctl = shutil.which('journalctl')
    try:
        with tarfile.open(output, 'w:gz') as tar:
            for source, path in host.files():
                if source == 'journal':
                    continue
                _add_log(tar, top, host, source, path, since, until,
                         max_file_bytes, redactor, manifest)
            for unit in _units(root, instance):
                _add_journal(tar, top, journalctl, unit, since, until,
                             max_file_bytes, redactor, manifest, root)
            manifest['redactions'] = redactor.counts
            _add_bytes(tar, top + '/' + bundle.MANIFEST,
                       json.dumps(manifest, indent=2).encode())
    except OSError as e:
        raise CollectError('cannot write %s: %s' % (output, e))
    if not manifest['files'] and \
            not any(j['entries'] for j in manifest['journal']):
        os.unlink(output)
        raise NothingToCollect(nothing_collected(root, manifest))
    return output, manifest


def nothing_collected(root, manifest):
    """What was looked for, what was found instead, and what to do."""
    seen = ['%s (%s)' % (s['path'], s['reason'])
            for s in manifest['skipped']] or ['no log file']
    seen += ['journal of %s (%s)' % (j['unit'], j.get('skipped') or
                                     'no entry')
             for j in manifest['journal']]
    return ('nothing to collect, no archive written: expected a log of the '
            'window %s .. %s under %s (IPA install logs in var/log, '
            'pkispawn and debug logs in var/log/pki, 389-DS logs in '
            'var/log/dirsrv, the journal), found %s%s. Give the window of '
            'the failed install with --since/--until, the right --root, '
            'and run as root.' % (
                manifest['window']['start'], manifest['window']['end'], root,
                '; '.join(seen),
                ''.join('; ' + p for p in manifest['problems'])))


# The directories of the logs find_logs() looks for. PKI and 389-DS make
# theirs readable only by root and their own user (PKI: mode 0770, see
# discovery.no_access), and a glob skips what it may not read: say so.
LOG_DIRS = ('var/log', 'var/log/pki', 'var/log/pki/*', 'var/log/pki/*/ca',
            'var/log/pki/*/kra', 'var/log/dirsrv', 'var/log/dirsrv/slapd-*')


def _unreadable_log_dirs(root):
    found = []
    for pattern in LOG_DIRS:
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            if os.path.isdir(path) and \
                    not os.access(path, os.R_OK | os.X_OK):
                found.append('cannot read %s: permission denied for %s'
                             % (path, discovery.caller()))
    return found


def _add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _add_log(tar, top, host, source, path, since, until, cap, redactor,
             manifest):
    rel = os.path.relpath(path, host.root)
    try:
        if os.path.getmtime(path) < since.timestamp():
            manifest['skipped'].append({'path': rel, 'reason': 'older than '
                                        'the window'})
            return
        kept, size, lines, dropped = _window_lines(host, source, path,
                                                   since, until, cap)
    except (OSError, EOFError) as e:
        manifest['skipped'].append({'path': rel, 'reason': str(e)})
        return
    if not kept:
        manifest['skipped'].append({'path': rel, 'reason': 'nothing in the '
                                    'window'})
        return
    name = rel[:-3] if rel.endswith('.gz') else rel
    data = '\n'.join(redactor(line) for line in kept).encode() + b'\n'
    _add_bytes(tar, '%s/%s' % (top, name), data)
    manifest['files'].append({'path': name, 'source': source,
                              'original': rel, 'bytes': len(data),
                              'lines': len(kept),
                              'truncated_lines': dropped})


def _window_lines(host, source, path, since, until, cap):
    """The raw lines of the records inside the window (the last `cap`
    bytes of them); continuation lines follow their record."""
    head = []
    with bundle.open_text(path) as f:
        for line in f:
            head.append(line.rstrip('\n'))
            if len(head) >= 50:
                break
    fmt = formats.sniff(source, head)
    clock = formats.LocalClock(host.zone)
    kept = collections.deque()
    size = dropped = 0
    inside = False
    for line in bundle.read_lines(path):
        m = fmt.header.match(line) if fmt else None
        if m:
            try:
                when = fmt.parse(m)[0]
            except (ValueError, KeyError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when, _ = clock.to_utc(when)
                    clock.last = when
                inside = since <= when <= until
        if not inside:
            continue
        kept.append(line)
        size += len(line) + 1
        while size > cap and kept:
            size -= len(kept.popleft()) + 1
            dropped += 1
    return list(kept), size, len(kept), dropped


def _units(root, instance):
    """pki-tomcatd@<instance> and each 389-DS instance's unit."""
    units = ['pki-tomcatd@%s.service' % instance]
    for conf in ('etc/dirsrv', 'var/log/dirsrv'):
        try:
            names = sorted(os.listdir(os.path.join(root, conf)))
        except OSError:
            continue
        for name in names:
            if name.startswith('slapd-') and not name.endswith('.removed'):
                unit = 'dirsrv@%s.service' % name[len('slapd-'):]
                if unit not in units:
                    units.append(unit)
    return units


def _add_journal(tar, top, journalctl, unit, since, until, cap, redactor,
                 manifest, root='/'):
    if not journalctl:
        # journalctl reads this host's journal: not that of another --root.
        manifest['journal'].append({'unit': unit, 'entries': 0,
                                    'skipped': 'journalctl not available'
                                    if root == '/' else 'the journal is '
                                    'read only for the root /'})
        return
    fmt = '%Y-%m-%d %H:%M:%S UTC'
    command = [journalctl, '-o', 'json', '--no-pager', '--utc', '-u', unit,
               '--since', since.astimezone(timezone.utc).strftime(fmt),
               '--until', until.astimezone(timezone.utc).strftime(fmt)]
    kept = collections.deque()
    size = dropped = 0
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True,
                                errors='replace')
    except OSError as e:
        manifest['journal'].append({'unit': unit, 'entries': 0,
                                    'skipped': str(e)})
        return
    with proc:
        for line in proc.stdout:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            entry = {k: entry[k] for k in JOURNAL_FIELDS if k in entry}
            entry['MESSAGE'] = redactor(formats.journal_message(
                entry.get('MESSAGE')))
            text = json.dumps(entry)
            kept.append(text)
            size += len(text) + 1
            while size > cap and kept:
                size -= len(kept.popleft()) + 1
                dropped += 1
    manifest['journal'].append({'unit': unit, 'entries': len(kept),
                                'truncated_entries': dropped,
                                'exit_status': proc.returncode})
    if kept:
        _add_bytes(tar, '%s/journal/%s.json' % (top, unit),
                   ('\n'.join(kept) + '\n').encode())
