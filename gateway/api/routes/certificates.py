"""Certificates of origin: issue, revoke, draw down (writes) and their status (reads)."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.writes import add_write_routes
from gateway.outbox import RecordKind

__all__ = ["router"]

router = APIRouter(prefix="/certificates", tags=["certificates"])

add_write_routes(
    router,
    kind=RecordKind.CERTIFICATE_ISSUE,
    path="",
    summary="Issue a certificate of origin",
    description=(
        "An issuing body or customs administration of the origin country issues a "
        "certificate of origin: exporter (a trader), countries, HS 2022 subheadings, total "
        "quantity and unit, validity."
    ),
)
add_write_routes(
    router,
    kind=RecordKind.CERTIFICATE_REVOKE,
    path="/revocations",
    summary="Revoke a certificate of origin",
    description="The issuer revokes one of its certificates; it can no longer be drawn down.",
)
add_write_routes(
    router,
    kind=RecordKind.DRAWDOWN,
    path="/drawdowns",
    summary="Draw a certificate down for a consignment",
    description=(
        "The exporter, or customs of the origin or destination country, draws a quantity of "
        "a certificate for one consignment. Never more than the certificate's balance, "
        "counting drawdowns accepted but not yet on chain; once per consignment."
    ),
)
