"""Findings of replication: the CA suffix's agreements and RUV, as the
local 389-DS records them. Codes DTR0400-DTR0499."""

from ipahealthcheck_dogtag.findings import ERROR, SUCCESS, WARNING, Finding

SOURCE = 'dogtag.replication'

# What every agreement result carries: the agreement's status as 389-DS
# records it (dogtag/agreements.py Agreement.fields) and where it stands.
AGREEMENT = ('agreement', 'peer', 'port', 'enabled', 'last_update_status',
             'last_success', 'last_attempt', 'changes_sent', 'last_init',
             'topology_marked', 'update_in_progress', 'local', 'topology',
             'suffix', 'domain_level')
GONE = AGREEMENT + ('last_success_text',)
FAILING = AGREEMENT + ('threshold_hours', 'failing_since',
                       'failing_since_source', 'since_restart',
                       'server_started')
RUV = ('suffix', 'local_replica_id', 'ruv')
RUV_ELEMENT = RUV + ('replica_id', 'host', 'port', 'topology',
                     'host_is_server')
REPL_UPSTREAM = ('389ds/389-ds-base 389-ds-base-2.9.0 ldap/servers/plugins/'
                 'replication/repl5_inc_protocol.c repl5_inc_run, '
                 'repl5_agmt.c')
IPA = 'freeipa/freeipa release-4-13-3 '

NOT_REPLICATED = Finding(
    'DTR0400', 'not-replicated', SOURCE, None, SUCCESS,
    'The CA suffix is not replicated on this server',
    '{suffix} has no replica configuration on this server: nothing to '
    'check.', key='replication', fields=('suffix',),
    meaning='No nsds5Replica entry under cn=mapping tree,cn=config has '
            'the CA suffix as nsDS5ReplicaRoot: a single CA server, whose '
            'agreements and RUV there is nothing to say about.')

NO_AGREEMENTS = Finding(
    'DTR0401', 'no-agreements', SOURCE, 'AgreementCheck', SUCCESS,
    'The CA suffix\'s replica has no agreements',
    'The replica {replica} has no agreements.', key='replication',
    fields=('replica',),
    meaning='The CA suffix is a replica, but replicates to no server '
            'from here.')

AGREEMENT_OK = Finding(
    'DTR0402', 'agreement-ok', SOURCE, 'AgreementCheck', SUCCESS,
    'An agreement replicates to a current CA server',
    'Replication to {peer} works: {last_update_status}.',
    key='<peer host>, or <peer host>/<agreement name> when several '
        'agreements go to one host',
    fields=AGREEMENT,
    meaning='The peer is a current CA server, the agreement is enabled, '
            'and its last session did not fail (or one is in progress).')

PEER_NOT_IN_SECURITY_DOMAIN = Finding(
    'DTR0403', 'peer-not-in-security-domain', SOURCE, 'AgreementCheck',
    ERROR, 'An agreement replicates to a host outside the security domain',
    'Replication still goes to {peer}, which is not in the security domain '
    'any more.', key='<peer host>', fields=GONE,
    fix='agreement_delete',
    meaning='A standalone Dogtag: the peer is no subsystem host of the '
            'security domain (ou=Security Domain under the CA suffix) any '
            'more. The agreement and the peer\'s replica ID stay until '
            'removed: 389-DS keeps trying, and the RUV keeps the ID.')

PEER_NOT_IPA_SERVER = Finding(
    'DTR0404', 'peer-not-ipa-server', SOURCE, 'AgreementCheck', ERROR,
    'An agreement replicates to a host that is no IPA server',
    'Replication still goes to {peer}, which is not an IPA server any '
    'more.', key='<peer host>', fields=GONE,
    fix='removed_server',
    upstream=IPA + 'install/tools/ipa-replica-manage.in del',
    meaning='There is no cn=<peer> under cn=masters (`topology`): the '
            'server was removed, but its CA agreement on this server was '
            'not. ipa-replica-manage del --force --cleanup removes what a '
            'removed server left behind.')

PEER_CA_INSTALL_UNFINISHED = Finding(
    'DTR0405', 'peer-ca-install-unfinished', SOURCE, 'AgreementCheck',
    WARNING, 'An agreement replicates to a CA install in progress or '
    'abandoned',
    'A CA install on {peer} is in progress or did not finish; keep the '
    'agreement to it.', key='<peer host>',
    fields=GONE + ('ca_state',), fix='unfinished_ca_install',
    upstream=IPA + ('ipaserver/install/cainstance.py (setting up '
                    'initial replication, enabling CA instance), '
                    'service.py ldap_configure, enable_services; '
                    'install/share/ca-topology.uldif'),
    meaning='A replica\'s CA install sets up o=ipaca replication first and '
            'records the CA role only later. `ca_state` says how far it '
            'got: "configured" when cn=CA,cn=<peer> under `topology` is '
            'configuredService, not yet enabledService or hiddenService; '
            '"none" when the peer already takes part in the CA suffix\'s '
            'replication (ipaReplTopoManagedSuffix) but has no cn=CA entry '
            'yet. Deleting the agreement would break an install that '
            'runs.')

PEER_NO_CA_ROLE = Finding(
    'DTR0406', 'peer-no-ca-role', SOURCE, 'AgreementCheck', ERROR,
    'An agreement replicates to a server without the CA role',
    'Replication still goes to {peer}, which no longer holds the CA '
    'role.', key='<peer host>', fields=GONE,
    fix='remove_agreement',
    upstream=IPA + ('daemons/ipa-slapi-plugins/topology/topology_pre.c '
                    'ipa_topo_pre_del'),
    meaning='The peer is an IPA server, but has no enabled or hidden '
            'cn=CA,cn=<peer> under `topology`: its CA was removed and this '
            'agreement was left. The fix removes it in a way IPA\'s '
            'topology plugin accepts (at domain level 1 it refuses to '
            'delete a managed agreement).')

SEGMENT_MISSING = Finding(
    'DTR0407', 'segment-missing', SOURCE, 'AgreementCheck', WARNING,
    'No CA topology segment backs an agreement',
    'No CA topology segment backs the agreement from {local} to {peer}.',
    key='<peer host>', fields=GONE, fix='segment_missing',
    upstream=IPA + ('ipaserver/plugins/topology.py validate_domain_level; '
                    'daemons/ipa-slapi-plugins/topology/topology_util.c '
                    'ipa_topo_util_update_agmt_list'),
    meaning='From domain level 1 IPA manages agreements through segments '
            'under cn=ca,cn=topology,cn=ipa,cn=etc; this agreement has '
            'none. At its next start the topology plugin adopts an '
            'unmarked agreement and deletes a marked one.')

AGREEMENT_DISABLED = Finding(
    'DTR0408', 'agreement-disabled', SOURCE, 'AgreementCheck', WARNING,
    'An agreement is disabled',
    'The agreement to {peer} is disabled (nsds5ReplicaEnabled: off).',
    key='<peer host>', fields=AGREEMENT, fix='agreement_enable',
    meaning='Changes to the CA suffix made here do not reach the peer '
            'while the agreement is off.')

AGREEMENT_FAILING_UNDATED = Finding(
    'DTR0409', 'agreement-failing-undated', SOURCE, 'AgreementCheck',
    WARNING, 'Replication to a peer fails, since a time 389-DS no longer '
    'records',
    'Updates to {peer} fail, and 389-DS no longer records when one last '
    'succeeded.', key='<peer host>', fields=FAILING,
    fix='unreachable_peer', upstream=REPL_UPSTREAM,
    meaning='A session that acquired the replica and then failed clears '
            'the end time of the last successful one, and '
            '`changes_sent` changes reached the peer since the 389-DS '
            'start: nothing dates the failure. It clears at the next '
            'successful session, within minutes once the peer answers '
            'again; act on the fix if it persists.')

AGREEMENT_FAILING_RECENT = Finding(
    'DTR0410', 'agreement-failing-recent', SOURCE, 'AgreementCheck',
    SUCCESS, 'Replication to a peer fails, for less than the threshold',
    'Updates to {peer} fail; none reached it since {failing_since}, under '
    '{threshold_hours} h ago.', key='<peer host>',
    fields=FAILING, upstream=REPL_UPSTREAM,
    meaning='Reported as an ERROR (DTR0411) if it goes on for '
            'dogtag_agreement_failure_hours. `failing_since_source` says '
            'what dates it: last_success (the end of the last successful '
            'session), last_init (the last total update, when nothing '
            'reached the peer since), or server_start (the 389-DS start, '
            'when no change reached the peer since: a start is no '
            'success).')

AGREEMENT_FAILING = Finding(
    'DTR0411', 'agreement-failing', SOURCE, 'AgreementCheck', ERROR,
    'Replication to a peer has failed for longer than the threshold',
    'Updates to {peer} fail; none reached it since {failing_since}, over '
    '{threshold_hours} h ago.', key='<peer host>',
    fields=FAILING, fix='unreachable_peer', upstream=REPL_UPSTREAM,
    meaning='Changes made here have not reached the peer for longer than '
            'dogtag_agreement_failure_hours; `last_update_status` says '
            'why the last session failed and `failing_since_source` what '
            'dates the failure (see DTR0410).')

RUV_INSTALL_UNFINISHED = Finding(
    'DTR0412', 'ruv-install-unfinished', SOURCE, 'RUVCheck', WARNING,
    'The RUV holds the replica ID of a CA install in progress or abandoned',
    'The RUV of {suffix} holds replica ID {replica_id} of {host}, whose CA '
    'install is unfinished.', key='replica-id-<replica ID>',
    fields=RUV_ELEMENT, fix='ruv_of_unfinished_install',
    upstream=IPA + 'install/tools/ipa-replica-manage.in clean_dangling_ruvs',
    meaning='The host takes part in the CA suffix\'s replication '
            '(ipaReplTopoManagedSuffix) but has no cn=CA,cn=<host> under '
            '`topology`: a CA install there runs or stopped half-way. If '
            'it was abandoned, this RUV element is dangling; cleaning it '
            'while an install runs breaks the install.')

RUV_DANGLING = Finding(
    'DTR0413', 'ruv-dangling', SOURCE, 'RUVCheck', ERROR,
    'The RUV holds the replica ID of no current CA server',
    'The RUV of {suffix} holds replica ID {replica_id} of {host}, which is '
    'no current CA server.', key='replica-id-<replica ID>',
    fields=RUV_ELEMENT, fix='clean_ruv',
    upstream=IPA + 'install/tools/ipa-replica-manage.in clean_dangling_ruvs',
    meaning='A dangling RUV element: changelog trimming and replica ID '
            'reuse suffer. In IPA a host owns an o=ipaca RUV element only '
            'with a cn=CA,cn=<host> entry under `topology` (any state), as '
            'ipa-replica-manage clean-dangling-ruv counts it; '
            '`host_is_server` says whether the host is still an IPA '
            'server. A standalone Dogtag\'s owners are the hosts of its '
            'security domain.')

RUV_CLEAN = Finding(
    'DTR0414', 'ruv-clean', SOURCE, 'RUVCheck', SUCCESS,
    'Every replica ID of the RUV belongs to a current server',
    'Every replica ID in the RUV of {suffix} belongs to a current server.',
    key='ruv', fields=RUV + ('replicas',),
    meaning='`replicas` lists them; `ruv` and `local_replica_id` let the '
            'cluster report find replica IDs no server owns any more.')

RUV_INCOMPLETE = Finding(
    'DTR0415', 'ruv-incomplete', SOURCE, 'RUVCheck', WARNING,
    'The RUV holds an element without a replica URL',
    'The RUV of {suffix} holds replica ID {replica_id} without a replica '
    'URL: {value}.', key='replica-id-<replica ID>',
    fields=RUV + ('replica_id', 'value', 'topology'),
    fix='clean_incomplete_ruv',
    upstream=('freeipa/freeipa release-4-12-0 install/tools/'
              'ipa-replica-manage.in get_ruv (strict=False, pagure 9591); '
              '389ds/389-ds-base 389-ds-base-2.3.1 ldap/servers/plugins/'
              'replication/repl5_ruv.c ruv_to_valuearray (#5193)'),
    unseen='389-DS hides RUV elements without a URL from the RUV search '
           'from 389-ds-base 1.4.3.30, 2.0.15, 2.1.1 and 2.2.0 on '
           '(#5193), and refuses writes to nsds50ruv: the servers the tests '
           'run (2.3 and 3.x) cannot show one',
    meaning='An element with a replica ID but no LDAP URL (mostly without '
            'CSNs either). ipa-replica-manage before IPA 4.12.0 cannot '
            'decode it: clean-ruv and clean-dangling-ruv skip it, so its '
            'replica ID is never cleaned and CLEANALLRUV of it never runs '
            'from IPA\'s tools. Not counted as dangling or clean otherwise.')

CA_ROLE_UNFINISHED = Finding(
    'DTR0416', 'pki-role-unfinished', SOURCE, 'RoleCheck', WARNING,
    'A server\'s CA or KRA role is only configured',
    'The {role} role of {host} is still configuredService: its install is '
    'running or did not finish.', key='<host>/<role>',
    fields=('host', 'role', 'role_dn', 'topology', 'local'),
    fix='unfinished_role',
    upstream=IPA + ('ipaserver/install/service.py ldap_configure, '
                    'enable_services; ipaserver/servroles.py (pagure '
                    '7929, release-4-8-0)'),
    meaning='An install writes the role as configuredService and turns it '
            'into enabledService (or hiddenService) only at its very end: '
            'a role that stays configured is an install that runs, or one '
            'that stopped half-way. Before IPA 4.8.0 such a role made '
            'ipa config-show and ipa-replica-manage del fail ("all masters '
            'must have IPA master role enabled"). A CA role of a host this '
            'server replicates o=ipaca with is reported by AgreementCheck '
            '(DTR0405) instead.')

ROLES_FINISHED = Finding(
    'DTR0417', 'pki-roles-finished', SOURCE, 'RoleCheck', SUCCESS,
    'No CA or KRA role is left only configured',
    'No CA or KRA role under {topology} is left configuredService but '
    'those AgreementCheck reports.',
    key='roles', fields=('topology', 'reported_by_agreement'),
    meaning='`reported_by_agreement` lists the hosts whose configured CA '
            'role AgreementCheck reports (DTR0405), if any.')

ROLES_NOT_IPA = Finding(
    'DTR0418', 'pki-roles-not-ipa', SOURCE, 'RoleCheck', SUCCESS,
    'A standalone Dogtag has no IPA roles to check',
    'No IPA suffix is known: there are no CA or KRA roles to check.',
    key='roles', fields=(),
    meaning='Without dogtag_ipa_basedn or /etc/ipa/default.conf the CA is '
            'a standalone Dogtag: there is no cn=masters.')

COUNT = ('suffix', 'agreements', 'threshold')
COUNT_UPSTREAM = IPA + ('ipalib/constants.py recommended_max_agmts, '
                        'ipaserver/plugins/topology.py topologysuffix_verify')

AGREEMENTS_TOO_MANY = Finding(
    'DTR0419', 'agreements-too-many', SOURCE, 'AgreementCountCheck',
    WARNING, 'This server has more replication agreements than recommended',
    '{suffix} has {agreements} replication agreements on this server, over '
    'the {threshold} recommended.', key='<suffix>', fields=COUNT,
    fix='too_many_agreements', upstream=COUNT_UPSTREAM,
    meaning='IPA recommends at most 4 agreements per server and suffix '
            '(`ipa topologysuffix-verify` reports "Recommended maximum '
            'number of agreements per replica exceeded"): every agreement '
            'is a supplier thread sending each change, so more of them '
            'load the server and multiply the paths changes and conflicts '
            'travel. The threshold is dogtag_max_agreements.')

AGREEMENTS_WITHIN = Finding(
    'DTR0420', 'agreements-within', SOURCE, 'AgreementCountCheck', SUCCESS,
    'This server has no more replication agreements than recommended',
    '{suffix} has {agreements} replication agreements on this server, at '
    'most {threshold}.', key='<suffix>', fields=COUNT,
    upstream=COUNT_UPSTREAM,
    meaning='0 when the suffix is not replicated here.')

AGREEMENTS_IPA_NOT_COUNTED = Finding(
    'DTR0421', 'agreements-ipa-not-counted', SOURCE, 'AgreementCountCheck',
    SUCCESS, 'No IPA suffix is known: only the CA suffix\'s agreements are '
    'counted',
    'No IPA suffix is known: only {ca_suffix}\'s agreements were counted.',
    key='ipa-suffix', fields=('ca_suffix',),
    meaning='Without dogtag_ipa_basedn or /etc/ipa/default.conf the IPA '
            'suffix is unknown (a standalone Dogtag has none), so its '
            'agreements are not counted.')
