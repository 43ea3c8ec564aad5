"""Shared fixtures: one anvil node for the whole session, each test isolated by a snapshot.

``anvil`` starts the node once (free gas, automine, a free port); ``w3`` gives a test a
``Web3`` connected to it and reverts every change the test made when it ends
(``evm_snapshot`` / ``evm_revert``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from web3 import Web3
from web3.providers import HTTPProvider

from ledger.node import AnvilNode

CHAIN_ID = 31337


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    node = AnvilNode(port=free_port(), chain_id=CHAIN_ID, free_gas=True)
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def session_w3(anvil: AnvilNode) -> Web3:
    return Web3(HTTPProvider(anvil.rpc_url, request_kwargs={"timeout": 30}))


@pytest.fixture
def w3(session_w3: Web3) -> Iterator[Web3]:
    """Web3 on the session node; the chain is reverted to its prior state after the test."""
    snapshot = session_w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    try:
        yield session_w3
    finally:
        reverted = session_w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
        assert reverted.get("result") is True, f"evm_revert failed: {reverted}"
