"""What a node's JSON-RPC error means: worth a retry, a revert with its data, or a refusal.

Nodes word the same condition differently (anvil, go-ethereum, Hyperledger Besu); the phrases
below are matched lower-cased against the error message. One place for the transaction
manager, the typed clients and the gateway's relayer.
"""

from __future__ import annotations

from collections.abc import Mapping

from web3.exceptions import (
    BlockNotFound,
    ContractLogicError,
    MethodUnavailable,
    RequestTimedOut,
    TooManyRequests,
    TransactionNotFound,
    Web3RPCError,
)

__all__ = [
    "ALREADY_KNOWN",
    "NONCE_TOO_LOW",
    "OVER_ALLOWANCE",
    "TRANSIENT_RPC_CODES",
    "TRANSIENT_RPC_PHRASES",
    "UNDERPRICED",
    "is_transient",
    "revert_data",
    "rpc_error",
]

TRANSIENT_RPC_PHRASES = (
    "try again",
    "timeout",
    "timed out",
    "busy",
    "rate limit",
    "limit exceeded",
    "too many requests",
    "temporarily",
    "unavailable",
    "header not found",
    "connection",
)
TRANSIENT_RPC_CODES = (-32005, 429)  # limit exceeded (EIP-1474), too many requests
ALREADY_KNOWN = ("already known", "already imported", "known transaction")
NONCE_TOO_LOW = ("nonce too low", "nonce has already been used", "oldnonce")
UNDERPRICED = ("replacement transaction underpriced", "replacement underpriced")
OVER_ALLOWANCE = ("gas required exceeds", "exceeds block gas limit", "out of gas")


def is_transient(exc: BaseException) -> bool:
    """Whether an RPC failure is worth retrying (never a revert or a node's refusal)."""
    if isinstance(
        exc, ContractLogicError | TransactionNotFound | BlockNotFound | MethodUnavailable
    ):
        return False
    if isinstance(exc, RequestTimedOut | TooManyRequests | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, Web3RPCError):
        code, message = rpc_error(exc)
        return code in TRANSIENT_RPC_CODES or any(p in message for p in TRANSIENT_RPC_PHRASES)
    if isinstance(exc, OSError):  # requests' exceptions are OSErrors
        status = getattr(getattr(exc, "response", None), "status_code", None)
        return status is None or status >= 500 or status in (408, 429)
    return False


def rpc_error(exc: Web3RPCError) -> tuple[int | None, str]:
    """The JSON-RPC error code and the lower-cased message of a Web3RPCError."""
    response = exc.rpc_response or {}
    error = response.get("error")
    if isinstance(error, Mapping):
        code = error.get("code")
        return (code if isinstance(code, int) else None), str(error.get("message", "")).lower()
    return None, str(exc.message).lower()


def revert_data(exc: ContractLogicError) -> str:
    data = exc.data
    if isinstance(data, Mapping):
        data = data.get("data")
    return data if isinstance(data, str) and data.startswith("0x") else "0x"
