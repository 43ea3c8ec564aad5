"""The request bodies' rules across fields are in the OpenAPI too (``SCHEMA_RULES``): a body
the schema accepts is one the model accepts, and a body the model refuses for such a rule
the schema refuses as well, so that a client (or schemathesis) generating from the OpenAPI
sends what the gateway takes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator

from tests.gateway.conftest import KeyMaker, auth

ORG = "0x" + "0a" * 32
WHEN = "2026-11-01T00:00:00Z"
LATER = "2029-11-01T00:00:00Z"
KEY = "0x" + "5b" * 20

# (path, body, whether the model takes it)
CASES: list[tuple[str, dict[str, Any], bool]] = [
    (
        "/aeo/actions",
        {"action": "certify", "operator_id": ORG, "programme": "AEOF"},
        False,
    ),
    (
        "/aeo/actions",
        {"action": "certify", "operator_id": ORG, "programme": "AEOF", "valid_from": WHEN},
        False,
    ),
    (
        "/aeo/actions",
        {
            "action": "suspend",
            "operator_id": ORG,
            "programme": "AEOF",
            "valid_from": WHEN,
            "valid_until": LATER,
        },
        False,
    ),
    (
        "/aeo/actions",
        {
            "action": "certify",
            "operator_id": ORG,
            "programme": "AEOF",
            "valid_from": WHEN,
            "valid_until": LATER,
            "nonce": 7.0,
        },
        True,
    ),
    ("/aeo/actions", {"action": "revoke", "operator_id": ORG, "programme": "AEOS"}, True),
    ("/governance/proposals", {"action": "add_key", "org_id": ORG, "valid_until": LATER}, False),
    (
        "/governance/proposals",
        {"action": "add_key", "org_id": ORG, "account": KEY, "valid_until": LATER},
        True,
    ),
    (
        "/governance/proposals",
        {"action": "add_key", "org_id": ORG, "account": KEY, "valid_until": LATER, "replaces": KEY},
        False,
    ),
    ("/governance/proposals", {"action": "revoke_certificate", "org_id": ORG}, False),
    (
        "/governance/proposals",
        {"action": "revoke_certificate", "org_id": ORG, "certificate_id": ORG},
        True,
    ),
    ("/governance/proposals", {"action": "suspend_member", "org_id": ORG}, True),
    (
        "/governance/proposals",
        {"action": "suspend_member", "org_id": ORG, "certification_id": ORG},
        False,
    ),
    ("/governance/proposals", {"action": "set_threshold", "threshold": 0}, False),
    ("/governance/executions", {}, False),
    ("/governance/executions", {"proposal_id": ORG, "proposal": {"action": 1}}, False),
    ("/governance/executions", {"proposal_id": ORG}, True),
    (
        "/attestations",
        {
            "schema": "x(bytes32 y)",
            "schema_id": ORG,
            "subject_type": "consignment",
            "subject_id": ORG,
            "data_digest": ORG,
        },
        False,
    ),
    (
        "/attestations",
        {"subject_type": "consignment", "subject_id": ORG, "data_digest": ORG},
        False,
    ),
    (
        "/attestations",
        {
            "schema_id": ORG,
            "subject_type": "certificate",
            "subject_ref": "AU-1",
            "data_digest": ORG,
        },
        False,
    ),
    (
        "/attestations",
        {
            "schema_id": ORG,
            "subject_type": "consignment",
            "subject_ref": "AU-1",
            "data_digest": ORG,
        },
        True,
    ),
    ("/events", {"biz_step": "loading", "location": "AUADL", "event_time": WHEN}, False),
    (
        "/events",
        {
            "consignment_id": ORG,
            "consignment_registrant": ORG,
            "biz_step": "loading",
            "location": "AUADL",
            "event_time": WHEN,
        },
        False,
    ),
    (
        "/events",
        {
            "consignment_ref": "AU-1",
            "consignment_id": ORG,
            "biz_step": "loading",
            "location": "AUADL",
            "event_time": WHEN,
        },
        False,
    ),
    (
        "/events",
        {
            "consignment_ref": "AU-1",
            "consignment_registrant": ORG,
            "biz_step": "loading",
            "location": "AUADL",
            "event_time": WHEN,
            "nonce": 3.0,
        },
        True,
    ),
    (
        "/consignments",
        {"consignment_id": ORG, "origin": "AU", "destination": "CN"},
        False,
    ),
]


@pytest.fixture
def spec(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def _body_schema(spec: dict[str, Any], path: str) -> Draft202012Validator:
    content = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    root = {"components": spec["components"], **content["schema"]}
    return Draft202012Validator(root)


@pytest.mark.parametrize(("path", "body", "taken"), CASES)
def test_the_openapi_says_the_rules_the_model_checks(
    spec: dict[str, Any], path: str, body: dict[str, Any], taken: bool
) -> None:
    assert _body_schema(spec, path).is_valid(body) is taken, (path, body)


# A registration naming an id is refused when the record is built (422 on a gateway with a
# chain, tested in tests/gateway/writes), after the 503 of this app without one.
ON_ANY_APP = [case for case in CASES if case[0] != "/consignments"]


@pytest.mark.parametrize(("path", "body", "taken"), ON_ANY_APP)
def test_the_gateway_answers_as_the_openapi_says(
    client: httpx.Client, make_key: KeyMaker, path: str, body: dict[str, Any], taken: bool
) -> None:
    """Without a chain (this app has none) a body the model takes reaches the route, which
    answers 503 ``no_ledger``; one it refuses is 422 before that."""
    scopes = ("events:write", "aeo:write", "governance:write", "attestations:write", "read")
    headers = auth(make_key(scopes=scopes, org_kind="customs", country="AU"))
    response = client.post(path, json=body, headers=headers)
    assert (response.status_code != 422) is taken, response.text
