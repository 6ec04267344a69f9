"""Source `dogtag.replication`: o=ipaca agreements and RUVs, read locally."""

from datetime import datetime, timedelta, timezone

from ipahealthcheck_dogtag.dogtag import agreements, fixes
from ipahealthcheck_dogtag.dogtag import topology as roles
from ipahealthcheck_dogtag.discovery import Problem
from ipahealthcheck_dogtag.checks.plugin import DogtagCheck, registry
from ipahealthcheck_dogtag.findings import replication as F


class ReplicationCheck(DogtagCheck):
    """Finds the CA suffix's replica configuration and the topology."""

    def check_database(self, database, deadline):
        found = yield from self.replica(database)
        if found is not None:
            yield from self.check_replica(database, *found)

    def replica(self, database):
        """Yield the early results; return (replica dn, attrs, topology)."""
        suffix = database.subsystem('ca').basedn
        found = agreements.replica(self.context.directory(), suffix)
        if found is None:
            yield self.finding(F.NOT_REPLICATED, suffix=suffix)
            return None
        try:
            topology = self.context.topology()
        except Problem as problem:
            yield self.problem(problem)
            return None
        return found[0], found[1], topology


@registry
class AgreementCheck(ReplicationCheck):
    """Do the CA suffix's agreements point at live, current CA servers?"""

    settings_used = DogtagCheck.settings_used + ('dogtag_agreement_failure_hours',)

    def check_replica(self, database, replica_dn, attrs, topology):
        directory = self.context.directory()
        listed = agreements.agreements(directory, replica_dn)
        if not listed:
            yield self.finding(F.NO_AGREEMENTS, replica=replica_dn)
            return
        started = agreements.server_started(directory)
        hosts = [a.host.lower() for a in listed]
        for agreement in listed:
            key = agreement.host.lower()
            if hosts.count(key) > 1:
                key = '%s/%s' % (key, agreement.name)
            yield self.judge(database, topology, agreement, key, started)

    def judge(self, database, topology, agreement, key, started):
        facts = dict(agreement.fields(), local=topology.local,
                     topology=topology.where,
                     suffix=database.subsystem('ca').basedn,
                     domain_level=topology.domain_level)
        gone = self.gone(database, topology, agreement)
        if gone is not None:
            finding, fix, known = gone
            known['last_success_text'] = facts['last_success'] or \
                'not recorded by 389-DS'
            return self.finding(finding, key, fix=fix, **facts, **known)
        if not agreement.enabled:
            return self.finding(
                F.AGREEMENT_DISABLED, key, fix=fixes.agreement_enable(
                    database, topology, agreement), **facts)
        if agreement.failing and not agreement.in_progress:
            return self.failing(database, topology, agreement, key, facts,
                                started)
        return self.finding(F.AGREEMENT_OK, key, **facts)

    @staticmethod
    def gone(database, topology, agreement):
        """(finding, fix, facts) if the peer is not a current CA server."""
        peer = agreement.host
        if not topology.ipa:
            if topology.is_server(peer):
                return None
            return (F.PEER_NOT_IN_SECURITY_DOMAIN,
                    fixes.agreement_delete(database, agreement, cleanruv=True),
                    {})
        if not topology.is_server(peer):
            return (F.PEER_NOT_IPA_SERVER,
                    fixes.removed_server(database, topology, agreement), {})
        if not topology.has_ca(peer):
            unfinished = AgreementCheck.unfinished_install(topology, peer)
            if unfinished:
                return (F.PEER_CA_INSTALL_UNFINISHED,
                        fixes.unfinished_ca_install(topology, agreement),
                        {'ca_state': unfinished})
            return (F.PEER_NO_CA_ROLE,
                    fixes.remove_agreement(database, topology, agreement), {})
        # Segments exist from domain level 1 on; at level 0 IPA manages
        # agreements without them (freeipa ipaserver/plugins/topology.py
        # validate_domain_level, release-4-13-3).
        if topology.managed_topology and not topology.joined(peer):
            return (F.SEGMENT_MISSING,
                    fixes.segment_missing(database, topology, agreement), {})
        return None

    @staticmethod
    def unfinished_install(topology, peer):
        """'configured' or 'none' when `peer` looks like a CA install that
        is running or stopped half-way, else None.

        A replica's CA install (freeipa/freeipa release-4-13-3
        ipaserver/install/cainstance.py) runs "setting up initial
        replication" first: it creates the o=ipaca agreements and adds
        ipaReplTopoManagedSuffix: o=ipaca to the server's entry
        (install/share/ca-topology.uldif). Only later "enabling CA
        instance" writes cn=CA with configuredService (service.py
        ldap_configure), and at the very end enable_services() or
        sync_services_state() turns it into enabledService.
        """
        if topology.ca_configured_only(peer):
            return 'configured'
        if not topology.has_ca_entry(peer) and topology.is_managed(peer):
            return 'none'
        return None

    def failing(self, database, topology, agreement, key, facts, started):
        hours = self.context.settings.agreement_failure_hours
        since, source = failure_start(agreement, started)
        facts = dict(facts, threshold_hours=hours,
                     failing_since=agreements.iso(since),
                     failing_since_source=source,
                     since_restart=source == 'server_start',
                     server_started=agreements.iso(started),
                     fix=fixes.unreachable_peer(database, topology,
                                                agreement))
        if since is None:
            return self.finding(F.AGREEMENT_FAILING_UNDATED, key, **facts)
        if datetime.now(timezone.utc) - since < timedelta(hours=hours):
            return self.finding(F.AGREEMENT_FAILING_RECENT, key, **facts)
        return self.finding(F.AGREEMENT_FAILING, key, **facts)


def failure_start(agreement, started):
    """(since when replication to the peer is known not to work, which
    record says so), or (None, None) when 389-DS records nothing that
    dates it; see agreements.Agreement for what 389-DS keeps."""
    if agreement.last_success is not None:
        return agreement.last_success, 'last_success'
    if agreement.changes_sent:
        # Something reached the peer after the start, and a later session
        # failed after acquiring the replica, clearing the end time.
        return None, None
    if agreement.last_init is not None and \
            (started is None or agreement.last_init > started):
        return agreement.last_init, 'last_init'
    if started is not None:
        return started, 'server_start'
    return None, None


@registry
class RUVCheck(ReplicationCheck):
    """Does the CA suffix's RUV name replicas of servers that are gone?"""

    @staticmethod
    def owned(topology, host):
        """Is an o=ipaca RUV element of `host` owned by a current server?

        In IPA only a server with a cn=CA entry (in any state) owns one:
        `ipa-replica-manage clean-dangling-ruv` collects CS-RUVs only from
        masters with cn=ca,cn=<master> and cleans every other o=ipaca RUV
        element, a master without the CA role included (freeipa/freeipa
        install/tools/ipa-replica-manage.in clean_dangling_ruvs,
        release-4-13-3).
        """
        if topology.ipa:
            return topology.has_ca_entry(host)
        return topology.is_server(host)

    def check_replica(self, database, replica_dn, attrs, topology):
        local = int(attrs['nsds5replicaid'][0])
        suffix = database.subsystem('ca').basedn
        elements, incomplete = agreements.ruv_elements(
            self.context.directory(), suffix)
        # Every result carries the whole RUV and this server's own replica
        # ID: with all servers' reports, the cluster report finds replica
        # IDs that no server owns any more (a host installed again).
        shared = {'suffix': suffix, 'local_replica_id': local,
                  'ruv': [[rid, host] for rid, host, _ in elements]}
        dangling = 0
        for rid, host, port in elements:
            if rid == local or self.owned(topology, host):
                continue
            dangling += 1
            facts = dict(shared, replica_id=rid, host=host, port=port,
                         topology=topology.where,
                         host_is_server=topology.is_server(host))
            key = 'replica-id-%d' % rid
            if topology.ipa and AgreementCheck.unfinished_install(
                    topology, host) == 'none':
                yield self.finding(
                    F.RUV_INSTALL_UNFINISHED, key,
                    fix=fixes.ruv_of_unfinished_install(
                        database, topology, suffix, rid, host), **facts)
                continue
            yield self.finding(
                F.RUV_DANGLING, key, fix=fixes.clean_ruv(
                    database, topology, suffix, rid), **facts)
        for rid, value in incomplete:
            if rid == local:
                continue
            dangling += 1
            yield self.finding(
                F.RUV_INCOMPLETE, 'replica-id-%d' % rid,
                fix=fixes.clean_incomplete_ruv(database, topology, suffix,
                                               rid),
                replica_id=rid, value=value, topology=topology.where,
                **shared)
        if not dangling:
            yield self.finding(
                F.RUV_CLEAN, replicas=', '.join(
                    '%d %s' % (rid, host) for rid, host, _ in elements) or
                'none', **shared)


@registry
class RoleCheck(DogtagCheck):
    """Is a server's CA or KRA role left configuredService by an install
    that runs or stopped half-way (freeipa pagure 7929)?

    Its own check, not AgreementCheck's: the role is in cn=masters whether
    or not this server replicates with that host. A CA role of a host this
    server has an o=ipaca agreement with is AgreementCheck's (DTR0405), so
    it is not reported twice."""

    def check_database(self, database, deadline):
        if not database.ipa_basedn:
            yield self.finding(F.ROLES_NOT_IPA)
            return
        directory = self.context.directory()
        try:
            topology = self.context.topology()
            left = roles.unfinished_roles(directory, database.ipa_basedn)
        except Problem as problem:
            yield self.problem(problem)
            return
        peers = set()
        found = agreements.replica(directory, database.subsystem('ca').basedn)
        if found is not None:
            peers = {a.host.lower()
                     for a in agreements.agreements(directory, found[0])}
        reported = []
        for host, role in left:
            if role == 'CA' and host in peers:
                reported.append(host)
                continue
            yield self.finding(
                F.CA_ROLE_UNFINISHED, '%s/%s' % (host, role),
                fix=fixes.unfinished_role(host, role,
                                          topology.managed_topology),
                host=host, role=role, local=topology.local,
                role_dn='cn=%s,cn=%s,cn=masters,cn=ipa,cn=etc,%s' % (
                    role, host, database.ipa_basedn),
                topology='cn=masters,cn=ipa,cn=etc,%s' % database.ipa_basedn)
        if len(reported) == len(left):
            yield self.finding(
                F.ROLES_FINISHED, reported_by_agreement=reported,
                topology='cn=masters,cn=ipa,cn=etc,%s' % database.ipa_basedn)


@registry
class AgreementCountCheck(DogtagCheck):
    """Does this server have more agreements per suffix than IPA
    recommends (freeipa/freeipa release-4-13-3 ipalib/constants.py
    recommended_max_agmts, checked by ipaserver/plugins/topology.py
    topologysuffix_verify)?"""

    settings_used = DogtagCheck.settings_used + ('dogtag_max_agreements',)

    def check_database(self, database, deadline):
        directory = self.context.directory()
        limit = self.context.settings.max_agreements
        ca_suffix = database.subsystem('ca').basedn
        suffixes = [ca_suffix]
        if database.ipa_basedn:
            suffixes.insert(0, database.ipa_basedn)
        for suffix in suffixes:
            count = agreements.agreement_count(directory, suffix)
            facts = dict(suffix=suffix, agreements=count, threshold=limit)
            if count > limit:
                yield self.finding(
                    F.AGREEMENTS_TOO_MANY, suffix,
                    fix=fixes.too_many_agreements(limit), **facts)
            else:
                yield self.finding(F.AGREEMENTS_WITHIN, suffix, **facts)
        if not database.ipa_basedn:
            yield self.finding(F.AGREEMENTS_IPA_NOT_COUNTED,
                               ca_suffix=ca_suffix)
