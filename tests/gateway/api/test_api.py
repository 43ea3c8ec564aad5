"""Errors, operations endpoints, request ids, CORS, OpenAPI and the typed client."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from gateway.client import GatewayClient
from gateway.config import GatewaySettings
from gateway.errors import (
    IdempotencyConflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from gateway.logs import JsonFormatter
from gateway.main import create_app
from gateway.services import GatewayServices
from gateway.testing import FakeChain, FakeRelayer
from gateway.writes.outbox import RecordKind, RecordStatus
from ledger.errors import InvalidLocode
from tests.gateway.conftest import (
    ADMIN_TOKEN,
    ORG_B,
    SIGNATURE,
    KeyMaker,
    auth,
    make_settings,
    record_body,
    serve,
)


def test_422_names_the_field_and_rule(client: httpx.Client, make_key: KeyMaker) -> None:
    body = record_body(1)
    body["signature"] = "0x1234"
    response = client.post("/records", json=body, headers=auth(make_key()))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["field"] == "signature"
    assert error["rule"] == "string_pattern_mismatch"
    missing = client.post("/records", json={"kind": "event"}, headers=auth(make_key()))
    assert missing.json()["error"]["field"] == "payload"
    assert missing.json()["error"]["rule"] == "missing"
    unknown_kind = client.post(
        "/records", json=record_body(2, kind="parcel"), headers=auth(make_key())
    )
    assert unknown_kind.json()["error"]["field"] == "kind"


def test_ledger_validation_error_becomes_422_with_field_and_rule(
    settings: GatewaySettings, make_key: KeyMaker
) -> None:
    def validator(caller: object, submission: object) -> str:
        raise InvalidLocode("payload.location", "unlocode", "XXXXX")

    app = create_app(settings, services=GatewayServices(record_validator=validator))
    with serve(app) as client:
        response = client.post("/records", json=record_body(1), headers=auth(make_key()))
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "invalid_locode",
            "message": "payload.location: unlocode (got 'XXXXX')",
            "field": "payload.location",
            "rule": "unlocode",
        }
    }


def test_413_on_oversized_body(tmp_path: object, make_key: KeyMaker) -> None:
    settings = make_settings(tmp_path, max_request_bytes=2048)  # type: ignore[arg-type]
    app = create_app(settings)
    big = record_body(1, blob="x" * 4096)
    with serve(app) as client:
        declared = client.post("/records", json=big, headers=auth(make_key()))
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "payload_too_large"
        assert "x-request-id" in declared.headers

        def chunks() -> Iterator[bytes]:
            data = json.dumps(big).encode()
            for start in range(0, len(data), 1000):
                yield data[start : start + 1000]

        chunked = client.post(
            "/records",
            content=chunks(),
            headers={**auth(make_key()), "Content-Type": "application/json"},
        )
        assert chunked.status_code == 413
        small = client.post("/records", json=record_body(2), headers=auth(make_key()))
        assert small.status_code == 202


def test_unknown_route_is_json_404(client: httpx.Client) -> None:
    response = client.get("/no/such/route")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    wrong_method = client.put("/records")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_unexpected_error_is_500_json_and_logged(
    settings: GatewaySettings, make_key: KeyMaker, caplog: pytest.LogCaptureFixture
) -> None:
    def validator(caller: object, submission: object) -> str:
        raise KeyError("internal detail")

    app = create_app(settings, services=GatewayServices(record_validator=validator))
    with serve(app) as client, caplog.at_level(logging.ERROR, logger="gateway.errors"):
        response = client.post("/records", json=record_body(1), headers=auth(make_key()))
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "internal error"}}
    assert any(r.name == "gateway.errors" and r.exc_info for r in caplog.records)


def test_healthz(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_ready_and_not_ready(settings: GatewaySettings, relayer: FakeRelayer) -> None:
    state = {"rpc": True, "lag": 3}

    def rpc() -> None:
        if not state["rpc"]:
            raise ConnectionError("connection refused")

    services = GatewayServices(
        relayer=relayer,
        readiness_checks={"rpc": rpc, "deployment": lambda: True},
        index_lag=lambda: int(state["lag"]),
    )
    app = create_app(settings, services=services)
    with serve(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert set(ready.json()["checks"]) == {
            "outbox",
            "relayer",
            "rpc",
            "deployment",
            "index_lag",
        }
        state["rpc"] = False
        state["lag"] = 100
        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503
        body = not_ready.json()
        assert body["failing"] == ["rpc", "index_lag"]
        assert body["checks"]["rpc"]["detail"] == "connection refused"
        assert "100 blocks behind" in body["checks"]["index_lag"]["detail"]
        assert "gateway_index_lag_blocks 100.0" in client.get("/metrics").text


def test_readyz_without_relayer_names_it(settings: GatewaySettings) -> None:
    with serve(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["relayer"]


def test_metrics_exposes_the_metric_names(client: httpx.Client, make_key: KeyMaker) -> None:
    client.post("/records", json=record_body(1), headers=auth(make_key()))
    client.get("/no/such/route")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in (
        "gateway_http_requests_total",
        "gateway_http_request_duration_seconds",
        "gateway_outbox_records",
        "gateway_relay_batch_size",
        "gateway_relay_confirmation_seconds",
        "gateway_index_lag_blocks",
        "gateway_relay_errors_total",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    assert 'route="/records",status="202"' in text
    assert 'route="<unmatched>",status="404"' in text


def _samples(client: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of one scrape of /metrics: (name, labels) -> value."""
    text = client.get("/metrics").text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples[(name, frozenset(labels.items()))]


def _observed(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str) -> float:
    """A labelled histogram's ``_count`` or ``_sum`` for events (0 before its first one)."""
    return samples.get((name, frozenset({("kind", "event")})), 0.0)


def _scrape_until(
    client: httpx.Client,
    done: Callable[[dict[tuple[str, frozenset[tuple[str, str]]], float]], bool],
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    deadline = time.monotonic() + 15
    samples = _samples(client)
    while not done(samples) and time.monotonic() < deadline:
        time.sleep(0.02)
        samples = _samples(client)
    return samples


def test_metrics_values_follow_the_outbox_the_relay_and_the_index(
    tmp_path: Path, chain: FakeChain, make_key: KeyMaker
) -> None:
    """Values, not only names: outbox depth by state as records queue, are sent and are
    confirmed; batch sizes and confirmation latency once a batch is relayed; the index lag
    measured on every scrape (no /readyz call needed), NaN while it cannot be measured."""
    relayer = FakeRelayer(chain, mine_on_broadcast=False)  # sent transactions wait in a pool
    lag: dict[str, int | None] = {"blocks": 7}

    def index_lag() -> int:
        if lag["blocks"] is None:
            raise ConnectionError("node unreachable")
        return lag["blocks"]

    # A batch of 10 goes at once; fewer records wait a minute for company.
    settings = make_settings(tmp_path, batch_max_size=10, batch_linger_seconds=60)
    services = GatewayServices(relayer=relayer, index_lag=index_lag)
    headers = auth(make_key())
    depth = "gateway_outbox_records"
    with serve(create_app(settings, services=services)) as client:
        samples = _samples(client)
        assert _value(samples, "gateway_index_lag_blocks") == 7
        assert _value(samples, depth, state="accepted") == 0
        lag["blocks"] = 2
        assert _value(_samples(client), "gateway_index_lag_blocks") == 2

        for n in range(3):
            assert client.post("/records", json=record_body(n), headers=headers).status_code == 202
        samples = _samples(client)
        assert _value(samples, depth, state="accepted") == 3
        assert _value(samples, depth, state="submitted") == 0
        assert _observed(samples, "gateway_relay_batch_size_count") == 0

        for n in range(3, 10):
            assert client.post("/records", json=record_body(n), headers=headers).status_code == 202
        # The batch is stored as submitted, then its size observed: wait for both.
        samples = _scrape_until(
            client,
            lambda s: (
                _value(s, depth, state="submitted") == 10
                and _observed(s, "gateway_relay_batch_size_count") == 1
            ),
        )
        assert _value(samples, depth, state="submitted") == 10
        assert _value(samples, depth, state="accepted") == 0
        assert _observed(samples, "gateway_relay_batch_size_count") == 1
        assert _observed(samples, "gateway_relay_batch_size_sum") == 10
        assert _observed(samples, "gateway_relay_confirmation_seconds_count") == 0

        assert relayer.mine_pending() == 1
        samples = _scrape_until(client, lambda s: _value(s, depth, state="confirmed") == 10)
        assert _value(samples, depth, state="confirmed") == 10
        assert _value(samples, depth, state="submitted") == 0
        assert _observed(samples, "gateway_relay_confirmation_seconds_count") == 10
        assert _observed(samples, "gateway_relay_confirmation_seconds_sum") > 0

        lag["blocks"] = None
        assert math.isnan(_value(_samples(client), "gateway_index_lag_blocks"))
        lag["blocks"] = 0
        assert _value(_samples(client), "gateway_index_lag_blocks") == 0


def test_two_apps_have_separate_registries(settings: GatewaySettings) -> None:
    one, two = create_app(settings), create_app(settings)
    one.state.metrics.index_lag.set(5)
    assert two.state.metrics.index_lag._value.get() == 0


def test_request_id_echoed_generated_and_logged(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gateway.access"):
        echoed = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
        generated = client.get("/healthz")
        invalid = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert echoed.headers["x-request-id"] == "trace-42"
    assert len(generated.headers["x-request-id"]) == 32
    assert invalid.headers["x-request-id"] != "bad id\twith spaces"
    access = [r for r in caplog.records if r.name == "gateway.access"]
    line = json.loads(JsonFormatter().format(access[0]))
    assert line["request_id"] == "trace-42"
    assert line["logger"] == "gateway.access"
    assert line["status"] == 200
    assert line["route"] == "/healthz"


def test_cors_origins_are_configurable(tmp_path: object) -> None:
    settings = make_settings(tmp_path, cors_origins=["https://verifier.example"])  # type: ignore[arg-type]
    with serve(create_app(settings)) as client:
        allowed = client.options(
            "/records",
            headers={
                "Origin": "https://verifier.example",
                "Access-Control-Request-Method": "POST",
            },
        )
        other = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://verifier.example"
    assert "access-control-allow-origin" not in other.headers


def test_openapi_has_an_example_for_every_route(app: FastAPI) -> None:
    schema = app.openapi()
    components = schema["components"]["schemas"]

    def has_example(node: object) -> bool:
        if isinstance(node, dict):
            if "example" in node or "examples" in node:
                return True
            ref = node.get("$ref")
            if isinstance(ref, str) and has_example(components[ref.rsplit("/", 1)[1]]):
                return True
            return any(has_example(v) for v in node.values())
        if isinstance(node, list):
            return any(has_example(v) for v in node)
        return False

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            success = next(v for k, v in operation["responses"].items() if k.startswith("2"))
            assert has_example(success), f"{method.upper()} {path}: no response example"
            if "requestBody" in operation:
                assert has_example(operation["requestBody"]), f"{method.upper()} {path}"


def test_typed_client_round_trip_and_errors(client: httpx.Client, make_key: KeyMaker) -> None:
    key = make_key(scopes=("events:write", "read"))
    gateway = GatewayClient("", key.token, http=client)
    view = gateway.submit_record(
        kind=RecordKind.EVENT, payload={"n": 1}, signature=SIGNATURE, idempotency_key="k1"
    )
    assert view.status in set(RecordStatus)
    again = gateway.submit_record(
        kind="event", payload={"n": 1}, signature=SIGNATURE, idempotency_key="k1"
    )
    assert again.record_id == view.record_id
    assert gateway.get_record(view.record_id).record_id == view.record_id
    assert [r.record_id for r in gateway.list_records().items] == [view.record_id]
    assert gateway.healthz()
    assert gateway.readyz().status == "ready"

    with pytest.raises(IdempotencyConflict) as conflict:
        gateway.submit_record(
            kind="event", payload={"n": 2}, signature=SIGNATURE, idempotency_key="k1"
        )
    assert conflict.value.status_code == 409
    with pytest.raises(NotFound):
        gateway.get_record("0x" + "ff" * 32)
    with pytest.raises(PermissionDenied) as denied:
        gateway.submit_record(kind="aeo_action", payload={}, signature=SIGNATURE)
    assert denied.value.code == "missing_scope"
    with pytest.raises(InvalidRequest) as invalid:
        gateway.submit_record(kind="event", payload={}, signature="0x00")
    assert invalid.value.field == "signature"
    with pytest.raises(Unauthenticated):
        GatewayClient("", "clk_0000000000000000_" + "A" * 43, http=client).list_records()

    admin = GatewayClient("", ADMIN_TOKEN, http=client)
    issued = admin.issue_api_key(org_id=ORG_B, org_kind="customs", country="FR", scopes=["read"])
    assert [k.key_id for k in admin.list_api_keys(org_id=ORG_B)] == [issued.key_id]
    assert admin.revoke_api_key(issued.key_id).revoked_at is not None
    with pytest.raises(Unauthenticated):
        GatewayClient("", issued.api_key, http=client).list_records()
