"""dogtag.replication and dogtag.accounts on real replicating 389-DS instances.

Three servers on loopback replicate o=ipaca: ca1 (127.0.0.1, the one we
check) with ca2 (127.0.0.2) and ca3 (127.0.0.3), agreements both ways. ca1
also holds a small IPA suffix with cn=masters and the CA topology segments.
The tests run in order and share the servers; each puts back what it
changes.
"""

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

import ldap
import pytest

from ipahealthcheck.core.config import read_config

from sandbox import cadb
from sandbox import replication as repl
from sandbox.ds import DirectoryServer
from conftest import by_key, run_checks

IPA_BASE = 'dc=ipa,dc=test'
HOSTS = ('127.0.0.1', '127.0.0.2', '127.0.0.3')
PEOPLE = 'ou=people,o=ipaca'
GROUPS = ('Enterprise CA Administrators', 'Enterprise KRA Administrators',
          'Security Domain Administrators')


class Cluster:
    def __init__(self, tmp):
        self.tmp = tmp
        self.servers = [
            DirectoryServer(name='ca%d' % n, hostname=host,
                            suffixes={'userroot': IPA_BASE} if n == 1
                            else None)
            for n, host in enumerate(HOSTS, 1)]
        self.a, self.b, self.c = self.servers
        self.topology = repl.IPATopology(IPA_BASE)
        self.instance_dir = str(tmp / 'pki-tomcat')
        self.extra = {}

    def build(self):
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda s: s.create(cache_mb=64), self.servers))
        for rid, server in enumerate(self.servers, 1):
            cadb.prepare_backend(server)
            # Every supplier gets IPA's schema before any agreement exists:
            # at the start of a session a supplier may push its schema,
            # with its nsSchemaCSN, over the consumer's (389-ds-base
            # repl5_connection.c conn_push_schema, called from
            # repl5_inc_protocol.c and repl5_tot_protocol.c); one without
            # IPA's classes would take them away.
            with self.connect(server) as conn:
                repl.load_ipa_schema(conn)
            repl.enable_supplier(server, rid)
        for peer, host in zip(self.servers[1:], HOSTS[1:]):
            repl.add_agreement(self.a, 'caTo%s' % host, host, peer.port)
            repl.add_agreement(peer, 'caTo%s' % HOSTS[0], HOSTS[0],
                               self.a.port)
        with self.connect() as conn:
            cadb.CATree().create(conn, kra=False)
            for group in GROUPS:
                cadb.add(conn, 'cn=%s,ou=groups,o=ipaca' % group,
                         objectClass=['top', 'groupOfUniqueNames'],
                         cn=group)
            self.topology.create(conn)
            for host in HOSTS:
                self.topology.add_server(conn, host)
            for host in HOSTS[1:]:
                self.topology.add_segment(conn, HOSTS[0], host)
        for host in HOSTS[1:]:
            repl.initialize(self.a, 'caTo%s' % host)
        cadb.CATree().write_cs_cfg(self.instance_dir,
                                   machineName=HOSTS[0])

    def connect(self, server=None):
        return (server or self.a).session()

    def run(self, check, **extra):
        path = str(self.tmp / 'healthcheck.conf')
        settings = dict({'dogtag_ipa_basedn': IPA_BASE}, **self.extra)
        settings.update(extra)
        settings = {k: v for k, v in settings.items() if v is not None}
        cadb.write_healthcheck_conf(path, self.instance_dir, self.a,
                                    '11.5.0', **settings)
        return by_key(run_checks(read_config(path), check), check)

    def write(self, server, uid):
        """Add a person on `server`; returns its DN."""
        dn = 'uid=%s,%s' % (uid, PEOPLE)
        with self.connect(server) as conn:
            cadb.add(conn, dn, objectClass=['top', 'person',
                                            'organizationalPerson',
                                            'inetOrgPerson'],
                     uid=uid, cn=uid, sn=uid)
        return dn


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp('cluster'))
    try:
        cluster.build()
        yield cluster
    finally:
        for server in cluster.servers:
            server.destroy()


def wait(predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


# -- replication -------------------------------------------------------------

def test_changes_replicate_both_ways(cluster):
    for origin in cluster.servers:
        dn = cluster.write(origin, 'from-%s' % origin.name)
        for other in cluster.servers:
            assert repl.wait_for(other, dn), (origin.name, other.name)


def test_healthy_agreements_are_quiet(cluster):
    found = cluster.run('AgreementCheck')
    assert {k: r['result'] for k, r in found.items()} == {
        '127.0.0.2': 'SUCCESS', '127.0.0.3': 'SUCCESS'}
    kw = found['127.0.0.2']['kw']
    assert kw['code'] == 'DTR0402'                  # agreement-ok
    assert kw['agreement'] == repl.agreement_dn('caTo127.0.0.2')
    assert 'nsDS5ReplicaCredentials' not in str(found)
    assert repl.MANAGER_PASSWORD not in str(found)
    ruv = cluster.run('RUVCheck')
    assert [r['result'] for r in ruv.values()] == ['SUCCESS']
    assert ruv['ruv']['kw']['code'] == 'DTR0414'    # ruv-clean
    assert ruv['ruv']['kw']['local_replica_id'] == 1
    assert ruv['ruv']['kw']['replicas'] == \
        '1 127.0.0.1, 2 127.0.0.2, 3 127.0.0.3'


def test_a_suffix_without_replica_has_nothing_to_check(scenario):
    """A CA suffix with no replica configuration: one SUCCESS per check."""
    scenario.build(kra=False, vlv=())
    for check in ('AgreementCheck', 'RUVCheck'):
        found = by_key(scenario.run(check, source=None), check)
        assert list(found) == ['replication']
        assert found['replication']['kw']['code'] == 'DTR0400'
        assert found['replication']['kw']['suffix'] == scenario.tree.base


def test_range_allocated_twice_is_a_replication_conflict(cluster):
    """Two servers take the same range before either sees the other's
    record: 389-DS keeps both, one as a hidden conflict entry."""
    container = 'ou=requests,ou=ranges,o=ipaca'
    pairs = ((cluster.a, 'caTo127.0.0.2'), (cluster.b, 'caTo127.0.0.1'))

    def enabled(value):
        for server, name in pairs:
            with cluster.connect(server) as conn:
                conn.modify_s(repl.agreement_dn(name), [
                    (ldap.MOD_REPLACE, 'nsds5ReplicaEnabled', [value])])
    assert cluster.run('RangeConflictCheck')['ca.requests'][
        'result'] == 'SUCCESS'
    enabled(b'off')
    for server, host in ((cluster.a, HOSTS[0]), (cluster.b, HOSTS[1])):
        with cluster.connect(server) as conn:
            cadb.CATree().add_range(conn, 'ou=requests', 30000001, 40000000,
                                    host)
    enabled(b'on')

    def conflicts():
        with cluster.connect() as conn:
            return conn.search_s(
                container, ldap.SCOPE_SUBTREE,
                '(&(objectClass=ldapsubentry)(nsds5ReplConflict=*))',
                ['1.1'])
    assert wait(conflicts, timeout=60)
    found = cluster.run('RangeConflictCheck')['ca.requests']
    assert found['result'] == 'ERROR'
    assert found['kw']['conflict_range'] == '30000001..40000000'
    assert found['kw']['conflict_dn'].endswith(container)
    assert 'nsuniqueid' in found['kw']['conflict_dn'].lower()
    with cluster.connect() as conn:                 # leave no trace
        for dn, _ in conflicts():
            conn.delete_s(dn)
        conn.delete_s('cn=30000001,' + container)
    assert wait(lambda: cluster.run('RangeConflictCheck')['ca.requests'][
        'result'] == 'SUCCESS')


def test_epoch_after_a_restart_is_not_a_failure(cluster):
    # ca3 goes down and ca1 restarts: the agreement's last success now
    # reads as the epoch, and the next update fails.
    cluster.c.kill()
    cluster.a.restart()
    cluster.write(cluster.a, 'while-ca3-is-down')

    def failing():
        kw = cluster.run('AgreementCheck')['127.0.0.3']['kw']
        return kw['last_update_status'].startswith('Error (-1)')
    assert wait(failing)
    found = cluster.run('AgreementCheck')
    down = found['127.0.0.3']
    assert down['result'] == 'SUCCESS'          # not "failing since 1970"
    assert down['kw']['last_success'] is None
    assert down['kw']['since_restart'] is True
    assert down['kw']['failing_since'] > '2020'
    assert down['kw']['failing_since_source'] == 'server_start'
    assert down['kw']['changes_sent'] == 0
    # The start is not a success, and the message does not call it one.
    assert down['kw']['code'] == 'DTR0410'      # agreement-failing-recent
    assert down['kw']['failing_since'] in down['text']
    assert 'success' not in down['text']
    assert down['kw']['threshold_hours'] == 24
    assert found['127.0.0.2']['result'] == 'SUCCESS'


def test_peer_failing_for_long(cluster):
    # A tiny threshold stands in for a day: an ERROR that says since when,
    # counted from the restart because no session succeeded since.
    time.sleep(2)
    found = cluster.run('AgreementCheck',
                        dogtag_agreement_failure_hours='0.0003')
    down = found['127.0.0.3']
    assert down['result'] == 'ERROR'
    assert down['kw']['since_restart'] is True
    assert down['kw']['code'] == 'DTR0411'      # agreement-failing
    assert down['kw']['failing_since_source'] == 'server_start'
    assert down['kw']['fix_effect'] == 'writes-directory'
    assert "Can't contact LDAP server" in down['kw']['last_update_status']
    assert 'ipa-csreplica-manage list -v 127.0.0.1' in down['kw']['fix']
    assert found['127.0.0.2']['result'] == 'SUCCESS'


def test_peer_down_since_its_last_success(cluster):
    before = cluster.run('AgreementCheck')['127.0.0.2']['kw']['last_success']
    assert before is not None
    cluster.b.kill()
    cluster.write(cluster.a, 'while-ca2-is-down')
    assert wait(lambda: cluster.run('AgreementCheck')['127.0.0.2']['kw'][
        'last_update_status'].startswith('Error (-1)'))
    time.sleep(1)
    down = cluster.run('AgreementCheck',
                       dogtag_agreement_failure_hours='0.0001')['127.0.0.2']
    assert down['result'] == 'ERROR'
    assert down['kw']['since_restart'] is False
    assert down['kw']['failing_since'] == before
    assert down['kw']['failing_since_source'] == 'last_success'
    assert down['kw']['code'] == 'DTR0411'      # agreement-failing
    cluster.b.start()
    cluster.write(cluster.a, 'after-ca2-is-back')
    assert wait(lambda: cluster.run('AgreementCheck')['127.0.0.2']['kw'][
        'last_update_status'].startswith('Error (0)'), timeout=60)


def agreement_attrs(server, name, *attrs):
    with server.session() as conn:
        return conn.search_s(repl.agreement_dn(name), ldap.SCOPE_BASE,
                             attrlist=list(attrs))[0][1]


def test_failed_session_clears_the_last_success(cluster):
    """A session that acquired the replica and then failed leaves End (and
    Start) at 0 although an earlier session succeeded: 389-DS sets End to 0
    when a sending session starts and Start back to 0 when it fails
    (389ds/389-ds-base 389-ds-base-2.9.0 repl5_inc_protocol.c
    repl5_inc_run, STATE_SENDING_UPDATES). Here ca2 is killed in the
    middle of a session of thousands of changes."""
    name = 'caTo127.0.0.2'
    dn = repl.agreement_dn(name)
    assert wait(lambda: agreement_attrs(
        cluster.a, name, 'nsds5replicaLastUpdateEnd')[
            'nsds5replicaLastUpdateEnd'][0] != b'19700101000000Z', 60)
    down = False
    try:
        for attempt in range(3):
            with cluster.connect() as conn:
                conn.modify_s(dn, [(ldap.MOD_REPLACE, 'nsds5ReplicaEnabled',
                                    b'off')])
                for n in range(3000):
                    cadb.add(conn, 'uid=bulk-%d-%d,%s' % (attempt, n, PEOPLE),
                             objectClass=['top', 'person',
                                          'organizationalPerson',
                                          'inetOrgPerson'],
                             uid='bulk-%d-%d' % (attempt, n), cn='bulk',
                             sn='bulk', description='x' * 2000)
                conn.modify_s(dn, [(ldap.MOD_REPLACE, 'nsds5ReplicaEnabled',
                                    b'on')])
            assert wait(lambda: agreement_attrs(
                cluster.a, name, 'nsds5replicaUpdateInProgress')[
                    'nsds5replicaUpdateInProgress'] == [b'TRUE'], 60)
            cluster.b.kill()
            down = True

            def failed():
                attrs = agreement_attrs(
                    cluster.a, name, 'nsds5replicaUpdateInProgress',
                    'nsds5replicaLastUpdateEnd',
                    'nsds5replicaLastUpdateStatusJSON')
                return (attrs['nsds5replicaUpdateInProgress'] == [b'FALSE']
                        and b'"red"' in attrs[
                            'nsds5replicaLastUpdateStatusJSON'][0],
                        attrs['nsds5replicaLastUpdateEnd'][0])
            assert wait(lambda: failed()[0], 60), repr(agreement_attrs(
                cluster.a, name, 'nsds5replicaUpdateInProgress',
                'nsds5replicaLastUpdateEnd', 'nsds5replicaLastUpdateStart',
                'nsds5replicaLastUpdateStatusJSON'))
            if failed()[1] == b'19700101000000Z':
                break                   # the session failed half-way
            cluster.b.start()               # it finished first: again
            down = False
        else:
            pytest.fail('no session could be interrupted')
        attrs = agreement_attrs(cluster.a, name, 'nsds5replicaLastUpdateStart')
        assert attrs['nsds5replicaLastUpdateStart'] == [b'19700101000000Z']
        found = cluster.run('AgreementCheck',
                            dogtag_agreement_failure_hours='0.0001')
        down = found['127.0.0.2']
        assert down['result'] == 'WARNING', down['text']
        assert down['kw']['last_success'] is None
        assert down['kw']['failing_since'] is None
        assert down['kw']['since_restart'] is False
        assert down['kw']['changes_sent'] > 0
        assert down['kw']['code'] == 'DTR0409'  # agreement-failing-undated
        assert down['kw']['failing_since_source'] is None
        assert 'ipa-csreplica-manage list -v 127.0.0.1' in down['kw']['fix']
    finally:
        if down:
            cluster.b.start()
    assert wait(lambda: cluster.run('AgreementCheck')['127.0.0.2']['kw'][
        'last_success'] is not None, 120)
    assert cluster.run('AgreementCheck')['127.0.0.2']['result'] == 'SUCCESS'


def test_disabled_agreement(cluster):
    dn = repl.agreement_dn('caTo127.0.0.2')
    with cluster.connect() as conn:
        conn.modify_s(dn, [(ldap.MOD_REPLACE, 'nsds5ReplicaEnabled',
                            b'off')])
    try:
        found = cluster.run('AgreementCheck')['127.0.0.2']
        assert found['result'] == 'WARNING'
        assert found['kw']['code'] == 'DTR0408'     # agreement-disabled
        assert found['kw']['enabled'] is False
        assert 'repl-agmt enable' in found['kw']['fix']
    finally:
        with cluster.connect() as conn:
            conn.modify_s(dn, [(ldap.MOD_REPLACE, 'nsds5ReplicaEnabled',
                                b'on')])


def test_ca_install_in_progress_is_no_delete(cluster):
    """A replica's CA install (freeipa/freeipa release-4-13-3
    ipaserver/install/cainstance.py: "setting up initial replication",
    then "enabling CA instance" = service.py ldap_configure, enabled only by
    enable_services() at the end) first has o=ipaca replication and the
    managed suffix but no cn=CA, then cn=CA with configuredService."""
    topo = cluster.topology
    with cluster.connect() as conn:
        topo.set_ca_state(conn, '127.0.0.2', 'configuredService')
    try:
        found = cluster.run('AgreementCheck')['127.0.0.2']
        assert found['result'] == 'WARNING'
        assert found['kw']['ca_state'] == 'configured'
        # peer-ca-install-unfinished, not peer-no-ca-role
        assert found['kw']['code'] == 'DTR0405'
        assert 'repl-agmt delete' not in found['kw']['fix']
        assert 'ipa-ca-install on 127.0.0.2' in found['kw']['fix']
        # clean-dangling-ruv takes any cn=CA entry for "CA configured".
        assert [r['result'] for r in cluster.run('RUVCheck').values()] == [
            'SUCCESS']
        with cluster.connect() as conn:
            conn.delete_s('cn=CA,' + topo.server_dn('127.0.0.2'))
        found = cluster.run('AgreementCheck')['127.0.0.2']
        assert found['result'] == 'WARNING'
        assert found['kw']['ca_state'] == 'none'
        assert found['kw']['code'] == 'DTR0405'
        ruv = cluster.run('RUVCheck')
        assert ruv['replica-id-2']['result'] == 'WARNING'
        kw = ruv['replica-id-2']['kw']
        assert kw['code'] == 'DTR0412'              # ruv-install-unfinished
        # Not cleaned while an install runs: that step comes first.
        assert kw['fix'].startswith('make sure no CA install runs on '
                                    '127.0.0.2')
        assert 'if the install was abandoned: ipa-replica-manage ' \
            'clean-dangling-ruv' in kw['fix']
        assert [s['effect'] for s in kw['fix_steps']] == [
            'manual', 'writes-directory']
    finally:
        with cluster.connect() as conn:
            try:
                conn.delete_s('cn=CA,' + topo.server_dn('127.0.0.2'))
            except ldap.NO_SUCH_OBJECT:
                pass
            cadb.add(conn, 'cn=CA,' + topo.server_dn('127.0.0.2'),
                     objectClass=['top', 'nsContainer', 'extensibleObject'],
                     cn='CA', ipaConfigString=['enabledService',
                                               'startOrder 50'])
    assert cluster.run('AgreementCheck')['127.0.0.2']['result'] == 'SUCCESS'


def managed_suffixes(cluster, host, values):
    with cluster.connect() as conn:
        conn.modify_s(cluster.topology.server_dn(host), [
            (ldap.MOD_REPLACE, 'ipaReplTopoManagedSuffix',
             [v.encode() for v in values])])


def test_server_without_ca_role_has_a_dangling_ruv(cluster):
    """A server that is no CA server (no cn=CA, not managed for o=ipaca)
    but whose replica ID is in the o=ipaca RUV: `ipa-replica-manage
    clean-dangling-ruv` counts that element as dangling (freeipa/freeipa
    install/tools/ipa-replica-manage.in clean_dangling_ruvs,
    release-4-13-3). At domain level 1 the topology plugin lets dsconf
    delete an unmarked agreement to an unmanaged host, but not a marked one
    (daemons/ipa-slapi-plugins/topology/topology_pre.c ipa_topo_pre_del)."""
    topo = cluster.topology
    with cluster.connect() as conn:
        conn.delete_s('cn=CA,' + topo.server_dn('127.0.0.2'))
    managed_suffixes(cluster, '127.0.0.2', [IPA_BASE])
    try:
        found = cluster.run('AgreementCheck')['127.0.0.2']
        assert found['result'] == 'ERROR'
        assert found['kw']['code'] == 'DTR0406'     # peer-no-ca-role
        assert found['kw']['fix'].startswith(
            'dsconf slapd-ca1 repl-agmt delete')
        ruv = cluster.run('RUVCheck')
        assert list(ruv) == ['replica-id-2']
        assert ruv['replica-id-2']['result'] == 'ERROR'
        assert ruv['replica-id-2']['kw']['host_is_server'] is True
        assert ruv['replica-id-2']['kw']['code'] == 'DTR0413'  # ruv-dangling
        assert ruv['replica-id-2']['kw']['topology'] == \
            'cn=masters,cn=ipa,cn=etc,' + IPA_BASE
        repl.mark_agreement(cluster.a, 'caTo127.0.0.2')
        try:
            found = cluster.run('AgreementCheck')['127.0.0.2']
            assert found['kw']['topology_marked'] is True
            assert found['kw']['fix'] == \
                'ipa topologysegment-del ca 127.0.0.1-to-127.0.0.2'
        finally:
            repl.mark_agreement(cluster.a, 'caTo127.0.0.2', marked=False)
    finally:
        managed_suffixes(cluster, '127.0.0.2', [IPA_BASE, 'o=ipaca'])
        with cluster.connect() as conn:
            cadb.add(conn, 'cn=CA,' + topo.server_dn('127.0.0.2'),
                     objectClass=['top', 'nsContainer', 'extensibleObject'],
                     cn='CA', ipaConfigString=['enabledService',
                                               'startOrder 50'])
    assert [r['result'] for r in cluster.run('RUVCheck').values()] == [
        'SUCCESS']


def test_missing_segment_fix_follows_the_domain_level(cluster):
    """Domain level 1: the topology plugin refuses `dsconf repl-agmt
    delete` of an agreement joining two managed hosts, and
    `ipa topologysegment-add` beside an unmarked caTo<peer> adds a second
    agreement cn=<local>-to-<peer> (topology_post.c ipa_topo_post_add,
    topology_agmt.c ipa_topo_agmt_setup); at start the plugin adopts an
    unmarked agreement and deletes a marked one that has no segment
    (topology_util.c ipa_topo_util_update_agmt_list). Domain level 0 has
    no segments at all. freeipa/freeipa release-4-13-3."""
    topo = cluster.topology
    with cluster.connect() as conn:
        conn.delete_s(topo.segment_dn('127.0.0.1', '127.0.0.2'))
    try:
        found = cluster.run('AgreementCheck')['127.0.0.2']
        assert found['result'] == 'WARNING'
        assert found['kw']['code'] == 'DTR0407'     # segment-missing
        assert found['kw']['domain_level'] == 1
        fix = found['kw']['fix']
        assert fix.startswith('systemctl restart dirsrv@ca1.service on '
                              '127.0.0.1: at start the topology plugin '
                              'adopts the agreement')
        assert 'do not run ipa topologysegment-add' in fix
        assert 'repl-agmt delete' not in fix
        repl.mark_agreement(cluster.a, 'caTo127.0.0.2')
        try:
            fix = cluster.run('AgreementCheck')['127.0.0.2']['kw']['fix']
            assert 'deletes a managed agreement that has no segment' in fix
            assert 'ipa topologysegment-add ca 127.0.0.1-to-127.0.0.2 ' \
                '--leftnode=127.0.0.1 --rightnode=127.0.0.2' in fix
        finally:
            repl.mark_agreement(cluster.a, 'caTo127.0.0.2', marked=False)
        with cluster.connect() as conn:
            topo.set_domain_level(conn, 0)
        try:
            found = cluster.run('AgreementCheck')
            assert {k: r['result'] for k, r in found.items()} == {
                '127.0.0.2': 'SUCCESS', '127.0.0.3': 'SUCCESS'}
            assert found['127.0.0.2']['kw']['domain_level'] == 0
            with cluster.connect() as conn:
                topo.set_ca_state(conn, '127.0.0.2', 'disabled')
                managed_suffixes(cluster, '127.0.0.2', [IPA_BASE])
            fix = cluster.run('AgreementCheck')['127.0.0.2']['kw']['fix']
            assert fix.startswith('dsconf slapd-ca1 repl-agmt delete')
        finally:
            with cluster.connect() as conn:
                topo.set_domain_level(conn, 1)
                topo.set_ca_state(conn, '127.0.0.2', 'enabledService')
            managed_suffixes(cluster, '127.0.0.2', [IPA_BASE, 'o=ipaca'])
    finally:
        with cluster.connect() as conn:
            topo.add_segment(conn, '127.0.0.1', '127.0.0.2')
    assert cluster.run('AgreementCheck')['127.0.0.2']['result'] == 'SUCCESS'


def test_removed_server_leaves_a_stale_agreement_and_a_dangling_ruv(cluster):
    with cluster.connect() as conn:
        cluster.topology.remove_server(conn, '127.0.0.3')
    cluster.c.destroy()
    found = cluster.run('AgreementCheck')
    gone = found['127.0.0.3']
    assert gone['result'] == 'ERROR'
    assert gone['kw']['code'] == 'DTR0404'          # peer-not-ipa-server
    assert gone['kw']['peer'] == '127.0.0.3'
    assert gone['kw']['last_success_text']
    assert gone['kw']['agreement'] == repl.agreement_dn('caTo127.0.0.3')
    assert gone['kw']['fix'].startswith(
        'ipa-replica-manage del 127.0.0.3 --force --cleanup')
    assert found['127.0.0.2']['result'] == 'SUCCESS'

    ruv = cluster.run('RUVCheck')
    assert list(ruv) == ['replica-id-3']
    assert ruv['replica-id-3']['result'] == 'ERROR'
    assert ruv['replica-id-3']['kw']['host'] == '127.0.0.3'
    assert ruv['replica-id-3']['kw']['code'] == 'DTR0413'
    assert ruv['replica-id-3']['kw']['host_is_server'] is False
    assert 'clean-dangling-ruv' in ruv['replica-id-3']['kw']['fix']


def test_topology_that_cannot_be_read(cluster):
    """The server list comes from the IPA suffix, else from the security
    domain; when neither can be read, the replication checks say so
    instead of judging agreements against nothing."""
    found = cluster.run('AgreementCheck', dogtag_ipa_basedn='not a DN')
    assert [(r['result'], r['kw']['code']) for r in found.values()] == [
        ('ERROR', 'DTR0008')]                   # ipa-suffix-not-dn
    found = cluster.run('AgreementCheck',
                        dogtag_ipa_basedn='dc=nowhere,dc=test')
    assert found['topology']['kw']['code'] == 'DTR0019'
    assert found['topology']['kw']['masters'] == \
        'cn=masters,cn=ipa,cn=etc,dc=nowhere,dc=test'
    with cluster.connect() as conn:             # no security domain yet
        assert not conn.search_s('o=ipaca', ldap.SCOPE_SUBTREE,
                                 '(objectClass=pkiSubsystem)', ['1.1'])
    found = cluster.run('RUVCheck', dogtag_ipa_basedn=None)
    assert found['topology']['kw']['code'] == 'DTR0020'


def test_standalone_dogtag_uses_the_security_domain(cluster):
    domain = 'ou=Security Domain,o=ipaca'
    with cluster.connect() as conn:
        cadb.add(conn, domain, objectClass=['top', 'pkiSecurityDomain'],
                 ou='Security Domain', name='IPA')
        cadb.add(conn, 'cn=CAList,' + domain,
                 objectClass=['top', 'pkiSecurityGroup'], cn='CAList')
        for host in HOSTS[:2]:
            cadb.add(conn, 'cn=%s:443,cn=CAList,%s' % (host, domain),
                     objectClass=['top', 'pkiSubsystem'],
                     cn='%s:443' % host, host=host, SecurePort='443',
                     SubsystemName='pki-tomcat', Clone='TRUE')
    found = cluster.run('AgreementCheck', dogtag_ipa_basedn=None)
    assert found['127.0.0.2']['result'] == 'SUCCESS'
    assert found['127.0.0.3']['result'] == 'ERROR'
    # peer-not-in-security-domain
    assert found['127.0.0.3']['kw']['code'] == 'DTR0403'
    assert 'dsconf slapd-ca1 repl-agmt delete' in \
        found['127.0.0.3']['kw']['fix']
    ruv = cluster.run('RUVCheck', dogtag_ipa_basedn=None)
    assert ruv['replica-id-3']['kw']['code'] == 'DTR0413'
    assert ruv['replica-id-3']['kw']['topology'] == domain
    assert 'repl-tasks cleanallruv' in ruv['replica-id-3']['kw']['fix']


# -- accounts ------------------------------------------------------------------

def add_person(conn, uid, usertype, groups=()):
    dn = 'uid=%s,%s' % (uid, PEOPLE)
    cadb.add(conn, dn, objectClass=['top', 'person', 'organizationalPerson',
                                    'inetOrgPerson', 'cmsuser'],
             uid=uid, cn=uid, sn=uid, usertype=usertype, userstate='1')
    for group in groups:
        conn.modify_s('cn=%s,ou=groups,o=ipaca' % group,
                      [(ldap.MOD_ADD, 'uniqueMember', [dn.encode()])])
    return dn


def test_leftover_temporary_admins_and_look_alikes(cluster):
    with cluster.connect() as conn:
        cluster.topology.add_server(conn, 'replica1.ipa.test', ca=False)
        leftover = add_person(conn, 'admin-replica1.ipa.test', 'adminType',
                              GROUPS)
        gone = add_person(conn, 'admin-gone.ipa.test', 'adminType',
                          GROUPS[:1])
        for uid, kind in (('admin', 'adminType'), ('ipara', 'agentType'),
                          ('pkidbuser', 'agentType'),
                          ('acme-ca1.ipa.test', 'agentType'),
                          ('CA-ca1.ipa.test-8443', 'agentType'),
                          ('admin-notafqdn', 'adminType'),
                          ('admin-agent.ipa.test', 'agentType')):
            add_person(conn, uid, kind, GROUPS[:1])
    # Young: a replica install may still be running.
    found = cluster.run('TemporaryAdminCheck')
    assert set(found) == {'admin-replica1.ipa.test', 'admin-gone.ipa.test'}
    assert {r['result'] for r in found.values()} == {'WARNING'}
    young = found['admin-replica1.ipa.test']['kw']
    assert young['code'] == 'DTR0501'               # temporary-admin-young
    assert young['age_minutes'] < young['grace_minutes']
    # Its fix: make sure no install runs there, then remove it.
    assert [s['effect'] for s in young['fix_steps']] == [
        'manual', 'writes-directory']
    assert young['fix'].startswith('make sure no install runs on '
                                   'replica1.ipa.test')
    # Past the grace period: errors that say who left it and how to remove it.
    found = cluster.run('TemporaryAdminCheck',
                        dogtag_admin_grace_minutes=0)
    replica1 = found['admin-replica1.ipa.test']
    assert replica1['result'] == 'ERROR'
    assert sorted(replica1['kw']['groups']) == sorted(GROUPS)
    assert replica1['kw']['host_is_server'] is True
    assert replica1['kw']['host_has_ca'] is False
    assert replica1['kw']['code'] == 'DTR0502'      # temporary-admin-leftover
    assert replica1['kw']['fix_effect'] == 'writes-directory'
    assert 'ldapmodify -Y EXTERNAL' in replica1['kw']['fix']
    ldif = replica1['kw']['fix_ldif']
    assert ldif.count('delete: uniqueMember') == 3
    assert ldif.endswith('dn: %s\nchangetype: delete\n' % leftover)
    other = found['admin-gone.ipa.test']
    assert other['kw']['host_is_server'] is False
    assert other['kw']['host_has_ca'] is False
    assert other['kw']['code'] == 'DTR0502'
    assert other['kw']['groups'] == [GROUPS[0]]
    # It is everywhere: the account replicated to the other CA server.
    assert repl.wait_for(cluster.b, gone)


def test_no_leftover_is_one_success(cluster):
    with cluster.connect() as conn:
        for uid in ('admin-replica1.ipa.test', 'admin-gone.ipa.test'):
            dn = 'uid=%s,%s' % (uid, PEOPLE)
            for group in GROUPS:
                try:
                    conn.modify_s('cn=%s,ou=groups,o=ipaca' % group,
                                  [(ldap.MOD_DELETE, 'uniqueMember',
                                    [dn.encode()])])
                except ldap.NO_SUCH_ATTRIBUTE:
                    pass
            conn.delete_s(dn)
    found = cluster.run('TemporaryAdminCheck')
    assert [r['result'] for r in found.values()] == ['SUCCESS']
    assert found['admin-accounts']['kw']['code'] == 'DTR0500'


def test_old_security_domain_sessions(cluster):
    sessions = 'ou=sessions,ou=Security Domain,o=ipaca'
    fresh = cluster.run('SecurityDomainSessionCheck')['sessions']
    assert (fresh['result'], fresh['kw']['code']) == ('SUCCESS', 'DTR0503')
    now = int(time.time() * 1000)
    with cluster.connect() as conn:
        cadb.add(conn, sessions, objectClass=['top', 'organizationalUnit'],
                 ou='sessions')
        for cn, age_hours in (('111', 30), ('222', 1)):
            cadb.add(conn, 'cn=%s,%s' % (cn, sessions),
                     objectClass=['top', 'securityDomainSessionEntry'],
                     cn=cn, host='192.0.2.7', uid='admin-replica9.ipa.test',
                     cmsUserGroup='Enterprise CA Administrators',
                     dateOfCreate=str(now - age_hours * 3600000))
    found = cluster.run('SecurityDomainSessionCheck')['sessions']
    assert found['result'] == 'WARNING'
    assert found['kw']['stale_sessions'] == 1
    assert found['kw']['sessions'] == 2
    assert found['kw']['oldest'] == 'cn=111,' + sessions
    assert found['kw']['oldest_uid'] == 'admin-replica9.ipa.test'
    assert found['kw']['code'] == 'DTR0504'         # sessions-stale
    assert found['kw']['fix_effect'] == 'writes-directory'
    assert found['kw']['stale_dns'] == ['cn=111,' + sessions]


def _ldapi_operations(access_log):
    """The operations of the LDAPI connections the log opens: the checks
    connect over LDAPI, while the other supplier replicates over TCP and
    writes its keep-alive entry (cn=repl keep alive <rid>) whenever it
    likes (389-ds-base repl5_replica.c, replica_subentry_update)."""
    ours = set(re.findall(r'conn=(\d+) fd=\d+ slot=\d+ .*connection from '
                          r'local to', access_log))
    return [line for line in access_log.splitlines()
            if re.search(r' conn=(\d+) op=', line) and
            re.search(r' conn=(\d+) op=', line).group(1) in ours]


def _audited_writes(audit_log):
    """The audit log's records, less what replication writes by itself:
    the suppliers' keep-alive entries and the schema a supplier pushes with
    its nsSchemaCSN (389-ds-base repl5_connection.c conn_push_schema)."""
    return [record for record in audit_log.split('\n\n')
            if record.strip() and
            not re.search(r'^dn: cn=repl keep alive', record, re.M | re.I)
            and not re.search(r'^dn: cn=schema\n(?:.*\n)*nsSchemaCSN:',
                              record, re.M | re.I)]


def test_a_run_performs_no_write(cluster):
    audit = _audited_writes(cluster.a.audit_log())
    access = len(cluster.a.access_log())
    for check in ('AgreementCheck', 'RUVCheck', 'TemporaryAdminCheck',
                  'SecurityDomainSessionCheck'):
        assert cluster.run(check)
    operations = _ldapi_operations(cluster.a.access_log()[access:])
    assert any(' SRCH ' in line for line in operations)
    for write in (' ADD ', ' MOD ', ' DEL ', ' MODRDN '):
        assert not [line for line in operations if write in line]
    written = _audited_writes(cluster.a.audit_log())
    assert written[:len(audit)] == audit
    assert written[len(audit):] == []       # shows what was written
    assert os.path.exists(cluster.instance_dir)


def test_cluster_report_finds_the_replica_id_nobody_owns(cluster, tmp_path):
    """The survivors' own reports, side by side: ca3's replica ID 3 stays in
    the RUV though no server owns it."""
    import json
    import subprocess
    import sys
    bindir = os.path.dirname(sys.executable)
    reports = tmp_path / 'reports'
    reports.mkdir()
    for server, host in ((cluster.a, HOSTS[0]), (cluster.b, HOSTS[1])):
        instance = str(tmp_path / host / 'pki-tomcat')
        cadb.CATree().write_cs_cfg(instance, machineName=host)
        conf = cadb.write_healthcheck_conf(
            str(tmp_path / (host + '.conf')), instance, server, '11.5.0')
        subprocess.run([os.path.join(bindir, 'dogtag-healthcheck'),
                        '--config', conf, '--source', 'dogtag.replication',
                        '--output-file', str(reports / (host + '.json'))],
                       timeout=120)
    done = subprocess.run([os.path.join(bindir, 'dogtag-clustercheck'),
                           str(reports), '--output-type', 'json'],
                          stdout=subprocess.PIPE, text=True, timeout=120)
    found = {(r['check'], r['kw']['key']): r for r in json.loads(done.stdout)}
    stray = found[('ReplicaIdCheck', 'replica-id-3')]
    assert stray['result'] == 'ERROR'
    assert stray['kw']['host'] == '127.0.0.3'
    # The fix is a field of its own once dogtag-clustercheck declares its
    # findings; before, it was part of the message.
    assert 'clean-ruv 3' in (stray['kw'].get('fix') or
                             stray['kw']['msg'].format(**stray['kw']))


# -- issue 16: roles left configured, agreement counts, incomplete RUVs ------

def test_roles_left_configured(cluster):
    """A CA or KRA role left configuredService (freeipa pagure 7929, fixed
    for `ipa-replica-manage del` in freeipa/freeipa release-4-8-0
    ipaserver/servroles.py) is reported whether or not this server
    replicates with the host; a CA role of a replication peer only once,
    by AgreementCheck (DTR0405)."""
    topo = cluster.topology
    quiet = cluster.run('RoleCheck')
    assert list(quiet) == ['roles']
    assert quiet['roles']['result'] == 'SUCCESS'
    assert quiet['roles']['kw']['code'] == 'DTR0417'
    assert quiet['roles']['kw']['reported_by_agreement'] == []
    with cluster.connect() as conn:
        topo.add_server(conn, '127.0.0.9', state='configuredService')
        cadb.add(conn, 'cn=KRA,' + topo.server_dn('127.0.0.2'),
                 objectClass=['top', 'nsContainer', 'extensibleObject'],
                 cn='KRA', ipaConfigString=['configuredService',
                                            'startOrder 51'])
        topo.set_ca_state(conn, '127.0.0.2', 'configuredService')
    try:
        with cluster.connect() as conn:
            states = {dn.lower(): attrs['ipaConfigString'][0]
                      for dn, attrs in conn.search_s(
                          topo.masters, ldap.SCOPE_SUBTREE,
                          '(|(cn=CA)(cn=KRA))', ['ipaConfigString'])}
        assert states['cn=ca,' + topo.server_dn('127.0.0.9').lower()] == \
            b'configuredService'
        assert states['cn=kra,' + topo.server_dn('127.0.0.2').lower()] == \
            b'configuredService'
        found = cluster.run('RoleCheck')
        assert sorted(found) == ['127.0.0.2/KRA', '127.0.0.9/CA']
        for key in ('127.0.0.2/KRA', '127.0.0.9/CA'):
            assert found[key]['result'] == 'WARNING'
            assert found[key]['kw']['code'] == 'DTR0416'
            assert found[key]['kw']['fix_steps'][0]['effect'] == 'manual'
            assert 'make sure no install runs' in found[key]['kw']['fix']
        assert 'ipa-kra-install' in found['127.0.0.2/KRA']['kw']['fix']
        assert 'ipa server-del 127.0.0.9' in found['127.0.0.9/CA']['kw'][
            'fix']
        assert found['127.0.0.9/CA']['kw']['role_dn'] == \
            'cn=CA,' + topo.server_dn('127.0.0.9')
        # ca2's configured CA role is the agreement's finding, not ours.
        agreement = cluster.run('AgreementCheck')['127.0.0.2']['kw']
        assert agreement['code'] == 'DTR0405'
        assert agreement['ca_state'] == 'configured'
        with cluster.connect() as conn:
            conn.delete_s('cn=KRA,' + topo.server_dn('127.0.0.2'))
            topo.remove_server(conn, '127.0.0.9')
        only = cluster.run('RoleCheck')
        assert list(only) == ['roles']
        assert only['roles']['kw']['reported_by_agreement'] == ['127.0.0.2']
    finally:
        with cluster.connect() as conn:
            topo.set_ca_state(conn, '127.0.0.2', 'enabledService')
            for dn in ('cn=KRA,' + topo.server_dn('127.0.0.2'),):
                try:
                    conn.delete_s(dn)
                except ldap.NO_SUCH_OBJECT:
                    pass
            try:
                topo.remove_server(conn, '127.0.0.9')
            except ldap.NO_SUCH_OBJECT:
                pass
    assert cluster.run('RoleCheck')['roles']['kw']['code'] == 'DTR0417'


def test_standalone_dogtag_has_no_roles(cluster):
    found = cluster.run('RoleCheck', dogtag_ipa_basedn=None)
    assert [(k, r['kw']['code']) for k, r in found.items()] == [
        ('roles', 'DTR0418')]


def test_agreement_count(cluster):
    """IPA recommends at most 4 agreements per server and suffix
    (freeipa/freeipa release-4-13-3 ipalib/constants.py
    recommended_max_agmts, ipaserver/plugins/topology.py
    topologysuffix_verify); dogtag_max_agreements sets ours."""
    with cluster.connect() as conn:
        on_server = conn.search_s(repl.REPLICA_DN, ldap.SCOPE_ONELEVEL,
                                  '(objectClass=nsds5ReplicationAgreement)',
                                  ['1.1'])
    assert len(on_server) == 2
    quiet = cluster.run('AgreementCountCheck')
    assert {k: (r['result'], r['kw']['code'], r['kw']['agreements'],
                r['kw']['threshold']) for k, r in quiet.items()} == {
        'o=ipaca': ('SUCCESS', 'DTR0420', 2, 4),
        IPA_BASE: ('SUCCESS', 'DTR0420', 0, 4)}
    found = cluster.run('AgreementCountCheck', dogtag_max_agreements=1)
    assert found['o=ipaca']['result'] == 'WARNING'
    assert found['o=ipaca']['kw']['code'] == 'DTR0419'
    assert found['o=ipaca']['kw']['agreements'] == 2
    assert 'ipa topologysuffix-verify' in found['o=ipaca']['kw']['fix']
    assert found[IPA_BASE]['kw']['code'] == 'DTR0420'
    alone = cluster.run('AgreementCountCheck', dogtag_ipa_basedn=None)
    assert sorted(alone) == ['ipa-suffix', 'o=ipaca']
    assert alone['ipa-suffix']['kw']['code'] == 'DTR0421'


def test_ruv_without_urls_is_on_no_server_search(cluster):
    """389-DS hides RUV elements without a replica URL from the RUV search
    (389ds/389-ds-base 389-ds-base-2.3.1 repl5_ruv.c ruv_to_valuearray,
    #5193) and refuses to write nsds50ruv: what the unseen reason of
    DTR0415 says."""
    with cluster.connect() as conn:
        found = conn.search_s('o=ipaca', ldap.SCOPE_SUBTREE,
                              '(&(nsuniqueid=ffffffff-ffffffff-ffffffff-'
                              'ffffffff)(objectclass=nstombstone))',
                              ['nsds50ruv'])
        dn = found[0][0]
        with pytest.raises(ldap.UNWILLING_TO_PERFORM):
            conn.modify_s(dn, [(ldap.MOD_ADD, 'nsds50ruv', [b'{replica 9}'])])
    values = [v.decode() for v in found[0][1]['nsds50ruv']]
    assert all(v.startswith('{replicageneration}') or ' ldap://' in v
               for v in values)


def test_incomplete_ruv_element_is_reported(cluster, monkeypatch):
    """What an older 389-DS returns (an element without a URL, #5193) added
    to the real RUV this server returns: RUVCheck names its replica ID and
    how to clean it by IPA version (freeipa/freeipa release-4-12-0
    ipa-replica-manage.in get_ruv strict=False)."""
    from ipahealthcheck_dogtag.dogtag import agreements
    real = agreements.ruv_elements

    def older_server(directory, suffix):
        elements, incomplete = real(directory, suffix)
        return elements, incomplete + [(9, '{replica 9}')]

    quiet = cluster.run('RUVCheck')
    assert 'replica-id-9' not in quiet
    monkeypatch.setattr(agreements, 'ruv_elements', older_server)
    found = cluster.run('RUVCheck')
    kw = found['replica-id-9']['kw']
    assert found['replica-id-9']['result'] == 'WARNING'
    assert kw['code'] == 'DTR0415'
    assert kw['value'] == '{replica 9}'
    assert 'ipa-replica-manage clean-ruv 9 --force' in kw['fix']
    assert 'repl-tasks cleanallruv --suffix o=ipaca --replica-id 9 ' \
        '--force-cleaning' in kw['fix']
    assert 'ruv' not in found           # no "clean" beside it
    alone = cluster.run('RUVCheck', dogtag_ipa_basedn=None)
    assert alone['replica-id-9']['kw']['fix'].startswith('dsconf ')


def test_too_many_agreements_on_the_ipa_suffix(cluster):
    """Five agreements of the IPA suffix, one over IPA's recommended 4
    (freeipa/freeipa release-4-13-3 ipalib/constants.py
    recommended_max_agmts): a WARNING for that suffix only. They stay
    disabled: nothing needs to replicate for 389-DS to hold them."""
    with cluster.connect() as conn:
        (tree, _), = conn.search_s('cn=mapping tree,cn=config',
                                   ldap.SCOPE_ONELEVEL,
                                   '(cn=%s)' % IPA_BASE, ['1.1'])
        replica = 'cn=replica,' + tree
        cadb.add(conn, replica, objectClass=['top', 'nsds5Replica'],
                 cn='replica', nsDS5ReplicaRoot=IPA_BASE,
                 nsDS5ReplicaType='3', nsDS5Flags='1', nsDS5ReplicaId='1',
                 nsDS5ReplicaBindDN=repl.MANAGER_DN)
        names = ['ipaTo%d' % n for n in range(5)]
        for name in names:
            cadb.add(conn, 'cn=%s,%s' % (name, replica),
                     objectClass=['top', 'nsds5replicationagreement'],
                     cn=name, nsDS5ReplicaRoot=IPA_BASE,
                     nsDS5ReplicaHost='127.0.0.2',
                     nsDS5ReplicaPort=str(cluster.b.port),
                     nsDS5ReplicaBindDN=repl.MANAGER_DN,
                     nsDS5ReplicaCredentials=repl.MANAGER_PASSWORD,
                     nsDS5ReplicaBindMethod='SIMPLE',
                     nsds5ReplicaEnabled='off')
    try:
        with cluster.connect() as conn:
            assert len(conn.search_s(
                replica, ldap.SCOPE_ONELEVEL,
                '(objectClass=nsds5ReplicationAgreement)', ['1.1'])) == 5
        found = cluster.run('AgreementCountCheck')
        assert found[IPA_BASE]['result'] == 'WARNING'
        assert found[IPA_BASE]['kw']['code'] == 'DTR0419'
        assert (found[IPA_BASE]['kw']['agreements'],
                found[IPA_BASE]['kw']['threshold']) == (5, 4)
        assert found['o=ipaca']['kw']['code'] == 'DTR0420'
        assert cluster.run('AgreementCountCheck', dogtag_max_agreements=5)[
            IPA_BASE]['kw']['code'] == 'DTR0420'
    finally:
        with cluster.connect() as conn:
            for name in names:
                conn.delete_s('cn=%s,%s' % (name, replica))
            conn.delete_s(replica)
