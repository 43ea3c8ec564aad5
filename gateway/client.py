"""A typed Python client for the gateway API (httpx, synchronous).

::

    with GatewayClient("https://gateway.example", api_key) as client:
        view = client.submit_record(kind=RecordKind.EVENT, payload=message, signature=sig)
        client.get_record(view.record_id).status

Error responses raise the classes of :mod:`gateway.errors` (``Unauthenticated``,
``PermissionDenied``, ``NotFound``, ``IdempotencyConflict``, ``InvalidRequest``, ...), built from
the JSON error body: ``code``, ``message``, ``field`` and ``rule`` are on the exception,
``status_code`` too. Request bodies are checked locally first with the same models as the
server; a broken rule raises :class:`~gateway.errors.InvalidRequest` before anything is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import httpx
import pydantic
from pydantic import BaseModel

from gateway.auth import OrgKind, Scope
from gateway.errors import (
    ApiError,
    Conflict,
    GatewayError,
    IdempotencyConflict,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ServiceUnavailable,
    Unauthenticated,
)
from gateway.models import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyList,
    ApiKeyView,
    Readiness,
    RecordPage,
    RecordSubmission,
    RecordView,
)
from gateway.outbox import RecordKind, RecordStatus

__all__ = ["GatewayClient"]

_BY_STATUS: dict[int, type[GatewayError]] = {
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidRequest,
    503: ServiceUnavailable,
}


_M = TypeVar("_M", bound=BaseModel)


def _build(model: type[_M], **data: Any) -> _M:
    """Validate a request body locally; a broken rule raises :class:`InvalidRequest`."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidRequest(
            f"{field}: {first['msg']}", code="invalid_request", field=field, rule=first["type"]
        ) from None


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        field, rule = error.get("field"), error.get("rule")
    except (ValueError, KeyError, TypeError):
        code, message, field, rule = f"http_{response.status_code}", response.text, None, None
    cls = _BY_STATUS.get(response.status_code, ApiError)
    if cls is Conflict and code == IdempotencyConflict.default_code:
        cls = IdempotencyConflict
    raise cls(message, code=code, field=field, rule=rule, status_code=response.status_code)


class GatewayClient:
    """Client of one gateway for one API key (the organisation the key belongs to).

    ``http`` may be given (e.g. an ``httpx.Client`` on an ASGI app in tests); otherwise the
    client makes and owns one.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        self._owned = http is None
        self._http = http if http is not None else httpx.Client(base_url=base_url, timeout=timeout)
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        response = self._http.request(
            method,
            self._base + path,
            json=json,
            params={k: v for k, v in (params or {}).items() if v is not None},
            headers={**self._headers, **(headers or {})},
        )
        _raise_for(response)
        return response

    # --- records ------------------------------------------------------------------------

    def submit_record(
        self,
        *,
        kind: RecordKind | str,
        payload: Mapping[str, Any],
        signature: str,
        record_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> RecordView:
        """Submit a signed record (202); retries with the same idempotency key are safe.

        Without an ``idempotency_key`` one is generated, so a retry of *this call* is safe
        only if the caller passes the same key again (or gives a ``record_id``).
        """
        body = _build(
            RecordSubmission,
            kind=kind,
            record_id=record_id,
            payload=dict(payload),
            signature=signature,
        )
        key = idempotency_key or str(uuid.uuid4())
        response = self._request(
            "POST",
            "/records",
            json=body.model_dump(mode="json", exclude_none=True),
            headers={"Idempotency-Key": key},
        )
        return RecordView.model_validate(response.json())

    def get_record(self, record_id: str) -> RecordView:
        return RecordView.model_validate(self._request("GET", f"/records/{record_id}").json())

    def list_records(
        self,
        *,
        status: RecordStatus | str | None = None,
        kind: RecordKind | str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> RecordPage:
        params = {
            "status": None if status is None else RecordStatus(status).value,
            "kind": None if kind is None else RecordKind(kind).value,
            "after": after,
            "limit": limit,
        }
        return RecordPage.model_validate(self._request("GET", "/records", params=params).json())

    # --- operations ---------------------------------------------------------------------

    def healthz(self) -> bool:
        return self._http.get(self._base + "/healthz").is_success

    def readyz(self) -> Readiness:
        """Readiness, whether ready (200) or not (503)."""
        response = self._http.get(self._base + "/readyz")
        if response.status_code not in (200, 503):
            _raise_for(response)
        return Readiness.model_validate(response.json())

    # --- API keys (admin token or an admin-scoped key) -----------------------------------

    def issue_api_key(
        self,
        *,
        org_id: str,
        org_kind: OrgKind | str,
        country: str,
        scopes: Iterable[Scope | str],
        label: str | None = None,
        expires_at: datetime | None = None,
    ) -> ApiKeyIssued:
        body = _build(
            ApiKeyCreate,
            org_id=org_id,
            org_kind=org_kind,
            country=country,
            scopes=list(scopes),
            label=label,
            expires_at=expires_at,
        )
        response = self._request(
            "POST", "/admin/api-keys", json=body.model_dump(mode="json", exclude_none=True)
        )
        return ApiKeyIssued.model_validate(response.json())

    def list_api_keys(self, *, org_id: str | None = None) -> list[ApiKeyView]:
        response = self._request("GET", "/admin/api-keys", params={"org_id": org_id})
        return ApiKeyList.model_validate(response.json()).items

    def revoke_api_key(self, key_id: str) -> ApiKeyView:
        return ApiKeyView.model_validate(
            self._request("DELETE", f"/admin/api-keys/{key_id}").json()
        )
