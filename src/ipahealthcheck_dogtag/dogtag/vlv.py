"""389-DS VLV definitions (cn=config) and how they must look for Dogtag.

389-DS serves a VLV request from an index only when the request's base,
scope, filter (compared as a case-insensitive string) and sort keys equal a
vlvSearch/vlvIndex pair of the backend; otherwise it sorts every candidate
in memory. VLV definitions are not replicated: each server has its own.
"""

from ipahealthcheck_dogtag.directory import DirectoryError
from ipahealthcheck_dogtag.dogtag.repositories import normalize_dn


class Definition:
    def __init__(self, name, search, index, dn=None):
        self.name = name
        self.dn = dn                # the vlvSearch entry's
        self.base = _first(search, 'vlvbase')
        self.scope = _first(search, 'vlvscope')
        self.filter = _first(search, 'vlvfilter')
        self.sort = _first(index, 'vlvsort') if index else None
        self.enabled = _first(index, 'vlvenabled') if index else None
        self.uses = _first(index, 'vlvuses') if index else None
        self.has_index = index is not None
        self.index_name = _first(index, 'cn') if index else None

    @property
    def database(self):
        """The index's database name: "vlv#" and the vlvIndex cn's ASCII
        letters and digits, lower-cased (389-DS vlv_srch.c:
        vlvIndex_createfilename in 2.3.1, vlvIndex_build_filename in 3.x)."""
        if not self.index_name:
            return None
        return 'vlv#' + ''.join(c.lower() for c in self.index_name
                                if c.isascii() and c.isalnum())

    @property
    def built(self):
        return self.enabled == '1'

    def mismatches(self, repo):
        """What differs from the query Dogtag sends for `repo`'s range."""
        return [text for _, text in self._differences(repo)]

    def mismatched_attributes(self, repo):
        return [attr for attr, _ in self._differences(repo)]

    def _differences(self, repo):
        wanted = {
            'vlvBase': (normalize_dn(repo.container),
                        normalize_dn(self.base or '')),
            'vlvScope': ('1', (self.scope or '').strip()),
            'vlvFilter': (repo.kind.lookup_filter.lower(),
                          (self.filter or '').strip().lower()),
            'vlvSort': (repo.kind.attribute.lower(),
                        (self.sort or '').strip().lower()),
        }
        return [(attr, '%s is %s, expected %s' % (attr, found or 'missing',
                                                  want))
                for attr, (want, found) in wanted.items() if want != found]


def _first(attrs, name):
    values = attrs.get(name)
    return values[0].decode('utf-8', 'replace') if values else None


def read_definitions(directory, backend):
    """{lower-cased search name: Definition} for one backend."""
    base = 'cn=%s,cn=ldbm database,cn=plugins,cn=config' % backend
    entries, _ = directory.search(
        base, '(|(objectClass=vlvSearch)(objectClass=vlvIndex))',
        ['objectClass', 'cn', 'vlvBase', 'vlvScope', 'vlvFilter', 'vlvSort',
         'vlvEnabled', 'vlvUses'])
    searches, indexes = {}, {}
    for dn, attrs in entries:
        classes = {c.lower() for c in attrs.get('objectclass', [])}
        if b'vlvsearch' in classes:
            searches[normalize_dn(dn)] = attrs
        elif b'vlvindex' in classes:
            parent = normalize_dn(dn).split(',', 1)[1]
            indexes.setdefault(parent, attrs)
    found = {}
    for dn, attrs in searches.items():
        name = _first(attrs, 'cn') or dn
        found[name.lower()] = Definition(name, attrs, indexes.get(dn), dn)
    return found


class LMDBStat:
    """One database of an LMDB backend as its monitor shows it."""

    def __init__(self, flags, entries):
        self.flags = flags          # e.g. {'OPEN', 'DIRTY'}
        self.entries = entries      # items on disk, None if not open

    @property
    def dirty(self):
        """Being rebuilt, or a rebuild that did not finish: 389-DS will not
        open it for a search (389-ds-base 3.1.2 db-mdb/mdb_instance.c,
        dbmdb_open_dbi_from_filename refuses a DIRTY dbi)."""
        return 'DIRTY' in self.flags


def lmdb_stats(directory, backend):
    """{database name: LMDBStat} of an LMDB backend, or None when the
    backend is not on LMDB or its monitor cannot be read (no claim about
    LMDB then). Only the LMDB monitor of a backend lists its databases, as
    dbiName-<n>, "<backend>/<name>.db" (the BerkeleyDB one lists files,
    dbFilename-<n>); names are kept lower-cased without the backend and
    ".db". The monitor gives for database <n> dbiName-<n>,
    dbiFlags-<n> (OPEN, DIRTY, ...) and, when open, dbiEntries-<n> (LMDB's
    ms_entries: the items on disk) (389-ds-base 3.1.2
    db-mdb/mdb_monitor.c, dbmdb_monitor_instance_search)."""
    try:
        attrs = directory.entry(
            'cn=monitor,cn=%s,cn=ldbm database,cn=plugins,cn=config'
            % backend, ['*'])
    except DirectoryError:
        return None
    attrs = attrs or {}
    found = {}
    for key, values in attrs.items():
        if not key.startswith('dbiname-') or not values:
            continue
        n = key[len('dbiname-'):]
        name = values[0].decode('utf-8', 'replace')
        name = name.split('/', 1)[-1].lower().rsplit('.db', 1)[0]
        flags = {v.decode('utf-8', 'replace').upper()
                 for v in attrs.get('dbiflags-' + n, [])}
        entries = attrs.get('dbientries-' + n)
        try:
            entries = int(entries[0]) if entries else None
        except ValueError:
            entries = None
        found[name] = LMDBStat(flags, entries)
    return found or None


def lmdb_databases(directory, backend):
    """The names of the databases 389-DS has registered for an LMDB
    backend, open or not, or None when the backend is not on LMDB (or its
    monitor cannot be read): the names of `lmdb_stats`."""
    stats = lmdb_stats(directory, backend)
    return None if stats is None else set(stats)


def may_use(directory, definition, bind_dn):
    """Can `bind_dn` have a VLV request served by this definition? 389-DS
    serves it only if the bind may read the vlvSearch entry's cn
    (389-ds-base 2.3.1 and 3.2.2 vlv_srch.c, vlvSearch_accessallowed, read
    on type_vlvName "cn"); else the search fails with error 50 (vlv.c,
    VLV_ACCESS_DENIED; dogtagpki/pki#4717). Returns (allowed or None when
    unknown, rights)."""
    rights = directory.effective_rights(definition.dn, bind_dn, 'cn')
    if rights is None:
        return None, None
    return 'r' in rights, rights
