"""The local Clique network: signers take turns, the RPC node follows, gas is free, a signer
killed with SIGKILL leaves the chain going and rejoins, and a partition's losing fork is
replaced (a reorg seen on the RPC node) when the network heals.

The tests run in file order on one network; each leaves it whole (all nodes up and linked).
Every wait is bounded in time and in the number of polls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from eth_account import Account

from ledger.network import CliqueNetwork, RpcClient
from tests.network.conftest import PERIOD

pytestmark = pytest.mark.network

T = TypeVar("T")
POLL = 0.25
SIGNER_NZ = 2
RPC_NODE = 3


def wait_for(what: str, probe: Callable[[], T | None], *, timeout: float = 30.0) -> T:
    """Poll ``probe`` until it returns something other than None/False (at most
    ``timeout / POLL`` polls)."""
    for _ in range(int(timeout / POLL)):
        value = probe()
        if value is not None and value is not False:
            return value
        time.sleep(POLL)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_head(rpc: RpcClient, at_least: int, timeout: float = 30.0) -> int:
    return wait_for(
        f"block {at_least} on {rpc.url}",
        lambda: n if (n := rpc.block_number()) >= at_least else None,
        timeout=timeout,
    )


def signer_of(rpc: RpcClient, number: int) -> str:
    return str(rpc.call("clique_getSigner", hex(number))).lower()


def test_signers_take_turns_and_extra_data_holds_the_seal(clique: CliqueNetwork) -> None:
    rpc = clique.rpc(0)
    start = rpc.block_number()
    head = wait_head(rpc, start + 9)
    signers = {signer_of(rpc, n) for n in range(head - 8, head + 1)}
    assert signers == {str(s.signer_address).lower() for s in clique.signers}
    extra = bytes.fromhex(rpc.block(head)["extraData"][2:])
    assert len(extra) == 32 + 65  # vanity + seal (a non-checkpoint block lists no signers)
    genesis_extra = bytes.fromhex(rpc.block(0)["extraData"][2:])
    assert len(genesis_extra) == 32 + 3 * 20 + 65


def test_rpc_node_follows_and_does_not_sign(clique: CliqueNetwork) -> None:
    rpc, signer = clique.rpc(RPC_NODE), clique.rpc(0)
    assert rpc.call("eth_mining") is False
    target = signer.block_number() + 3
    wait_head(rpc, target)
    hashes = {clique.rpc(i).block(target)["hash"] for i in range(4)}
    assert len(hashes) == 1
    assert int(rpc.call("eth_chainId"), 16) == clique.chain_id


def test_base_fee_stays_zero(clique: CliqueNetwork) -> None:
    rpc = clique.rpc(RPC_NODE)
    head = wait_head(rpc, 20, timeout=40)
    fees = {int(rpc.block(n)["baseFeePerGas"], 16) for n in range(head + 1)}
    assert fees == {0}
    assert int(rpc.block(head)["gasLimit"], 16) == 1_000_000_000


@pytest.mark.parametrize("kind", ["legacy", "eip1559"])
def test_zero_price_transaction_from_an_empty_account_is_mined(
    clique: CliqueNetwork, kind: str
) -> None:
    rpc = clique.rpc(RPC_NODE)  # not a signer: the transaction must travel to the signers
    sender = Account.create()
    assert int(rpc.call("eth_getBalance", sender.address, "latest"), 16) == 0
    tx: dict[str, object] = {
        "to": clique.relayer_key.address,
        "value": 0,
        "gas": 21_000,
        "nonce": 0,
        "chainId": clique.chain_id,
    }
    if kind == "legacy":
        tx["gasPrice"] = 0
    else:
        tx.update(maxFeePerGas=0, maxPriorityFeePerGas=0, type=2)
    signed = sender.sign_transaction(tx)
    tx_hash = rpc.call("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex())
    receipt = wait_for(
        "the receipt", lambda: rpc.call("eth_getTransactionReceipt", tx_hash), timeout=30
    )
    assert int(receipt["status"], 16) == 1
    assert int(receipt["effectiveGasPrice"], 16) == 0
    block = rpc.block(int(receipt["blockNumber"], 16))
    assert int(block["baseFeePerGas"], 16) == 0
    assert int(rpc.call("eth_getBalance", sender.address, "latest"), 16) == 0


def test_hard_killed_signer_leaves_the_chain_going_and_rejoins(clique: CliqueNetwork) -> None:
    rpc = clique.rpc(RPC_NODE)
    nz = str(clique.node(SIGNER_NZ).signer_address).lower()
    clique.stop_node(SIGNER_NZ, hard=True)
    assert clique.pid(SIGNER_NZ) is None
    # Let blocks already in flight from nz land, then the two others go on alone.
    settle = wait_head(rpc, rpc.block_number() + 2)
    head = wait_head(rpc, settle + 6)
    assert nz not in {signer_of(rpc, n) for n in range(settle + 1, head + 1)}

    clique.start_node(SIGNER_NZ)
    clique.wait_ready(timeout=60)
    restarted_at = clique.rpc(SIGNER_NZ).block_number()
    wait_for(
        "a block sealed by the restarted signer",
        lambda: nz in {signer_of(rpc, n) for n in range(restarted_at, rpc.block_number() + 1)},
        timeout=30,
    )


def test_partition_forks_and_healing_replaces_the_minority_fork(clique: CliqueNetwork) -> None:
    """{au, cn} keep sealing (2 of 3 signers alternate); {nz, rpc} get at most one block (a
    signer may seal one block in any 2 consecutive). On healing, the longer {au, cn} chain
    (higher total difficulty) replaces nz's block on the RPC node: a reorg."""
    rpc, majority, nz = clique.rpc(RPC_NODE), clique.rpc(0), clique.rpc(SIGNER_NZ)
    fork: tuple[int, str] | None = None
    for _attempt in range(3):
        # nz may seal on its side only if it did not seal the last block before the split:
        # it stops sealing, the two others seal two blocks, then the split, then nz seals again.
        nz.call("miner_stop")
        try:
            wait_head(majority, majority.block_number() + 2)
            clique.partition([[0, 1], [SIGNER_NZ, RPC_NODE]])
        finally:
            nz.call("miner_start")
        time.sleep(3 * PERIOD + 2)
        height = rpc.block_number()
        wait_head(majority, height + 4)
        if rpc.block(height)["hash"] != majority.block(height)["hash"]:
            fork = (height, rpc.block(height)["hash"])
            break
        clique.heal()
    assert fork is not None, "the minority side never sealed a block of its own in 3 attempts"
    height, minority_hash = fork
    assert signer_of(rpc, height) == str(clique.node(SIGNER_NZ).signer_address).lower()
    wait_head(majority, height + 4)
    majority_hash = majority.block(height)["hash"]
    assert majority_hash != minority_hash
    time.sleep(2)
    assert rpc.block_number() == height  # the minority is stuck on its one block

    clique.heal()
    wait_for(
        "the RPC node to adopt the majority chain",
        lambda: rpc.block(height)["hash"] == majority_hash,
        timeout=30,
    )
    assert rpc.block_number() > height + 3
    # The replaced block is still known by hash, but no longer canonical.
    replaced = rpc.call("eth_getBlockByHash", minority_hash, False)
    assert replaced is None or replaced["hash"] != rpc.block(height)["hash"]
