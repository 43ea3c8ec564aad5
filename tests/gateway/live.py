"""A live gateway as a user starts it: ``ledger up`` in a subprocess on the embedded default
(its own anvil, SQLite databases in a data directory), on free loopback ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
LEDGER = [sys.executable, "-m", "gateway.cli"]


@dataclass
class LiveGateway:
    process: subprocess.Popen[bytes]
    data_dir: Path
    url: str
    node_port: int
    log: Path

    def demo_key(self, name: str | None = None) -> str:
        keys = json.loads((self.data_dir / "demo-api-keys.json").read_text(encoding="utf-8"))
        entry = keys[name] if name is not None else next(iter(keys.values()))
        return str(entry["api_key"])

    def demo_org(self, name: str | None = None) -> str:
        keys = json.loads((self.data_dir / "demo-api-keys.json").read_text(encoding="utf-8"))
        entry = keys[name] if name is not None else next(iter(keys.values()))
        return str(entry["org_id"])


def ledger_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["PYTHONPATH"] = str(REPO)
    env["LEDGER_DATA_DIR"] = str(data_dir)
    env.update({f"LEDGER_{k.upper()}": v for k, v in settings.items()})
    return env


@contextmanager
def ledger_up(
    data_dir: Path, *, log: Path, timeout: float = 120, **settings: str
) -> Iterator[LiveGateway]:
    """``ledger up`` until the gateway answers /healthz; SIGTERM (then SIGKILL) afterwards."""
    node_port, port = free_port(), free_port()
    command = [
        *LEDGER,
        "up",
        "--data-dir",
        str(data_dir),
        "--node-port",
        str(node_port),
        "--gateway-port",
        str(port),
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env=ledger_env(data_dir, **settings), stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"ledger up did not start:\n{log.read_text()[-5000:]}")
            time.sleep(0.2)
        yield LiveGateway(process, data_dir, url, node_port, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
