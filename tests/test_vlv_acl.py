"""A VLV request refused by ACL (issue 14, point 10), on a real 389-DS.

389-DS serves a VLV request from an index only if the bind may read the
vlvSearch entry's cn (389-ds-base 2.3.1 and 3.2.2 vlv_srch.c,
vlvSearch_accessallowed); otherwise the search fails with error 50
("Insufficient access ... VLV Control", dogtagpki/pki#4717), which Dogtag
up to 11.5 takes for an empty range. pkispawn grants that read with the
"Cert Manager access for VLV searches" ACI (dogtagpki/pki v11.5.0
base/server/database/ds/db-access-grant.ldif).
"""

import ldap
import pytest
from ldap.controls.sss import SSSRequestControl
from ldap.controls.vlv import VLVRequestControl

from ipahealthcheck_dogtag.dogtag import fixes
from sandbox import cadb
from conftest import by_key

LAST = 'LastNumberCheck'


def add_dbuser(scenario):
    """Dogtag's bind with read access to its records, without the VLV
    grant."""
    dn = 'uid=pkidbuser,ou=people,' + scenario.tree.base
    conn = scenario.ds.connect()
    try:
        cadb.add(conn, dn, objectClass=['top', 'person',
                                        'organizationalPerson',
                                        'inetOrgPerson'],
                 uid='pkidbuser', cn='pkidbuser', sn='pkidbuser',
                 userPassword='Secret.123')
        conn.modify_s(scenario.tree.base, [(ldap.MOD_ADD, 'aci', [(
            '(targetattr="*")(version 3.0; acl "dbuser"; allow (read,search,'
            'compare) userdn="ldap:///%s";)' % dn).encode()])])
    finally:
        conn.unbind_s()
    return dn


def dogtag_vlv_lookup(scenario, dn):
    """Dogtag's VLV window (up to 11.5) on the certificates, as its bind."""
    user = ldap.initialize(scenario.ds.ldap_uri)
    user.simple_bind_s(dn, 'Secret.123')
    try:
        vlv = VLVRequestControl(criticality=True, before_count=5,
                                after_count=0,
                                greater_than_or_equal='0910000000')
        sss = SSSRequestControl(criticality=True, ordering_rules=['serialno'])
        return user.search_ext_s(scenario.tree.certs, ldap.SCOPE_ONELEVEL,
                                 '(certstatus=*)', ['serialno'],
                                 serverctrls=[sss, vlv])
    finally:
        user.unbind_s()


def test_vlv_refused_by_acl_is_an_error(scenario):
    """The old code said SUCCESS: our root lookup is not refused."""
    scenario.build(certs=range(1, 21), ca_requests=range(1, 4), kra=False)
    dn = add_dbuser(scenario)
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):       # planted
        dogtag_vlv_lookup(scenario, dn)
    results = by_key(scenario.run(check=LAST), LAST)
    refused = results['ca.certificates.vlv_access']
    assert refused['result'] == 'ERROR', refused['text']
    kw = refused['kw']
    assert kw['dogtag_bind'] == dn
    assert kw['vlv_search'].lower().startswith('cn=allcerts-')
    assert 'r' not in kw['rights']
    assert kw['dogtag_would_answer'] == '0'
    assert "'add: aci'" in kw['fix'] and 'ldapmodify' in kw['fix']
    assert 'Cert Manager access for VLV' in kw['fix'].replace("' '", '')
    assert results['ca.certificates']['result'] == 'SUCCESS'

    # The grant pkispawn gives, as the fix prints it: the lookup works and
    # the finding is gone.
    conn = scenario.ds.connect()
    try:
        conn.modify_s('cn=ldbm database,cn=plugins,cn=config', [(
            ldap.MOD_ADD, 'aci', [(fixes.VLV_GRANT % dn).encode()])])
    finally:
        conn.unbind_s()
    assert len(dogtag_vlv_lookup(scenario, dn)) == 6
    results = by_key(scenario.run(check=LAST), LAST)
    assert 'ca.certificates.vlv_access' not in results
    assert results['ca.certificates']['result'] == 'SUCCESS'
