"""Two gateways (replicas) on one PostgreSQL database never overdraw a certificate together.

Each replica has its own validator, so its own in-process drawdown lock; what serialises them
is the database (a PostgreSQL advisory lock held from the balance check until the record is
in the shared outbox). Two drawdowns of 3,000 LTR of a 4,500 LTR certificate, sent at the
same moment, one to each replica: one is accepted, the other refused with QuantityExceeded.
Skipped without the PostgreSQL server outside CI (``tests/system_services.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth import KeyStore
from gateway.main import create_app
from gateway.services import GatewayServices
from gateway.writes.ledger_services import LedgerServices
from gateway.writes.outbox import RecordKind
from gateway.writes.validation import ChainValidator
from ledger.chain import Ledger
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import prepare
from tests.gateway.conftest import (
    ALL_WRITE_SCOPES,
    KIND_NAMES,
    make_settings,
    org_hex,
    serve,
    signing_key_store,
)
from tests.system_services import postgres_cluster


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_cluster(user="gateway", prefix="gateway-replicas-pg-") as url:
        yield url


def test_two_replicas_on_one_database_never_overdraw(
    pg_url: str,
    ledger: Ledger,
    world: DemoWorld,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Widen the window between reading the outbox's pending drawdowns and storing the new
    # one, so that replicas that are not serialised do overlap there (and overdraw).
    checked = ChainValidator._check_pending_drawdowns

    def slow_check(self: ChainValidator, record: Any, *, outbox: Any) -> None:
        checked(self, record, outbox=outbox)
        time.sleep(0.3)

    monkeypatch.setattr(ChainValidator, "_check_pending_drawdowns", slow_check)
    settings = make_settings(tmp_path, gateway_database_url=pg_url)
    store = signing_key_store(tmp_path / "keystore")
    exporter = world.parties["exporter"]
    store.add(org_hex(exporter), exporter.private_key)
    with KeyStore.open(pg_url) as keys:
        token = keys.issue(
            org_id=org_hex(exporter),
            org_kind=KIND_NAMES[exporter.kind],
            country=exporter.country,
            scopes=ALL_WRITE_SCOPES,
        ).token
    replicas = [
        create_app(
            settings,
            # Each replica opens the key store itself, as separate processes would.
            services=GatewayServices(
                chain=LedgerServices(
                    ledger=ledger, signing_keys=signing_key_store(tmp_path / "keystore")
                )
            ),
        )
        for _ in range(2)
    ]
    refs = list(prepare(ledger, world, RecordKind.DRAWDOWN).consignment_refs.values())[:2]
    certificate = "0x" + world.certificate_id.hex()
    barrier = threading.Barrier(len(refs))
    answers: dict[str, httpx.Response] = {}

    def draw(client: httpx.Client, ref: str) -> None:
        data = {
            "certificate_id": certificate,
            "consignment_ref": ref,
            "quantity": {"amount": "3000", "unit": "LTR"},
        }
        barrier.wait(timeout=30)
        answers[ref] = client.post(
            "/certificates/drawdowns", json=data, headers={"Authorization": f"Bearer {token}"}
        )

    with serve(replicas[0]) as first, serve(replicas[1]) as second:
        for client in (first, second):  # FastAPI builds a route on its first request: not racing
            warm = client.post(
                "/certificates/drawdowns", json={}, headers={"Authorization": f"Bearer {token}"}
            )
            assert warm.status_code == 422
            # Readiness writes to the shared PostgreSQL outbox too (no relayer here: 503).
            outbox = client.get("/readyz").json()["checks"]["outbox"]
            assert outbox == {"ok": True, "detail": "writable"}
        threads = [
            threading.Thread(target=draw, args=((first, second)[i % 2], ref))
            for i, ref in enumerate(refs)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    codes = sorted(
        (r.status_code, (r.json().get("error") or {}).get("code")) for r in answers.values()
    )
    assert codes == [(202, None), (409, "QuantityExceeded")], codes
