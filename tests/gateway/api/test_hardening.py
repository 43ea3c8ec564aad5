"""Honest operations and inputs that used to give 500: minted keys within the minter's scopes
and revoked with it, per-key rate limits, database faults answered 503 with the reason, a
readiness that checks the databases, refused times without a timezone, readable JSON errors,
and private keys that never reach a log."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from gateway.auth import KeyStore
from gateway.config import GatewaySettings
from gateway.errors import InvalidRequest
from gateway.main import create_app
from gateway.ratelimit import RateLimiter
from gateway.services import GatewayServices
from gateway.testing import FakeRelayer
from gateway.writes.custodial_keys import SigningKeyStore
from tests.gateway.conftest import (
    ADMIN_TOKEN,
    ORG_A,
    KeyMaker,
    auth,
    make_settings,
    record_body,
    serve,
)

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


# --- keys minted by admin keys ---------------------------------------------------------


def _mint(client: httpx.Client, token: str, scopes: list[str]) -> httpx.Response:
    body = {"org_id": ORG_A, "org_kind": "carrier", "country": "NL", "scopes": scopes}
    return client.post("/admin/api-keys", json=body, headers={"Authorization": f"Bearer {token}"})


def test_an_admin_key_mints_only_within_its_own_scopes(
    client: httpx.Client, make_key: KeyMaker
) -> None:
    admin = make_key(ORG_A, scopes=("admin", "events:write", "read"))
    wider = _mint(client, admin.token, ["events:write", "aeo:write"])
    assert wider.status_code == 403
    error = wider.json()["error"]
    assert error["code"] == "scope_not_held"
    assert error["field"] == "scopes"
    assert "aeo:write" in error["message"]
    assert _mint(client, admin.token, ["events:write", "read"]).status_code == 201


def test_the_operator_mints_any_scope(client: httpx.Client) -> None:
    body = {"org_id": ORG_A, "org_kind": "carrier", "country": "NL", "scopes": ["aeo:write"]}
    answer = client.post(
        "/admin/api-keys", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert answer.status_code == 201


def test_revoking_a_key_revokes_what_it_minted_and_theirs(
    client: httpx.Client, make_key: KeyMaker, keys: KeyStore
) -> None:
    admin = make_key(ORG_A, scopes=("admin", "events:write", "read"))
    child = _mint(client, admin.token, ["admin", "read"]).json()
    grandchild = _mint(client, child["api_key"], ["read"]).json()
    sibling = make_key(ORG_A, scopes=("read",))
    for token in (child["api_key"], grandchild["api_key"]):
        assert client.get("/records", headers={"Authorization": f"Bearer {token}"}).is_success
    revoked = client.delete(
        f"/admin/api-keys/{admin.record.key_id}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert revoked.status_code == 200
    for token in (child["api_key"], grandchild["api_key"]):
        answer = client.get("/records", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "revoked_api_key"
    assert keys.get(grandchild["key_id"]).revoked_at is not None  # type: ignore[union-attr]
    assert client.get("/records", headers=auth(sibling)).is_success


def test_a_key_whose_issuer_was_revoked_directly_in_the_database_is_refused(
    client: httpx.Client, make_key: KeyMaker, settings: GatewaySettings
) -> None:
    admin = make_key(ORG_A, scopes=("admin", "read"))
    child = _mint(client, admin.token, ["read"]).json()
    db = sqlite3.connect(settings.data_dir / "gateway.sqlite3")
    with db:
        db.execute(
            "UPDATE gateway_api_keys SET revoked_at = 1 WHERE key_id = ?", (admin.record.key_id,)
        )
    db.close()
    answer = client.get("/records", headers={"Authorization": f"Bearer {child['api_key']}"})
    assert answer.status_code == 401


# --- rate limits -------------------------------------------------------------------------


def test_rate_limiter_refills_at_its_rate() -> None:
    now = [100.0]
    limiter = RateLimiter(per_second=2, burst=3, clock=lambda: now[0])
    assert [limiter.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("k") == pytest.approx(0.5)
    assert limiter.take("other") == 0.0
    now[0] += 0.5
    assert limiter.take("k") == 0.0
    assert RateLimiter(per_second=0, burst=1).take("k") == 0.0  # off


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(
    tmp_path: Path, relayer: FakeRelayer, make_key: KeyMaker
) -> None:
    settings = make_settings(tmp_path, rate_limit_per_second=0.5, rate_limit_burst=2)
    app = create_app(settings, services=GatewayServices(relayer=relayer))
    with serve(app) as client:
        key, other = make_key(), make_key()
        assert [client.get("/records", headers=auth(key)).status_code for _ in range(2)] == [
            200,
            200,
        ]
        limited = client.get("/records", headers=auth(key))
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        assert client.get("/records", headers=auth(other)).status_code == 200


def test_rate_limits_are_on_by_default() -> None:
    settings = GatewaySettings()
    assert settings.rate_limit_per_second > 0
    assert settings.rate_limit_burst >= 1


# --- inputs that gave 500 --------------------------------------------------------------


def test_a_cursor_past_the_database_integer_is_422(
    client: httpx.Client, make_key: KeyMaker
) -> None:
    answer = client.get("/records", params={"after": 2**80}, headers=auth(make_key()))
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "after"


@pytest.mark.parametrize("path", ["/aeo/mras", "/aeo/recognition", "/aeo/operators/" + ORG_A])
@pytest.mark.parametrize(
    ("at", "rule"),
    [
        ("2026-11-23T18:00:00", "timezone_aware"),  # no timezone: not silently UTC
        ("1970-01-01T00:00:00.5Z", "greater_than_equal"),  # the epoch is no time of a record
        ("102", "value_error"),  # a number is not ISO 8601
    ],
)
def test_times_must_be_iso_8601_with_an_offset(
    client: httpx.Client, make_key: KeyMaker, path: str, at: str, rule: str
) -> None:
    params = {"at": at, "a": ORG_A, "b": ORG_A, "operator_id": ORG_A, "administration": ORG_A}
    answer = client.get(path, params=params, headers=auth(make_key()))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "at"
    assert error["rule"] == rule


def test_a_json_syntax_error_names_the_body_and_a_line_and_column(
    client: httpx.Client, make_key: KeyMaker
) -> None:
    answer = client.post(
        "/records",
        content=b'{\n  "kind": "event",\n  "payload": {,}\n}',
        headers={**auth(make_key()), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "body"
    assert error["rule"] == "json_syntax"
    assert "line 3 column" in error["message"]


def test_a_body_that_is_not_utf8_is_422(client: httpx.Client, make_key: KeyMaker) -> None:
    answer = client.post(
        "/records",
        content=b"\xff\xfe{",
        headers={**auth(make_key()), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "body"


def test_a_get_of_a_post_only_route_beside_a_templated_one_is_405(
    client: httpx.Client, make_key: KeyMaker
) -> None:
    # GET /attestations/{attestation_id} would take "revocations" for an id (a 422).
    answer = client.get("/attestations/revocations", headers=auth(make_key()))
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    real = client.get("/attestations/0x" + "ab" * 31, headers=auth(make_key()))
    assert real.status_code == 422  # a malformed id on the real read route stays a 422


def test_allow_names_every_method_of_the_path(client: httpx.Client) -> None:
    answer = client.request("PUT", "/admin/api-keys")
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "POST"}


# --- secrets never reach a log ------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        "0x" + format(CURVE_ORDER + 5, "064x"),  # out of the curve's range
        "0x" + "00" * 32,  # zero
        "0x" + "ab" * 31,  # too short
        "0x" + "zz" * 32,  # not hex
    ],
    ids=["past-the-order", "zero", "short", "not-hex"],
)
def test_a_bad_private_key_is_422_and_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, secret: str
) -> None:
    store = SigningKeyStore(tmp_path / "keys", SecretStr("a secret of our own"), scrypt_n=2**10)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InvalidRequest) as raised:
        store.add(ORG_A, secret)
    assert raised.value.field == "private_key"
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None
    digits = secret[2:]
    assert digits not in str(raised.value)
    assert all(digits not in r.getMessage() for r in caplog.records)


# --- databases ------------------------------------------------------------------------------


def _locked(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    return db


def test_a_locked_outbox_is_503_with_the_reason_and_not_ready(
    tmp_path: Path, relayer: FakeRelayer, make_key: KeyMaker, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, database_busy_timeout_seconds=0.2)
    app = create_app(settings, services=GatewayServices(relayer=relayer))
    with serve(app) as client:
        key = make_key()
        lock = _locked(tmp_path / "gateway.sqlite3")
        try:
            caplog.set_level(logging.ERROR, logger="gateway.errors")
            answer = client.post("/records", json=record_body(1), headers=auth(key))
            ready = client.get("/readyz")
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert answer.status_code == 503, answer.text
        error = answer.json()["error"]
        assert (error["code"], error["rule"]) == ("database_unavailable", "locked")
        assert answer.headers["Retry-After"]
        lines = [r for r in caplog.records if r.name == "gateway.errors"]
        assert len(lines) == 1
        assert lines[0].exc_info is None
        assert "locked" in lines[0].getMessage()
        assert ready.status_code == 503
        assert "outbox" in ready.json()["failing"]
        # The lock gone, everything is back without anyone doing anything.
        assert client.post("/records", json=record_body(1), headers=auth(key)).status_code == 202
        assert client.get("/readyz").json()["checks"]["outbox"]["ok"] is True


def _corrupt(path: Path) -> None:
    """Overwrite the middle of the file's pages (not the header): a damaged b-tree."""
    size = path.stat().st_size
    with path.open("r+b") as out:
        out.seek(4096)
        out.write(b"\x5a" * max(0, size - 4096))


def test_a_damaged_outbox_is_not_ready_and_refuses_writes(
    tmp_path: Path, relayer: FakeRelayer, make_key: KeyMaker, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path)
    app: FastAPI = create_app(settings, services=GatewayServices(relayer=relayer))
    key = make_key()
    with serve(app) as client:
        for n in range(30):
            assert (
                client.post("/records", json=record_body(n), headers=auth(key)).status_code == 202
            )
        assert client.get("/readyz").json()["checks"]["outbox"]["ok"] is True
        db = sqlite3.connect(tmp_path / "gateway.sqlite3")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        _corrupt(tmp_path / "gateway.sqlite3")
        caplog.set_level(logging.ERROR, logger="gateway.errors")
        answers = [
            client.post("/records", json=record_body(n), headers=auth(key)) for n in (98, 99)
        ]
        ready = client.get("/readyz")
    assert [a.status_code for a in answers] == [503, 503], [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers} == {"database_unavailable"}
    assert ready.status_code == 503
    assert "damaged" in (ready.json()["checks"]["outbox"]["detail"] or "")
    assert len([r for r in caplog.records if r.name == "gateway.errors"]) == 2  # one a request
    assert all(r.exc_info is None for r in caplog.records if r.name == "gateway.errors")


def test_a_gateway_does_not_start_on_a_damaged_outbox_and_says_why_in_one_line(
    tmp_path: Path, relayer: FakeRelayer, make_key: KeyMaker, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path)
    make_key()
    db = sqlite3.connect(tmp_path / "gateway.sqlite3")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    (tmp_path / "gateway.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\x5a" * 8192)
    caplog.set_level(logging.ERROR, logger="gateway.main")
    app = create_app(settings, services=GatewayServices(relayer=relayer))
    with pytest.raises(Exception, match="outbox database is not usable"), serve(app):
        pass
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.main"]
    assert len(lines) == 1
    assert "outbox database not usable" in lines[0]


@pytest.mark.parametrize(
    "secret",
    ["0x" + format(CURVE_ORDER + 5, "064x"), "0x" + "00" * 32, "0x" + "ab" * 31, "0xnothex"],
    ids=["past-the-order", "zero", "short", "not-hex"],
)
def test_importing_a_bad_private_key_over_http_is_422_and_logs_nothing_of_it(
    chain_client: httpx.Client, caplog: pytest.LogCaptureFixture, secret: str
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = chain_client.post(
        "/admin/signing-keys",
        json={"org_id": ORG_A, "private_key": secret},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["rule"]) == ("private_key", "secp256k1_key")
    digits = secret[2:]
    assert digits not in answer.text
    assert all(digits not in r.getMessage() for r in caplog.records)
    assert all(r.exc_info is None or digits not in str(r.exc_info[1]) for r in caplog.records)
