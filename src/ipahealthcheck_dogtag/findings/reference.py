"""The reference of every finding, written from the catalog: the list that
`dogtag-healthcheck --list-findings` prints, docs/findings.md and the
FINDINGS section of dogtag-healthcheck(8). A test regenerates both files
and fails when the copies in the repository differ.

    python3 -m ipahealthcheck_dogtag.findings.reference DIR

rewrites DIR/docs/findings.md and the section of DIR/man/dogtag-healthcheck.8.
"""

import inspect
import os
import re
import sys

from ipahealthcheck_dogtag import findings

MAN_BEGIN = '.\\" BEGIN FINDINGS (generated from the catalog: do not edit)'
MAN_END = '.\\" END FINDINGS'
SOURCE_TITLES = {
    'dogtag': 'Any check: configuration, finding the CA, reading its '
              'database',
    'dogtag.ranges': 'dogtag.ranges: number ranges, Dogtag\'s lookup, its '
                     'indices',
    'dogtag.replication': 'dogtag.replication: agreements and RUVs',
    'dogtag.accounts': 'dogtag.accounts: temporary accounts and sessions',
    'dogtag.logs': 'dogtag.logs: this host\'s Dogtag debug logs',
    'dogtag.cluster': 'dogtag-clustercheck: the whole topology',
    'dogtag.topology': 'dogtag.topology: what removed servers leave behind',
    'dogtag.limits': 'dogtag.limits: Dogtag\'s searches under its limits',
    'dogtag.indices': 'dogtag.indices: the indices of the CA backends',
}


def severity(finding):
    return '/'.join(finding.levels)


def rows():
    """(code, source, check, severity, title) of every finding."""
    return [{'code': f.code, 'source': f.source,
             'check': f.check or '(any)', 'severity': severity(f),
             'title': f.title} for f in findings.load()]


def listing(as_json=False):
    """What --list-findings prints."""
    table = rows()
    if as_json:
        import json
        return json.dumps(table, indent=2) + '\n'
    widths = [max(len(r[k]) for r in table)
              for k in ('code', 'severity', 'source', 'check')]
    return ''.join('%-*s  %-*s  %-*s  %-*s  %s\n' % (
        widths[0], r['code'], widths[1], r['severity'], widths[2],
        r['source'], widths[3], r['check'], r['title']) for r in table)


def fix_text(finding):
    """What the reference says of a finding's fix."""
    if finding.fix is None:
        return None
    builder = finding.builder()
    if builder is None:
        return '%s (%s)' % (finding.fix, finding.fix.effect)
    doc = inspect.getdoc(builder) or ''
    first = doc.split('\n\n')[0].replace('\n', ' ')
    return 'built for the case at hand (`fixes.%s`)%s' % (
        finding.fix, ': ' + first if first else '')


def by_source():
    grouped = {}
    for finding in findings.load():
        grouped.setdefault(finding.source, []).append(finding)
    return [(source, grouped[source]) for source in findings.BLOCKS
            if source in grouped]


def markdown():
    out = ['# Findings', '',
           'Every result ipahealthcheck_dogtag can give, by code. Generated '
           'from the catalog (`src/ipahealthcheck_dogtag/findings/`); do not '
           'edit. Codes are stable and never reused. Every non-SUCCESS '
           'result carries `code`, `fix`, `fix_steps` and `fix_effect` '
           '(reads < manual < writes-directory < restarts-service). '
           'Silence one finding with `dogtag_exclude = CODE` or '
           '`CODE:key` (see the README).', '']
    for source, group in by_source():
        out += ['## %s' % SOURCE_TITLES[source], '']
        for f in group:
            out += ['### %s %s' % (f.code, f.title), '']
            out.append('- check: %s; severity: %s%s; key: `%s`' % (
                '`%s`' % f.check if f.check else 'any', severity(f),
                ' (%s)' % f.severity_rule if f.severity_rule else '',
                f.key))
            out.append('- message: `%s`' % f.msg)
            if f.fields:
                out.append('- fields: %s' % ', '.join(
                    '`%s`' % name for name in f.fields))
            fix = fix_text(f)
            if fix:
                out.append('- fix: %s' % fix)
            if f.upstream:
                out.append('- upstream: %s' % f.upstream)
            if f.unseen:
                out.append('- not shown on a real server: %s' % f.unseen)
            out.append('')
            if f.meaning:
                out += [f.meaning, '']
    out += faults_table()
    return '\n'.join(out).rstrip('\n') + '\n'


def faults_table():
    """Each publicly reported fault mechanism, and what finds it."""
    from ipahealthcheck_dogtag.findings.faults import FAULTS
    checked = sum(1 for row in FAULTS if row[3])
    explained = sum(1 for row in FAULTS if row[4])
    either = sum(1 for row in FAULTS if row[3] or row[4])
    out = ['## Reported faults and what finds them', '',
           'Fault mechanisms users have reported publicly (2016-2026), '
           'with one report each: %d of %d are found by a check, %d '
           'explained by `dogtag-diagnose`, %d by either.'
           % (checked, len(FAULTS), explained, either), '',
           '| # | mechanism | report | found by | explained by |',
           '|---|---|---|---|---|']
    for row, mechanism, report, codes, causes in FAULTS:
        out.append('| %d | %s | %s | %s | %s |' % (
            row, mechanism, report, ', '.join(codes) or '-',
            ', '.join('`%s`' % c for c in causes) or '-'))
    return out + ['']


def _roff(text):
    text = text.replace('\\', '\\e').replace('-', '\\-')
    return re.sub(r"^([.'])", r'\\&\1', text, flags=re.M)


def man_section():
    out = [MAN_BEGIN, '.SH FINDINGS',
           'Every result has a stable code, in',
           '.BR kw.code ;',
           '.B dogtag\\-healthcheck \\-\\-list\\-findings',
           'lists them.',
           'The meaning, fields and fix of each are in',
           '.I docs/findings.md',
           'of the package\'s documentation.']
    for source, group in by_source():
        out += ['.SS %s' % _roff(SOURCE_TITLES[source])]
        for f in group:
            out += ['.TP', '.B %s' % f.code,
                    '%s (%s%s).' % (_roff(f.title), severity(f),
                                    ', ' + _roff(f.check) if f.check
                                    else '')]
    out.append(MAN_END)
    return '\n'.join(out) + '\n'


def with_man_section(page):
    """The man page's text with its FINDINGS section regenerated (put
    before SEE ALSO the first time)."""
    section = man_section()
    if MAN_BEGIN in page:
        start = page.index(MAN_BEGIN)
        end = page.index(MAN_END, start) + len(MAN_END) + 1
        return page[:start] + section + page[end:]
    at = page.index('.SH SEE ALSO')
    return page[:at] + section + page[at:]


def write(root):
    with open(os.path.join(root, 'docs', 'findings.md'), 'w') as out:
        out.write(markdown())
    path = os.path.join(root, 'man', 'dogtag-healthcheck.8')
    with open(path) as f:
        page = f.read()
    with open(path, 'w') as out:
        out.write(with_man_section(page))


if __name__ == '__main__':
    write(sys.argv[1] if len(sys.argv) > 1 else '.')
