"""The log index and the verification engine, on a chain grown with real signed load.

Both sections use the load of :mod:`bench.load` (consignments of 20 events, each with an
export release attestation, really signed, relayed and mined), grown to each size of
``ctx.sizes.index_sizes`` (10,000, 50,000 and 200,000 events in a full run).

* ``verify`` (:func:`bench_verification`): at each size the chain is grown, an index
  (:class:`ledger.index.follower.Index`, SQLite in a temporary directory) catches up, and
  ``ctx.sizes.verify_samples`` claims about consignments drawn at random from all loaded so
  far are verified one after another with :class:`ledger.verify.Verifier` (``sync=False``: the
  index is already at the chain's head, so the time is the verification alone). Figures
  ``verify_p50_ms_<size>``, ``verify_p99_ms_<size>`` (nearest rank) and ``verify_per_s_<size>``
  (claims per second, one thread). Each verification reads the consignment, its 20 events,
  attestations and drawdowns from the index, recomputes the hash chain (each step commits to
  the record, its organisation and its signer) and compares it with ``Consignments.head`` on
  chain at the indexed block, which proves who recorded each record (the default policy: the
  log-level attribution check, ``eth_getLogs`` by consignment id, is off), and checks the
  container, origin and route, custody, seals, signers (key state on chain) and
  the required export release (attestation state on chain). The verdicts are put on record.
  The timed loop stops after ``BUDGET_S`` per size once ``MIN_SAMPLES`` claims are done (so
  that a slow engine cannot blow the run's time); the sample count is on record.
  ``BENCH_VERIFY_SIZES`` (event counts, comma-separated, e.g. ``50000``) replaces the sizes
  of this section alone, for a run between the quick and the full one (``make bench``
  leaves it unset). ``timeline_p50_ms_<size>`` / ``timeline_p99_ms_<size>`` time the index's
  part alone, ``consignment_timeline`` plus ``verify_heads([id])``: not a verification, and
  named so.
* ``index`` (:func:`bench_index`): a fresh index file catches up over everything on the chain
  (all sections' logs, the load's 200,000 events among them) in one :meth:`Index.sync`;
  ``index_events_per_s`` = consignment events indexed / wall-clock seconds of that call.
  Then the gateway starts, as in production (:func:`bench.ingest.gateway_process`, a fresh
  data directory), on the main deployment of that chain: its log index catches up over the
  same logs before ``/readyz`` answers. ``gateway_catchup_rss_mb`` is the ``VmHWM`` of the
  process once it is ready (start-up plus the catch-up), ``gateway_catchup_s`` the time from
  its start to ready.
"""

from __future__ import annotations

import cProfile
import logging
import os
import pstats
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from bench.context import BenchContext, BenchError, Figures, percentile
from bench.ingest import gateway_process, status_kib
from bench.load import container_for, event_load, size_label
from bench.ours import OurSuite
from ledger.chain import manifest_path
from ledger.index import Index
from ledger.risk import score_risk
from ledger.stack import DemoWorld
from ledger.verify import Claim, Verifier

__all__ = ["bench_index", "bench_verification"]

log = logging.getLogger("bench.index_verify")

WARMUP = 1  # verifications before the timed ones at each size (caches, connections)
MIN_SAMPLES = 10
BUDGET_S = 20.0  # timed verifications per size stop after this (full run) ...
QUICK_BUDGET_S = 5.0  # ... or this (quick run), once MIN_SAMPLES are done
PROFILED = 20  # verifications profiled (cProfile) at the largest size, for the record
SIZES_VARIABLE = "BENCH_VERIFY_SIZES"
SEED = 20261123


def _db_mb(path: Path) -> float:
    files = [path, path.with_name(path.name + "-wal")]
    return round(sum(f.stat().st_size for f in files if f.exists()) / 1024**2, 1)


def _timed(calls: Sequence[Callable[[], object]], budget_s: float, minimum: int) -> list[float]:
    """Run ``calls`` one after another; milliseconds each. Stops once ``budget_s`` has passed
    (after at least ``minimum`` calls), so that a slow engine cannot blow the run's time."""
    latencies: list[float] = []
    started = time.perf_counter()
    for call in calls:
        t = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - t) * 1000)
        if len(latencies) >= minimum and time.perf_counter() - started > budget_s:
            break
    return latencies


def _profile(calls: Sequence[Callable[[], object]], top: int = 15) -> list[str]:
    """cProfile of ``calls``: the ``top`` functions by cumulative time, as text lines."""
    profiler = cProfile.Profile()
    profiler.enable()
    for call in calls:
        call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows: list[tuple[float, str]] = []
    entries: dict[Any, Any] = getattr(stats, "stats")  # noqa: B009 - pstats keeps it untyped
    for (filename, line, name), (_, ncalls, _, cumulative, _) in entries.items():
        where = f"{Path(filename).parent.name}/{Path(filename).name}:{line}"
        per_call_ms = cumulative / len(calls) * 1000
        text = f"{per_call_ms:9.2f} ms {ncalls / len(calls):9.1f} calls  {name} ({where})"
        rows.append((cumulative, text))
    rows.sort(reverse=True)
    return [text for _, text in rows[:top]]


def verify_sizes(ctx: BenchContext) -> tuple[int, ...]:
    """The sizes of the verify section: ``ctx.sizes.index_sizes`` unless ``BENCH_VERIFY_SIZES``
    names others."""
    named = os.environ.get(SIZES_VARIABLE, "").strip()
    if not named:
        return ctx.sizes.index_sizes
    try:
        sizes = tuple(sorted({int(part) for part in named.split(",") if part.strip()}))
    except ValueError:
        raise BenchError(f"{SIZES_VARIABLE}={named!r}: not a list of event counts") from None
    if not sizes or sizes[0] <= 0:
        raise BenchError(f"{SIZES_VARIABLE}={named!r}: sizes must be positive")
    return sizes


def bench_verification(ctx: BenchContext) -> Figures:
    section = "verify"
    sizes = verify_sizes(ctx)
    load = event_load(ctx)
    ledger = load.suite.ledger
    world = load.suite.world
    rng = random.Random(SEED)  # noqa: S311 - a reproducible sample, not cryptography
    budget = QUICK_BUDGET_S if ctx.quick else BUDGET_S
    figures: dict[str, float] = {}
    sizes_meta: list[dict[str, object]] = []
    quiet = logging.getLogger("ledger.verify.engine")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # one INFO line per verification otherwise (with -v)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
            path = Path(tmp) / "index.db"
            index = Index(f"sqlite:///{path}", ledger)
            verifier = Verifier(ledger, index, scorer=score_risk)
            for size in sizes:
                load.grow_to(size)
                t0 = time.perf_counter()
                synced = index.sync()
                sync_seconds = time.perf_counter() - t0
                label = size_label(size)
                chosen = [rng.choice(load.consignments) for _ in range(ctx.sizes.verify_samples)]
                warm = _Verifications(verifier, world)
                for cid in rng.sample(load.consignments, min(WARMUP, len(load.consignments))):
                    warm(cid)
                    _timeline(index, cid)
                verify = _Verifications(verifier, world)
                started = time.perf_counter()
                latencies = _timed([partial(verify, c) for c in chosen], budget, MIN_SAMPLES)
                elapsed = time.perf_counter() - started
                figures[f"verify_p50_ms_{label}"] = round(percentile(latencies, 50), 3)
                figures[f"verify_p99_ms_{label}"] = round(percentile(latencies, 99), 3)
                figures[f"verify_per_s_{label}"] = round(len(latencies) / elapsed, 3)
                reads = _timed([partial(_timeline, index, c) for c in chosen], budget, MIN_SAMPLES)
                figures[f"timeline_p50_ms_{label}"] = round(percentile(reads, 50), 3)
                figures[f"timeline_p99_ms_{label}"] = round(percentile(reads, 99), 3)
                entry: dict[str, object] = {
                    "events": size,
                    "consignments": len(load.consignments),
                    "indexed_consignment_events": index.counts().get("index_consignment_events"),
                    "index_sync_seconds": round(sync_seconds, 2),
                    "index_sync_events": synced.consignment_events,
                    "index_db_mb": _db_mb(path),
                    "verify_samples": len(latencies),
                    "verify_ms_mean": round(sum(latencies) / len(latencies), 3),
                    "verify_ms_max": round(max(latencies), 3),
                    "verdicts": dict(verify.verdicts),
                    "finding_codes": dict(verify.codes),
                    "timeline_samples": len(reads),
                }
                if size == max(sizes):
                    profiled = _Verifications(verifier, world)
                    entry["verify_profile"] = _profile(
                        [partial(profiled, c) for c in chosen[:PROFILED]]
                    )
                sizes_meta.append(entry)
                log.info("verify at %d events: %s", size, entry)
            index.engine.dispose()
    finally:
        quiet.setLevel(level)
    ctx.note(section, "engine", "ledger.verify.engine.Verifier.verify(claim, sync=False)")
    ctx.note(
        section,
        "claim",
        "consignment id, origin AU, container, verifying administration CN customs",
    )
    ctx.note(
        section,
        "timeline",
        "Index.consignment_timeline(id) + Index.verify_heads([id]) (index read and head check "
        "only: not a verification)",
    )
    ctx.note(section, "time_budget_s_per_size", budget)
    if sizes != ctx.sizes.index_sizes:
        ctx.note(section, "sizes_from", f"{SIZES_VARIABLE}={os.environ[SIZES_VARIABLE]}")
    ctx.note(section, "sizes", sizes_meta)
    ctx.note(section, "load", load.summary())
    return figures


class _Verifications:
    """Verifies claims about consignments; counts the verdicts and finding codes."""

    def __init__(self, verifier: Verifier, world: DemoWorld) -> None:
        self.verifier = verifier
        self.world = world
        self.verdicts: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()

    def __call__(self, cid: bytes) -> None:
        verdict = self.verifier.verify(_claim(cid, self.world), sync=False)
        self.verdicts[str(verdict.status)] += 1
        self.codes.update(verdict.codes)


def _timeline(index: Index, cid: bytes) -> None:
    """The index's part alone: the timeline, and its head recomputed against the chain's."""
    index.consignment_timeline(cid)
    index.verify_heads([cid])


def _claim(cid: bytes, world: DemoWorld) -> Claim:
    """What an importing administration (China's) checks before release."""
    return Claim(
        consignment_id=cid,
        origin="AU",
        container=container_for(cid),
        administration=world.parties["cn"].org_id,
    )


def bench_index(ctx: BenchContext) -> Figures:
    section = "index"
    load = event_load(ctx)
    load.grow_to(max(ctx.sizes.index_sizes))
    ledger = load.suite.ledger
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        path = Path(tmp) / "index.db"
        index = Index(f"sqlite:///{path}", ledger)
        t0 = time.perf_counter()
        result = index.sync()
        seconds = time.perf_counter() - t0
        size_mb = _db_mb(path)
        index.engine.dispose()
    ctx.note(
        section,
        "catch_up",
        {
            "blocks": result.blocks,
            "logs": result.logs,
            "consignment_events": result.consignment_events,
            "seconds": round(seconds, 2),
            "logs_per_s": round(result.logs / seconds, 1),
            "db_mb": size_mb,
            "span_blocks": index.max_span,
        },
    )
    ctx.note(section, "load", load.summary())
    catchup_s, hwm_mb = _gateway_catch_up(ctx, load.suite)
    ctx.note(section, "gateway_catch_up", {"seconds": catchup_s, "rss_hwm_mb": hwm_mb})
    return {
        "index_events_per_s": round(result.consignment_events / seconds, 1),
        "gateway_catchup_s": catchup_s,
        "gateway_catchup_rss_mb": hwm_mb,
    }


def _gateway_catch_up(ctx: BenchContext, suite: OurSuite) -> tuple[float, float]:
    """Seconds from a gateway's start to ready on the loaded chain, and its peak RSS (MiB)."""
    with tempfile.TemporaryDirectory(prefix="bench-catchup-") as tmp:
        data_dir = Path(tmp)
        suite.deployment.save(manifest_path(data_dir, ctx.w3.eth.chain_id))
        settings = {
            "LEDGER_DATA_DIR": str(data_dir),
            "LEDGER_RPC_URL": ctx.node.rpc_url,
            "LEDGER_CHAIN_ID": str(ctx.w3.eth.chain_id),
            "LEDGER_RELAYER_KEY": "0x" + bytes(suite.gateway_relayer.key).hex(),
        }
        started = time.perf_counter()
        with gateway_process(ctx, data_dir, settings) as (process, _base):
            ready_s = time.perf_counter() - started
            hwm_kib = status_kib(process.pid, "VmHWM")
    return round(ready_s, 2), round(hwm_kib / 1024, 1)
