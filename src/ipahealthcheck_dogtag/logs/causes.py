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
- The PKI version from the LDAP 68 wording: LDAPSession.java "Unable to add
  LDAP entry" up to v11.5.0; LDAPExceptionConverter.java "Record already
  exists" from v11.6.0, when the last-number lookup stopped using VLV
  (Repository.java). The DN: LDAPSession.java "LDAPSession: Adding <dn>"
  (v11.4.0-v11.10.0); 389-DS access `ADD dn="<dn>"` with the RESULT of the
  same conn and op.
- limits: RecordPagedList.java ("CertRecordPagedList: Error to get a new
  page" v11.5.0, "RecordPagedList: ..." v11.6.0), RequestRepository.java
  (`recReq.toRequest()`, v11.6.0: the JVM's NullPointerException names
  "recReq"), ldapjdk's "Administrative limit exceeded (11)" and "Unwilling
  to perform (53)" (dogtagpki/pki#5133, #5171, #5225).
- 389-DS upgrade.c upgrade_check_id_index_matching_rule ("Index '%s' in
  backend '%s' is missing 'nsMatchingRule: integerOrderingMatch'", commit
  742c12e, 389ds/389-ds-base#7172).
"""

import re

# 389-DS access: the add of a Dogtag subsystem user (uid=<type>-<host>-<port>,
# ou=People: SecurityDomainProcessor.java, dogtagpki/pki v10.11.0, v11.0.0),
# as quoted in dogtagpki/pki#3544; _judge_collisions keeps it only when the same
# conn and op answered err=68.
SUBSYSTEM_USER_ADD = (r'conn=\d+ op=\d+ ADD dn="uid=(CA|KRA|OCSP|TKS|TPS)-'
                      r'[^",]+-\d+,ou=people,o=ipaca"')
ACCESS_OP = re.compile(r'conn=(\d+) op=(\d+) ')
ALREADY_EXISTS = re.compile(r'RESULT err=68 ')
# The DN Dogtag adds (LDAPSession.java "LDAPSession: Adding <dn>") and a
# numbered record's: cn=<number> of a repository.
ADDING = re.compile(r'LDAPSession: Adding ')
NUMBERED = re.compile(r'LDAPSession: Adding cn=\d+,')


class Cause:
    def __init__(self, id, title, ticket, url, patterns, todo, check=None,
                 source=None, primary=True, needs=None, overrides=()):
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
        # Broader causes that this one explains when both match.
        self.overrides = set(overrides)

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
          'The master could not hand over part of its number range. PKI '
          'before 10.6.7 / 10.5.18 fails this way when it is itself a '
          'clone with no standby range: update it. On a later PKI its '
          'range is used up: give it a next range (the check below says '
          'how), or clone from another CA.',
          'CloneTransferCheck', 'dogtag.ranges', needs=['master-failure']),
    # LDAP 68 adding a record: which record, and how Dogtag found its
    # number, name the cause (see _judge_collisions).
    Cause('ldap-68-stale-vlv',
          '"Already exists" (LDAP 68) adding a certificate or request record '
          '(PKI 11.5 or earlier)',
          None, None,
          [('dogtag-68', r'Unable to add LDAP entry:[^\n]*(Already exists|'
            r'error result)|LDAP operation failure[^\n]*error result|'
            r'Object already exists'),
           ('ds-68', r'RESULT err=68 tag=105')],
          'Dogtag picked a serial or request number that is already used; '
          'up to PKI 11.5 it finds the last number through a VLV index, '
          'usually stale. Run the check below; it prints the reindex '
          'command.',
          'LastNumberCheck', 'dogtag.ranges', needs=['dogtag-68']),
    Cause('ldap-68-one-level-index',
          '"Already exists" (LDAP 68) adding a certificate or request record '
          '(PKI 11.6 or later): one-level searches of 389-DS found nothing',
          '389-ds-base 7172', 'https://github.com/389ds/389-ds-base/issues/'
          '7172',
          [('dogtag-68', r'Record already exists'),
           ('adding', r'LDAPSession: Adding cn=\d+,'),
           ('ds-68', r'RESULT err=68 tag=105')],
          'From PKI 11.6 Dogtag finds the last number with a one-level '
          'sorted search, no VLV index. When 389-DS\'s parentid index does '
          'not match its ordering (after an upgrade that added '
          'integerOrderingMatch; freeipa-container#709) that search returns '
          'nothing and Dogtag starts again from the range\'s beginning. Run '
          'the check below; it compares numSubordinates with a one-level '
          'search and prints the reindex.',
          'LastNumberCheck', 'dogtag.ranges', needs=['dogtag-68']),
    Cause('subsystem-user-leftover',
          'The subsystem user of an earlier install of this host already '
          'exists (LDAP 68)',
          'dogtagpki 3544', 'https://github.com/dogtagpki/pki/issues/3544',
          [('added', SUBSYSTEM_USER_ADD)],
          'pkispawn adds uid=<TYPE>-<host>-<port>,ou=people,o=ipaca for the '
          'new clone; one left by an earlier install of the same host made '
          'the add fail (PKI 10.11 to 11.0; 11.1 ignores it but keeps the '
          'old entry and its certificate). Remove the entry and its '
          'uniqueMember in cn=Subsystem Group,ou=groups,o=ipaca, then '
          'install again.',
          overrides=['ldap-68-stale-vlv', 'ldap-68-one-level-index']),
    Cause('ds-index-matching-rule',
          '389-DS\'s parentid or ancestorid index lacks its integer '
          'ordering: one-level searches may return nothing',
          '389-ds-base 7172', 'https://github.com/389ds/389-ds-base/issues/'
          '7172',
          [('warning', r"Index '(parentid|ancestorid)' in backend '[^']+' "
            r"is missing 'nsMatchingRule: integerOrderingMatch'")],
          '389-DS said at start-up that the index misses the matching rule: '
          'add integerOrderingMatch to it and reindex parentid and '
          'ancestorid of that backend (dsconf backend index set / reindex, '
          'as its message says; on LMDB after "dsconf <instance> backup '
          'create": a reindex that aborts there deletes the backend\'s '
          'data, 389-ds-base 7539); the check below confirms what Dogtag '
          'sees.',
          'LastNumberCheck', 'dogtag.ranges',
          overrides=['ldap-68-one-level-index']),
    Cause('pkidbuser-limits',
          'A search of Dogtag\'s own bind (pkidbuser) hit a 389-DS limit',
          'dogtagpki 5133', 'https://github.com/dogtagpki/pki/issues/5133',
          [('admin-limit', r'Administrative limit exceeded \(11\)'),
           ('unwilling', r'Unwilling to perform \(53\)'),
           ('recreq-null', r'"recReq" is null'),
           ('paged-list', r'RecordPagedList: Error to get a new page')],
          'From PKI 11.6 Dogtag reads its repositories with sorted paged '
          'searches; more records than pkidbuser\'s nsPagedSizeLimit or '
          'the backend\'s ID-list scan limit stop them (dogtagpki/pki#5133, '
          '#5171, #5225) and the CA does not start. Run the check below; it '
          'names the limit and prints the change.',
          # The start timeout hides it (freeipa-container#680).
          'LastNumberCheck', 'dogtag.ranges',
          overrides=['pkispawn-start-timeout']),
    Cause('replication-setup',
          'o=ipaca replication could not be set up',
          'freeipa 7642', 'https://pagure.io/freeipa/issue/7642',
          [('ipa-start', r'Failed to start replication'),
           ('ds-total', r'Total update failed|Unable to acquire replica|'
            r'Replica Busy')],
          '389-DS could not start the total update of o=ipaca. Read both '
          'hosts\' 389-DS errors log around it: "Replica Busy" or "Unable '
          'to acquire replica" without an old agreement is a 389-DS defect '
          '(389-ds 49818, fixed in 1.3.8.4-15 and 1.4.0.12; 389-ds-base#7586'
          ' on 3.3.0): update 389-ds-base. Only when the check below reports '
          'an agreement or RUV element of this host on the master is it a '
          'leftover of an earlier install.',
          'AgreementCheck', 'dogtag.replication'),
    Cause('replication-agreement-leftover',
          'An o=ipaca agreement of an earlier install of this host exists',
          'freeipa 9162', 'https://pagure.io/freeipa/issue/9162',
          [('stale', r'replication agreement for this host already exists')],
          'An earlier install of the same host left its agreement. Remove '
          'it (ipa server-del, ipa-replica-manage clean-ruv) as the check '
          'below prints, and install again.',
          'AgreementCheck', 'dogtag.replication',
          overrides=['replication-setup']),
    Cause('clock-skew', 'Clocks of the servers too far apart', None, None,
          [('skew', r'Excessive clock skew|too much time skew|Clock skew '
            r'too great')],
          'Synchronise both hosts\' clocks (chronyd) and install again.'),
    Cause('pkispawn-start-timeout', 'The Dogtag server did not start in time',
          'dogtagpki 3443', 'https://github.com/dogtagpki/pki/issues/3443',
          [('timeout', r'did not start after \d+|CA did not start in')],
          'Look at the replica\'s debug log and journal for why Tomcat is '
          'slow to start; raise the startup timeout.'),
    Cause('custodia-keys', 'The replica could not obtain the CA keys '
          '(Custodia)', None, None,
          [('keys', r'Timed out trying to obtain keys|HTTPError: '
            r'(403|404|406|503)[^\n]*/ipa/keys/')],
          'Check ipa-custodia on the master and its audit log.'),
    Cause('conncheck', 'Ports between replica and master not reachable',
          None, None,
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
    _judge_collisions(found, events)
    matched = []
    for entry in found.values():
        names = {name for name, _ in entry['hits']}
        if names & entry['cause'].needs:
            entry['hosts'] = sorted({e.host for _, e in entry['hits']})
            entry['patterns'] = sorted(names)
            matched.append(entry)
    overridden = set().union(*[m['cause'].overrides for m in matched])
    matched = [m for m in matched if m['cause'].id not in overridden]
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


def _judge_collisions(found, events):
    """An add of a subsystem user counts only when 389-DS answered it with
    err=68 (same host, conn and op); the "already exists" of a numbered
    record only when the DN Dogtag was adding, if logged, is a number."""
    user = found.get('subsystem-user-leftover')
    if user:
        refused = {_operation(e): e for e in events
                   if ALREADY_EXISTS.search(e.text) and _operation(e)}
        user['hits'] = [hit for _, e in user['hits']
                        if _operation(e) in refused
                        for hit in (('added', e),
                                    ('refused', refused[_operation(e)]))]
        if not user['hits']:
            del found['subsystem-user-leftover']
    for id in ('ldap-68-stale-vlv', 'ldap-68-one-level-index'):
        entry = found.get(id)
        added = [_last_added(events, e) for n, e in entry['hits']
                 if n == 'dogtag-68'] if entry else []
        added = [e for e in added if e]
        if added and not any(NUMBERED.search(e.text) for e in added):
            del found[id]


def _operation(event):
    m = ACCESS_OP.search(event.text)
    return (event.host,) + m.groups() if m else None


def _last_added(events, failed):
    """The last "LDAPSession: Adding" of the host before `failed`."""
    last = None
    for event in events:
        if event is failed or event.when > failed.when:
            break
        if event.host == failed.host and ADDING.search(event.text):
            last = event
    return last


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
