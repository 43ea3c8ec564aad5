"""The OpenAPI document: every status a route can answer, and the scope each route needs.

FastAPI documents what each route declares; some answers come from the layers around every
route: 401 (no or bad API key), 403 (the key lacks the scope), 422 (a parameter or body that
does not validate), 413 (a body over ``max_request_bytes``), 429 (the key's rate limit),
503 (a database or the chain node that cannot be used right now) and 404 (a path naming
nothing). :func:`document_app` adds those shared declarations to each operation that can
answer them, and the scope it needs (``x-required-scope``, a line in its description, and
a 403 example that names it). A route's own declarations win over the shared ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from gateway.models.error_views import ErrorResponse
from gateway.models.stored import RecordKind
from gateway.writes.kinds import KIND_PATHS, KIND_SCOPES

__all__ = ["SCOPE_ATTRIBUTE", "document_app", "required_scope"]

SCOPE_ATTRIBUTE = "required_scope"
"""The attribute of a dependency that names the scope it enforces (``deps.require_scope``)."""

_REF = "#/components/schemas/ErrorResponse"


def _error(description: str, code: str, message: str, **extra: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": _REF},
                "example": {"error": {"code": code, "message": message, **extra}},
            }
        },
    }


def _dependencies(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _dependencies(sub)


def _api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every API route, through included routers."""
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            yield str(context.path_format or route.path_format), route


def required_scope(route: APIRoute, path: str | None = None) -> str | None:
    """The scope ``route`` needs: from its dependencies, else from the record kind its path
    writes (``KIND_PATHS``); None for routes without an API key."""
    methods = route.methods or set()
    for call in _dependencies(route.dependant):
        scope = getattr(call, SCOPE_ATTRIBUTE, None)
        if scope is not None:
            return str(scope)
    if "POST" not in methods:
        return None
    full = path or route.path
    if full == "/records":
        return "the scope of the record's kind"
    best: tuple[int, RecordKind] | None = None
    for kind, prefix in KIND_PATHS.items():
        if (full == prefix or full.startswith(prefix + "/")) and (
            best is None or len(prefix) > best[0]
        ):
            best = (len(prefix), kind)
    if best is not None:
        return KIND_SCOPES[best[1]].value
    return None


def _is_secured(operation: dict[str, Any]) -> bool:
    return bool(operation.get("security"))


def _shared_responses(
    path: str, route: APIRoute, operation: dict[str, Any], scope: str | None
) -> dict[str, dict[str, Any]]:
    shared: dict[str, dict[str, Any]] = {}
    params = operation.get("parameters", [])
    if _is_secured(operation):
        shared["401"] = _error(
            "No API key, or an unknown, revoked or expired one.",
            "invalid_api_key",
            "unknown API key",
        )
        if scope is not None:
            shared["403"] = _error(
                f"The API key lacks the scope `{scope}`, or acts for another organisation.",
                "missing_scope",
                f"the API key lacks the scope {scope!r}",
            )
        else:
            shared["403"] = _error(
                "The request acts for another organisation than the API key's.",
                "wrong_organisation",
                "the record names another organisation than the API key's",
            )
        shared["429"] = {
            **_error(
                "The API key is over its rate limit; retry after `Retry-After` seconds.",
                "rate_limited",
                "this API key is over its rate limit of 200 requests a second",
                rule="rate_limit",
            ),
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before the next request.",
                    "schema": {"type": "integer"},
                }
            },
        }
    if any(p.get("in") == "path" for p in params):
        shared["404"] = _error("Nothing with this id.", "not_found", "no record 0x5e5e...")
    if params or "requestBody" in operation or _is_secured(operation):
        shared["422"] = _error(
            "A parameter or the body does not validate; `field` and `rule` say which and why.",
            "invalid_request",
            "signature: String should match pattern",
            field="signature",
            rule="string_pattern_mismatch",
        )
    if "requestBody" in operation or "POST" in (route.methods or set()):
        shared["413"] = _error(
            "The request body is larger than `max_request_bytes`.",
            "payload_too_large",
            "request body larger than 1048576 bytes",
            field="body",
            rule="max_request_bytes",
        )
    if path != "/healthz":
        shared["503"] = {
            **_error(
                "A dependency cannot be used right now (database locked, full or damaged; "
                "chain node down; no index); the message says which.",
                "database_unavailable",
                "the database is locked by another process",
                rule="locked",
            ),
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait (database faults).",
                    "schema": {"type": "integer"},
                }
            },
        }
    return shared


def _document(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorResponse" not in components:
        components.update(ErrorResponse.model_json_schema(ref_template=_REF_TEMPLATE)["$defs"])
        components["ErrorResponse"] = {
            k: v
            for k, v in ErrorResponse.model_json_schema(ref_template=_REF_TEMPLATE).items()
            if k != "$defs"
        }
    for path, route in _api_routes(app):
        path_item = schema.get("paths", {}).get(path, {})
        scope = required_scope(route, path)
        for method in route.methods or set():
            operation = path_item.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in _shared_responses(path, route, operation, scope).items():
                if status == "403" and status in responses and scope is not None:
                    responses[status] = response  # the generic example named 'read'
                responses.setdefault(status, response)
            if scope is not None and _is_secured(operation):
                operation["x-required-scope"] = scope
                line = f"Scope: `{scope}`."
                description = operation.get("description", "")
                if line not in description:
                    operation["description"] = f"{description}\n\n{line}".strip()
    return schema


_REF_TEMPLATE = "#/components/schemas/{model}"


def document_app(app: FastAPI) -> None:
    """Make ``app.openapi()`` add the shared responses and scopes (once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = _document(app, schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
