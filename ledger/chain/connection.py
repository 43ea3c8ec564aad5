"""Connections to a node that work on every network the suite runs on.

Proof-of-authority and BFT networks (go-ethereum Clique, Hyperledger Besu QBFT and IBFT 2.0,
GoQuorum) put their signers' or validators' seals in the block's ``extraData``, which is then
longer than the 32 bytes that Ethereum mainnet allows. web3.py's default result validation
refuses such blocks (``ExtraDataLengthError``) on the first ``eth_getBlockByNumber``. Every
place that opens a connection goes through :func:`web3_for`, and a caller's own ``Web3`` is made
compatible by :func:`make_poa_compatible`, so the library runs unchanged on anvil and on those
networks.
"""

from __future__ import annotations

from web3 import HTTPProvider, Web3
from web3.middleware import ExtraDataToPOAMiddleware

__all__ = ["DEFAULT_RPC_TIMEOUT", "make_poa_compatible", "web3_for"]

#: Seconds a JSON-RPC request may take before the connection gives up.
DEFAULT_RPC_TIMEOUT = 30.0

_POA_LAYER = "extradata_to_poa"


def make_poa_compatible(w3: Web3) -> Web3:
    """Accept blocks whose ``extraData`` is longer than 32 bytes (once; returns ``w3``).

    The middleware moves a long ``extraData`` to ``proofOfAuthorityData`` before web3's result
    formatters see it; on a chain with short ``extraData`` (anvil) it changes nothing.
    """
    if not any(name == _POA_LAYER for _, name in w3.middleware_onion.middleware):
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, name=_POA_LAYER, layer=0)
    return w3


def web3_for(url: str, *, timeout: float = DEFAULT_RPC_TIMEOUT) -> Web3:
    """A ``Web3`` over HTTP(S) to ``url`` that works on PoA and QBFT networks as on anvil."""
    return make_poa_compatible(Web3(HTTPProvider(url, request_kwargs={"timeout": timeout})))
