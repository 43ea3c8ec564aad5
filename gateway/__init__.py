"""The HTTP gateway of the customs ledger (FastAPI).

Depends on :mod:`ledger`; :mod:`ledger` never imports it.
"""

from gateway.auth import Caller, OrgKind, Scope, issue_key
from gateway.config import GatewaySettings
from gateway.main import create_app
from gateway.outbox import (
    Batch,
    BatchResult,
    Outbox,
    OutboxRecord,
    RecordKind,
    RecordOutcome,
    RecordStatus,
    Relayer,
    SignedTx,
    Submitter,
    TxState,
)
from gateway.services import GatewayServices

__all__ = [
    "Batch",
    "BatchResult",
    "Caller",
    "GatewayServices",
    "GatewaySettings",
    "OrgKind",
    "Outbox",
    "OutboxRecord",
    "RecordKind",
    "RecordOutcome",
    "RecordStatus",
    "Relayer",
    "Scope",
    "SignedTx",
    "Submitter",
    "TxState",
    "create_app",
    "issue_key",
]
