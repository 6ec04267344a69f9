"""The commands each finding recommends. We print them; we never run them.

No command here deletes a VLV definition: in IPA the CA and the KRA share
the `ipaca` backend, and `pki-server <sub>-db-vlv-del` removes every VLV
index in it, the other subsystem's included.
"""

import os
import re
from urllib.parse import unquote

PKI_SERVER_VLV = (10, 11)       # first PKI with pki-server ca-db-vlv-*


def ds_instance(database):
    """`slapd-<name>` of the instance behind an LDAPI URI, for dsconf."""
    path = unquote(database.ldap_uri.split('://', 1)[-1])
    match = re.match(r'(slapd-[^./]+)\.socket$', os.path.basename(path))
    return match.group(1) if match else 'slapd-<instance>'


def restart(database):
    return ('systemctl restart pki-tomcatd@%s.service so that Dogtag looks '
            'up its last number again' % database.instance_id)


def _has_pki_server_vlv(database):
    return database.pki_version is None or \
        tuple(database.pki_version) >= PKI_SERVER_VLV


def vlv_reindex(repo, database):
    if _has_pki_server_vlv(database):
        command = 'pki-server %s -i %s' % (repo.kind.reindex_command,
                                           database.instance_id)
    else:
        command = 'dsconf %s backend vlv-index reindex --parent-name %s %s' % (
            ds_instance(database), repo.vlv_name, repo.subsystem.database)
    return '%s, then %s' % (command, restart(database))


def vlv_recreate(repo, database):
    sub = repo.kind.subsystem
    if _has_pki_server_vlv(database):
        return ('pki-server %s-db-vlv-add -i %s (it adds only the missing '
                'definitions), then pki-server %s -i %s, then %s'
                % (sub, database.instance_id, repo.kind.reindex_command,
                   database.instance_id, restart(database)))
    return ('add the %s definitions from /usr/share/pki/%s/conf/vlv.ldif '
            '(with {instanceId} and {database} filled in) with '
            'ldapmodify -a, then rebuild them with vlvtasks.ldif, then %s'
            % (sub.upper(), sub, restart(database)))


def vlv_edit(repo, database):
    return ('dsconf %s backend vlv-index edit-search --name %s '
            '--search-base "%s" --search-scope 1 --search-filter "%s" %s, '
            'then %s' % (ds_instance(database), repo.vlv_name,
                         repo.container, repo.kind.lookup_filter.lower(),
                         repo.subsystem.database,
                         vlv_reindex(repo, database)))


def attribute_reindex(repo, database):
    return ('dsconf %s backend index reindex --attr %s --wait %s, then %s'
            % (ds_instance(database), repo.kind.attribute.lower(),
               repo.subsystem.database, restart(database)))


# -- replication -------------------------------------------------------------

def _suffix(database):
    return database.subsystem('ca').basedn


def agreement_delete(database, agreement, cleanruv=False):
    command = 'dsconf %s repl-agmt delete --suffix "%s" "%s"' % (
        ds_instance(database), _suffix(database), agreement.name)
    if cleanruv:
        command += (', then clean its replica ID from the RUV with dsconf %s '
                    'repl-tasks cleanallruv --suffix "%s" --replica-id <id>'
                    % (ds_instance(database), _suffix(database)))
    return command


def agreement_enable(database, topology, agreement):
    return ('dsconf %s repl-agmt enable --suffix "%s" "%s" if %s should '
            'still replicate; if not, remove it: %s' % (
                ds_instance(database), _suffix(database), agreement.name,
                agreement.host, remove_agreement(database, topology,
                                                 agreement)))


def dirsrv_restart(database):
    name = ds_instance(database)
    name = name[len('slapd-'):] if name.startswith('slapd-') else name
    return 'systemctl restart dirsrv@%s.service' % name


def refused_by_topology_plugin(topology, agreement):
    """Would IPA's topology plugin refuse to delete this agreement?

    At domain level 1 it refuses ("Entry is managed by topology plugin.
    Deletion not allowed.") an agreement of a shared suffix that is marked
    (objectClass ipaReplTopoManagedAgreement) or whose two ends are managed
    servers: freeipa/freeipa daemons/ipa-slapi-plugins/topology/
    topology_pre.c ipa_topo_pre_del / ipa_topo_is_entry_managed and
    topology_util.c ipa_topo_util_target_is_managed, release-4-13-3.
    """
    return topology.managed_topology and (
        agreement.marked or (topology.is_managed(agreement.host) and
                             topology.is_managed(topology.local)))


def remove_agreement(database, topology, agreement, cleanruv=False):
    """How to remove an agreement, in a way the server accepts."""
    if not refused_by_topology_plugin(topology, agreement):
        return agreement_delete(database, agreement, cleanruv)
    segment = topology.segment(agreement.host)
    if segment:
        # The plugin deletes a segment's agreements on both servers
        # (topology_post.c); the IPA command needs domain level 1.
        return 'ipa topologysegment-del ca %s' % segment
    if agreement.marked:
        # At start the plugin deletes a marked agreement that has no
        # segment (topology_util.c ipa_topo_util_update_agmt_list).
        return ('%s on %s: at start the topology plugin deletes a managed '
                'agreement that has no segment' % (
                    dirsrv_restart(database), topology.local))
    # An unmarked one it adopts at start, with an "autogen" segment
    # <local>-to-<peer> (ipa_topo_util_segm_from_agmt), which IPA can
    # then remove.
    name = '%s-to-%s' % (topology.local, agreement.host.lower())
    return ('%s on %s, so that the topology plugin adopts the agreement '
            'as segment %s, then ipa topologysegment-del ca %s' % (
                dirsrv_restart(database), topology.local, name, name))


def removed_server(database, topology, agreement):
    return ('ipa-replica-manage del %s --force --cleanup removes what a '
            'removed server left behind; if the agreement is still there '
            'afterwards: %s' % (agreement.host,
                                remove_agreement(database, topology,
                                                 agreement)))


def unfinished_ca_install(topology, agreement):
    return ('if an install is running on %s, wait for it to finish; if '
            'not, read its /var/log/ipareplica-install.log or '
            '/var/log/ipareplica-ca-install.log and run the install again '
            '(ipa-ca-install on %s), or retire the server with '
            'ipa-replica-manage del %s --force --cleanup' % (
                agreement.host, agreement.host, agreement.host))


def segment_missing(database, topology, agreement):
    """Domain level 1, no CA segment joins this server and the peer."""
    local, peer = topology.local, agreement.host.lower()
    name = '%s-to-%s' % (local, peer)
    if agreement.marked:
        return ('%s on %s: at start the topology plugin deletes a managed '
                'agreement that has no segment; then, if %s and %s should '
                'replicate the CA directly: ipa topologysegment-add ca %s '
                '--leftnode=%s --rightnode=%s' % (
                    dirsrv_restart(database), local, local, peer, name,
                    local, peer))
    # Not `ipa topologysegment-add` beside it: the plugin would add a
    # second agreement cn=<local>-to-<peer> to the same host
    # (topology_post.c ipa_topo_post_add, topology_agmt.c
    # ipa_topo_agmt_setup); at start it adopts this one instead.
    return ('%s on %s: at start the topology plugin adopts the agreement '
            'and records segment %s (do not run ipa topologysegment-add '
            'beside it: that adds a second agreement to %s); if %s and %s '
            'should not replicate the CA directly, then ipa '
            'topologysegment-del ca %s' % (
                dirsrv_restart(database), local, name, peer, local, peer,
                name))


def unreachable_peer(database, topology, agreement):
    if topology.managed_topology:
        retire = 'ipa server-del %s' % agreement.host
        status = 'ipa-csreplica-manage list -v %s' % topology.local
    elif topology.ipa:
        retire = 'ipa-replica-manage del %s' % agreement.host
        status = 'ipa-csreplica-manage list -v %s' % topology.local
    else:
        retire = agreement_delete(database, agreement, cleanruv=True)
        status = 'dsconf %s repl-agmt status --suffix "%s" "%s"' % (
            ds_instance(database), _suffix(database), agreement.name)
    return ('make sure 389-DS runs on %s and answers on port %s from this '
            'server (%s shows the detail); if %s is retired for good: %s' % (
                agreement.host, agreement.port, status, agreement.host,
                retire))


def clean_ruv(database, topology, suffix, rid):
    if topology.ipa:
        return ('ipa-replica-manage clean-dangling-ruv (or ipa-replica-manage '
                'clean-ruv %d)' % rid)
    return 'dsconf %s repl-tasks cleanallruv --suffix "%s" --replica-id %d' % (
        ds_instance(database), suffix, rid)
