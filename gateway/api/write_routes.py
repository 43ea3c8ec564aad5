"""Route factories for the typed write routes (one pair per record kind).

The typed data to sign for these routes is :mod:`gateway.api.routes.typed_data`.

For a kind at ``path`` the factory adds:

* ``POST {path}`` -- custodial: the human-friendly body (``gateway.models.record_requests``); the
  gateway signs it with the organisation's key;
* ``POST {path}/signed`` -- non-custodial: ``{"message": ..., "signature": ...}`` signed by
  the client (e.g. over the typed data of ``POST /typed-data/{kind}``).

Both answer ``202 Accepted`` with the record's view and ``Location: /records/{id}`` (``200``
with ``Idempotent-Replayed: true`` is never used: a repeat is also 202, with that header).

This module does not use postponed annotations: the request body types are chosen at run
time and FastAPI reads them from the endpoint's annotations.
"""

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Response

from gateway.api.deps import CurrentCaller, KeyStoreDep, OutboxDep, ServicesDep
from gateway.auth import Caller, Scope
from gateway.errors import PermissionDenied
from gateway.models.error_views import (
    ERROR_401,
    ERROR_403,
    ERROR_404,
    ERROR_409,
    ERROR_413,
    ERROR_422,
)
from gateway.models.record_fields import RecordCreate
from gateway.models.record_requests import CREATE_MODELS, SignedSubmission
from gateway.models.record_views import RecordView
from gateway.models.stored import AcceptResult, RecordKind
from gateway.writes.intake import accept_custodial, accept_message, sync_caller
from gateway.writes.kinds import KIND_PATHS, KIND_SCOPES, KIND_TYPES
from gateway.writes.ledger_services import require_ledger

__all__ = ["WRITE_RESPONSES", "IdempotencyKey", "add_write_routes", "answer", "scoped_caller"]

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
