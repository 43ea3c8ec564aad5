"""The tree is the architecture: no import cycle between the modules of ``ledger/``, and the
packages' dependencies point one way (each package's ``__init__`` says what it may import).

Read from the source (AST), every import counted, those inside functions too."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import ledger

LEDGER = Path(ledger.__file__).parent

#: What each part of ``ledger`` may import, besides itself (the package docstrings' rules).
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "records": {"errors"},
    "settings": {"errors", "records"},
    "chain": {"errors", "records"},
    "index": {"errors", "records", "chain", "epcis"},
    "epcis": {"errors", "records"},
    "network": {"errors", "records", "settings", "chain"},
    "verify": {"errors", "records", "chain", "index", "epcis"},
    "risk": {"errors", "records", "chain", "index", "epcis", "verify"},
    "stack": {"errors", "records", "settings", "chain", "index", "epcis", "verify", "risk"},
    "cli": {
        "errors",
        "records",
        "settings",
        "chain",
        "index",
        "epcis",
        "network",
        "verify",
        "risk",
        "stack",
    },
    "": {"errors", "records", "settings", "chain", "index", "verify", "risk", "stack"},
}
#: Packages whose other packages are imported through their public surface only (the
#: package, not its modules).
THROUGH_THE_PACKAGE = {"verify", "risk"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(LEDGER.rglob("*.py")):
        parts = list(path.relative_to(LEDGER.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The ``ledger`` modules ``name`` imports (a package's submodule where one is named)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "ledger")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *base.split(".")])
                base = base.rstrip(".")
            if base.split(".")[0] != "ledger":
                continue
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: set(_imports(name, path, modules)) for name, path in modules.items()}


def _part(module: str) -> str:
    """The part of ``ledger`` a module belongs to (``""``: the ``ledger`` package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_import_cycle_between_modules() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1 on the path, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_every_part_is_in_the_layering() -> None:
    assert {_part(m) for m in _modules()} == set(MAY_IMPORT)


def test_packages_import_only_the_layers_below() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _part(target) != _part(module) and _part(target) not in MAY_IMPORT[_part(module)]
    )
    assert wrong == []


def test_verify_and_risk_use_other_packages_public_surface() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if _part(module) in THROUGH_THE_PACKAGE
        for target in targets
        if _part(target) != _part(module) and len(target.split(".")) > 2
    )
    assert wrong == []


def test_the_rules_catch_a_cycle_and_an_upward_import(tmp_path: Path) -> None:
    """The walk sees what it must: an upward import of verify into risk, a cycle."""
    graph = {"ledger.verify.a": {"ledger.risk"}, "ledger.risk": {"ledger.verify.a"}}
    upward = [(m, t) for m, ts in graph.items() for t in ts if _part(t) not in MAY_IMPORT[_part(m)]]
    assert upward == [("ledger.verify.a", "ledger.risk")]
    code = "from ledger.verify import engine\nfrom ..risk import score\n"
    module = tmp_path / "x.py"
    module.write_text(code, encoding="utf-8")
    known = {"ledger.verify.engine": module, "ledger.risk.score": module}
    assert set(_imports("ledger.verify.x", module, known)) == {
        "ledger.verify.engine",
        "ledger.risk.score",
    }
