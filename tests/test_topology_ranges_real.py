"""A healthy IPA-like CA topology on three replicating 389-DS instances: a
first CA and KRA and two clones of each, with the ranges they really hold
after their first start (replayed by sandbox/clones.py from pkispawn's request_ranges,
UpdateNumberRange and Repository.checkRanges, dogtagpki/pki v11.5.0 and
master). Every dogtag.ranges check on every server must say SUCCESS."""

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ipahealthcheck.core.config import read_config

from sandbox import cadb
from sandbox import clones
from sandbox import replication as repl
from sandbox.ds import DirectoryServer
from conftest import run_checks

HOSTS = ('127.0.0.1', '127.0.0.2', '127.0.0.3')
NAMES = ('ipa1.ipa.test', 'ipa2.ipa.test', 'ipa3.ipa.test')
TREE = cadb.CATree()
BASES = {'ca': TREE.base, 'kra': TREE.kra_base}
RANGE_VLV = ('allCerts', 'caAll', 'kraAll')   # each server defines its own
# IPA's first CA and KRA: pkispawn's legacy defaults, replica IDs 1..100
# from the CS.cfg template, serial management off (deployment/__init__.py
# configure_ca / configure_kra; base/ca, base/kra shared/conf/CS.cfg).
OFF = {'dbs.enableSerialManagement': 'false'}
BOOKKEEPING = ('RangeConfigCheck', 'RangeDepletionCheck', 'CloneTransferCheck',
               'NextRangeCheck', 'RangeOverlapCheck', 'RangeConflictCheck')
# What a healthy topology may show: valid ranges (with or without standby),
# numbers left, replica IDs drawn by clones, transfers served, nextRange
# above, no overlap (handed-over ranges included), no conflict.
SETTLED = {'DTR0301', 'DTR0302', 'DTR0308', 'DTR0310', 'DTR0316', 'DTR0317',
           'DTR0318', 'DTR0324', 'DTR0334', 'DTR0335', 'DTR0337'}
MASTER = {'ca': dict(cadb.CA_DEFAULTS, **OFF),
          'kra': dict(cadb.KRA_DEFAULTS, **OFF)}
CLONE = {'ca': cadb.CA_DEFAULTS, 'kra': cadb.KRA_DEFAULTS}


def _dbs(server):
    return {k: v for k, v in server.cfg.items()
            if k.startswith('dbs.') or k == 'machineName'}


class Topology:
    def __init__(self, tmp):
        self.tmp = tmp
        self.ds = [DirectoryServer(name='ca%d' % n, hostname=host)
                   for n, host in enumerate(HOSTS, 1)]
        self.servers = []               # [{'ca': Server, 'kra': Server}]

    def build(self):
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda s: s.create(cache_mb=64), self.ds))
        for rid, ds in enumerate(self.ds, 1):
            cadb.prepare_backend(ds)
            repl.enable_supplier(ds, rid)
        for b in (1, 2):
            repl.add_agreement(self.ds[0], 'caTo%s' % HOSTS[b], HOSTS[b],
                               self.ds[b].port)
        # the first server's install (nextRange by pki-server
        # <sub>-range-update) and what it issued before any clone existed
        master = {sub: clones.Server(NAMES[0], MASTER[sub], sub)
                  for sub in ('ca', 'kra')}
        issued = {'ca': (TREE.certs_(range(1, 13)),
                         TREE.requests_(range(1, 13))),
                  'kra': (TREE.keys_(range(1, 6)),
                          TREE.requests_(range(1, 6), kra=True))}
        self._on(0, lambda conn: TREE.create(conn, kra=True))
        for sub, (numbers, requests) in issued.items():
            self._on(0, lambda conn: cadb.add_entries(conn, numbers +
                                                      requests))
            master[sub].issued['serialNo'] = list(
                range(1, 1 + len(numbers)))
            master[sub].issued['request'] = list(
                range(1, 1 + len(requests)))
        for b in (1, 2):
            repl.initialize(self.ds[0], 'caTo%s' % HOSTS[b])
        # then the rest of the full mesh IPA's CA segments give
        for a, b in ((1, 0), (2, 0), (1, 2), (2, 1)):
            repl.add_agreement(self.ds[a], 'caTo%s' % HOSTS[b], HOSTS[b],
                               self.ds[b].port)
        self.servers = [master]
        for n in (1, 2):
            self.servers.append({sub: self._clone(master[sub], n)
                                 for sub in ('ca', 'kra')})
        # the first server restarts too: far above its low-water marks
        for sub in ('ca', 'kra'):
            self._on(0, lambda conn: clones.start(master[sub], conn,
                                                  BASES[sub]))
        for ds in self.ds:
            self._on(self.ds.index(ds),
                     lambda conn: TREE.add_vlv(conn, RANGE_VLV))
            ds.reindex(vlv_indexes=TREE.vlv_index_names(RANGE_VLV))
        for n, server in enumerate(self.servers):
            for sub in ('ca', 'kra'):
                TREE.write_cs_cfg(self.instance_dir(n), sub, **{
                    k.replace('.', '__'): v
                    for k, v in server[sub].cfg.items()})

    def _clone(self, master, n):
        """pkispawn on server n, its first start, one number and one
        request issued, all replicated before the next step."""
        base = BASES[master.subsystem]
        clone = self._on(0, lambda conn: clones.spawn_clone(
            master, NAMES[n], CLONE[master.subsystem], conn, base))
        self._on(n, lambda conn: clones.start(clone, conn, base))
        number = clone.get('serialNo', 'begin*Number')
        request = clone.get('request', 'begin*Number')
        kra = master.subsystem == 'kra'
        entries = [TREE.key(number) if kra else TREE.cert(number),
                   TREE.request(request, kra=kra)]
        self._on(n, lambda conn: cadb.add_entries(conn, entries))
        clone.issued['serialNo'].append(number)
        clone.issued['request'].append(request)
        for ds in self.ds:
            for dn, _ in entries:
                assert repl.wait_for(ds, dn)
        self._settle()
        return clone

    def _on(self, n, action):
        conn = self.ds[n].connect()
        try:
            return action(conn)
        finally:
            conn.unbind_s()

    def _settle(self):
        """Wait until every server shows the same nextRange values."""
        dns = ['%s,%s' % (rdns[0], BASES[sub])
               for sub, repos in clones.CONTAINERS.items()
               for rdns in repos.values()]

        def values(ds):
            conn = ds.connect()
            try:
                return [conn.search_s(dn, 0, attrlist=['nextRange'])[0][1]
                        for dn in dns]
            finally:
                conn.unbind_s()
        deadline = time.time() + 30
        while time.time() < deadline:
            seen = [values(ds) for ds in self.ds]
            if all(v == seen[0] for v in seen):
                return
            time.sleep(0.2)
        raise AssertionError('nextRange did not replicate: %r' % seen)

    def instance_dir(self, n):
        return str(self.tmp / ('server%d' % n) / cadb.INSTANCE_ID)

    def run(self, n, pki_version):
        path = str(self.tmp / ('healthcheck-%d.conf' % n))
        cadb.write_healthcheck_conf(path, self.instance_dir(n), self.ds[n],
                                    pki_version)
        return run_checks(read_config(path), source='dogtag.ranges')


@pytest.fixture(scope='module')
def topology(tmp_path_factory):
    topology = Topology(tmp_path_factory.mktemp('topology'))
    try:
        topology.build()
        yield topology
    finally:
        for ds in topology.ds:
            ds.destroy()


def test_the_clones_hold_what_dogtag_gives_them(topology):
    """The replayed state: each clone's active ranges came from the end of
    the master's (transfer sizes 10000, 0x10000, 5), its standby ranges
    from nextRange at its first start (PKI >= 10.11 arithmetic for hex
    serials), and no replica ID standby range anywhere."""
    master, first, second = (_dbs(s['ca']) for s in topology.servers)
    assert (first['dbs.beginRequestNumber'],
            first['dbs.endRequestNumber']) == ('9990001', '10000000')
    assert (second['dbs.beginRequestNumber'],
            second['dbs.endRequestNumber']) == ('9980001', '9990000')
    assert (first['dbs.beginSerialNumber'],
            first['dbs.endSerialNumber']) == ('fff0001', '10000000')
    assert (first['dbs.nextBeginSerialNumber'],
            first['dbs.nextEndSerialNumber']) == ('10000001', '20000000')
    assert second['dbs.nextBeginSerialNumber'] == '278435457'
    assert (first['dbs.beginReplicaNumber'],
            first['dbs.endReplicaNumber']) == ('96', '100')
    assert (second['dbs.beginReplicaNumber'],
            second['dbs.endReplicaNumber']) == ('91', '95')
    assert master['dbs.endReplicaNumber'] == '90'
    assert master['dbs.enableSerialManagement'] == 'true'
    for server in (master, first, second):
        assert 'dbs.nextBeginReplicaNumber' not in server
    kra = [_dbs(s['kra']) for s in topology.servers]
    assert (kra[1]['dbs.beginReplicaNumber'],
            kra[1]['dbs.endReplicaNumber']) == ('96', '100')
    assert (kra[2]['dbs.beginSerialNumber'],
            kra[2]['dbs.endSerialNumber']) == ('ffe0001', 'fff0000')
    assert kra[2]['dbs.nextBeginSerialNumber'] == '278435457'


@pytest.mark.parametrize('pki_version', ['11.5.0', '11.6.0'])
@pytest.mark.parametrize('n', [0, 1, 2])
def test_every_range_check_is_quiet_on_every_server(topology, n,
                                                    pki_version):
    """Both lookups (VLV up to 11.5, sorted search from 11.6)."""
    results = topology.run(n, pki_version)
    checks = {r['check'] for r in results}
    assert {'RangeConfigCheck', 'RangeDepletionCheck', 'CloneTransferCheck',
            'NextRangeCheck', 'RangeOverlapCheck', 'RangeConflictCheck',
            'LastNumberCheck'} <= checks
    noisy = [(r['check'], r['kw'].get('key'), r['result'], r['text'])
             for r in results if r['result'] != 'SUCCESS']
    assert not noisy
    # The bookkeeping checks' declared outcomes (findings/bookkeeping.py).
    bookkept = {(r['check'], r['kw']['key']): r['kw']['code']
                for r in results if r['check'] in BOOKKEEPING}
    assert set(bookkept.values()) <= SETTLED, bookkept
    keys = {r['kw'].get('key') for r in results}
    assert {'ca.certificates', 'ca.requests', 'ca.replica_ids', 'kra.keys',
            'kra.requests', 'kra.replica_ids'} <= keys
    assert all(r['kw'].get('server', NAMES[n]) == NAMES[n] for r in results
               if 'server' in r['kw'])


def test_the_cluster_view_sees_no_shared_numbers(topology, tmp_path):
    """The same three servers side by side (dogtag-healthcheck JSON, then
    dogtag-clustercheck): no two own the same numbers in any repository."""
    bindir = os.path.dirname(sys.executable)
    reports = tmp_path / 'reports'
    reports.mkdir()
    for n in range(3):
        conf = cadb.write_healthcheck_conf(
            str(tmp_path / ('%d.conf' % n)), topology.instance_dir(n),
            topology.ds[n], '11.5.0')
        subprocess.run([os.path.join(bindir, 'dogtag-healthcheck'),
                        '--source', 'dogtag.ranges', '--config', conf,
                        '--output-file', str(reports / ('%s.json' % NAMES[n]))],
                       check=False, timeout=300)
    done = subprocess.run([os.path.join(bindir, 'dogtag-clustercheck'),
                           str(reports), '--output-type', 'json'],
                          stdout=subprocess.PIPE, text=True, timeout=120)
    owned = {r['kw']['key']: r['result'] for r in json.loads(done.stdout)
             if r['check'] == 'RangeOwnershipCheck'}
    assert set(owned.values()) == {'SUCCESS'}, owned
    # Only repositories own ranges: no row for a VLV index's result.
    assert {'ca.certificates', 'ca.requests', 'ca.replica_ids', 'kra.keys',
            'kra.requests', 'kra.replica_ids'} == set(owned)
