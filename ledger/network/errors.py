"""Errors of the network package, under the library's one root :class:`~ledger.errors.LedgerError`::

    LedgerError
    └── NetworkError (RuntimeError)          ``ledger.network``
        ├── GethBuildError                   geth could not be found, built or run
        ├── NetworkConfigError (ValueError)  a bad option, or a network directory that does not fit
        ├── NodeStartError                   a node process exited or never answered on JSON-RPC
        ├── RpcCallError                     a node answered a JSON-RPC call with an error
        └── NetworkNotReady (TimeoutError)   peers or blocks did not come in time

They live here rather than in ``ledger/errors.py`` while the modules around it are being
reorganised; they are re-exported from :mod:`ledger.network`.
"""

from __future__ import annotations

from ledger.errors import LedgerError

__all__ = [
    "GethBuildError",
    "NetworkConfigError",
    "NetworkError",
    "NetworkNotReady",
    "NodeStartError",
    "RpcCallError",
]


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
