"""Two gateways (replicas) on one PostgreSQL database share each API key's rate limit: the
buckets are rows of the database, spent atomically, so a key gets its burst once in all,
not once per replica. Skipped without the PostgreSQL server outside CI
(``tests/system_services.py``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from gateway.auth import KeyStore, Scope
from gateway.db import create_gateway_engine
from gateway.main import create_app
from gateway.ratelimit import SharedRateLimiter
from gateway.services import GatewayServices
from tests.gateway.conftest import ORG_A, auth, make_settings, serve
from tests.system_services import postgres_cluster

BURST = 4


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_cluster(user="gateway", prefix="gateway-ratelimit-pg-") as url:
        yield url


def test_replicas_on_one_database_share_a_keys_limit(pg_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        gateway_database_url=pg_url,
        rate_limit_per_second=0.01,  # one request per 100 s once the burst is spent
        rate_limit_burst=BURST,
    )
    with KeyStore.open(pg_url) as keys:
        key = keys.issue(org_id=ORG_A, org_kind="carrier", country="NL", scopes=(Scope.READ,))
        other = keys.issue(org_id=ORG_A, org_kind="carrier", country="NL", scopes=(Scope.READ,))
    with ExitStack() as stack:
        replicas = [
            stack.enter_context(serve(create_app(settings, services=GatewayServices())))
            for _ in range(2)
        ]
        statuses = [
            replicas[i % 2].get("/records", headers=auth(key)).status_code for i in range(BURST + 2)
        ]
        assert statuses == [200] * BURST + [429, 429], statuses
        limited = replicas[1].get("/records", headers=auth(key))
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        # Another key has its own bucket, on either replica.
        assert replicas[0].get("/records", headers=auth(other)).status_code == 200
        assert replicas[1].get("/records", headers=auth(other)).status_code == 200


def test_a_shared_bucket_refills_at_its_rate(pg_url: str) -> None:
    engine = create_gateway_engine(pg_url)
    try:
        one, two = (SharedRateLimiter(engine, per_second=20, burst=2) for _ in range(2))
        assert [one.take("refill"), two.take("refill")] == [0.0, 0.0]
        wait = one.take("refill")
        assert 0 < wait <= 1 / 20
        time.sleep(2 / 20)
        assert two.take("refill") == 0.0
        assert SharedRateLimiter(engine, per_second=0, burst=1).take("refill") == 0.0  # off
    finally:
        engine.dispose()
