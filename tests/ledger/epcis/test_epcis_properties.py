"""Properties of the CBV 2.0 event hash: what must not change it, and what must.

Reordering lists and JSON object fields, compact IRI versus full URI versus bare CBV word,
EPC URN versus GS1 Digital Link (any domain), and the time-zone spelling of the same instant
never change an event's hash ID; changing a hashed value always does.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.epcis import event_hash_id

CONTEXT: list[Any] = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"example": "https://ns.example.com/epcis/"},
]

SERIALS = st.lists(
    st.text(alphabet="ABCDEFGHJK0123456789", min_size=1, max_size=8),
    min_size=1,
    max_size=6,
    unique=True,
)


def base_event(serials: list[str]) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": "2024-05-01T10:15:30.250+02:00",
        "eventTimeZoneOffset": "+02:00",
        "epcList": [f"urn:epc:id:sgtin:4012345.011111.{s}" for s in serials],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00005.0"},
        "bizTransactionList": [
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:PO1"},
            {"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:ASN1"},
        ],
        "sourceList": [
            {"type": "possessing_party", "source": "urn:epc:id:pgln:4012345.00000"},
            {"type": "location", "source": "urn:epc:id:sgln:4012345.00005.0"},
        ],
        "destinationList": [
            {"type": "owning_party", "destination": "urn:epc:id:pgln:4000001.98765"},
        ],
        "sensorElementList": [
            {
                "sensorMetadata": {
                    "time": "2024-05-01T08:00:00Z",
                    "deviceID": "urn:epc:id:giai:4000001.111",
                },
                "sensorReport": [
                    {"type": "Temperature", "value": 4.5, "uom": "CEL"},
                    {"type": "RelativeHumidity", "value": 61, "uom": "P1"},
                ],
            }
        ],
        "example:seal": {"example:number": "SEAL-1", "example:intact": True},
        "example:tags": ["b", "a", "c"],
    }


@st.composite
def reordered(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with every list shuffled and every object's fields in a drawn order."""
    if isinstance(value, dict):
        keys = draw(st.permutations(list(value)))
        return {k: draw(reordered(value[k])) for k in keys}
    if isinstance(value, list):
        items = [draw(reordered(v)) for v in value]
        return draw(st.permutations(items))
    return value


@settings(max_examples=60, deadline=None)
@given(data=st.data(), serials=SERIALS)
def test_reordering_lists_and_fields_never_changes_the_hash(
    data: st.DataObject, serials: list[str]
) -> None:
    event = base_event(serials)
    shuffled = data.draw(reordered(event))
    assert event_hash_id(shuffled, CONTEXT) == event_hash_id(event, CONTEXT)


@settings(max_examples=40, deadline=None)
@given(
    serials=SERIALS,
    biz_step=st.sampled_from(
        [
            "shipping",
            "cbv:BizStep-shipping",
            "https://ref.gs1.org/cbv/BizStep-shipping",
            "urn:epcglobal:cbv:bizstep:shipping",
        ]
    ),
    disposition=st.sampled_from(
        ["in_transit", "cbv:Disp-in_transit", "https://ref.gs1.org/cbv/Disp-in_transit"]
    ),
    btt=st.sampled_from(
        ["po", "cbv:BTT-po", "https://ref.gs1.org/cbv/BTT-po", "urn:epcglobal:cbv:btt:po"]
    ),
    measurement=st.sampled_from(
        ["Temperature", "gs1:Temperature", "https://gs1.org/voc/Temperature"]
    ),
    extension_key=st.sampled_from(["example:seal", "https://ns.example.com/epcis/seal"]),
    host=st.sampled_from(["https://id.gs1.org", "https://example.com/dl", "http://id.gs1.de"]),
    as_link=st.booleans(),
)
def test_compact_iri_full_uri_and_identifier_spelling_give_the_same_hash(
    serials: list[str],
    biz_step: str,
    disposition: str,
    btt: str,
    measurement: str,
    extension_key: str,
    host: str,
    as_link: bool,
) -> None:
    event = base_event(serials)
    expected = event_hash_id(event, CONTEXT)
    spelled = copy.deepcopy(event)
    spelled["bizStep"] = biz_step
    spelled["disposition"] = disposition
    spelled["bizTransactionList"][0]["type"] = btt
    spelled["sensorElementList"][0]["sensorReport"][0]["type"] = measurement
    spelled[extension_key] = spelled.pop("example:seal")
    if as_link:
        spelled["epcList"] = [f"{host}/01/04012345111118/21/{s}" for s in serials]
        spelled["readPoint"] = {"id": f"{host}/414/4012345000054?linkType=all"}
    assert event_hash_id(spelled, CONTEXT) == expected


@settings(max_examples=60, deadline=None)
@given(
    serials=SERIALS,
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
    sub_millisecond=st.sampled_from(["", "0", "000", "0001", "000049"]),
)
def test_time_zone_spelling_of_the_same_instant_never_changes_the_hash(
    serials: list[str], offset_minutes: int, sub_millisecond: str
) -> None:
    event = base_event(serials)
    expected = event_hash_id(event, CONTEXT)
    instant = datetime(2024, 5, 1, 8, 15, 30, 250000, tzinfo=UTC)
    local = instant.astimezone(timezone(timedelta(minutes=offset_minutes)))
    text = local.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + sub_millisecond
    zone = local.strftime("%z")
    zone = "Z" if offset_minutes == 0 and sub_millisecond == "" else f"{zone[:3]}:{zone[3:]}"
    respelled = {**event, "eventTime": text + zone}
    assert event_hash_id(respelled, CONTEXT) == expected


def _set_path(event: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = event
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


CHANGES: list[tuple[tuple[Any, ...], Any]] = [
    (("epcList", 0), "urn:epc:id:sgtin:4012345.011111.ZZZZZZZZZ"),
    (("eventTime",), "2024-05-01T10:15:30.251+02:00"),
    (("eventTimeZoneOffset",), "+01:00"),
    (("action",), "ADD"),
    (("bizStep",), "receiving"),
    (("disposition",), "in_progress"),
    (("readPoint", "id"), "urn:epc:id:sgln:4012345.00005.1"),
    (("bizTransactionList", 0, "bizTransaction"), "urn:epcglobal:cbv:bt:4012345000009:PO2"),
    (("bizTransactionList", 0, "type"), "inv"),
    (("sourceList", 0, "source"), "urn:epc:id:pgln:4012345.00001"),
    (("destinationList", 0, "type"), "location"),
    (("sensorElementList", 0, "sensorReport", 0, "value"), 4.6),
    (("sensorElementList", 0, "sensorMetadata", "time"), "2024-05-01T08:00:01Z"),
    (("example:seal", "example:number"), "SEAL-2"),
    (("example:seal", "example:intact"), False),
    (("example:tags", 1), "d"),
]


@settings(max_examples=60, deadline=None)
@given(serials=SERIALS, change=st.sampled_from(CHANGES))
def test_changing_a_hashed_value_changes_the_hash(
    serials: list[str], change: tuple[tuple[Any, ...], Any]
) -> None:
    event = base_event(serials)
    changed = copy.deepcopy(event)
    path, value = change
    _set_path(changed, path, value)
    assert event_hash_id(changed, CONTEXT) != event_hash_id(event, CONTEXT)


@settings(max_examples=30, deadline=None)
@given(serials=SERIALS, field=st.sampled_from(["parentID", "example:other", "ilmd"]))
def test_adding_or_removing_a_field_changes_the_hash(serials: list[str], field: str) -> None:
    event = base_event(serials)
    added = {**event, field: "urn:epc:id:sscc:4012345.0000000111"}
    if field == "ilmd":
        added[field] = {"example:lot": "L1"}
    removed = {k: v for k, v in event.items() if k != "disposition"}
    hashes = {event_hash_id(e, CONTEXT) for e in (event, added, removed)}
    assert len(hashes) == 3
