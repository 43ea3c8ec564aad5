"""Putting the pieces together: node connection, relayer, deployment, demo data.

Used by the ``ledger`` command line (and the gateway's ``ledger up``); everything here is
plain library code that another program can call the same way.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from web3 import Web3

from ledger.chain import (
    AnvilNode,
    Bootstrap,
    Deployment,
    Ledger,
    TxManager,
    ensure_deployment,
    finality_of,
    manifest_path,
    web3_for,
)
from ledger.errors import ConfigurationError, NodeError
from ledger.index import EpcisStore
from ledger.settings import Settings
from ledger.stack.bootstrap import load_bootstrap
from ledger.stack.demo import CUSTOMS, DEMO_PARTIES, DemoWorld, bootstrap_for, seed_demo
from ledger.stack.epcis_demo import seed_epcis_demo
from ledger.stack.names import bootstrap_names, record_names

__all__ = [
    "ANVIL_CHAIN_ID",
    "ANVIL_DEV_KEY",
    "DEMO_FILE",
    "SEEDING_FILE",
    "confirmations",
    "connect",
    "demo_complete",
    "demo_governed",
    "deploy",
    "embedded_node",
    "is_anvil",
    "is_dev_chain",
    "relayer_key",
    "seed_if_new",
]

log = logging.getLogger("ledger.stack.wiring")

# anvil's first dev account ("test test ... junk"): public knowledge, local chains only.
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#: anvil's default chain id: an anvil on another one is treated as a network (is_dev_chain).
ANVIL_CHAIN_ID = 31337
#: In the data directory: the demo world, written when seeding it finished (its summary).
DEMO_FILE = "demo.json"
#: In the data directory while the demo is being seeded: the time that anchors it.
SEEDING_FILE = "demo-seeding.json"


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
    w3 = web3_for(url)
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


def confirmations(settings: Settings, w3: Web3) -> int:
    """Blocks on top before a block is final: the ``confirmations`` setting, or the
    network's own finality depth (:func:`ledger.chain.finality_of`)."""
    if settings.confirmations is not None:
        return settings.confirmations
    finality = finality_of(w3)
    log.info("finality: %d confirmations (%s)", finality.depth, finality.network)
    return finality.depth


def is_anvil(w3: Web3) -> bool:
    return str(w3.client_version).lower().startswith("anvil")


def is_dev_chain(w3: Web3) -> bool:
    """Whether this is a local development chain, where the demo administrations may govern.

    That is anvil at its own chain id (31337): the embedded node, or one started by hand. An
    anvil started with another chain id stands in for a network (a rehearsal of a production
    set-up) and is treated as one: deploying there needs a bootstrap file, and no demo data
    is seeded.
    """
    return int(w3.eth.chain_id) == ANVIL_CHAIN_ID and is_anvil(w3)


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
    """Re-use the deployment recorded for this chain, or deploy one and record it.

    The manifest is looked for first: re-using a deployment needs no bootstrap. A new
    deployment is bootstrapped from ``bootstrap_file``; without one, from the demo
    administrations on a local development chain (:func:`is_dev_chain`), and anywhere else
    it is refused with :class:`ConfigurationError`. A given ``bootstrap_file`` is read (and
    its errors reported) even when the recorded deployment is re-used; its administrations'
    names are recorded in ``<data_dir>/organisation-names.json`` (:mod:`.names`).
    """
    given = load_bootstrap(bootstrap_file) if bootstrap_file is not None else None
    if bootstrap_file is not None:
        record_names(settings.data_dir, bootstrap_names(bootstrap_file))

    def bootstrap() -> Bootstrap:
        if given is not None:
            return given
        if is_dev_chain(w3):
            now = int(w3.eth.get_block("latest")["timestamp"])
            return bootstrap_for(DEMO_PARTIES, relayers=[tx.address], now=now)
        raise ConfigurationError(
            f"chain {w3.eth.chain_id} has no deployment recorded in "
            f"{manifest_path(settings.data_dir, w3.eth.chain_id)}, and deploying to a network "
            "other than the local development chain needs a bootstrap file (--bootstrap) "
            "naming its customs administrations, their keys, the threshold and the relayers"
        )

    deployment, created = ensure_deployment(
        w3, tx, bootstrap, data_dir=settings.data_dir, fresh=fresh
    )
    if not created and bootstrap_file is not None:
        log.info(
            "chain %d has a recorded deployment: %s was not needed",
            deployment.chain_id,
            bootstrap_file,
        )
    return deployment, created


def demo_governed(ledger: Ledger) -> bool:
    """Whether the demo administrations govern this deployment (it was bootstrapped with
    :func:`~ledger.stack.bootstrap_for` over the demo parties), so that the demo can be seeded."""
    for party in DEMO_PARTIES:
        if party.kind == CUSTOMS and ledger.membership.key_info(party.address).org_id != (
            party.org_id
        ):
            return False
    return True


def _deployment_key(ledger: Ledger) -> dict[str, Any]:
    return {
        "chain_id": ledger.deployment.chain_id,
        "membership": ledger.deployment.address("Membership"),
    }


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def demo_complete(ledger: Ledger, *, data_dir: Path) -> bool:
    """Whether the demo of this deployment was seeded to the end (``demo.json`` says so)."""
    done = _read_json(data_dir / DEMO_FILE)
    if done is None:
        return False
    if "deployment" not in done:  # written before demo.json named its deployment
        carrier = DEMO_PARTIES[2]
        return bool(ledger.membership.organisation(carrier.org_id).registered)
    return bool(done["deployment"] == _deployment_key(ledger))


def seed_if_new(
    ledger: Ledger, *, data_dir: Path, epcis: EpcisStore | None = None
) -> DemoWorld | None:
    """Seed the demo world into this deployment unless that was done to the end already.

    Completion is explicit: ``<data_dir>/demo.json`` is written last, naming the deployment.
    Before seeding starts, ``<data_dir>/demo-seeding.json`` records the time that anchors the
    demo world, so that a run interrupted half-way (Ctrl-C) is completed by the next one
    instead of being left half done: :func:`~ledger.stack.demo.seed_demo` skips what is on chain.
    Returns ``None`` when there is nothing to do: the demo is complete, or the deployment is
    not governed by the demo administrations (:func:`demo_governed`).
    """
    if demo_complete(ledger, data_dir=data_dir) or not demo_governed(ledger):
        return None
    progress_file = data_dir / SEEDING_FILE
    progress = _read_json(progress_file)
    if progress is not None and progress.get("deployment") == _deployment_key(ledger):
        anchor = int(progress["anchor"])
        log.info("resuming the demo seeding begun in %s", progress_file)
    else:
        anchor = int(ledger.w3.eth.get_block("latest")["timestamp"])
        _write_json(progress_file, {"deployment": _deployment_key(ledger), "anchor": anchor})
    world = seed_demo(ledger, now=anchor)
    summary: dict[str, Any] = {**world.summary(), "deployment": _deployment_key(ledger)}
    if epcis is not None:
        # The EPCIS demo (captures on chain and in the index): a cloned serial and a
        # duplicated container for the verifier to find.
        summary["epcis"] = seed_epcis_demo(ledger, epcis, world, now=anchor)
    _write_json(data_dir / DEMO_FILE, summary)
    progress_file.unlink(missing_ok=True)
    log.info("demo world seeded: consignment %s", world.consignment_ref)
    return world
