"""``ledger risk train --administration``: the inspection results in the gateway's store are
the labels of the next training."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from gateway.cli import main
from gateway.db import create_gateway_engine
from gateway.writes.declaration_store import DeclarationStore, Inspection, load_or_create_key
from ledger.records import DeclarationValues, new_salt
from ledger.risk import RiskModel

ADMIN = "0x" + "c1" * 32
OTHER_ADMIN = "0x" + "c2" * 32
DECLARANT = "0x" + "d1" * 32


def _fill(data_dir: Path, n: int) -> None:
    engine = create_gateway_engine(f"sqlite:///{data_dir / 'gateway.sqlite3'}")
    store = DeclarationStore(engine, load_or_create_key(configured=None, data_dir=data_dir))
    rng = np.random.default_rng(5)
    start = dt.date(2026, 1, 1)
    try:
        for i in range(n):
            origin = "CN" if rng.random() < 0.3 else "AU"
            values = DeclarationValues.parse(
                {
                    "declaration_number": f"D-{i}",
                    "date": (start + dt.timedelta(days=i * 240 // n)).isoformat(),
                    "declarant": DECLARANT,
                    "administration": ADMIN if i % 10 else OTHER_ADMIN,
                    "office": "2200",
                    "procedure": "B",
                    "import_type": "11",
                    "transport_mode": "10",
                    "importer": f"I{rng.integers(0, 6)}",
                    "seller": f"S{rng.integers(0, 6)}",
                    "hs6": str(rng.choice(["220421", "940350"])),
                    "departure_country": "AU",
                    "origin_country": origin,
                    "tax_type": "A",
                    "net_mass_kg": int(rng.integers(10, 900)),
                    "item_price": int(rng.integers(100, 90000)),
                    "currency": "AUD",
                }
            )
            did = "0x" + f"{i:064x}"
            store.put(
                declaration_id=did,
                record_id=did,
                values=values,
                salt=new_salt(),
                lodged_at=1_780_000_000 + i,
                amends=None,
            )
            if i % 10 and i % 7:  # most, not all, of ADMIN's are inspected
                fraud = rng.random() < (0.6 if origin == "CN" else 0.1)
                store.record_inspection(
                    Inspection(
                        declaration_id=did,
                        administration=ADMIN,
                        result="fraud" if fraud else "no_irregularity",
                        kind="false origin" if fraud else "",
                        record_id=did,
                        inspected_at=1_790_000_000,
                    )
                )
    finally:
        engine.dispose()


def test_train_reads_the_inspection_results_of_the_administration(tmp_path: Path) -> None:
    _fill(tmp_path, 300)
    out = tmp_path / "model"
    code = main(
        ["risk", "train", "--administration", ADMIN, "--out", str(out), "--data-dir", str(tmp_path)]
    )
    assert code == 0
    model = RiskModel.load(out)
    data = model.metadata["data"]
    inspected = sum(1 for i in range(300) if i % 10 and i % 7)
    assert data["rows"] == inspected
    assert data["files"][0]["name"].startswith(f"gateway store: {inspected} inspected")
    meta = json.loads((out / "model.json").read_text())
    assert meta["data"]["fraud_rate"] > 0


def test_train_needs_a_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["risk", "train", "--out", str(tmp_path / "m"), "--data-dir", str(tmp_path)])
    assert code == 1
    assert "--administration" in capsys.readouterr().err
