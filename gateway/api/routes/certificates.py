"""Certificates of origin: issue, revoke, draw down (writes: one drawdown at a time, or up to
300 signed together with one signature: ``POST /certificates/drawdowns/batch/signed``) and
their status (reads)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Response

from gateway.api.deps import CurrentCaller, KeyStoreDep, OutboxDep, ReadCaller, ServicesDep
from gateway.api.write_routes import (
    WRITE_RESPONSES,
    IdempotencyKey,
    add_write_routes,
    scoped_caller,
)
from gateway.auth import BYTES32_PATTERN
from gateway.models.error_views import ERROR_401, ERROR_403, ERROR_404
from gateway.models.record_requests import DrawdownBatchSubmission
from gateway.models.record_views import DrawdownBatchView, RecordView
from gateway.models.stored import RecordKind
from gateway.reads import queries
from gateway.reads.views import CertificateView
from gateway.writes.intake import accept_drawdown_batch, sync_caller
from gateway.writes.ledger_services import require_ledger

__all__ = ["router"]

logger = logging.getLogger("gateway.api.certificates")

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


@router.post(
    "/drawdowns/batch/signed",
    status_code=202,
    response_model=DrawdownBatchView,
    summary="Draw down many, signed together with one signature (signed by the client)",
    responses=WRITE_RESPONSES,
    operation_id="drawdown_batch_signed",
)
def post_drawdown_batch_signed(
    body: DrawdownBatchSubmission,
    caller: CurrentCaller,
    outbox: OutboxDep,
    services: ServicesDep,
    keys: KeyStoreDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> DrawdownBatchView:
    """Non-custodial, for an exporter's (or a customs administration's) own system that
    draws many certificates down at once: up to 300 Drawdown messages, the batch's
    `deadline` and one EIP-712 `DrawdownBatch(drawdownsHash, deadline)` signature in the
    Certificates domain (see `POST /typed-data/drawdown_batch`). Relayed as one
    `drawDownSignedBatch` transaction (~37,000 gas per drawdown on distinct certificates
    instead of ~42,400 with a signature per drawdown). No nonce: a certificate is drawn once
    per consignment, ever.

    The batch is checked as a whole, as the contract will check it: the signer must be a
    valid key of the API key's organisation (403 `UnknownKey`, `wrong_organisation`,
    `KeyRevoked`, `KeyExpired`), which is active (403 `MemberNotActive`) and may draw every
    certificate of the batch (403 `NotAuthorisedToDraw`: its exporter, or customs of its
    origin or destination country), the deadline has not passed (422 `DeadlineExpired`), and
    the batch runs as `drawDownSignedBatch` on the pending block. As for single drawdowns,
    drawdowns accepted but not yet on chain count against each certificate's balance (409
    `QuantityExceeded`) and hold their consignment (409 `AlreadyDrawn`). One signature covers
    every drawdown, so none can be dropped: one that would fail refuses the whole batch,
    with the contract error's name and `field` = `drawdowns[i]`.

    Each drawdown is stored as its own record (kind `drawdown`, the record id it would have
    if signed alone, its own status, `signed_batch` = the batch id), all in one transaction,
    and they are relayed together exactly once: they are confirmed together (each with its
    log index) or fail together. The same batch sent again answers with the stored records
    (header `Idempotent-Replayed: true`); with an `Idempotency-Key`, drawdown *i* is stored
    under `<key>:<i>`.
    """
    scoped_caller(caller, RecordKind.DRAWDOWN)
    chain = require_ledger(services.chain)
    acting = sync_caller(chain, caller, keys)
    batch, signer, batch_id, results = accept_drawdown_batch(
        chain,
        outbox,
        acting,
        body.drawdowns,
        body.deadline,
        body.signature,
        idempotency_key=idempotency_key,
    )
    if not any(result.created for result in results):
        response.headers["Idempotent-Replayed"] = "true"
    logger.info(
        "drawdown batch %s from %s: %d drawdowns (%s)",
        batch_id,
        caller.org_id,
        len(results),
        "stored" if results[0].created else "replayed",
    )
    return DrawdownBatchView(
        batch_id=batch_id,
        signer=signer,
        deadline=batch.deadline,
        records=[RecordView.from_stored(result.record) for result in results],
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
    return queries.certificate(require_ledger(services.chain), bytes.fromhex(certificate_id[2:]))
