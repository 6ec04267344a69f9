"""How Dogtag writes numbers: in CS.cfg (by radix) and in LDAP (length-prefixed)."""

import re


class NumberError(ValueError):
    """A value that is not the number it should be."""


def encode(number):
    """Dogtag's LDAP form: two decimal digits of length, then the digits.

    `7` is stored as `017`, `10000000000` as `1110000000000`, so that string
    order equals numeric order (for up to 99 digits), which is what lets
    389-DS sort and range-filter `serialno` and `requestId`.
    """
    digits = str(number)
    if number < 0 or len(digits) > 99:
        raise NumberError('%s cannot be stored by Dogtag' % number)
    return '%02d%s' % (len(digits), digits)


def decode(value):
    """Inverse of `encode`; raises NumberError for anything else."""
    if isinstance(value, bytes):
        value = value.decode('utf-8', 'replace')
    if len(value) < 3 or not value.isdigit() or not value.isascii():
        raise NumberError('%r is not a length-prefixed number' % value)
    if int(value[:2]) != len(value) - 2:
        raise NumberError('%r: length prefix %s does not match %d digits'
                          % (value, value[:2], len(value) - 2))
    return int(value[2:])


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
    rest = value[2:]
    if not re.fullmatch(r'[+-]?[0-9]+', rest):
        raise NumberError('%r: Dogtag cannot read %r as a number'
                          % (value, rest))
    return int(rest)


def parse_config(value, radix, prefixed):
    """Read a CS.cfg range value the way the repository's generator does.

    `prefixed` is the SSNv2 (`legacy2`) rule: `0x...` is hex, anything else
    decimal. Otherwise (SSNv1, `legacy`) the value is read in `radix`; a `0x`
    on a hex value is tolerated.
    """
    text = value.strip()
    lowered = text.lower()
    if prefixed:
        radix = 16 if lowered.startswith('0x') else 10
    if radix == 16 and lowered.startswith('0x'):
        lowered = lowered[2:]
    digits = '0123456789abcdef'[:radix]
    if not lowered or any(c not in digits for c in lowered):
        raise NumberError('%r is not a %s number' % (
            value, 'hexadecimal' if radix == 16 else 'decimal'))
    return int(lowered, radix)
