"""Replication of the CA suffix as this server's 389-DS sees it, read locally.

Nothing here contacts a peer: the agreement status attributes are computed
by the local server from what its last replication session met.
"""

import json
import re
from datetime import datetime, timezone

import ldap
from ldap.filter import escape_filter_chars

# Never nsDS5ReplicaCredentials: we do not read what we must not print.
AGREEMENT_ATTRS = [
    'cn', 'nsDS5ReplicaHost', 'nsDS5ReplicaPort', 'nsds5ReplicaEnabled',
    'nsds5replicaLastUpdateStatus', 'nsds5replicaLastUpdateStatusJSON',
    'nsds5replicaLastUpdateStart', 'nsds5replicaLastUpdateEnd',
    'nsds5replicaUpdateInProgress', 'nsds5replicaChangesSentSinceStartup',
    'nsds5replicaLastInitEnd', 'nsds5replicaLastInitStatus', 'objectClass']
MARKER = 'iparepltopomanagedagreement'
RUV_FILTER = ('(&(nsuniqueid=ffffffff-ffffffff-ffffffff-ffffffff)'
              '(objectclass=nstombstone))')
RUV_ELEMENT = re.compile(r'\{replica (\d+) (ldaps?)://\[?([^\]\s]+?)\]?:(\d+)\}')
# An element without a replica URL (and mostly without CSNs), "{replica 4}":
# 389ds/389-ds-base#5193; freeipa/freeipa#7342 (pagure 9591).
RUV_NO_URL = re.compile(r'\{replica (\d+)\}')
STATUS_CODE = re.compile(r'^Error \((-?\d+)\)')
CHANGES_SENT = re.compile(r'(\d+):(\d+)/(\d+)')


def _one(attrs, name, default=None):
    values = attrs.get(name.lower())
    return values[0].decode('utf-8', 'replace') if values else default


def parse_time(text):
    """GeneralizedTime as an aware datetime; the epoch (never) as None."""
    try:
        when = datetime.strptime(text or '', '%Y%m%d%H%M%SZ')
    except ValueError:
        return None
    if when.year <= 1970:
        return None
    return when.replace(tzinfo=timezone.utc)


def iso(when):
    return when.strftime('%Y-%m-%dT%H:%M:%SZ') if when else None


class Agreement:
    def __init__(self, dn, attrs):
        self.dn = dn
        self.name = _one(attrs, 'cn', dn)
        self.host = _one(attrs, 'nsDS5ReplicaHost', '')
        self.port = _one(attrs, 'nsDS5ReplicaPort')
        self.enabled = _one(attrs, 'nsds5ReplicaEnabled', 'on').lower() \
            != 'off'                        # absent means on
        self.status = _one(attrs, 'nsds5replicaLastUpdateStatus', '')
        self.in_progress = _one(attrs, 'nsds5replicaUpdateInProgress',
                                'FALSE').upper() == 'TRUE'
        # What 389-DS records (389ds/389-ds-base 389-ds-base-2.9.0, same in
        # 1.3.11: ldap/servers/plugins/replication/repl5_inc_protocol.c
        # repl5_inc_run STATE_SENDING_UPDATES; repl5_agmt.c): a session that
        # has acquired the replica sets Start to now and End to 0; success
        # sets End to now, failure sets Start back to 0. Both live in memory
        # only and read as the epoch after a restart. So End is the end of
        # the last successful session, and 0 either "none since the start"
        # or "the last acquired session failed": 0 alone dates nothing.
        self.last_success = parse_time(
            _one(attrs, 'nsds5replicaLastUpdateEnd'))
        self.session_started = parse_time(
            _one(attrs, 'nsds5replicaLastUpdateStart'))
        # "<rid>:<replayed>/<skipped> ..." since the start (repl5_agmt.c
        # agmt_get_changecount_string): changes the peer accepted.
        self.changes_sent = sum(
            int(m.group(2)) for m in CHANGES_SENT.finditer(
                _one(attrs, 'nsds5replicaChangesSentSinceStartup', '')))
        # The last total update persists in dse.ldif (repl5_agmt.c
        # agmt_replica_init_done, read back in agmt_new_from_entry).
        init_status = _one(attrs, 'nsds5replicaLastInitStatus', '')
        self.last_init = parse_time(_one(attrs, 'nsds5replicaLastInitEnd')) \
            if init_status.startswith('Error (0)') else None
        self.marked = MARKER in {v.decode('utf-8', 'replace').lower()
                                 for v in attrs.get('objectclass', [])}
        self.state = None
        self.last_attempt = None
        try:
            report = json.loads(_one(attrs,
                                     'nsds5replicaLastUpdateStatusJSON'))
            self.state = report.get('state')
            self.last_attempt = report.get('date')
        except (TypeError, ValueError, AttributeError):
            pass

    @property
    def failing(self):
        """Did the last replication session fail? (green/amber are not)"""
        if self.state is not None:
            return self.state == 'red'
        match = STATUS_CODE.match(self.status)
        return bool(match) and int(match.group(1)) != 0

    def fields(self):
        return {'agreement': self.dn, 'peer': self.host,
                'port': self.port, 'enabled': self.enabled,
                'last_update_status': self.status,
                'last_success': iso(self.last_success),
                'last_attempt': self.last_attempt,
                'changes_sent': self.changes_sent,
                'last_init': iso(self.last_init),
                'topology_marked': self.marked,
                'update_in_progress': self.in_progress}


def replica(directory, suffix):
    """(dn, attrs) of the suffix's replica configuration, or None."""
    entries, _ = directory.search(
        'cn=mapping tree,cn=config',
        '(&(objectClass=nsds5Replica)(nsDS5ReplicaRoot=%s))'
        % escape_filter_chars(suffix), ['nsDS5ReplicaId', 'nsDS5ReplicaRoot'])
    return entries[0] if entries else None


def agreements(directory, replica_dn):
    entries, _ = directory.search(
        replica_dn, '(objectClass=nsds5ReplicationAgreement)',
        AGREEMENT_ATTRS, scope=ldap.SCOPE_ONELEVEL)
    return [Agreement(dn, attrs) for dn, attrs in entries]


def ruv(directory, suffix):
    """[(replica id, host, port)] of the suffix's RUV (the local one too)."""
    return ruv_elements(directory, suffix)[0]


def ruv_elements(directory, suffix):
    """([(replica id, host, port)], [(replica id, value)]): the complete
    elements of the suffix's RUV, and those without a replica URL.

    Such an element is what freeipa/freeipa#7342 (pagure 9591, in
    release-4-12-0 install/tools/ipa-replica-manage.in get_ruv strict=False)
    taught clean-ruv and clean-dangling-ruv to accept; before, they
    printed "unable to decode" and left it. 389-DS itself hides elements
    without a URL from this search since 389ds/389-ds-base#5193
    (389-ds-base-1.4.3.30, 2.0.15, 2.1.1, 2.2.0: repl5_ruv.c
    ruv_to_valuearray), so only an older server shows them."""
    entries, _ = directory.search(suffix, RUV_FILTER, ['nsds50ruv'])
    elements, incomplete = [], []
    for _, attrs in entries[:1]:
        for value in attrs.get('nsds50ruv', []):
            text = value.decode('utf-8', 'replace')
            match = RUV_ELEMENT.match(text)
            if match:
                rid, _, host, port = match.groups()
                elements.append((int(rid), host, port))
                continue
            match = RUV_NO_URL.match(text)
            if match:
                incomplete.append((int(match.group(1)), text))
    return elements, incomplete


def agreement_count(directory, suffix):
    """The number of agreements of `suffix`'s replica on this server (0
    when the suffix is not replicated here)."""
    found = replica(directory, suffix)
    if found is None:
        return 0
    return len(agreements(directory, found[0]))


def server_started(directory):
    """When the local 389-DS started (cn=monitor starttime), or None."""
    attrs = directory.entry('cn=monitor', ['starttime'])
    return parse_time(_one(attrs or {}, 'starttime'))
