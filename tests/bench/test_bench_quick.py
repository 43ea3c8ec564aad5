"""The benchmark runner in quick mode: every section runs and gives positive figures.

No timing thresholds: the figures depend on the machine. What is checked is that the run
completes on a fresh anvil, writes every result key as a positive number, and that the
peers were built as their vendors build them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.context import QUICK
from bench.load import size_label
from bench.run import RATIOS, SECTIONS, compute_ratios
from bench.toolchain import solc_version_from_runtime

REPO_ROOT = Path(__file__).resolve().parents[2]

GAS_KEYS = (
    "eas_gas_attest",
    "docstore_gas_issue",
    "baseline_gas_emit_single",
    "gas_event_single",
    "gas_coo_issue",
    "gas_coo_drawdown",
    "gas_attest_single",
)
PER_ITEM_KEYS = (
    "eas_gas_multiattest100",
    "docstore_gas_bulkissue100",
    "baseline_gas_emit_batch100",
    "gas_event_batch100",
    "gas_attest_batch100",
    "gas_attest_batch100_signed_each",
    "gas_coo_drawdown_batch100",
    "gas_coo_drawdown_batch100_signed_each",
)
SIZE = size_label(QUICK.index_sizes[-1])
RATE_KEYS = (
    "naive_events_per_s",
    "index_events_per_s",
    f"verify_per_s_{SIZE}",
    "ingest_events_per_s",
)
LATENCY_PAIRS = (  # (p50, p99) in ms
    (f"verify_p50_ms_{SIZE}", f"verify_p99_ms_{SIZE}"),
    (f"timeline_p50_ms_{SIZE}", f"timeline_p99_ms_{SIZE}"),
    ("submit_to_confirmed_p50_ms", "submit_to_confirmed_p99_ms"),
)
OTHER_KEYS = ("gateway_rss_mb", "gateway_catchup_rss_mb", "gateway_catchup_s")


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, f"bench --quick failed:\n{run.stdout}\n{run.stderr}"
    results: dict[str, Any] = json.loads(out.read_text())
    return results


def test_quick_run_gives_every_figure_as_a_positive_number(quick_results: dict[str, Any]) -> None:
    for key in GAS_KEYS:
        value = quick_results[key]
        assert type(value) is int, key
        assert value > 0, key
    latency_keys = tuple(key for pair in LATENCY_PAIRS for key in pair)
    for key in PER_ITEM_KEYS + RATE_KEYS + latency_keys + OTHER_KEYS:
        value = quick_results[key]
        assert type(value) in (int, float), key
        assert value > 0, key
    for p50, p99 in LATENCY_PAIRS:
        assert quick_results[p50] <= quick_results[p99], (p50, p99)
    for key in ("ratio_ingest_over_naive", "ratio_eas_over_event_batch100"):
        assert quick_results[key] > 0, key


def test_quick_run_batches_cost_less_per_item_than_single_calls(
    quick_results: dict[str, Any],
) -> None:
    # Batching saves at least the 21,000-gas transaction base per item (minus 1/100 of it).
    assert (
        quick_results["baseline_gas_emit_batch100"]
        < quick_results["baseline_gas_emit_single"] - 20_000
    )
    assert quick_results["eas_gas_multiattest100"] < quick_results["eas_gas_attest"] - 20_000
    assert quick_results["gas_event_batch100"] < quick_results["gas_event_single"] - 20_000
    assert quick_results["gas_attest_batch100"] < quick_results["gas_attest_single"] - 20_000
    # One signature for the batch saves each attestation its signature's calldata and recovery.
    assert (
        quick_results["gas_attest_batch100"]
        < quick_results["gas_attest_batch100_signed_each"] - 3_000
    )
    # Likewise for drawdowns on 100 distinct certificates, which then meet the 40,000 budget.
    assert (
        quick_results["gas_coo_drawdown_batch100"]
        < quick_results["gas_coo_drawdown_batch100_signed_each"] - 3_000
    )
    assert quick_results["gas_coo_drawdown_batch100"] < 40_000
    assert quick_results["gas_coo_drawdown_batch100"] < quick_results["gas_coo_drawdown"] - 20_000
    assert quick_results["ratio_eas_over_event_batch100"] > 1


def test_quick_run_records_meta_and_peer_builds(quick_results: dict[str, Any]) -> None:
    meta = quick_results["meta"]
    assert meta["mode"] == "quick"
    assert meta["machine"]["cores"] >= 1
    assert meta["versions"]["anvil"].startswith("anvil Version:")
    assert set(meta["sections"]) == {s.name for s in SECTIONS}
    eas = meta["sections"]["eas"]["compiler"]
    assert eas["solc"].startswith("0.8.29+")
    assert eas["matches_shipped_artifacts"] is True
    assert meta["sections"]["docstore"]["compiler"]["solc"] == "0.8.2"
    # Ratios appear exactly for the pairs whose keys both exist.
    figures = {k: v for k, v in quick_results.items() if k != "meta" and not k.startswith("ratio")}
    assert {k for k in quick_results if k.startswith("ratio_")} == set(compute_ratios(figures))


def test_quick_run_loads_real_records_and_verifies_them(quick_results: dict[str, Any]) -> None:
    sections = quick_results["meta"]["sections"]
    load = sections["index"]["load"]
    # The load is on chain in full: every event of every consignment, relayed in batches.
    assert load["events"] == load["consignments"] * load["events_per_consignment"]
    assert load["events"] >= QUICK.index_sizes[-1]
    assert 0 < load["max_tx_gas"]["event"] <= 16_777_216
    # A fresh index read every load event back from the chain's logs (and a few more).
    assert sections["index"]["catch_up"]["consignment_events"] >= load["events"]
    # The load's journeys are consistent: every verified claim about them passes.
    (verified,) = sections["verify"]["sizes"]
    assert verified["verdicts"] == {"verified": verified["verify_samples"]}
    assert verified["indexed_consignment_events"] >= QUICK.index_sizes[-1]
    # Ingest: every event accepted by the gateway was confirmed and is on chain.
    assert sections["ingest"]["run"]["events"] >= QUICK.ingest_events


def test_compute_ratios_uses_only_present_keys() -> None:
    key, numerator, denominator = RATIOS[0]
    assert compute_ratios({numerator: 300.0, denominator: 100.0}) == {key: 3.0}
    assert compute_ratios({numerator: 300.0}) == {}


def test_solc_version_is_read_from_cbor_metadata() -> None:
    # a1 64 "solc" 43 00 08 1d -> 0.8.29 (bytecodeHash none), then the 2-byte CBOR length.
    cbor = bytes.fromhex("a164736f6c634300081d")
    code = bytes.fromhex("6080604052") + cbor + len(cbor).to_bytes(2, "big")
    assert solc_version_from_runtime(code) == "0.8.29"
    assert solc_version_from_runtime(b"\x00\x00") is None


def test_quick_run_measures_epcis_captures_and_the_peer(quick_results: dict[str, Any]) -> None:
    small, large = QUICK.epcis_captures[0], QUICK.epcis_captures[-1]
    for n in QUICK.epcis_captures:
        assert quick_results[f"epcis_capture_events_per_s_{n}"] > 0
        assert quick_results[f"epcis_gas_per_event_{n}"] > 0
    # One root per capture: the gas of a capture hardly depends on its size.
    assert quick_results[f"epcis_gas_per_event_{large}"] * large < (
        quick_results[f"epcis_gas_per_event_{small}"] * small * 1.01
    )
    assert quick_results["epcis_hash_events_per_s"] > 0
    assert quick_results["epcis_peer_hash_events_per_s"] > 0
    epcis = quick_results["meta"]["sections"]["epcis"]
    n = QUICK.epcis_hash_events
    assert epcis["peer_hash_ids_equal"] == f"{n} of {n}"
