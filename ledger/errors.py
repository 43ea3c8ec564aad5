"""Every error the ledger library raises.

One root, with standard-library mix-ins so that callers can catch either::

    LedgerError
    ├── ConfigurationError
    ├── ToolchainError               (compiler, node binaries, artifacts)
    │   └── StaleArtifacts
    ├── NodeError                    (the embedded anvil node)
    ├── DeploymentError
    │   └── ManifestMismatch         (a manifest whose code is not on chain)
    ├── ValidationError (ValueError) (a domain value broke a rule; names field and rule)
    │   ├── InvalidLocode            (UN/LOCODE)
    │   ├── InvalidContainerNumber   (ISO 6346)
    │   ├── InvalidHsCode            (HS 2022 subheading)
    │   ├── InvalidCountryCode       (ISO 3166-1 alpha-2)
    │   ├── InvalidBusinessStep      (CBV 2.0 bizStep)
    │   ├── InvalidDisposition       (CBV 2.0 disposition)
    │   ├── InvalidQuantity          (amount, scale, bounds)
    │   ├── InvalidUnit              (UN/ECE Recommendation 20 unit code)
    │   ├── InvalidGln               (GS1 Global Location Number)
    │   ├── InvalidTypedData         (an EIP-712 message that cannot be encoded)
    │   ├── InvalidSignature         (malformed, malleable or unrecoverable signature)
    │   └── EpcisError               (``ledger.epcis``: GS1 EPCIS 2.0 / CBV 2.0)
    │       ├── InvalidGs1Identifier (an EPC URN or GS1 Digital Link URI)
    │       │   └── CheckDigitMismatch (a GS1 key whose check digit is wrong)
    │       ├── InvalidEpcisEvent    (an event that cannot be hashed)
    │       ├── InvalidEpcisDocument (no EPCIS document or no event list)
    │       └── EpcisDocumentRejected (a capture document that breaks the schema or CBV 2.0)
    ├── IndexingError (RuntimeError)  (the log index, ``ledger.index.follower``)
    │   ├── IndexMismatch            (the database was built for another chain or deployment)
    │   └── HeadMismatch             (a recomputed consignment head differs from the chain's)
    ├── VerificationError            (``ledger.verify``: cannot be checked)
    │   ├── InvalidClaim (ValueError) (a claim that names nothing to verify, or a bad value)
    │   └── InvalidBundle (ValueError) (a proof bundle file that is not a JSON object)
    ├── NetworkError (RuntimeError)  (``ledger.network``: the local geth network, the Besu kit)
    │   ├── GethBuildError           (geth could not be found, built or run)
    │   ├── NetworkConfigError (ValueError) (a bad option, or a network directory that does not fit)
    │   ├── NodeStartError           (a node process exited or never answered on JSON-RPC)
    │   ├── RpcCallError             (a node answered a JSON-RPC call with an error)
    │   └── NetworkNotReady (TimeoutError) (peers or blocks did not come in time)
    └── TransactionError             (a relayer transaction; ``tx_hash``/``nonce`` when known)
        ├── TransactionReverted      (a call or a mined transaction reverted; ``data``)
        ├── GasLimitExceeded (ValueError) (more gas than the per-transaction or block cap)
        ├── TransactionRejected      (the node refused it: insufficient funds, bad params)
        ├── NonceConflict            (another transaction took this nonce)
        ├── RpcUnavailable (ConnectionError) (transient RPC errors outlasted the retries)
        └── TransactionTimeout (TimeoutError) (not mined or confirmed in time)

Modules that add errors extend this tree here, so that it stays in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "CheckDigitMismatch",
    "ConfigurationError",
    "DeploymentError",
    "EpcisDocumentRejected",
    "EpcisError",
    "GasLimitExceeded",
    "GethBuildError",
    "HeadMismatch",
    "IndexMismatch",
    "IndexingError",
    "InvalidBundle",
    "InvalidBusinessStep",
    "InvalidClaim",
    "InvalidContainerNumber",
    "InvalidCountryCode",
    "InvalidDisposition",
    "InvalidEpcisDocument",
    "InvalidEpcisEvent",
    "InvalidGln",
    "InvalidGs1Identifier",
    "InvalidHsCode",
    "InvalidLocode",
    "InvalidQuantity",
    "InvalidSignature",
    "InvalidTypedData",
    "InvalidUnit",
    "LedgerError",
    "ManifestMismatch",
    "NetworkConfigError",
    "NetworkError",
    "NetworkNotReady",
    "NodeError",
    "NodeStartError",
    "NonceConflict",
    "RpcCallError",
    "RpcUnavailable",
    "StaleArtifacts",
    "ToolchainError",
    "TransactionError",
    "TransactionRejected",
    "TransactionReverted",
    "TransactionTimeout",
    "ValidationError",
    "VerificationError",
]


class LedgerError(Exception):
    """Root of every error raised by the ledger library."""


class ConfigurationError(LedgerError, ValueError):
    """A setting is missing or has an invalid value."""


class ToolchainError(LedgerError, RuntimeError):
    """The Solidity compiler or a Foundry binary is missing or failed."""


class StaleArtifacts(ToolchainError):
    """Build artifacts do not match the contract sources."""


class NodeError(LedgerError, RuntimeError):
    """The embedded node could not be started, reached or stopped."""


class DeploymentError(LedgerError, RuntimeError):
    """The contract suite could not be deployed or attached."""


class ManifestMismatch(DeploymentError):
    """A deployment manifest names code that is not on the chain."""


class ValidationError(LedgerError, ValueError):
    """A domain value breaks a rule. ``field`` names the value, ``rule`` the broken rule."""

    def __init__(self, field: str, rule: str, value: object = None) -> None:
        self.field = field
        self.rule = rule
        self.value = value
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"{field}: {rule}{shown}")


class InvalidLocode(ValidationError):
    """A UN/LOCODE is malformed, names no country, or is not in the loaded code list."""


class InvalidContainerNumber(ValidationError):
    """An ISO 6346 container number is malformed or its check digit does not match."""


class InvalidHsCode(ValidationError):
    """An HS 2022 code is not six digits, names no chapter, or is not in the nomenclature."""


class InvalidCountryCode(ValidationError):
    """A country code is not an ISO 3166-1 alpha-2 code."""


class InvalidBusinessStep(ValidationError):
    """A business step is not a CBV 2.0 bizStep word (or its URN/URI form)."""


class InvalidDisposition(ValidationError):
    """A disposition is not a CBV 2.0 disposition word (or its URN/URI form)."""


class InvalidQuantity(ValidationError):
    """A quantity is not positive, has too many fractional digits, or is out of range."""


class InvalidUnit(ValidationError):
    """A unit is not in the accepted subset of UN/ECE Recommendation 20 codes."""


class InvalidGln(ValidationError):
    """A GS1 Global Location Number is not 13 digits or its check digit does not match."""


class InvalidTypedData(ValidationError):
    """An EIP-712 typed-data message is malformed and cannot be encoded."""


class InvalidSignature(ValidationError):
    """A signature is malformed (length, v), malleable (high s, EIP-2) or unrecoverable."""


class TransactionError(LedgerError):
    """A relayer transaction failed. ``tx_hash`` and ``nonce`` are set when known."""

    def __init__(
        self, message: str, *, tx_hash: str | None = None, nonce: int | None = None
    ) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash
        self.nonce = nonce


class TransactionReverted(TransactionError):
    """A call, a gas estimate or a mined transaction reverted.

    ``data`` is the raw revert data (``0x``-prefixed hex, ``"0x"`` when the node gave none),
    for the caller to decode custom errors; ``receipt`` is set when the transaction was mined.
    """

    def __init__(
        self,
        message: str,
        *,
        data: str,
        tx_hash: str | None = None,
        nonce: int | None = None,
        receipt: object = None,
    ) -> None:
        super().__init__(message, tx_hash=tx_hash, nonce=nonce)
        self.data = data
        self.receipt = receipt


class GasLimitExceeded(TransactionError, ValueError):
    """A transaction needs more gas than the per-transaction cap or the block gas limit."""


class TransactionRejected(TransactionError):
    """The node refused the transaction (insufficient funds, invalid parameters, ...)."""


class NonceConflict(TransactionError):
    """A transaction we did not track was mined with our nonce; ours can never be mined."""


class RpcUnavailable(TransactionError, ConnectionError):
    """Transient RPC errors persisted after every retry; the outcome may be unknown."""


class TransactionTimeout(TransactionError, TimeoutError):
    """The transaction was not mined, or not confirmed, within the timeout."""


class IndexingError(LedgerError, RuntimeError):
    """The log index cannot follow the chain or found it inconsistent."""


class IndexMismatch(IndexingError):
    """The index database was built for another chain id or deployment."""


class HeadMismatch(IndexingError):
    """A consignment's head recomputed from indexed rows differs from the on-chain head.

    ``consignment_ids`` names every consignment that failed (the index may be tampered with).
    """

    def __init__(self, message: str, *, consignment_ids: tuple[bytes, ...]) -> None:
        super().__init__(message)
        self.consignment_ids = consignment_ids


class VerificationError(LedgerError):
    """A claim or a proof bundle cannot be checked at all (not: it was checked and failed;
    that is a verdict with findings, see :mod:`ledger.verify.engine`)."""


class InvalidClaim(VerificationError, ValueError):
    """A claim names nothing to verify (no consignment, container or certificate), or holds a
    value that cannot be interpreted (an unknown unit, a malformed HS code)."""


class InvalidBundle(VerificationError, ValueError):
    """A proof bundle file is not JSON or not a JSON object (a bundle that parses but was
    altered is not an error: :func:`ledger.verify.bundle.verify_bundle` reports what fails)."""


class EpcisError(ValidationError):
    """An EPCIS document, event or GS1 identifier breaks a rule of GS1 EPCIS 2.0 / CBV 2.0."""


class InvalidGs1Identifier(EpcisError):
    """An EPC URN or a GS1 Digital Link URI is malformed or names no supported GS1 key."""


class CheckDigitMismatch(InvalidGs1Identifier):
    """A GTIN, SSCC, GLN or GRAI whose GS1 mod-10 check digit does not match its digits."""


class InvalidEpcisEvent(EpcisError):
    """An event lacks what the CBV 2.0 event hash needs (its type, a parsable eventTime)."""


class InvalidEpcisDocument(EpcisError):
    """A document that is not JSON, not an object, or holds no event list."""


class EpcisDocumentRejected(EpcisError):
    """An EPCIS 2.0 capture document breaks the GS1 JSON Schema or the CBV 2.0 vocabularies.

    ``errors`` lists every problem found (:class:`ledger.epcis.validation.DocumentError`: the
    event index, the JSON pointer, the rule and a message); the document is refused whole.
    """

    def __init__(self, errors: Sequence[Any]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0] if self.errors else None
        pointer = getattr(first, "pointer", "") or "/"
        rule = getattr(first, "rule", "epcis_schema")
        super().__init__(pointer, rule, None)
        more = len(self.errors) - 1
        self.args = (
            f"EPCIS document refused: {getattr(first, 'message', '')} at {pointer}"
            + (f" (and {more} more)" if more > 0 else ""),
        )


class NetworkError(LedgerError, RuntimeError):
    """Something went wrong with a multi-node network started by the project."""


class GethBuildError(NetworkError):
    """geth could not be found, built or run."""


class NetworkConfigError(NetworkError, ValueError):
    """A bad option, or a network directory that does not match what was asked."""


class NodeStartError(NetworkError):
    """A node process exited, or never answered on JSON-RPC."""


class RpcCallError(NetworkError):
    """A node answered a JSON-RPC call with an error (``code`` and ``method`` kept)."""

    def __init__(self, message: str, *, method: str, code: int | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.code = code


class NetworkNotReady(NetworkError, TimeoutError):
    """Peers did not connect, or blocks did not advance, within the timeout."""
