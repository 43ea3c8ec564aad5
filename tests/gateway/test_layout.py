"""The gateway's layout: imports point one way, with no cycle, and ``ledger`` never imports it.

Read from the source (``ast``), not by importing: an import inside a function or under
``TYPE_CHECKING`` is a dependency too. Importing ``a.b.c`` also runs the ``__init__`` of ``a.b``,
so a module depends on the packages of what it imports (those of its own package excepted,
and the root ``gateway``, whose ``__init__`` only re-exports the public names).
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 800


def _modules(package: str, root: Path = ROOT) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported(path: Path, module: str, is_package: bool) -> Iterator[tuple[str, str | None]]:
    """(module, name) of every import in ``path``; ``name`` for ``from module import name``."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                yield base, alias.name


def _ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _graph(package: str, root: Path = ROOT) -> dict[str, set[str]]:
    modules = _modules(package, root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, member in _imported(path, name, path.name == "__init__.py"):
            if member is not None and f"{target}.{member}" in modules:
                target = f"{target}.{member}"  # a submodule
            if target not in modules:
                continue
            graph[name].add(target)
            own = {*_ancestors(name), name}
            graph[name].update(
                p for p in _ancestors(target) if p != package and p not in own and p in modules
            )
        graph[name].discard(name)
    return graph


def _imports_of(package: str) -> dict[str, set[str]]:
    return {
        name: {target for target, _ in _imported(path, name, path.name == "__init__.py")}
        for name, path in _modules(package).items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def test_gateway_modules_import_each_other_without_a_cycle() -> None:
    graph = _graph("gateway")
    assert len(graph) > 40  # the walk found the package
    assert _cycle(graph) is None


def test_a_cycle_through_a_package_init_is_found(tmp_path: Path) -> None:
    """``pkg.b.y`` imports ``pkg.a.x``, which runs ``pkg/a/__init__``, which re-exports
    ``pkg.a.z``, which imports ``pkg.b.y``: no two modules import each other, yet importing
    ``pkg.b.y`` first fails."""
    files = {
        "pkg/__init__.py": "",
        "pkg/a/__init__.py": "from pkg.a.z import Z\n",
        "pkg/a/x.py": "X = 1\n",
        "pkg/a/z.py": "from pkg.b.y import Y\nZ = Y\n",
        "pkg/b/__init__.py": "",
        "pkg/b/y.py": "def f():\n    from pkg.a import x\n\nY = 1\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = _graph("pkg", tmp_path)
    assert graph["pkg.b.y"] == {"pkg.a.x", "pkg.a"}
    cycle = _cycle(graph)
    assert cycle is not None
    assert set(cycle) == {"pkg.a", "pkg.a.z", "pkg.b.y"}


def test_ledger_never_imports_the_gateway_or_fastapi() -> None:
    offending = {
        (module, target)
        for module, targets in _imports_of("ledger").items()
        for target in targets
        if target.split(".")[0] in {"gateway", "fastapi"}
    }
    assert not offending


# What each package may import of the gateway (its ``__init__`` says the same in words).
ALLOWED = {
    "gateway.models": ("gateway.models", "gateway.auth"),
    "gateway.writes.outbox": (
        "gateway.writes.outbox",
        "gateway.models.stored",
        "gateway.db",
        "gateway.errors",
        "gateway.metrics",
    ),
    "gateway.writes": (
        "gateway.writes",
        "gateway.models",
        "gateway.auth",
        "gateway.config",
        "gateway.db",
        "gateway.errors",
        "gateway.metrics",
    ),
    "gateway.reads": (
        "gateway.reads",
        "gateway.writes.ledger_services",
        "gateway.auth",
        "gateway.errors",
    ),
}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_packages_import_only_what_lies_below_them() -> None:
    imports = _imports_of("gateway")
    wrong: set[tuple[str, str]] = set()
    for module, targets in imports.items():
        # The most specific rule applies (the outbox's, not the write path's).
        rules = [p for p in ALLOWED if _within(module, p)]
        if not rules:
            continue
        allowed = ALLOWED[max(rules, key=len)]
        wrong |= {
            (module, target)
            for target in targets
            if target.split(".")[0] == "gateway" and not any(_within(target, a) for a in allowed)
        }
    assert not wrong


def test_no_two_gateway_modules_share_a_name_and_none_is_too_long() -> None:
    names: dict[str, list[str]] = {}
    too_long = []
    for module, path in _modules("gateway").items():
        if path.name not in {"__init__.py", "__main__.py"}:
            names.setdefault(path.stem, []).append(module)
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            too_long.append((module, lines))
    assert {name: found for name, found in names.items() if len(found) > 1} == {}
    assert too_long == []
