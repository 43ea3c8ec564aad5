"""Faults of the gateway's storage, on a real process (uvicorn, the fake relayer of
``gateway.testing``): a disk that is full for a while, a database locked by another process.
Each time: answers are 202 or 503 (never a 500 or a dropped connection), nothing accepted is
lost or relayed twice, and the gateway recovers without anyone doing anything.

The full disk is a file size limit (``RLIMIT_FSIZE``) put on the running gateway and lifted
again (``prlimit``): no root, no loop device; Python ignores SIGXFSZ, so a write past the
limit fails with EFBIG, as a write to a full disk fails with ENOSPC.
"""

from __future__ import annotations

import json
import resource
import sqlite3
import time
from pathlib import Path

import httpx

from gateway.auth import issue_key
from gateway.testing import FakeChain
from tests.conftest import free_port
from tests.gateway.conftest import ORG_A, make_settings, record_body
from tests.gateway.test_process import gateway_process

ROUNDS = 120


def _post(client: httpx.Client, n: int) -> int:
    response = client.post("/records", json=record_body(n), headers={"Idempotency-Key": f"rec-{n}"})
    if response.status_code == 503:
        assert response.json()["error"]["code"] in {"database_unavailable", "unavailable"}
    return response.status_code


def _confirmed(client: httpx.Client) -> set[str]:
    seen: set[str] = set()
    after = 0
    while True:
        page = client.get(
            "/records", params={"status": "confirmed", "after": after, "limit": 1000}
        ).json()
        seen |= {r["record_id"] for r in page["items"]}
        if page["next_after"] is None:
            return seen
        after = page["next_after"]


def _wait_confirmed(client: httpx.Client, count: int, *, seconds: float = 40) -> set[str]:
    deadline = time.monotonic() + seconds
    confirmed: set[str] = set()
    while time.monotonic() < deadline:
        confirmed = _confirmed(client)
        if len(confirmed) >= count:
            break
        time.sleep(0.2)
    return confirmed


def _exactly_once(tmp_path: Path, expected: set[str]) -> None:
    with FakeChain(tmp_path / "fake-chain.sqlite3") as chain:
        inclusions = chain.inclusions()
    assert set(inclusions) == expected
    assert {rid: n for rid, n in inclusions.items() if n != 1} == {}


def test_a_full_disk_for_a_while_loses_and_repeats_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    key = issue_key(
        settings, org_id=ORG_A, org_kind="carrier", country="NL", scopes=["events:write", "read"]
    )
    port = free_port()
    with (
        gateway_process(tmp_path, port, Path("/dev/null")) as process,
        httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {key.token}"},
            timeout=30,
        ) as client,
    ):
        accepted = {n for n in range(20) if _post(client, n) == 202}
        assert accepted == set(range(20))
        _wait_confirmed(client, 20)
        # The disk fills up: no file of the gateway may grow past its size now.
        sizes = [p.stat().st_size for p in tmp_path.glob("*.sqlite3*")]
        limit = max(sizes)
        unlimited = resource.RLIM_INFINITY
        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (limit, unlimited))
        refused: list[int] = []
        for n in range(20, ROUNDS):
            status = _post(client, n)
            assert status in (202, 503), status
            (accepted.add(n) if status == 202 else refused.append(n))
        assert refused, "the size limit never bit: the test proves nothing"
        assert client.get("/readyz").status_code == 503
        # Space again: the same records, retried with the same keys, go through.
        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (unlimited, unlimited))
        for n in refused:
            assert _post(client, n) == 202
            accepted.add(n)
        assert process.poll() is None
        confirmed = _wait_confirmed(client, ROUNDS)
        assert len(confirmed) == ROUNDS
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
    _exactly_once(tmp_path, {f"0x{n:064x}" for n in range(ROUNDS)})


def test_a_database_locked_by_another_process_for_a_while(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    key = issue_key(
        settings, org_id=ORG_A, org_kind="carrier", country="NL", scopes=["events:write", "read"]
    )
    port = free_port()
    with (
        gateway_process(tmp_path, port, tmp_path / "gateway.log", busy_timeout="0.3"),
        httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {key.token}"},
            timeout=30,
        ) as client,
    ):
        assert all(_post(client, n) == 202 for n in range(10))
        lock = sqlite3.connect(tmp_path / "gateway.sqlite3", isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            during = [_post(client, n) for n in range(10, 20)]
            assert client.get("/readyz").status_code == 503
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert set(during) == {503}
        assert all(_post(client, n) == 202 for n in range(10, 40))
        assert len(_wait_confirmed(client, 40)) == 40
    _exactly_once(tmp_path, {f"0x{n:064x}" for n in range(40)})


def test_the_index_file_deleted_under_a_live_gateway_is_rebuilt(tmp_path: Path) -> None:
    from tests.gateway.live import ledger_up

    data_dir = tmp_path / "data"
    with ledger_up(data_dir, log=tmp_path / "ledger.log") as gateway:
        demo = json.loads((data_dir / "demo.json").read_text(encoding="utf-8"))
        ref = demo["consignment"]["ref"]
        carrier = {"Authorization": f"Bearer {gateway.demo_key('Oceanic Container Line')}"}
        reader = {"Authorization": f"Bearer {gateway.demo_key('Australian Border Force')}"}
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            now = int(time.time())

            def post(n: int) -> None:
                event = {
                    "consignment_ref": ref,
                    "biz_step": "inspecting",
                    "disposition": "in_progress",
                    "location": "CNSHA",
                    "event_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600 + n)),
                }
                answer = client.post(
                    "/events", json=event, headers={**carrier, "Idempotency-Key": f"ev-{n}"}
                )
                assert answer.status_code == 202, answer.text

            def timeline() -> dict[str, object]:
                answer = client.get(f"/consignments/{ref}/events", headers=reader)
                if answer.status_code == 503:  # while the index is rebuilt: said, not a 500
                    assert answer.json()["error"]["code"] == "database_unavailable"
                    return {"event_count": -1, "head_matches_chain": False, "events": []}
                assert answer.status_code == 200, answer.text
                body: dict[str, object] = answer.json()
                return body

            def settled(count: int) -> dict[str, object]:
                deadline = time.monotonic() + 60
                view = timeline()
                while time.monotonic() < deadline:
                    view = timeline()
                    if view["event_count"] == count and view["head_matches_chain"]:
                        break
                    time.sleep(0.5)
                return view

            before = timeline()["event_count"]
            assert isinstance(before, int)
            for n in range(3):
                post(n)
            view = settled(before + 3)
            assert view["event_count"] == before + 3
            for suffix in ("", "-wal", "-shm"):
                (data_dir / f"index.sqlite3{suffix}").unlink(missing_ok=True)
            for n in range(3, 5):
                post(n)
            view = settled(before + 5)
            assert view["head_matches_chain"] is True
            assert view["event_count"] == before + 5
            assert len(view["events"]) == before + 5  # type: ignore[arg-type]
            assert (data_dir / "index.sqlite3").exists()
            deadline = time.monotonic() + 30
            while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert client.get("/readyz").status_code == 200
        log = gateway.log.read_text(errors="replace")
    assert "was deleted; rebuilding it from the chain" in log


def test_ledger_up_exits_1_at_once_when_its_port_is_taken(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    from tests.gateway.live import REPO, ledger_env

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "gateway.cli",
                "up",
                "--data-dir",
                str(tmp_path / "data"),
                "--node-port",
                str(free_port()),
                "--gateway-port",
                str(port),
            ],
            cwd=REPO,
            env=ledger_env(tmp_path / "data"),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        elapsed = time.monotonic() - started
    finally:
        taken.close()
    assert done.returncode == 1, done.stderr[-3000:]
    assert "is not serving" in done.stderr
    assert elapsed < 120
    assert "anvil stopped" in done.stderr  # the node it started is stopped too
