"""The naive baseline: what a user writes first, and the floor that no checks at all give.

``NaiveEvents.record`` emits one consignment event (id, step, digest) and checks nothing;
``BatchEvents.recordBatch`` emits many in one transaction, equally unchecked. Both are
compiled with the project's own pinned solc and settings (``ledger.chain.toolchain``).

- :func:`bench_baseline_gas`: gas of one ``record`` call, and per event in a batch.
- :func:`bench_naive_throughput`: events per second when web3.py sends one transaction per
  event and waits for each receipt before sending the next (the node mines a block every
  second, as a production network does), so throughput is bounded by the block interval.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from web3.contract import Contract

from bench.context import BenchContext, BenchError, Figures, digest
from bench.toolchain import BENCH_DIR, collect_sources, compile_project_solc

__all__ = ["bench_baseline_gas", "bench_naive_throughput", "naive_send_and_wait"]

log = logging.getLogger("bench.naive")

SOLIDITY_DIR = BENCH_DIR / "solidity"
CONTRACTS = {"NaiveEvents": "NaiveEvents.sol", "BatchEvents": "BatchEvents.sol"}


def _compiled(ctx: BenchContext, section: str) -> dict[str, dict[str, Any]]:
    sources = collect_sources(list(CONTRACTS.values()), {"": SOLIDITY_DIR})
    compiled, version, settings = compile_project_solc(sources, CONTRACTS)
    ctx.note(section, "compiler", {"solc": version, "settings": settings})
    return compiled


def _deploy(ctx: BenchContext, compiled: dict[str, dict[str, Any]], name: str) -> Contract:
    contract, _ = ctx.deploy(compiled[name]["abi"], compiled[name]["bytecode"])
    return contract


def _event(index: int) -> tuple[bytes, int, bytes]:
    """Event ``index``: consignment id, business step (1-7, never 0), documents digest."""
    return digest("consignment", index), 1 + index % 7, digest("event documents", index)


def bench_baseline_gas(ctx: BenchContext) -> Figures:
    """Gas of emitting one event in its own transaction, and per event in a batch."""
    compiled = _compiled(ctx, "baseline")
    naive = _deploy(ctx, compiled, "NaiveEvents")
    batch = _deploy(ctx, compiled, "BatchEvents")
    single = ctx.median_gas(
        lambda i: naive.functions.record(*_event(i)),
        ctx.sizes.gas_samples,
        section="baseline",
        key="emit_single_gas",
    )
    records = [_event(10_000 + i) for i in range(ctx.sizes.batch)]
    receipt = ctx.transact(batch.functions.recordBatch(records))
    emitted = batch.events.Recorded().process_receipt(receipt)
    if len(emitted) != ctx.sizes.batch:
        raise BenchError(f"recordBatch emitted {len(emitted)} events, not {ctx.sizes.batch}")
    ctx.note("baseline", "batch", ctx.sizes.batch)
    ctx.note("baseline", "batch_total_gas", int(receipt["gasUsed"]))
    return {
        "baseline_gas_emit_single": single,
        "baseline_gas_emit_batch100": int(receipt["gasUsed"]) / ctx.sizes.batch,
    }


def naive_send_and_wait(ctx: BenchContext, contract: Contract, count: int) -> float:
    """Send ``count`` events the naive way; returns the elapsed wall-clock seconds.

    Written as a web3.py user would: build, sign, send, wait for the receipt, next.
    """
    w3 = ctx.w3
    account = ctx.deployer
    chain_id = w3.eth.chain_id
    start = time.perf_counter()
    for i in range(count):
        tx: dict[str, Any] = dict(
            contract.functions.record(*_event(20_000 + i)).build_transaction(
                {
                    "from": account.address,
                    "nonce": w3.eth.get_transaction_count(account.address),
                    "chainId": chain_id,
                }
            )
        )
        signed = account.sign_transaction(tx)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=ctx.receipt_timeout)
        if receipt["status"] != 1:
            raise BenchError(f"naive event {i} reverted")
    return time.perf_counter() - start


def bench_naive_throughput(ctx: BenchContext) -> Figures:
    """Events per second, one transaction per event, each receipt awaited."""
    compiled = _compiled(ctx, "naive")
    naive = _deploy(ctx, compiled, "NaiveEvents")
    count = ctx.sizes.naive_events
    elapsed = naive_send_and_wait(ctx, naive, count)
    ctx.note("naive", "events", count)
    ctx.note("naive", "seconds", round(elapsed, 3))
    ctx.note("naive", "block_time_s", ctx.node.block_time)
    return {"naive_events_per_s": count / elapsed}
