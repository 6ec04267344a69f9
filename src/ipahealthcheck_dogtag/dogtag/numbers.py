"""How Dogtag writes numbers: in CS.cfg (by radix) and in LDAP (length-prefixed).

Every reader here checks ASCII digits and bounds the length before it
calls int(), so any text gives a number or a NumberError, never another
exception (Python refuses int() of strings over 4300 digits).
"""

import re

# Dogtag's LDAP form, BigIntegerMapper.BigIntegerToDB (dogtagpki/pki
# v11.5.4, base/server/src/main/java/com/netscape/cmscore/dbs/
# BigIntegerMapper.java), writes the length as `"0" + len` below 10 and
# `len` above: from 100 digits the prefix has three digits and
# BigIntegerFromDB, which drops two characters, reads another number. So
# Dogtag can store at most 99 digits.
MAX_DIGITS = 99
MAX_NUMBER = 10 ** MAX_DIGITS - 1
_DECIMAL = frozenset('0123456789')
_HEX = frozenset('0123456789abcdef')


class NumberError(ValueError):
    """A value that is not the number it should be."""


def _shown(value):
    """A value for an error message: short, one line."""
    if isinstance(value, int) and value.bit_length() > 1000:
        return 'a number of about %d digits' % (value.bit_length() * 0.30103)
    text = repr(value)
    return text if len(text) <= 60 else '%s... (%d characters)' % (
        text[:50], len(text))


def encode(number):
    """Dogtag's LDAP form: two decimal digits of length, then the digits.

    `7` is stored as `017`, `10000000000` as `1110000000000`, so that string
    order equals numeric order (for up to 99 digits), which is what lets
    389-DS sort and range-filter `serialno` and `requestId`.
    """
    if not isinstance(number, int) or isinstance(number, bool) or \
            not 0 <= number <= MAX_NUMBER:
        raise NumberError('%s cannot be stored by Dogtag (a whole number '
                          'of at most %d digits)'
                          % (_shown(number), MAX_DIGITS))
    digits = str(number)
    return '%02d%s' % (len(digits), digits)


def decode(value):
    """Inverse of `encode`; raises NumberError for anything else."""
    if isinstance(value, bytes):
        value = value.decode('utf-8', 'replace')
    if not isinstance(value, str) or not 3 <= len(value) <= MAX_DIGITS + 2 \
            or not set(value) <= _DECIMAL:
        raise NumberError('%s is not a length-prefixed number'
                          % _shown(value))
    if int(value[:2]) != len(value) - 2:
        raise NumberError('%s: length prefix %s does not match %d digits'
                          % (_shown(value), value[:2], len(value) - 2))
    return int(value[2:])


def decimal(text):
    """A plain decimal number as Dogtag stores it (nextRange, beginRange):
    ASCII digits, at most 99 of them."""
    if not isinstance(text, str) or not text or not set(text) <= _DECIMAL:
        raise NumberError('%s is not a decimal number' % _shown(text))
    # Checked on the text itself: callers compare these texts with int().
    if len(text) > MAX_DIGITS:
        raise NumberError('%s has more than the %d digits Dogtag can store'
                          % (_shown(text), MAX_DIGITS))
    return int(text)


def decode_lenient(value):
    """The number Dogtag reads from a stored value, or NumberError.

    Dogtag's `BigIntegerMapper.BigIntegerFromDB` (dogtagpki/pki
    base/server/.../dbs/BigIntegerMapper.java, the same from v10.5.0 to
    master) drops the first two characters without checking that they give
    the length, then parses the rest with `new BigInteger(s)`: an optional
    sign and decimal digits. So `997` reads as 7 and `0x1f` fails.
    """
    if isinstance(value, bytes):
        value = value.decode('utf-8', 'replace')
    rest = value[2:] if isinstance(value, str) else ''
    # Bounded before int(): Dogtag never writes more than 99 digits.
    if len(rest) > MAX_DIGITS + 1 or not re.fullmatch(r'[+-]?[0-9]+', rest):
        raise NumberError('%s: Dogtag cannot read %s as a number'
                          % (_shown(value), _shown(rest)))
    return int(rest)


def parse_config(value, radix, prefixed):
    """Read a CS.cfg range value the way the repository's generator does.

    `prefixed` is the SSNv2 (`legacy2`) rule: `0x...` is hex, anything else
    decimal (`ConfigStore.getBigInteger`). Otherwise (SSNv1, `legacy`) the
    value is read in `radix` by `new BigInteger(value, radix)`, which rejects
    a `0x` prefix (dogtagpki/pki CertificateRepository.initLegacyGenerator,
    master; Repository.java v10.5.18-v10.10.0). Values above what Dogtag can
    store in LDAP (99 decimal digits) are refused.
    """
    if not isinstance(value, str):
        raise NumberError('%s is not a number' % _shown(value))
    text = value.strip()
    lowered = text.lower()
    if prefixed:
        radix = 16 if lowered.startswith('0x') else 10
        if radix == 16:
            lowered = lowered[2:]
    digits = _HEX if radix == 16 else _DECIMAL
    if not lowered or not set(lowered) <= digits:
        raise NumberError('%s is not a %s number' % (
            _shown(value), 'hexadecimal' if radix == 16 else 'decimal'))
    # 99 decimal digits are at most 83 hex digits: bound before int().
    lowered = lowered.lstrip('0') or '0'
    if len(lowered) > MAX_DIGITS:
        raise NumberError('%s is longer than the %d decimal digits Dogtag '
                          'can store' % (_shown(value), MAX_DIGITS))
    number = int(lowered, radix)
    if number > MAX_NUMBER:
        raise NumberError('%s is above the %d decimal digits Dogtag can '
                          'store' % (_shown(value), MAX_DIGITS))
    return number
