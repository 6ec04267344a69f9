"""What pkispawn and Dogtag do to the number ranges of an IPA CA master and
its clones (SSNv1, `legacy` generator), replayed on sandbox data.

Each step follows dogtagpki/pki (master, same logic in v11.5.0):
- a clone's `pkispawn` asks its master for a request, a serial and a
  replica ID range, in that order, and turns serial management on
  (base/server/python/pki/server/subsystem.py `request_ranges`);
- the master answers in UpdateNumberRange (base/server/src/main/java/com/
  netscape/cms/servlet/csadmin/UpdateNumberRange.java): for replicaId it
  first runs checkRanges(), then hands out the transfer size from the end
  of its active range (or of its standby range when less is left) and, for
  replicaId, turns its own serial management on;
- at start-up a CA with serial management on runs checkRanges() on its
  request and certificate repositories, not on replica IDs
  (CAEngine.startupSubsystems, SerialNumberUpdateTask); checkRanges()
  allocates a standby range from nextRange when what is left falls below the
  low-water mark (Repository.checkRanges / getNextRange).
"""

import ldap

from sandbox.cadb import add

# repository: (dbs.* prefix, radix)
REPOSITORIES = {
    'request': ('Request', 10),
    'serialNo': ('Serial', 16),
    'replicaId': ('Replica', 10),
}
# subsystem -> repository -> (repository RDN, range container RDN) below
# the subsystem's base (base/ca and base/kra CS.cfg dbs.*DN, *RangeDN)
CONTAINERS = {
    'ca': {'request': ('ou=ca,ou=requests', 'ou=requests,ou=ranges'),
           'serialNo': ('ou=certificateRepository,ou=ca',
                        'ou=certificateRepository,ou=ranges'),
           'replicaId': ('ou=replica', 'ou=replica,ou=ranges')},
    'kra': {'request': ('ou=kra,ou=requests', 'ou=requests,ou=ranges'),
            'serialNo': ('ou=keyRepository,ou=kra',
                         'ou=keyRepository,ou=ranges'),
            'replicaId': ('ou=replica', 'ou=replica,ou=ranges')},
}


class Server:
    """One CA's CS.cfg dbs.* values (as text) and what it issued."""

    def __init__(self, host, settings, subsystem='ca'):
        self.host = host
        self.subsystem = subsystem
        self.cfg = dict(settings, machineName=host)
        self.issued = {'request': [], 'serialNo': [], 'replicaId': []}

    def _names(self, repo):
        return REPOSITORIES[repo]

    def get(self, repo, name):
        """dbs.<name with the repository's prefix> as a number, or None."""
        prefix, radix = self._names(repo)
        text = self.cfg.get('dbs.' + name.replace('*', prefix))
        if text is None or text == '-1':
            return None
        return int(text, radix)

    def put(self, repo, name, number):
        prefix, radix = self._names(repo)
        key = 'dbs.' + name.replace('*', prefix)
        if number is None:
            self.cfg.pop(key, None)
        else:
            self.cfg[key] = format(number, 'x' if radix == 16 else 'd')

    def setting(self, repo, name):
        prefix, radix = self._names(repo)
        return int(self.cfg['dbs.%s%s' % (prefix.lower(), name)], radix)

    @property
    def managed(self):
        return self.cfg.get('dbs.enableSerialManagement') == 'true'

    def last_used(self, repo):
        """Dogtag's last number: the highest record in the active range, or
        begin - 1; ReplicaIDRepository returns the range's begin."""
        begin = self.get(repo, 'begin*Number')
        end = self.get(repo, 'end*Number')
        if repo == 'replicaId':
            return begin
        inside = [n for n in self.issued[repo] if begin <= n <= end]
        return max(inside) if inside else begin - 1


def check_ranges(server, repo, conn, base, port=443):
    """Repository.checkRanges(): allocate a standby range when the numbers
    left plus the standby range fall below the low-water mark."""
    if not server.managed:
        return
    left = server.get(repo, 'end*Number') - server.last_used(repo)
    begin = server.get(repo, 'nextBegin*Number')
    end = server.get(repo, 'nextEnd*Number')
    standby = end - begin + 1 if begin is not None else 0
    if left + standby >= server.setting(repo, 'LowWaterMark'):
        return
    increment = server.setting(repo, 'Increment')
    dns = ['%s,%s' % (rdn, base) for rdn in CONTAINERS[server.subsystem][repo]]
    first = _get_next_range(conn, dns, increment, server.host, port)
    # nextRange's digits are read in the repository's radix here
    first = int(first, REPOSITORIES[repo][1])
    server.put(repo, 'nextBegin*Number', first)
    server.put(repo, 'nextEnd*Number', first + increment - 1)


def _get_next_range(conn, dns, increment, host, port):
    """Repository.getNextRange(): read nextRange N (decimal) on the
    repository entry, write N + increment back, record cn=N with endRange
    N + increment - 1 in the range container."""
    dn, container = dns
    attrs = conn.search_s(dn, ldap.SCOPE_BASE, attrlist=['nextRange'])[0][1]
    current = attrs['nextRange'][0].decode()
    after = int(current) + increment
    conn.modify_s(dn, [(ldap.MOD_DELETE, 'nextRange', [current.encode()]),
                       (ldap.MOD_ADD, 'nextRange', [str(after).encode()])])
    add(conn, 'cn=%s,%s' % (current, container),
        objectClass=['top', 'pkiRange'], cn=current, beginRange=current,
        endRange=str(after - 1), host=host, SecurePort=str(port))
    return current


def update_number_range(master, repo, conn, base):
    """UpdateNumberRange on `master`: (begin, end) handed to a clone."""
    if repo == 'replicaId':
        check_ranges(master, repo, conn, base)
    transfer = master.setting(repo, 'CloneTransferNumber')
    end = master.get(repo, 'end*Number')
    begin = end - transfer + 1
    next_number = master.last_used(repo) + 1
    if begin < next_number:
        end = master.get(repo, 'nextEnd*Number')
        master.put(repo, 'nextEnd*Number', end - transfer)
        begin = end - transfer + 1
    else:
        master.put(repo, 'end*Number', begin - 1)
    if repo == 'replicaId':
        master.cfg['dbs.enableSerialManagement'] = 'true'
    return begin, end


def spawn_clone(master, host, settings, conn, base):
    """pkispawn of a clone: its ranges come from `master`."""
    clone = Server(host, settings, master.subsystem)
    for repo in ('request', 'serialNo', 'replicaId'):
        begin, end = update_number_range(master, repo, conn, base)
        clone.put(repo, 'begin*Number', begin)
        clone.put(repo, 'end*Number', end)
    clone.cfg['dbs.enableSerialManagement'] = 'true'
    return clone


def start(server, conn, base):
    """Start-up: checkRanges() on requests and certificates (CA:
    CAEngine.startupSubsystems) or keys (KRA: KRAEngine)."""
    for repo in ('request', 'serialNo'):
        check_ranges(server, repo, conn, base)
