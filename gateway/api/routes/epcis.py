"""GS1 EPCIS 2.0 (REST binding): capture, capture jobs, the simple event query, events by id
and by EPC, and a consignment's events as an EPCISDocument.

``POST /epcis/capture`` takes an EPCISDocument (``application/ld+json`` or
``application/json``), validates it whole against GS1's JSON Schema and CBV 2.0, and answers
``202`` with the capture id (``Location: /epcis/capture/{captureID}``); the gateway signs the
capture's Merkle root with the organisation's key. A client that signs itself gets the typed
data from ``POST /epcis/capture/typed-data`` and sends ``POST /epcis/capture/signed``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import CurrentCaller, OutboxDep, ReadCaller, ServicesDep
from gateway.api.write_routes import WRITE_RESPONSES, IdempotencyKey, scoped_caller
from gateway.errors import InvalidRequest, NotFound
from gateway.models.record_views import RecordView
from gateway.models.stored import RecordKind
from gateway.reads.epcis_queries import (
    capture_view,
    consignment_document,
    encode_page_token,
    event_query,
    json_ld,
    query_document,
)
from gateway.writes.epcis_capture import (
    CaptureOutcome,
    accept_capture,
    capture_typed_data,
    parse_document,
    prepare_capture,
)
from gateway.writes.intake import sync_caller
from gateway.writes.kinds import record_id_for
from gateway.writes.ledger_services import require_ledger
from ledger.chain import ContractError
from ledger.index import EventQuery
from ledger.records import EpcisCapture

__all__ = ["router"]

router = APIRouter(prefix="/epcis", tags=["epcis"])

_MEDIA_TYPES = ("application/ld+json", "application/json")

_EVENT: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2026-11-20T08:00:00Z",
    "eventTimeZoneOffset": "+10:30",
    "epcList": ["urn:epc:id:sgtin:9312345.012345.7001"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "readPoint": {"id": "urn:epc:id:sgln:9312345.00001.0"},
    "bizLocation": {"id": "urn:un:locode:AUADL"},
    "bizTransactionList": [{"type": "bol", "bizTransaction": "urn:example:ucr:AU-UCR-2026-0001"}],
}
_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
DOCUMENT_EXAMPLE: dict[str, Any] = {
    "@context": [_CONTEXT],
    "type": "EPCISDocument",
    "schemaVersion": "2.0",
    "creationDate": "2026-11-20T08:05:00Z",
    "epcisBody": {"eventList": [_EVENT]},
}
QUERY_EXAMPLE: dict[str, Any] = {
    "@context": [_CONTEXT],
    "type": "EPCISQueryDocument",
    "schemaVersion": "2.0",
    "creationDate": "2026-11-21T00:00:00.000Z",
    "epcisBody": {
        "queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": [_EVENT]}}
    },
}
_CAPTURE_ID = "0x5c1e7a0d8f3b2c4e6a9d1b0f2e4c6a8b0d2f4e6a8c0b2d4f6e8a0c2b4d6f8e0a"
CAPTURE_JOB_EXAMPLE: dict[str, Any] = {
    "captureID": _CAPTURE_ID,
    "orgID": "0x" + "11" * 32,
    "recordID": "0x" + "22" * 32,
    "root": "0x" + "33" * 32,
    "eventCount": 1,
    "capturedAt": "2026-11-20T08:05:01+00:00",
    "captureErrorBehaviour": "rollback",
    "running": False,
    "success": True,
    "status": "confirmed",
    "final": True,
    "txHash": "0x" + "44" * 32,
    "blockNumber": 1042,
    "errors": [],
}


def _ok(example: dict[str, Any], media: str = "application/ld+json") -> dict[int | str, Any]:
    return {200: {"content": {media: {"example": example}}}}


_DOCUMENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": {"type": "object"}, "example": DOCUMENT_EXAMPLE}
            for media in ("application/ld+json", "application/json")
        },
    }
}


class CaptureAccepted(BaseModel):
    """A capture accepted for commitment."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "captureID": _CAPTURE_ID,
                    "record": {"record_id": "0x" + "22" * 32, "kind": "epcis_capture"},
                    "consignmentEvents": [
                        {
                            "event_index": 0,
                            "reference": "AU-UCR-2026-0001",
                            "record_id": "0x" + "55" * 32,
                        }
                    ],
                    "notLinked": [],
                }
            ]
        }
    )

    captureID: str = Field(description="0x-hex; keccak256(orgId ‖ root)")  # noqa: N815
    record: RecordView
    consignmentEvents: list[dict[str, Any]] = Field(  # noqa: N815
        default_factory=list,
        description="Captured events written as consignment events (event_index, reference, "
        "record_id): custodial captures whose business transaction names a registered "
        "consignment and whose bizLocation is urn:un:locode:<code>.",
    )
    notLinked: list[dict[str, Any]] = Field(  # noqa: N815
        default_factory=list,
        description="Events that name a consignment but could not be its events, and why.",
    )


class SignedCapture(BaseModel):
    """A capture signed by the client: the document, the ``Capture`` message and signature."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "document": {"type": "EPCISDocument", "...": "as for POST /epcis/capture"},
                    "message": {
                        "captureId": _CAPTURE_ID,
                        "root": "0x" + "33" * 32,
                        "eventCount": 1,
                        "capturedAt": 1795680301,
                        "deadline": 1795766701,
                    },
                    "signature": "0x" + "ab" * 65,
                }
            ]
        },
    )

    document: dict[str, Any]
    message: dict[str, Any]
    signature: str


def _media_type(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in _MEDIA_TYPES:
        raise InvalidRequest(
            f"an EPCIS capture is sent as application/ld+json or application/json, not "
            f"{media or 'nothing'}",
            code="unsupported_media_type",
            field="Content-Type",
            rule="epcis_rest_binding",
        )


def _accepted(outcome: CaptureOutcome, response: Response) -> CaptureAccepted:
    response.headers["Location"] = f"/epcis/capture/{outcome.row.capture_id}"
    if not outcome.result.created:
        response.headers["Idempotent-Replayed"] = "true"
    return CaptureAccepted(
        captureID=outcome.row.capture_id,
        record=RecordView.from_stored(outcome.result.record),
        consignmentEvents=outcome.consignment_events,
        notLinked=outcome.not_linked,
    )


@router.post(
    "/capture",
    status_code=202,
    response_model=CaptureAccepted,
    summary="Capture an EPCIS 2.0 document (the gateway signs its commitment)",
    responses=WRITE_RESPONSES,
    openapi_extra=_DOCUMENT_BODY,
)
async def post_capture(
    request: Request,
    caller: CurrentCaller,
    outbox: OutboxDep,
    services: ServicesDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> CaptureAccepted:
    """All five event types, errorDeclaration, sensor data, certificationInfo, ILMD and user
    extensions are accepted and kept whole. A document with any problem is refused whole
    (`422 epcis_document_rejected`, `details` naming each problem's event index and JSON
    pointer) and nothing of it is stored."""
    scoped_caller(caller, RecordKind.EPCIS_CAPTURE)
    _media_type(request)
    document = parse_document(await request.body())
    chain = require_ledger(services.chain)

    def accept() -> CaptureOutcome:
        synced = sync_caller(chain, caller, request.app.state.keys)
        return accept_capture(chain, outbox, synced, document, idempotency_key=idempotency_key)

    return _accepted(await run_in_threadpool(accept), response)


@router.post(
    "/capture/typed-data",
    summary="The EIP-712 typed data to sign for capturing a document",
    openapi_extra=_DOCUMENT_BODY,
    responses=_ok(
        {
            "typed_data": {"primaryType": "Capture", "message": {"eventCount": 1}},
            "captureID": _CAPTURE_ID,
            "record_id": "0x" + "22" * 32,
        },
        "application/json",
    ),
)
async def capture_typed(request: Request, caller: CurrentCaller, services: ServicesDep) -> Any:
    """Validates the document as `POST /epcis/capture` does and returns the `Capture` typed
    data (Merkle root, event count, capture id, time and deadline) to sign with
    `eth_signTypedData_v4`, and the record id it will have."""
    scoped_caller(caller, RecordKind.EPCIS_CAPTURE)
    _media_type(request)
    document = parse_document(await request.body())
    chain = require_ledger(services.chain)
    prepared = await run_in_threadpool(prepare_capture, document, caller)
    typed = await run_in_threadpool(capture_typed_data, chain, prepared)
    record = EpcisCapture.from_message(typed["message"])
    digest = record.digest(chain.ledger.domain(record))
    return {
        "typed_data": typed,
        "captureID": "0x" + prepared.capture_id.hex(),
        "record_id": record_id_for(digest, org_id=caller.org_id),
    }


@router.post(
    "/capture/signed",
    status_code=202,
    response_model=CaptureAccepted,
    summary="Capture an EPCIS 2.0 document signed by the client",
    responses=WRITE_RESPONSES,
)
def post_capture_signed(
    body: SignedCapture,
    request: Request,
    caller: CurrentCaller,
    outbox: OutboxDep,
    services: ServicesDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> CaptureAccepted:
    """The `message` must commit this document (same root and event count) and be signed by
    a valid key of the API key's organisation."""
    scoped_caller(caller, RecordKind.EPCIS_CAPTURE)
    chain = require_ledger(services.chain)
    caller = sync_caller(chain, caller, request.app.state.keys)
    outcome = accept_capture(
        chain,
        outbox,
        caller,
        body.document,
        message=body.message,
        signature=body.signature,
        idempotency_key=idempotency_key,
    )
    return _accepted(outcome, response)


@router.get(
    "/capture/{capture_id}",
    summary="A capture job: its state and errors",
    responses=_ok(CAPTURE_JOB_EXAMPLE, "application/json"),
)
def get_capture(
    capture_id: str, caller: ReadCaller, outbox: OutboxDep, services: ServicesDep
) -> dict[str, Any]:
    chain = require_ledger(services.chain)
    view = capture_view(chain, capture_id)
    record = outbox.get(view["recordID"])
    if record is None:
        # Not relayed by this gateway (another member's, or the demo's): the chain says.
        try:
            committed = chain.ledger.epcis.capture(bytes.fromhex(view["captureID"][2:]))
        except ContractError:
            view.update(running=False, success=False, errors=[{"code": "not_committed"}])
            return view
        view.update(
            running=False,
            success="0x" + committed.root.hex() == view["root"],
            status="committed",
            errors=[],
        )
        return view
    status = RecordView.from_stored(record)
    failed = status.error is not None
    view.update(
        running=not failed and not status.final,
        success=status.final and not failed,
        status=status.status,
        final=status.final,
        txHash=status.tx_hash,
        blockNumber=status.block_number,
        errors=[status.error.model_dump()] if status.error else [],
    )
    return view


Values = Annotated[list[str] | None, Query()]


@router.get("/events", summary="EPCIS 2.0 simple event query", responses=_ok(QUERY_EXAMPLE))
def get_events(
    caller: ReadCaller,
    services: ServicesDep,
    request: Request,
    eventType: Values = None,  # noqa: N803
    GE_eventTime: Annotated[str | None, Query()] = None,  # noqa: N803
    LT_eventTime: Annotated[str | None, Query()] = None,  # noqa: N803
    EQ_bizStep: Values = None,  # noqa: N803
    EQ_disposition: Values = None,  # noqa: N803
    MATCH_epc: Values = None,  # noqa: N803
    MATCH_anyEPC: Values = None,  # noqa: N803
    EQ_bizLocation: Values = None,  # noqa: N803
    EQ_readPoint: Values = None,  # noqa: N803
    perPage: Annotated[int, Query()] = 30,  # noqa: N803
    nextPageToken: Annotated[str | None, Query()] = None,  # noqa: N803
    proof: bool = False,
) -> Response:
    """Events matching every given parameter (a parameter repeated, or with `|`-separated
    values, matches any of them), in capture order, `perPage` at a time; the next page is
    in the `Link` header (`rel="next"`, with `nextPageToken`). `proof=true` adds each event's
    inclusion proof."""
    chain = require_ledger(services.chain)
    q = event_query(
        event_type=eventType,
        ge_event_time=GE_eventTime,
        lt_event_time=LT_eventTime,
        eq_biz_step=EQ_bizStep,
        eq_disposition=EQ_disposition,
        match_epc=MATCH_epc,
        match_any_epc=MATCH_anyEPC,
        eq_biz_location=EQ_bizLocation,
        eq_read_point=EQ_readPoint,
        per_page=perPage,
        next_page_token=nextPageToken,
    )
    rows = chain.epcis_store().query(q)
    answer = json_ld(query_document(chain, rows, proof=proof))
    if len(rows) == q.limit:
        token = encode_page_token(rows[-1].row)
        url = request.url.remove_query_params("nextPageToken").include_query_params(
            nextPageToken=token
        )
        answer.headers["Link"] = f'<{url}>; rel="next"'
    return answer


@router.get(
    "/events/{event_id:path}",
    summary="An event by its eventID or CBV 2.0 hash id",
    responses=_ok(QUERY_EXAMPLE),
)
def get_event(
    event_id: str, caller: ReadCaller, services: ServicesDep, proof: bool = False
) -> Response:
    chain = require_ledger(services.chain)
    rows = chain.epcis_store().events_by_id(event_id)
    if not rows:
        raise NotFound(f"no captured event {event_id}", code="unknown_event", field="eventID")
    return json_ld(query_document(chain, rows, proof=proof))


@router.get(
    "/epcs/{epc:path}/events", summary="The events that name an EPC", responses=_ok(QUERY_EXAMPLE)
)
def get_epc_events(
    epc: str, caller: ReadCaller, services: ServicesDep, proof: bool = False
) -> Response:
    """Events naming the EPC (EPC URN or GS1 Digital Link, any spelling) in any role: epcList,
    childEPCs, parentID, inputEPCList, outputEPCList."""
    chain = require_ledger(services.chain)
    rows = chain.epcis_store().query(EventQuery(match_any_epc=[epc], limit=10_000))
    return json_ld(query_document(chain, rows, proof=proof))


@router.get(
    "/consignments/{reference}",
    summary="A consignment's captured events as an EPCISDocument",
    responses=_ok(DOCUMENT_EXAMPLE),
)
def get_consignment_document(
    reference: str,
    caller: ReadCaller,
    services: ServicesDep,
    container: Values = None,
    proof: bool = False,
) -> Response:
    """Events whose business transaction carries the consignment's reference (UCR or carrier
    reference), or that name one of the given `container` EPCs, oldest first. The document
    validates against GS1's schema and each event's hash id is the one committed."""
    chain = require_ledger(services.chain)
    rows = chain.epcis_store().events_for_reference(reference, containers=container or ())
    return json_ld(consignment_document(chain, rows, proof=proof))
