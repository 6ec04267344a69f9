"""One read-only LDAP session with the local 389-DS instance.

It binds with SASL EXTERNAL over LDAPI (root maps to Directory Manager, so
no password is ever read or sent) and offers exactly the reads the checks
need: single entries, Dogtag's VLV and sorted lookups, and streamed scans.
Nothing in this module writes.
"""

import time

import ldap
import ldap.sasl
from ldap.controls.libldap import SimplePagedResultsControl
from ldap.controls.sss import SSSRequestControl
from ldap.controls.vlv import VLVRequestControl, VLVResponseControl

CONNECT_TIMEOUT = 5


class DirectoryError(Exception):
    """An LDAP failure, with the operation that met it."""

    def __init__(self, what, error):
        self.what = what
        self.error = describe(error)
        super().__init__('%s: %s' % (what, self.error))


class OutOfTime(Exception):
    """A streamed scan reached its deadline; what it saw so far stays valid."""


def describe(error):
    """A one-line text for an LDAP exception, without controls or cookies."""
    if isinstance(error, ldap.LDAPError) and error.args and \
            isinstance(error.args[0], dict):
        info = error.args[0]
        text = info.get('desc', error.__class__.__name__)
        if info.get('info'):
            text += ' (%s)' % info['info']
        return text
    return str(error) or error.__class__.__name__


def _lower(attrs):
    return {k.lower(): v for k, v in attrs.items()}


class Directory:
    def __init__(self, uri, op_timeout=None):
        self.uri = uri
        # Seconds one operation may take (None: no limit), so that a slow
        # server becomes a result rather than the framework's bare alarm.
        self.op_timeout = op_timeout
        self._conn = None

    def _wait(self, conn, msgid, what, **kw):
        try:
            return conn.result3(msgid, timeout=self.op_timeout or -1, **kw)
        except ldap.TIMEOUT:
            try:
                conn.abandon(msgid)
            except ldap.LDAPError:
                pass
            raise DirectoryError(what, 'no answer within %s s; raise timeout '
                                 'in the healthcheck configuration'
                                 % self.op_timeout)

    def connect(self):
        if self._conn is None:
            try:
                conn = ldap.initialize(self.uri)
                conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
                conn.set_option(ldap.OPT_REFERRALS, 0)
                conn.set_option(ldap.OPT_NETWORK_TIMEOUT, CONNECT_TIMEOUT)
                conn.sasl_interactive_bind_s('', ldap.sasl.external())
            except ldap.LDAPError as e:
                raise DirectoryError('connecting to %s' % self.uri, e)
            self._conn = conn
        return self._conn

    def close(self):
        if self._conn is not None:
            try:
                self._conn.unbind_s()
            except ldap.LDAPError:
                pass
            self._conn = None

    def _search(self, what, base, scope, filterstr, attrs, controls=None,
                sizelimit=0, timelimit=-1):
        conn = self.connect()
        try:
            msgid = conn.search_ext(base, scope, filterstr, attrs,
                                    serverctrls=controls,
                                    sizelimit=sizelimit, timeout=timelimit)
            _, data, _, ctrls = self._wait(conn, msgid, what)
        except ldap.NO_SUCH_OBJECT:
            return [], []
        except ldap.LDAPError as e:
            raise DirectoryError(what, e)
        return [(dn, _lower(a)) for dn, a in data if dn], ctrls

    def entry(self, dn, attrs=None):
        """The entry's attributes (lower-cased names) or None if absent."""
        found, _ = self._search('reading %s' % dn, dn, ldap.SCOPE_BASE,
                                '(objectClass=*)', attrs)
        return found[0][1] if found else None

    def search(self, base, filterstr, attrs=None, scope=ldap.SCOPE_SUBTREE,
               sizelimit=0, timelimit=-1):
        """Entries as (dn, attrs); an absent base yields none.

        With a size limit the entries the server sent before it stopped
        are returned and `truncated` is True.
        """
        conn = self.connect()
        found, truncated = [], False
        try:
            msgid = conn.search_ext(base, scope, filterstr, attrs,
                                    sizelimit=sizelimit, timeout=timelimit)
            while True:
                rtype, data, _, _ = self._wait(
                    conn, msgid, 'searching %s' % base, all=0)
                if rtype == ldap.RES_SEARCH_RESULT:
                    break
                found.extend((dn, _lower(a)) for dn, a in data if dn)
        except (ldap.SIZELIMIT_EXCEEDED, ldap.TIMELIMIT_EXCEEDED):
            truncated = True
        except ldap.NO_SUCH_OBJECT:
            pass
        except ldap.LDAPError as e:
            raise DirectoryError('searching %s for %s' % (base, filterstr), e)
        return found, truncated

    def vlv_window(self, base, filterstr, attribute, target, before):
        """Dogtag's VLV request: `before` entries ahead of the first >= target.

        Returns (entries ascending, target_position, content_count). The
        size limit must stay 0: the window is before + 1 entries.
        """
        vlv = VLVRequestControl(criticality=True, before_count=before,
                                after_count=0,
                                greater_than_or_equal=target)
        sss = SSSRequestControl(criticality=True, ordering_rules=[attribute])
        entries, ctrls = self._search(
            'VLV search of %s' % base, base, ldap.SCOPE_ONELEVEL, filterstr,
            [attribute], [sss, vlv])
        return (entries,) + self._vlv_response(ctrls, base)

    def vlv_count(self, base, filterstr, attribute, scope=ldap.SCOPE_ONELEVEL):
        """content_count of a VLV request: how many entries the index holds."""
        vlv = VLVRequestControl(criticality=True, before_count=0,
                                after_count=0, offset=1, content_count=0)
        sss = SSSRequestControl(criticality=True, ordering_rules=[attribute])
        _, ctrls = self._search('VLV search of %s' % base, base, scope,
                                filterstr, ['1.1'], [sss, vlv])
        return self._vlv_response(ctrls, base)[1]

    @staticmethod
    def _vlv_response(ctrls, base):
        for ctrl in ctrls or ():
            if ctrl.controlType == VLVResponseControl.controlType:
                if ctrl.result:
                    raise DirectoryError('VLV search of %s' % base,
                                         'VLV result code %d' % ctrl.result)
                return ctrl.target_position, ctrl.content_count
        raise DirectoryError('VLV search of %s' % base,
                             'the server sent no VLV response control')

    def sorted_first(self, base, filterstr, sort_key, attribute):
        """First entry of Dogtag's paged, server-side sorted search."""
        sss = SSSRequestControl(criticality=True, ordering_rules=[sort_key])
        paged = SimplePagedResultsControl(criticality=False, size=1,
                                          cookie='')
        entries, _ = self._search('sorted search of %s' % base, base,
                                  ldap.SCOPE_ONELEVEL, filterstr,
                                  [attribute], [sss, paged])
        # Leave the paged search unfinished: only its first entry matters.
        return entries[0] if entries else None

    def stream(self, base, filterstr, attrs, deadline=None,
               scope=ldap.SCOPE_ONELEVEL):
        """Yield (dn, attrs) one at a time; memory does not grow with size.

        Raises OutOfTime (after abandoning the search) at `deadline`, a
        time.monotonic() value.
        """
        conn = self.connect()
        try:
            msgid = conn.search_ext(base, scope, filterstr, attrs)
        except ldap.LDAPError as e:
            raise DirectoryError('scanning %s' % base, e)
        done = False
        try:
            while True:
                wait = -1
                if deadline is not None:
                    wait = deadline - time.monotonic()
                    if wait <= 0:
                        raise OutOfTime()
                try:
                    rtype, data, _, _ = conn.result3(msgid, all=0,
                                                     timeout=wait)
                except ldap.TIMEOUT:
                    raise OutOfTime()
                except ldap.NO_SUCH_OBJECT:
                    done = True
                    return
                except ldap.LDAPError as e:
                    done = True
                    raise DirectoryError('scanning %s' % base, e)
                if rtype == ldap.RES_SEARCH_RESULT:
                    done = True
                    return
                for dn, entry in data:
                    if dn:
                        yield dn, _lower(entry)
        finally:
            if not done:
                try:
                    conn.abandon(msgid)
                except ldap.LDAPError:
                    pass
