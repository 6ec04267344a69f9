"""389-DS releases whose defects decide whether Dogtag's VLV indices, and
the fixes we give for them, work.

Each advisory is a rule on the local 389-DS's version and database
implementation (`fixes.ServerFacts`, read from cn=config): the releases it
affects, by release line, and the first fixed release of each line, as the
upstream tags say (389ds/389-ds-base; `git tag --contains` of each fixing
commit). Both are LMDB defects: the code lives in back-ldbm/db-mdb, which
exists from 389-ds-base-2.1.0, so no release before can be affected.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Advisory:
    key: str            # the result's key
    finding: str        # the finding's name
    issues: str
    backend: str        # the database implementation affected
    fixed: tuple        # ((line, first fixed release), ...), line = (2,) ..

    def fixed_release(self, version):
        """The first fixed release of `version`'s line, or None when that
        line is not affected."""
        for line, release in self.fixed:
            if version[:len(line)] == line:
                return release if version < release else None
        return None

    def affects(self, server):
        """True, False, or None when the facts read do not tell."""
        if server.version is None:
            return None
        if self.fixed_release(server.version) is None:
            return False
        if server.backend is None:
            return None
        return server.backend == self.backend


ADVISORIES = (
    # An explicit reindex did not rebuild VLV indices whose names have
    # hyphens, as Dogtag's have (allCerts-<instance>). Fixed by "Issue 6057
    # - vlv search may result wrong result with lmdb (#6091)": 570fc4a9c
    # first in 389-ds-base-2.5.2, 87932714a in 3.0.2, a380deb06 in 3.1.0.
    # Same rule as fixes.lmdb_reindex_broken, which adds the upgrade to the
    # reindex fix.
    Advisory('389ds-6057', 'ds-lmdb-vlv-reindex-broken',
             '389ds/389-ds-base#6057', 'mdb',
             (((2,), (2, 5, 2)), ((3, 0), (3, 0, 2)))),
    # VLV searches failing with err=1 ("vlv_build_idl - Can't follow db
    # cursor (err -12797)") from a VLV recno cache out of step with its
    # index: #6356 (cache not cleared: mdb_layer.c
    # dbmdb_public_clear_vlv_cache, present from 2.1.0) and #6347 (cache
    # rebuilt outside its write txn). Both fixes, "Issue 6356 ... (#6357)"
    # and "Issue 6347 - better fix for desyncronized vlv cache (#6358)",
    # are first in 389-ds-base-2.5.3 and 2.6.0 (179288433, a40564b84),
    # 3.0.5 (47184c795, fd8879b3e) and 3.1.2 (145e7f4aa, 83668192b); the
    # 2.4 branch never got them.
    Advisory('389ds-6347', 'ds-lmdb-vlv-search-fails',
             '389ds/389-ds-base#6347, #6356', 'mdb',
             (((2,), (2, 5, 3)), ((3, 0), (3, 0, 5)),
              ((3, 1), (3, 1, 2)))),
)


def release(version):
    return '.'.join(str(n) for n in version) if version else None


def judge(server):
    """([(Advisory, first fixed release)] that apply, [Advisory] the facts
    cannot decide) for a ServerFacts."""
    affected, undecided = [], []
    for advisory in ADVISORIES:
        verdict = advisory.affects(server)
        if verdict is None:
            undecided.append(advisory)
        elif verdict:
            affected.append((advisory,
                             advisory.fixed_release(server.version)))
    return affected, undecided
