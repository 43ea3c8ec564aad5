"""``ledger verify``, ``ledger export-bundle`` and ``ledger verify-bundle`` on the demo world."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ledger import cli
from ledger.chain import AnvilNode, Ledger, manifest_path
from ledger.stack import DemoWorld


@pytest.fixture
def data_dir(tmp_path: Path, ledger: Ledger) -> Path:
    ledger.deployment.save(manifest_path(tmp_path, ledger.deployment.chain_id))
    return tmp_path


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(args)
    return code, capsys.readouterr().out


def test_verify_reports_the_genuine_demo_consignment(
    anvil: AnvilNode, data_dir: Path, world: DemoWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--rpc", anvil.rpc_url, "--data-dir", str(data_dir)]
    code, out = _run(
        ["verify", *common, "--consignment-ref", world.consignment_ref, "--origin", "AU"], capsys
    )
    assert code == 0, out
    assert out.startswith("VERIFIED")
    assert "Risk score: " in out  # the CLI passes ledger.risk.score_risk to the verifier
    # The positive evidence, with the organisations' names.
    assert "On the ledger:" in out
    assert re.search(r"#2 loading at (Adelaide \()?AUADL", out)
    assert "signed by Oceanic Container Line" in out
    assert "export-release by Australian Border Force" in out
    code, out = _run(
        ["verify", *common, "--consignment-ref", world.consignment_ref, "--origin", "NZ", "--json"],
        capsys,
    )
    assert code == cli.EXIT_FAILED
    verdict = json.loads(out)
    assert verdict["status"] == "failed"
    assert "ORIGIN_MISMATCH" in [f["code"] for f in verdict["findings"]]
    assert verdict["risk"]["band"] == "high"


def test_bundle_round_trip_and_tamper(
    anvil: AnvilNode,
    data_dir: Path,
    world: DemoWorld,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = tmp_path / "bundle.json"
    common = ["--rpc", anvil.rpc_url, "--data-dir", str(data_dir)]
    code, _ = _run(
        ["export-bundle", *common, "--consignment-ref", world.consignment_ref, "-o", str(bundle)],
        capsys,
    )
    assert code == 0
    code, out = _run(["verify-bundle", str(bundle), "--rpc", anvil.rpc_url], capsys)
    assert code == 0, out
    assert out.startswith("VERIFIED: every record of the bundle is on the chain as stated")
    assert "claim" not in out.replace("not a claim", "")
    data = json.loads(bundle.read_text())
    data["consignment"]["event_count"] -= 1
    bundle.write_text(json.dumps(data))
    code, out = _run(["verify-bundle", str(bundle), "--rpc", anvil.rpc_url], capsys)
    assert code == cli.EXIT_FAILED
    assert "BUNDLE_HEAD_MISMATCH" in out


def test_verify_rejects_an_empty_claim(
    anvil: AnvilNode, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["verify", "--rpc", anvil.rpc_url, "--data-dir", str(data_dir)])
    assert code == 1
    assert "a claim must name a consignment" in capsys.readouterr().err
