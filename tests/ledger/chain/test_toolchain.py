"""Build artifacts: reproducible, fresh, and compiled with the same settings forge uses."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from ledger.chain import toolchain
from ledger.errors import StaleArtifacts

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def compiled() -> tuple[dict[str, dict[str, object]], dict[str, object]]:
    return toolchain.compile_contracts()


def test_compile_is_reproducible(
    compiled: tuple[dict[str, dict[str, object]], dict[str, object]],
) -> None:
    again = toolchain.compile_contracts()
    assert json.dumps(again, sort_keys=True) == json.dumps(compiled, sort_keys=True)


Compiled = tuple[dict[str, dict[str, object]], dict[str, object]]


def test_committed_artifacts_match_the_sources(compiled: Compiled) -> None:
    toolchain.check_artifacts(compiled=compiled)  # type: ignore[arg-type]
    assert toolchain.sources_changed() == []


def test_altered_artifact_is_stale(tmp_path: Path, compiled: Compiled) -> None:
    copy = tmp_path / "artifacts"
    shutil.copytree(toolchain.ARTIFACTS_DIR, copy)
    victim = next(p for p in sorted(copy.glob("*.json")) if p.name != "build-info.json")
    data = json.loads(victim.read_text())
    data["bytecode"] = data["bytecode"][:-2] + ("00" if data["bytecode"][-2:] != "00" else "01")
    victim.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    with pytest.raises(StaleArtifacts, match=f"{victim.name} differs from a fresh compile"):
        toolchain.check_artifacts(copy, compiled=compiled)  # type: ignore[arg-type]


def test_changed_source_makes_artifacts_stale(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    shutil.copytree(REPO / "contracts" / "src", contracts / "src")
    source = next(iter(sorted((contracts / "src").rglob("*.sol"))))
    source.write_text(source.read_text() + "\n// changed\n")
    unit = source.relative_to(contracts).as_posix()
    assert toolchain.sources_changed(contracts_dir=contracts) == [unit]
    with pytest.raises(StaleArtifacts, match=r"build-info\.json differs"):
        toolchain.check_artifacts(contracts_dir=contracts)


def test_missing_artifact_is_stale(tmp_path: Path, compiled: Compiled) -> None:
    copy = tmp_path / "artifacts"
    shutil.copytree(toolchain.ARTIFACTS_DIR, copy)
    victim = next(p for p in sorted(copy.glob("*.json")) if p.name != "build-info.json")
    victim.unlink()
    with pytest.raises(StaleArtifacts, match=f"{victim.name} is missing"):
        toolchain.check_artifacts(copy, compiled=compiled)  # type: ignore[arg-type]


def test_build_info_records_compiler_and_sources() -> None:
    info = toolchain.load_build_info()
    assert info["compiler"]["version"] == toolchain.SOLC_VERSION
    assert info["settings"]["evmVersion"] == "paris"
    assert info["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    assert any(unit.startswith("src/") for unit in info["sources"])
    assert all(len(digest) == 66 for digest in info["sources"].values())


def test_foundry_uses_the_same_settings() -> None:
    config = tomllib.loads((REPO / "contracts" / "foundry.toml").read_text())["profile"]["default"]
    assert config["optimizer"] is True
    assert config["optimizer_runs"] == toolchain.OPTIMIZER_RUNS
    assert config["evm_version"] == toolchain.EVM_VERSION
    assert config["solc"] == "../scripts/solc"
    assert config["remappings"] == [
        f"{prefix}=../{target}" for prefix, target in toolchain.REMAPPINGS.items()
    ]
    version = subprocess.run(
        [str(REPO / "scripts" / "solc"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"Version: {toolchain.SOLC_VERSION}+" in version


def _strip_metadata(code: str) -> str:
    """Runtime code without its CBOR metadata trailer (its length is in the last 2 bytes)."""
    raw = bytes.fromhex(code.removeprefix("0x"))
    length = int.from_bytes(raw[-2:], "big")
    return raw[: -(length + 2)].hex()


def test_forge_compiles_the_same_code(tmp_path: Path) -> None:
    out = tmp_path / "out"
    subprocess.run(
        [
            str(REPO / "node_modules" / ".bin" / "forge"),
            "build",
            "--out",
            str(out),
            "--skip",
            "test",
        ],
        cwd=REPO / "contracts",
        check=True,
        capture_output=True,
    )
    for artifact_path in sorted(toolchain.ARTIFACTS_DIR.glob("*.json")):
        if artifact_path.name == "build-info.json":
            continue
        ours = toolchain.load_artifact(artifact_path.stem)
        forge_json = json.loads((out / Path(ours.source).name / f"{ours.name}.json").read_text())
        assert _strip_metadata(forge_json["deployedBytecode"]["object"]) == _strip_metadata(
            ours.deployed_bytecode.hex()
        ), ours.name
