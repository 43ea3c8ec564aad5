"""A permissioned provenance ledger for customs and trade: the Python library.

The public names are re-exported here; each module's docstring has the details:

* :mod:`ledger.records` — every record kind, its EIP-712 typed data and signing;
* :mod:`ledger.client` — typed clients for the deployed contracts (:class:`Ledger`);
* :mod:`ledger.contract_errors` — the contracts' custom errors as exceptions;
* :mod:`ledger.values` — UN/LOCODE, ISO 6346, HS 2022, ISO 3166, CBV 2.0, units, quantities;
* :mod:`ledger.txmanager` — reliable relayer transactions;
* :mod:`ledger.deploy`, :mod:`ledger.node`, :mod:`ledger.toolchain` — deploy, run, compile;
* :mod:`ledger.settings` — the one settings class;
* :mod:`ledger.errors` — the exception tree rooted at :class:`LedgerError`.
"""

from ledger.client import Ledger, org_id
from ledger.contract_errors import (
    BatchItemFailed,
    ContractError,
    DuplicateRecord,
    InvalidRecord,
    RecordNotFound,
    RecordStateConflict,
    SignerNotAuthorised,
)
from ledger.deploy import Bootstrap, BootstrapAdministration, Deployment, ensure_deployment
from ledger.errors import (
    ConfigurationError,
    DeploymentError,
    LedgerError,
    ManifestMismatch,
    NodeError,
    StaleArtifacts,
    ToolchainError,
    TransactionError,
    TransactionReverted,
    ValidationError,
)
from ledger.index import Index, IndexQueries
from ledger.node import AnvilNode
from ledger.queries import ConsignmentView
from ledger.records import (
    AeoAction,
    Approval,
    Attestation,
    AttestationBatch,
    AttestationRevocation,
    CertificateIssue,
    CertificateRevocation,
    ConsignmentEvent,
    ConsignmentRegistration,
    Domain,
    Drawdown,
    DrawdownBatch,
    EventBatch,
    KeyAddition,
    KeyRevocation,
    MraAcceptance,
    MraProposal,
    MraTermination,
    Proposal,
    Record,
    SchemaRegistration,
    SignedAttestationBatch,
    SignedDrawdownBatch,
    SignedEventBatch,
    SignedRecord,
    certificate_id,
    consignment_id,
    sign,
    sign_attestation_batch,
    sign_drawdown_batch,
    sign_event_batch,
)
from ledger.settings import Settings
from ledger.txmanager import Receipt, TxManager
from ledger.values import (
    BusinessStep,
    CodeLists,
    ContainerNumber,
    CountryCode,
    Disposition,
    HsCode,
    Locode,
    LocodeDirectory,
    Quantity,
    UnitCode,
)

__all__ = [
    "AeoAction",
    "AnvilNode",
    "Approval",
    "Attestation",
    "AttestationBatch",
    "AttestationRevocation",
    "BatchItemFailed",
    "Bootstrap",
    "BootstrapAdministration",
    "BusinessStep",
    "CertificateIssue",
    "CertificateRevocation",
    "CodeLists",
    "ConfigurationError",
    "ConsignmentEvent",
    "ConsignmentRegistration",
    "ConsignmentView",
    "ContainerNumber",
    "ContractError",
    "CountryCode",
    "Deployment",
    "DeploymentError",
    "Disposition",
    "Domain",
    "Drawdown",
    "DrawdownBatch",
    "DuplicateRecord",
    "EventBatch",
    "HsCode",
    "Index",
    "IndexQueries",
    "InvalidRecord",
    "KeyAddition",
    "KeyRevocation",
    "Ledger",
    "LedgerError",
    "Locode",
    "LocodeDirectory",
    "ManifestMismatch",
    "MraAcceptance",
    "MraProposal",
    "MraTermination",
    "NodeError",
    "Proposal",
    "Quantity",
    "Receipt",
    "Record",
    "RecordNotFound",
    "RecordStateConflict",
    "SchemaRegistration",
    "Settings",
    "SignedAttestationBatch",
    "SignedDrawdownBatch",
    "SignedEventBatch",
    "SignedRecord",
    "SignerNotAuthorised",
    "StaleArtifacts",
    "ToolchainError",
    "TransactionError",
    "TransactionReverted",
    "TxManager",
    "UnitCode",
    "ValidationError",
    "certificate_id",
    "consignment_id",
    "ensure_deployment",
    "org_id",
    "sign",
    "sign_attestation_batch",
    "sign_drawdown_batch",
    "sign_event_batch",
]
