"""No secret in any output; the evidence around it keeps its words.

The suite plants passwords, PINs, cookies, security-domain session IDs,
bearer tokens and Authorization headers into every log shape we read, as
upstream writes them (the shapes and their sources are listed in
ipahealthcheck_dogtag/logs/redact.py), then looks for them in every output:
`dogtag-healthcheck --source dogtag.logs` (json and human),
`dogtag-diagnose analyse` (text, --all, --json) and every member of the
archive `dogtag-diagnose collect` writes.
"""

import json
import os
import stat
import subprocess
import sys
import tarfile
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ipahealthcheck_dogtag.logs import redact
from logfixtures import (MASTER, REPLICA, T0, Host, debug10, debug11,
                         journal, pki_instance, replica_install)

BIN = os.path.dirname(sys.executable)
KOLKATA = 'Asia/Kolkata'
NEW_YORK = 'America/New_York'

# A session ID is a positive Java long in decimal (SecurityDomainProcessor
# .java, v10.5.0); the others are free text.
SID = '7303968214508451931'
PASSWORD = 'Pl4nted-Pw-6c1e'
PIN = 'Pl4ntedPin4417'
COOKIE = 'C00kie7E1A9B3F05D2'
BASIC = 'YWRtaW46UGw0bnRlZC1Qdw=='
BEARER = 'eyJQbDRudGVkIn0.Pl4ntedT0ken'
SECRETS = [SID, PASSWORD, PIN, COOKIE, BASIC, BEARER]
# What must survive the masking, word for word.
EVIDENCE = ['TokenAuthentication: session not found', 'PWD=/home/admin',
            'Internal Key Storage Token', 'master1.ipa.test', '0x1f4',
            'returned non-zero exit status 255',
            "'-D', 'cn=Directory Manager'",
            '/etc/pki/pki-tomcat/password.conf', 'Path=/ca',
            'Authorization: Basic ********',
            'ca-range-request request --session ********']


def s(n):
    return T0 + timedelta(seconds=n)


def debug_corpus():
    """Dogtag debug-log messages (10.5 and 11.x alike), secrets planted."""
    return [
        # ConfigurationUtils.java v10.5.0, the clone's range request
        'updateNumberRange content: {type=[serialNo], xmlOutput=[true], '
        'sessionID=[%s]}' % SID,
        # TokenAuthentication.java v10.5.0, on the master
        'TokenAuthentication: content={sessionID=[%s], hostname=[%s]}'
        % (SID, REPLICA),
        # TokenAuthenticate.java v10.5.0 to v11.5.0, on the domain host
        'TokenAuthentication: sessionId=%s' % SID,
        'TokenAuthentication: session not found',
        # TokenAuthenticate.java v11.10.0
        'TokenAuthenticate: Authenticating session %s' % SID,
        'TokenAuthenticate: Session not found: %s' % SID,
        # GetCookie.java v10.5.0 to v11.5.0
        'GetCookie before auth, url = https://%s:8443/ca/admin/ca/getCookie'
        '?sessionID=%s&subsystem=CA' % (MASTER, SID),
        'Cookie: %s' % SID,
        # PKIConnection.java v10.10.0 request and response headers
        '  Authorization: Basic %s' % BASIC,
        '  Authorization: Bearer %s' % BEARER,
        '  Set-Cookie: JSESSIONID=%s; Path=/ca; Secure; HttpOnly' % COOKIE,
        # ConfigurationRequest.toString v10.5.0; token= is a token's name
        'SystemConfigService: request: ConfigurationRequest [pin=%s, '
        'token=Internal Key Storage Token, tokenPassword=XXXX, bindpwd=%s]'
        % (PIN, PASSWORD),
        # TPSMessage.java v10.5.0 to v11.5.0
        'TPSMessage.createMessage: MSG_NEW_PIN_RESPONSE pin: %s' % PIN,
        # Tomcat access-log style query strings of the auth servlets
        'GET /ca/ee/ca/profileSubmit?uid=bob&pwd=%s&pin=%s&profileId=x'
        % (PASSWORD, PIN),
        'CertificateRepository: serial number 0x1f4 issued by %s' % MASTER,
    ]


# dogtagpki/pki pki/server/subsystem.py v10.10.0 request_range: the
# command it logs, and the CalledProcessError it raises, hold --session.
RANGE_COMMAND = (
    'Command: pki -d /etc/pki/pki-tomcat/alias -f /etc/pki/pki-tomcat/'
    'password.conf -U https://%s:8443 ca-range-request request --session %s '
    '--output-format json --debug' % (MASTER, SID))
RANGE_ERROR = (
    "CalledProcessError: Command '['pki', '-d', '/etc/pki/pki-tomcat/"
    "alias', '-f', '/etc/pki/pki-tomcat/password.conf', '-U', "
    "'https://%s:8443', 'ca-range-request', 'request', '--session', '%s', "
    "'--output-format', 'json']' returned non-zero exit status 255."
    % (MASTER, SID))


def pkispawn_corpus():
    return [
        RANGE_COMMAND,
        # pkilogging.py log_format: a dict dump; sensitive_parameters are
        # masked by pkispawn (XXXXXXXX), a key missing from the list is not
        "{'pki_admin_password': '%s', 'pki_one_time_pin': '%s', "
        "'pki_ds_password': 'XXXXXXXX'}" % (PASSWORD, PIN),
        # pkihelper.py v11.5.0 get_password
        '- internal: ********',
    ]


def ipa_corpus():
    """IPA install-log records (ipautil.run `args=`, admintool options,
    dogtaginstance.py's pkispawn file dump), release-4-12-0 shapes."""
    return [
        "args=['/usr/bin/ldapmodify', '-c', '-D', 'cn=Directory Manager', "
        "'-w', '%s', '-f', '/tmp/x.ldif']" % PASSWORD,
        "ipa-replica-install was invoked with arguments [] and options: "
        "{'password': '%s', 'dirsrv_pin': '%s'}" % (PASSWORD, PIN),
        'Contents of pkispawn configuration file (/tmp/tmp_x):\n'
        '[CA]\npki_admin_password = %s\npki_client_pkcs12_password = %s\n'
        'pki_security_domain_hostname = %s' % (PASSWORD, PASSWORD, MASTER),
        'stderr=  Set-Cookie: JSESSIONID=%s; Path=/ca; Secure' % COOKIE,
    ]


# sudo's journal line: `<user> : TTY=<tty> ; PWD=<dir> ; USER=<user> ;
# COMMAND=<command line>`, the command line verbatim.
SUDO = ('admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=/usr/sbin'
        '/ipa-replica-install --password %s --admin-password %s'
        % (PASSWORD, PASSWORD))


def journal_corpus():
    return [SUDO, 'SEVERE: TokenAuthenticate: Session not found: %s' % SID,
            'Cookie: JSESSIONID=%s' % COOKIE]


def ds_access_corpus():
    # LDAPSecurityDomainSessionTable.java v10.5.0 to v11.5.0: the session
    # entry's DN, as 389-DS's access log prints its operations.
    dn = 'cn=%s,ou=sessions,ou=Security Domain,o=ipaca' % SID
    return ['conn=12 op=3 ADD dn="%s"' % dn,
            'conn=12 op=3 RESULT err=0 tag=105 nentries=0 etime=0.01',
            'conn=14 op=1 SRCH base="%s" scope=0 filter="(objectClass=*)" '
            'attrs=ALL' % dn,
            'conn=14 op=1 RESULT err=32 tag=101 nentries=0 etime=0.00']


def plant(host):
    """Every corpus into a host tree, inside a failed replica install."""
    replica_install(host, T0, pkispawn_errors=[(85, RANGE_ERROR)])
    for i, msg in enumerate(debug_corpus()):
        host.debug(s(70 + i), msg, 'SEVERE' if 'not found' in msg else 'INFO')
    for i, msg in enumerate(pkispawn_corpus()):
        host.pkispawn(s(82 + i / 10), msg, 'DEBUG')
    for i, msg in enumerate(ipa_corpus()):
        host.ipa(s(64 + i / 10), msg)
    for i, msg in enumerate(ds_access_corpus()):
        host.access(s(75 + i), msg)
    host.ds(s(76), 'NSMMReplicationPlugin - bindPassword=%s rejected for '
            'cn=%s,ou=sessions,ou=Security Domain,o=ipaca' % (PASSWORD, SID))
    # sos's journal text: `Mon dd HH:MM:SS host ident[pid]: message`
    local = s(90).astimezone(ZoneInfo(host.zone))
    stamp = local.strftime('%b %d %H:%M:%S')
    short = host.fqdn.split('.')[0]
    host.add('sos_commands/logs/journalctl_--no-pager', [
        '%s %s sudo[4242]: %s' % (stamp, short, SUDO),
        '%s %s server[777]: SEVERE: TokenAuthenticate: Session not found: '
        '%s' % (stamp, short, SID)])
    return host.write()


def no_secret(text, where):
    for secret in SECRETS:
        assert secret not in text, '%s leaks %s' % (where, secret)


def test_the_redactor_masks_values_and_keeps_words():
    """One line per upstream shape: the value goes, the words stay. The
    first three lines came out garbled before (any word holding "token",
    "pwd" or "cookie" counted as a key; ldapmodify's `-c` as a password
    option); the next ones leaked."""
    r = redact.Redactor()
    kept = ['[exec-3] TokenAuthentication: session not found',
            'TTY=pts/0 ; PWD=/home/admin ; USER=root',
            "args=['/usr/bin/ldapmodify', '-c', '-D', 'cn=Directory "
            "Manager', '-f', '/tmp/x.ldif']",
            "args=['/usr/bin/certutil', '-d', '/etc/pki/pki-tomcat/alias', "
            "'-S', '-c', 'caSigningCert cert-pki-ca', '-n', 'x']",
            "Command '['bash', '-c', 'source /etc/sysconfig/pki-tomcat']'",
            # pki/server/cli/cert.py v10.10.0: an HSM token's name
            'Token: Internal Key Storage Token',
            'GetCookie init', 'DownloadPKCS12 process: Failed to get the pin '
            'from the cookie.',
            'LdapAuthInfo: getPasswordFromStore: password for internaldb',
            'ConfigurationRequest [pin=XXXX, token=Internal Key Storage '
            'Token, tokenPassword=XXXX, importSharedSecret=false]',
            'pki -C /tmp/pw --pkcs12-password-file /tmp/p12 --install-token '
            '/tmp/install-token ca-range-request serialNo',
            'Error (0) No replication sessions started since server startup',
            '  Authorization: ********']
    for line in kept:
        assert r(line) == line
    assert r.total == 0
    masked = {
        RANGE_COMMAND: RANGE_COMMAND.replace(SID, redact.MASK),
        RANGE_ERROR: RANGE_ERROR.replace(SID, redact.MASK),
        'TokenAuthenticate: Session %s valid' % SID:
            'TokenAuthenticate: Session ******** valid',
        'conn=1 op=2 DEL dn="cn=%s,ou=sessions,ou=Security Domain,o=ipaca"'
        % SID: 'conn=1 op=2 DEL dn="cn=********,ou=sessions,ou=Security '
        'Domain,o=ipaca"',
        'Set-Cookie: JSESSIONID=%s; Path=/ca; Secure' % COOKIE:
            'Set-Cookie: JSESSIONID=********; Path=/ca; Secure',
        'Authorization: Bearer %s' % BEARER: 'Authorization: Bearer ********',
        'GET /x?uid=bob&pwd=%s&pin=%s&profileId=caServerCert' % (
            PASSWORD, PIN): 'GET /x?uid=bob&pwd=********&pin=********&'
        'profileId=caServerCert',
        # pki/cli/main.py v10.10.0: the NSS password after `pki -c`
        "Command '['pki', '-d', '/tmp/db', '-c', '%s', 'client-init']'"
        % PASSWORD: "Command '['pki', '-d', '/tmp/db', '-c', '********', "
        "'client-init']'",
        '/usr/bin/pki -c %s -U https://x:8443 ca-cert-find' % PASSWORD:
            '/usr/bin/pki -c ******** -U https://x:8443 ca-cert-find',
        'nsslapd-rootpw: {PBKDF2_SHA256}%s' % PASSWORD:
            'nsslapd-rootpw: ********',
        "{'pki_ds_password': 'XXXXXXXX', 'pki_one_time_pin': '%s'}" % PIN:
            "{'pki_ds_password': 'XXXXXXXX', 'pki_one_time_pin': "
            "'********'}",
    }
    for line, expected in masked.items():
        assert r(line) == expected
    assert r.counts['option'] == 2 and r.counts['session-word'] == 1
    assert r.counts['session-dn'] == 1 and r.counts['cookie'] == 1
    assert r.counts['pki-password'] == 2


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A PKI instance whose CA (PKI 11) and KRA (PKI 10.5) debug logs hold
    an LDAP 68 add and a failed range request, secrets planted in both."""
    monkeypatch.setenv('TZ', KOLKATA)
    root, conf = pki_instance(tmp_path)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    when = now - timedelta(minutes=20)
    day = when.astimezone(ZoneInfo(KOLKATA)).strftime('%Y-%m-%d')
    corpus = debug_corpus()
    records = [
        # LDAPSession.java v11.5.0, with the exception's context after it
        ('Unable to add certificate record: Unable to add LDAP entry: '
         'Already exists', ['bindPassword=%s' % PASSWORD] + corpus),
        # UpdateNumberRange.java v10.10.0+ on the master
        ('UpdateNumberRange: Unable to update number range: sessionID=%s'
         % SID, ['  Authorization: Basic %s' % BASIC, RANGE_ERROR]),
    ]
    ca, kra = [], []
    for text, rest in records:
        ca += [debug11(when, KOLKATA, text, 'SEVERE')] + rest
        kra += [debug10(when, KOLKATA, text)] + rest
    (root / 'logs' / 'ca' / ('debug.%s.log' % day)).write_text(
        '\n'.join(ca) + '\n')
    (root / 'logs' / 'kra' / 'debug').write_text('\n'.join(kra) + '\n')
    return conf


def test_dogtag_logs_outputs_hold_no_secret(instance):
    """Issue 12: the `*_example` fields copied the record verbatim."""
    base = [os.path.join(BIN, 'dogtag-healthcheck'), '--config', instance,
            '--source', 'dogtag.logs']
    out = {kind: subprocess.run(base + ['--output-type', kind],
                                capture_output=True, text=True)
           for kind in ('json', 'human')}
    for kind, done in out.items():
        assert 'Traceback' not in done.stderr
        no_secret(done.stdout + done.stderr, 'dogtag.logs %s' % kind)
    results = {r['kw']['key']: r for r in json.loads(out['json'].stdout)}
    for key in ('ca.debug', 'kra.debug'):
        kw = results[key]['kw']
        assert kw['already_exists'] == 1 and kw['range_failures'] == 1
        example = kw['already_exists_example']
        assert 'Unable to add LDAP entry: Already exists' in example
        assert 'bindPassword=********' in example
        assert 'TokenAuthentication: sessionId=********' in example
        assert 'UpdateNumberRange: Unable to update number range: ' \
            'sessionID=********' in kw['range_failures_example']
        assert 'Authorization: Basic ********' in \
            kw['range_failures_example']
    assert 'ca.debug' in out['human'].stdout


def diagnose(*args):
    done = subprocess.run([os.path.join(BIN, 'dogtag-diagnose')] +
                          list(args), capture_output=True, text=True)
    assert 'Traceback' not in done.stderr
    return done


@pytest.mark.parametrize('pki', ['11', '10.5'])
def test_analyse_outputs_hold_no_secret(tmp_path, pki):
    """Issue 13: the 10.10 `--session <id>` printed by analyse, in every
    output mode; and the evidence keeps its words."""
    replica = plant(Host(tmp_path, REPLICA, KOLKATA, pki))
    master = Host(tmp_path, MASTER, NEW_YORK, pki)
    master.debug(s(81), 'UpdateNumberRange: Authentication failed', 'SEVERE')
    for i, msg in enumerate(debug_corpus()):
        master.debug(s(78 + i / 10), msg, 'SEVERE')
    master = master.write()
    outputs = {}
    for mode in ([], ['--all'], ['--json'], ['--json', '--all']):
        done = diagnose('analyse', replica, master, *mode)
        assert done.returncode == 0, done.stderr
        no_secret(done.stdout + done.stderr, 'analyse %s' % mode)
        outputs[' '.join(mode)] = done.stdout
    report = json.loads(outputs['--json --all'])
    assert report['verdict'] == 'sd-session-lag'
    text = '\n'.join(e['text'] for e in report['timeline'])
    for word in EVIDENCE:
        assert word in text, word
    assert 'TokenAuthentication: session not found' in outputs['--all']
    assert 'PWD=/home/admin' in outputs['--all']


def fake_journalctl(tmp_path, when):
    path = str(tmp_path / 'journalctl')
    lines = [journal(when, KOLKATA, msg) for msg in journal_corpus()]
    with open(path, 'w') as f:
        f.write('#!/bin/sh\ncase "$*" in *pki-tomcatd@*)\ncat <<"EOF"\n%s\n'
                'EOF\n;;\nesac\n' % '\n'.join(lines))
    os.chmod(path, stat.S_IRWXU)
    return path


@pytest.mark.parametrize('pki', ['11', '10.5'])
def test_collect_archive_holds_no_secret(tmp_path, pki):
    """Every member of the archive (logs, journal, manifest) and analyse
    of the archive; the words of the evidence stay."""
    from ipahealthcheck_dogtag.logs import collect
    root = plant(Host(tmp_path, REPLICA, KOLKATA, pki))
    path, manifest = collect.collect(
        root, s(-3600), s(3600), str(tmp_path / 'a.tar.gz'),
        journalctl=fake_journalctl(tmp_path, s(84)))
    members = {}
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            if member.isfile():
                members[member.name] = tar.extractfile(member).read().decode()
    assert any('/journal/' in name for name in members)
    assert any(name.endswith('/access') for name in members)
    for name, text in members.items():
        no_secret(text, name)
    everything = '\n'.join(members.values())
    for word in EVIDENCE:
        assert word in everything, word
    assert manifest['redactions']['session-dn'] >= 2
    done = diagnose('collect', '--root', root, '-o',
                    str(tmp_path / 'b.tar.gz'), '--since',
                    s(-3600).isoformat(), '--until', s(3600).isoformat())
    assert done.returncode == 0, done.stderr
    no_secret(done.stdout + done.stderr, 'collect')
    for mode in ([], ['--all'], ['--json']):
        done = diagnose('analyse', path, *mode)
        no_secret(done.stdout + done.stderr, 'analyse of the archive')
