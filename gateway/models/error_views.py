"""The error body of every failed request and the OpenAPI ``responses`` of each error status
(``ERROR_401`` ... ``ERROR_503``), for the routes to declare."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "ERROR_401",
    "ERROR_403",
    "ERROR_404",
    "ERROR_409",
    "ERROR_413",
    "ERROR_422",
    "ERROR_503",
    "ErrorDetail",
    "ErrorResponse",
]


class ErrorDetail(BaseModel):
    code: str = Field(examples=["missing_scope"])
    message: str = Field(examples=["the API key lacks the scope 'events:write'"])
    field: str | None = Field(default=None, examples=["payload.location"])
    rule: str | None = Field(default=None, examples=["unlocode"])


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


def _error_example(code: str, message: str, **extra: str) -> dict[str, Any]:
    return {
        "model": ErrorResponse,
        "description": message,
        "content": {
            "application/json": {"example": {"error": {"code": code, "message": message, **extra}}}
        },
    }


ERROR_401: dict[int | str, dict[str, Any]] = {
    401: _error_example("invalid_api_key", "unknown API key")
}
ERROR_403: dict[int | str, dict[str, Any]] = {
    403: _error_example("missing_scope", "the API key lacks the scope 'read'")
}
ERROR_404: dict[int | str, dict[str, Any]] = {
    404: _error_example("not_found", "no record 0x5e5e...")
}
ERROR_409: dict[int | str, dict[str, Any]] = {
    409: _error_example(
        "idempotency_conflict",
        "this Idempotency-Key was already used for a different record",
        field="Idempotency-Key",
        rule="same_content",
    )
}
ERROR_413: dict[int | str, dict[str, Any]] = {
    413: _error_example(
        "payload_too_large",
        "request body larger than 1048576 bytes",
        field="body",
        rule="max_request_bytes",
    )
}
ERROR_503: dict[int | str, dict[str, Any]] = {
    503: _error_example(
        "index_unavailable", "this query needs the log index, which this gateway does not run"
    )
}
ERROR_422: dict[int | str, dict[str, Any]] = {
    422: _error_example(
        "invalid_request",
        "signature: String should match pattern",
        field="signature",
        rule="string_pattern_mismatch",
    )
}
