"""Records over HTTP, with the submitter thread relaying to the fake chain."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import create_engine, func, select

from gateway.config import GatewaySettings
from gateway.main import create_app
from gateway.services import GatewayServices
from gateway.testing import FakeChain, FakeRelayer
from gateway.writes.outbox import records_table
from tests.gateway.conftest import ORG_A, KeyMaker, auth, record_body, serve


def wait_until_all(client: httpx.Client, headers: dict[str, str], status: str, count: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        items = client.get(
            "/records", params={"status": status, "limit": 1000}, headers=headers
        ).json()["items"]
        if len(items) == count:
            return
        time.sleep(0.02)
    raise AssertionError(f"not all {count} records reached {status}")


def row_count(settings: GatewaySettings) -> int:
    engine = create_engine(settings.gateway_db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(records_table)).scalar_one())
    finally:
        engine.dispose()


def test_submit_answers_202_with_record_id_and_location(
    client: httpx.Client, make_key: KeyMaker
) -> None:
    response = client.post("/records", json=record_body(5), headers=auth(make_key()))
    assert response.status_code == 202
    body = response.json()
    assert body["record_id"] == f"0x{5:064x}"
    assert body["status"] in {"accepted", "submitted", "confirmed"}
    assert response.headers["location"] == f"/records/{body['record_id']}"


def test_record_id_is_derived_when_not_given(client: httpx.Client, make_key: KeyMaker) -> None:
    headers = auth(make_key())
    body = record_body(1)
    del body["record_id"]
    first = client.post("/records", json=body, headers=headers)
    second = client.post("/records", json=body, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json()["record_id"] == second.json()["record_id"]
    assert first.json()["record_id"].startswith("0x")


def test_idempotent_by_record_id_and_by_key_over_http(
    settings: GatewaySettings, make_key: KeyMaker
) -> None:
    app = create_app(settings)  # no relayer: the answers cannot race a state change
    headers = auth(make_key())
    with serve(app) as client:
        first = client.post("/records", json=record_body(1), headers=headers)
        again = client.post("/records", json=record_body(1), headers=headers)
        assert first.status_code == again.status_code == 202
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers

        keyed = {**headers, "Idempotency-Key": "retry-7"}
        body = record_body(2)
        del body["record_id"]
        one = client.post("/records", json=body, headers=keyed)
        two = client.post("/records", json=body, headers=keyed)
        assert one.json() == two.json()
        changed = client.post("/records", json=record_body(3), headers=keyed)
        assert changed.status_code == 409
        assert changed.json()["error"]["code"] == "idempotency_conflict"
    assert row_count(settings) == 2


def test_records_are_relayed_in_batches_and_confirmed(
    client: httpx.Client, make_key: KeyMaker, relayer: FakeRelayer, chain: FakeChain
) -> None:
    headers = auth(make_key(scopes=("events:write", "certificates:write", "read")))
    for n in range(25):
        kind = "certificate_issue" if n % 5 == 0 else "event"
        assert client.post("/records", json=record_body(n, kind=kind), headers=headers).is_success
    wait_until_all(client, headers, "confirmed", 25)
    assert chain.inclusions() == {f"0x{n:064x}": 1 for n in range(25)}
    assert all(len(tx.raw_tx) > 0 for tx in relayer.signed)
    one = client.get(f"/records/0x{3:064x}", headers=headers).json()
    assert one["status"] == "confirmed"
    assert one["tx_hash"] in {tx.tx_hash for tx in relayer.signed}
    assert one["block_number"] >= 1
    assert one["org_id"] == ORG_A
    metrics = client.get("/metrics").text
    assert 'gateway_outbox_records{state="confirmed"} 25.0' in metrics
    assert "gateway_relay_batch_size_count" in metrics
    assert 'gateway_relay_confirmation_seconds_count{kind="event"} 20.0' in metrics


def test_failed_record_shows_code_and_reason(
    settings: GatewaySettings, chain: FakeChain, make_key: KeyMaker
) -> None:
    relayer = FakeRelayer(chain, reject=lambda r: "CertificateExhausted()")
    app = create_app(settings, services=GatewayServices(relayer=relayer))
    headers = auth(make_key(scopes=("certificates:write", "read")))
    with serve(app) as client:
        client.post("/records", json=record_body(1, kind="drawdown"), headers=headers)
        wait_until_all(client, headers, "failed", 1)
        record = client.get(f"/records/0x{1:064x}", headers=headers).json()
    assert record["error"] == {"code": "rejected", "reason": "CertificateExhausted()"}


def test_list_pages_through_own_records(client: httpx.Client, make_key: KeyMaker) -> None:
    headers = auth(make_key())
    for n in range(5):
        client.post("/records", json=record_body(n), headers=headers)
    first = client.get("/records", params={"limit": 3}, headers=headers).json()
    assert len(first["items"]) == 3
    rest = client.get(
        "/records", params={"limit": 3, "after": first["next_after"]}, headers=headers
    ).json()
    ids = [r["record_id"] for r in first["items"] + rest["items"]]
    assert ids == [f"0x{n:064x}" for n in range(5)]
    assert rest["next_after"] is None
    bad = client.get("/records", params={"status": "lost"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "status"
