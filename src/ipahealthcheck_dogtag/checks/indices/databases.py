"""Have the indices of the CA backends been built? (LMDB databases; the
CRL VLV index of PKI 11.9.)"""

import ldap

from ipahealthcheck_dogtag.checks.plugin import DogtagCheck, registry
from ipahealthcheck_dogtag.directory import DirectoryError
from ipahealthcheck_dogtag.dogtag import fixes, indices, vlv
from ipahealthcheck_dogtag.dogtag.repositories import (
    Repository, repositories)
from ipahealthcheck_dogtag.findings import indices as F


def backends(database):
    """The backends of the subsystems configured on this host (CS.cfg
    internaldb.database: `ipaca` in IPA, e.g. `ca` and `kra` standalone),
    in a stable order."""
    return sorted({sub.database for sub in database.subsystems.values()})


def judged_elsewhere(database):
    """VLV indices another check judges on LMDB: the range indices of the
    sequential repositories (VLVIndexCheck), and the CRL index from PKI
    11.9 (CRLIndexCheck)."""
    names = set()
    for _, repo in repositories(database):
        if isinstance(repo, Repository) and repo.sequential and \
                repo.vlv_name:
            names.add(repo.vlv_name.lower())
    ca = database.subsystem('ca')
    if ca is not None and indices.crl_applies(database.pki_version):
        names.add(indices.crl_index_name(
            ca.get('instanceId') or database.instance_id).lower())
    return names


def _search_of(index):
    return (index.search or '').lower()


@registry
class IndexDatabaseCheck(DogtagCheck):
    """Has every index of the CA backends its LMDB database?"""

    def check_database(self, database, deadline):
        skipped = judged_elsewhere(database)
        server = self.context.server_facts()
        for backend in backends(database):
            yield from self.check_backend(database, backend, server, skipped)

    def check_backend(self, database, backend, server, skipped):
        if server.backend == 'bdb':
            yield self.finding(F.BDB, backend, backend=backend,
                               db_lib='bdb')
            return
        if server.backend is None:
            yield self.finding(F.UNREADABLE, backend, backend=backend,
                               error=server.problem)
            return
        directory = self.context.directory()
        try:
            defined = [i for i in indices.read_indices(directory, backend)
                       if _search_of(i) not in skipped]
            stats = vlv.lmdb_stats(directory, backend)
        except DirectoryError as e:
            if e.connection:
                raise
            yield self.finding(F.UNREADABLE, backend, backend=backend,
                               error=e.error)
            return
        if stats is None:
            yield self.finding(
                F.UNREADABLE, backend, backend=backend,
                error='its LMDB monitor lists no database')
            return
        last = max(stats, key=indices._order)
        faults = 0
        for index in defined:
            verdict = indices.database_verdict(index, stats)
            if verdict == 'present':
                continue
            faults += 1
            facts = dict(index=index.name, kind=index.kind, backend=backend,
                         database_name=index.database, db_lib='mdb',
                         fix=fixes.index_build(database, backend, index))
            key = '%s:%s' % (backend, index.name)
            if verdict == 'missing':
                yield self.finding(F.NO_DATABASE, key, **facts)
            else:
                yield self.finding(F.UNLISTED, key, last_listed=last,
                                   **facts)
        if not faults:
            yield self.finding(F.DATABASES_PRESENT, backend,
                               backend=backend, indices=len(defined),
                               db_lib='mdb')


@registry
class CRLIndexCheck(DogtagCheck):
    """Is the CRL VLV index of PKI 11.9 there, built, and for this CA?"""

    def check_database(self, database, deadline):
        ca = database.subsystem('ca')
        instance = ca.get('instanceId') or database.instance_id
        name = indices.crl_index_name(instance)
        backend = ca.database
        facts = dict(index=name, backend=backend,
                     pki_version=database.pki_version_text)
        if database.pki_version is None:
            yield self.finding(F.CRL_VERSION_UNKNOWN, name, index=name,
                               backend=backend)
            return
        if not indices.crl_applies(database.pki_version):
            yield self.finding(F.CRL_NOT_EXPECTED, name, **facts)
            return
        definitions = self.context.vlv_definitions(backend)
        if not indices.vlv_in_use(definitions, instance):
            yield self.finding(F.CRL_VLV_UNUSED, name, **facts)
            return
        definition = definitions.get(name.lower())
        if definition is None or not definition.has_index:
            yield self.finding(F.CRL_MISSING, name,
                               fix=fixes.crl_index_add(database), **facts)
            return
        server = self.context.server_facts()
        facts['db_lib'] = server.backend or 'unknown'
        stat = None
        if server.backend == 'mdb':
            stats = vlv.lmdb_stats(self.context.directory(), backend) or {}
            stat = stats.get(definition.database)
            if stats and indices.database_verdict(
                    indices.Index(indices.VLV, definition.index_name),
                    stats) == 'missing':
                yield self.finding(
                    F.CRL_NO_DATABASE, name,
                    fix=fixes.crl_index_reindex(database, backend,
                                                definition.name), **facts)
                return
        container = '%s,%s' % (indices.CRL_BASE_RDN, ca.basedn)
        authorities = 'ou=authorities,ou=ca,%s' % ca.basedn
        nickname = ca.get('ca.signing.nickname')
        issuer, seen = indices.host_authority(
            self.context.directory(), ca.basedn, nickname)
        if issuer is None:
            yield self.finding(F.CRL_ISSUER_UNKNOWN, name,
                               authorities=authorities, nickname=nickname,
                               entries=seen, **facts)
            return
        wrong = indices.crl_mismatches(definition, container, issuer)
        if wrong:
            yield self.finding(
                F.CRL_MISMATCH, name, issuer_dn=issuer,
                mismatches=[text for _, text in wrong],
                filter_issuer=indices.filter_issuer(definition),
                fix=fixes.crl_index_edit(
                    database, backend, definition.name, container,
                    indices.crl_filter(issuer), [a for a, _ in wrong]),
                **facts)
            return
        unbuilt = self.unbuilt(definition, stat, container, issuer, facts)
        if unbuilt:
            yield self.finding(
                F.CRL_UNBUILT, name,
                fix=fixes.crl_index_reindex(database, backend,
                                            definition.name), **facts)
            return
        yield self.finding(F.CRL_OK, name, issuer_dn=issuer, **facts)

    def unbuilt(self, definition, stat, container, issuer, facts):
        """BerkeleyDB: vlvEnabled is not 1. LMDB (where vlvEnabled stays 0
        after an online rebuild until the first matching search, see
        checks/ranges/last_number.py built_on_lmdb): the database is
        DIRTY, or holds fewer items than the records it must index."""
        if stat is None:
            return not definition.built
        records, _ = self.context.directory().search(
            container, indices.crl_records_filter(issuer), ['1.1'],
            scope=ldap.SCOPE_ONELEVEL)
        facts.update(records=len(records), indexed_on_disk=stat.entries,
                     lmdb_flags=sorted(stat.flags))
        return stat.dirty or (stat.entries or 0) < len(records)
