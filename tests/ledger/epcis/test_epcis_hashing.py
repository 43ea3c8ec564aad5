"""CBV 2.0 event hash IDs of small inline documents, with no shared data needed.

The expected ids are those of the published vectors (RalphTro/epcis-event-hash-generator
``tests/examples``) for the same events, so these tests pin the algorithm in any checkout.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger.cli import main
from ledger.epcis import (
    InvalidEpcisDocument,
    InvalidEpcisEvent,
    canonical_time,
    document_hash_ids,
    event_hash_id,
    event_prehash,
    hash_id_of_prehash,
    load_document,
)

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

SINGLE_EVENT: dict[str, Any] = {
    "type": "ObjectEvent",
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
    "eventTime": "2022-02-16T20:33:31.116000-06:00",
    "eventTimeZoneOffset": "-06:00",
    "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
    "bizTransactionList": [
        {"type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"}
    ],
}
SINGLE_EVENT_PREHASH = (
    "eventType=ObjectEventeventTime=2022-02-17T02:33:31.116ZeventTimeZoneOffset=-06:00"
    "epcListepc=https://id.gs1.org/01/10614141073464/21/2017"
    "epc=https://id.gs1.org/01/10614141073464/21/2018action=OBSERVE"
    "bizStep=https://ref.gs1.org/cbv/BizStep-shipping"
    "disposition=https://ref.gs1.org/cbv/Disp-in_transit"
    "readPointid=https://id.gs1.org/414/0614141073467/254/1234"
    "bizTransactionListtype=https://ref.gs1.org/cbv/BTT-po"
    "bizTransaction=http://transaction.acme.com/po/12345678"
)
SINGLE_EVENT_ID = (
    "ni:///sha-256;ffa491b16867e34a7791a8d5389d826afc24e63a121026b6a4004ace38631b4b?ver=CBV2.0"
)

# Digital Link on another domain, eventTime with a fourth decimal (rounded half up).
ROUND_OFF_EVENT: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2023-02-02T11:04:03.1415Z",
    "eventTimeZoneOffset": "+01:00",
    "epcList": ["https://id.gs1.de/00/040123451111111110"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "readPoint": {"id": "https://id.gs1.de/414/4012345000115"},
}
ROUND_OFF_ID = (
    "ni:///sha-256;af7658e711574363633f20b3dadc7bc4c13c6f612cf96d95e03c421c0e58f3c6?ver=CBV2.0"
)
ROUND_OFF_PREHASH = (
    "eventType=ObjectEventeventTime=2023-02-02T11:04:03.142ZeventTimeZoneOffset=+01:00"
    "epcListepc=https://id.gs1.org/00/040123451111111110action=OBSERVE"
    "bizStep=https://ref.gs1.org/cbv/BizStep-shipping"
    "disposition=https://ref.gs1.org/cbv/Disp-in_transit"
    "readPointid=https://id.gs1.org/414/4012345000115"
)

# User extensions (nested objects and arrays), recordTime (ignored), SSCCs out of order.
EXTENSION_CONTEXT: list[Any] = [
    CONTEXT,
    {"gs1": "https://gs1.org/voc/"},
    {"example": "https://ns.example.com/epcis/"},
]
EXTENSION_EVENT: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2020-03-04T11:00:30.000+01:00",
    "eventTimeZoneOffset": "+01:00",
    "recordTime": "2020-03-04T11:00:30.999+01:00",
    "epcList": [
        "urn:epc:id:sscc:4012345.0000000333",
        "urn:epc:id:sscc:4012345.0000000111",
        "urn:epc:id:sscc:4012345.0000000222",
    ],
    "action": "OBSERVE",
    "bizStep": "departing",
    "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.987"},
    "example:myField1": {"example:mySubField1": "2", "example:mySubField2": "5"},
    "example:myField2": "0",
    "example:myField3": {"example:mySubField3": ["3", "1"]},
}
EXTENSION_ID = (
    "ni:///sha-256;6ae96341e0acc6d7a261364751f60e68278a81cdf51da0abb6b4e617014e39d7?ver=CBV2.0"
)
EXTENSION_PREHASH = (
    "eventType=ObjectEventeventTime=2020-03-04T10:00:30.000ZeventTimeZoneOffset=+01:00"
    "epcListepc=https://id.gs1.org/00/040123450000001112"
    "epc=https://id.gs1.org/00/040123450000002225"
    "epc=https://id.gs1.org/00/040123450000003338action=OBSERVE"
    "bizStep=https://ref.gs1.org/cbv/BizStep-departing"
    "readPointid=https://id.gs1.org/414/4012345000115/254/987"
    "{https://ns.example.com/epcis/}myField1{https://ns.example.com/epcis/}mySubField1=2"
    "{https://ns.example.com/epcis/}mySubField2=5{https://ns.example.com/epcis/}myField2=0"
    "{https://ns.example.com/epcis/}myField3{https://ns.example.com/epcis/}mySubField3=1"
    "{https://ns.example.com/epcis/}mySubField3=3"
)


def document(*events: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return {
        "@context": context if context is not None else [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2022-02-17T11:30:47.0Z",
        "epcisBody": {"eventList": [copy.deepcopy(e) for e in events]},
    }


def test_single_event_prehash_and_id_match_the_published_vector() -> None:
    assert event_prehash(SINGLE_EVENT) == SINGLE_EVENT_PREHASH
    assert event_hash_id(SINGLE_EVENT) == SINGLE_EVENT_ID
    assert hash_id_of_prehash(SINGLE_EVENT_PREHASH) == SINGLE_EVENT_ID


def test_digital_link_on_any_domain_and_fourth_decimal_round_half_up() -> None:
    assert event_prehash(ROUND_OFF_EVENT) == ROUND_OFF_PREHASH
    assert event_hash_id(ROUND_OFF_EVENT) == ROUND_OFF_ID


def test_user_extensions_sorted_and_record_time_ignored() -> None:
    assert event_prehash(EXTENSION_EVENT, EXTENSION_CONTEXT) == EXTENSION_PREHASH
    assert event_hash_id(EXTENSION_EVENT, EXTENSION_CONTEXT) == EXTENSION_ID


def test_document_ids_in_document_order() -> None:
    doc = document(SINGLE_EVENT, ROUND_OFF_EVENT)
    assert document_hash_ids(doc) == [SINGLE_EVENT_ID, ROUND_OFF_ID]
    reversed_doc = document(ROUND_OFF_EVENT, SINGLE_EVENT)
    assert document_hash_ids(reversed_doc) == document_hash_ids(doc)[::-1]


def test_query_document_and_single_event_bodies() -> None:
    query = {
        "@context": [CONTEXT],
        "type": "EPCISQueryDocument",
        "epcisBody": {
            "queryResults": {"resultsBody": {"eventList": [copy.deepcopy(SINGLE_EVENT)]}}
        },
    }
    single = {"@context": [CONTEXT], "epcisBody": {"event": copy.deepcopy(SINGLE_EVENT)}}
    assert document_hash_ids(query) == [SINGLE_EVENT_ID]
    assert document_hash_ids(single) == [SINGLE_EVENT_ID]


@pytest.mark.parametrize(
    "ignored",
    [
        {"eventID": "ni:///sha-256;00?ver=CBV2.0"},
        {"recordTime": "2030-01-01T00:00:00Z"},
        {
            "errorDeclaration": {
                "declarationTime": "2030-01-01T00:00:00Z",
                "reason": "incorrect_data",
            }
        },
        {"rdfs:comment": "a remark"},
        {"comment": "a remark"},
    ],
    ids=["eventID", "recordTime", "errorDeclaration", "rdfs-comment", "comment"],
)
def test_fields_outside_the_hash_do_not_change_it(ignored: dict[str, Any]) -> None:
    assert event_hash_id({**SINGLE_EVENT, **ignored}) == SINGLE_EVENT_ID


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2005-04-03T20:33:31.116000-06:00", "2005-04-04T02:33:31.116Z"),
        ("2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"),
        ("2023-02-02T11:04:03.1414Z", "2023-02-02T11:04:03.141Z"),
        ("2023-12-31T23:59:59.9996Z", "2024-01-01T00:00:00.000Z"),
        ("2020-04-01T15:00:00+01:00", "2020-04-01T14:00:00.000Z"),
        ("2020-04-01T15:00:00+0130", "2020-04-01T13:30:00.000Z"),
    ],
)
def test_canonical_time(value: str, expected: str) -> None:
    assert canonical_time(value) == expected


@pytest.mark.parametrize("value", ["2020-04-01T15:00:00", "yesterday", "2020-02-30T00:00:00Z"])
def test_event_time_without_zone_or_invalid_is_refused_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidEpcisEvent) as info:
        event_hash_id({**SINGLE_EVENT, "eventTime": value})
    assert info.value.field == "eventTime"


def test_event_without_type_is_refused() -> None:
    event = {k: v for k, v in SINGLE_EVENT.items() if k != "type"}
    with pytest.raises(InvalidEpcisEvent) as info:
        event_hash_id(event)
    assert info.value.field == "type"


def test_document_error_names_the_event() -> None:
    bad = {**SINGLE_EVENT, "eventTime": "not a time"}
    with pytest.raises(InvalidEpcisEvent) as info:
        document_hash_ids(document(SINGLE_EVENT, bad))
    assert info.value.field == "eventList[1].eventTime"


@pytest.mark.parametrize(
    "doc",
    [{"type": "EPCISDocument"}, {"epcisBody": {}}, {"epcisBody": {"eventList": ["x"]}}],
)
def test_document_without_events_is_refused(doc: dict[str, Any]) -> None:
    with pytest.raises(InvalidEpcisDocument):
        document_hash_ids(doc)


def test_numbers_are_written_exactly_without_trailing_zeros() -> None:
    quantity = {
        "type": "ObjectEvent",
        "eventTime": "2019-10-21T12:58:56Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:4054739.099914.20160711"}],
    }
    same = [Decimal("600"), Decimal("600.000"), 600, 600.0, "600", "+600.0", "6E2"]
    ids = set()
    for amount in same:
        event = copy.deepcopy(quantity)
        event["quantityList"][0]["quantity"] = amount
        ids.add(event_hash_id(event))
        assert "quantity=600" in event_prehash(event)
    assert len(ids) == 1
    event = copy.deepcopy(quantity)
    event["quantityList"][0]["quantity"] = Decimal("600.5")
    assert "quantity=600.5" in event_prehash(event)


def test_load_document_refuses_non_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonld"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidEpcisDocument):
        load_document(path)
    with pytest.raises(InvalidEpcisDocument):
        load_document(b"[1, 2]")


def test_cli_prints_one_id_per_event_in_document_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "doc.jsonld"
    path.write_text(json.dumps(document(SINGLE_EVENT, EXTENSION_EVENT, context=EXTENSION_CONTEXT)))
    assert main(["epcis", "hash", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [SINGLE_EVENT_ID, EXTENSION_ID]


def test_cli_prehash_option_and_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "doc.jsonld"
    path.write_text(json.dumps(document(SINGLE_EVENT)))
    assert main(["epcis", "hash", "--prehash", str(path)]) == 0
    assert capsys.readouterr().out == f"{SINGLE_EVENT_ID}\t{SINGLE_EVENT_PREHASH}\n"
    assert main(["epcis", "hash", str(tmp_path / "missing.jsonld")]) == 1
    assert "cannot be read" in capsys.readouterr().err
