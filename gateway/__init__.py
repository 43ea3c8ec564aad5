"""The HTTP gateway of the customs ledger (FastAPI).

Depends on :mod:`ledger`; :mod:`ledger` never imports it.
"""

from gateway.auth import Caller, OrgKind, Scope, issue_key
from gateway.chain import LedgerServices
from gateway.client import GatewayClient
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
from gateway.relayer import ContractRelayer
from gateway.services import GatewayServices
from gateway.signing_keys import SigningKeyStore, add_signing_key, list_signing_keys
from gateway.validation import ChainValidator

__all__ = [
    "Batch",
    "BatchResult",
    "Caller",
    "ChainValidator",
    "ContractRelayer",
    "GatewayClient",
    "GatewayServices",
    "GatewaySettings",
    "LedgerServices",
    "OrgKind",
    "Outbox",
    "OutboxRecord",
    "RecordKind",
    "RecordOutcome",
    "RecordStatus",
    "Relayer",
    "Scope",
    "SignedTx",
    "SigningKeyStore",
    "Submitter",
    "TxState",
    "add_signing_key",
    "create_app",
    "issue_key",
    "list_signing_keys",
]
