"""API keys: issue, list, revoke (operator token or an organisation's admin key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gateway.api.deps import AdminDep, AdminPrincipal, KeyStoreDep
from gateway.auth import BYTES32_PATTERN, normalize_org_id
from gateway.errors import NotFound, PermissionDenied
from gateway.models.admin import ApiKeyCreate, ApiKeyIssued, ApiKeyList, ApiKeyView
from gateway.models.error_views import ERROR_401, ERROR_403, ERROR_404, ERROR_422

__all__ = ["router"]

router = APIRouter(prefix="/admin/api-keys", tags=["admin"])


def _check_org(admin: AdminPrincipal, org_id: str) -> None:
    if admin.org_id is not None and admin.org_id != org_id:
        raise PermissionDenied(
            "an organisation's admin key manages that organisation's keys only",
            code="wrong_organisation",
            field="org_id",
        )


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyIssued,
    summary="Issue an API key",
    responses={**ERROR_401, **ERROR_403, **ERROR_422},
)
def issue_api_key(body: ApiKeyCreate, admin: AdminDep, keys: KeyStoreDep) -> ApiKeyIssued:
    """Issue a key for one user of an organisation; the secret is in this answer only.

    The operator (admin token) may issue keys for any organisation; an ``admin``-scoped key
    only for its own, with the kind and country already on record for it, and scopes within
    its own (403 ``scope_not_held`` otherwise). Revoking an admin key revokes the keys it
    issued.
    """
    org_id = normalize_org_id(body.org_id)
    _check_org(admin, org_id)
    if admin.caller is not None and (
        body.org_kind != admin.caller.org_kind or body.country.upper() != admin.caller.country
    ):
        raise PermissionDenied(
            "kind and country of an organisation are set by the operator (from the chain)",
            code="wrong_organisation",
        )
    if admin.caller is not None:
        wider = sorted(s.value for s in set(body.scopes) - admin.caller.scopes)
        if wider:
            raise PermissionDenied(
                f"an admin key issues keys within its own scopes; it lacks {', '.join(wider)}",
                code="scope_not_held",
                field="scopes",
                rule="within_issuer_scopes",
            )
    issued = keys.issue(
        org_id=org_id,
        org_kind=body.org_kind,
        country=body.country,
        scopes=body.scopes,
        label=body.label,
        expires_at=body.expires_at,
        issued_by=None if admin.caller is None else admin.caller.key_id,
    )
    return ApiKeyIssued.from_issued(issued)


@router.get(
    "",
    response_model=ApiKeyList,
    summary="List API keys",
    responses={**ERROR_401, **ERROR_403},
)
def list_api_keys(
    admin: AdminDep,
    keys: KeyStoreDep,
    org_id: Annotated[
        str | None, Query(pattern=BYTES32_PATTERN, description="Only this organisation's keys.")
    ] = None,
    include_revoked: bool = True,
) -> ApiKeyList:
    """Keys (never their secrets); an organisation's admin key sees its own organisation's."""
    wanted = normalize_org_id(org_id) if org_id is not None else admin.org_id
    if wanted is not None:
        _check_org(admin, wanted)
    records = keys.list_keys(org_id=wanted, include_revoked=include_revoked)
    return ApiKeyList(items=[ApiKeyView.from_stored(r) for r in records])


@router.delete(
    "/{key_id}",
    response_model=ApiKeyView,
    summary="Revoke an API key",
    responses={**ERROR_401, **ERROR_403, **ERROR_404},
)
def revoke_api_key(
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", examples=["3f9a1c0d2b4e6f81"])],
    admin: AdminDep,
    keys: KeyStoreDep,
) -> ApiKeyView:
    """Revoke a key at once (idempotent), with every key it issued; requests with them get
    401 from now on."""
    existing = keys.get(key_id)
    if existing is None or (admin.org_id is not None and existing.org_id != admin.org_id):
        raise NotFound(f"no API key {key_id!r}")
    return ApiKeyView.from_stored(keys.revoke(key_id))
