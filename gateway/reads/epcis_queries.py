"""EPCIS 2.0 reads: the simple event query, events by id and by EPC, capture jobs, and a
consignment's events as an EPCISDocument, each event with its inclusion proof on request.

Answers are EPCIS 2.0 JSON-LD: a query answers an ``EPCISQueryDocument``, an export an
``EPCISDocument``; events are returned as captured (extensions, ILMD and sensor data whole),
with the capturing document's own ``@context`` entries copied onto each event, so that every
event's CBV 2.0 hash id is the one committed. With ``proof=true`` each event also comes with
``proof``: the capture id, the committed root, the Merkle siblings and the contract to check
them with (``EpcisCaptures.proveEvent(captureId, digest, proof)``); these are not EPCIS fields
and are given outside the EPCIS document (``proofs``, in event order).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from starlette.responses import Response

from gateway.errors import InvalidRequest, NotFound
from gateway.writes.ledger_services import LedgerServices
from ledger.epcis.events import canonical_term, exact_json, time_millis
from ledger.errors import EpcisError
from ledger.index import CaptureRow, EpcisStore, EventQuery, EventRow

__all__ = [
    "EPCIS_CONTEXT",
    "MAX_PER_PAGE",
    "capture_view",
    "consignment_document",
    "decode_page_token",
    "encode_page_token",
    "event_query",
    "json_ld",
    "query_document",
]

EPCIS_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
MAX_PER_PAGE: Final = 1000
DEFAULT_PER_PAGE: Final = 30


def json_ld(value: Any) -> Response:
    """An answer as JSON-LD, its numbers exactly as captured (:func:`exact_json`)."""
    return Response(content=exact_json(value), media_type="application/ld+json")


def encode_page_token(row: int) -> str:
    return base64.urlsafe_b64encode(f"row:{row}".encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "row" or not number.isdigit():
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest(
            "nextPageToken is not a token this gateway gave",
            code="invalid_page_token",
            field="nextPageToken",
            rule="page_token",
        ) from None


def _time(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return time_millis(value, field=name)
    except EpcisError as exc:
        raise InvalidRequest(str(exc), code="invalid_time", field=name, rule="rfc3339") from None


def _split(values: Sequence[str] | None) -> list[str]:
    """EPCIS query values: repeated parameters and/or ``|``-separated lists."""
    out: list[str] = []
    for value in values or ():
        out.extend(v.strip() for v in value.split("|") if v.strip())
    return out


def event_query(
    *,
    event_type: Sequence[str] | None = None,
    ge_event_time: str | None = None,
    lt_event_time: str | None = None,
    eq_biz_step: Sequence[str] | None = None,
    eq_disposition: Sequence[str] | None = None,
    match_epc: Sequence[str] | None = None,
    match_any_epc: Sequence[str] | None = None,
    eq_biz_location: Sequence[str] | None = None,
    eq_read_point: Sequence[str] | None = None,
    per_page: int = DEFAULT_PER_PAGE,
    next_page_token: str | None = None,
) -> EventQuery:
    """The store query for the standard's simple query parameters (422 on a bad value)."""
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidRequest(
            f"perPage must be 1 to {MAX_PER_PAGE}",
            field="perPage",
            rule="range",
            code="invalid_value",
        )
    types = _split(event_type)
    known = {
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    }
    unknown = [t for t in types if t not in known]
    if unknown:
        raise InvalidRequest(
            f"eventType {unknown[0]!r} is not an EPCIS 2.0 event type",
            code="invalid_value",
            field="eventType",
            rule="epcis_event_type",
        )
    return EventQuery(
        event_types=types,
        ge_event_time=_time("GE_eventTime", ge_event_time),
        lt_event_time=_time("LT_eventTime", lt_event_time),
        biz_steps=[canonical_term(v, "bizStep") for v in _split(eq_biz_step)],
        dispositions=[canonical_term(v, "disposition") for v in _split(eq_disposition)],
        match_epc=_split(match_epc),
        match_any_epc=_split(match_any_epc),
        biz_locations=_split(eq_biz_location),
        read_points=_split(eq_read_point),
        after_row=decode_page_token(next_page_token) if next_page_token else 0,
        limit=per_page,
    )


def _contexts(document: Mapping[str, Any]) -> list[Any]:
    context = document.get("@context")
    entries = context if isinstance(context, list) else [context]
    return [e for e in entries if isinstance(e, Mapping)]


def _event_out(row: EventRow, documents: dict[str, list[Any]]) -> dict[str, Any]:
    event: dict[str, Any] = dict(row.event)
    extra = documents.get(row.capture_id) or []
    if extra and "@context" not in event:
        event["@context"] = extra
    return event


def _proof(store: EpcisStore, chain: LedgerServices, row: EventRow, root: bytes) -> dict[str, Any]:
    return {
        "eventHashID": row.hash_id,
        "captureID": row.capture_id,
        "root": "0x" + root.hex(),
        "index": row.position,
        "proof": ["0x" + p.hex() for p in store.proof(row.capture_id, row.position)],
        "contract": chain.ledger.epcis.address,
    }


def _events_and_proofs(
    chain: LedgerServices, rows: Sequence[EventRow], *, proof: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    store = chain.epcis_store()
    captures: dict[str, CaptureRow] = {}
    documents: dict[str, list[Any]] = {}
    for row in rows:
        if row.capture_id not in captures:
            capture = store.capture(row.capture_id)
            assert capture is not None
            captures[row.capture_id] = capture
            documents[row.capture_id] = _contexts(capture.document)
    events = [_event_out(r, documents) for r in rows]
    proofs = [_proof(store, chain, r, captures[r.capture_id].root) for r in rows] if proof else []
    return events, proofs


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def query_document(
    chain: LedgerServices, rows: Sequence[EventRow], *, proof: bool
) -> dict[str, Any]:
    """An ``EPCISQueryDocument`` with ``rows`` (and ``proofs`` beside it, on request)."""
    events, proofs = _events_and_proofs(chain, rows, proof=proof)
    document: dict[str, Any] = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _now(),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": events},
            }
        },
    }
    return {"document": document, "proofs": proofs} if proof else document


def consignment_document(
    chain: LedgerServices, rows: Sequence[EventRow], *, proof: bool
) -> dict[str, Any]:
    """An ``EPCISDocument`` with a consignment's captured events, oldest first."""
    ordered = sorted(rows, key=lambda r: (r.event_time, r.row))
    events, proofs = _events_and_proofs(chain, ordered, proof=proof)
    document: dict[str, Any] = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _now(),
        "epcisBody": {"eventList": events},
    }
    return {"document": document, "proofs": proofs} if proof else document


def capture_view(chain: LedgerServices, capture_id: str) -> dict[str, Any]:
    """The capture job: EPCIS 2.0's ``running``/``success``/``errors``, with where its
    commitment is on its way to the chain (the outbox record's status)."""
    store = chain.epcis_store()
    capture = store.capture(capture_id.lower())
    if capture is None:
        raise NotFound(f"no capture {capture_id}", code="unknown_capture", field="captureID")
    return {
        "captureID": capture.capture_id,
        "orgID": capture.org_id,
        "recordID": capture.record_id,
        "root": "0x" + capture.root.hex(),
        "eventCount": capture.event_count,
        "capturedAt": datetime.fromtimestamp(capture.captured_at, UTC).isoformat(),
        "captureErrorBehaviour": "rollback",
    }
