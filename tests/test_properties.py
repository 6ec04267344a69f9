"""Property-based tests (Hypothesis) for the number codecs, the radix rules
and the other readers of untrusted text: round-trips, order, and no input
that raises anything but our own error type."""

import shlex
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from ipahealthcheck.core.config import Config

from ipahealthcheck_dogtag.checks.plugin import one_line
from ipahealthcheck_dogtag.discovery import (
    Settings, parse_properties, parse_version)
from ipahealthcheck_dogtag.dogtag import bookkeeping, fixes
from ipahealthcheck_dogtag.dogtag.numbers import (
    MAX_NUMBER, NumberError, decimal, decode, encode, parse_config)

numbers = st.integers(min_value=0, max_value=MAX_NUMBER)
# Text that looks like numbers often enough to reach the deep branches:
# digits (ASCII and not), hex letters, prefixes, blanks, long runs.
numberish = st.one_of(
    st.text(),
    st.text(alphabet='0123456789abcdefABCDEFx \u00b2\u0663\uff11-+.',
            max_size=120),
    st.builds(lambda d, n: d * n, st.sampled_from('0179af\u00b2'),
              st.integers(min_value=95, max_value=5000)))
everywhere = settings(max_examples=300, deadline=None)


@everywhere
@given(numbers)
def test_length_prefixed_round_trip(number):
    stored = encode(number)
    assert stored.isascii() and stored.isdigit()
    assert int(stored[:2]) == len(stored) - 2
    assert decode(stored) == decode(stored.encode()) == number


@everywhere
@given(numbers, numbers)
def test_string_order_of_stored_values_is_numeric_order(a, b):
    """What lets 389-DS sort and range-filter serialno and requestId."""
    assert (encode(a) < encode(b)) == (a < b)
    assert (encode(a) == encode(b)) == (a == b)


@everywhere
@given(st.one_of(st.integers(min_value=MAX_NUMBER + 1),
                 st.integers(max_value=-1)))
def test_numbers_dogtag_cannot_store_are_refused(number):
    try:
        encode(number)
    except NumberError:
        return
    raise AssertionError('encoded %d' % number)


@everywhere
@given(st.one_of(numberish, st.binary(max_size=120)))
def test_decode_gives_a_number_or_our_error(value):
    try:
        number = decode(value)
    except NumberError:
        return
    assert encode(number) == (value.decode() if isinstance(value, bytes)
                              else value)


@everywhere
@given(numberish, st.sampled_from([10, 16]), st.booleans())
def test_cs_cfg_values_give_a_number_or_our_error(value, radix, prefixed):
    try:
        number = parse_config(value, radix, prefixed)
    except NumberError:
        return
    assert 0 <= number <= MAX_NUMBER


@everywhere
@given(numbers)
def test_cs_cfg_radix_rules_round_trip(number):
    hex_digits, dec_digits = format(number, 'x'), str(number)
    # SSNv1 (legacy): the value is read in the repository's radix by
    # new BigInteger(value, radix), which refuses a 0x prefix
    # (dogtagpki/pki CertificateRepository.initLegacyGenerator, master).
    assert parse_config(hex_digits, 16, False) == number
    with pytest.raises(NumberError):
        parse_config('0x' + hex_digits, 16, False)
    assert parse_config(hex_digits.upper(), 16, False) == number
    assert parse_config(dec_digits, 10, False) == number
    # SSNv2 (legacy2): 0x means hex, anything else decimal, whatever radix.
    for radix in (10, 16):
        assert parse_config('0x' + hex_digits, radix, True) == number
        assert parse_config(dec_digits, radix, True) == number


@everywhere
@given(numberish)
def test_ldap_decimals_give_a_number_or_our_error(text):
    try:
        number = decimal(text)
    except NumberError:
        return
    assert text.isascii() and number == int(text)


@everywhere
@given(numberish, numberish, st.one_of(st.none(), numberish),
       st.booleans())
def test_range_records_give_an_extent_or_our_error(begin, end, increment,
                                                   hex_digits):
    repo = SimpleNamespace(hex_digits_in_ldap=hex_digits)
    try:
        first, last, rule = bookkeeping.real_extent(repo, begin, end,
                                                    increment)
    except NumberError:
        return
    if hex_digits:
        # The record's digits are its owner's CS.cfg hex digits.
        assert first == int(begin, 16)
    else:
        assert (first, last, rule) == (int(begin), int(end),
                                       bookkeeping.RULE_DECIMAL)


@everywhere
@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                 numberish))
def test_numeric_config_keys_never_raise(value):
    config = Config()
    config.merge({'timeout': value,
                  'dogtag_agreement_failure_hours': value,
                  'dogtag_admin_grace_minutes': value})
    used = Settings(config)
    for name, number in (('timeout', used.timeout),
                         ('dogtag_agreement_failure_hours',
                          used.agreement_failure_hours),
                         ('dogtag_admin_grace_minutes',
                          used.admin_grace_minutes)):
        assert isinstance(number, (int, float)) and number >= 0
        assert number == float(number)                 # finite
        if name in used.problems:
            assert used.problems[name].value == str(value).strip()


@everywhere
@given(st.binary(max_size=2000))
def test_any_cs_cfg_bytes_parse(data):
    cfg = parse_properties(data)
    assert all(isinstance(k, str) and isinstance(v, str)
               for k, v in cfg.items())


@everywhere
@given(st.text(max_size=300))
def test_fix_values_are_one_word_or_refused(value):
    for check in (fixes.host, fixes.dn, fixes.word):
        try:
            checked = check(value)
        except fixes.Unsafe:
            continue
        assert shlex.split(fixes.command('echo', checked)) == \
            ['echo', value]


@everywhere
@given(st.text())
def test_shown_values_are_one_line(value):
    assert len(one_line(value).splitlines()) <= 1


@everywhere
@given(numberish)
def test_versions_give_a_version_or_none(text):
    version = parse_version(text + '.' + text)
    assert version is None or (len(version) == 3 and
                               all(0 <= n < 10 ** 6 for n in version))
