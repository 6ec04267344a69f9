"""Supplier-supplier replication of o=ipaca between sandbox instances, and a
small IPA-like topology tree (servers, CA roles, CA segments) to go with it."""

import time

import ldap

from sandbox.cadb import add
from sandbox.ds import SUFFIX

REPLICA_DN = 'cn=replica,cn=o\\3Dipaca,cn=mapping tree,cn=config'
MANAGER_DN = 'cn=replication manager,cn=config'
MANAGER_PASSWORD = 'sandbox-replication'

IPA_SCHEMA = (
    "( ipaConfigString-oid NAME 'ipaConfigString' EQUALITY caseIgnoreMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 X-ORIGIN 'sandbox' )",
    "( ipaReplTopoSegmentLeftNode-oid NAME 'ipaReplTopoSegmentLeftNode' "
    "EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 "
    "SINGLE-VALUE X-ORIGIN 'sandbox' )",
    "( ipaReplTopoSegmentRightNode-oid NAME 'ipaReplTopoSegmentRightNode' "
    "EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 "
    "SINGLE-VALUE X-ORIGIN 'sandbox' )",
    "( ipaReplTopoSegmentDirection-oid NAME 'ipaReplTopoSegmentDirection' "
    "EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 "
    "SINGLE-VALUE X-ORIGIN 'sandbox' )",
    "( ipaReplTopoManagedSuffix-oid NAME 'ipaReplTopoManagedSuffix' "
    "EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 "
    "X-ORIGIN 'sandbox' )",
    "( ipaDomainLevel-oid NAME 'ipaDomainLevel' EQUALITY integerMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE X-ORIGIN 'sandbox' )",
    "( ipaReplTopoManagedAgreementState-oid NAME "
    "'ipaReplTopoManagedAgreementState' EQUALITY caseIgnoreMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE X-ORIGIN 'sandbox' )",
)
# The marker IPA's topology plugin puts on agreements it manages
# (freeipa install/share/70topology.ldif).
IPA_CLASSES = (
    "( ipaReplTopoManagedAgreement-oid NAME 'ipaReplTopoManagedAgreement' "
    "SUP top AUXILIARY MAY ( ipaReplTopoManagedAgreementState ) "
    "X-ORIGIN 'sandbox' )",
)


def enable_supplier(ds, replica_id):
    """Make o=ipaca a read-write replica of `ds` with its own replica ID."""
    conn = ds.connect()
    try:
        add(conn, MANAGER_DN, objectClass=['top', 'person'],
            cn='replication manager', sn='manager',
            userPassword=MANAGER_PASSWORD)
        add(conn, REPLICA_DN, objectClass=['top', 'nsds5Replica'],
            cn='replica', nsDS5ReplicaRoot=SUFFIX, nsDS5ReplicaType='3',
            nsDS5Flags='1', nsDS5ReplicaId=str(replica_id),
            nsDS5ReplicaBindDN=MANAGER_DN,
            # Retry a peer that was down within seconds, not minutes.
            nsds5ReplicaBackoffMin='1', nsds5ReplicaBackoffMax='3')
    finally:
        conn.unbind_s()


def agreement_dn(name):
    return 'cn=%s,%s' % (name, REPLICA_DN)


def add_agreement(ds, name, host, port):
    conn = ds.connect()
    try:
        add(conn, agreement_dn(name),
            objectClass=['top', 'nsds5replicationagreement'], cn=name,
            nsDS5ReplicaRoot=SUFFIX, nsDS5ReplicaHost=host,
            nsDS5ReplicaPort=str(port), nsDS5ReplicaBindDN=MANAGER_DN,
            nsDS5ReplicaCredentials=MANAGER_PASSWORD,
            nsDS5ReplicaBindMethod='SIMPLE',
            nsDS5ReplicaTransportInfo='LDAP',
            description='agreement to %s' % host)
    finally:
        conn.unbind_s()
    return agreement_dn(name)


def initialize(ds, name, timeout=120):
    """Total update of the consumer from `ds` over agreement `name`."""
    conn = ds.connect()
    try:
        dn = agreement_dn(name)
        conn.modify_s(dn, [(ldap.MOD_REPLACE, 'nsds5BeginReplicaRefresh',
                            b'start')])
        deadline = time.time() + timeout
        while time.time() < deadline:
            attrs = conn.search_s(dn, ldap.SCOPE_BASE, attrlist=[
                'nsds5BeginReplicaRefresh', 'nsds5replicaLastInitStatus'])
            attrs = attrs[0][1]
            status = attrs.get('nsds5replicaLastInitStatus', [b''])[0]
            if 'nsds5BeginReplicaRefresh' not in attrs and status:
                if b'Error (0)' not in status:
                    raise RuntimeError('initialization failed: %r' % status)
                return
            time.sleep(0.2)
        raise RuntimeError('initialization of %s timed out' % name)
    finally:
        conn.unbind_s()


def wait_for(ds, dn, timeout=30):
    """Wait until `dn` exists on `ds` (a change has replicated)."""
    deadline = time.time() + timeout
    conn = ds.connect()
    try:
        while time.time() < deadline:
            try:
                conn.search_s(dn, ldap.SCOPE_BASE, attrlist=['1.1'])
                return True
            except ldap.NO_SUCH_OBJECT:
                time.sleep(0.1)
        return False
    finally:
        conn.unbind_s()


# -- IPA topology data -------------------------------------------------------

def load_ipa_schema(conn):
    conn.modify_s('cn=schema', [(ldap.MOD_ADD, 'attributeTypes',
                                 [s.encode() for s in IPA_SCHEMA])])
    conn.modify_s('cn=schema', [(ldap.MOD_ADD, 'objectClasses',
                                 [s.encode() for s in IPA_CLASSES])])


def mark_agreement(ds, name, marked=True):
    """Put on (or take off) the topology plugin's marker, as
    ipa_topo_util_agmt_mark does (freeipa daemons/ipa-slapi-plugins/
    topology/topology_util.c, release-4-13-3)."""
    op = ldap.MOD_ADD if marked else ldap.MOD_DELETE
    conn = ds.connect()
    try:
        conn.modify_s(agreement_dn(name), [
            (op, 'objectClass', [b'ipaReplTopoManagedAgreement']),
            (op, 'ipaReplTopoManagedAgreementState',
             [b'managed agreement - controlled by topology plugin'])])
    finally:
        conn.unbind_s()


class IPATopology:
    """cn=masters and the CA topology segments below an IPA suffix."""

    def __init__(self, basedn):
        self.basedn = basedn
        self.etc = 'cn=etc,' + basedn
        self.masters = 'cn=masters,cn=ipa,cn=etc,' + basedn
        self.segments = 'cn=ca,cn=topology,cn=ipa,cn=etc,' + basedn
        self.domain_level = 'cn=Domain Level,cn=ipa,cn=etc,' + basedn

    def create(self, conn, domain_level=1):
        for dn in (self.etc, 'cn=ipa,' + self.etc, self.masters,
                   'cn=topology,cn=ipa,' + self.etc):
            add(conn, dn, objectClass=['top', 'nsContainer'],
                cn=dn.split(',')[0][3:])
        add(conn, self.segments,
            objectClass=['top', 'nsContainer', 'extensibleObject'], cn='ca')
        add(conn, self.domain_level,
            objectClass=['top', 'nsContainer', 'extensibleObject'],
            cn='Domain Level', ipaDomainLevel=str(domain_level))

    def set_domain_level(self, conn, level):
        conn.modify_s(self.domain_level, [
            (ldap.MOD_REPLACE, 'ipaDomainLevel', [str(level).encode()])])

    def set_ca_state(self, conn, host, state):
        conn.modify_s('cn=CA,' + self.server_dn(host), [
            (ldap.MOD_REPLACE, 'ipaConfigString',
             [state.encode(), b'startOrder 50'])])

    def server_dn(self, host):
        return 'cn=%s,%s' % (host, self.masters)

    def add_server(self, conn, host, ca=True, state='enabledService'):
        add(conn, self.server_dn(host),
            objectClass=['top', 'nsContainer', 'extensibleObject'], cn=host,
            ipaReplTopoManagedSuffix=[self.basedn] + ([SUFFIX] if ca else []))
        if ca:
            add(conn, 'cn=CA,' + self.server_dn(host),
                objectClass=['top', 'nsContainer', 'extensibleObject'],
                cn='CA', ipaConfigString=[state, 'startOrder 50'])

    def segment_dn(self, left, right):
        return 'cn=%s-to-%s,%s' % (left, right, self.segments)

    def add_segment(self, conn, left, right):
        add(conn, self.segment_dn(left, right),
            objectClass=['top', 'extensibleObject'],
            cn='%s-to-%s' % (left, right),
            ipaReplTopoSegmentLeftNode=left,
            ipaReplTopoSegmentRightNode=right,
            ipaReplTopoSegmentDirection='both')

    def remove_server(self, conn, host):
        """What `ipa server-del` leaves: no server entry, no segments."""
        for dn, _ in conn.search_s(self.segments, ldap.SCOPE_ONELEVEL,
                                   '(|(ipaReplTopoSegmentLeftNode=%s)'
                                   '(ipaReplTopoSegmentRightNode=%s))'
                                   % (host, host), ['1.1']):
            conn.delete_s(dn)
        for dn, _ in sorted(conn.search_s(self.server_dn(host),
                                          ldap.SCOPE_SUBTREE, attrlist=[
                                              '1.1']),
                            key=lambda e: -len(e[0])):
            conn.delete_s(dn)
