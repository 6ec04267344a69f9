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

from ipahealthcheck_dogtag import __version__, findings
from ipahealthcheck_dogtag.dogtag.steps import Fix, manual, writes
from ipahealthcheck_dogtag.findings import SUCCESS
from ipahealthcheck_dogtag.findings import cluster as F
from ipahealthcheck_dogtag.findings.cluster import ROLES, Read

SOURCE = F.SOURCE


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


def finding(declared, key=None, **facts):
    """The result of a declared finding with the facts supplied, as
    DogtagCheck.finding (checks/plugin.py) builds it, silencing aside: the
    declaration gives the message, the severity and the code; the fields it
    lists must be there; a non-SUCCESS result carries a fix (the one given,
    else the declared one) as `fix`, `fix_steps` and `fix_effect`."""
    spec = findings.resolve(declared)
    level, = spec.levels                # one severity each in this source
    key = key if key is not None else spec.literal_key
    missing = [name for name in spec.fields if name not in facts]
    if key is None or missing:
        raise findings.CatalogError('%s lacks %s' % (
            spec.code, missing or 'its key'))
    if level != SUCCESS:
        fix = facts.pop('fix', None) or spec.static_fix()
        if fix is None:
            raise findings.CatalogError('%s without a fix' % spec.code)
        facts.update(fix.fields())
    result = record(level, spec.check, key, spec.msg, code=spec.code,
                    **facts)
    findings.record(spec.code, spec.msg, result['kw'])
    return result


def clean_ruv(replica_id, when=None):
    """freeipa/freeipa ipa-replica-manage clean-ruv: removes a replica ID
    from every server's RUV (a cleanallruv task)."""
    return Fix(writes('ipa-replica-manage clean-ruv %d (or the cleanallruv '
                      'task)' % replica_id, when=when))


def plays(role, record):
    """Does this result play `role` (findings/cluster.py ROLES)? By its
    code; as results did before codes in a report written before 0.4.0."""
    code = record.text(Read.CODE)
    if code:
        return code in _codes(role)
    return ROLES[role].played_before_codes(
        record.source, record.check, record.text('key'), record.result)


_CODES = {}


def _codes(role):
    if role not in _CODES:
        _CODES[role] = ROLES[role].codes()
    return _CODES[role]


REPOSITORY_KEYS = ('ca.certificates', 'ca.requests', 'ca.replica_ids',
                   'kra.keys', 'kra.requests', 'kra.replica_ids')
MAX_DIGITS = 100        # Dogtag stores at most 99 digits (two-digit prefix)
GENERATOR = re.compile(r'^[A-Za-z0-9_-]{1,40}$')
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
        self.generators = {}            # repository key -> generator


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
    source, kw = record.source, record.kw
    if source == 'ipahealthcheck.meta.core' and kw.get(Read.FQDN):
        report.name = record.text(Read.FQDN, host=True).lower()
    if source == 'ipahealthcheck.ipa.meta' and Read.MASTERS in kw:
        masters = kw[Read.MASTERS]
        field = 'kw.' + Read.MASTERS
        if not isinstance(masters, list):
            record.bad(field, masters, 'a list of host names')
        for n, master in enumerate(masters):
            if not isinstance(master, str) or not HOST.match(master):
                record.bad('%s[%d]' % (field, n), master, 'a host name')
            report.masters.add(master.lower())
    if not source.startswith('dogtag.'):
        return
    result = record.result
    key = record.text('key')
    if result != 'SUCCESS':
        report.findings.append((result, '%s.%s.%s' % (source, record.check,
                                                      key)))
    if plays('no-ca', record):
        report.ca = False
        return
    report.ca = True
    if plays('peer', record) and kw.get(Read.PEER):
        report.peers.add(record.text(Read.PEER, host=True).lower())
    if plays('ruv', record) and Read.RUV in kw:
        _take_ruv(report, record)
    if source == 'dogtag.ranges' and kw.get(Read.SERVER) and \
            report.name is None:
        report.name = record.text(Read.SERVER, host=True).lower()
    if plays('generator', record) and key in REPOSITORY_KEYS and \
            kw.get(Read.GENERATOR):
        generator = record.text(Read.GENERATOR)
        if not GENERATOR.match(generator):
            record.bad('kw.' + Read.GENERATOR, generator, 'a generator name')
        report.generators.setdefault(key, generator.lower())
    begin, end = Read.ACTIVE
    if plays('ranges', record) and key in REPOSITORY_KEYS and \
            begin in kw and key not in report.ranges:
        owned = [('active', record.number(begin), record.number(end))]
        begin, end = Read.STANDBY
        if begin in kw:
            owned.append(('standby', record.number(begin),
                          record.number(end)))
        report.ranges[key] = owned


def _take_ruv(report, record):
    ruv = record.kw[Read.RUV]
    if not isinstance(ruv, list):
        record.bad('kw.' + Read.RUV, ruv, 'a list of [replica ID, host]')
    report.replica_id = record.replica_id(
        record.kw.get(Read.LOCAL_REPLICA_ID), 'kw.' + Read.LOCAL_REPLICA_ID)
    for n, element in enumerate(ruv):
        field = 'kw.%s[%d]' % (Read.RUV, n)
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

    def add(declared, key=None, **facts):
        results.append(finding(declared, key, **facts))

    for role in ROLES:          # a name the catalog lacks fails every run
        _codes(role)
    try:
        names = sorted(n for n in os.listdir(directory)
                       if os.path.isfile(os.path.join(directory, n)))
    except OSError as e:
        add(F.DIRECTORY_UNLISTABLE, directory=one_line(directory),
            error=one_line(str(e)))
        return results
    reports = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            report = read_report(path)
        except ReportError as e:
            # The other reports are still analysed without this one.
            add(F.REPORT_UNUSABLE, one_line(name), file=one_line(path),
                field=e.field, problem=one_line(str(e)))
            continue
        reports.append(report)
        if report.ca is None:
            # Without any dogtag.* result nothing is known about its CA:
            # not even "no CA here" (every check says that as key `ca`).
            add(F.REPORT_WITHOUT_DOGTAG, one_line(name),
                file=one_line(report.path), server=report.name)
    missing, listed = _missing(reports, add)
    _inputs(reports, len(names), missing, listed, directory, add)
    _ownership(reports, add)
    _replica_ids(reports, not missing, add)
    _generators(reports, add)
    for report in sorted(reports, key=lambda r: r.name):
        _table_row(report, add)
    return results


def _inputs(reports, files, missing, listed, directory, add):
    """How many reports were read, against how many servers are listed:
    an empty directory (a copy that failed) is no all-clear."""
    facts = {'servers': len(reports), 'files': files,
             'unusable': files - len(reports),
             'listed': len(listed) if listed else None,
             'missing': sorted(missing),
             'directory': one_line(directory)}
    if not reports:
        add(F.NO_REPORT, **facts)
    elif missing:
        add(F.REPORTS_MISSING, missing_servers=', '.join(sorted(missing)),
            **facts)
    elif listed:
        add(F.REPORTS_COMPLETE, **facts)
    else:
        add(F.REPORTS_UNLISTED, **facts)


def _missing(reports, add):
    """Report servers whose ranges are unknown; return the listed servers
    that sent no report, and all servers the reports list."""
    seen = {r.name for r in reports}
    expected = set()
    for report in reports:
        expected |= report.masters | report.peers
    for server in sorted(expected - seen):
        add(F.SERVER_WITHOUT_REPORT, server, server=server)
    for report in reports:
        if report.ca and not report.ranges:
            add(F.REPORT_WITHOUT_RANGES, report.name, server=report.name,
                file=one_line(report.path))
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
        facts = dict(replica_id=rid, host=host,
                     holders=', '.join(sorted(holders)))
        if complete:
            add(F.REPLICA_ID_STRAY, 'replica-id-%s' % rid,
                fix=clean_ruv(rid), **facts)
        else:
            # Some reports are missing: the ID may be a silent server's.
            add(F.REPLICA_ID_UNCLAIMED, 'replica-id-%s' % rid,
                fix=Fix(manual('Collect the missing reports and run '
                               'again')) +
                clean_ruv(rid, when='if no server owns it'), **facts)
    if not stray:
        add(F.REPLICA_IDS_OWNED,
            owned=', '.join(str(r) for r in sorted(owned)))


def _generators(reports, add):
    """Repositories that the servers number with different generators
    (ansible-freeipa PR #864, #1060; freeipa PR #7533, pagure 9661)."""
    used = {}
    for report in reports:
        for key, generator in report.generators.items():
            used.setdefault(key, {}).setdefault(generator, set()).add(
                report.name)
    for key in sorted(used):
        by = {g: sorted(s) for g, s in sorted(used[key].items())}
        if len(by) > 1:
            add(F.GENERATORS_MIXED, key, repository=key, generators=by,
                generators_shown='; '.join(
                    '%s on %s' % (g, ', '.join(s)) for g, s in by.items()))
        else:
            (generator, servers), = by.items()
            add(F.GENERATORS_SAME, key, repository=key, generator=generator,
                servers=len(servers))


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
                add(F.RANGE_OWNED_TWICE, '%s:%s:%s' % (key, server, other[2]),
                    repository=key, server=server, which=which,
                    begin=str(begin), end=str(end), other=other[2],
                    other_which=other[3], other_begin=str(other[0]),
                    other_end=str(other[1]), first=str(max(begin, other[0])),
                    last=str(min(end, other[1])))
        if not clashes:
            add(F.RANGES_OWNED_ONCE, key,
                servers=len({s[2] for s in spans}), repository=key)


def _table_row(report, add):
    errors = [f for r, f in report.findings if r in ('ERROR', 'CRITICAL')]
    warnings = [f for r, f in report.findings if r == 'WARNING']
    row = F.SERVER_ERRORS if errors else \
        F.SERVER_WARNINGS if warnings else F.SERVER_CLEAN
    listed = errors + warnings
    add(row, report.name, server=report.name, file=one_line(report.path),
        errors=len(errors), warnings=len(warnings), findings=listed,
        # `listing` as before 0.4.0, when the message ended with it
        listing=(': ' + ', '.join(listed)) if listed else '.',
        findings_shown=', '.join(listed), ca=report.ca,
        ranges={k: [[w, str(b), str(e)] for w, b, e in v]
                for k, v in sorted(report.ranges.items())})


ROW_CODES = {row.code for row in F.ROWS}


def table(data):
    """A table per server of the dogtag.* findings, then the other results
    as `human` shows them."""
    rows = [r for r in data if r['kw']['code'] in ROW_CODES]
    rest = [r for r in data if r['kw']['code'] not in ROW_CODES]
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
