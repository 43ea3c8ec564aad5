"""Governance proposals read from the chain: the ``ProposalCreated`` logs (what was proposed,
with the salt and expiry a custodial proposal picked) and ``proposalState`` (approvals,
execution). Proposals are few, so the logs are read from the chain rather than the index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.errors import NotFound
from gateway.reads.views import hx, when
from gateway.writes.ledger_services import LedgerServices
from ledger.chain import ProposedAction
from ledger.records import Proposal, ProposalAction

__all__ = [
    "ACTION_NAMES",
    "ProposalList",
    "ProposalView",
    "find_proposal",
    "list_proposals",
    "proposal_view",
]

_ID = "0x" + "9a" * 32


class ProposalView(BaseModel):
    """A governance proposal: what was proposed, by whom, and where it stands on chain."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "proposal_id": _ID,
                    "action": "admit_member",
                    "proposer": "0x" + "c1" * 32,
                    "message": {
                        "action": 1,
                        "orgId": "0x" + "5a" * 32,
                        "kind": 2,
                        "country": "0x5347",
                        "account": "0x" + "00" * 20,
                        "validFrom": 0,
                        "validUntil": 0,
                        "threshold": 0,
                        "expiresAt": 1796000000,
                        "salt": "0x" + "11" * 32,
                        "subject": "0x" + "00" * 32,
                    },
                    "approvals": 1,
                    "threshold": 2,
                    "expires_at": "2026-11-30T08:53:20Z",
                    "state": "open",
                    "block_number": 1042,
                    "tx_hash": "0x" + "ab" * 32,
                }
            ]
        }
    )

    proposal_id: str = Field(
        description="The proposal's EIP-712 struct hash: what approvals name "
        '(`POST /governance/approvals` `{"proposal_id": ...}`) and executions may name.'
    )
    action: str = Field(description="The action's name, e.g. `admit_member`, `replace_key`.")
    proposer: str = Field(description="Organisation id of the proposing administration.")
    message: dict[str, Any] = Field(
        description="The Proposal's EIP-712 message as proposed (salt and expiry included)."
    )
    approvals: int = Field(description="Distinct customs administrations that approved.")
    threshold: int = Field(description="Approvals needed now (the chain's threshold).")
    expires_at: datetime | None
    state: str = Field(
        description="`open` (may be approved), `approved` (has its approvals, may be "
        "executed), `executed` or `expired`."
    )
    block_number: int
    tx_hash: str


class ProposalList(BaseModel):
    """Proposals, newest first."""

    items: list[ProposalView]


ACTION_NAMES: dict[int, str] = {
    ProposalAction.ADMIT_MEMBER: "admit_member",
    ProposalAction.SUSPEND_MEMBER: "suspend_member",
    ProposalAction.REINSTATE_MEMBER: "reinstate_member",
    ProposalAction.ADD_CUSTOMS: "add_customs",
    ProposalAction.SET_THRESHOLD: "set_threshold",
    ProposalAction.REVOKE_KEY: "revoke_key",
    ProposalAction.ADD_RELAYER: "add_relayer",
    ProposalAction.REMOVE_RELAYER: "remove_relayer",
    ProposalAction.ADD_KEY: "add_key",
    ProposalAction.REPLACE_KEY: "replace_key",
    ProposalAction.REVOKE_RECORD: "revoke_record",
}
"""Action code -> the name ``POST /governance/proposals`` takes (``revoke_record`` stands
for ``revoke_certificate`` and ``revoke_aeo_certification``, one action on chain)."""

STATES = ("open", "approved", "executed", "expired")


def find_proposal(chain: LedgerServices, proposal_id: bytes) -> Proposal:
    """The proposal with this id as proposed (404 ``UnknownProposal`` if none was made)."""
    return _proposed(chain, proposal_id).proposal


def proposal_view(chain: LedgerServices, proposal_id: bytes) -> ProposalView:
    return _view(chain, _proposed(chain, proposal_id), threshold=None)


def list_proposals(chain: LedgerServices, *, state: str | None, limit: int) -> ProposalList:
    """Proposals newest first, optionally only those in ``state``."""
    membership = chain.ledger.membership
    made = membership.proposed(from_block=chain.ledger.deployment.block)
    threshold = membership.threshold()
    items: list[ProposalView] = []
    for action in reversed(made):
        view = _view(chain, action, threshold=threshold)
        if state is None or view.state == state:
            items.append(view)
        if len(items) >= limit:
            break
    return ProposalList(items=items)


def _proposed(chain: LedgerServices, proposal_id: bytes) -> ProposedAction:
    made = chain.ledger.membership.proposed(
        from_block=chain.ledger.deployment.block, proposal_id=proposal_id
    )
    if not made:
        raise NotFound(f"no proposal {hx(proposal_id)}", code="UnknownProposal")
    return made[0]


def _view(chain: LedgerServices, made: ProposedAction, *, threshold: int | None) -> ProposalView:
    membership = chain.ledger.membership
    proposal = made.proposal
    state = membership.proposal_state(proposal.proposal_id)
    needed = membership.threshold() if threshold is None else threshold
    if state.executed:
        status = "executed"
    elif state.expires_at <= chain.now():
        status = "expired"
    elif state.approvals >= needed:
        status = "approved"
    else:
        status = "open"
    return ProposalView(
        proposal_id=hx(proposal.proposal_id),
        action=ACTION_NAMES.get(proposal.action, str(proposal.action)),
        proposer=hx(made.proposer),
        message=proposal.json_message(),
        approvals=state.approvals,
        threshold=needed,
        expires_at=when(state.expires_at),
        state=status,
        block_number=made.block_number,
        tx_hash=made.tx_hash,
    )
