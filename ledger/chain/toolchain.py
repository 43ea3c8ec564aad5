"""Compile the contract suite into build artifacts, reproducibly.

The sources under ``contracts/src`` and every file they import (OpenZeppelin from
``node_modules``) are embedded in one solc standard-JSON input, so the output depends on
nothing but those bytes and the settings below; the same sources give byte-identical
artifacts. ``contracts/foundry.toml`` holds the same settings for forge, and a test checks
that the two agree.

Artifacts are committed under ``ledger/artifacts/`` so that the library deploys and attaches
without a compiler; ``check_artifacts`` fails with :class:`StaleArtifacts` when they no longer
match the sources.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx
from eth_utils.crypto import keccak

from ledger.errors import StaleArtifacts, ToolchainError

__all__ = [
    "ARTIFACTS_DIR",
    "COMPILER_SETTINGS",
    "SOLC_VERSION",
    "Artifact",
    "build_input",
    "check_artifacts",
    "compile_contracts",
    "load_artifact",
    "load_build_info",
    "solc_binary",
    "sources_changed",
    "write_artifacts",
]

log = logging.getLogger("ledger.chain.toolchain")

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = REPO_ROOT / "contracts"
NODE_MODULES = REPO_ROOT / "node_modules"
ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"
BUILD_INFO = "build-info.json"

SOLC_VERSION = "0.8.30"
EVM_VERSION = "paris"  # no PUSH0, MCOPY or transient storage: runs on London-level chains too
OPTIMIZER_RUNS = 200
REMAPPINGS = {"@openzeppelin/contracts/": "node_modules/@openzeppelin/contracts/"}

COMPILER_SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
    "evmVersion": EVM_VERSION,
    "metadata": {"bytecodeHash": "ipfs", "appendCBOR": True},
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.immutableReferences",
                "evm.methodIdentifiers",
                "userdoc",
            ]
        }
    },
}

_IMPORT = re.compile(r"""^\s*import\s+(?:[^"';]*?\s+from\s+)?["']([^"']+)["']""", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Artifact:
    """One compiled contract."""

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    immutable_references: dict[str, list[dict[str, int]]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        return cls(
            name=data["contractName"],
            source=data["sourceName"],
            abi=data["abi"],
            bytecode=bytes.fromhex(data["bytecode"]),
            deployed_bytecode=bytes.fromhex(data["deployedBytecode"]),
            immutable_references=data.get("immutableReferences", {}),
        )

    def runtime_matches(self, code: bytes) -> bool:
        """True when on-chain ``code`` is this contract's runtime code.

        Immutable values are written into the runtime code at deployment, so the bytes at
        the compiler's immutable references are ignored.
        """
        if len(code) != len(self.deployed_bytecode):
            return False
        expected = bytearray(self.deployed_bytecode)
        actual = bytearray(code)
        for references in self.immutable_references.values():
            for ref in references:
                start, length = ref["start"], ref["length"]
                expected[start : start + length] = bytes(length)
                actual[start : start + length] = bytes(length)
        return expected == actual


def solc_binary() -> Path:
    """A solc of :data:`SOLC_VERSION`: a native one on PATH if present, else the solcjs wrapper."""
    native = shutil.which("solc")
    if native is not None:
        try:
            found = solcx.wrapper.get_solc_version(native)
        except (OSError, subprocess.SubprocessError, solcx.exceptions.SolcError):
            found = None
        if found is not None and str(found) == SOLC_VERSION:
            return Path(native)
    wrapper = REPO_ROOT / "scripts" / "solc"
    if not (NODE_MODULES / "solc").is_dir():
        raise ToolchainError(
            f"solc {SOLC_VERSION} not found: install a native solc or run `npm ci` in {REPO_ROOT}"
        )
    return wrapper


def _resolve(import_path: str, importer: str) -> str:
    """Source unit name of ``import_path`` as written in ``importer``."""
    for prefix, target in REMAPPINGS.items():
        if import_path.startswith(prefix):
            return target + import_path[len(prefix) :]
    if import_path.startswith("."):
        parts: list[str] = importer.split("/")[:-1]
        for piece in import_path.split("/"):
            if piece == "..":
                parts.pop()
            elif piece != ".":
                parts.append(piece)
        return "/".join(parts)
    return import_path


def _read_unit(unit: str, contracts_dir: Path) -> str:
    path = REPO_ROOT / unit if unit.startswith("node_modules/") else contracts_dir / unit
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ToolchainError(f"cannot read Solidity source {unit} ({path})") from exc


def build_input(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, Any]:
    """The solc standard-JSON input: every source under contracts/src and all it imports."""
    roots = sorted(
        p.relative_to(contracts_dir).as_posix() for p in (contracts_dir / "src").rglob("*.sol")
    )
    if not roots:
        raise ToolchainError(f"no Solidity sources under {contracts_dir / 'src'}")
    sources: dict[str, str] = {}
    pending = list(roots)
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        text = _read_unit(unit, contracts_dir)
        sources[unit] = text
        pending.extend(_resolve(imp, unit) for imp in _IMPORT.findall(text))
    return {
        "language": "Solidity",
        "sources": {unit: {"content": sources[unit]} for unit in sorted(sources)},
        "settings": COMPILER_SETTINGS,
    }


def compile_contracts(
    contracts_dir: Path = CONTRACTS_DIR,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Compile the suite. Returns (artifact JSON by contract name, build info)."""
    data = build_input(contracts_dir)
    binary = solc_binary()
    log.info("compiling %d sources with %s", len(data["sources"]), binary)
    try:
        output = solcx.compile_standard(data, solc_binary=binary, allow_empty=True)
    except solcx.exceptions.SolcError as exc:
        raise ToolchainError(f"solc failed: {exc}") from exc
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise ToolchainError("\n".join(e["formattedMessage"] for e in errors))
    version = solcx.wrapper.get_version_str_from_solc_binary(binary)
    artifacts: dict[str, dict[str, Any]] = {}
    for unit, contracts in sorted(output["contracts"].items()):
        if not unit.startswith("src/") or unit.count("/") != 1:
            continue  # deployable contracts live directly in src/; not libraries or interfaces
        for name, result in sorted(contracts.items()):
            bytecode = result["evm"]["bytecode"]["object"]
            if not bytecode:
                continue  # interfaces and libraries without code
            if name in artifacts:
                raise ToolchainError(f"two contracts named {name}; names must be unique")
            artifacts[name] = {
                "contractName": name,
                "sourceName": unit,
                "abi": result["abi"],
                "bytecode": bytecode,
                "deployedBytecode": result["evm"]["deployedBytecode"]["object"],
                "immutableReferences": result["evm"]["deployedBytecode"].get(
                    "immutableReferences", {}
                ),
                "methodIdentifiers": result["evm"].get("methodIdentifiers", {}),
                "userdoc": result.get("userdoc", {}),
            }
    build_info = {
        "compiler": {"name": "solc", "version": version.split("+")[0], "build": version},
        "settings": {k: v for k, v in COMPILER_SETTINGS.items() if k != "outputSelection"},
        "sources": {
            unit: "0x" + keccak(text=src["content"]).hex()
            for unit, src in sorted(data["sources"].items())
        },
        "contracts": sorted(artifacts),
    }
    return artifacts, build_info


def _dump(data: Any) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def write_artifacts(
    directory: Path = ARTIFACTS_DIR, *, contracts_dir: Path = CONTRACTS_DIR
) -> list[Path]:
    """Compile and write one JSON file per contract plus ``build-info.json``."""
    artifacts, build_info = compile_contracts(contracts_dir)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for stale in directory.glob("*.json"):
        if stale.stem not in artifacts and stale.name != BUILD_INFO:
            stale.unlink()
    for name, data in artifacts.items():
        path = directory / f"{name}.json"
        text = _dump(data)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    info_path = directory / BUILD_INFO
    info_text = _dump(build_info)
    if not info_path.is_file() or info_path.read_text(encoding="utf-8") != info_text:
        info_path.write_text(info_text, encoding="utf-8")
    written.append(info_path)
    return written


def sources_changed(
    directory: Path = ARTIFACTS_DIR, *, contracts_dir: Path = CONTRACTS_DIR
) -> list[str]:
    """Source units whose content differs from the build info (cheap; no compiler run)."""
    info = load_build_info(directory)
    current = build_input(contracts_dir)["sources"]
    recorded: dict[str, str] = info["sources"]
    changed = [
        unit
        for unit, src in current.items()
        if recorded.get(unit) != "0x" + keccak(text=src["content"]).hex()
    ]
    changed.extend(unit for unit in recorded if unit not in current)
    return sorted(changed)


def check_artifacts(
    directory: Path = ARTIFACTS_DIR,
    *,
    contracts_dir: Path = CONTRACTS_DIR,
    compiled: tuple[dict[str, dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """Recompile and raise :class:`StaleArtifacts` unless the artifacts are byte-identical.

    ``compiled`` is a fresh :func:`compile_contracts` result to compare with (saves a run).
    """
    artifacts, build_info = compiled if compiled is not None else compile_contracts(contracts_dir)
    problems: list[str] = []
    expected = {f"{name}.json": _dump(data) for name, data in artifacts.items()}
    expected[BUILD_INFO] = _dump(build_info)
    present = {p.name for p in directory.glob("*.json")} if directory.is_dir() else set()
    for name, text in sorted(expected.items()):
        path = directory / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{name} differs from a fresh compile")
    problems.extend(f"{name} has no source" for name in sorted(present - set(expected)))
    if problems:
        raise StaleArtifacts(
            "build artifacts are stale (run `ledger compile`): " + "; ".join(problems)
        )


def load_build_info(directory: Path = ARTIFACTS_DIR) -> dict[str, Any]:
    path = directory / BUILD_INFO
    if not path.is_file():
        raise ToolchainError(f"no build artifacts in {directory}: run `ledger compile`")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_artifact(name: str, directory: Path = ARTIFACTS_DIR) -> Artifact:
    path = directory / f"{name}.json"
    if not path.is_file():
        raise ToolchainError(f"no artifact for contract {name} in {directory}")
    return Artifact.from_json(json.loads(path.read_text(encoding="utf-8")))
