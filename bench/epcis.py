"""EPCIS 2.0 capture: throughput, gas per event by capture size, and the hashing peer.

For documents of 1, 100 and 10,000 events (quick mode: 1 and 20), a capture goes the whole
way it goes in the gateway, in process: validated against GS1's JSON Schema with format
checks and CBV 2.0, every event hashed (CBV 2.0 event hash id), the Merkle tree built, the
``Capture`` record signed and committed on chain (``EpcisCaptures.commitCapture``, waited for
its receipt), and the document and its events stored in a fresh SQLite EPCIS store.
``epcis_capture_events_per_s_<n>`` is n over that whole time; ``epcis_gas_per_event_<n>`` the
receipt's gas over n.

The peer: GS1's reference implementation of the event hash (PyPI
``epcis-event-hash-generator``), hashing the same document as ours
(``epcis_peer_hash_events_per_s`` against ``epcis_hash_events_per_s``).
"""

from __future__ import annotations

import copy
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak
from sqlalchemy import create_engine

from bench.context import BenchContext, BenchError, Figures
from bench.ours import our_suite
from ledger.epcis import document_events, document_hash_ids
from ledger.epcis.events import summarise
from ledger.epcis.merkle import MerkleTree
from ledger.epcis.validation import validate_document
from ledger.index import EpcisStore
from ledger.records import EpcisCapture

__all__ = ["bench_epcis", "capture_document"]

log = logging.getLogger("bench.epcis")

CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
PEER_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def capture_document(n: int, *, salt: int = 0) -> dict[str, Any]:
    """An EPCISDocument of ``n`` events: object, aggregation and transaction events in turn,
    with SGTINs, an SSCC, SGLN places, business transactions and a sensor report."""
    events: list[dict[str, Any]] = []
    for i in range(n):
        serial = f"urn:epc:id:sgtin:9312345.012345.{salt}{i}"
        day, hour, minute, second = 1 + i % 28, i % 24, i % 60, (i * 7) % 60
        when = f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{i % 1000:03d}Z"
        common: dict[str, Any] = {
            "eventTime": when,
            "eventTimeZoneOffset": "+10:30",
            "bizLocation": {"id": "urn:epc:id:sgln:9312345.00001.0"},
            "readPoint": {"id": f"urn:epc:id:sgln:9312345.00001.{i % 7}"},
        }
        kind = i % 3
        if kind == 0:
            event = {
                "type": "ObjectEvent",
                "epcList": [serial],
                "action": "OBSERVE",
                "bizStep": "shipping",
                "disposition": "in_transit",
                "bizTransactionList": [{"type": "po", "bizTransaction": f"urn:example:po:{i}"}],
                "sensorElementList": [
                    {"sensorReport": [{"type": "Temperature", "value": 4.5 + i % 10, "uom": "CEL"}]}
                ],
                **common,
            }
        elif kind == 1:
            event = {
                "type": "AggregationEvent",
                "parentID": "urn:epc:id:sscc:9312345.0000000001",
                "childEPCs": [serial],
                "action": "ADD",
                "bizStep": "packing",
                "disposition": "in_progress",
                **common,
            }
        else:
            event = {
                "type": "TransactionEvent",
                "bizTransactionList": [{"type": "inv", "bizTransaction": f"urn:example:inv:{i}"}],
                "epcList": [serial],
                "action": "ADD",
                "bizStep": "receiving",
                "disposition": "in_progress",
                **common,
            }
        events.append(event)
    return {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-30T00:00:00Z",
        "epcisBody": {"eventList": events},
    }


def _capture_once(suite: Any, store: EpcisStore, document: dict[str, Any]) -> tuple[float, int]:
    ledger, world = suite.ledger, suite.world
    party = world.parties["carrier"]
    began = time.perf_counter()
    validate_document(document)
    summaries = summarise(document_events(document), document.get("@context"))
    tree = MerkleTree.of_digests([s.digest for s in summaries])
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    capture_id = keccak(party.org_id + tree.root)
    record = EpcisCapture(
        capture_id=capture_id,
        root=tree.root,
        event_count=len(tree),
        captured_at=now,
        deadline=now + 3600,
    )
    receipt = ledger.submit(ledger.sign(record, party.private_key))
    if not receipt.succeeded:
        raise BenchError(f"commitCapture reverted in {receipt.tx_hash}")
    store.add_capture(
        capture_id="0x" + capture_id.hex(),
        org_id="0x" + party.org_id.hex(),
        record_id="0x" + capture_id.hex(),
        captured_at=now,
        document=document,
    )
    return time.perf_counter() - began, int(receipt.gas_used)


def _hash_rates(n: int) -> tuple[float, float, int]:
    """Events per second hashed by us and by the reference implementation (same document)."""
    from epcis_event_hash_generator.hash_generator import epcis_hashes_from_events
    from epcis_event_hash_generator.json_to_py import event_list_from_epcis_document_str

    document = capture_document(n, salt=9)
    # The context URL the reference implementation ships a copy of (it cannot fetch one here).
    document["@context"] = [PEER_CONTEXT]
    text = json.dumps(document)
    began = time.perf_counter()
    ours = document_hash_ids(json.loads(text))
    ours_s = time.perf_counter() - began
    began = time.perf_counter()
    theirs = epcis_hashes_from_events(event_list_from_epcis_document_str(text))
    theirs_s = time.perf_counter() - began
    if len(theirs) != len(ours):
        raise BenchError(f"the reference hashed {len(theirs)} of {len(ours)} events")
    agree = sum(a == b for a, b in zip(ours, theirs, strict=True))
    log.info("reference implementation agrees on %d of %d hash ids", agree, len(ours))
    return n / ours_s, n / theirs_s, agree


def bench_epcis(ctx: BenchContext) -> Figures:
    suite = our_suite(ctx)
    figures: dict[str, int | float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = EpcisStore(create_engine(f"sqlite:///{Path(tmp) / 'epcis.db'}"))
        for n in ctx.sizes.epcis_captures:
            document = capture_document(n, salt=n)
            seconds, gas = _capture_once(suite, store, copy.deepcopy(document))
            figures[f"epcis_capture_events_per_s_{n}"] = round(n / seconds, 1)
            figures[f"epcis_gas_per_event_{n}"] = round(gas / n, 1)
            ctx.note("epcis", f"capture_{n}", {"seconds": round(seconds, 3), "gas": gas})
        store.engine.dispose()
    ours, theirs, agree = _hash_rates(ctx.sizes.epcis_hash_events)
    ctx.note("epcis", "peer_hash_ids_equal", f"{agree} of {ctx.sizes.epcis_hash_events}")
    figures["epcis_hash_events_per_s"] = round(ours, 1)
    figures["epcis_peer_hash_events_per_s"] = round(theirs, 1)
    return figures
