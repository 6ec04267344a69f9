"""The commands each finding recommends. We print them; we never run them.

An administrator pastes these as root, and the values in them come from
the directory, CS.cfg and the configuration, which whoever can write
those may have chosen. So every value goes through one of the quoting
functions below (`host`, `dn`, `word`, `number`, or `command` for a whole
argument list), and a fix is never built around a value that is not a
plausible host name or DN: the fix then says why no command is given.

A fix is a `Fix`: ordered `Step`s, each labelled with what it does to the
service (`EFFECTS`), so that people and monitoring can tell a read from a
write or an outage before they run anything.

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
import ldap.filter
import ldif

from ipahealthcheck_dogtag.dogtag.steps import (  # noqa: F401
    EFFECTS, MANUAL, READS, RESTARTS, WRITES, Fix, Step, alternative,
    manual, reads, writes)

# pki-server <sub>-db-vlv-reindex, from the first release where it exists
# and waits for its task: ca from v10.11.0 (dogtagpki/pki
# base/server/src/.../cli/SubsystemDBVLVReindexCLI.java ->
# LDAPConfigurator.reindexVLVs -> waitForTask); kra-db-vlv-reindex exists
# from v10.3.2 but only adds the task there ("reindex initiated",
# base/server/python/pki/server/cli/kra.py reindex_vlv) and polls it with
# time.sleep from v10.3.3.
PKI_SERVER_VLV = {'ca': (10, 11), 'kra': (10, 3, 3)}
# dsconf's `backend vlv-index` and `backend index reindex` subcommands
# first appear in 389-ds-base-1.4.0.20 (src/lib389/lib389/cli_conf/
# backend.py); before, only db2index.pl (ldap/admin/src/scripts).
DSCONF_INDEX = (1, 4, 0, 20)
# Index tasks live below this entry (lib389 tasks.py Tasks.reindex,
# DN_INDEX_TASK; db2index.pl.in in 1.3.11: "cn=index, cn=tasks").
INDEX_TASKS = 'cn=index,cn=tasks,cn=config'
LDBM_CONFIG = 'cn=config,cn=ldbm database,cn=plugins,cn=config'
# nsslapd-backend-implement, the choice of LMDB, came with 389-ds-base-1.4.3
# (back-ldbm/ldbm_config.h); before, BerkeleyDB is the only backend.
LMDB_FIRST = (1, 4, 3)
MAX_VALUE = 1000                # longer values are refused, whatever they are

# RFC 1123 host names (labels of letters, digits and inner hyphens; IPA
# names are fully qualified), IPv4 and bracketless IPv6 literals.
_LABEL = r'[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?'
_HOST = re.compile(r'^(?:%s)(?:\.%s)*\.?$' % (_LABEL, _LABEL))
_IPV6 = re.compile(r'^[0-9A-Fa-f:.]+$')
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')


# What to do when the CA database cannot be read, by directory.py's reason.
_DIRECTORY_ADVICE = {
    'unreachable': 'Start it (ipactl start, or systemctl start '
                   'dirsrv@<instance>), or correct dogtag_ldap_uri in the '
                   'healthcheck configuration if it listens elsewhere',
    'silent': 'It accepts connections but does not answer in time: look for '
              'a hung or overloaded server (its errors log, ipactl status) '
              'and restart it, or raise timeout in the healthcheck '
              'configuration if it is only slow',
    'refused': 'Run the check as root: over LDAPI 389-DS maps only root to '
               'Directory Manager, and other callers cannot read the CA '
               'database',
    'out_of_time': 'The check used up its time limit (85% of timeout) '
                   'before it could finish reading: raise timeout in the '
                   'healthcheck configuration',
}


def directory_advice(reason):
    """What to do about a CA database that cannot be read (`reason` as
    directory.py names it); while 389-DS is down for maintenance, "key =
    ldap" in [excludes] silences the result."""
    return Fix(manual(_DIRECTORY_ADVICE.get(
        reason, 'Check the 389-DS errors log')))


class ServerFacts:
    """What a fix must know about the local 389-DS: its database
    implementation ('bdb' or 'mdb') and version (a tuple), each None when
    unknown, with `problem` saying why."""

    def __init__(self, backend=None, version=None, problem=None):
        self.backend = backend
        self.version = version
        self.problem = problem

    @classmethod
    def from_entries(cls, config, ldbm):
        """From cn=config (nsslapd-versionstring, e.g.
        "389-Directory/2.3.1 B2023.123.0000") and the ldbm config entry.

        nsslapd-backend-implement exists from 389-ds-base-1.4.3
        (back-ldbm/ldbm_config.h); before, BerkeleyDB is the only backend.
        IPA reads it the same way, 'bdb' when absent (freeipa
        ipaserver/install/cainstance.py lookup_ldap_backend,
        release-4-13-3)."""
        problems = []
        text = _attr(config, 'nsslapd-versionstring')
        match = re.search(r'/(\d+(?:\.\d+)+)', text or '')
        version = tuple(int(n) for n in match.group(1).split('.')) \
            if match else None
        if version is None:
            problems.append('cn=config has no readable '
                            'nsslapd-versionstring')
        backend = None
        if ldbm is None:
            problems.append('%s is absent' % LDBM_CONFIG)
        else:
            backend = (_attr(ldbm, 'nsslapd-backend-implement') or
                       'bdb').lower()
            if backend not in ('bdb', 'mdb'):
                problems.append('nsslapd-backend-implement is neither bdb '
                                'nor mdb')
                backend = None
        return cls(backend, version, '; '.join(problems) or None)


def _attr(entry, name):
    values = (entry or {}).get(name)
    return values[0].decode('utf-8', 'replace') if values else None


UNKNOWN = ServerFacts(problem='the check did not read the 389-DS '
                      'configuration')


def server_facts(database):
    """The ServerFacts attached to `database` (see checks.plugin.Context),
    read on first use."""
    read = getattr(database, 'server', None)
    return read() if callable(read) else UNKNOWN


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
    return Fix(manual(
        'no command is given because %s %s (see the fields of this '
        'result); check that value by hand first' % (unsafe.what,
                                                     unsafe.why)))


# -- the commands ------------------------------------------------------------

def ds_instance(database):
    """`slapd-<name>` of the instance behind an LDAPI URI, for dsconf."""
    path = unquote(database.ldap_uri.split('://', 1)[-1])
    match = re.match(r'(slapd-[^./]+)\.socket$', os.path.basename(path))
    return word(match.group(1) if match else 'slapd-<instance>',
                'the 389-DS instance name')


def _short(database):
    instance = ds_instance(database)
    return instance[len('slapd-'):] if instance.startswith('slapd-') \
        else instance


def _instance(database):
    return word(database.instance_id, 'the PKI instance name')


def _restart(database):
    unit = 'pki-tomcatd@%s.service' % _instance(database)
    return Fix(Step('%s so that Dogtag looks up its last number again'
                    % command('systemctl', 'restart', unit), RESTARTS,
                    service=unit, outage='an outage of this PKI instance: '
                    'its CA and KRA stop answering while it restarts'))


restart = refusable(_restart)


def _dirsrv_restart(database, why, when=None):
    """systemctl, not dsctl: the unit exists on every 389-DS release IPA
    and Dogtag run on, dsctl only from 1.4 (389-ds-base-1.4.0.x
    src/lib389/cli/dsctl; 1.3.11 has none)."""
    unit = 'dirsrv@%s.service' % _short(database)
    return Step('%s %s' % (command('systemctl', 'restart', unit), why),
                RESTARTS, service=unit, when=when,
                outage='an outage of 389-DS and of every service using '
                'it: on an IPA server, all of IPA')


def _version(database):
    return tuple(database.pki_version) if database.pki_version else None


def _vlv_name(repo):
    return word(repo.vlv_name, 'the VLV index name')


def _backend(repo):
    return word(repo.subsystem.database, 'the backend name')


def wait_for_index_task(database, backend, attribute, value):
    """A shell command that waits until no index task of `backend` naming
    `value` in `attribute` lacks nsTaskExitCode, then shows the exit codes.

    dsconf `backend vlv-index reindex` returns once the task entry exists
    (389-ds-base-3.1.2 lib389 cli_conf/backend.py backend_reindex_vlv ->
    index.py VLVSearch.reindex -> tasks.py Tasks.reindex, which waits only
    with args[TASK_WAIT]; the parser has no --wait), and so does
    db2index.pl (1.3.11 db2index.pl.in). Both name the task cn=<name>,
    cn=index,cn=tasks,cn=config with nsInstance and nsIndexVLVAttribute
    (or nsIndexAttribute); 389-DS adds nsTaskExitCode when it ends."""
    uri = word(database.ldap_uri, 'the LDAP URI')
    both = '(&(nsInstance=%s)(%s=%s)' % (
        ldap.filter.escape_filter_chars(backend), attribute,
        ldap.filter.escape_filter_chars(value))

    def search(flt, *attrs):
        return command('ldapsearch', '-LLL', '-Q', '-Y', 'EXTERNAL', '-H',
                       uri, '-b', INDEX_TASKS, '-s', 'one', flt, *attrs)
    return reads(
        'wait for the index task to end (a restart before then cuts it '
        'short): while r=$(%s) && [ -n "$r" ]; do sleep 5; done; %s '
        '(nsTaskExitCode: 0 means it succeeded)' % (
            search(both + '(!(nsTaskExitCode=*)))', 'dn'),
            search(both + ')', 'nsTaskExitCode', 'nsTaskStatus')))


def _pki_server_vlv(repo, database):
    return writes('%s (it waits for its task)' % command(
        'pki-server', '%s-db-vlv-reindex' % repo.kind.subsystem, '-i',
        _instance(database)))


def _dsconf_vlv(repo, database, when=None):
    return Fix(writes(command(
        'dsconf', ds_instance(database), 'backend', 'vlv-index', 'reindex',
        '--parent-name', _vlv_name(repo), _backend(repo)), when=when))


def _db2index_vlv(repo, database, when=None):
    """db2index.pl's -T names the vlvIndex entry (389-ds-base 1.3.11
    man/man8/db2index.pl.8)."""
    return Fix(writes('%s (it asks for the Directory Manager password)'
                      % command('db2index.pl', '-Z', _short(database), '-n',
                                _backend(repo), '-T',
                                _vlv_name(repo) + 'Index', '-w', '-'),
                      when=when))


def _ds_vlv_reindex(repo, database, server):
    """Rebuild one VLV index with the tools of the 389-DS release, then
    wait for the task: neither tool waits."""
    version = server.version
    if version is None:
        reindex = _dsconf_vlv(repo, database, 'on 389-DS 1.4.0.20 and '
                              'later') + alternative(
            _db2index_vlv(repo, database), 'on 389-DS 1.3 (RHEL 7)')
    elif version >= DSCONF_INDEX:
        reindex = _dsconf_vlv(repo, database)
    else:
        reindex = _db2index_vlv(repo, database)
    return reindex + wait_for_index_task(
        database, _backend(repo), 'nsIndexVLVAttribute',
        _vlv_name(repo) + 'Index')


def vlv_reindex_command(repo, database):
    """The steps that rebuild the range VLV index and wait for it."""
    server = server_facts(database)
    version = _version(database)
    if version is not None and version >= PKI_SERVER_VLV[repo.kind.subsystem]:
        return Fix(_pki_server_vlv(repo, database))
    fix = _ds_vlv_reindex(repo, database, server)
    if version is None:
        first = fix.steps[0]
        first.do += (' (the PKI version is unknown: set dogtag_pki_version '
                     'to get the pki-server command of your PKI)')
    return fix


def lmdb_reindex_broken(server):
    """On LMDB, an explicit VLV reindex did not rebuild an index whose
    name has hyphens, as Dogtag's do (389ds/389-ds-base#6057, items 4-5;
    the fix is in 389-ds-base-2.5.2 and 3.0.2, not in 3.0.1)."""
    version = server.version
    return server.backend == 'mdb' and version is not None and (
        version < (2, 5, 2) or (3, 0) <= version < (3, 0, 2))


def _lmdb_restart(database, server):
    """Only on LMDB. BerkeleyDB takes the index offline, rebuilds it
    counting from 0 and switches it back on (389-ds-base-3.1.2 back-ldbm/
    db-bdb/bdb_ldif2db.c bdb_db2index -> vlv_srch.c vlvIndex_go_offline,
    vlvIndex_go_online): no restart. LMDB empties the index database
    (db-mdb/mdb_import.c truncate_index_dbi) but keeps the in-memory length
    and adds to it (vlv.c do_vlv_update_index, vlv_indexlength++), so an
    index used since start counts old + new records until a restart."""
    why = ('so that 389-DS forgets the old length of the index: on LMDB a '
           'rebuilt VLV index that was in use since the start keeps '
           'counting its old records in memory until a restart')
    return _on_lmdb(server,
                    lambda when: _dirsrv_restart(database, why, when=when),
                    ', never on BerkeleyDB, which needs no restart')


def _on_lmdb(server, step, also=''):
    """The step `step(when)` builds, for LMDB only: as it is on LMDB, none
    on BerkeleyDB, and when the backend was not read, under the condition
    that it is LMDB (`also` ends that condition)."""
    if server.backend == 'mdb':
        return Fix(step(None))
    if server.backend == 'bdb':
        return Fix()
    return Fix(step('only if 389-DS stores its data in LMDB '
                    '(nsslapd-backend-implement: mdb on %s; not read: %s)%s'
                    % (LDBM_CONFIG, server.problem, also)))


def _lmdb_backup(database, server):
    """Only on LMDB, before a reindex: one that aborts deletes the data of
    the whole backend instead of leaving it as it was (389-ds-base-3.1.3
    db-mdb/mdb_import.c, dbmdb_public_dbmdb_import_main calls
    dbmdb_delete_instance_dir when the job fails; 389ds/389-ds-base#7539,
    whose fix is in no release up to 3.3.0). BerkeleyDB rebuilds the index
    alone (db-bdb/bdb_ldif2db.c, bdb_db2index). dsconf's backup create
    waits for its task, up to 120 s (lib389 cli_conf/backup.py
    backup_create -> tasks.py Task.wait, 2.3.1 and 3.1.2; --timeout only in
    later releases), and writes the archive under the instance's bak
    directory."""
    why = ('(it waits up to 120 s for its task: if it says the task has not '
           'completed, let the backup finish first; on LMDB a reindex that '
           'aborts deletes the data of the whole backend, '
           '389ds/389-ds-base#7539: then restore it with "dsconf %s backup '
           'restore <archive>")' % ds_instance(database))
    if server.backend != 'mdb' and server.version is not None and \
            server.version < LMDB_FIRST:
        return Fix()
    backup = '%s %s' % (command('dsconf', ds_instance(database), 'backup',
                                'create'), why)
    return _on_lmdb(server, lambda when: writes(backup, when=when))


def _vlv_reindex(repo, database):
    server = server_facts(database)
    fix = Fix()
    if lmdb_reindex_broken(server):
        fix += Fix(manual(
            'upgrade 389-DS first: on 389-DS %s with LMDB an explicit VLV '
            'reindex does not rebuild indices with hyphens in their names, as '
            'Dogtag\'s have (389ds/389-ds-base#6057, fixed in 2.5.2 and '
            '3.0.2)' % '.'.join(map(str, server.version))))
    return (fix + _lmdb_backup(database, server) +
            vlv_reindex_command(repo, database) +
            _lmdb_restart(database, server) + _restart(database))


vlv_reindex = refusable(_vlv_reindex)


@refusable
def vlv_recreate(repo, database):
    sub = repo.kind.subsystem
    version = _version(database)
    if version is None or version >= PKI_SERVER_VLV[sub]:
        add = writes('%s (it adds only the missing definitions)' % command(
            'pki-server', '%s-db-vlv-add' % sub, '-i', _instance(database)))
    else:
        add = writes('add the %s definitions from /usr/share/pki/%s/conf/'
                     'vlv.ldif (with {instanceId} and {database} filled in) '
                     'with ldapmodify -a' % (sub.upper(), sub))
    return Fix(add) + _vlv_reindex(repo, database)


@refusable
def vlv_edit(repo, database, attributes):
    """Make the definition match Dogtag's query. dsconf's edit-search changes
    only the vlvSearch entry (base, scope, filter); the sort order lives in
    the vlvIndex child, which dsconf can only delete and add again
    (389ds/389-ds-base src/lib389/lib389/cli_conf/backend.py). Those
    subcommands exist from 389-ds-base-1.4.0.20."""
    instance = ds_instance(database)
    name, backend = _vlv_name(repo), _backend(repo)
    version = server_facts(database).version
    if version is not None and version < DSCONF_INDEX:
        edit = Fix(writes(
            'with ldapmodify as Directory Manager, set vlvBase %s, vlvScope '
            '1 and vlvFilter %s on cn=%s,cn=%s,cn=ldbm database,cn=plugins,'
            'cn=config and vlvSort %s on its child cn=%sIndex (389-DS %s '
            'has no dsconf)' % (
                quote(dn(repo.container, 'the repository DN')),
                quote(word(repo.kind.lookup_filter.lower())), quote(name),
                quote(backend), quote(word(repo.kind.attribute)),
                quote(name), '.'.join(map(str, version)))))
        return edit + _vlv_reindex(repo, database)
    when = None if version is not None else 'on 389-DS 1.4.0.20 and later'
    edit = Fix()
    if set(attributes) & {'vlvBase', 'vlvScope', 'vlvFilter'}:
        edit += Fix(writes(command(
            'dsconf', instance, 'backend', 'vlv-index', 'edit-search',
            '--name', name, '--search-base',
            dn(repo.container, 'the repository DN'), '--search-scope', '1',
            '--search-filter', word(repo.kind.lookup_filter.lower()),
            backend), when=when))
        when = None
    if 'vlvSort' in attributes:
        edit += Fix(
            writes(command(
                'dsconf', instance, 'backend', 'vlv-index', 'del-index',
                '--parent-name', name, '--index-name', name + 'Index',
                backend), when=when),
            writes(command(
                'dsconf', instance, 'backend', 'vlv-index', 'add-index',
                '--parent-name', name, '--index-name', name + 'Index',
                '--sort', word(repo.kind.attribute), backend)))
    return edit + _vlv_reindex(repo, database)


def lookup_attributes(repo):
    """The attributes whose indices Dogtag's lookup reads: the number and,
    from PKI 11.6, the presence tests of its filter (certStatus,
    requestState, realm), whose indices 389-DS intersects first."""
    kind = repo.kind
    return [kind.attribute.lower()] + [
        a.lower() for a in kind.required + kind.excluded
        if a.lower() != kind.attribute.lower()]


def dsconf_index_waits(version):
    """Has `dsconf backend index reindex` a --wait option? From
    389-ds-base-1.4.0.22, 1.4.1.2 and 1.4.2.1 (absent in 1.4.0.21,
    1.4.1.1 and 1.4.2.0: lib389 cli_conf/backend.py)."""
    return version is not None and (
        version >= (1, 4, 2, 1) or (1, 4, 1, 2) <= version < (1, 4, 2) or
        (1, 4, 0, 22) <= version < (1, 4, 1))


def _index_reindex(database, backend, names):
    """Steps that rebuild attribute indices `names` and wait for the task:
    dsconf's --wait where the release has it, else the tool of the release
    followed by a wait step."""
    server = server_facts(database)
    version = server.version
    backup = _lmdb_backup(database, server)
    attrs = []
    for attribute in names:
        attrs += ['--attr', attribute]
    dsconf = ['dsconf', ds_instance(database), 'backend', 'index', 'reindex']
    if dsconf_index_waits(version):
        return backup + Fix(writes('%s (it waits for its task)' % command(
            *dsconf, *attrs, '--wait', backend)))
    db2index = ['db2index.pl', '-Z', _short(database), '-n', backend]
    for attribute in names:
        db2index += ['-t', attribute]
    db2index = Fix(writes('%s (it asks for the Directory Manager '
                          'password)' % command(*db2index, '-w', '-')))
    if version is None:
        reindex = Fix(writes(command(*dsconf, *attrs, backend),
                             when='on 389-DS 1.4.0.20 and later')) + \
            alternative(db2index, 'on 389-DS 1.3 (RHEL 7)')
    elif version >= DSCONF_INDEX:
        reindex = Fix(writes(command(*dsconf, *attrs, backend)))
    else:
        reindex = db2index
    return backup + reindex + wait_for_index_task(
        database, backend, 'nsIndexAttribute', names[0])


@refusable
def attribute_reindex(repo, database):
    """Rebuild the equality and presence indices of Dogtag's lookup, then
    restart the CA. No 389-DS restart: that concerns VLV lengths only."""
    return _index_reindex(database, _backend(repo),
                          lookup_attributes(repo)) + _restart(database)


def stale_index(repo, database, lookup):
    """Rebuild the index behind Dogtag's lookup (`lookup` as answered): the
    VLV index up to PKI 11.5, the equality index of the sorted search from
    11.6; a VLV lookup with no VLV definition (KRA keys) sorted in memory,
    so looking up again is all there is to do."""
    if lookup == 'vlv' and repo.vlv_name:
        return vlv_reindex(repo, database)
    if lookup == 'vlv':
        return restart(database)
    return attribute_reindex(repo, database)


# The operational attribute on the bind entry that sets, for that user
# only, the limit a limits.judge verdict names.
LIMIT_ATTRIBUTE = {'lookthrough': 'nsLookThroughLimit',
                   'pagedlookthrough': 'nsPagedLookThroughLimit',
                   'idlistscan': 'nsIDListScanLimit',
                   'pagedsize': 'nsPagedSizeLimit'}


@refusable
def limit_fix(database, repo, bind_dn, verdict, sorted_search):
    """Lift the limit that stops Dogtag's own lookup on its bind entry, or,
    for a VLV search that is not indexed, rebuild the index instead."""
    reason = verdict.reason
    if reason == 'lookthrough' and verdict.limit_name.startswith('paged'):
        reason = 'pagedlookthrough'
    attribute = LIMIT_ATTRIBUTE[reason]
    who = quote(dn(bind_dn, 'Dogtag\'s bind DN'))
    if reason == 'idlistscan':
        lift = writes('raise the ID-list scan limit for %s above %s: set %s '
                      'on it (ldapmodify as Directory Manager)' % (
                          who, number(verdict.candidates), attribute))
    else:
        lift = writes('set %s: -1 on %s (ldapmodify as Directory Manager)'
                      % (attribute, who))
    lift = Fix(lift) + _restart(database)
    if reason == 'lookthrough' and repo.vlv_name and not sorted_search:
        index = _vlv_reindex(repo, database)
        index.steps[0].when = ('rebuild the VLV index so that the search '
                               'is indexed')
        return index + alternative(lift, 'lift the limit')
    return lift


# The bind entry's own attribute that lifts, for PAGED searches only, the
# limit a limits.judge verdict names: 389-DS reads it before any other
# (389ds/389-ds-base back-ldbm/ldbm_search.c compute_lookthrough_limit,
# compute_allids_limit; slapd/opshared.c for the paged size limit). Set on
# the entry below the CA suffix, it replicates; cn=config does not.
PAGED_LIMIT_ATTRIBUTE = {'lookthrough': 'nsPagedLookThroughLimit',
                         'idlistscan': 'nsPagedIDListScanLimit',
                         'pagedsize': 'nsPagedSizeLimit'}
# A new 389-DS's own ID-list scan limit (ldbm_config.c, from 2.3.3).
NO_IDLISTSCAN = 2147483646


@refusable
def startup_limit_fix(database, bind_dn, verdict,
                      when='on one CA server, before the upgrade or the new '
                      'replica'):
    """Lift, on Dogtag's bind entry, the paged limit that stops one of
    Dogtag's paged searches (the sorted start-up lookup of PKI 11.6 and
    later, or its certificate status update)."""
    attribute = PAGED_LIMIT_ATTRIBUTE[verdict.reason]
    value = NO_IDLISTSCAN if verdict.reason == 'idlistscan' else -1
    value = number(value) if value >= 0 else '-1'
    change = ldapmodify(database.ldap_uri, [(dn(bind_dn, 'Dogtag\'s bind DN'), [
        (ldap.MOD_REPLACE, attribute, [value.encode()])])])
    return Fix(writes('%s (the entry replicates with the CA suffix, so every '
                      'CA server and every new replica gets it)' % change,
                      when=when))


# The plain limits of Dogtag's bind that stop the CA's certificate
# searches, sorted VLV requests with no paging (dogtag/limits.py).
PLAIN_LIMIT_ATTRIBUTE = {'plainlookthrough': 'nsLookThroughLimit',
                         'size': 'nsSizeLimit'}


@refusable
def search_limit_fix(database, bind_dn, verdict):
    """Lift, on Dogtag's bind entry, the plain limit that stops one of the
    CA's certificate searches (ipa cert-find, the agent's list)."""
    attribute = PLAIN_LIMIT_ATTRIBUTE[verdict.reason]
    change = ldapmodify(database.ldap_uri, [(dn(bind_dn, 'Dogtag\'s bind DN'), [
        (ldap.MOD_REPLACE, attribute, [b'-1'])])])
    return Fix(writes('%s (the entry replicates with the CA suffix, so every '
                      'CA server gets it)' % change, when='on one CA server'))


@refusable
def set_next_range(database, entry_dn, value):
    """Set nextRange on its entry over LDAPI."""
    change = ldapmodify(database.ldap_uri, [(entry_dn, [
        (ldap.MOD_REPLACE, 'nextRange', [number(value)])])])
    return Fix(reads(CLUSTER_REPORT),
               writes('%s (above every range allocated so far)' % change,
                      when='on one CA server'))


def removal_ldif(account, groups):
    """LDIF removing an account from its groups, then the account; raises
    Unsafe when a DN is not one."""
    return ldif_text([(group, [(ldap.MOD_DELETE, 'uniqueMember', [account])])
                      for group in groups] + [(account, None)])


@refusable
def account_removal(database, account, groups, install_host):
    """Remove a leftover account from its groups, then delete it."""
    records = [(group, [(ldap.MOD_DELETE, 'uniqueMember', [account])])
               for group in groups] + [(account, None)]
    return Fix(manual('make sure no install runs on %s (it uses the '
                      'account while it runs)' % quote(word(
                          install_host, 'the install host'))),
               writes(ldapmodify(database.ldap_uri, records)))


@refusable
def stale_sessions(database, dns):
    """Delete security-domain sessions no domain manager expires."""
    return Fix(manual('check that the CAs marked DomainManager TRUE in the '
                      'security domain run: they expire sessions on a '
                      'timer'),
               writes(command('ldapdelete', '-Y', 'EXTERNAL', '-H',
                              word(database.ldap_uri, 'the LDAP URI'),
                              *[dn(d, 'a session DN') for d in dns])))


@refusable
def cs_cfg_edit(database, edit, subsystem='ca'):
    """Stop the PKI instance, edit its CS.cfg, start it again: Dogtag
    rewrites CS.cfg from memory, so an edit made while it runs is lost."""
    unit = 'pki-tomcatd@%s.service' % _instance(database)
    outage = 'an outage of this PKI instance: its CA and KRA'
    return Fix(
        Step(command('systemctl', 'stop', unit), RESTARTS, service=unit,
             outage=outage),
        manual(edit),
        Step(command('systemctl', 'start', unit), RESTARTS, service=unit,
             outage=outage))


CLUSTER_REPORT = ('compare every server\'s ranges in the cluster report: '
                  'dogtag-clustercheck <a directory holding every CA '
                  'server\'s healthcheck JSON>')


@refusable
def range_conflict(database, conflict_dn):
    """Two servers allocated one range: keep it on one, then drop the
    replication conflict entry."""
    unit = 'pki-tomcatd@%s.service' % _instance(database)
    return Fix(
        reads(CLUSTER_REPORT),
        Step('stop the CA (%s)' % command('systemctl', 'stop', unit),
             RESTARTS, service=unit, when='on every server holding that '
             'range but one', outage='an outage of that PKI instance'),
        manual('give each of them a fresh range above nextRange in its '
               'CS.cfg, then start it again'),
        writes(command('ldapdelete', '-Y', 'EXTERNAL', '-H',
                       word(database.ldap_uri, 'the LDAP URI'),
                       dn(conflict_dn, 'the conflict entry DN'))))


def new_clones_elsewhere():
    return Fix(manual('create new clones from another CA server'))


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
    fix = Fix(writes(command(
        'dsconf', ds_instance(database), 'repl-agmt', 'delete', '--suffix',
        _suffix(database), _agreement_name(agreement))))
    if cleanruv:
        fix += Fix(writes('clean its replica ID from the RUV with %s '
                          '--replica-id <id>' % command(
                              'dsconf', ds_instance(database), 'repl-tasks',
                              'cleanallruv', '--suffix', _suffix(database))))
    return fix


agreement_delete = refusable(_agreement_delete)


@refusable
def agreement_enable(database, topology, agreement):
    peer = quote(_peer(agreement))
    return Fix(writes(
        command('dsconf', ds_instance(database), 'repl-agmt', 'enable',
                '--suffix', _suffix(database), _agreement_name(agreement)),
        when='if %s should still replicate' % peer)) + alternative(
            _remove_agreement(database, topology, agreement),
            'if not, remove it')


def _restart_local(database, topology, why):
    return _dirsrv_restart(database, 'on %s: %s' % (
        quote(_local(topology)), why))


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
        return Fix(writes(command('ipa', 'topologysegment-del', 'ca',
                                  word(segment, 'the segment name'))))
    if agreement.marked:
        # At start the plugin deletes a marked agreement that has no
        # segment (topology_util.c ipa_topo_util_update_agmt_list).
        return Fix(_restart_local(
            database, topology, 'at start the topology plugin deletes a '
            'managed agreement that has no segment'))
    # An unmarked one it adopts at start, with an "autogen" segment
    # <local>-to-<peer> (ipa_topo_util_segm_from_agmt), which IPA can
    # then remove.
    name = '%s-to-%s' % (_local(topology), _peer(agreement).lower())
    return Fix(
        _restart_local(database, topology, 'at start the topology plugin '
                       'adopts the agreement as segment %s' % quote(name)),
        writes(command('ipa', 'topologysegment-del', 'ca', name)))


remove_agreement = refusable(_remove_agreement)


@refusable
def removed_server(database, topology, agreement):
    return Fix(writes('%s removes what a removed server left behind' %
                      command('ipa-replica-manage', 'del', _peer(agreement),
                              '--force', '--cleanup'))) + alternative(
        _remove_agreement(database, topology, agreement),
        'if the agreement is still there afterwards', instead=False)


@refusable
def unfinished_ca_install(topology, agreement):
    peer = _peer(agreement)
    return Fix(manual(
        'if an install is running on %s, wait for it to finish; if not, '
        'read its /var/log/ipareplica-install.log or '
        '/var/log/ipareplica-ca-install.log and run the install again '
        '(ipa-ca-install on %s), or retire the server with %s' % (
            quote(peer), quote(peer),
            command('ipa-replica-manage', 'del', peer, '--force',
                    '--cleanup'))))


@refusable
def segment_missing(database, topology, agreement):
    """Domain level 1, no CA segment joins this server and the peer."""
    local, peer = _local(topology), _peer(agreement).lower()
    name = '%s-to-%s' % (local, peer)
    if agreement.marked:
        return Fix(
            _restart_local(database, topology, 'at start the topology '
                           'plugin deletes a managed agreement that has no '
                           'segment'),
            writes(command('ipa', 'topologysegment-add', 'ca', name,
                           '--leftnode=' + local, '--rightnode=' + peer),
                   when='if %s and %s should replicate the CA directly'
                   % (quote(local), quote(peer))))
    # Not `ipa topologysegment-add` beside it: the plugin would add a
    # second agreement cn=<local>-to-<peer> to the same host
    # (topology_post.c ipa_topo_post_add, topology_agmt.c
    # ipa_topo_agmt_setup); at start it adopts this one instead.
    return Fix(
        _restart_local(database, topology, 'at start the topology plugin '
                       'adopts the agreement and records segment %s (do not '
                       'run ipa topologysegment-add beside it: that adds a '
                       'second agreement to %s)' % (quote(name), quote(peer))),
        writes(command('ipa', 'topologysegment-del', 'ca', name),
               when='if %s and %s should not replicate the CA directly'
               % (quote(local), quote(peer))))


@refusable
def unreachable_peer(database, topology, agreement):
    peer = _peer(agreement)
    if topology.ipa:
        retire = Fix(writes(
            command('ipa', 'server-del', peer) if topology.managed_topology
            else command('ipa-replica-manage', 'del', peer)))
        status = command('ipa-csreplica-manage', 'list', '-v',
                         _local(topology))
    else:
        retire = _agreement_delete(database, agreement, cleanruv=True)
        status = command('dsconf', ds_instance(database), 'repl-agmt',
                         'status', '--suffix', _suffix(database),
                         _agreement_name(agreement))
    return Fix(
        reads('%s shows the detail' % status),
        manual('make sure 389-DS runs on %s and answers on port %s from '
               'this server' % (quote(peer), quote(number(
                   agreement.port, 'the agreement\'s port'))))) + \
        alternative(retire, 'if %s is retired for good' % quote(peer))


@refusable
def clean_ruv(database, topology, suffix, rid):
    if topology.ipa:
        return Fix(writes('ipa-replica-manage clean-dangling-ruv (or %s)'
                          % command('ipa-replica-manage', 'clean-ruv',
                                    number(rid))))
    return Fix(writes(command(
        'dsconf', ds_instance(database), 'repl-tasks', 'cleanallruv',
        '--suffix', dn(suffix, 'the CA suffix'), '--replica-id',
        number(rid))))


@refusable
def one_level_reindex(repo, database):
    """Rebuild the indices a one-level search of the container starts from
    (parentid, and ancestorid, which 389-DS's index task accepts by name:
    389-ds-base 2.3.1 and 3.1.2 bdb_ldif2db.c, bdb_db2index) with those of
    Dogtag's lookup, then restart the CA so that it looks up again. 389-DS
    3.2.1 added `dsctl <inst> index-check` (lib389 cli_ctl/dbtasks.py),
    which reads the database files offline."""
    version = server_facts(database).version
    fix = _index_reindex(database, _backend(repo),
                         ['parentid', 'ancestorid'] +
                         lookup_attributes(repo)) + _restart(database)
    if version is None or version >= (3, 2, 1):
        fix += Fix(manual(
            '%s shows any index whose order does not match its matching '
            'rule (it reads the database files, so only while 389-DS is '
            'stopped)' % command('dsctl', ds_instance(database),
                                 'index-check', _backend(repo)),
            when='optionally, on 389-DS 3.2.1 and later'))
    return fix


# The grant pkispawn gives Dogtag's bind (dogtagpki/pki v11.5.0
# base/server/database/ds/db-access-grant.ldif).
VLV_GRANT = ('(targetattr = "*")(version 3.0; acl "Cert Manager access for '
             'VLV searches"; allow (read) userdn="ldap:///%s";)')


@refusable
def vlv_access_grant(database, bind_dn):
    records = [('cn=ldbm database,cn=plugins,cn=config', [
        (ldap.MOD_ADD, 'aci', [VLV_GRANT % dn(bind_dn, 'Dogtag\'s bind')])])]
    return Fix(writes(ldapmodify(database.ldap_uri, records))) + \
        _restart(database)


# -- range bookkeeping (dogtag.ranges, DTR0300-DTR0399) ------------------------

def _range_edit(database, cs_cfg, what):
    """Stop the PKI instance, edit the subsystem's CS.cfg, start it."""
    return cs_cfg_edit(database, 'in %s, %s' % (quote(cs_cfg or 'CS.cfg'),
                                                what))


@refusable
def active_range_restore(database, cs_cfg):
    return _range_edit(database, cs_cfg, 'restore the dbs.begin*/dbs.end* '
                       'values from CS.cfg.bak or from the range this server '
                       'was given')


@refusable
def replica_id_range_restore(database, cs_cfg):
    return new_clones_elsewhere() + alternative(_range_edit(
        database, cs_cfg, 'restore dbs.beginReplicaNumber and '
        'dbs.endReplicaNumber from CS.cfg.bak'), None)


@refusable
def standby_range_reset(database, cs_cfg):
    return _range_edit(database, cs_cfg, 'remove the dbs.next* values of '
                       'this range so that Dogtag allocates a new standby '
                       'range from nextRange')


@refusable
def range_allocation_retry(database):
    """Serial management is on, yet no range came: Dogtag logs why, and
    tries again at its start (checkRanges at start-up, CMSEngine v10.5.18;
    CAEngine / KRAEngine v11.5.0)."""
    unit = 'pki-tomcatd@%s.service' % _instance(database)
    return Fix(reads('look for range errors in the CA debug log'),
               Step(command('systemctl', 'restart', unit), RESTARTS,
                    service=unit, outage='an outage of this PKI instance: '
                    'its CA and KRA'))


@refusable
def serial_management_on(database, cs_cfg):
    return _range_edit(database, cs_cfg, 'set '
                       'dbs.enableSerialManagement=true') + alternative(
        Fix(manual('plan a new range for this server, above nextRange')),
        None)


@refusable
def transfer_size_set(database, cs_cfg, prop):
    return _range_edit(database, cs_cfg, 'set %s as pkispawn does (5 for '
                       'replica IDs, 10000 otherwise)'
                       % quote(word(prop, 'the property')))


@refusable
def clone_standby_small(database, cs_cfg):
    return new_clones_elsewhere() + alternative(_range_edit(
        database, cs_cfg, 'remove the dbs.next* values so that Dogtag '
        'allocates a full standby range from nextRange'), None)


@refusable
def clone_no_standby(database, cs_cfg):
    return new_clones_elsewhere() + alternative(_range_edit(
        database, cs_cfg, 'let this server get a standby range first: set '
        'dbs.enableSerialManagement=true'), None)


@refusable
def next_range_align(database, entry_dn, value, installer_dn):
    """nextRange where Dogtag reads it, and the same value where the
    installer wrote it (legacy2 KRA keys)."""
    return set_next_range(database, entry_dn, value) + Fix(writes(
        'set the same value on %s' % quote(dn(installer_dn,
                                              'the installer\'s entry'))))


def range_overlap():
    return Fix(reads(CLUSTER_REPORT),
               manual('stop issuing on one of them and give it a fresh '
                      'range above nextRange'))


# -- replication and accounts: builders the catalog of findings names --------

@refusable
def ruv_of_unfinished_install(database, topology, suffix, rid, install_host):
    """Clean the replica ID of a CA install only once no install runs:
    cleaning it under a running install breaks the install."""
    where = quote(host(install_host, 'the RUV element\'s host'))
    return Fix(manual('make sure no CA install runs on %s (wait for one '
                      'that does to finish)' % where)) + alternative(
        clean_ruv.__wrapped__(database, topology, suffix, rid),
        'if the install was abandoned', instead=False)


# -- dogtag.indices ----------------------------------------------------------

def _vlv_reindex_named(database, backend, search, index):
    """Rebuild one VLV index by its vlvSearch name and wait for the task
    (dsconf: LMDB needs 389-DS 2.x or later, which has it), then the LMDB
    restart rule of _lmdb_restart."""
    backend = word(backend, 'the backend name')
    fix = _lmdb_backup(database, server_facts(database)) + Fix(writes(command(
        'dsconf', ds_instance(database), 'backend', 'vlv-index', 'reindex',
        '--parent-name', word(search, 'the VLV search name'), backend)))
    return fix + wait_for_index_task(
        database, backend, 'nsIndexVLVAttribute',
        word(index, 'the VLV index name')) + \
        _lmdb_restart(database, server_facts(database))


@refusable
def index_build(database, backend, index):
    """Build an index that has no LMDB database: an attribute index with
    the index task of the release (and its wait), a VLV index with dsconf
    and the LMDB restart rule. `index` is a dogtag.indices.Index."""
    if index.kind == 'vlv':
        return _vlv_reindex_named(database, backend, index.search,
                                  index.name)
    return _index_reindex(database, word(backend, 'the backend name'),
                          [word(index.name, 'the attribute index name')])


@refusable
def crl_index_add(database):
    """What PKI's 11.9 upgrade notes say to run when the CRL index is
    missing (dogtagpki/pki v11.9.0 docs/changes/v11.9.0/Server-Changes.adoc):
    ca-db-vlv-add adds the missing definitions (with this CA's subject in
    the filter: SubsystemDBVLVAddCLI), ca-db-vlv-reindex rebuilds every CA
    VLV index and waits for its task; then the LMDB restart rule."""
    instance = _instance(database)
    server = server_facts(database)
    return Fix(
        writes('%s (it adds only the missing definitions)' % command(
            'pki-server', 'ca-db-vlv-add', '-i', instance))) + \
        _lmdb_backup(database, server) + Fix(
        writes('%s (it waits for its task; on a large database it takes '
               'long)' % command('pki-server', 'ca-db-vlv-reindex', '-i',
                                 instance))) + \
        _lmdb_restart(database, server)


@refusable
def crl_index_reindex(database, backend, search):
    return _vlv_reindex_named(database, backend, search, search + 'Index')


@refusable
def crl_index_edit(database, backend, search, container, wanted_filter,
                   attributes):
    """Make the CRL VLV definition match the CA's search (dsconf, as
    vlv_edit), then rebuild it."""
    instance = ds_instance(database)
    name, backend = word(search, 'the VLV search name'), \
        word(backend, 'the backend name')
    fix = Fix()
    if set(attributes) & {'vlvBase', 'vlvScope', 'vlvFilter'}:
        fix += Fix(writes(command(
            'dsconf', instance, 'backend', 'vlv-index', 'edit-search',
            '--name', name, '--search-base',
            dn(container, 'the repository DN'), '--search-scope', '1',
            '--search-filter', word(wanted_filter, 'the VLV filter'),
            backend)))
    if 'vlvSort' in attributes:
        fix += Fix(
            writes(command(
                'dsconf', instance, 'backend', 'vlv-index', 'del-index',
                '--parent-name', name, '--index-name', name + 'Index',
                backend)),
            writes(command(
                'dsconf', instance, 'backend', 'vlv-index', 'add-index',
                '--parent-name', name, '--index-name', name + 'Index',
                '--sort', 'serialno', backend)))
    return fix + _vlv_reindex_named(database, backend, name, name + 'Index')


@refusable
def ds_upgrade(current, fixed, issues):
    """Upgrade 389-DS to the first release of its line that carries a fix
    (the releases: dogtag/advisories.py). Distribution packages may carry
    the fix in an older version: their changelog names the issue."""
    return Fix(manual(
        'upgrade 389-ds-base from %s to %s or later, or to a distribution '
        'build whose changelog names %s, and restart it' % (
            word(current, 'the 389-DS version'),
            word(fixed, 'the fixed release'), word(issues, 'the issue'))))


@refusable
def range_end_to_record(database, cs_cfg, prop, value):
    """Bring the active range's end back to what its range record reserves
    (checks/ranges/bookkeeping.py RangeRecordCheck)."""
    return Fix(reads(
        'first compare with the last number this server issued '
        '(LastNumberCheck): if it is above the record\'s end already, do not '
        'lower the end; make sure nextRange is above it instead '
        '(NextRangeCheck)')) + _range_edit(
        database, cs_cfg, 'set %s=%s, the end its range record reserves' % (
            quote(word(prop, 'the property')),
            quote(word(value, 'the value'))))


# -- leftovers of removed servers (dogtag.topology, DTR0800-DTR0849) ----------

# `pki-server sd-subsystem-del <TYPE host port>` exists from v11.4.0 and
# deletes the entry over LDAP itself (dogtagpki/pki base/server/python/pki/
# server/cli/sd.py SDSubsystemRemoveCLI -> Java SDSubsystemRemoveCLI); from
# v11.9.0 it is deprecated for `pki-server ca-sd-subsystem-del`.
PKI_SERVER_SD_DEL = (11, 4)
PKI_SERVER_CA_SD_DEL = (11, 9)
# `pki securitydomain-host-del <TYPE host port>` (REST, as a security-domain
# administrator) exists from v10.9.0 (base/java-tools/.../system/
# SecurityDomainHostRemoveCLI.java); the server's removeHost also deletes
# uid=<TYPE>-<host>-<port> and its Subsystem Group membership
# (SecurityDomainProcessor.removeHost, v10.10.0).
PKI_SD_HOST_DEL = (10, 9)


@refusable
def sd_subsystem_del(database, kind, host_name, port, entry_dn):
    """Remove one security-domain registration with the tool of the PKI
    version found; ldapdelete of the entry where none exists."""
    subsystem_id = '%s %s %s' % (word(kind, 'the subsystem type'),
                                 host(host_name, 'the registered host'),
                                 number(port, 'the registered port'))
    version = _version(database)
    ldapdelete = Fix(writes(command(
        'ldapdelete', '-Y', 'EXTERNAL', '-H',
        word(database.ldap_uri, 'the LDAP URI'),
        dn(entry_dn, 'the security-domain entry'))))
    if version is not None and version >= PKI_SERVER_CA_SD_DEL:
        return Fix(writes(command('pki-server', 'ca-sd-subsystem-del', '-i',
                                  _instance(database), subsystem_id)))
    if version is not None and version >= PKI_SERVER_SD_DEL:
        return Fix(writes(command('pki-server', 'sd-subsystem-del', '-i',
                                  _instance(database), subsystem_id)))
    if version is not None and version >= PKI_SD_HOST_DEL:
        return Fix(writes('%s (as a security-domain administrator, e.g. '
                          'with -n and the admin certificate)' % command(
                              'pki', 'securitydomain-host-del',
                              subsystem_id))) + \
            alternative(ldapdelete, 'if the CA is not running')
    if version is None:
        return Fix(writes(command('pki-server', 'sd-subsystem-del', '-i',
                                  _instance(database), subsystem_id),
                          when='on PKI 11.4 and later')) + \
            alternative(ldapdelete, 'on older PKI')
    return ldapdelete


@refusable
def subsystem_user_removal(database, account, groups):
    """Drop a removed server's subsystem user from its groups, then the
    user (Subsystem Group membership first, as removeHost does)."""
    records = [(group, [(ldap.MOD_DELETE, 'uniqueMember', [account])])
               for group in groups] + [(account, None)]
    return Fix(writes(ldapmodify(database.ldap_uri, records)))


@refusable
def sd_host_set(database, cs_cfg, suggested):
    """Point securitydomain.host at a current domain manager."""
    where = quote(word(cs_cfg, 'the CS.cfg path'))
    if suggested is None:
        return cs_cfg_edit(database, 'in %s, set securitydomain.host to a '
                           'CA marked DomainManager TRUE in the security '
                           'domain' % where)
    return cs_cfg_edit(database, 'in %s, set securitydomain.host=%s' % (
        where, host(suggested, 'the suggested host')))


@refusable
def transport_cert_update(database, ca_cfg, reference_where):
    """Copy the KRA's current transport certificate into the CA's
    connector, as freeipa's renewal does since 886722364 (pagure 9692)."""
    return cs_cfg_edit(database, 'in %s, set ca.connector.KRA.transportCert '
                       'to the base64 DER of the current KRA transport '
                       'certificate (from %s, one line, no PEM headers)' % (
                           quote(word(ca_cfg, 'the CA CS.cfg path')),
                           quote(word(reference_where, 'the reference'))))


@refusable
def clean_incomplete_ruv(database, topology, suffix, rid):
    """An RUV element without a replica URL: ipa-replica-manage accepts it
    from freeipa/freeipa release-4-12-0 (install/tools/ipa-replica-manage.in
    get_ruv strict=False, pagure 9591); before, only 389-DS's own task
    cleans it. `--force-cleaning` (lib389 cli_conf/replication.py, from
    389-ds-base-1.4.0.20) cleans even when a replica is not reachable."""
    task = Fix(writes(command(
        'dsconf', ds_instance(database), 'repl-tasks', 'cleanallruv',
        '--suffix', dn(suffix, 'the CA suffix'), '--replica-id', number(rid),
        '--force-cleaning')))
    if not topology.ipa:
        return task
    return Fix(writes(command('ipa-replica-manage', 'clean-ruv', number(rid),
                              '--force'),
                      when='with IPA 4.12.0 or later')) + alternative(
        task, 'with an older IPA, whose ipa-replica-manage cannot decode '
        'the element')


@refusable
def unfinished_role(install_host, role, managed_topology):
    """A CA or KRA role left configuredService: make sure no install runs,
    then finish the install or retire the server. Removing a server with a
    configured role works from freeipa/freeipa release-4-8-0 (servroles.py
    counts configured servers as role providers, pagure 7929)."""
    where = host(install_host, 'the server name')
    install = 'ipa-ca-install' if role == 'CA' else 'ipa-kra-install'
    retire = command('ipa', 'server-del', where) if managed_topology \
        else command('ipa-replica-manage', 'del', where, '--force',
                     '--cleanup')
    return Fix(
        manual('make sure no install runs on %s (ipa-replica-install, %s): '
               'wait for one that does to finish' % (quote(where), install)),
        reads('on %s, read /var/log/ipareplica-install.log or %s' % (
            quote(where), '/var/log/ipareplica-ca-install.log'
            if role == 'CA' else '/var/log/ipaserver-kra-install.log')),
        manual('run %s on %s again to finish it' % (install, quote(where)))
    ) + alternative(Fix(writes(retire)), 'if that server is retired',
                    instead=False)


def too_many_agreements(limit):
    return Fix(
        reads('ipa topologysuffix-verify domain; ipa topologysuffix-verify '
              'ca (list the servers above %d agreements)' % int(limit)),
        manual('remove segments so that each server replicates with at '
               'most %d others, keeping every server connected: '
               'ipa topologysegment-del <suffix> <segment>' % int(limit)))
