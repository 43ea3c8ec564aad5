"""Gateway errors and the one place where errors become HTTP responses.

The gateway extends the library's error tree (:mod:`ledger.errors`) with the errors of its own
edge; every one carries the HTTP status and the machine-readable ``code`` it is answered with::

    LedgerError                       (ledger.errors)
    ├── ValidationError (ValueError)  -> 422, code derived from the class (invalid_locode, ...)
    ├── NodeError, DeploymentError,
    │   TransactionError              -> 503 chain_unavailable
    ├── ContractError                 -> by category, code = the contract error's name:
    │                                    SignerNotAuthorised 403, DuplicateRecord 409,
    │                                    RecordNotFound 404, RecordStateConflict 409,
    │                                    InvalidRecord (and unknown reverts) 422
    └── GatewayError
        ├── InvalidRequest (ValueError)   422  (the request's shape; names field and rule)
        ├── Unauthenticated               401
        ├── PermissionDenied              403
        ├── NotFound                      404
        ├── Conflict                      409
        │   └── IdempotencyConflict       409  (same key or record id, different content)
        ├── PayloadTooLarge               413
        ├── ServiceUnavailable            503
        ├── OutboxUpgradeError            503  (an outbox that cannot be upgraded; nothing changed)
        ├── RecordRejected                (relayer -> outbox: this record can never be sent)
        ├── BatchTooLarge                 (relayer -> outbox: form smaller batches of this kind)
        └── ApiError                      (client side: any other status from the gateway)

Every error response has the body ``{"error": {"code", "message", "field"?, "rule"?}}``.
:func:`install_exception_handlers` registers the handlers: ledger and gateway errors, FastAPI's
``RequestValidationError`` (422 naming the first failing field and the pydantic rule), Starlette's
``HTTPException`` (unknown route 404, wrong method 405, ...) and anything else (500, logged with
its traceback; the message does not leak internals).

The same classes are raised by :class:`gateway.client.GatewayClient` from an error response.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.chain import (
    BatchItemFailed,
    ContractError,
    DuplicateRecord,
    RecordNotFound,
    RecordStateConflict,
    SignerNotAuthorised,
)
from ledger.errors import (
    DeploymentError,
    EpcisDocumentRejected,
    LedgerError,
    NodeError,
    TransactionError,
    ValidationError,
)

__all__ = [
    "ApiError",
    "BatchTooLarge",
    "Conflict",
    "GatewayError",
    "IdempotencyConflict",
    "InvalidRequest",
    "NotFound",
    "OutboxUpgradeError",
    "PayloadTooLarge",
    "PermissionDenied",
    "RecordRejected",
    "ServiceUnavailable",
    "Unauthenticated",
    "contract_error_status",
    "error_body",
    "install_exception_handlers",
]

logger = logging.getLogger("gateway.errors")


class GatewayError(LedgerError):
    """Root of the gateway's own errors; ``status_code`` and ``code`` say how it is answered."""

    status_code: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        rule: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.rule = rule
        if status_code is not None:
            self.status_code = status_code  # type: ignore[misc]


class InvalidRequest(GatewayError, ValueError):
    """The request does not have the required shape (422); ``field`` and ``rule`` say why."""

    status_code = 422
    default_code = "invalid_request"


class Unauthenticated(GatewayError):
    """No API key, an unknown or malformed one, or a revoked or expired one (401)."""

    status_code = 401
    default_code = "unauthenticated"


class PermissionDenied(GatewayError):
    """The key lacks the scope, or the request would act for another organisation (403)."""

    status_code = 403
    default_code = "forbidden"


class NotFound(GatewayError):
    """No such resource, or not one the caller's organisation may see (404)."""

    status_code = 404
    default_code = "not_found"


class Conflict(GatewayError):
    """The request conflicts with the stored state (409)."""

    status_code = 409
    default_code = "conflict"


class IdempotencyConflict(Conflict):
    """An Idempotency-Key or record id was reused for a different record (409)."""

    default_code = "idempotency_conflict"


class PayloadTooLarge(GatewayError):
    """The request body is larger than ``max_request_bytes`` (413)."""

    status_code = 413
    default_code = "payload_too_large"


class ServiceUnavailable(GatewayError):
    """A dependency (chain node, database) is not available right now (503)."""

    status_code = 503
    default_code = "unavailable"


class OutboxUpgradeError(GatewayError):
    """An outbox of the first schema that cannot be moved to the current one as it is: raised
    when the outbox is opened (the gateway does not start), with nothing changed."""

    status_code = 503
    default_code = "outbox_upgrade_failed"


class RecordRejected(GatewayError):
    """Raised by a relayer's ``sign``: the contract would refuse this record (not transient).

    ``code`` and ``message`` end up as the failed record's error code and reason.
    """

    status_code = 422
    default_code = "rejected"

    def __init__(self, record_id: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code, field="record_id")
        self.record_id = record_id


class BatchTooLarge(GatewayError):
    """Raised by a relayer's ``sign``: the batch does not fit one transaction's gas.

    Nothing is failed: the relayer has lowered its limit for the kind, and the submitter
    forms smaller batches on its next pass.
    """

    status_code = 503
    default_code = "batch_too_large"


class ApiError(GatewayError):
    """Client side: an error response whose status has no more specific class."""


def error_body(
    code: str, message: str, *, field: str | None = None, rule: str | None = None
) -> dict[str, Any]:
    """The JSON body of every error response."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    if rule is not None:
        error["rule"] = rule
    return {"error": error}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def contract_error_status(exc: ContractError) -> int:
    """The HTTP status of a contract error, by its category (``ledger.chain.contract_errors``)."""
    if isinstance(exc, BatchItemFailed):
        return contract_error_status(exc.cause)
    if isinstance(exc, SignerNotAuthorised):
        return 403
    if isinstance(exc, DuplicateRecord | RecordStateConflict):
        return 409
    if isinstance(exc, RecordNotFound):
        return 404
    return 422  # InvalidRecord, and revert data we cannot name


def _ledger_error_response(exc: LedgerError) -> JSONResponse:
    if isinstance(exc, ContractError):
        cause = exc.cause if isinstance(exc, BatchItemFailed) else exc
        # A batch answered as a whole (events signed together) names the event that fails.
        field = f"events[{exc.index}]" if isinstance(exc, BatchItemFailed) else None
        return JSONResponse(
            error_body(cause.name, str(cause), field=field, rule="contract"),
            status_code=contract_error_status(exc),
        )
    if isinstance(exc, GatewayError):
        return JSONResponse(
            error_body(exc.code, exc.message, field=exc.field, rule=exc.rule),
            status_code=exc.status_code,
        )
    if isinstance(exc, ValidationError):
        code = "invalid_value" if type(exc) is ValidationError else _snake(type(exc).__name__)
        rule = _STANDARD_RULES.get(type(exc).__name__, exc.rule)
        body = error_body(code, str(exc), field=exc.field, rule=rule)
        if isinstance(exc, EpcisDocumentRejected):
            # Every problem of the document, each with its event index and JSON pointer.
            body["error"]["details"] = [e.as_dict() for e in exc.errors]
        return JSONResponse(body, status_code=422)
    if isinstance(exc, NodeError | DeploymentError | TransactionError):
        logger.warning("chain unavailable: %s", exc)
        return JSONResponse(
            error_body("chain_unavailable", "the chain node is not available"), status_code=503
        )
    logger.error("unhandled ledger error", exc_info=exc)
    return JSONResponse(error_body("internal_error", "internal error"), status_code=500)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    # Union and validator branches show up in pydantic locations ("is-instance[Quantity]",
    # "function-after[...]", "typed-dict", a union member's model name): not field names.
    parts = [
        str(part)
        for part in loc
        if not (isinstance(part, str) and ("[" in part or part in _BRANCH_TAGS))
    ]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _on_ledger_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LedgerError)
    return _ledger_error_response(exc)


_STANDARD_RULES: dict[str, str] = {
    "InvalidLocode": "unlocode",
    "InvalidContainerNumber": "iso6346",
    "InvalidHsCode": "hs2022",
    "InvalidCountryCode": "iso3166_alpha2",
    "InvalidBusinessStep": "cbv_bizstep",
    "InvalidDisposition": "cbv_disposition",
    "InvalidQuantity": "quantity",
    "InvalidUnit": "unece_rec20",
    "InvalidGln": "gs1_gln",
    "InvalidSignature": "signature",
    "InvalidTypedData": "eip712",
}
"""The standard a domain value type enforces, as the ``rule`` of a 422."""


def _rule_of(err: Any) -> tuple[str, str]:
    """(code, rule) of one pydantic error: a domain value names its standard."""
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ValidationError):
        name = type(cause).__name__
        return _snake(name), _STANDARD_RULES.get(name, cause.rule)
    return "invalid_request", str(err.get("type", "invalid"))


def _message_of(err: Any) -> str:
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ValidationError):
        return str(cause)
    return str(err.get("msg", "invalid value"))


_BRANCH_TAGS = frozenset({"typed-dict", "EventCreate", "SignedSubmission"})


def _domain_first(err: Any) -> int:
    cause = (err.get("ctx") or {}).get("error")
    return 0 if isinstance(cause, ValidationError) else 1


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # A domain rule (UN/LOCODE, ISO 6346, ...) says more than a union branch that did not
    # match, so errors that carry one come first.
    errors = sorted(exc.errors(), key=_domain_first)
    if not errors:
        return JSONResponse(error_body("invalid_request", "invalid request"), status_code=422)
    first = errors[0]
    field = _field_of(first.get("loc", ()))
    code, rule = _rule_of(first)
    message = f"{field}: {_message_of(first)}"
    body = error_body(code, message, field=field, rule=rule)
    body["error"]["details"] = [
        {
            "field": _field_of(err.get("loc", ())),
            "rule": _rule_of(err)[1],
            "message": _message_of(err),
        }
        for err in errors
    ]
    return JSONResponse(body, status_code=422)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"no route {request.method} {request.url.path}"
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("internal_error", "internal error"), status_code=500)


def install_exception_handlers(app: FastAPI) -> None:
    """Register the gateway's error handlers on ``app`` (see the module docstring)."""
    app.add_exception_handler(LedgerError, _on_ledger_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
