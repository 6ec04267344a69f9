"""The known causes of a failed CA replica install and their evidence.

Each cause names the upstream ticket, the log lines that show it (on the
replica, the master or both), what to do, and the check of ours that
confirms the state it leaves, if any. Messages from upstream:
- dogtagpki#2557: TokenAuthenticate.java ("TokenAuthentication authenticate
  failed, session id does not exist.", v10.5.0-v11.5.0; "TokenAuthenticate:
  Session not found: <id>", v11.10.0), UpdateNumberRange.java
  ("UpdateNumberRange: Authentication failed", v10.10.0-v11.10.0).
- freeipa#7593: SecurityDomainProcessor.java ("User <u> is not a member of
  <group> group.", v10.5.0-v11.10.0), SystemConfigService.java ("Failed to
  obtain installation token from security domain", v10.5.0); IPA
  dogtaginstance.py ("Unable to log in as", "did not replicate to") and
  replication.py ("wait_for_entry timeout on"), release-4-12-0.
- dogtagpki#3055: UpdateNumberRange.java ("UpdateNumberRange: Failed to
  update number range", v10.5.0; "Unable to update number range",
  v10.10.0+), Repository.java; HTTP 500 with a NullPointerException.
- LDAP 68 on add: LDAPSession.java ("Unable to add LDAP entry: ...",
  v11.5.0), LDAPExceptionConverter.java ("Record already exists",
  v11.10.0), older "LDAP operation failure ... error result"; 389-DS access
  `RESULT err=68 tag=105` (add response).
- replication: IPA replication.py ("Failed to start replication"),
  replicainstall.py ("A replication agreement for this host already
  exists"), 389-DS repl5_tot_protocol.c ("Total update failed"),
  repl5_protocol_util.c ("Unable to acquire replica").
- leftover admin: IPA cainstance.py / dogtaginstance.py steps "creating
  installation admin user" and "destroying installation admin user"
  (release-4-12-0); teardown does not run after a failure.
- clock skew: 389-DS "Excessive clock skew"; Kerberos "Clock skew too great".
- start timeout: PKI pki/server/__init__.py ("did not start after"),
  IPA services.py ("did not start in").
- Custodia keys: IPA custodiainstance.py ("Timed out trying to obtain keys").
- conncheck: IPA ipa-replica-conncheck ("Port check failed",
  "Connection check failed!").
"""

import re


class Cause:
    def __init__(self, id, title, ticket, url, patterns, todo, check=None,
                 source=None, primary=True, needs=None):
        self.id = id
        self.title = title
        self.ticket = ticket
        self.url = url
        # [(name, compiled regex)]; a cause matches when any pattern in
        # `needs` (default: all of them) is seen.
        self.patterns = [(n, re.compile(p, re.I)) for n, p in patterns]
        self.needs = set(needs or [n for n, _ in patterns])
        self.todo = todo
        self.check = check          # our check that confirms it
        self.source = source
        self.primary = primary      # False: a consequence of another cause

    def confirm(self):
        if not self.check:
            return None
        return {'check': self.check, 'source': self.source,
                'command': 'ipa-healthcheck --source %s --check %s'
                % (self.source, self.check)}


CAUSES = [
    Cause('sd-session-lag',
          'Security-domain session not replicated to the master yet',
          'dogtagpki 2557', 'https://github.com/dogtagpki/pki/issues/2557',
          [('session-missing', r'session id does not exist|'
            r'TokenAuthentication: session not found|'
            r'TokenAuthenticate: Session not found'),
           ('auth-failed', r'UpdateNumberRange: Authentication failed|'
            r'UpdateNumberRange process: authToken is null|'
            r'TokenAuthentication: error: Error: Failed Authentication')],
          'The master checked the replica\'s install token before the '
          'session entry replicated to it. Remove what the failed attempt '
          'left (ipa-server-install --uninstall on the replica, ipa '
          'server-del <replica> on the master), make sure o=ipaca '
          'replicates quickly between the two, and install again; with '
          'pkispawn, raise pki_security_domain_post_login_sleep_seconds.',
          'TemporaryAdminCheck', 'dogtag.accounts',
          needs=['session-missing', 'auth-failed']),
    Cause('sd-admin-not-replicated',
          'Temporary admin-<fqdn> user or its groups not replicated to the '
          'master yet',
          'freeipa 7593', 'https://pagure.io/freeipa/issue/7593',
          [('not-member', r'User admin-\S+ is not a member of Enterprise '
            r'(CA|KRA) Administrators group'),
           ('no-user', r'Unable to authenticate user admin-|401 Client '
            r'Error: Unauthorized for url: \S+/ca/(rest|v\d)/account/login'),
           ('ipa-wait', r'Unable to log in as uid=admin-|did not replicate '
            r'to|wait_for_entry timeout on'),
           ('no-token', r'Failed to obtain installation token')],
          'The master did not yet know the replica\'s temporary admin or '
          'its group memberships when pkispawn logged in. Use FreeIPA '
          '4.7.0 or later (it waits for the user to replicate), check '
          'o=ipaca replication between the hosts, remove the leftover '
          'account, and install again.',
          'TemporaryAdminCheck', 'dogtag.accounts',
          needs=['not-member', 'no-user', 'ipa-wait']),
    Cause('range-npe-clone-of-clone',
          'Number-range request failed on the master (cloning from a clone)',
          'dogtagpki 3055', 'https://github.com/dogtagpki/pki/issues/3055',
          [('master-failure', r'UpdateNumberRange: (Unable|Failed) to '
            r'update number range|Current range depleted but no next range'
            r' available|NullPointerException[\s\S]*(UpdateNumberRange|'
            r'Repository)|'
            # Tomcat's own report of an exception out of the servlet (name
            # from base/ca/shared/webapps/ca/WEB-INF/web.xml, v10.5.0).
            r'servlet \[caUpdateNumberRange\][^\n]*threw exception'),
           ('status-500', r'updateNumberRange\(\): status=500|500 Server '
            r'Error[^\n]*updateNumberRange|status=500'),
           ('range-request', r'range-request[^\n]*returned non-zero exit')],
          'The master could not hand over part of its number range (PKI '
          'before 10.6.7 / 10.5.18 fails this way when it is itself a '
          'clone with no standby range). Update PKI on the master, or '
          'clone from the first CA, after giving the master a next range.',
          'CloneTransferCheck', 'dogtag.ranges', needs=['master-failure']),
    Cause('ldap-68-stale-vlv',
          '"Already exists" (LDAP 68) adding a certificate or request record',
          'dogtag.ranges LastNumberCheck', None,
          [('dogtag-68', r'Record already exists|Unable to add LDAP entry:'
            r'[^\n]*(Already exists|error result)|LDAP operation failure'
            r'[^\n]*error result|Object already exists|Unable to add '
            r'certificate record'),
           ('ds-68', r'RESULT err=68 tag=105')],
          'Dogtag picked a serial or request number that is already used, '
          'usually because its VLV range index is stale. Run the check '
          'below; it prints the reindex command.',
          'LastNumberCheck', 'dogtag.ranges', needs=['dogtag-68']),
    Cause('replication-setup',
          'o=ipaca replication could not be set up',
          'dogtag.replication', None,
          [('ipa-start', r'Failed to start replication'),
           ('stale', r'replication agreement for this host already exists'),
           ('ds-total', r'Total update failed|Unable to acquire replica|'
            r'Replica Busy')],
          'Replication to the new replica could not start, typically '
          'because of an agreement or RUV element left by an earlier '
          'install of the same host. Remove it (ipa server-del, ipa-'
          'replica-manage clean-ruv) as the check below prints.',
          'AgreementCheck', 'dogtag.replication'),
    Cause('clock-skew', 'Clocks of the servers too far apart', 'time skew',
          None,
          [('skew', r'Excessive clock skew|too much time skew|Clock skew '
            r'too great')],
          'Synchronise both hosts\' clocks (chronyd) and install again.'),
    Cause('pkispawn-start-timeout', 'The Dogtag server did not start in time',
          'dogtagpki 3443', 'https://github.com/dogtagpki/pki/issues/3443',
          [('timeout', r'did not start after \d+|CA did not start in')],
          'Look at the replica\'s debug log and journal for why Tomcat is '
          'slow to start; raise the startup timeout.'),
    Cause('custodia-keys', 'The replica could not obtain the CA keys '
          '(Custodia)', 'custodia', None,
          [('keys', r'Timed out trying to obtain keys|HTTPError: '
            r'(403|404|406|503)[^\n]*/ipa/keys/')],
          'Check ipa-custodia on the master and its audit log.'),
    Cause('conncheck', 'Ports between replica and master not reachable',
          'conncheck', None,
          [('ports', r'Port check failed|Connection check failed!')],
          'Open the ports ipa-replica-conncheck names.'),
]
BY_ID = {cause.id: cause for cause in CAUSES}

ADMIN_LEFTOVER = Cause(
    'admin-leftover', 'A temporary admin-<fqdn> account is left behind',
    'freeipa 7593', None, [],
    'The failed install created uid=admin-<fqdn>,ou=people,o=ipaca and did '
    'not reach "destroying installation admin user". Run the check below; '
    'it prints the LDIF that removes the account.',
    'TemporaryAdminCheck', 'dogtag.accounts', primary=False)

CREATED = re.compile(r'creating installation admin user')
DESTROYED = re.compile(r'destroying installation admin user')


def match(events, anchor=None):
    """Matched causes, most likely first: [{'cause', 'hits', 'hosts'}]."""
    found = {}
    for event in events:
        for cause in CAUSES:
            for name, regex in cause.patterns:
                if regex.search(event.text):
                    entry = found.setdefault(cause.id, {'cause': cause,
                                                        'hits': []})
                    entry['hits'].append((name, event))
                    break
    matched = []
    for entry in found.values():
        names = {name for name, _ in entry['hits']}
        if names & entry['cause'].needs:
            entry['hosts'] = sorted({e.host for _, e in entry['hits']})
            entry['patterns'] = sorted(names)
            matched.append(entry)
    leftover = _admin_leftover(events)
    if leftover:
        matched.append(leftover)

    def rank(entry):
        near = min(abs((e.when - anchor).total_seconds())
                   for _, e in entry['hits']) if anchor and entry['hits'] \
            else 0
        return (not entry['cause'].primary, -len(entry['hosts']),
                -len(entry['patterns']), near)
    matched.sort(key=rank)
    return matched


def _admin_leftover(events):
    """The IPA log created the temporary admin and the run failed before
    the step that destroys it."""
    created = None
    for event in events:
        if event.source != 'ipa':
            continue
        if CREATED.search(event.text):
            created = event
        elif DESTROYED.search(event.text):
            created = None
        elif created and re.search(r'The \S+ command failed', event.text):
            return {'cause': ADMIN_LEFTOVER, 'hits': [('created', created),
                                                      ('failed', event)],
                    'hosts': [event.host], 'patterns': ['created', 'failed']}
    return None
