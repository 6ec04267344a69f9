"""Find the local Dogtag CA database: CS.cfg files, PKI version, the 389-DS URI.

Everything here reads files only. Problems become `Finding`s carrying a
message that says what was expected, what was found and what to do; the
checks turn them into results.
"""

import glob
import os
import re
import socket
from urllib.parse import quote

DEFAULT_INSTANCE_DIR = '/var/lib/pki/pki-tomcat'
PKI_VERSION_FILE = '/usr/share/pki/VERSION'
IPA_DEFAULT_CONF = '/etc/ipa/default.conf'
DIRSRV_CONF_DIR = '/etc/dirsrv'
SUBSYSTEMS = ('ca', 'kra')


class Finding(Exception):
    """A discovery problem, already phrased for the user."""

    def __init__(self, key, msg, **fields):
        super().__init__(msg)
        self.key = key
        self.msg = msg
        self.fields = fields


class Settings:
    """Our optional keys from the `[default]` section of the healthcheck config."""

    def __init__(self, config):
        self.instance_dir = _option(config, 'dogtag_instance_dir')
        self.ldap_uri = _option(config, 'dogtag_ldap_uri')
        self.pki_version = _option(config, 'dogtag_pki_version')
        self.ipa_basedn = _option(config, 'dogtag_ipa_basedn')
        self.timeout = _number(config, 'timeout', 10)
        self.agreement_failure_hours = _number(
            config, 'dogtag_agreement_failure_hours', 24)
        self.admin_grace_minutes = _number(
            config, 'dogtag_admin_grace_minutes', 60)


def _number(config, name, default):
    """A non-negative number setting; a bad value falls back to the default
    (the checks say which value they used)."""
    text = _option(config, name)
    try:
        value = float(text) if text is not None else default
    except ValueError:
        return default
    if value < 0:
        return default
    return int(value) if value == int(value) else value


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
        self.problems = problems or {}          # subsystem name -> Finding
        self.pki_version = pki_version          # tuple or None
        self.ldap_uri = ldap_uri

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


def read_cs_cfg(path):
    """Parse CS.cfg (`key=value` lines). Raises Finding when unusable."""
    try:
        with open(path, encoding='utf-8', errors='strict') as f:
            text = f.read()
    except FileNotFoundError:
        raise Finding('%s.config' % _subsystem_of(path),
                      'CS.cfg not found: expected the Dogtag configuration '
                      'at {path}, found no file. Check dogtag_instance_dir '
                      'or restore CS.cfg from its backup (CS.cfg.bak).',
                      path=path)
    except PermissionError:
        raise Finding('%s.config' % _subsystem_of(path),
                      'Cannot read {path}: permission denied. Run the '
                      'healthcheck as root.', path=path)
    except (OSError, UnicodeDecodeError) as e:
        raise Finding('%s.config' % _subsystem_of(path),
                      'Cannot read {path}: {error}. Expected a text file of '
                      'key=value lines; restore CS.cfg from its backup.',
                      path=path, error=str(e))
    cfg = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        key, sep, value = line.partition('=')
        if sep:
            cfg[key.strip()] = value.strip()
    if not cfg:
        raise Finding('%s.config' % _subsystem_of(path),
                      '{path} holds no key=value lines: expected the Dogtag '
                      'configuration. Restore CS.cfg from its backup '
                      '(CS.cfg.bak in the same directory).', path=path)
    return cfg


def _subsystem_of(path):
    name = os.path.basename(os.path.dirname(path))
    return name if name in SUBSYSTEMS else 'ca'


def parse_version(text):
    match = re.search(r'(\d+)\.(\d+)(?:\.(\d+))?', text or '')
    if not match:
        return None
    return tuple(int(n) for n in match.groups(default='0'))


def installed_pki_version(path=None):
    """`Specification-Version` from /usr/share/pki/VERSION, or None."""
    try:
        with open(path or PKI_VERSION_FILE) as f:
            for line in f:
                if line.startswith('Specification-Version:'):
                    return parse_version(line.split(':', 1)[1])
    except OSError:
        pass
    return None


def ldapi_uri_for(socket_path):
    return 'ldapi://' + quote(socket_path, safe='')


def _dse_ldapi_path(dse_ldif):
    """nsslapd-ldapifilepath of `cn=config` in a dse.ldif, or None."""
    try:
        with open(dse_ldif, errors='replace') as f:
            text = f.read()
    except OSError:
        return None
    text = text.replace('\n ', '')  # unfold continuation lines
    in_config = False
    for line in text.splitlines():
        if line.lower().startswith('dn:'):
            in_config = line[3:].strip().lower() == 'cn=config'
        elif in_config and line.lower().startswith('nsslapd-ldapifilepath:'):
            return line.split(':', 1)[1].strip()
    return None


def read_ipa_conf():
    """realm, basedn, host... of /etc/ipa/default.conf; {} without IPA."""
    values = {}
    try:
        with open(IPA_DEFAULT_CONF) as f:
            for line in f:
                key, sep, value = line.partition('=')
                if sep and not key.startswith(('#', '[')):
                    values.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return values


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
    instances = sorted(glob.glob(os.path.join(DIRSRV_CONF_DIR, 'slapd-*',
                                              'dse.ldif')))
    instances = [i for i in instances if not i.endswith('.removed/dse.ldif')]
    if len(instances) == 1:
        socket = _dse_ldapi_path(instances[0])
        if socket:
            return ldapi_uri_for(socket)
    raise Finding('ldap', 'Cannot tell which 389-DS instance holds the CA '
                  'database: expected an IPA realm in {ipa_conf} or exactly '
                  'one instance with LDAPI under {dirsrv}, found {count}. Set '
                  'dogtag_ldap_uri in the [default] section of the '
                  'healthcheck configuration (a socket path such as '
                  '/run/slapd-EXAMPLE-TEST.socket).',
                  ipa_conf=IPA_DEFAULT_CONF, dirsrv=DIRSRV_CONF_DIR,
                  count=len(instances))


def discover(settings):
    """CADatabase, or NoCA; raises Finding when a CA is there but unusable."""
    instance_dir = settings.instance_dir or DEFAULT_INSTANCE_DIR
    ca_dir = os.path.join(instance_dir, 'conf', 'ca')
    if not os.path.isdir(ca_dir):
        if settings.instance_dir:
            raise Finding('ca.config', 'No Dogtag CA under {instance_dir}: '
                          'expected the directory {ca_dir}, which does not '
                          'exist. Correct dogtag_instance_dir in the '
                          'healthcheck configuration, or remove it to use '
                          'the default {default}.',
                          instance_dir=instance_dir, ca_dir=ca_dir,
                          default=DEFAULT_INSTANCE_DIR)
        return NoCA('no Dogtag CA is configured on this host (%s does not '
                    'exist)' % ca_dir)
    subsystems = {'ca': Subsystem('ca', os.path.join(ca_dir, 'CS.cfg'),
                                  read_cs_cfg(os.path.join(ca_dir, 'CS.cfg')))}
    problems = {}
    kra_dir = os.path.join(instance_dir, 'conf', 'kra')
    if os.path.isdir(kra_dir):
        # A broken KRA configuration must not hide the CA's findings.
        path = os.path.join(kra_dir, 'CS.cfg')
        try:
            subsystems['kra'] = Subsystem('kra', path, read_cs_cfg(path))
        except Finding as finding:
            problems['kra'] = finding
    if settings.pki_version:
        version = parse_version(settings.pki_version)
        if version is None:
            raise Finding('ca.config', 'dogtag_pki_version is {value}: '
                          'expected a version such as 11.5.0. Correct it in '
                          'the healthcheck configuration or remove it to use '
                          'the installed version.',
                          value=settings.pki_version)
    else:
        version = installed_pki_version()
    uri = discover_ldap_uri(settings.ldap_uri)
    ipa = read_ipa_conf()
    hostname = (subsystems['ca'].get('machineName') or ipa.get('host') or
                socket.getfqdn())
    return CADatabase(instance_dir, subsystems, version, uri, problems,
                      settings.ipa_basedn or ipa.get('basedn'), hostname)
