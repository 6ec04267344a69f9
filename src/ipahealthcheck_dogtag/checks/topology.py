"""Source `dogtag.topology`: what removed servers leave behind.

A server removed from IPA can leave its security-domain entries, its
Dogtag subsystem user (a trusted certificate), and CS.cfg settings of the
servers that remain pointing at it; a renewed KRA transport certificate
can leave its old copy in the CA's CS.cfg. The verdicts are in
dogtag/leftovers.py, the findings in findings/topology.py.
"""

import os
from datetime import datetime, timezone

from ipahealthcheck_dogtag import discovery
from ipahealthcheck_dogtag.checks.plugin import DogtagCheck, registry
from ipahealthcheck_dogtag.discovery import Problem
from ipahealthcheck_dogtag.dogtag import fixes, leftovers
from ipahealthcheck_dogtag.findings import ERROR, WARNING
from ipahealthcheck_dogtag.findings import topology as F

# Subsystems whose CS.cfg may name a security-domain host, in the order
# they are reported (OCSP is not discovered as a CA database subsystem).
SD_HOST_SUBSYSTEMS = ('ca', 'kra', 'ocsp')


def _masters(topology):
    return sorted(topology.servers)


def _not_current(topology, registered):
    """(item, verdict, role, states) of each registered subsystem whose
    host is no current IPA server with that role."""
    for item in registered:
        verdict, role, states = leftovers.host_verdict(topology, item.kind,
                                                       item.host)
        if verdict != leftovers.CURRENT:
            yield item, verdict, role, states


@registry
class SecurityDomainCheck(DogtagCheck):
    """Security-domain entries of servers that no longer exist (or no
    longer hold the role): freeipa pagure 8930 and 9330."""

    def check_database(self, database, deadline):
        basedn = database.subsystem('ca').basedn
        where = leftovers.security_domain_dn(basedn)
        registrations = leftovers.read_security_domain(
            self.context.directory(), basedn)
        if registrations is None:
            # Only IPA always keeps it in the CA database.
            yield self.finding(
                F.SD_ABSENT if database.ipa_basedn else F.SD_ELSEWHERE,
                where=where, sd_host=database.subsystem('ca').get(
                    'securitydomain.host'))
            return
        if not database.ipa_basedn:
            yield self.finding(
                F.SD_STANDALONE, registrations=len(registrations),
                where=where, hosts=sorted({r.key for r in registrations}))
            return
        try:
            topology = self.context.topology()
        except Problem as problem:
            yield self.problem(problem)
            return
        stale = list(_not_current(topology, registrations))
        for entry, verdict, role, states in stale:
            facts = dict(entry=entry.dn, subsystem_type=entry.kind,
                         host=entry.host, port=entry.port, clone=entry.clone,
                         domain_manager=entry.manager,
                         fix=fixes.sd_subsystem_del(
                             database, entry.kind, entry.host, entry.port,
                             entry.dn))
            if verdict == leftovers.NO_SERVER:
                yield self.finding(F.SD_REMOVED_SERVER, key=entry.key,
                                   masters=_masters(topology), **facts)
            else:
                yield self.finding(F.SD_ROLE_MISSING, key=entry.key,
                                   role=role.upper(), role_states=states,
                                   **facts)
        if not stale:
            yield self.finding(F.SD_CURRENT, registrations=len(registrations),
                               where=where, masters=_masters(topology))


@registry
class SubsystemUserCheck(DogtagCheck):
    """Dogtag subsystem users (uid=<TYPE>-<host>-<port>) of removed
    servers: dogtagpki/pki#3544."""

    def check_database(self, database, deadline):
        directory = self.context.directory()
        basedn = database.subsystem('ca').basedn
        people, users = leftovers.read_subsystem_users(directory, basedn)
        if not database.ipa_basedn:
            yield self.finding(F.USERS_STANDALONE, users=len(users),
                               people=people,
                               uids=sorted(u.uid for u in users))
            return
        try:
            topology = self.context.topology()
        except Problem as problem:
            yield self.problem(problem)
            return
        stale = list(_not_current(topology, users))
        for user, verdict, role, states in stale:
            yield self.judged(database, basedn, user, verdict, role, states)
        if not stale:
            yield self.finding(F.USERS_CURRENT, users=len(users),
                               people=people, masters=_masters(topology))

    def judged(self, database, basedn, user, verdict, role, states):
        groups = leftovers.groups_of(self.context.directory(), basedn,
                                     user.dn)
        serial, not_after = user.certificate()
        try:
            ldif = fixes.removal_ldif(user.dn, groups)
        except fixes.Unsafe:
            ldif = None
        facts = dict(
            account=user.dn, uid=user.uid, subsystem_type=user.kind,
            host=user.host, port=user.port, groups=groups,
            cert_serial=serial, cert_not_after=leftovers.iso(not_after),
            cert_expired=None if not_after is None else
            not_after <= datetime.now(timezone.utc),
            fix_ldif=ldif, uri=database.ldap_uri,
            fix=fixes.subsystem_user_removal(database, user.dn, groups))
        if verdict == leftovers.NO_SERVER:
            blocked = leftovers.reinstall_blocked(database.pki_version)
            return self.finding(F.USER_REMOVED_SERVER, key=user.uid,
                                level=ERROR if blocked else WARNING,
                                reinstall_blocked=blocked, **facts)
        return self.finding(F.USER_ROLE_MISSING, key=user.uid,
                            role=role.upper(), role_states=states, **facts)


@registry
class SecurityDomainHostCheck(DogtagCheck):
    """securitydomain.host of this server's subsystems naming a removed
    server or no domain manager: freeipa pagure 6895."""

    def check_database(self, database, deadline):
        configs = []
        for name in SD_HOST_SUBSYSTEMS:
            try:
                found = self.cs_cfg(database, name)
            except Problem as problem:
                yield self.problem(problem)
                continue
            if found is not None:
                configs.append((name, found))
        basedn = database.subsystem('ca').basedn
        registrations = leftovers.read_security_domain(
            self.context.directory(), basedn)
        topology = None
        if database.ipa_basedn:
            try:
                topology = self.context.topology()
            except Problem as problem:
                yield self.problem(problem)
                return
        judged_by = 'IPA servers' if topology is not None else \
            'security domain'
        managers = leftovers.managers(registrations)
        for name, (path, get) in configs:
            key = '%s.securitydomain.host' % name
            host = (get('securitydomain.host') or '').strip()
            if not host:
                yield self.finding(F.SD_HOST_UNSET, key=key, subsystem=name,
                                   cs_cfg=path)
                continue
            verdict = leftovers.sd_host_verdict(host, topology,
                                                registrations)
            facts = dict(subsystem=name, host=host, cs_cfg=path,
                         managers=managers)
            if verdict == leftovers.SD_CURRENT:
                yield self.finding(F.SD_HOST_CURRENT, key=key, **facts)
                continue
            suggested = leftovers.suggested_sd_host(database.hostname,
                                                    registrations)
            fix = fixes.sd_host_set(database, path, suggested)
            if verdict == leftovers.SD_GONE:
                yield self.finding(F.SD_HOST_GONE, key=key,
                                   judged_by=judged_by, suggested=suggested,
                                   fix=fix, **facts)
            else:
                yield self.finding(F.SD_HOST_NOT_MANAGER, key=key,
                                   suggested=suggested, fix=fix, **facts)

    @staticmethod
    def cs_cfg(database, name):
        """(path, getter) of a subsystem's CS.cfg on this host, or None.
        Discovery reads the CA's and the KRA's; an OCSP's is read here
        (a failure to read it is a Problem, reported)."""
        subsystem = database.subsystem(name)
        if subsystem is not None:
            return subsystem.path, subsystem.get
        if name != 'ocsp':
            return None
        directory = os.path.join(database.instance_dir, 'conf', name)
        if not discovery.is_directory(directory, '%s.config' % name):
            return None
        path = os.path.join(directory, 'CS.cfg')
        return path, discovery.read_cs_cfg(path).get


@registry
class TransportCertCheck(DogtagCheck):
    """The CA's copy of the KRA transport certificate against the KRA's
    current one: freeipa pagure 9692. Read-only."""

    KEY = 'ca.connector.KRA.transportCert'

    def check_database(self, database, deadline):
        ca = database.subsystem('ca')
        value = ca.get(self.KEY)
        if not (value or '').strip():
            yield self.finding(F.TRANSPORT_NO_CONNECTOR, cs_cfg=ca.path)
            return
        ours = leftovers.certificate_blob(value)
        serial, not_after = (leftovers.parse_certificate(ours) if ours
                             else None) or (None, None)
        facts = dict(cs_cfg=ca.path, cert_serial=serial,
                     cert_not_after=leftovers.iso(not_after))
        reference, where, kind = self.reference(database)
        if reference is None:
            yield self.finding(F.TRANSPORT_NO_REFERENCE, looked_at=where,
                               **facts)
            return
        if ours == reference:
            yield self.finding(F.TRANSPORT_CURRENT, reference=where[0],
                               reference_kind=kind,
                               cert_serial=serial,
                               cert_not_after=facts['cert_not_after'])
            return
        ref_serial, ref_not_after = leftovers.parse_certificate(
            reference) or (None, None)
        yield self.finding(
            F.TRANSPORT_STALE, reference=where[0], reference_kind=kind,
            reference_serial=ref_serial,
            reference_not_after=leftovers.iso(ref_not_after),
            fix=fixes.transport_cert_update(database, ca.path, where[0]),
            **facts)

    @staticmethod
    def _kra_value(database):
        kra = database.subsystem('kra')
        if kra is None:
            return None, None
        return leftovers.certificate_blob(kra.get('kra.transport.cert')), \
            'kra.transport.cert in %s' % kra.path

    def reference(self, database):
        """(DER of the KRA's current transport certificate, [where it was
        read], what that is) or (None, [where we looked], None). The KRA's
        own CS.cfg on this host comes first; else the copy IPA publishes
        for replicas."""
        looked = []
        der, where = self._kra_value(database)
        if where:
            if der is not None:
                return der, [where], 'the KRA\'s kra.transport.cert'
            looked.append(where)
        if database.ipa_basedn:
            dn, der = leftovers.read_renewed_transport(
                self.context.directory(), database.ipa_basedn)
            if der is not None:
                return der, [dn], 'the renewed copy in cn=ca_renewal'
            looked.append(dn)
        return None, looked, None
