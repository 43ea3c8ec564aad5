"""The OpenAPI document: every status a route can answer is declared, every route with an
API key says its scope (``x-required-scope``, its description, its 403 example), and the
signed-event example works when copied."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.config import GatewaySettings
from gateway.main import create_app
from gateway.models.stored import RecordKind
from gateway.writes.kinds import decode_record
from ledger.records import ContainerNumber


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = create_app(GatewaySettings(data_dir=tmp_path_factory.mktemp("openapi")))
    document: dict[str, Any] = app.openapi()
    return document


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "delete", "put", "patch"}
    ]


def test_every_route_with_a_key_declares_the_statuses_around_it(schema: dict[str, Any]) -> None:
    for path, method, operation in _operations(schema):
        statuses = set(operation["responses"])
        if operation.get("security"):
            assert {"401", "403", "422", "429", "503"} <= statuses, (path, method)
            headers = operation["responses"]["429"].get("headers", {})
            assert "Retry-After" in headers, (path, method)
        if "requestBody" in operation:
            assert {"413", "422"} <= statuses, (path, method)
        if "{" in path and operation.get("security"):
            assert "404" in statuses, (path, method)


@pytest.mark.parametrize(
    ("path", "method", "scope"),
    [
        ("/events", "post", "events:write"),
        ("/events/bulk", "post", "events:write"),
        ("/certificates/drawdowns/batch/signed", "post", "certificates:write"),
        ("/attestations/signed", "post", "attestations:write"),
        ("/aeo/actions", "post", "aeo:write"),
        ("/aeo/mras", "get", "read"),
        ("/records", "get", "read"),
        ("/verify", "post", "read"),
        ("/admin/api-keys", "post", "admin"),
        ("/governance/proposals", "post", "governance:write"),
    ],
)
def test_each_route_names_its_scope_and_its_403_example_too(
    schema: dict[str, Any], path: str, method: str, scope: str
) -> None:
    operation = schema["paths"][path][method]
    assert operation["x-required-scope"] == scope
    assert f"Scope: `{scope}`." in operation["description"]
    example = operation["responses"]["403"]["content"]["application/json"]["example"]
    assert example["error"]["message"] == f"the API key lacks the scope {scope!r}"


def test_no_403_example_names_a_scope_the_route_does_not_need(schema: dict[str, Any]) -> None:
    for path, method, operation in _operations(schema):
        if "403" not in operation["responses"]:
            continue
        example = (
            operation["responses"]["403"].get("content", {}).get("application/json", {})
        ).get("example")
        scope = operation.get("x-required-scope")
        if example and example["error"]["code"] == "missing_scope":
            assert scope is not None, (path, method)
            assert repr(scope) in example["error"]["message"], (path, method)


def test_the_signed_event_example_decodes_with_an_iso_6346_container(
    schema: dict[str, Any],
) -> None:
    body = schema["paths"]["/events/signed"]["post"]["requestBody"]["content"]["application/json"]
    ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
    examples = schema["components"]["schemas"][ref]["examples"]
    message = examples[0]["message"]
    event = decode_record(RecordKind.EVENT, message)
    container = bytes(event.container).decode("ascii")  # type: ignore[attr-defined]
    assert len(container) == 11
    assert str(ContainerNumber(container)) == container


def test_document_digest_is_said_to_be_keccak_256(schema: dict[str, Any]) -> None:
    field = schema["components"]["schemas"]["CertificateCreate"]["properties"]["document_digest"]
    assert "keccak-256" in field["description"]
    record_view = schema["components"]["schemas"]["RecordView"]["properties"]
    assert "certificate_id" in record_view
