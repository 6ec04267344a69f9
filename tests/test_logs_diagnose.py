"""dogtag-diagnose analyse: known causes named from two hosts' logs written
in different zones, clocks placed correctly, sosreport-shaped inputs.

Replica in Asia/Kolkata (UTC+05:30), master in America/New_York (UTC-05:00
in March before the 10th): the master's debug log lines are 10.5 hours
away, as printed, from the replica's for the same instant.
"""

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from datetime import datetime, timedelta

import pytest

from ipahealthcheck_dogtag.commands.diagnose import render
from ipahealthcheck_dogtag.logs import bundle, formats, timeline
from logfixtures import (MASTER, REPLICA, T0, UTC, Host, debug10, debug11,
                         ds, ipa, journal_short, pkispawn, replica_install,
                         sos_journal_names, syslog_line)

KOLKATA, NEW_YORK = 'Asia/Kolkata', 'America/New_York'


def s(n):
    return T0 + timedelta(seconds=n)


def hosts(tmp_path, pki='11'):
    return (Host(tmp_path, REPLICA, KOLKATA, pki),
            Host(tmp_path, MASTER, NEW_YORK, pki))


def analyse(*roots, **kw):
    inputs = bundle.Inputs()
    try:
        for root in roots:
            inputs.add(root)
        report = timeline.analyse(inputs.hosts, **kw)
    finally:
        inputs.close()
    json.dumps(report)
    return report


def cause(report, id):
    return next((c for c in report['causes'] if c['id'] == id), None)


RANGE_REQUEST_FAILED = (
    "CalledProcessError: Command '['pki-server', 'ca-range-request', "
    "'serialNo', '--master', 'https://master1.ipa.test:443']' returned "
    "non-zero exit status 255.")


def session_lag(replica, master):
    replica_install(replica, T0, pkispawn_errors=[(85, RANGE_REQUEST_FAILED)])
    master.debug(s(81), 'UpdateNumberRange: Authentication failed', 'SEVERE')
    master.debug(s(81), 'TokenAuthentication authenticate failed, session '
                 'id does not exist.', 'SEVERE')


@pytest.mark.parametrize('pki', ['11', '10.5'])
def test_session_lag_named_across_zones(tmp_path, pki):
    """dogtagpki 2557: the master's log (New York local time) and the
    replica's (Kolkata pkispawn, UTC IPA log) on one UTC timeline."""
    replica, master = hosts(tmp_path, pki)
    session_lag(replica, master)
    report = analyse(replica.write(), master.write())
    assert report['verdict'] == 'sd-session-lag'
    found = cause(report, 'sd-session-lag')
    assert found['hosts'] == [MASTER]
    assert found['confirmed_by']['check'] == 'TemporaryAdminCheck'
    evidence = [e for e in found['evidence'] if 'session id' in e['text']]
    assert evidence[0]['utc'] == '2024-03-05T14:01:21Z'
    assert evidence[0]['local'] == '2024-03-05T09:01:21-05:00'
    assert report['failure']['command'] == 'ipa-replica-install'
    assert report['failure']['host'] == REPLICA
    # the replica's pkispawn error, local Kolkata time, placed in UTC
    spawn = [e for e in report['timeline'] if e['source'] == 'ca-pkispawn'
             and e['level'] == 'ERROR']
    assert spawn[0]['utc'] == '2024-03-05T14:01:25Z'
    assert spawn[0]['printed'] == '2024-03-05 19:31:25'
    assert cause(report, 'admin-leftover') is not None
    problems = {h['host']: h['problems'] for h in report['hosts']}
    assert problems[MASTER] == []
    # its pkispawn failed before "Starting PKI server": no debug log to miss
    assert problems[REPLICA] == []


def test_admin_not_replicated(tmp_path):
    """freeipa 7593: the master refuses the replica's temporary admin."""
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, pkispawn_errors=[(
        72, 'PKIException: User admin-replica1.ipa.test is not a member of '
        'Enterprise CA Administrators group.')])
    master.debug(s(71), 'Unable to authenticate user '
                 'admin-replica1.ipa.test: Invalid credentials', 'SEVERE')
    report = analyse(replica.write(), master.write())
    assert report['verdict'] == 'sd-admin-not-replicated'
    assert cause(report, 'sd-admin-not-replicated')['hosts'] == [MASTER,
                                                                 REPLICA]


def test_range_npe_clone_of_clone(tmp_path):
    """dogtagpki 3055: status 500 and a NullPointerException on the master
    (its debug log and its journal)."""
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, pkispawn_errors=[(85, RANGE_REQUEST_FAILED)])
    master.debug(s(82), 'UpdateNumberRange: Unable to update number range: '
                 'null', 'SEVERE')
    master.add('var/log/pki/pki-tomcat/ca/debug.2024-03-05.log', [
        'java.lang.NullPointerException',
        '\tat com.netscape.cmscore.dbs.Repository.getRange(Repository.java:1)'])
    master.add('journal/pki-tomcatd@pki-tomcat.service.json', [
        formats_journal(s(82), 'SEVERE: Servlet.service() for servlet '
                        '[caUpdateNumberRange] threw exception '
                        'java.lang.NullPointerException')])
    report = analyse(replica.write(), master.write())
    assert report['verdict'] == 'range-npe-clone-of-clone'
    found = cause(report, 'range-npe-clone-of-clone')
    assert found['confirmed_by']['check'] == 'CloneTransferCheck'
    assert MASTER in found['hosts'] and REPLICA in found['hosts']
    assert cause(report, 'sd-session-lag') is None


def test_range_npe_from_sos_journal_text(tmp_path):
    """sos before 4.1 has no PKI 10.6+ debug log, but it has the journal as
    text (`journalctl_--no-pager`, host local time, no year): the master's
    Tomcat reports the exception there."""
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, pkispawn_errors=[(85, RANGE_REQUEST_FAILED)])
    stamp = (s(82) - timedelta(hours=5)).strftime('%b %d %H:%M:%S')
    master.add('sos_commands/logs/journalctl_--no-pager', [
        '%s master1 server[2345]: SEVERE: Servlet.service() for servlet '
        '[caUpdateNumberRange] in context with path [/ca] threw exception'
        % stamp,
        '%s master1 server[2345]: java.lang.NullPointerException' % stamp])
    report = analyse(replica.write(), master.write())
    assert report['verdict'] == 'range-npe-clone-of-clone'
    line = [e for e in cause(report, 'range-npe-clone-of-clone')['evidence']
            if e['host'] == MASTER][0]
    assert line['utc'] == '2024-03-05T14:01:22Z'
    assert line['source'] == 'journal' and line['level'] == 'SEVERE'


# Tomcat's report of the 3055 failure, as pki-tomcatd's console prints it.
NPE_LINES = ['SEVERE: Servlet.service() for servlet [caUpdateNumberRange] in '
             'context with path [/ca] threw exception',
             'java.lang.NullPointerException']
STARTED = 'Started PKI Tomcat Server pki-tomcat.'
# systemd 219's --catalog text for a unit start (sos 3.6-4.3 ask for it).
CATALOG = ['-- Subject: Unit pki-tomcatd@pki-tomcat.service has finished '
           'start-up',
           '-- Defined-By: systemd']


def journal_copy(host, when, catalog):
    """The master's journal as journalctl prints it: its header, Tomcat
    started (with catalog text), then the 3055 lines."""
    lines = ['-- Logs begin at Tue 2024-03-05 00:00:01 EST, end at Tue '
             '2024-03-05 10:00:00 EST. --',
             journal_short(when - timedelta(seconds=60), host.zone, MASTER,
                           STARTED, ident='systemd', pid=1)]
    lines += CATALOG if catalog else []
    return lines + [journal_short(when, host.zone, MASTER, m)
                    for m in NPE_LINES]


def npe_events(report):
    return [e for e in report['timeline'] if e['host'] == MASTER and
            'caUpdateNumberRange' in e['text']]


SINCE = datetime(2024, 3, 5)


def master_with_journals(base, names, holding):
    """A master whose sos journal copies `holding` hold the 3055 lines;
    the others hold a line of another day."""
    master = Host(base, MASTER, NEW_YORK)
    for kind, name in names.items():
        lines = journal_copy(master, s(82), 'catalog' in name) \
            if kind in holding else [journal_short(
                s(-86400), master.zone, MASTER, 'another day')]
        master.add('sos_commands/logs/' + name, lines)
    return master.write()


@pytest.mark.parametrize('version,since', [
    ('3.5', None), ('3.8', None), ('3.9', None), ('3.9', SINCE),
    ('4.0', None), ('4.0', SINCE), ('4.5', None), ('4.5', SINCE)])
def test_range_npe_in_every_sos_journal(tmp_path, version, since):
    """dogtagpki 3055's exception is often only in the master's journal.
    sos names its journal copies by version and by `--since` (names from
    sosreport/sos logs.py with Plugin.add_journal and _mangle_command at
    tags 3.5, 3.8, 3.9, 4.0, 4.5.0): each is read, with the master's local
    time placed in UTC; a line held by the whole journal and this boot's
    copy is shown once; after a reboot, with the whole journal cut to its
    newest part by sos's size limit, the previous boot's copy has it."""
    replica = Host(tmp_path, REPLICA, KOLKATA)
    replica_install(replica, T0, pkispawn_errors=[(85, RANGE_REQUEST_FAILED)])
    names = sos_journal_names(version, since)
    master = master_with_journals(tmp_path, names, ('whole', 'boot'))
    report = analyse(replica.write(), master, everything=True)
    assert report['verdict'] == 'range-npe-clone-of-clone'
    shown = npe_events(report)
    assert len(shown) == 1
    assert shown[0]['utc'] == '2024-03-05T14:01:22Z'
    assert shown[0]['source'] == 'journal'
    started = [e for e in report['timeline'] if STARTED in e['text']]
    assert len(started) == 1 and '-- ' not in started[0]['text']
    if 'last' in names:
        master = master_with_journals(tmp_path / 'rebooted', names, ('last',))
        report = analyse(replica.write(), master)
        assert [e['utc'] for e in npe_events(report)] == [
            '2024-03-05T14:01:22Z']


def test_range_npe_in_rhel7_messages(tmp_path):
    """RHEL 7 (sos 3.5, PKI 10.5): pki-tomcatd's console output is in
    /var/log/messages (rsyslog's traditional format, New York time, no
    pid), which sos's logs plugin copies; this boot's journal may repeat
    it (`journalctl_--no-pager_--boot`) or not (rebooted since)."""
    replica, master = hosts(tmp_path, pki='10.5')
    replica_install(replica, T0, pkispawn_errors=[(85, RANGE_REQUEST_FAILED)])
    master.add('var/log/messages', [syslog_line(s(82), master.zone, MASTER,
                                                m) for m in NPE_LINES])
    report = analyse(replica.write(), master.write())
    assert report['verdict'] == 'range-npe-clone-of-clone'
    shown = npe_events(report)
    assert [(e['utc'], e['source']) for e in shown] == [
        ('2024-03-05T14:01:22Z', 'messages')]
    assert shown[0]['printed'] == '2024-03-05 09:01:22'
    master.add('sos_commands/logs/' + sos_journal_names('3.5')['boot'],
               journal_copy(master, s(82), catalog=False))
    report = analyse(replica.write(), master.write())
    assert [(e['utc'], e['source']) for e in npe_events(report)] == [
        ('2024-03-05T14:01:22Z', 'journal')]
    # our archive of that host: the unit's JSON journal and messages
    os.remove(os.path.join(master.root, 'sos_commands', 'logs',
                           sos_journal_names('3.5')['boot']))
    master.add('journal/pki-tomcatd@pki-tomcat.service.json',
               [formats_journal(s(82), m) for m in NPE_LINES])
    report = analyse(replica.write(), master.write())
    assert [(e['utc'], e['source']) for e in npe_events(report)] == [
        ('2024-03-05T14:01:22Z', 'journal:pki-tomcatd@pki-tomcat.service')]


def formats_journal(when, msg):
    from logfixtures import journal
    return journal(when, NEW_YORK, msg)


# The master's words for LDAP 68 by version: 11.6+ LDAPExceptionConverter
# "Record already exists: <ldapjdk text>" (dogtagpki/pki v11.6.0,
# base/common/.../ldap/LDAPExceptionConverter.java); 10.11-11.5 LDAPSession
# "Unable to add LDAP entry: <ldapjdk text>" (v11.5.0, cmscore/dbs/
# LDAPSession.java add()); 10.5 CMS_DBS_LDAP_OP_FAILURE "LDAP operation
# failure - {0}" (base/server/cmsbundle/src/UserMessages.properties,
# v10.5.0) around ldapjdk's "error result". CertificateRepository prefixes
# "Unable to add certificate record: ".
ALREADY_EXISTS = {
    '11.6': 'Unable to add certificate record: Record already exists: '
            'Already exists',
    '11.5': 'Unable to add certificate record: Unable to add LDAP entry: '
            'Already exists',
    '10.5': 'LDAP operation failure - cn=268369921,ou=certificateRepository,'
            'ou=ca,o=ipaca: netscape.ldap.LDAPException: error result (68)',
}
LOG_FORMAT = {'11.6': '11', '11.5': '11', '10.5': '10.5'}


def number_collision(tmp_path, pki):
    """The master refuses to add a numbered record it believes is new; from
    PKI 11.4 its debug log names the DN first ("LDAPSession: Adding <dn>",
    LDAPSession.java v11.4.0-v11.10.0)."""
    replica, master = hosts(tmp_path, LOG_FORMAT[pki])
    replica_install(replica, T0, pkispawn_errors=[(
        90, 'PKIException: %s' % ALREADY_EXISTS[pki].split(' - ')[0])])
    if pki != '10.5':
        master.debug(s(89), 'LDAPSession: Adding cn=1,ou=ca,ou=requests,'
                     'o=ipaca')
    master.debug(s(89), ALREADY_EXISTS[pki], 'SEVERE')
    master.access(s(89), 'conn=12 op=4 RESULT err=68 tag=105 nentries=0 '
                  'wtime=0.000 optime=0.001 etime=0.001')
    return replica, master


@pytest.mark.parametrize('pki', ['11.5', '10.5'])
def test_ldap_68_stale_vlv(tmp_path, pki):
    """"Already exists" adding a record up to PKI 11.5, whose last-number
    lookup reads a VLV index: LastNumberCheck explains it."""
    replica, master = number_collision(tmp_path, pki)
    report = analyse(replica.write(), master.write())
    assert report['verdict'] == 'ldap-68-stale-vlv'
    found = cause(report, 'ldap-68-stale-vlv')
    assert found['confirmed_by']['source'] == 'dogtag.ranges'
    ds_line = [e for e in found['evidence'] if e['source'] == 'ds-access']
    assert ds_line[0]['utc'] == '2024-03-05T14:01:29Z'
    debug = [e for e in found['evidence'] if e['source'] == 'ca-debug']
    assert debug[0]['utc'] == '2024-03-05T14:01:29Z'
    assert debug[0]['printed'] == '2024-03-05 09:01:29'


def test_ldap_68_from_pki_11_6_is_not_vlv(tmp_path):
    """PKI 11.6 uses no VLV index (freeipa-container#709: 389-DS's one-level
    index defect, 389ds/389-ds-base#7172): the wording of 11.6 names that
    cause, with the DN Dogtag was adding as evidence."""
    replica, master = number_collision(tmp_path, '11.6')
    report = analyse(replica.write(), master.write())
    assert report['verdict'] == 'ldap-68-one-level-index'
    assert cause(report, 'ldap-68-stale-vlv') is None
    found = cause(report, 'ldap-68-one-level-index')
    assert 'adding' in found['patterns']
    assert 'VLV' not in found['title']


def test_ldap_68_on_another_dn_is_no_number_collision(tmp_path):
    """The DN Dogtag was adding is not a numbered record: no number cause."""
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, pkispawn_errors=[(90, 'PKIException: x')])
    master.debug(s(89), 'LDAPSession: Adding cn=Subsystem Group,ou=groups,'
                 'o=ipaca')
    master.debug(s(89), 'Unable to add LDAP entry: Already exists', 'SEVERE')
    report = analyse(replica.write(), master.write())
    assert cause(report, 'ldap-68-stale-vlv') is None
    assert report['verdict'] is None


SUBSYSTEM_USER = 'uid=CA-replica1.ipa.test-8443,ou=People,o=ipaca'


def test_subsystem_user_leftover(tmp_path):
    """dogtagpki/pki#3544: 389-DS refuses (err=68) pkispawn's add of the
    clone's subsystem user left by an earlier install (the access-log lines
    quoted there; DN built as in SecurityDomainProcessor.java v11.0.0). An
    add of such a user that succeeded is no evidence."""
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, pkispawn_errors=[(
        90, 'PKIException: Unable to add LDAP entry: Already exists')])
    kra_user = SUBSYSTEM_USER.replace('CA-', 'KRA-')
    for conn, dn, result in ((7, SUBSYSTEM_USER, 68), (9, kra_user, 0)):
        replica.access(s(88), 'conn=%d op=3 ADD dn="%s"' % (conn, dn))
        replica.access(s(88), 'conn=%d op=3 RESULT err=%d tag=105 nentries=0'
                       ' wtime=0.000 optime=0.001 etime=0.001'
                       % (conn, result))
    report = analyse(replica.write(), master.write())
    assert report['verdict'] == 'subsystem-user-leftover'
    assert cause(report, 'ldap-68-stale-vlv') is None
    texts = [e['text'] for e in
             cause(report, 'subsystem-user-leftover')['evidence']]
    assert any(SUBSYSTEM_USER in t for t in texts)
    assert not any(kra_user in t for t in texts)


# Dogtag's own searches over pkidbuser's limits, PKI 11.6+: ldapjdk's
# result texts as quoted in dogtagpki/pki#5133 and #5171; RequestRepository
# .java (v11.6.0) dereferences `recReq`, which the JVM names; RecordPagedList
# .java (v11.6.0) "RecordPagedList: Error to get a new page" (#5225).
LIMIT_LINES = [
    'LDAPPagedSearch: Unable to search: Administrative limit exceeded (11);'
    ' Sort Response Control',
    'Unable to start CA engine: Cannot invoke "com.netscape.cmscore.request.'
    'RequestRecord.toRequest()" because "recReq" is null',
    'LDAP error: Unwilling to perform (53)',
    'Unable to create enrollment request: RecordPagedList: Error to get a '
    'new page',
]


@pytest.mark.parametrize('line', LIMIT_LINES)
def test_pkidbuser_limits(tmp_path, line):
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, pkispawn_errors=[(
        110, 'CA subsystem did not start after 60s')])
    replica.debug(s(100), line, 'SEVERE')
    report = analyse(replica.write(), master.write())
    assert report['verdict'] == 'pkidbuser-limits'
    assert cause(report, 'pkidbuser-limits')['confirmed_by']['check'] == \
        'LastNumberCheck'


def test_parentid_matching_rule_warning_days_before(tmp_path):
    """389-DS warns once at start-up, days before the failure (upgrade.c
    upgrade_check_id_index_matching_rule, commit 742c12e, 389ds/389-ds-base
    #7172): it names the cause of 11.6's "Record already exists"."""
    replica, master = number_collision(tmp_path, '11.6')
    master.ds(s(-2 * 86400), "Index 'parentid' in backend 'ipaca' is "
              "missing 'nsMatchingRule: integerOrderingMatch'. Incorrectly "
              "configured system indexes can lead to poor search "
              "performance, replication issues, and other operational "
              "problems.", 'ERR', 'upgrade_check_id_index_matching_rule')
    report = analyse(replica.write(), master.write())
    assert report['verdict'] == 'ds-index-matching-rule'
    assert cause(report, 'ldap-68-one-level-index') is None


def test_replication_setup(tmp_path):
    """o=ipaca replication cannot start, 389-DS busy (freeipa pagure 7642,
    389-ds 49818; repl5_tot_protocol.c "Total update failed"): the advice
    is 389-DS's, a leftover only if AgreementCheck finds one."""
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, fail_step_msg='Failed to start replication',
                    admin_created=False)
    master.ds(s(50), 'repl5_tot_run - Total update failed for replica '
              '"agmt="cn=caToreplica1.ipa.test" (replica1:389)": -1')
    report = analyse(replica.write(), master.write())
    assert report['verdict'] == 'replication-setup'
    found = cause(report, 'replication-setup')
    assert found['confirmed_by']['source'] == 'dogtag.replication'
    assert found['url'] == 'https://pagure.io/freeipa/issue/7642'
    assert 'update 389-ds-base' in found['todo']
    assert cause(report, 'admin-leftover') is None


def test_replication_agreement_leftover(tmp_path):
    """IPA refuses to set up replication over an earlier agreement of the
    host (replicainstall.py message, freeipa PR 6273, pagure 9162)."""
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, fail_step_msg='A replication agreement for '
                    'this host already exists. It needs to be removed.',
                    admin_created=False)
    replica.ipa(s(121), 'Failed to start replication', 'ERROR')
    report = analyse(replica.write(), master.write())
    assert report['verdict'] == 'replication-agreement-leftover'
    assert cause(report, 'replication-setup') is None


# OpenSSL 3 apps/pkcs12.c (openssl-3.0.0) when the FIPS provider has no
# PKCS12KDF, as a FIPS replica's pkispawn reports it (dogtagpki/pki#4925):
# a cause we do not know.
PKCS12_FIPS = ("CalledProcessError: Command '['openssl', 'pkcs12', '-in', "
               "'/tmp/ca.p12', '-nodes']' returned non-zero exit status 1. "
               "Error verifying PKCS12 MAC; no PKCS12KDF support.")


def test_consequence_is_never_the_verdict(tmp_path):
    """A failure of unknown cause after "creating installation admin user":
    no verdict, the errors nearest the failure, the leftover account listed
    apart as a consequence. The master's sosreport (sos 4.5) has no debug
    log."""
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, pkispawn_errors=[(95, PKCS12_FIPS)])
    master.ds(s(60), 'some replication message', 'NOTICE')
    master.add('sos_reports/manifest.json', [json.dumps({'version': '4.5.6'})])
    roots = [replica.write(), master.write()]
    report = analyse(*roots)
    assert report['verdict'] is None
    leftover = cause(report, 'admin-leftover')
    assert leftover['primary'] is False
    assert leftover['confirmed_by']['check'] == 'TemporaryAdminCheck'
    assert any('PKCS12 MAC' in e['text'] for e in report['nearest_errors'])
    problems = {h['host']: h['problems'] for h in report['hosts']}
    assert problems[MASTER][0].startswith('no Dogtag debug log in the '
                                          'sosreport (sos 4.5.6)')
    human = run('analyse', *roots).stdout
    assert 'Verdict: admin-leftover' not in human
    assert 'Verdict: no known cause. Errors nearest the failure' in human
    assert human.index('PKCS12 MAC') < human.index('What the failure left') \
        < human.index('* admin-leftover')


def run(*args):
    script = os.path.join(os.path.dirname(sys.executable), 'dogtag-diagnose')
    return subprocess.run([script] + list(args), capture_output=True,
                          text=True, check=True)


def test_no_known_cause_shows_nearest_errors(tmp_path):
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, pkispawn_errors=[(95, 'Something odd')],
                    admin_created=False)
    master.debug(s(94), 'CAService: unexpected state', 'SEVERE')
    report = analyse(replica.write(), master.write())
    assert report['verdict'] is None
    near = {e['host'] for e in report['nearest_errors']}
    assert near == {MASTER, REPLICA}


def test_last_install_of_several(tmp_path):
    """The log of a failed run then a later one: the later one is judged."""
    replica, master = hosts(tmp_path)
    replica_install(replica, T0 - timedelta(hours=3), pkispawn_errors=[
        (85, RANGE_REQUEST_FAILED)])
    session_lag(replica, master)
    report = analyse(replica.write(), master.write())
    assert report['failure']['utc'] == '2024-03-05T14:02:04Z'
    assert report['window']['start'] <= '2024-03-05T14:00:01Z'
    assert report['window']['start'] > '2024-03-05T13:00:00Z'


def test_wrong_zone_is_noticed(tmp_path):
    """The master's sosreport says UTC but its Dogtag wrote New York time:
    its lines fall outside the window, and its 389-DS offsets disagree."""
    replica, master = hosts(tmp_path)
    session_lag(replica, master)
    master.ds(s(60), 'some replication message', 'NOTICE')
    root = master.write()
    os.remove(os.path.join(root, 'etc', 'localtime'))
    os.symlink('../usr/share/zoneinfo/UTC', os.path.join(root, 'etc',
                                                         'localtime'))
    report = analyse(replica.write(), root)
    problems = next(h for h in report['hosts']
                    if h['host'] == MASTER)['problems']
    assert any('389-DS printed UTC-0500' in p for p in problems)
    assert report['verdict'] != 'sd-session-lag'


def test_debug_log_gap_noticed_after_midnight(tmp_path):
    """dogtagpki/pki#4907: JULI's complaint is said once, just after the
    master's midnight (05:00 UTC in New York), hours before the failure."""
    replica, master = hosts(tmp_path)
    session_lag(replica, master)
    master.add('journal/pki-tomcatd@pki-tomcat.service.json', [
        formats_journal(datetime(2024, 3, 5, 5, 0, 1, tzinfo=UTC),
                        'FileHandler is closed or not yet initialized, '
                        'unable to log [SEVERE: x]')])
    report = analyse(replica.write(), master.write())
    problems = next(h for h in report['hosts']
                    if h['host'] == MASTER)['problems']
    assert any('4907' in p for p in problems)


def test_debug_log_gap_noticed(tmp_path):
    """dogtagpki/pki#4907: the debug log stops, JULI complains on stderr."""
    replica, master = hosts(tmp_path)
    session_lag(replica, master)
    master.add('journal/pki-tomcatd@pki-tomcat.service.json', [
        formats_journal(s(30), 'FileHandler is closed or not yet '
                        'initialized, unable to log [SEVERE: x]')])
    report = analyse(replica.write(), master.write())
    problems = next(h for h in report['hosts']
                    if h['host'] == MASTER)['problems']
    assert any('4907' in p for p in problems)


@pytest.mark.parametrize('shift,word', [(-50, 'behind'), (90, 'ahead')])
def test_master_clock_off_by_minutes(tmp_path, shift, word):
    """The master's clock is a minute or two off (its zone is right): it
    answers the replica before it was asked, or after the install failed."""
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, pkispawn_errors=[(85, RANGE_REQUEST_FAILED)])
    master.debug(s(81 + shift), 'UpdateNumberRange: Authentication failed',
                 'SEVERE')
    report = analyse(replica.write(), master.write())
    problems = next(h for h in report['hosts']
                    if h['host'] == MASTER)['problems']
    assert any('its clock or zone is %s' % word in p for p in problems), \
        problems


def test_one_host_only_is_noted(tmp_path):
    replica, _ = hosts(tmp_path)
    replica_install(replica, T0)
    report = analyse(replica.write())
    assert report['notes'][0].startswith('only one host')


def test_missing_master_evidence(tmp_path):
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, pkispawn_errors=[(85, RANGE_REQUEST_FAILED)])
    master.debug(s(-86400 * 3), 'old line')
    report = analyse(replica.write(), master.write())
    problems = next(h for h in report['hosts']
                    if h['host'] == MASTER)['problems']
    assert any('evidence is missing' in p for p in problems)


def test_no_line_in_window_is_not_blamed_on_the_clock(tmp_path):
    """Lines hours away do not prove a clock error: both readings given."""
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, pkispawn_errors=[(85, RANGE_REQUEST_FAILED)])
    master.debug(s(-3 * 3600), 'CAService: started')
    report = analyse(replica.write(), master.write())
    problems = next(h for h in report['hosts']
                    if h['host'] == MASTER)['problems']
    assert any('the host logged nothing then, or its clock' in p
               for p in problems), problems


def test_archive_without_debug_log_is_not_blamed_on_sos(tmp_path):
    """Our own archive (manifest.json at its top) with no debug log."""
    replica, master = hosts(tmp_path)
    session_lag(replica, master)
    root = master.write()
    shutil.rmtree(os.path.join(root, 'var', 'log', 'pki'))
    with open(os.path.join(root, 'manifest.json'), 'w') as f:
        json.dump({'fqdn': MASTER, 'zone': NEW_YORK}, f)
    report = analyse(replica.write(), root)
    problems = next(h for h in report['hosts']
                    if h['host'] == MASTER)['problems']
    assert problems[0].startswith('no Dogtag debug log in the archive')
    assert not any('sos' in p for p in problems)


@pytest.mark.parametrize('failed_before', [False, True])
def test_success_is_called_a_success(tmp_path, failed_before):
    """"The ipa-replica-install command was successful" (ipapython/
    admintool.py), also when an earlier run of the same log failed."""
    replica, master = hosts(tmp_path)
    if failed_before:
        replica_install(replica, T0 - timedelta(hours=1))
    replica_install(replica, T0, failed=False)
    roots = [replica.write(), master.write()]
    report = analyse(*roots)
    assert report['failure'] is None
    assert report['success']['command'] == 'ipa-replica-install'
    assert report['success']['utc'] == '2024-03-05T14:02:10Z'
    human = run('analyse', *roots).stdout
    assert human.startswith('Success: ipa-replica-install on %s' % REPLICA)
    assert 'Verdict: none needed, the install succeeded.' in human


def test_range_npe_advice_fits_later_pki():
    todo = timeline.causes.BY_ID['range-npe-clone-of-clone'].todo
    assert 'On a later PKI' in todo


def test_version_and_analyse_help():
    from ipahealthcheck_dogtag import __version__
    assert run('--version').stdout.strip() == \
        'dogtag-diagnose %s' % __version__
    usage = ' '.join(run('analyse', '--help').stdout.split())
    assert 'a sosreport directory or tarball' in usage
    assert 'window start instead of the failed install' in usage


def test_install_log_zone_cross_check(tmp_path):
    """IPA logs the pkispawn file name (local time) at a UTC time: a zone
    that disagrees is reported."""
    replica, master = hosts(tmp_path)
    session_lag(replica, master)
    root = replica.write()
    os.remove(os.path.join(root, 'etc', 'localtime'))
    os.symlink('../usr/share/zoneinfo/Europe/Paris',
               os.path.join(root, 'etc', 'localtime'))
    report = analyse(root, master.write())
    problems = next(h for h in report['hosts']
                    if h['host'] == REPLICA)['problems']
    assert any('UTC+0530, but the zone Europe/Paris gives UTC+0100' in p
               for p in problems)


def test_secrets_in_a_sosreport_stay_out_of_the_report(tmp_path):
    """A sosreport is not redacted as our archives are: analyse masks what
    it prints."""
    replica, master = hosts(tmp_path)
    session_lag(replica, master)
    replica.pkispawn(s(86), "Command '['pki', '-c', 'Pl4nted-S3cret', "
                     "'client-init']' failed: password=Pl4nted-S3cret",
                     'ERROR')
    report = analyse(replica.write(), master.write(), everything=True)
    assert 'Pl4nted-S3cret' not in json.dumps(report)
    assert any('password=********' in e['text'] for e in report['timeline'])


def test_sosreport_tarball(tmp_path):
    """The same two hosts as sosreport tarballs (tar.xz, as sos writes)."""
    replica, master = hosts(tmp_path)
    session_lag(replica, master)
    paths = []
    for h in (replica, master):
        root = h.write()
        path = str(tmp_path / (os.path.basename(root) + '.tar.xz'))
        with tarfile.open(path, 'w:xz') as tar:
            tar.add(root, arcname=os.path.basename(root))
        paths.append(path)
    report = analyse(*paths)
    assert report['verdict'] == 'sd-session-lag'
    assert {h['zone'] for h in report['hosts']} == {KOLKATA, NEW_YORK}


@pytest.mark.parametrize('has_filter', [True, False])
def test_tarball_link_outside_is_ignored(tmp_path, monkeypatch, has_filter):
    """A link out of the archive is not extracted, and said so: by
    tarfile's data filter, or by hand where Python lacks it (before
    3.11.4 unless backported)."""
    if not has_filter:
        monkeypatch.delattr(tarfile, 'data_filter', raising=False)
    root = tmp_path / 'evil'
    (root / 'var' / 'log').mkdir(parents=True)
    os.symlink('/etc/passwd', root / 'var' / 'log' / 'ipareplica-install.log')
    os.symlink('../../../../etc/passwd', root / 'var' / 'log' / 'messages')
    path = str(tmp_path / 'evil.tar.gz')
    with tarfile.open(path, 'w:gz') as tar:
        tar.add(str(root), arcname='evil')
    inputs = bundle.Inputs()
    inputs.add(path)
    try:
        assert inputs.hosts[0].files() == []
        problems = inputs.hosts[0].problems
    finally:
        inputs.close()
    assert len([p for p in problems if 'not read' in p]) == 2


def test_directory_link_outside_is_ignored(tmp_path):
    """A sosreport directory's link out of its tree is not followed."""
    replica = Host(tmp_path, REPLICA, KOLKATA)
    root = replica.write()
    os.makedirs(os.path.join(root, 'var', 'log'))
    os.symlink('/etc/passwd',
               os.path.join(root, 'var', 'log', 'ipareplica-install.log'))
    assert bundle.from_tree(root, 'sosreport').files() == []


def sos_tarball(tmp_path, root, extra=()):
    """root as sos packs it (one top directory, tar.xz), with extra
    (name, size) members of zeros."""
    path = str(tmp_path / (os.path.basename(root) + '.tar.xz'))
    with tarfile.open(path, 'w:xz') as tar:
        tar.add(root, arcname=os.path.basename(root))
        for name, size in extra:
            info = tarfile.TarInfo('%s/%s' % (os.path.basename(root), name))
            info.size = size
            tar.addfile(info, io.BytesIO(bytes(size)))
    return path


def written_below(top):
    return {os.path.relpath(os.path.join(d, f), top): os.lstat(
        os.path.join(d, f)).st_size for d, _, files in os.walk(top)
        for f in files}


def test_tarball_reads_only_our_members(tmp_path, monkeypatch):
    """A sosreport tarball: only the members we read are written, the
    300 MB core dump next to them is not; the journal over sos's size
    limit is read through its link (sos 4.2+: the tailed copy in
    sos_strings/logs/<name>.tailed, linked from sos_commands/logs/<name>,
    sos/report/plugins/__init__.py _collect_cmd_output, tag 4.5.0); a
    member over our bound is not read, and said so."""
    replica, master = hosts(tmp_path)
    replica_install(replica, T0, pkispawn_errors=[(85, RANGE_REQUEST_FAILED)])
    name = sos_journal_names('4.5')['whole']
    master.add('sos_strings/logs/%s.tailed' % name,
               journal_copy(master, s(82), catalog=False))
    root = master.write()
    os.makedirs(os.path.join(root, 'sos_commands', 'logs'))
    os.symlink('../../sos_strings/logs/%s.tailed' % name,
               os.path.join(root, 'sos_commands', 'logs', name))
    big = 'var/spool/abrt/ccpp-2024-03-05/coredump'
    paths = [sos_tarball(tmp_path, replica.write()),
             sos_tarball(tmp_path, root, [(big, 300 << 20)])]
    temp = tmp_path / 'tmp'
    temp.mkdir()
    monkeypatch.setattr(tempfile, 'tempdir', str(temp))
    inputs = bundle.Inputs()
    try:
        for path in paths:
            inputs.add(path)
        written = written_below(str(temp))
        report = timeline.analyse(inputs.hosts)
    finally:
        inputs.close()
    assert not [p for p in written if p.endswith('coredump')]
    assert sum(written.values()) < 1 << 20
    assert report['verdict'] == 'range-npe-clone-of-clone'
    assert npe_events(report)[0]['utc'] == '2024-03-05T14:01:22Z'
    monkeypatch.setattr(bundle, 'MEMBER_BOUND', 100)
    inputs = bundle.Inputs()
    try:
        inputs.add(paths[1])
        problems = inputs.hosts[0].problems
        files = inputs.hosts[0].files()
    finally:
        inputs.close()
    assert any('.tailed' in p and 'not read' in p for p in problems)
    assert not [f for s, f in files if s == 'journal-text']


def test_damaged_tarball_is_a_message(tmp_path):
    replica, _ = hosts(tmp_path)
    path = sos_tarball(tmp_path, replica.write())
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)
    script = os.path.join(os.path.dirname(sys.executable), 'dogtag-diagnose')
    done = subprocess.run([script, 'analyse', path], capture_output=True,
                          text=True)
    assert done.returncode == 2 and 'Traceback' not in done.stderr
    assert 'not a readable tar archive' in done.stderr


def test_dst_fall_back_in_window():
    """New York repeats 01:00-02:00 on 2024-11-03 (06:00 UTC): a debug
    log read in order keeps time moving forward across the repeated hour;
    the ambiguous lines are marked."""
    start = datetime(2024, 11, 3, 4, 50, tzinfo=UTC)
    times = [start + timedelta(minutes=10 * i) for i in range(14)]
    lines = [debug11(t, NEW_YORK, 'tick %d' % i) for i, t in
             enumerate(times)]
    events = list(formats.parse_lines(lines, formats.DogtagDebug11(),
                                      bundle.zone_named(NEW_YORK), 'm', 'f'))
    assert [e.when for e in events] == times
    assert {e.note for e in events[2:14]} >= {'ambiguous'}
    assert events[0].note is None


def test_dst_spring_forward_offsets():
    """2024-03-10 02:00 New York does not exist; the window's offsets
    list both, and a printed 02:30 is marked nonexistent."""
    zone = bundle.zone_named(NEW_YORK)
    offsets = timeline._offsets(zone, datetime(2024, 3, 10, 5, tzinfo=UTC),
                                datetime(2024, 3, 10, 9, tzinfo=UTC))
    assert [o['offset'] for o in offsets] == ['-0500', '-0400']
    assert offsets[1]['from'] == '2024-03-10T07:00:00Z'
    line = '2024-03-10 02:30:00 [main] INFO: in the gap'
    event, = formats.parse_lines([line], formats.DogtagDebug11(), zone, 'm',
                                 'f')
    assert event.note == 'nonexistent'


@pytest.mark.parametrize('zone, start, end, expected', [
    (NEW_YORK, datetime(2024, 3, 10, 5, 8, 13, tzinfo=UTC),
     datetime(2024, 3, 10, 9, tzinfo=UTC),
     [('2024-03-10T05:08:13Z', '-0500'), ('2024-03-10T07:00:00Z', '-0400')]),
    # Berlin's repeated hour: 03:00 CEST is 02:00 CET again at 01:00 UTC
    ('Europe/Berlin', datetime(2024, 10, 27, 0, 7, 13, tzinfo=UTC),
     datetime(2024, 10, 27, 3, tzinfo=UTC),
     [('2024-10-27T00:07:13Z', '+0200'), ('2024-10-27T01:00:00Z', '+0100')]),
    # a window ending half an hour before the change: nothing after it
    (NEW_YORK, datetime(2024, 3, 10, 5, 8, 13, tzinfo=UTC),
     datetime(2024, 3, 10, 6, 30, tzinfo=UTC),
     [('2024-03-10T05:08:13Z', '-0500')]),
    (NEW_YORK, datetime(2024, 3, 10, 5, 8, 13, tzinfo=UTC),
     datetime(2024, 3, 10, 7, tzinfo=UTC),
     [('2024-03-10T05:08:13Z', '-0500'), ('2024-03-10T07:00:00Z', '-0400')]),
])
def test_offsets_change_at_the_zone_data_instant(zone, start, end, expected):
    """A window starting at an odd second still sees the change at the
    second tzdata puts it, and no change outside the window."""
    offsets = timeline._offsets(bundle.zone_named(zone), start, end)
    assert [(o['from'], o['offset']) for o in offsets] == expected


def test_sub_second_stamps_keep_their_offset(tmp_path):
    """389-DS prints fractions of a second: the human report's local time
    keeps its offset for them, and JSON 'local' is ISO 8601."""
    replica, master = hosts(tmp_path)
    session_lag(replica, master)
    at = s(83) + timedelta(microseconds=602110)
    master.ds(at, 'repl5_inc_run - Unable to acquire replica')
    master.access(at, 'conn=12 op=4 RESULT err=68 tag=105 nentries=0')
    report = analyse(replica.write(), master.write())
    ds_events = [e for e in report['timeline']
                 if e['source'] in ('ds-errors', 'ds-access')]
    assert sorted(e['source'] for e in ds_events) == ['ds-access',
                                                      'ds-errors']
    human = render(report).splitlines()
    for source in ('ds-errors', 'ds-access'):
        assert any(line.startswith(
            '  2024-03-05T14:01:23Z | 09:01:23-05:00 | master1.ipa.test '
            '      | %-12s |' % source) for line in human), source
    for e in ds_events:
        assert e['local'] == '2024-03-05T09:01:23-05:00'
        assert e['printed'] == '2024-03-05 09:01:23.602110'


def test_formats_parse_each_version():
    """One line of each format, generated in its zone, back to UTC."""
    when = datetime(2024, 7, 1, 12, 0, 5, tzinfo=UTC)
    kolkata = bundle.zone_named(KOLKATA)
    cases = [
        (formats.DogtagDebug11(), debug11(
            when, KOLKATA, 'x ] INFO: y',
            thread='ajp-nio-0:0:0:0:0:0:0:1-8009-exec-9'), kolkata),
        (formats.DogtagDebug10(), debug10(when, KOLKATA, 'x'), kolkata),
        (formats.Pkispawn(), pkispawn(when, KOLKATA, 'x'), kolkata),
        (formats.IpaInstall(), ipa(when, KOLKATA, 'x'), kolkata),
        (formats.DirsrvErrors(), ds(when, KOLKATA, 'x'), None),
    ]
    for fmt, line, zone in cases:
        assert formats.sniff(fmt.source, [line]).name == fmt.name, line
        event, = formats.parse_lines([line], fmt, zone, 'h', 'f')
        assert event.when.replace(microsecond=0) == when, (fmt.name, line)
    event, = formats.parse_lines([cases[0][1]], cases[0][0], kolkata, 'h',
                                 'f')
    assert event.text.endswith('x ] INFO: y')
    # 389-DS before issue 6117: -03:30 printed as -031800
    line = '[05/Mar/2024:10:30:00.000000000 -031800] - ERR - x - y'
    event, = formats.parse_lines([line], formats.DirsrvErrors(), None, 'h',
                                 'f')
    assert event.when == datetime(2024, 3, 5, 14, 0, tzinfo=UTC)


def test_journal_message_forms():
    line = json.dumps({'__REALTIME_TIMESTAMP': '1709647200000000',
                       'MESSAGE': [104, 105], 'PRIORITY': '3'})
    event, = formats.parse_lines([line], formats.Journal(), None, 'h', 'f')
    assert event.text == 'hi' and event.level == 'ERR'
    assert event.when == datetime(2024, 3, 5, 14, 0, tzinfo=UTC)


def test_command_human_and_json(tmp_path):
    """The installed console script, both outputs."""
    replica, master = hosts(tmp_path)
    session_lag(replica, master)
    roots = [replica.write(), master.write()]
    script = os.path.join(os.path.dirname(sys.executable), 'dogtag-diagnose')
    human = subprocess.run([script, 'analyse'] + roots, capture_output=True,
                           text=True, check=True).stdout
    assert 'Verdict: sd-session-lag' in human
    assert '2024-03-05T14:01:21Z | 09:01:21-05:00' in human
    out = subprocess.run([script, 'analyse', '--json'] + roots,
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out)['schema'] == timeline.SCHEMA
