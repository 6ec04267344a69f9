"""dogtag.topology on real replicating 389-DS instances: what removed servers
leave behind (security-domain entries, subsystem users, securitydomain.host)
and the CA's copy of the KRA transport certificate.

Three servers on loopback replicate o=ipaca: ca1 (127.0.0.1, the one we
check, with the IPA suffix, the CA and the KRA) with ca2 and ca3 (CA
clones). Each server registers itself in the security domain and adds its
subsystem user on its own instance, as a clone install does through its
master; replication brings them to ca1. Faults are planted on ca1, read
back, judged, then removed: the tests share the servers.

Upstream, for the shapes planted here: dogtagpki/pki v11.5.0
SecurityDomainProcessor.addHost (cn=<host>:<port>,cn=<TYPE>List,
ou=Security Domain, pkiSubsystem), SubsystemGroupUpdater and
UGSubsystem.addUserCert (uid=<TYPE>-<host>-<port>, agentType, Subsystem
Group, userCertificate); freeipa release-4-13-3 cainstance.py
update_ca_renewal_entry (cn=transportCert cert-pki-kra,cn=ca_renewal).
"""

import base64
import datetime
import itertools
import os
import shlex
import shutil
from concurrent.futures import ThreadPoolExecutor

import ldap
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ipahealthcheck.core.config import read_config

from sandbox import cadb
from sandbox import replication as repl
from sandbox.ds import DirectoryServer
from conftest import run_checks

IPA_BASE = 'dc=ipa,dc=test'
HOSTS = ('127.0.0.1', '127.0.0.2', '127.0.0.3')
LOCAL = HOSTS[0]
GONE = 'gone.ipa.test'
SD = 'ou=Security Domain,o=ipaca'
PEOPLE = 'ou=people,o=ipaca'
SUBSYSTEM_GROUP = 'cn=Subsystem Group,ou=groups,o=ipaca'
RENEWAL = 'cn=ca_renewal,cn=ipa,cn=etc,' + IPA_BASE
TRANSPORT_DN = 'cn=transportCert cert-pki-kra,' + RENEWAL
SOURCE = 'dogtag.topology'
SERIALS = itertools.count(10)


def certificate(serial, days=365, expired=False):
    """A self-signed certificate in DER, as a subsystem certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                         'cert %d' % serial)])
    now = datetime.datetime.now(datetime.timezone.utc).replace(
        microsecond=0)
    start = now - datetime.timedelta(days=2 * days if expired else 1)
    end = now - datetime.timedelta(days=1) if expired else \
        now + datetime.timedelta(days=days)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(start).not_valid_after(end)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER), end


def b64(der):
    return base64.b64encode(der).decode()


class Cluster:
    def __init__(self, tmp):
        self.tmp = tmp
        self.servers = [
            DirectoryServer(name='sd%d' % n, hostname=host,
                            suffixes={'userroot': IPA_BASE} if n == 1
                            else None)
            for n, host in enumerate(HOSTS, 1)]
        self.a = self.servers[0]
        self.topology = repl.IPATopology(IPA_BASE)
        self.instance_dir = str(tmp / 'pki-tomcat')
        self.transport, _ = certificate(1001)

    def build(self):
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda s: s.create(cache_mb=64), self.servers))
        for rid, server in enumerate(self.servers, 1):
            cadb.prepare_backend(server)
            with self.connect(server) as conn:
                repl.load_ipa_schema(conn)
            repl.enable_supplier(server, rid)
        for peer, host in zip(self.servers[1:], HOSTS[1:]):
            repl.add_agreement(self.a, 'caTo%s' % host, host, peer.port)
            repl.add_agreement(peer, 'caTo%s' % LOCAL, LOCAL, self.a.port)
        with self.connect() as conn:
            cadb.CATree().create(conn, kra=True)
            cadb.add(conn, SUBSYSTEM_GROUP,
                     objectClass=['top', 'groupOfUniqueNames'],
                     cn='Subsystem Group')
            cadb.add(conn, SD, objectClass=['top', 'pkiSecurityDomain'],
                     ou='Security Domain', name='IPA')
            for kind in ('CA', 'KRA', 'OCSP'):
                cadb.add(conn, 'cn=%sList,%s' % (kind, SD),
                         objectClass=['top', 'pkiSecurityGroup'],
                         cn='%sList' % kind)
            self.topology.create(conn)
            for host in HOSTS:
                self.topology.add_server(conn, host)
            for host in HOSTS[1:]:
                self.topology.add_segment(conn, LOCAL, host)
            self.add_role(conn, LOCAL, 'KRA')
            cadb.add(conn, RENEWAL, objectClass=['top', 'nsContainer'],
                     cn='ca_renewal')
        for host in HOSTS[1:]:
            repl.initialize(self.a, 'caTo%s' % host)
        # Each server registers itself on its own instance: ca1 is the
        # first CA (domain manager), ca2 a clone that manages too, ca3 a
        # clone that does not; ca1 also holds the KRA.
        for server, host, manager in zip(self.servers, HOSTS,
                                         ('TRUE', 'TRUE', 'FALSE')):
            with self.connect(server) as conn:
                dn = self.register(conn, 'CA', host, manager,
                                   clone='FALSE' if host == LOCAL
                                   else 'TRUE')
                user = self.add_user(conn, 'CA', host)
            assert repl.wait_for(self.a, dn) and repl.wait_for(self.a, user)
        with self.connect() as conn:
            self.register(conn, 'KRA', LOCAL, 'FALSE')
            self.add_user(conn, 'KRA', LOCAL)
        self.write_cfg()

    def write_cfg(self, ca=None, kra=None):
        """CS.cfg of ca1's CA and KRA, healthy unless told otherwise."""
        tree = cadb.CATree()
        settings = dict(machineName=LOCAL, securitydomain__host=LOCAL,
                        ca__connector__KRA__transportCert=b64(
                            self.transport))
        settings.update(ca or {})
        tree.write_cs_cfg(self.instance_dir, 'ca', **settings)
        settings = dict(machineName=LOCAL, securitydomain__host=LOCAL,
                        kra__transport__cert=b64(self.transport))
        if kra is not False:
            settings.update(kra or {})
            tree.write_cs_cfg(self.instance_dir, 'kra', **settings)

    @staticmethod
    def register(conn, kind, host, manager, clone='TRUE', port='443'):
        dn = 'cn=%s:%s,cn=%sList,%s' % (host, port, kind, SD)
        cadb.add(conn, dn, objectClass=['top', 'pkiSubsystem'],
                 cn='%s:%s' % (host, port), host=host, SecurePort=port,
                 SubsystemName='%s %s %s' % (kind, host, port), Clone=clone,
                 DomainManager=manager)
        return dn

    @staticmethod
    def add_user(conn, kind, host, port='8443', der=None):
        uid = '%s-%s-%s' % (kind, host, port)
        dn = 'uid=%s,%s' % (uid, PEOPLE)
        der = der or certificate(next(SERIALS))[0]
        cadb.add(conn, dn, objectClass=['top', 'person',
                                        'organizationalPerson',
                                        'inetOrgPerson', 'cmsuser'],
                 uid=uid, cn=uid, sn=uid, usertype='agentType', userstate='1',
                 description='2;1;CN=issuer;CN=%s' % uid,
                 **{'userCertificate;binary': der})
        conn.modify_s(SUBSYSTEM_GROUP, [(ldap.MOD_ADD, 'uniqueMember',
                                         [dn.encode()])])
        return dn

    def add_role(self, conn, host, role, state='enabledService'):
        cadb.add(conn, 'cn=%s,%s' % (role, self.topology.server_dn(host)),
                 objectClass=['top', 'nsContainer', 'extensibleObject'],
                 cn=role, ipaConfigString=[state, 'startOrder 50'])

    def connect(self, server=None):
        return (server or self.a).session()

    def run(self, check=None, pki_version='11.5.0', **extra):
        path = str(self.tmp / 'healthcheck.conf')
        settings = {'dogtag_ipa_basedn': IPA_BASE}
        settings.update(extra)
        settings = {k: v for k, v in settings.items() if v is not None}
        cadb.write_healthcheck_conf(path, self.instance_dir, self.a,
                                    pki_version, **settings)
        return run_checks(read_config(path), check, SOURCE)

    def delete(self, *dns):
        with self.connect() as conn:
            for dn in dns:
                conn.delete_s(dn)


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp('leftovers'))
    try:
        cluster.build()
        yield cluster
    finally:
        for server in cluster.servers:
            server.destroy()


@pytest.fixture
def healthy(cluster):
    """Every test leaves the configuration as it found it."""
    yield cluster
    cluster.write_cfg()


def found(results, check):
    return {r['kw']['key']: r for r in results if r['check'] == check}


def exists(server, dn):
    conn = server.connect()
    try:
        return bool(conn.search_s(dn, ldap.SCOPE_BASE, attrlist=['1.1']))
    except ldap.NO_SUCH_OBJECT:
        return False
    finally:
        conn.unbind_s()


def problems(results):
    return [(r['check'], r['kw']['key'], r['kw']['code']) for r in results
            if r['result'] != 'SUCCESS']


# -- the control: a healthy topology of three replicating servers ------------

def test_healthy_three_servers_are_quiet(healthy):
    """Entries each server wrote on its own instance replicated to ca1, and
    nothing there belongs to a removed server: no WARNING, no ERROR."""
    for host in HOSTS:
        assert exists(healthy.a, 'cn=%s:443,cn=CAList,%s' % (host, SD))
        assert exists(healthy.a, 'uid=CA-%s-8443,%s' % (host, PEOPLE))
    results = healthy.run()
    assert problems(results) == []
    codes = {(r['check'], r['kw']['key']): r['kw']['code'] for r in results}
    assert codes == {
        ('SecurityDomainCheck', 'security-domain'): 'DTR0800',
        ('SubsystemUserCheck', 'subsystem-users'): 'DTR0810',
        ('SecurityDomainHostCheck', 'ca.securitydomain.host'): 'DTR0820',
        ('SecurityDomainHostCheck', 'kra.securitydomain.host'): 'DTR0820',
        ('TransportCertCheck', 'ca.connector.KRA.transportCert'): 'DTR0830',
    }
    kw = found(results, 'SecurityDomainCheck')['security-domain']['kw']
    assert kw['registrations'] == 4 and kw['masters'] == list(HOSTS)
    assert found(results, 'SubsystemUserCheck')['subsystem-users'][
        'kw']['users'] == 4
    assert found(results, 'SecurityDomainHostCheck')[
        'ca.securitydomain.host']['kw']['managers'] == list(HOSTS[:2])


# -- 1 and 2: a server removed without cleaning up ----------------------------

def test_removed_server_leaves_registration_and_subsystem_user(healthy):
    """A fourth CA joins (security domain, subsystem user with an expired
    certificate, cn=masters), then `ipa server-del` of IPA < 4.9 removes
    only its cn=masters entry (pagure 8930): both leftovers are found."""
    der, not_after = certificate(4242, expired=True)
    with healthy.connect() as conn:
        healthy.topology.add_server(conn, GONE)
        entry = healthy.register(conn, 'CA', GONE, 'TRUE')
        user = healthy.add_user(conn, 'CA', GONE, der=der)
    assert problems(healthy.run()) == []          # still a server
    with healthy.connect() as conn:
        healthy.topology.remove_server(conn, GONE)
        # Proof on the server: the leftovers are there, the server is not.
        assert conn.search_s(entry, ldap.SCOPE_BASE)
        assert user.encode() in conn.search_s(
            SUBSYSTEM_GROUP, ldap.SCOPE_BASE)[0][1]['uniqueMember']
        with pytest.raises(ldap.NO_SUCH_OBJECT):
            conn.search_s(healthy.topology.server_dn(GONE), ldap.SCOPE_BASE)
    results = healthy.run()
    assert len(problems(results)) == 2
    sd = found(results, 'SecurityDomainCheck')['CA:%s:443' % GONE]
    assert (sd['result'], sd['kw']['code']) == ('ERROR', 'DTR0803')
    kw = sd['kw']
    assert (kw['entry'], kw['host'], kw['port'], kw['domain_manager']) == \
        (entry, GONE, '443', True)
    assert GONE not in kw['masters']
    assert kw['fix_effect'] == 'writes-directory'
    assert shlex.split(kw['fix']) == ['pki-server', 'sd-subsystem-del', '-i',
                                      'pki-tomcat', 'CA %s 443' % GONE]
    users = found(results, 'SubsystemUserCheck')
    kw = users['CA-%s-8443' % GONE]['kw']
    # PKI 11.5 ignores an existing user when the host is installed again.
    assert users['CA-%s-8443' % GONE]['result'] == 'WARNING'
    assert kw['code'] == 'DTR0812' and kw['reinstall_blocked'] is False
    # PKI 11.0 does not (dogtagpki/pki#3544): the same leftover is an ERROR.
    old = found(healthy.run('SubsystemUserCheck', '11.0.6'),
                'SubsystemUserCheck')['CA-%s-8443' % GONE]
    assert (old['result'], old['kw']['code'], old['kw']['reinstall_blocked'])\
        == ('ERROR', 'DTR0812', True)
    assert (kw['account'], kw['host'], kw['port'], kw['subsystem_type']) == \
        (user, GONE, '8443', 'CA')
    assert kw['groups'] == [SUBSYSTEM_GROUP]
    assert kw['cert_serial'] == '4242' and kw['cert_expired'] is True
    assert kw['cert_not_after'] == not_after.strftime('%Y-%m-%dT%H:%M:%SZ')
    # The removal LDIF drops the membership first, then the user; applied,
    # it leaves nothing for the check to find.
    lines = kw['fix_ldif'].splitlines()
    assert [ln[4:] for ln in lines if ln.startswith('dn: ')] == \
        [SUBSYSTEM_GROUP, user]
    assert lines[-1] == 'changetype: delete'
    assert 'uniqueMember: %s' % user in lines
    assert 'ldapmodify' in kw['fix'] and kw['fix_effect'] == 'writes-directory'
    with healthy.connect() as conn:
        conn.modify_s(SUBSYSTEM_GROUP, [(ldap.MOD_DELETE, 'uniqueMember',
                                         [user.encode()])])
        conn.delete_s(user)
        conn.delete_s(entry)
    assert problems(healthy.run()) == []


@pytest.mark.parametrize('version, expected', [
    ('11.9.0', ['pki-server', 'ca-sd-subsystem-del', '-i', 'pki-tomcat',
                'CA %s 443' % GONE]),
    ('10.10.0', ['pki', 'securitydomain-host-del', 'CA %s 443' % GONE]),
    ('10.5.18', ['ldapdelete', '-Y', 'EXTERNAL', '-H']),
])
def test_registration_fix_follows_the_pki_version(healthy, version,
                                                  expected):
    with healthy.connect() as conn:
        entry = healthy.register(conn, 'CA', GONE, 'FALSE')
    assert exists(healthy.a, entry)
    try:
        kw = found(healthy.run('SecurityDomainCheck', version),
                   'SecurityDomainCheck')['CA:%s:443' % GONE]['kw']
    finally:
        healthy.delete(entry)
    assert kw['code'] == 'DTR0803'
    words = shlex.split(kw['fix'].split(' (as ')[0])
    assert words[:len(expected)] == expected
    if version == '10.5.18':
        assert words[-1] == entry


def test_registration_and_user_of_a_role_the_server_lacks(healthy):
    """ca3 holds no KRA role, yet a KRA registration and a KRA subsystem
    user name it (a KRA install that failed after joining)."""
    host = HOSTS[2]
    with healthy.connect() as conn:
        entry = healthy.register(conn, 'KRA', host, 'FALSE')
        user = healthy.add_user(conn, 'KRA', host)
    assert exists(healthy.a, entry) and exists(healthy.a, user)
    try:
        results = healthy.run()
    finally:
        with healthy.connect() as conn:
            conn.modify_s(SUBSYSTEM_GROUP, [(ldap.MOD_DELETE, 'uniqueMember',
                                             [user.encode()])])
        healthy.delete(user, entry)
    sd = found(results, 'SecurityDomainCheck')['KRA:%s:443' % host]
    assert (sd['result'], sd['kw']['code']) == ('WARNING', 'DTR0804')
    assert sd['kw']['role'] == 'KRA' and sd['kw']['role_states'] == []
    kw = found(results, 'SubsystemUserCheck')['KRA-%s-8443' % host]
    assert (kw['result'], kw['kw']['code']) == ('WARNING', 'DTR0813')
    assert kw['kw']['role'] == 'KRA' and kw['kw']['cert_expired'] is False
    assert len(problems(results)) == 2


# -- 5: securitydomain.host ----------------------------------------------------

def test_securitydomain_host_of_a_removed_server(healthy):
    """The CA's CS.cfg (and an OCSP's) still name the first master, which
    is gone (pagure 6895)."""
    healthy.write_cfg(ca={'securitydomain__host': GONE})
    ocsp_dir = os.path.join(healthy.instance_dir, 'conf', 'ocsp')
    os.makedirs(ocsp_dir)
    with open(os.path.join(ocsp_dir, 'CS.cfg'), 'w') as cfg:
        cfg.write('machineName=%s\nsecuritydomain.host=%s\n' % (LOCAL, GONE))
    try:
        results = found(healthy.run('SecurityDomainHostCheck'),
                        'SecurityDomainHostCheck')
    finally:
        shutil.rmtree(ocsp_dir)
    for key in ('ca.securitydomain.host', 'ocsp.securitydomain.host'):
        kw = results[key]['kw']
        assert (results[key]['result'], kw['code']) == ('ERROR', 'DTR0822')
        assert kw['host'] == GONE and kw['judged_by'] == 'IPA servers'
        assert kw['suggested'] == LOCAL
        assert 'set securitydomain.host=%s' % LOCAL in kw['fix']
        assert kw['fix_steps'][0]['do'].startswith('systemctl stop')
    assert results['kra.securitydomain.host']['kw']['code'] == 'DTR0820'


def test_securitydomain_host_not_a_manager_or_unset(healthy):
    """ca3 is a server but no domain manager; a KRA CS.cfg without the
    key has nothing to judge."""
    healthy.write_cfg(ca={'securitydomain__host': HOSTS[2]},
                      kra={'securitydomain__host': None})
    results = found(healthy.run('SecurityDomainHostCheck'),
                    'SecurityDomainHostCheck')
    kw = results['ca.securitydomain.host']['kw']
    assert (results['ca.securitydomain.host']['result'], kw['code']) == \
        ('WARNING', 'DTR0823')
    assert kw['managers'] == list(HOSTS[:2]) and kw['suggested'] == LOCAL
    assert results['kra.securitydomain.host']['kw']['code'] == 'DTR0821'
    assert results['kra.securitydomain.host']['result'] == 'SUCCESS'


# -- 8: the CA's copy of the KRA transport certificate -----------------------

def test_stale_transport_certificate_against_the_kra_cs_cfg(healthy):
    """The KRA's transport certificate was renewed; the CA's connector
    still holds the old one (pagure 9692)."""
    renewed, _ = certificate(2002)
    healthy.write_cfg(kra={'kra__transport__cert': b64(renewed)})
    results = found(healthy.run('TransportCertCheck'), 'TransportCertCheck')
    kw = results['ca.connector.KRA.transportCert']['kw']
    assert results['ca.connector.KRA.transportCert']['result'] == 'ERROR'
    assert kw['code'] == 'DTR0833'
    assert (kw['cert_serial'], kw['reference_serial']) == ('1001', '2002')
    assert kw['reference'].startswith('kra.transport.cert in ')
    assert 'ca.connector.KRA.transportCert' in kw['fix']


def test_transport_certificate_against_the_renewal_entry(healthy):
    """No KRA on this host: the renewed copy IPA publishes in cn=ca_renewal
    is the reference; without it there is nothing to compare."""
    healthy.write_cfg(kra=False)
    os.unlink(os.path.join(healthy.instance_dir, 'conf', 'kra', 'CS.cfg'))
    os.rmdir(os.path.join(healthy.instance_dir, 'conf', 'kra'))
    key = 'ca.connector.KRA.transportCert'
    results = found(healthy.run('TransportCertCheck'), 'TransportCertCheck')
    assert results[key]['kw']['code'] == 'DTR0832'
    assert results[key]['kw']['looked_at'] == [TRANSPORT_DN]
    renewed, _ = certificate(3003)
    with healthy.connect() as conn:
        cadb.add(conn, TRANSPORT_DN,
                 objectClass=['top', 'nsContainer', 'extensibleObject'],
                 cn='transportCert cert-pki-kra',
                 **{'userCertificate;binary': renewed})
        assert conn.search_s(TRANSPORT_DN, ldap.SCOPE_BASE)[0][1][
            'userCertificate;binary'] == [renewed]
    try:
        stale = found(healthy.run('TransportCertCheck'),
                      'TransportCertCheck')[key]
        healthy.write_cfg(ca={'ca__connector__KRA__transportCert':
                              b64(renewed)}, kra=False)
        current = found(healthy.run('TransportCertCheck'),
                        'TransportCertCheck')[key]
    finally:
        healthy.delete(TRANSPORT_DN)
    assert (stale['result'], stale['kw']['code']) == ('ERROR', 'DTR0833')
    assert stale['kw']['reference'] == TRANSPORT_DN
    assert stale['kw']['reference_serial'] == '3003'
    assert (current['result'], current['kw']['code']) == \
        ('SUCCESS', 'DTR0830')


def test_no_kra_connector_is_nothing_to_compare(healthy):
    healthy.write_cfg(ca={'ca__connector__KRA__transportCert': None})
    kw = found(healthy.run('TransportCertCheck'), 'TransportCertCheck')[
        'ca.connector.KRA.transportCert']['kw']
    assert kw['code'] == 'DTR0831'


# -- without IPA ---------------------------------------------------------------

def test_standalone_says_what_cannot_be_known(healthy):
    """Without the IPA suffix no server list exists: the security domain
    and the subsystem users cannot be judged, and securitydomain.host is
    judged against the security domain's CA list."""
    with healthy.connect() as conn:
        entry = healthy.register(conn, 'CA', GONE, 'FALSE')
    try:
        results = healthy.run(dogtag_ipa_basedn=None)
    finally:
        healthy.delete(entry)
    assert problems(results) == []
    sd = found(results, 'SecurityDomainCheck')['security-domain']['kw']
    assert sd['code'] == 'DTR0801' and sd['registrations'] == 5
    assert 'CA:%s:443' % GONE in sd['hosts']
    users = found(results, 'SubsystemUserCheck')['subsystem-users']['kw']
    assert users['code'] == 'DTR0811' and len(users['uids']) == 4
    assert found(results, 'SecurityDomainHostCheck')[
        'ca.securitydomain.host']['kw']['code'] == 'DTR0820'
    healthy.write_cfg(ca={'securitydomain__host': GONE})
    kw = found(healthy.run('SecurityDomainHostCheck', dogtag_ipa_basedn=None),
               'SecurityDomainHostCheck')['ca.securitydomain.host']['kw']
    assert kw['code'] == 'DTR0822'
    assert kw['judged_by'] == 'security domain'


def test_a_standalone_ca_without_a_security_domain(scenario):
    """A standalone CA database with no ou=Security Domain (the shared
    server's scenario tree, as a CA that joined another's domain): the
    domain is kept elsewhere, which is said."""
    scenario.build(kra=False)
    scenario.write_cs_cfg(securitydomain__host='root-ca.example.test')
    conn = scenario.ds.connect()
    try:
        with pytest.raises(ldap.NO_SUCH_OBJECT):
            conn.search_s('ou=Security Domain,' + scenario.tree.base,
                          ldap.SCOPE_BASE)
    finally:
        conn.unbind_s()
    results = scenario.run(source=SOURCE)
    assert problems(results) == [('SecurityDomainHostCheck',
                                  'ca.securitydomain.host', 'DTR0822')]
    sd = found(results, 'SecurityDomainCheck')['security-domain']
    assert (sd['result'], sd['kw']['code']) == ('SUCCESS', 'DTR0805')
    assert sd['kw']['where'] == 'ou=Security Domain,' + scenario.tree.base
    assert sd['kw']['sd_host'] == 'root-ca.example.test'
    scenario.write_cs_cfg()
    assert found(scenario.run(source=SOURCE), 'SecurityDomainHostCheck')[
        'ca.securitydomain.host']['kw']['code'] == 'DTR0821'


def test_an_ipa_ca_without_its_security_domain(healthy):
    """The IPA CA database lost ou=Security Domain (planted by moving the
    subtree aside on ca1, and back afterwards)."""
    moved = 'ou=Security Domain moved,o=ipaca'
    with healthy.connect() as conn:
        conn.rename_s(SD, 'ou=Security Domain moved', delold=1)
    try:
        assert not exists(healthy.a, SD) and exists(healthy.a, moved)
        results = healthy.run('SecurityDomainCheck')
    finally:
        with healthy.connect() as conn:
            conn.rename_s(moved, 'ou=Security Domain', delold=1)
    assert exists(healthy.a, SD)
    sd = found(results, 'SecurityDomainCheck')['security-domain']
    assert (sd['result'], sd['kw']['code']) == ('WARNING', 'DTR0802')
    assert sd['kw']['sd_host'] == LOCAL
