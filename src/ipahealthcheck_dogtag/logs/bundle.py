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
    3.5      journalctl_--no-pager_--boot (this boot)
    3.5-3.8  without a messages file (RedHatLogs),
             journalctl_--no-pager_--since_-3days
    3.6-3.8  journalctl_--no-pager_--catalog_--boot, ..._--boot_-1
    3.9      journalctl_--no-pager (whole journal), the two above
    4.0-4.3  the same three
    4.4+     journalctl_--no-pager, ..._--boot, ..._--boot_-1
  `sos report --since 20241212` appends _--since_2024-12-12_00_00_00 to
  each (4.0+; 3.9 to the whole journal only). `--output verbose` copies
  (3.5 always, 3.6-3.8 with --all-logs) are another format: not read. A
  journal over the size limit is moved to sos_strings/logs/<name>.tailed and
  linked from its sos_commands name (4.2+).
"""

import glob
import gzip
import json
import lzma
import os
import re
import shutil
import tarfile
import tempfile
import zlib
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
# Files read only for the host's name and zone.
IDENTITY_FILES = ('etc/localtime', 'etc/timezone', 'etc/hostname',
                  'hostname', 'sos_commands/host/hostname_-f',
                  'sos_commands/systemd/timedatectl',
                  'sos_commands/date/timedatectl', MANIFEST)
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
    """The HostLogs of several inputs; extracts from tarballs the members
    we read to a temporary directory removed by close()."""

    def __init__(self):
        self.hosts = []
        self._temp = []

    def add(self, path):
        if os.path.isdir(path):
            self.hosts.append(from_tree(path, 'sosreport'))
        elif os.path.isfile(path) and _is_tar(path):
            temp = tempfile.mkdtemp(prefix='dogtag-diagnose-')
            self._temp.append(temp)
            try:
                problems = _extract(path, temp)
            except (tarfile.TarError, EOFError, zlib.error,
                    lzma.LZMAError) as e:
                raise ValueError('%s: not a readable tar archive (%s)'
                                 % (path, e)) from None
            entries = os.listdir(temp)
            root = os.path.join(temp, entries[0]) if len(entries) == 1 and \
                os.path.isdir(os.path.join(temp, entries[0])) else temp
            host = from_tree(root, 'sosreport', label=path)
            host.problems.extend(problems)
            self.hosts.append(host)
        else:
            raise ValueError('%s is neither a directory nor a tar archive'
                             % path)

    def close(self):
        for temp in self._temp:
            shutil.rmtree(temp, ignore_errors=True)


def _is_tar(path):
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, zlib.error, lzma.LZMAError):
        return False


# What one tarball may write: sos keeps a log under 25 MiB and the journal
# under 100 MiB unless --all-logs; a member over the bound is not read.
MEMBER_BOUND = 1 << 30
TOTAL_BOUND = 4 << 30


def _glob_regex(pattern):
    # as glob: '*' does not cross a '/'
    return '[^/]*'.join(re.escape(part) for part in pattern.split('*'))


# The paths we read, below the archive's top directory if it has one.
WANTED = re.compile(r'(?:[^/]+/)?(?:%s)' % '|'.join(
    _glob_regex(pattern) for pattern in
    [g for _, g in LOG_GLOBS] + list(IDENTITY_FILES)))


def _members_to_read(members):
    """The members whose path we read, with the files their links name
    (sos leaves a link where a tailed log was: sos_strings/.../*.tailed)."""
    by_name = {os.path.normpath(m.name): m for m in members}
    chosen = {name: m for name, m in by_name.items()
              if WANTED.fullmatch(name)}
    for _ in range(3):                  # links to links, a few deep
        targets = {}
        for name, member in chosen.items():
            if member.issym():
                target = os.path.normpath(os.path.join(
                    os.path.dirname(name), member.linkname))
                if target in by_name and target not in chosen:
                    targets[target] = by_name[target]
        chosen.update(targets)
    return sorted(chosen.values(), key=lambda m: m.offset_data)


def _extract(path, dest):
    """Write below dest the members we read, nothing else; [problems]."""
    problems, written = [], 0
    with tarfile.open(path) as tar:
        for member in _members_to_read(tar.getmembers()):
            if member.size > MEMBER_BOUND or \
                    written + member.size > TOTAL_BOUND:
                problems.append('%s: %r (%d MiB) is over what is read from '
                                'a tarball: not read' % (
                                    path, member.name, member.size >> 20))
                continue
            try:
                _extract_member(tar, member, dest)
            except (tarfile.TarError, OSError, ValueError) as e:
                problems.append('%s: %r not read: %s' % (path, member.name,
                                                         e))
                continue
            written += member.size
    return problems


def _extract_member(tar, member, dest):
    """A regular file or a link inside dest; etc/localtime's link text
    (only that is read) whatever it names."""
    name = os.path.normpath(member.name)
    if name.startswith(('/', '..')) or not (member.isfile() or
                                            member.issym()):
        raise ValueError('not a file or link inside the archive')
    target = os.path.join(dest, name)
    if not (member.issym() and name.endswith('etc/localtime')):
        _vet(member, dest, target)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.lexists(target):
        os.unlink(target)               # never write through a link
    if member.issym():
        os.symlink(member.linkname, target)
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                 getattr(os, 'O_NOFOLLOW', 0), 0o600)
    with tar.extractfile(member) as src, os.fdopen(fd, 'wb') as out:
        shutil.copyfileobj(src, out)


def _vet(member, dest, target):
    """tarfile's 'data' filter where Python has it (3.11.4+, 3.12+):
    no absolute or outside links, no special files; else the same test
    for links by hand."""
    if hasattr(tarfile, 'data_filter'):
        tarfile.data_filter(member, dest)
    elif member.issym():
        resolved = os.path.normpath(os.path.join(os.path.dirname(target),
                                                 member.linkname))
        if not resolved.startswith(os.path.join(dest, '')):
            raise ValueError('its link leads out of the archive')
