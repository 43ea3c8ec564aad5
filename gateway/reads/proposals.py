"""Governance proposals read from the chain: the ``ProposalCreated`` logs (what was proposed,
with the salt and expiry a custodial proposal picked) and ``proposalState`` (approvals,
execution). Proposals are few, so the logs are read from the chain rather than the index."""

from __future__ import annotations

from gateway.errors import NotFound
from gateway.models.governance_views import ProposalList, ProposalView
from gateway.reads.views import hx, when
from gateway.writes.ledger_services import LedgerServices
from ledger.chain import ProposedAction
from ledger.records import Proposal, ProposalAction

__all__ = ["ACTION_NAMES", "find_proposal", "list_proposals", "proposal_view"]

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
