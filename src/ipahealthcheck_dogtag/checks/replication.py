"""Source `dogtag.replication`: o=ipaca agreements and RUVs, read locally."""

from datetime import datetime, timedelta, timezone

from ipahealthcheck.core import constants

from ipahealthcheck_dogtag.dogtag import agreements, fixes
from ipahealthcheck_dogtag.discovery import Problem
from ipahealthcheck_dogtag.checks.plugin import DogtagCheck, registry


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
            yield self.result(
                constants.SUCCESS, 'replication',
                '{suffix} is not replicated on this server (it has no '
                'replica configuration): nothing to check.', suffix=suffix)
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
            yield self.result(constants.SUCCESS, 'replication',
                              'The replica {replica} has no agreements.',
                              replica=replica_dn)
            return
        started = agreements.server_started(directory)
        hosts = [a.host.lower() for a in listed]
        for agreement in listed:
            key = agreement.host.lower()
            if hosts.count(key) > 1:
                key = '%s/%s' % (key, agreement.name)
            yield self.judge(database, topology, agreement, key, started)

    def judge(self, database, topology, agreement, key, started):
        fields = agreement.fields()
        fields.update(local=topology.local, topology=topology.where,
                      suffix=database.subsystem('ca').basedn,
                      domain_level=topology.domain_level)
        gone = self.gone(database, topology, agreement, fields)
        if gone is not None:
            level, why, fix = gone
            fields['fix'] = fix
            return self.result(
                level, key, 'The agreement {agreement} replicates to '
                '{peer}, but ' + why + '. Its status: {last_update_status} '
                '(last success: {last_success_text}). Fix: {fix}.',
                last_success_text=fields['last_success'] or
                'not recorded by 389-DS', **fields)
        if not agreement.enabled:
            fields['fix'] = fixes.agreement_enable(database, topology,
                                                   agreement)
            return self.result(
                constants.WARNING, key, 'The agreement {agreement} to '
                '{peer} is disabled (nsds5ReplicaEnabled: off): changes '
                'to {suffix} do not reach {peer}. Fix: {fix}.', **fields)
        if agreement.failing and not agreement.in_progress:
            return self.failing(database, topology, agreement, key, fields,
                                started)
        return self.result(
            constants.SUCCESS, key, 'The agreement {agreement} replicates '
            'to {peer}: {last_update_status}.', **fields)

    @staticmethod
    def gone(database, topology, agreement, fields):
        """(severity, reason, fix) if the peer is not a current CA server."""
        peer = agreement.host
        if not topology.ipa:
            if topology.is_server(peer):
                return None
            return (constants.ERROR, '{peer} is not in the security domain '
                    '{topology} any more',
                    fixes.agreement_delete(database, agreement, cleanruv=True))
        if not topology.is_server(peer):
            return (constants.ERROR, '{peer} is not an IPA server any more '
                    '(no cn={peer} under {topology})',
                    fixes.removed_server(database, topology, agreement))
        if not topology.has_ca(peer):
            unfinished = AgreementCheck.unfinished_install(topology, peer)
            if unfinished:
                fields['ca_state'] = unfinished
                return (constants.WARNING, unfinished_reason(unfinished),
                        fixes.unfinished_ca_install(topology, agreement))
            return (constants.ERROR, '{peer} no longer holds the CA role '
                    '(no enabled or hidden cn=CA,cn={peer} under {topology})',
                    fixes.remove_agreement(database, topology, agreement))
        # Segments exist from domain level 1 on; at level 0 IPA manages
        # agreements without them (freeipa ipaserver/plugins/topology.py
        # validate_domain_level, release-4-13-3).
        if topology.managed_topology and not topology.joined(peer):
            return (constants.WARNING, 'no CA topology segment joins {local} '
                    'and {peer}, so IPA does not manage this agreement',
                    fixes.segment_missing(database, topology, agreement))
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

    def failing(self, database, topology, agreement, key, fields, started):
        hours = self.context.settings.agreement_failure_hours
        now = datetime.now(timezone.utc)
        since, source = failure_start(agreement, started)
        fields.update(threshold_hours=hours, failing_since=agreements.iso(since),
                      failing_since_source=source,
                      since_restart=source == 'server_start',
                      server_started=agreements.iso(started))
        fields['fix'] = fixes.unreachable_peer(database, topology, agreement)
        if since is None:
            return self.result(
                constants.WARNING, key, 'The last update to {peer} failed ('
                '{last_update_status}' + (', at {last_attempt}'
                                          if fields['last_attempt'] else '') +
                '), and 389-DS no longer records when replication to {peer} '
                'last succeeded: it clears that when a session fails after '
                'acquiring the replica, and {changes_sent} change(s) reached '
                '{peer} since the 389-DS start. This clears at the next '
                'successful session, within minutes once {peer} answers '
                'again; if it persists: {fix}.', **fields)
        evidence = SINCE_TEXT[source]
        if now - since < timedelta(hours=hours):
            return self.result(
                constants.SUCCESS, key, 'The last update to {peer} failed '
                '({last_update_status}), but ' + evidence + ' less than '
                '{threshold_hours} h ago; it is reported if it goes on.',
                **fields)
        return self.result(
            constants.ERROR, key, 'Replication of {suffix} to {peer} is '
            'failing ({last_update_status}) and ' + evidence + ' over '
            '{threshold_hours} h ago. Fix: {fix}.', **fields)


# How each source dates a failure, worded for what it proves.
SINCE_TEXT = {
    'last_success': 'its last successful session ended at {failing_since},',
    'last_init': 'no change has reached {peer} since its last total update '
                 'at {failing_since},',
    'server_start': 'no change has reached {peer} since the 389-DS start at '
                    '{failing_since},',
}


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


def unfinished_reason(state):
    if state == 'configured':
        return ('a CA install on {peer} is in progress or did not finish: '
                'cn=CA,cn={peer} under {topology} is configuredService, not '
                'enabledService or hiddenService (an install sets up o=ipaca '
                'replication first and enables the CA role only at its end); '
                'keep the agreement')
    return ('a CA install on {peer} is in progress or did not finish: '
            '{peer} already takes part in {suffix} replication '
            '(ipaReplTopoManagedSuffix), but has no cn=CA,cn={peer} entry '
            'under {topology} yet (an install sets up o=ipaca replication '
            'first and records the CA role only later); keep the agreement')


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
        elements = agreements.ruv(self.context.directory(), suffix)
        # Every result carries the whole RUV and this server's own replica
        # ID: with all servers' reports, the cluster report finds replica
        # IDs that no server owns any more (a host installed again).
        common = {'suffix': suffix, 'local_replica_id': local,
                  'ruv': [[rid, host] for rid, host, _ in elements]}
        dangling = 0
        for rid, host, port in elements:
            if rid == local or self.owned(topology, host):
                continue
            dangling += 1
            fields = dict(common, replica_id=rid, host=host, port=port,
                          topology=topology.where,
                          host_is_server=topology.is_server(host),
                          fix=fixes.clean_ruv(database, topology, suffix,
                                              rid))
            if topology.ipa and AgreementCheck.unfinished_install(
                    topology, host) == 'none':
                yield self.result(
                    constants.WARNING, 'replica-id-%d' % rid,
                    'The RUV of {suffix} holds replica ID {replica_id} of '
                    '{host}:{port}, which takes part in {suffix} replication '
                    'but has no cn=CA,cn={host} under {topology}: a CA '
                    'install on {host} is in progress or did not finish. '
                    'Do not clean it while an install runs; if the install '
                    'was abandoned, this RUV element is dangling. '
                    'Fix: {fix}.', **fields)
                continue
            yield self.result(
                constants.ERROR, 'replica-id-%d' % rid,
                'The RUV of {suffix} still holds replica ID {replica_id} of '
                '{host}:{port}, which is not ' + (
                    'an IPA CA server (no cn=CA,cn={host} under {topology})'
                    if topology.ipa else 'in the security domain') +
                ' (a dangling RUV): changelog trimming and replica ID reuse '
                'suffer. Fix: {fix}.', **fields)
        if not dangling:
            yield self.result(
                constants.SUCCESS, 'ruv', 'Every replica ID in the RUV of '
                '{suffix} belongs to a current server: {replicas}.',
                replicas=', '.join('%d %s' % (rid, host)
                                   for rid, host, _ in elements) or 'none',
                **common)
