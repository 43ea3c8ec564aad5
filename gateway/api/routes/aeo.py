"""AEO certifications and mutual recognition agreements (writes) and recognition (reads)."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.writes import add_write_routes
from gateway.outbox import RecordKind

__all__ = ["router"]

router = APIRouter(prefix="/aeo", tags=["aeo"])

add_write_routes(
    router,
    kind=RecordKind.AEO_ACTION,
    path="/actions",
    summary="Certify, suspend, reinstate or revoke an AEO",
    description=(
        "Customs of the operator's country certifies an operator as an Authorized Economic "
        "Operator (AEOC, AEOS or AEOF) or changes the certification's status."
    ),
)
add_write_routes(
    router,
    kind=RecordKind.MRA_PROPOSAL,
    path="/mras",
    summary="Propose a mutual recognition agreement",
    description="A customs administration proposes an MRA (programmes, dates) to another.",
)
add_write_routes(
    router,
    kind=RecordKind.MRA_ACCEPTANCE,
    path="/mras/acceptances",
    summary="Accept a mutual recognition agreement",
    description="The counterpart accepts an MRA; it is in effect from then (and valid_from).",
)
add_write_routes(
    router,
    kind=RecordKind.MRA_TERMINATION,
    path="/mras/terminations",
    summary="Terminate a mutual recognition agreement",
    description="Either party terminates an MRA (or withdraws a pending proposal).",
)
