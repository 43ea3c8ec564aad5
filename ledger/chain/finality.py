"""How deep a block must be before it is final, by the kind of network.

* **anvil** (the embedded development node): one node, no forks: final at once (0).
* **Hyperledger Besu QBFT or IBFT 2.0**: a block is final when it is sealed (0).
* **Clique** (go-ethereum, Besu): a signer may seal at most one block in any ``N // 2 + 1``
  consecutive blocks (``N`` signers), so a side of a split with at most ``N // 2`` signers seals
  at most ``N // 2`` blocks before it stalls, and only a majority's chain grows past that. A
  block with ``N // 2 + 1`` blocks on top is therefore on the majority's chain: final.
* **anything else** (a proof-of-work or proof-of-stake test network): a conservative
  :data:`UNKNOWN_NETWORK_DEPTH`.

The ``confirmations`` setting overrides the depth found here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

__all__ = ["UNKNOWN_NETWORK_DEPTH", "Finality", "finality_of"]

log = logging.getLogger("ledger.chain.finality")

#: Blocks on top before a block counts as final on a network of unknown consensus.
UNKNOWN_NETWORK_DEPTH = 12


@dataclass(frozen=True, slots=True)
class Finality:
    """The finality depth of a network (blocks on top of a block) and why."""

    depth: int
    network: str


def _answer(w3: Web3, method: str, params: list[Any]) -> Any:
    """The result of a JSON-RPC call, or None when the node does not offer the method."""
    response = w3.provider.make_request(RPCEndpoint(method), params)
    if "error" in response:
        return None
    return response.get("result")


def finality_of(w3: Web3) -> Finality:
    """The finality depth of the network ``w3`` is connected to (see the module docstring)."""
    client = str(_answer(w3, "web3_clientVersion", []) or "")
    if client.lower().startswith("anvil"):
        return Finality(0, "anvil")
    for method, name in (
        ("qbft_getValidatorsByBlockNumber", "QBFT"),
        ("ibft_getValidatorsByBlockNumber", "IBFT 2.0"),
    ):
        if _answer(w3, method, ["latest"]):
            return Finality(0, name)
    signers = _answer(w3, "clique_getSigners", ["latest"])
    if isinstance(signers, list) and signers:
        return Finality(len(signers) // 2 + 1, f"Clique with {len(signers)} signers")
    log.warning(
        "the network's consensus is not known (client %r): %d confirmations are taken as final",
        client,
        UNKNOWN_NETWORK_DEPTH,
    )
    return Finality(UNKNOWN_NETWORK_DEPTH, f"unknown ({client or 'no client version'})")
