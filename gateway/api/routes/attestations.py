"""Attestations: schemas, attest, revoke (writes) and attestations by subject (reads)."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.writes import add_write_routes
from gateway.outbox import RecordKind

__all__ = ["router"]

router = APIRouter(prefix="/attestations", tags=["attestations"])

add_write_routes(
    router,
    kind=RecordKind.SCHEMA,
    path="/schemas",
    summary="Register an attestation schema",
    description="Any member registers a schema; its id is keccak256 of the definition.",
)
add_write_routes(
    router,
    kind=RecordKind.ATTESTATION,
    path="",
    summary="Attest",
    description=(
        "Any member attests about a consignment, certificate, organisation or attestation "
        "(export release, inspection result, seal check, ...): schema, subject, data digest."
    ),
)
add_write_routes(
    router,
    kind=RecordKind.ATTESTATION_REVOKE,
    path="/revocations",
    summary="Revoke an attestation",
    description="The attesting organisation revokes one of its attestations.",
)
