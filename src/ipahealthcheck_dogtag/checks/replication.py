"""Source `dogtag.replication`: o=ipaca agreements and RUVs, read locally."""

from datetime import datetime, timedelta, timezone

from ipahealthcheck.core import constants

from ipahealthcheck_dogtag.dogtag import agreements, fixes
from ipahealthcheck_dogtag.discovery import Finding
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
        except Finding as finding:
            yield self.result(constants.ERROR, finding.key, finding.msg,
                              **finding.fields)
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
                      suffix=database.subsystem('ca').basedn)
        gone = self.gone(database, topology, agreement, fields)
        if gone is not None:
            level, why, fix = gone
            fields['fix'] = fix
            return self.result(
                level, key, 'The agreement {agreement} replicates to '
                '{peer}, but ' + why + '. Its status: {last_update_status} '
                '(last success: {last_success_text}). Fix: {fix}.',
                last_success_text=fields['last_success'] or
                'none since the 389-DS start', **fields)
        if not agreement.enabled:
            fields['fix'] = fixes.agreement_enable(database, agreement)
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
                    fixes.removed_server(database, agreement))
        if not topology.has_ca(peer):
            return (constants.ERROR, '{peer} no longer holds the CA role '
                    '(no enabled or hidden cn=CA,cn={peer} under {topology})',
                    fixes.agreement_delete(database, agreement))
        if not topology.joined(peer):
            return (constants.WARNING, 'no CA topology segment joins {local} '
                    'and {peer}, so IPA does not manage this agreement',
                    fixes.segment_or_delete(database, topology, agreement))
        return None

    def failing(self, database, topology, agreement, key, fields, started):
        hours = self.context.settings.agreement_failure_hours
        now = datetime.now(timezone.utc)
        # After a restart the last success reads as the epoch until the next
        # one: then the failure is known only since the server started.
        since = agreement.last_success or started
        fields.update(threshold_hours=hours,
                      failing_since=agreements.iso(since),
                      since_restart=agreement.last_success is None)
        if since is not None and now - since < timedelta(hours=hours):
            return self.result(
                constants.SUCCESS, key, 'The last update to {peer} failed '
                '({last_update_status}), but for less than '
                '{threshold_hours} h (last success {failing_since}); it is '
                'reported if it goes on.', **fields)
        fields['fix'] = fixes.unreachable_peer(database, topology, agreement)
        since_text = ('the 389-DS start at {failing_since}, with no success '
                      'since' if fields['since_restart'] else
                      '{failing_since}, its last success')
        return self.result(
            constants.ERROR, key, 'Replication of {suffix} to {peer} has '
            'failed since ' + since_text + ' (over {threshold_hours} h): '
            '{last_update_status}. Fix: {fix}.', **fields)


@registry
class RUVCheck(ReplicationCheck):
    """Does the CA suffix's RUV name replicas of servers that are gone?"""

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
            if rid == local or topology.is_server(host):
                continue
            dangling += 1
            yield self.result(
                constants.ERROR, 'replica-id-%d' % rid,
                'The RUV of {suffix} still holds replica ID {replica_id} of '
                '{host}:{port}, which is not ' + (
                    'an IPA server' if topology.ipa else
                    'in the security domain') + ' any more (a dangling RUV): '
                'changelog trimming and replica ID reuse suffer. '
                'Fix: {fix}.', replica_id=rid, host=host,
                port=port, topology=topology.where,
                fix=fixes.clean_ruv(database, topology, suffix, rid),
                **common)
        if not dangling:
            yield self.result(
                constants.SUCCESS, 'ruv', 'Every replica ID in the RUV of '
                '{suffix} belongs to a current server: {replicas}.',
                replicas=', '.join('%d %s' % (rid, host)
                                   for rid, host, _ in elements) or 'none',
                **common)
