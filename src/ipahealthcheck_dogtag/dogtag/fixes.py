"""The commands each finding recommends. We print them; we never run them.

No command here deletes a VLV definition: in IPA the CA and the KRA share
the `ipaca` backend, and `pki-server <sub>-db-vlv-del` removes every VLV
index in it, the other subsystem's included.
"""

import os
import re
from urllib.parse import unquote

# pki-server ca-db-vlv-* came with PKI 10.11 (dogtagpki/pki v10.11.0
# base/server/python/pki/server/cli/db.py); kra-db-vlv-* exists since 10.3
# (v10.5.0 base/server/python/pki/server/cli/kra.py).
PKI_SERVER_VLV = {'ca': (10, 11), 'kra': (10, 3)}


def ds_instance(database):
    """`slapd-<name>` of the instance behind an LDAPI URI, for dsconf."""
    path = unquote(database.ldap_uri.split('://', 1)[-1])
    match = re.match(r'(slapd-[^./]+)\.socket$', os.path.basename(path))
    return match.group(1) if match else 'slapd-<instance>'


def restart(database):
    return ('systemctl restart pki-tomcatd@%s.service so that Dogtag looks '
            'up its last number again' % database.instance_id)


def _version(database):
    return tuple(database.pki_version) if database.pki_version else None


def _pki_server_vlv(repo, database):
    return 'pki-server %s-db-vlv-reindex -i %s' % (repo.kind.subsystem,
                                                   database.instance_id)


def _ds_vlv_reindex(repo, database):
    """Rebuild one VLV index with the tools of the 389-DS release: dsconf
    (389-DS 1.4+) or db2index.pl (389-DS 1.3, RHEL 7; its -T names the
    vlvIndex entry, 389ds/389-ds-base 1.3.11 man/man8/db2index.pl.8)."""
    instance = ds_instance(database)
    return ('dsconf %s backend vlv-index reindex --parent-name %s %s '
            '(389-DS 1.4 and later), or on 389-DS 1.3 (RHEL 7) '
            'db2index.pl -Z %s -n %s -T %sIndex -w - (it asks for the '
            'Directory Manager password)' % (
                instance, repo.vlv_name, repo.subsystem.database,
                instance[len('slapd-'):] if instance.startswith('slapd-')
                else instance, repo.subsystem.database, repo.vlv_name))


def vlv_reindex_command(repo, database):
    """The command that rebuilds the range VLV index on this PKI."""
    version = _version(database)
    since = PKI_SERVER_VLV[repo.kind.subsystem]
    if version is None:
        return ('%s (PKI %s and later; the PKI version is unknown, set '
                'dogtag_pki_version to get the command for it), or on an '
                'older PKI %s' % (_pki_server_vlv(repo, database),
                                  '.'.join(map(str, since)),
                                  _ds_vlv_reindex(repo, database)))
    if version >= since:
        return _pki_server_vlv(repo, database)
    return _ds_vlv_reindex(repo, database)


def vlv_reindex(repo, database):
    return '%s, then %s' % (vlv_reindex_command(repo, database),
                            restart(database))


def vlv_recreate(repo, database):
    sub = repo.kind.subsystem
    version = _version(database)
    if version is None or version >= PKI_SERVER_VLV[sub]:
        return ('pki-server %s-db-vlv-add -i %s (it adds only the missing '
                'definitions), then %s, then %s'
                % (sub, database.instance_id,
                   vlv_reindex_command(repo, database), restart(database)))
    return ('add the %s definitions from /usr/share/pki/%s/conf/vlv.ldif '
            '(with {instanceId} and {database} filled in) with '
            'ldapmodify -a, then %s, then %s'
            % (sub.upper(), sub, vlv_reindex_command(repo, database),
               restart(database)))


def vlv_edit(repo, database, attributes):
    """Make the definition match Dogtag's query. dsconf's edit-search changes
    only the vlvSearch entry (base, scope, filter); the sort order lives in
    the vlvIndex child, which dsconf can only delete and add again
    (389ds/389-ds-base src/lib389/lib389/cli_conf/backend.py)."""
    instance = ds_instance(database)
    steps = []
    if set(attributes) & {'vlvBase', 'vlvScope', 'vlvFilter'}:
        steps.append('dsconf %s backend vlv-index edit-search --name %s '
                     '--search-base "%s" --search-scope 1 --search-filter '
                     '"%s" %s' % (instance, repo.vlv_name, repo.container,
                                  repo.kind.lookup_filter.lower(),
                                  repo.subsystem.database))
    if 'vlvSort' in attributes:
        steps.append('dsconf %s backend vlv-index del-index --parent-name '
                     '%s --index-name %sIndex %s, then dsconf %s backend '
                     'vlv-index add-index --parent-name %s --index-name '
                     '%sIndex --sort %s %s' % (
                         instance, repo.vlv_name, repo.vlv_name,
                         repo.subsystem.database, instance, repo.vlv_name,
                         repo.vlv_name, repo.kind.attribute,
                         repo.subsystem.database))
    steps.append(vlv_reindex(repo, database))
    return ', then '.join(steps)


def lookup_attributes(repo):
    """The attributes whose indices Dogtag's lookup reads: the number and,
    from PKI 11.6, the presence tests of its filter (certStatus,
    requestState, realm), whose indices 389-DS intersects first."""
    kind = repo.kind
    return [kind.attribute.lower()] + [
        a.lower() for a in kind.required + kind.excluded
        if a.lower() != kind.attribute.lower()]


def attribute_reindex(repo, database):
    attrs = ' '.join('--attr %s' % a for a in lookup_attributes(repo))
    return ('dsconf %s backend index reindex %s --wait %s, then %s'
            % (ds_instance(database), attrs, repo.subsystem.database,
               restart(database)))


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
