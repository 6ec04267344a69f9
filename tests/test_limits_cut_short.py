"""Dogtag's bind limits when the scan is cut short (issue 14, point 9).

The scan is cut short on big CAs, the only ones where look-through and
ID-list scan limits bite; judged on its partial counts, the limits never
fired there. numSubordinates (kept in the container entry) and a root count
capped at limit + 1 decide "over the limit" without reading everything.
"""

import ldap
import pytest

from conftest import by_key
from test_last_number_truth import (
    _pkidbuser, _sorted_lookup_as, assert_request_lookup_refused, hook_scan)

LAST = 'LastNumberCheck'


def test_limits_fire_when_the_scan_is_cut_short(scenario, monkeypatch):
    """Up to 11.5: an unbuilt caAll makes Dogtag's VLV request sort in
    memory, over pkidbuser's look-through limit of 20 (error 11, 389-ds-base
    ldbm_search.c compute_lookthrough_limit). The old code, with the scan
    cut short, counted no candidates and said SUCCESS."""
    scenario.build(certs=range(1, 4), ca_requests=range(1, 61), kra=False,
                   vlv=('allCerts',))
    user = _pkidbuser(scenario, nsLookThroughLimit='20')
    conn = scenario.ds.connect()
    try:
        scenario.tree.add_vlv(conn, ('caAll',))     # defined, never built
    finally:
        conn.unbind_s()
    assert_request_lookup_refused(scenario, user)      # the fault is real
    hook_scan(monkeypatch, expired=True)
    requests = by_key(scenario.run(check=LAST), LAST)['ca.requests']
    assert requests['kw']['scan_complete'] is False
    assert requests['result'] == 'ERROR', requests['text']
    assert requests['kw']['candidates'] == 21       # over 20, proven
    assert requests['kw']['code'] == 'DTR0111'
    # The certificate lookup is served by its built index: no count, no
    # alarm.
    certs = by_key(scenario.run(check=LAST), LAST)['ca.certificates']
    assert certs['result'] == 'SUCCESS', certs['text']

    # From 11.6: the ID-list scan limit, error 53 (dogtagpki/pki#5171).
    conn = scenario.ds.connect()
    conn.modify_s(requests['kw']['dogtag_bind'], [
        (ldap.MOD_REPLACE, 'nsLookThroughLimit', [b'-1']),
        (ldap.MOD_ADD, 'nsIDListScanLimit', [b'10'])])
    conn.unbind_s()
    with pytest.raises(ldap.UNWILLING_TO_PERFORM):
        _sorted_lookup_as(scenario, requests['kw']['dogtag_bind'])
    scenario.pki_version = '11.6.0'
    requests = by_key(scenario.run(check=LAST), LAST)['ca.requests']
    assert requests['result'] == 'ERROR', requests['text']
    assert requests['kw']['limit_exceeded'] == 'ID-list scan limit'
    assert requests['kw']['candidates'] == 11

    # Limits above what the container holds (numSubordinates) are not
    # counted and do not fire.
    conn = scenario.ds.connect()
    conn.modify_s(requests['kw']['dogtag_bind'], [
        (ldap.MOD_REPLACE, 'nsIDListScanLimit', [b'1000'])])
    conn.unbind_s()
    requests = by_key(scenario.run(check=LAST), LAST)['ca.requests']
    assert requests['result'] == 'SUCCESS', requests['text']
