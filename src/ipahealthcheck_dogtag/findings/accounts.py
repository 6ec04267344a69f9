"""Findings of accounts: what replica installs leave behind in the CA
database. Codes DTR0500-DTR0599."""

from ipahealthcheck_dogtag.findings import SUCCESS, WARNING, ERROR, Finding

SOURCE = 'dogtag.accounts'

ACCOUNT = ('account', 'host', 'created', 'age_minutes', 'groups',
           'host_is_server', 'host_has_ca', 'grace_minutes', 'uri',
           'fix_ldif')
INSTALL_UPSTREAM = ('freeipa/freeipa release-4-13-3 ipaserver/install/'
                    'cainstance.py, krainstance.py (creating installation '
                    'admin user, destroying installation admin user)')
# Who left the account, as the topology tells: one meaning for both.
LEFT_BY = (
    'The account was left by the install named in it, which failed between '
    'the steps "creating installation admin user" and "destroying '
    'installation admin user". The fields say which install: '
    'host_has_ca true, a later KRA install there (ipa-kra-install) failed, '
    'or the CA install was interrupted after configuring the CA; '
    'host_is_server true without the CA role, ipa-ca-install or '
    'ipa-kra-install failed; host_is_server false, ipa-replica-install '
    '--setup-ca (or ipa-ca-install) failed and the host is no server now; '
    'null when the topology could not be read. `fix_ldif` holds the '
    'removal as LDIF (null when a DN is not one).')

NO_TEMPORARY_ADMIN = Finding(
    'DTR0500', 'no-temporary-admin', SOURCE, 'TemporaryAdminCheck', SUCCESS,
    'No temporary replica admin account is left',
    'No temporary replica admin account (admin-<fqdn>) in {people}.',
    key='admin-accounts', fields=('people',),
    meaning='No account uid=admin-<fqdn> with usertype adminType under '
            'ou=people of the CA suffix.')

TEMPORARY_ADMIN_YOUNG = Finding(
    'DTR0501', 'temporary-admin-young', SOURCE, 'TemporaryAdminCheck',
    WARNING, 'A temporary replica admin account exists, recently created',
    'A temporary replica admin for {host} is {age_minutes} min old: its '
    'install may still run.', key='<uid>', fields=ACCOUNT,
    fix='account_removal', upstream=INSTALL_UPSTREAM,
    meaning='Created less than dogtag_admin_grace_minutes ago: a replica '
            'CA or KRA install on the host probably still runs, and '
            'deletes the account at its end. If none runs, it is a '
            'leftover (DTR0502). ' + LEFT_BY)

TEMPORARY_ADMIN_LEFTOVER = Finding(
    'DTR0502', 'temporary-admin-leftover', SOURCE, 'TemporaryAdminCheck',
    ERROR, 'A temporary replica admin account was left behind',
    'A temporary replica admin for {host} was left: a CA administrator '
    'whose password nobody knows.', key='<uid>', fields=ACCOUNT,
    fix='account_removal', upstream=INSTALL_UPSTREAM,
    meaning='A replica\'s CA or KRA install creates uid=admin-<fqdn> in '
            'the Enterprise CA, KRA and Security Domain Administrators '
            'groups (`groups`) and deletes it at its end. This one is '
            'older than dogtag_admin_grace_minutes: an administrator with '
            'a password nobody knows, replicated to every CA server, '
            'which nothing removes later. ' + LEFT_BY)

SESSIONS_FRESH = Finding(
    'DTR0503', 'sessions-fresh', SOURCE, 'SecurityDomainSessionCheck',
    SUCCESS, 'Security-domain login sessions are expired in time',
    'No security-domain login session is older than {max_age_hours} h.', key='sessions',
    fields=('sessions_base', 'sessions', 'max_age_hours'),
    meaning='`sessions` counts the sessions there; none is older than '
            'securitydomain.flushinterval plus checkinterval of CS.cfg '
            '(Dogtag\'s defaults when absent).')

SESSIONS_STALE = Finding(
    'DTR0504', 'sessions-stale', SOURCE, 'SecurityDomainSessionCheck',
    WARNING, 'Security-domain login sessions are not expired',
    '{stale_sessions} security-domain login session(s) are older than '
    '{max_age_hours} h: nothing expires them.', key='sessions',
    fields=('sessions_base', 'sessions', 'max_age_hours', 'stale_sessions',
            'oldest', 'oldest_uid', 'oldest_host', 'oldest_created',
            'stale_dns', 'uri'),
    fix='stale_sessions',
    upstream='dogtagpki/pki v10.5.18, v10.10.0, v11.5.0 CMSEngine.'
             'initSecurityDomain (securitydomain.flushinterval, '
             'securitydomain.checkinterval)',
    meaning='Every CA that is a domain manager deletes login sessions '
            'older than securitydomain.flushinterval on a timer of '
            'securitydomain.checkinterval, so none of them runs it. '
            '`stale_dns` lists up to 20 of them, oldest first.')
