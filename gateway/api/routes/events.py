"""Shipment events: one at a time (custodial or signed), or up to 1,000 per request."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.deps import CurrentCaller, KeyStoreDep, OutboxDep, ServicesDep
from gateway.api.writes import WRITE_RESPONSES, IdempotencyKey, add_write_routes, scoped_caller
from gateway.errors import GatewayError, ServiceUnavailable, contract_error_status
from gateway.kinds import decode
from gateway.models import BulkItemResult, BulkResult, ErrorDetail, RecordView
from gateway.outbox import AcceptResult, NewRecord, RecordKind
from gateway.record_models import EventCreate, SignedSubmission
from gateway.writes import prepare_signed, require_ledger, sign_custodial, sync_caller
from ledger.contract_errors import BatchItemFailed, ContractError
from ledger.errors import LedgerError, NodeError, ValidationError

__all__ = ["BULK_MAX", "BulkEvents", "router"]

logger = logging.getLogger("gateway.api.events")

router = APIRouter(prefix="/events", tags=["events"])

BULK_MAX = 1000

add_write_routes(
    router,
    kind=RecordKind.EVENT,
    path="",
    summary="Post a shipment event",
    description=(
        "A consignment was packed, loaded, departed, arrived, unloaded, delivered, ...: CBV "
        "2.0 business step and disposition, UN/LOCODE, time, ISO 6346 container, seals. "
        "Carriers, customs and postal operators may post events of any consignment; others "
        "only of consignments they are a party to."
    ),
)


class BulkEvents(BaseModel):
    """Up to 1,000 events, each custodial (human-friendly) or signed by the client."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "consignment_ref": "AU-UCR-2026-000042",
                            "biz_step": "departing",
                            "disposition": "in_transit",
                            "location": "AUADL",
                            "event_time": "2026-11-23T10:00:00Z",
                            "container": "CSQU3054383",
                        }
                    ]
                }
            ]
        },
    )

    items: list[EventCreate | SignedSubmission] = Field(min_length=1, max_length=BULK_MAX)


def _error(exc: LedgerError) -> tuple[int, ErrorDetail]:
    if isinstance(exc, ContractError):
        cause = exc.cause if isinstance(exc, BatchItemFailed) else exc
        return contract_error_status(exc), ErrorDetail(
            code=cause.name, message=str(cause), rule="contract"
        )
    if isinstance(exc, GatewayError):
        return exc.status_code, ErrorDetail(
            code=exc.code, message=exc.message, field=exc.field, rule=exc.rule
        )
    if isinstance(exc, ValidationError):
        return 422, ErrorDetail(
            code="invalid_value", message=str(exc), field=exc.field, rule=exc.rule
        )
    raise exc


@router.post(
    "/bulk",
    status_code=202,
    response_model=BulkResult,
    summary="Post up to 1,000 events",
    responses={
        **WRITE_RESPONSES,
        207: {"model": BulkResult, "description": "Some items were rejected (see each item)."},
    },
)
def post_events_bulk(
    body: BulkEvents,
    caller: CurrentCaller,
    outbox: OutboxDep,
    services: ServicesDep,
    keys: KeyStoreDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> BulkResult:
    """Each item is checked and stored on its own, exactly as by `POST /events` (custodial
    items) or `POST /events/signed` (items with `message` and `signature`): a rejected item
    (unknown consignment, wrong role, used nonce, ...) is answered with its error and does
    not hold up the others, and never reaches a batch transaction.

    With an `Idempotency-Key` header, item *i* is stored under `<key>:<i>`, so the same
    request sent again answers with the same records (`status` 200 for a stored one).
    Answers 202 when every item was accepted, 207 when some were rejected.
    """
    scoped_caller(caller, RecordKind.EVENT)
    chain = require_ledger(services.chain)
    acting = sync_caller(chain, caller, keys)
    answers: dict[int, AcceptResult | LedgerError] = {}
    to_store: list[tuple[int, NewRecord]] = []
    memo: dict[str, Any] = {}  # key and organisation lookups, once per request
    for index, item in enumerate(body.items):
        key = None if idempotency_key is None else f"{idempotency_key}:{index}"
        try:
            if isinstance(item, SignedSubmission):
                signed = decode(RecordKind.EVENT, item.message, item.signature)
                chain.ledger.signer(signed)
            else:
                custodial = sign_custodial(chain, outbox, acting, item, idempotency_key=key)
                if isinstance(custodial, AcceptResult):
                    answers[index] = custodial
                    continue
                signed = custodial
            prepared = prepare_signed(chain, outbox, acting, signed, idempotency_key=key, memo=memo)
        except LedgerError as exc:
            if isinstance(exc, ServiceUnavailable | NodeError):
                raise
            answers[index] = exc
            continue
        if isinstance(prepared, AcceptResult):
            answers[index] = prepared
        else:
            to_store.append((index, prepared))
    # Everything checked is stored in one transaction: one fsync, and the submitter sees
    # the request's records at once (so they travel in full batches).
    stored = outbox.accept_many([new for _, new in to_store])
    for (index, _), result in zip(to_store, stored, strict=True):
        answers[index] = result
    items: list[BulkItemResult] = []
    counts = {"accepted": 0, "replayed": 0, "rejected": 0}
    for index in range(len(body.items)):
        answer = answers[index]
        if isinstance(answer, AcceptResult):
            counts["accepted" if answer.created else "replayed"] += 1
            items.append(
                BulkItemResult(
                    index=index,
                    status=202 if answer.created else 200,
                    record=RecordView.from_stored(answer.record),
                )
            )
        else:
            status, detail = _error(answer)
            counts["rejected"] += 1
            items.append(BulkItemResult(index=index, status=status, error=detail))
    if counts["rejected"]:
        response.status_code = 207
    logger.info(
        "bulk events from %s: %d accepted, %d replayed, %d rejected",
        caller.org_id,
        counts["accepted"],
        counts["replayed"],
        counts["rejected"],
    )
    return BulkResult(items=items, **counts)
