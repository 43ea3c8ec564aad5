"""Response views of governance proposals (``GET /governance/proposals``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ProposalList", "ProposalView"]

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
