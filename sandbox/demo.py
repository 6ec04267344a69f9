"""Build a sandbox CA database with a stale VLV index and run the checks on it.

    python -m sandbox.demo [--keep] [dogtag-healthcheck options...]

The sandbox is a throwaway 389-DS instance holding an IPA-shaped `o=ipaca`
with a CA and a KRA. Its allCerts VLV index was built, its definition was
taken away while more certificates were issued and then defined again
without a reindex: 389-DS trusts the old index, the fault that makes a
Dogtag CA up to PKI 11.5 reissue a serial number it already used.

Only dogtag-healthcheck's own output goes to stdout (so that
`--output-type json` can be piped); banners, progress and the closing
summary go to stderr. Exit status: 0 when the planted fault was reported,
1 when it was not, 2 when the sandbox could not plant it.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from sandbox import cadb
from sandbox.ds import DirectoryServer

CERTS, LATER = 2000, 25
STALE_INDEX = 'allCerts-%s' % cadb.INSTANCE_ID
# What the planted fault must produce, as (check, key).
EXPECTED = {('LastNumberCheck', 'ca.certificates'),
            ('VLVIndexCheck', STALE_INDEX)}


def say(*text):
    print(*text, file=sys.stderr, flush=True)


def build(ds, root):
    say('- creating a 389-DS instance ...')
    ds.create()
    cadb.prepare_backend(ds)
    tree = cadb.CATree()
    say('- loading %d certificates, %d CA requests, a KRA ...'
        % (CERTS, CERTS))
    conn = ds.connect()
    try:
        tree.create(conn)
        cadb.add_entries(conn, tree.certs_(range(1, CERTS + 1)) +
                         tree.requests_(range(1, CERTS + 1)) +
                         tree.keys_(range(1, 101)) +
                         tree.requests_(range(1, 101), kra=True))
        tree.add_vlv(conn)
    finally:
        conn.unbind_s()
    say('- building the VLV indices ...')
    ds.reindex(vlv_indexes=tree.vlv_index_names(cadb.VLV))
    cadb.verify_vlv_complete(ds, tree.vlv_index_names(cadb.VLV))
    say('- issuing %d more certificates behind the allCerts index ...'
        % LATER)
    cadb.make_stale_vlv(ds, tree.vlv_index_names(['allCerts']),
                        tree.certs_(range(CERTS + 1, CERTS + LATER + 1)))
    view = cadb.VLVView(ds, tree.vlv_index_names(['allCerts'])[0])
    say('- planted and verified: %s' % view)
    instance_dir = os.path.join(root, 'pki', cadb.INSTANCE_ID)
    tree.write_cs_cfg(instance_dir, 'ca')
    tree.write_cs_cfg(instance_dir, 'kra')
    config = cadb.write_healthcheck_conf(
        os.path.join(root, 'healthcheck.conf'), instance_dir, ds, '11.5.0')
    return config


def write_remover(root, ds):
    """A script that stops the kept sandbox's server and deletes it all."""
    path = os.path.join(root, 'remove')
    with open(path, 'w') as f:
        f.write('#!/bin/sh\n# Stop the sandbox 389-DS and delete the sandbox.\n'
                'pid=$(cat %s 2>/dev/null) && kill "$pid" 2>/dev/null &&\n'
                '    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done\n'
                'rm -rf %s\n' % (ds.pid_file, root))
    os.chmod(path, 0o755)
    return path


def summarize(results):
    """'2 ERROR, 45 SUCCESS' and whether the planted fault is among them."""
    counts = {}
    for r in results:
        counts[r['result']] = counts.get(r['result'], 0) + 1
    order = ('CRITICAL', 'ERROR', 'WARNING', 'SUCCESS')
    text = ', '.join('%d %s' % (counts[level], level)
                     for level in order if level in counts)
    found = {(r['check'], r['kw'].get('key')) for r in results
             if r['result'] == 'ERROR'}
    return text or 'no results', EXPECTED <= found


def main(argv):
    keep = '--keep' in argv
    options = [a for a in argv if a != '--keep'] or ['--output-type',
                                                     'human', '--all']
    root = tempfile.mkdtemp(prefix='dogtag-sandbox-')
    say('Building a sandbox CA database (389-DS, %d certificates, a stale '
        'allCerts VLV index) in %s' % (CERTS + LATER, root))
    ds = DirectoryServer(root=os.path.join(root, 'ds'))
    kept = False
    try:
        try:
            config = build(ds, root)
        except cadb.PlantError as e:
            say('Demo stopped: %s' % e)
            return 2
        command = [os.path.join(os.path.dirname(sys.executable),
                                'dogtag-healthcheck'), '--config', config]
        # Every result, as JSON, for the summary; then what the user asked.
        found = os.path.join(root, 'results.json')
        subprocess.call(command + ['--output-type', 'json', '--all',
                                   '--output-file', found])
        with open(found) as f:
            counts, reported = summarize(json.load(f))
        say('$ dogtag-healthcheck --config %s %s\n'
            % (config, ' '.join(options)))
        code = subprocess.call(command + options)
        say('\ndogtag-healthcheck exit code %d (1: findings, 0: healthy)'
            % code)
        if keep:
            kept = True
            say('The sandbox stays up in %s\nRun again with: %s\n'
                'Stop and remove it with: %s'
                % (root, ' '.join(command), write_remover(root, ds)))
        say('%s: the planted stale allCerts index was %s' % (
            counts, 'found' if reported else 'NOT reported'))
        return 0 if reported and code == 1 else 1
    finally:
        if not kept:
            ds.destroy()
            shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
