"""Evidence that shares no index with Dogtag's lookup (issue 14, points 7
and 8), on a 389-DS of the test's own: the faults planted here break the
indices of the whole backend.

Every one-level search starts from the parentid index: Dogtag's lookups
(the VLV window up to PKI 11.5, the sorted search from 11.6), our probe and
our full scan. When that index or the number's equality index misses
records, all of them agree on "empty". A read by DN (entryrdn index) and
the container's numSubordinates (kept in the entry) do not.
"""

import ldap
import pytest

from ipahealthcheck_dogtag.dogtag.numbers import encode
from sandbox import cadb
from sandbox.ds import DirectoryServer
from conftest import Scenario, by_key
from test_last_number_truth import hook_scan

LAST = 'LastNumberCheck'


@pytest.fixture
def own_ds():
    server = DirectoryServer().create()
    cadb.prepare_backend(server)
    yield server
    server.destroy()


def build(own_ds, tmp_path, name, pki_version):
    scenario = Scenario(own_ds, tmp_path, name)
    scenario.pki_version = pki_version
    return scenario.build(certs=range(1, 31), ca_requests=range(1, 31),
                          kra=False)


def lookups(scenario):
    return by_key(scenario.run(check=LAST), LAST)


def test_one_level_defect_is_an_error(own_ds, tmp_path):
    """389ds/389-ds-base#7172/#7223 as freeipa-container#709 met it: PKI
    11.6's sorted lookup finds nothing, so the CA issues number 1 again.
    Our probe and scan are one-level searches too and found nothing either:
    the old code said SUCCESS ("holds no record yet")."""
    scenario = build(own_ds, tmp_path, 'onelevel', '11.6.0')
    container = scenario.tree.certs
    assert lookups(scenario)['ca.certificates']['result'] == 'SUCCESS'

    cadb.make_one_level_defect(own_ds, container)
    assert cadb.children(own_ds, container)[1] < 30     # planted
    certs = lookups(scenario)['ca.certificates']
    assert certs['result'] == 'ERROR', certs['text']
    kw = certs['kw']
    assert kw['dogtag_last'] == '0'
    assert kw['next_dn'] == 'cn=1,' + container
    assert kw['next_dn_exists'] is True
    assert kw['proof'] == 'base read of the next DN'
    assert kw['parentid_matching_rule'] == ['integerOrderingMatch']
    assert '--attr parentid --attr ancestorid' in kw['fix']
    # dsctl index-check first came with 389-DS 3.2.1 (lib389
    # cli_ctl/dbtasks.py): Debian 12's 2.3.1 and Debian 13's 3.1.2 lack it.
    assert 'index-check' not in kw['fix']
    assert kw['fix_effect'] == 'restarts-service'

    # Up to PKI 11.5 the VLV lookup reads its own index and answers 30;
    # cn=31 is free, but numSubordinates shows what one-level searches miss.
    scenario.pki_version = '11.5.0'
    certs = lookups(scenario)['ca.certificates']
    assert certs['result'] == 'ERROR', certs['text']
    kw = certs['kw']
    assert kw['next_dn_exists'] is False
    assert (kw['subordinates'], kw['records_scanned']) == (30, 0)
    assert kw['one_level_missing'] == 30
    assert kw['proof'] == 'numSubordinates'
    assert 'parentid' in kw['fix']
    scenario.pki_version = '11.6.0'

    # The printed fix repairs it.
    own_ds.reindex(attributes=['parentid', 'ancestorid'])
    assert cadb.children(own_ds, container) == (30, 30)
    certs = lookups(scenario)['ca.certificates']
    assert certs['result'] == 'SUCCESS', certs['text']
    assert certs['kw']['next_dn_exists'] is False


def test_from_pki_11_6_the_probe_is_no_proof(own_ds, tmp_path, monkeypatch):
    """PKI 11.6's sorted search (&(certStatus=*)(serialno<=high)) is served
    by the serialno equality index (dogtagpki/pki v11.6.0
    CertificateRepository.getLastSerialNumberInRange), as our probe is. With
    the scan cut short, as on any big CA, an index that misses the records
    fooled both and the old code said SUCCESS, "proof: equality index
    probe". Now SUCCESS rests on the base read of the next DN, and that
    read finds the collision."""
    scenario = build(own_ds, tmp_path, 'probe', '11.6.0')
    container = scenario.tree.certs
    hook_scan(monkeypatch, expired=True)
    certs = lookups(scenario)['ca.certificates']
    assert certs['result'] == 'SUCCESS', certs['text']
    assert certs['kw']['scan_complete'] is False
    assert certs['kw']['proof'] == 'base read of the next DN'
    assert certs['kw']['next_dn'] == 'cn=31,' + container

    cadb.make_empty_equality_index(own_ds, 'serialno')
    conn = own_ds.connect()
    try:    # planted: the index finds no record, a read by DN finds it
        assert conn.search_s(container, ldap.SCOPE_ONELEVEL,
                             '(serialno=%s)' % encode(1), ['1.1']) == []
        assert conn.search_s('cn=1,' + container, ldap.SCOPE_BASE,
                             attrlist=['1.1'])
    finally:
        conn.unbind_s()
    certs = lookups(scenario)['ca.certificates']
    assert certs['result'] == 'ERROR', certs['text']
    assert certs['kw']['dogtag_last'] == '0'
    assert certs['kw']['next_dn'] == 'cn=1,' + container
    assert certs['kw']['proof'] == 'base read of the next DN'
    assert '--attr serialno' in certs['kw']['fix']

    # Up to PKI 11.5 the VLV lookup does not read that index, and the probe
    # still proves the usual fault (a stale VLV index) absent.
    scenario.pki_version = '11.5.0'
    certs = lookups(scenario)['ca.certificates']
    assert certs['result'] == 'SUCCESS', certs['text']
    assert certs['kw']['proof'] == 'equality index probe'
