"""Every error the ledger library raises.

One root, with standard-library mix-ins so that callers can catch either::

    LedgerError
    ├── ConfigurationError
    ├── ToolchainError               (compiler, node binaries, artifacts)
    │   └── StaleArtifacts
    ├── NodeError                    (the embedded anvil node)
    ├── DeploymentError
    │   └── ManifestMismatch         (a manifest whose code is not on chain)
    └── ValidationError (ValueError) (a domain value broke a rule; names field and rule)

Modules that add errors extend this tree here, so that it stays in one place.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "DeploymentError",
    "LedgerError",
    "ManifestMismatch",
    "NodeError",
    "StaleArtifacts",
    "ToolchainError",
    "ValidationError",
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
