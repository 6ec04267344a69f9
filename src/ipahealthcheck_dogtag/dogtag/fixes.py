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
    # On LMDB (389-DS 3.x) an online VLV reindex does not switch the index
    # on (vlvIndex_go_online is called only by the BerkeleyDB code,
    # 389-ds-base 3.1.2 back-ldbm/db-bdb/bdb_ldif2db.c), and with 3.1.2 VLV
    # searches on a rebuilt index fail until 389-DS restarts.
    return '%s, then dsctl %s restart, then %s' % (
        command, ds_instance(database), restart(database))


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


def agreement_enable(database, agreement):
    return ('dsconf %s repl-agmt enable --suffix "%s" "%s" if %s should '
            'still replicate; if not, remove it: %s' % (
                ds_instance(database), _suffix(database), agreement.name,
                agreement.host, agreement_delete(database, agreement)))


def removed_server(database, agreement):
    return ('ipa-replica-manage del %s --force --cleanup removes what a '
            'removed server left behind; if the agreement is still there '
            'afterwards: %s' % (agreement.host,
                                agreement_delete(database, agreement)))


def segment_or_delete(database, topology, agreement):
    return ('if %s and %s should replicate the CA: ipa topologysegment-add '
            'ca %s-to-%s --leftnode=%s --rightnode=%s; if not: %s' % (
                topology.local, agreement.host, topology.local,
                agreement.host, topology.local, agreement.host,
                agreement_delete(database, agreement)))


def unreachable_peer(database, topology, agreement):
    if topology.ipa:
        retire = 'ipa server-del %s' % agreement.host
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
