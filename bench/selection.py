"""Selection latency with many declarations in an administration's store.

    python -m bench.selection                     # 1,000,000 declarations (the lead's run)
    python -m bench.selection --size 2000 --json  # a quick check

Fills a fresh declaration store (SQLite, the gateway's default, values encrypted with
AES-256-GCM as ``POST /declarations`` stores them) with ``--size`` synthetic declarations lodged
with one administration, of which ``--inspected`` (default 5 %) carry an inspection result;
trains the model on those results (``ledger risk train --administration``, as the
administration would retrain); then times one ``GET /risk/selection`` at 5 % with a 10 %
exploration share, without the HTTP layer and without the ledger: every candidate's AEO
credit and the selected declarations' verification findings are chain reads, not measured
here (the credit is one cached ``recognition`` call per declarant and day; the findings one
verification per selected declaration).

Prints ``fill_s`` (not a target: bulk import), ``train_s`` and ``train_rows``, and the
selection: ``read_s`` (read and decrypt the rows), ``select_s`` (read included: features from
the inspected history, scoring, ranking, exploration draw, reasons) and ``selected``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gateway.api.risk_selection import select, training_frame
from gateway.db import create_gateway_engine
from gateway.writes.declaration_store import DeclarationStore, Inspection
from ledger.records import DeclarationValues
from ledger.risk import ModelParams, train_model

__all__ = ["main", "run"]

ADMIN = "0x" + "c1" * 32
CHUNK = 20_000
HS6 = ("220421", "220429", "940350", "690722", "620822", "440890", "850440", "870899")
COUNTRIES = ("AU", "CN", "VN", "US", "DE", "NZ", "JP", "KR")


def _values(
    rng: np.random.Generator, i: int, start: dt.date, days: int, n: int
) -> DeclarationValues:
    departure = str(rng.choice(COUNTRIES))
    origin = departure if rng.random() < 0.75 else str(rng.choice(COUNTRIES))
    # Built without parse(): every field is valid by construction, as stored ones are.
    return DeclarationValues(
        declaration_number=f"B-{i}",
        date=(start + dt.timedelta(days=i * days // n)).isoformat(),
        declarant="0x" + f"{int(rng.integers(1, 400)):064x}",
        administration=ADMIN,
        office=str(rng.integers(10, 40)),
        procedure="B",
        import_type="11",
        transport_mode=str(rng.choice(["10", "40"])),
        importer=f"I{rng.integers(0, 20_000)}",
        seller=f"S{rng.integers(0, 20_000)}",
        courier="",
        hs6=str(rng.choice(HS6)),
        departure_country=departure,
        origin_country=origin,
        tax_type=str(rng.choice(["A", "C", "FCN1"])),
        preference_claimed=False,
        certificate_issuer="",
        certificate_number="",
        net_mass_kg=str(int(rng.integers(1, 20_000))),
        item_price=str(int(rng.integers(50, 2_000_000))),
        currency="AUD",
        consignment_ref="",
    )


def run(size: int, *, inspected: float, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    start = dt.date(2025, 1, 1)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_gateway_engine(f"sqlite:///{Path(tmp) / 'gateway.sqlite3'}")
        store = DeclarationStore(engine, bytes(range(32)))
        started = time.perf_counter()
        for first in range(0, size, CHUNK):
            batch: list[tuple[str, str, DeclarationValues, bytes, int]] = []
            results = []
            for i in range(first, min(first + CHUNK, size)):
                values = _values(rng, i, start, 365, size)
                did = "0x" + f"{i:064x}"
                batch.append((did, did, values, rng.bytes(32), 1_735_689_600 + i))
                if rng.random() < inspected:
                    risky = values.origin_country != values.departure_country
                    fraud = rng.random() < (0.45 if risky else 0.15)
                    results.append(
                        Inspection(
                            did,
                            ADMIN,
                            "fraud" if fraud else "no_irregularity",
                            "",
                            did,
                            1_770_000_000,
                        )
                    )
            store.put_many(batch)
            store.record_inspections(results)
        fill_s = time.perf_counter() - started

        stored = store.lodged_with(ADMIN)
        inspections = store.inspections(ADMIN)
        started = time.perf_counter()
        model = train_model(training_frame(stored, inspections), params=ModelParams())
        train_s = time.perf_counter() - started

        started = time.perf_counter()
        stored = store.lodged_with(ADMIN)
        inspections = store.inspections(ADMIN)
        read_s = time.perf_counter() - started
        items, considered = select(
            stored,
            inspections,
            model=model,
            rate=0.05,
            exploration=0.1,
            seed=seed,
            credit=lambda _: 0.0,
            findings=lambda _: [],
        )
        select_s = time.perf_counter() - started
        engine.dispose()
    return {
        "size": size,
        "inspected": len(inspections),
        "fill_s": round(fill_s, 1),
        "train_rows": len(inspections),
        "train_s": round(train_s, 2),
        "considered": considered,
        "read_s": round(read_s, 2),
        "select_s": round(select_s, 2),
        "selected": len(items),
        "example_reasons": items[0]["reasons"] if items else [],
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_1m": round(os.getloadavg()[0], 2),
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.selection", description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000, help="declarations in the store")
    parser.add_argument("--inspected", type=float, default=0.05, help="share with a result")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.size < 200:
        sys.stderr.write("bench.selection: --size must be at least 200\n")
        return 2
    logging.basicConfig(level=logging.WARNING)
    result = run(args.size, inspected=args.inspected)
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return 0
    for key, value in result.items():
        sys.stdout.write(f"{key:<16} {json.dumps(value)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
