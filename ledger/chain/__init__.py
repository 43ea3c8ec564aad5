"""Everything that talks to the chain: the node, the toolchain and the contracts' ABI.

Owns: the embedded development node (:mod:`.node`), the Solidity toolchain and build artifacts
(:mod:`.toolchain`), ABI encoding (:mod:`.abi`), the contracts' custom errors as exceptions
(:mod:`.contract_errors`), deployment and manifests (:mod:`.deploy`), the relayer's transaction
manager (:mod:`.txmanager`) and what a node's errors mean (:mod:`.rpc_errors`), the lean
JSON-RPC transport (:mod:`.jsonrpc`), connections that accept PoA/QBFT blocks (:mod:`.connection`),
the finality depth of each kind of network (:mod:`.finality`), the typed contract clients
(:mod:`.contracts`) with the read models of their views (:mod:`.models`), and the
:class:`Ledger` that holds them and routes each signed record to its contract (:mod:`.client`).

May import: :mod:`ledger.errors`, :mod:`ledger.records` and third-party packages; never the
index, verification, risk or stack packages.
"""

from ledger.chain.abi import (
    AbiEvent,
    AbiFunction,
    ContractAbi,
    DecodedLog,
    ErrorSpec,
    abi_type,
    contract_abi,
    error_specs,
)
from ledger.chain.client import (
    ROUTES,
    Ledger,
    org_id,
    suite_names,
)
from ledger.chain.connection import (
    DEFAULT_RPC_TIMEOUT,
    make_poa_compatible,
    web3_for,
)
from ledger.chain.contract_errors import (
    BatchItemFailed,
    ContractError,
    DuplicateRecord,
    InvalidRecord,
    RecordNotFound,
    RecordStateConflict,
    SignerNotAuthorised,
    UnknownContractError,
    decode_revert,
    error_class,
)
from ledger.chain.contracts import (
    AeoRegistryClient,
    AttestationsClient,
    CertificatesClient,
    ConsignmentsClient,
    ContractClient,
    MembershipClient,
    static_words_encode,
)
from ledger.chain.declarations import DeclarationsClient, DeclarationState
from ledger.chain.deploy import (
    SUITE,
    Bootstrap,
    BootstrapAdministration,
    ContractRecord,
    Deployment,
    deploy_suite,
    ensure_deployment,
    manifest_path,
    recorded_deployment,
    verify_deployment,
)
from ledger.chain.finality import UNKNOWN_NETWORK_DEPTH, Finality, finality_of
from ledger.chain.jsonrpc import (
    DEFAULT_TIMEOUT,
    JsonRpcTransport,
    Timeout,
    shared_transport,
)
from ledger.chain.models import (
    AttestationState,
    CertificateState,
    Certification,
    ConsignmentState,
    KeyInfo,
    Mra,
    Organisation,
    ProposalState,
    ProposedAction,
    Recognition,
    StatusChange,
)
from ledger.chain.node import (
    AnvilNode,
    anvil_binary,
    rpc_call,
)
from ledger.chain.rpc_errors import (
    ALREADY_KNOWN,
    NONCE_TOO_LOW,
    is_transient,
    revert_data,
    rpc_error,
)
from ledger.chain.toolchain import (
    ARTIFACTS_DIR,
    COMPILER_SETTINGS,
    SOLC_VERSION,
    Artifact,
    build_input,
    check_artifacts,
    compile_contracts,
    load_artifact,
    load_build_info,
    solc_binary,
    sources_changed,
    write_artifacts,
)
from ledger.chain.txmanager import (
    MAX_TX_GAS,
    PendingTx,
    Receipt,
    RetryPolicy,
    TxManager,
    fit_batch_size,
)

__all__ = [
    "ALREADY_KNOWN",
    "ARTIFACTS_DIR",
    "COMPILER_SETTINGS",
    "DEFAULT_RPC_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "MAX_TX_GAS",
    "NONCE_TOO_LOW",
    "ROUTES",
    "SOLC_VERSION",
    "SUITE",
    "UNKNOWN_NETWORK_DEPTH",
    "AbiEvent",
    "AbiFunction",
    "AeoRegistryClient",
    "AnvilNode",
    "Artifact",
    "AttestationState",
    "AttestationsClient",
    "BatchItemFailed",
    "Bootstrap",
    "BootstrapAdministration",
    "CertificateState",
    "CertificatesClient",
    "Certification",
    "ConsignmentState",
    "ConsignmentsClient",
    "ContractAbi",
    "ContractClient",
    "ContractError",
    "ContractRecord",
    "DeclarationState",
    "DeclarationsClient",
    "DecodedLog",
    "Deployment",
    "DuplicateRecord",
    "ErrorSpec",
    "Finality",
    "InvalidRecord",
    "JsonRpcTransport",
    "KeyInfo",
    "Ledger",
    "MembershipClient",
    "Mra",
    "Organisation",
    "PendingTx",
    "ProposalState",
    "ProposedAction",
    "Receipt",
    "Recognition",
    "RecordNotFound",
    "RecordStateConflict",
    "RetryPolicy",
    "SignerNotAuthorised",
    "StatusChange",
    "Timeout",
    "TxManager",
    "UnknownContractError",
    "abi_type",
    "anvil_binary",
    "build_input",
    "check_artifacts",
    "compile_contracts",
    "contract_abi",
    "decode_revert",
    "deploy_suite",
    "ensure_deployment",
    "error_class",
    "error_specs",
    "finality_of",
    "fit_batch_size",
    "is_transient",
    "load_artifact",
    "load_build_info",
    "make_poa_compatible",
    "manifest_path",
    "org_id",
    "recorded_deployment",
    "revert_data",
    "rpc_call",
    "rpc_error",
    "shared_transport",
    "solc_binary",
    "sources_changed",
    "static_words_encode",
    "suite_names",
    "verify_deployment",
    "web3_for",
    "write_artifacts",
]
