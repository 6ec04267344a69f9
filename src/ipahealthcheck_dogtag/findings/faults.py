"""The faults users have reported publicly in this area (2016-2026), by
mechanism, and what finds each: the codes of our checks and the causes of
dogtag-diagnose. The reference (docs/findings.md) prints it as a table;
tests/test_catalog.py checks that every code and cause named exists.

Row numbers are those of the project's census of public reports (dogtagpki/
pki, freeipa, freeipa-healthcheck, 389-ds-base, freeipa-container and
ansible-freeipa trackers); the report named is one of each row's.
"""

# (row, mechanism, one public report, codes, dogtag-diagnose causes)
FAULTS = (
    (1, 'Stale, incomplete or unbuilt VLV range index (PKI up to 11.5): '
        'numbers issued again', 'freeipa-healthcheck#151',
     ('DTR0112', 'DTR0209', 'DTR0211', 'DTR0214', 'DTR0603'),
     ('ldap-68-stale-vlv',)),
    (2, 'Limits of Dogtag\'s own bind break its last-number lookup',
     'dogtagpki/pki#5133, #5171',
     ('DTR0109', 'DTR0110', 'DTR0111', 'DTR0901', 'DTR0902'),
     ('pkidbuser-limits',)),
    (3, '389-DS one-level index defect: a repository looks empty',
     '389ds/389-ds-base#7172', ('DTR0113', 'DTR0114'),
     ('ldap-68-one-level-index', 'ds-index-matching-rule')),
    (4, 'Range hand-over fails when cloning from a clone',
     'freeipa PR #2491', ('DTR0321', 'DTR0322', 'DTR0323', 'DTR0604'),
     ('range-npe-clone-of-clone',)),
    (5, 'Overlapping or conflicting ranges between CA servers',
     'freeipa-healthcheck#122', ('DTR0336', 'DTR0338', 'DTR0709'), ()),
    (6, 'SSNv1 radix bookkeeping: CS.cfg range end differs from its record',
     'dogtagpki/pki PR #4840', ('DTR0341', 'DTR0343', 'DTR0344'), ()),
    (7, 'Random and sequential serial numbers mixed in one topology',
     'ansible-freeipa PR #864', ('DTR0717',), ()),
    (8, 'LMDB: an index defined and never built makes writes fail',
     'dogtagpki/pki#4919', ('DTR0205', 'DTR1001', 'DTR1016'), ()),
    (9, 'LMDB VLV content defects', '389ds/389-ds-base#6028',
     ('DTR0207', 'DTR0211'), ()),
    (10, 'LMDB VLV searches fail (recno cache)', '389ds/389-ds-base#6356',
     ('DTR1053',), ()),
    (11, 'Security-domain session not yet replicated', 'freeipa PR #1138',
     (), ('sd-session-lag',)),
    (12, 'Temporary admin-<fqdn> not replicated', 'pagure freeipa 7593',
     (), ('sd-admin-not-replicated',)),
    (13, 'Leftover admin-<fqdn> after a failed install',
     'pagure freeipa 7593', ('DTR0501', 'DTR0502'), ('admin-leftover',)),
    (14, 'Leftover subsystem user of a removed server', 'dogtagpki/pki#3544',
     ('DTR0812', 'DTR0813'), ('subsystem-user-leftover',)),
    (15, 'Stale o=ipaca agreement from an earlier install',
     'freeipa PR #6273', ('DTR0403', 'DTR0404', 'DTR0406'),
     ('replication-agreement-leftover',)),
    (16, 'o=ipaca replication cannot start because of 389-DS defects',
     'freeipa PR #2457', (), ()),
    (17, 'Dangling RUV elements of removed servers', 'freeipa PR #7342',
     ('DTR0413', 'DTR0711'), ()),
    (18, 'Incomplete RUV elements that block CLEANALLRUV',
     'freeipa PR #7342', ('DTR0415',), ()),
    (19, 'Security-domain entries of removed servers',
     'dogtagpki/pki#3552', ('DTR0803', 'DTR0804'), ()),
    (20, 'Configuration still points at a decommissioned server',
     'freeipa PR #788', ('DTR0822', 'DTR0823'), ()),
    (21, 'cn=masters roles left configuredService by a partial install',
     'freeipa PR #3402', ('DTR0405', 'DTR0412', 'DTR0416'), ()),
    (22, 'Replica cannot obtain the CA or KRA keys (Custodia)',
     'ansible-freeipa#64', (), ('custodia-keys',)),
    (23, 'Dogtag does not start within the installer\'s timeout (symptom)',
     'dogtagpki/pki#3443', (), ('pkispawn-start-timeout',)),
    (24, 'CA debug log stops or rotates at midnight', 'dogtagpki/pki#4703',
     (), ()),
    (25, 'Clock skew during the o=ipaca total init', 'pagure freeipa 9635',
     (), ('clock-skew',)),
    (26, 'The CA keeps the old KRA transport certificate',
     'freeipa PR #7637', ('DTR0833',), ()),
    (27, 'Dogtag\'s start-up password test against 389-DS fails',
     'dogtagpki/pki#3458', (), ()),
    (28, 'Other Dogtag searches exceed its bind\'s limits (the status '
         'update of PKI 11.6; the agent and cert-find searches are not '
         'judged)',
     'dogtagpki/pki#5138', ('DTR0911',), ()),
    (29, 'Dogtag\'s bind refused the VLV control', 'dogtagpki/pki#4717',
     ('DTR0108',), ()),
    (30, 'Parallel replica installs race on cn=replica', 'freeipa PR #2132',
     (), ()),
    (31, 'Clone-of-clone install regressions in PKI',
     'dogtagpki/pki PR #3447', (), ()),
)
