"""GS1 keys from EPC URNs and GS1 Digital Link URIs: parsing, check digits, canonical form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.epcis import (
    CheckDigitMismatch,
    Gs1Key,
    InvalidGs1Identifier,
    canonical_digital_link,
    check_digit,
    parse_digital_link,
    parse_epc_urn,
    parse_gs1_key,
)
from ledger.errors import LedgerError, ValidationError


@pytest.mark.parametrize(
    ("urn", "scheme", "link"),
    [
        (
            "urn:epc:id:sgtin:0614141.107346.2017",
            "sgtin",
            "https://id.gs1.org/01/10614141073464/21/2017",
        ),
        ("urn:epc:id:sscc:4012345.0000000111", "sscc", "https://id.gs1.org/00/040123450000001112"),
        (
            "urn:epc:id:sgln:0614141.07346.1234",
            "sgln",
            "https://id.gs1.org/414/0614141073467/254/1234",
        ),
        ("urn:epc:id:sgln:4012345.00005.0", "gln", "https://id.gs1.org/414/4012345000054"),
        ("urn:epc:id:pgln:4000001.98765", "pgln", "https://id.gs1.org/417/4000001987658"),
        ("urn:epc:id:grai:4012345.55555.987", "grai", "https://id.gs1.org/8003/04012345555554987"),
        ("urn:epc:id:giai:4000001.111", "giai", "https://id.gs1.org/8004/4000001111"),
        (
            "urn:epc:class:lgtin:4054739.099914.20160711",
            "lgtin",
            "https://id.gs1.org/01/04054739999148/10/20160711",
        ),
        ("urn:epc:idpat:sgtin:4012345.066666.*", "gtin", "https://id.gs1.org/01/04012345666663"),
        ("urn:epc:id:gdti:4012345.55555.1234", "gdti", "https://id.gs1.org/253/40123455555541234"),
        (
            "urn:epc:id:gsrn:0614141.1234567890",
            "gsrn",
            "https://id.gs1.org/8018/061414112345678902",
        ),
        (
            "urn:epc:id:sgtin:4012345.011111.A!(B)",
            "sgtin",
            "https://id.gs1.org/01/04012345111118/21/A%21%28B%29",
        ),
    ],
)
def test_epc_urn_to_canonical_digital_link(urn: str, scheme: str, link: str) -> None:
    key = parse_epc_urn(urn)
    assert key.scheme == scheme
    assert key.digital_link == link
    assert canonical_digital_link(urn) == link
    # The Digital Link reads back to the same key, and back to the same URN.
    again = parse_digital_link(link)
    assert again.digital_link == link
    if scheme in {"sgtin", "sscc", "sgln", "gln", "pgln", "grai", "giai", "lgtin", "gtin"}:
        assert key.epc_urn() == urn
        assert again.epc_urn(company_prefix_length=key.company_prefix_length) == urn


@pytest.mark.parametrize(
    ("uri", "link"),
    [
        # any domain, path prefix, short names, query string, GTIN-13 padded to 14
        (
            "https://example.com/shop/gtin/4012345999990/ser/XYZ-1234?x=1",
            "https://id.gs1.org/01/04012345999990/21/XYZ-1234",
        ),
        (
            "http://id.gs1.de/01/04012345999990/21/XYZ-1234",
            "https://id.gs1.org/01/04012345999990/21/XYZ-1234",
        ),
        # the finest level only: a serial drops the lot; the consumer product variant goes
        (
            "https://id.gs1.org/01/04012345999990/22/V1/10/LOT7/21/S1",
            "https://id.gs1.org/01/04012345999990/21/S1",
        ),
        (
            "https://id.gs1.org/01/04012345999990/10/LOT7",
            "https://id.gs1.org/01/04012345999990/10/LOT7",
        ),
        ("https://id.gs1.org/sscc/106141412345678908", "https://id.gs1.org/00/106141412345678908"),
        (
            "https://brand.example/gln/4012345000115/glnx/987",
            "https://id.gs1.org/414/4012345000115/254/987",
        ),
    ],
)
def test_digital_link_normalised(uri: str, link: str) -> None:
    assert parse_digital_link(uri).digital_link == link
    assert canonical_digital_link(uri) == link


def test_digital_link_to_epc_urn_needs_the_company_prefix_length() -> None:
    key = parse_digital_link("https://id.gs1.org/01/10614141073464/21/2017")
    assert key.company_prefix_length is None
    with pytest.raises(InvalidGs1Identifier) as info:
        key.epc_urn()
    assert info.value.field == "company_prefix_length"
    assert key.epc_urn(7) == "urn:epc:id:sgtin:0614141.107346.2017"
    assert key.epc_urn(9) == "urn:epc:id:sgtin:061414107.1346.2017"
    assert parse_epc_urn(key.epc_urn(9)).digital_link == key.digital_link


def test_serial_escapes_round_trip_between_urn_and_digital_link() -> None:
    key = parse_digital_link("https://id.gs1.org/01/04012345111118/21/A%2FB%21")
    assert key.qualifier("21") == "A/B!"
    urn = key.epc_urn(7)
    assert urn == "urn:epc:id:sgtin:4012345.011111.A%2FB!"
    assert parse_epc_urn(urn).digital_link == key.digital_link


@pytest.mark.parametrize(
    "uri",
    [
        "https://id.gs1.org/01/04012345999991/21/1",  # GTIN check digit
        "https://id.gs1.org/00/106141412345678907",  # SSCC check digit
        "https://id.gs1.org/414/4012345000116",  # GLN check digit
        "https://id.gs1.org/8003/04012345555555987",  # GRAI check digit
    ],
)
def test_wrong_check_digit_is_refused_naming_the_rule(uri: str) -> None:
    with pytest.raises(CheckDigitMismatch) as info:
        parse_gs1_key(uri)
    assert info.value.field == "identifier"
    assert "check digit" in info.value.rule
    assert isinstance(info.value, ValidationError | LedgerError | ValueError)
    # The hash hashes what was written: lenient parsing still canonicalises it.
    assert canonical_digital_link(uri) == uri


@pytest.mark.parametrize(
    ("uri", "rule"),
    [
        ("urn:epc:id:sgtin:06141.1073460.1", "GS1 Company Prefix must be 6 to 12 digits"),
        ("urn:epc:id:sgtin:0614141.10734.1", "13 digits"),
        ("urn:epc:id:sgtin:0614141.107346", "3 dot-separated parts"),
        ("urn:epc:id:sgtin:0614141.107346.123456789012345678901", "1 to 20"),
        ("urn:epc:id:sgtin:0614141.107346.a/b", "URN-escaped"),
        ("urn:epc:id:foo:0614141.107346.1", "not supported"),
        ("urn:epc:raw:123", "not an EPC URN"),
        ("https://example.com/products/123", "names no GS1 primary key"),
        ("https://id.gs1.org/01/1234567/21/1", "8, 12, 13 or 14 digits"),
        ("https://id.gs1.org/00/1234", "18 digits"),
        ("https://id.gs1.org/01/04012345999990/21", "pairs"),
        ("https://id.gs1.org/01/04012345999990/254/1", "not a key qualifier"),
        ("ftp://id.gs1.org/01/04012345999990", "not an http(s) URI"),
    ],
)
def test_malformed_identifiers_are_refused_naming_the_rule(uri: str, rule: str) -> None:
    with pytest.raises(InvalidGs1Identifier) as info:
        parse_gs1_key(uri, field="epcList[0]")
    assert info.value.field == "epcList[0]"
    assert rule in info.value.rule
    assert info.value.value == uri


@pytest.mark.parametrize(
    "value",
    [
        "OBSERVE",
        "geo:47.506694,11.104301",
        "http://transaction.acme.com/po/12345678",
        "urn:epcglobal:cbv:bt:4012345000009:ASN1099",
    ],
)
def test_non_gs1_values_are_left_alone(value: str) -> None:
    assert canonical_digital_link(value) is None


def test_check_digit_matches_python_stdnum_and_gs1_examples() -> None:
    assert check_digit("1061414107346") == "4"
    assert check_digit("04012345000000111") == "2"  # SSCC
    assert check_digit("401234500011") == "5"  # GLN


@given(
    cp_length=st.integers(min_value=6, max_value=12),
    digits=st.text(alphabet="0123456789", min_size=13, max_size=13),
    serial=st.text(alphabet="ABCxyz0123456789-_.", min_size=1, max_size=20),
)
def test_sgtin_urn_digital_link_round_trip(cp_length: int, digits: str, serial: str) -> None:
    cp, ir = digits[1 : 1 + cp_length], digits[0] + digits[1 + cp_length :]
    urn = f"urn:epc:id:sgtin:{cp}.{ir}.{serial}"
    key = parse_epc_urn(urn)
    link = parse_digital_link(key.digital_link)
    assert link == Gs1Key(key.ai, key.value, key.qualifiers)
    assert link.epc_urn(cp_length) == urn
    assert key.value[-1] == check_digit(key.value[:-1])
