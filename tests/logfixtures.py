"""Log files generated in each upstream format, for hosts in given zones.

Line shapes follow the formatters cited in ipahealthcheck_dogtag/logs/
formats.py: PKIFormatter (PKI >= 10.6), Debug.java (PKI 10.5), pkilogging.py
(pkispawn 10.5 and 10.8+), ipa_log_manager.py (IPA, UTC with 'Z'), 389-DS's
`[dd/Mon/yyyy:HH:MM:SS.nnnnnnnnn +zzzz]`, journal JSON (epoch microseconds).
"""

import json
import os
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc


def pki_instance(tmp_path):
    """A PKI instance directory with CA and KRA CS.cfg and empty debug-log
    directories, and a healthcheck configuration that reads its logs over
    the last 6 hours (and names a 389-DS socket that is not there)."""
    root = tmp_path / 'pki-tomcat'
    for sub in ('ca', 'kra'):
        (root / 'conf' / sub).mkdir(parents=True)
        (root / 'conf' / sub / 'CS.cfg').write_text(
            'internaldb.basedn=o=ipaca\n')
        (root / 'logs' / sub).mkdir(parents=True)
    conf = tmp_path / 'hc.conf'
    conf.write_text('[default]\ndogtag_instance_dir = %s\n'
                    'dogtag_ldap_uri = %s\ndogtag_log_hours = 6\n'
                    % (root, tmp_path / 'no-such-socket'))
    return root, str(conf)


def local(when, zone):
    return when.astimezone(ZoneInfo(zone))


def debug11(when, zone, msg, level='INFO',
            thread='https-jsse-nio-8443-exec-3'):
    return '%s [%s] %s: %s' % (local(when, zone).strftime('%Y-%m-%d %H:%M:%S'),
                               thread, level, msg)


def debug10(when, zone, msg, thread='http-bio-8443-exec-3', level=None):
    return '[%s][%s]: %s' % (local(when, zone).strftime('%d/%b/%Y:%H:%M:%S'),
                             thread, msg)


def pkispawn(when, zone, msg, level='INFO'):
    return '%s %s: %s' % (local(when, zone).strftime('%Y-%m-%d %H:%M:%S'),
                          level, msg)


def pkispawn10(when, zone, msg, level='INFO'):
    return '%s %-12s: %-8s %s' % (
        local(when, zone).strftime('%Y-%m-%d %H:%M:%S'), 'pkispawn', level,
        msg)


def ipa(when, zone, msg, level='DEBUG'):
    return '%s %s %s' % (when.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ'),
                         level, msg)


def ds(when, zone, msg, level='ERR', subsystem='NSMMReplicationPlugin'):
    t = local(when, zone)
    return '[%s.%09d %s] - %s - %s - %s' % (
        t.strftime('%d/%b/%Y:%H:%M:%S'), t.microsecond * 1000,
        t.strftime('%z'), level, subsystem, msg)


def ds_access(when, zone, msg):
    t = local(when, zone)
    return '[%s.%09d %s] %s' % (t.strftime('%d/%b/%Y:%H:%M:%S'),
                                t.microsecond * 1000, t.strftime('%z'), msg)


def journal(when, zone, msg, unit='pki-tomcatd@pki-tomcat.service',
            priority=3):
    micros = int((when - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()
                 * 1e6)
    return json.dumps({'__REALTIME_TIMESTAMP': str(micros),
                       '_SYSTEMD_UNIT': unit, 'SYSLOG_IDENTIFIER': 'server',
                       'PRIORITY': str(priority), 'MESSAGE': msg})


class Host:
    """A host tree laid out as a sosreport (and as a live root)."""

    def __init__(self, base, fqdn, zone, pki='11'):
        self.root = os.path.join(str(base), 'sosreport-%s' % fqdn.split('.')[0])
        self.fqdn = fqdn
        self.zone = zone
        self.pki = pki
        self.files = {}
        os.makedirs(os.path.join(self.root, 'etc'), exist_ok=True)
        os.makedirs(os.path.join(self.root, 'sos_commands', 'host'),
                    exist_ok=True)
        os.symlink('../usr/share/zoneinfo/%s' % zone,
                   os.path.join(self.root, 'etc', 'localtime'))
        with open(os.path.join(self.root, 'sos_commands', 'host',
                               'hostname_-f'), 'w') as f:
            f.write(fqdn + '\n')

    def add(self, path, lines):
        self.files.setdefault(path, []).extend(lines)

    def debug(self, when, msg, level='INFO', sub='ca'):
        if self.pki == '10.5':
            path = 'var/log/pki/pki-tomcat/%s/debug' % sub
            self.add(path, [debug10(when, self.zone, msg)])
        else:
            day = local(when, self.zone).strftime('%Y-%m-%d')
            path = 'var/log/pki/pki-tomcat/%s/debug.%s.log' % (sub, day)
            self.add(path, [debug11(when, self.zone, msg, level)])

    def pkispawn(self, when, msg, level='INFO', name=None):
        fmt = pkispawn10 if self.pki == '10.5' else pkispawn
        self.add(name or self.spawn_name, [fmt(when, self.zone, msg, level)])

    def ipa(self, when, msg, level='DEBUG', log='ipareplica-install.log'):
        self.add('var/log/%s' % log, [ipa(when, self.zone, msg, level)])

    def ds(self, when, msg, level='ERR', subsystem='NSMMReplicationPlugin'):
        self.add('var/log/dirsrv/slapd-IPA-TEST/errors',
                 [ds(when, self.zone, msg, level, subsystem)])

    def access(self, when, msg):
        self.add('var/log/dirsrv/slapd-IPA-TEST/access',
                 [ds_access(when, self.zone, msg)])

    def start_spawn(self, when):
        self.spawn_name = 'var/log/pki/pki-ca-spawn.%s.log' % local(
            when, self.zone).strftime('%Y%m%d%H%M%S')
        return self.spawn_name

    def write(self):
        for path, lines in self.files.items():
            full = os.path.join(self.root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'w') as f:
                f.write('\n'.join(lines) + '\n')
        return self.root


T0 = datetime(2024, 3, 5, 14, 0, 0, tzinfo=UTC)
REPLICA = 'replica1.ipa.test'
MASTER = 'master1.ipa.test'


def replica_install(replica, t0, fail_step_msg=None, pkispawn_errors=(),
                    admin_created=True, failed=True):
    """The replica's IPA log (and pkispawn log) of an ipa-replica-install."""
    s = lambda n: t0 + timedelta(seconds=n)  # noqa: E731
    replica.ipa(s(0), 'Logging to /var/log/ipareplica-install.log')
    replica.ipa(s(1), 'ipa-replica-install was invoked with arguments [] '
                'and options: {\'setup_ca\': True, \'admin_password\': '
                '\'********\'}')
    replica.ipa(s(30), 'Configuring certificate server (pki-tomcatd). '
                'Estimated time: 3 minutes', 'INFO')
    replica.ipa(s(31), '  [1/30]: creating certificate server db', 'INFO')
    replica.ipa(s(40), '  [2/30]: setting up initial replication', 'INFO')
    if admin_created:
        replica.ipa(s(60), '  [4/30]: creating installation admin user',
                    'INFO')
    replica.ipa(s(62), '  [5/30]: configuring certificate server instance',
                'INFO')
    name = replica.start_spawn(s(63))
    replica.ipa(s(63), "args=['/usr/sbin/pkispawn', '-s', 'CA', '-f', "
                "'/tmp/tmp_x', '--log-file', '/%s', '--debug']" % name)
    replica.pkispawn(s(64), 'Installing CA into /var/lib/pki/pki-tomcat')
    replica.pkispawn(s(70), 'Getting install token')
    replica.pkispawn(s(80), 'Requesting serial number range')
    for n, msg in pkispawn_errors:
        replica.pkispawn(s(n), msg, 'ERROR')
    if failed:
        replica.ipa(s(120), 'Process finished, return code=1')
        replica.ipa(s(121), 'Failed to configure CA instance', 'CRITICAL')
        replica.ipa(s(122), '  [error] RuntimeError: %s' % (
            fail_step_msg or 'CA configuration failed.'), 'INFO')
        replica.ipa(s(123), 'The ipa-replica-install command failed, '
                    'exception: RuntimeError: CA configuration failed.')
        replica.ipa(s(124), 'The ipa-replica-install command failed. See '
                    '/var/log/ipareplica-install.log for more information',
                    'ERROR')
    else:
        replica.ipa(s(110), '  [8/30]: destroying installation admin user',
                    'INFO')
        replica.ipa(s(130), 'The ipa-replica-install command was successful',
                    'INFO')


def journal_short(when, zone, host, msg, ident='server', pid=2345):
    """journalctl's `short` line (systemd logs-show.c output_short: '%b %d
    %H:%M:%S', the short host name, ident[pid])."""
    return '%s %s %s[%d]: %s' % (local(when, zone).strftime('%b %d %H:%M:%S'),
                                 host.split('.')[0], ident, pid, msg)


def syslog_line(when, zone, host, msg, ident='server'):
    """rsyslog's RSYSLOG_TraditionalFileFormat (RHEL 7's /var/log/messages):
    RFC 3164 time, day padded with a space; no pid when the journal entry
    had no SYSLOG_PID (a service's console output)."""
    t = local(when, zone)
    return '%s %2d %s %s %s: %s' % (t.strftime('%b'), t.day,
                                    t.strftime('%H:%M:%S'),
                                    host.split('.')[0], ident, msg)


def sos_journal_names(version, since=None):
    """{'whole'|'boot'|'last': file name below sos_commands/logs/} as sos
    `version` names its journal copies, `since` as given to `sos report
    --since` (a datetime). From sosreport/sos logs.py and add_journal /
    _mangle_command by tag (see ipahealthcheck_dogtag/logs/bundle.py)."""
    base = 'journalctl_--no-pager'
    tail = '_--since_' + since.strftime('%Y-%m-%d_%H_%M_%S') if since else ''
    if version == '3.5':
        return {'boot': base + '_--boot'}
    if version in ('3.6', '3.7', '3.8'):
        return {'boot': base + '_--catalog_--boot',
                'last': base + '_--catalog_--boot_-1'}
    if version == '3.9':        # --since reaches the whole journal only
        return {'whole': base + tail, 'boot': base + '_--catalog_--boot',
                'last': base + '_--catalog_--boot_-1'}
    boot = base + ('_--catalog' if version in ('4.0', '4.1', '4.2', '4.3')
                   else '') + '_--boot'
    return {'whole': base + tail, 'boot': boot + tail,
            'last': boot + '_-1' + tail}
