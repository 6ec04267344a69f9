"""The catalog: every result our checks can give, declared once, as data.

A `Finding` names one outcome of one check: a stable code (never reused,
never renumbered), its severity, a one-sentence message template, the
fields it must carry, and the fix it gives (a builder of
`dogtag/fixes.py`, or fixed text). A check decides and supplies facts:
`self.finding(F.STALE, key=repo.key, **facts)`; the base class
(checks/plugin.py) enforces the declaration.

Codes: DTR and four digits, in blocks by source (see `BLOCKS`). One code
keeps one severity, except where the same fault weighs differently on
another platform (a VLV index PKI 11.7 no longer uses): `severity` is then
the tuple of levels it can take and `severity_rule` says when. A fault
that grows worse gets a second code, so that silencing the early warning
never hides the later error.

Lower layers (discovery, domain rules) raise `discovery.Problem(name, key,
**facts)` with a finding's name: they need not import the catalog.
"""

import os
import re
import string

from ipahealthcheck_dogtag.dogtag.steps import Fix

SUCCESS, WARNING, ERROR, CRITICAL = 'SUCCESS', 'WARNING', 'ERROR', 'CRITICAL'
LEVELS = (SUCCESS, WARNING, ERROR, CRITICAL)
CODE = re.compile(r'^DTR\d{4}$')

# Code blocks by source: a new finding takes the next free code of its
# source's block.
BLOCKS = {
    'dogtag': (0, 99),                  # configuration, discovery, 389-DS
    'dogtag.ranges': (100, 399),
    'dogtag.replication': (400, 499),
    'dogtag.accounts': (500, 599),
    'dogtag.logs': (600, 699),
    'dogtag.cluster': (700, 799),
    'dogtag.topology': (800, 899),
    'dogtag.limits': (900, 999),
    'dogtag.indices': (1000, 1099),
}

CATALOG = {}            # code -> Finding, in declaration order
_BY_NAME = {}


class CatalogError(Exception):
    """A result that does not match its declaration: a bug of ours."""


class Finding:
    """One declared outcome of a check."""

    def __init__(self, code, name, source, check, severity, title, msg,
                 key, fields=(), fix=None, meaning='', upstream='',
                 severity_rule=None, unseen=None):
        self.code = code
        self.name = name
        self.source = source
        self.check = check          # class name, or None for any check
        self.severity = severity
        self.title = title
        self.msg = msg
        self.key = key              # literal, or a form such as <repository>
        self.fields = tuple(fields)
        self.fix = fix              # a builder's name, a Fix, or None
        self.meaning = meaning
        self.upstream = upstream
        self.severity_rule = severity_rule
        self.unseen = unseen        # why no test on a real server shows it
        self._validate()
        CATALOG[code] = self
        _BY_NAME[name] = self

    def _validate(self):
        if not CODE.match(self.code) or self.code in CATALOG:
            raise CatalogError('bad or reused code %s' % self.code)
        if self.name in _BY_NAME:
            raise CatalogError('name %s declared twice' % self.name)
        low, high = BLOCKS[self.source]
        if not low <= int(self.code[3:]) <= high:
            raise CatalogError('%s outside the block of %s'
                               % (self.code, self.source))
        levels = self.levels
        if not levels or not set(levels) <= set(LEVELS):
            raise CatalogError('%s: bad severity' % self.code)
        if len(levels) > 1 and not self.severity_rule:
            raise CatalogError('%s: several severities, no rule' % self.code)
        if levels != (SUCCESS,) and self.fix is None:
            raise CatalogError('%s: a problem without a fix' % self.code)
        if self.fix is not None and not isinstance(self.fix, (str, Fix)):
            raise CatalogError('%s: a fix is a builder\'s name or a Fix'
                               % self.code)
        named = placeholders(self.msg)
        if not named <= set(self.fields):
            raise CatalogError('%s: message shows undeclared %s'
                               % (self.code, sorted(named - set(self.fields))))

    @property
    def levels(self):
        return (self.severity,) if isinstance(self.severity, str) \
            else tuple(self.severity)

    @property
    def literal_key(self):
        return None if '<' in self.key else self.key

    def static_fix(self):
        """The declared fix when it is fixed, else None (a builder)."""
        return self.fix if isinstance(self.fix, Fix) else None

    def builder(self):
        """The fix builder of dogtag/fixes.py, or None."""
        if not isinstance(self.fix, str):
            return None
        from ipahealthcheck_dogtag.dogtag import fixes
        return getattr(fixes, self.fix)


# What every result about a sequential repository carries (Repository.
# fields): dogtag-clustercheck reads each server's ranges from them.
REPOSITORY = ('cs_cfg', 'container', 'generator', 'server', 'radix',
              'range_cfg', 'range_begin', 'range_end')


def carry(fields, declared):
    """Make every finding of `declared` (keyed by a repository) require
    `fields` as well."""
    for finding in declared:
        if finding.key == '<repository>':
            finding.fields += tuple(f for f in fields
                                    if f not in finding.fields)


def placeholders(template):
    """The field names a str.format template shows."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name:
            names.add(re.split(r'[.\[]', name, maxsplit=1)[0])
    return names


def resolve(finding):
    """A Finding from itself, its name or its code."""
    if isinstance(finding, Finding):
        return finding
    found = _BY_NAME.get(finding) or CATALOG.get(finding)
    if found is None:
        raise CatalogError('no finding %r in the catalog' % (finding,))
    return found


def load():
    """Import every source's declarations; the catalog, in code order."""
    import importlib
    import pkgutil
    for module in pkgutil.iter_modules(__path__):
        if module.name != 'reference':
            importlib.import_module('%s.%s' % (__name__, module.name))
    return [CATALOG[code] for code in sorted(CATALOG)]


def parse_excludes(value):
    """`dogtag_exclude` → ({(code, key or None)}, [unknown entries]).

    The value lists CODE or CODE:key, separated by commas or blanks."""
    load()
    silenced, unknown = set(), []
    for item in re.split(r'[,\s]+', str(value or '').strip()):
        if not item:
            continue
        code, _, key = item.partition(':')
        code = code.strip().upper()
        if code not in CATALOG or (key == '' and item.endswith(':')):
            unknown.append(item)
        else:
            silenced.add((code, key.strip() or None))
    return silenced, unknown


def is_silenced(silenced, code, key):
    return (code, None) in silenced or (code, key) in silenced


# The test suite names a file here to learn which codes its tests produce
# (tests/conftest.py): one line per result: code, length of the message as
# printed, and the test running.
RECORD = 'IPAHEALTHCHECK_DOGTAG_RECORD'


def record(code, msg, fields):
    path = os.environ.get(RECORD)
    if not path:
        return
    test = os.environ.get('PYTEST_CURRENT_TEST', '').split(' ')[0]
    try:
        length = len(msg.format(**fields))
    except (KeyError, IndexError, ValueError):
        length = len(msg)
    try:
        with open(path, 'a') as out:
            out.write('%s %d %s\n' % (code, length, test))
    except OSError:
        pass                    # never a reason for a check to fail
