"""Dogtag's number encodings: LDAP length prefix and CS.cfg radix rules."""

import pytest

from ipahealthcheck_dogtag.dogtag.numbers import (
    NumberError, decode, encode, parse_config)


@pytest.mark.parametrize('number, stored', [
    (7, '017'), (268435455, '09268435455'), (10000000000, '1110000000000'),
    (2 ** 64 + 1, '2018446744073709551617')])
def test_length_prefix_round_trip(number, stored):
    assert encode(number) == stored
    assert decode(stored) == decode(stored.encode()) == number


def test_string_order_is_numeric_order():
    numbers = [1, 9, 10, 99, 100, 2 ** 64, 2 ** 64 + 5]
    assert sorted(numbers, key=encode) == numbers


@pytest.mark.parametrize('bad', ['', '7', '0x1f', '0312', 'abc', '02-1'])
def test_decode_refuses_what_dogtag_cannot_read(bad):
    with pytest.raises(NumberError):
        decode(bad)


@pytest.mark.parametrize('text, radix, prefixed, number', [
    ('10000000', 16, False, 0x10000000),   # SSNv1 certificate: hex digits
    ('10000000', 10, False, 10000000),     # requests: decimal
    ('0x10000000', 10, True, 0x10000000),  # SSNv2: 0x means hex...
    ('10000000', 16, True, 10000000),      # ...anything else decimal
    (' ff ', 16, False, 255)])
def test_cs_cfg_values(text, radix, prefixed, number):
    assert parse_config(text, radix, prefixed) == number


@pytest.mark.parametrize('text, radix', [('12zz', 16), ('1f', 10), ('', 10),
                                         ('-1', 10), ('0x', 16),
                                         ('0x10000000', 16)])
def test_cs_cfg_values_that_are_not_numbers(text, radix):
    """SSNv1 reads hex with `new BigInteger(value, 16)`, which refuses a
    `0x` prefix (dogtagpki/pki master CertificateRepository.java
    initLegacyGenerator; v10.10.0 Repository.java)."""
    with pytest.raises(NumberError):
        parse_config(text, radix, False)
