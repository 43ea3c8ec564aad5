"""Deployment: manifests, idempotent re-use, refusal of manifests whose code is not on chain."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from web3 import Web3

from ledger.bootstrap import load_bootstrap
from ledger.demo import DEMO_PARTIES, bootstrap_for
from ledger.deploy import SUITE, Deployment, ensure_deployment, manifest_path, verify_deployment
from ledger.errors import ConfigurationError, DeploymentError, ManifestMismatch
from ledger.toolchain import load_artifact
from ledger.txmanager import TxManager


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
