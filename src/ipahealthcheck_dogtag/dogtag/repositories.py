"""Dogtag's numbered repositories and their ranges as CS.cfg defines them.

The static part (`KINDS`) is what Dogtag's code fixes: where records live,
which attribute holds the number, the filter and sort of its last-number
lookup and the VLV index that serves it. The dynamic part (`Repository`)
comes from one CS.cfg: the generator, the radix and the ranges.
"""

from dataclasses import dataclass

import ldap.dn

from ipahealthcheck_dogtag.discovery import Problem
from ipahealthcheck_dogtag.dogtag.numbers import NumberError, parse_config


@dataclass(frozen=True)
class Kind:
    key: str
    subsystem: str
    title: str
    dn_property: str
    default_rdn: str
    range_rdn: str             # where allocated ranges are recorded (SSNv1)
    prefix: str                # Serial, Request or Replica in dbs.* names
    default_radix: int
    attribute: str = None      # holds the length-prefixed number of a record
    # The filter Dogtag sends, and the same filter as attribute tests that
    # a full scan can evaluate without the server's indices.
    lookup_filter: str = None
    required: tuple = ()
    excluded: tuple = ()
    vlv: str = None            # the range VLV index, without -<instance>
    generator_property: str = None
    radix_property: str = None
    # Certificates and keys accept the sorted answer only inside the range;
    # requests only check its lower end (PKI >= 11.6).
    upper_checked: bool = True

    @property
    def numbered(self):
        """Are numbers records in LDAP? (Replica IDs are not.)"""
        return self.attribute is not None

    def sorted_filter(self, encoded_high):
        bound = '(%s<=%s)' % (self.attribute, encoded_high)
        if self.key == 'kra.keys':
            return bound
        if self.key == 'ca.certificates':
            return '(&%s%s)' % (self.lookup_filter, bound)
        return '(&%s%s)' % (bound, self.lookup_filter)

    def matches(self, attrs):
        """Does an entry (lower-cased attribute names) match lookup_filter?"""
        return (all(a in attrs for a in self.required) and
                not any(a in attrs for a in self.excluded))


KINDS = (
    Kind(key='ca.certificates', subsystem='ca',
         title='CA certificate serial numbers',
         dn_property='dbs.serialDN',
         default_rdn='ou=certificateRepository, ou=ca',
         range_rdn='ou=certificateRepository, ou=ranges',
         prefix='Serial', default_radix=16,
         attribute='serialno', lookup_filter='(certStatus=*)',
         required=('certstatus',), vlv='allCerts',
         generator_property='dbs.cert.id.generator',
         radix_property='dbs.cert.id.radix'),
    Kind(key='ca.requests', subsystem='ca', title='CA request IDs',
         dn_property='dbs.requestDN', default_rdn='ou=ca, ou=requests',
         range_rdn='ou=requests, ou=ranges',
         prefix='Request', default_radix=10,
         attribute='requestId', lookup_filter='(requeststate=*)',
         required=('requeststate',), vlv='caAll',
         generator_property='dbs.request.id.generator',
         radix_property='dbs.request.id.radix', upper_checked=False),
    Kind(key='ca.replica_ids', subsystem='ca', title='CA replica IDs',
         dn_property='dbs.replicaDN', default_rdn='ou=replica',
         range_rdn='ou=replica, ou=ranges', prefix='Replica',
         default_radix=10),
    # Dogtag's key lookup filter matches no VLV definition (allKeys adds a
    # realm test), so up to 11.5 389-DS always sorted it without an index.
    Kind(key='kra.keys', subsystem='kra', title='KRA key IDs',
         dn_property='dbs.serialDN', default_rdn='ou=keyRepository, ou=kra',
         range_rdn='ou=keyRepository, ou=ranges',
         prefix='Serial', default_radix=16,
         attribute='serialno', lookup_filter='(serialno=*)',
         required=('serialno',),
         generator_property='dbs.key.id.generator',
         radix_property='dbs.key.id.radix'),
    Kind(key='kra.requests', subsystem='kra', title='KRA request IDs',
         dn_property='dbs.requestDN', default_rdn='ou=kra, ou=requests',
         range_rdn='ou=requests, ou=ranges',
         prefix='Request', default_radix=10,
         attribute='requestId',
         lookup_filter='(&(requeststate=*)(!(realm=*)))',
         required=('requeststate',), excluded=('realm',), vlv='kraAll',
         generator_property='dbs.request.id.generator',
         radix_property='dbs.request.id.radix', upper_checked=False),
    Kind(key='kra.replica_ids', subsystem='kra', title='KRA replica IDs',
         dn_property='dbs.replicaDN', default_rdn='ou=replica',
         range_rdn='ou=replica, ou=ranges', prefix='Replica',
         default_radix=10),
)


def canonical_dn(dn):
    """A DN without the spaces CS.cfg puts after its commas."""
    try:
        return ldap.dn.dn2str(ldap.dn.str2dn(dn))
    except ldap.DECODING_ERROR:
        return ','.join(p.strip() for p in dn.split(','))


def normalize_dn(dn):
    """A DN's text for comparisons."""
    return canonical_dn(dn).lower()


class Range:
    """A begin..end range as CS.cfg writes it and as numbers."""

    def __init__(self, begin_text, end_text, begin, end):
        self.begin_text = begin_text
        self.end_text = end_text
        self.begin = begin
        self.end = end

    def fields(self, prefix):
        return {prefix + '_cfg': '%s..%s' % (self.begin_text, self.end_text),
                prefix + '_begin': str(self.begin),
                prefix + '_end': str(self.end)}


class Repository:
    """One repository of this server: generator, radix and ranges from CS.cfg."""

    def __init__(self, kind, subsystem, instance_id):
        self.kind = kind
        self.key = kind.key
        self.subsystem = subsystem
        self.instance_id = subsystem.get('instanceId') or instance_id
        rdn = subsystem.get(kind.dn_property) or kind.default_rdn
        self.container = canonical_dn('%s,%s' % (rdn, subsystem.basedn))
        generator = kind.generator_property and \
            subsystem.get(kind.generator_property)
        self.generator = (generator or 'legacy').strip().lower()
        self.active = None
        self.standby = None
        if self.generator != 'random':
            self.active = self._range('begin', 'end', required=True)
            self.standby = self._range('nextBegin', 'nextEnd',
                                       required=False)

    @property
    def sequential(self):
        return self.generator != 'random'

    @property
    def radix(self):
        text = self.kind.radix_property and \
            self.subsystem.get(self.kind.radix_property)
        if text and text.strip() in ('10', '16'):
            return int(text)
        return self.kind.default_radix

    @property
    def vlv_name(self):
        if not self.kind.vlv:
            return None
        return '%s-%s' % (self.kind.vlv, self.instance_id)

    def _property(self, which):
        return 'dbs.%s%sNumber' % (which, self.kind.prefix)

    @property
    def hex_digits_in_ldap(self):
        """SSNv1 hex repositories: LDAP range values are CS.cfg's hex digits
        written as if they were decimal (see bookkeeping)."""
        return self.generator == 'legacy' and self.radix == 16

    @property
    def serial_management(self):
        return (self.subsystem.get('dbs.enableSerialManagement') or
                'false').strip().lower() == 'true'

    @property
    def range_container(self):
        """Where allocated ranges are recorded: dbs.<x>RangeDN + base, as
        written (pkispawn writes ou=ranges_v2 there for legacy2, and
        `<sub>-id-generator-update` rewrites it: dogtagpki/pki master
        deployment/__init__.py configure_ca/configure_kra,
        SubsystemIdGeneratorUpdateCLI.java)."""
        rdn = (self.subsystem.get('dbs.%sRangeDN' % self.kind.prefix.lower())
               or self.kind.range_rdn)
        return canonical_dn('%s,%s' % (rdn, self.subsystem.basedn))

    @property
    def next_range_dn(self):
        """The entry Dogtag reads nextRange from: the repository (SSNv1) or
        the range container (SSNv2). KeyRepository never overrides
        Repository.getNextRangeDN(), so legacy2 KRA keys still use the
        repository entry (dogtagpki/pki v11.6.0 .. master)."""
        if self.generator == 'legacy2' and self.key != 'kra.keys':
            return self.range_container
        return self.container

    @property
    def installer_next_range_dn(self):
        """Where `pki-server <sub>-range-update` wrote the first nextRange:
        the range container for legacy2 (SubsystemRangeUpdateCLI
        getSerialNextRangeDN / getRequestNextRangeDN, v11.6.0 .. master).
        Differs from next_range_dn only for legacy2 KRA keys."""
        if self.generator == 'legacy2':
            return self.range_container
        return self.container

    def setting(self, name):
        """dbs.<x><name> (Increment, LowWaterMark, CloneTransferNumber) read
        in the range radix; None when absent."""
        prop = 'dbs.%s%s' % (self.kind.prefix.lower(), name)
        text = self.subsystem.get(prop)
        if text is None:
            return None
        return self._number(prop, text, 'number')

    def _number(self, prop, text, what):
        """A CS.cfg value read as Dogtag reads it, or a Problem."""
        try:
            return parse_config(text, self.radix, self.generator == 'legacy2')
        except NumberError as e:
            reason = str(e)
        fields = dict(property=prop, value=text, cs_cfg=self.subsystem.path,
                      radix_name=self._radix_name(), title=self.kind.title,
                      generator=self.generator, reason=reason)
        if self.generator != 'legacy2' and \
                text.strip().lower().startswith('0x'):
            # new BigInteger(value, radix) refuses the prefix, so the
            # subsystem does not start (CertificateRepository / KeyRepository
            # initLegacyGenerator, master; Repository.java v10.5-v10.10).
            raise Problem('range-hex-prefix', self.key, radix=self.radix,
                          **fields)
        expected = 'a %s %s' % (fields['radix_name'], what.format(**fields))
        raise Problem('range-value-unusable', self.key, expected=expected,
                      **fields)

    def _range(self, begin_name, end_name, required):
        names = (self._property(begin_name), self._property(end_name))
        texts = [self.subsystem.get(n) for n in names]
        if not required and (None in texts or '-1' in texts or
                             '' in texts):
            return None                         # no standby range
        values = []
        for name, text in zip(names, texts):
            if text is None:
                raise Problem('range-setting-missing', self.key,
                              cs_cfg=self.subsystem.path, property=name,
                              title=self.kind.title)
            values.append(self._number(name, text,
                                       'number for the {title} range'))
        return Range(texts[0], texts[1], values[0], values[1])

    def _radix_name(self):
        if self.generator == 'legacy2':
            return '0x-prefixed hexadecimal or decimal'
        return 'hexadecimal' if self.radix == 16 else 'decimal'

    def fields(self):
        out = {'cs_cfg': self.subsystem.path, 'container': self.container,
               'generator': self.generator,
               'server': self.subsystem.get('machineName')}
        if self.active:
            # Dogtag's own radix: legacy2 requests stay decimal (10).
            out['radix'] = self.radix
            out.update(self.active.fields('range'))
        if self.standby:
            out.update(self.standby.fields('standby'))
        return out


def repositories(database):
    """Yield (Kind, Repository or Problem) for every repository here."""
    for kind in KINDS:
        subsystem = database.subsystem(kind.subsystem)
        if subsystem is None:
            problem = database.problems.get(kind.subsystem)
            if problem is not None:
                yield kind, problem
            continue
        try:
            yield kind, Repository(kind, subsystem, database.instance_id)
        except Problem as finding:
            yield kind, finding
