"""Compilers and artifacts for the benchmarks, cached in ``bench/.cache``.

- The peers' npm packages (and the peers' own pinned solc, under an npm alias) live in
  ``bench/node_modules``, installed by ``npm ci --prefix bench`` from the committed lock file
  when missing or out of date (:func:`ensure_node_modules`).
- :func:`compile_solcjs` compiles a standard-JSON input with one of those solc packages.
- :func:`compile_project_solc` compiles with the project's own pinned solc and settings
  (``ledger.chain.toolchain``), for the baseline contracts in ``bench/solidity``.
- :func:`factory_artifact` reads the ABI and bytecode that a vendor ships, compiled, in a
  typechain factory of its npm package.

Cache entries are keyed by a hash of everything that determines the output (compiler
version, full input), so a stale entry is never used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import posixpath
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import solcx

from bench.context import BenchError
from ledger.chain import toolchain as project_toolchain

__all__ = [
    "BENCH_DIR",
    "CACHE_DIR",
    "NODE_MODULES",
    "collect_sources",
    "compile_project_solc",
    "compile_solcjs",
    "ensure_node_modules",
    "factory_artifact",
    "solc_version_from_runtime",
    "solcjs_version",
]

log = logging.getLogger("bench.toolchain")

BENCH_DIR = Path(__file__).resolve().parent
NODE_MODULES = BENCH_DIR / "node_modules"
CACHE_DIR = BENCH_DIR / ".cache"
LOCK_FILE = BENCH_DIR / "package-lock.json"
INSTALL_STAMP = NODE_MODULES / ".bench-lock-sha256"

_IMPORT = re.compile(r"""^\s*import\s+(?:[^"';]*?\s+from\s+)?["']([^"']+)["']""", re.MULTILINE)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ensure_node_modules() -> None:
    """Run ``npm ci --prefix bench`` unless bench/node_modules matches the lock file."""
    wanted = _sha256(LOCK_FILE.read_bytes())
    if INSTALL_STAMP.is_file() and INSTALL_STAMP.read_text().strip() == wanted:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BenchError("npm not found: it installs the peers (bench/package.json)")
    log.info("installing the peers: npm ci --prefix %s", BENCH_DIR)
    result = subprocess.run(
        [npm, "ci", "--prefix", str(BENCH_DIR), "--no-audit", "--no-fund", "--loglevel=error"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(f"npm ci --prefix bench failed:\n{result.stderr[-4000:]}")
    INSTALL_STAMP.write_text(wanted + "\n")


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise BenchError("node not found: the peers' compilers run on Node.js")
    return node


def _run_node(script: str, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [_node(), str(BENCH_DIR / script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(f"node {script} {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result.stdout


def _cached(kind: str, key_material: str, produce: Any) -> Any:
    """The JSON value cached under ``kind`` for ``key_material``, produced on a miss."""
    key = _sha256(key_material.encode())[:24]
    path = CACHE_DIR / f"{kind}-{key}.json"
    if path.is_file():
        log.info("cache hit: %s", path.name)
        return json.loads(path.read_text())
    value = produce()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value))
    tmp.replace(path)
    return value


def collect_sources(roots: list[str], locate: dict[str, Path]) -> dict[str, str]:
    """Source unit name -> content, for ``roots`` and everything they import.

    ``locate`` maps a unit-name prefix to the directory that holds it (the first matching
    prefix wins): e.g. ``{"contracts/": <package dir>/contracts, "": node_modules}``.
    Relative imports resolve against the importing unit's name, as solc does.
    """
    sources: dict[str, str] = {}
    pending = list(roots)
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        for prefix, directory in locate.items():
            if unit.startswith(prefix):
                path = directory / unit[len(prefix) :]
                break
        else:
            raise BenchError(f"no location for Solidity source {unit}")
        if not path.is_file():
            raise BenchError(f"Solidity source {unit} not found at {path}")
        text = path.read_text(encoding="utf-8")
        sources[unit] = text
        for imported in _IMPORT.findall(text):
            if imported.startswith("."):
                imported = posixpath.normpath(posixpath.join(posixpath.dirname(unit), imported))
            pending.append(imported)
    return dict(sorted(sources.items()))


def _standard_input(sources: dict[str, str], settings: dict[str, Any]) -> dict[str, Any]:
    selection = {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}}
    return {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources.items()},
        "settings": {**settings, "outputSelection": selection},
    }


def _contracts(output: dict[str, Any], wanted: dict[str, str]) -> dict[str, dict[str, Any]]:
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise BenchError("\n".join(e["formattedMessage"] for e in errors))
    out: dict[str, dict[str, Any]] = {}
    for name, unit in wanted.items():
        result = output["contracts"][unit][name]
        out[name] = {
            "abi": result["abi"],
            "bytecode": "0x" + result["evm"]["bytecode"]["object"],
            "deployedBytecode": "0x" + result["evm"]["deployedBytecode"]["object"],
        }
    return out


def solcjs_version(package: str) -> str:
    """Full version string of the solc npm package installed as ``package``."""
    return _run_node("solcjs.js", package, "--version").strip()


def compile_solcjs(
    package: str,
    sources: dict[str, str],
    settings: dict[str, Any],
    wanted: dict[str, str],
) -> dict[str, dict[str, Any]]:
    """Compile with the solc npm package ``package``; ABI and bytecode of ``wanted``.

    ``wanted`` maps contract name -> source unit. Cached by compiler version and input.
    """
    version = solcjs_version(package)
    data = json.dumps(_standard_input(sources, settings), sort_keys=True)

    def produce() -> dict[str, dict[str, Any]]:
        log.info("compiling %s with solc %s (npm %s)", ", ".join(wanted), version, package)
        output = json.loads(_run_node("solcjs.js", package, stdin=data))
        return _contracts(output, wanted)

    compiled: dict[str, dict[str, Any]] = _cached(
        f"solcjs-{package}", version + data + json.dumps(wanted, sort_keys=True), produce
    )
    return compiled


def compile_project_solc(
    sources: dict[str, str], wanted: dict[str, str]
) -> tuple[dict[str, dict[str, Any]], str, dict[str, Any]]:
    """Compile with the project's pinned solc and settings (ledger.chain.toolchain).

    Returns (artifacts of ``wanted``, compiler version, settings without outputSelection).
    """
    binary = project_toolchain.solc_binary()
    version = str(solcx.wrapper.get_version_str_from_solc_binary(binary))
    settings = {
        k: v for k, v in project_toolchain.COMPILER_SETTINGS.items() if k != "outputSelection"
    }
    data = _standard_input(sources, settings)
    key = version + json.dumps(data, sort_keys=True) + json.dumps(wanted, sort_keys=True)

    def produce() -> dict[str, dict[str, Any]]:
        log.info("compiling %s with solc %s (project toolchain)", ", ".join(wanted), version)
        try:
            output = solcx.compile_standard(data, solc_binary=binary)
        except solcx.exceptions.SolcError as exc:
            raise BenchError(f"solc failed: {exc}") from exc
        return _contracts(output, wanted)

    compiled: dict[str, dict[str, Any]] = _cached("project-solc", key, produce)
    return compiled, version, settings


def factory_artifact(module: str) -> dict[str, Any]:
    """ABI and bytecode from a typechain factory module under bench/node_modules."""
    path = NODE_MODULES / module
    if not path.is_file():
        raise BenchError(f"{module} not found under {NODE_MODULES}")
    key = module + _sha256(path.read_bytes())

    def produce() -> dict[str, Any]:
        data: dict[str, Any] = json.loads(_run_node("factory_artifact.js", module))
        return data

    artifact: dict[str, Any] = _cached("factory", key, produce)
    return artifact


def solc_version_from_runtime(code: bytes) -> str | None:
    """The solc version in the CBOR metadata at the end of runtime code, if any.

    solc appends CBOR ending in ``"solc": <3 bytes major.minor.patch>`` followed by the
    two-byte CBOR length (both with ``bytecodeHash`` ``ipfs`` and ``none``).
    """
    if len(code) < 2:
        return None
    length = int.from_bytes(code[-2:], "big")
    cbor = code[-2 - length : -2]
    marker = b"\x64solc\x43"
    at = cbor.find(marker)
    if at < 0 or len(cbor) < at + len(marker) + 3:
        return None
    major, minor, patch = cbor[at + len(marker) : at + len(marker) + 3]
    return f"{major}.{minor}.{patch}"
