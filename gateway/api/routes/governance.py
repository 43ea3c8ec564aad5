"""Governance by the customs administrations: proposals, approvals (k-of-n), execution."""

from __future__ import annotations

from fastapi import APIRouter, Response

from gateway.api.deps import CurrentCaller, KeyStoreDep, OutboxDep, ServicesDep
from gateway.api.write_routes import (
    WRITE_RESPONSES,
    IdempotencyKey,
    add_write_routes,
    answer,
    scoped_caller,
)
from gateway.models.governance_requests import ExecutionCreate
from gateway.models.record_views import RecordView
from gateway.models.stored import RecordKind
from gateway.writes.intake import accept_execution, sync_caller
from gateway.writes.ledger_services import require_ledger

__all__ = ["router"]

router = APIRouter(prefix="/governance", tags=["governance"])

add_write_routes(
    router,
    kind=RecordKind.PROPOSAL,
    path="/proposals",
    summary="Propose a governance action",
    description=(
        "A customs administration proposes to admit, suspend or reinstate a member, add a "
        "customs administration, change the threshold, add, replace or revoke any "
        "organisation's key (customs administrations' own included), or add or remove a "
        "relayer. The proposer's approval counts; the proposal id is its struct hash."
    ),
)
add_write_routes(
    router,
    kind=RecordKind.APPROVAL,
    path="/approvals",
    summary="Approve a governance proposal",
    description="Another customs administration approves a proposal (once each).",
)


@router.post(
    "/executions",
    status_code=202,
    response_model=RecordView,
    summary="Execute an approved proposal",
    responses=WRITE_RESPONSES,
)
def execute_proposal(
    body: ExecutionCreate,
    caller: CurrentCaller,
    outbox: OutboxDep,
    services: ServicesDep,
    keys: KeyStoreDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RecordView:
    """Execute a proposal that has its approvals. Not signed (the contract lets any relayer
    execute); the gateway accepts it from customs administrations only, after an `eth_call`
    shows it would succeed (e.g. 409 `InsufficientApprovals`)."""
    scoped_caller(caller, RecordKind.EXECUTION)
    chain = require_ledger(services.chain)
    acting = sync_caller(chain, caller, keys)
    result = accept_execution(chain, outbox, acting, body.proposal, idempotency_key=idempotency_key)
    return answer(result, response)
