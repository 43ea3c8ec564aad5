"""Member organisations: their signing keys (writes) and the directory (reads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from gateway.api.deps import ReadCaller, ServicesDep, SettingsDep
from gateway.api.write_routes import add_write_routes
from gateway.auth import BYTES32_PATTERN
from gateway.models.error_views import ERROR_401, ERROR_403, ERROR_404
from gateway.models.stored import RecordKind
from gateway.reads import queries
from gateway.reads.views import OrganisationList, OrganisationView
from gateway.writes.ledger_services import require_ledger

__all__ = ["router"]

router = APIRouter(prefix="/organisations", tags=["organisations"])

add_write_routes(
    router,
    kind=RecordKind.KEY_ADDITION,
    path="/keys",
    summary="Add a signing key",
    description=(
        "Register another signing key of the caller's organisation, with its validity "
        "window; signed by a currently valid key of the organisation."
    ),
)
add_write_routes(
    router,
    kind=RecordKind.KEY_REVOCATION,
    path="/keys/revocations",
    summary="Revoke a signing key",
    description=(
        "Revoke a signing key of the caller's organisation, effective for every record "
        "submitted after it (a key may revoke itself)."
    ),
)


@router.get(
    "",
    response_model=OrganisationList,
    summary="The organisation directory",
    responses={**ERROR_401, **ERROR_403},
)
def list_organisations(
    caller: ReadCaller, services: ServicesDep, settings: SettingsDep
) -> OrganisationList:
    """Every member: name (where this gateway knows it), kind, country, status, admission
    time and (from the index) its signing keys with their validity."""
    names = queries.organisation_names(settings.data_dir)
    return queries.organisations(require_ledger(services.chain), names)


@router.get(
    "/{org_id}",
    response_model=OrganisationView,
    summary="One organisation",
    responses={**ERROR_401, **ERROR_403, **ERROR_404},
)
def get_organisation(
    org_id: Annotated[str, Path(pattern=BYTES32_PATTERN, examples=["0x" + "0a" * 32])],
    caller: ReadCaller,
    services: ServicesDep,
    settings: SettingsDep,
) -> OrganisationView:
    """One member of the directory, with its name where this gateway knows it."""
    names = queries.organisation_names(settings.data_dir)
    return queries.organisation(require_ledger(services.chain), bytes.fromhex(org_id[2:]), names)
