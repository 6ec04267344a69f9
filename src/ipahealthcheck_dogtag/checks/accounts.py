"""Source `dogtag.accounts`: what replica installs leave behind in o=ipaca.

A replica's CA or KRA install creates `uid=admin-<replica fqdn>` in
ou=people with `usertype: adminType`, puts it in the Enterprise CA, KRA and
Security Domain Administrators groups to join the security domain, and
deletes it in its step "destroying installation admin user". An install
that fails in between leaves a CA administrator with a password nobody
knows, replicated to every CA server; nothing removes it later.
"""

import re
import time
from datetime import datetime, timezone

import ldap
from ldap.filter import escape_filter_chars

from ipahealthcheck_dogtag.dogtag import fixes
from ipahealthcheck_dogtag.dogtag.agreements import iso, parse_time
from ipahealthcheck_dogtag.discovery import Problem
from ipahealthcheck_dogtag.checks.plugin import DogtagCheck, registry
from ipahealthcheck_dogtag.findings import accounts as F

# admin-<fqdn>: at least two DNS labels. `admin`, `ipara`, `pkidbuser`,
# `acme-<fqdn>` and Dogtag's subsystem users never match.
TEMPORARY_ADMIN = re.compile(
    r'^admin-((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+'
    r'[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$', re.IGNORECASE)
# Dogtag's defaults for expiring security-domain login sessions (ms) when
# CS.cfg has no value: CMSEngine.initSecurityDomain reads
# securitydomain.flushinterval with default 86400000 and
# securitydomain.checkinterval with default 5000 (dogtagpki/pki v10.5.18,
# v10.10.0, v11.5.0, master). The 300000 seen in IPA is a CS.cfg value: the
# CA template up to 11.4, pkispawn's setup_security_domain_manager from 11.5.
FLUSH_INTERVAL = 86400000
CHECK_INTERVAL = 5000


@registry
class TemporaryAdminCheck(DogtagCheck):
    """Leftover admin-<fqdn> accounts of failed replica installs."""

    settings_used = DogtagCheck.settings_used + ('dogtag_admin_grace_minutes',)

    def check_database(self, database, deadline):
        directory = self.context.directory()
        basedn = database.subsystem('ca').basedn
        people = 'ou=people,%s' % basedn
        entries, _ = directory.search(
            people, '(&(uid=admin-*)(usertype=adminType))',
            ['uid', 'createTimestamp'], scope=ldap.SCOPE_ONELEVEL)
        accounts = [(dn, attrs) for dn, attrs in entries
                    if TEMPORARY_ADMIN.match(_uid(attrs))]
        if not accounts:
            yield self.finding(F.NO_TEMPORARY_ADMIN, people=people)
            return
        try:
            topology = self.context.topology()
        except Problem:
            topology = None             # the account is reported anyway
        for dn, attrs in accounts:
            yield self.judge(database, basedn, topology, dn, attrs)

    def judge(self, database, basedn, topology, dn, attrs):
        uid = _uid(attrs)
        host = TEMPORARY_ADMIN.match(uid).group(1).lower()
        created = parse_time(_text(attrs, 'createtimestamp'))
        age = (datetime.now(timezone.utc) - created).total_seconds() / 60 \
            if created else None
        groups, _ = self.context.directory().search(
            'ou=groups,%s' % basedn, '(uniqueMember=%s)'
            % escape_filter_chars(dn), ['cn'], scope=ldap.SCOPE_ONELEVEL)
        grace = self.context.settings.admin_grace_minutes
        group_dns = [g for g, _ in groups]
        facts = {
            'account': dn, 'host': host, 'created': iso(created),
            'age_minutes': int(age) if age is not None else None,
            'groups': [_text(a, 'cn') for _, a in groups],
            'host_is_server': topology.is_server(host) if topology else None,
            'host_has_ca': topology.has_ca(host) if topology else None,
            'grace_minutes': grace,
            'uri': database.ldap_uri,
        }
        try:
            facts['fix_ldif'] = fixes.removal_ldif(dn, group_dns)
        except fixes.Unsafe:
            facts['fix_ldif'] = None
        # A young account may belong to an install that still runs: the
        # fix's first step says to make sure none does.
        young = age is not None and age < grace
        return self.finding(
            F.TEMPORARY_ADMIN_YOUNG if young else F.TEMPORARY_ADMIN_LEFTOVER,
            uid, fix=fixes.account_removal(database, dn, group_dns, host),
            **facts)


def _text(attrs, name):
    values = attrs.get(name)
    return values[0].decode('utf-8', 'replace') if values else ''


def _uid(attrs):
    return _text(attrs, 'uid')


@registry
class SecurityDomainSessionCheck(DogtagCheck):
    """Security-domain login sessions that no domain manager expires."""

    def check_database(self, database, deadline):
        ca = database.subsystem('ca')
        where = 'ou=sessions,ou=Security Domain,%s' % ca.basedn
        entries, _ = self.context.directory().search(
            where, '(objectClass=securityDomainSessionEntry)',
            ['cn', 'host', 'uid', 'cmsUserGroup', 'dateOfCreate'],
            scope=ldap.SCOPE_ONELEVEL)
        flush = _ms(ca.get('securitydomain.flushinterval'), FLUSH_INTERVAL)
        check = _ms(ca.get('securitydomain.checkinterval'), CHECK_INTERVAL)
        now = time.time() * 1000
        stale = []
        for dn, attrs in entries:
            created = _ms(_text(attrs, 'dateofcreate'), None)
            if created is not None and now - created > flush + check:
                stale.append((created, dn, attrs))
        facts = {'sessions_base': where, 'sessions': len(entries),
                 'max_age_hours': round((flush + check) / 3600000.0, 2)}
        if not stale:
            yield self.finding(F.SESSIONS_FRESH, **facts)
            return
        stale.sort()
        created, dn, attrs = stale[0]
        stale_dns = [d for _, d, _ in stale[:20]]
        yield self.finding(
            F.SESSIONS_STALE, fix=fixes.stale_sessions(database, stale_dns),
            stale_dns=stale_dns, **facts,
            stale_sessions=len(stale),
            oldest=dn, oldest_uid=_text(attrs, 'uid'),
            oldest_host=_text(attrs, 'host'),
            oldest_created=datetime.fromtimestamp(
                created / 1000, timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
            uri=database.ldap_uri)


def _ms(text, default):
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return default
