"""Mask the secrets in log text before it leaves the process.

Every line of log text we print, put in a result or write into an archive
goes through `Redactor` (checks/logs.py, logs/timeline.py, logs/collect.py).
It masks values, by the shapes upstream logs them, and leaves the words
around them alone: `TokenAuthentication: session not found` and
`PWD=/home/admin` are evidence, not secrets.

The shapes, by rule:

- authorization: an `Authorization:` HTTP header; the scheme (`Basic`,
  `Bearer`, `Negotiate`) stays. dogtagpki/pki PKIConnection.java (v10.10.0)
  logs every request header as `  <name>: <value>`; it masks this one
  itself, other clients (curl -v, Python's http.client debug) do not.
- cookie: `Cookie:` and `Set-Cookie:` headers, each cookie's value (the
  attributes Path, Domain, Expires... stay). PKIConnection.java (v10.10.0)
  logs response headers unmasked (`Set-Cookie: JSESSIONID=<id>; Path=/ca`);
  GetCookie.java (v10.5.0 to v11.5.0) logs `Cookie: <session cookie>`.
- session: security-domain session IDs, which stand for the admin's login
  until they expire. Dogtag logs them as `sessionID=[<id>]` in the
  MultivaluedMap it posts (ConfigurationUtils.java `updateNumberRange
  content: {..., sessionID=[<id>]}` and TokenAuthentication.java
  `content={sessionID=[<id>], hostname=[...]}`, v10.5.0),
  `TokenAuthentication: sessionId=<id>` (TokenAuthenticate.java, v10.5.0 to
  v11.5.0), and Tomcat's `JSESSIONID=<id>`.
- session-word: TokenAuthenticate.java v11.10.0 writes the ID after the
  word: `Authenticating session <id>`, `Session not found: <id>`, `Found
  session <id>`, `Session <id> valid`. The ID is a decimal number
  (SecurityDomainProcessor.java `Math.abs(random.nextLong())`, v10.5.0), so
  only a number after "session" is masked.
- session-dn: the session's LDAP entry `cn=<id>,ou=sessions,ou=Security
  Domain,<suffix>` (LDAPSecurityDomainSessionTable.java, v10.5.0 to
  v11.5.0), which 389-DS's access log prints in `ADD dn=` / `SRCH base=` /
  `DEL dn=` lines and Dogtag's debug log in its LDAP messages.
- url: query-string parameters that carry credentials in Dogtag's
  servlets: `sessionID` (IAuthManager.CRED_SESSION_ID), `pwd` and `pin`
  (UidPwdDirAuthentication / UidPwdPinDirAuthentication CRED_PWD and
  CRED_PIN, v10.5.0), plus `password`; as Tomcat's access log and
  `GetCookie before auth, url = <url>` (GetCookie.java) print them.
- option: a command line's password or session argument, as a shell line
  (`Command: pki ... ca-range-request request --session <id>`, pki/server/
  subsystem.py v10.10.0 request_range) or as a Python list
  (`CalledProcessError: Command '['pki', ..., '--session', '<id>', ...]'`,
  the same call, and IPA's `args=[...]`, ipapython/ipautil.py
  release-4-12-0). Options: `-w` (ldapmodify's bind password,
  subsystem.py v10.10.0 import_ldif), `--password`, `--*-password`,
  `--*-pin` (IPA installers' `--password`, `--ds-password`, `--dirsrv-pin`,
  release-4-12-0), `--session`. A `--*-password-file` or `--install-token`
  (PKI 11 passes a file there) names a file: not masked.
- pki-password: `-c <password>` of the `pki` command (its NSS database
  password: pki/cli/main.py v10.5.0 and v10.10.0 `cmd.extend(['-c',
  password])`). Elsewhere `-c` is no password (ldapmodify's continuous
  mode, certutil's issuer, `bash -c`), so it is masked only after `pki`.
- keyvalue: a key that names a password or PIN, with `=`, `:` or a Python
  or JSON dict between key and value: pkispawn's configuration file and
  its dict dump (`pki_*_password`, `pki_*pin`: default.cfg
  sensitive_parameters, pkilogging.py log_format, v10.5.0 to v11.5.0; IPA
  logs the file, dogtaginstance.py release-4-12-0), CS.cfg
  (`internaldb.ldapauth.password`, `preop.pin`), ConfigurationRequest's
  toString (`pin=`, `bindpwd=`, `adminPassword=`, v10.5.0), TPSMessage.java
  `pin: <pin>`, LDAP's `userPassword` and 389-DS's `nsslapd-rootpw`. The
  value ends at a blank, quote, comma, `&`, `;` or closing bracket; an
  LDAP hash keeps no part (`{SSHA}...`: 389-DS's storage schemes). The
  key must end in the word: `getPasswordFromStore:` is no key, and `PWD`
  (the working directory in sudo's journal lines) is none either.

Values the program masked already (`XXXXXXXX`, `********`) and `true`,
`false`, `none`, `null` are left as they are.
"""

import re

MASK = '********'

# A key naming a secret: it ends with one of these words.
_KEY = (r'(?:\b[\w.-]*(?:password|passwd|passphrase|secret|rootpw)|'
        r'\b(?:[\w.-]*[._-])?pin|\b(?!OLDPWD\b)[a-z]\w*pwd)\b')
# The attributes of a Set-Cookie header, which are not secrets (RFC 6265).
_COOKIE_ATTRIBUTES = {'path', 'domain', 'expires', 'max-age', 'samesite',
                      'secure', 'httponly', 'version', 'comment'}
# One `name=value` of a cookie header; the value ends at `;`, a blank or a
# comma. IPA's session cookie `ipa_session=MagBearerToken=...` keeps its
# inner `=` (freeipa ipalib/rpc.py COOKIE_NAME, ipaserver/plugins/session.py,
# release-4-12-0).
_COOKIE_PAIR = re.compile(r'((?:^|;)\s*)([^=;\s]+)=([^;\s,]+)')

# (name, words one of which a line must hold (lower case), regex): the
# substring test is much cheaper than the regex, which then runs on few
# lines.
RULES = [
    ('authorization', ('authorization',), re.compile(
        r'(\bAuthorization\s*[:=]\s*(?:(?:Basic|Bearer|Negotiate|Digest|'
        r'Token)\s+)?)([^\s\'",;]+)', re.I)),
    ('cookie', ('cookie',), re.compile(
        r'(\b(?:Set-)?Cookie[\'"]?\s*[:=]\s*[\'"]?)([^\r\n\'"]+)', re.I)),
    ('session', ('session',), re.compile(
        r'(\b(?:JSESSIONID|sessionID|session_id)\s*=\s*\[?)'
        r'([^\]\s&;,\'"}]+)', re.I)),
    ('session-word', ('session',), re.compile(
        r'((?<![-\w])[Ss]ession(?: not found:)? )(\d+)\b')),
    ('session-dn', ('ou=sessions',), re.compile(
        r'(\bcn=)(\d+)(?=\s*,\s*ou=sessions\s*,\s*ou=Security Domain)',
        re.I)),
    ('url', ('pwd=', 'pin=', 'passw', 'session'), re.compile(
        r'([?&](?:sessionID|session_id|pwd|pin|password|passwd)=)'
        r'([^&\s\'"#]+)', re.I)),
    ('option', ('-w', '--'), re.compile(
        r'((?:^|[\s\'"\[,])(?:-w|--password|--[\w-]*-password|--pin|'
        r'--[\w-]*-pin|--session)(?:=|\s+|[\'"],\s*[\'"]))([^\s\'",\]]+)')),
    ('pki-password', ('-c',), re.compile(
        r'((?:^|[\s\'"\[/])pki[\'"]?(?:,\s*|\s+)(?:[^\]\n]*?[\s\'"\[,])?'
        r'-c(?:\s+|[\'"],\s*[\'"]))((?!-)[^\s\'",\]]+)')),
    ('keyvalue', ('pass', 'secret', 'rootpw', 'pin', 'pwd'), re.compile(
        r'([\'"]?' + _KEY + r'[\'"]?\s*(?:[:=]|=>)\s*[\'"]?)'
        r'((?:\{[\w-]+\})?[^\s\'",}\]&;]+)', re.I)),
]


class Redactor:
    """Masks secrets in text; counts what each rule masked."""

    def __init__(self):
        self.counts = {name: 0 for name, _, _ in RULES}
        self._masks = {name: self._cookie if name == 'cookie'
                       else self._mask_one(name) for name, _, _ in RULES}

    def __call__(self, text):
        lower = text.lower()
        for name, hints, regex in RULES:
            if not any(h in lower for h in hints):
                continue
            text = regex.sub(self._masks[name], text)
        return text

    def _mask_one(self, name):
        def mask(m):
            value = m.group(2)
            if _masked(value):
                return m.group(0)
            self.counts[name] += 1
            return m.group(1) + MASK
        return mask

    def _cookie(self, m):
        """Each cookie's value; a bare value (GetCookie.java) entirely."""
        header, value = m.group(1), m.group(2)
        if '=' not in value:
            first, _, rest = value.partition(' ')
            if _masked(first):
                return m.group(0)
            self.counts['cookie'] += 1
            return header + MASK + (' ' + rest if rest else '')
        return header + _COOKIE_PAIR.sub(self._cookie_pair, value)

    def _cookie_pair(self, m):
        if m.group(2).lower() in _COOKIE_ATTRIBUTES or _masked(m.group(3)):
            return m.group(0)
        self.counts['cookie'] += 1
        return m.group(1) + m.group(2) + '=' + MASK

    @property
    def total(self):
        return sum(self.counts.values())


def _masked(value):
    """Already masked by the program that logged it, or no secret."""
    return not value or set(value) <= {'*', 'X', 'x'} or value.lower() in (
        'none', 'null', 'true', 'false')


_REDACTOR = Redactor()


def redact(text):
    """The text with its secrets masked (None stays None)."""
    return text if text is None else _REDACTOR(text)
