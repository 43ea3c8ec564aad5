"""``python -m bench.network --quick``: the network benchmark runs end to end on a fresh
Clique network and a fresh anvil node, and writes every figure as a positive number.

No timing thresholds: the figures depend on the machine. It starts its own network (ports
from 9611 up), not the suite's session network.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.network import QUICK, RATIO_KEYS, main

pytestmark = pytest.mark.network

PER_CHAIN = (
    "one_gw_events_per_s",
    "two_gw_events_per_s",
    "submit_to_final_p50_ms",
    "submit_to_final_p99_ms",
    "verify_p50_ms",
    "verify_p99_ms",
    "gas_per_event",
    "ceiling_events_per_s",
    "two_gw_pct_of_ceiling",
)


def test_quick_network_bench_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "network.json"
    assert main(["--quick", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    for chain in ("network", "anvil"):
        for key in PER_CHAIN:
            assert results[f"{chain}_{key}"] > 0, (chain, key)
        # Every event of both ingests was seen final and counted.
        assert results["meta"][chain]["events_measured"] == 3 * QUICK.events
        assert sum(results["meta"][chain]["verify_verdicts"].values()) == QUICK.verify_samples
        assert (
            results[f"{chain}_submit_to_final_p50_ms"] <= results[f"{chain}_submit_to_final_p99_ms"]
        )
    for key in RATIO_KEYS:
        expected = results[f"network_{key}"] / results[f"anvil_{key}"]
        assert results[f"ratio_{key}"] == pytest.approx(expected, rel=1e-2)
    assert results["meta"]["sizes"]["events_per_gateway"] == QUICK.events
