"""Putting the pieces together: node connection, relayer, deployment, demo data.

Used by the ``ledger`` command line (and the gateway's ``ledger up``); everything here is
plain library code that another program can call the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path

from web3 import Web3
from web3.providers import HTTPProvider

from ledger.bootstrap import load_bootstrap
from ledger.client import Ledger
from ledger.demo import DEMO_PARTIES, DemoWorld, bootstrap_for, seed_demo
from ledger.deploy import Bootstrap, Deployment, ensure_deployment
from ledger.errors import ConfigurationError, NodeError
from ledger.node import AnvilNode
from ledger.settings import Settings
from ledger.txmanager import TxManager

__all__ = [
    "ANVIL_DEV_KEY",
    "connect",
    "deploy",
    "embedded_node",
    "is_anvil",
    "relayer_key",
    "seed_if_new",
]

log = logging.getLogger("ledger.stack")

# anvil's first dev account ("test test ... junk"): public knowledge, local chains only.
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def embedded_node(settings: Settings) -> AnvilNode:
    return AnvilNode(
        host=settings.node_host,
        port=settings.node_port,
        chain_id=settings.chain_id,
        state_dir=settings.data_dir / "node",
        free_gas=settings.free_gas,
        block_time=settings.block_time,
    )


def connect(settings: Settings) -> Web3:
    """A Web3 on the configured chain; checks that it answers with the configured chain id."""
    url = settings.effective_rpc_url
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 30}))
    try:
        chain_id = w3.eth.chain_id
    except Exception as exc:
        raise NodeError(f"no JSON-RPC node answers at {url}: {exc}") from exc
    if chain_id != settings.chain_id:
        raise ConfigurationError(
            f"the node at {url} reports chain id {chain_id}, but chain_id is set to "
            f"{settings.chain_id} (LEDGER_CHAIN_ID)"
        )
    return w3


def is_anvil(w3: Web3) -> bool:
    return str(w3.client_version).lower().startswith("anvil")


def relayer_key(settings: Settings, w3: Web3) -> str:
    """The relayer's key: the configured one, or anvil's first dev account on anvil."""
    if settings.relayer_key is not None:
        return settings.relayer_key.get_secret_value()
    if is_anvil(w3):
        return ANVIL_DEV_KEY
    raise ConfigurationError(
        "relayer_key is not set: give the relayer account's private key (LEDGER_RELAYER_KEY); "
        "it must be on the network's account allowlist and in the bootstrap relayers"
    )


def deploy(
    settings: Settings,
    w3: Web3,
    tx: TxManager,
    *,
    bootstrap_file: Path | None = None,
    fresh: bool = False,
) -> tuple[Deployment, bool]:
    """Re-use or create the deployment of this chain (demo bootstrap on anvil)."""
    bootstrap: Bootstrap
    if bootstrap_file is not None:
        bootstrap = load_bootstrap(bootstrap_file)
    elif is_anvil(w3):
        now = int(w3.eth.get_block("latest")["timestamp"])
        bootstrap = bootstrap_for(DEMO_PARTIES, relayers=[tx.address], now=now)
    else:
        raise ConfigurationError(
            "deploying to a network other than anvil needs a bootstrap file (--bootstrap) "
            "naming its customs administrations, their keys, the threshold and the relayers"
        )
    return ensure_deployment(w3, tx, bootstrap, data_dir=settings.data_dir, fresh=fresh)


def seed_if_new(ledger: Ledger) -> DemoWorld | None:
    """Seed the demo world unless the demo members exist already."""
    carrier = DEMO_PARTIES[2]
    if ledger.membership.organisation(carrier.org_id).registered:
        return None
    return seed_demo(ledger)
