"""`dogtag-clustercheck`: the whole topology's view, from each CA server's
healthcheck JSON.

Ranges live in each server's CS.cfg and VLV indices in each server's
389-DS, so some faults show only side by side: two servers owning the same
numbers, a server whose ranges nobody recorded, and which server has which
finding. Input is a directory of `ipa-healthcheck` (or `dogtag-healthcheck`)
JSON outputs, one file per server, as ipa-clustercheck takes it. Only the
JSON is read; nothing connects anywhere.

ipa-clustercheck itself cannot run a plugin: since ipahealthcheck 0.10 it
stops with an AttributeError before loading any (its option validation
reads options that are not set yet), hence a command of our own.

It needs no ipahealthcheck: it runs on any Python 3 (a monitoring host, a
support laptop), and writes its results itself, in the core's shapes (see
`record` and `render`), whether or not the core is installed.
"""

import argparse
import json
import os
import re
import sys
import uuid
from datetime import datetime, timezone

from ipahealthcheck_dogtag import __version__

SOURCE = 'dogtag.cluster'
SUCCESS, WARNING, ERROR, CRITICAL = 'SUCCESS', 'WARNING', 'ERROR', 'CRITICAL'


def record(level, check, key, msg, **kw):
    """One result as the core writes it in its JSON output.

    ipahealthcheck core 0.11 to 0.19 (core/plugin.py: Result.__init__ and
    Results.output) gives each result, in this order, source, check,
    result (the level's name), uuid (a random UUID), when (UTC as
    %Y%m%d%H%M%SZ), duration (None unless the check was timed) and kw (key
    and msg first, then the other keywords in the order given)."""
    return {'source': SOURCE, 'check': check, 'result': level,
            'uuid': str(uuid.uuid4()),
            'when': datetime.now(timezone.utc).strftime('%Y%m%d%H%M%SZ'),
            'duration': None, 'kw': dict(key=key, msg=msg, **kw)}


def human(data):
    """The core's `human` output (core/output.py, Human.generate, the same
    from 0.11 to 0.19): one line per result, "RESULT: source.check.key:
    message" with the message formatted from kw, or "No issues found."."""
    if not data:
        return 'No issues found.\n'
    return ''.join('%s: %s.%s.%s: %s\n' % (
        r['result'], r['source'], r['check'], r['kw']['key'],
        r['kw']['msg'].format(**r['kw'])) for r in data)


# Results that carry a repository's ranges, keyed by the repository. Other
# results may carry the same range fields under another key (VLVIndexCheck
# reports them per VLV index, keyed by the index name) and must not count
# as one more server owning the range.
RANGE_CHECKS = ('RangeConfigCheck', 'RangeDepletionCheck',
                'CloneTransferCheck', 'NextRangeCheck', 'RangeOverlapCheck',
                'RangeConflictCheck', 'LastNumberCheck')
REPOSITORY_KEYS = ('ca.certificates', 'ca.requests', 'ca.replica_ids',
                   'kra.keys', 'kra.requests', 'kra.replica_ids')
MAX_DIGITS = 100        # Dogtag stores at most 99 digits (two-digit prefix)
HOST = re.compile(r'^[A-Za-z0-9_.:\[\]-]{1,255}$')
CONTROL = re.compile('[\x00-\x1f\x7f-\x9f\u2028\u2029]')


def one_line(value):
    """A value as text that cannot break an output line."""
    text = value if isinstance(value, str) else json.dumps(value)
    return CONTROL.sub(lambda m: '\\x%02x' % ord(m.group()) if
                       ord(m.group()) < 0x100 else
                       '\\u%04x' % ord(m.group()), text)


def shown(value, limit=60):
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= limit else text[:limit] + '...'


class ReportError(ValueError):
    """A report of the wrong shape: which field, and what is wrong."""

    def __init__(self, problem, field=None):
        super().__init__(problem)
        self.field = field


class ServerReport:
    """What one server's file says, reduced to what the cluster view needs."""

    def __init__(self, path):
        self.path = path
        self.name = None
        self.ca = None                  # False: the file says "no CA here"
        self.ranges = {}                # repository key -> [(which, b, e)]
        self.findings = []              # (result, source.check.key)
        self.masters = set()
        self.peers = set()
        self.replica_id = None          # this server's own o=ipaca RID
        self.ruv = {}                   # replica ID -> host, as it sees it


def read_report(path):
    """A ServerReport, or raise ReportError saying what is wrong."""
    try:
        with open(path, encoding='utf-8') as f:
            records = json.load(f)
    except (OSError, UnicodeDecodeError) as e:
        raise ReportError('cannot read it: %s' % e)
    except (ValueError, RecursionError) as e:     # JSONDecodeError, digits
        raise ReportError('not JSON (%s)' % e)
    if not isinstance(records, list) or \
            not all(isinstance(r, dict) for r in records):
        raise ReportError('not a healthcheck JSON output (a list of '
                          'results)')
    report = ServerReport(path)
    for index, record in enumerate(records):
        _take(report, Record(index, record))
    if report.name is None:
        # No MetaCheck and no range result: the file name stands for it.
        report.name = one_line(
            os.path.splitext(os.path.basename(path))[0].lower())
    return report


class Record:
    """One result of a report, read field by field with its shape checked."""

    def __init__(self, index, record):
        self.index = index
        self.record = record
        kw = record.get('kw', {})
        if not isinstance(kw, dict):
            self.bad('kw', kw, 'an object')
        self.kw = kw
        self.source = self.text('source', record)
        self.check = self.text('check', record)
        self.result = self.text('result', record)

    def bad(self, field, value, expected):
        raise ReportError('result %d has %s %s, expected %s' % (
            self.index, field, shown(value), expected),
            field='[%d].%s' % (self.index, field))

    def text(self, name, where=None, host=False):
        """A one-line string field ('' when absent)."""
        where = self.kw if where is None else where
        value = where.get(name)
        if value is None:
            return ''
        label = name if where is self.record else 'kw.' + name
        if not isinstance(value, str) or CONTROL.search(value):
            self.bad(label, value, 'a one-line string')
        if host and not HOST.match(value):
            self.bad(label, value, 'a host name')
        return value

    def number(self, name):
        value = self.kw.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and \
                0 <= value < 10 ** MAX_DIGITS:
            return value
        if isinstance(value, str) and value.isascii() and \
                value.isdigit() and len(value) <= MAX_DIGITS:
            return int(value)
        self.bad('kw.' + name, value, 'a whole number of at most %d '
                 'digits, as a string' % MAX_DIGITS)

    def replica_id(self, value, field):
        if isinstance(value, int) and not isinstance(value, bool) and \
                0 < value < 65536:
            return value
        self.bad(field, value, 'a replica ID (an integer 1..65535)')


def _take(report, record):
    source, check, kw = record.source, record.check, record.kw
    if source == 'ipahealthcheck.meta.core' and kw.get('fqdn'):
        report.name = record.text('fqdn', host=True).lower()
    if source == 'ipahealthcheck.ipa.meta' and 'masters' in kw:
        masters = kw['masters']
        if not isinstance(masters, list):
            record.bad('kw.masters', masters, 'a list of host names')
        for n, master in enumerate(masters):
            if not isinstance(master, str) or not HOST.match(master):
                record.bad('kw.masters[%d]' % n, master, 'a host name')
            report.masters.add(master.lower())
    if not source.startswith('dogtag.'):
        return
    result = record.result
    key = record.text('key')
    if result != 'SUCCESS':
        report.findings.append((result, '%s.%s.%s' % (source, check, key)))
    if key == 'ca':
        report.ca = False
        return
    report.ca = True
    if check == 'AgreementCheck' and result == 'SUCCESS' and kw.get('peer'):
        report.peers.add(record.text('peer', host=True).lower())
    if check == 'RUVCheck' and 'ruv' in kw:
        _take_ruv(report, record)
    if source == 'dogtag.ranges' and kw.get('server') and \
            report.name is None:
        report.name = record.text('server', host=True).lower()
    if source == 'dogtag.ranges' and check in RANGE_CHECKS and \
            key in REPOSITORY_KEYS and 'range_begin' in kw and \
            key not in report.ranges:
        owned = [('active', record.number('range_begin'),
                  record.number('range_end'))]
        if 'standby_begin' in kw:
            owned.append(('standby', record.number('standby_begin'),
                          record.number('standby_end')))
        report.ranges[key] = owned


def _take_ruv(report, record):
    kw = record.kw
    if not isinstance(kw['ruv'], list):
        record.bad('kw.ruv', kw['ruv'], 'a list of [replica ID, host]')
    report.replica_id = record.replica_id(kw.get('local_replica_id'),
                                          'kw.local_replica_id')
    for n, element in enumerate(kw['ruv']):
        field = 'kw.ruv[%d]' % n
        if not isinstance(element, list) or len(element) != 2:
            record.bad(field, element, 'a [replica ID, host] pair')
        rid = record.replica_id(element[0], field + '[0]')
        host = element[1]
        if not isinstance(host, str) or not HOST.match(host):
            record.bad(field + '[1]', host, 'a host name')
        report.ruv[rid] = host.lower()


def analyse(directory):
    """Results of the cluster view of the files in `directory`."""
    results = []

    def add(level, check, key, msg, **kw):
        results.append(record(level, check, key, msg, **kw))

    try:
        names = sorted(n for n in os.listdir(directory)
                       if os.path.isfile(os.path.join(directory, n)))
    except OSError as e:
        add(CRITICAL, 'InputCheck', 'directory', 'Cannot list '
            '{directory}: {error}. Expected a directory holding one '
            'healthcheck JSON file per CA server.',
            directory=one_line(directory), error=one_line(str(e)))
        return results
    reports = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            report = read_report(path)
        except ReportError as e:
            # The other reports are still analysed without this one.
            add(ERROR, 'InputCheck', one_line(name), '{file} is '
                'unusable: {problem}. Expected the JSON output of '
                'ipa-healthcheck (without --failures-only). Write it again, '
                'e.g. ipa-healthcheck --output-file <file> on that server.',
                file=one_line(path), field=e.field,
                problem=one_line(str(e)))
            continue
        reports.append(report)
        if report.ca is None:
            _no_dogtag_results(report, name, add)
    missing, listed = _missing(reports, add)
    _inputs(reports, len(names), missing, listed, directory, add)
    _ownership(reports, add)
    _replica_ids(reports, not missing, add)
    for report in sorted(reports, key=lambda r: r.name):
        _table_row(report, add)
    return results


def _no_dogtag_results(report, name, add):
    """A report without any dogtag.* result tells nothing about its CA:
    not even "no CA here" (every check says that as key `ca`)."""
    add(ERROR, 'InputCheck', one_line(name), '{file} holds no '
        'dogtag.* result, so nothing is known about the CA of {server}. '
        'Expected the full JSON output of ipa-healthcheck with '
        'ipahealthcheck_dogtag installed, or of dogtag-healthcheck. Install '
        'the plugin on that server, or write the report again without '
        '--failures-only, --source or an [excludes] entry for dogtag.',
        file=one_line(report.path), server=report.name)


def _inputs(reports, files, missing, listed, directory, add):
    """How many reports were read, against how many servers are listed:
    an empty directory (a copy that failed) is no all-clear."""
    fields = {'servers': len(reports), 'files': files,
              'unusable': files - len(reports),
              'listed': len(listed) if listed else None,
              'missing': sorted(missing),
              'directory': one_line(directory)}
    if not reports:
        add(ERROR, 'InputCheck', 'inputs', 'No server report in '
            '{directory}: found {files} file(s), {unusable} of them '
            'unusable. Expected one healthcheck JSON file per CA server; a '
            'copy that failed leaves the directory empty. Collect each '
            'server\'s report (ipa-healthcheck --output-file <file>) into '
            'it and run again.', **fields)
    elif missing:
        add(ERROR, 'InputCheck', 'inputs', 'Read {servers} server '
            'report(s) from {directory}, but the reports list {listed} '
            'servers: none from {missing_servers}. Expected one report per '
            'server of IPA\'s server list and per CA replication peer. '
            'Collect the missing reports into the directory and run again.',
            missing_servers=', '.join(sorted(missing)), **fields)
    elif listed:
        add(SUCCESS, 'InputCheck', 'inputs', 'Read {servers} '
            'server report(s) from {directory}: one from each of the '
            '{listed} servers they list.', **fields)
    else:
        add(SUCCESS, 'InputCheck', 'inputs', 'Read {servers} '
            'server report(s) from {directory}. No report lists the '
            'servers (IPA\'s server list comes with ipa-healthcheck\'s '
            'IPAMetaCheck), so a server that sent none cannot be named.',
            **fields)


def _missing(reports, add):
    """Report servers whose ranges are unknown; return the listed servers
    that sent no report, and all servers the reports list."""
    seen = {r.name for r in reports}
    expected = set()
    for report in reports:
        expected |= report.masters | report.peers
    for server in sorted(expected - seen):
        add(ERROR, 'MissingRangesCheck', server, 'No report from '
            '{server}, which the other servers list as a server or CA peer: '
            'its ranges are not recorded anywhere in the input, so overlaps '
            'with it cannot be seen. Collect its healthcheck JSON (its '
            'nightly --output-file) into the directory.', server=server)
    empty = [r for r in reports if r.ca and not r.ranges]
    for report in empty:
        add(ERROR, 'MissingRangesCheck', report.name,
            'The report of {server} ({file}) has Dogtag results but no '
            'range: its CS.cfg could not be read or dogtag.ranges was '
            'excluded. Fix the findings on {server} and collect its '
            'report again.', server=report.name, file=one_line(report.path))
    return expected - seen, expected


def _replica_ids(reports, complete, add):
    """Replica IDs in some server's o=ipaca RUV that no server owns: left
    by a removed server, or by an earlier installation of a host that was
    installed again (which the local RUVCheck cannot tell)."""
    owned = {r.replica_id for r in reports if r.replica_id is not None}
    if not owned:
        return
    seen = {}
    for report in reports:
        for rid, host in report.ruv.items():
            seen.setdefault(rid, (host, set()))[1].add(report.name)
    stray = sorted(rid for rid in seen if rid not in owned)
    for rid in stray:
        host, holders = seen[rid]
        add(ERROR if complete else WARNING,
            'ReplicaIdCheck', 'replica-id-%s' % rid, 'Replica ID {replica_id}'
            ' ({host}) is in the o=ipaca RUV of {holders} but no server '
            'reports it as its own' + ('' if complete else ' (some reports '
                                       'are missing, so it may be theirs)') +
            ': it is left from a removed server or an earlier installation '
            'of {host}. Fix: ipa-replica-manage clean-ruv {replica_id} (or '
            'the cleanallruv task).', replica_id=rid, host=host,
            holders=', '.join(sorted(holders)))
    if not stray:
        add(SUCCESS, 'ReplicaIdCheck', 'ruv', 'Every replica ID in '
            'the o=ipaca RUVs belongs to a reporting server: {owned}.',
            owned=', '.join(str(r) for r in sorted(owned)))


def _ownership(reports, add):
    """Ranges that two servers own at once, per repository."""
    owned = {}
    for report in reports:
        for key, ranges in report.ranges.items():
            for which, begin, end in ranges:
                owned.setdefault(key, []).append(
                    (begin, end, report.name, which))
    for key in sorted(owned):
        spans = sorted(owned[key])
        clashes = 0
        for i, (begin, end, server, which) in enumerate(spans):
            for other in spans[i + 1:]:
                if other[0] > end:
                    break                       # sorted: no later overlap
                if other[2] == server:
                    continue
                clashes += 1
                add(ERROR, 'RangeOwnershipCheck',
                    '%s:%s:%s' % (key, server, other[2]),
                    '{server} ({which} {begin}..{end}) and {other} '
                    '({other_which} {other_begin}..{other_end}) both own '
                    '{repository} numbers {first}..{last}: they can issue '
                    'the same numbers. Fix: stop one of them from issuing '
                    'in this range and give it a fresh range above '
                    'nextRange.', repository=key, server=server, which=which,
                    begin=str(begin), end=str(end), other=other[2],
                    other_which=other[3], other_begin=str(other[0]),
                    other_end=str(other[1]), first=str(max(begin, other[0])),
                    last=str(min(end, other[1])))
        if not clashes:
            add(SUCCESS, 'RangeOwnershipCheck', key, 'No two of '
                'the {servers} servers own the same {repository} numbers.',
                servers=len({s[2] for s in spans}), repository=key)


def _table_row(report, add):
    errors = [f for r, f in report.findings if r in ('ERROR', 'CRITICAL')]
    warnings = [f for r, f in report.findings if r == 'WARNING']
    level = ERROR if errors else \
        WARNING if warnings else SUCCESS
    add(level, 'ServerFindingsCheck', report.name, '{server}: {errors} '
        'error(s), {warnings} warning(s) in dogtag.*{listing}',
        server=report.name, file=one_line(report.path), errors=len(errors),
        warnings=len(warnings), findings=errors + warnings,
        listing=(': ' + ', '.join(errors + warnings)) if errors or warnings
        else '.', ca=report.ca,
        ranges={k: [[w, str(b), str(e)] for w, b, e in v]
                for k, v in sorted(report.ranges.items())})


def table(data):
    """A table per server of the dogtag.* findings, then the other results
    as `human` shows them."""
    rows = [r for r in data if r['check'] == 'ServerFindingsCheck']
    rest = [r for r in data if r['check'] != 'ServerFindingsCheck']
    width = max([len(r['kw']['key']) for r in rows] + [6])
    lines = ['%-*s  %6s  %8s  %s' % (width, 'SERVER', 'ERRORS',
                                     'WARNINGS', 'FINDINGS')]
    for row in rows:
        kw = row['kw']
        lines.append('%-*s  %6d  %8d  %s' % (
            width, kw['key'], kw['errors'], kw['warnings'],
            ', '.join(kw['findings']) or '-'))
    return '\n'.join(lines) + '\n\n' + human(rest)


def render(results, options):
    """The output as the core's Output.render writes it (core/output.py,
    0.11 to 0.19): without SUCCESS results under --failures-only; JSON as
    json.dumps(results, indent=N), with a final newline only on stdout."""
    data = [r for r in results
            if not (options.failures_only and r['result'] == SUCCESS)]
    if options.output_type == 'json':
        text = json.dumps(data, indent=options.indent)
        if options.output_file is None:
            text += '\n'
    else:
        text = OUTPUTS[options.output_type](data)
    if not options.output_file:
        sys.stdout.write(text)
        return
    with open(options.output_file, 'w') as f:
        f.write(text)


OUTPUTS = {'table': table, 'human': human, 'json': None}


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='dogtag-clustercheck',
        description='Compare the Dogtag findings and number ranges of every '
                    'CA server, from their healthcheck JSON outputs.')
    parser.add_argument('directory', help='one healthcheck JSON file per '
                        'server')
    parser.add_argument('--output-type', choices=sorted(OUTPUTS),
                        default='table')
    parser.add_argument('--output-file', default=None)
    parser.add_argument('--failures-only', action='store_true')
    parser.add_argument('--indent', type=int, default=2)
    parser.add_argument('--version', action='version',
                        version='ipahealthcheck_dogtag: %s' % __version__)
    options = parser.parse_args(argv)
    results = analyse(options.directory)
    try:
        render(results, options)
    except OSError as e:
        print('dogtag-clustercheck: cannot write %s: %s' % (
            options.output_file, e.strerror or e), file=sys.stderr)
        return 1
    return int(any(r['result'] != SUCCESS for r in results))


if __name__ == '__main__':
    sys.exit(main())
