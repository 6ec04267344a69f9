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
"""

import argparse
import json
import os
import sys

from ipahealthcheck.core import constants
from ipahealthcheck.core.output import JSON, Human
from ipahealthcheck.core.plugin import Result, Results

from ipahealthcheck_dogtag import __version__

SOURCE = 'dogtag.cluster'


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
    """A ServerReport, or raise ValueError saying what is wrong."""
    try:
        with open(path, encoding='utf-8') as f:
            records = json.load(f)
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError('cannot read it: %s' % e)
    except json.JSONDecodeError as e:
        raise ValueError('not JSON (%s)' % e)
    if not isinstance(records, list) or \
            not all(isinstance(r, dict) for r in records):
        raise ValueError('not a healthcheck JSON output (a list of results)')
    report = ServerReport(path)
    for record in records:
        _take(report, record)
    if report.name is None:
        # No MetaCheck and no range result: the file name stands for it.
        report.name = os.path.splitext(os.path.basename(path))[0].lower()
    return report


def _take(report, record):
    source, check = record.get('source') or '', record.get('check') or ''
    kw = record.get('kw') if isinstance(record.get('kw'), dict) else {}
    if source == 'ipahealthcheck.meta.core' and kw.get('fqdn'):
        report.name = str(kw['fqdn']).lower()
    if source == 'ipahealthcheck.ipa.meta' and \
            isinstance(kw.get('masters'), list):
        report.masters.update(str(m).lower() for m in kw['masters'])
    if not source.startswith('dogtag.'):
        return
    result = record.get('result')
    if result != 'SUCCESS':
        report.findings.append(
            (result, '%s.%s.%s' % (source, check, kw.get('key', ''))))
    if kw.get('key') == 'ca':
        report.ca = False
        return
    report.ca = True
    if check == 'AgreementCheck' and result == 'SUCCESS' and kw.get('peer'):
        report.peers.add(str(kw['peer']).lower())
    if check == 'RUVCheck' and isinstance(kw.get('ruv'), list):
        report.replica_id = kw.get('local_replica_id')
        for element in kw['ruv']:
            if isinstance(element, list) and len(element) == 2:
                report.ruv[element[0]] = str(element[1]).lower()
    if source == 'dogtag.ranges' and kw.get('server') and \
            report.name is None:
        report.name = str(kw['server']).lower()
    key = kw.get('key')
    if source == 'dogtag.ranges' and 'range_begin' in kw and \
            key not in report.ranges:
        try:
            owned = [('active', int(kw['range_begin']),
                      int(kw['range_end']))]
            if 'standby_begin' in kw:
                owned.append(('standby', int(kw['standby_begin']),
                              int(kw['standby_end'])))
        except (TypeError, ValueError):
            return
        report.ranges[key] = owned


def analyse(directory):
    """Results of the cluster view of the files in `directory`."""
    results = Results()

    def add(level, check, key, msg, **kw):
        results.add(Result(None, level, source=SOURCE, check=check,
                           key=key, msg=msg, **kw))

    try:
        names = sorted(n for n in os.listdir(directory)
                       if os.path.isfile(os.path.join(directory, n)))
    except OSError as e:
        add(constants.CRITICAL, 'InputCheck', 'directory', 'Cannot list '
            '{directory}: {error}. Expected a directory holding one '
            'healthcheck JSON file per CA server.', directory=directory,
            error=str(e))
        return results
    reports = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            reports.append(read_report(path))
        except ValueError as e:
            add(constants.ERROR, 'InputCheck', name, '{file} is unusable: '
                '{problem}. Expected the JSON output of ipa-healthcheck '
                '(without --failures-only). Write it again, e.g. '
                'ipa-healthcheck --output-file <file> on that server.',
                file=path, problem=str(e))
    add(constants.SUCCESS, 'InputCheck', 'inputs', 'Read {servers} server '
        'report(s) from {directory}.', servers=len(reports),
        directory=directory)
    complete = not _missing(reports, add)     # every listed server reported
    _ownership(reports, add)
    _replica_ids(reports, complete, add)
    for report in sorted(reports, key=lambda r: r.name):
        _table_row(report, add)
    return results


def _missing(reports, add):
    """Report servers whose ranges are unknown; True if some listed
    server sent no report at all."""
    seen = {r.name for r in reports}
    expected = set()
    for report in reports:
        expected |= report.masters | report.peers
    for server in sorted(expected - seen):
        add(constants.ERROR, 'MissingRangesCheck', server, 'No report from '
            '{server}, which the other servers list as a server or CA peer: '
            'its ranges are not recorded anywhere in the input, so overlaps '
            'with it cannot be seen. Collect its healthcheck JSON (its '
            'nightly --output-file) into the directory.', server=server)
    empty = [r for r in reports if r.ca and not r.ranges]
    for report in empty:
        add(constants.ERROR, 'MissingRangesCheck', report.name,
            'The report of {server} ({file}) has Dogtag results but no '
            'range: its CS.cfg could not be read or dogtag.ranges was '
            'excluded. Fix the findings on {server} and collect its '
            'report again.', server=report.name, file=report.path)
    return bool(expected - seen)


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
        add(constants.ERROR if complete else constants.WARNING,
            'ReplicaIdCheck', 'replica-id-%s' % rid, 'Replica ID {replica_id}'
            ' ({host}) is in the o=ipaca RUV of {holders} but no server '
            'reports it as its own' + ('' if complete else ' (some reports '
                                       'are missing, so it may be theirs)') +
            ': it is left from a removed server or an earlier installation '
            'of {host}. Fix: ipa-replica-manage clean-ruv {replica_id} (or '
            'the cleanallruv task).', replica_id=rid, host=host,
            holders=', '.join(sorted(holders)))
    if not stray:
        add(constants.SUCCESS, 'ReplicaIdCheck', 'ruv', 'Every replica ID in '
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
                add(constants.ERROR, 'RangeOwnershipCheck',
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
            add(constants.SUCCESS, 'RangeOwnershipCheck', key, 'No two of '
                'the {servers} servers own the same {repository} numbers.',
                servers=len({s[2] for s in spans}), repository=key)


def _table_row(report, add):
    errors = [f for r, f in report.findings if r in ('ERROR', 'CRITICAL')]
    warnings = [f for r, f in report.findings if r == 'WARNING']
    level = constants.ERROR if errors else \
        constants.WARNING if warnings else constants.SUCCESS
    add(level, 'ServerFindingsCheck', report.name, '{server}: {errors} '
        'error(s), {warnings} warning(s) in dogtag.*{listing}',
        server=report.name, file=report.path, errors=len(errors),
        warnings=len(warnings), findings=errors + warnings,
        listing=(': ' + ', '.join(errors + warnings)) if errors or warnings
        else '.', ca=report.ca,
        ranges={k: [[w, str(b), str(e)] for w, b, e in v]
                for k, v in sorted(report.ranges.items())})


class Table(Human):
    """A table per server of the dogtag.* findings, then the other results."""

    def generate(self, data):
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
        return '\n'.join(lines) + '\n\n' + super().generate(rest)


OUTPUTS = {'table': Table, 'human': Human, 'json': JSON}


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
    options.all = True
    options.severity = None
    results = analyse(options.directory)
    OUTPUTS[options.output_type](options).render(results)
    return int(any(r.result != constants.SUCCESS for r in results.results))


if __name__ == '__main__':
    sys.exit(main())
