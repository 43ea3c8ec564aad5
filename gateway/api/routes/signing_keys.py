"""Custodial signing keys: store (import or generate) and list (operator or org admin)."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.deps import AdminDep, ServicesDep
from gateway.auth import normalize_org_id
from gateway.errors import PermissionDenied, ServiceUnavailable
from gateway.models.admin import SigningKeyCreate, SigningKeyList, SigningKeyView
from gateway.models.error_views import ERROR_401, ERROR_403, ERROR_409, ERROR_422
from gateway.writes.custodial_keys import SigningKey, SigningKeyStore

__all__ = ["router"]

router = APIRouter(prefix="/admin/signing-keys", tags=["admin"])


def _store(services: ServicesDep) -> SigningKeyStore:
    if services.chain is None or services.chain.signing_keys is None:
        raise ServiceUnavailable("this gateway holds no custodial keys", code="no_custodial_keys")
    return services.chain.signing_keys


@router.post(
    "",
    status_code=201,
    response_model=SigningKeyView,
    summary="Store a custodial signing key",
    responses={**ERROR_401, **ERROR_403, **ERROR_409, **ERROR_422},
)
def add_signing_key(
    body: SigningKeyCreate, admin: AdminDep, services: ServicesDep
) -> SigningKeyView:
    """Import (or generate) the organisation's signing key into the encrypted key store.

    The address must then be registered on chain as a key of the organisation (admission
    or `POST /organisations/keys`) before the gateway can sign with it. The operator may
    store keys for any organisation, an organisation's admin key for its own only.

    `replace: true` rotates in two phases: a key registered on chain is never discarded; the
    new key is staged (`pending: true`, `replaces` the current key), the current key keeps
    signing (so it can register the new one), and the gateway switches once the new key is
    registered for the organisation in a final block.
    """
    org_id = normalize_org_id(body.org_id)
    if admin.org_id is not None and admin.org_id != org_id:
        raise PermissionDenied(
            "an organisation's admin key manages that organisation's keys only",
            code="wrong_organisation",
            field="org_id",
        )
    secret = None if body.private_key is None else body.private_key.get_secret_value()
    stored = _store(services).add(org_id, secret, replace=body.replace)
    return _view(stored)


@router.get(
    "",
    response_model=SigningKeyList,
    summary="List custodial signing keys",
    responses={**ERROR_401, **ERROR_403},
)
def list_signing_keys(admin: AdminDep, services: ServicesDep) -> SigningKeyList:
    """Organisations and addresses of the stored keys (an org admin sees its own)."""
    keys = _store(services).list()
    if admin.org_id is not None:
        keys = [k for k in keys if k.org_id == admin.org_id]
    return SigningKeyList(items=[_view(k) for k in keys])


def _view(key: SigningKey) -> SigningKeyView:
    return SigningKeyView(
        org_id=key.org_id, address=key.address, pending=key.pending, replaces=key.replaces
    )
