"""What a user installs: the wheel, the sdist and the RPM, built offline
from a clean copy of the tree with the distribution's own tools, installed
away from the source tree, and run from there."""

import configparser
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

from test_end_to_end import IPA_HEALTHCHECK, stale_scenario

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = 'ipahealthcheck_dogtag'
SYSTEM_PYTHON = '/usr/bin/python3'
SOURCES = ('dogtag.ranges', 'dogtag.replication', 'dogtag.accounts',
           'dogtag.logs', 'dogtag.indices', 'dogtag.topology',
           'dogtag.limits')
COMMANDS = ('dogtag-healthcheck', 'dogtag-clustercheck', 'dogtag-diagnose')
VERSIONED = ('dogtag-healthcheck', 'dogtag-clustercheck')  # --version
MAN_PAGES = ('man/dogtag-healthcheck.8', 'man/dogtag-clustercheck.8',
             'man/dogtag-diagnose.8')
SPEC = 'packaging/python-ipahealthcheck-dogtag.spec'


def run(args, cwd, env=None, check=True):
    done = subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=600)
    if check:
        assert done.returncode == 0, '%s failed:\n%s\n%s' % (
            ' '.join(args), done.stdout, done.stderr)
    return done


@pytest.fixture(scope='module')
def clean_tree(tmp_path_factory):
    """The tracked files only: no build/, dist/, egg-info or .venv left in
    the checkout can make a build look complete."""
    copy = tmp_path_factory.mktemp('clean') / 'tree'
    listed = run(['git', 'ls-files', '-z'], TREE).stdout.split('\0')
    for name in filter(None, listed):
        source = os.path.join(TREE, name)
        if os.path.isfile(source):          # deleted but not yet staged
            os.makedirs(copy / os.path.dirname(name), exist_ok=True)
            shutil.copy2(source, copy / name)
    return str(copy)


@pytest.fixture(scope='module')
def modules(clean_tree):
    """Every module of the package, as paths inside it."""
    top = os.path.join(clean_tree, 'src')
    found = glob.glob(os.path.join(top, PACKAGE, '**', '*.py'),
                      recursive=True)
    assert len(found) > 20
    return {os.path.relpath(path, top) for path in found}


@pytest.fixture(scope='module')
def version(clean_tree):
    with open(os.path.join(clean_tree, 'src', PACKAGE, '__init__.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


@pytest.fixture(scope='module')
def dist(clean_tree):
    """The wheel and the sdist, offline: no build isolation, no index, the
    distribution's setuptools and python3-build."""
    out = os.path.join(os.path.dirname(clean_tree), 'dist')
    run([sys.executable, '-m', 'build', '--sdist', '--no-isolation',
         '-o', out, '.'], clean_tree)
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
         '--no-build-isolation', '--no-index', '--disable-pip-version-check',
         '-w', out, '.'], clean_tree)
    wheel, = glob.glob(os.path.join(out, '*.whl'))
    sdist, = glob.glob(os.path.join(out, '*.tar.gz'))
    return wheel, sdist


def test_wheel_holds_every_module_and_nothing_else(dist, modules, version):
    wheel, _ = dist
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = '%s-%s.dist-info/' % (PACKAGE, version)
        entry_points = z.read(info + 'entry_points.txt').decode()
    assert {n for n in names if n.endswith('.py')} == modules
    assert not [n for n in names if n.split('/')[0] in ('sandbox', 'tests')]
    # setuptools 77 and later put it under licenses/
    assert {info + 'LICENSE', info + 'licenses/LICENSE'} & names
    assert not [n for n in names if n.endswith('.8')]   # man pages: RPM only
    for group in ('ipahealthcheck.registry', 'pkihealthcheck.registry',
                  'dogtaghealthcheck.registry', 'console_scripts'):
        assert '[%s]' % group in entry_points


def test_sdist_holds_the_source_and_what_a_distribution_needs(
        dist, modules, version, clean_tree):
    _, sdist = dist
    top = '%s-%s/' % (PACKAGE, version)
    with tarfile.open(sdist) as t:
        names = {n[len(top):] for n in t.getnames() if n.startswith(top)}
    for name in ('README.md', 'LICENSE', 'NEWS', 'setup.cfg', 'setup.py',
                 'pyproject.toml', SPEC) + MAN_PAGES:
        assert name in names
    assert {'src/' + m for m in modules} <= names
    assert not [n for n in names if n.split('/')[0] in ('sandbox', 'tests')]

    # The license setup.cfg declares is the one shipped.
    config = configparser.ConfigParser()
    config.read(os.path.join(clean_tree, 'setup.cfg'))
    assert config['metadata']['license'] == 'GPLv3+'
    with open(os.path.join(clean_tree, 'LICENSE')) as f:
        text = f.read()
    assert 'GNU GENERAL PUBLIC LICENSE' in text
    assert 'Version 3, 29 June 2007' in text

    # One version everywhere a packager looks.
    with open(os.path.join(clean_tree, SPEC)) as f:
        assert re.search(r'^Version:\s+(\S+)$', f.read(), re.M).group(1) == \
            version
    with open(os.path.join(clean_tree, 'NEWS')) as f:
        assert '\n%s ' % version in f.read()


@pytest.fixture(scope='module')
def venv(dist, tmp_path_factory):
    """A new venv on the distribution's Python (which sees the core and
    python-ldap), with only the wheel installed into it."""
    where = str(tmp_path_factory.mktemp('venv') / 'venv')
    run([SYSTEM_PYTHON, '-m', 'venv', '--system-site-packages', where], '/')
    run([os.path.join(where, 'bin', 'python'), '-m', 'pip', 'install', '-q',
         '--no-deps', '--no-index', '--disable-pip-version-check',
         dist[0]], '/')
    return os.path.join(where, 'bin')


def _plain_config(directory):
    path = os.path.join(str(directory), 'healthcheck.conf')
    with open(path, 'w') as f:
        f.write('[default]\n')
    return path


def _listed_sources(output):
    return {line for line in output.splitlines() if not line[:1].isspace()}


def test_wheel_installed_in_a_new_venv_runs(venv, version, tmp_path):
    done = run([os.path.join(venv, 'python'), '-c',
                'import %s as p; print(p.__file__)' % PACKAGE], tmp_path)
    assert done.stdout.startswith(os.path.dirname(venv) + '/lib/')
    assert '/site-packages/%s/' % PACKAGE in done.stdout

    for command in VERSIONED:
        done = run([os.path.join(venv, command), '--version'], tmp_path)
        assert done.stdout == '%s: %s\n' % (PACKAGE, version)

    done = run([os.path.join(venv, 'dogtag-healthcheck'), '--list-sources',
                '--config', _plain_config(tmp_path)], tmp_path)
    assert _listed_sources(done.stdout) == set(SOURCES)
    _diagnose_runs(os.path.join(venv, 'dogtag-diagnose'), tmp_path)


def _diagnose_runs(command, tmp_path, env=None):
    """dogtag-diagnose loads its whole log layer: both subcommands are
    offered, and analyse of a host tree without logs gives an empty
    report of its schema rather than a traceback."""
    done = run([command, '--help'], tmp_path, env)
    assert '{collect,analyse,analyze}' in done.stdout
    empty = tmp_path / 'no-logs'
    empty.mkdir()
    done = run([command, 'analyse', '--json', str(empty)], tmp_path, env)
    report = json.loads(done.stdout)
    assert report['schema'] == 'dogtag-diagnose/1'
    assert report['failure'] is None and report['verdict'] is None
    assert [h['events_in_window'] for h in report['hosts']] == [0]


def test_pip_install_from_a_clone(clean_tree, dist, version, tmp_path):
    """The README's command: pip builds and installs a copy, not a link to
    the tree."""
    where = str(tmp_path / 'venv')
    run([SYSTEM_PYTHON, '-m', 'venv', '--system-site-packages', where], '/')
    python = os.path.join(where, 'bin', 'python')
    run([python, '-m', 'pip', 'install', '-q', '--no-deps',
         '--no-build-isolation', '--no-index', '--disable-pip-version-check',
         clean_tree], '/')
    done = run([python, '-c', 'import %s as p; print(p.__file__)' % PACKAGE],
               tmp_path)
    assert done.stdout.startswith(where + '/lib/')
    done = run([os.path.join(where, 'bin', 'dogtag-healthcheck'),
                '--version'], tmp_path)
    assert done.stdout == '%s: %s\n' % (PACKAGE, version)


@pytest.fixture(scope='module')
def stale(ds, tmp_path_factory):
    return stale_scenario(ds, tmp_path_factory.mktemp('pkg'), 'packagestale')


def test_installed_wheel_finds_the_planted_fault(venv, stale):
    """Both entries, ipa-healthcheck's own main() and dogtag-healthcheck,
    find our registry through the wheel's entry points."""
    stale.config()
    expected = {('VLVIndexCheck', 'allCerts-packagestale'),
                ('LastNumberCheck', 'ca.certificates')}
    for entry in ([os.path.join(venv, 'python'), '-c', IPA_HEALTHCHECK],
                  [os.path.join(venv, 'dogtag-healthcheck')]):
        done = run(entry + ['--config', stale.config_path, '--list-sources'],
                   stale.instance_dir)
        assert set(SOURCES) <= _listed_sources(done.stdout)
        done = run(entry + ['--config', stale.config_path, '--source',
                            'dogtag.ranges', '--failures-only'],
                   stale.instance_dir, check=False)
        assert done.returncode == 1, done.stderr
        errors = {(r['check'], r['kw']['key']) for r in json.loads(done.stdout)
                  if r['result'] == 'ERROR'}
        assert errors == expected


# Debian's rpm lacks Fedora's python-rpm-macros and pyproject-rpm-macros:
# minimal stand-ins, given on the command line so that the spec stays
# Fedora's. DEB_PYTHON_INSTALL_LAYOUT makes Debian's pip install under
# /usr as a Debian package would, not under /usr/local.
DEBIAN_SITELIB = '/usr/lib/python3/dist-packages'
FEDORA_MACROS = {
    'dist': '%{nil}',
    'python3': SYSTEM_PYTHON,
    'python3_sitelib': DEBIAN_SITELIB,
    'pyproject_buildrequires': '%{nil}',
    'pyproject_files': '%{_builddir}/pyproject-files',
    'pyproject_wheel': '%{python3} -m pip wheel --no-deps '
                       '--no-build-isolation --no-index '
                       '-w %{_builddir}/pyproject-wheeldir .',
    'pyproject_install': 'DEB_PYTHON_INSTALL_LAYOUT=deb_system %{python3} '
                         '-m pip install --root %{buildroot} --prefix /usr '
                         '--no-deps --no-index --no-compile '
                         '--ignore-installed --no-warn-script-location '
                         '--root-user-action ignore '
                         '%{_builddir}/pyproject-wheeldir/*.whl',
    # the named packages and their dist-info: the file list for %files
    'pyproject_save_files(lL)': '(cd %{buildroot}%{python3_sitelib} && '
                                'ls -d %* %*-*.dist-info) | '
                                'sed "s|^|%{python3_sitelib}/|" '
                                '> %{pyproject_files}',
    'pyproject_check_import': 'PYTHONPATH=%{buildroot}%{python3_sitelib} '
                              '%{python3} -c "import ipahealthcheck_dogtag'
                              '.commands.healthcheck"',
}


@pytest.fixture(scope='module')
def rpm(dist, tmp_path_factory):
    """The binary RPM, built from the sdist as `rpmbuild -ta` builds it."""
    top = str(tmp_path_factory.mktemp('rpmbuild'))
    defines = ['--define=_topdir %s' % top]
    defines += ['--define=%s %s' % kv for kv in FEDORA_MACROS.items()]
    # --nodeps: Debian's rpm database knows none of the BuildRequires.
    run(['rpmbuild', '-ta', '--nodeps'] + defines + [dist[1]], top)
    built, = glob.glob(os.path.join(top, 'RPMS', 'noarch', '*.rpm'))
    return built


def test_rpm_payload_holds_everything(rpm, modules, version):
    assert os.path.basename(rpm).startswith(
        'python3-ipahealthcheck-dogtag-%s-' % version)
    payload = set(run(['rpm', '-qlp', rpm], '/').stdout.split())
    assert {DEBIAN_SITELIB + '/' + m for m in modules} <= payload
    assert '%s/%s-%s.dist-info/entry_points.txt' % (
        DEBIAN_SITELIB, PACKAGE, version) in payload
    for command in COMMANDS:
        assert '/usr/bin/' + command in payload
        assert any(re.match(r'/usr/share/man/man8/%s\.8(\.gz)?$' % command, p)
                   for p in payload)
    assert [p for p in payload if p.startswith('/usr/share/licenses/')
            and p.endswith('/LICENSE')]
    requires = run(['rpm', '-qpR', rpm], '/').stdout.split('\n')
    assert 'python3-ldap' in requires
    assert 'freeipa-healthcheck-core' in requires


def test_rpm_unpacked_runs(rpm, tmp_path):
    root = tmp_path / 'root'
    root.mkdir()
    run(['sh', '-c', 'rpm2cpio "$1" | cpio -idm --quiet', 'sh', rpm], root)
    env = dict(os.environ, PYTHONPATH=str(root) + DEBIAN_SITELIB)
    done = run([SYSTEM_PYTHON, '-c', 'import %s as p; print(p.__file__)'
                % PACKAGE], tmp_path, env)
    assert done.stdout.startswith(str(root) + DEBIAN_SITELIB)
    command = str(root) + '/usr/bin/dogtag-healthcheck'
    done = run([command, '--list-sources', '--config',
                _plain_config(tmp_path)], tmp_path, env)
    assert _listed_sources(done.stdout) == set(SOURCES)
    _diagnose_runs(str(root) + '/usr/bin/dogtag-diagnose', tmp_path, env)


SECTIONS = ('NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'EXIT STATUS',
            'FILES', 'SEE ALSO')
PAGE_SECTIONS = {
    'man/dogtag-healthcheck.8': SECTIONS + (
        'SOURCES AND CHECKS', 'CONFIGURATION', 'HOW LONG A RUN CAN TAKE'),
    'man/dogtag-clustercheck.8': SECTIONS + (
        'SOURCES AND CHECKS', 'CONFIGURATION'),
    'man/dogtag-diagnose.8': SECTIONS + (
        'COMMANDS', 'INPUTS', 'OUTPUT', 'KNOWN CAUSES', 'REDACTION'),
}


@pytest.mark.parametrize('page', MAN_PAGES)
def test_man_page_renders_without_warnings(page, clean_tree):
    # Formatted for real: with -z groff skips the line adjustment and its
    # "cannot adjust line" warnings.
    # -P-cbu: plain text from grotty, whatever its version does by
    # default (groff 1.23, Debian 13, writes SGR escapes).
    done = run(['groff', '-man', '-Tutf8', '-ww', '-P-cbu', page],
               clean_tree)
    assert done.stderr == ''
    title = os.path.basename(page)[:-len('.8')].upper() + '(8)'
    assert done.stdout.startswith(title)
    with open(os.path.join(clean_tree, page)) as f:
        sections = re.findall(r'^\.SH (.+)$', f.read(), re.M)
    missing = set(PAGE_SECTIONS[page]) - set(sections)
    assert not missing, '%s lacks %s' % (page, sorted(missing))


def _named(clean_tree, page):
    """What a page sets in bold at the start of a macro line, with groff's
    escaped hyphens read as hyphens."""
    with open(os.path.join(clean_tree, page)) as f:
        text = f.read().replace('\\-', '-')
    return set(re.findall(r'^\.B[RI]? (\S+)', text, re.M))


def _registered():
    """Load the check modules as ipa-healthcheck does, through the
    package's entry points, and return the registry's checks and sources."""
    from importlib.metadata import entry_points
    from ipahealthcheck_dogtag.checks.plugin import registry
    found = entry_points()      # the group is named after the registry
    found = found.select(group=PACKAGE) if hasattr(found, 'select') \
        else found.get(PACKAGE, ())
    assert found
    for point in found:
        point.load()
    return ({cls.__name__ for cls in registry.plugins},
            {cls.__module__ for cls in registry.plugins})


def test_man_pages_name_every_source_check_and_key(clean_tree):
    """dogtag-healthcheck(8) lists what the installed package has: every
    source and check of the registry, every configuration key it reads."""
    import inspect
    from ipahealthcheck_dogtag import discovery
    named = _named(clean_tree, MAN_PAGES[0])
    checks, sources = _registered()
    keys = set(re.findall(r"'(dogtag_\w+)'",
                          inspect.getsource(discovery.Settings)))
    keys |= set(discovery.NUMERIC)
    assert sources == set(SOURCES)
    assert len(keys) >= 8 and {'timeout', 'dogtag_log_hours'} <= keys
    missing = (checks | sources | keys | {'ldap', 'config'}) - named
    assert not missing, 'add to %s: %s' % (MAN_PAGES[0], sorted(missing))


def test_diagnose_page_names_every_command_option_and_cause(clean_tree,
                                                            tmp_path):
    """dogtag-diagnose(8) names every subcommand and option the installed
    command takes, and every known cause it can give as a verdict."""
    from ipahealthcheck_dogtag.logs import causes
    named = _named(clean_tree, MAN_PAGES[2])
    command = os.path.join(os.path.dirname(sys.executable), 'dogtag-diagnose')
    options = set()
    for sub in ('collect', 'analyse'):
        usage = run([command, sub, '--help'], tmp_path).stdout
        options |= set(re.findall(r'(?<![\w-])(--?[a-z][\w-]*)', usage))
    assert {'--since', '--max-file-mib', '-o', '--json', '--before'} <= \
        options
    ids = {c.id for c in causes.CAUSES} | {causes.ADMIN_LEFTOVER.id}
    assert len(ids) >= 10
    with open(os.path.join(clean_tree, MAN_PAGES[2])) as f:
        text = f.read().replace('\\-', '-')
    missing = {o for o in options if o not in text} | (ids - named)
    missing |= {'collect', 'analyse'} - named
    assert not missing, 'add to %s: %s' % (MAN_PAGES[2], sorted(missing))
