"""The catalog of findings: well formed, listed by the installed command,
documented by generated files that match it, and silenced one at a time.

That every code is produced by some test (or says why no real server can
show it) is checked at the end of a whole run: tests/conftest.py,
pytest_sessionfinish.
"""

import json
import os
import statistics
import subprocess
import sys

import pytest

from ipahealthcheck_dogtag import findings
from ipahealthcheck_dogtag.checks.plugin import registry
from ipahealthcheck_dogtag.dogtag import steps
from ipahealthcheck_dogtag.findings import reference
from conftest import by_key

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
LAST = 'LastNumberCheck'
CATALOG = findings.load()


def test_codes_are_unique_and_in_their_sources_block():
    codes = [f.code for f in CATALOG]
    assert len(codes) == len(set(codes)) > 20
    for f in CATALOG:
        low, high = findings.BLOCKS[f.source]
        assert low <= int(f.code[3:]) <= high, f.code


def test_a_second_declaration_of_a_code_is_refused():
    with pytest.raises(findings.CatalogError):
        findings.Finding('DTR0001', 'again', 'dogtag', None, 'ERROR', 't',
                         'm.', key='k', fix=steps.Fix(steps.manual('x')))


def test_every_problem_has_a_fix_that_exists():
    from ipahealthcheck_dogtag.dogtag import fixes
    for f in CATALOG:
        if f.levels == ('SUCCESS',):
            continue
        assert f.fix is not None, f.code
        if isinstance(f.fix, str):
            assert callable(getattr(fixes, f.fix, None)), f.code
        else:
            assert f.fix.steps and f.fix.effect in steps.EFFECTS, f.code


def test_every_finding_names_a_check_that_exists():
    checks = {type(p).__name__ for p in registry.get_plugins()}
    checks |= {'InputCheck', 'ServerFindingsCheck'}  # dogtag-clustercheck
    for f in CATALOG:
        if f.source != 'dogtag.cluster':
            assert f.check is None or f.check in checks, f.code


def test_messages_are_one_short_sentence():
    """Issue 15 measured a median of 276 characters (longest 921) on 0.2.0.
    The templates here; the messages as printed are measured over every
    result of a whole run (the suite's summary line)."""
    lengths = [len(f.msg) for f in CATALOG]
    assert statistics.median(lengths) < 120, statistics.median(lengths)
    for f in CATALOG:
        assert len(f.msg) <= 160, (f.code, len(f.msg))
        assert f.msg.endswith('.'), f.code
        assert f.title and len(f.title) <= 80, f.code


def test_the_reference_in_the_repository_is_the_catalogs():
    with open(os.path.join(ROOT, 'docs', 'findings.md')) as f:
        assert f.read() == reference.markdown(), \
            'run: python3 -m ipahealthcheck_dogtag.findings.reference .'
    with open(os.path.join(ROOT, 'man', 'dogtag-healthcheck.8')) as f:
        page = f.read()
    assert reference.with_man_section(page) == page, \
        'run: python3 -m ipahealthcheck_dogtag.findings.reference .'
    for f in CATALOG:
        assert '### %s ' % f.code in reference.markdown()
        assert '.B %s\n' % f.code in page


def test_list_findings_from_the_installed_command():
    command = os.path.join(BIN, 'dogtag-healthcheck')
    text = subprocess.run([command, '--list-findings'], check=True,
                          stdout=subprocess.PIPE, text=True).stdout
    lines = text.splitlines()
    assert [line.split()[0] for line in lines] == [f.code for f in CATALOG]
    done = subprocess.run([command, '--list-findings', '--output-type',
                           'json'], check=True, stdout=subprocess.PIPE,
                          text=True)
    listed = json.loads(done.stdout)
    assert [(r['code'], r['source'], r['severity'], r['title'])
            for r in listed] == [(f.code, f.source, reference.severity(f),
                                  f.title) for f in CATALOG]
    assert {r['check'] for r in listed} >= {LAST, '(any)'}


def test_parse_excludes():
    silenced, unknown = findings.parse_excludes(
        ' DTR0022:ca.certificates, dtr0001  DTR9999,DTR0005:,x ')
    assert silenced == {('DTR0022', 'ca.certificates'), ('DTR0001', None)}
    assert unknown == ['DTR9999', 'DTR0005:', 'x']
    assert findings.is_silenced(silenced, 'DTR0001', 'anything')
    assert not findings.is_silenced(silenced, 'DTR0022', 'ca.requests')


def _malformed_ends(scenario):
    """Both CA ranges end in a value Dogtag cannot read (DTR0022)."""
    scenario.build(certs=range(1, 4), ca_requests=range(1, 4), kra=False)
    scenario.write_cs_cfg(dbs__endSerialNumber='12zz',
                          dbs__endRequestNumber='34zz')


def test_one_finding_silenced_for_one_key(scenario):
    """The real fault stays on both repositories; only the silenced pair
    (code, key) turns into a SUCCESS that says it was silenced."""
    _malformed_ends(scenario)
    before = by_key(scenario.run(LAST), LAST)
    assert {k: (r['result'], r['kw']['code']) for k, r in before.items()} \
        == {'ca.certificates': ('ERROR', 'DTR0022'),
            'ca.requests': ('ERROR', 'DTR0022')}
    scenario.extra = {'dogtag_exclude': 'DTR0022:ca.certificates'}
    after = by_key(scenario.run(LAST), LAST)
    certs = after['ca.certificates']
    assert certs['result'] == 'SUCCESS'
    assert (certs['kw']['code'], certs['kw']['silenced'],
            certs['kw']['silenced_severity']) == \
        ('DTR0002', 'DTR0022', 'ERROR')
    requests = after['ca.requests']
    assert (requests['result'], requests['kw']['code']) == \
        ('ERROR', 'DTR0022')


def test_a_code_silenced_everywhere_hides_nothing_else(scenario):
    """Two faults: the CA's range ends (DTR0022) and the KRA's missing
    CS.cfg (DTR0011); silencing the first leaves the second alone."""
    scenario.build(certs=range(1, 4), ca_requests=range(1, 4))
    scenario.write_cs_cfg(dbs__endSerialNumber='12zz',
                          dbs__endRequestNumber='34zz')
    os.unlink(os.path.join(scenario.instance_dir, 'conf/kra/CS.cfg'))
    every = scenario.run(source=None)
    codes = {r['kw']['code'] for r in every if r['result'] != 'SUCCESS'}
    assert {'DTR0022', 'DTR0011'} <= codes, codes
    scenario.extra = {'dogtag_exclude': 'DTR0022'}
    silenced = scenario.run(source=None)
    assert len(silenced) == len(every)
    after = {r['kw']['code'] for r in silenced if r['result'] != 'SUCCESS'}
    assert after == codes - {'DTR0022'}
    assert {r['kw']['silenced'] for r in silenced
            if r['kw']['code'] == 'DTR0002'} == {'DTR0022'}


def test_an_unknown_code_is_told_once(scenario):
    scenario.build(certs=range(1, 4), ca_requests=range(1, 4), kra=False)
    scenario.extra = {'dogtag_exclude': 'DTR0022, DTR9999'}
    results = scenario.run(source=None)
    told = [r for r in results if r['kw']['code'] == 'DTR0003']
    assert len(told) == 1 and told[0]['result'] == 'ERROR'
    assert told[0]['kw']['unknown'] == 'DTR9999'
    assert told[0]['kw']['key'] == 'config'


def test_the_fault_table_names_codes_and_causes_that_exist():
    from ipahealthcheck_dogtag.findings.faults import FAULTS
    from ipahealthcheck_dogtag.logs import causes
    ids = {c.id for c in causes.CAUSES} | {causes.ADMIN_LEFTOVER.id}
    assert [row[0] for row in FAULTS] == list(range(1, len(FAULTS) + 1))
    for row, _, _, codes, named in FAULTS:
        assert set(codes) <= set(findings.CATALOG), row
        assert all(findings.CATALOG[c].levels != ('SUCCESS',) or
                   row == 6 for c in codes), row
        assert set(named) <= ids, row
