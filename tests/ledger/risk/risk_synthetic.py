"""Small synthetic declaration tables for the risk tests (no shared data needed)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ledger.risk.declarations import Declaration, declarations_frame

COUNTRIES = ("CN", "VN", "US", "DE", "HK", "JP")


def synthetic_declarations(n: int = 600, *, seed: int = 7, days: int = 120) -> pd.DataFrame:
    """``n`` labelled declarations over ``days`` days; fraud is likelier when the origin differs
    from the departure country, for two of the importers, and for a high value per kg."""
    rng = np.random.default_rng(seed)
    start = dt.date(2020, 1, 1)
    rows = []
    for i in range(n):
        departure = str(rng.choice(COUNTRIES))
        origin = departure if rng.random() < 0.7 else str(rng.choice(COUNTRIES))
        importer = f"IMP{rng.integers(0, 30)}"
        mass = float(rng.lognormal(4, 1))
        price = mass * float(rng.lognormal(6, 0.5))
        risk = 0.08 + 0.3 * (origin != departure) + 0.3 * (importer in ("IMP1", "IMP2"))
        risk += 0.2 * (price / mass > 800)
        fraud = bool(rng.random() < min(risk, 0.95))
        rows.append(
            Declaration(
                declaration_id=f"D{i:05d}",
                date=start + dt.timedelta(days=int(i * days / n)),
                office_id=str(rng.integers(10, 14)),
                process_type="B",
                import_type="11",
                import_use=str(rng.choice(["11", "21"])),
                payment_type="11",
                transport_mode=str(rng.choice(["10", "40"])),
                declarant_id=f"DEC{rng.integers(0, 8)}",
                importer_id=importer,
                seller_id=f"SEL{rng.integers(0, 40)}",
                courier_id="" if rng.random() < 0.8 else "C1",
                hs6=str(rng.choice(["440890", "690722", "620822", "940350"])),
                departure_country=departure,
                origin_country=origin,
                tax_rate=float(rng.choice([0.0, 8.0])),
                tax_type=str(rng.choice(["A", "C", "FCN1"])),
                origin_indicator=str(rng.choice(["B", "E", "G"])),
                net_mass_kg=round(mass, 1),
                item_price=round(price, 2),
                fraud=fraud,
                critical=fraud and bool(rng.random() < 0.3),
            )
        )
    return declarations_frame(rows)
