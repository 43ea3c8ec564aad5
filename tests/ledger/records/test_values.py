"""Domain values: each rule, the reference data in shared/data, and the on-chain encodings."""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pydantic
import pytest
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iso6346

from ledger.errors import (
    ConfigurationError,
    InvalidBusinessStep,
    InvalidContainerNumber,
    InvalidCountryCode,
    InvalidDisposition,
    InvalidGln,
    InvalidHsCode,
    InvalidLocode,
    InvalidQuantity,
    InvalidUnit,
    ValidationError,
)
from ledger.records import (
    BUSINESS_STEP_CODES,
    DISPOSITION_CODES,
    LOCODE_LISTED_WITH_ZERO,
    QUANTITY_MAX,
    UNIT_CODES,
    UNIT_CONVERSIONS,
    BusinessStep,
    CodeLists,
    ContainerNumber,
    CountryCode,
    Disposition,
    Gln,
    HsCode,
    HsNomenclature,
    Locode,
    LocodeDirectory,
    Quantity,
    UnitCode,
    great_circle_km,
    hs_codes_digest,
)
from tests.data_paths import REPO_ROOT, data_params, require_data, shared_data, shared_file

# --------------------------------------------------------------------------------------------
# UN/LOCODE: format rule
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("CNSGH", "CNSGH"),
        ("CN SGH", "CNSGH"),
        (" cnsha ", "CNSHA"),
        ("NLRTM", "NLRTM"),
        ("USNYC", "USNYC"),
        ("XZAAD", "XZAAD"),  # international waters: not ISO 3166, but a UN/LOCODE country
        ("JPT9S", "JPT9S"),  # digits 2-9 are allowed in the location part
        ("DE9B0", "DE9B0"),  # listed with a 0 (status RQ)
        ("DEB90", "DEB90"),
        ("IT940", "IT940"),
    ],
)
def test_locode_accepts_and_normalises(raw: str, canonical: str) -> None:
    code = Locode(raw)
    assert code == canonical
    assert type(code) is Locode
    assert Locode.parse(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("CNSH", "2 letters"),
        ("CNSHAA", "2 letters"),
        ("CN-SHA", "2 letters"),
        ("CN  SHA", "2 letters"),
        ("C1SHA", "2 letters"),
        ("", "2 letters"),
        ("ZZSHA", "country 'ZZ' does not exist"),
        ("UKLON", "country 'UK' does not exist"),
        ("CNSH0", "digits 2-9"),
        ("CNSH1", "digits 2-9"),
        ("DE9B1", "digits 2-9"),
    ],
)
def test_locode_rejects_with_the_rule(raw: str, rule: str) -> None:
    with pytest.raises(InvalidLocode, match=re.escape(rule)) as caught:
        Locode(raw)
    assert caught.value.field == "locode"
    assert str(caught.value).startswith("locode: ")
    assert caught.value.value == raw


def test_locode_rejects_non_strings() -> None:
    with pytest.raises(InvalidLocode, match="must be a string"):
        Locode(12345)


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (HsCode, "\u0662\u0662\u0660\u0664\u0662\u0661"),  # Arabic-Indic digits 220421
        (Locode, "cnßa"),  # "ß".upper() == "SS" would give CNSSA
        (CountryCode, "\uff21\uff35"),  # fullwidth AU
        (ContainerNumber, "CSQU\uff13054383"),  # fullwidth 3
        (BusinessStep, "shipping\u200b"),
        (UnitCode, "KGM\u00a0"),
        (Gln, "401234500000\u0669"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_non_ascii_input_is_rejected(kind: type[Any], raw: str) -> None:
    with pytest.raises(ValidationError, match="only ASCII") as caught:
        kind(raw)
    assert caught.value.field == kind.field


def test_locode_errors_are_validation_and_value_errors() -> None:
    with pytest.raises(ValidationError):
        Locode("??")
    with pytest.raises(ValueError, match="locode"):
        Locode("??")


def test_locode_parts_and_bytes5_round_trip() -> None:
    code = Locode("CN SGH")
    assert (code.country, code.location) == ("CN", "SGH")
    assert code.to_bytes5() == b"CNSGH"
    assert Locode.from_bytes5(b"CNSGH") == code


@pytest.mark.parametrize("raw", [b"CNSG", b"CNSGHX", b"CNSG\x00", b"CN\x00GH", b"CNSG\xff"])
def test_locode_from_bytes5_rejects_bad_bytes(raw: bytes) -> None:
    with pytest.raises(InvalidLocode):
        Locode.from_bytes5(raw)


# --------------------------------------------------------------------------------------------
# UN/LOCODE: the code list
# --------------------------------------------------------------------------------------------

COMPACT = ("unlocode", "unlocode_all_compact.csv")
SEAPORTS = ("unlocode", "unlocode_seaports.csv")


@pytest.fixture(scope="module")
def compact_csv() -> Path:
    return shared_file(*COMPACT)


@pytest.fixture(scope="module")
def seaports_csv() -> Path:
    return shared_file(*SEAPORTS)


@pytest.fixture(scope="module")
def locodes(compact_csv: Path) -> LocodeDirectory:
    return LocodeDirectory.from_csv(compact_csv)


@pytest.fixture(scope="module")
def ports(seaports_csv: Path) -> LocodeDirectory:
    return LocodeDirectory.from_csv(seaports_csv)


@pytest.fixture(scope="module")
def merged(compact_csv: Path, seaports_csv: Path) -> LocodeDirectory:
    return LocodeDirectory.from_csv(compact_csv, seaports_csv)


def _csv_codes(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row[column] for row in csv.DictReader(handle)]


def test_full_list_loads_every_code_once(compact_csv: Path, locodes: LocodeDirectory) -> None:
    codes = _csv_codes(compact_csv, "unlocode")
    assert len(codes) == 116_029
    assert len(locodes) == len(set(codes))
    assert set(locodes) == set(codes)


def test_139_codes_listed_twice_are_kept_once_with_all_names(
    compact_csv: Path, locodes: LocodeDirectory
) -> None:
    counts = Counter(_csv_codes(compact_csv, "unlocode"))
    repeated = {code for code, n in counts.items() if n > 1}
    assert len(repeated) == 139
    for code in repeated:
        assert len(locodes.entry(code).names) == counts[code], code
    bebru = locodes.entry("BEBRU")
    assert bebru.name == "Brussel (Bruxelles)"
    assert bebru.names == ("Brussel (Bruxelles)", "Bruxelles (Brussel)")


def test_every_listed_code_passes_the_format_rule_except_the_three_with_zero(
    locodes: LocodeDirectory,
) -> None:
    rejected = set()
    for code in locodes:
        try:
            Locode(code)
        except InvalidLocode:
            rejected.add(code)
    assert rejected == set()
    outside_bare_rule = {c for c in locodes if re.fullmatch(r"[A-Z]{2}[A-Z2-9]{3}", c) is None}
    assert outside_bare_rule == LOCODE_LISTED_WITH_ZERO


@pytest.mark.parametrize("code", sorted(LOCODE_LISTED_WITH_ZERO))
def test_codes_with_zero_are_real_entries_with_status_rq(
    locodes: LocodeDirectory, code: str
) -> None:
    entry = locodes.entry(code)
    assert entry.status == "RQ"
    assert locodes.parse(code) == code


def test_cnsha_is_the_hongqiao_airport_and_cnsgh_the_seaport(merged: LocodeDirectory) -> None:
    sha = merged.entry("CN SHA")
    assert "Hongqiao" in sha.name
    assert sha.is_airport
    assert not sha.is_seaport
    sgh = merged.entry("CNSGH")
    assert sgh.name == "Shanghai"
    assert sgh.is_seaport
    assert merged.coordinates("CNSGH") is not None
    assert merged.coordinates("CNSHA") is None  # not a seaport, so no coordinates loaded


def test_rows_split_at_a_comma_are_repaired(
    locodes: LocodeDirectory, ports: LocodeDirectory, merged: LocodeDirectory
) -> None:
    ogi = locodes.entry("JPOGI")
    assert (ogi.name, ogi.subdivision, ogi.status, ogi.functions) == (
        "Ogi, Niigata",
        "15",
        None,
        None,
    )
    age = ports.entry("JPAGE")
    assert (age.name, age.subdivision, age.functions) == ("Ageo-Shi, Saitama", "11", "--3-----")
    assert age.coordinates == pytest.approx((35.9774082, 139.5930504))
    # merged: the seaports file fills the functions the compact file lost
    assert merged.entry("MYBLI").functions == "1-------"
    assert merged.entry("MYBLI").name == "Batu Lintang, Sarawak"


def test_no_name_or_field_keeps_a_stray_quote(merged: LocodeDirectory) -> None:
    for code in merged:
        entry = merged.entry(code)
        fields = (*entry.names, entry.subdivision or "", entry.status or "", entry.functions or "")
        assert not any('"' in field for field in fields), entry
        assert entry.functions is None or len(entry.functions) == 8, entry


def test_merging_files_keeps_the_union(
    locodes: LocodeDirectory, ports: LocodeDirectory, merged: LocodeDirectory
) -> None:
    assert set(merged) == set(locodes) | set(ports)
    assert len(ports) == 16_975
    with_coordinates = sum(merged.coordinates(code) is not None for code in merged)
    assert with_coordinates == sum(ports.coordinates(code) is not None for code in ports)


def test_directory_parse_rejects_unlisted_and_malformed(locodes: LocodeDirectory) -> None:
    assert "AUQQQ" not in locodes
    with pytest.raises(InvalidLocode, match="not in the UN/LOCODE list"):
        locodes.parse("AUQQQ")
    with pytest.raises(InvalidLocode, match="2 letters"):
        locodes.parse("AU-QQQ")
    with pytest.raises(InvalidLocode, match="must be a string"):
        locodes.parse(None)
    assert locodes.get("AUQQQ") is None
    assert locodes.coordinates("AUQQQ") is None


def test_directory_parse_accepts_spellings(locodes: LocodeDirectory) -> None:
    assert locodes.parse(" nl rtm") == "NLRTM"
    assert "nl rtm" in locodes
    assert 42 not in locodes


def test_great_circle_km_known_distances() -> None:
    assert great_circle_km((0.0, 0.0), (0.0, 180.0)) == pytest.approx(math.pi * 6371.0088)
    assert great_circle_km((0.0, 0.0), (90.0, 0.0)) == pytest.approx(math.pi * 6371.0088 / 2)
    assert great_circle_km((51.5, -0.1), (51.5, -0.1)) == 0.0
    a, b = (31.23, 121.48), (51.22, 4.42)
    assert great_circle_km(a, b) == pytest.approx(great_circle_km(b, a))


def test_shanghai_to_antwerp_is_about_9000_km(merged: LocodeDirectory) -> None:
    shanghai, antwerp = merged.coordinates("CNSGH"), merged.coordinates("BEANR")
    assert shanghai is not None
    assert antwerp is not None
    assert 8_800 < great_circle_km(shanghai, antwerp) < 9_200


def test_from_csv_rejects_unknown_header(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("code,name\nCNSGH,Shanghai\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="unknown header"):
        LocodeDirectory.from_csv(path)


def test_from_csv_rejects_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        LocodeDirectory.from_csv(tmp_path / "absent.csv")


def test_from_csv_rejects_ragged_rows(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text(
        "unlocode,nameWoDiacritics,subdivision,status,function\nCNSGH,Shanghai,SH\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match=r"codes.csv:2: 3 columns"):
        LocodeDirectory.from_csv(path)


def test_from_csv_rejects_out_of_range_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "ports.csv"
    path.write_text(
        "country,location,unlocode,name,nameWoDiacritics,subdivision,status,function,iata,"
        "lat,lon,geocoded\nCN,SGH,CNSGH,Shanghai,Shanghai,SH,AS,1-------,,131.2,121.4,\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match="coordinate"):
        LocodeDirectory.from_csv(path)


# --------------------------------------------------------------------------------------------
# Pydantic integration (what the gateway relies on for a 422 naming the field)
# --------------------------------------------------------------------------------------------


class _EventIn(pydantic.BaseModel):
    location: Locode
    container: ContainerNumber
    step: BusinessStep
    hs: HsCode
    quantity: Quantity


def _event_json(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "location": "CN SGH",
        "container": "CSQU 305438 3",
        "step": "urn:epcglobal:cbv:bizstep:loading",
        "hs": "2204.21",
        "quantity": {"amount": "12.5", "unit": "TNE"},
    }
    data.update(overrides)
    return data


def test_pydantic_model_normalises_values() -> None:
    event = _EventIn.model_validate(_event_json())
    assert event.location == "CNSGH"
    assert type(event.location) is Locode
    assert event.container == "CSQU3054383"
    assert event.step == "loading"
    assert event.hs == "220421"
    assert event.quantity == Quantity(amount=Decimal("12.5"), unit=UnitCode("TNE"))


def test_pydantic_model_serialises_canonical_forms() -> None:
    event = _EventIn.model_validate_json(json.dumps(_event_json()))
    assert json.loads(event.model_dump_json()) == {
        "location": "CNSGH",
        "container": "CSQU3054383",
        "step": "loading",
        "hs": "220421",
        "quantity": {"amount": "12.5", "unit": "TNE"},
    }


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("location", "ZZSHA", "country 'ZZ' does not exist"),
        ("container", "CSQU3054384", "check digit does not match"),
        ("step", "transforming", "is not a CBV 2.0 BizStep"),
        ("hs", "7701.10", "chapter must be 01-97"),
        ("quantity", {"amount": "0.0001", "unit": "TNE"}, "at most 3 fractional digits"),
        ("quantity", {"amount": "1", "unit": "BAG"}, "Recommendation 20"),
    ],
)
def test_pydantic_error_names_the_field_and_rule(field: str, value: Any, rule: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        _EventIn.model_validate_json(json.dumps(_event_json(**{field: value})))
    (error,) = caught.value.errors()
    assert error["loc"][0] == field
    assert rule in error["msg"]


def test_pydantic_model_accepts_instances_and_has_a_json_schema() -> None:
    quantity = Quantity.parse("3", "C62")
    event = _EventIn.model_validate(_event_json(quantity=quantity, location=Locode("NLRTM")))
    assert event.quantity is quantity
    schema = _EventIn.model_json_schema()  # what FastAPI puts in OpenAPI
    assert schema["properties"]["location"]["type"] == "string"
    assert set(schema["properties"]["quantity"]["properties"]) == {"amount", "unit"}


def test_pydantic_quantity_rejects_json_float() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        _EventIn.model_validate_json(
            json.dumps(_event_json(quantity={"amount": 1.5, "unit": "KGM"}))
        )
    assert all(error["loc"][0] == "quantity" for error in caught.value.errors())


# --------------------------------------------------------------------------------------------
# ISO 6346 container numbers
# --------------------------------------------------------------------------------------------

#: Vectors where our documented policy differs from the file's ``expected`` column.
CONTAINER_POLICY_DEVIATIONS = {"QJRZ123456"}


def _container_vectors(path: Path) -> list[Any]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        pytest.param(row["container_number"], row["expected"], id=f"{row['container_number']}-{i}")
        for i, row in enumerate(rows)
    ]


CONTAINER_VECTORS = data_params(
    ("iso6346", "container_numbers_test_vectors.csv"), _container_vectors, arity=2
)


def test_there_are_62_container_vectors() -> None:
    require_data(CONTAINER_VECTORS)
    assert len(CONTAINER_VECTORS) == 62


@pytest.mark.parametrize(("number", "expected"), CONTAINER_VECTORS)
def test_container_vector_gives_expected_result(number: str, expected: str) -> None:
    assert expected in {"valid", "invalid"}
    if number in CONTAINER_POLICY_DEVIATIONS:
        # documented policy: no check digit, no container number (see ContainerNumber)
        assert expected == "valid"
        with pytest.raises(InvalidContainerNumber, match="must be 11 characters"):
            ContainerNumber(number)
    elif expected == "valid":
        assert ContainerNumber(number) == iso6346.compact(number)
    else:
        with pytest.raises(InvalidContainerNumber) as caught:
            ContainerNumber(number)
        assert caught.value.field == "container_number"


def test_container_without_check_digit_is_rejected_by_policy() -> None:
    # validator.js accepts QJRZ123456 (10 characters, no check digit); we require all 11.
    with pytest.raises(InvalidContainerNumber, match="must be 11 characters"):
        ContainerNumber("QJRZ123456")
    # with its check digit it is a valid Z-category (trailer/chassis) number
    full = "QJRZ123456" + iso6346.calc_check_digit("QJRZ123456")
    assert ContainerNumber(full).category == "Z"


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("CSQU3054384", "check digit does not match (expected 3)"),
        ("NyKu3086856", "all upper case or all lower case"),
        ("TBJA7176445", "category U, J or Z"),
        ("CSQU305438", "must be 11 characters"),
        ("CSQU3054Z83", "must be 11 characters"),
    ],
)
def test_container_rejects_with_the_rule(number: str, rule: str) -> None:
    with pytest.raises(InvalidContainerNumber, match=re.escape(rule)):
        ContainerNumber(number)


def test_container_rejects_what_stdnum_lets_through() -> None:
    reefer = "ABCR123456" + iso6346.calc_check_digit("ABCR123456")
    digit_owner = "A1CU123456" + iso6346.calc_check_digit("A1CU123456")
    for number in (reefer, digit_owner):
        assert iso6346.is_valid(number)
        with pytest.raises(InvalidContainerNumber, match="3-letter owner code, category U, J"):
            ContainerNumber(number)


def test_container_parts_format_and_bytes11() -> None:
    number = ContainerNumber("csqu 305438 3")
    assert number == "CSQU3054383"
    assert (number.owner_code, number.category, number.serial, number.check_digit) == (
        "CSQ",
        "U",
        "305438",
        "3",
    )
    assert number.formatted() == "CSQU 305438 3"
    assert number.to_bytes11() == b"CSQU3054383"
    assert ContainerNumber.from_bytes11(number.to_bytes11()) == number


@pytest.mark.parametrize("raw", [b"CSQU305438", b"CSQU30543830", b"CSQU3054384"])
def test_container_from_bytes11_validates(raw: bytes) -> None:
    with pytest.raises(InvalidContainerNumber):
        ContainerNumber.from_bytes11(raw)


# --------------------------------------------------------------------------------------------
# HS 2022
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["2204.21", "220421", " 2204 21 ", "2204.21 "])
def test_hs_code_accepts_and_normalises(raw: str) -> None:
    code = HsCode(raw)
    assert code == "220421"
    assert (code.chapter, code.heading, code.dotted()) == ("22", "2204", "2204.21")
    assert code.to_bytes6() == b"220421"
    assert HsCode.from_bytes6(b"220421") == code


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("22042", "must be 6 digits"),
        ("2204211", "must be 6 digits"),
        ("22.04.21", "must be 6 digits"),
        ("2204-21", "must be 6 digits"),
        ("abcdef", "must be 6 digits"),
        ("000000", "chapter must be 01-97"),
        ("770100", "not 77"),
        ("980100", "chapter must be 01-97"),
        ("999999", "chapter must be 01-97"),
    ],
)
def test_hs_code_rejects_with_the_rule(raw: str, rule: str) -> None:
    with pytest.raises(InvalidHsCode, match=re.escape(rule)) as caught:
        HsCode(raw)
    assert caught.value.field == "hs_code"


def test_hs_code_rejects_integers_that_lose_leading_zeros() -> None:
    with pytest.raises(InvalidHsCode, match="must be a string"):
        HsCode(10121)


@pytest.fixture(scope="module")
def hs() -> HsNomenclature:
    return HsNomenclature.from_csv(shared_file("hs", "harmonized-system.csv"))


def test_nomenclature_checks_subheading_exists(hs: HsNomenclature) -> None:
    assert hs.parse("2204.21") == "220421"
    assert hs.description("220421") == "Wine; still, in containers holding 2 litres or less"
    assert hs.description("2204") is not None
    assert "220499" not in hs
    with pytest.raises(InvalidHsCode, match="not an HS 2022 subheading"):
        hs.parse("2204.99")


def test_nomenclature_has_5612_hs_subheadings(hs: HsNomenclature) -> None:
    subheadings = hs.subheadings()
    assert len(subheadings) == 5_612  # 5,613 in the file minus the non-HS 999999
    assert "999999" not in subheadings
    assert "999999" in hs  # listed, but rejected by the chapter rule:
    with pytest.raises(InvalidHsCode, match="chapter"):
        hs.parse("999999")


def test_code_lists_check_input_against_the_full_lists(
    locodes: LocodeDirectory, hs: HsNomenclature
) -> None:
    codes = CodeLists(locodes=locodes, hs=hs)
    assert [codes.locode(c, field="location") for c in ("AUADL", "CN SGH", "JPOGI")] == [
        "AUADL",
        "CNSGH",
        "JPOGI",  # a row the conversion split at the comma in its name ("Ogi, Niigata")
    ]
    assert codes.hs_codes(["2204.21", "010121"]) == ["220421", "010121"]
    assert "AUZZZ" not in locodes
    with pytest.raises(InvalidLocode) as caught:
        codes.locode("AUZZZ", field="location")
    assert (caught.value.field, caught.value.rule) == ("location", "is not in the UN/LOCODE list")
    with pytest.raises(InvalidLocode, match=r"^location: must be 2 letters"):
        codes.locode("AU-ADL", field="location")
    with pytest.raises(InvalidHsCode) as hs_caught:
        codes.hs_codes_digest(["2204.21", "2204.99"])
    assert (hs_caught.value.field, hs_caught.value.rule) == (
        "hs_codes[1]",
        "is not an HS 2022 subheading",
    )
    assert codes.hs_codes_digest(["2204.21"]) == hs_codes_digest(["220421"])


def test_nomenclature_chapters_are_the_ones_the_rule_allows(hs: HsNomenclature) -> None:
    listed = {f"{n:02d}" for n in range(100) if hs.description(f"{n:02d}")}
    allowed = {f"{n:02d}" for n in range(1, 98) if n != 77}
    assert listed == allowed | {"99"}  # the file's 99, "not specified according to kind"


def test_hs_codes_digest_is_keccak_of_sorted_packed_bytes6() -> None:
    expected = keccak(b"010121" + b"220421")
    assert hs_codes_digest(["2204.21", "010121"]) == expected
    assert hs_codes_digest(["220421", "010121", "2204 21"]) == expected
    assert hs_codes_digest(["220421"]) == keccak(b"220421")
    assert hs_codes_digest(["220421"]) != expected


def test_hs_codes_digest_rejects_empty_bad_and_bare_string() -> None:
    with pytest.raises(InvalidHsCode, match="at least one"):
        hs_codes_digest([])
    with pytest.raises(InvalidHsCode, match="not one string"):
        hs_codes_digest("220421")
    with pytest.raises(InvalidHsCode, match="6 digits"):
        hs_codes_digest(["220421", "22"])


_HS_CODES = st.from_regex(r"(0[1-9]|[1-6][0-9]|7[0-689]|8[0-9]|9[0-7])[0-9]{4}", fullmatch=True)


@settings(max_examples=100)
@given(codes=st.lists(_HS_CODES, min_size=1, max_size=8), data=st.data())
def test_hs_codes_digest_ignores_order_duplicates_and_notation(
    codes: list[str], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(codes))
    dotted = [f"{c[:4]}.{c[4:]}" for c in shuffled]
    assert hs_codes_digest(codes) == hs_codes_digest(dotted + codes[:1])
    assert hs_codes_digest(codes) == keccak(b"".join(c.encode() for c in sorted(set(codes))))


def test_hs_codes_digest_follows_records_md() -> None:
    records = REPO_ROOT / "contracts" / "RECORDS.md"
    if not records.exists():
        pytest.skip("contracts/RECORDS.md not written yet; hs_codes_digest follows HsCodes.sol")
    text = records.read_text(encoding="utf-8")
    section = re.search(r"\*\*HS codes digest\*\*(.*?)(?:\n- \*\*|\n#)", text, re.S)
    assert section is not None, "RECORDS.md no longer specifies the HS codes digest: re-check"
    rule = " ".join(section.group(1).split())
    # the rule as RECORDS.md states it, and its Python one-liner
    assert "6 ASCII bytes each, sorted ascending without duplicates, no separators" in rule
    assert 'keccak(b"".join(sorted(set(codes))))' in rule
    codes = [b"220421", b"010121", b"220421", b"847130"]
    assert hs_codes_digest([c.decode() for c in codes]) == keccak(b"".join(sorted(set(codes))))


# --------------------------------------------------------------------------------------------
# ISO 3166-1 alpha-2
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "name"), [("AU", "Australia"), (" cn", "China")])
def test_country_accepts_and_names(raw: str, name: str) -> None:
    country = CountryCode(raw)
    assert country == raw.strip().upper()
    assert country.name == name
    assert country.to_bytes2() == country.encode()
    assert CountryCode.from_bytes2(country.to_bytes2()) == country


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("XZ", "not an ISO 3166-1"),
        ("UK", "not an ISO 3166-1"),
        ("EU", "not an ISO 3166-1"),
        ("AUS", "two letters"),
        ("A", "two letters"),
        ("12", "two letters"),
    ],
)
def test_country_rejects_with_the_rule(raw: str, rule: str) -> None:
    with pytest.raises(InvalidCountryCode, match=rule) as caught:
        CountryCode(raw)
    assert caught.value.field == "country"


def test_every_unlocode_country_but_xz_is_iso_3166() -> None:
    path = shared_file("unlocode", "country-codes.csv")
    codes = _csv_codes(path, "CountryCode")
    assert len(codes) == 249
    rejected = []
    for code in codes:
        try:
            CountryCode(code)
        except InvalidCountryCode:
            rejected.append(code)
    assert rejected == ["XZ"]


# --------------------------------------------------------------------------------------------
# CBV 2.0 business steps and dispositions
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def epcis_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        shared_file("epcis", "schema", "EPCIS-JSON-Schema.json").read_text(encoding="utf-8")
    )
    return schema


def _schema_enum(schema: dict[str, Any], name: str) -> list[str]:
    for option in schema["definitions"][name]["anyOf"]:
        if "enum" in option:
            return list(option["enum"])
    raise AssertionError(f"no enum for {name}")


def test_business_steps_are_exactly_the_cbv_2_0_list(epcis_schema: dict[str, Any]) -> None:
    words = _schema_enum(epcis_schema, "bizStep")
    assert len(words) == len(set(words)) == 41
    assert set(BUSINESS_STEP_CODES) == set(words)


def test_dispositions_are_exactly_the_cbv_2_0_list(epcis_schema: dict[str, Any]) -> None:
    words = _schema_enum(epcis_schema, "disposition")
    assert len(words) == len(set(words)) == 33
    assert set(DISPOSITION_CODES) == set(words)


def test_cbv_words_match_the_epcis_json_ld_context() -> None:
    context = shared_file("epcis", "schema", "epcis-context.jsonld").read_text(encoding="utf-8")
    assert set(re.findall(r"cbv:BizStep-([a-z_]+)", context)) == set(BUSINESS_STEP_CODES)
    assert set(re.findall(r"cbv:Disp-([a-z_]+)", context)) == set(DISPOSITION_CODES)


@pytest.mark.parametrize("table", [BUSINESS_STEP_CODES, DISPOSITION_CODES], ids=["biz", "disp"])
def test_cbv_codes_are_ascii_order_from_one(table: dict[str, int]) -> None:
    # the contracts' rule (contracts/src/libraries/Cbv.sol): words in order, 1-based
    assert {code: word for word, code in table.items()} == dict(enumerate(sorted(table), 1))
    assert max(table.values()) <= 255


def test_cbv_codes_are_stable() -> None:
    # Codes are signed and stored on chain: changing one breaks every record that used it.
    assert {w: BUSINESS_STEP_CODES[w] for w in ("accepting", "departing", "shipping")} == {
        "accepting": 1,
        "departing": 10,
        "shipping": 33,
    }
    assert BUSINESS_STEP_CODES["void_shipping"] == 41
    # "_" sorts before letters: in_progress, in_transit, inactive; no_pedigree_match, non_...
    assert {w: DISPOSITION_CODES[w] for w in ("in_transit", "inactive", "no_pedigree_match")} == {
        "in_transit": 15,
        "inactive": 16,
        "no_pedigree_match": 21,
    }
    assert (DISPOSITION_CODES["active"], DISPOSITION_CODES["unknown"]) == (1, 33)


def _records_md_cbv_table(text: str) -> dict[str, int]:
    """(word -> code) from Markdown table rows of ``| code | word | code | word | ... |``."""
    words = set(BUSINESS_STEP_CODES) | set(DISPOSITION_CODES)
    found: dict[str, int] = {}
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):
            continue
        cells = [cell.strip().strip("`*") for cell in line.strip().strip("|").split("|")]
        for number, word in itertools.pairwise(cells):
            if re.fullmatch(r"[0-9]{1,3}", number) and word in words:
                assert word not in found, f"{word} listed twice in RECORDS.md"
                found[word] = int(number)
    return found


def test_cbv_codes_match_contracts_records_md() -> None:
    records = REPO_ROOT / "contracts" / "RECORDS.md"
    if not records.exists():
        pytest.skip("contracts/RECORDS.md not written yet; codes follow contracts/.../Cbv.sol")
    table = _records_md_cbv_table(records.read_text(encoding="utf-8"))
    if len(table) < len(BUSINESS_STEP_CODES) + len(DISPOSITION_CODES):
        pytest.skip(f"RECORDS.md has no machine-readable CBV table ({len(table)} words found)")
    assert table == {**BUSINESS_STEP_CODES, **DISPOSITION_CODES}


def test_records_md_table_parser_reads_markdown_rows() -> None:
    text = "| code | word | code | word |\n|---|---|---|---|\n| 1 | `accepting` | 33 | shipping |\n"
    text += "| x | y |\n| 15 | **in_transit** | | |\nnot | 2 | arriving\n"
    assert _records_md_cbv_table(text) == {"accepting": 1, "shipping": 33, "in_transit": 15}


def test_business_step_and_disposition_words_are_disjoint() -> None:
    # what lets one parser read both RECORDS.md tables
    assert not set(BUSINESS_STEP_CODES) & set(DISPOSITION_CODES)


@pytest.mark.parametrize(
    "raw",
    [
        "shipping",
        " shipping ",
        "urn:epcglobal:cbv:bizstep:shipping",
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "cbv:BizStep-shipping",
    ],
)
def test_business_step_forms_normalise_to_the_bare_word(raw: str) -> None:
    step = BusinessStep(raw)
    assert step == "shipping"
    assert step.code == BUSINESS_STEP_CODES["shipping"]
    assert step.urn == "urn:epcglobal:cbv:bizstep:shipping"
    assert step.uri == "https://ref.gs1.org/cbv/BizStep-shipping"


@pytest.mark.parametrize(
    "raw",
    [
        "in_transit",
        "urn:epcglobal:cbv:disp:in_transit",
        "https://ref.gs1.org/cbv/Disp-in_transit",
        "cbv:Disp-in_transit",
    ],
)
def test_disposition_forms_normalise_to_the_bare_word(raw: str) -> None:
    assert Disposition(raw) == "in_transit"
    assert Disposition(raw).code == DISPOSITION_CODES["in_transit"]


@pytest.mark.parametrize(
    "raw",
    [
        "transforming",
        "in_transport",
        "Shipping",
        "SHIPPING",
        "urn:epcglobal:cbv:bizstep:transforming",
        "urn:epcglobal:cbv:disp:shipping",
        "https://ref.gs1.org/cbv/Disp-shipping",
        "https://example.com/bizStep/inspecting",
        "ext1:summarising_discharge",
        "in_transit",
        "",
    ],
)
def test_business_step_rejects_non_cbv(raw: str) -> None:
    with pytest.raises(InvalidBusinessStep, match=r"is not a CBV 2\.0 BizStep") as caught:
        BusinessStep(raw)
    assert caught.value.field == "biz_step"


@pytest.mark.parametrize(
    "raw", ["in_transport", "shipping", "urn:epcglobal:cbv:bizstep:in_transit", "In_Transit"]
)
def test_disposition_rejects_non_cbv(raw: str) -> None:
    with pytest.raises(InvalidDisposition, match=r"is not a CBV 2\.0 Disp") as caught:
        Disposition(raw)
    assert caught.value.field == "disposition"


def test_cbv_from_code_round_trips_and_rejects_unknown() -> None:
    for word, code in BUSINESS_STEP_CODES.items():
        assert BusinessStep.from_code(code) == word
    for word, code in DISPOSITION_CODES.items():
        assert Disposition.from_code(code) == word
    with pytest.raises(InvalidBusinessStep, match="0 is not a BizStep code"):
        BusinessStep.from_code(0)
    with pytest.raises(InvalidDisposition, match="0 is not a Disp code"):
        Disposition.from_code(0)
    with pytest.raises(InvalidDisposition, match="34 is not a Disp code"):
        Disposition.from_code(34)


def test_disposition_zero_means_none_on_chain() -> None:
    assert Disposition.code_of(None) == 0
    assert Disposition.code_of(Disposition("in_transit")) == 15
    assert Disposition.from_optional_code(0) is None
    assert Disposition.from_optional_code(15) == "in_transit"
    with pytest.raises(InvalidDisposition, match="34 is not a Disp code"):
        Disposition.from_optional_code(34)


def _cbv_values(node: Any, key: str | None = None) -> Iterator[tuple[str, str]]:
    """Every (kind, value) for bizStep, disposition and persistentDisposition set/unset."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("bizStep", "disposition") and isinstance(v, str):
                yield k, v
            elif k == "persistentDisposition" and isinstance(v, dict):
                for words in v.values():
                    yield from (("disposition", w) for w in words)
            else:
                yield from _cbv_values(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _cbv_values(item, key)


def _parses(kind: str, value: str) -> bool:
    parser = BusinessStep if kind == "bizStep" else Disposition
    try:
        parser(value)
    except ValidationError:
        return False
    return True


#: The OpenEPCIS "invalid" documents that are invalid because of a non-CBV word.
NON_CBV_DOCUMENTS = {
    "Combination_of_multiple_invalid_fields.json": {("bizStep", "transforming")},
    "Combination_of_non_standard_bizStep_and_disposition.json": {
        ("bizStep", "transforming"),
        ("disposition", "in_transport"),
    },
    "ObjectEvent_with_non_standard_bizStep.json": {("bizStep", "transforming")},
    "ObjectEvent_with_non_standard_bizStep_in_second_event.json": {("bizStep", "transforming")},
    "ObjectEvent_with_non_standard_disposition.json": {("disposition", "in_transport")},
}


@pytest.mark.parametrize("name", sorted(NON_CBV_DOCUMENTS))
def test_invalid_epcis_documents_have_their_non_cbv_words_rejected(name: str) -> None:
    document = json.loads(shared_file("epcis", "invalid", name).read_text(encoding="utf-8"))
    rejected = {(k, v) for k, v in _cbv_values(document) if not _parses(k, v)}
    assert NON_CBV_DOCUMENTS[name] <= rejected
    assert rejected <= {("bizStep", "transforming"), ("disposition", "in_transport")}


def _epcis_documents() -> Iterator[Path]:
    root = shared_data("epcis")
    for folder in ("valid", "examples", "invalid"):
        yield from sorted((root / folder).glob("*.json*"))


def test_every_cbv_word_in_the_epcis_documents_parses() -> None:
    """All CBV-form values in the 33 documents parse; only the known non-CBV ones do not."""
    seen = 0
    failures = set()
    for path in _epcis_documents():
        for kind, value in _cbv_values(json.loads(path.read_text(encoding="utf-8"))):
            seen += 1
            if not _parses(kind, value):
                failures.add(value)
    assert seen > 40
    assert failures == {
        "transforming",
        "in_transport",
        "https://example.com/bizStep/inspecting",  # private vocabulary: EPCIS allows, we do not
        "ext1:summarising_discharge",
    }


# --------------------------------------------------------------------------------------------
# Units and quantities
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(UNIT_CODES))
def test_unit_codes_are_rec20_shaped_and_fit_bytes8(code: str) -> None:
    unit = UnitCode(code.lower())
    assert unit == code
    assert re.fullmatch(r"[A-Z0-9]{2,3}", code)
    assert unit.to_bytes8() == code.encode().ljust(8, b"\x00")
    assert UnitCode.from_bytes8(unit.to_bytes8()) == unit
    assert unit.description


def test_unit_subset_has_the_common_trade_units() -> None:
    assert {"KGM", "TNE", "LTR", "MTQ", "C62", "NAR"} <= set(UNIT_CODES)


@pytest.mark.parametrize("raw", ["KG", "BAG", "kgs", "", "CT"])
def test_unit_rejects_codes_outside_the_subset(raw: str) -> None:
    with pytest.raises(InvalidUnit, match="Recommendation 20") as caught:
        UnitCode(raw)
    assert caught.value.field == "unit"


@pytest.mark.parametrize(
    "raw",
    [
        b"KGM",
        b"KGM\x00\x00\x00\x00\x00\x00",
        b"K\x00GM\x00\x00\x00\x00",
        b"XYZ\x00\x00\x00\x00\x00",
    ],
)
def test_unit_from_bytes8_validates(raw: bytes) -> None:
    with pytest.raises(InvalidUnit):
        UnitCode.from_bytes8(raw)


@pytest.mark.parametrize(
    ("amount", "canonical"),
    [
        ("12.5", "12.5"),
        ("1.2500", "1.25"),
        ("0.001", "0.001"),
        (" 7 ", "7"),
        ("1000", "1000"),
        (5, "5"),
        (Decimal("2.250"), "2.25"),
        (Decimal("1E+2"), "100"),
        ("18446744073709551615", "18446744073709551615"),
        ("18446744073709551614.999", "18446744073709551614.999"),
    ],
)
def test_quantity_keeps_the_exact_amount(amount: Any, canonical: str) -> None:
    quantity = Quantity.parse(amount, "kgm")
    assert str(quantity.amount) == canonical
    assert quantity.unit == "KGM"
    assert type(quantity.unit) is UnitCode


@pytest.mark.parametrize(
    ("amount", "rule"),
    [
        ("0", "must be positive"),
        ("0.000", "must be positive"),
        ("-1", "plain decimal number"),
        ("0.0005", "at most 3 fractional digits"),
        ("1.2345", "at most 3 fractional digits"),
        ("1e3", "plain decimal number"),
        ("1,5", "plain decimal number"),
        ("", "plain decimal number"),
        ("NaN", "plain decimal number"),
        (1.5, "not float"),
        (True, "not float/bool"),
        (0, "must be positive"),
        (Decimal("NaN"), "must be finite"),
        (Decimal("Infinity"), "must be finite"),
        (Decimal("-2"), "must be positive"),
        (Decimal("1E-100000000"), "at most 3 fractional digits"),  # no 10**100000000 built
        (Decimal("1E+100000000"), "must be at most 18446744073709551615"),
        ("18446744073709551615.001", "must be at most 18446744073709551615 (uint64)"),
        # 38 significant digits: the default Decimal context (28) would round this silently
        ("1000000000000000000.0000000000000000001", "at most 3 fractional digits"),
        (None, "must be a decimal string"),
    ],
)
def test_quantity_rejects_with_the_rule(amount: Any, rule: str) -> None:
    with pytest.raises(InvalidQuantity, match=re.escape(rule)) as caught:
        Quantity.parse(amount, "KGM")
    assert caught.value.field == "quantity"


def test_quantity_constructor_validates_too() -> None:
    with pytest.raises(InvalidUnit):
        Quantity.parse("1", "KG")
    with pytest.raises(InvalidQuantity, match="must be positive"):
        Quantity(amount=Decimal(0), unit=UnitCode("KGM"))
    with pytest.raises(InvalidQuantity, match="must be a Decimal"):
        Quantity(amount=12, unit=UnitCode("KGM"))  # type: ignore[arg-type]
    assert Quantity(amount=Decimal("1.50"), unit="LTR").unit == UnitCode("LTR")  # type: ignore[arg-type]


def test_quantity_on_chain_is_a_whole_number_of_its_unit() -> None:
    # contracts/RECORDS.md: "quantity > 0 (uint64, integer in unit; use a smaller unit ...)"
    assert Quantity.parse("12", "TNE").to_chain() == (12, b"TNE\x00\x00\x00\x00\x00")
    with pytest.raises(InvalidQuantity, match="whole number of its unit"):
        Quantity.parse("12.5", "TNE").to_chain()
    assert Quantity.parse("12.5", "TNE").to("KGM").to_chain() == (12_500, b"KGM" + b"\x00" * 5)


def test_quantity_from_chain_round_trips_and_validates() -> None:
    quantity = Quantity.parse("340", "NAR")
    assert Quantity.from_chain(*quantity.to_chain()) == quantity
    assert Quantity.from_chain(2**64 - 1, b"C62" + b"\x00" * 5).amount == 2**64 - 1
    with pytest.raises(InvalidQuantity, match="must be positive"):
        Quantity.from_chain(0, b"KGM" + b"\x00" * 5)
    with pytest.raises(InvalidQuantity, match="must be an integer"):
        Quantity.from_chain(True, b"KGM" + b"\x00" * 5)
    with pytest.raises(InvalidUnit):
        Quantity.from_chain(1, b"KGM")


@pytest.mark.parametrize(
    ("amount", "unit", "target", "expected"),
    [
        ("12.5", "TNE", "KGM", "12500"),
        ("1", "GRM", "KGM", "0.001"),
        ("1000", "GRM", "TNE", "0.001"),
        ("0.75", "LTR", "MLT", "750"),
        ("2.5", "HLT", "LTR", "250"),
        ("1", "MTQ", "HLT", "10"),
        ("3", "DZN", "C62", "36"),
        ("7", "KGM", "KGM", "7"),
    ],
)
def test_quantity_converts_exactly(amount: str, unit: str, target: str, expected: str) -> None:
    converted = Quantity.parse(amount, unit).to(target)
    assert (str(converted.amount), converted.unit) == (expected, target)


@pytest.mark.parametrize(
    ("amount", "unit", "target", "rule"),
    [
        ("1", "KGM", "LTR", "KGM does not convert to LTR"),
        ("1", "NAR", "C62", "NAR does not convert to C62"),
        ("1", "LPA", "LTR", "LPA does not convert to LTR"),
        ("1", "GRM", "TNE", "more than 3 fractional digits"),
        ("1", "C62", "DZN", "more than 3 fractional digits"),
    ],
)
def test_quantity_refuses_inexact_or_foreign_conversions(
    amount: str, unit: str, target: str, rule: str
) -> None:
    with pytest.raises(InvalidQuantity, match=re.escape(rule)):
        Quantity.parse(amount, unit).to(target)


def test_quantity_conversion_table_uses_accepted_units() -> None:
    assert set(UNIT_CONVERSIONS) <= set(UNIT_CODES)
    assert all(size > 0 for _, size in UNIT_CONVERSIONS.values())


def test_quantity_amount_and_str() -> None:
    assert Quantity.parse("12.500", "TNE").amount == Decimal("12.5")
    assert str(Quantity.parse("1000", "KGM")) == "1000 KGM"
    assert str(Quantity.parse("0.05", "LTR")) == "0.05 LTR"
    assert Quantity.parse("1.0", "KGM") == Quantity.parse("1", "KGM")


@settings(max_examples=200)
@given(
    milli=st.integers(min_value=1, max_value=QUANTITY_MAX * 1000),
    unit=st.sampled_from(sorted(UNIT_CODES)),
)
def test_quantity_amount_round_trips_through_text(milli: int, unit: str) -> None:
    whole, fraction = divmod(milli, 1000)
    text = f"{whole}.{fraction:03d}"
    quantity = Quantity.parse(text, unit)
    assert Quantity.parse(str(quantity.amount), unit) == quantity
    with localcontext(prec=50):  # exact, whatever the default context's precision
        assert quantity.amount * 1000 == milli
    assert quantity.is_whole == (fraction == 0)


@settings(max_examples=100)
@given(
    milli=st.integers(min_value=1, max_value=10**15),
    path=st.sampled_from([("TNE", "KGM", "GRM"), ("MTQ", "LTR", "MLT"), ("HLT", "LTR", "MLT")]),
)
def test_quantity_conversion_down_and_back_is_identity(
    milli: int, path: tuple[str, str, str]
) -> None:
    big, middle, small = path
    quantity = Quantity.parse(f"{milli // 1000}.{milli % 1000:03d}", big)
    assert quantity.to(middle).to(big) == quantity
    assert quantity.to(small).to(big) == quantity
    assert quantity.to(small).is_whole


# --------------------------------------------------------------------------------------------
# GS1 GLN
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["4012345000009", "401-2345-00000-9", " 0614141000005 "])
def test_gln_accepts_valid_numbers(raw: str) -> None:
    gln = Gln(raw)
    assert re.fullmatch(r"[0-9]{13}", gln)
    assert gln.to_bytes13() == gln.encode()


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("4012345000008", "check digit does not match (expected 9)"),
        ("401234500000", "13 digits"),
        ("40123450000091", "13 digits"),
        ("40123450000AB", "13 digits"),
    ],
)
def test_gln_rejects_with_the_rule(raw: str, rule: str) -> None:
    with pytest.raises(InvalidGln, match=re.escape(rule)) as caught:
        Gln(raw)
    assert caught.value.field == "gln"
