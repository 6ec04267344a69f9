"""Rules a real 389-DS cannot show without FreeIPA's topology plugin or a
particular replication history; each test names the upstream source."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from ipahealthcheck_dogtag.checks.replication import failure_start
from ipahealthcheck_dogtag.dogtag import fixes
from ipahealthcheck_dogtag.dogtag.agreements import Agreement
from ipahealthcheck_dogtag.dogtag.topology import Topology

LOCAL, PEER = 'ca1.ipa.test', 'ca2.ipa.test'
DATABASE = SimpleNamespace(
    ldap_uri='ldapi://%2Frun%2Fslapd-IPA-TEST.socket',
    subsystem=lambda name: SimpleNamespace(basedn='o=ipaca'))
EPOCH = '19700101000000Z'


def topology(level=1, managed=(LOCAL, PEER), segments=None):
    return Topology('ipa', 'cn=masters,cn=ipa,cn=etc,dc=ipa,dc=test',
                    {LOCAL, PEER}, {LOCAL, PEER}, segments or {}, LOCAL,
                    managed=set(managed), domain_level=level)


def agreement(marked=False, **attrs):
    values = {'cn': 'caTo' + PEER, 'nsds5replicahost': PEER,
              'nsds5replicaport': '389',
              'objectclass': ['top', 'nsds5replicationagreement'] +
              (['ipaReplTopoManagedAgreement'] if marked else [])}
    values.update(attrs)
    return Agreement('cn=caTo%s,cn=replica' % PEER, {
        k.lower(): [x.encode() for x in (v if isinstance(v, list) else [v])]
        for k, v in values.items()})


def test_topology_plugin_refuses_managed_agreements():
    """freeipa/freeipa release-4-13-3 daemons/ipa-slapi-plugins/topology/
    topology_pre.c ipa_topo_pre_del: "Entry is managed by topology plugin.
    Deletion not allowed." when ipa_topo_is_entry_managed: the agreement
    is marked (topology_util.c ipa_topo_util_agmt_is_marked) or both ends
    are managed hosts (ipa_topo_util_target_is_managed); the plugin is
    inactive below domain level 1 (ipa_topo_util_check_plugin_active)."""
    refused = fixes.refused_by_topology_plugin
    assert refused(topology(), agreement())
    assert refused(topology(managed=(LOCAL,)), agreement(marked=True))
    assert not refused(topology(managed=(LOCAL,)), agreement())
    assert not refused(topology(level=0), agreement(marked=True))
    standalone = Topology('security domain', 'ou=Security Domain,o=ipaca',
                          {PEER}, {PEER}, {}, LOCAL)
    assert not refused(standalone, agreement(marked=True))


def test_removal_the_server_accepts():
    """What IPA accepts instead: the segment's removal (topology_post.c
    deletes its agreements), or a dirsrv restart after which
    ipa_topo_util_update_agmt_list deletes a marked agreement without a
    segment and adopts an unmarked one as segment <local>-to-<peer>
    (ipa_topo_util_segm_from_agmt), release-4-13-3."""
    joined = topology(segments={frozenset((LOCAL, PEER)): 'ca1-to-ca2'})
    assert str(fixes.remove_agreement(DATABASE, joined, agreement())) == \
        'ipa topologysegment-del ca ca1-to-ca2'
    fix = str(fixes.remove_agreement(DATABASE, topology(), agreement(True)))
    assert fix.startswith('systemctl restart dirsrv@IPA-TEST.service on '
                          'ca1.ipa.test: at start the topology plugin '
                          'deletes a managed agreement')
    fix = fixes.remove_agreement(DATABASE, topology(), agreement())
    assert 'adopts the agreement as segment ca1.ipa.test-to-ca2.ipa.test' \
        in fix.steps[0].do
    assert fix.steps[1].do == \
        'ipa topologysegment-del ca ca1.ipa.test-to-ca2.ipa.test'
    assert str(fixes.remove_agreement(DATABASE, topology(level=0),
                                      agreement(True))).startswith(
        'dsconf slapd-IPA-TEST repl-agmt delete')
    # Level 0: IPA's own removal, not `ipa server-del`.
    assert 'ipa-replica-manage del ca2.ipa.test' in fixes.unreachable_peer(
        DATABASE, topology(level=0), agreement())


def test_what_dates_a_failure():
    """389ds/389-ds-base 389-ds-base-2.9.0 (same in 1.3.11)
    repl5_inc_protocol.c repl5_inc_run: an acquired session sets
    LastUpdateStart to now and LastUpdateEnd to 0; success sets End,
    failure sets Start back to 0. repl5_agmt.c: both are in memory only
    (epoch after a restart); nsds5replicaChangesSentSinceStartup counts the
    changes the peer accepted since the start; LastInitEnd persists."""
    started = datetime(2026, 1, 1, tzinfo=timezone.utc)
    later = started + timedelta(days=3)
    success = agreement(nsds5replicaLastUpdateEnd='20260104000000Z')
    assert failure_start(success, started) == (later, 'last_success')
    # End 0 after a session failed half-way, though changes got through.
    cleared = agreement(nsds5replicaLastUpdateEnd=EPOCH,
                        nsds5replicaLastUpdateStart=EPOCH,
                        nsds5replicaChangesSentSinceStartup='4:12/0 ')
    assert cleared.changes_sent == 12
    assert failure_start(cleared, started) == (None, None)
    nothing = agreement(nsds5replicaLastUpdateEnd=EPOCH,
                        nsds5replicaChangesSentSinceStartup='4:0/3 ')
    assert failure_start(nothing, started) == (started, 'server_start')
    init = agreement(nsds5replicaLastUpdateEnd=EPOCH,
                     nsds5replicaLastInitEnd='20260104000000Z',
                     nsds5replicaLastInitStatus='Error (0) Total update '
                     'succeeded')
    assert failure_start(init, started) == (later, 'last_init')
    failed_init = agreement(nsds5replicaLastUpdateEnd=EPOCH,
                            nsds5replicaLastInitEnd='20260104000000Z',
                            nsds5replicaLastInitStatus='Error (-1) '
                            'Problem connecting to replica')
    assert failure_start(failed_init, started) == (started, 'server_start')


def test_an_unfinished_install_is_not_cleaned_under_it():
    """The RUV element of a host whose CA install has not recorded cn=CA
    yet: cleaning it is the second step, only if the install was abandoned
    (freeipa/freeipa release-4-13-3 ipa-replica-manage.in
    clean_dangling_ruvs would clean it at once)."""
    fix = fixes.ruv_of_unfinished_install(DATABASE, topology(), 'o=ipaca',
                                          7, PEER)
    assert [(s.effect, s.when) for s in fix.steps] == [
        ('manual', None), ('writes-directory', 'if the install was abandoned')]
    assert 'ipa-replica-manage clean-ruv 7' in str(fix)
    # The host comes from the RUV, which whoever writes cn=config shapes.
    refused = fixes.ruv_of_unfinished_install(
        DATABASE, topology(), 'o=ipaca', 7, 'ca2.ipa.test;reboot')
    assert str(refused).startswith('no command is given because the RUV '
                                   'element\'s host')
    assert 'reboot' not in str(refused)


def test_incomplete_ruv_element_is_reported(monkeypatch):
    """An RUV element without a URL ("{replica 4}", 389ds/389-ds-base#5193;
    freeipa/freeipa#7342, pagure 9591) is no longer skipped silently: a
    server before 389-ds-base 1.4.3.30 / 2.0.15 / 2.1.1 / 2.2.0 returns it,
    which no server the tests run can (see test_replication_real)."""
    from ipahealthcheck_dogtag.dogtag import agreements

    class Directory:
        def search(self, base, flt, attrs, scope=None):
            return [('cn=replica', {'nsds50ruv': [
                b'{replicageneration} 6204409b000000010000',
                b'{replica 1 ldap://ca1.example.test:389} '
                b'6204409b000100010000 620440e9000000010000',
                b'{replica 4}',
                b'{replica 5} 6204409b000100050000 620440e9000000050000'
            ]})], None

    elements, incomplete = agreements.ruv_elements(Directory(), 'o=ipaca')
    assert elements == [(1, 'ca1.example.test', '389')]
    assert [rid for rid, _ in incomplete] == [4, 5]
