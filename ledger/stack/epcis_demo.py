"""The EPCIS part of the demo world: a brand owner's commissioning, and a counterfeit pair.

On top of :func:`~ledger.stack.demo.seed_demo` (whose consignment stays genuine), on the local
chain only:

* the exporter (the brand owner) commissions three serials of its wine case (GTIN
  09312345123452) in one EPCIS capture: its registry of genuine serials;
* consignment ``...-0002`` (the suspect) leaves Adelaide in container ``MSCU2000011`` with a
  shipping capture naming serial 1 and serial 9 (never commissioned);
* consignment ``...-0003`` is recorded in the *same* container at Singapore while the suspect
  is at sea, and a capture there names serial 1 again under ``...-0003``.

Verifying ``...-0002`` then finds ``CLONED_SERIAL``, ``SERIAL_NOT_COMMISSIONED`` and
``DUPLICATE_CONTAINER``, by default. Every capture is committed on chain (``EpcisCaptures``)
and stored whole in the index's EPCIS tables, as ``POST /epcis/capture`` does. Resumable: a
capture or consignment already there is not recorded again.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from eth_utils.crypto import keccak

from ledger.chain import ContractError, Ledger
from ledger.epcis import document_events
from ledger.epcis.events import summarise
from ledger.epcis.merkle import MerkleTree
from ledger.index import EpcisStore
from ledger.records import (
    BusinessStep,
    ConsignmentEvent,
    ConsignmentRegistration,
    ContainerNumber,
    Disposition,
    EpcisCapture,
    Locode,
    consignment_id,
    reference_hash,
)
from ledger.stack.demo import DemoWorld, Party

__all__ = ["DEMO_CONTAINER", "DEMO_GTIN_EPC", "seed_epcis_demo"]

log = logging.getLogger("ledger.stack.epcis_demo")

DEMO_GTIN_EPC: Final = "urn:epc:id:sgtin:9312345.012345"
DEMO_CONTAINER: Final = "MSCU2000011"
WINERY: Final = "urn:epc:id:sgln:9312345.00001.0"
SINGAPORE_DEPOT: Final = "urn:epc:id:sgln:8887777.00002.0"
CONTEXT: Final = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _document(events: list[dict[str, Any]], t: int) -> dict[str, Any]:
    return {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _iso(t),
        "epcisBody": {"eventList": events},
    }


def _event(
    *,
    when: int,
    epcs: list[str],
    step: str,
    disposition: str,
    where: str,
    action: str = "OBSERVE",
    reference: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": _iso(when),
        "eventTimeZoneOffset": "+00:00",
        "epcList": epcs,
        "action": action,
        "bizStep": step,
        "disposition": disposition,
        "readPoint": {"id": where},
        "bizLocation": {"id": where},
    }
    if reference is not None:
        event["bizTransactionList"] = [
            {"type": "bol", "bizTransaction": f"urn:epcis:demo:ucr:{reference}"}
        ]
    return event


def _capture(
    ledger: Ledger, store: EpcisStore, party: Party, document: Mapping[str, Any], *, at: int
) -> str:
    summaries = summarise(document_events(document), document.get("@context"))
    tree = MerkleTree.of_digests([s.digest for s in summaries])
    capture_id = keccak(party.org_id + tree.root)
    hex_id = "0x" + capture_id.hex()
    if store.capture(hex_id) is None:
        clock = int(ledger.w3.eth.get_block("latest")["timestamp"])
        record = EpcisCapture(
            capture_id=capture_id,
            root=tree.root,
            event_count=len(tree),
            captured_at=min(at, clock),
            deadline=clock + 3600,
        )
        signed = ledger.sign(record, party.private_key)
        try:
            ledger.epcis.capture(capture_id)
        except ContractError:  # UnknownCapture: not committed yet
            ledger.submit(signed)
        digest = record.digest(ledger.domain(record))
        record_id = "0x" + keccak(party.org_id + digest).hex()
        store.add_capture(
            capture_id=hex_id,
            org_id="0x" + party.org_id.hex(),
            record_id=record_id,
            captured_at=record.captured_at,
            document=document,
        )
    return hex_id


def _consignment(
    ledger: Ledger, carrier: Party, consignor: Party, ref: str, legs: list[tuple[str, str, int]]
) -> None:
    cid = consignment_id(ref, registrant=carrier.org_id)
    clock = int(ledger.w3.eth.get_block("latest")["timestamp"])
    if not ledger.consignments.exists(cid):
        registration = ConsignmentRegistration(
            reference_hash=reference_hash(ref),
            origin=b"AU",
            destination=b"CN",
            consignor=consignor.org_id,
            deadline=clock + 3600,
        )
        ledger.consignments.register(ledger.sign(registration, carrier.private_key))
    recorded = ledger.consignments.consignment(cid).event_count
    box = ContainerNumber(DEMO_CONTAINER).to_bytes11()
    for i, (step, where, when) in enumerate(legs):
        if i < recorded:
            continue
        event = ConsignmentEvent(
            consignment_id=cid,
            biz_step=BusinessStep(step).code,
            disposition=Disposition("in_transit").code,
            location=Locode(where).to_bytes5(),
            event_time=when,
            container=box,
            seal_digest=keccak(text=f"seal of {ref}"),
            nonce=secrets.randbits(24) << 8 | i,
            deadline=clock + 3600,
        )
        ledger.consignments.post_event(ledger.sign(event, carrier.private_key))


def seed_epcis_demo(
    ledger: Ledger, store: EpcisStore, world: DemoWorld, *, now: int
) -> dict[str, str]:
    """Record the EPCIS demo (see the module docstring); returns the references it used."""
    p = world.parties
    base = world.consignment_ref.rsplit("-", 1)[0]
    suspect, other = f"{base}-0002", f"{base}-0003"
    serials = [f"{DEMO_GTIN_EPC}.{n}" for n in (1, 2, 3)]
    start = now - 20 * 86400  # the suspect sails 14 days, as far as Adelaide-Shanghai takes
    _capture(
        ledger,
        store,
        p["exporter"],
        _document(
            [
                _event(
                    when=start - 2 * 86400,
                    epcs=serials,
                    step="commissioning",
                    disposition="active",
                    where=WINERY,
                    action="ADD",
                )
            ],
            start - 2 * 86400,
        ),
        at=start - 2 * 86400,
    )
    _consignment(
        ledger,
        p["carrier"],
        p["exporter"],
        suspect,
        [("loading", "AUADL", start), ("departing", "AUADL", start + 3600)],
    )
    _capture(
        ledger,
        store,
        p["carrier"],
        _document(
            [
                _event(
                    when=start + 1800,
                    epcs=[serials[0], f"{DEMO_GTIN_EPC}.9"],
                    step="shipping",
                    disposition="in_transit",
                    where=WINERY,
                    reference=suspect,
                )
            ],
            start + 1800,
        ),
        at=start + 1800,
    )
    _consignment(
        ledger,
        p["carrier"],
        p["exporter"],
        other,
        [("loading", "SGSIN", start + 5 * 86400), ("departing", "SGSIN", start + 5 * 86400 + 3600)],
    )
    _capture(
        ledger,
        store,
        p["carrier"],
        _document(
            [
                _event(
                    when=start + 5 * 86400,
                    epcs=[serials[0]],
                    step="receiving",
                    disposition="in_progress",
                    where=SINGAPORE_DEPOT,
                    reference=other,
                )
            ],
            start + 5 * 86400,
        ),
        at=start + 5 * 86400,
    )
    # The suspect's arrival: its journey spans the other consignment's loading at Singapore.
    _consignment(
        ledger,
        p["carrier"],
        p["exporter"],
        suspect,
        [
            ("loading", "AUADL", start),
            ("departing", "AUADL", start + 3600),
            ("arriving", "CNSGH", start + 14 * 86400),
        ],
    )
    log.info("EPCIS demo: suspect consignment %s, clone in %s", suspect, other)
    return {"suspect_consignment": suspect, "other_consignment": other, "container": DEMO_CONTAINER}
