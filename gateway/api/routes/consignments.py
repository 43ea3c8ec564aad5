"""Consignments: registration (writes) and their on-chain state and timeline (reads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from gateway.api.deps import ReadCaller, ServicesDep
from gateway.api.write_routes import add_write_routes
from gateway.models.error_views import ERROR_401, ERROR_403, ERROR_404, ERROR_503
from gateway.models.stored import RecordKind
from gateway.reads import queries
from gateway.reads.views import ConsignmentView, TimelineView
from gateway.writes.ledger_services import require_ledger

__all__ = ["router"]

router = APIRouter(prefix="/consignments", tags=["consignments"])

add_write_routes(
    router,
    kind=RecordKind.CONSIGNMENT,
    path="",
    summary="Register a consignment",
    description=(
        "Register a consignment under its business key (WCO UCR or carrier reference): "
        "origin and destination countries, optional consignor and consignee organisations. "
        "Customs, carriers, traders and postal operators register consignments."
    ),
)

ConsignmentKey = Annotated[
    str,
    Path(
        min_length=1,
        max_length=256,
        description="The consignment id (0x + 64 hex) or its business key (UCR).",
        examples=["AU-UCR-2026-000042"],
    ),
]


@router.get(
    "/{consignment}",
    response_model=ConsignmentView,
    summary="A consignment and its on-chain head",
    responses={**ERROR_401, **ERROR_403, **ERROR_404},
)
def get_consignment(
    consignment: ConsignmentKey, caller: ReadCaller, services: ServicesDep
) -> ConsignmentView:
    """Countries, parties, registration time, and the hash-chain head and event count as the
    contract holds them (what a verifier checks a proof bundle against)."""
    chain = require_ledger(services.chain)
    return queries.consignment(
        chain, queries.parse_key(chain, caller.org_id, consignment, "consignment")
    )


@router.get(
    "/{consignment}/events",
    response_model=TimelineView,
    summary="A consignment's timeline",
    responses={**ERROR_401, **ERROR_403, **ERROR_404, **ERROR_503},
)
def get_timeline(
    consignment: ConsignmentKey, caller: ReadCaller, services: ServicesDep
) -> TimelineView:
    """Every event in chain order from the index, each with its record id and the head after
    it; ``head_matches_chain`` says whether the index's last head and count equal the
    contract's (false while the index is catching up)."""
    chain = require_ledger(services.chain)
    return queries.timeline(
        chain, queries.parse_key(chain, caller.org_id, consignment, "consignment")
    )
