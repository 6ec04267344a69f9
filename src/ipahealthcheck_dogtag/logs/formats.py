"""One parser per log format, each with the clock its timestamps are in.

Every parsed record becomes an `Event` in UTC. The formats, from upstream:

- Dogtag debug log, PKI >= 10.6 (10.x and 11.x): Tomcat JULI FileHandler with
  `org.dogtagpki.util.logging.PKIFormatter`, pattern
  `%1$tF %1$tT [%2$s] %3$s: %4$s%5$s%n`, i.e. `2024-01-02 13:04:05 [thread]
  LEVEL: message`, stack traces on the following lines; file
  `<instance>/logs/ca/debug.<YYYY-MM-DD>.log`, kept 7 days.
  dogtagpki/pki base/ca/shared/webapps/ca/WEB-INF/classes/logging.properties
  (v10.6.0, v10.10.0, v11.5.0), base/common/src/main/java/org/dogtagpki/util/
  logging/PKIFormatter.java (v11.5.0). JVM local time, no offset.
- Dogtag debug log, PKI <= 10.5: `[dd/MMM/yyyy:HH:mm:ss][thread]: message`,
  one growing file `<instance>/logs/ca/debug`, no level.
  dogtagpki/pki base/server/cmscore/src/com/netscape/cmscore/util/Debug.java
  (v10.5.0). JVM local time, no offset.
- pkispawn, PKI >= 10.8 (and 11.x): `%(asctime)s %(levelname)s: %(message)s`
  with `%Y-%m-%d %H:%M:%S`; PKI <= 10.7: `%(asctime)s %(name)-12s:
  %(levelname)-8s %(indent)s%(message)s`. Python's asctime is local time.
  dogtagpki/pki base/server/python/pki/server/deployment/pkilogging.py
  (v10.5.0, v10.8.0, v11.5.0).
- IPA install logs: `%(asctime)s %(levelname)s %(message)s` with
  `%Y-%m-%dT%H:%M:%SZ` and `converter = time.gmtime`: UTC.
  freeipa/freeipa ipapython/ipa_log_manager.py (release-4-12-0).
- 389-DS errors and access logs: `[dd/Mon/yyyy:HH:MM:SS(.nnnnnnnnn) +zzzz]`,
  local time with its offset; errors lines `- SEV - subsystem - msg` since
  1.3.6. Before 389-ds-base issue 6117 a half-hour zone printed its minutes
  as seconds (-03:30 as -031800).
- journal JSON (`journalctl -o json`): `__REALTIME_TIMESTAMP`, microseconds
  since the epoch; MESSAGE a string, a byte array or null (systemd Journal
  Export Formats).

Lines that do not start a record continue the previous one.
"""

import json
import re
from collections import namedtuple
from datetime import datetime, timedelta, timezone

Event = namedtuple('Event', 'when host source level text file local note')
# when: aware UTC datetime; local: the time as the file printed it (text);
# note: None, 'ambiguous' or 'nonexistent' for local times at a DST change.

MONTHS = {m: i + 1 for i, m in enumerate(
    'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split())}
ERROR_LEVELS = {'SEVERE', 'ERROR', 'CRITICAL', 'EMERG', 'ALERT', 'CRIT',
                'ERR', 'FATAL'}


def _iso(text, fmt=None):
    """YYYY-mm-dd HH:MM:SS (or with a 'T'); slicing is 5x faster than
    strptime, which counts on a large log."""
    return datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]),
                    int(text[11:13]), int(text[14:16]), int(text[17:19]))


def _clf(text):
    """dd/Mon/yyyy:HH:MM:SS (month names are English in every locale here)."""
    day, month, rest = text.split('/', 2)
    year, clock = rest.split(':', 1)
    h, m, s = (int(x) for x in clock.split(':'))
    return datetime(int(year), MONTHS[month], int(day), h, m, s)


class Format:
    """A line format: its header regex and which clock its times are in."""

    name = None
    source = None       # the kind of log: debug, pkispawn, ipa, ds, journal
    clock = 'local'     # 'local', 'utc', 'offset' or 'epoch'
    header = None
    skip = None         # lines that are neither records nor continuations

    def parse(self, match):
        """(naive or aware datetime, level, text) of a header match."""
        raise NotImplementedError


class DogtagDebug11(Format):
    name = 'dogtag-debug-10.6+'
    source = 'debug'
    # The thread name may hold ':' and '-'; the message may hold '] INFO: '.
    header = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \[(.+?)\] '
                        r'(SEVERE|WARNING|INFO|CONFIG|FINE|FINER|FINEST): '
                        r'(.*)')

    def parse(self, m):
        return (_iso(m.group(1)), m.group(3),
                '[%s] %s' % (m.group(2), m.group(4)))


class DogtagDebug10(Format):
    name = 'dogtag-debug-10.5'
    source = 'debug'
    header = re.compile(r'^\[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d)\]\[(.*?)\]: '
                        r'(.*)')

    def parse(self, m):
        text = m.group(3)
        level = 'SEVERE' if re.search(r'Exception|[Ff]ailed|[Ee]rror',
                                      text) else 'DEBUG'
        return _clf(m.group(1)), level, '[%s] %s' % (m.group(2), text)


class Pkispawn(Format):
    name = 'pkispawn-10.8+'
    source = 'pkispawn'
    header = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) '
                        r'(DEBUG|INFO|WARNING|ERROR|CRITICAL): (.*)')

    def parse(self, m):
        return _iso(m.group(1)), m.group(2), m.group(3)


class Pkispawn10(Format):
    name = 'pkispawn-10.7'
    source = 'pkispawn'
    header = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (\S+)\s*: '
                        r'(DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+(.*)')

    def parse(self, m):
        return _iso(m.group(1)), m.group(3), m.group(4)


class IpaInstall(Format):
    name = 'ipa-install'
    source = 'ipa'
    clock = 'utc'
    header = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z '
                        r'(DEBUG|INFO|WARNING|ERROR|CRITICAL) (.*)')

    def parse(self, m):
        when = _iso(m.group(1))
        return when.replace(tzinfo=timezone.utc), m.group(2), m.group(3)


DS_STAMP = (r'^\[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d)(?:\.(\d{9}))? '
            r'([+-])(\d\d)(\d{4}|\d\d)\] ')


def ds_offset(sign, hours, rest):
    """The printed offset; 4 digits after the hours are seconds (DS 6117)."""
    seconds = int(hours) * 3600 + (int(rest) if len(rest) == 4
                                   else int(rest) * 60)
    return timedelta(seconds=-seconds if sign == '-' else seconds)


class DirsrvErrors(Format):
    name = '389-ds-errors'
    source = 'ds-errors'
    clock = 'offset'
    header = re.compile(DS_STAMP + r'(?:- (\w+) - )?(.*)')

    def parse(self, m):
        when = _clf(m.group(1)).replace(
            microsecond=int(m.group(2) or 0) // 1000,
            tzinfo=timezone(ds_offset(*m.group(3, 4, 5))))
        return when, (m.group(6) or 'INFO'), m.group(7)


class DirsrvAccess(DirsrvErrors):
    name = '389-ds-access'
    source = 'ds-access'

    def parse(self, m):
        when, _, text = super().parse(m)
        text = (m.group(6) + ' - ' + text) if m.group(6) else text
        level = 'ERR' if re.search(r'\berr=(?!0\b)\d+', text) else 'INFO'
        return when, level, text


class Journal(Format):
    """One JSON object a line; the unit names the source."""

    name = 'journal-json'
    source = 'journal'
    clock = 'epoch'
    header = re.compile(r'^\{')

    # syslog PRIORITY 0-3 are errors (systemd.journal-fields(7)).
    LEVELS = ['EMERG', 'ALERT', 'CRIT', 'ERR', 'WARNING', 'NOTICE', 'INFO',
              'DEBUG']

    def parse(self, m):
        raise NotImplementedError   # whole lines: see parse_journal_line


def journal_message(value):
    if isinstance(value, list):
        if all(isinstance(v, int) for v in value):
            return bytes(v & 0xff for v in value).decode('utf-8', 'replace')
        return '\n'.join(str(v) for v in value)
    return '' if value is None else str(value)


def parse_journal_line(line):
    """(UTC datetime, level, text, unit) of one JSON line, or None."""
    try:
        entry = json.loads(line)
        micros = int(entry['__REALTIME_TIMESTAMP'])
    except (ValueError, KeyError, TypeError):
        return None
    when = datetime(1970, 1, 1, tzinfo=timezone.utc) + \
        timedelta(microseconds=micros)
    try:
        level = Journal.LEVELS[int(entry.get('PRIORITY', 6))]
    except (ValueError, IndexError):
        level = 'INFO'
    unit = entry.get('_SYSTEMD_UNIT') or entry.get('SYSLOG_IDENTIFIER') or ''
    return when, level, journal_message(entry.get('MESSAGE')), unit


class JournalText(Format):
    """journalctl's default `short` output as sosreport saves it
    (sos_commands/logs/journalctl_--no-pager*, see bundle.py), and
    /var/log/messages in rsyslog's RSYSLOG_TraditionalFileFormat
    (`%TIMESTAMP% %HOSTNAME% %syslogtag%%msg%`, RHEL 7's default): the
    same `Mmm dd HH:MM:SS host ident[pid]: msg` line, local time of the
    host, no year and no zone. The year is the one of the failure judged
    (`year`), or the one before when that would put the line in the future.

    journalctl's own lines start with '-- ' (`-- Logs begin at ...`,
    `-- Reboot --`, and the `--catalog` explanations sos 3.6-4.3 ask for;
    systemd src/shared/logs-show.c print_catalog, which newer systemd
    prefixes with two light-shade glyphs in a UTF-8 locale): skipped, so
    they are not glued to the record before them."""

    name = 'journal-short'
    source = 'journal-text'
    header = re.compile(r'^(\w{3}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d) (\S+) '
                        r'([^\[:\s]+)(\[\d+\])?: (.*)')
    skip = re.compile('^(-- |\u2591\u2591 )')
    year = None

    def parse(self, m):
        year = self.year or datetime.now(timezone.utc).year
        when = datetime(year, MONTHS[m.group(1)], int(m.group(2)),
                        *(int(x) for x in m.group(3, 4, 5)))
        if self.year and when.month == 12 and self.month == 1:
            when = when.replace(year=year - 1)
        text = m.group(9)
        level = 'SEVERE' if re.match(r'(SEVERE|ERROR|CRITICAL)\b', text) \
            else 'INFO'
        return when, level, '%s%s: %s' % (m.group(7), m.group(8) or '', text)

    @classmethod
    def around(cls, when):
        fmt = cls()
        fmt.year, fmt.month = when.year, when.month
        return fmt


class Messages(JournalText):
    """/var/log/messages: the journal-short line shape (see JournalText)."""

    name = 'syslog-traditional'
    source = 'messages'


FORMATS = [DogtagDebug11(), DogtagDebug10(), Pkispawn(), Pkispawn10(),
           IpaInstall(), DirsrvErrors(), DirsrvAccess(), Journal(),
           JournalText(), Messages()]
BY_SOURCE = {}
for _f in FORMATS:
    BY_SOURCE.setdefault(_f.source, []).append(_f)


def sniff(source, lines):
    """The format of `source` whose header matches the first lines."""
    candidates = BY_SOURCE.get(source, [])
    for line in lines:
        for fmt in candidates:
            if fmt.header.match(line):
                return fmt
    return candidates[0] if candidates else None


class LocalClock:
    """A host's local zone (tz database, DST-aware).

    A local time in the repeated hour after DST ends is ambiguous: in a log
    read in order, the reading that keeps time moving forward is taken (the
    first until the log's clock goes back). A time inside the skipped hour
    cannot come from a correct clock: it is read with the offset before the
    change and marked 'nonexistent'.
    """

    def __init__(self, zone):
        self.zone = zone            # a tzinfo (ZoneInfo) or None: UTC
        self.last = None
        self._plain = {}            # local hour -> offset, when unambiguous

    def to_utc(self, naive):
        if self.zone is None:
            return naive.replace(tzinfo=timezone.utc), None
        hour = naive.replace(minute=0, second=0, microsecond=0)
        offset = self._plain.get(hour)
        if offset is not None:
            return (naive - offset).replace(tzinfo=timezone.utc), None
        when, note = self._convert(naive)
        # Zones change offsets on whole quarter hours at most once an hour:
        # an hour whose start and end agree and need no note is cached.
        if note is None and len(self._plain) < 4096:
            end = hour + timedelta(minutes=59, seconds=59)
            if self._convert(hour)[1] is None and \
                    self._convert(end)[1] is None and \
                    hour.replace(tzinfo=self.zone).utcoffset() == \
                    end.replace(tzinfo=self.zone).utcoffset():
                self._plain[hour] = hour.replace(
                    tzinfo=self.zone).utcoffset()
        return when, note

    def _convert(self, naive):
        first = naive.replace(tzinfo=self.zone, fold=0)
        second = naive.replace(tzinfo=self.zone, fold=1)
        utc0 = first.astimezone(timezone.utc)
        utc1 = second.astimezone(timezone.utc)
        if utc0 == utc1:
            return utc0, None
        back = utc0.astimezone(self.zone).replace(tzinfo=None)
        if back != naive:
            return utc0, 'nonexistent'
        # Ambiguous: fold=0 is the earlier instant.
        when = utc0
        if self.last is not None and utc0 < self.last - timedelta(minutes=5) \
                and utc1 >= self.last - timedelta(minutes=5):
            when = utc1
        return when, 'ambiguous'


def parse_lines(lines, fmt, zone, host, file, source=None):
    """Events of a file's lines (an iterable of text lines without '\\n')."""
    clock = LocalClock(zone)
    current = None
    extra = []
    for line in lines:
        if fmt.clock == 'epoch':
            parsed = parse_journal_line(line)
            if parsed:
                when, level, text, unit = parsed
                yield Event(when, host, source or 'journal', level, text,
                            file, None, None)
            continue
        if fmt.skip and fmt.skip.match(line):
            continue
        m = fmt.header.match(line)
        if not m:
            if current is not None and len(extra) < 200:
                extra.append(line)
            continue
        if current is not None:
            yield _finish(current, extra)
        try:
            when, level, text = fmt.parse(m)
        except (ValueError, KeyError):
            current = None
            continue
        local, note = None, None
        if when.tzinfo is None:
            local = when.isoformat(sep=' ')
            when, note = clock.to_utc(when)
            clock.last = max(clock.last, when) if clock.last else when
        else:
            if fmt.clock == 'offset':
                local = when.replace(tzinfo=None).isoformat(sep=' ')
            when = when.astimezone(timezone.utc)
        current = Event(when, host, source or fmt.source, level, text, file,
                        local, note)
        extra = []
    if current is not None:
        yield _finish(current, extra)


def _finish(event, extra):
    if not extra:
        return event
    return event._replace(text=event.text + '\n' + '\n'.join(extra))


def is_error(event):
    return event.level in ERROR_LEVELS or bool(re.search(
        r'\bException\b|Error:|\bfailed\b|err=(?!0\b)\d+', event.text))
