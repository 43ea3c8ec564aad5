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
        ├── TooManyRequests               429  (per API key; with Retry-After)
        ├── ServiceUnavailable            503
        ├── OutboxUpgradeError            503  (an outbox that cannot be upgraded; nothing changed)
        ├── RecordRejected                (relayer -> outbox: this record can never be sent)
        ├── BatchTooLarge                 (relayer -> outbox: form smaller batches of this kind)
        └── ApiError                      (client side: any other status from the gateway)

Every error response has the body ``{"error": {"code", "message", "field"?, "rule"?}}``.
:func:`install_exception_handlers` registers the handlers: ledger and gateway errors, FastAPI's
``RequestValidationError`` (422 naming the first failing field and the pydantic rule), Starlette's
``HTTPException`` (unknown route 404, wrong method 405, ...), a database that is locked, full,
read-only or damaged (503 ``database_unavailable`` naming which, logged in one line: see
:func:`database_fault`) and anything else (500, logged with its traceback; the message does not
leak internals).

The same classes are raised by :class:`gateway.client.GatewayClient` from an error response.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
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
    "TooManyRequests",
    "Unauthenticated",
    "contract_error_field",
    "contract_error_status",
    "database_fault",
    "error_body",
    "first_validation_error",
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


class TooManyRequests(GatewayError):
    """The API key made more requests than its rate limit allows (429, with Retry-After)."""

    status_code = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, rule="rate_limit")
        self.retry_after = max(1, math.ceil(retry_after))


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


# The request field a contract refusal is about: (custodial body field, signed message field).
_CONTRACT_FIELDS: dict[str, tuple[str, str]] = {
    "DeadlineExpired": ("deadline", "deadline"),
    "IssueTooOld": ("issued_at", "issuedAt"),
    "LodgementTooOld": ("lodged_at", "lodgedAt"),
    "InvalidValidity": ("valid_until", "validUntil"),
    "InvalidExpiry": ("expires_at", "expiresAt"),
    "InvalidLocation": ("location", "location"),
    "InvalidBizStep": ("biz_step", "bizStep"),
    "InvalidDisposition": ("disposition", "disposition"),
    "ZeroQuantity": ("quantity", "quantity"),
    "QuantityExceeded": ("quantity", "quantity"),
    "NonceAlreadyUsed": ("nonce", "nonce"),
    "UnknownConsignment": ("consignment_ref", "consignmentId"),
    "UnknownCertificate": ("certificate_id", "certificateId"),
    "UnknownProgramme": ("programme", "programme"),
    "UnknownSchema": ("schema_id", "schemaId"),
    "InvalidSubject": ("subject_id", "subjectId"),
    "ExporterNotTrader": ("exporter", "exporter"),
    "InvalidCounterpart": ("counterpart", "counterpart"),
    "InvalidOperator": ("operator_id", "operatorId"),
}


def contract_error_field(name: str, path: str) -> str | None:
    """The field of the request at ``path`` that the contract error ``name`` is about: the
    body's field on a custodial route, ``message.<field>`` on a ``/signed`` one,
    ``payload.<field>`` on ``POST /records``; None when no one field is to blame."""
    pair: tuple[str, str] | None = _CONTRACT_FIELDS.get(name)
    if name == "RecordTimeInFuture":  # the record's own time: an event's, a certificate's
        if path.startswith("/events"):
            pair = ("event_time", "eventTime")
        elif path in ("/certificates", "/certificates/signed"):
            pair = ("issued_at", "issuedAt")
    if pair is None:
        return None
    if path == "/records":
        return f"payload.{pair[1]}"
    if path.endswith("/signed"):
        return f"message.{pair[1]}"
    return pair[0]


def _ledger_error_response(exc: LedgerError, path: str = "") -> JSONResponse:
    if isinstance(exc, ContractError):
        cause = exc.cause if isinstance(exc, BatchItemFailed) else exc
        # A batch answered as a whole (events signed together) names the event that fails.
        field = (
            f"events[{exc.index}]"
            if isinstance(exc, BatchItemFailed)
            else contract_error_field(cause.name, path)
        )
        return JSONResponse(
            error_body(cause.name, str(cause), field=field, rule="contract"),
            status_code=contract_error_status(exc),
        )
    if isinstance(exc, GatewayError):
        headers = None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(
            error_body(exc.code, exc.message, field=exc.field, rule=exc.rule),
            status_code=exc.status_code,
            headers=headers,
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
    return _ledger_error_response(exc, request.url.path)


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


def first_validation_error(errors: list[Any]) -> tuple[str, str, str, str]:
    """``(code, field, rule, message)`` of the error to report among pydantic ``errors``
    (a domain rule first: it says more than a union branch that did not match)."""
    first = sorted(errors, key=_domain_first)[0]
    field = _field_of(first.get("loc", ()))
    code, rule = _rule_of(first)
    return code, field, rule, f"{field}: {_message_of(first)}"


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    static = _static_methods(request)
    if static and request.method not in static:
        # GET /attestations/revocations reached GET /attestations/{attestation_id} with an id
        # that is none: the resource is the POST-only route of that name, so 405.
        return JSONResponse(
            error_body(
                "method_not_allowed", f"{request.url.path} allows {', '.join(sorted(static))}"
            ),
            status_code=405,
            headers={"Allow": ", ".join(sorted(static))},
        )
    # A domain rule (UN/LOCODE, ISO 6346, ...) says more than a union branch that did not
    # match, so errors that carry one come first.
    errors = sorted(exc.errors(), key=_domain_first)
    if not errors:
        return JSONResponse(error_body("invalid_request", "invalid request"), status_code=422)
    first = errors[0]
    if first.get("type") == "json_invalid":
        return _json_syntax_error(first, exc.body)
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


def _json_syntax_error(err: Any, document: Any) -> JSONResponse:
    """A body that is not JSON: the field is ``body`` and the message says where (line and
    column, as an editor shows them), not a byte offset posing as a field name."""
    loc = err.get("loc", ())
    position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    reason = str((err.get("ctx") or {}).get("error") or "not valid JSON")
    where = ""
    if position is not None and isinstance(document, str):
        try:
            json.loads(document)
        except json.JSONDecodeError as parsed:
            where = f" at line {parsed.lineno} column {parsed.colno}"
    elif position is not None:
        where = f" at character {position + 1}"
    message = f"body: not valid JSON ({reason}{where})"
    body = error_body("invalid_json", message, field="body", rule="json_syntax")
    body["error"]["details"] = [{"field": "body", "rule": "json_syntax", "message": message}]
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
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # Bytes that are not text (invalid UTF-8) never reach the JSON parser.
        message = "body: not valid JSON (not UTF-8 text)"
        body = error_body("invalid_json", message, field="body", rule="json_syntax")
        body["error"]["details"] = [{"field": "body", "rule": "json_syntax", "message": message}]
        return JSONResponse(body, status_code=422)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"no route {request.method} {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names the methods of the first route that matched the path only; a path
        # served by several routes (GET and POST /admin/api-keys) allows all of theirs.
        allowed = _allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
    return JSONResponse(
        error_body(code, message), status_code=exc.status_code, headers=headers or None
    )


def _static_methods(request: Request) -> set[str]:
    """The methods of the routes whose path is exactly the request's (no path parameters)."""
    return _route_methods(request)[0]


def _allowed_methods(request: Request) -> set[str]:
    static, templated = _route_methods(request)
    return static or templated


def _route_methods(request: Request) -> tuple[set[str], set[str]]:
    from fastapi import routing
    from starlette.routing import Match

    static: set[str] = set()
    templated: set[str] = set()
    for context in routing.iter_route_contexts(request.app.routes):
        route = context.original_route
        methods = getattr(route, "methods", None)
        path_format = context.path_format or getattr(route, "path_format", None)
        if not methods or path_format is None:
            continue
        match, _ = route.matches({**request.scope, "method": next(iter(methods))})
        if match is not Match.NONE:
            (templated if "{" in path_format else static).update(methods)
    # A path that is a route of its own (/attestations/revocations) is that resource, not
    # an id of the templated route beside it (/attestations/{attestation_id}).
    for found in (static, templated):
        if "GET" in found:
            found.add("HEAD")
    return static, templated


_DB_FAULTS: tuple[tuple[str, str, str], ...] = (
    # (text in the driver's message, rule, what the operator reads)
    ("database is locked", "locked", "the database is locked by another process"),
    ("database table is locked", "locked", "the database is locked by another process"),
    ("disk is full", "disk_full", "the database's disk is full"),
    ("disk i/o error", "io_error", "the database's disk failed a read or write"),
    ("readonly database", "read_only", "the database is read-only"),
    ("read-only", "read_only", "the database is read-only"),
    ("malformed", "corrupt", "the database file is damaged"),
    ("not a database", "corrupt", "the database file is damaged"),
    ("unable to open database", "missing", "the database file cannot be opened"),
    ("no such table", "missing", "the database has lost its tables"),
    ("could not connect", "unreachable", "the database server is not reachable"),
    ("connection refused", "unreachable", "the database server is not reachable"),
    ("server closed the connection", "unreachable", "the database server is not reachable"),
    ("terminating connection", "unreachable", "the database server is not reachable"),
    ("no space left", "disk_full", "the database's disk is full"),
)


def database_fault(exc: BaseException) -> tuple[str, str] | None:
    """``(rule, reason)`` when ``exc`` says the database cannot be used right now (locked,
    full, read-only, damaged, gone, unreachable), else None.

    These are faults of the gateway's storage, not of the request: they are answered 503 with
    the reason, and a write is never half done (each one is a single transaction).
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DBAPIError | sqlite3.Error | OSError):
            text = str(getattr(seen, "orig", None) or seen).lower()
            for needle, rule, reason in _DB_FAULTS:
                if needle in text:
                    return rule, reason
            # A lost connection is the database's fault; a bad statement is ours (a 500).
            if isinstance(seen, OSError) or (
                isinstance(seen, DBAPIError) and seen.connection_invalidated
            ):
                return "unavailable", "the database is not available"
        seen = seen.__cause__ or seen.__context__
    return None


def _database_response(request: Request, rule: str, reason: str) -> JSONResponse:
    # One line, no traceback: the operator needs the reason, not the stack.
    logger.error(
        "database unavailable (%s) on %s %s: %s", rule, request.method, request.url.path, reason
    )
    return JSONResponse(
        error_body("database_unavailable", reason, rule=rule),
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    fault = database_fault(exc)
    if fault is not None:
        if fault[0] == "corrupt":
            # Which file? The outbox's integrity check answers, and write routes heed it.
            probe = getattr(request.app.state, "outbox_probe", None)
            if probe is not None:
                probe.recheck()
        return _database_response(request, *fault)
    return await _on_unexpected(request, exc)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("internal_error", "internal error"), status_code=500)


def install_exception_handlers(app: FastAPI) -> None:
    """Register the gateway's error handlers on ``app`` (see the module docstring)."""
    app.add_exception_handler(LedgerError, _on_ledger_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(sqlite3.Error, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected)
