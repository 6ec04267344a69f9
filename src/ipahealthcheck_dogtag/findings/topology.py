"""Findings of dogtag.topology (checks/topology.py): what removed servers
leave behind in the security domain, in ou=People and in CS.cfg.
Codes DTR0800-DTR0849 (DTR0850-DTR0899 belong to another part of the
source)."""

from ipahealthcheck_dogtag.dogtag.steps import Fix, manual
from ipahealthcheck_dogtag.findings import ERROR, SUCCESS, WARNING, Finding

SOURCE = 'dogtag.topology'

SD_UPSTREAM = ('dogtagpki/pki SecurityDomainProcessor.addHost / removeHost '
               '(v10.10.0, v11.5.0); dogtagpki/pki#3552; freeipa PR #5915 '
               '(pagure 8930: ipaserver/plugins/server.py cleans the '
               'security domain from IPA 4.9.x); freeipa PR #6881 (pagure '
               '9330: pkidestroy of PKI >= 11.4 cannot deregister with '
               'services stopped)')
USER_UPSTREAM = ('dogtagpki/pki CertUtil.addUserCertificate (v10.5.18: uid '
                 'cs.type-machineName-service.securePort, agentType, '
                 'Subsystem Group), SubsystemGroupUpdater (v11.5.0), '
                 'UGSubsystem.addUserCert; dogtagpki/pki#3544, PR #3811')
SD_HOST_UPSTREAM = ('freeipa c26038d24 (PR #788, pagure 6895: '
                    'ipaserver/install/krainstance.py gives pkispawn the '
                    'local host as pki_security_domain_hostname)')
TRANSPORT_UPSTREAM = ('freeipa 886722364 (PR #7637, pagure 9692; ipa-4-12 '
                      'a707083b0, ipa-4-11 13e4fdeb6): ipaserver/install/'
                      'cainstance.py CAInstance.update_cert_config maps '
                      'transportCert cert-pki-kra to '
                      'ca.connector.KRA.transportCert; krainstance.py '
                      'update_cert_config to kra.transport.cert; '
                      'dogtaginstance.update_cert_cs_cfg writes base64 DER')

IPA_SD = ('; freeipa install/share/ipaca_default.ini '
          '(pki_security_domain_name=IPA), release-4-13-3')

# -- SecurityDomainCheck -----------------------------------------------------

SD_CURRENT = Finding(
    'DTR0800', 'sd-registrations-current', SOURCE, 'SecurityDomainCheck',
    SUCCESS, 'Every security-domain entry is on a current server',
    'The security domain lists {registrations} subsystem(s), each on a '
    'current IPA server with that role.', key='security-domain',
    fields=('registrations', 'where', 'masters'), upstream=SD_UPSTREAM)

SD_STANDALONE = Finding(
    'DTR0801', 'sd-registrations-unjudged', SOURCE, 'SecurityDomainCheck',
    SUCCESS, 'Standalone Dogtag: no server list to judge the security '
    'domain by',
    'No IPA server list: whether the {registrations} security-domain '
    'entries are current cannot be known.', key='security-domain',
    fields=('registrations', 'where', 'hosts'), upstream=SD_UPSTREAM,
    meaning='Without an IPA suffix (dogtag_ipa_basedn, or basedn in '
            '/etc/ipa/default.conf) the security domain is itself the only '
            'record of which subsystems exist, so nothing tells a removed '
            'host from a live one. `hosts` lists what it names; compare it '
            'with the servers you run (pki securitydomain-show).')

SD_ABSENT = Finding(
    'DTR0802', 'sd-absent', SOURCE, 'SecurityDomainCheck', WARNING,
    'The IPA CA database has no security domain',
    'There is no security domain at {where}.', key='security-domain',
    fields=('where', 'sd_host'),
    fix=Fix(manual('compare with another CA server (ldapsearch -b '
                   '"ou=Security Domain,o=ipaca" there) and look in the '
                   'replication status of o=ipaca: the subtree should '
                   'replicate to every CA server')),
    upstream=SD_UPSTREAM + IPA_SD,
    meaning='The first IPA CA creates the security domain "IPA" in '
            'o=ipaca, and every CA server replicates it. Without it, '
            'replica and KRA installs cannot log in, and removed servers '
            'cannot be judged.')

SD_REMOVED_SERVER = Finding(
    'DTR0803', 'sd-removed-server', SOURCE, 'SecurityDomainCheck', ERROR,
    'The security domain lists a subsystem on a removed server',
    'The security domain lists {subsystem_type} on {host}:{port}, which is '
    'no IPA server.', key='<TYPE>:<host>:<port>',
    fields=('entry', 'subsystem_type', 'host', 'port', 'clone',
            'domain_manager', 'masters'),
    fix='sd_subsystem_del', upstream=SD_UPSTREAM,
    meaning='ipa server-del before IPA 4.9 (pagure 8930), ipa-replica-'
            'manage del, and pkidestroy of PKI 11.4 and later with the '
            'services already stopped (pagure 9330) leave the host\'s '
            'entry. Dogtag then offers the ghost to installs (domainInfo), '
            'and when it was a DomainManager, replica and KRA installs may '
            'try to log in to it.')

SD_ROLE_MISSING = Finding(
    'DTR0804', 'sd-role-missing', SOURCE, 'SecurityDomainCheck', WARNING,
    'The security domain lists a subsystem a server does not hold',
    'The security domain lists {subsystem_type} on {host}:{port}, a server '
    'without the {role} role.', key='<TYPE>:<host>:<port>',
    fields=('entry', 'subsystem_type', 'host', 'port', 'role', 'role_states',
            'clone', 'domain_manager'),
    fix='sd_subsystem_del', upstream=SD_UPSTREAM,
    meaning='The server exists, but cn=masters records no cn=CA or cn=KRA '
            'entry for it (`role_states` is empty) or one in no state of '
            'an installed role: an install that failed after it joined '
            'the security domain, or a role removed by hand. If an install '
            'runs there now, wait for it.')

SD_ELSEWHERE = Finding(
    'DTR0805', 'sd-kept-elsewhere', SOURCE, 'SecurityDomainCheck', SUCCESS,
    'This standalone CA keeps no security domain',
    'This CA keeps no security domain at {where}: nothing to judge here.',
    key='security-domain', fields=('where', 'sd_host'), upstream=SD_UPSTREAM,
    meaning='A Dogtag CA that joined an existing security domain '
            '(securitydomain.select=existing) keeps none in its own '
            'database: the domain manager named by securitydomain.host '
            '(`sd_host`) does. Run the check there.')

# -- SubsystemUserCheck ------------------------------------------------------

USERS_CURRENT = Finding(
    'DTR0810', 'subsystem-users-current', SOURCE, 'SubsystemUserCheck',
    SUCCESS, 'Every subsystem user belongs to a current server',
    '{users} subsystem user(s) in {people}, each of a current IPA server '
    'with that role.', key='subsystem-users',
    fields=('users', 'people', 'masters'), upstream=USER_UPSTREAM)

USERS_STANDALONE = Finding(
    'DTR0811', 'subsystem-users-unjudged', SOURCE, 'SubsystemUserCheck',
    SUCCESS, 'Standalone Dogtag: no server list to judge subsystem users by',
    'No IPA server list: whether the {users} subsystem user(s) are current '
    'cannot be known.', key='subsystem-users',
    fields=('users', 'people', 'uids'), upstream=USER_UPSTREAM,
    meaning='Without an IPA suffix nothing records which servers exist '
            'apart from the security domain, which a removed host may have '
            'left behind as well. `uids` lists the users found.')

USER_REMOVED_SERVER = Finding(
    'DTR0812', 'subsystem-user-removed-server', SOURCE, 'SubsystemUserCheck',
    (ERROR, WARNING), 'A removed server\'s subsystem user is left behind',
    'Subsystem user {uid} belongs to {host}, which is no IPA server.',
    key='<uid>',
    fields=('account', 'uid', 'subsystem_type', 'host', 'port', 'groups',
            'cert_serial', 'cert_not_after', 'cert_expired', 'fix_ldif',
            'uri', 'reinstall_blocked'),
    fix='subsystem_user_removal', upstream=USER_UPSTREAM,
    severity_rule='ERROR where a reinstall under that name fails on it '
                  '(PKI 10.11.0 to 10.11.4 and 11.0.x, or an unknown '
                  'version: dogtagpki/pki#3544, fixed in v10.11.5, v10.12.0 '
                  'and v11.1.0 by "Fix replica reinstallation"), WARNING '
                  'otherwise',
    meaning='Each subsystem that joins a CA gets a user holding its '
            'subsystem certificate, member of Subsystem Group, which the '
            'CA trusts for subsystem calls (range requests, KRA '
            'connector). Only the REST removeHost deletes it, so it '
            'outlives the server. Where pkispawn does not ignore existing '
            'entries, a reinstall of that host fails with err=68 '
            '(`reinstall_blocked`). In IPA the CA servers share one '
            'subsystem certificate, so removing the user revokes nothing '
            'the others need; in a standalone Dogtag the removed clone\'s '
            'own certificate stays trusted until it expires (`cert_serial` '
            'is decimal). `fix_ldif` holds the removal.')

USER_ROLE_MISSING = Finding(
    'DTR0813', 'subsystem-user-role-missing', SOURCE, 'SubsystemUserCheck',
    WARNING, 'A subsystem user of a role its server does not hold',
    'Subsystem user {uid} belongs to {host}, a server without the {role} '
    'role.', key='<uid>',
    fields=('account', 'uid', 'subsystem_type', 'host', 'port', 'role',
            'role_states', 'groups', 'cert_serial', 'cert_not_after',
            'cert_expired', 'fix_ldif', 'uri'),
    fix='subsystem_user_removal', upstream=USER_UPSTREAM,
    meaning='The server exists but holds no such role in cn=masters: a '
            'CA or KRA install there that failed after the user was '
            'created. If an install runs there now, wait for it.')

# -- SecurityDomainHostCheck -------------------------------------------------

SD_HOST_CURRENT = Finding(
    'DTR0820', 'sd-host-current', SOURCE, 'SecurityDomainHostCheck',
    SUCCESS, 'securitydomain.host names a current domain manager',
    'securitydomain.host in the {subsystem} CS.cfg names {host}, a current '
    'security-domain manager.', key='<subsystem>.securitydomain.host',
    fields=('subsystem', 'host', 'cs_cfg', 'managers'),
    upstream=SD_HOST_UPSTREAM)

SD_HOST_UNSET = Finding(
    'DTR0821', 'sd-host-unset', SOURCE, 'SecurityDomainHostCheck', SUCCESS,
    'securitydomain.host is not set',
    'The {subsystem} CS.cfg sets no securitydomain.host: nothing to judge.',
    key='<subsystem>.securitydomain.host', fields=('subsystem', 'cs_cfg'),
    upstream=SD_HOST_UPSTREAM)

SD_HOST_GONE = Finding(
    'DTR0822', 'sd-host-removed', SOURCE, 'SecurityDomainHostCheck', ERROR,
    'securitydomain.host names a removed server',
    'securitydomain.host in the {subsystem} CS.cfg names {host}, which is '
    'no longer a server ({judged_by}).',
    key='<subsystem>.securitydomain.host',
    fields=('subsystem', 'host', 'cs_cfg', 'judged_by', 'managers',
            'suggested'),
    fix='sd_host_set', upstream=SD_HOST_UPSTREAM,
    meaning='Installs of further subsystems on this server (ipa-kra-'
            'install) log in to the security domain named here; once that '
            'server is gone they fail to connect (pagure 6895). '
            '`judged_by` says whether the IPA server list or, without IPA, '
            'the security domain\'s CA list was compared. Fields name the '
            'IPA server list `IPA servers`, the CA list `security domain`.')

SD_HOST_NOT_MANAGER = Finding(
    'DTR0823', 'sd-host-not-manager', SOURCE, 'SecurityDomainHostCheck',
    WARNING, 'securitydomain.host names no security-domain manager',
    'securitydomain.host in the {subsystem} CS.cfg names {host}, which is '
    'no security-domain manager.', key='<subsystem>.securitydomain.host',
    fields=('subsystem', 'host', 'cs_cfg', 'managers', 'suggested'),
    fix='sd_host_set', upstream=SD_HOST_UPSTREAM,
    meaning='The host still exists but the security domain marks no CA '
            'on it DomainManager TRUE (`managers` lists those that are): '
            'logins for installs there are refused or not answered.')

# -- TransportCertCheck ------------------------------------------------------

TRANSPORT_CURRENT = Finding(
    'DTR0830', 'transport-cert-current', SOURCE, 'TransportCertCheck',
    SUCCESS, 'The CA holds the KRA\'s current transport certificate',
    'The CA\'s copy of the KRA transport certificate matches '
    '{reference_kind}.', key='ca.connector.KRA.transportCert',
    fields=('reference_kind', 'reference', 'cert_serial', 'cert_not_after'),
    upstream=TRANSPORT_UPSTREAM)

TRANSPORT_NO_CONNECTOR = Finding(
    'DTR0831', 'transport-cert-no-connector', SOURCE, 'TransportCertCheck',
    SUCCESS, 'The CA has no KRA connector',
    'The CA has no KRA connector (ca.connector.KRA.transportCert): nothing '
    'to compare.', key='ca.connector.KRA.transportCert', fields=('cs_cfg',),
    upstream=TRANSPORT_UPSTREAM)

TRANSPORT_NO_REFERENCE = Finding(
    'DTR0832', 'transport-cert-no-reference', SOURCE, 'TransportCertCheck',
    SUCCESS, 'No current KRA transport certificate to compare with',
    'Nothing here to compare the CA\'s KRA transport certificate with.',
    key='ca.connector.KRA.transportCert',
    fields=('cs_cfg', 'looked_at', 'cert_serial', 'cert_not_after'),
    upstream=TRANSPORT_UPSTREAM,
    meaning='No KRA on this host, and no renewed copy published in '
            'cn=ca_renewal (none is before the first renewal, or outside '
            'IPA): run the check on a server with the KRA.')

TRANSPORT_STALE = Finding(
    'DTR0833', 'transport-cert-stale', SOURCE, 'TransportCertCheck', ERROR,
    'The CA holds an old KRA transport certificate',
    'The CA\'s copy of the KRA transport certificate differs from '
    '{reference_kind}.', key='ca.connector.KRA.transportCert',
    fields=('cs_cfg', 'reference_kind', 'reference', 'cert_serial',
            'cert_not_after',
            'reference_serial', 'reference_not_after'),
    fix='transport_cert_update', upstream=TRANSPORT_UPSTREAM,
    meaning='Renewing the KRA transport certificate before freeipa\'s fix '
            'of pagure 9692 left the old one in the CA\'s '
            'ca.connector.KRA.transportCert: a KRA replica install then '
            'fails, and clients that take the transport certificate from '
            'the CA wrap keys for the old one. Serials are decimal.')
