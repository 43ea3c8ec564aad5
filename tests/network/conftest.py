"""The network suite's fixture: geth v1.13.15 (built once into the cache if missing) and one
four-node Clique network (3 signers + 1 RPC node) on free loopback ports for the session.

Tests marked ``network`` are left out of the default ``pytest`` run (pyproject ``addopts``);
``make test-network`` runs them.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from ledger.network import CliqueNetwork, ensure_geth

PERIOD = 1


def free_ports(count: int) -> list[int]:
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


@pytest.fixture(scope="session")
def clique(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliqueNetwork]:
    geth = ensure_geth()
    net = CliqueNetwork(tmp_path_factory.mktemp("clique"), geth=geth)
    # HTTP ports p and p + 100 (engine API) must both be free: pick and check.
    http: list[int] = []
    while len(http) < 4:
        (port,) = free_ports(1)
        if port + 100 < 65536 and port not in http and _free(port + 100):
            http.append(port)
    net.init(period=PERIOD, http_ports=http, p2p_ports=free_ports(4))
    try:
        net.up(timeout=120)
        yield net
    finally:
        net.down()


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
