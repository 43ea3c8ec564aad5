"""Inspection results of goods declarations, recorded by the administration: an attestation
on chain and the label of the next training."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from gateway.api.deps import (
    DeclarationStoreDep,
    KeyStoreDep,
    OutboxDep,
    ServicesDep,
    require_scope,
)
from gateway.api.write_routes import WRITE_RESPONSES, IdempotencyKey, scoped_caller
from gateway.auth import Caller, Scope
from gateway.models.declaration_requests import InspectionCreate
from gateway.models.declaration_views import InspectionView
from gateway.models.stored import RecordKind
from gateway.writes.intake import sync_caller
from gateway.writes.ledger_services import require_ledger
from gateway.writes.lodgement import record_inspection

__all__ = ["router"]

router = APIRouter(prefix="/inspections", tags=["declarations"])


@router.post(
    "",
    status_code=202,
    response_model=InspectionView,
    summary="Record an inspection result",
    responses=WRITE_RESPONSES,
)
def post_inspection(
    body: InspectionCreate,
    caller: Annotated[Caller, Depends(require_scope(Scope.ATTESTATIONS_WRITE))],
    outbox: OutboxDep,
    services: ServicesDep,
    keys: KeyStoreDep,
    store: DeclarationStoreDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> InspectionView:
    """The administration a declaration was lodged with (scope `attestations:write`) records
    what its inspection found: `no_irregularity`, `fraud` or `critical_fraud`, with the kind
    (e.g. `undervaluation`). It becomes an attestation (schema
    `declaration-inspection(bytes32 declarationId,uint8 result,bytes32 kindDigest)`) about
    the declaration's consignment (or its declarant, without one), signed with the
    administration's custodial key, and the label of the declaration for the next training.
    One result per declaration (409 `InspectionExists`)."""
    scoped_caller(caller, RecordKind.ATTESTATION)
    chain = require_ledger(services.chain)
    acting = sync_caller(chain, caller, keys)
    result, inspection = record_inspection(
        chain, outbox, store, acting, body, idempotency_key=idempotency_key
    )
    response.headers["Location"] = f"/records/{result.record.record_id}"
    return InspectionView(
        declaration_id=inspection.declaration_id,
        result=inspection.result,
        kind=inspection.kind,
        record_id=inspection.record_id,
    )
