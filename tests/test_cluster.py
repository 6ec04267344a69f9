"""dogtag-clustercheck over a directory of per-server healthcheck JSON."""

import json
import os
import subprocess
import sys


from ipahealthcheck_dogtag import findings
from ipahealthcheck_dogtag.findings.cluster import ROLES, Read
from sandbox import cadb

BIN = os.path.dirname(sys.executable)


def clustercheck(directory, *args):
    done = subprocess.run(
        [os.path.join(BIN, 'dogtag-clustercheck'), str(directory)] +
        list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, timeout=120)
    return done


def by_check(results):
    found = {}
    for r in results:
        found.setdefault(r['check'], {})[r['kw']['key']] = r
    return found


def test_reports_of_real_servers(scenario, tmp_path):
    """Three CA servers of one topology: a delegated to b, c was given a
    range that overlaps a's. Their reports come from real runs; one report
    is malformed and one listed server sent none."""
    scenario.build(certs=range(1, 6), ca_requests=range(1, 6), kra=False,
                   vlv=())
    reports = tmp_path / 'reports'
    reports.mkdir()
    servers = {
        'a.example.test': dict(dbs__endSerialNumber='ffeffff',
                               dbs__endRequestNumber='9990000',
                               dbs__endReplicaNumber='50'),
        'b.example.test': dict(dbs__beginSerialNumber='fff0000',
                               dbs__endSerialNumber='10000000',
                               dbs__beginRequestNumber='9990001',
                               dbs__beginReplicaNumber='51',
                               dbs__endReplicaNumber='75'),
        'c.example.test': dict(dbs__beginSerialNumber='8000000',
                               dbs__endSerialNumber='8ffffff',
                               dbs__beginRequestNumber='20000001',
                               dbs__endRequestNumber='30000000',
                               dbs__beginReplicaNumber='76'),
    }
    for host, cfg in servers.items():
        instance = str(tmp_path / host / 'pki-tomcat')
        scenario.tree.write_cs_cfg(instance, machineName=host, **cfg)
        conf = cadb.write_healthcheck_conf(str(tmp_path / (host + '.conf')),
                                           instance, scenario.ds, '11.5.0')
        subprocess.run([os.path.join(BIN, 'dogtag-healthcheck'), '--config',
                        conf, '--output-file', str(reports / (host + '.json'))],
                       check=False, timeout=300)
    # ipa-healthcheck adds its meta checks; one lists every IPA server.
    first = reports / 'a.example.test.json'
    records = json.loads(first.read_text())
    records.append({'source': 'ipahealthcheck.ipa.meta',
                    'check': 'IPAMetaCheck', 'result': 'SUCCESS',
                    'kw': {'masters': ['a.example.test', 'b.example.test',
                                       'c.example.test', 'e.example.test']}})
    first.write_text(json.dumps(records))
    (reports / 'd.example.test.json').write_text('{"truncated": ')

    done = clustercheck(reports, '--output-type', 'json')
    assert done.returncode == 1, done.stderr
    found = by_check(json.loads(done.stdout))

    clash = found['RangeOwnershipCheck']
    assert clash['ca.certificates:a.example.test:c.example.test'][
        'result'] == 'ERROR'
    kw = clash['ca.certificates:a.example.test:c.example.test']['kw']
    assert kw['code'] == 'DTR0709'
    assert (kw['first'], kw['last']) == (str(0x8000000), str(0x8ffffff))
    assert (kw['server'], kw['which'], kw['other'], kw['other_which']) == (
        'a.example.test', 'active', 'c.example.test', 'active')
    assert kw['fix'] and kw['fix_steps'] and kw['fix_effect'] == 'manual'
    assert clash['ca.requests']['result'] == 'SUCCESS'
    assert clash['ca.requests']['kw']['code'] == 'DTR0710'
    assert clash['ca.replica_ids']['result'] == 'SUCCESS'
    assert clash['ca.requests']['kw']['servers'] == 3
    assert not any(k.startswith('ca.certificates:a.example.test:b')
                   for k in clash)

    assert found['InputCheck']['d.example.test.json']['result'] == 'ERROR'
    assert found['InputCheck']['d.example.test.json']['kw']['code'] == \
        'DTR0701'
    assert 'not JSON' in found['InputCheck']['d.example.test.json']['kw'][
        'problem']
    assert found['InputCheck']['inputs']['kw']['servers'] == 3
    assert found['InputCheck']['inputs']['kw']['code'] == 'DTR0704'
    missing = found['MissingRangesCheck']
    assert set(missing) == {'e.example.test'}
    assert missing['e.example.test']['kw']['code'] == 'DTR0707'
    rows = found['ServerFindingsCheck']
    assert set(rows) == set(servers)
    assert rows['b.example.test']['kw']['ranges']['ca.certificates'] == [
        ['active', str(0xfff0000), str(0x10000000)]]

    table = clustercheck(reports).stdout
    assert table.splitlines()[0].split() == ['SERVER', 'ERRORS', 'WARNINGS',
                                             'FINDINGS']
    assert any(line.startswith('c.example.test ') for line in
               table.splitlines())
    assert 'ERROR: dogtag.cluster.RangeOwnershipCheck.ca.certificates:' \
        'a.example.test:c.example.test: a.example.test and c.example.test ' \
        in table


def test_sixty_servers(tmp_path):
    """60 reports of a topology with a million-certificate-sized range each
    (JSON only); two servers were given the same range."""
    size = 0x1000000
    for n in range(60):
        begin = 1 + n * size if n != 59 else 1 + 7 * size
        records = [{'source': 'dogtag.ranges', 'check': 'RangeConfigCheck',
                    'result': 'SUCCESS',
                    'kw': {'key': 'ca.certificates',
                           'server': 'ca%02d.example.test' % n,
                           'range_begin': str(begin),
                           'range_end': str(begin + size - 1)}}]
        (tmp_path / ('ca%02d.json' % n)).write_text(json.dumps(records))
    done = clustercheck(tmp_path, '--output-type', 'json',
                        '--failures-only')
    assert done.returncode == 1
    results = json.loads(done.stdout)
    assert [(r['check'], r['kw']['key']) for r in results] == [
        ('RangeOwnershipCheck',
         'ca.certificates:ca07.example.test:ca59.example.test')]


def test_unusable_directory(tmp_path):
    done = clustercheck(tmp_path / 'nowhere', '--output-type', 'json')
    assert done.returncode == 1
    [result] = json.loads(done.stdout)
    assert (result['result'], result['check'], result['kw']['key'],
            result['kw']['code']) == ('CRITICAL', 'InputCheck', 'directory',
                                      'DTR0700')
    assert result['kw']['directory'] == str(tmp_path / 'nowhere')
    assert 'No such file' in result['kw']['error']
    done = clustercheck(tmp_path / 'nowhere', '--output-type', 'human')
    assert done.returncode == 1
    assert done.stdout.startswith(
        'CRITICAL: dogtag.cluster.InputCheck.directory: ')


def ruv_report(path, server, rid, ruv):
    path.write_text(json.dumps([{
        'source': 'dogtag.replication', 'check': 'RUVCheck',
        'result': 'SUCCESS', 'kw': {'key': 'ruv', 'local_replica_id': rid,
                                    'ruv': ruv}}, {
        'source': 'ipahealthcheck.meta.core', 'check': 'MetaCheck',
        'result': 'SUCCESS', 'kw': {'key': 'meta', 'fqdn': server}}]))


def test_replica_id_of_an_earlier_installation(tmp_path):
    """b was installed again and got replica ID 5; its old ID 3 lingers in
    a's RUV, and a's local check cannot tell, since b is a server."""
    ruv_report(tmp_path / 'a.json', 'a.example.test', 4,
               [[4, 'a.example.test'], [5, 'b.example.test'],
                [3, 'b.example.test']])
    ruv_report(tmp_path / 'b.json', 'b.example.test', 5,
               [[4, 'a.example.test'], [5, 'b.example.test']])
    done = clustercheck(tmp_path, '--output-type', 'json')
    everything = by_check(json.loads(done.stdout))
    found = everything['ReplicaIdCheck']
    assert list(found) == ['replica-id-3']
    assert found['replica-id-3']['result'] == 'ERROR'
    kw = found['replica-id-3']['kw']
    assert kw['code'] == 'DTR0711'
    assert (kw['replica_id'], kw['host'], kw['holders']) == (
        3, 'b.example.test', 'a.example.test')
    assert 'ipa-replica-manage clean-ruv 3 ' in kw['fix']
    assert kw['fix_effect'] == 'writes-directory'
    # Neither report carries a range, though both have a CA.
    assert {k: r['kw']['code'] for k, r in
            everything['MissingRangesCheck'].items()} == {
        'a.example.test': 'DTR0708', 'b.example.test': 'DTR0708'}
    (tmp_path / 'a.json').unlink()
    ruv_report(tmp_path / 'a.json', 'a.example.test', 4,
               [[4, 'a.example.test'], [5, 'b.example.test']])
    found = by_check(json.loads(clustercheck(
        tmp_path, '--output-type', 'json').stdout))['ReplicaIdCheck']
    assert found['ruv']['result'] == 'SUCCESS'
    assert found['ruv']['kw']['code'] == 'DTR0713'
    assert found['ruv']['kw']['owned'] == '4, 5'


def test_vlv_results_are_not_repositories(scenario, tmp_path):
    """Two real servers' reports share every range. VLVIndexCheck results
    carry the range fields too, keyed by the VLV index name: they must not
    count as repositories (3 real overlaps, not 5)."""
    scenario.build(certs=range(1, 6), ca_requests=range(1, 6), kra=False)
    (tmp_path / 'reports').mkdir()
    for host in ('a.example.test', 'b.example.test'):
        instance = str(tmp_path / host / 'pki-tomcat')
        scenario.tree.write_cs_cfg(instance, machineName=host)
        conf = cadb.write_healthcheck_conf(str(tmp_path / (host + '.conf')),
                                           instance, scenario.ds, '11.5.0')
        subprocess.run([os.path.join(BIN, 'dogtag-healthcheck'), '--config',
                        conf, '--output-file',
                        str(tmp_path / 'reports' / (host + '.json'))],
                       check=False, timeout=300)
    records = json.loads((tmp_path / 'reports' / 'a.example.test.json')
                         .read_text())
    vlv = [r for r in records if r['check'] == 'VLVIndexCheck']
    assert vlv and all('range_begin' in r['kw'] for r in vlv)
    results = json.loads(clustercheck(tmp_path / 'reports', '--output-type',
                                      'json').stdout)
    errors = sorted(r['kw']['key'] for r in results
                    if r['check'] == 'RangeOwnershipCheck' and
                    r['result'] == 'ERROR')
    assert errors == [
        'ca.certificates:a.example.test:b.example.test',
        'ca.replica_ids:a.example.test:b.example.test',
        'ca.requests:a.example.test:b.example.test']


GOOD = [
    {'source': 'ipahealthcheck.meta.core', 'check': 'MetaCheck',
     'result': 'SUCCESS', 'kw': {'key': 'meta', 'fqdn': 'good.example.test'}},
    {'source': 'dogtag.ranges', 'check': 'RangeConfigCheck',
     'result': 'SUCCESS', 'kw': {'key': 'ca.certificates',
                                 'range_begin': '1', 'range_end': '100'}},
    {'source': 'dogtag.replication', 'check': 'RUVCheck',
     'result': 'SUCCESS', 'kw': {'key': 'ruv', 'local_replica_id': 4,
                                 'ruv': [[4, 'good.example.test']]}},
]


def spoil(index, change):
    records = json.loads(json.dumps(GOOD))
    change(records[index])
    return records


BAD_REPORTS = {
    # file name: (records, the field the ERROR must name)
    'source-number.json': (spoil(1, lambda r: r.update(source=5)),
                           '[1].source'),
    'key-list.json': (spoil(1, lambda r: r['kw'].update(key=['a'])),
                      '[1].kw.key'),
    'range-1e400.json': (spoil(1, lambda r: r['kw'].update(
        range_begin=float('inf'))), '[1].kw.range_begin'),
    'ruv-id-list.json': (spoil(2, lambda r: r['kw']['ruv'].append(
        [[5], 'other.example.test'])), '[2].kw.ruv[1][0]'),
    'ruv-id-str.json': (spoil(2, lambda r: r['kw']['ruv'].append(
        ['5', 'other.example.test'])), '[2].kw.ruv[1][0]'),
    'fqdn-newline.json': (spoil(0, lambda r: r['kw'].update(
        fqdn='x.example.test\nEVIL injected line')), '[0].kw.fqdn'),
    'kw-string.json': (spoil(0, lambda r: r.update(kw='meta')), '[0].kw'),
    'masters-str.json': ([{'source': 'ipahealthcheck.ipa.meta',
                           'check': 'IPAMetaCheck', 'result': 'SUCCESS',
                           'kw': {'masters': 'a.example.test'}}],
                         '[0].kw.masters'),
    'code-list.json': (spoil(1, lambda r: r['kw'].update(code=['DTR0004'])),
                       '[1].kw.code'),
}


def test_reports_of_the_wrong_shape(tmp_path):
    """Each bad report is an InputCheck ERROR naming the file and the field;
    the good ones are still analysed; nothing shown breaks a line."""
    for name, (records, _) in BAD_REPORTS.items():
        # 1e400 is what json.dumps writes for infinity's place here
        text = json.dumps(records).replace('Infinity', '1e400')
        (tmp_path / name).write_text(text)
    (tmp_path / 'good.json').write_text(json.dumps(GOOD))
    other = json.loads(json.dumps(GOOD))
    other[0]['kw']['fqdn'] = 'other.example.test'
    other[2]['kw'].update(local_replica_id=5,
                          ruv=[[5, 'other.example.test'],
                               [4, 'good.example.test']])
    (tmp_path / 'other.json').write_text(json.dumps(other))

    done = clustercheck(tmp_path, '--output-type', 'json')
    assert done.returncode == 1 and not done.stderr, done.stderr
    found = by_check(json.loads(done.stdout))
    inputs = found['InputCheck']
    for name, (_, field) in BAD_REPORTS.items():
        assert inputs[name]['result'] == 'ERROR', name
        assert inputs[name]['kw']['code'] == 'DTR0701', name
        assert inputs[name]['kw']['field'] == field, name
        assert inputs[name]['kw']['file'].endswith(name)
        assert field.split('.')[-1].split('[')[0] in \
            inputs[name]['kw']['problem']
    assert inputs['inputs']['kw']['servers'] == 2
    assert inputs['inputs']['kw']['code'] == 'DTR0706'   # no server list
    assert set(found['ServerFindingsCheck']) == {'good.example.test',
                                                 'other.example.test'}
    assert found['RangeOwnershipCheck'][
        'ca.certificates:good.example.test:other.example.test'][
        'result'] == 'ERROR'
    assert found['ReplicaIdCheck']['ruv']['result'] == 'SUCCESS'
    for output in ('table', 'human'):
        text = clustercheck(tmp_path, '--output-type', output).stdout
        assert 'Traceback' not in text
        assert not any(line.startswith('EVIL') for line in text.splitlines())
        assert 'x.example.test\\nEVIL' in text       # shown escaped


def report_of(server, masters=None):
    """GOOD as `server` wrote it; with IPA's server list when given."""
    records = json.loads(json.dumps(GOOD))
    records[0]['kw']['fqdn'] = server
    if masters is not None:
        records.append({'source': 'ipahealthcheck.ipa.meta',
                        'check': 'IPAMetaCheck', 'result': 'SUCCESS',
                        'kw': {'masters': masters}})
    return json.dumps(records)


def inputs_of(directory):
    done = clustercheck(directory, '--output-type', 'json')
    assert not done.stderr, done.stderr
    return done.returncode, by_check(json.loads(done.stdout))['InputCheck']


def test_no_report_is_no_all_clear(tmp_path):
    """A copy that failed in cron leaves the directory empty, or holding
    only a truncated file. Before: SUCCESS "Read 0 server report(s)",
    exit 0."""
    code, inputs = inputs_of(tmp_path)
    assert code == 1
    assert inputs['inputs']['result'] == 'ERROR'
    kw = inputs['inputs']['kw']
    assert (kw['code'], kw['directory'], kw['files'], kw['unusable'],
            kw['servers']) == ('DTR0703', str(tmp_path), 0, 0, 0)
    assert 'Collect each' in kw['fix']
    (tmp_path / 'a.json').write_text('')
    code, inputs = inputs_of(tmp_path)
    assert code == 1
    assert inputs['inputs']['result'] == 'ERROR'
    assert inputs['inputs']['kw']['code'] == 'DTR0703'
    assert inputs['inputs']['kw']['unusable'] == 1


def test_fewer_reports_than_the_server_list(tmp_path):
    """IPA's server list names three servers, two reported: the input
    summary itself is an ERROR naming the missing one; with all three it
    is a SUCCESS that says it compared."""
    masters = ['a.example.test', 'b.example.test', 'c.example.test']
    for server in masters[:2]:
        (tmp_path / (server + '.json')).write_text(report_of(server,
                                                             masters))
    code, inputs = inputs_of(tmp_path)
    assert code == 1
    summary = inputs['inputs']
    assert summary['result'] == 'ERROR'
    assert (summary['kw']['servers'], summary['kw']['listed'],
            summary['kw']['missing']) == (2, 3, ['c.example.test'])
    assert summary['kw']['code'] == 'DTR0704'
    assert summary['kw']['missing_servers'] == 'c.example.test'
    (tmp_path / 'c.example.test.json').write_text(report_of('c.example.test',
                                                            masters))
    code, inputs = inputs_of(tmp_path)
    assert inputs['inputs']['result'] == 'SUCCESS'
    assert inputs['inputs']['kw']['code'] == 'DTR0705'
    assert inputs['inputs']['kw']['listed'] == 3


def test_a_report_without_dogtag_results(tmp_path):
    """ipa-healthcheck without our plugin, or with --failures-only on a
    healthy server, writes no dogtag.* result: nothing is known about
    that CA. Before: its row was a SUCCESS with no finding."""
    (tmp_path / 'a.json').write_text(report_of('a.example.test'))
    (tmp_path / 'b.json').write_text(json.dumps([
        {'source': 'ipahealthcheck.meta.core', 'check': 'MetaCheck',
         'result': 'SUCCESS', 'kw': {'key': 'meta',
                                     'fqdn': 'b.example.test'}}]))
    (tmp_path / 'c.json').write_text('[]')
    code, inputs = inputs_of(tmp_path)
    assert code == 1
    for name, server in (('b.json', 'b.example.test'), ('c.json', 'c')):
        assert inputs[name]['result'] == 'ERROR'
        assert inputs[name]['kw']['server'] == server
        assert inputs[name]['kw']['code'] == 'DTR0702'
        assert inputs[name]['kw']['file'].endswith(name)
    assert 'a.json' not in inputs


# Loaded first by the command's Python (a sitecustomize on PYTHONPATH comes
# before the system's): any import of ipahealthcheck or of python-ldap
# (ldap, ldif, _ldap) fails as on a host where neither is installed.
BLOCKER = '''import sys

BLOCKED = ('ipahealthcheck', 'ldap', 'ldif', '_ldap')


class NoCore:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ModuleNotFoundError('No module named %r' % name, name=name)


sys.meta_path.insert(0, NoCore())
'''


def mixed_reports(directory):
    """Reports giving SUCCESS, WARNING, ERROR and an unusable file."""
    masters = ['a.example.test', 'b.example.test', 'c.example.test']
    for server in masters[:2]:
        (directory / (server + '.json')).write_text(report_of(server,
                                                              masters))
    ruv_report(directory / 'r.json', 'r.example.test', 7,
               [[7, 'r.example.test'], [9, 'gone.example.test']])
    (directory / 'x.json').write_text('{"truncated": ')


def test_runs_without_the_core(tmp_path):
    """Issue 15: dogtag-clustercheck only reads JSON, yet it stopped with
    ModuleNotFoundError where ipahealthcheck is not installed. Without the
    core and without python-ldap (the catalog of findings it builds its
    results from is plain Python) it gives the same results, outputs and
    exit code as with them."""
    reports = tmp_path / 'reports'
    reports.mkdir()
    mixed_reports(reports)
    blocker = tmp_path / 'nocore'
    blocker.mkdir()
    (blocker / 'sitecustomize.py').write_text(BLOCKER)
    env = dict(os.environ, PYTHONPATH=str(blocker))
    for module in ('ipahealthcheck', 'ldap', 'ldif', 'ldap.dn'):
        probe = subprocess.run([sys.executable, '-c', 'import ' + module],
                               env=env, stderr=subprocess.PIPE, text=True)
        assert 'ModuleNotFoundError' in probe.stderr  # the blocker works
    # As installed, all of this needs python-ldap: the blocker bites.
    probe = subprocess.run(
        [sys.executable, '-c', 'import ipahealthcheck_dogtag.dogtag.fixes'],
        env=env, stderr=subprocess.PIPE, text=True)
    assert "No module named 'ldap" in probe.stderr

    def run(output, env=None):
        return subprocess.run(
            [os.path.join(BIN, 'dogtag-clustercheck'), str(reports),
             '--output-type', output], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=120, env=env)

    def timeless(text):
        return [{k: v for k, v in r.items()
                 if k not in ('uuid', 'when', 'duration')}
                for r in json.loads(text)]

    for output in ('json', 'human', 'table'):
        core, plain = run(output), run(output, env)
        assert plain.stderr == '' and core.stderr == ''
        assert (plain.returncode, core.returncode) == (1, 1)
        if output == 'json':
            assert timeless(plain.stdout) == timeless(core.stdout)
            assert {r['result'] for r in timeless(plain.stdout)} == {
                'SUCCESS', 'WARNING', 'ERROR'}
        else:
            assert plain.stdout == core.stdout
    healthy = tmp_path / 'healthy'
    healthy.mkdir()
    (healthy / 'a.json').write_text(report_of('a.example.test'))
    done = subprocess.run([os.path.join(BIN, 'dogtag-clustercheck'),
                           str(healthy), '--failures-only', '--output-type',
                           'human'], stdout=subprocess.PIPE, text=True,
                          env=env, timeout=120)
    assert (done.returncode, done.stdout) == (0, 'No issues found.\n')


def test_outputs_are_the_cores(tmp_path, capsys):
    """The results, as dogtag-clustercheck writes them without the core,
    are what the core's own JSON and Human outputs (core/output.py) write
    for the same results: the shape does not depend on the core."""
    from argparse import Namespace

    from ipahealthcheck.core.constants import getLevel
    from ipahealthcheck.core.output import JSON, Human
    from ipahealthcheck.core.plugin import Result, Results

    from ipahealthcheck_dogtag.commands import clustercheck

    mixed_reports(tmp_path)
    ours = clustercheck.analyse(str(tmp_path))
    results = Results()
    for r in ours:
        result = Result(None, getLevel(r['result']), r['source'],
                        r['check'], duration=r['duration'], when=r['when'],
                        **r['kw'])
        result.uuid = r['uuid']
        results.add(result)
    for output, core in (('json', JSON), ('human', Human)):
        for failures_only in (False, True):
            options = Namespace(output_type=output, output_file=None,
                                failures_only=failures_only, indent=2,
                                all=True, severity=None)
            clustercheck.render(ours, options)
            mine = capsys.readouterr().out
            core(options).render(results)
            assert mine == capsys.readouterr().out
            assert mine.count('\n') > 3


def test_an_unwritable_output_file_is_a_message(tmp_path):
    """Before, the core's Output.write_file raised: a traceback."""
    target = tmp_path / 'no' / 'such' / 'out.json'
    done = clustercheck(tmp_path, '--output-file', str(target))
    assert done.returncode == 1
    assert done.stderr == 'dogtag-clustercheck: cannot write %s: No such ' \
        'file or directory\n' % target


def test_server_rows(tmp_path):
    """One row per server: ERROR when it has an error, WARNING when only
    warnings, SUCCESS when neither; `findings` lists them, errors first."""
    def spoilt(server, *results):
        records = json.loads(report_of(server))
        for n, result in enumerate(results):
            records.append({'source': 'dogtag.logs', 'check': 'LogCheck',
                            'result': result, 'kw': {'key': 'log-%d' % n}})
        return json.dumps(records)

    (tmp_path / 'a.json').write_text(spoilt('a.example.test', 'WARNING',
                                            'ERROR'))
    (tmp_path / 'b.json').write_text(spoilt('b.example.test', 'WARNING'))
    (tmp_path / 'c.json').write_text(spoilt('c.example.test'))
    done = clustercheck(tmp_path, '--output-type', 'json')
    assert done.returncode == 1, done.stderr
    rows = by_check(json.loads(done.stdout))['ServerFindingsCheck']
    got = {server: (r['result'], r['kw']['code'], r['kw']['findings'],
                    r['kw']['listing']) for server, r in rows.items()}
    assert got == {
        'a.example.test': ('ERROR', 'DTR0714', [
            'dogtag.logs.LogCheck.log-1', 'dogtag.logs.LogCheck.log-0'],
            ': dogtag.logs.LogCheck.log-1, dogtag.logs.LogCheck.log-0'),
        'b.example.test': ('WARNING', 'DTR0715', [
            'dogtag.logs.LogCheck.log-0'], ': dogtag.logs.LogCheck.log-0'),
        'c.example.test': ('SUCCESS', 'DTR0716', [], '.')}
    for server in ('a.example.test', 'b.example.test'):
        assert rows[server]['kw']['fix_effect'] == 'manual'
    assert 'fix' not in rows['c.example.test']['kw']
    table = clustercheck(tmp_path).stdout.splitlines()
    assert table[1].split() == ['a.example.test', '1', '1',
                                'dogtag.logs.LogCheck.log-1,',
                                'dogtag.logs.LogCheck.log-0']
    assert not any('ServerFindingsCheck' in line for line in table)


def test_a_replica_id_while_reports_are_missing(tmp_path):
    """A replica ID no reporting server owns, while a listed server sent no
    report: it may be the silent server's, hence a WARNING of its own code
    (silencing it never hides DTR0711)."""
    mixed_reports(tmp_path)
    done = clustercheck(tmp_path, '--output-type', 'json')
    found = by_check(json.loads(done.stdout))['ReplicaIdCheck']
    assert list(found) == ['replica-id-9']
    kw = found['replica-id-9']['kw']
    assert (found['replica-id-9']['result'], kw['code'], kw['host']) == (
        'WARNING', 'DTR0712', 'gone.example.test')
    assert [s['effect'] for s in kw['fix_steps']] == ['manual',
                                                      'writes-directory']
    assert 'clean-ruv 9 ' in kw['fix_steps'][1]['do']


def record_of(check, key, code=None, **kw):
    record = {'source': 'dogtag.ranges', 'check': check,
              'result': 'SUCCESS', 'kw': dict(key=key, **kw)}
    if code is not None:
        record['kw']['code'] = code
    return record


def test_codes_decide_what_a_result_is(tmp_path, monkeypatch):
    """A result plays a role (carries a repository's ranges, says "no CA
    here") by its code; by check class and key only in a report written
    before codes (0.3.0 and older)."""
    from ipahealthcheck_dogtag.commands import clustercheck as command

    ranges = dict(range_begin='1', range_end='100')
    old = record_of('RangeConfigCheck', 'ca.certificates', **ranges)
    for name, records in {
            'old.json': [old],
            # The same check class, with a code that carries no range.
            'coded.json': [record_of('RangeConfigCheck', 'ca.certificates',
                                     'DTR0010', **ranges)],
            'no-ca.json': [record_of('RangeConfigCheck', 'ca', 'DTR0004')],
            # Keyed `ca`, but its code says something else.
            'ca-key.json': [record_of('RangeConfigCheck', 'ca',
                                      'DTR0010')]}.items():
        (tmp_path / name).write_text(json.dumps(records))
    results = command.analyse(str(tmp_path))
    found = by_check(results)
    rows = found['ServerFindingsCheck']
    assert rows['old']['kw']['ranges'] == {
        'ca.certificates': [['active', '1', '100']]}
    assert rows['coded']['kw']['ranges'] == {}
    assert rows['no-ca']['kw']['ca'] is False
    assert rows['ca-key']['kw']['ca'] is True
    assert set(found['MissingRangesCheck']) == {'coded', 'ca-key'}
    # The role's codes are the only test: any check class, once its
    # finding is listed for the role.
    monkeypatch.setitem(command._CODES, 'ranges', {'DTR0123'})
    (tmp_path / 'coded.json').write_text(json.dumps([record_of(
        'AnyCheck', 'ca.certificates', 'DTR0123', range_begin='50',
        range_end='60')]))
    found = by_check(command.analyse(str(tmp_path)))
    assert found['ServerFindingsCheck']['coded']['kw']['ranges'] == {
        'ca.certificates': [['active', '50', '60']]}
    assert found['RangeOwnershipCheck'][
        'ca.certificates:old:coded']['kw']['code'] == 'DTR0709'


# What a finding must carry to play a role: the fields read from it.
CARRIES = {'ranges': Read.ACTIVE, 'peer': (Read.PEER,),
           'ruv': (Read.RUV, Read.LOCAL_REPLICA_ID), 'no-ca': (),
           'generator': (Read.GENERATOR,)}


def test_roles_name_findings_that_carry_what_is_read():
    """Each finding a role names exists, belongs to the role's source and
    check classes, and must carry the fields read from it."""
    findings.load()
    assert set(CARRIES) == set(ROLES)
    for role, spec in ROLES.items():
        for name in spec.names:
            declared = findings.resolve(name)
            assert declared.source == spec.source, name
            if spec.checks_before_codes is not None:
                # None: shared by every check of the source (e.g. a
                # repository entry that is missing)
                assert declared.check in spec.checks_before_codes + (
                    None,), name
            if spec.key_before_codes is not None:
                assert declared.key == spec.key_before_codes, name
            if spec.result is not None:
                assert declared.levels == (spec.result,), name
            assert set(CARRIES[role]) <= set(declared.fields), name


def test_every_role_is_played_by_some_finding():
    assert all(spec.names for spec in ROLES.values())
    # RSNv3's own result, which has no range, carries the generator too.
    assert 'range-random' in ROLES['generator'].names


def test_mixed_serial_number_generators(scenario, tmp_path):
    """Two CA servers of one topology numbering certificates with different
    generators (ansible-freeipa PR #864, #1060; freeipa PR #7533, pagure
    9661): their real reports, side by side. A third keeps the same as the
    first, and the requests' generator is the same everywhere: quiet."""
    scenario.build(certs=range(1, 6), ca_requests=range(1, 6), kra=False,
                   vlv=())
    reports = tmp_path / 'reports'
    reports.mkdir()
    servers = {'a.example.test': {}, 'b.example.test': {},
               'c.example.test': dict(dbs__cert__id__generator='random')}
    for host, cfg in servers.items():
        instance = str(tmp_path / host / 'pki-tomcat')
        scenario.tree.write_cs_cfg(instance, machineName=host, **cfg)
        conf = cadb.write_healthcheck_conf(str(tmp_path / (host + '.conf')),
                                           instance, scenario.ds, '11.5.0')
        subprocess.run([os.path.join(BIN, 'dogtag-healthcheck'), '--config',
                        conf, '--source', 'dogtag.ranges', '--output-file',
                        str(reports / (host + '.json'))],
                       check=False, timeout=300)
    written = {host: {r['kw']['key']: r['kw'].get('generator')
                      for r in json.loads((reports / (host + '.json'))
                                          .read_text())
                      if r['kw'].get('key') == 'ca.certificates'}
               for host in servers}
    assert written == {'a.example.test': {'ca.certificates': 'legacy'},
                       'b.example.test': {'ca.certificates': 'legacy'},
                       'c.example.test': {'ca.certificates': 'random'}}
    done = clustercheck(reports, '--output-type', 'json')
    found = by_check(json.loads(done.stdout))['GeneratorCheck']
    mixed = found['ca.certificates']
    assert mixed['result'] == 'ERROR'
    assert mixed['kw']['code'] == 'DTR0717'
    assert mixed['kw']['generators'] == {
        'legacy': ['a.example.test', 'b.example.test'],
        'random': ['c.example.test']}
    assert mixed['kw']['fix_effect'] == 'manual'
    assert found['ca.requests']['result'] == 'SUCCESS'
    assert found['ca.requests']['kw']['code'] == 'DTR0718'
    assert found['ca.requests']['kw']['servers'] == 3
