"""Dependencies of the routes, as ``Annotated`` aliases.

* :data:`SettingsDep`, :data:`OutboxDep`, :data:`KeyStoreDep`, :data:`MetricsDep`,
  :data:`ServicesDep` -- the app's collaborators (set up by the lifespan in ``app.state``).
* :data:`CurrentCaller` -- the organisation the request acts for, from its API key
  (``Authorization: Bearer clk_...`` or ``X-API-Key: clk_...``); 401 without a valid key.
* :data:`ReadCaller` -- a caller with the ``read`` scope (403 otherwise);
  :func:`require_scope` builds such a dependency for any scope.
* :data:`AdminDep` -- the operator (``admin_token``) or an ``admin``-scoped key; the latter
  manages the keys of its own organisation only.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from gateway.auth import Caller, KeyStore, Scope
from gateway.config import GatewaySettings
from gateway.errors import (
    PermissionDenied,
    ServiceUnavailable,
    TooManyRequests,
    Unauthenticated,
)
from gateway.metrics import GatewayMetrics
from gateway.ratelimit import RateLimiter
from gateway.services import GatewayServices
from gateway.writes.outbox import Outbox

__all__ = [
    "AdminDep",
    "AdminPrincipal",
    "CurrentCaller",
    "KeyStoreDep",
    "MetricsDep",
    "OutboxDep",
    "ReadCaller",
    "ServicesDep",
    "SettingsDep",
    "require_scope",
]

_bearer = HTTPBearer(auto_error=False, description="API key: 'Bearer clk_<id>_<secret>'.")
_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key, as an alternative to Bearer."
)


def get_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


def get_outbox(request: Request) -> Outbox:
    outbox: Outbox = request.app.state.outbox
    probe = getattr(request.app.state, "outbox_probe", None)
    if request.method not in {"GET", "HEAD"} and probe is not None and probe.damaged:
        # Records stored into a damaged file could be lost: refuse until it is repaired.
        raise ServiceUnavailable(
            f"the outbox database is damaged ({probe.damaged}); writes are refused until "
            "the operator restores it",
            code="database_unavailable",
            rule="corrupt",
        )
    return outbox


def get_keys(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


def get_metrics(request: Request) -> GatewayMetrics:
    metrics: GatewayMetrics = request.app.state.metrics
    return metrics


def get_services(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.services
    return services


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
KeyStoreDep = Annotated[KeyStore, Depends(get_keys)]
MetricsDep = Annotated[GatewayMetrics, Depends(get_metrics)]
ServicesDep = Annotated[GatewayServices, Depends(get_services)]

_BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_ApiKeyDep = Annotated[str | None, Depends(_api_key_header)]


def _presented(bearer: HTTPAuthorizationCredentials | None, api_key: str | None) -> str:
    if bearer is not None and bearer.credentials:
        return bearer.credentials
    if api_key:
        return api_key
    raise Unauthenticated("an API key is required", code="missing_api_key")


def get_caller(
    request: Request, keys: KeyStoreDep, bearer: _BearerDep, api_key: _ApiKeyDep
) -> Caller:
    caller = keys.authenticate(_presented(bearer, api_key))
    request.state.caller = caller
    _limit(request, caller.key_id)
    return caller


def _limit(request: Request, key_id: str) -> None:
    """429 with Retry-After when the key is over its rate limit (``gateway.ratelimit``)."""
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        return
    wait = limiter.take(key_id)
    if wait > 0:
        raise TooManyRequests(
            f"this API key is over its rate limit of {limiter.per_second:g} requests a second",
            retry_after=wait,
        )


CurrentCaller = Annotated[Caller, Depends(get_caller)]


def require_scope(scope: Scope) -> Callable[[Caller], Caller]:
    """A dependency: the current caller, if its key has ``scope`` (403 otherwise)."""

    def dependency(caller: CurrentCaller) -> Caller:
        if not caller.has(scope):
            raise PermissionDenied(
                f"the API key lacks the scope {scope.value!r}", code="missing_scope"
            )
        return caller

    dependency.required_scope = scope.value  # type: ignore[attr-defined]  # for the OpenAPI
    return dependency


ReadCaller = Annotated[Caller, Depends(require_scope(Scope.READ))]


@dataclass(frozen=True, slots=True)
class AdminPrincipal:
    """Who administers keys: the operator (``caller`` None) or an org's ``admin`` key."""

    caller: Caller | None

    @property
    def org_id(self) -> str | None:
        return None if self.caller is None else self.caller.org_id


def get_admin(
    request: Request,
    settings: SettingsDep,
    keys: KeyStoreDep,
    bearer: _BearerDep,
    api_key: _ApiKeyDep,
) -> AdminPrincipal:
    presented = _presented(bearer, api_key)
    token = settings.admin_token
    if token is not None and hmac.compare_digest(
        presented.encode(), token.get_secret_value().encode()
    ):
        return AdminPrincipal(caller=None)
    caller = keys.authenticate(presented)
    _limit(request, caller.key_id)
    if not caller.has(Scope.ADMIN):
        raise PermissionDenied("the API key lacks the scope 'admin'", code="missing_scope")
    return AdminPrincipal(caller=caller)


get_admin.required_scope = Scope.ADMIN.value  # type: ignore[attr-defined]  # for the OpenAPI

AdminDep = Annotated[AdminPrincipal, Depends(get_admin)]
