"""Deploying to the network as a member would: ``ledger deploy --rpc NODE --chain-id ID
--bootstrap FILE`` from node 0 (Australia's), with three administrations, threshold 2 and each
member's relayer account. The manifest records the suite, and every node -- the other two
signers and the RPC node, none of which the deployment talked to -- answers for the same
contracts with the bootstrap's governance. A second ``ledger deploy`` re-uses it.
"""

from __future__ import annotations

import json

import pytest

from ledger.chain import SUITE, manifest_path, verify_deployment
from ledger.chain.deploy import MANIFEST_VERSION
from tests.network.conftest import Consortium
from tests.network.consortium import THRESHOLD, attach, clean_env, run_ledger

pytestmark = pytest.mark.network


def test_deploy_with_a_bootstrap_file_writes_the_manifest(consortium: Consortium) -> None:
    net, a = consortium.net, consortium.a
    manifest = manifest_path(a.data_dir, net.chain_id)
    data = json.loads(manifest.read_text())
    assert data["chain_id"] == net.chain_id != 31337
    assert data["version"] == MANIFEST_VERSION
    assert data["deployer"].lower() == a.relayer_address.lower()
    assert sorted(data["contracts"]) == sorted(name for name, _ in SUITE)
    rpc = net.rpc(a.node)
    for name, record in data["contracts"].items():
        receipt = rpc.call("eth_getTransactionReceipt", record["tx_hash"])
        assert receipt is not None, f"{name}: no receipt for {record['tx_hash']}"
        assert int(receipt["status"], 16) == 1
        assert receipt["contractAddress"].lower() == record["address"].lower()
        assert int(receipt["blockNumber"], 16) == record["block"] >= data["block"]
    # What the command said is what the manifest holds.
    out = consortium.deploy_output
    assert f"deployed the contract suite on chain {net.chain_id}" in out
    for name, _ in SUITE:
        assert consortium.deployment.address(name) in out
    assert str(manifest) in out


@pytest.mark.parametrize("node", [0, 1, 2, 3], ids=["au-abf", "cn-gacc", "nz-customs", "rpc"])
def test_every_node_answers_for_the_contracts(consortium: Consortium, node: int) -> None:
    ledger = attach(consortium.net, node, consortium.deployment)
    verify_deployment(ledger.w3, consortium.deployment)  # code on chain = the current build
    membership = ledger.membership
    assert membership.threshold() == THRESHOLD
    assert membership.active_customs_count() == len(consortium.admins)
    for admin in consortium.admins.values():
        info = membership.key_info(admin.address)
        assert info.org_id == admin.org_id
        assert (info.kind, info.country) == (1, admin.country)
        assert membership.organisation(admin.org_id).registered
    for member in consortium.members.values():
        assert membership.is_relayer(member.relayer_address)
    assert not membership.is_relayer(consortium.net.relayer_key.address)


def test_deploying_again_reuses_the_deployment(consortium: Consortium) -> None:
    """Another member running the same command with the manifest it was given (China, on its
    own node) finds the deployment instead of deploying a second suite."""
    net, b = consortium.net, consortium.b
    before = manifest_path(b.data_dir, net.chain_id).read_text()
    done = run_ledger(
        ["deploy", "--rpc", net.rpc_url(b.node), "--chain-id", str(net.chain_id)],
        cwd=b.data_dir,
        env=clean_env(LEDGER_RELAYER_KEY=b.relayer_key, LEDGER_DATA_DIR=str(b.data_dir)),
    )
    assert done.returncode == 0, done.stderr
    assert f"re-used the contract suite on chain {net.chain_id}" in done.stdout
    assert manifest_path(b.data_dir, net.chain_id).read_text() == before
