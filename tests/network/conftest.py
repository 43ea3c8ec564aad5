"""The network suite's fixtures: geth v1.13.15 (built once into the cache if missing), one
four-node Clique network (3 signers + 1 RPC node) on free loopback ports for the session, and
on it the consortium of three customs administrations (:mod:`tests.network.consortium`):

* ``consortium``: the contracts deployed from node 0 with ``ledger deploy --bootstrap`` (3
  administrations, threshold 2, each member's relayer account);
* ``gateways``: two members' gateways as ``ledger serve`` processes, Australia's on node 0
  and China's on node 1, each with its own data directory, index and relayer;
* ``parties``: a carrier and a freight forwarder admitted by governance (proposed through one
  gateway, approved and executed through the other) and the API keys the tests act with.

Tests marked ``network`` are left out of the default ``pytest`` run (pyproject ``addopts``);
``make test-network`` runs them. Every process started here is stopped at the end of the
session, also when a test or a fixture fails.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.client import GatewayClient
from ledger.chain import Deployment
from ledger.network import CliqueNetwork, ensure_geth
from ledger.records import Proposal
from tests.network.consortium import (
    GatewayProcess,
    Member,
    Organisation,
    admit,
    chain_now,
    deploy_consortium,
    issue_api_key,
)

PERIOD = 1
AU, CN, NZ = 0, 1, 2  # the signers' node indexes (au-abf, cn-gacc, nz-customs)
RPC_NODE = 3
GATEWAY_ENV = {
    "LEDGER_BATCH_MAX_SIZE": "500",
    "LEDGER_BATCH_LINGER_SECONDS": "0.2",
    "LEDGER_RELAY_POLL_SECONDS": "0.25",
    "LEDGER_RELAY_RETRY_SECONDS": "1.0",
    "LEDGER_INDEX_SYNC_SECONDS": "0.5",
}


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
        net.down(hard=True)


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def restore(net: CliqueNetwork) -> None:
    """Leave the network whole: every node running, linked, and every signer mining."""
    for node in net.nodes:
        if net.pid(node.index) is None:
            net.start_node(node.index)
    for node in net.signers:
        rpc = net.rpc(node.index)
        if not rpc.call("eth_mining"):
            rpc.call("miner_start")
            rpc.call("miner_setGasPrice", "0x0")
    net.heal(timeout=120)


@dataclass
class Consortium:
    """The deployed network: administrations, members (A = Australia, B = China, and New
    Zealand, which runs no gateway here), the deployment and what ``ledger deploy`` said."""

    net: CliqueNetwork
    admins: dict[str, Organisation]
    members: dict[str, Member]
    bootstrap: Path
    deployment: Deployment
    deploy_output: str

    @property
    def a(self) -> Member:
        return self.members["au"]

    @property
    def b(self) -> Member:
        return self.members["cn"]


@pytest.fixture(scope="session")
def consortium(clique: CliqueNetwork, tmp_path_factory: pytest.TempPathFactory) -> Consortium:
    """Deploy once from node 0 with the real command line and a bootstrap file."""
    root = tmp_path_factory.mktemp("consortium")
    made = deploy_consortium(clique, root, nodes=(AU, CN, NZ))
    return Consortium(
        net=clique,
        admins=made.admins,
        members=made.members,
        bootstrap=made.bootstrap,
        deployment=made.deployment,
        deploy_output=made.output,
    )


@dataclass
class Gateways:
    a: GatewayProcess
    b: GatewayProcess


@pytest.fixture(scope="session")
def gateways(
    consortium: Consortium, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateways]:
    """Australia's gateway on node 0 and China's on node 1, each its own process."""
    logs = tmp_path_factory.mktemp("gateway-logs")
    ports = free_ports(2)
    consortium.a.port, consortium.b.port = ports
    a = GatewayProcess(consortium.a, consortium.net, logs / "a.log", extra_env=GATEWAY_ENV)
    b = GatewayProcess(consortium.b, consortium.net, logs / "b.log", extra_env=GATEWAY_ENV)
    try:
        a.start()
        b.start()
        yield Gateways(a, b)
    finally:
        a.stop()
        b.stop()


@dataclass
class Parties:
    """Who acts in the tests, with their API keys at each gateway."""

    consortium: Consortium
    carrier: Organisation
    forwarder: Organisation
    keys: dict[tuple[str, str], str]  # (member, who) -> API key
    admissions: dict[str, tuple[Proposal, dict[str, str]]]  # who -> proposal, record ids

    def client(self, member: str, who: str, *, timeout: float = 120.0) -> GatewayClient:
        m = self.consortium.members[member]
        return GatewayClient(m.url, self.keys[(member, who)], timeout=timeout)


@pytest.fixture(scope="session")
def parties(consortium: Consortium, gateways: Gateways) -> Parties:
    """The administrations' API keys issued by each member's operator (``ledger apikey
    issue``), then a carrier and a forwarder admitted by governance: Australia proposes
    through its gateway (A), China approves and executes through its own (B), each signing
    with its own key; then their API keys (issuing checks membership on chain)."""
    a, b = consortium.a, consortium.b
    au, cn = consortium.admins["au"], consortium.admins["cn"]
    carrier = Organisation("Tasman Container Line", "carrier", "AU")
    forwarder = Organisation("Southern Cross Forwarding", "carrier", "NZ")
    customs_scopes = ["governance:write", "attestations:write", "read"]
    org_scopes = ["events:write", "governance:write", "read"]
    keys = {
        ("au", "au"): issue_api_key(a, au, scopes=customs_scopes, net=consortium.net),
        ("cn", "cn"): issue_api_key(b, cn, scopes=customs_scopes, net=consortium.net),
    }
    made = Parties(consortium, carrier, forwarder, keys, {})
    with made.client("au", "au") as via_a, made.client("cn", "cn") as via_b:
        made.admissions.update(
            admit(
                [carrier, forwarder],
                proposer=au,
                via_proposer=via_a,
                approver=cn,
                via_approver=via_b,
                now=chain_now(consortium.net, AU),
            )
        )
    # `ledger apikey issue` checks on chain that the organisation is a member: the carrier's
    # and the forwarder's keys can be issued only once they are admitted.
    keys[("au", "carrier")] = issue_api_key(a, carrier, scopes=org_scopes, net=consortium.net)
    keys[("cn", "carrier")] = issue_api_key(b, carrier, scopes=["read"], net=consortium.net)
    keys[("au", "forwarder")] = issue_api_key(a, forwarder, scopes=org_scopes, net=consortium.net)
    keys[("cn", "forwarder")] = issue_api_key(b, forwarder, scopes=org_scopes, net=consortium.net)
    return made
