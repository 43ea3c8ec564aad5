"""Run the benchmarks on one fresh anvil node; write bench/results.json; print a table.

    python -m bench.run                    # every section, full sizes (make bench)
    python -m bench.run --quick            # the same code on small sizes (make bench-quick)
    python -m bench.run --only eas --only docstore --out /tmp/results.json

A section is a function ``(BenchContext) -> {result key: number}`` listed in
:data:`SECTIONS`; it gets the shared node, web3 and funded dev accounts, and puts details
on record with ``ctx.note``. Ratios are computed at the end from whichever keys exist
(:data:`RATIOS`), so a new section that adds a key makes the ratios that use it appear.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

from bench.context import FULL, QUICK, BenchContext, BenchError, Figures, dev_accounts
from bench.epcis import bench_epcis
from bench.index_verify import bench_index, bench_verification
from bench.ingest import bench_ingest
from bench.naive import bench_baseline_gas, bench_naive_throughput
from bench.ours import bench_our_gas
from bench.peers import bench_docstore, bench_eas
from bench.toolchain import BENCH_DIR, ensure_node_modules
from ledger.chain import AnvilNode, anvil_binary, rpc_call, web3_for

__all__ = ["RATIOS", "SECTIONS", "Section", "compute_ratios", "main", "run"]

log = logging.getLogger("bench.run")

DEFAULT_OUT = BENCH_DIR / "results.json"
CHAIN_ID = 31337
BLOCK_TIME_S = 1.0  # interval mining, as a production network; throughput depends on it
# Pinned, so that anvil's default (which moves with its releases) does not move the figures.
HARDFORK = "osaka"
# Block gas limit: anvil's default (30M) holds two 16.7M-gas batch transactions; the loaded
# sections relay ~300 of them, so about 17 fit in a block here. Per transaction, EIP-7825's
# 16,777,216 still applies (our batches are sized under it).
BLOCK_GAS_LIMIT = 300_000_000
DEV_ACCOUNTS = 10


@dataclass(frozen=True, slots=True)
class Section:
    """One benchmark section."""

    name: str
    run: Callable[[BenchContext], Figures]
    description: str
    needs_peers: bool = False  # needs bench/node_modules (npm ci --prefix bench)


SECTIONS: tuple[Section, ...] = (
    Section("eas", bench_eas, "EAS attest / multiAttest gas", needs_peers=True),
    Section("docstore", bench_docstore, "TradeTrust DocumentStore issue gas", needs_peers=True),
    Section("baseline", bench_baseline_gas, "bare event emit gas, single and batched"),
    Section("naive", bench_naive_throughput, "naive web3.py send-and-wait events/s"),
    Section("ours_gas", bench_our_gas, "our contracts: signed events, certificates, attestations"),
    # ingest relays to a deployment of its own, on a still small chain; verify grows the
    # signed load of the main deployment to each size; index catches up over all of it.
    Section("ingest", bench_ingest, "pre-signed events through the gateway's HTTP API"),
    Section("verify", bench_verification, "claim verification latency at growing index sizes"),
    Section("index", bench_index, "index catch-up from chain logs into a fresh SQLite file"),
    Section("epcis", bench_epcis, "EPCIS capture throughput, gas per event, hashing vs the peer"),
)

# (ratio key, numerator key, denominator key): computed when both keys exist.
RATIOS: tuple[tuple[str, str, str], ...] = (
    # Our contracts (sections to come) against the peers and the no-check floor.
    ("ratio_eas_over_event_batch100", "eas_gas_multiattest100", "gas_event_batch100"),
    ("ratio_event_batch100_over_baseline", "gas_event_batch100", "baseline_gas_emit_batch100"),
    ("ratio_ingest_over_naive", "ingest_events_per_s", "naive_events_per_s"),
    # Peers against the no-check floor.
    ("ratio_eas_attest_over_emit_single", "eas_gas_attest", "baseline_gas_emit_single"),
    ("ratio_eas_multiattest_over_emit_batch100", "eas_gas_multiattest100",
     "baseline_gas_emit_batch100"),
    ("ratio_docstore_issue_over_emit_single", "docstore_gas_issue", "baseline_gas_emit_single"),
    # EPCIS event hashing: ours against GS1's reference implementation.
    ("ratio_epcis_hash_over_peer", "epcis_hash_events_per_s", "epcis_peer_hash_events_per_s"),
)  # fmt: skip


def compute_ratios(figures: dict[str, int | float]) -> dict[str, float]:
    """Every ratio of :data:`RATIOS` whose two keys are in ``figures``."""
    out: dict[str, float] = {}
    for key, numerator, denominator in RATIOS:
        if numerator in figures and denominator in figures and figures[denominator]:
            out[key] = round(figures[numerator] / figures[denominator], 3)
    return out


# -- meta ------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _tool_version(*command: str) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"


def machine_meta() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "cpu": _cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
    }


def versions_meta() -> dict[str, Any]:
    return {
        "anvil": _tool_version(str(anvil_binary()), "--version"),
        "python": platform.python_version(),
        "web3": dist_version("web3"),
        "eth-account": dist_version("eth-account"),
        "node": _tool_version("node", "--version"),
    }


def git_meta() -> dict[str, Any]:
    """The commit measured and any uncommitted changes to the code that the figures depend on
    (several people work in one tree: a figure must say what it measured)."""
    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", *_MEASURED_PATHS],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown"}
    changed = [line[3:] for line in out.stdout.splitlines() if not line.startswith("??")]
    return {
        "commit": _tool_version("git", "-C", str(root), "rev-parse", "HEAD"),
        "uncommitted": changed,
    }


_MEASURED_PATHS = ("contracts/src", "ledger", "gateway", "bench")


# -- running ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value, 0)
    return None


def _check_figures(section: str, figures: Figures) -> None:
    for key, value in figures.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise BenchError(f"section {section} gave {key}={value!r}: not a positive number")


def run(sections: Sequence[Section], *, quick: bool, port: int | None = None) -> dict[str, Any]:
    """Run ``sections`` on one fresh anvil; figures, ratios and ``meta`` in one dict."""
    started = dt.datetime.now(dt.UTC)
    git = git_meta()  # at the start: the tree may change while the run goes on
    if any(s.needs_peers for s in sections):
        ensure_node_modules()
    node = AnvilNode(
        port=port or _free_port(),
        chain_id=CHAIN_ID,
        free_gas=True,
        block_time=BLOCK_TIME_S,
        extra_args=("--hardfork", HARDFORK, "--gas-limit", str(BLOCK_GAS_LIMIT)),
    )
    figures: dict[str, int | float] = {}
    timings: dict[str, float] = {}
    with node:
        w3 = web3_for(node.rpc_url, timeout=60)
        info = rpc_call(node.rpc_url, "anvil_nodeInfo")
        sizes = QUICK if quick else FULL
        ctx = BenchContext(
            node=node, w3=w3, accounts=dev_accounts(DEV_ACCOUNTS), sizes=sizes, quick=quick
        )
        for section in sections:
            log.info("section %s: %s", section.name, section.description)
            t0 = time.perf_counter()
            result = section.run(ctx)
            timings[section.name] = round(time.perf_counter() - t0, 2)
            _check_figures(section.name, result)
            clash = set(result) & set(figures)
            if clash:
                raise BenchError(f"section {section.name} repeats keys {sorted(clash)}")
            figures.update(result)
    results: dict[str, Any] = dict(sorted(figures.items()))
    results.update(compute_ratios(figures))
    results["meta"] = {
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", "bench.run", *sys.argv[1:]]),
        "mode": "quick" if quick else "full",
        "sizes": {
            "batch": sizes.batch,
            "gas_samples": sizes.gas_samples,
            "naive_events": sizes.naive_events,
            "index_sizes": list(sizes.index_sizes),
            "verify_samples": sizes.verify_samples,
            "ingest_events": sizes.ingest_events,
        },
        "machine": machine_meta(),
        "versions": {**versions_meta(), "solc": _compilers(ctx)},
        "git": git,
        "node": {
            "hardfork": info.get("hardFork"),
            "chain_id": CHAIN_ID,
            "block_time_s": BLOCK_TIME_S,
            "gas_limit": _as_int(info.get("environment", {}).get("gasLimit")),
            "gas_limit_arg": BLOCK_GAS_LIMIT,
            "free_gas": True,
        },
        "sections": {
            s.name: {"seconds": timings[s.name], **ctx.meta.get(s.name, {})} for s in sections
        },
    }
    return results


def _compilers(ctx: BenchContext) -> dict[str, str]:
    """Section -> the solc that built the contracts it measured (details in its meta)."""
    out: dict[str, str] = {}
    for name, details in ctx.meta.items():
        compiler = details.get("compiler")
        if isinstance(compiler, dict) and compiler.get("solc"):
            out[name] = str(compiler["solc"])
    return out


def _format(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}" if value < 100 else f"{value:,.1f}"


def table(results: dict[str, Any]) -> str:
    figures = [(k, _format(v)) for k, v in results.items() if k != "meta"]
    width = max((len(k) for k, _ in figures), default=10)
    vwidth = max((len(v) for _, v in figures), default=5)
    rule = f"{'-' * width}  {'-' * vwidth}"
    lines = [f"{'figure':<{width}}  {'value':>{vwidth}}", rule]
    for kind in ("figures", "ratios"):
        rows = [(k, v) for k, v in figures if k.startswith("ratio_") == (kind == "ratios")]
        if kind == "ratios" and rows:
            lines.append(rule)
        lines += [f"{k:<{width}}  {v:>{vwidth}}" for k, v in rows]
    meta = results["meta"]
    lines.append("")
    lines.append(
        f"{meta['mode']} run, {meta['date']}, anvil {meta['node']['hardfork']} "
        f"({meta['versions']['anvil']}), {meta['machine']['cores']} cores, "
        f"{meta['machine']['cpu']}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    names = [s.name for s in SECTIONS]
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument(
        "--only", action="append", choices=names, metavar="SECTION",
        help=f"run only this section (repeatable); one of: {', '.join(names)}",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON path")
    parser.add_argument("--port", type=int, default=None, help="anvil port (default: a free one)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    chosen = [s for s in SECTIONS if not args.only or s.name in args.only]
    try:
        results = run(chosen, quick=args.quick, port=args.port)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
