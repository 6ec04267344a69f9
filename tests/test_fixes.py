"""Fix strings are safe to paste: every value is one shell word, LDIF comes
from python-ldap's writer, and no command is built around a value that is
not a plausible host name or DN."""

import io
import shlex
import subprocess
from types import SimpleNamespace

import ldif
import pytest

from ipahealthcheck_dogtag.dogtag import fixes

HOSTILE_HOST = 'gone1.example.test; touch /tmp/x #'


def database(instance_id='pki-tomcat', basedn='o=ipaca'):
    ca = SimpleNamespace(basedn=basedn)
    return SimpleNamespace(
        ldap_uri='ldapi://%2Frun%2Fslapd-EXAMPLE-TEST.socket',
        instance_id=instance_id, pki_version=(11, 5, 0),
        subsystem=lambda name: ca)


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
    fix = fixes.removed_server(database(), topology(managed=False),
                               agreement(host=HOSTILE_HOST))
    assert fix.startswith('no command is given because')
    assert 'not a plausible host name' in fix
    assert 'touch' not in fix and 'ipa-replica-manage' not in fix


def test_an_agreement_name_with_quotes_stays_one_word():
    name = 'caTo"x" $(reboot) `id`'
    fix = fixes.agreement_delete(database(), agreement(name=name))
    words = shlex.split(fix)
    assert words[:6] == ['dsconf', 'slapd-EXAMPLE-TEST', 'repl-agmt',
                         'delete', '--suffix', 'o=ipaca']
    assert words[6] == name and len(words) == 7


def test_a_value_with_a_line_break_gets_no_command():
    fix = fixes.agreement_delete(database(), agreement(name='a\nrm -rf /'))
    assert fix.startswith('no command is given because')
    assert '\n' not in fix and 'rm -rf' not in fix


def test_an_instance_name_is_quoted_in_every_command():
    fix = fixes.restart(database(instance_id='x; id'))
    assert shlex.split(fix)[:3] == ['systemctl', 'restart',
                                    'pki-tomcatd@x; id.service']


def test_a_suffix_that_is_not_a_dn_gets_no_command():
    fix = fixes.clean_ruv(database(basedn='o=ipaca'), topology(ipa=False),
                          'not a dn; id', 3)
    assert fix.startswith('no command is given because the CA suffix')


def test_plain_values_read_as_before():
    fix = fixes.unreachable_peer(database(), topology(), agreement())
    assert 'ipa-csreplica-manage list -v ca1.example.test' in fix
    assert 'ipa server-del ca2.example.test' in fix
    fix = fixes.segment_missing(database(), topology(),
                                agreement(marked=True))
    assert ('ipa topologysegment-add ca ca1.example.test-to-ca2.example.test'
            ' --leftnode=ca1.example.test --rightnode=ca2.example.test') in fix
    fix = fixes.segment_missing(database(), topology(), agreement())
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
    command = fix.split('on one CA server, ', 1)[1].split(' (above')[0]
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
