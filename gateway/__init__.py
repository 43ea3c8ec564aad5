"""The HTTP gateway of the customs ledger (FastAPI).

Depends on :mod:`ledger`; :mod:`ledger` never imports it. Inside, imports point one way
(``tests/gateway/test_layout.py`` checks it):

* :mod:`gateway.api` -- routes (one router per resource) and their dependencies; then
* :mod:`gateway.writes` -- the write path: intake, validation, the outbox, the relayer, custodial
  keys -- and :mod:`gateway.reads` -- queries and their views; then
* :mod:`gateway.models` -- request, stored and response models; then the foundation modules
  :mod:`gateway.auth` (API keys, callers), :mod:`gateway.errors`, :mod:`gateway.config`,
  :mod:`gateway.db`, :mod:`gateway.metrics`, :mod:`gateway.ratelimit` (per-key 429s),
  :mod:`gateway.logs`.

The app (:mod:`gateway.main`, ``create_app``), the stack that wires it to a deployment
(:mod:`gateway.stack`), the typed client (:mod:`gateway.client`), the ``ledger`` command line
(:mod:`gateway.cli`) and the fakes for tests (:mod:`gateway.testing`) sit on top. This module
re-exports the public names; no module of the gateway imports from it.
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
