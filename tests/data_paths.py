"""Locate the shared reference data (``<repo>/../shared/data``) for tests.

The data is third-party and is never copied into the repository. Tests that need it call
:func:`shared_data` (or :func:`shared_file`), which skips the test with a clear reason when
the folder or file is absent, so a checkout without the data still runs everything else.
``CUSTOMS_LEDGER_TEST_DATA`` names another folder (``make test-plain-clone`` points it at
one that does not exist).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from _pytest.mark import ParameterSet

__all__ = [
    "DATA_ENV",
    "REPO_ROOT",
    "SHARED_DATA",
    "data_params",
    "require_data",
    "shared_data",
    "shared_file",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Names another folder as the shared data (``make test-plain-clone`` sets it to a folder
#: that does not exist, to run the suite as a user's clone without ``../shared`` does).
DATA_ENV = "CUSTOMS_LEDGER_TEST_DATA"
SHARED_DATA = (
    Path(os.environ[DATA_ENV]) if os.environ.get(DATA_ENV) else REPO_ROOT.parent / "shared" / "data"
)


def shared_data(*parts: str) -> Path:
    """``<repo>/../shared/data/<parts...>``; skips the calling test if it does not exist."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test data not found: {path} (expected next to the repository)")
    return path


def shared_file(*parts: str) -> Path:
    """Like :func:`shared_data`, but the path must be a regular file."""
    path = shared_data(*parts)
    if not path.is_file():
        pytest.skip(f"shared test data is not a file: {path}")
    return path


def data_params(
    parts: tuple[str, ...], build: Callable[[Path], list[ParameterSet]], *, arity: int = 1
) -> list[ParameterSet]:
    """Parametrisation built from a shared data file, for use at collection time.

    ``build`` receives the path and returns ``pytest.param(...)`` entries of ``arity`` values.
    When the file is absent, a single skipped parameter (id ``data-missing``, ``arity`` Nones)
    stands in, so the test reports the reason instead of silently collecting nothing.
    """
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        return [
            pytest.param(
                *([None] * arity), marks=pytest.mark.skip(reason=_missing(path)), id="data-missing"
            )
        ]
    return build(path)


def _missing(path: Path) -> str:
    return f"shared test data not found: {path} (expected next to the repository)"


def require_data(params: list[ParameterSet]) -> None:
    """Skip a test about the data's own size when :func:`data_params` found no data."""
    if any(p.id == "data-missing" for p in params):
        pytest.skip(
            f"shared test data not found under {SHARED_DATA} (expected next to the repository)"
        )
