"""``ledger up`` as a newcomer runs it: node, deployment, demo data and gateway; Ctrl-C
stops everything; a second run finds the same chain and deployment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ledger.node import rpc_call
from tests.conftest import free_port


def _wait_http(url: str, timeout: float = 90) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bytes(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _start(data: Path, node_port: int, gateway_port: int, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    try:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway.cli",
                "up",
                "--data-dir",
                str(data),
                "--node-port",
                str(node_port),
                "--gateway-port",
                str(gateway_port),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=data.parent,
        )
    finally:
        handle.close()


def _stop(proc: subprocess.Popen[bytes], sig: int) -> int:
    proc.send_signal(sig)
    return proc.wait(timeout=30)


def _anvil_alive(port: int) -> bool:
    try:
        rpc_call(f"http://127.0.0.1:{port}", "eth_chainId", timeout=1)
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_up_serves_then_stops_cleanly_and_restarts_on_the_same_chain(tmp_path: Path) -> None:
    data = tmp_path / "data"
    node_port, gateway_port = free_port(), free_port()
    log = tmp_path / "up.log"
    proc = _start(data, node_port, gateway_port, log)
    try:
        health = json.loads(_wait_http(f"http://127.0.0.1:{gateway_port}/healthz"))
        assert health["status"] == "ok"
        assert int(rpc_call(f"http://127.0.0.1:{node_port}", "eth_chainId"), 16) == 31337
        manifest = json.loads((data / "deployments" / "31337.json").read_text())
        keys = json.loads((data / "demo-api-keys.json").read_text())
        assert len(keys) == 5
        assert all(k["api_key"].startswith("clk_") for k in keys.values())
        demo = json.loads((data / "demo.json").read_text())
        height = int(rpc_call(f"http://127.0.0.1:{node_port}", "eth_blockNumber"), 16)
    finally:
        code = _stop(proc, signal.SIGINT)
    assert code == 0, log.read_text()
    assert not _anvil_alive(node_port), "Ctrl-C left anvil running"
    output = log.read_text()
    assert "Customs ledger is up." in output
    assert "deployed now" in output
    assert "Traceback" not in output

    proc = _start(data, node_port, gateway_port, log)
    try:
        _wait_http(f"http://127.0.0.1:{gateway_port}/healthz")
        assert int(rpc_call(f"http://127.0.0.1:{node_port}", "eth_blockNumber"), 16) >= height
        again = json.loads((data / "deployments" / "31337.json").read_text())
        assert again == manifest
        code_at = rpc_call(
            f"http://127.0.0.1:{node_port}",
            "eth_getCode",
            [manifest["contracts"]["Consignments"]["address"], "latest"],
        )
        assert len(code_at) > 2
    finally:
        code = _stop(proc, signal.SIGTERM)
    assert code == 0
    assert not _anvil_alive(node_port)
    second = log.read_text()[len(output) :]
    assert "re-used at block" in second
    assert demo["consignment"]["ref"] in second
    assert os.stat(data / "demo-api-keys.json").st_mode & 0o077 == 0
