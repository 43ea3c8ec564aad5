"""Fixtures shared by the verification and proof-bundle tests: the scenario builder, and a
verifier with the packaged UN/LOCODE list's coordinates and the risk scorer (as the CLI and
the gateway verify). The index fixture is ``tests/ledger/conftest.py``'s."""

from __future__ import annotations

import pytest

from ledger.chain import Ledger
from ledger.index import Index
from ledger.records import LocodeDirectory, packaged_unlocode
from ledger.risk import score_risk
from ledger.stack import DemoWorld
from ledger.verify import Verifier
from tests.ledger.scenarios import Builder


@pytest.fixture(scope="module")
def locodes() -> LocodeDirectory:
    return packaged_unlocode()


@pytest.fixture
def build(ledger: Ledger, world: DemoWorld) -> Builder:
    return Builder(ledger, world)


@pytest.fixture
def verifier(ledger: Ledger, index: Index, locodes: LocodeDirectory) -> Verifier:
    return Verifier(ledger, index, locodes=locodes, scorer=score_risk)
