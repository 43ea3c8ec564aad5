"""Attestations: schemas, attest, revoke (writes) and attestations by subject (reads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gateway import reads
from gateway.api.deps import ReadCaller, ServicesDep
from gateway.api.writes import add_write_routes
from gateway.auth import BYTES32_PATTERN
from gateway.models import ERROR_401, ERROR_403, ERROR_404, ERROR_422, ERROR_503
from gateway.outbox import RecordKind
from gateway.read_models import AttestationList, AttestationView
from gateway.writes import require_ledger

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
    return reads.attestations_for(require_ledger(services.chain), reads.parse_key(subject))


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
    return reads.attestation(require_ledger(services.chain), bytes.fromhex(uid[2:]))
