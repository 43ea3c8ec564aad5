"""A plain JSON-RPC client for talking to the nodes of a network.

Plain JSON over HTTP (stdlib only) rather than web3.py: a Clique block's ``extraData`` is
longer than 32 bytes, which web3.py refuses without its proof-of-authority middleware, and the
network tooling needs the raw values (``extraData``, ``baseFeePerGas``, admin and clique
methods) anyway.
"""

from __future__ import annotations

import itertools
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from ledger.errors import NodeStartError, RpcCallError

__all__ = ["RpcClient"]

log = logging.getLogger("ledger.network.rpc")

_ids = itertools.count(1)


class RpcClient:
    """JSON-RPC over HTTP to one node."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"RpcClient({self.url!r})"

    def call(self, method: str, *params: Any) -> Any:
        """The ``result`` of a call; :class:`RpcCallError` for an error answer,
        :class:`NodeStartError` when the node cannot be reached."""
        body = json.dumps(
            {"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": list(params)}
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - http URL of a node we started
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise NodeStartError(f"{self.url} unreachable for {method}: {exc}") from exc
        if "error" in answer:
            error = answer["error"]
            raise RpcCallError(
                f"{method} at {self.url}: {error.get('message', error)}",
                method=method,
                code=error.get("code"),
            )
        return answer.get("result")

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def block(self, number: int | str = "latest") -> dict[str, Any]:
        tag = hex(number) if isinstance(number, int) else number
        block: dict[str, Any] | None = self.call("eth_getBlockByNumber", tag, False)
        if block is None:
            raise RpcCallError(f"no block {tag} at {self.url}", method="eth_getBlockByNumber")
        return block

    def peer_ids(self) -> set[str]:
        """The public keys (hex, as in an enode URL) of the connected peers (``admin_peers``;
        its ``id`` field is the Keccak-256 of the key, so the enode URL is read instead)."""
        peers: list[dict[str, Any]] = self.call("admin_peers")
        return {str(peer["enode"]).removeprefix("enode://").split("@", 1)[0] for peer in peers}
