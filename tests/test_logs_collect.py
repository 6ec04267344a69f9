"""dogtag-diagnose collect on a generated host tree: window, caps, rotated
and compressed logs, journal, manifest, and redaction (a planted secret
reaches neither the archive nor any output)."""

import gzip
import json
import os
import stat
import subprocess
import sys
import tarfile
from datetime import timedelta

from ipahealthcheck_dogtag.logs import collect, timeline
from logfixtures import (MASTER, REPLICA, T0, Host, ds_access, journal,
                         replica_install)

SECRET = 'Pl4nted-S3cret'
KOLKATA = 'Asia/Kolkata'


def s(n):
    return T0 + timedelta(seconds=n)


def replica_tree(tmp_path):
    host = Host(tmp_path, REPLICA, KOLKATA)
    os.makedirs(os.path.join(host.root, 'etc', 'dirsrv', 'slapd-IPA-TEST'))
    with open(os.path.join(host.root, 'etc', 'hostname'), 'w') as f:
        f.write(REPLICA + '\n')
    replica_install(host, T0, pkispawn_errors=[(
        85, "CalledProcessError: Command '['pki-server', 'ca-range-request']'"
        " returned non-zero exit status 255.")])
    host.ipa(s(2), "args=['/usr/sbin/ipa-replica-install', '--password', "
             "'%s', '-w', '%s']" % (SECRET, SECRET))
    host.pkispawn(s(65), 'Contents of pkispawn configuration file:')
    host.add(host.spawn_name, ['pki_admin_password = %s' % SECRET,
                               "{'pki_ds_password': '%s'}" % SECRET])
    host.pkispawn(s(66), 'Authorization: Basic %s' % SECRET)
    host.debug(s(-2 * 86400), 'OLD-LINE-OUTSIDE the window')
    host.debug(s(70), 'GET /ca/admin/ca/getStatus?sessionID=%s&x=1' % SECRET)
    host.ds(s(50), 'bind with userPassword=%s refused' % SECRET)
    host.write()
    # a rotated, compressed access log holding window lines
    rotated = os.path.join(host.root, 'var/log/dirsrv/slapd-IPA-TEST/'
                           'access.20240305-133000.gz')
    with gzip.open(rotated, 'wt') as f:
        f.write(ds_access(s(45), KOLKATA, 'conn=3 op=1 RESULT err=68 '
                          'tag=105 nentries=0 etime=0.01') + '\n')
    return host


def fake_journalctl(tmp_path):
    path = str(tmp_path / 'journalctl')
    lines = [journal(s(84), KOLKATA, 'Cookie: JSESSIONID=%s' % SECRET),
             journal(s(86), KOLKATA, 'SEVERE: UpdateNumberRange failed')]
    with open(path, 'w') as f:
        f.write('#!/bin/sh\ncase "$*" in *pki-tomcatd@*)\ncat <<"EOF"\n%s\nEOF\n'
                ';;\nesac\n' % '\n'.join(lines))
    os.chmod(path, stat.S_IRWXU)
    return path


def archive_text(path):
    text = []
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            if member.isfile():
                text.append(tar.extractfile(member).read().decode())
    return '\n'.join(text)


def test_collect_window_redaction_and_manifest(tmp_path):
    host = replica_tree(tmp_path)
    out = str(tmp_path / 'out.tar.gz')
    path, manifest = collect.collect(host.root, output=out,
                                     journalctl=fake_journalctl(tmp_path))
    text = archive_text(path)
    assert SECRET not in text
    assert SECRET not in json.dumps(manifest)
    assert 'OLD-LINE-OUTSIDE' not in text
    assert 'err=68' in text                         # from the .gz rotation
    assert manifest['fqdn'] == REPLICA and manifest['zone'] == KOLKATA
    assert manifest['utc_offsets'] == [{'from': manifest['window']['start'],
                                        'offset': '+0530'}]
    assert manifest['window']['start'] < timeline.iso(s(1))
    assert manifest['window']['end'] > timeline.iso(s(124))
    counts = manifest['redactions']
    assert counts['keyvalue'] >= 3 and counts['authorization'] == 1
    assert counts['cookie'] == 1 and counts['option'] >= 2
    journals = {j['unit']: j for j in manifest['journal']}
    assert journals['pki-tomcatd@pki-tomcat.service']['entries'] == 2
    assert journals['dirsrv@IPA-TEST.service']['entries'] == 0
    paths = {f['path'] for f in manifest['files']}
    assert 'var/log/dirsrv/slapd-IPA-TEST/access.20240305-133000' in paths
    # the archive is an input of analyse, and nothing secret comes out
    script = os.path.join(os.path.dirname(sys.executable), 'dogtag-diagnose')
    for extra in ([], ['--json'], ['--all']):
        result = subprocess.run([script, 'analyse', path] + extra,
                                capture_output=True, text=True, check=True)
        assert SECRET not in result.stdout + result.stderr
    report = json.loads(subprocess.run(
        [script, 'analyse', '--json', path], capture_output=True, text=True,
        check=True).stdout)
    assert report['hosts'][0]['host'] == REPLICA
    assert report['hosts'][0]['origin'] == 'archive'
    assert any(e['source'].startswith('journal:') for e in
               report['timeline'])


def test_collect_command_without_journalctl(tmp_path):
    """The console script on a root prefix: journal skipped, not failed;
    the per-file cap keeps each log's end."""
    host = replica_tree(tmp_path)
    out = str(tmp_path / 'c.tar.gz')
    script = os.path.join(os.path.dirname(sys.executable), 'dogtag-diagnose')
    result = subprocess.run(
        [script, 'collect', '--root', host.root, '-o', out,
         '--since', '2024-03-05T13:00:00Z', '--until', '2024-03-05T15:00:00',
         '--max-file-mib', '0.0005'], capture_output=True, text=True,
        check=True)
    assert SECRET not in result.stdout + result.stderr
    with tarfile.open(out) as tar:
        name = [n for n in tar.getnames() if n.endswith('manifest.json')][0]
        manifest = json.load(tar.extractfile(name))
    assert manifest['window'] == {'start': '2024-03-05T13:00:00Z',
                                  'end': '2024-03-05T15:00:00Z'}
    assert all(j['skipped'] == 'the journal is read only for the root /'
               for j in manifest['journal'])
    ipa = [f for f in manifest['files'] if f['source'] == 'ipa'][0]
    assert ipa['truncated_lines'] > 0 and ipa['bytes'] <= 525
    assert 'command failed' in archive_text(out)


def test_collect_refuses_empty_window(tmp_path):
    host = replica_tree(tmp_path)
    script = os.path.join(os.path.dirname(sys.executable), 'dogtag-diagnose')
    result = subprocess.run(
        [script, 'collect', '--root', host.root, '-o',
         str(tmp_path / 'x.tar.gz'), '--since', '2024-03-05T15:00:00Z',
         '--until', '2024-03-05T13:00:00Z'], capture_output=True, text=True)
    assert result.returncode == 2
    assert 'window is empty' in result.stderr
    assert MASTER not in result.stderr


SCRIPT = os.path.join(os.path.dirname(sys.executable), 'dogtag-diagnose')


def diagnose(*args):
    return subprocess.run([SCRIPT] + list(args), capture_output=True,
                          text=True, timeout=120)


def test_collect_with_nothing_to_collect(tmp_path):
    """Before: an archive holding only its manifest, and exit 0."""
    out = tmp_path / 'x.tar.gz'
    result = diagnose('collect', '--root', str(tmp_path / 'nonexistent'),
                      '-o', str(out))
    assert result.returncode == 2
    assert 'cannot read --root %s' % (tmp_path / 'nonexistent') in \
        result.stderr
    assert not out.exists()

    empty = tmp_path / 'host'
    (empty / 'var' / 'log').mkdir(parents=True)
    result = diagnose('collect', '--root', str(empty), '-o', str(out))
    assert result.returncode == 1, result.stderr
    assert 'nothing to collect, no archive written: expected a log of ' \
        'the window' in result.stderr
    assert 'found no log file; journal of pki-tomcatd@pki-tomcat.service' \
        ' (the journal is read only for the root /)' in result.stderr
    assert 'Traceback' not in result.stderr
    assert not out.exists()

    # Logs, none of them in the window: each is named with its reason.
    host = replica_tree(tmp_path)
    result = diagnose('collect', '--root', host.root, '-o', str(out),
                      '--since', '2020-01-01T00:00:00Z',
                      '--until', '2020-01-02T00:00:00Z')
    assert result.returncode == 1, result.stderr
    assert 'var/log/ipareplica-install.log (older than the window)' in \
        result.stderr or 'nothing in the window' in result.stderr
    assert not out.exists()


def no_failure_host(tmp_path):
    """Debug lines every half hour over six hours, and no failed install."""
    host = Host(tmp_path, REPLICA, 'UTC')
    for n in range(13):
        host.debug(T0 + timedelta(minutes=30 * n), 'SEVERE line %d' % n,
                   level='SEVERE')
    return host.write()


def window_of(*args):
    result = diagnose('analyse', '--json', *args)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report['failure'] is None
    return report['window'], [e['text'] for e in report['timeline']]


def test_analyse_honours_one_bound(tmp_path):
    """Before: without a failure, --since alone or --until alone was
    dropped for the last two hours of the logs."""
    root = no_failure_host(tmp_path)
    window, texts = window_of(root)
    assert window == {'start': '2024-03-05T18:00:00Z',
                      'end': '2024-03-05T20:00:00Z'}
    window, texts = window_of(root, '--since', '2024-03-05T15:00:00Z')
    assert window == {'start': '2024-03-05T15:00:00Z',
                      'end': '2024-03-05T20:00:00Z'}
    assert any(t.endswith('SEVERE line 2') for t in texts)
    assert not any(t.endswith('SEVERE line 1') for t in texts)
    window, texts = window_of(root, '--until', '2024-03-05T16:00:00Z')
    assert window == {'start': '2024-03-05T14:00:00Z',
                      'end': '2024-03-05T16:00:00Z'}
    assert any(t.endswith('SEVERE line 0') for t in texts)
    assert not any(t.endswith('SEVERE line 5') for t in texts)


def test_analyse_refuses_bad_margins(tmp_path):
    root = no_failure_host(tmp_path)
    for option, value in (('--after', '-5'), ('--before', '-1'),
                          ('--after', 'nan'), ('--before', 'inf')):
        result = diagnose('analyse', root, option, value)
        assert result.returncode == 2, (option, value)
        assert 'usage: dogtag-diagnose' in result.stderr
        assert 'expected a number of minutes, 0 or more' in result.stderr
        assert 'Traceback' not in result.stderr
    result = diagnose('analyse', root, '--since', '2024-03-05T16:00:00Z',
                      '--until', '2024-03-05T15:00:00Z')
    assert result.returncode == 2
    assert 'the window is empty' in result.stderr
