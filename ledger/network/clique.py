"""A Clique proof-of-authority network of geth nodes on loopback, started by the project.

Three signers (one per customs administration: Australia, China, New Zealand) and one
non-signing node that serves JSON-RPC to gateways and indexes. Everything lives in one
directory::

    <dir>/network.json            the layout: chain id, period, ports, keys (local use only)
    <dir>/genesis.json            Clique genesis: signers in extraData, base fee 0, funded accounts
    <dir>/nodes/<name>/config.toml   [Node.P2P]: loopback listen address, static + trusted peers
    <dir>/nodes/<name>/data/      geth's data directory (chain, keystore of a signer)
    <dir>/nodes/<name>/geth.log   the node's log;  geth.pid  its process id while it runs

Gas is free: the genesis base fee is 0 and the block gas limit is so large (1e9) that no block
fills half of it, so the base fee never rises (EIP-1559 only raises it above the gas target);
the nodes accept transactions with a zero price. geth 1.13 raises ``--miner.gasprice 0`` to
1 gwei when a signer starts mining and gives its transaction pool that minimum tip, which would
refuse zero-price transactions relayed from other nodes; so once a signer mines, its price is
set to 0 again through ``miner_setGasPrice`` (``--txpool.pricelimit 0`` covers the RPC node).

Nodes run in their own sessions and outlive the process that started them (``ledger network
up`` returns); pid files let any later process stop them. A node can be stopped (``kill -9``
too) and started again on its data. Peers are static (no discovery); :meth:`partition` and
:meth:`heal` cut and restore links through ``admin_removePeer`` / ``admin_addPeer``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account

from ledger.errors import (
    NetworkConfigError,
    NetworkNotReady,
    NodeStartError,
    RpcCallError,
)
from ledger.network.geth import ensure_geth
from ledger.network.keys import KeyPair
from ledger.network.rpc import RpcClient
from ledger.settings import Settings

__all__ = [
    "DEFAULT_CHAIN_ID",
    "SIGNER_NAMES",
    "CliqueNetwork",
    "NodeSpec",
    "NodeStatus",
]

log = logging.getLogger("ledger.network.clique")

DEFAULT_CHAIN_ID = 202601
DEFAULT_GAS_LIMIT = 1_000_000_000
DEFAULT_HTTP_PORT = 8611
DEFAULT_P2P_PORT = 30311
AUTHRPC_OFFSET = 100
HOST = "127.0.0.1"
SIGNER_NAMES = ("au-abf", "cn-gacc", "nz-customs")
"""One signer per customs administration: Australian Border Force, General Administration of
Customs of China, New Zealand Customs Service."""
RPC_NAME = "rpc"
APIS = "admin,eth,net,web3,txpool,clique,debug,miner"
KEYSTORE_PASSWORD = "local-network-only"  # noqa: S105 - throwaway keys of a loopback network
FUNDS_WEI = 10**24
MANIFEST = "network.json"


@dataclass(frozen=True)
class NodeSpec:
    """One node of the layout."""

    index: int
    name: str
    signer: bool
    p2p_port: int
    http_port: int
    node_key: KeyPair
    account_key: KeyPair | None  # the Clique signing account (signers only)

    @property
    def authrpc_port(self) -> int:
        return self.http_port + AUTHRPC_OFFSET

    @property
    def rpc_url(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    @property
    def enode(self) -> str:
        return self.node_key.enode(HOST, self.p2p_port)

    @property
    def signer_address(self) -> str | None:
        return self.account_key.address if self.account_key is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "signer": self.signer,
            "p2p_port": self.p2p_port,
            "http_port": self.http_port,
            "node_key": self.node_key.private_hex,
            "account_key": self.account_key.private_hex if self.account_key else None,
        }

    @classmethod
    def from_json(cls, index: int, data: dict[str, Any]) -> NodeSpec:
        account = data.get("account_key")
        return cls(
            index=index,
            name=str(data["name"]),
            signer=bool(data["signer"]),
            p2p_port=int(data["p2p_port"]),
            http_port=int(data["http_port"]),
            node_key=KeyPair.from_hex(str(data["node_key"])),
            account_key=KeyPair.from_hex(str(account)) if account else None,
        )


@dataclass(frozen=True)
class NodeStatus:
    """What :meth:`CliqueNetwork.status` reports about one node."""

    index: int
    name: str
    role: str
    pid: int | None
    rpc_url: str
    signer_address: str | None
    block_number: int | None = None
    peers: int | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.pid is not None


@dataclass
class _Layout:
    chain_id: int
    period: int
    gas_limit: int
    nodes: list[NodeSpec]
    relayer_key: KeyPair
    extra: dict[str, Any] = field(default_factory=dict)


class CliqueNetwork:
    """A Clique network of geth nodes whose state lives in ``directory``.

    ``init()`` writes the layout once (keys, genesis, configs); later calls, and later
    processes, find it again. ``up()`` starts every node that is not running and waits until
    the network is ready; ``down()`` stops them all, keeping their data.
    """

    def __init__(
        self,
        directory: Path,
        *,
        geth: Path | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.directory = Path(directory).resolve()
        self._geth = geth
        self._settings = settings
        self._layout: _Layout | None = None
        self._procs: dict[int, subprocess.Popen[bytes]] = {}

    def __repr__(self) -> str:
        return f"CliqueNetwork({str(self.directory)!r})"

    # -- layout ---------------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.directory / MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def init(
        self,
        *,
        chain_id: int = DEFAULT_CHAIN_ID,
        period: int = 1,
        http_port: int = DEFAULT_HTTP_PORT,
        p2p_port: int = DEFAULT_P2P_PORT,
        gas_limit: int = DEFAULT_GAS_LIMIT,
        http_ports: Sequence[int] | None = None,
        p2p_ports: Sequence[int] | None = None,
    ) -> bool:
        """Write the layout if there is none; ``True`` if written, ``False`` if re-used.

        Ports are ``http_port + i`` and ``p2p_port + i`` for node ``i`` (the engine API, which
        a Clique node does not use but geth always opens, on ``http port + 100``), unless
        explicit lists are given.
        """
        if self.exists():
            layout = self.layout
            if layout.chain_id != chain_id or layout.period != period:
                log.warning(
                    "re-using the network in %s (chain id %d, period %d s); the options asked "
                    "for chain id %d, period %d s: `ledger network down --purge` to start over",
                    self.directory,
                    layout.chain_id,
                    layout.period,
                    chain_id,
                    period,
                )
            return False
        if not 1 <= period <= 60:
            raise NetworkConfigError(f"period must be 1..60 seconds, not {period}")
        if chain_id in (1, 31337) or chain_id <= 0:
            raise NetworkConfigError(f"chain id {chain_id} is taken (mainnet or anvil)")
        names = [*SIGNER_NAMES, RPC_NAME]
        https = list(http_ports) if http_ports else [http_port + i for i in range(len(names))]
        p2ps = list(p2p_ports) if p2p_ports else [p2p_port + i for i in range(len(names))]
        if len(https) != len(names) or len(p2ps) != len(names):
            raise NetworkConfigError(f"{len(names)} HTTP and {len(names)} P2P ports are needed")
        nodes = [
            NodeSpec(
                index=i,
                name=name,
                signer=name != RPC_NAME,
                p2p_port=p2ps[i],
                http_port=https[i],
                node_key=KeyPair.generate(),
                account_key=KeyPair.generate() if name != RPC_NAME else None,
            )
            for i, name in enumerate(names)
        ]
        layout = _Layout(
            chain_id=chain_id,
            period=period,
            gas_limit=gas_limit,
            nodes=nodes,
            relayer_key=KeyPair.generate(),
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "genesis.json").write_text(json.dumps(self._genesis(layout), indent=2))
        for node in nodes:
            self._write_node_files(layout, node)
        manifest = {
            "chain_id": chain_id,
            "period": period,
            "gas_limit": gas_limit,
            "relayer_key": layout.relayer_key.private_hex,
            "nodes": [node.to_json() for node in nodes],
        }
        tmp = self.manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, indent=2))
        tmp.chmod(0o600)
        tmp.replace(self.manifest_path)
        self._layout = layout
        log.info(
            "wrote a Clique network (chain id %d, period %d s, %d signers + 1 RPC node) in %s",
            chain_id,
            period,
            len(SIGNER_NAMES),
            self.directory,
        )
        return True

    @property
    def layout(self) -> _Layout:
        if self._layout is None:
            if not self.exists():
                raise NetworkConfigError(
                    f"no network in {self.directory} (run `ledger network up` first)"
                )
            data = json.loads(self.manifest_path.read_text())
            self._layout = _Layout(
                chain_id=int(data["chain_id"]),
                period=int(data["period"]),
                gas_limit=int(data["gas_limit"]),
                nodes=[NodeSpec.from_json(i, n) for i, n in enumerate(data["nodes"])],
                relayer_key=KeyPair.from_hex(data["relayer_key"]),
            )
        return self._layout

    @property
    def nodes(self) -> list[NodeSpec]:
        return list(self.layout.nodes)

    @property
    def chain_id(self) -> int:
        return self.layout.chain_id

    @property
    def signers(self) -> list[NodeSpec]:
        return [node for node in self.layout.nodes if node.signer]

    @property
    def relayer_key(self) -> KeyPair:
        """A funded account for relayers and tests (gas is free; the funds are for tools that
        insist on a balance)."""
        return self.layout.relayer_key

    def node(self, which: int | str) -> NodeSpec:
        for node in self.layout.nodes:
            if which in (node.index, node.name) or str(which) == str(node.index):
                return node
        raise NetworkConfigError(
            f"no node {which!r}; nodes are "
            + ", ".join(f"{n.index} ({n.name})" for n in self.layout.nodes)
        )

    def rpc_url(self, which: int | str) -> str:
        return self.node(which).rpc_url

    def rpc(self, which: int | str, *, timeout: float = 5.0) -> RpcClient:
        return RpcClient(self.rpc_url(which), timeout=timeout)

    def _node_dir(self, node: NodeSpec) -> Path:
        return self.directory / "nodes" / node.name

    def log_path(self, which: int | str) -> Path:
        return self._node_dir(self.node(which)) / "geth.log"

    def _genesis(self, layout: _Layout) -> dict[str, Any]:
        signers = sorted(
            (n.account_key.address for n in layout.nodes if n.account_key is not None),
            key=lambda a: bytes.fromhex(a[2:]),
        )
        extra = "0x" + "00" * 32 + "".join(a[2:].lower() for a in signers) + "00" * 65
        funded = [*signers, layout.relayer_key.address]
        return {
            "config": {
                "chainId": layout.chain_id,
                "homesteadBlock": 0,
                "eip150Block": 0,
                "eip155Block": 0,
                "eip158Block": 0,
                "byzantiumBlock": 0,
                "constantinopleBlock": 0,
                "petersburgBlock": 0,
                "istanbulBlock": 0,
                "berlinBlock": 0,
                "londonBlock": 0,
                "clique": {"period": layout.period, "epoch": 30000},
            },
            "difficulty": "0x1",
            "gasLimit": hex(layout.gas_limit),
            "baseFeePerGas": "0x0",
            "extraData": extra,
            "alloc": {a[2:].lower(): {"balance": hex(FUNDS_WEI)} for a in funded},
        }

    def _write_node_files(self, layout: _Layout, node: NodeSpec) -> None:
        node_dir = self._node_dir(node)
        (node_dir / "data").mkdir(parents=True, exist_ok=True)
        nodekey = node_dir / "nodekey"
        nodekey.write_text(node.node_key.private_hex)
        nodekey.chmod(0o600)
        others = [n.enode for n in layout.nodes if n.index != node.index]
        peers = ", ".join(json.dumps(e) for e in others)
        (node_dir / "config.toml").write_text(
            "# Written by ledger.network.clique; geth merges the command-line flags over it.\n"
            "[Node.P2P]\n"
            "MaxPeers = 16\n"
            "NoDiscovery = true\n"
            f'ListenAddr = "{HOST}:{node.p2p_port}"\n'
            f"StaticNodes = [{peers}]\n"
            f"TrustedNodes = [{peers}]\n"
        )
        if node.account_key is not None:
            keystore = node_dir / "data" / "keystore"
            keystore.mkdir(exist_ok=True)
            encrypted = Account.encrypt(
                node.account_key.private_key, KEYSTORE_PASSWORD, kdf="scrypt", iterations=4096
            )
            address = node.account_key.address[2:].lower()
            (keystore / f"UTC--local--{address}").write_text(json.dumps(encrypted))
            (node_dir / "password").write_text(KEYSTORE_PASSWORD + "\n")

    # -- processes ------------------------------------------------------------------------

    def geth(self) -> Path:
        if self._geth is None:
            self._geth = ensure_geth(self._settings)
        return self._geth

    def _pid_path(self, node: NodeSpec) -> Path:
        return self._node_dir(node) / "geth.pid"

    def pid(self, which: int | str) -> int | None:
        """The pid of the node's geth if it is running, else ``None``."""
        node = self.node(which)
        proc = self._procs.get(node.index)
        if proc is not None and proc.poll() is not None:
            del self._procs[node.index]
        try:
            pid = int(self._pid_path(node).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _is_our_geth(pid, self._node_dir(node) / "data") else None

    def _command(self, node: NodeSpec) -> list[str]:
        node_dir = self._node_dir(node)
        layout = self.layout
        cmd = [
            str(self.geth()),
            "--datadir", str(node_dir / "data"),
            "--config", str(node_dir / "config.toml"),
            "--nodekey", str(node_dir / "nodekey"),
            "--networkid", str(layout.chain_id),
            "--syncmode", "full",
            "--gcmode", "archive",
            "--state.scheme", "hash",
            "--nodiscover",
            "--nat", "none",
            "--ipcdisable",
            "--http", "--http.addr", HOST, "--http.port", str(node.http_port),
            "--http.api", APIS,
            "--authrpc.addr", HOST, "--authrpc.port", str(node.authrpc_port),
            "--miner.gasprice", "0",
            "--txpool.pricelimit", "0",
            "--miner.gaslimit", str(layout.gas_limit),
            "--rpc.txfeecap", "0",
            "--verbosity", "3",
        ]  # fmt: skip
        if node.account_key is not None:
            address = node.account_key.address
            cmd += [
                "--mine",
                "--miner.etherbase", address,
                "--unlock", address,
                "--password", str(node_dir / "password"),
                "--allow-insecure-unlock",
            ]  # fmt: skip
        return cmd

    def _init_chain(self, node: NodeSpec) -> None:
        data = self._node_dir(node) / "data"
        if (data / "geth" / "chaindata").is_dir():
            return
        done = subprocess.run(
            [
                str(self.geth()),
                "init",
                "--datadir",
                str(data),
                "--state.scheme",
                "hash",
                str(self.directory / "genesis.json"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise NodeStartError(f"geth init for {node.name} failed: {done.stderr.strip()[-2000:]}")

    def start_node(self, which: int | str, *, timeout: float = 60.0) -> int:
        """Start one node on its data (initialising its chain the first time); its pid.

        Returns once the node answers JSON-RPC; a node already running is left alone.
        """
        node = self.node(which)
        running = self.pid(node.index)
        if running is not None:
            return running
        self._init_chain(node)
        node_dir = self._node_dir(node)
        with (node_dir / "geth.log").open("ab") as log_file:
            proc = subprocess.Popen(
                self._command(node),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=node_dir,
                start_new_session=True,  # outlives `ledger network up`, not killed by its Ctrl-C
            )
        self._procs[node.index] = proc
        self._pid_path(node).write_text(f"{proc.pid}\n")
        log.info("started %s (pid %d, JSON-RPC %s)", node.name, proc.pid, node.rpc_url)
        self._wait_rpc(node, proc, timeout)
        if node.signer:
            self._zero_gas_price(node, timeout)
        return proc.pid

    def _zero_gas_price(self, node: NodeSpec, timeout: float) -> None:
        """Once the signer mines (geth has then set its pool's minimum tip from the sanitised
        miner price), set the price, and so the pool's minimum tip, to 0."""
        rpc = RpcClient(node.rpc_url)
        deadline = time.monotonic() + timeout
        while not rpc.call("eth_mining"):
            if time.monotonic() > deadline:
                raise NodeStartError(f"{node.name} does not mine after {timeout:.0f} s")
            time.sleep(0.1)
        if rpc.call("miner_setGasPrice", "0x0") is not True:
            raise NodeStartError(f"{node.name} refused miner_setGasPrice(0)")

    def _wait_rpc(self, node: NodeSpec, proc: subprocess.Popen[bytes], timeout: float) -> None:
        rpc = RpcClient(node.rpc_url, timeout=2.0)
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise NodeStartError(
                    f"{node.name} exited with {proc.returncode} at start; last lines of "
                    f"{self.log_path(node.index)}:\n{self._log_tail(node)}"
                )
            try:
                rpc.block_number()
                return
            except (NodeStartError, RpcCallError) as exc:
                last = exc
            time.sleep(0.2)
        raise NodeStartError(
            f"{node.name} did not answer on {node.rpc_url} within {timeout:.0f} s ({last}); "
            f"last lines of its log:\n{self._log_tail(node)}"
        )

    def _log_tail(self, node: NodeSpec, lines: int = 20) -> str:
        try:
            text = (self._node_dir(node) / "geth.log").read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop_node(self, which: int | str, *, hard: bool = False, timeout: float = 30.0) -> None:
        """Stop one node: SIGTERM (then SIGKILL after ``timeout``), or SIGKILL at once."""
        node = self.node(which)
        pid = self.pid(node.index)
        if pid is None:
            log.info("%s is not running", node.name)
            self._pid_path(node).unlink(missing_ok=True)
            return
        sig = signal.SIGKILL if hard else signal.SIGTERM
        log.info("stopping %s (pid %d) with %s", node.name, pid, sig.name)
        os.kill(pid, sig)
        if not self._wait_exit(node, pid, timeout):
            log.warning("%s did not stop in %.0f s: SIGKILL", node.name, timeout)
            os.kill(pid, signal.SIGKILL)
            if not self._wait_exit(node, pid, 10.0):
                raise NodeStartError(f"{node.name} (pid {pid}) survives SIGKILL")
        self._pid_path(node).unlink(missing_ok=True)

    def _wait_exit(self, node: NodeSpec, pid: int, timeout: float) -> bool:
        proc = self._procs.get(node.index)
        if proc is not None and proc.pid == pid:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            del self._procs[node.index]
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _is_our_geth(pid, self._node_dir(node) / "data"):
                return True
            time.sleep(0.1)
        return False

    def up(self, *, timeout: float = 120.0) -> None:
        """Start every node that is not running (the layout must exist) and wait until ready."""
        self.geth()
        for node in self.layout.nodes:
            self.start_node(node.index, timeout=timeout)
        self.wait_ready(timeout=timeout)

    def down(self, *, hard: bool = False) -> None:
        """Stop every node; the data stays for the next :meth:`up`."""
        for node in reversed(self.layout.nodes):
            self.stop_node(node.index, hard=hard)

    # -- readiness and status -------------------------------------------------------------

    def running_nodes(self) -> list[NodeSpec]:
        return [node for node in self.layout.nodes if self.pid(node.index) is not None]

    def wait_ready(
        self,
        *,
        timeout: float = 120.0,
        nodes: Iterable[int] | None = None,
        min_new_blocks: int = 2,
        max_lag: int = 2,
    ) -> int:
        """Wait until the nodes (default: those running) all peer with one another, blocks
        advance by ``min_new_blocks`` and every node is within ``max_lag`` blocks of the
        highest head. Returns the highest head; :class:`NetworkNotReady` on timeout."""
        members = [self.node(i) for i in nodes] if nodes is not None else self.running_nodes()
        if not members:
            raise NetworkNotReady(f"no node of {self.directory} is running")
        wanted = {node.name: node.node_key.node_id for node in members}
        deadline = time.monotonic() + timeout
        start_head: int | None = None
        problem = "nothing checked yet"
        while time.monotonic() < deadline:
            heads: dict[str, int] = {}
            missing: dict[str, list[str]] = {}
            try:
                for node in members:
                    rpc = RpcClient(node.rpc_url, timeout=3.0)
                    heads[node.name] = rpc.block_number()
                    peers = rpc.peer_ids()
                    lacking = [
                        name
                        for name, node_id in wanted.items()
                        if name != node.name and node_id not in peers
                    ]
                    if lacking:
                        missing[node.name] = lacking
            except (NodeStartError, RpcCallError) as exc:
                problem = str(exc)
                time.sleep(0.5)
                continue
            top = max(heads.values())
            if start_head is None:
                start_head = top
            lagging = {n: h for n, h in heads.items() if top - h > max_lag}
            if missing:
                problem = "peers missing: " + "; ".join(
                    f"{n} lacks {', '.join(v)}" for n, v in missing.items()
                )
            elif top < start_head + min_new_blocks:
                problem = f"blocks not advancing (head {top}, was {start_head}); heads {heads}"
            elif lagging:
                problem = f"nodes behind head {top}: {lagging}"
            else:
                log.info("network ready: heads %s", heads)
                return top
            time.sleep(0.5)
        raise NetworkNotReady(
            f"network in {self.directory} not ready after {timeout:.0f} s: {problem}"
        )

    def status(self) -> list[NodeStatus]:
        """Each node's pid, head, peer count and signer address (RPC errors reported, not
        raised)."""
        result = []
        for node in self.layout.nodes:
            pid = self.pid(node.index)
            block: int | None = None
            peers: int | None = None
            error: str | None = None
            if pid is not None:
                rpc = RpcClient(node.rpc_url, timeout=3.0)
                try:
                    block = rpc.block_number()
                    peers = int(rpc.call("net_peerCount"), 16)
                except (NodeStartError, RpcCallError) as exc:
                    error = str(exc)
            result.append(
                NodeStatus(
                    index=node.index,
                    name=node.name,
                    role="signer" if node.signer else "rpc",
                    pid=pid,
                    rpc_url=node.rpc_url,
                    signer_address=node.signer_address,
                    block_number=block,
                    peers=peers,
                    error=error,
                )
            )
        return result

    # -- links ----------------------------------------------------------------------------

    def disconnect(self, a: int | str, b: int | str) -> None:
        """Drop the link between two nodes on both ends, and their static/trusted entries."""
        node_a, node_b = self.node(a), self.node(b)
        for here, there in ((node_a, node_b), (node_b, node_a)):
            rpc = RpcClient(here.rpc_url)
            rpc.call("admin_removeTrustedPeer", there.enode)
            rpc.call("admin_removePeer", there.enode)

    def connect(self, a: int | str, b: int | str) -> None:
        """Restore the link between two nodes (static and trusted on both ends)."""
        node_a, node_b = self.node(a), self.node(b)
        for here, there in ((node_a, node_b), (node_b, node_a)):
            rpc = RpcClient(here.rpc_url)
            rpc.call("admin_addTrustedPeer", there.enode)
            rpc.call("admin_addPeer", there.enode)

    def partition(self, groups: Sequence[Sequence[int]], *, timeout: float = 30.0) -> None:
        """Split the network into groups of node indexes with no link between groups.

        Waits until no node has a peer in another group, stable for two seconds (a dial in
        flight when the static entry was removed may still connect once: it is removed again).
        """
        group_of = {index: g for g, members in enumerate(groups) for index in members}
        pairs = [(a, b) for a in group_of for b in group_of if a < b and group_of[a] != group_of[b]]
        for a, b in pairs:
            self.disconnect(a, b)
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            crossing = [
                (a, b)
                for a, b in pairs
                if self.node(b).node_key.node_id in self.rpc(a).peer_ids()
                or self.node(a).node_key.node_id in self.rpc(b).peer_ids()
            ]
            if crossing:
                quiet_since = None
                for a, b in crossing:
                    self.disconnect(a, b)
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= 2.0:
                log.info("network partitioned into %s", [list(g) for g in groups])
                return
            time.sleep(0.25)
        raise NetworkNotReady(f"links between {groups} still up after {timeout:.0f} s")

    def heal(self, *, timeout: float = 60.0) -> int:
        """Link every running node with every other again; wait until ready. Highest head."""
        running = [node.index for node in self.running_nodes()]
        for i, a in enumerate(running):
            for b in running[i + 1 :]:
                self.connect(a, b)
        return self.wait_ready(timeout=timeout, nodes=running, min_new_blocks=1)


def _is_our_geth(pid: int, data_dir: Path) -> bool:
    """Whether ``pid`` is a live (not zombie) geth running on ``data_dir``."""
    proc = Path("/proc") / str(pid)
    try:
        cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z" and str(data_dir).encode() in cmdline
