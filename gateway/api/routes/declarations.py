"""Goods declarations: lodged by a declarant (custodial, or signed by the client) with the
importing administration; read by the declarant and that administration only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from gateway.api.deps import (
    CurrentCaller,
    DeclarationStoreDep,
    KeyStoreDep,
    OutboxDep,
    ReadCaller,
    ServicesDep,
    SettingsDep,
    require_scope,
)
from gateway.api.write_routes import WRITE_RESPONSES, IdempotencyKey, answer, scoped_caller
from gateway.auth import BYTES32_PATTERN, Caller, Scope
from gateway.errors import Conflict
from gateway.models.declaration_requests import DeclarationCreate, DeclarationSignedSubmission
from gateway.models.declaration_views import DeclarationList, DeclarationView
from gateway.models.error_views import ERROR_401, ERROR_403, ERROR_404, ERROR_409, ERROR_422
from gateway.models.record_views import RecordView, TypedDataView
from gateway.models.stored import RecordKind
from gateway.writes.declaration_store import StoredDeclaration
from gateway.writes.intake import sync_caller
from gateway.writes.kinds import record_id
from gateway.writes.ledger_services import LedgerServices, require_ledger
from gateway.writes.lodgement import lodge_custodial, lodge_signed, stage
from gateway.writes.outbox import Outbox

__all__ = ["router", "typed_router"]

router = APIRouter(prefix="/declarations", tags=["declarations"])


@router.post(
    "",
    status_code=202,
    response_model=RecordView,
    summary="Lodge a goods declaration",
    responses=WRITE_RESPONSES,
)
def post_declaration(
    body: DeclarationCreate,
    caller: CurrentCaller,
    outbox: OutboxDep,
    services: ServicesDep,
    keys: KeyStoreDep,
    store: DeclarationStoreDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RecordView:
    """A declarant (trader, carrier or postal operator; scope `declarations:write`) lodges a
    goods declaration with the importing administration. The values are validated (HS 2022
    subheading, ISO 3166 countries, ISO 4217 currency, positive mass and price, a certificate
    exactly when a preference is claimed: 422 naming the field), kept encrypted in the
    administration's store, and their salted digest with the keys verification needs is
    signed with the declarant's custodial key and relayed to `Declarations.lodge`. An
    amendment names the declaration it amends (`amends`, the latest version)."""
    scoped_caller(caller, RecordKind.DECLARATION)
    settings.code_lists().hs_code(body.hs6, field="hs6")
    chain = require_ledger(services.chain)
    acting = sync_caller(chain, caller, keys)
    result = lodge_custodial(chain, outbox, store, acting, body, idempotency_key=idempotency_key)
    return answer(result, response)


@router.post(
    "/signed",
    status_code=202,
    response_model=RecordView,
    summary="Lodge a goods declaration signed by the declarant",
    responses=WRITE_RESPONSES,
)
def post_declaration_signed(
    body: DeclarationSignedSubmission,
    caller: CurrentCaller,
    outbox: OutboxDep,
    services: ServicesDep,
    keys: KeyStoreDep,
    store: DeclarationStoreDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RecordView:
    """Non-custodial: the values, the salt of their digest, and the `Declaration` EIP-712
    message (Declarations domain) with the declarant's signature. The message must be the
    record of these values; the signer must be a valid key of the API key's organisation."""
    scoped_caller(caller, RecordKind.DECLARATION)
    if body.values is not None:
        settings.code_lists().hs_code(body.values.get("hs6"), field="values.hs6")
    chain = require_ledger(services.chain)
    acting = sync_caller(chain, caller, keys)
    result = lodge_signed(
        chain,
        outbox,
        store,
        acting,
        message=body.message,
        signature=body.signature,
        values_data=body.values,
        salt_hex=body.salt,
        idempotency_key=idempotency_key,
    )
    return answer(result, response)


typed_router = APIRouter(prefix="/typed-data", tags=["typed data"])


@typed_router.post(
    "/declaration",
    response_model=TypedDataView,
    summary="Typed data to sign: Declaration",
    responses={**ERROR_401, **ERROR_403, **ERROR_422},
    operation_id="typed_data_declaration",
)
def declaration_typed_data(
    body: DeclarationCreate,
    caller: Annotated[Caller, Depends(require_scope(Scope.DECLARATIONS_WRITE))],
    services: ServicesDep,
    store: DeclarationStoreDep,
    settings: SettingsDep,
) -> TypedDataView:
    """The EIP-712 typed data of the Declaration record of these values, for the declarant
    to sign itself (scope `declarations:write`, since the values are stored): the values are
    validated as for `POST /declarations` and staged, encrypted, under their digest (with a
    fresh salt), so that `POST /declarations/signed` needs only `{"message": ...,
    "signature": ...}`."""
    settings.code_lists().hs_code(body.hs6, field="hs6")
    chain = require_ledger(services.chain)
    record = stage(chain, store, caller, body)
    domain = chain.ledger.domain(record)
    return TypedDataView(
        kind=RecordKind.DECLARATION,
        record_id=record_id(chain.ledger, record, org_id=caller.org_id),
        digest="0x" + record.digest(domain).hex(),
        typed_data=record.typed_data(domain),
    )


def view_of(stored: StoredDeclaration, *, chain: LedgerServices, outbox: Outbox) -> DeclarationView:
    """The declaration with its relay status, checked against the chain: the stored values
    must hash to the digest of the record on chain (409 ``values_mismatch`` otherwise)."""
    record = stored.record()
    state = chain.ledger.declarations.declaration(bytes.fromhex(stored.declaration_id[2:]))
    if state.exists and not state.matches(record):
        raise Conflict(
            "the stored values do not hash to the digest recorded on chain",
            code="values_mismatch",
        )
    relayed = outbox.get(stored.record_id) if stored.record_id else None
    return DeclarationView(
        declaration_id=stored.declaration_id,
        record_id=stored.record_id,
        status=relayed.status.value if relayed is not None else "unknown",
        declarant=stored.declarant,
        administration=stored.administration,
        lodged_at=stored.lodged_at,
        amends=stored.amends,
        amended_by="0x" + state.amended_by.hex() if any(state.amended_by) else None,
        on_chain="matches" if state.exists else "pending",
        values=stored.values.as_dict(),
    )


@router.get(
    "/{declaration_id}",
    response_model=DeclarationView,
    summary="A declaration",
    responses={**ERROR_401, **ERROR_403, **ERROR_404, **ERROR_409},
)
def get_declaration(
    declaration_id: Annotated[str, Path(pattern=BYTES32_PATTERN)],
    caller: ReadCaller,
    services: ServicesDep,
    outbox: OutboxDep,
    store: DeclarationStoreDep,
) -> DeclarationView:
    """For the declarant's organisation and the administration it was lodged with (404 for
    anyone else). The values are decrypted and checked against the digest on chain."""
    chain = require_ledger(services.chain)
    stored = store.get(declaration_id.lower(), reader=caller.org_id)
    return view_of(stored, chain=chain, outbox=outbox)


@router.get(
    "",
    response_model=DeclarationList,
    summary="Declarations you lodged, or that were lodged with you",
    responses={**ERROR_401, **ERROR_403, **ERROR_409},
)
def list_declarations(
    caller: ReadCaller,
    services: ServicesDep,
    outbox: OutboxDep,
    store: DeclarationStoreDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeclarationList:
    """A declarant sees its own; an administration those lodged with it. Oldest first."""
    chain = require_ledger(services.chain)
    items, cursor = store.list_for(reader=caller.org_id, after=after, limit=limit)
    return DeclarationList(
        items=[view_of(s, chain=chain, outbox=outbox) for s in items], next_cursor=cursor
    )
