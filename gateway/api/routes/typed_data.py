"""Typed data to sign: the EIP-712 typed data of a record (or of records signed together) built
from the same body as the custodial route, and the contracts' domains, for clients that sign
themselves. Nothing is stored.

Each ``POST`` needs the write scope of the route whose record it builds (``events:write`` for
an event or an event batch, ``certificates:write`` for a drawdown, ...): typed data is the
first half of that write, and it reads the chain for the caller (nonces, consignments).
``GET /typed-data/domains`` takes any valid key (a client that signs needs the domains,
whatever its scopes).

``GET /typed-data/domains``, ``POST /typed-data/{kind}`` for every signed kind,
``POST /typed-data/event_batch``, ``POST /typed-data/attestation_batch`` and
``POST /typed-data/drawdown_batch``.

This module does not use postponed annotations: the request body types are chosen at run
time and FastAPI reads them from the endpoint's annotations.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from gateway.api.deps import CurrentCaller, ServicesDep, require_scope
from gateway.auth import Caller, Scope
from gateway.models.error_views import ERROR_401, ERROR_403, ERROR_422
from gateway.models.record_fields import RecordCreate
from gateway.models.record_requests import (
    CREATE_MODELS,
    AttestationBatchCreate,
    DrawdownBatchCreate,
    EventBatchCreate,
)
from gateway.models.record_views import (
    AttestationBatchTypedDataView,
    DomainList,
    DrawdownBatchTypedDataView,
    EventBatchTypedDataView,
    TypedDataView,
)
from gateway.models.stored import RecordKind
from gateway.writes.kinds import KIND_SCOPES, KIND_TYPES, record_id, record_id_for
from gateway.writes.ledger_services import require_ledger
from ledger.records import AttestationBatch, DrawdownBatch, EventBatch

__all__ = ["router"]

EventsWriter = Annotated[Caller, Depends(require_scope(Scope.EVENTS_WRITE))]
AttestationsWriter = Annotated[Caller, Depends(require_scope(Scope.ATTESTATIONS_WRITE))]
CertificatesWriter = Annotated[Caller, Depends(require_scope(Scope.CERTIFICATES_WRITE))]


def _typed_data_route(router: APIRouter, kind: RecordKind) -> None:
    model = CREATE_MODELS[kind]
    primary = KIND_TYPES[kind].PRIMARY_TYPE
    writer = require_scope(KIND_SCOPES[kind])

    def typed_data(
        body: Annotated[model, Body()],  # type: ignore[valid-type]
        caller: Annotated[Caller, Depends(writer)],
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
        responses={**ERROR_401, **ERROR_403, **ERROR_422},
        operation_id=f"typed_data_{kind.value}",
    )


def _event_batch_typed_data(
    body: EventBatchCreate, caller: EventsWriter, services: ServicesDep
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


def _attestation_batch_typed_data(
    body: AttestationBatchCreate, caller: AttestationsWriter, services: ServicesDep
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
    body: DrawdownBatchCreate, caller: CertificatesWriter, services: ServicesDep
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


def _build_router() -> APIRouter:
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
        if kind is not RecordKind.DECLARATION:  # it stages the values: routes/declarations.py
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
            responses={**ERROR_401, **ERROR_403, **ERROR_422},
            operation_id=f"typed_data_{name}_batch",
        )
    return router


router = _build_router()
