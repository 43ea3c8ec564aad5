"""Fixtures shared by the ledger tests: a fresh SQLite index over the seeded suite (the index,
verification and proof-bundle tests; the verification fixtures are in ``verify/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain import Ledger
from ledger.index import Index


@pytest.fixture
def index(ledger: Ledger, tmp_path: Path) -> Iterator[Index]:
    """An empty index file on the test's chain (each test syncs it as it needs)."""
    idx = Index(f"sqlite:///{tmp_path / 'index.db'}", ledger)
    try:
        yield idx
    finally:
        idx.engine.dispose()
