"""Findings any check can give: its configuration, finding the CA, reading
its database. Codes DTR0001-DTR0099."""

from ipahealthcheck_dogtag.dogtag.steps import Fix, manual
from ipahealthcheck_dogtag.findings import ERROR, SUCCESS, WARNING, Finding

SOURCE = 'dogtag'
RESTORE = Fix(manual('Restore CS.cfg from its backup (CS.cfg.bak in the '
                     'same directory), or correct dogtag_instance_dir'))
AS_ROOT = Fix(manual('Run the healthcheck as root (e.g. sudo '
                     'ipa-healthcheck)'))

SETTING_UNUSABLE = Finding(
    'DTR0001', 'setting-unusable', SOURCE, None, ERROR,
    'A setting of ours is not usable',
    '{setting} = {value} is not usable; the default {default_used} is used.',
    key='config', fields=('setting', 'value', 'accepted', 'default_used'),
    fix=Fix(manual('Correct the value in the [default] section of the '
                   'healthcheck configuration (see accepted), or remove '
                   'the key to use the default')),
    meaning='A numeric key of ours in the [default] section of the '
            'healthcheck configuration has a value we cannot use. Every '
            'check that uses the key says so, and uses the default '
            'meanwhile: a typo never silently changes what is checked.')

SILENCED = Finding(
    'DTR0002', 'silenced', SOURCE, None, SUCCESS,
    'A finding silenced by dogtag_exclude',
    '{silenced} ({silenced_title}) is silenced by dogtag_exclude.',
    key='<key of the silenced finding>',
    fields=('silenced', 'silenced_severity', 'silenced_title'),
    meaning='The check found the finding named in `silenced`, which '
            'dogtag_exclude in the [default] section of the healthcheck '
            'configuration silences (for every key, or for this one). It '
            'stays visible as this SUCCESS, with the severity it would '
            'have had, so that a silenced finding is never invisible.')

EXCLUDE_UNKNOWN = Finding(
    'DTR0003', 'exclude-unknown', SOURCE, None, ERROR,
    'dogtag_exclude names no finding of ours',
    'dogtag_exclude lists {unknown}, which names no finding of ours.',
    key='config', fields=('unknown', 'value'),
    fix=Fix(manual('Correct dogtag_exclude in the [default] section of the '
                   'healthcheck configuration: CODE or CODE:key, separated '
                   'by commas, with codes from dogtag-healthcheck '
                   '--list-findings')),
    meaning='An entry of dogtag_exclude is not a code of the catalog (or '
            'has an empty key). It silences nothing, which its author did '
            'not mean; reported once a run, by the first check.')

NO_CA = Finding(
    'DTR0004', 'no-ca', SOURCE, None, SUCCESS,
    'No Dogtag CA on this host',
    'Nothing to check: {reason}.', key='ca', fields=('reason',),
    meaning='No CA is configured here: the default instance directory has '
            'no conf/ca, and the configuration names no other.')

LDAP_UNREADABLE = Finding(
    'DTR0005', 'ldap-unreadable', SOURCE, None, ERROR,
    'The CA database cannot be read',
    'Cannot read the CA database at {uri} ({what}): {error}.',
    key='ldap', fields=('uri', 'what', 'error', 'failure', 'advice'),
    fix='directory_advice',
    meaning='The local 389 Directory Server did not answer the reads of a '
            'SASL EXTERNAL bind as root: it is stopped, hung, refuses the '
            'bind, or failed. `failure` says which (unreachable, silent, '
            'refused, failed). The first check to meet a failure reports '
            'it in full; later checks of the run give DTR0007. While it is '
            'down for maintenance, "key = ldap" in [excludes] silences '
            'both.')

LDAP_OUT_OF_TIME = Finding(
    'DTR0006', 'ldap-out-of-time', SOURCE, None, WARNING,
    'The check ran out of time reading the CA database',
    'Reading the CA database at {uri} ran out of time ({what}).',
    key='ldap', fields=('uri', 'what', 'error', 'failure', 'advice'),
    fix='directory_advice',
    meaning='Every read of a check returns by 85% of timeout, so that '
            'ipa-healthcheck\'s alarm never cuts a check short without a '
            'result; this check needed longer. Nothing is known to be '
            'wrong.')

LDAP_NOT_READ = Finding(
    'DTR0007', 'ldap-not-read', SOURCE, None, WARNING,
    'Not checked: the CA database cannot be read',
    'Not checked: the CA database at {uri} cannot be read ({failure}); '
    'see {reported_by}.',
    key='ldap', fields=('uri', 'failure', 'reported_by'),
    fix=Fix(manual('Act on the ldap ERROR of the check named in '
                   'reported_by')),
    meaning='A failure to reach the CA database is reported in full once '
            'a run (DTR0005); every later check that needed the database '
            'says briefly that it did not look.')

IPA_SUFFIX_NOT_DN = Finding(
    'DTR0008', 'ipa-suffix-not-dn', SOURCE, None, ERROR,
    'The IPA suffix is not a DN',
    'The IPA suffix {basedn} is not a DN.', key='topology',
    fields=('basedn',),
    fix=Fix(manual('Correct dogtag_ipa_basedn (a suffix such as '
                   'dc=example,dc=test), or remove it to use the basedn of '
                   '/etc/ipa/default.conf')),
    meaning='dogtag_ipa_basedn, or basedn in /etc/ipa/default.conf, does '
            'not parse as a DN, so the IPA servers cannot be read.')

NO_ACCESS = Finding(
    'DTR0009', 'no-access', SOURCE, None, ERROR,
    'This user may not read the Dogtag or 389-DS configuration',
    'Cannot read {path}: {error} for {user}.',
    key='<subsystem>.config, <subsystem>.debug or ldap',
    fields=('path', 'error', 'user', 'blocked', 'needed'), fix=AS_ROOT,
    upstream='dogtagpki/pki v11.5.4 base/server/python/pki/server/'
             '__init__.py: PKIServer.makedirs (0770 directories, 0660 '
             'files)',
    meaning='PKI lets only root and the PKI user into its instance '
            'directory. Not being allowed to look is no answer about what '
            'is there: `blocked` names the directory that stops this user, '
            '`needed` what we wanted to read.')

CANNOT_LOOK = Finding(
    'DTR0010', 'cannot-look', SOURCE, None, ERROR,
    'A configuration directory cannot be examined',
    'Cannot look at {path}: {error}.', key='<subsystem>.config',
    fields=('path', 'error'),
    fix=Fix(manual('Check the file system (dmesg, the ownership and mode '
                   'of the path)')),
    meaning='Asking whether the path is a directory failed for a reason '
            'other than its absence or permissions (an I/O error, a loop).')

CS_CFG_MISSING = Finding(
    'DTR0011', 'cs-cfg-missing', SOURCE, None, ERROR,
    'CS.cfg is missing',
    'CS.cfg not found at {path}.', key='<subsystem>.config',
    fields=('path',), fix=RESTORE,
    meaning='The subsystem\'s configuration directory exists but holds no '
            'CS.cfg: Dogtag cannot start from it.')

CS_CFG_REFUSED = Finding(
    'DTR0012', 'cs-cfg-refused', SOURCE, None, ERROR,
    'CS.cfg is not a regular file of sane size',
    'Refused to read {path}: {reason}.', key='<subsystem>.config',
    fields=('path', 'reason'), fix=RESTORE,
    meaning='CS.cfg is a device, a FIFO or absurdly large, so it was not '
            'read.')

CS_CFG_UNREADABLE = Finding(
    'DTR0013', 'cs-cfg-unreadable', SOURCE, None, ERROR,
    'CS.cfg cannot be read',
    'Cannot read {path}: {error}.', key='<subsystem>.config',
    fields=('path', 'error'), fix=RESTORE,
    meaning='Reading CS.cfg failed with an I/O error.')

CS_CFG_EMPTY = Finding(
    'DTR0014', 'cs-cfg-empty', SOURCE, None, ERROR,
    'CS.cfg holds no settings',
    '{path} holds no key=value lines.', key='<subsystem>.config',
    fields=('path',), fix=RESTORE,
    meaning='CS.cfg is empty or holds no line Dogtag would read as a '
            'setting.')

LDAP_INSTANCE_UNKNOWN = Finding(
    'DTR0015', 'ldap-instance-unknown', SOURCE, None, ERROR,
    'Which 389-DS instance holds the CA database is not known',
    'Cannot tell which 389-DS instance holds the CA database: {count} '
    'instances with LDAPI under {dirsrv}.',
    key='ldap', fields=('ipa_conf', 'dirsrv', 'count'),
    fix=Fix(manual('Set dogtag_ldap_uri in the [default] section of the '
                   'healthcheck configuration (a socket path such as '
                   '/run/slapd-EXAMPLE-TEST.socket)')),
    meaning='There is no IPA realm in /etc/ipa/default.conf and not '
            'exactly one 389-DS instance with LDAPI, so the CA database '
            'cannot be found.')

INSTANCE_NAME_BAD = Finding(
    'DTR0016', 'instance-name-bad', SOURCE, None, ERROR,
    'instance_name names no PKI instance',
    'instance_name is {value}: not a PKI instance under {root}.',
    key='ca.config', fields=('value', 'root'),
    fix=Fix(manual('Correct instance_name in the [dogtag] section of '
                   '/etc/pki/healthcheck.conf (e.g. pki-tomcat)')),
    meaning='pki-healthcheck\'s instance_name must be the name of an '
            'instance directory under /var/lib/pki.')

INSTANCE_DIR_NO_CA = Finding(
    'DTR0017', 'instance-dir-no-ca', SOURCE, None, ERROR,
    'The configured instance has no CA',
    'No Dogtag CA under {instance_dir}: {ca_dir} does not exist.',
    key='ca.config', fields=('setting', 'instance_dir', 'ca_dir', 'default'),
    fix=Fix(manual('Correct the setting named in `setting` in the '
                   'healthcheck configuration, or remove it to use the '
                   'default instance')),
    meaning='The configuration names an instance directory explicitly, '
            'and it holds no CA: a wrong setting, not a host without CA.')

PKI_VERSION_BAD = Finding(
    'DTR0018', 'pki-version-bad', SOURCE, None, ERROR,
    'dogtag_pki_version is not a version',
    'dogtag_pki_version is {value}: not a version such as 11.5.0.',
    key='ca.config', fields=('value',),
    fix=Fix(manual('Correct dogtag_pki_version in the healthcheck '
                   'configuration, or remove it to use the installed '
                   'version')),
    meaning='The PKI version decides which lookup Dogtag makes (VLV up to '
            '11.5, sorted from 11.6), so a version we cannot read is not '
            'guessed.')

IPA_SERVERS_UNREADABLE = Finding(
    'DTR0019', 'ipa-servers-unreadable', SOURCE, None, ERROR,
    'The IPA server list cannot be read',
    'Cannot read the IPA servers: no entries under {masters}.',
    key='topology', fields=('masters', 'basedn'),
    fix=Fix(manual('Check dogtag_ipa_basedn, or the basedn of '
                   '/etc/ipa/default.conf')),
    meaning='Checks that compare this server with its topology need the '
            'list of IPA servers, and found none under the configured '
            'suffix.')

SECURITY_DOMAIN_UNREADABLE = Finding(
    'DTR0020', 'security-domain-unreadable', SOURCE, None, ERROR,
    'The security domain cannot be read',
    'Cannot read the security domain: no subsystem entries under '
    '{where}.', key='topology', fields=('where',),
    fix=Fix(manual('On an IPA server set dogtag_ipa_basedn (or correct '
                   '/etc/ipa/default.conf); on a standalone Dogtag check the '
                   'security domain with pki securitydomain-show')),
    meaning='Without IPA, the servers of the topology come from Dogtag\'s '
            'security domain, which holds none here.')

RANGE_HEX_PREFIX = Finding(
    'DTR0021', 'range-hex-prefix', SOURCE, None, ERROR,
    'A range setting has a 0x prefix Dogtag refuses',
    'CS.cfg: {property}={value} has a 0x prefix; Dogtag will not '
    'start.', key='<repository>',
    fields=('property', 'value', 'cs_cfg', 'radix', 'radix_name',
            'generator'),
    fix=Fix(manual('With the CA stopped, write the value in CS.cfg as '
                   'digits of its radix (radix_name) without 0x')),
    upstream='dogtagpki/pki CertificateRepository / KeyRepository '
             'initLegacyGenerator (master); Repository.java v10.5-v10.10',
    meaning='Dogtag reads range settings with new BigInteger(value, '
            'radix), which refuses a 0x prefix (legacy2 requests aside): '
            'the subsystem fails to start.')

RANGE_VALUE_UNUSABLE = Finding(
    'DTR0022', 'range-value-unusable', SOURCE, None, ERROR,
    'A range setting is not a number Dogtag can use',
    'CS.cfg: {property}={value} is not usable: {reason}.',
    key='<repository>',
    fields=('property', 'value', 'cs_cfg', 'reason', 'expected',
            'generator'),
    fix=Fix(manual('Correct the value in CS.cfg with the CA stopped')),
    meaning='`expected` says what Dogtag reads there: a number of the '
            'repository\'s radix, of at most 99 decimal digits.')

RANGE_SETTING_MISSING = Finding(
    'DTR0023', 'range-setting-missing', SOURCE, None, ERROR,
    'A range setting is missing from CS.cfg',
    '{cs_cfg} has no {property}.', key='<repository>',
    fields=('cs_cfg', 'property', 'title'),
    fix=Fix(manual('Restore CS.cfg from its backup, or copy the setting '
                   'from a healthy clone\'s CS.cfg')),
    meaning='The active range of a sequential repository must have a '
            'begin and an end in CS.cfg.')
