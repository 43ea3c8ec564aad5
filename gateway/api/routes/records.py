"""Signed records: submit for relay (202 + record id), follow their state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from gateway.api.deps import (
    CurrentCaller,
    DeclarationStoreDep,
    OutboxDep,
    ReadCaller,
    ServicesDep,
)
from gateway.auth import BYTES32_PATTERN
from gateway.errors import InvalidRequest, NotFound, PermissionDenied
from gateway.models.error_views import (
    ERROR_401,
    ERROR_403,
    ERROR_404,
    ERROR_409,
    ERROR_413,
    ERROR_422,
)
from gateway.models.record_views import RecordPage, RecordSubmission, RecordView
from gateway.models.stored import RecordKind, RecordStatus
from gateway.writes.intake import accept_execution, accept_message
from gateway.writes.kinds import KIND_SCOPES, UNSIGNED
from gateway.writes.lodgement import lodge_signed

__all__ = ["KIND_SCOPES", "router"]

router = APIRouter(prefix="/records", tags=["records"])


RecordIdPath = Annotated[
    str,
    Path(pattern=BYTES32_PATTERN, description="The record id.", examples=["0x" + "5e" * 32]),
]


@router.post(
    "",
    status_code=202,
    response_model=RecordView,
    summary="Submit a signed record for relay",
    responses={**ERROR_401, **ERROR_403, **ERROR_409, **ERROR_413, **ERROR_422},
)
def submit_record(
    submission: RecordSubmission,
    caller: CurrentCaller,
    outbox: OutboxDep,
    services: ServicesDep,
    declarations: DeclarationStoreDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="Client key that makes retries safe: same key, same record, same answer.",
            examples=["8a4f0c1e-6b1d-4d7a-9a51-2f3c4b5d6e7f"],
        ),
    ] = None,
) -> RecordView:
    """Store the record durably and answer ``202 Accepted`` with its id and state.

    The record is fsync'd to the outbox before the answer; the background submitter then
    relays it in a batch. Submitting the same record again (same record id, or the same
    ``Idempotency-Key``) stores nothing new and answers with the stored record
    (header ``Idempotent-Replayed: true``).
    """
    needed = KIND_SCOPES[submission.kind]
    if not caller.has(needed):
        raise PermissionDenied(
            f"the API key lacks the scope {needed.value!r}", code="missing_scope"
        )
    if submission.kind is RecordKind.EPCIS_CAPTURE:
        # A capture's root means nothing without its events: it comes with its document.
        raise InvalidRequest(
            "an EPCIS capture is submitted with its document: POST /epcis/capture or "
            "/epcis/capture/signed",
            code="document_required",
            field="kind",
            rule="epcis_capture_document",
        )
    if services.chain is not None:
        # With a ledger, the payload is the EIP-712 message and every check applies (the
        # same path as the typed routes' /signed variants).
        if submission.kind is RecordKind.DECLARATION:
            # a declaration is lodged with its values (staged by /typed-data/declaration)
            result = lodge_signed(
                services.chain,
                outbox,
                declarations,
                caller,
                message=submission.payload,
                signature=submission.signature,
                values_data=None,
                salt_hex=None,
                idempotency_key=idempotency_key,
            )
        elif submission.kind in UNSIGNED:
            result = accept_execution(
                services.chain,
                outbox,
                caller,
                submission.payload,
                idempotency_key=idempotency_key,
            )
        else:
            result = accept_message(
                services.chain,
                outbox,
                caller,
                submission.kind,
                submission.payload,
                submission.signature,
                idempotency_key=idempotency_key,
            )
    else:
        record_id = services.record_validator(caller, submission)
        result = outbox.accept(
            org_id=caller.org_id,
            kind=submission.kind,
            record_id=record_id,
            payload=submission.payload,
            signature=submission.signature.lower(),
            idempotency_key=idempotency_key,
        )
    record_id = result.record.record_id
    response.headers["Location"] = f"/records/{record_id}"
    if not result.created:
        response.headers["Idempotent-Replayed"] = "true"
    return RecordView.from_stored(result.record)


@router.get(
    "/{record_id}",
    response_model=RecordView,
    summary="State of one record",
    responses={**ERROR_401, **ERROR_403, **ERROR_404},
)
def get_record(record_id: RecordIdPath, caller: ReadCaller, outbox: OutboxDep) -> RecordView:
    """The record's state: accepted, submitted (tx hash, batch), confirmed (block) or failed.

    Only records of the caller's organisation exist for it (another's: 404).
    """
    record = outbox.get(record_id.lower())
    if record is None or record.org_id != caller.org_id:
        raise NotFound(f"no record {record_id}")
    return RecordView.from_stored(record)


@router.get(
    "",
    response_model=RecordPage,
    summary="The caller's records",
    responses={**ERROR_401, **ERROR_403, **ERROR_422},
)
def list_records(
    caller: ReadCaller,
    outbox: OutboxDep,
    status: Annotated[
        RecordStatus | None, Query(description="Only records in this state.", examples=["failed"])
    ] = None,
    kind: Annotated[RecordKind | None, Query(description="Only records of this kind.")] = None,
    after: Annotated[
        int,
        Query(ge=0, le=2**63 - 1, description="Cursor: next_after of the previous page."),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RecordPage:
    """Records of the caller's organisation, oldest first, one page at a time."""
    records = outbox.records(
        org_id=caller.org_id, status=status, kind=kind, after=after, limit=limit
    )
    next_after = records[-1].seq if len(records) == limit else None
    return RecordPage(items=[RecordView.from_stored(r) for r in records], next_after=next_after)
