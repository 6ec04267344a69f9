"""Fixes built from what a replication agreement says, on a real 389-DS.

Whoever can write cn=config can name an agreement's host or the agreement
itself as they like; an administrator pastes our fix as root. One server
replicating o=ipaca, with agreements to hosts that are not IPA servers:
the fix names the agreement as one shell word, and no command is built
around a host name that is not one.
"""

import shlex

import ldap.dn
import pytest

from ipahealthcheck.core.config import read_config

from sandbox import cadb
from sandbox import replication as repl
from sandbox.ds import DirectoryServer
from conftest import by_key, run_checks

IPA_BASE = 'dc=ipa,dc=test'
LOCAL = 'ca1.example.test'
PAYLOAD = 'touch /tmp/agreement-pwned'


def add_agreement(server, name, host):
    conn = server.connect()
    try:
        cadb.add(conn, 'cn=%s,%s' % (ldap.dn.escape_dn_chars(name),
                                     repl.agreement_dn('x').split(',', 1)[1]),
                 objectClass=['top', 'nsds5replicationagreement'], cn=name,
                 nsDS5ReplicaRoot=cadb.SUFFIX, nsDS5ReplicaHost=host,
                 nsDS5ReplicaPort='389', nsDS5ReplicaBindDN=repl.MANAGER_DN,
                 nsDS5ReplicaCredentials=repl.MANAGER_PASSWORD,
                 nsDS5ReplicaBindMethod='SIMPLE',
                 nsDS5ReplicaTransportInfo='LDAP',
                 nsds5ReplicaEnabled='off')
    finally:
        conn.unbind_s()


class Found(dict):
    """The results by key, and those of the run before any agreement."""


@pytest.fixture(scope='module')
def agreements(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('hostile')
    server = DirectoryServer(name='hostile', hostname=LOCAL,
                             suffixes={'userroot': IPA_BASE})
    try:
        server.create(cache_mb=64)
        cadb.prepare_backend(server)
        repl.enable_supplier(server, 1)
        topology = repl.IPATopology(IPA_BASE)
        conn = server.connect()
        try:
            cadb.CATree().create(conn, kra=False)
            repl.load_ipa_schema(conn)
            topology.create(conn)
            topology.add_server(conn, LOCAL)
        finally:
            conn.unbind_s()
        instance_dir = str(tmp / 'pki-tomcat')
        cadb.CATree().write_cs_cfg(instance_dir, machineName=LOCAL)
        path = str(tmp / 'healthcheck.conf')
        cadb.write_healthcheck_conf(path, instance_dir, server, '11.5.0',
                                    dogtag_ipa_basedn=IPA_BASE)
        # Before any agreement: a replica that replicates to nobody.
        before = by_key(run_checks(read_config(path), 'AgreementCheck'),
                        'AgreementCheck')
        add_agreement(server, 'caTogone1', 'gone1.example.test; %s #'
                      % PAYLOAD)
        add_agreement(server, 'caTo"gone2" $(%s)' % PAYLOAD,
                      'gone2.example.test')
        add_agreement(server, 'caTogone3', 'gone3.example.test\nERROR: '
                      'injected line')
        found = Found(by_key(run_checks(read_config(path), 'AgreementCheck'),
                             'AgreementCheck'))
        found.before = before
        yield found
    finally:
        server.destroy()


def test_no_command_around_a_host_with_shell_syntax(agreements):
    found = agreements['gone1.example.test; %s #' % PAYLOAD]
    assert found['result'] == 'ERROR'
    assert found['kw']['code'] == 'DTR0404'         # peer-not-ipa-server
    assert found['kw']['fix'].startswith('no command is given because '
                                         'the agreement\'s host')
    assert PAYLOAD not in found['kw']['fix']


def test_an_agreement_name_with_quotes_is_one_shell_word(agreements):
    found = agreements['gone2.example.test']
    assert found['result'] == 'ERROR'
    fix = found['kw']['fix']
    delete = fix.split('afterwards: ', 1)[1]
    assert shlex.split(delete) == [
        'dsconf', 'slapd-hostile', 'repl-agmt', 'delete', '--suffix',
        'o=ipaca', 'caTo"gone2" $(%s)' % PAYLOAD]
    assert shlex.split(fix.split(' removes ', 1)[0]) == [
        'ipa-replica-manage', 'del', 'gone2.example.test', '--force',
        '--cleanup']


def test_a_host_with_a_line_break_stays_on_one_line(agreements):
    # The key is printed by the human output as well.
    found = agreements['gone3.example.test\\nerror: injected line']
    assert '\n' not in found['text']
    assert 'gone3.example.test\\nERROR: injected line' in found['text']
    assert found['kw']['fix'].startswith('no command is given')


def test_no_credentials_in_any_result(agreements):
    assert repl.MANAGER_PASSWORD not in repr(agreements)


def test_a_replica_without_agreements(agreements):
    found = agreements.before
    assert list(found) == ['replication']
    assert found['replication']['result'] == 'SUCCESS'
    assert found['replication']['kw']['code'] == 'DTR0401'  # no-agreements
    assert found['replication']['kw']['replica'].startswith(
        'cn=replica,')
