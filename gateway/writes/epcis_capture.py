"""EPCIS 2.0 capture: a document validated whole, its events stored, its Merkle root relayed.

A capture document is checked against GS1's JSON Schema and CBV 2.0
(:func:`ledger.epcis.validation.validate_document`); a document with any problem is refused
whole (422 with every problem, each naming the event index and JSON pointer) and nothing of it
is stored. A valid one becomes one :class:`~ledger.records.EpcisCapture` record: the Merkle
root over its events' CBV 2.0 hash digests, signed by the capturing organisation (custodially
by the gateway, or by the client over the typed data from :func:`capture_typed_data`).

The record is checked as every record is (signer's key and validity, organisation, role, an
``eth_call`` of ``commitCapture`` on the pending block); then the document and its events are
stored (:class:`ledger.index.epcis.EpcisStore`) and the record goes to the outbox, which
relays it exactly once (``commitCaptures``). The capture id is
``keccak256(orgId ‖ root)``: the same events captured again by the same organisation are the
same capture (answered as a repeat), and the contract commits a capture id once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eth_utils.crypto import keccak

from gateway.auth import Caller
from gateway.errors import InvalidRequest, ServiceUnavailable
from gateway.models.stored import AcceptResult, NewRecord, RecordKind
from gateway.writes.epcis_consignments import (
    ContainerLookup,
    Link,
    ReferenceLookup,
    Unlinked,
    consignment_links,
)
from gateway.writes.intake import _store, prepare_many, prepare_signed
from gateway.writes.kinds import decode, record_id_for, recover
from gateway.writes.ledger_services import LedgerServices
from gateway.writes.outbox import Outbox
from ledger.epcis import document_events
from ledger.epcis.events import summarise
from ledger.epcis.merkle import MerkleTree
from ledger.epcis.validation import validate_document
from ledger.errors import InvalidEpcisDocument, LedgerError
from ledger.index import CaptureRow
from ledger.records import EpcisCapture, SignedRecord, sign

__all__ = [
    "CAPTURE_DEADLINE_SECONDS",
    "CaptureOutcome",
    "PreparedCapture",
    "accept_capture",
    "capture_typed_data",
    "parse_document",
    "prepare_capture",
]

CAPTURE_DEADLINE_SECONDS = 24 * 3600
"""How long a custodial capture signature stays valid (as for every custodial record)."""


def parse_document(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, numbers read exactly (422 otherwise)."""
    try:
        data = json.loads(body, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest(
            f"the body is not JSON ({exc})", code="invalid_json", field="body", rule="json"
        ) from None
    if not isinstance(data, dict):
        raise InvalidRequest(
            "an EPCIS capture body is an EPCISDocument object",
            code="invalid_request",
            field="body",
            rule="epcis_schema",
        )
    return data


@dataclass(frozen=True)
class PreparedCapture:
    """A validated document with its Merkle tree, for ``org_id``."""

    document: dict[str, Any]
    tree: MerkleTree
    org_id: str

    @property
    def capture_id(self) -> bytes:
        return keccak(bytes.fromhex(self.org_id[2:]) + self.tree.root)


def prepare_capture(document: Mapping[str, Any], caller: Caller) -> PreparedCapture:
    """Validate ``document`` whole (raises ``EpcisDocumentRejected``) and build its tree."""
    validate_document(document)
    events = document_events(document)
    summaries = summarise(events, document.get("@context"))
    tree = MerkleTree.of_digests([s.digest for s in summaries])
    return PreparedCapture(dict(document), tree, caller.org_id)


def _record(prepared: PreparedCapture, *, captured_at: int, deadline: int) -> EpcisCapture:
    return EpcisCapture(
        capture_id=prepared.capture_id,
        root=prepared.tree.root,
        event_count=len(prepared.tree),
        captured_at=captured_at,
        deadline=deadline,
    )


def capture_typed_data(
    chain: LedgerServices, prepared: PreparedCapture, *, deadline: int | None = None
) -> dict[str, Any]:
    """The EIP-712 typed data a client signs for this capture (``eth_signTypedData_v4``)."""
    now = chain.now()
    record = _record(prepared, captured_at=now, deadline=deadline or now + CAPTURE_DEADLINE_SECONDS)
    return record.typed_data(chain.ledger.domain(record))


def _signed_capture(
    chain: LedgerServices,
    caller: Caller,
    prepared: PreparedCapture,
    message: Mapping[str, Any] | None,
    signature: str | None,
) -> SignedRecord[EpcisCapture]:
    if message is None or signature is None:
        if chain.signing_keys is None:
            raise ServiceUnavailable(
                "this gateway holds no custodial keys", code="no_custodial_keys"
            )
        account = chain.signing_keys.account(caller.org_id)
        now = chain.now()
        record = _record(prepared, captured_at=now, deadline=now + CAPTURE_DEADLINE_SECONDS)
        return sign(record, account.key, chain.ledger.domain(record))
    signed = decode(RecordKind.EPCIS_CAPTURE, message, signature)
    record = signed.record
    assert isinstance(record, EpcisCapture)
    if record.root != prepared.tree.root or record.event_count != len(prepared.tree):
        raise InvalidRequest(
            "the signed capture does not commit this document's events (root or event count "
            "differs)",
            code="capture_mismatch",
            field="message.root",
            rule="merkle_root",
        )
    return signed


@dataclass(frozen=True)
class CaptureOutcome:
    """What a capture request stored: the capture, its record, and the consignment events
    written from its events (custodial captures only; see :mod:`.epcis_consignments`)."""

    result: AcceptResult
    row: CaptureRow
    consignment_events: list[dict[str, Any]]
    not_linked: list[dict[str, Any]]


def _container_lookup(chain: LedgerServices) -> ContainerLookup | None:
    """The consignment whose latest indexed event up to a time carried a container."""
    index = chain.index
    if index is None:
        return None

    def lookup(container: str, at: int) -> bytes | None:
        carried = [e for e in index.events_by_container(container) if e.event_time <= at]
        if not carried:
            return None
        return max(carried, key=lambda e: (e.event_time, e.block_number)).consignment_id

    return lookup


def _reference_lookup(chain: LedgerServices) -> ReferenceLookup | None:
    """Every registration of a reference hash, from the index (None without one)."""
    index = chain.index
    if index is None:
        return None

    def lookup(ref_hash: bytes) -> list[bytes]:
        return [cid for cid, _ in index.consignments_by_reference(ref_hash)]

    return lookup


def _consignment_events(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    prepared: PreparedCapture,
    account: Any,
) -> tuple[list[tuple[Link, NewRecord | AcceptResult]], list[Unlinked]]:
    """The capture's events that concern a consignment, signed and checked as the chain
    would (any refusal refuses the capture whole)."""
    events = document_events(prepared.document)
    summaries = summarise(events, prepared.document.get("@context"))
    ctx = chain.context(caller, signer=account.address)
    links, unlinked = consignment_links(
        chain.ledger,
        events,
        summaries,
        nonce=ctx.nonce,
        deadline=ctx.now + CAPTURE_DEADLINE_SECONDS,
        capturer=ctx.org_id,
        by_container=_container_lookup(chain),
        by_reference=_reference_lookup(chain),
    )
    if not links:
        return [], unlinked
    signed = [sign(link.record, account.key, chain.ledger.domain(link.record)) for link in links]
    answers = prepare_many(chain, outbox, caller, [(s, None) for s in signed])
    checked: list[NewRecord | AcceptResult] = []
    for answer in answers:
        if isinstance(answer, LedgerError):
            raise answer  # the first refused event refuses the capture whole
        checked.append(answer)
    return list(zip(links, checked, strict=True)), unlinked


def accept_capture(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    document: Mapping[str, Any],
    *,
    message: Mapping[str, Any] | None = None,
    signature: str | None = None,
    idempotency_key: str | None = None,
) -> CaptureOutcome:
    """Validate, sign (custodial: no ``message``) or check the client's signature, then store
    the document and relay its root. A repeat of a stored capture is answered from the store.

    A custodial capture's events that concern a consignment are also written as that
    consignment's signed events (:mod:`.epcis_consignments`), checked before anything is
    stored: a refused one refuses the capture whole."""
    store = chain.epcis_store()
    prepared = prepare_capture(document, caller)
    capture_hex = "0x" + prepared.capture_id.hex()
    existing = store.capture(capture_hex)
    if existing is not None:
        stored = outbox.get(existing.record_id)
        if stored is not None:
            return CaptureOutcome(AcceptResult(stored, created=False), existing, [], [])
    signed = _signed_capture(chain, caller, prepared, message, signature)
    digest = signed.record.digest(chain.ledger.domain(signed.record))
    signer = recover(digest, signed.signature)
    prepared_record = prepare_signed(
        chain, outbox, caller, signed, idempotency_key=idempotency_key, signer=signer
    )
    if signed.record.capture_id != prepared.capture_id:
        raise InvalidRequest(
            "captureId must be keccak256(orgId ‖ root) of the API key's organisation",
            code="capture_mismatch",
            field="message.captureId",
            rule="capture_id",
        )
    if isinstance(prepared_record, AcceptResult):
        row = store.capture(capture_hex)
        if row is None:
            raise InvalidEpcisDocument("document", "the capture's document was not stored", None)
        return CaptureOutcome(prepared_record, row, [], [])
    linked: list[tuple[Link, NewRecord | AcceptResult]] = []
    unlinked: list[Unlinked] = []
    if message is None:
        assert chain.signing_keys is not None
        account = chain.signing_keys.account(caller.org_id)
        linked, unlinked = _consignment_events(chain, outbox, caller, prepared, account)
    rid = record_id_for(digest, org_id=caller.org_id)
    assert prepared_record.record_id == rid
    row = store.add_capture(
        capture_id=capture_hex,
        org_id=caller.org_id,
        record_id=rid,
        captured_at=signed.record.captured_at,
        document=prepared.document,
    )
    result = _store(outbox, prepared_record)
    events: list[dict[str, Any]] = []
    for link, answer in linked:
        stored_event = answer if isinstance(answer, AcceptResult) else _store(outbox, answer)
        events.append(
            {
                "event_index": link.event_index,
                "reference": link.reference,
                "record_id": stored_event.record.record_id,
            }
        )
    return CaptureOutcome(result, row, events, [u.as_dict() for u in unlinked])
