"""The custodial key store refuses the public default secret off the local development chain.

Local: chain id 31337 (anvil's) on the embedded node or at a loopback RPC URL -- what
``ledger up`` and ``ledger node`` run, and what the tests and the benchmark use. Anywhere
else the gateway must be given a secret of its own (or ``allow_insecure_keystore_secret``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from gateway.config import GatewaySettings
from gateway.stack import build_services
from gateway.writes.custodial_keys import SigningKeyStore, add_signing_key, list_signing_keys
from ledger.chain import Ledger
from ledger.errors import ConfigurationError
from tests.conftest import RELAYER_KEY

ORG = "0x" + "cd" * 32
REMOTE = "https://besu-validator-1.customs.example:8545"


def _settings(tmp_path: Path, **values: object) -> GatewaySettings:
    return GatewaySettings(data_dir=tmp_path, keystore_scrypt_n=2**10, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "values",
    [
        {},  # ledger up: the embedded node, chain id 31337
        {"rpc_url": "http://127.0.0.1:8545"},  # ledger node + ledger serve --rpc, the tests
        {"rpc_url": "http://localhost:8545"},
        {"rpc_url": "http://[::1]:8545"},
        {"rpc_url": REMOTE, "chain_id": 2024, "keystore_secret": "a secret of our own"},
        {"rpc_url": REMOTE, "chain_id": 2024, "allow_insecure_keystore_secret": True},
    ],
    ids=["embedded", "loopback", "localhost", "ipv6-loopback", "own-secret", "opt-in"],
)
def test_the_key_store_opens(tmp_path: Path, values: dict[str, object]) -> None:
    settings = _settings(tmp_path, **values)
    added = add_signing_key(settings, org_id=ORG)
    assert list_signing_keys(settings) == [added]
    assert SigningKeyStore.from_settings(settings).account(ORG).address == added.address


@pytest.mark.parametrize(
    ("values", "what"),
    [
        ({"rpc_url": REMOTE, "chain_id": 2024}, "the public default 'change-me-local-only'"),
        ({"rpc_url": REMOTE}, "the public default"),  # chain id 31337, but not this machine
        ({"rpc_url": "http://127.0.0.1:8545", "chain_id": 2024}, "the public default"),
        ({"chain_id": 1337}, "the public default"),  # an embedded node on another chain id
        ({"rpc_url": REMOTE, "chain_id": 2024, "keystore_secret": ""}, "empty"),
    ],
    ids=["remote-chain", "remote-31337", "loopback-other-chain", "embedded-other-chain", "empty"],
)
def test_a_guessable_secret_is_refused_off_the_local_chain(
    tmp_path: Path, values: dict[str, object], what: str
) -> None:
    settings = _settings(tmp_path, **values)
    with pytest.raises(ConfigurationError) as refused:
        add_signing_key(settings, org_id=ORG)
    message = str(refused.value)
    assert f"keystore_secret (LEDGER_KEYSTORE_SECRET) is {what}" in message
    assert "only on the local development chain (chain id 31337" in message
    assert f"chain id {settings.chain_id} at {settings.effective_rpc_url}" in message
    assert "allow_insecure_keystore_secret" in message
    assert not settings.keystore_path.exists()  # nothing was created
    with pytest.raises(ConfigurationError):
        list_signing_keys(settings)
    with pytest.raises(ConfigurationError):
        SigningKeyStore.from_settings(settings)


def test_the_opt_in_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = _settings(
        tmp_path, rpc_url=REMOTE, chain_id=2024, allow_insecure_keystore_secret=True
    )
    with caplog.at_level(logging.WARNING, logger="gateway.signing_keys"):
        SigningKeyStore.from_settings(settings)
    assert any("anyone can decrypt" in r.getMessage() for r in caplog.records)


def test_the_gateway_stack_refuses_to_start_with_the_default_secret_off_the_local_chain(
    tmp_path: Path, ledger: Ledger
) -> None:
    """``build_services`` (``gateway.stack:app_factory``, ``ledger up``, ``ledger serve``)
    opens the key store through ``from_settings``: a gateway configured for another chain
    with the default secret does not start; with its own secret it does."""
    relayer = SecretStr(RELAYER_KEY)
    foreign = _settings(tmp_path, rpc_url=REMOTE, chain_id=2024, relayer_key=relayer)
    with pytest.raises(ConfigurationError, match="keystore_secret"):
        build_services(foreign, ledger=ledger, with_index=False)
    own = _settings(
        tmp_path,
        rpc_url=REMOTE,
        chain_id=2024,
        relayer_key=relayer,
        keystore_secret="a secret of our own",
    )
    services = build_services(own, ledger=ledger, with_index=False)
    assert services.chain is not None
    assert services.chain.signing_keys is not None
    local = _settings(tmp_path / "local", relayer_key=relayer)
    assert build_services(local, ledger=ledger, with_index=False).chain is not None
