"""Certificates of origin: issue, revoke, draw down (writes) and their status (reads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from gateway import reads
from gateway.api.deps import ReadCaller, ServicesDep
from gateway.api.writes import add_write_routes
from gateway.auth import BYTES32_PATTERN
from gateway.models import ERROR_401, ERROR_403, ERROR_404
from gateway.outbox import RecordKind
from gateway.read_models import CertificateView
from gateway.writes import require_ledger

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


@router.get(
    "/{certificate_id}",
    response_model=CertificateView,
    summary="A certificate's status, balance and drawdowns",
    responses={**ERROR_401, **ERROR_403, **ERROR_404},
)
def get_certificate(
    certificate_id: Annotated[str, Path(pattern=BYTES32_PATTERN, examples=["0x" + "ce" * 32])],
    caller: ReadCaller,
    services: ServicesDep,
) -> CertificateView:
    """Is the certificate genuine, unrevoked, valid and not used up: status, validity and
    balance from the contract, its unit and every drawdown (consignment, quantity) from the
    index."""
    return reads.certificate(require_ledger(services.chain), bytes.fromhex(certificate_id[2:]))
