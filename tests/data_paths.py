"""Locate the shared reference data (``<repo>/../shared/data``) for tests.

The data is third-party and is never copied into the repository. Tests that need it call
:func:`shared_data` (or :func:`shared_file`), which skips the test with a clear reason when
the folder or file is absent, so a checkout without the data still runs everything else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from _pytest.mark import ParameterSet

__all__ = ["REPO_ROOT", "SHARED_DATA", "data_params", "shared_data", "shared_file"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


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
    parts: tuple[str, ...], build: Callable[[Path], list[ParameterSet]]
) -> list[ParameterSet]:
    """Parametrisation built from a shared data file, for use at collection time.

    ``build`` receives the path and returns ``pytest.param(...)`` entries. When the file is
    absent, a single skipped parameter (id ``data-missing``) stands in, so the test reports
    the reason instead of silently collecting nothing.
    """
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        reason = f"shared test data not found: {path} (expected next to the repository)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="data-missing")]
    return build(path)
