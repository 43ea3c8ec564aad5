"""The embedded anvil node: persistent state, free gas, chain id, and no orphan processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.chain import AnvilNode, rpc_call
from ledger.errors import NodeError
from tests.conftest import free_port

# A contract whose runtime code returns 42: deploy it and read the code back.
INIT_CODE = "0x600a600c600039600a6000f3602a60005260206000f3"
RUNTIME_CODE = "0x602a60005260206000f3"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def _wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _deploy(url: str) -> tuple[str, str]:
    sender = rpc_call(url, "eth_accounts")[0]
    tx = rpc_call(
        url, "eth_sendTransaction", [{"from": sender, "gasPrice": "0x0", "data": INIT_CODE}]
    )
    deadline = time.monotonic() + 10
    while (receipt := rpc_call(url, "eth_getTransactionReceipt", [tx])) is None:
        assert time.monotonic() < deadline, "transaction was not mined"
        time.sleep(0.05)
    return receipt["contractAddress"], receipt["blockHash"]


def test_restart_keeps_the_chain(tmp_path: Path) -> None:
    node = AnvilNode(port=free_port(), chain_id=4242, state_dir=tmp_path)
    with node:
        address, block_hash = _deploy(node.rpc_url)
        height = int(rpc_call(node.rpc_url, "eth_blockNumber"), 16)
    assert (tmp_path / "anvil-state.json").is_file()
    with node:
        assert int(rpc_call(node.rpc_url, "eth_blockNumber"), 16) == height
        assert rpc_call(node.rpc_url, "eth_getCode", [address, "latest"]) == RUNTIME_CODE
        block = rpc_call(node.rpc_url, "eth_getBlockByNumber", [hex(height), False])
        assert block["hash"] == block_hash


def test_free_gas_charges_nothing(tmp_path: Path) -> None:
    with AnvilNode(port=free_port(), free_gas=True) as node:
        assert int(rpc_call(node.rpc_url, "eth_gasPrice"), 16) == 0
        sender = rpc_call(node.rpc_url, "eth_accounts")[0]
        before = int(rpc_call(node.rpc_url, "eth_getBalance", [sender, "latest"]), 16)
        _deploy(node.rpc_url)
        after = int(rpc_call(node.rpc_url, "eth_getBalance", [sender, "latest"]), 16)
        latest = rpc_call(node.rpc_url, "eth_getBlockByNumber", ["latest", False])
    assert after == before
    assert int(latest["baseFeePerGas"], 16) == 0


def test_chain_id_is_configurable() -> None:
    with AnvilNode(port=free_port(), chain_id=1337) as node:
        assert int(rpc_call(node.rpc_url, "eth_chainId"), 16) == 1337


def test_state_of_another_chain_is_refused(tmp_path: Path) -> None:
    port = free_port()
    with AnvilNode(port=port, chain_id=1001, state_dir=tmp_path) as node:
        _deploy(node.rpc_url)
    with pytest.raises(NodeError, match="chain id 1001, not 1002"):
        AnvilNode(port=port, chain_id=1002, state_dir=tmp_path).start()


def test_busy_port_is_reported(anvil: AnvilNode) -> None:
    with pytest.raises(NodeError, match="already answers JSON-RPC"):
        AnvilNode(port=anvil.port).start()


def test_stop_ends_the_process() -> None:
    node = AnvilNode(port=free_port())
    node.start()
    pid = node.pid
    assert pid is not None
    assert _alive(pid)
    node.stop()
    assert _wait_gone(pid)
    assert not node.running


CHILD = """
import sys, time
from ledger.chain import AnvilNode
node = AnvilNode(port=int(sys.argv[1]))
node.start()
print(node.pid, flush=True)
time.sleep(600)
"""


def test_killed_parent_leaves_no_orphan() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(free_port())], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    anvil_pid = int(parent.stdout.readline())
    assert _alive(anvil_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    assert _wait_gone(anvil_pid), "anvil outlived its killed parent"


def test_cli_node_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledger.cli",
            "node",
            "--node-port",
            str(port),
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert f"http://127.0.0.1:{port}" in line
    assert int(rpc_call(f"http://127.0.0.1:{port}", "eth_chainId"), 16) == 31337
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0
    proc.stdout.close()
    with pytest.raises(OSError, match="Connection refused"):
        rpc_call(f"http://127.0.0.1:{port}", "eth_chainId", timeout=1)
    assert (tmp_path / "node" / "anvil-state.json").is_file()
