"""TxManager against anvil: nonces under concurrency, fees, retries, replacement, confirmations.

A tiny contract (compiled here from source, independent of the project's contracts) gives
events, custom-error reverts and a storage-heavy batch call for gas sizing.
"""

from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
import solcx
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.providers import HTTPProvider

from ledger.chain import (
    MAX_TX_GAS,
    AnvilNode,
    PendingTx,
    Receipt,
    RetryPolicy,
    TxManager,
    fit_batch_size,
    is_transient,
    solc_binary,
)
from ledger.errors import (
    GasLimitExceeded,
    NonceConflict,
    RpcUnavailable,
    TransactionRejected,
    TransactionReverted,
    TransactionTimeout,
)
from tests.ledger.chain.flaky_proxy import Fault, FaultKind, FlakyProxy

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDRESS = Account.from_key(KEY).address
OTHER = "0x" + "11" * 20
FAST_RETRY = RetryPolicy(attempts=8, base_delay=0.01, max_delay=0.1)

SINK_SOURCE = """
// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

contract Sink {
    error Refused(uint256 code, address sender);
    event Bumped(address indexed sender, uint256 count);

    uint256 public count;
    mapping(uint256 key => uint256 value) public slots;

    function bump() external {
        count += 1;
        emit Bumped(msg.sender, count);
    }

    function fill(uint256[] calldata values) external {
        uint256 base = count << 128;
        for (uint256 i = 0; i < values.length; i++) slots[base + i] = values[i];
        count += 1;
    }

    function stamp(uint256 time) external {
        if (time > block.timestamp) revert Refused(time, msg.sender);
        count += 1;
    }

    function refuse(uint256 code) external view {
        revert Refused(code, msg.sender);
    }
}
"""


@pytest.fixture(scope="module")
def sink_artifact() -> dict[str, Any]:
    out = solcx.compile_standard(
        {
            "language": "Solidity",
            "sources": {"Sink.sol": {"content": SINK_SOURCE}},
            "settings": {
                "optimizer": {"enabled": True, "runs": 200},
                "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
            },
        },
        solc_binary=str(solc_binary()),
    )
    contract: dict[str, Any] = out["contracts"]["Sink.sol"]["Sink"]
    return {"abi": contract["abi"], "bytecode": "0x" + contract["evm"]["bytecode"]["object"]}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def manager(w3: Web3, **kwargs: Any) -> TxManager:
    kwargs.setdefault("poll_interval", 0.02)
    kwargs.setdefault("retry", FAST_RETRY)
    return TxManager(w3, KEY, **kwargs)


def deploy_sink(w3: Web3, artifact: dict[str, Any]) -> Contract:
    receipt = manager(w3).send_and_wait({"data": artifact["bytecode"]}, timeout=30)
    assert receipt.contract_address is not None
    address = Web3.to_checksum_address(receipt.contract_address)
    return w3.eth.contract(address=address, abi=artifact["abi"])


@pytest.fixture
def sink(w3: Web3, sink_artifact: dict[str, Any]) -> Contract:
    return deploy_sink(w3, sink_artifact)


def call_tx(contract: Contract, name: str, *args: Any) -> dict[str, Any]:
    return {"to": contract.address, "data": contract.encode_abi(name, list(args))}


def refused(code: int, sender: str) -> str:
    selector = keccak(text="Refused(uint256,address)")[:4]
    return "0x" + (selector + encode(["uint256", "address"], [code, sender])).hex()


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    reply = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in reply, reply
    return reply["result"]


@contextmanager
def own_node(*, free_gas: bool, no_mining: bool = False) -> Iterator[Web3]:
    extra = ("--no-mining",) if no_mining else ()
    node = AnvilNode(port=free_port(), free_gas=free_gas, extra_args=extra)
    node.start()
    try:
        yield Web3(HTTPProvider(node.rpc_url, request_kwargs={"timeout": 10}))
    finally:
        node.stop()


@contextmanager
def flaky(upstream: str) -> Iterator[tuple[FlakyProxy, Web3]]:
    """A proxy in front of ``upstream`` and a Web3 on it with web3's own retries off."""
    with FlakyProxy(upstream) as proxy:
        provider = HTTPProvider(
            proxy.url, request_kwargs={"timeout": 1}, exception_retry_configuration=None
        )
        yield proxy, Web3(provider)


def wait_in_thread(tm: TxManager, pending: PendingTx, **kwargs: Any) -> Callable[[], Receipt]:
    """Start tm.wait in a thread; the returned function joins it and returns (or raises)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["receipt"] = tm.wait(pending, **kwargs)
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> Receipt:
        thread.join(timeout=30)
        assert not thread.is_alive(), "wait did not return"
        if "error" in outcome:
            raise outcome["error"]
        receipt: Receipt = outcome["receipt"]
        return receipt

    return join


def node_has(w3: Web3, tx_hash: str, *, mined: bool = False) -> bool:
    try:
        if mined:
            w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        else:
            w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return False
    return True


def until(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


# -- fees ---------------------------------------------------------------------------------


def test_free_gas_network_sends_legacy_zero_price_and_balance_is_unchanged(
    w3: Web3, sink: Contract
) -> None:
    tm = manager(w3)
    balance = w3.eth.get_balance(ADDRESS)

    receipt = tm.send_and_wait(call_tx(sink, "bump"), timeout=10)

    assert tm.free_gas
    sent = w3.eth.get_transaction(receipt.tx_hash)  # type: ignore[arg-type]
    assert sent["type"] == 0
    assert sent["gasPrice"] == 0
    assert receipt.status == 1
    assert receipt.effective_gas_price == 0
    assert len(receipt.logs) == 1
    assert w3.eth.get_balance(ADDRESS) == balance


def test_priced_network_sends_eip1559_with_twice_the_base_fee_plus_tip() -> None:
    with own_node(free_gas=False) as w3:
        tm = manager(w3)
        base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
        balance = w3.eth.get_balance(ADDRESS)

        pending = tm.send({"to": OTHER, "value": 5})
        receipt = tm.wait(pending, timeout=10)

        assert not tm.free_gas
        assert base_fee > 0
        fields = pending.fields
        assert w3.eth.get_transaction(receipt.tx_hash)["type"] == 2  # type: ignore[arg-type]
        assert fields["maxFeePerGas"] == 2 * base_fee + fields["maxPriorityFeePerGas"]
        assert receipt.effective_gas_price > 0
        spent = receipt.gas_used * receipt.effective_gas_price + 5
        assert w3.eth.get_balance(ADDRESS) == balance - spent


# -- nonces -------------------------------------------------------------------------------


def test_concurrent_sends_from_many_threads_get_contiguous_unique_nonces(
    w3: Web3, sink: Contract
) -> None:
    tm = manager(w3)
    start = w3.eth.get_transaction_count(ADDRESS)
    threads, per_thread = 8, 50

    def submit(_: int) -> list[PendingTx]:
        return [tm.send(call_tx(sink, "bump")) for _ in range(per_thread)]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        sent = [p for batch in pool.map(submit, range(threads)) for p in batch]
    receipts = [tm.wait(p, timeout=30) for p in sent]

    total = threads * per_thread
    assert sorted(p.nonce for p in sent) == list(range(start, start + total))
    assert len({r.tx_hash for r in receipts}) == total
    assert all(r.status == 1 for r in receipts)
    assert w3.eth.get_transaction_count(ADDRESS) == start + total
    assert sink.functions.count().call() == total
    assert tm.in_flight() == []


def test_asyncio_callers_share_the_manager_through_threads(w3: Web3, sink: Contract) -> None:
    tm = manager(w3)
    start = w3.eth.get_transaction_count(ADDRESS)

    async def main() -> list[Receipt]:
        jobs = [tm.send_and_wait_async(call_tx(sink, "bump"), timeout=20) for _ in range(20)]
        return await asyncio.gather(*jobs)

    receipts = asyncio.run(main())

    assert sorted(r.nonce for r in receipts) == list(range(start, start + 20))
    assert sink.functions.count().call() == 20


def test_refused_transaction_does_not_use_up_its_nonce(w3: Web3, anvil: AnvilNode) -> None:
    with flaky(anvil.rpc_url) as (proxy, proxied):
        tm = manager(proxied)
        start = w3.eth.get_transaction_count(ADDRESS)
        refusal = Fault(FaultKind.RPC_ERROR, code=-32003, message="insufficient funds for gas")
        proxy.inject("eth_sendRawTransaction", refusal)

        with pytest.raises(TransactionRejected, match="insufficient funds"):
            tm.send({"to": OTHER, "value": 1})
        receipt = tm.send_and_wait({"to": OTHER, "value": 1}, timeout=10)

        assert proxy.applied == [("eth_sendRawTransaction", FaultKind.RPC_ERROR)]
        assert receipt.nonce == start
        assert w3.eth.get_transaction_count(ADDRESS) == start + 1


def test_nonce_taken_by_an_outside_sender_is_resynchronised(w3: Web3) -> None:
    tm = manager(w3)
    tm.send_and_wait({"to": OTHER, "value": 1}, timeout=10)  # the manager now caches a nonce
    outside = Account.from_key(KEY).sign_transaction(
        {
            "to": OTHER,
            "value": 2,
            "gas": 21000,
            "gasPrice": 0,
            "nonce": w3.eth.get_transaction_count(ADDRESS),
            "chainId": w3.eth.chain_id,
        }
    )
    w3.eth.send_raw_transaction(outside.raw_transaction)
    start = w3.eth.get_transaction_count(ADDRESS, "pending")

    receipt = tm.send_and_wait({"to": OTHER, "value": 3}, timeout=10)

    assert receipt.nonce == start
    assert w3.eth.get_transaction_count(ADDRESS) == start + 1


# -- retries ------------------------------------------------------------------------------


def test_transient_rpc_errors_are_retried_until_the_transaction_is_mined(
    w3: Web3, anvil: AnvilNode, sink: Contract
) -> None:
    with flaky(anvil.rpc_url) as (proxy, proxied):
        tm = manager(proxied)
        start = w3.eth.get_transaction_count(ADDRESS)
        proxy.inject("eth_estimateGas", Fault(FaultKind.DROP))
        proxy.inject("eth_estimateGas", Fault(FaultKind.HTTP_502))
        proxy.inject("eth_getTransactionCount", Fault(FaultKind.HTTP_502))
        proxy.inject("eth_sendRawTransaction", Fault(FaultKind.RPC_ERROR))  # busy, try again
        proxy.inject(
            "eth_sendRawTransaction",
            Fault(FaultKind.RPC_ERROR, code=-32005, message="limit exceeded"),
        )
        proxy.inject("eth_getTransactionReceipt", Fault(FaultKind.DELAY, delay=1.5))
        proxy.inject("eth_getTransactionReceipt", Fault(FaultKind.DROP))

        receipt = tm.send_and_wait(call_tx(sink, "bump"), timeout=20)

        assert proxy.pending_faults() == 0
        assert len(proxy.applied) == 7
        assert receipt.status == 1
        assert receipt.nonce == start
        assert w3.eth.get_transaction_count(ADDRESS) == start + 1
        assert sink.functions.count().call() == 1


def test_lost_send_replies_are_not_double_sent_and_keep_nonces_contiguous(
    w3: Web3, anvil: AnvilNode, sink: Contract
) -> None:
    with flaky(anvil.rpc_url) as (proxy, proxied):
        tm = manager(proxied)
        start = w3.eth.get_transaction_count(ADDRESS)
        proxy.inject("eth_sendRawTransaction", Fault(FaultKind.LOSE_REPLY), times=3)
        proxy.inject("eth_sendRawTransaction", Fault(FaultKind.DELAY, delay=1.5))

        with ThreadPoolExecutor(max_workers=4) as pool:
            sent = list(pool.map(lambda _: tm.send(call_tx(sink, "bump")), range(8)))
        receipts = [tm.wait(p, timeout=20) for p in sent]

        assert proxy.pending_faults() == 0
        assert proxy.forwarded["eth_sendRawTransaction"] > 8  # replies lost, bytes resent
        assert sorted(r.nonce for r in receipts) == list(range(start, start + 8))
        assert w3.eth.get_transaction_count(ADDRESS) == start + 8
        assert sink.functions.count().call() == 8  # each record applied exactly once


def test_unknown_send_outcome_raises_and_the_next_send_resynchronises(
    w3: Web3, anvil: AnvilNode
) -> None:
    with flaky(anvil.rpc_url) as (proxy, proxied):
        tm = manager(proxied, retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02))
        start = w3.eth.get_transaction_count(ADDRESS)
        proxy.inject("eth_sendRawTransaction", Fault(FaultKind.LOSE_REPLY))
        proxy.inject("eth_sendRawTransaction", Fault(FaultKind.DROP), times=2)

        with pytest.raises(RpcUnavailable) as raised:
            tm.send({"to": OTHER, "value": 1})
        lost = raised.value
        mined = w3.eth.wait_for_transaction_receipt(lost.tx_hash, timeout=10)  # type: ignore[arg-type]
        receipt = tm.send_and_wait({"to": OTHER, "value": 2}, timeout=10)

        assert lost.nonce == start
        assert mined["status"] == 1  # it reached the node although the caller saw an error
        assert receipt.nonce == start + 1  # the nonce was re-read, not reused
        assert w3.eth.get_transaction_count(ADDRESS) == start + 2


def test_send_many_uses_consecutive_nonces_and_estimates_all_before_sending(
    w3: Web3, sink: Contract
) -> None:
    tm = manager(w3)
    start = w3.eth.get_transaction_count(ADDRESS)

    with pytest.raises(TransactionReverted):
        tm.send_many([call_tx(sink, "bump"), call_tx(sink, "refuse", 1)])
    assert w3.eth.get_transaction_count(ADDRESS, "pending") == start  # nothing sent
    sent = tm.send_many([call_tx(sink, "bump") for _ in range(5)])
    receipts = [tm.wait(p, timeout=10) for p in sent]

    assert [p.nonce for p in sent] == list(range(start, start + 5))
    assert [r.nonce for r in receipts] == [p.nonce for p in sent]
    assert sink.functions.count().call() == 5


def test_broadcast_of_stored_bytes_is_idempotent(w3: Web3) -> None:
    tm = manager(w3)
    start = w3.eth.get_transaction_count(ADDRESS, "pending")
    fields = tm.prepare({"to": OTHER, "value": 1})
    raw = Account.from_key(KEY).sign_transaction({**fields, "nonce": start}).raw_transaction
    other = Account.from_key(KEY).sign_transaction({**fields, "nonce": start, "value": 2})

    first = tm.broadcast(raw)
    w3.eth.wait_for_transaction_receipt(first, timeout=10)  # type: ignore[arg-type]
    again = tm.broadcast(raw)  # the reply of the first was "lost": send the same bytes
    with pytest.raises(NonceConflict):
        tm.broadcast(other.raw_transaction)

    assert "nonce" not in fields
    assert fields["chainId"] == w3.eth.chain_id
    assert first == again
    assert w3.eth.get_transaction_count(ADDRESS) == start + 1


def test_revert_raises_at_once_with_revert_data_and_is_not_retried(
    w3: Web3, anvil: AnvilNode, sink: Contract
) -> None:
    with flaky(anvil.rpc_url) as (proxy, proxied):
        tm = manager(proxied)
        start = w3.eth.get_transaction_count(ADDRESS)

        with pytest.raises(TransactionReverted) as raised:
            tm.send(call_tx(sink, "refuse", 7))

        assert raised.value.data == refused(7, ADDRESS)
        assert isinstance(raised.value.__cause__, ContractLogicError)
        assert proxy.forwarded["eth_estimateGas"] == 1
        assert proxy.forwarded["eth_sendRawTransaction"] == 0
        assert w3.eth.get_transaction_count(ADDRESS) == start


def test_mined_revert_raises_with_receipt_and_replayed_revert_data(
    w3: Web3, sink: Contract
) -> None:
    tm = manager(w3)
    pending = tm.send({**call_tx(sink, "refuse", 9), "gas": 100_000})  # no estimate

    with pytest.raises(TransactionReverted) as raised:
        tm.wait(pending, timeout=10)

    assert raised.value.receipt is not None
    assert raised.value.receipt.status == 0  # type: ignore[attr-defined]
    assert raised.value.data == refused(9, ADDRESS)
    assert raised.value.tx_hash == pending.tx_hash


def test_transient_classification() -> None:
    assert is_transient(ConnectionResetError())
    assert is_transient(TimeoutError())
    busy = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "busy, try again"}}
    assert is_transient(Web3RPCError("busy", rpc_response=busy))  # type: ignore[arg-type]
    low = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32003, "message": "nonce too low"}}
    assert not is_transient(Web3RPCError("low", rpc_response=low))  # type: ignore[arg-type]
    assert not is_transient(ContractLogicError("execution reverted", data="0x"))
    assert not is_transient(ValueError("bad input"))


# -- stuck, dropped, reorged --------------------------------------------------------------


def test_stuck_transaction_is_replaced_with_bumped_fees_and_the_mined_hash_accepted() -> None:
    with own_node(free_gas=False, no_mining=True) as w3:
        tm = manager(w3, stuck_after=0.3)
        pending = tm.send({"to": OTHER, "value": 1})
        first_fee = pending.fields["maxFeePerGas"]
        first_tip = pending.fields["maxPriorityFeePerGas"]
        join = wait_in_thread(tm, pending, timeout=25)

        until(lambda: len(pending.hashes) >= 2)
        rpc(w3, "evm_mine")
        receipt = join()

        assert receipt.tx_hash in pending.hashes
        assert receipt.tx_hash != pending.hashes[0]
        mined = w3.eth.get_transaction(receipt.tx_hash)  # type: ignore[arg-type]
        assert mined["nonce"] == pending.nonce
        assert mined["maxFeePerGas"] >= math.ceil(first_fee * 1.1)
        assert mined["maxPriorityFeePerGas"] >= math.ceil(first_tip * 1.1)
        with pytest.raises(TransactionNotFound):
            w3.eth.get_transaction_receipt(pending.hashes[0])  # type: ignore[arg-type]


def test_free_gas_stuck_transaction_is_rebroadcast_unchanged() -> None:
    with own_node(free_gas=True, no_mining=True) as node_w3:
        url = node_w3.provider.endpoint_uri  # type: ignore[attr-defined]
        with flaky(url) as (proxy, w3):
            tm = manager(w3, stuck_after=0.2)
            pending = tm.send({"to": OTHER, "value": 1})
            join = wait_in_thread(tm, pending, timeout=25)

            until(lambda: proxy.forwarded["eth_sendRawTransaction"] >= 3)
            rpc(node_w3, "evm_mine")
            receipt = join()

            assert pending.hashes == (receipt.tx_hash,)
            assert node_w3.eth.get_transaction(receipt.tx_hash)["gasPrice"] == 0  # type: ignore[arg-type]


def test_dropped_transaction_is_rebroadcast() -> None:
    with own_node(free_gas=True, no_mining=True) as w3:
        tm = manager(w3)
        pending = tm.send({"to": OTHER, "value": 1})
        rpc(w3, "anvil_dropTransaction", pending.tx_hash)
        with pytest.raises(TransactionNotFound):
            w3.eth.get_transaction(pending.tx_hash)  # type: ignore[arg-type]
        join = wait_in_thread(tm, pending, timeout=25)

        until(lambda: node_has(w3, pending.tx_hash))
        rpc(w3, "evm_mine")
        receipt = join()

        assert receipt.tx_hash == pending.tx_hash
        assert receipt.nonce == pending.nonce


def test_lost_lower_nonce_is_rebroadcast_when_a_later_one_is_stuck() -> None:
    with own_node(free_gas=True, no_mining=True) as w3:
        tm = manager(w3, stuck_after=0.2)
        first, second = tm.send_many([{"to": OTHER, "value": 1}, {"to": OTHER, "value": 2}])
        rpc(w3, "anvil_dropTransaction", first.tx_hash)  # a gap below ``second``
        join = wait_in_thread(tm, second, timeout=25)  # nobody waits for ``first``

        until(lambda: node_has(w3, first.tx_hash))
        rpc(w3, "evm_mine")
        receipt = join()

        assert receipt.nonce == first.nonce + 1
        assert node_has(w3, first.tx_hash, mined=True)


def test_nonce_used_by_a_foreign_replacement_raises_nonce_conflict() -> None:
    with own_node(free_gas=False, no_mining=True) as w3:
        tm = manager(w3)
        pending = tm.send({"to": OTHER, "value": 1})
        foreign = dict(pending.fields)
        foreign.update(
            value=2,
            maxFeePerGas=foreign["maxFeePerGas"] * 3,
            maxPriorityFeePerGas=foreign["maxPriorityFeePerGas"] * 3,
        )
        replacement = Account.from_key(KEY).sign_transaction(foreign)
        w3.eth.send_raw_transaction(replacement.raw_transaction)
        rpc(w3, "evm_mine")

        with pytest.raises(NonceConflict) as raised:
            tm.wait(pending, timeout=10)

        assert raised.value.nonce == pending.nonce
        assert tm.in_flight() == []
        pending_next = tm.send({"to": OTHER, "value": 3})
        assert pending_next.nonce == pending.nonce + 1
        rpc(w3, "evm_mine")
        assert tm.wait(pending_next, timeout=10).status == 1


def test_confirmations_wait_for_blocks_on_top(w3: Web3) -> None:
    tm = manager(w3, confirmations=3)
    pending = tm.send({"to": OTHER, "value": 1})

    with pytest.raises(TransactionTimeout):
        tm.wait(pending, timeout=0.3)  # mined (automine), but no block on top yet
    rpc(w3, "evm_mine")
    rpc(w3, "evm_mine")
    with pytest.raises(TransactionTimeout):
        tm.wait(pending, timeout=0.3)
    rpc(w3, "evm_mine")
    receipt = tm.wait(pending, timeout=5)

    assert w3.eth.block_number - receipt.block_number == 3
    assert receipt.block_hash == w3.eth.get_block(receipt.block_number)["hash"].to_0x_hex()


def test_reorged_out_transaction_is_pending_again_and_mined_anew(w3: Web3) -> None:
    tm = manager(w3, confirmations=2)
    snapshot = rpc(w3, "evm_snapshot")
    pending = tm.send({"to": OTHER, "value": 1})
    first = tm.wait(pending, confirmations=0, timeout=10)
    rpc(w3, "evm_revert", snapshot)  # the block with our transaction is gone
    for _ in range(3):
        rpc(w3, "evm_mine")  # a longer chain without it
    join = wait_in_thread(tm, pending, timeout=25)

    until(lambda: node_has(w3, pending.tx_hash, mined=True))  # rebroadcast, mined again
    rpc(w3, "evm_mine")
    rpc(w3, "evm_mine")
    receipt = join()

    assert receipt.tx_hash == pending.tx_hash
    assert receipt.block_number > first.block_number
    assert receipt.block_hash != first.block_hash
    assert w3.eth.get_block(receipt.block_number)["hash"].to_0x_hex() == receipt.block_hash


# -- gas and batch sizing -----------------------------------------------------------------


def test_batch_size_is_the_largest_under_the_per_transaction_cap(w3: Web3, sink: Contract) -> None:
    tm = manager(w3)
    values = list(range(1, 3001))

    def build(n: int) -> dict[str, Any]:
        return call_tx(sink, "fill", values[:n])

    size = tm.max_batch_size(build, count=len(values))
    limit = MAX_TX_GAS / tm.gas_margin

    assert 0 < size < len(values)
    assert w3.eth.estimate_gas({"from": ADDRESS, **build(size)}) <= limit  # type: ignore[typeddict-item]
    bigger = size + max(2, size // 50)
    assert w3.eth.estimate_gas({"from": ADDRESS, **build(bigger)}) > limit  # type: ignore[typeddict-item]
    receipt = tm.send_and_wait(build(size), timeout=20)
    assert receipt.status == 1
    assert receipt.gas_used <= MAX_TX_GAS


def test_oversized_transaction_is_refused_before_sending(w3: Web3, sink: Contract) -> None:
    tm = manager(w3)
    start = w3.eth.get_transaction_count(ADDRESS)

    with pytest.raises(GasLimitExceeded):
        tm.send(call_tx(sink, "fill", list(range(1, 3001))))
    with pytest.raises(GasLimitExceeded):
        tm.send({"to": OTHER, "gas": MAX_TX_GAS + 1})

    assert w3.eth.get_transaction_count(ADDRESS) == start


def test_split_batches_keeps_every_batch_under_the_cap(w3: Web3, sink: Contract) -> None:
    tm = manager(w3)
    items = list(range(1, 2001))

    batches = tm.split_batches(items, lambda chunk: call_tx(sink, "fill", list(chunk)))
    receipts = [tm.send_and_wait(call_tx(sink, "fill", list(b)), timeout=20) for b in batches]

    assert len(batches) >= 2
    assert [item for batch in batches for item in batch] == items
    assert all(r.status == 1 and r.gas_used <= MAX_TX_GAS for r in receipts)


@given(
    fixed=st.integers(min_value=0, max_value=100_000),
    per_item=st.integers(min_value=1, max_value=500_000),
    count=st.integers(min_value=1, max_value=10_000),
)
def test_fit_batch_size_is_the_largest_n_under_the_limit(
    fixed: int, per_item: int, count: int
) -> None:
    limit = 15_000_000
    probes = {1: fixed + per_item, 16: fixed + 16 * per_item}

    n = fit_batch_size(probes, limit=limit, count=count)

    assert 0 <= n <= count
    assert n == 0 or fixed + n * per_item <= limit
    assert n == count or fixed + (n + 1) * per_item > limit


def test_estimate_runs_on_the_pending_block_of_an_idle_chain(
    sink_artifact: dict[str, Any],
) -> None:
    # A chain that makes no block while idle: the last block is old, the next one will carry
    # the current time. A record stamped "now" is valid on the pending block only; estimating
    # on the latest block would refuse it for ever (until someone makes a block).
    with own_node(free_gas=True) as w3:
        sink = deploy_sink(w3, sink_artifact)
        rpc(w3, "evm_setAutomine", False)
        rpc(w3, "evm_increaseTime", 600)
        latest = int(w3.eth.get_block("latest")["timestamp"])
        tx = call_tx(sink, "stamp", latest + 300)
        with pytest.raises(ContractLogicError):
            w3.eth.estimate_gas({**tx, "from": ADDRESS}, "latest")  # type: ignore[typeddict-item]
        assert manager(w3, free_gas=True).estimate_gas(tx) > 21_000
