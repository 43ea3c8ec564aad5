"""Every finding code is declared once, next to the code that raises it, and documented there:
the check modules' tables, declarations and raises cannot drift apart, and their union is the
catalogue the rest of the code reads."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest

import ledger
from ledger.verify import CATALOGUE, FindingSpec, Severity
from ledger.verify.catalogue import DECLARING_MODULES

LEDGER = Path(ledger.__file__).parent
TABLE_ROW = re.compile(r"^``([A-Z_]+)``\s+(critical|warning)\b", re.MULTILINE)


def _modules() -> dict[str, ast.Module]:
    """Every module of the ledger package, parsed, by dotted name."""
    out = {}
    for path in sorted(LEDGER.rglob("*.py")):
        parts = list(path.relative_to(LEDGER.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def _declarations(tree: ast.Module) -> list[str]:
    """The codes a module declares: ``FindingSpec("CODE", ...)``."""
    return [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "FindingSpec"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ]


def _mentions(tree: ast.Module, code: str) -> int:
    """How often a module names ``code``: as a string, a name or an attribute (docstrings,
    whose text is longer than the code, do not count)."""
    return sum(
        (isinstance(node, ast.Constant) and node.value == code)
        or (isinstance(node, ast.Name) and node.id == code)
        or (isinstance(node, ast.Attribute) and node.attr == code)
        for node in ast.walk(tree)
    )


def _raises(tree: ast.Module, code: str) -> int:
    """Uses of the module's constant ``code`` other than its declaration and ``FINDINGS``."""
    declared: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in (code, "FINDINGS") for t in node.targets
        ):
            declared.update(id(n) for n in ast.walk(node))
    return sum(
        isinstance(node, ast.Name)
        and node.id == code
        and isinstance(node.ctx, ast.Load)
        and id(node) not in declared
        for node in ast.walk(tree)
    )


def test_each_code_is_declared_in_exactly_one_module_and_named_only_there() -> None:
    modules = _modules()
    declared_in: dict[str, list[str]] = defaultdict(list)
    for name, tree in modules.items():
        for code in _declarations(tree):
            declared_in[code].append(name)
    assert {code: len(where) for code, where in declared_in.items() if len(where) != 1} == {}
    assert set(declared_in) == set(CATALOGUE)
    for code, (home,) in declared_in.items():
        elsewhere = [
            name for name, tree in modules.items() if name != home and _mentions(tree, code)
        ]
        assert elsewhere == [], f"{code} is declared in {home} but named in {elsewhere}"
        assert _raises(modules[home], code) >= 1, f"{code} is declared in {home} but never raised"


def test_the_catalogue_is_the_union_of_the_declaring_modules() -> None:
    declared = [spec for module in DECLARING_MODULES for spec in module.FINDINGS]
    assert len(declared) == len({spec.code for spec in declared}) == len(CATALOGUE)
    assert {spec.code: spec for spec in declared} == dict(CATALOGUE)
    assert all(isinstance(spec, FindingSpec) for spec in declared)
    names = {module.__name__ for module in DECLARING_MODULES}
    assert names == {name for name, tree in _modules().items() if _declarations(tree)}, (
        "a module declares codes but is not in the catalogue"
    )


@pytest.mark.parametrize("module", DECLARING_MODULES, ids=lambda m: m.__name__)
def test_each_module_documents_exactly_the_codes_it_declares(module: ModuleType) -> None:
    documented = TABLE_ROW.findall(module.__doc__ or "")
    assert len(documented) == len(module.FINDINGS)
    assert {code: Severity(severity) for code, severity in documented} == {
        spec.code: spec.severity for spec in module.FINDINGS
    }
