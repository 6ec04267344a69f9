"""Source `dogtag.limits`: Dogtag's own searches under the limits of its
bind, wherever they will run.

We read as root; Dogtag binds as its database user, to whom 389-DS applies
its size, look-through and ID-list scan limits. A search that succeeds for
Dogtag today may fail after an upgrade that changes the search (PKI 11.6
replaced the VLV lookup of the last number by a sorted paged search) or on
a new replica, whose cn=config starts from 389-DS's defaults while only the
bind entry's own limits replicate. The verdicts are in dogtag/limits.py.
"""

from datetime import datetime, timezone

from ipahealthcheck_dogtag.checks.plugin import DogtagCheck, registry
from ipahealthcheck_dogtag.discovery import Problem
from ipahealthcheck_dogtag.dogtag import fixes, limits, truth
from ipahealthcheck_dogtag.dogtag.lookup import uses_sorted_search
from ipahealthcheck_dogtag.dogtag.numbers import encode
from ipahealthcheck_dogtag.dogtag.repositories import repositories
from ipahealthcheck_dogtag.findings import limits as F

UPGRADE = 'this server after an upgrade'
REPLICA = 'a new replica'
HERE = 'this server'
LOOKUP = 'sorted paged lookup'


def _shown(verdict):
    if verdict is None:
        return None
    return '%s (%d)' % (verdict.limit_name, verdict.limit)


@registry
class StartupLimitsCheck(DogtagCheck):
    """Will Dogtag's start-up searches of PKI 11.6 and later succeed under
    its limits after an upgrade, and on a new replica?

    A server already at 11.6 or later gets the verdict on itself from
    dogtag.ranges LastNumberCheck: here it is judged for a new replica
    only."""

    def check_database(self, database, deadline):
        directory = self.context.directory()
        ds_version = self.context.server_facts().version
        binds, judged = {}, False
        for kind, repo in repositories(database):
            if not kind.numbered or isinstance(repo, Problem) or \
                    not repo.sequential:
                continue        # dogtag.ranges reports these
            sub = kind.subsystem
            if sub not in binds:
                binds[sub] = limits.read_limits(directory, database,
                                                repo.subsystem)
            for result in self.judge_repository(database, repo, binds[sub],
                                                ds_version, deadline):
                judged = True
                yield result
        if not judged:
            yield self.finding(F.NOTHING_JUDGED)

    def judge_repository(self, database, repo, now, ds_version, deadline):
        directory = self.context.directory()
        children = truth.subordinates(directory, repo.container)
        if children is None:
            return              # LastNumberCheck reports a missing container
        scenarios = {REPLICA: limits.new_replica_limits(now, ds_version)}
        # Up to 11.5 this server's own limits await an upgrade; from 11.6
        # LastNumberCheck judges them, and a replica meeting the same
        # limit is not told twice.
        scenarios[HERE if uses_sorted_search(database.pki_version)
                  else UPGRADE] = now
        key = repo.kind.key
        end = encode(repo.active.end)
        wanted, counted = [], []
        for bind in scenarios.values():
            wanted += limits.wanted(bind, key)
            counted += limits.count_limits(bind)
        seconds = max(1, (deadline - self.now()) if deadline else 10)
        candidates = limits.bound(directory, repo.container,
                                  repo.kind.sorted_filter(end), children,
                                  wanted, seconds)
        in_range = None
        if key == 'ca.certificates':
            in_range = limits.bound(
                directory, repo.container, '(&(serialno>=%s)(serialno<=%s))'
                % (encode(repo.active.begin), end), children, counted,
                seconds)
        facts = dict(repository=key, container=repo.container,
                     pki_version=database.pki_version_text,
                     dogtag_bind=now.dn, children=children,
                     candidates=candidates.at_least,
                     in_range=None if in_range is None else in_range.at_least)
        for unknown in (candidates, in_range):
            if unknown is not None and unknown.unknown is not None:
                yield self.finding(F.STARTUP_UNPROVEN, key,
                                   limit=unknown.unknown, **facts)
                return
        predictions = {
            name: limits.predict(bind, key, candidates.at_least,
                                 None if in_range is None
                                 else in_range.at_least, children)
            for name, bind in scenarios.items()}
        upgrade = predictions.get(UPGRADE)
        replica = predictions[REPLICA]
        here = predictions.get(HERE)
        if here is not None and limits.same(here.lookup, replica.lookup):
            yield self.finding(
                F.TOLD_BY_LAST_NUMBER, key, limit_exceeded=replica.lookup.
                limit_name, limit=replica.lookup.limit, **facts)
            return
        told = False
        if upgrade is not None and upgrade.lookup is not None:
            told = True
            yield self.over(F.UPGRADE_OVER, key + '.upgrade', database, now,
                            upgrade, dict(facts, new_replica_too=limits.same(
                                upgrade.lookup, replica.lookup)))
        if replica.lookup is not None and not (
                upgrade is not None and
                limits.same(upgrade.lookup, replica.lookup)):
            told = True
            yield self.over(
                F.REPLICA_OVER, key + '.new_replica', database, now, replica,
                dict(facts, ds_version='.'.join(map(str, ds_version))
                     if ds_version else None,
                     replica_defaults='nsslapd-lookthroughlimit %d, '
                     'nsslapd-idlistscanlimit %d, nsslapd-sizelimit %d' % (
                         limits.FRESH_LOOKTHROUGH,
                         limits.fresh_idlistscan(ds_version),
                         limits.FRESH_SIZE)))
        if told:
            return
        counts = ['%s: %s' % (name, _shown(p.count))
                  for name, p in predictions.items() if p.count is not None]
        yield self.finding(F.STARTUP_FIT, key,
                           scenarios=', '.join(sorted(scenarios)),
                           in_range_count='; '.join(counts) or None,
                           **facts)

    def over(self, finding, key, database, bind, prediction, facts):
        verdict = prediction.lookup
        return self.finding(
            finding, key, search=LOOKUP, limit_exceeded=verdict.limit_name,
            limit=verdict.limit,
            limit_attribute=fixes.PAGED_LIMIT_ATTRIBUTE[verdict.reason],
            in_range_count=_shown(prediction.count),
            fix=fixes.startup_limit_fix(database, bind.dn, verdict), **facts)


@registry
class StatusUpdateLimitsCheck(DogtagCheck):
    """Will the CA's periodic certificate status update of PKI 11.6 and
    later get through its searches under the limits of Dogtag's bind?"""

    def check_database(self, database, deadline):
        repo = next((r for kind, r in repositories(database)
                     if kind.key == 'ca.certificates'), None)
        if repo is None or isinstance(repo, Problem):
            yield self.finding(F.NOTHING_JUDGED)     # dogtag.ranges says why
            return
        directory = self.context.directory()
        bind = limits.read_limits(directory, database, repo.subsystem)
        children = truth.subordinates(directory, repo.container)
        if children is None:
            yield self.finding(F.NOTHING_JUDGED)
            return
        wanted = limits.paged_list_limits(bind)
        seconds = max(1, (deadline - self.now()) if deadline else 10)
        facts = dict(container=repo.container, dogtag_bind=bind.dn,
                     pki_version=database.pki_version_text,
                     children=children, searches={})
        now = datetime.now(timezone.utc)
        for search, filterstr in limits.status_update_filters(now):
            matching = limits.bound(directory, repo.container, filterstr,
                                    children, wanted, seconds)
            facts['searches'][search] = matching.at_least
            if matching.unknown is not None:
                yield self.finding(F.STATUS_UNPROVEN, search=search,
                                   filter=filterstr, limit=matching.unknown,
                                   **facts)
                return
            verdict = limits.paged_list_verdict(bind, matching.at_least)
            if verdict is not None:
                yield self.finding(
                    F.STATUS_OVER, search=search, filter=filterstr,
                    matching=matching.at_least,
                    limit_exceeded=verdict.limit_name, limit=verdict.limit,
                    limit_attribute=fixes.PAGED_LIMIT_ATTRIBUTE[
                        verdict.reason],
                    fix=fixes.startup_limit_fix(
                        database, bind.dn, verdict,
                        when='on one CA server'), **facts)
                return
        yield self.finding(F.STATUS_FITS, **facts)


AGENT_LIST_SORTED_UNTIL = (11, 5)   # v11.5.0 ListCerts: unsorted paged


@registry
class CertSearchLimitsCheck(DogtagCheck):
    """Do the CA's certificate searches, ipa cert-find over every
    certificate and (up to PKI 11.4) the agent's sorted certificate list,
    fit the plain limits of Dogtag's bind? The shapes and what 389-DS does
    to them are in dogtag/limits.py (vlv_list_verdict)."""

    def check_database(self, database, deadline):
        repo = next((r for kind, r in repositories(database)
                     if kind.key == 'ca.certificates'), None)
        directory = self.context.directory()
        children = None if repo is None or isinstance(repo, Problem) else \
            truth.subordinates(directory, repo.container)
        if children is None:
            yield self.finding(F.NOTHING_JUDGED)     # dogtag.ranges says why
            return
        bind = limits.read_limits(directory, database, repo.subsystem)
        seconds = max(1, (deadline - self.now()) if deadline else 10)
        version = database.pki_version
        sorted_list = version is None or \
            tuple(version) < AGENT_LIST_SORTED_UNTIL
        facts = dict(container=repo.container, dogtag_bind=bind.dn,
                     pki_version=database.pki_version_text,
                     children=children)
        certificates = limits.bound(
            directory, repo.container, limits.CERT_FIND_FILTER, children,
            limits.vlv_list_limits(bind), seconds)
        facts['certificates'] = certificates.at_least
        if certificates.unknown is not None:
            yield self.finding(F.SEARCHES_UNPROVEN,
                               filter=limits.CERT_FIND_FILTER,
                               limit=certificates.unknown, **facts)
            return
        told = False
        # ipa cert-find with size limit 0: a window over every certificate.
        count = certificates.at_least
        verdict = limits.vlv_list_verdict(bind, count, count)
        if verdict is not None:
            told = True
            yield self.over(F.CERT_FIND_OVER, database, bind, verdict,
                            'ipa cert-find', limits.CERT_FIND_FILTER,
                            count, count, facts)
        # The agent's list up to 11.4: every record of the range looked
        # through to sort it (over the ID-list scan limit, every entry of
        # the backend, at least the container's children), whatever page
        # (maxCount) the agent asks: only the look-through limit is judged
        # (returned: None).
        if sorted_list:
            verdict = limits.vlv_list_verdict(bind, None, count, children)
            if verdict is not None:
                told = True
                yield self.over(F.AGENT_LIST_OVER, database, bind, verdict,
                                'agent certificate list',
                                '(&(serialno>=first)(serialno<=last))',
                                None, verdict.candidates, facts)
        if not told:
            yield self.finding(
                F.SEARCHES_FIT, agent_list='sorted VLV list judged'
                if sorted_list else 'unsorted paged list, not judged',
                **facts)

    def over(self, finding, database, bind, verdict, search, filterstr,
             returned, looked, facts):
        return self.finding(
            finding, search=search, filter=filterstr, returned=returned,
            looked=looked, limit_exceeded=verdict.limit_name,
            limit=verdict.limit,
            limit_attribute=fixes.PLAIN_LIMIT_ATTRIBUTE[verdict.reason],
            fix=fixes.search_limit_fix(database, bind.dn, verdict), **facts)
