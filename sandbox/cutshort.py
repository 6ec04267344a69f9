"""Scans cut short by the time budget, on repositories too big to finish.

    python -m sandbox.cutshort [--records 200000] [--timeouts 1,10] [--runs 3]

Loads that many certificates and as many CA requests (by offline import),
then runs every source of `dogtag-healthcheck --output-type json` with each
`timeout`, restarting 389-DS before each run so that its caches start cold.
For each run it prints the wall time against the bound the README gives
(0.85 x timeout per check), the results by severity, the results of
ipa-healthcheck's alarm ("Request timed out", no key), CRITICAL results,
what the access log shows of our scans (searches, ABANDONs, "failed to
flush" disconnects) and any VLVIndexCheck ERROR.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

from sandbox import cadb
from sandbox.ds import DirectoryServer

PAYLOAD = os.urandom(900)       # stands in for the DER certificate
LIMIT_SHARE = 0.85              # checks/plugin.py


def load(ds, tree, records, workdir):
    conn = ds.connect()
    try:
        tree.create(conn, kra=False)
        tree.add_vlv(conn, ('allCerts', 'allValidCerts', 'caAll',
                            'caComplete'))
        entries = cadb.export_tree(conn)
    finally:
        conn.unbind_s()
    ldif = os.path.join(workdir, 'ca.ldif')

    def generate():
        yield from entries
        for n in range(1, records + 1):
            yield tree.cert(n, payload=PAYLOAD)
        for n in range(1, records + 1):
            yield tree.request(n)
    cadb.write_ldif(ldif, generate())
    cadb.import_ldif(ds, ldif)          # builds every index, VLV included
    os.unlink(ldif)


def one_run(ds, tree, config, timeout):
    ds.restart()                        # cold entry cache
    log_start = len(ds.access_log())
    started = time.monotonic()
    done = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), 'dogtag-healthcheck'),
         '--config', config, '--output-type', 'json'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - started
    time.sleep(1)                       # let the server log what follows
    log = ds.access_log()[log_start:].splitlines()
    results = json.loads(done.stdout)
    checks = len({r['check'] for r in results})
    scans = [line for line in log if 'scope=1 filter="(objectClass=*)"'
             in line and 'SRCH base="%s"' % tree.certs in line or
             'SRCH base="%s"' % tree.ca_requests in line and
             'scope=1 filter="(objectClass=*)"' in line]
    return {
        'timeout': timeout,
        'seconds': elapsed,
        'bound': checks * LIMIT_SHARE * timeout,
        'levels': collections.Counter(r['result'] for r in results),
        'alarm': sum('key' not in r['kw'] for r in results),
        'critical': sum(r['result'] == 'CRITICAL' for r in results),
        'scans': len(scans),
        'abandons': sum(' ABANDON ' in line for line in log),
        'flush': sum('failed to flush' in line for line in log),
        'ldap': sum(r['kw'].get('key') == 'ldap' for r in results),
        'vlv_errors': [r['kw'].get('msg', '')[:60] for r in results
                       if r['check'] == 'VLVIndexCheck' and
                       r['result'] == 'ERROR'],
        'incomplete': sum(r['kw'].get('scan_complete') is False
                          for r in results),
        'ldap_errors': ['%s: %s: %s' % (
            r['check'], r['kw']['what'], r['kw']['error'])
            for r in results if r['kw'].get('key') == 'ldap'],
    }


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('--records', type=int, default=200000)
    parser.add_argument('--timeouts', default='1,10')
    parser.add_argument('--runs', type=int, default=3)
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix='dogtag-cutshort-')
    ds = DirectoryServer(root=os.path.join(workdir, 'ds'))
    ds.create()
    try:
        cadb.prepare_backend(ds)
        tree = cadb.CATree()
        started = time.monotonic()
        load(ds, tree, args.records, workdir)
        print('# %d certificates + %d requests loaded in %.0f s' % (
            args.records, args.records, time.monotonic() - started),
            flush=True)
        instance_dir = os.path.join(workdir, 'pki-tomcat')
        tree.write_cs_cfg(instance_dir)
        print('%7s %8s %8s %-28s %5s %4s %5s %5s %5s %4s %10s %s' % (
            'timeout', 'seconds', 'bound', 'results', 'alarm', 'crit',
            'scans', 'aband', 'flush', 'ldap', 'incomplete', 'VLV errors'))
        for timeout in [int(t) for t in args.timeouts.split(',')]:
            config = cadb.write_healthcheck_conf(
                os.path.join(workdir, 'hc-%d.conf' % timeout), instance_dir,
                ds, '11.5.0', timeout=timeout)
            for _ in range(args.runs):
                row = one_run(ds, tree, config, timeout)
                print('%7d %8.2f %8.1f %-28s %5d %4d %5d %5d %5d %4d %10d %s'
                      % (row['timeout'], row['seconds'], row['bound'],
                         dict(row['levels']), row['alarm'], row['critical'],
                         row['scans'], row['abandons'], row['flush'],
                         row['ldap'], row['incomplete'], row['vlv_errors']),
                      flush=True)
                for line in row['ldap_errors']:
                    print('        ldap: %s' % line, flush=True)
    finally:
        ds.destroy()
        subprocess.run(['rm', '-rf', workdir])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
