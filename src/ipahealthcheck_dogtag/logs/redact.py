"""Remove secrets from log text before it leaves the host.

What is removed, by kind: passwords and PINs in `key=value`, `key: value`
and Python-dict forms (pkispawn's configuration dump, IPA's logged
arguments, CS.cfg lines), command-line password options (`-w`, `--password`,
`--*-password`), Authorization and Cookie headers, JSESSIONID and session
IDs (Dogtag 10.x logs `sessionID=[<id>]` in its number-range requests),
and tokens, session IDs, PINs and passwords in URL query strings.
"""

import re

MASK = '********'
SECRET_WORDS = r'(?:password|passwd|passphrase|pin|secret|pwd|token|cookie)'

RULES = [
    ('authorization', re.compile(r'(Authorization\s*[:=]\s*)([^\r\n\'",]+)',
                                 re.I)),
    ('cookie', re.compile(r'((?:Set-)?Cookie\s*[:=]\s*)([^\r\n\'"]+)', re.I)),
    ('session', re.compile(r'(JSESSIONID=|sessionID=\[?|session_id=|'
                           r'sessionid[=:]\s*)([^\]\s&;,\'"]+)', re.I)),
    ('url', re.compile(r'([?&](?:[\w.-]*' + SECRET_WORDS + r'[\w.-]*|'
                       r'sessionID|ticket|sid)=)([^&\s\'"]+)', re.I)),
    ('option', re.compile(r'((?:^|[\s\'"\[])(?:-w|-c|--[\w-]*' + SECRET_WORDS +
                          r'[\w-]*)(?:=|\s+|[\'"],\s*[\'"]))([^\s\'",\]]+)',
                          re.I)),
    ('keyvalue', re.compile(r'([\'"]?\b[\w.-]*' + SECRET_WORDS +
                            r'[\w.-]*[\'"]?\s*(?:[:=]|=>)\s*[\'"]?)'
                            r'([^\s\'",}\]]+)', re.I)),
]


class Redactor:
    def __init__(self):
        self.counts = {name: 0 for name, _ in RULES}

    def __call__(self, text):
        for name, regex in RULES:
            text, n = regex.subn(self._mask, text)
            self.counts[name] += n
        return text

    @staticmethod
    def _mask(m):
        value = m.group(2)
        # Already masked by the program that logged it: nothing to hide.
        if set(value) <= {'*', 'X', 'x'} or value.lower() in (
                'none', 'null', 'true', 'false', '********'):
            return m.group(0)
        return m.group(1) + MASK

    @property
    def total(self):
        return sum(self.counts.values())
