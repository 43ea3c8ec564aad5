"""The embedded development node: Foundry's anvil, started and owned by this process.

The chain is kept in a state directory, so a restart finds the same blocks, contracts and
balances. With ``free_gas`` the node charges nothing for gas (gas price 0, base fee 0), as a
Hyperledger Besu network with ``--min-gas-price=0`` and ``zeroBaseFee`` does.

anvil is started so that it dies with its parent (``PR_SET_PDEATHSIG`` on Linux) and is
stopped on :meth:`AnvilNode.stop`, on leaving the context manager and at interpreter exit:
stopping the parent never leaves an orphan node behind.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import logging
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from ledger.errors import NodeError

__all__ = ["AnvilNode", "anvil_binary", "rpc_call"]

log = logging.getLogger("ledger.chain.node")

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_FILE = "anvil-state.json"
RPC_URL_FILE = "rpc-url"
"""In the state directory while the node runs: its JSON-RPC URL, for the other commands."""
_PR_SET_PDEATHSIG = 1


def anvil_binary() -> Path:
    """The pinned anvil from node_modules, else one on PATH."""
    pinned = REPO_ROOT / "node_modules" / ".bin" / "anvil"
    if pinned.exists():
        return pinned
    found = shutil.which("anvil")
    if found is None:
        raise NodeError(f"anvil not found: run `npm ci` in {REPO_ROOT} (or put anvil on PATH)")
    return Path(found)


def rpc_call(url: str, method: str, params: list[Any] | None = None, timeout: float = 5) -> Any:
    """One JSON-RPC call over HTTP, without web3 (used for liveness checks)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(  # noqa: S310 - the URL is the node's own http endpoint
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        reply = json.loads(response.read())
    if "error" in reply:
        raise NodeError(f"{method} failed: {reply['error']}")
    return reply["result"]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class AnvilNode:
    """A local anvil process.

    >>> with AnvilNode(state_dir=Path(".data/node"), port=8545) as node:  # doctest: +SKIP
    ...     print(node.rpc_url)
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8545,
        chain_id: int = 31337,
        state_dir: Path | None = None,
        free_gas: bool = True,
        block_time: float | None = None,
        state_interval: int = 2,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.host = host
        self.port = port
        self.chain_id = chain_id
        self.state_dir = state_dir
        self.free_gas = free_gas
        self.block_time = block_time
        self.state_interval = state_interval
        self.extra_args = extra_args
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def command(self) -> list[str]:
        args = [
            str(anvil_binary()),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
        ]
        if self.free_gas:
            args += ["--gas-price", "0", "--block-base-fee-per-gas", "0"]
            args += ["--disable-min-priority-fee"]
        if self.block_time is not None:
            args += ["--block-time", f"{self.block_time:g}"]
        if self.state_dir is not None:
            args += ["--state", str(self.state_dir / STATE_FILE)]
            args += ["--state-interval", str(self.state_interval)]
        return args + list(self.extra_args)

    def _check_state_chain_id(self) -> None:
        """Refuse to start a chain id on the state of another chain (anvil would not)."""
        assert self.state_dir is not None
        marker = self.state_dir / "chain.json"
        if marker.is_file():
            recorded = int(json.loads(marker.read_text(encoding="utf-8"))["chain_id"])
            if recorded != self.chain_id:
                raise NodeError(
                    f"node state in {self.state_dir} is for chain id {recorded}, "
                    f"not {self.chain_id}: use another data directory"
                )
        else:
            marker.write_text(json.dumps({"chain_id": self.chain_id}) + "\n", encoding="utf-8")

    def _port_in_use(self) -> bool:
        try:
            rpc_call(self.rpc_url, "web3_clientVersion", timeout=0.5)
        except (OSError, urllib.error.URLError, NodeError, ValueError):
            return False
        return True

    def start(self, timeout: float = 30) -> None:
        """Start anvil and wait until it answers JSON-RPC with the expected chain id."""
        if self.running:
            return
        if self._port_in_use():
            raise NodeError(
                f"something already answers JSON-RPC on {self.rpc_url}: stop it, or choose "
                "another port (LEDGER_NODE_PORT), or point LEDGER_RPC_URL at it"
            )
        log_path = None
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._check_state_chain_id()
            log_path = self.state_dir / "anvil.log"
            self._log_file = log_path.open("ab")
        output = self._log_file if self._log_file is not None else subprocess.DEVNULL
        command = self.command()
        log.info("starting anvil: %s", " ".join(command))
        self._process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._close_log()
                where = f"; see {log_path}" if log_path else ""
                raise NodeError(f"anvil exited with code {self._process.returncode}{where}")
            try:
                chain_id = int(rpc_call(self.rpc_url, "eth_chainId", timeout=1), 16)
            except (OSError, urllib.error.URLError, NodeError, ValueError):
                time.sleep(0.1)
                continue
            if chain_id != self.chain_id:
                self.stop()
                raise NodeError(
                    f"node state in {self.state_dir} is for chain id {chain_id}, "
                    f"not {self.chain_id}: use another data directory"
                )
            log.info("anvil ready at %s (chain id %d)", self.rpc_url, chain_id)
            if self.state_dir is not None:
                # The other commands on this data directory find the node here (Settings).
                (self.state_dir / RPC_URL_FILE).write_text(self.rpc_url + "\n", encoding="utf-8")
            return
        self.stop()
        raise NodeError(f"anvil did not answer on {self.rpc_url} within {timeout:g} s")

    def stop(self, timeout: float = 10) -> None:
        """Stop anvil (SIGTERM, so that it writes its state; SIGKILL if it hangs)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("anvil did not stop within %g s; killing it", timeout)
                process.kill()
                process.wait()
        self._process = None
        self._close_log()
        if self.state_dir is not None:
            marker = self.state_dir / RPC_URL_FILE
            try:
                if marker.read_text(encoding="utf-8").strip() == self.rpc_url:
                    marker.unlink()
            except OSError:
                pass
        atexit.unregister(self.stop)
        log.info("anvil stopped")

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> AnvilNode:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def wait(self) -> int:
        """Block until anvil exits; returns its exit code."""
        if self._process is None:
            raise NodeError("anvil is not running")
        return self._process.wait()
