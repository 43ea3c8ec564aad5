"""Goods declarations as the risk engine sees them: the record, the table, the data description.

A :class:`Declaration` is one goods item of an import declaration with the fields that risk
selection learns from (who lodged it, who imports, sells and carries, what goods, from where,
under which tax type, how heavy and how valuable) and, once inspected, its labels.

The engine works on a table (a pandas ``DataFrame``) with the snake_case columns of
:data:`COLUMNS`. :func:`read_declarations_csv` reads the CSV layout of the Korea Customs
Service synthetic import declarations (Jeong et al., arXiv 2208.02484; columns
``Declaration ID``, ``Date``, ... ``Fraud``, ``Critical Fraud``) into that table;
:func:`declarations_frame` builds it from records. In that data ``Critical Fraud`` is 0 (no
fraud), 1 (fraud, not critical) or 2 (critical: a threat to public safety); the engine's
``critical`` label is ``Critical Fraud == 2``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from ledger.errors import ValidationError

__all__ = [
    "COLUMNS",
    "CSV_COLUMNS",
    "LABELS",
    "DataDescription",
    "Declaration",
    "declarations_frame",
    "describe_files",
    "read_declarations_csv",
    "read_declarations_csvs",
]


@dataclass(frozen=True, slots=True)
class Declaration:
    """One goods item of an import declaration (values as lodged; labels once inspected)."""

    declaration_id: str
    date: dt.date
    office_id: str  # customs office that received it
    process_type: str  # e.g. paperless
    import_type: str
    import_use: str
    payment_type: str
    transport_mode: str
    declarant_id: str  # who lodged it (customs broker)
    importer_id: str
    seller_id: str  # overseas supplier
    courier_id: str  # "" when none
    hs6: str  # HS subheading, 6 digits
    departure_country: str  # ISO 3166-1 alpha-2: where the goods left from
    origin_country: str  # declared origin
    tax_rate: float  # percent
    tax_type: str  # e.g. "A" (basic), "FCN1" (an FTA preference)
    origin_indicator: str  # how the origin is marked
    net_mass_kg: float
    item_price: float  # assessed value (KRW in the reference data)
    fraud: bool | None = None  # inspection found fraud (None: not inspected)
    critical: bool | None = None  # the fraud was critical (public safety)


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Declaration))
LABELS: tuple[str, ...] = ("fraud", "critical")

# The reference CSV's column for each field.
CSV_COLUMNS: dict[str, str] = {
    "Declaration ID": "declaration_id",
    "Date": "date",
    "Office ID": "office_id",
    "Process Type": "process_type",
    "Import Type": "import_type",
    "Import Use": "import_use",
    "Payment Type": "payment_type",
    "Mode of Transport": "transport_mode",
    "Declarant ID": "declarant_id",
    "Importer ID": "importer_id",
    "Seller ID": "seller_id",
    "Courier ID": "courier_id",
    "HS6 Code": "hs6",
    "Country of Departure": "departure_country",
    "Country of Origin": "origin_country",
    "Tax Rate": "tax_rate",
    "Tax Type": "tax_type",
    "Country of Origin Indicator": "origin_indicator",
    "Net Mass": "net_mass_kg",
    "Item Price": "item_price",
    "Fraud": "fraud",
    "Critical Fraud": "critical",
}
CRITICAL_CODE = 2  # ``Critical Fraud`` value of a critical case

_NUMERIC = ("tax_rate", "net_mass_kg", "item_price")


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Types of :data:`COLUMNS`: strings for codes and ids ("" when missing), floats, dates."""
    out = pd.DataFrame(index=frame.index)
    for name in COLUMNS:
        if name in LABELS:
            continue
        col = frame[name]
        if name == "date":
            out[name] = pd.to_datetime(col).dt.normalize()
        elif name in _NUMERIC:
            out[name] = pd.to_numeric(col).astype("float64")
        else:
            out[name] = col.astype("string").fillna("").astype(object)
    out["hs6"] = out["hs6"].str.zfill(6)
    for name in LABELS:
        out[name] = frame[name].astype("float64") if name in frame else float("nan")
    return out


def read_declarations_csv(path: Path) -> pd.DataFrame:
    """Declarations from a CSV in the reference layout (see :data:`CSV_COLUMNS`).

    Labels are optional: a file without ``Fraud``/``Critical Fraud`` gives NaN labels.
    """
    raw = pd.read_csv(path, dtype={"HS6 Code": str, "Declaration ID": str})
    missing = [c for c, name in CSV_COLUMNS.items() if name not in LABELS and c not in raw]
    if missing:
        raise ValidationError(str(path), f"missing columns {missing}")
    raw = raw.rename(columns=CSV_COLUMNS)
    if "critical" in raw:
        raw["critical"] = (raw["critical"] == CRITICAL_CODE).where(raw["critical"].notna())
    return _normalise(raw)


def read_declarations_csvs(paths: Sequence[Path]) -> pd.DataFrame:
    """Several CSV files as one table, in time order (date, then file order)."""
    if not paths:
        raise ValidationError("files", "at least one declarations file is needed")
    frames = [read_declarations_csv(p) for p in paths]
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


def declarations_frame(declarations: Iterable[Declaration]) -> pd.DataFrame:
    """The engine's table from records (labels ``None`` become NaN)."""
    # Every field is a scalar: a shallow read (``asdict`` deep-copies each value, ~30x slower).
    rows = [{name: getattr(d, name) for name in COLUMNS} for d in declarations]
    raw = pd.DataFrame(rows, columns=list(COLUMNS))
    for name in LABELS:
        raw[name] = raw[name].astype("float64")
    return _normalise(raw)


@dataclass(frozen=True, slots=True)
class DataDescription:
    """What a model was trained on: files, their SHA-256, rows, date range, label rates."""

    files: tuple[tuple[str, str], ...]  # (file name, sha256 hex)
    rows: int
    first_date: str
    last_date: str
    fraud_rate: float
    critical_rate: float

    def to_json(self) -> dict[str, Any]:
        return {
            "files": [{"name": n, "sha256": h} for n, h in self.files],
            "rows": self.rows,
            "first_date": self.first_date,
            "last_date": self.last_date,
            "fraud_rate": self.fraud_rate,
            "critical_rate": self.critical_rate,
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe_files(paths: Sequence[Path], frame: pd.DataFrame) -> DataDescription:
    """The description of ``frame``, read from ``paths``."""
    return DataDescription(
        files=tuple((p.name, _sha256(p)) for p in paths),
        rows=len(frame),
        first_date=str(frame["date"].min().date()) if len(frame) else "",
        last_date=str(frame["date"].max().date()) if len(frame) else "",
        fraud_rate=round(float(frame["fraud"].mean()), 6),
        critical_rate=round(float(frame["critical"].mean()), 6),
    )
