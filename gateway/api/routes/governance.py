"""Governance by the customs administrations: proposals, approvals (k-of-n), execution."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from gateway.api.deps import CurrentCaller, KeyStoreDep, OutboxDep, ReadCaller, ServicesDep
from gateway.api.write_routes import (
    WRITE_RESPONSES,
    IdempotencyKey,
    add_write_routes,
    answer,
    scoped_caller,
)
from gateway.auth import BYTES32_PATTERN
from gateway.models.error_views import ERROR_401, ERROR_403, ERROR_404
from gateway.models.governance_requests import ExecutionCreate
from gateway.models.record_views import RecordView
from gateway.models.stored import RecordKind
from gateway.reads.proposals import (
    ProposalList,
    ProposalView,
    find_proposal,
    list_proposals,
    proposal_view,
)
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
        "relayer. The proposer's approval counts. The answer carries the proposal id "
        "(`proposal_id`, its struct hash, which approvals name) and, for a custodial "
        "proposal, the message with the salt and expiry the gateway picked "
        "(`proposal`); `GET /governance/proposals/{proposal_id}` shows where it stands."
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
    """Execute a proposal that has its approvals, named by its id (`{"proposal_id": ...}`)
    or by its message as proposed (`{"proposal": {...}}`). Not signed (the contract lets any
    relayer execute); the gateway accepts it from customs administrations only, after an
    `eth_call` shows it would succeed (e.g. 409 `InsufficientApprovals`; 404
    `UnknownProposal` for an id never proposed)."""
    scoped_caller(caller, RecordKind.EXECUTION)
    chain = require_ledger(services.chain)
    acting = sync_caller(chain, caller, keys)
    message = body.proposal
    if message is None:
        assert body.proposal_id is not None  # the model requires one of the two
        message = find_proposal(chain, bytes.fromhex(body.proposal_id[2:])).json_message()
    result = accept_execution(chain, outbox, acting, message, idempotency_key=idempotency_key)
    return answer(result, response)


@router.get(
    "/proposals",
    response_model=ProposalList,
    summary="Governance proposals",
    responses={**ERROR_401, **ERROR_403},
)
def get_proposals(
    caller: ReadCaller,
    services: ServicesDep,
    state: Annotated[
        Literal["open", "approved", "executed", "expired"] | None,
        Query(description="Only proposals in this state."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ProposalList:
    """The proposals made on chain, newest first, each with its message as proposed (salt
    and expiry included), its approvals against the threshold and its state; from the
    `ProposalCreated` logs and `proposalState`."""
    return list_proposals(require_ledger(services.chain), state=state, limit=limit)


@router.get(
    "/proposals/{proposal_id}",
    response_model=ProposalView,
    summary="One governance proposal",
    responses={**ERROR_401, **ERROR_403, **ERROR_404},
)
def get_proposal(
    proposal_id: Annotated[str, Path(pattern=BYTES32_PATTERN, examples=["0x" + "9a" * 32])],
    caller: ReadCaller,
    services: ServicesDep,
) -> ProposalView:
    """A proposal by its id (404 `UnknownProposal` if none was made)."""
    return proposal_view(require_ledger(services.chain), bytes.fromhex(proposal_id[2:]))
