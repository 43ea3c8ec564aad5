"""Fixtures shared by the verification and proof-bundle tests: a fresh SQLite index over the
seeded suite, the scenario builder, and a verifier with the UN/LOCODE seaport coordinates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain import Ledger
from ledger.index import Index
from ledger.records import LocodeDirectory
from ledger.stack import DemoWorld
from ledger.verify import Verifier
from tests.data_paths import shared_file
from tests.ledger.scenarios import Builder


@pytest.fixture(scope="module")
def locodes() -> LocodeDirectory:
    return LocodeDirectory.from_csv(shared_file("unlocode", "unlocode_seaports.csv"))


@pytest.fixture
def index(ledger: Ledger, tmp_path: Path) -> Iterator[Index]:
    """An empty index file on the test's chain (each test syncs it as it needs)."""
    idx = Index(f"sqlite:///{tmp_path / 'index.db'}", ledger)
    try:
        yield idx
    finally:
        idx.engine.dispose()


@pytest.fixture
def build(ledger: Ledger, world: DemoWorld) -> Builder:
    return Builder(ledger, world)


@pytest.fixture
def verifier(ledger: Ledger, index: Index, locodes: LocodeDirectory) -> Verifier:
    return Verifier(ledger, index, locodes=locodes)
