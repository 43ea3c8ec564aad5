"""A permissioned provenance ledger for customs and trade: the Python library.

Public names are re-exported here; see each module for details.
"""

from ledger.errors import (
    ConfigurationError,
    DeploymentError,
    LedgerError,
    ManifestMismatch,
    NodeError,
    StaleArtifacts,
    ToolchainError,
    ValidationError,
)
from ledger.node import AnvilNode
from ledger.settings import Settings

__all__ = [
    "AnvilNode",
    "ConfigurationError",
    "DeploymentError",
    "LedgerError",
    "ManifestMismatch",
    "NodeError",
    "Settings",
    "StaleArtifacts",
    "ToolchainError",
    "ValidationError",
]
