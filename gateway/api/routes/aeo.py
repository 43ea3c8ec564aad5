"""AEO certifications and mutual recognition agreements (writes) and recognition (reads)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from gateway.api.deps import ReadCaller, ServicesDep
from gateway.api.write_routes import add_write_routes
from gateway.auth import BYTES32_PATTERN
from gateway.models.error_views import ERROR_401, ERROR_403, ERROR_422, ERROR_503
from gateway.models.record_fields import Timestamp
from gateway.models.stored import RecordKind
from gateway.reads import queries
from gateway.reads.views import MraList, OperatorAeoView, RecognitionView
from gateway.writes.ledger_services import require_ledger

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

OrgIdQuery = Annotated[str, Query(pattern=BYTES32_PATTERN, examples=["0x" + "0a" * 32])]
AtQuery = Annotated[
    Timestamp | None,
    Query(
        description="As of this time (ISO 8601 with its offset, after 1970); default: now.",
        examples=["2026-11-23T18:00:00Z"],
    ),
]


def _at(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


@router.get(
    "/operators/{operator_id}",
    response_model=OperatorAeoView,
    summary="An operator's AEO certifications as of a time",
    responses={**ERROR_401, **ERROR_403, **ERROR_422, **ERROR_503},
)
def get_operator(
    operator_id: Annotated[str, Path(pattern=BYTES32_PATTERN, examples=["0x" + "0a" * 32])],
    caller: ReadCaller,
    services: ServicesDep,
    at: AtQuery = None,
) -> OperatorAeoView:
    """Every certification of the operator with its status (active, suspended, revoked) and
    validity as they stood at ``at`` (from the status history in the index; "now" is also
    answered from the contract without an index)."""
    return queries.operator_aeo(
        require_ledger(services.chain), bytes.fromhex(operator_id[2:]), _at(at)
    )


@router.get(
    "/recognition",
    response_model=RecognitionView,
    summary="Is an operator recognised by an administration",
    responses={**ERROR_401, **ERROR_403, **ERROR_422},
)
def get_recognition(
    operator_id: OrgIdQuery,
    administration: OrgIdQuery,
    caller: ReadCaller,
    services: ServicesDep,
    at: AtQuery = None,
) -> RecognitionView:
    """The contract's answer: certified by the administration itself, or by another one with
    an MRA in force at ``at`` that covers the programme (and which certification and MRA)."""
    return queries.recognition(
        require_ledger(services.chain),
        operator=bytes.fromhex(operator_id[2:]),
        administration=bytes.fromhex(administration[2:]),
        at=_at(at),
    )


@router.get(
    "/mras",
    response_model=MraList,
    summary="MRAs between two administrations",
    responses={**ERROR_401, **ERROR_403, **ERROR_422, **ERROR_503},
)
def list_mras(
    a: OrgIdQuery,
    b: OrgIdQuery,
    caller: ReadCaller,
    services: ServicesDep,
    at: AtQuery = None,
) -> MraList:
    """Every MRA proposed between ``a`` and ``b`` (either way), its programmes, dates and
    whether it is in force at ``at``."""
    return queries.mras(
        require_ledger(services.chain), bytes.fromhex(a[2:]), bytes.fromhex(b[2:]), _at(at)
    )
