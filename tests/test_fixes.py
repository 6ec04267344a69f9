"""Fix strings are safe to paste: every value is one shell word, LDIF comes
from python-ldap's writer, and no command is built around a value that is
not a plausible host name or DN."""

import io
import shlex
import subprocess
from types import SimpleNamespace

import ldap
import ldif
import pytest

from ipahealthcheck_dogtag.dogtag import fixes
from conftest import by_key
from sandbox import cadb

HOSTILE_HOST = 'gone1.example.test; touch /tmp/x #'


def database(instance_id='pki-tomcat', basedn='o=ipaca', pki=(11, 5, 0),
             backend=None, ds=None, problem=None):
    """A discovered CA database; `backend` and `ds` (389-DS version) are
    what the checks' context reads from cn=config."""
    ca = SimpleNamespace(basedn=basedn)
    facts = fixes.ServerFacts(backend, ds, problem)
    return SimpleNamespace(
        ldap_uri='ldapi://%2Frun%2Fslapd-EXAMPLE-TEST.socket',
        instance_id=instance_id, pki_version=pki,
        subsystem=lambda name: ca, server=lambda: facts)


def agreement(host='ca2.example.test', name='caToca2.example.test',
              port='389', marked=False):
    return SimpleNamespace(host=host, name=name, port=port, marked=marked)


def topology(local='ca1.example.test', ipa=True, managed=True):
    """Domain level 1 (managed) or 0; no segments, every host managed."""
    return SimpleNamespace(local=local, ipa=ipa,
                           managed_topology=ipa and managed,
                           is_managed=lambda name: True,
                           segment=lambda name: None)


def test_a_host_with_shell_syntax_gets_no_command():
    fix = str(fixes.removed_server(database(), topology(managed=False),
                                   agreement(host=HOSTILE_HOST)))
    assert fix.startswith('no command is given because')
    assert 'not a plausible host name' in fix
    assert 'touch' not in fix and 'ipa-replica-manage' not in fix


def test_an_agreement_name_with_quotes_stays_one_word():
    name = 'caTo"x" $(reboot) `id`'
    fix = str(fixes.agreement_delete(database(), agreement(name=name)))
    words = shlex.split(fix)
    assert words[:6] == ['dsconf', 'slapd-EXAMPLE-TEST', 'repl-agmt',
                         'delete', '--suffix', 'o=ipaca']
    assert words[6] == name and len(words) == 7


def test_a_value_with_a_line_break_gets_no_command():
    fix = str(fixes.agreement_delete(database(),
                                     agreement(name='a\nrm -rf /')))
    assert fix.startswith('no command is given because')
    assert '\n' not in fix and 'rm -rf' not in fix


def test_an_instance_name_is_quoted_in_every_command():
    fix = str(fixes.restart(database(instance_id='x; id')))
    assert shlex.split(fix)[:3] == ['systemctl', 'restart',
                                    'pki-tomcatd@x; id.service']


def test_a_suffix_that_is_not_a_dn_gets_no_command():
    fix = str(fixes.clean_ruv(database(basedn='o=ipaca'),
                              topology(ipa=False), 'not a dn; id', 3))
    assert fix.startswith('no command is given because the CA suffix')


def test_plain_values_read_as_before():
    fix = str(fixes.unreachable_peer(database(), topology(), agreement()))
    assert 'ipa-csreplica-manage list -v ca1.example.test' in fix
    assert 'ipa server-del ca2.example.test' in fix
    fix = str(fixes.segment_missing(database(), topology(),
                                    agreement(marked=True)))
    assert ('ipa topologysegment-add ca ca1.example.test-to-ca2.example.test'
            ' --leftnode=ca1.example.test --rightnode=ca2.example.test') in fix
    fix = str(fixes.segment_missing(database(), topology(), agreement()))
    assert 'systemctl restart dirsrv@EXAMPLE-TEST.service' in fix
    assert ('ipa topologysegment-del ca ca1.example.test-to-ca2.example.test'
            in fix)


def test_removal_ldif_is_written_by_python_ldap():
    account = 'uid=admin-r1.example.test,ou=people,o=ipaca'
    group = 'cn=Enterprise CA Administrators,ou=groups,o=ipaca'
    text = fixes.removal_ldif(account, [group])
    parsed = ldif.LDIFRecordList(io.StringIO(text))
    parsed.parse_entry_records()
    assert [dn for dn, _ in parsed.all_records] == [group, account]
    with pytest.raises(fixes.Unsafe):
        fixes.removal_ldif('uid=x\nchangetype: add,o=ipaca', [group])


def test_set_next_range_is_a_pasteable_pipeline(tmp_path):
    """The printf | ldapmodify line, run by a real shell with ldapmodify
    replaced by cat, feeds exactly the LDIF we meant."""
    fix = fixes.set_next_range(database(), 'ou=certificateRepository,'
                               'ou=ca,o=ipaca', 278435457)
    command = fix.steps[-1].do.split(' (above')[0]
    fake = tmp_path / 'ldapmodify'
    fake.write_text('#!/bin/sh\ncat\n')
    fake.chmod(0o755)
    done = subprocess.run(['sh', '-c', command], capture_output=True,
                          text=True, env={'PATH': '%s:/usr/bin:/bin'
                                          % tmp_path})
    assert done.stdout == ('dn: ou=certificateRepository,ou=ca,o=ipaca\n'
                           'changetype: modify\nreplace: nextRange\n'
                           'nextRange: 278435457\n-\n')


@pytest.mark.parametrize('value, ok', [
    ('ca1.example.test', True), ('127.0.0.1', True), ('::1', True),
    ('localhost', True), ('', False), ('a b', False), ('a;b', False),
    ('-rf', False), ('x' * 300, False), ('a\n.b', False)])
def test_plausible_host_names(value, ok):
    if ok:
        assert fixes.host(value) == value
    else:
        with pytest.raises(fixes.Unsafe):
            fixes.host(value)


# -- the VLV reindex by backend and version -----------------------------------

def repo(subsystem='ca', name='allCerts-pki-tomcat'):
    return SimpleNamespace(vlv_name=name, kind=SimpleNamespace(
        subsystem=subsystem), subsystem=SimpleNamespace(database='ipaca'))


def reindex(pki=(11, 5, 0), backend='bdb', ds=(2, 3, 1), subsystem='ca',
            **kw):
    return fixes.vlv_reindex(repo(subsystem), database(
        pki=pki, backend=backend, ds=ds, **kw))


def restarted(fix):
    return [s.service for s in fix.steps if s.effect == fixes.RESTARTS]


def index_of(fix, text):
    return [i for i, s in enumerate(fix.steps) if text in s.do]


def test_bdb_reindex_restarts_only_the_ca():
    """BerkeleyDB rebuilds the index offline from a count of 0 and switches
    it on again (389-ds-base-3.1.2 db-bdb/bdb_ldif2db.c bdb_db2index,
    vlv_srch.c vlvIndex_go_offline/vlvIndex_go_online): restarting 389-DS,
    all of IPA, buys nothing."""
    for ds in ((1, 3, 11, 1), (1, 4, 3, 39), (2, 3, 1), (3, 1, 2)):
        for pki in ((10, 5, 0), (11, 5, 0)):
            fix = reindex(pki=pki, ds=ds)
            assert restarted(fix) == ['pki-tomcatd@pki-tomcat.service']
            assert 'dsctl' not in str(fix) and 'dirsrv@' not in str(fix)
            assert fix.effect == fixes.RESTARTS


def test_lmdb_reindex_restarts_389ds_and_says_why():
    """LMDB empties the index database (db-mdb/mdb_import.c
    truncate_index_dbi) but adds the rebuilt records to the length an index
    in use keeps in memory (vlv.c do_vlv_update_index): until a restart it
    counts old + new."""
    fix = reindex(backend='mdb', ds=(3, 1, 2))
    assert restarted(fix) == ['dirsrv@EXAMPLE-TEST.service',
                              'pki-tomcatd@pki-tomcat.service']
    step = fix.steps[index_of(fix, 'systemctl restart dirsrv@')[0]]
    assert 'in memory' in step.do and step.when is None
    assert 'all of IPA' in step.text()
    assert [s['service'] for s in fix.fields()['fix_steps']][-2:] == \
        restarted(fix)


def test_pki_server_reindex_waits_by_itself():
    """pki-server ca-db-vlv-reindex waits for its task from v10.11.0
    (LDAPConfigurator.reindexVLVs -> waitForTask); kra-db-vlv-reindex
    exists in v10.3.2 but only adds the task there, and waits (time.sleep
    loop in cli/kra.py) from v10.3.3."""
    fix = reindex(pki=(11, 5, 0), backend='mdb', ds=(3, 1, 2))
    assert index_of(fix, 'backup create') == [0]
    assert fix.steps[1].do.startswith(
        'pki-server ca-db-vlv-reindex -i pki-tomcat')
    assert not index_of(fix, 'nsTaskExitCode')
    fix = reindex(pki=(10, 3, 3), subsystem='kra', ds=(1, 3, 11, 1))
    assert fix.steps[0].do.startswith('pki-server kra-db-vlv-reindex')
    fix = reindex(pki=(10, 3, 2), subsystem='kra', ds=(1, 3, 11, 1))
    assert 'kra-db-vlv-reindex' not in str(fix)
    assert fix.steps[0].do.startswith('db2index.pl ')


def test_every_reindex_that_returns_early_is_followed_by_a_wait():
    """dsconf backend vlv-index reindex (lib389 backend_reindex_vlv ->
    VLVSearch.reindex, no --wait) and db2index.pl (1.3.11) return once the
    task entry exists: a wait step comes before any restart."""
    cases = {(1, 3, 11, 1): 'db2index.pl -Z EXAMPLE-TEST -n ipaca -T '
             'allCerts-pki-tomcatIndex -w -',
             (1, 4, 0, 19): 'db2index.pl ',
             (1, 4, 0, 20): 'dsconf slapd-EXAMPLE-TEST backend vlv-index '
             'reindex --parent-name allCerts-pki-tomcat ipaca',
             (3, 1, 2): 'dsconf slapd-EXAMPLE-TEST backend vlv-index '}
    for ds, command in cases.items():
        # LMDB exists from 1.4.3 (nsslapd-backend-implement).
        for backend in ('bdb', 'mdb') if ds >= (3,) else ('bdb',):
            fix = reindex(pki=(10, 10, 0), backend=backend, ds=ds)
            first = 1 if backend == 'mdb' else 0    # after the backup
            assert fix.steps[first].do.startswith(command), (ds, str(fix))
            wait = index_of(fix, 'nsTaskExitCode')
            assert wait == [first + 1], str(fix)
            assert fix.steps[first + 1].effect == fixes.READS
            assert all(s.effect != fixes.RESTARTS
                       for s in fix.steps[:first + 2])
            assert ('dsconf' in str(fix)) == (ds >= (1, 4, 0, 20))


def test_lmdb_reindex_backs_up_first():
    """On LMDB a reindex job that fails deletes the data of the whole
    backend (389-ds-base-3.1.3 db-mdb/mdb_import.c,
    dbmdb_public_dbmdb_import_main -> dbmdb_delete_instance_dir;
    389ds/389-ds-base#7539): a backup comes before every rebuild we print
    there, and only there. BerkeleyDB's rebuild keeps the entries
    (db-bdb/bdb_ldif2db.c bdb_db2index)."""
    certs = SimpleNamespace(kind=SimpleNamespace(
        subsystem='ca', attribute='serialno', required=['certStatus'],
        excluded=[]), subsystem=SimpleNamespace(database='ipaca'),
        vlv_name='allCerts-pki-tomcat')
    crl = SimpleNamespace(kind='vlv', search='allRevokedCertsNotAfter',
                          name='allRevokedCertsNotAfterIndex')
    builders = {
        'vlv': lambda db: fixes.vlv_reindex(certs, db),
        'attribute': lambda db: fixes.attribute_reindex(certs, db),
        'one-level': lambda db: fixes.one_level_reindex(certs, db),
        'crl': lambda db: fixes.crl_index_reindex(
            db, 'ipaca', 'allRevokedCertsNotAfter'),
        'index build': lambda db: fixes.index_build(db, 'ipaca', crl),
        'crl add': fixes.crl_index_add,
    }
    for name, build in builders.items():
        lmdb = build(database(backend='mdb', ds=(3, 1, 2)))
        backup = index_of(lmdb, 'backup create')
        rebuild = [i for i in index_of(lmdb, 'reindex') if i not in backup]
        assert backup and rebuild and backup[0] < rebuild[0], str(lmdb)
        step = lmdb.steps[backup[0]]
        assert step.do.startswith('dsconf slapd-EXAMPLE-TEST backup create')
        assert '#7539' in step.do and 'backup restore' in step.do
        assert step.effect == fixes.WRITES and step.when is None
        bdb = build(database(backend='bdb', ds=(2, 3, 1)))
        assert 'backup' not in str(bdb), (name, str(bdb))
        unknown = build(database(problem='cn=config not read'))
        step = unknown.steps[index_of(unknown, 'backup create')[0]]
        assert step.when.startswith('only if 389-DS stores its data in '
                                    'LMDB'), name
        # Before 1.4.3 there is no LMDB (nsslapd-backend-implement).
        old = build(database(ds=(1, 4, 2, 16)))
        assert 'backup' not in str(old), (name, str(old))


def test_commands_exist_where_they_are_printed():
    """dsctl is not in 389-DS 1.3 (it came with the 1.4 lib389 tools);
    systemctl works everywhere. dsconf's index reindex has --wait from
    1.4.0.22, 1.4.1.2 and 1.4.2.1 (lib389 cli_conf/backend.py)."""
    for ds, backend in (((1, 3, 11, 1), 'bdb'), ((1, 4, 0, 20), 'bdb'),
                        ((3, 1, 2), 'bdb'), ((3, 1, 2), 'mdb')):
        assert 'dsctl' not in str(reindex(backend=backend, ds=ds))
    certs = SimpleNamespace(kind=SimpleNamespace(
        attribute='serialno', required=['certStatus'], excluded=[]),
        subsystem=SimpleNamespace(database='ipaca'))
    for ds, waits in (((1, 4, 0, 21), False), ((1, 4, 0, 22), True),
                      ((1, 4, 2, 0), False), ((2, 3, 1), True)):
        fix = fixes.attribute_reindex(certs, database(ds=ds))
        assert ('--wait' in str(fix)) == waits, (ds, str(fix))
        assert bool(index_of(fix, 'nsTaskExitCode')) != waits
        assert 'dirsrv' not in str(fix)
    fix = fixes.attribute_reindex(certs, database(ds=(1, 3, 11, 1)))
    assert fix.steps[0].do.startswith(
        'db2index.pl -Z EXAMPLE-TEST -n ipaca -t serialno -t certstatus ')


def test_lmdb_releases_whose_reindex_skips_hyphenated_names():
    """389ds/389-ds-base#6057: on LMDB an explicit VLV reindex did not
    rebuild indices with hyphens in their names; fixed in 2.5.2 and 3.0.2
    (git tag --contains of the fix commits)."""
    for ds, warned in (((3, 0, 0), True), ((3, 0, 1), True),
                       ((3, 0, 2), False), ((2, 5, 1), True),
                       ((2, 5, 2), False), ((3, 1, 2), False)):
        fix = reindex(backend='mdb', ds=ds)
        first = fix.steps[0]
        assert (first.effect == fixes.MANUAL and '#6057' in first.do) == \
            warned, (ds, str(fix))
    assert '#6057' not in str(reindex(backend='bdb', ds=(3, 0, 1)))


def test_unknown_server_facts_give_each_form_labelled():
    """When cn=config cannot be read, the fix says so: both reindex forms
    with the release they belong to, and the 389-DS restart only for
    LMDB."""
    fix = reindex(pki=(10, 10, 0), backend=None, ds=None,
                  problem='reading the 389-DS configuration failed')
    text = str(fix)
    assert 'backup create' in fix.steps[0].do
    assert fix.steps[0].when.startswith('only if 389-DS stores its data in '
                                        'LMDB (nsslapd-backend-implement')
    assert fix.steps[1].when == 'on 389-DS 1.4.0.20 and later'
    assert fix.steps[2].instead and 'db2index.pl' in fix.steps[2].do
    assert fix.steps[3].effect == fixes.READS
    ds_restart = [s for s in fix.steps if s.service and 'dirsrv' in s.service]
    assert len(ds_restart) == 1
    assert ds_restart[0].when.startswith('only if 389-DS stores its data in '
                                         'LMDB (nsslapd-backend-implement')
    assert 'reading the 389-DS configuration failed' in text


def test_every_builder_labels_its_steps():
    """The public form: fix (text), fix_steps (do, effect, service,
    alternative) and fix_effect, the strongest effect."""
    built = [reindex(), reindex(backend='mdb', ds=(3, 1, 2)),
             fixes.restart(database()),
             fixes.unreachable_peer(database(), topology(), agreement()),
             fixes.agreement_enable(database(), topology(managed=False),
                                    agreement()),
             fixes.removed_server(database(), topology(), agreement()),
             fixes.clean_ruv(database(), topology(), 'o=ipaca', 3),
             fixes.removed_server(database(), topology(),
                                  agreement(host=HOSTILE_HOST))]
    for fix in built:
        fields = fix.fields()
        assert fields['fix'] == str(fix)
        assert fields['fix_effect'] == max(
            (s['effect'] for s in fields['fix_steps']),
            key=fixes.EFFECTS.index)
        for step in fields['fix_steps']:
            assert step['effect'] in fixes.EFFECTS
    assert built[-1].effect == fixes.MANUAL
    assert fixes.unreachable_peer(database(), topology(),
                                  agreement()).steps[0].effect == fixes.READS
    enable = fixes.agreement_enable(database(), topology(managed=False),
                                    agreement())
    assert enable.steps[1].instead and ', or instead ' in str(enable)


def test_server_facts_parse_what_389ds_says():
    config = {'nsslapd-versionstring': [b'389-Directory/1.4.3.39 B2024.1']}
    facts = fixes.ServerFacts.from_entries(config, {})
    # Before 1.4.3 the attribute does not exist, and bdb is all there is;
    # IPA reads it the same way (cainstance.py lookup_ldap_backend).
    assert (facts.backend, facts.version) == ('bdb', (1, 4, 3, 39))
    facts = fixes.ServerFacts.from_entries(
        {}, {'nsslapd-backend-implement': [b'mdb']})
    assert (facts.backend, facts.version) == ('mdb', None)
    assert 'nsslapd-versionstring' in facts.problem
    facts = fixes.ServerFacts.from_entries(config, None)
    assert facts.backend is None and facts.problem


# -- on a real 389-DS ---------------------------------------------------------

def test_backend_and_version_are_read_from_the_server(scenario, ds):
    """The context reads nsslapd-backend-implement and
    nsslapd-versionstring over LDAPI, once a run; the sandbox's dse.ldif
    and the installed package say the same."""
    from ipahealthcheck_dogtag.checks.plugin import Context
    from ipahealthcheck_dogtag.discovery import Settings
    scenario.build(certs=range(1, 3), kra=False, vlv=())
    context = Context(Settings(scenario.config()))
    database = context.database()
    facts = fixes.server_facts(database)
    assert facts.problem is None
    assert facts.backend == ds.db_lib
    package = subprocess.run(
        ['dpkg-query', '-W', '-f', '${Version}', '389-ds-base'],
        capture_output=True, text=True, check=True).stdout
    assert package.startswith('.'.join(map(str, facts.version[:3])))
    assert fixes.server_facts(database) is facts       # read once a run


def test_the_wait_step_waits_for_the_real_task(scenario, ds):
    """The printed wait step, run by a real shell against the sandbox,
    finds the index task the reindex added and returns once it has
    nsTaskExitCode: 0."""
    scenario.build(certs=range(1, 200), kra=False, vlv=('allCerts',))
    name = scenario.tree.vlv_index_names(['allCerts'])[0]
    dn = 'cn=index_vlv_%s,%s' % (scenario.name, fixes.INDEX_TASKS)
    conn = ds.connect()
    try:
        conn.add_s(dn, [('objectClass', [b'top', b'extensibleObject']),
                        ('cn', [dn.split(',')[0][3:].encode()]),
                        ('nsInstance', [b'ipaca']),
                        ('nsIndexVLVAttribute', [name.encode()])])
        db = SimpleNamespace(ldap_uri=ds.ldapi_uri)
        wait = fixes.wait_for_index_task(db, 'ipaca', 'nsIndexVLVAttribute',
                                         name)
        command = wait.do.split('cuts it short): ', 1)[1].rsplit(
            ' (nsTaskExitCode', 1)[0]
        done = subprocess.run(['sh', '-c', command], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert dn.split(',')[0] in done.stdout
        assert 'nsTaskExitCode: 0' in done.stdout
        code = conn.search_s(dn, ldap.SCOPE_BASE,
                             attrlist=['nsTaskExitCode'])[0][1]
        assert code['nsTaskExitCode'] == [b'0']
    finally:
        conn.unbind_s()
    if ds.db_lib == 'mdb':
        ds.restart()    # as the fix says on LMDB


def test_a_check_result_carries_the_labels_of_its_backend(scenario, ds):
    """An unbuilt range index on the real server: its fix restarts 389-DS
    only where the sandbox runs LMDB."""
    scenario.build(certs=range(1, 5), kra=False, vlv=('allCerts',),
                   reindex=False)
    name = 'allCerts-' + scenario.name
    index = by_key(scenario.run(), 'VLVIndexCheck')[name]
    kw = index['kw']
    assert kw['fix_effect'] == fixes.RESTARTS
    services = [s['service'] for s in kw['fix_steps'] if s['service']]
    assert ('dirsrv@ipaca.service' in services) == (ds.db_lib == 'mdb')
    assert services[-1] == 'pki-tomcatd@%s.service' % scenario.name


def test_a_reindex_needs_a_389ds_restart_only_on_lmdb(scenario, ds):
    """Rebuild an index that VLV searches have used since the start, with
    the task our fix runs and no restart: BerkeleyDB answers complete at
    once; LMDB does not until 389-DS restarts (see _lmdb_restart)."""
    scenario.build(certs=range(1, 30), kra=False, vlv=('allCerts',))
    name = scenario.tree.vlv_index_names(['allCerts'])[0]
    view = cadb.VLVView(ds, name)               # the index is in use
    assert view.enabled and view.content_count == view.records == 29
    assert ds.run_task('index', {'nsInstance': ['ipaca'],
                                 'nsIndexVLVAttribute': [name]}) == 0
    try:
        view = cadb.VLVView(ds, name)
        whole = view.enabled and view.content_count == view.records
    except ldap.LDAPError as error:
        view, whole = error, False
    assert whole == (ds.db_lib == 'bdb'), view
    if not whole:
        ds.restart()
        cadb.verify_vlv_complete(ds, [name])


def test_one_level_reindex_names_index_check_only_where_it_exists():
    """dsctl <inst> index-check came with 389-ds-base 3.2.1 (lib389
    cli_ctl/dbtasks.py, 389ds/389-ds-base#7223); the reindex itself waits
    where dsconf has --wait and restarts only the CA."""
    ca_repo = SimpleNamespace(kind=SimpleNamespace(
        attribute='serialno', required=['certStatus'], excluded=[]),
        subsystem=SimpleNamespace(database='ipaca'))
    for ds, listed in (((2, 3, 1), False), ((3, 1, 2), False),
                       ((3, 2, 1), True), (None, True)):
        fix = fixes.one_level_reindex(ca_repo, database(backend='mdb', ds=ds))
        assert ('index-check' in str(fix)) is listed, (ds, str(fix))
        assert '--attr parentid --attr ancestorid' in str(fix)
        assert restarted(fix) == ['pki-tomcatd@pki-tomcat.service']
        check = index_of(fix, 'index-check')
        assert not check or fix.steps[check[0]].effect == fixes.MANUAL


def test_vlv_access_grant_writes_the_directory_then_restarts_the_ca():
    fix = fixes.vlv_access_grant(database(),
                                 'uid=pkidbuser,ou=people,o=ipaca')
    assert [s.effect for s in fix.steps] == [fixes.WRITES, fixes.RESTARTS]
    assert 'Cert Manager access for VLV' in str(fix).replace("' '", '')
