"""Consignments: registration (writes) and their on-chain state and timeline (reads)."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.writes import add_write_routes
from gateway.outbox import RecordKind

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
