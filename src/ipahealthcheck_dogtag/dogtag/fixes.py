"""The commands each finding recommends. We print them; we never run them.

An administrator pastes these as root, and the values in them come from
the directory, CS.cfg and the configuration, which whoever can write
those may have chosen. So every value goes through one of the quoting
functions below (`host`, `dn`, `word`, `number`, or `command` for a whole
argument list), and a fix is never built around a value that is not a
plausible host name or DN: the fix then says why no command is given.

No command here deletes a VLV definition: in IPA the CA and the KRA share
the `ipaca` backend, and `pki-server <sub>-db-vlv-del` removes every VLV
index in it, the other subsystem's included.
"""

import functools
import io
import os
import re
import shlex
from urllib.parse import unquote

import ldap
import ldap.dn
import ldif

# pki-server ca-db-vlv-* came with PKI 10.11 (dogtagpki/pki v10.11.0
# base/server/python/pki/server/cli/db.py); kra-db-vlv-* exists since 10.3
# (v10.5.0 base/server/python/pki/server/cli/kra.py).
PKI_SERVER_VLV = {'ca': (10, 11), 'kra': (10, 3)}
MAX_VALUE = 1000                # longer values are refused, whatever they are

# RFC 1123 host names (labels of letters, digits and inner hyphens; IPA
# names are fully qualified), IPv4 and bracketless IPv6 literals.
_LABEL = r'[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?'
_HOST = re.compile(r'^(?:%s)(?:\.%s)*\.?$' % (_LABEL, _LABEL))
_IPV6 = re.compile(r'^[0-9A-Fa-f:.]+$')
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')


class Unsafe(Exception):
    """A value no command may be built around."""

    def __init__(self, what, why):
        super().__init__('%s %s' % (what, why))
        self.what = what
        self.why = why


def _checked(value, what):
    text = '' if value is None else str(value)
    if not text:
        raise Unsafe(what, 'is empty')
    if len(text) > MAX_VALUE:
        raise Unsafe(what, 'is longer than %d characters' % MAX_VALUE)
    if _CONTROL.search(text):
        raise Unsafe(what, 'contains a line break or control character')
    return text


def word(value, what='a value'):
    """Any one-line value (checked, not yet quoted)."""
    return _checked(value, what)


def host(value, what='the host name'):
    """A plausible host name or IP address (checked, not yet quoted)."""
    text = _checked(value, what)
    if len(text) > 253 or not (_HOST.match(text) or
                               (':' in text and _IPV6.match(text))):
        raise Unsafe(what, 'is not a plausible host name')
    return text


def dn(value, what='the DN'):
    """A syntactically valid DN (checked, not yet quoted)."""
    text = _checked(value, what)
    try:
        if not ldap.dn.str2dn(text):
            raise Unsafe(what, 'is not a DN')
    except ldap.DECODING_ERROR:
        raise Unsafe(what, 'is not a valid DN')
    return text


def number(value, what='the number'):
    if isinstance(value, bool) or not isinstance(value, int):
        if not (isinstance(value, str) and value.isascii() and
                value.isdigit() and len(value) < 20):
            raise Unsafe(what, 'is not a whole number')
    return str(value)


def quote(text):
    """A checked value as one shell word, for a command named in prose."""
    return shlex.quote(str(text))


def command(*argv):
    """One shell command line: every argument quoted as one word."""
    return ' '.join(quote(a) for a in argv)


def ldif_text(records):
    """LDIF written by python-ldap's writer: values that LDIF cannot carry
    as text are base64-encoded, long lines folded.

    `records` holds (dn, changes): a list of (ldap.MOD_*, attribute,
    [values]) for a modify, or None for a delete. DNs are checked first.
    """
    out = io.StringIO()
    writer = ldif.LDIFWriter(out)
    for target, changes in records:
        dn(target, 'the entry DN')
        if changes is None:
            writer.unparse(target, {'changetype': [b'delete']})
        else:
            writer.unparse(target, [
                (op, attr, [v if isinstance(v, bytes) else str(v).encode()
                            for v in values])
                for op, attr, values in changes])
    return out.getvalue().rstrip('\n') + '\n'


def ldapmodify(uri, records):
    """A one-line command that applies LDIF records over LDAPI as root."""
    lines = ldif_text(records).rstrip('\n').split('\n')
    return '%s | %s' % (command('printf', r'%s\n', *lines),
                        command('ldapmodify', '-Y', 'EXTERNAL', '-H',
                                word(uri, 'the LDAP URI')))


def refusable(build):
    """A fix builder that answers a refusal, never a command, when one of
    its values is implausible."""
    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        try:
            return build(*args, **kwargs)
        except Unsafe as unsafe:
            return refusal(unsafe)
    return wrapper


def refusal(unsafe):
    return ('no command is given because %s %s (see the fields of this '
            'result); check that value by hand first'
            % (unsafe.what, unsafe.why))


# -- the commands ------------------------------------------------------------

def ds_instance(database):
    """`slapd-<name>` of the instance behind an LDAPI URI, for dsconf."""
    path = unquote(database.ldap_uri.split('://', 1)[-1])
    match = re.match(r'(slapd-[^./]+)\.socket$', os.path.basename(path))
    return word(match.group(1) if match else 'slapd-<instance>',
                'the 389-DS instance name')


def _instance(database):
    return word(database.instance_id, 'the PKI instance name')


def _restart(database):
    unit = 'pki-tomcatd@%s.service' % _instance(database)
    return ('%s so that Dogtag looks up its last number again'
            % command('systemctl', 'restart', unit))


restart = refusable(_restart)


def _ds_restart(database):
    """On LMDB (389-DS 3.x) an online VLV reindex does not switch the index
    on (vlvIndex_go_online is called only by the BerkeleyDB code,
    389-ds-base 3.1.2 back-ldbm/db-bdb/bdb_ldif2db.c), and with 3.1.2 VLV
    searches on a rebuilt index fail until 389-DS restarts."""
    return command('dsctl', ds_instance(database), 'restart')


def _version(database):
    return tuple(database.pki_version) if database.pki_version else None


def _vlv_name(repo):
    return word(repo.vlv_name, 'the VLV index name')


def _backend(repo):
    return word(repo.subsystem.database, 'the backend name')


def _pki_server_vlv(repo, database):
    return command('pki-server', '%s-db-vlv-reindex' % repo.kind.subsystem,
                   '-i', _instance(database))


def _ds_vlv_reindex(repo, database):
    """Rebuild one VLV index with the tools of the 389-DS release: dsconf
    (389-DS 1.4+) or db2index.pl (389-DS 1.3, RHEL 7; its -T names the
    vlvIndex entry, 389ds/389-ds-base 1.3.11 man/man8/db2index.pl.8)."""
    instance = ds_instance(database)
    short = instance[len('slapd-'):] if instance.startswith('slapd-') \
        else instance
    return ('%s (389-DS 1.4 and later), or on 389-DS 1.3 (RHEL 7) %s (it '
            'asks for the Directory Manager password)' % (
                command('dsconf', instance, 'backend', 'vlv-index',
                        'reindex', '--parent-name', _vlv_name(repo),
                        _backend(repo)),
                command('db2index.pl', '-Z', short, '-n', _backend(repo),
                        '-T', _vlv_name(repo) + 'Index', '-w', '-')))


def vlv_reindex_command(repo, database):
    """The command that rebuilds the range VLV index on this PKI."""
    version = _version(database)
    since = PKI_SERVER_VLV[repo.kind.subsystem]
    if version is None:
        return ('%s (PKI %s and later; the PKI version is unknown, set '
                'dogtag_pki_version to get the command for it), or on an '
                'older PKI %s' % (_pki_server_vlv(repo, database),
                                  '.'.join(map(str, since)),
                                  _ds_vlv_reindex(repo, database)))
    if version >= since:
        return _pki_server_vlv(repo, database)
    return _ds_vlv_reindex(repo, database)


def _vlv_reindex(repo, database):
    return '%s, then %s, then %s' % (vlv_reindex_command(repo, database),
                                     _ds_restart(database),
                                     _restart(database))


vlv_reindex = refusable(_vlv_reindex)


@refusable
def vlv_recreate(repo, database):
    sub = repo.kind.subsystem
    version = _version(database)
    if version is None or version >= PKI_SERVER_VLV[sub]:
        return ('%s (it adds only the missing definitions), then %s'
                % (command('pki-server', '%s-db-vlv-add' % sub, '-i',
                           _instance(database)),
                   _vlv_reindex(repo, database)))
    return ('add the %s definitions from /usr/share/pki/%s/conf/vlv.ldif '
            '(with {instanceId} and {database} filled in) with '
            'ldapmodify -a, then %s' % (sub.upper(), sub,
                                        _vlv_reindex(repo, database)))


@refusable
def vlv_edit(repo, database, attributes):
    """Make the definition match Dogtag's query. dsconf's edit-search changes
    only the vlvSearch entry (base, scope, filter); the sort order lives in
    the vlvIndex child, which dsconf can only delete and add again
    (389ds/389-ds-base src/lib389/lib389/cli_conf/backend.py)."""
    instance = ds_instance(database)
    name, backend = _vlv_name(repo), _backend(repo)
    steps = []
    if set(attributes) & {'vlvBase', 'vlvScope', 'vlvFilter'}:
        steps.append(command(
            'dsconf', instance, 'backend', 'vlv-index', 'edit-search',
            '--name', name, '--search-base',
            dn(repo.container, 'the repository DN'), '--search-scope', '1',
            '--search-filter', word(repo.kind.lookup_filter.lower()),
            backend))
    if 'vlvSort' in attributes:
        steps.append('%s, then %s' % (
            command('dsconf', instance, 'backend', 'vlv-index', 'del-index',
                    '--parent-name', name, '--index-name', name + 'Index',
                    backend),
            command('dsconf', instance, 'backend', 'vlv-index', 'add-index',
                    '--parent-name', name, '--index-name', name + 'Index',
                    '--sort', word(repo.kind.attribute), backend)))
    steps.append(_vlv_reindex(repo, database))
    return ', then '.join(steps)


def lookup_attributes(repo):
    """The attributes whose indices Dogtag's lookup reads: the number and,
    from PKI 11.6, the presence tests of its filter (certStatus,
    requestState, realm), whose indices 389-DS intersects first."""
    kind = repo.kind
    return [kind.attribute.lower()] + [
        a.lower() for a in kind.required + kind.excluded
        if a.lower() != kind.attribute.lower()]


@refusable
def attribute_reindex(repo, database):
    attrs = []
    for attribute in lookup_attributes(repo):
        attrs += ['--attr', attribute]
    return '%s, then %s' % (command(
        'dsconf', ds_instance(database), 'backend', 'index', 'reindex',
        *attrs, '--wait', _backend(repo)), _restart(database))


@refusable
def set_next_range(database, entry_dn, value):
    """Set nextRange on its entry over LDAPI."""
    return ('on one CA server, %s (above every range allocated so far; '
            'check the other servers\' ranges with the cluster report '
            'first)' % ldapmodify(database.ldap_uri, [
                (entry_dn, [(ldap.MOD_REPLACE, 'nextRange',
                             [number(value)])])]))


def removal_ldif(account, groups):
    """LDIF removing an account from its groups, then the account; raises
    Unsafe when a DN is not one."""
    return ldif_text([(group, [(ldap.MOD_DELETE, 'uniqueMember', [account])])
                      for group in groups] + [(account, None)])


# -- replication -------------------------------------------------------------

def _suffix(database):
    return dn(database.subsystem('ca').basedn, 'the CA suffix')


def _peer(agreement):
    return host(agreement.host, 'the agreement\'s host (nsDS5ReplicaHost)')


def _local(topology):
    return host(topology.local, 'this server\'s name (machineName)')


def _agreement_name(agreement):
    return word(agreement.name, 'the agreement name')


def _agreement_delete(database, agreement, cleanruv=False):
    line = command('dsconf', ds_instance(database), 'repl-agmt', 'delete',
                   '--suffix', _suffix(database), _agreement_name(agreement))
    if cleanruv:
        line += (', then clean its replica ID from the RUV with %s '
                 '--replica-id <id>' % command(
                     'dsconf', ds_instance(database), 'repl-tasks',
                     'cleanallruv', '--suffix', _suffix(database)))
    return line


agreement_delete = refusable(_agreement_delete)


@refusable
def agreement_enable(database, topology, agreement):
    return ('%s if %s should still replicate; if not, remove it: %s' % (
        command('dsconf', ds_instance(database), 'repl-agmt', 'enable',
                '--suffix', _suffix(database), _agreement_name(agreement)),
        quote(_peer(agreement)),
        _remove_agreement(database, topology, agreement)))


def _dirsrv_restart(database):
    name = ds_instance(database)
    name = name[len('slapd-'):] if name.startswith('slapd-') else name
    return command('systemctl', 'restart', 'dirsrv@%s.service' % name)


def refused_by_topology_plugin(topology, agreement):
    """Would IPA's topology plugin refuse to delete this agreement?

    At domain level 1 it refuses ("Entry is managed by topology plugin.
    Deletion not allowed.") an agreement of a shared suffix that is marked
    (objectClass ipaReplTopoManagedAgreement) or whose two ends are managed
    servers: freeipa/freeipa daemons/ipa-slapi-plugins/topology/
    topology_pre.c ipa_topo_pre_del / ipa_topo_is_entry_managed and
    topology_util.c ipa_topo_util_target_is_managed, release-4-13-3.
    """
    return topology.managed_topology and (
        agreement.marked or (topology.is_managed(agreement.host) and
                             topology.is_managed(topology.local)))


def _remove_agreement(database, topology, agreement, cleanruv=False):
    """How to remove an agreement, in a way the server accepts."""
    if not refused_by_topology_plugin(topology, agreement):
        return _agreement_delete(database, agreement, cleanruv)
    segment = topology.segment(agreement.host)
    if segment:
        # The plugin deletes a segment's agreements on both servers
        # (topology_post.c); the IPA command needs domain level 1.
        return command('ipa', 'topologysegment-del', 'ca',
                       word(segment, 'the segment name'))
    local = _local(topology)
    if agreement.marked:
        # At start the plugin deletes a marked agreement that has no
        # segment (topology_util.c ipa_topo_util_update_agmt_list).
        return ('%s on %s: at start the topology plugin deletes a managed '
                'agreement that has no segment' % (
                    _dirsrv_restart(database), quote(local)))
    # An unmarked one it adopts at start, with an "autogen" segment
    # <local>-to-<peer> (ipa_topo_util_segm_from_agmt), which IPA can
    # then remove.
    name = '%s-to-%s' % (local, _peer(agreement).lower())
    return ('%s on %s, so that the topology plugin adopts the agreement '
            'as segment %s, then %s' % (
                _dirsrv_restart(database), quote(local), quote(name),
                command('ipa', 'topologysegment-del', 'ca', name)))


remove_agreement = refusable(_remove_agreement)


@refusable
def removed_server(database, topology, agreement):
    return ('%s removes what a removed server left behind; if the agreement '
            'is still there afterwards: %s' % (
                command('ipa-replica-manage', 'del', _peer(agreement),
                        '--force', '--cleanup'),
                _remove_agreement(database, topology, agreement)))


@refusable
def unfinished_ca_install(topology, agreement):
    peer = _peer(agreement)
    return ('if an install is running on %s, wait for it to finish; if '
            'not, read its /var/log/ipareplica-install.log or '
            '/var/log/ipareplica-ca-install.log and run the install again '
            '(ipa-ca-install on %s), or retire the server with %s' % (
                quote(peer), quote(peer),
                command('ipa-replica-manage', 'del', peer, '--force',
                        '--cleanup')))


@refusable
def segment_missing(database, topology, agreement):
    """Domain level 1, no CA segment joins this server and the peer."""
    local, peer = _local(topology), _peer(agreement).lower()
    name = '%s-to-%s' % (local, peer)
    if agreement.marked:
        return ('%s on %s: at start the topology plugin deletes a managed '
                'agreement that has no segment; then, if %s and %s should '
                'replicate the CA directly: %s' % (
                    _dirsrv_restart(database), quote(local), quote(local),
                    quote(peer),
                    command('ipa', 'topologysegment-add', 'ca', name,
                            '--leftnode=' + local, '--rightnode=' + peer)))
    # Not `ipa topologysegment-add` beside it: the plugin would add a
    # second agreement cn=<local>-to-<peer> to the same host
    # (topology_post.c ipa_topo_post_add, topology_agmt.c
    # ipa_topo_agmt_setup); at start it adopts this one instead.
    return ('%s on %s: at start the topology plugin adopts the agreement '
            'and records segment %s (do not run ipa topologysegment-add '
            'beside it: that adds a second agreement to %s); if %s and %s '
            'should not replicate the CA directly, then %s' % (
                _dirsrv_restart(database), quote(local), quote(name),
                quote(peer), quote(local), quote(peer),
                command('ipa', 'topologysegment-del', 'ca', name)))


@refusable
def unreachable_peer(database, topology, agreement):
    peer = _peer(agreement)
    if topology.ipa:
        retire = command('ipa', 'server-del', peer) \
            if topology.managed_topology else \
            command('ipa-replica-manage', 'del', peer)
        status = command('ipa-csreplica-manage', 'list', '-v',
                         _local(topology))
    else:
        retire = _agreement_delete(database, agreement, cleanruv=True)
        status = command('dsconf', ds_instance(database), 'repl-agmt',
                         'status', '--suffix', _suffix(database),
                         _agreement_name(agreement))
    return ('make sure 389-DS runs on %s and answers on port %s from this '
            'server (%s shows the detail); if %s is retired for good: %s' % (
                quote(peer), quote(number(agreement.port,
                                          'the agreement\'s port')),
                status, quote(peer), retire))


@refusable
def clean_ruv(database, topology, suffix, rid):
    if topology.ipa:
        return ('ipa-replica-manage clean-dangling-ruv (or %s)'
                % command('ipa-replica-manage', 'clean-ruv', number(rid)))
    return command('dsconf', ds_instance(database), 'repl-tasks',
                   'cleanallruv', '--suffix', dn(suffix, 'the CA suffix'),
                   '--replica-id', number(rid))


@refusable
def one_level_reindex(repo, database):
    """Rebuild the indices a one-level search of the container starts from
    (parentid, and ancestorid, which 389-DS's db2index accepts by name:
    389-ds-base 2.3.1 and 3.1.2 bdb_ldif2db.c, bdb_db2index), with those of
    Dogtag's lookup. 389-DS 3.2.1 added `dsctl <inst> index-check` to find
    an ordering mismatch offline (lib389 cli_ctl/dbtasks.py)."""
    attrs = []
    for attribute in ['parentid', 'ancestorid'] + lookup_attributes(repo):
        attrs += ['--attr', attribute]
    return ('%s, then %s (with 389-DS 3.2.1 or later, %s while 389-DS is '
            'stopped shows an index ordering mismatch)' % (
                command('dsconf', ds_instance(database), 'backend', 'index',
                        'reindex', *attrs, '--wait', _backend(repo)),
                _restart(database),
                command('dsctl', ds_instance(database), 'index-check',
                        _backend(repo))))


# The grant pkispawn gives Dogtag's bind (dogtagpki/pki v11.5.0
# base/server/database/ds/db-access-grant.ldif).
VLV_GRANT = ('(targetattr = "*")(version 3.0; acl "Cert Manager access for '
             'VLV searches"; allow (read) userdn="ldap:///%s";)')


@refusable
def vlv_access_grant(database, bind_dn):
    records = [('cn=ldbm database,cn=plugins,cn=config', [
        (ldap.MOD_ADD, 'aci', [VLV_GRANT % dn(bind_dn, 'Dogtag\'s bind')])])]
    return '%s, then %s' % (ldapmodify(database.ldap_uri, records),
                            _restart(database))
