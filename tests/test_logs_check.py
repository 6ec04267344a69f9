"""Source dogtag.logs: LogCheck over generated debug logs, with no LDAP
server (the configured socket does not exist), and its memory bound."""

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from ipahealthcheck.core.config import read_config

from ipahealthcheck_dogtag.checks import logs as logs_check  # noqa: F401
from ipahealthcheck_dogtag.logs import formats, tail
from conftest import by_key, run_checks
from logfixtures import debug10, debug11, pki_instance

ZONE = 'Asia/Kolkata'
NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A PKI instance with CA and KRA configuration and empty logs; the
    JVM's zone (TZ) is Kolkata."""
    monkeypatch.setenv('TZ', ZONE)
    root, conf = pki_instance(tmp_path)
    return root, read_config(conf)


def write(path, lines):
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def day(when):
    return when.astimezone(__import__('zoneinfo').ZoneInfo(ZONE)).strftime(
        '%Y-%m-%d')


def add(root, when, msg, extra=(), sub='ca'):
    """Append a SEVERE record to the day's file, as JULI rotates them."""
    path = root / 'logs' / sub / ('debug.%s.log' % day(when))
    with open(path, 'a') as f:
        f.write('\n'.join([debug11(when, ZONE, msg, 'SEVERE')] + list(extra))
                + '\n')


def test_quiet_success(instance):
    root, config = instance
    write(root / 'logs' / 'ca' / ('debug.%s.log' % day(NOW)), [
        debug11(NOW - timedelta(minutes=5), ZONE, 'CertRequestService: ok')])
    results = by_key(run_checks(config, source='dogtag.logs'), 'LogCheck')
    assert {k: r['result'] for k, r in results.items()} == {
        'ca.debug': 'SUCCESS', 'kra.debug': 'SUCCESS'}
    assert results['ca.debug']['kw']['already_exists'] == 0
    assert results['ca.debug']['kw']['code'] == 'DTR0601'      # log-clean
    assert results['ca.debug']['kw']['window_complete'] is True
    # The KRA's log directory holds no file.
    assert results['kra.debug']['kw']['code'] == 'DTR0600'     # log-none
    assert results['kra.debug']['kw']['log_files'] == 0


def test_already_exists_and_range_failures(instance):
    """11.x texts (LDAPSession "Unable to add LDAP entry: ... Already
    exists", UpdateNumberRange) in the CA log; 10.5 texts in the KRA's
    single `debug` file; lines older than the window are not counted."""
    root, config = instance
    t1, t2 = NOW - timedelta(hours=2), NOW - timedelta(minutes=30)
    old = NOW - timedelta(hours=7)
    write(root / 'logs' / 'ca' / ('debug.%s.log' % day(old)), [
        debug11(old, ZONE, 'Unable to add certificate record: Unable to add '
                'LDAP entry: Already exists', 'SEVERE')])
    add(root, t1, 'CertRequestService: Unable to add certificate record: '
        'Unable to add LDAP entry: Already exists', [
            'com.netscape.certsrv.dbs.EDBException: Already exists',
            '\tat com.netscape.cmscore.dbs.LDAPSession.add(LDAPSession.java:1)'])
    add(root, t2, 'Unable to add certificate record: Record already exists: '
        'Already exists')
    add(root, t2, 'UpdateNumberRange: Unable to update number range: null')
    write(root / 'logs' / 'kra' / 'debug', [
        debug10(t1, ZONE, 'updateNumberRange(): status=500'),
    ])
    results = by_key(run_checks(config, source='dogtag.logs'), 'LogCheck')
    ca, kra = results['ca.debug'], results['kra.debug']
    assert ca['result'] == 'ERROR'
    assert ca['kw']['already_exists'] == 2
    assert ca['kw']['already_exists_first'] == t1.strftime(
        '%Y-%m-%dT%H:%M:%SZ')
    assert ca['kw']['already_exists_last'] == t2.strftime(
        '%Y-%m-%dT%H:%M:%SZ')
    assert ca['kw']['range_failures'] == 1
    # The most severe log finding gives the code; every count stays.
    assert ca['kw']['code'] == 'DTR0603'        # log-already-exists
    assert 'explained by LastNumberCheck in dogtag.ranges' in \
        ca['kw']['findings']
    assert 'explained by CloneTransferCheck' in ca['kw']['findings']
    assert 'LastNumberCheck' in ca['kw']['fix']
    assert ca['kw']['fix_effect'] == 'reads'
    assert kra['result'] == 'WARNING'
    assert kra['kw']['code'] == 'DTR0604'       # log-range-failures
    assert kra['kw']['range_failures'] == 1
    assert kra['kw']['already_exists'] == 0
    assert 'CloneTransferCheck' in kra['kw']['findings']
    assert 'CloneTransferCheck' in kra['kw']['fix']


def test_silencing_one_log_finding_never_hides_another(instance):
    """dogtag_exclude silences the "already exists" ERROR: the result of
    a log that also shows a failed range request gives that WARNING."""
    root, _ = instance
    add(root, NOW - timedelta(minutes=20), 'Unable to add certificate '
        'record: Record already exists: Already exists')
    add(root, NOW - timedelta(minutes=10), 'UpdateNumberRange: Unable to '
        'update number range: null')
    conf = root.parent / 'hc.conf'
    settings = conf.read_text()

    def ca_result(exclude):
        conf.write_text(settings + 'dogtag_exclude = %s\n' % exclude)
        return by_key(run_checks(read_config(str(conf)),
                                 source='dogtag.logs'), 'LogCheck')['ca.debug']
    ca = ca_result('DTR0603')
    assert (ca['result'], ca['kw']['code']) == ('WARNING', 'DTR0604')
    assert ca['kw']['already_exists'] == 1
    ca = ca_result('DTR0603 DTR0604')
    assert (ca['result'], ca['kw']['code']) == ('SUCCESS', 'DTR0002')
    assert ca['kw']['silenced'] == 'DTR0603'


def test_window_not_read_in_time(instance, monkeypatch):
    """The time budget ran out before the window's start: no all-clear
    for the whole window."""
    root, config = instance
    write(root / 'logs' / 'ca' / ('debug.%s.log' % day(NOW)), [
        debug11(NOW - timedelta(minutes=5), ZONE, 'CertRequestService: ok')])
    monkeypatch.setattr(logs_check.LogCheck, 'deadline',
                        lambda self, started: started - 1)
    ca = by_key(run_checks(config, source='dogtag.logs'),
                'LogCheck')['ca.debug']
    assert (ca['result'], ca['kw']['code']) == ('SUCCESS', 'DTR0602')
    assert ca['kw']['window_complete'] is False


def test_a_log_that_cannot_be_read(instance):
    """A debug log of the window that cannot be opened (here a directory
    where the file should be): an ERROR, not an all-clear."""
    root, config = instance
    add(root, NOW - timedelta(minutes=10), 'UpdateNumberRange: Unable to '
        'update number range: null')
    blocked = root / 'logs' / 'ca' / 'debug.2000-01-01.log'
    blocked.mkdir()
    ca = by_key(run_checks(config, source='dogtag.logs'),
                'LogCheck')['ca.debug']
    assert (ca['result'], ca['kw']['code']) == ('ERROR', 'DTR0605')
    assert ca['kw']['unreadable_files'] == [str(blocked)]
    assert ca['kw']['unreadable_count'] == 1
    assert ca['kw']['range_failures'] == 1      # what the rest shows
    assert ca['text'].startswith('Cannot read 1 of the ca debug logs as ')


def test_silencing_an_unreadable_log_never_hides_what_the_rest_shows(
        instance):
    root, _ = instance
    add(root, NOW - timedelta(minutes=10), 'UpdateNumberRange: Unable to '
        'update number range: null')
    (root / 'logs' / 'ca' / 'debug.2000-01-01.log').mkdir()
    conf = root.parent / 'hc.conf'
    conf.write_text(conf.read_text() + 'dogtag_exclude = DTR0605\n')
    ca = by_key(run_checks(read_config(str(conf)), source='dogtag.logs'),
                'LogCheck')['ca.debug']
    assert (ca['result'], ca['kw']['code']) == ('WARNING', 'DTR0604')
    assert ca['kw']['unreadable_count'] == 1


def test_no_ca_is_quiet(tmp_path):
    conf = tmp_path / 'hc.conf'
    conf.write_text('[default]\n')
    results = run_checks(read_config(str(conf)), source='dogtag.logs')
    assert [(r['result'], r['kw']['key']) for r in results] == [
        ('SUCCESS', 'ca')]


def test_cluster_report_still_sees_a_ca(instance, tmp_path):
    """dogtag-clustercheck reads key `ca` as "no CA here": our per-
    subsystem keys must not be taken for it, whatever the order."""
    import json
    from ipahealthcheck_dogtag.commands.clustercheck import read_report
    _, config = instance
    records = [{'source': 'dogtag.ranges', 'check': 'RangeConfigCheck',
                'result': 'SUCCESS', 'kw': {'key': 'ca.certificates'}}]
    for r in run_checks(config, source='dogtag.logs'):
        records.append({'source': r['source'], 'check': r['check'],
                        'result': r['result'], 'kw': r['kw']})
    path = tmp_path / 'ca1.json'
    path.write_text(json.dumps(records))
    assert read_report(str(path)).ca is True


def test_reverse_records_match_forward(tmp_path):
    """Backwards reading in small blocks gives the same records."""
    path = tmp_path / 'debug.log'
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    lines = []
    for i in range(500):
        lines.append(debug11(start + timedelta(seconds=i), ZONE, 'm%d' % i))
        if i % 7 == 0:
            lines.append('\tat x.y(Z.java:%d)' % i)
    write(path, lines)
    fmt = formats.DogtagDebug11()
    backwards = [m.group(4) + '|' + '|'.join(rest)
                 for m, rest in tail.reverse_records(str(path), fmt)]
    forwards = [e.text.split('] ', 1)[1].replace('\n', '|') +
                ('' if '\n' in e.text else '|')
                for e in formats.parse_lines(lines, fmt, None, 'h', 'f')]
    assert list(reversed(backwards)) == forwards


MEASURE = textwrap.dedent('''\
    import os, resource, sys, time
    from datetime import datetime, timedelta, timezone
    from ipahealthcheck_dogtag.checks import logs
    from ipahealthcheck_dogtag.logs import bundle
    path, hours = sys.argv[1], float(sys.argv[2])
    zone = bundle.zone_named("Asia/Kolkata")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    end = datetime.fromisoformat(sys.argv[3])
    found, complete = logs.scan([path], end - timedelta(hours=hours), zone)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(after - before, found.get("already_exists", [0])[0],
          round(time.monotonic() - started, 2), complete)
''')


def generate(path, size, end):
    """A debug log of about `size` bytes ending at `end`, one record a
    second, one "already exists" error every 1000 records."""
    line = 'x' * 120
    count = size // 180
    with open(path, 'w') as f:
        for i in range(count, 0, -1):
            when = end - timedelta(seconds=i)
            msg = ('Unable to add certificate record: Record already exists'
                   if i % 1000 == 0 else line)
            f.write(debug11(when, ZONE, msg) + '\n')
    return count


def test_memory_bounded_whatever_the_size(tmp_path):
    """Peak memory growth of a scan over the whole of a 64 MiB log (the
    window covers all of it) stays under 16 MiB: the reader keeps one
    block and one record. scripts/log-benchmark runs the same at 1 GiB."""
    end = datetime(2024, 3, 5, 12, tzinfo=timezone.utc)
    path = str(tmp_path / 'debug.2024-03-05.log')
    count = generate(path, 64 << 20, end)
    out = subprocess.run([sys.executable, '-c', MEASURE, path, '1000',
                          end.isoformat()], capture_output=True, text=True,
                         check=True).stdout.split()
    growth_kib, errors = int(out[0]), int(out[1])
    assert errors == count // 1000
    assert growth_kib < 16 * 1024, out


def test_window_stops_reading(tmp_path):
    """A one-hour window over the same log reads only its end."""
    end = datetime(2024, 3, 5, 12, tzinfo=timezone.utc)
    path = str(tmp_path / 'debug.2024-03-05.log')
    generate(path, 16 << 20, end)
    out = subprocess.run([sys.executable, '-c', MEASURE, path, '1',
                          end.isoformat()], capture_output=True, text=True,
                         check=True).stdout.split()
    assert int(out[1]) == 3           # 3600 records, one error per 1000
    assert out[3] == 'True'
    assert os.path.getsize(path) > 15 << 20


def test_shape_of_a_public_excerpt(tmp_path):
    """The shape quoted in freeipa/freeipa-container#709 (PKI 11.x): a thread
    name holding IPv6 colons, `RequestRepository: Record already exists:
    Already exists`, the exception again and frames indented with spaces."""
    path = tmp_path / 'debug.2025-12-19.log'
    thread = 'ajp-nio-0:0:0:0:0:0:0:1-8009-exec-9'
    write(path, [
        '2025-12-19 17:06:00 [%s] INFO: LDAPSession: Adding cn=1,ou=ca, '
        'ou=requests,o=ipaca' % thread,
        '2025-12-19 17:06:00 [%s] SEVERE: RequestRepository: Record already '
        'exists: Already exists' % thread,
        'Record already exists: Already exists',
        '        at com.netscape.cmscore.dbs.LDAPSession.add(LDAPSession.java:1)',
    ])
    zone = __import__('zoneinfo').ZoneInfo('UTC')
    found, complete = logs_check.scan(
        [str(path)], datetime(2025, 12, 19, tzinfo=timezone.utc), zone)
    count, first, last, example = found['already_exists']
    assert (count, complete) == (1, True)
    assert first == datetime(2025, 12, 19, 17, 6, tzinfo=timezone.utc)
    assert example.startswith('[%s] RequestRepository' % thread)
    assert example.endswith('(LDAPSession.java:1)')


def test_installed_entry_points(instance, tmp_path):
    """ipa-healthcheck and dogtag-healthcheck find the source through the
    wheel's entry points and run it with no directory server at all."""
    import json
    from test_end_to_end import BIN, IPA_HEALTHCHECK
    root, _ = instance
    add(root, NOW - timedelta(minutes=10), 'Unable to add certificate '
        'record: Record already exists: Already exists')
    conf = str(tmp_path / 'hc.conf')
    env = dict(os.environ, TZ=ZONE)
    for command in ([os.path.join(BIN, 'dogtag-healthcheck')],
                    [sys.executable, '-c', IPA_HEALTHCHECK]):
        done = subprocess.run(command + [
            '--config', conf, '--source', 'dogtag.logs', '--output-type',
            'json'], capture_output=True, text=True, env=env, timeout=120)
        results = {r['kw']['key']: r for r in json.loads(done.stdout)
                   if r['source'] == 'dogtag.logs'}
        assert results['ca.debug']['result'] == 'ERROR', done.stdout
        assert results['ca.debug']['check'] == 'LogCheck'
        assert results['ca.debug']['kw']['already_exists'] == 1
        assert results['kra.debug']['result'] == 'SUCCESS'
