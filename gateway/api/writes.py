"""Route factories for the typed write routes (one pair per record kind) and typed data.

For a kind at ``path`` the factory adds:

* ``POST {path}`` -- custodial: the human-friendly body (``gateway.record_models``); the
  gateway signs it with the organisation's key;
* ``POST {path}/signed`` -- non-custodial: ``{"message": ..., "signature": ...}`` signed by
  the client (e.g. over the typed data of ``POST /typed-data/{kind}``).

Both answer ``202 Accepted`` with the record's view and ``Location: /records/{id}`` (``200``
with ``Idempotent-Replayed: true`` is never used: a repeat is also 202, with that header).

This module does not use postponed annotations: the request body types are chosen at run
time and FastAPI reads them from the endpoint's annotations.
"""

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Response
from pydantic import BaseModel

from gateway.api.deps import CurrentCaller, KeyStoreDep, OutboxDep, ServicesDep
from gateway.auth import Caller, Scope
from gateway.errors import PermissionDenied
from gateway.kinds import KIND_PATHS, KIND_SCOPES, KIND_TYPES, record_id, record_id_for
from gateway.models import (
    ERROR_401,
    ERROR_403,
    ERROR_404,
    ERROR_409,
    ERROR_413,
    ERROR_422,
    AttestationBatchTypedDataView,
    DomainList,
    DrawdownBatchTypedDataView,
    EventBatchTypedDataView,
    RecordView,
    TypedDataView,
)
from gateway.outbox import AcceptResult, RecordKind
from gateway.record_models import (
    CREATE_MODELS,
    AttestationBatchCreate,
    DrawdownBatchCreate,
    EventBatchCreate,
    RecordCreate,
    SignedSubmission,
)
from gateway.writes import (
    accept_custodial,
    accept_message,
    require_ledger,
    sync_caller,
)
from ledger.records import AttestationBatch, DrawdownBatch, EventBatch

__all__ = ["IdempotencyKey", "add_write_routes", "answer", "scoped_caller", "typed_data_router"]

logger = logging.getLogger("gateway.api.writes")

WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_401,
    **ERROR_403,
    **ERROR_404,
    **ERROR_409,
    **ERROR_413,
    **ERROR_422,
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Client key that makes retries safe: same key, same record, same answer.",
        examples=["8a4f0c1e-6b1d-4d7a-9a51-2f3c4b5d6e7f"],
    ),
]


def scoped_caller(caller: Caller, kind: RecordKind) -> None:
    """403 unless the API key has the scope for ``kind``."""
    needed: Scope = KIND_SCOPES[kind]
    if not caller.has(needed):
        raise PermissionDenied(
            f"the API key lacks the scope {needed.value!r}", code="missing_scope"
        )


def answer(result: AcceptResult, response: Response) -> RecordView:
    response.headers["Location"] = f"/records/{result.record.record_id}"
    if not result.created:
        response.headers["Idempotent-Replayed"] = "true"
    return RecordView.from_stored(result.record)


def add_write_routes(
    router: APIRouter, *, kind: RecordKind, path: str, summary: str, description: str
) -> None:
    """Add ``POST {path}`` (custodial) and ``POST {path}/signed`` for ``kind`` to ``router``."""
    model = CREATE_MODELS[kind]
    primary = KIND_TYPES[kind].PRIMARY_TYPE
    assert router.prefix + path == KIND_PATHS[kind], f"{kind} belongs at {KIND_PATHS[kind]}"

    def custodial(
        body: Annotated[model, Body()],  # type: ignore[valid-type]
        caller: CurrentCaller,
        outbox: OutboxDep,
        services: ServicesDep,
        keys: KeyStoreDep,
        response: Response,
        idempotency_key: IdempotencyKey = None,
    ) -> RecordView:
        scoped_caller(caller, kind)
        chain = require_ledger(services.chain)
        acting = sync_caller(chain, caller, keys)
        assert isinstance(body, RecordCreate)
        result = accept_custodial(chain, outbox, acting, body, idempotency_key=idempotency_key)
        return answer(result, response)

    def signed(
        body: SignedSubmission,
        caller: CurrentCaller,
        outbox: OutboxDep,
        services: ServicesDep,
        keys: KeyStoreDep,
        response: Response,
        idempotency_key: IdempotencyKey = None,
    ) -> RecordView:
        scoped_caller(caller, kind)
        chain = require_ledger(services.chain)
        acting = sync_caller(chain, caller, keys)
        result = accept_message(
            chain,
            outbox,
            acting,
            kind,
            body.message,
            body.signature,
            idempotency_key=idempotency_key,
        )
        return answer(result, response)

    custodial.__doc__ = (
        f"{description}\n\nCustodial: the gateway signs the {primary} record with the "
        "organisation's key from its encrypted key store, checks it (signer, key validity, "
        "role, and an `eth_call` of the contract) and stores it for relay. Answers 202 with "
        "the record id (the EIP-712 digest)."
    )
    signed.__doc__ = (
        f"{description}\n\nNon-custodial: the {primary} EIP-712 message as the client signed "
        "it (see `POST /typed-data/" + kind.value + "`), with its signature. The signer must "
        "be a valid key of the API key's organisation."
    )
    router.add_api_route(
        path,
        custodial,
        methods=["POST"],
        status_code=202,
        response_model=RecordView,
        summary=f"{summary} (custodial)",
        responses=WRITE_RESPONSES,
        operation_id=f"{kind.value}_custodial",
    )
    router.add_api_route(
        f"{path}/signed",
        signed,
        methods=["POST"],
        status_code=202,
        response_model=RecordView,
        summary=f"{summary} (signed by the client)",
        responses=WRITE_RESPONSES,
        operation_id=f"{kind.value}_signed",
    )


def _typed_data_route(router: APIRouter, kind: RecordKind) -> None:
    model = CREATE_MODELS[kind]
    primary = KIND_TYPES[kind].PRIMARY_TYPE

    def typed_data(
        body: Annotated[model, Body()],  # type: ignore[valid-type]
        caller: CurrentCaller,
        services: ServicesDep,
    ) -> TypedDataView:
        chain = require_ledger(services.chain)
        request: RecordCreate = body
        record = request.to_record(chain.context(caller))
        domain = chain.ledger.domain(record)
        return TypedDataView(
            kind=kind,
            record_id=record_id(chain.ledger, record, org_id=caller.org_id),
            digest="0x" + record.digest(domain).hex(),
            typed_data=record.typed_data(domain),
        )

    typed_data.__doc__ = (
        f"The EIP-712 typed data of a {primary} record built from the same body as "
        f"the custodial route, for the client to sign itself (any language, any wallet). "
        "Nonce and deadline are filled in when omitted; nothing is stored."
    )
    router.add_api_route(
        f"/{kind.value}",
        typed_data,
        methods=["POST"],
        response_model=TypedDataView,
        summary=f"Typed data to sign: {primary}",
        responses={**ERROR_401, **ERROR_422},
        operation_id=f"typed_data_{kind.value}",
    )


def _event_batch_typed_data(
    body: EventBatchCreate, caller: CurrentCaller, services: ServicesDep
) -> EventBatchTypedDataView:
    """The EIP-712 typed data of an EventBatch over events built from the same bodies as
    `POST /events` (custodial), for the client to sign itself: sign `typed_data` and post
    `{"events": events, "signature": ...}` to `POST /events/batch/signed`. Every event
    carries the batch's nonce and deadline (filled in when omitted; an item's own are
    replaced). Nothing is stored."""
    chain = require_ledger(services.chain)
    events = body.to_events(chain.context(caller))
    batch = EventBatch.of(events)
    domain = chain.ledger.consignments.domain
    digest = batch.digest(domain)
    return EventBatchTypedDataView(
        batch_id=record_id_for(digest, org_id=caller.org_id),
        digest="0x" + digest.hex(),
        typed_data=batch.typed_data(domain),
        events=[event.json_message() for event in events],
        record_ids=[record_id(chain.ledger, event, org_id=caller.org_id) for event in events],
    )


def _domains(caller: CurrentCaller, services: ServicesDep) -> DomainList:
    """The EIP-712 domain of every contract (name, version, chain id, address): what a
    client needs to sign records itself, with its own copy of the record types."""
    chain = require_ledger(services.chain)
    return DomainList(
        domains={name: client.domain.as_dict() for name, client in chain.ledger.clients.items()}
    )


def typed_data_router() -> APIRouter:
    """``GET /typed-data/domains``, ``POST /typed-data/{kind}`` for every signed kind,
    ``POST /typed-data/event_batch``, ``POST /typed-data/attestation_batch`` and
    ``POST /typed-data/drawdown_batch``."""
    router = APIRouter(prefix="/typed-data", tags=["typed data"])
    router.add_api_route(
        "/domains",
        _domains,
        methods=["GET"],
        response_model=DomainList,
        summary="EIP-712 domains of the contracts",
        responses=ERROR_401,
    )
    for kind in CREATE_MODELS:
        _typed_data_route(router, kind)
    batches: tuple[tuple[str, Callable[..., Any], type[BaseModel], str], ...] = (
        ("event", _event_batch_typed_data, EventBatchTypedDataView, "EventBatch (events"),
        (
            "attestation",
            _attestation_batch_typed_data,
            AttestationBatchTypedDataView,
            "AttestationBatch (attestations",
        ),
        (
            "drawdown",
            _drawdown_batch_typed_data,
            DrawdownBatchTypedDataView,
            "DrawdownBatch (drawdowns",
        ),
    )
    for name, endpoint, view, what in batches:
        router.add_api_route(
            f"/{name}_batch",
            endpoint,
            methods=["POST"],
            response_model=view,
            summary=f"Typed data to sign: {what} signed together)",
            responses={**ERROR_401, **ERROR_422},
            operation_id=f"typed_data_{name}_batch",
        )
    return router


def _attestation_batch_typed_data(
    body: AttestationBatchCreate, caller: CurrentCaller, services: ServicesDep
) -> AttestationBatchTypedDataView:
    """The EIP-712 typed data of an AttestationBatch over attestations built from the same
    bodies as `POST /attestations` (custodial), for the client to sign itself: sign
    `typed_data` and post `{"attestations": attestations, "deadline": deadline,
    "signature": ...}` to `POST /attestations/batch/signed`. The deadline is filled in when
    omitted (+24 h). Nothing is stored."""
    chain = require_ledger(services.chain)
    attestations, deadline = body.to_attestations(chain.context(caller))
    batch = AttestationBatch.of(attestations, deadline=deadline)
    domain = chain.ledger.attestations.domain
    digest = batch.digest(domain)
    return AttestationBatchTypedDataView(
        batch_id=record_id_for(digest, org_id=caller.org_id),
        digest="0x" + digest.hex(),
        typed_data=batch.typed_data(domain),
        attestations=[a.json_message() for a in attestations],
        deadline=deadline,
        record_ids=[record_id(chain.ledger, a, org_id=caller.org_id) for a in attestations],
    )


def _drawdown_batch_typed_data(
    body: DrawdownBatchCreate, caller: CurrentCaller, services: ServicesDep
) -> DrawdownBatchTypedDataView:
    """The EIP-712 typed data of a DrawdownBatch over drawdowns built from the same bodies as
    `POST /certificates/drawdowns` (custodial; quantities converted to each certificate's
    unit), for the client to sign itself: sign `typed_data` and post `{"drawdowns":
    drawdowns, "deadline": deadline, "signature": ...}` to
    `POST /certificates/drawdowns/batch/signed`. The deadline is filled in when omitted
    (+24 h). Nothing is stored."""
    chain = require_ledger(services.chain)
    drawdowns, deadline = body.to_drawdowns(chain.context(caller))
    batch = DrawdownBatch.of(drawdowns, deadline=deadline)
    domain = chain.ledger.certificates.domain
    digest = batch.digest(domain)
    return DrawdownBatchTypedDataView(
        batch_id=record_id_for(digest, org_id=caller.org_id),
        digest="0x" + digest.hex(),
        typed_data=batch.typed_data(domain),
        drawdowns=[d.json_message() for d in drawdowns],
        deadline=deadline,
        record_ids=[record_id(chain.ledger, d, org_id=caller.org_id) for d in drawdowns],
    )
