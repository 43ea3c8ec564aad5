"""The HTTP gateway of the customs ledger (FastAPI).

Depends on :mod:`ledger`; :mod:`ledger` never imports it.
"""

from gateway.auth import Caller, OrgKind, Scope, issue_key
from gateway.client import GatewayClient
from gateway.config import GatewaySettings
from gateway.main import create_app
from gateway.models.stored import OutboxRecord, RecordKind, RecordStatus
from gateway.services import GatewayServices
from gateway.writes.custodial_keys import SigningKeyStore, add_signing_key, list_signing_keys
from gateway.writes.ledger_services import LedgerServices
from gateway.writes.outbox import (
    Batch,
    BatchResult,
    Outbox,
    RecordOutcome,
    Relayer,
    SignedTx,
    Submitter,
    TxState,
)
from gateway.writes.relayer import ContractRelayer
from gateway.writes.validation import ChainValidator

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
