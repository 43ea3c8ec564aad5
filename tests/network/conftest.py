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

import shutil
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account

from gateway.client import GatewayClient
from ledger.chain import Deployment, manifest_path
from ledger.network import CliqueNetwork, ensure_geth
from ledger.records import Approval, Proposal, ProposalAction
from tests.network.consortium import (
    GatewayProcess,
    Member,
    Organisation,
    clean_env,
    fund,
    issue_api_key,
    run_ledger,
    wait_records,
)

PERIOD = 1
AU, CN, NZ = 0, 1, 2  # the signers' node indexes (au-abf, cn-gacc, nz-customs)
RPC_NODE = 3
THRESHOLD = 2
KIND_CODES = {"customs": 1, "carrier": 2, "trader": 3, "issuing_body": 4, "postal_operator": 5}
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


def _bootstrap_toml(admins: dict[str, Organisation], relayers: list[str], now: int) -> str:
    lines = [f"threshold = {THRESHOLD}", f"relayers = [{', '.join(repr(r) for r in relayers)}]"]
    for admin in admins.values():
        lines += [
            "",
            "[[administrations]]",
            f'name = "{admin.name}"',
            f'country = "{admin.country}"',
            f'key = "{admin.address}"',
            f"valid_from = {now - 86_400}",
            f"valid_until = {now + 2 * 365 * 86_400}",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def consortium(clique: CliqueNetwork, tmp_path_factory: pytest.TempPathFactory) -> Consortium:
    """Deploy once from node 0 with the real command line and a bootstrap file."""
    root = tmp_path_factory.mktemp("consortium")
    admins = {
        "au": Organisation("Australian Border Force", "customs", "AU"),
        "cn": Organisation("General Administration of Customs of China", "customs", "CN"),
        "nz": Organisation("New Zealand Customs Service", "customs", "NZ"),
    }
    members = {
        key: Member(
            admin=admin,
            relayer_key="0x" + bytes(Account.create().key).hex(),
            data_dir=root / f"member-{key}",
            node=node,
        )
        for (key, admin), node in zip(admins.items(), (AU, CN, NZ), strict=True)
    }
    for member in members.values():
        member.data_dir.mkdir()
    fund(clique, [m.relayer_address for m in members.values()])
    now = int(clique.rpc(AU).block(clique.rpc(AU).block_number())["timestamp"], 16)
    bootstrap = root / "bootstrap.toml"
    bootstrap.write_text(
        _bootstrap_toml(admins, [m.relayer_address for m in members.values()], now)
    )
    a = members["au"]
    done = run_ledger(
        [
            "deploy",
            "--rpc",
            clique.rpc_url(a.node),
            "--chain-id",
            str(clique.chain_id),
            "--bootstrap",
            str(bootstrap),
            "--data-dir",
            str(a.data_dir),
        ],
        cwd=a.data_dir,
        env=clean_env(LEDGER_RELAYER_KEY=a.relayer_key),
        timeout=600,
    )
    assert done.returncode == 0, f"ledger deploy failed:\n{done.stdout}\n{done.stderr}"
    manifest = manifest_path(a.data_dir, clique.chain_id)
    # The manifest is handed to the other members (README: "give that manifest to the
    # other members").
    for member in members.values():
        if member is not a:
            target = manifest_path(member.data_dir, clique.chain_id)
            target.parent.mkdir(parents=True)
            shutil.copyfile(manifest, target)
    return Consortium(
        net=clique,
        admins=admins,
        members=members,
        bootstrap=bootstrap,
        deployment=Deployment.load(manifest),
        deploy_output=done.stdout,
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


def admission(org: Organisation, *, now: int) -> Proposal:
    return Proposal(
        action=ProposalAction.ADMIT_MEMBER,
        org_id=org.org_id,
        kind=KIND_CODES[org.kind],
        country=org.country.encode("ascii"),
        account=org.address,
        valid_from=now - 60 * 86_400,  # covers journeys that began before the admission
        valid_until=now + 365 * 86_400,
        expires_at=now + 7 * 86_400,
        salt=org.org_id,
    )


@pytest.fixture(scope="session")
def parties(consortium: Consortium, gateways: Gateways) -> Parties:
    """API keys issued by each member's operator (``ledger apikey issue``), then a carrier
    and a forwarder admitted by governance: Australia proposes through its gateway (A), China
    approves and executes through its own (B). Each administration signs with its own key."""
    a, b = consortium.a, consortium.b
    au, cn = consortium.admins["au"], consortium.admins["cn"]
    carrier = Organisation("Tasman Container Line", "carrier", "AU")
    forwarder = Organisation("Southern Cross Forwarding", "carrier", "NZ")
    customs_scopes = ["governance:write", "attestations:write", "read"]
    org_scopes = ["events:write", "governance:write", "read"]
    keys = {
        ("au", "au"): issue_api_key(a, au, scopes=customs_scopes),
        ("cn", "cn"): issue_api_key(b, cn, scopes=customs_scopes),
        ("au", "carrier"): issue_api_key(a, carrier, scopes=org_scopes),
        ("cn", "carrier"): issue_api_key(b, carrier, scopes=["read"]),
        ("au", "forwarder"): issue_api_key(a, forwarder, scopes=org_scopes),
        ("cn", "forwarder"): issue_api_key(b, forwarder, scopes=org_scopes),
    }
    made = Parties(consortium, carrier, forwarder, keys, {})
    rpc = consortium.net.rpc(AU)
    now = int(rpc.block(rpc.block_number())["timestamp"], 16)
    with made.client("au", "au") as via_a, made.client("cn", "cn") as via_b:
        proposals = {org.name: admission(org, now=now) for org in (carrier, forwarder)}
        proposed = {
            name: via_a.sign_and_submit(p, au.private_key, idempotency_key=f"propose {name}")
            for name, p in proposals.items()
        }
        wait_records(via_a, [v.record_id for v in proposed.values()], timeout=180)
        approved = {
            name: via_b.sign_and_submit(
                Approval(proposal_id=p.proposal_id),
                cn.private_key,
                idempotency_key=f"approve {name}",
            )
            for name, p in proposals.items()
        }
        wait_records(via_b, [v.record_id for v in approved.values()], timeout=180)
        executed = {
            name: via_b.execute(p, idempotency_key=f"execute {name}")
            for name, p in proposals.items()
        }
        wait_records(via_b, [v.record_id for v in executed.values()], timeout=180)
    for name, proposal in proposals.items():
        made.admissions[name] = (
            proposal,
            {
                "propose": proposed[name].record_id,
                "approve": approved[name].record_id,
                "execute": executed[name].record_id,
            },
        )
    return made
