"""Find the local Dogtag CA database: CS.cfg files, PKI version, the 389-DS URI.

Everything here reads files only. Problems are raised as `Problem`s: the
name of a finding of the catalog (findings/common.py) with its facts; the
checks turn them into results.
"""

import glob
import io
import math
import os
import pwd
import re
import socket
import stat
from urllib.parse import quote

import ldif

PKI_INSTANCE_ROOT = '/var/lib/pki'
DEFAULT_INSTANCE_DIR = '/var/lib/pki/pki-tomcat'
PKI_VERSION_FILE = '/usr/share/pki/VERSION'
IPA_DEFAULT_CONF = '/etc/ipa/default.conf'
DIRSRV_CONF_DIR = '/etc/dirsrv'
SUBSYSTEMS = ('ca', 'kra')
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')


class Problem(Exception):
    """A problem met below the checks: the name of the catalog's finding,
    the result's key and the facts it carries. Modules below the findings
    layer raise it without importing the catalog."""

    def __init__(self, name, key=None, **facts):
        super().__init__(name)
        self.name = name
        self.key = key
        self.facts = facts


class Settings:
    """Our optional keys from the `[default]` section of the healthcheck config.

    A numeric key whose value we cannot use is never silently replaced: its
    default is used meanwhile and `problems` says so; every check that uses
    the key reports it (key `config`).
    """

    def __init__(self, config):
        self.problems = {}              # key -> SettingProblem
        self._config = config
        self._instance_dir = _option(config, 'dogtag_instance_dir')
        self.ldap_uri = _option(config, 'dogtag_ldap_uri')
        self.pki_version = _option(config, 'dogtag_pki_version')
        self.ipa_basedn = _option(config, 'dogtag_ipa_basedn')
        # CODE[:key] entries: the findings silenced one by one.
        self.exclude = _option(config, 'dogtag_exclude')
        self.timeout = self._number(config, NUMERIC['timeout'])
        self.agreement_failure_hours = self._number(
            config, NUMERIC['dogtag_agreement_failure_hours'])
        self.admin_grace_minutes = self._number(
            config, NUMERIC['dogtag_admin_grace_minutes'])
        self.log_hours = self._number(config, NUMERIC['dogtag_log_hours'])
        self.max_agreements = self._number(
            config, NUMERIC['dogtag_max_agreements'])

    @property
    def instance_dir(self):
        """dogtag_instance_dir, else /var/lib/pki/<instance_name>.

        pki-healthcheck's own registries merge `instance_name` from the
        [dogtag] section of /etc/pki/healthcheck.conf into the shared config
        when they are initialized (dogtagpki/pki v11.5.4, base/server/
        healthcheck/pki/server/healthcheck/core/main.py merge_dogtag_config,
        called from meta/plugin.py MetaRegistry.initialize), which may be
        after ours: so it is read when the first check needs it.
        """
        if self._instance_dir:
            return self._instance_dir
        name = _option(self._config, 'instance_name')
        if name is None:
            return None
        return os.path.join(PKI_INSTANCE_ROOT, name)

    @property
    def instance_dir_source(self):
        if self._instance_dir:
            return 'dogtag_instance_dir'
        return 'instance_name' if _option(self._config, 'instance_name') \
            else None

    def _number(self, config, spec):
        value, problem = spec.read(_raw(config, spec.name))
        if problem is not None:
            self.problems[spec.name] = problem
        return value


class SettingProblem:
    def __init__(self, spec, value):
        self.name = spec.name
        self.value = value
        self.accepted = spec.accepted
        self.default = spec.default


class NumberSetting:
    """A numeric key: its default and the values accepted."""

    def __init__(self, name, default, maximum, unit, whole=False):
        self.name = name
        self.default = default
        self.maximum = maximum
        self.unit = unit
        self.whole = whole

    @property
    def accepted(self):
        return '%s number of %s from 0 to %s' % (
            'a whole' if self.whole else 'a', self.unit, self.maximum)

    def read(self, raw):
        """(value to use, SettingProblem or None)."""
        if raw is None:
            return self.default, None
        text = str(raw).strip()
        value = None
        # bool first: the core turns "true"/"false" into booleans.
        if not isinstance(raw, bool) and len(text) <= 32:
            try:
                value = float(text) if not self.whole else int(text)
            except ValueError:
                value = None
        if value is None or not math.isfinite(value) or \
                not 0 <= value <= self.maximum:
            return self.default, SettingProblem(self, text)
        return (int(value) if value == int(value) else value), None


NUMERIC = {spec.name: spec for spec in (
    # ipahealthcheck's own per-check alarm; 0 disables it and our budget.
    NumberSetting('timeout', 10, 86400, 'seconds', whole=True),
    NumberSetting('dogtag_agreement_failure_hours', 24, 87600, 'hours'),
    NumberSetting('dogtag_admin_grace_minutes', 60, 5256000, 'minutes'),
    NumberSetting('dogtag_log_hours', 24, 8760, 'hours'),
    # freeipa/freeipa release-4-13-3 ipalib/constants.py
    # recommended_max_agmts, read by ipaserver/plugins/topology.py
    # topologysuffix_verify (the same 4 since release-4-3-0).
    NumberSetting('dogtag_max_agreements', 4, 1000, 'agreements',
                  whole=True),
)}


def _raw(config, name):
    """The key's value as the config holds it, or None when absent/empty."""
    try:
        if name in config:
            value = config[name]
            return None if value in ('', None) else value
    except (TypeError, KeyError):
        pass
    return None


def _option(config, name):
    """A config value or None; ipahealthcheck's Config raises on getattr."""
    try:
        if name in config:
            value = config[name]
            return None if value in ('', None) else str(value)
    except (TypeError, KeyError):
        pass
    return None


class Subsystem:
    """One Dogtag subsystem (ca or kra) of the instance, from its CS.cfg."""

    def __init__(self, name, path, cfg):
        self.name = name
        self.path = path
        self.cfg = cfg

    def get(self, key, default=None):
        return self.cfg.get(key, default)

    @property
    def basedn(self):
        return self.cfg.get('internaldb.basedn') or 'o=ipaca'

    @property
    def database(self):
        return self.cfg.get('internaldb.database') or 'ipaca'


class CADatabase:
    """What discovery found: the instance, its subsystems and where its data is."""

    def __init__(self, instance_dir, subsystems, pki_version, ldap_uri,
                 problems=None, ipa_basedn=None, hostname=None):
        self.instance_dir = instance_dir
        self.ipa_basedn = ipa_basedn            # None: a standalone Dogtag
        self.hostname = hostname
        self.instance_id = os.path.basename(os.path.normpath(instance_dir))
        self.subsystems = subsystems
        self.problems = problems or {}          # subsystem name -> Problem
        self.pki_version = pki_version          # tuple or None
        self.ldap_uri = ldap_uri                # None: see ldap_problem
        self.ldap_problem = None                # Problem: no 389-DS found

    @property
    def pki_version_text(self):
        if self.pki_version is None:
            return 'unknown'
        return '.'.join(str(n) for n in self.pki_version)

    def subsystem(self, name):
        return self.subsystems.get(name)


class NoCA:
    """This host has no Dogtag CA: a quiet, successful answer."""

    def __init__(self, reason):
        self.reason = reason


# Size caps for the files we read: far above any real one, far below what
# would hurt (a CS.cfg is a few hundred KB, dse.ldif a few MB).
CS_CFG_LIMIT = 16 * 1024 * 1024
SMALL_FILE_LIMIT = 1024 * 1024
DSE_LDIF_LIMIT = 64 * 1024 * 1024


class Refused(OSError):
    """A file we will not read: not a regular file, or too large."""


def read_regular(path, limit):
    """The bytes of a regular file of at most `limit` bytes.

    Devices, FIFOs, sockets and directories are refused before they are
    opened (stat follows symlinks, so a symlink to /dev/zero is refused as
    a device), and again after (fstat of what was opened, in case the path
    changed in between); O_NONBLOCK keeps a FIFO from blocking the open.
    Raises Refused, or the OSError of stat/open.
    """
    _check_regular(os.stat(path), limit)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        _check_regular(os.fstat(fd), limit)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise Refused('it grew beyond %d bytes while being read' % limit)
    return b''.join(chunks)


def _check_regular(st, limit):
    kind = _file_kind(st.st_mode)
    if kind != 'regular file':
        raise Refused('it is a %s, not a regular file' % kind)
    if st.st_size > limit:
        raise Refused('it holds %d bytes, more than the %d a real one can '
                      'have' % (st.st_size, limit))


def _file_kind(mode):
    for test, name in ((stat.S_ISREG, 'regular file'),
                       (stat.S_ISDIR, 'directory'),
                       (stat.S_ISCHR, 'character device'),
                       (stat.S_ISBLK, 'block device'),
                       (stat.S_ISFIFO, 'FIFO (named pipe)'),
                       (stat.S_ISSOCK, 'socket')):
        if test(mode):
            return name
    return 'special file'


def read_text(path, limit=SMALL_FILE_LIMIT):
    """A small regular text file, or None if it is missing or refused."""
    try:
        return read_regular(path, limit).decode('utf-8', 'replace')
    except OSError:
        return None


def caller():
    """Who this process runs as, for messages: `nobody (uid 65534)`."""
    uid = os.geteuid()
    try:
        return '%s (uid %d)' % (pwd.getpwuid(uid).pw_name, uid)
    except KeyError:
        return 'uid %d' % uid


def _blocked_at(path):
    """The first directory on the way to `path` this process may not
    enter, or `path` itself when the way is open."""
    effective = os.access in os.supports_effective_ids
    parts = os.path.abspath(path).split(os.sep)
    for n in range(2, len(parts)):
        ancestor = os.sep.join(parts[:n]) or os.sep
        if os.path.isdir(ancestor) and not os.access(
                ancestor, os.X_OK, effective_ids=effective):
            return ancestor
    return path


PKI_ACCESS = ('the Dogtag configuration, which PKI lets only root and the '
              'PKI user read (mode 0770), so whether a CA is configured '
              'here is not known')
DIRSRV_ACCESS = ('the 389-DS configuration, to find the LDAPI socket of '
                 'the instance that holds the CA database')


def no_access(key, path, error, expected=PKI_ACCESS):
    """The Problem for a path this process is not allowed to read.

    PKI creates the instance directory and its subdirectories with mode
    0770 and its files with 0660, owned by the PKI user (dogtagpki/pki
    v11.5.4, base/server/python/pki/server/__init__.py, DEFAULT_DIR_MODE,
    DEFAULT_FILE_MODE, PKIServer.makedirs): only root and that user can
    look in. Not being allowed to look is no answer about what is there.
    """
    return Problem('no-access', key, path=path,
                   error=error.strerror or str(error), user=caller(),
                   blocked=_blocked_at(path), needed=expected)


def is_directory(path, key):
    """True for a directory, False when nothing is there (or not a
    directory); raises Problem when this process cannot look."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except PermissionError as e:        # EACCES, EPERM
        raise no_access(key, path, e)
    except OSError as e:
        raise Problem('cannot-look', key, path=path,
                      error=e.strerror or str(e))


def read_cs_cfg(path):
    """Parse CS.cfg. Raises Problem when unusable."""
    key = '%s.config' % _subsystem_of(path)
    try:
        data = read_regular(path, CS_CFG_LIMIT)
    except FileNotFoundError:
        raise Problem('cs-cfg-missing', key, path=path)
    except PermissionError as e:
        raise no_access(key, path, e)
    except Refused as e:
        raise Problem('cs-cfg-refused', key, path=path, reason=str(e))
    except OSError as e:
        raise Problem('cs-cfg-unreadable', key, path=path,
                      error=e.strerror or str(e))
    cfg = parse_properties(data)
    if not cfg:
        raise Problem('cs-cfg-empty', key, path=path)
    return cfg


# Dogtag's own CS.cfg reader (dogtagpki/pki v11.5.4, base/server/src/main/
# java/com/netscape/cmscore/base/SimpleProperties.java, load()): the file
# is decoded as ISO-8859-1, so no byte is ever an error; a line whose first
# character is '#' or '!' is a comment; a line ending in an odd number of
# backslashes continues on the next (whose leading blanks are dropped); the
# key ends at the first '=', ':' or blank, and one '=' or ':' plus blanks
# around it separate it from the value; the last duplicate wins. Values are
# trimmed when read (ConfigStore.getString).
_BLANKS = ' \t\r\n\f'
_LINE_END = re.compile(r'\r\n|\r|\n')


def parse_properties(data):
    text = data.decode('iso-8859-1')
    lines = iter(_LINE_END.split(text))
    cfg = {}
    for line in lines:
        if not line or line[0] in '#!':
            continue
        while _continues(line):
            line = line[:-1] + next(lines, '').lstrip(_BLANKS)
        key_start = len(line) - len(line.lstrip(_BLANKS))
        end = key_start
        while end < len(line) and line[end] not in '=:' + _BLANKS:
            end += 2 if line[end] == '\\' else 1
        end = min(end, len(line))
        rest = line[end:].lstrip(_BLANKS)
        if rest[:1] in ('=', ':'):
            rest = rest[1:]
        key = line[key_start:end]
        if key:
            cfg[key] = _utf8(rest.strip(_BLANKS))
    return cfg


def _continues(line):
    return (len(line) - len(line.rstrip('\\'))) % 2 == 1


def _utf8(value):
    """Non-ASCII values as UTF-8 where they are, else as ISO-8859-1."""
    try:
        return value.encode('iso-8859-1').decode('utf-8')
    except UnicodeDecodeError:
        return value


def _subsystem_of(path):
    name = os.path.basename(os.path.dirname(path))
    return name if name in SUBSYSTEMS else 'ca'


def parse_version(text):
    # ASCII digits, a few of them: a version, not a number to convert.
    match = re.search(r'(?<![0-9])([0-9]{1,6})\.([0-9]{1,6})'
                      r'(?:\.([0-9]{1,6}))?(?![0-9])', text or '')
    if not match:
        return None
    return tuple(int(n) for n in match.groups(default='0'))


def installed_pki_version(path=None):
    """`Specification-Version` from /usr/share/pki/VERSION, or None."""
    text = read_text(path or PKI_VERSION_FILE) or ''
    for line in text.splitlines():
        if line.startswith('Specification-Version:'):
            return parse_version(line.split(':', 1)[1][:100])
    return None


def ldapi_uri_for(socket_path):
    return 'ldapi://' + quote(socket_path, safe='')


def _dse_ldapi_path(dse_ldif):
    """nsslapd-ldapifilepath of `cn=config` in a dse.ldif, or None.

    Read with python-ldap's LDIF parser, so that folded lines, base64
    values and comments are taken as 389-DS writes them.
    """
    try:
        data = read_regular(dse_ldif, DSE_LDIF_LIMIT)
    except OSError:
        return None
    parser = _ConfigEntry(io.BytesIO(data))
    try:
        parser.parse()
    except _Found:
        pass
    except Exception:       # noqa: BLE001 - a damaged file: no answer
        return None
    return parser.path


class _Found(Exception):
    pass


class _ConfigEntry(ldif.LDIFParser):
    """Stops at `cn=config` and keeps its LDAPI socket path."""

    path = None

    def handle(self, dn, entry):
        if (dn or '').strip().lower() != 'cn=config':
            return
        for name, values in entry.items():
            if name.lower() == 'nsslapd-ldapifilepath' and values:
                self.path = values[0].decode('utf-8', 'replace').strip()
        raise _Found()


def read_ipa_conf():
    """realm, basedn, host... of /etc/ipa/default.conf; {} without IPA."""
    values = {}
    for line in (read_text(IPA_DEFAULT_CONF) or '').splitlines():
        key, sep, value = line.partition('=')
        if sep and not key.startswith(('#', '[')):
            values.setdefault(key.strip(), value.strip())
    return values


def _dse_files():
    """dse.ldif of each 389-DS instance, those we may not look at too."""
    found = []
    pattern = os.path.join(DIRSRV_CONF_DIR, 'slapd-*')
    for instance in sorted(glob.glob(pattern)):
        if instance.endswith('.removed'):
            continue
        dse = os.path.join(instance, 'dse.ldif')
        try:
            os.stat(dse)
        except PermissionError:
            pass                # there, as far as we can tell: say so
        except OSError:
            continue
        found.append(dse)
    return found


def discover_ldap_uri(configured=None):
    """The URI of the local 389-DS instance that holds the CA database."""
    if configured:
        # A bare socket path avoids ConfigParser's '%' interpolation trap.
        return ldapi_uri_for(configured) if configured.startswith('/') \
            else configured
    realm = read_ipa_conf().get('realm')
    if realm:
        serverid = realm.replace('.', '-')
        dse = os.path.join(DIRSRV_CONF_DIR, 'slapd-%s' % serverid, 'dse.ldif')
        return ldapi_uri_for(_dse_ldapi_path(dse) or
                             '/run/slapd-%s.socket' % serverid)
    instances = _dse_files()
    if len(instances) == 1:
        try:
            read_regular(instances[0], DSE_LDIF_LIMIT)
        except PermissionError as e:
            raise no_access('ldap', instances[0], e, DIRSRV_ACCESS)
        except OSError:
            pass                # _dse_ldapi_path finds no socket either
        socket = _dse_ldapi_path(instances[0])
        if socket:
            return ldapi_uri_for(socket)
    raise Problem('ldap-instance-unknown', 'ldap',
                  ipa_conf=IPA_DEFAULT_CONF, dirsrv=DIRSRV_CONF_DIR,
                  count=len(instances))


def discover(settings):
    """CADatabase, or NoCA; raises Problem when a CA is there but unusable."""
    source = settings.instance_dir_source
    instance_dir = settings.instance_dir or DEFAULT_INSTANCE_DIR
    name = os.path.basename(os.path.normpath(instance_dir))
    if source == 'instance_name' and (
            os.path.dirname(instance_dir) != PKI_INSTANCE_ROOT or
            name in ('', '.', '..') or _CONTROL.search(name)):
        raise Problem('instance-name-bad', 'ca.config',
                      value=os.path.relpath(instance_dir, PKI_INSTANCE_ROOT),
                      root=PKI_INSTANCE_ROOT)
    ca_dir = os.path.join(instance_dir, 'conf', 'ca')
    if not is_directory(ca_dir, 'ca.config'):
        # pki-healthcheck merges instance_name = pki-tomcat when nobody set
        # it: that is no more a statement than our own default.
        if source == 'dogtag_instance_dir' or (
                source == 'instance_name' and
                instance_dir != DEFAULT_INSTANCE_DIR):
            raise Problem('instance-dir-no-ca', 'ca.config', setting=source,
                          instance_dir=instance_dir, ca_dir=ca_dir,
                          default=DEFAULT_INSTANCE_DIR)
        return NoCA('no Dogtag CA is configured on this host (%s does not '
                    'exist)' % ca_dir)
    subsystems = {'ca': Subsystem('ca', os.path.join(ca_dir, 'CS.cfg'),
                                  read_cs_cfg(os.path.join(ca_dir, 'CS.cfg')))}
    problems = {}
    kra_dir = os.path.join(instance_dir, 'conf', 'kra')
    # A broken KRA configuration must not hide the CA's findings.
    try:
        if is_directory(kra_dir, 'kra.config'):
            path = os.path.join(kra_dir, 'CS.cfg')
            subsystems['kra'] = Subsystem('kra', path, read_cs_cfg(path))
    except Problem as finding:
        problems['kra'] = finding
    if settings.pki_version:
        version = parse_version(settings.pki_version)
        if version is None:
            raise Problem('pki-version-bad', 'ca.config',
                          value=settings.pki_version)
    else:
        version = installed_pki_version()
    # Checks that read files only (dogtag.logs) need no 389-DS instance:
    # not finding one is reported by the checks that read the directory.
    try:
        uri, ldap_problem = discover_ldap_uri(settings.ldap_uri), None
    except Problem as finding:
        uri, ldap_problem = None, finding
    ipa = read_ipa_conf()
    hostname = (subsystems['ca'].get('machineName') or ipa.get('host') or
                socket.getfqdn())
    database = CADatabase(instance_dir, subsystems, version, uri, problems,
                          settings.ipa_basedn or ipa.get('basedn'), hostname)
    database.ldap_problem = ldap_problem
    return database
