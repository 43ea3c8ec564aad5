"""Deployment: manifests, idempotent re-use, refusal of manifests whose code is not on chain."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from web3 import Web3

from ledger.chain import (
    SUITE,
    AnvilNode,
    Deployment,
    TxManager,
    ensure_deployment,
    load_artifact,
    manifest_path,
    rpc_call,
    verify_deployment,
)
from ledger.cli import main as cli_main
from ledger.errors import ConfigurationError, DeploymentError, ManifestMismatch
from ledger.stack import DEMO_PARTIES, bootstrap_for, load_bootstrap
from tests.conftest import free_port


def _bootstrap(w3: Web3, tx: TxManager):  # type: ignore[no-untyped-def]
    now = int(w3.eth.get_block("latest")["timestamp"])
    return bootstrap_for(DEMO_PARTIES, relayers=[tx.address], now=now)


def test_deploy_writes_a_manifest_and_reuses_it(
    w3: Web3, relayer_tx: TxManager, tmp_path: Path
) -> None:
    first, created = ensure_deployment(
        w3, relayer_tx, _bootstrap(w3, relayer_tx), data_dir=tmp_path
    )
    assert created
    path = manifest_path(tmp_path, w3.eth.chain_id)
    data = json.loads(path.read_text())
    assert data["chain_id"] == w3.eth.chain_id
    assert set(data["contracts"]) == {name for name, _ in SUITE}
    assert data["compiler"].startswith("0.8.30")
    for name, record in first.contracts.items():
        code = bytes(w3.eth.get_code(record.address))
        assert load_artifact(name).runtime_matches(code)
    block = w3.eth.block_number
    second, created_again = ensure_deployment(
        w3, relayer_tx, _bootstrap(w3, relayer_tx), data_dir=tmp_path
    )
    assert not created_again
    assert second == first
    assert w3.eth.block_number == block, "re-use sends no transaction"


def test_manifest_without_code_on_chain_is_refused(
    w3: Web3, relayer_tx: TxManager, tmp_path: Path
) -> None:
    deployment, _ = ensure_deployment(w3, relayer_tx, _bootstrap(w3, relayer_tx), data_dir=tmp_path)
    membership = deployment.contracts["Membership"]
    moved = replace(
        deployment,
        contracts={
            **deployment.contracts,
            "Membership": replace(membership, address="0x" + "12" * 20),
        },
    )
    moved.save(manifest_path(tmp_path, deployment.chain_id))
    with pytest.raises(ManifestMismatch, match="has no code there: the chain was reset"):
        ensure_deployment(w3, relayer_tx, _bootstrap(w3, relayer_tx), data_dir=tmp_path)
    redeployed, created = ensure_deployment(
        w3, relayer_tx, _bootstrap(w3, relayer_tx), data_dir=tmp_path, fresh=True
    )
    assert created
    assert redeployed.address("Membership") != "0x" + "12" * 20


def test_manifest_of_another_chain_is_refused(
    w3: Web3, relayer_tx: TxManager, tmp_path: Path
) -> None:
    deployment, _ = ensure_deployment(w3, relayer_tx, _bootstrap(w3, relayer_tx), data_dir=tmp_path)
    with pytest.raises(ManifestMismatch, match="is for chain id 999"):
        verify_deployment(w3, replace(deployment, chain_id=999))


def test_code_that_differs_from_the_manifest_is_refused(
    w3: Web3, relayer_tx: TxManager, tmp_path: Path
) -> None:
    deployment, _ = ensure_deployment(w3, relayer_tx, _bootstrap(w3, relayer_tx), data_dir=tmp_path)
    # Point Consignments at the Certificates contract: code exists but is not what was recorded.
    swapped = replace(
        deployment,
        contracts={
            **deployment.contracts,
            "Consignments": replace(
                deployment.contracts["Consignments"],
                address=deployment.contracts["Certificates"].address,
            ),
        },
    )
    with pytest.raises(ManifestMismatch, match="does not match the code hash"):
        verify_deployment(w3, swapped)


def test_unreadable_manifest_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "1.json"
    path.write_text("{not json")
    with pytest.raises(DeploymentError, match="cannot read deployment manifest"):
        Deployment.load(path)


BOOTSTRAP = """
threshold = 2
relayers = ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"]

[[administrations]]
name = "Australian Border Force"
country = "AU"
key = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
valid_from = "2026-01-01T00:00:00Z"
valid_until = "2031-01-01T00:00:00Z"

[[administrations]]
name = "General Administration of Customs of China"
country = "CN"
key = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
valid_from = 1767225600
valid_until = 1924992000
"""


def test_bootstrap_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bootstrap.toml"
    path.write_text(BOOTSTRAP)
    bootstrap = load_bootstrap(path)
    assert bootstrap.threshold == 2
    assert [a.country for a in bootstrap.administrations] == ["AU", "CN"]
    assert bootstrap.administrations[0].valid_from == 1767225600
    assert bootstrap.relayers == ("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('country = "AU"', 'country = "XX"'), r"administrations\[0\]\.country"),
        (('key = "0x7099', 'key = "0xZZ99'), r"administrations\[0\]\.key: must be a 20-byte"),
        (("threshold = 2", "threshold = 3"), "threshold must be between 1 and the number"),
        (('valid_until = "2031', 'valid_until = "2025'), "valid_until must be after valid_from"),
        (('"2026-01-01T00:00:00Z"', '"2026-01-01T00:00:00"'), "give a time zone"),
    ],
)
def test_bootstrap_errors_name_the_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "bootstrap.toml"
    path.write_text(BOOTSTRAP.replace(*change, 1))
    with pytest.raises(ConfigurationError, match=message):
        load_bootstrap(path)


# ------------------------------------------------------------------------------------------
# `ledger deploy` through the command line, on a network and against an older build
# ------------------------------------------------------------------------------------------

NETWORK_CHAIN_ID = 4242  # not anvil's 31337: the node stands in for a production network


@pytest.fixture(scope="module")
def network() -> Iterator[AnvilNode]:
    """A second anvil with its own chain id, which the CLI treats as an external network."""
    node = AnvilNode(port=free_port(), chain_id=NETWORK_CHAIN_ID, free_gas=True)
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run ``ledger`` in-process in an empty working directory with no LEDGER_* variables."""
    for name in list(os.environ):
        if name.startswith("LEDGER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli_main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _height(url: str) -> int:
    return int(rpc_call(url, "eth_blockNumber"), 16)


def test_deploy_to_a_network_needs_a_bootstrap_only_to_deploy(
    network: AnvilNode, cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    bootstrap = tmp_path / "bootstrap.toml"
    bootstrap.write_text(BOOTSTRAP)
    data = tmp_path / "data"
    common = ("deploy", "--rpc", network.rpc_url, "--chain-id", str(NETWORK_CHAIN_ID))
    common += ("--data-dir", str(data))

    height = _height(network.rpc_url)
    code, _, err = cli(*common)
    assert code == 1
    assert "needs a bootstrap file (--bootstrap)" in err
    assert _height(network.rpc_url) == height, "a refused deployment sends no transaction"

    code, out, err = cli(*common, "--bootstrap", str(bootstrap))
    assert code == 0, err
    assert out.startswith(f"deployed the contract suite on chain {NETWORK_CHAIN_ID}")
    manifest = json.loads(manifest_path(data, NETWORK_CHAIN_ID).read_text())
    height = _height(network.rpc_url)

    code, out, err = cli(*common, "--bootstrap", str(bootstrap))
    assert code == 0, err
    assert out.startswith(f"re-used the contract suite on chain {NETWORK_CHAIN_ID}")
    assert _height(network.rpc_url) == height, "re-use sends no transaction"

    code, out, err = cli(*common)
    assert code == 0, err
    assert out.startswith(f"re-used the contract suite on chain {NETWORK_CHAIN_ID}")
    assert _height(network.rpc_url) == height, "re-use sends no transaction"
    for name, record in manifest["contracts"].items():
        assert f"{name:<13} {record['address']}" in out
    assert json.loads(manifest_path(data, NETWORK_CHAIN_ID).read_text()) == manifest


def test_deploy_refuses_a_manifest_whose_code_is_an_older_build(
    w3: Web3,
    relayer_tx: TxManager,
    anvil: AnvilNode,
    cli: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    deployment, _ = ensure_deployment(w3, relayer_tx, _bootstrap(w3, relayer_tx), data_dir=data)
    # What an older build of Membership looks like on chain: other runtime code (here the
    # current code with another metadata hash), recorded as such in the manifest.
    record = deployment.contracts["Membership"]
    code = bytearray(w3.eth.get_code(record.address))
    code[-40] ^= 0xFF
    w3.provider.make_request("anvil_setCode", [record.address, "0x" + code.hex()])  # type: ignore[arg-type]
    older = replace(
        deployment,
        contracts={
            **deployment.contracts,
            "Membership": replace(record, code_hash="0x" + keccak(bytes(code)).hex()),
        },
    )
    older.save(manifest_path(data, deployment.chain_id))
    height = w3.eth.block_number

    code_, _, err = cli("deploy", "--rpc", anvil.rpc_url, "--data-dir", str(data))
    assert code_ == 1
    assert f"Membership at {record.address} is an older build than ledger/artifacts" in err
    assert "ledger deploy --fresh" in err
    assert w3.eth.block_number == height

    code_, out, err = cli("deploy", "--rpc", anvil.rpc_url, "--data-dir", str(data), "--fresh")
    assert code_ == 0, err
    assert out.startswith("deployed the contract suite")
    assert Deployment.load(manifest_path(data, deployment.chain_id)).address("Membership") != (
        record.address
    )
