"""Cost of the dogtag.ranges checks on big repositories, side by side with a
plain ldapsearch of the same container, in one run on one server.

    python -m sandbox.benchmark [--sizes 100000,1000000]

For each size it loads that many certificate records (about 1.5 KB each,
by offline import), then measures, each in its own process: `ldapsearch`
of the container (the floor: what reading every record costs), our
LastNumberCheck (Dogtag's lookup, the probe and the full scan), and the
quick tier alone (Dogtag's lookup and the probe). It prints wall time and
peak resident memory, and the ratio of our check to ldapsearch.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

from sandbox import cadb
from sandbox.ds import DirectoryServer

PAYLOAD = os.urandom(900)       # stands in for the DER certificate
ROUNDS = 2                      # the first round warms the caches

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


def bench(size, workdir):
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
        # timeout = 0: no time budget, so the full scan always completes.
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
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(',')]
    workdir = tempfile.mkdtemp(prefix='dogtag-bench-')
    table = []
    for size in sizes:
        rows = bench(size, workdir)
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
