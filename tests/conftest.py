"""Shared fixtures: one anvil node for the whole session, each test isolated by a snapshot.

``anvil`` starts the node once (free gas, automine, a free port); ``w3`` gives a test a
``Web3`` connected to it and reverts every change the test made when it ends
(``evm_snapshot`` / ``evm_revert``, then :func:`catch_up_clock`).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.providers import HTTPProvider

from ledger.chain import AnvilNode, Deployment, Ledger, TxManager, deploy_suite
from ledger.stack import DEMO_PARTIES, DemoWorld, bootstrap_for, seed_demo

CHAIN_ID = 31337


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def catch_up_clock(w3: Web3) -> None:
    """Mine an empty block stamped with the wall clock after an ``evm_revert``.

    anvil's ``evm_revert`` sets its clock back to the time of the block reverted to, so over
    a session the chain would fall behind the wall clock by the time the tests took; past
    ``MAX_FUTURE_SKEW`` (300 s) a record stamped with the wall clock (as the gateway stamps
    custodial records) would be "in the future". On a real chain blocks follow the clock.
    """
    latest = int(w3.eth.get_block("latest")["timestamp"])
    now = int(time.time())
    if now > latest:
        w3.provider.make_request("evm_mine", [now])  # type: ignore[arg-type]


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
def w3(session_w3: Web3, request: pytest.FixtureRequest) -> Iterator[Web3]:
    """Web3 on the session node; the chain is reverted to its prior state after the test."""
    snapshot = session_w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    try:
        yield session_w3
    finally:
        reverted = session_w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
        assert reverted.get("result") is True, f"evm_revert failed: {reverted}"
        catch_up_clock(session_w3)
        if "relayer_tx" in request.fixturenames:
            request.getfixturevalue("relayer_tx").resync()


# ------------------------------------------------------------------------------------------
# The deployed suite and the demo world, created once per session on the session node.
# Tests that use ``ledger`` get the chain as the demo left it and their changes are reverted.
# ------------------------------------------------------------------------------------------

RELAYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@pytest.fixture(scope="session")
def relayer_tx(session_w3: Web3) -> TxManager:
    return TxManager(session_w3, RELAYER_KEY, poll_interval=0.05)


@pytest.fixture(scope="session")
def deployment(session_w3: Web3, relayer_tx: TxManager) -> Deployment:
    now = int(session_w3.eth.get_block("latest")["timestamp"])
    bootstrap = bootstrap_for(DEMO_PARTIES, relayers=[relayer_tx.address], now=now)
    return deploy_suite(session_w3, relayer_tx, bootstrap)


@pytest.fixture(scope="session")
def world(session_w3: Web3, deployment: Deployment, relayer_tx: TxManager) -> DemoWorld:
    return seed_demo(Ledger(session_w3, deployment, tx=relayer_tx))


@pytest.fixture
def ledger(
    session_w3: Web3, deployment: Deployment, relayer_tx: TxManager, world: DemoWorld
) -> Iterator[Ledger]:
    """The seeded suite; every change the test makes is reverted afterwards."""
    snapshot = session_w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    try:
        yield Ledger(session_w3, deployment, tx=relayer_tx)
    finally:
        reverted = session_w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
        relayer_tx.resync()
        assert reverted.get("result") is True, f"evm_revert failed: {reverted}"
        catch_up_clock(session_w3)


# ------------------------------------------------------------------------------------------
# Screenshots of the browser tests (tests/gateway/api/browser.py): the summary says where.
# ------------------------------------------------------------------------------------------

_STARTED = pytest.StashKey[float]()
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.time()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    started = config.stash.get(_STARTED, time.time())
    made = sorted(p for p in ARTIFACTS.rglob("*") if p.is_file() and p.stat().st_mtime >= started)
    if made:
        terminalreporter.write_sep("-", "test artifacts")
        for path in made:
            terminalreporter.write_line(str(path))
