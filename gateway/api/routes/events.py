"""Shipment events: one at a time (custodial or signed), up to 1,000 per request, or up to
1,000 signed together with one signature (``POST /events/batch/signed``)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, cast

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, SkipValidation, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from gateway.api.deps import CurrentCaller, KeyStoreDep, OutboxDep, ServicesDep
from gateway.api.write_routes import (
    WRITE_RESPONSES,
    IdempotencyKey,
    add_write_routes,
    scoped_caller,
)
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    ServiceUnavailable,
    contract_error_status,
    first_validation_error,
)
from gateway.models.error_views import ErrorDetail
from gateway.models.record_requests import EventBatchSubmission, SignedSubmission
from gateway.models.record_views import BulkItemResult, BulkResult, EventBatchView, RecordView
from gateway.models.stored import AcceptResult, NewRecord, RecordKind
from gateway.models.trade_requests import EventCreate
from gateway.writes.intake import (
    accept_event_batch,
    custodial_body_sha256,
    prepare_many,
    sign_custodial,
    sync_caller,
)
from gateway.writes.kinds import decode
from gateway.writes.ledger_services import require_ledger
from ledger.chain import BatchItemFailed, ContractError
from ledger.errors import LedgerError, NodeError, ValidationError
from ledger.records import SignedRecord

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

    # Each item is validated on its own in the route (a bad location in one item is that
    # item's 422 in a 207, not the request's); the schema still documents the item.
    items: list[SkipValidation[EventCreate | SignedSubmission]] = Field(
        min_length=1, max_length=BULK_MAX
    )


_BULK_ITEM: TypeAdapter[Any] = TypeAdapter(cast(Any, EventCreate | SignedSubmission))


def _bulk_item(index: int, raw: object) -> EventCreate | SignedSubmission:
    """One item of a bulk request, validated alone; InvalidRequest names ``items[i].field``."""
    if isinstance(raw, EventCreate | SignedSubmission):
        return raw
    try:
        item: EventCreate | SignedSubmission = _BULK_ITEM.validate_python(raw)
        return item
    except PydanticValidationError as exc:
        code, field, rule, message = first_validation_error(list(exc.errors()))
        named = f"items[{index}]" if field == "body" else f"items[{index}].{field}"
        raise InvalidRequest(
            message.replace(f"{field}:", f"{named}:", 1), code=code, field=named, rule=rule
        ) from None


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
    """Each item is checked as by `POST /events` (custodial items) or `POST /events/signed`
    (items with `message` and `signature`): signer, key, organisation and role per item,
    then the request's events run together as one `postEvents` call on the pending block,
    in order, as they will be relayed. A rejected item (unknown consignment, wrong role,
    used nonce, ...) is answered with its error and does not hold up the others, and never
    reaches a batch transaction. The accepted items are stored in one transaction.

    With an `Idempotency-Key` header, item *i* is stored under `<key>:<i>`, so the same
    request sent again answers with the same records (`status` 200 for a stored one).
    Answers 202 when every item was accepted, 207 when some were rejected, 422 when not
    one item has the shape of an event (the request as a whole is invalid).
    """
    scoped_caller(caller, RecordKind.EVENT)
    chain = require_ledger(services.chain)
    acting = sync_caller(chain, caller, keys)
    answers: dict[int, AcceptResult | LedgerError] = {}
    parsed: dict[int, EventCreate | SignedSubmission] = {}
    malformed: list[InvalidRequest] = []
    for index, raw in enumerate(body.items):
        try:
            parsed[index] = _bulk_item(index, raw)
        except InvalidRequest as exc:
            answers[index] = exc
            malformed.append(exc)
    if not parsed:
        # Not one item has the shape of an event: the request as a whole is invalid (422).
        raise malformed[0]
    signed_items: list[tuple[int, SignedRecord[Any], str | None]] = []
    bodies: dict[int, str] = {}  # custodial items: the fingerprint of the body signed
    # One memo for the request: the chain's time, the consignment of each reference (looked
    # up together, found or not), keys and organisations, each read once.
    memo: dict[str, Any] = {}
    refs = [
        item.consignment_ref
        for item in parsed.values()
        if isinstance(item, EventCreate)
        and item.consignment_ref is not None
        and item.consignment_registrant is None
    ]
    if refs:
        chain.resolve_consignments(bytes.fromhex(acting.org_id[2:]), refs, memo=memo)
    for index, item in parsed.items():
        key = None if idempotency_key is None else f"{idempotency_key}:{index}"
        try:
            if isinstance(item, SignedSubmission):
                signed = decode(RecordKind.EVENT, item.message, item.signature)
            else:
                custodial = sign_custodial(
                    chain, outbox, acting, item, idempotency_key=key, memo=memo
                )
                if isinstance(custodial, AcceptResult):
                    answers[index] = custodial
                    continue
                signed = custodial
                bodies[index] = custodial_body_sha256(item)
        except LedgerError as exc:
            if isinstance(exc, ServiceUnavailable | NodeError):
                raise
            answers[index] = exc
            continue
        signed_items.append((index, signed, key))
    # Checked together: one outbox lookup, one simulation of the request's events as the
    # batch they will travel in (a record that fails gets its own error).
    prepared = prepare_many(
        chain, outbox, acting, [(signed, key) for _, signed, key in signed_items], memo=memo
    )
    to_store: list[tuple[int, NewRecord]] = []
    for (index, _, _), answer in zip(signed_items, prepared, strict=True):
        if isinstance(answer, NewRecord):
            if index in bodies:
                answer = dataclasses.replace(answer, body_sha256=bodies[index])
            to_store.append((index, answer))
        else:
            answers[index] = answer
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


@router.post(
    "/batch/signed",
    status_code=202,
    response_model=EventBatchView,
    summary="Post events signed together with one signature (signed by the client)",
    responses=WRITE_RESPONSES,
    operation_id="event_batch_signed",
)
def post_event_batch_signed(
    body: EventBatchSubmission,
    caller: CurrentCaller,
    outbox: OutboxDep,
    services: ServicesDep,
    keys: KeyStoreDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> EventBatchView:
    """Non-custodial, for a carrier's own system that signs many events at once: up to
    1,000 ConsignmentEvent messages, each carrying the batch's `nonce` and `deadline`, and
    one EIP-712 `EventBatch(eventsHash, nonce, deadline)` signature in the Consignments
    domain (see `POST /typed-data/event_batch`). Relayed as one `postEventBatch`
    transaction (~9,900 gas per event instead of ~15,300 with a signature per event).

    The batch is checked as a whole, as the contract will check it: the signer must be a
    valid key of the API key's organisation (403 `UnknownKey`, `wrong_organisation`,
    `KeyRevoked`, `KeyExpired`), its organisation may post every event (403
    `NotConsignmentParty`), the nonce is unused on chain and by any record on its way there
    (409 `NonceAlreadyUsed`), and the batch runs as `postEventBatch` on the pending block.
    One signature covers every event, so no event can be dropped: an event that would fail
    refuses the whole batch, with the contract error's name and `field` = `events[i]`.
    Events of a consignment whose registration is not yet on chain are refused (404
    `UnknownConsignment`): post them once it is, or sign them one by one.

    Each event is stored as its own record (kind `event`, its own record id and status,
    `signed_batch` = the batch id), all in one transaction, and they are relayed together
    exactly once: they are confirmed together (each with its log index) or fail together.
    The same batch sent again answers with the stored records (header
    `Idempotent-Replayed: true`); with an `Idempotency-Key`, event *i* is stored under
    `<key>:<i>`.
    """
    scoped_caller(caller, RecordKind.EVENT)
    chain = require_ledger(services.chain)
    acting = sync_caller(chain, caller, keys)
    batch, signer, batch_id, results = accept_event_batch(
        chain, outbox, acting, body.events, body.signature, idempotency_key=idempotency_key
    )
    if not any(result.created for result in results):
        response.headers["Idempotent-Replayed"] = "true"
    logger.info(
        "event batch %s from %s: %d events (%s)",
        batch_id,
        caller.org_id,
        len(results),
        "stored" if results[0].created else "replayed",
    )
    return EventBatchView(
        batch_id=batch_id,
        signer=signer,
        nonce=batch.record.nonce,
        deadline=batch.record.deadline,
        records=[RecordView.from_stored(result.record) for result in results],
    )
