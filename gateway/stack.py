"""The gateway on the real stack: node, deployment, relayer, custodial keys, index.

``build_services(settings)`` connects to the node (``settings.effective_rpc_url``), attaches
the deployment recorded in ``<data_dir>/deployments/<chain id>.json`` (checked against the
code on chain), builds the relayer's :class:`~ledger.chain.txmanager.TxManager` and the
:class:`~gateway.writes.relayer.ContractRelayer`, opens the custodial key store and (when
``ledger.index.follower`` is available) the log index, and readiness checks for all of them::

    app = create_app(settings, services=build_services(settings))

``ledger up`` passes the :class:`~ledger.chain.client.Ledger` it already built (``ledger=``).
``uvicorn --factory gateway.stack:app_factory`` serves the same from the environment
(``LEDGER_*``).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from web3 import Web3

from gateway.config import GatewaySettings
from gateway.logs import configure_logging
from gateway.main import create_app
from gateway.services import GatewayServices, ReadinessCheck
from gateway.writes.custodial_keys import SigningKeyStore
from gateway.writes.ledger_services import LedgerServices
from gateway.writes.relayer import MAX_CALLDATA_BYTES, ContractRelayer
from ledger.chain import Deployment, Ledger, TxManager, manifest_path, verify_deployment
from ledger.errors import ConfigurationError
from ledger.stack import confirmations, connect, is_anvil, relayer_key

__all__ = ["app_factory", "build_services"]

logger = logging.getLogger("gateway.stack")


def _open_index(settings: GatewaySettings, ledger: Ledger, depth: int) -> Any:
    try:
        from ledger.index import Index
    except ImportError:  # pragma: no cover - the index ships with the ledger package
        logger.warning("ledger.index.follower is not available: reads use contract views and logs")
        return None
    return Index(settings.index_url, ledger, confirmations=depth)


def _chain_id_checked_once(w3: Web3, chain_id: int) -> None:
    """Check the node's chain id once and drop web3's ``validation`` middleware.

    That middleware asks the node for its chain id before every ``eth_call``,
    ``eth_estimateGas`` and ``eth_sendTransaction`` (two round trips per call) to compare it
    with the request's ``chainId``. The gateway's requests carry none (transactions are
    signed locally with the deployment's chain id), and the chain id is the deployment's,
    checked here.
    """
    actual = int(w3.eth.chain_id)
    if actual != chain_id:
        raise ConfigurationError(
            f"the node reports chain id {actual}, the deployment is on chain {chain_id}"
        )
    if any(name == "validation" for _, name in w3.middleware_onion.middleware):
        w3.middleware_onion.remove("validation")


def build_services(
    settings: GatewaySettings,
    *,
    ledger: Ledger | None = None,
    with_index: bool = True,
) -> GatewayServices:
    """Everything ``create_app`` needs to relay to, validate against and read the chain."""
    if ledger is None:
        w3 = connect(settings)
        deployment = Deployment.load(manifest_path(settings.data_dir, settings.chain_id))
        verify_deployment(w3, deployment)
        key = relayer_key(settings, w3)
        depth = confirmations(settings, w3)
        tx = TxManager(w3, key, confirmations=depth)
        ledger = Ledger.attach(w3, deployment, tx=tx)
    else:
        w3 = ledger.w3
        key = relayer_key(settings, w3)
        depth = confirmations(settings, w3)
        tx = TxManager(w3, key, confirmations=depth)
    _chain_id_checked_once(w3, ledger.deployment.chain_id)
    relayer = ContractRelayer(
        ledger,
        tx,
        key,
        confirmations=depth,
        default_limit=settings.batch_max_size,
        # anvil takes transactions of any size; go-ethereum and GoQuorum nodes refuse one over
        # 128 KiB, so everywhere else batches are kept under MAX_CALLDATA_BYTES.
        max_calldata_bytes=None if is_anvil(w3) else MAX_CALLDATA_BYTES,
    )
    index = _open_index(settings, ledger, depth) if with_index else None
    chain = LedgerServices(
        ledger=ledger, signing_keys=SigningKeyStore.from_settings(settings), index=index
    )
    deployment = ledger.deployment

    def rpc() -> str:
        return f"block {int(w3.eth.block_number)}"

    def deployment_check() -> str:
        verify_deployment(w3, deployment)
        return f"verified at {deployment.address('Membership')}"

    def relayer_allowed() -> bool:
        return ledger.membership.is_relayer(relayer.address)

    checks: dict[str, ReadinessCheck] = {
        "rpc": rpc,
        "deployment": deployment_check,
        "relayer_allowed": relayer_allowed,
    }
    logger.info(
        "stack: chain %d, Membership %s, relayer %s, index %s",
        deployment.chain_id,
        deployment.address("Membership"),
        relayer.address,
        "on" if index is not None else "off",
    )
    return GatewayServices(
        relayer=relayer,
        readiness_checks=checks,
        index_lag=None if index is None else index.lag,
        chain=chain,
    )


def app_factory() -> FastAPI:
    """``uvicorn --factory gateway.stack:app_factory``: settings from the environment."""
    configure_logging()
    settings = GatewaySettings()
    return create_app(settings, services=build_services(settings))
