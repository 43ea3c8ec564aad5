"""Attestations: schemas, attest (one at a time, or up to 350 signed together with one
signature: ``POST /attestations/batch/signed``), revoke (writes) and attestations by subject
(reads)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from gateway.api.deps import CurrentCaller, KeyStoreDep, OutboxDep, ReadCaller, ServicesDep
from gateway.api.write_routes import (
    WRITE_RESPONSES,
    IdempotencyKey,
    add_write_routes,
    scoped_caller,
)
from gateway.auth import BYTES32_PATTERN
from gateway.models.error_views import ERROR_401, ERROR_403, ERROR_404, ERROR_422, ERROR_503
from gateway.models.record_requests import AttestationBatchSubmission
from gateway.models.record_views import AttestationBatchView, RecordView
from gateway.models.stored import RecordKind
from gateway.reads import queries
from gateway.reads.views import AttestationList, AttestationView
from gateway.writes.intake import accept_attestation_batch, sync_caller
from gateway.writes.ledger_services import require_ledger

__all__ = ["router"]

logger = logging.getLogger("gateway.api.attestations")

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


@router.post(
    "/batch/signed",
    status_code=202,
    response_model=AttestationBatchView,
    summary="Attest many, signed together with one signature (signed by the client)",
    responses=WRITE_RESPONSES,
    operation_id="attestation_batch_signed",
)
def post_attestation_batch_signed(
    body: AttestationBatchSubmission,
    caller: CurrentCaller,
    outbox: OutboxDep,
    services: ServicesDep,
    keys: KeyStoreDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> AttestationBatchView:
    """Non-custodial, for an organisation's own system that signs many attestations at once
    (a customs administration's inspection results, seal checks, ...): up to 350 Attestation
    messages, the batch's `deadline` and one EIP-712
    `AttestationBatch(attestationsHash, deadline)` signature in the Attestations domain (see
    `POST /typed-data/attestation_batch`). Relayed as one `attestSignedBatch` transaction
    (~30,800 gas per attestation instead of ~36,200 with a signature per attestation). No
    nonce: each attestation's uid (attester and content) is recorded once, ever.

    The batch is checked as a whole, as the contract will check it: the signer must be a
    valid key of the API key's organisation (403 `UnknownKey`, `wrong_organisation`,
    `KeyRevoked`, `KeyExpired`), which is active (403 `MemberNotActive`), the deadline has not
    passed (422 `DeadlineExpired`), and the batch runs as `attestSignedBatch` on the pending
    block. One signature covers every attestation, so none can be dropped: one that would
    fail (unknown schema, attested already, ...) refuses the whole batch, with the contract
    error's name and `field` = `attestations[i]`.

    Each attestation is stored as its own record (kind `attestation`, the record id it would
    have if signed alone, its own status, `signed_batch` = the batch id), all in one
    transaction, and they are relayed together exactly once: they are confirmed together
    (each with its log index) or fail together. The same batch sent again answers with the
    stored records (header `Idempotent-Replayed: true`); with an `Idempotency-Key`,
    attestation *i* is stored under `<key>:<i>`.
    """
    scoped_caller(caller, RecordKind.ATTESTATION)
    chain = require_ledger(services.chain)
    acting = sync_caller(chain, caller, keys)
    batch, signer, batch_id, results = accept_attestation_batch(
        chain,
        outbox,
        acting,
        body.attestations,
        body.deadline,
        body.signature,
        idempotency_key=idempotency_key,
    )
    if not any(result.created for result in results):
        response.headers["Idempotent-Replayed"] = "true"
    logger.info(
        "attestation batch %s from %s: %d attestations (%s)",
        batch_id,
        caller.org_id,
        len(results),
        "stored" if results[0].created else "replayed",
    )
    return AttestationBatchView(
        batch_id=batch_id,
        signer=signer,
        deadline=batch.deadline,
        uids=["0x" + uid.hex() for uid in batch.uids(bytes.fromhex(acting.org_id[2:]))],
        records=[RecordView.from_stored(result.record) for result in results],
    )


@router.get(
    "",
    response_model=AttestationList,
    summary="Attestations about a subject",
    responses={**ERROR_401, **ERROR_403, **ERROR_422, **ERROR_503},
)
def list_attestations(
    subject: Annotated[
        str,
        Query(
            min_length=1,
            max_length=256,
            description="Subject id (0x + 64 hex: consignment, certificate, organisation or "
            "attestation) or a consignment's business key.",
            examples=["AU-UCR-2026-000042"],
        ),
    ],
    caller: ReadCaller,
    services: ServicesDep,
) -> AttestationList:
    """Every attestation about the subject in chain order (export release, inspections,
    seal checks, ...), with whether each is valid now (not revoked, not expired)."""
    chain = require_ledger(services.chain)
    return queries.attestations_for(
        chain, queries.parse_key(chain, caller.org_id, subject, "subject")
    )


@router.get(
    "/{uid}",
    response_model=AttestationView,
    summary="One attestation",
    responses={**ERROR_401, **ERROR_403, **ERROR_404},
)
def get_attestation(
    uid: Annotated[str, Path(pattern=BYTES32_PATTERN, examples=["0x" + "a7" * 32])],
    caller: ReadCaller,
    services: ServicesDep,
) -> AttestationView:
    """The attestation's attester, times and validity (contract), with its content (index)."""
    return queries.attestation(require_ledger(services.chain), bytes.fromhex(uid[2:]))
