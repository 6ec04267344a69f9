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

# Seconds the connect and the SASL bind may take together, whatever the
# time budget: a healthy LDAPI bind takes milliseconds, and a server that
# accepts the connection but never answers (hung, or stopped with SIGSTOP)
# must cost this once per run, not forever.
CONNECT_LIMIT = 5.0
# A bind that got no answer within at least this long is remembered as a
# failure for the run; a shorter wait, cut by the check's own deadline,
# proves nothing about the server.
CONCLUSIVE_SILENCE = 0.5
# With no deadline at all (timeout = 0), the longest wait for any answer.
SILENCE_LIMIT = 300.0
# The longest wait for a connection to be clean again after an ABANDON.
DRAIN_LIMIT = 2.0

# Why an operation failed, as DirectoryError.reason.
UNREACHABLE = 'unreachable'     # no connection, or it broke
SILENT = 'silent'               # no answer in time
OUT_OF_TIME = 'out_of_time'     # the check's own time limit ran out first
REFUSED = 'refused'             # the server answered: not allowed
FAILED = 'failed'               # any other LDAP error

_REFUSALS = (ldap.INSUFFICIENT_ACCESS, ldap.INAPPROPRIATE_AUTH,
             ldap.INVALID_CREDENTIALS, ldap.STRONG_AUTH_REQUIRED,
             ldap.AUTH_UNKNOWN)


class DirectoryError(Exception):
    """An LDAP failure, with the operation that met it and why."""

    def __init__(self, what, error, reason=None):
        self.what = what
        self.error = describe(error)
        self.reason = reason or classify(error)
        super().__init__('%s: %s' % (what, self.error))

    @property
    def connection(self):
        """True when the server could not be reached or did not answer in
        time: nothing about its content or permissions is known."""
        return self.reason in (UNREACHABLE, SILENT, OUT_OF_TIME)


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


def classify(error):
    if isinstance(error, (ldap.SERVER_DOWN, ldap.CONNECT_ERROR)):
        return UNREACHABLE
    if isinstance(error, (ldap.TIMEOUT, ldap.TIMELIMIT_EXCEEDED)):
        return SILENT
    if isinstance(error, _REFUSALS):
        return REFUSED
    return FAILED


def _seconds(value):
    """1.5, 0.04: enough digits to show a short wait is not zero."""
    return '%.1f' % value if value >= 1 else '%.2f' % value


def _lower(attrs):
    return {k.lower(): v for k, v in attrs.items()}


GET_EFFECTIVE_RIGHTS = '1.3.6.1.4.1.42.2.27.9.5.2'


def _ber_octet_string(value):
    """A BER OCTET STRING, as the Get Effective Rights control's value."""
    size = len(value)
    if size < 0x80:
        return b'\x04' + bytes([size]) + value
    length = size.to_bytes((size.bit_length() + 7) // 8, 'big')
    return b'\x04' + bytes([0x80 | len(length)]) + length + value


class Directory:
    """Reads over one connection, made on first use and remade after any
    operation that leaves it in doubt (cut short, timed out, broken).

    `deadline` (a time.monotonic() value, or None) is when every operation
    must have returned: no wait, server time limit or reconnect goes past
    it, and nothing starts after it.
    """

    def __init__(self, uri, deadline=None):
        self.uri = uri
        self.deadline = deadline
        self._conn = None
        self._failure = None        # a connect failure, kept for the run

    def _time_left(self, what):
        """Seconds an operation may wait now; raises when none are left."""
        if self.deadline is None:
            return SILENCE_LIMIT
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DirectoryError(
                what, 'not started: the check\'s time limit had run out',
                OUT_OF_TIME)
        return left

    def _silence(self, what, waited):
        """The error for a wait that ended with no answer: a short wait cut
        by the check's deadline says more about the budget than the server.
        """
        if self.deadline is None:
            return DirectoryError(what, 'no answer within %s s'
                                  % _seconds(waited), SILENT)
        return DirectoryError(
            what, 'no answer within %s s, all that was left of the '
            'check\'s time limit' % _seconds(waited),
            SILENT if waited >= CONCLUSIVE_SILENCE else OUT_OF_TIME)

    def _wait(self, conn, msgid, what, **kw):
        try:
            limit = self._time_left(what)
        except DirectoryError:
            self._abandon(conn, msgid)
            raise
        try:
            return conn.result3(msgid, timeout=limit, **kw)
        except ldap.TIMEOUT:
            self._abandon(conn, msgid)
            raise self._silence(what, limit)

    def _abandon(self, conn, msgid, drain=False):
        """Tell the server to stop the operation; keep the connection only
        if it is proven clean.

        Answers already sent are still on their way, and a server blocked
        writing them to a reader that stopped reading never gets to the
        ABANDON: it gives up with "failed to flush" when the socket closes.
        So with `drain` the unread answers are read and dropped (libldap
        discards those of an abandoned operation) until the answer to a
        cheap read proves the server has moved on; failing that, or without
        `drain` (a server that did not answer at all), the connection is
        dropped and the next read makes a new one.
        """
        try:
            conn.abandon(msgid)
            if drain and conn is self._conn:
                limit = min(DRAIN_LIMIT, self._time_left('draining'))
                marker = conn.search_ext('', ldap.SCOPE_BASE,
                                         '(objectClass=*)', ['1.1'])
                conn.result3(marker, timeout=limit)
                return
        except (ldap.LDAPError, DirectoryError):
            pass
        if conn is self._conn:
            self.close()
        else:
            try:
                conn.unbind_ext()
            except ldap.LDAPError:
                pass

    def _broken(self, error):
        """After an LDAP error: drop a connection that may be dead."""
        if classify(error) in (UNREACHABLE, SILENT):
            self.close()

    def connect(self):
        if self._failure is not None:
            raise self._failure
        if self._conn is None:
            self._conn = self._bind()
        return self._conn

    def _bind(self):
        what = 'connecting'
        limit = min(CONNECT_LIMIT, self._time_left(what))
        ends = time.monotonic() + limit
        conn = None
        try:
            conn = ldap.initialize(self.uri)
            conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
            conn.set_option(ldap.OPT_REFERRALS, 0)
            conn.set_option(ldap.OPT_NETWORK_TIMEOUT, limit)
            # libldap's default wait for any answer, which the synchronous
            # SASL bind obeys (it has no time limit of its own): without it
            # a server that accepts and stays silent blocks here forever.
            conn.set_option(ldap.OPT_TIMEOUT, limit)
            conn.sasl_interactive_bind_s('', ldap.sasl.external())
            self._privileged(conn, what, ends)
            return conn
        except DirectoryError as error:
            self._failure = error
            try:
                conn.unbind_ext()
            except ldap.LDAPError:
                pass
            raise
        except ldap.LDAPError as e:
            error = DirectoryError(what, e)
            if error.reason == SILENT:
                error = DirectoryError(
                    what, 'connected, but no answer to the bind within '
                    '%s s' % _seconds(limit),
                    SILENT if limit >= CONCLUSIVE_SILENCE else OUT_OF_TIME)
            if error.reason != OUT_OF_TIME:
                self._failure = error
            if conn is not None:
                try:
                    conn.unbind_ext()
                except ldap.LDAPError:
                    pass
            raise error

    @staticmethod
    def _privileged(conn, what, ends):
        """Raise unless the bind can read cn=config, as Directory Manager
        can. Over LDAPI 389-DS may map a non-root caller to an entry of its
        own (nsslapd-ldapimaptoentries) that sees nothing: every check
        would then read an empty database and call it healthy."""
        msgid = conn.search_ext('cn=config', ldap.SCOPE_BASE,
                                '(objectClass=*)', ['1.1'])
        try:
            _, found, _, _ = conn.result3(
                msgid, timeout=max(0.1, ends - time.monotonic()))
        except (ldap.NO_SUCH_OBJECT, ldap.INSUFFICIENT_ACCESS):
            found = []
        if not found:
            raise DirectoryError(
                what, 'bound as %s, which cannot read cn=config'
                % (conn.whoami_s() or 'anonymous'), REFUSED)

    def close(self):
        if self._conn is not None:
            try:
                self._conn.unbind_ext()
            except ldap.LDAPError:
                pass
            self._conn = None

    def _server_limit(self, requested, what):
        """The server-side time limit (whole seconds, -1 for none) that fits
        in what is left of the deadline."""
        if self.deadline is None:
            return requested
        left = int(self._time_left(what))
        if requested is None or requested < 0:
            return max(1, left)
        return max(1, min(int(requested), left))

    def _search(self, what, base, scope, filterstr, attrs, controls=None,
                sizelimit=0, timelimit=-1):
        conn = self.connect()
        try:
            msgid = conn.search_ext(
                base, scope, filterstr, attrs, serverctrls=controls,
                sizelimit=sizelimit,
                timeout=self._server_limit(timelimit, what))
            _, data, _, ctrls = self._wait(conn, msgid, what)
        except ldap.NO_SUCH_OBJECT:
            return [], []
        except ldap.LDAPError as e:
            self._broken(e)
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
        what = 'searching %s for %s' % (base, filterstr)
        conn = self.connect()
        found, truncated = [], False
        msgid = None
        try:
            msgid = conn.search_ext(
                base, scope, filterstr, attrs, sizelimit=sizelimit,
                timeout=self._server_limit(timelimit, what))
            while True:
                rtype, data, _, _ = self._wait(conn, msgid, what, all=0)
                if rtype == ldap.RES_SEARCH_RESULT:
                    break
                found.extend((dn, _lower(a)) for dn, a in data if dn)
        except (ldap.SIZELIMIT_EXCEEDED, ldap.TIMELIMIT_EXCEEDED):
            truncated = True
        except ldap.NO_SUCH_OBJECT:
            pass
        except ldap.LDAPError as e:
            self._broken(e)
            raise DirectoryError(what, e)
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

    def effective_rights(self, dn, subject, attribute):
        """The rights `subject` has on `attribute` of the entry `dn` (e.g.
        'rsc'), '' for none, or None when the entry is absent. Asked with
        the Get Effective Rights control, a read: 389-DS's acl plugin
        answers attributeLevelRights "<attr>:<rights>" (389-ds-base 2.3.1
        ldap/servers/plugins/acl/acleffectiverights.c)."""
        value = ('dn:' + subject).encode('utf-8')
        ger = ldap.controls.LDAPControl(
            GET_EFFECTIVE_RIGHTS, True,
            encodedControlValue=_ber_octet_string(value))
        found, _ = self._search('rights of %s on %s' % (subject, dn), dn,
                                ldap.SCOPE_BASE, '(objectClass=*)',
                                [attribute, 'attributeLevelRights'], [ger])
        if not found:
            return None
        for text in found[0][1].get('attributelevelrights', []):
            for item in text.decode('utf-8', 'replace').split(','):
                name, _, rights = item.strip().partition(':')
                if name.lower() == attribute.lower():
                    return rights.strip()
        return ''

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

        Raises OutOfTime at `deadline`, a time.monotonic() value; a search
        is never started after it, and one cut short is abandoned and its
        connection dropped, so the next read starts on a clean one.
        """
        what = 'scanning %s' % base
        if deadline is not None and time.monotonic() >= deadline:
            raise OutOfTime()
        conn = self.connect()
        try:
            msgid = conn.search_ext(base, scope, filterstr, attrs,
                                    timeout=self._server_limit(-1, what))
        except ldap.LDAPError as e:
            self._broken(e)
            raise DirectoryError(what, e)
        done = False
        drain = True
        try:
            while True:
                budget = None
                if deadline is not None:
                    budget = deadline - time.monotonic()
                    if budget <= 0:
                        raise OutOfTime()
                wait = self._time_left(what)
                if budget is not None:
                    wait = min(wait, budget)
                try:
                    rtype, data, _, _ = conn.result3(msgid, all=0,
                                                     timeout=wait)
                except ldap.TIMEOUT:
                    if budget is not None and wait >= budget:
                        raise OutOfTime()
                    drain = False       # it does not answer: do not wait
                    raise self._silence(what, wait)
                except ldap.TIMELIMIT_EXCEEDED as e:
                    done = True     # the server ended the search itself
                    if budget is not None:
                        raise OutOfTime()
                    raise DirectoryError(what, e)
                except ldap.NO_SUCH_OBJECT:
                    done = True
                    return
                except ldap.LDAPError as e:
                    done = True
                    self._broken(e)
                    raise DirectoryError(what, e)
                if rtype == ldap.RES_SEARCH_RESULT:
                    done = True
                    return
                for dn, entry in data:
                    if dn:
                        yield dn, _lower(entry)
        finally:
            if not done:
                self._abandon(conn, msgid, drain)
