"""Build a sandbox CA database with a stale VLV index and run the checks on it.

    python -m sandbox.demo [--keep] [dogtag-healthcheck options...]

The sandbox is a throwaway 389-DS instance holding an IPA-shaped `o=ipaca`
with a CA and a KRA. Its allCerts VLV index was saved, more certificates
were issued, and the old index file was put back: the fault that makes a
Dogtag CA up to PKI 11.5 reissue a serial number it already used.
"""

import os
import shutil
import subprocess
import sys
import tempfile

from sandbox import cadb
from sandbox.ds import DirectoryServer

CERTS, LATER = 2000, 25


def build(root):
    ds = DirectoryServer(root=os.path.join(root, 'ds')).create()
    cadb.prepare_backend(ds)
    tree = cadb.CATree()
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
    ds.reindex(vlv_indexes=tree.vlv_index_names(cadb.VLV))
    cadb.make_stale_vlv(ds, tree.vlv_index_names(['allCerts']),
                        tree.certs_(range(CERTS + 1, CERTS + LATER + 1)))
    instance_dir = os.path.join(root, 'pki', cadb.INSTANCE_ID)
    tree.write_cs_cfg(instance_dir, 'ca')
    tree.write_cs_cfg(instance_dir, 'kra')
    config = cadb.write_healthcheck_conf(
        os.path.join(root, 'healthcheck.conf'), instance_dir, ds, '11.5.0')
    return ds, config


def main(argv):
    keep = '--keep' in argv
    options = [a for a in argv if a != '--keep'] or ['--output-type',
                                                     'human', '--all']
    root = tempfile.mkdtemp(prefix='dogtag-sandbox-')
    print('Building a sandbox CA database (389-DS, %d certificates, a stale '
          'allCerts VLV index) in %s ...' % (CERTS + LATER, root),
          flush=True)
    ds, config = build(root)
    command = [os.path.join(os.path.dirname(sys.executable),
                            'dogtag-healthcheck'), '--config', config]
    print('$ dogtag-healthcheck --config %s %s\n'
          % (config, ' '.join(options)), flush=True)
    code = subprocess.call(command + options)
    print('\ndogtag-healthcheck exit code %d (1: findings, 0: healthy)' % code)
    if keep:
        print('The sandbox stays up: %s\nRun again with: %s' % (
            root, ' '.join(command)))
    else:
        ds.destroy()
        shutil.rmtree(root, ignore_errors=True)
    # The sandbox carries a fault: the demo worked if it was reported.
    if code != 1:
        print('The planted stale-index fault was not reported.',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
