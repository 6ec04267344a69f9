"""Does the local 389-DS carry a known defect of VLV indices that breaks
Dogtag's range lookups, or the reindex fixes we give for them?

The releases are in dogtag/advisories.py (from the 389ds/389-ds-base tags
of each fix); the findings in findings/advisories.py (DTR1050-DTR1099).
"""

from ipahealthcheck_dogtag.checks.plugin import DogtagCheck, registry
from ipahealthcheck_dogtag.dogtag import advisories, fixes
from ipahealthcheck_dogtag.findings import ERROR, WARNING
from ipahealthcheck_dogtag.findings import advisories as F

# Dogtag's start-up last-number lookup reads the range VLV index up to
# 11.5 (dogtagpki/pki v11.5.0 CertificateRepository.
# getLastSerialNumberInRange -> findCertRecordsInList, a VLV list); from
# 11.6 it is a paged, sorted search (RecordPagedList).
LAST_VLV_LOOKUP = (11, 5)


@registry
class DSAdvisoryCheck(DogtagCheck):
    """Is this 389-DS release and database implementation one that a
    known VLV defect affects?"""

    def check_database(self, database, deadline):
        server = self.context.server_facts()
        affected, undecided = advisories.judge(server)
        facts = dict(ds_version=advisories.release(server.version),
                     backend=server.backend)
        for advisory, fixed in affected:
            found = dict(facts, issues=advisory.issues,
                         fixed_in=advisories.release(fixed))
            level = None
            if advisory.finding == F.SEARCH_FAILS.name:
                level = self._search_level(database)
                found['pki_version'] = database.pki_version_text
            yield self.finding(
                advisory.finding, advisory.key, level=level,
                fix=fixes.ds_upgrade(found['ds_version'], found['fixed_in'],
                                     advisory.issues), **found)
        if undecided:
            yield self.finding(
                F.UNKNOWN, problem=server.problem or 'no version read',
                undecided=[a.issues for a in undecided], **facts)
        elif not affected:
            yield self.finding(
                F.NONE_APPLIES, checked=len(advisories.ADVISORIES),
                advisories=[a.issues for a in advisories.ADVISORIES],
                **facts)

    @staticmethod
    def _search_level(database):
        version = database.pki_version
        if version is not None and tuple(version[:2]) <= LAST_VLV_LOOKUP:
            return ERROR
        return WARNING
