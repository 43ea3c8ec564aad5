"""The real thing: uvicorn in a subprocess, ``kill -9`` mid-way, restart, exactly once.

The gateway runs ``gateway.main:app_factory`` with the fake relayer selected by the
``relayer_factory`` setting (``gateway.testing:make_relayer``); the fake chain is a SQLite file
in the data directory, fsync'd on every mined transaction, that logs every record each mined
transaction carried (no replay protection, so a duplicate would show).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from gateway.auth import issue_key
from gateway.testing import FakeChain
from tests.conftest import free_port
from tests.gateway.conftest import ORG_A, make_settings, record_body

REPO = Path(__file__).resolve().parents[2]
TOTAL = 500
KILL_AFTER = 250


@contextmanager
def gateway_process(
    data_dir: Path, port: int, log: Path, *, busy_timeout: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "LEDGER_DATA_DIR": str(data_dir),
            "LEDGER_RELAYER_FACTORY": "gateway.testing:make_relayer",
            "LEDGER_BATCH_MAX_SIZE": "20",
            "LEDGER_BATCH_LINGER_SECONDS": "0.02",
            "LEDGER_RELAY_POLL_SECONDS": "0.02",
            "LEDGER_RELAY_RETRY_SECONDS": "0.1",
        }
    )
    if busy_timeout is not None:
        env["LEDGER_DATABASE_BUSY_TIMEOUT_SECONDS"] = busy_timeout
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "gateway.main:app_factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=data_dir, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gateway did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def post(client: httpx.Client, n: int) -> int | None:
    try:
        response = client.post(
            "/records", json=record_body(n), headers={"Idempotency-Key": f"rec-{n}"}
        )
    except httpx.TransportError:
        return None
    return response.status_code


@pytest.mark.slow
def test_kill_9_mid_way_every_accepted_record_confirmed_exactly_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    key = issue_key(
        settings, org_id=ORG_A, org_kind="carrier", country="NL", scopes=["events:write", "read"]
    )
    headers = {"Authorization": f"Bearer {key.token}"}
    port = free_port()
    log = tmp_path / "gateway.log"
    accepted_before_kill: list[int] = []

    with (
        gateway_process(tmp_path, port, log) as process,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as client,
    ):
        for n in range(TOTAL):
            status = post(client, n)
            assert status == 202, status
            accepted_before_kill.append(n)
            if len(accepted_before_kill) == KILL_AFTER:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
                break
    with FakeChain(tmp_path / "fake-chain.sqlite3") as chain:
        on_chain_at_kill = chain.inclusions()
    assert sum(on_chain_at_kill.values()) < TOTAL

    with (
        gateway_process(tmp_path, port, log),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as client,
    ):
        # The client retries everything with the same keys: accepted ones are not stored again.
        replayed = [post(client, n) for n in accepted_before_kill[-5:]]
        assert replayed == [202] * 5
        for n in range(KILL_AFTER, TOTAL):
            assert post(client, n) == 202
        deadline = time.monotonic() + 40
        confirmed: list[str] = []
        while time.monotonic() < deadline:
            confirmed, after = [], 0
            while True:
                page = client.get(
                    "/records", params={"status": "confirmed", "after": after, "limit": 1000}
                ).json()
                confirmed += [r["record_id"] for r in page["items"]]
                if page["next_after"] is None:
                    break
                after = page["next_after"]
            if len(confirmed) == TOTAL:
                break
            time.sleep(0.1)
        assert len(confirmed) == TOTAL, log.read_text()[-3000:]

    with FakeChain(tmp_path / "fake-chain.sqlite3") as chain:
        inclusions = chain.inclusions()
    expected = {f"0x{n:064x}" for n in range(TOTAL)}
    assert set(inclusions) == expected
    duplicated = {rid: count for rid, count in inclusions.items() if count != 1}
    assert duplicated == {}
    assert set(confirmed) == expected
