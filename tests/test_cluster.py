"""dogtag-clustercheck over a directory of per-server healthcheck JSON."""

import json
import os
import subprocess
import sys

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
    assert (kw['first'], kw['last']) == (str(0x8000000), str(0x8ffffff))
    assert clash['ca.requests']['result'] == 'SUCCESS'
    assert clash['ca.replica_ids']['result'] == 'SUCCESS'
    assert clash['ca.requests']['kw']['servers'] == 3
    assert not any(k.startswith('ca.certificates:a.example.test:b')
                   for k in clash)

    assert found['InputCheck']['d.example.test.json']['result'] == 'ERROR'
    assert 'not JSON' in found['InputCheck']['d.example.test.json']['kw'][
        'problem']
    assert found['InputCheck']['inputs']['kw']['servers'] == 3
    missing = found['MissingRangesCheck']
    assert set(missing) == {'e.example.test'}
    rows = found['ServerFindingsCheck']
    assert set(rows) == set(servers)
    assert rows['b.example.test']['kw']['ranges']['ca.certificates'] == [
        ['active', str(0xfff0000), str(0x10000000)]]

    table = clustercheck(reports).stdout
    assert table.splitlines()[0].split() == ['SERVER', 'ERRORS', 'WARNINGS',
                                             'FINDINGS']
    assert any(line.startswith('c.example.test ') for line in
               table.splitlines())
    assert 'both own ca.certificates numbers' in table


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
    done = clustercheck(tmp_path / 'nowhere', '--output-type', 'human')
    assert done.returncode == 1
    assert 'CRITICAL: dogtag.cluster.InputCheck.directory: Cannot list' in \
        done.stdout


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
    found = by_check(json.loads(done.stdout))['ReplicaIdCheck']
    assert list(found) == ['replica-id-3']
    assert found['replica-id-3']['result'] == 'ERROR'
    assert found['replica-id-3']['kw']['holders'] == 'a.example.test'
    (tmp_path / 'a.json').unlink()
    ruv_report(tmp_path / 'a.json', 'a.example.test', 4,
               [[4, 'a.example.test'], [5, 'b.example.test']])
    found = by_check(json.loads(clustercheck(
        tmp_path, '--output-type', 'json').stdout))['ReplicaIdCheck']
    assert found['ruv']['result'] == 'SUCCESS'


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
        assert inputs[name]['kw']['field'] == field, name
        assert inputs[name]['kw']['file'].endswith(name)
        assert field.split('.')[-1].split('[')[0] in \
            inputs[name]['kw']['problem']
    assert inputs['inputs']['kw']['servers'] == 2
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
    text = inputs['inputs']['kw']['msg'].format(**inputs['inputs']['kw'])
    assert text.startswith('No server report in %s: found 0 file(s)'
                           % tmp_path)
    assert 'Collect each server' in text
    (tmp_path / 'a.json').write_text('')
    code, inputs = inputs_of(tmp_path)
    assert code == 1
    assert inputs['inputs']['result'] == 'ERROR'
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
    assert 'none from c.example.test' in summary['kw']['msg'].format(
        **summary['kw'])
    (tmp_path / 'c.example.test.json').write_text(report_of('c.example.test',
                                                            masters))
    code, inputs = inputs_of(tmp_path)
    assert inputs['inputs']['result'] == 'SUCCESS'
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
        assert 'holds no dogtag.* result' in inputs[name]['kw']['msg']
    assert 'a.json' not in inputs


# Loaded first by the command's Python (a sitecustomize on PYTHONPATH comes
# before the system's): any import of ipahealthcheck fails as on a host
# where the core is not installed.
BLOCKER = '''import sys


class NoCore:
    def find_spec(self, name, path=None, target=None):
        if name == 'ipahealthcheck' or name.startswith('ipahealthcheck.'):
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
    core it now gives the same results, outputs and exit code as with it."""
    reports = tmp_path / 'reports'
    reports.mkdir()
    mixed_reports(reports)
    blocker = tmp_path / 'nocore'
    blocker.mkdir()
    (blocker / 'sitecustomize.py').write_text(BLOCKER)
    env = dict(os.environ, PYTHONPATH=str(blocker))
    probe = subprocess.run([sys.executable, '-c', 'import ipahealthcheck'],
                           env=env, stderr=subprocess.PIPE, text=True)
    assert 'ModuleNotFoundError' in probe.stderr      # the blocker works

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
