"""The EPCIS capture store: documents kept whole, the simple query, sightings with the logistic
unit an item was in (aggregation ADD and DELETE), the commissioning registry, proofs, rebuild."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine

from ledger.epcis import document_hash_ids
from ledger.epcis.merkle import verify_proof
from ledger.index import EpcisStore, EventQuery

CTX = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
CASE = "urn:epc:id:sgtin:9312345.012345.{}"
PALLET = "urn:epc:id:sscc:9312345.0000000001"
HERE = "urn:epc:id:sgln:9312345.00001.0"


def _event(kind: str, when: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "eventTime": when, "eventTimeZoneOffset": "+00:00", **fields}


def _doc(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [CTX, {"ex": "https://example.com/"}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-01-01T00:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }


@pytest.fixture
def store() -> EpcisStore:
    return EpcisStore(create_engine("sqlite://"))


def _add(store: EpcisStore, n: int, document: dict[str, Any]) -> str:
    capture_id = f"0x{n:064x}"
    store.add_capture(
        capture_id=capture_id,
        org_id="0x" + "11" * 32,
        record_id=capture_id,
        captured_at=1,
        document=document,
    )
    return capture_id


def test_aggregation_parent_follows_add_and_delete(store: EpcisStore) -> None:
    commissioning = _event(
        "ObjectEvent",
        "2026-01-01T00:00:00Z",
        epcList=[CASE.format(1), CASE.format(2)],
        action="ADD",
        bizStep="commissioning",
    )
    packed = _event(
        "AggregationEvent",
        "2026-01-02T00:00:00Z",
        parentID=PALLET,
        childEPCs=[CASE.format(1)],
        action="ADD",
        bizStep="packing",
    )
    shipped = _event(
        "ObjectEvent", "2026-01-03T00:00:00Z", epcList=[CASE.format(1)], action="OBSERVE"
    )
    unpacked = _event(
        "AggregationEvent",
        "2026-01-04T00:00:00Z",
        parentID=PALLET,
        childEPCs=[CASE.format(1)],
        action="DELETE",
        bizStep="unpacking",
    )
    sold = _event("ObjectEvent", "2026-01-05T00:00:00Z", epcList=[CASE.format(1)], action="OBSERVE")
    _add(store, 1, _doc(commissioning, packed, shipped, unpacked, sold))
    inside = [s.parent for s in store.sightings(CASE.format(1))]
    pallet_dl = "https://id.gs1.org/00/093123450000000012"
    assert inside == [None, pallet_dl, pallet_dl, pallet_dl, None]
    # A Digital Link spelling of the same item finds the same sightings.
    assert len(store.sightings("https://example.org/01/09312345123452/21/1")) == 5


def test_commissioning_registry(store: EpcisStore) -> None:
    assert store.commissioning(CASE.format(1)) is None  # no registry for the product yet
    _add(
        store,
        1,
        _doc(
            _event(
                "ObjectEvent",
                "2026-01-01T00:00:00Z",
                epcList=[CASE.format(1)],
                action="ADD",
                bizStep="urn:epcglobal:cbv:bizstep:commissioning",
            )
        ),
    )
    assert store.commissioning(CASE.format(1)) is True
    assert store.commissioning(CASE.format(7)) is False
    assert store.commissioning("urn:epc:id:sgtin:9312345.054321.1") is None


def test_document_kept_whole_and_queries(store: EpcisStore) -> None:
    document = _doc(
        _event(
            "ObjectEvent",
            "2026-01-01T10:00:00+02:00",
            epcList=[CASE.format(3)],
            action="OBSERVE",
            bizStep="shipping",
            bizLocation={"id": HERE},
            ilmd={"ex:lot": "L1"},
            **{"ex:temperature": Decimal("4.25")},
        ),
        _event(
            "AggregationEvent",
            "2026-01-01T09:00:00Z",
            parentID=PALLET,
            childEPCs=[CASE.format(3)],
            action="ADD",
        ),
    )
    capture = _add(store, 1, document)
    assert store.capture(capture) is not None
    stored = store.capture(capture)
    assert stored is not None
    assert stored.document == document
    (row,) = store.query(EventQuery(biz_steps=["https://ref.gs1.org/cbv/BizStep-shipping"]))
    assert row.event["ex:temperature"] == Decimal("4.25")
    assert row.hash_id == document_hash_ids(document)[0]
    assert [r.event_type for r in store.query(EventQuery(ge_event_time=1767258000000))] == [
        "AggregationEvent"
    ]  # from 09:00Z: only the aggregation (the shipping event is at 08:00Z)
    assert len(store.query(EventQuery(match_epc=[PALLET]))) == 0
    assert len(store.query(EventQuery(match_any_epc=[PALLET]))) == 1
    assert len(store.query(EventQuery(limit=1))) == 1
    first = store.query(EventQuery(limit=1))[0]
    assert len(store.query(EventQuery(after_row=first.row))) == 1
    for r in store.capture_events(capture):
        assert verify_proof(store.proof(capture, r.position), stored.root, r.digest)


def test_rebuild_gives_the_same_rows(store: EpcisStore) -> None:
    _add(
        store,
        1,
        _doc(_event("ObjectEvent", "2026-01-01T00:00:00Z", epcList=[CASE.format(1)], action="ADD")),
    )
    before = [(r.hash_id, r.event_type) for r in store.query(EventQuery())]
    assert store.rebuild() == 1
    assert [(r.hash_id, r.event_type) for r in store.query(EventQuery())] == before
    assert len(store.sightings(CASE.format(1))) == 1


def test_a_repeated_capture_is_stored_once(store: EpcisStore) -> None:
    document = _doc(
        _event("ObjectEvent", "2026-01-01T00:00:00Z", epcList=[CASE.format(1)], action="ADD")
    )
    _add(store, 1, document)
    _add(store, 1, document)
    assert len(store.query(EventQuery())) == 1


def test_events_by_ids_finds_by_event_id_or_hash_id_in_one_call(store: EpcisStore) -> None:
    named = _event(
        "ObjectEvent", "2026-01-01T00:00:00Z", epcList=[CASE.format(1)], action="OBSERVE"
    )
    named["eventID"] = "urn:uuid:6d1c9a2e-0c4b-4f0e-9a61-2f7d3b0e5a11"
    document = _doc(
        named,
        _event("ObjectEvent", "2026-01-01T01:00:00Z", epcList=[CASE.format(2)], action="OBSERVE"),
        _event("ObjectEvent", "2026-01-01T02:00:00Z", epcList=[CASE.format(3)], action="OBSERVE"),
    )
    _add(store, 1, document)
    hashes = document_hash_ids(document)
    found = store.events_by_ids([hashes[2], named["eventID"], "ni:///sha-256;00?ver=CBV2.0"])
    assert [r.position for r in found] == [0, 2]  # capture order, the unknown id ignored
    assert [r.position for r in store.events_by_id(hashes[1])] == [1]
    assert store.events_by_ids([]) == []
    many = [f"urn:uuid:{i:032x}" for i in range(1200)] + [hashes[1]]  # more than one query
    assert [r.position for r in store.events_by_ids(many)] == [1]
