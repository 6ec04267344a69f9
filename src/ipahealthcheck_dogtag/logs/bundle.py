"""One host's logs, from our archive, a sosreport (directory or tarball) or
the live host (a root directory, `/` in production).

All three have the same layout below their root: the host's own paths
without the leading `/` (sos copies files that way: sosreport/sos
sos/report/plugins/{ipa,ds,logs}.py). Our archive adds manifest.json (host,
zone, window) and journal/<unit>.json.

Where the logs are, from upstream:
- IPA: /var/log/ipareplica-install.log, ipareplica-ca-install.log,
  ipaserver-kra-install.log, ipaserver-install.log, ipareplica-conncheck.log
  (freeipa ipaplatform/base/paths.py, release-4-12-0).
- pkispawn: /var/log/pki/pki-<subsystem>-spawn.<YYYYmmddHHMMSS>.log.
- Dogtag debug: /var/log/pki/<instance>/<subsystem>/debug (PKI <= 10.5,
  `debug.filename` in CS.cfg) or debug.<YYYY-MM-DD>.log (PKI >= 10.6, JULI
  FileHandler prefix `debug.`, logging.properties). <instance>/logs is a
  link to /var/log/pki/<instance>.
- 389-DS: /var/log/dirsrv/slapd-<INSTANCE>/{errors,access}, rotated as
  <name>.<YYYYmmdd-HHMMSS>.
- syslog: /var/log/messages* (sos's logs plugin copies it from 3.5 on; on
  RHEL 7 it holds pki-tomcatd's console output).
- The journal as sos saves it, `short` text in sos_commands/logs/. sos
  names a command's output by its command line (Plugin._mangle_command:
  runs of other characters than word, '-', '.' and '/' become '_'), and
  Plugin.add_journal builds `journalctl --no-pager [--catalog] [--all]
  [--boot [-1]] [--since '<date>'] [--output <mode>]`. The calls, from
  sosreport/sos sos/plugins/logs.py (3.5-3.9) and
  sos/report/plugins/logs.py (4.0-4.12.0):
    3.5      journalctl_--no-pager_--boot (this boot); without a messages
             file, journalctl_--no-pager_--since_-3days
    3.6-3.8  journalctl_--no-pager_--catalog_--boot, ..._--boot_-1
    3.9      journalctl_--no-pager (whole journal), the two above
    4.0-4.3  the same three
    4.4+     journalctl_--no-pager, ..._--boot, ..._--boot_-1
  `sos report --since 20241212` appends _--since_2024-12-12_00_00_00 to
  each (4.0+; 3.9 to the whole journal only). --all-logs adds
  `--output verbose` copies (3.5-3.8), another format: not read. A journal
  over the size limit is moved to sos_strings/logs/<name>.tailed and
  linked from its sos_commands name (4.2+).
"""

import glob
import gzip
import json
import os
import re
import shutil
import tarfile
import tempfile
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ipahealthcheck_dogtag.logs import formats

MANIFEST = 'manifest.json'
IPA_LOGS = ('ipareplica-install.log', 'ipareplica-ca-install.log',
            'ipaserver-kra-install.log', 'ipaserver-install.log',
            'ipareplica-conncheck.log', 'ipaserver-ca-install.log')
# (source, glob below the root). Rotated and compressed copies included.
LOG_GLOBS = [('ipa', 'var/log/%s' % name) for name in IPA_LOGS] + [
    ('pkispawn', 'var/log/pki/pki-*-spawn.*.log*'),
    ('debug', 'var/log/pki/*/ca/debug*'),
    ('debug', 'var/log/pki/*/kra/debug*'),
    ('ds-errors', 'var/log/dirsrv/slapd-*/errors*'),
    ('ds-access', 'var/log/dirsrv/slapd-*/access*'),
    ('journal', 'journal/*.json'),
    # sos: every journal it saved (module docstring); a line in several
    # of them (or also in messages) is kept once, see HostLogs.events.
    ('journal-text', 'sos_commands/logs/journalctl_--no-pager*'),
    ('messages', 'var/log/messages*'),
]
# Sources whose lines can be read twice: sos's journal copies, rsyslog's
# copy in messages, the journal JSON of our archive (collected with
# messages from a RHEL 7 host).
REPEATED_SOURCES = ('journal', 'journal-text', 'messages')
YEARLESS_SOURCES = ('journal-text', 'messages')


def find_logs(root):
    """[(source, path)] of every log below root, oldest rotation first."""
    found = []
    inside = os.path.join(os.path.realpath(root), '')
    for source, pattern in LOG_GLOBS:
        paths = [p for p in glob.glob(os.path.join(root, pattern))
                 if os.path.isfile(p) and _is_log(p) and
                 os.path.realpath(p).startswith(inside)]
        found.extend((source, p) for p in sorted(paths, key=_age_key))
    return found


def _is_log(path):
    name = os.path.basename(path)
    return not name.endswith('.rotationinfo') and '_--output_' not in name


def _age_key(path):
    # 'errors' is newest; 'errors.20240101-120000' older; dates sort.
    base = os.path.basename(path)
    stamp = re.search(r'\d{4}-?\d\d-?\d\d[-T]?\d*', base)
    return (os.path.dirname(path), 1 if stamp is None else 0,
            stamp.group(0) if stamp else '', base)


def subsystem_of(path):
    """'ca', 'kra' or None: the Dogtag subsystem a log belongs to."""
    name = os.path.basename(path)
    m = re.match(r'pki-(\w+)-spawn', name)
    if m:
        return m.group(1)
    parent = os.path.basename(os.path.dirname(path))
    return parent if parent in ('ca', 'kra') else None


def open_text(path):
    if path.endswith('.gz'):
        return gzip.open(path, 'rt', encoding='utf-8', errors='replace')
    return open(path, encoding='utf-8', errors='replace')


def read_lines(path):
    with open_text(path) as f:
        for line in f:
            yield line.rstrip('\n').rstrip('\r')


def zone_named(name):
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_of_tree(root):
    """The zone name of a host tree: etc/localtime's link target, else
    timedatectl's 'Time zone:' line (sos), else etc/timezone."""
    link = os.path.join(root, 'etc', 'localtime')
    if os.path.islink(link):
        target = os.readlink(link)
        m = re.search(r'zoneinfo/(.+)$', target)
        if m and zone_named(m.group(1)):
            return m.group(1)
    for name in ('sos_commands/systemd/timedatectl',
                 'sos_commands/date/timedatectl', 'etc/timezone'):
        try:
            with open(os.path.join(root, name)) as f:
                text = f.read()
        except OSError:
            continue
        m = re.search(r'Time zone:\s*(\S+)', text) or \
            re.match(r'\s*([A-Za-z_]+/[A-Za-z_/+-]+|UTC)\s*$', text)
        if m and zone_named(m.group(1)):
            return m.group(1)
    return None


def host_of_tree(root):
    for name in ('sos_commands/host/hostname_-f', 'hostname', 'etc/hostname'):
        try:
            with open(os.path.join(root, name)) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text:
            return text.split()[0]
    return None


class HostLogs:
    """Where one host's logs are, its name and its zone."""

    def __init__(self, root, host, zone, origin, label, manifest=None):
        self.root = root
        self.host = host
        self.zone_name = zone
        self.zone = zone_named(zone)
        self.origin = origin        # 'archive', 'sosreport' or 'host'
        self.label = label
        self.manifest = manifest or {}
        self.problems = []          # what is missing, as sentences
        self.around = None          # when the failure was: years for sos

    def files(self):
        return find_logs(self.root)

    def events(self):
        """Every event of every log of this host, file by file; a line
        already read from another journal copy is skipped."""
        first_file = {}             # hash of a repeatable line -> its file
        for source, path in self.files():
            for event in self.file_events(source, path):
                if source in REPEATED_SOURCES:
                    key = hash(_same_line(event))
                    if first_file.setdefault(key, path) != path:
                        continue
                yield event

    def file_events(self, source, path):
        try:
            head = []
            with open_text(path) as f:
                for line in f:
                    head.append(line.rstrip('\n'))
                    if len(head) >= 50:
                        break
            fmt = formats.sniff(source, head)
            if source in YEARLESS_SOURCES:
                fmt = type(fmt).around(
                    self.around or datetime.now(timezone.utc))
            rel = os.path.relpath(path, self.root)
            name = source
            sub = subsystem_of(path)
            if source in ('debug', 'pkispawn') and sub:
                name = '%s-%s' % (sub, source)
            if source == 'journal':
                name = 'journal:' + os.path.basename(path)[:-5]
            if source == 'journal-text':
                name = 'journal'
            yield from formats.parse_lines(read_lines(path), fmt, self.zone,
                                           self.host, rel, name)
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            self.problems.append('cannot read %s: %s' % (path, e))


def _same_line(event):
    """What a line read twice has in common: its second and its message
    (the JSON journal has no `ident[pid]: ` before it, and rsyslog may
    print no pid where journalctl does)."""
    text = event.text
    if event.local is not None:         # a text line, not JSON
        text = re.sub(r'^[^\[:\s]+(\[\d+\])?: ', '', text)
    return event.when.replace(microsecond=0), text


def from_tree(root, origin, label=None):
    manifest = {}
    try:
        with open(os.path.join(root, MANIFEST)) as f:
            manifest = json.load(f)
        origin = 'archive'
    except (OSError, ValueError):
        pass
    host = manifest.get('fqdn') or host_of_tree(root) or \
        os.path.basename(os.path.normpath(root))
    zone = manifest.get('zone') or zone_of_tree(root)
    logs = HostLogs(root, host, zone, origin, label or root, manifest)
    if zone is None:
        logs.problems.append('no time zone found (etc/localtime, '
                             'timedatectl): local-time logs read as UTC')
    return logs


class Inputs:
    """The HostLogs of several inputs; extracts tarballs to a temporary
    directory removed by close()."""

    def __init__(self):
        self.hosts = []
        self._temp = []

    def add(self, path):
        if os.path.isdir(path):
            self.hosts.append(from_tree(path, 'sosreport'))
        elif tarfile.is_tarfile(path):
            temp = tempfile.mkdtemp(prefix='dogtag-diagnose-')
            self._temp.append(temp)
            _extract(path, temp)
            entries = os.listdir(temp)
            root = os.path.join(temp, entries[0]) if len(entries) == 1 and \
                os.path.isdir(os.path.join(temp, entries[0])) else temp
            self.hosts.append(from_tree(root, 'sosreport', label=path))
        else:
            raise ValueError('%s is neither a directory nor a tar archive'
                             % path)

    def close(self):
        for temp in self._temp:
            shutil.rmtree(temp, ignore_errors=True)


def _extract(path, dest):
    """Regular files, directories and relative symlinks only, inside dest."""
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            name = os.path.normpath(member.name)
            if name.startswith(('/', '..')) or not (
                    member.isfile() or member.isdir() or member.issym()):
                continue
            target = os.path.join(dest, name)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
            elif member.issym():
                # etc/localtime: only its link text is read. Other links
                # (sos's tailed logs) must stay inside the tree.
                resolved = os.path.normpath(os.path.join(
                    os.path.dirname(target), member.linkname))
                if not name.endswith('etc/localtime') and \
                        not resolved.startswith(dest + os.sep):
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                if not os.path.lexists(target):
                    os.symlink(member.linkname, target)
            else:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with tar.extractfile(member) as src, open(target, 'wb') as out:
                    shutil.copyfileobj(src, out)
