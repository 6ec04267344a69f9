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
    'nsds5replicaUpdateInProgress', 'objectClass']
RUV_FILTER = ('(&(nsuniqueid=ffffffff-ffffffff-ffffffff-ffffffff)'
              '(objectclass=nstombstone))')
RUV_ELEMENT = re.compile(r'\{replica (\d+) (ldaps?)://\[?([^\]\s]+?)\]?:(\d+)\}')
STATUS_CODE = re.compile(r'^Error \((-?\d+)\)')


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
        self.last_success = parse_time(
            _one(attrs, 'nsds5replicaLastUpdateEnd'))
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
    entries, _ = directory.search(suffix, RUV_FILTER, ['nsds50ruv'])
    elements = []
    for _, attrs in entries[:1]:
        for value in attrs.get('nsds50ruv', []):
            match = RUV_ELEMENT.match(value.decode('utf-8', 'replace'))
            if match:
                rid, _, host, port = match.groups()
                elements.append((int(rid), host, port))
    return elements


def server_started(directory):
    """When the local 389-DS started (cn=monitor starttime), or None."""
    attrs = directory.entry('cn=monitor', ['starttime'])
    return parse_time(_one(attrs or {}, 'starttime'))
