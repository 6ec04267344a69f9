"""Cost of the dogtag.ranges checks on big repositories, side by side with a
plain ldapsearch of the same container, in one run on one server.

    python -m sandbox.benchmark [--sizes 100000,1000000] [--verdict-only]
                                [--limits]

For each size it loads that many certificate records (about 1.5 KB each,
by offline import), then first runs dogtag-healthcheck three times with
ipa-healthcheck's default `timeout = 10`, starting from the cold cache the
import leaves, and prints what LastNumberCheck and VLVIndexCheck report
(result, proof, whether the full scan finished). Then (unless
--verdict-only) it measures, each in its own process: `ldapsearch` of the
container (the floor: what reading every record costs), our
LastNumberCheck with no time budget (Dogtag's lookup, the probe and the
full scan), and the quick tier alone (Dogtag's lookup and the probe). It
prints wall time and peak resident memory, and the ratio of our check to
ldapsearch.

With --limits it runs dogtag.limits instead (the same default timeout,
three runs from the cold cache, PKI 11.5 and a pkidbuser entry without
limits of its own), and prints each result with its time: the verdicts on
Dogtag's start-up searches after an upgrade and on a new replica, which
rest on numSubordinates and counts capped at each limit + 1.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from sandbox import cadb
from sandbox.ds import DirectoryServer

PAYLOAD = os.urandom(900)       # stands in for the DER certificate
ROUNDS = 2                      # the first round warms the caches
DEFAULT_TIMEOUT = 10            # ipa-healthcheck's default
VERDICT_RUNS = 3

QUICK_TIER = '''
import sys, time
from ipahealthcheck.core.config import read_config
from ipahealthcheck_dogtag.discovery import Settings, discover
from ipahealthcheck_dogtag.directory import Directory
from ipahealthcheck_dogtag.dogtag.repositories import repositories
from ipahealthcheck_dogtag.dogtag.lookup import dogtag_lookup
from ipahealthcheck_dogtag.dogtag import truth
db = discover(Settings(read_config(sys.argv[1])))
repo = {k.key: r for k, r in repositories(db)}['ca.certificates']
d = Directory(db.ldap_uri)
answer = dogtag_lookup(d, repo, db.pki_version)
probe = truth.probe(d, repo, answer.last, 60)
assert answer.last > 0 and not probe.found
'''


def measure(argv, **kw):
    """(seconds, peak RSS in MiB) of one child process."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, **kw)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError('%s failed' % argv[0])
    return elapsed, usage.ru_maxrss / 1024.0


def load(ds, tree, size, workdir):
    conn = ds.connect()
    try:
        # Dogtag's validity indices (dogtagpki/pki v11.6.0 base/ca/database/
        # ds/index.ldif: notBefore, notAfter), which the status update's
        # searches use; built by the import.
        for attr in ('notBefore', 'notAfter'):
            cadb.add(conn, 'cn=%s,cn=index,cn=ipaca,cn=ldbm database,'
                     'cn=plugins,cn=config' % attr.lower(),
                     objectClass=['top', 'nsIndex'], cn=attr.lower(),
                     nsSystemIndex='false', nsIndexType=['eq', 'pres'])
        tree.create(conn, kra=False)
        tree.add_vlv(conn, ('allCerts', 'caAll'))
        entries = cadb.export_tree(conn)
    finally:
        conn.unbind_s()
    ldif = os.path.join(workdir, 'ca.ldif')

    def records():
        yield from entries
        for n in range(1, size + 1):
            yield tree.cert(n, payload=PAYLOAD)
        for n in range(1, 101):
            yield tree.request(n)
    cadb.write_ldif(ldif, records())
    cadb.import_ldif(ds, ldif)
    os.unlink(ldif)
    ds.reindex(vlv_indexes=tree.vlv_index_names(['allCerts', 'caAll']))


def verdicts(ds, instance_dir, workdir, size):
    """What the range checks report with the default timeout, run after run
    from a cold cache: (run, check, key, result, proof, scan_complete, s)."""
    config = cadb.write_healthcheck_conf(
        os.path.join(workdir, 'hc-default-%d.conf' % size), instance_dir, ds,
        '11.5.0', timeout=DEFAULT_TIMEOUT)
    command = [os.path.join(os.path.dirname(sys.executable),
                            'dogtag-healthcheck'), '--config', config,
               '--source', 'dogtag.ranges', '--output-type', 'json']
    rows = []
    for run in range(1, VERDICT_RUNS + 1):
        started = time.monotonic()
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        elapsed = time.monotonic() - started
        for result in json.loads(done.stdout or '[]'):
            if result['check'] in ('LastNumberCheck', 'VLVIndexCheck'):
                kw = result['kw']
                rows.append((run, result['check'], kw['key'],
                             result['result'], kw.get('proof', '-'),
                             kw.get('scan_complete', '-'), elapsed))
    return rows


def limit_verdicts(ds, tree, instance_dir, workdir, size):
    """dogtag.limits with the default timeout: (run, key, result, code,
    limit exceeded, limit, records counted, the check's own duration,
    the whole command's seconds)."""
    conn = ds.connect()
    try:
        cadb.add(conn, 'uid=pkidbuser,ou=people,' + tree.base,
                 objectClass=['top', 'person', 'organizationalPerson',
                              'inetOrgPerson'], uid='pkidbuser',
                 cn='pkidbuser', sn='pkidbuser')
    finally:
        conn.unbind_s()
    config = cadb.write_healthcheck_conf(
        os.path.join(workdir, 'hc-limits-%d.conf' % size), instance_dir, ds,
        '11.5.0', timeout=DEFAULT_TIMEOUT)
    command = [os.path.join(os.path.dirname(sys.executable),
                            'dogtag-healthcheck'), '--config', config,
               '--source', 'dogtag.limits', '--output-type', 'json']
    rows = []
    for run in range(1, VERDICT_RUNS + 1):
        started = time.monotonic()
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        elapsed = time.monotonic() - started
        for result in json.loads(done.stdout or '[]'):
            kw = result['kw']
            rows.append((run, kw['key'], result['result'], kw['code'],
                         kw.get('limit_exceeded') or '-',
                         str(kw.get('limit', '-')),
                         str(kw.get('candidates', kw.get('matching', '-'))),
                         float(result.get('duration') or 0), elapsed))
    return rows


def bench(size, workdir, verdict_only=False, limits=False):
    ds = DirectoryServer(root=os.path.join(workdir, 'ds-%d' % size))
    ds.create(cache_mb=2048)
    try:
        cadb.prepare_backend(ds)
        tree = cadb.CATree()
        started = time.monotonic()
        load(ds, tree, size, workdir)
        print('# %d records loaded in %.0f s' % (
            size, time.monotonic() - started), flush=True)
        instance_dir = os.path.join(workdir, 'pki-%d' % size, 'pki-tomcat')
        tree.write_cs_cfg(instance_dir)
        if limits:
            rows = limit_verdicts(ds, tree, instance_dir, workdir, size)
            print('\n%-4s %-30s %-8s %-8s %-26s %-8s %-10s %7s %7s' % (
                'run', 'key', 'result', 'code', 'limit exceeded', 'limit',
                'records', 'check s', 'run s'))
            for row in rows:
                print('%-4d %-30s %-8s %-8s %-26s %-8s %-10s %7.2f %7.1f'
                      % row, flush=True)
            return {}
        # timeout = 0: no time budget, so the full scan always completes.
        judged = verdicts(ds, instance_dir, workdir, size)
        print('\n%-4s %-16s %-28s %-8s %-22s %-6s %7s' % (
            'run', 'check', 'key', 'result', 'proof', 'scan', 'seconds'))
        for row in judged:
            print('%-4d %-16s %-28s %-8s %-22s %-6s %7.1f' % row, flush=True)
        if verdict_only:
            return {}
        config = cadb.write_healthcheck_conf(
            os.path.join(workdir, 'hc-%d.conf' % size), instance_dir, ds,
            '11.5.0', timeout=0)
        bindir = os.path.dirname(sys.executable)
        commands = {
            'ldapsearch (one-level, serialno certStatus)': [
                'ldapsearch', '-Q', '-LLL', '-Y', 'EXTERNAL', '-H',
                ds.ldapi_uri, '-s', 'one', '-b', tree.certs,
                '(objectClass=*)', 'serialno', 'certStatus'],
            'LastNumberCheck (lookup + probe + full scan)': [
                os.path.join(bindir, 'dogtag-healthcheck'), '--config',
                config, '--source', 'dogtag.ranges', '--check',
                'LastNumberCheck'],
            'quick tier only (lookup + probe)': [
                sys.executable, '-c', QUICK_TIER, config],
        }
        rows = {}
        for _ in range(ROUNDS):
            for name, argv in commands.items():
                rows[name] = measure(argv)
        return rows
    finally:
        ds.destroy()


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('--sizes', default='100000,1000000')
    parser.add_argument('--verdict-only', action='store_true',
                        help='only the runs with the default timeout')
    parser.add_argument('--limits', action='store_true',
                        help='dogtag.limits instead of dogtag.ranges')
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(',')]
    workdir = tempfile.mkdtemp(prefix='dogtag-bench-')
    table = []
    for size in sizes:
        rows = bench(size, workdir, args.verdict_only, args.limits)
        if not rows:
            continue
        floor = rows['ldapsearch (one-level, serialno certStatus)']
        for name, (seconds, rss) in rows.items():
            table.append((size, name, seconds, rss, seconds / floor[0],
                          rss / floor[1]))
    subprocess.run(['rm', '-rf', workdir])
    print('\n%-9s %-46s %9s %9s %9s %9s' % (
        'records', 'measured (cached, second round)', 'seconds',
        'peak MiB', 't ratio', 'mem ratio'))
    for size, name, seconds, rss, tratio, mratio in table:
        print('%-9d %-46s %9.2f %9.1f %9.3f %9.2f' % (
            size, name, seconds, rss, tratio, mratio))
    print('\nratios are against ldapsearch of the same container in the '
          'same run; %d cores, %s' % (
              os.cpu_count(), os.uname().release))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
