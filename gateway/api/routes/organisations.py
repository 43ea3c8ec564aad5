"""Member organisations: their signing keys (writes) and the directory (reads)."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.writes import add_write_routes
from gateway.outbox import RecordKind

__all__ = ["router"]

router = APIRouter(prefix="/organisations", tags=["organisations"])

add_write_routes(
    router,
    kind=RecordKind.KEY_ADDITION,
    path="/keys",
    summary="Add a signing key",
    description=(
        "Register another signing key of the caller's organisation, with its validity "
        "window; signed by a currently valid key of the organisation."
    ),
)
add_write_routes(
    router,
    kind=RecordKind.KEY_REVOCATION,
    path="/keys/revocations",
    summary="Revoke a signing key",
    description=(
        "Revoke a signing key of the caller's organisation, effective for every record "
        "submitted after it (a key may revoke itself)."
    ),
)
