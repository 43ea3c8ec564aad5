"""Features of a declaration from the declaration history, with no leakage from the future.

:func:`build_features` takes one table holding the history and the declarations to score (in
any order) and a mask of the rows whose labels may be used. Every history feature of a row is
computed from the rows dated **strictly earlier** (a day's declarations never see each other)
and, for fraud rates, only from the earlier rows whose labels are usable. So a row's features
do not change when its own label or any later row changes, and the labels of the rows being
scored are never read (their mask is false).

Families (the names are the columns; :func:`describe` turns one into plain words):

* per key (importer, declarant, seller, courier, HS6, HS4, origin, route departure→origin,
  office): ``<key>_n`` earlier declarations, ``<key>_fraud_rate`` and ``<key>_critical_rate``,
  past rates smoothed towards the overall past rate (``(positives + m·prior) / (labelled +
  m)``, time-ordered target encoding), NaN before any labelled history;
* ``value_z_hs6`` / ``value_z_hs4``: log value per kg against the earlier declarations of the
  same HS6 / HS4 (z-score; NaN with fewer than two);
* ``origin_differs`` (origin country differs from the country of departure), ``preference``
  (an FTA preference tax type, ``F...``), ``new_importer``, ``new_seller``, ``new_declarant``;
* the declaration's own values: tax rate, log mass, log value, log value per kg, and the codes
  (office, process, import type and use, payment, transport, tax type, origin indicator,
  countries, HS chapter) as categories.

**Extra features** (:data:`ExtraFeatures`): a mapping from declaration id to ``{column:
value}`` is joined as further numeric columns (missing values NaN). This is where
ledger-derived facts plug in: verification findings on the consignment behind the
declaration, a recognised AEO's credit. A credit is a feature the model weighs and, at
selection, a bounded reduction of the score (:mod:`.selection`), never an exemption.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ledger.errors import ValidationError

__all__ = [
    "CATEGORICAL",
    "HISTORY_KEYS",
    "ExtraFeatures",
    "FeatureConfig",
    "build_features",
    "describe",
    "feature_names",
]

ExtraFeatures = Mapping[str, Mapping[str, float]]
"""Declaration id → {extra column: value}: ledger-derived features (findings, AEO credit)."""

# key name → how the key is made from the declaration's columns
HISTORY_KEYS: dict[str, tuple[str, ...]] = {
    "importer": ("importer_id",),
    "declarant": ("declarant_id",),
    "seller": ("seller_id",),
    "courier": ("courier_id",),
    "hs6": ("hs6",),
    "hs4": ("hs4",),
    "origin": ("origin_country",),
    "route": ("departure_country", "origin_country"),
    "office": ("office_id",),
}
# key name → words for reasons
_KEY_WORDS = {
    "importer": "importer",
    "declarant": "declarant",
    "seller": "seller",
    "courier": "courier",
    "hs6": "HS6 subheading",
    "hs4": "HS4 heading",
    "origin": "origin country",
    "route": "route (departure→origin)",
    "office": "customs office",
}
CATEGORICAL: tuple[str, ...] = (
    "office_id",
    "process_type",
    "import_type",
    "import_use",
    "payment_type",
    "transport_mode",
    "tax_type",
    "origin_indicator",
    "departure_country",
    "origin_country",
    "hs2",
)
_CODE_WORDS = {
    "office_id": "customs office",
    "process_type": "process type",
    "import_type": "import type",
    "import_use": "import use",
    "payment_type": "payment type",
    "transport_mode": "mode of transport",
    "tax_type": "tax type",
    "origin_indicator": "origin indicated as",
    "departure_country": "departed from",
    "origin_country": "declared origin",
    "hs2": "HS chapter",
}
_OWN_NUMERIC = ("tax_rate", "log_mass", "log_value", "log_value_per_kg")
_FLAGS = ("origin_differs", "preference", "new_importer", "new_seller", "new_declarant")


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Which history keys to use and the smoothing weight ``m`` of the past fraud rates."""

    keys: tuple[str, ...] = tuple(HISTORY_KEYS)
    smoothing: float = 20.0
    min_value_history: int = 2


def feature_names(config: FeatureConfig = FeatureConfig()) -> list[str]:
    """The columns of :func:`build_features` (without extra columns), in order."""
    names: list[str] = []
    for key in config.keys:
        names += [f"{key}_n", f"{key}_fraud_rate", f"{key}_critical_rate"]
    names += ["value_z_hs6", "value_z_hs4", *_FLAGS, *_OWN_NUMERIC, *CATEGORICAL]
    return names


def _prior_sums(keys: pd.Series, table: pd.DataFrame, sums: Sequence[str]) -> pd.DataFrame:
    """Per row, the sums of ``sums`` over the rows with the same key dated strictly earlier."""
    work = table[["date", *sums]].copy()
    work["key"] = keys.to_numpy()
    by_day = work.groupby(["key", "date"], sort=True)[list(sums)].sum()
    before = by_day.groupby(level=0).cumsum() - by_day  # exclusive of the same day
    joined = work[["key", "date"]].join(before, on=["key", "date"])
    return joined[list(sums)]


def _key_series(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    if len(columns) == 1:
        return frame[columns[0]].astype(str)
    out = frame[columns[0]].astype(str)
    for col in columns[1:]:
        out = out + ">" + frame[col].astype(str)
    return out


def build_features(
    frame: pd.DataFrame,
    *,
    labelled: pd.Series | np.ndarray[Any, Any] | None = None,
    extra: ExtraFeatures | None = None,
    config: FeatureConfig = FeatureConfig(),
) -> pd.DataFrame:
    """Features of every row of ``frame`` (columns of :mod:`.declarations`), on its index.

    ``labelled`` marks the rows whose labels the history may use (default: rows with a
    ``fraud`` label). Rows to be scored must be unmarked so that their labels are never read.
    """
    if frame.index.has_duplicates:
        raise ValidationError("frame", "the index must be unique")
    n = len(frame)
    if labelled is None:
        mask = frame["fraud"].notna().to_numpy()
    else:
        mask = np.asarray(labelled, dtype=bool)
        if mask.shape != (n,):
            raise ValidationError("labelled", f"needs one flag per row ({n})", mask.shape)
    table = frame.copy()
    table["hs4"] = table["hs6"].str[:4]
    table["hs2"] = table["hs6"].str[:2]
    lab = mask & table["fraud"].notna().to_numpy()
    table["one"] = 1.0
    table["lab"] = lab.astype("float64")
    table["pos_fraud"] = np.where(lab, table["fraud"].fillna(0.0), 0.0)
    table["pos_critical"] = np.where(lab, table["critical"].fillna(0.0), 0.0)

    out = pd.DataFrame(index=frame.index)
    # overall past rates, the priors of the smoothed rates
    everything = pd.Series("*", index=table.index)
    overall = _prior_sums(everything, table, ["lab", "pos_fraud", "pos_critical"])
    with np.errstate(invalid="ignore", divide="ignore"):
        prior_fraud = overall["pos_fraud"] / overall["lab"].where(overall["lab"] > 0)
        prior_critical = overall["pos_critical"] / overall["lab"].where(overall["lab"] > 0)
    m = config.smoothing
    for key in config.keys:
        if key not in HISTORY_KEYS:
            raise ValidationError("keys", f"unknown history key (known: {list(HISTORY_KEYS)})", key)
        sums = _prior_sums(
            _key_series(table, HISTORY_KEYS[key]),
            table,
            ["one", "lab", "pos_fraud", "pos_critical"],
        )
        out[f"{key}_n"] = sums["one"].to_numpy()
        out[f"{key}_fraud_rate"] = (
            (sums["pos_fraud"] + m * prior_fraud) / (sums["lab"] + m)
        ).to_numpy()
        out[f"{key}_critical_rate"] = (
            (sums["pos_critical"] + m * prior_critical) / (sums["lab"] + m)
        ).to_numpy()

    mass = table["net_mass_kg"].clip(lower=0.0)
    value = table["item_price"].clip(lower=0.0)
    table["x"] = np.log1p(value) - np.log1p(mass)
    table["x2"] = table["x"] ** 2
    for level in ("hs6", "hs4"):
        s = _prior_sums(table[level], table, ["one", "x", "x2"])
        count = s["one"].where(s["one"] >= config.min_value_history)
        mean = s["x"] / count
        std = np.sqrt((s["x2"] / count - mean**2).clip(lower=0.0)).clip(lower=0.1)
        out[f"value_z_{level}"] = ((table["x"] - mean) / std).to_numpy()

    out["origin_differs"] = (table["origin_country"] != table["departure_country"]).astype(float)
    out["preference"] = table["tax_type"].str.startswith("F").astype(float)
    for entity in ("importer", "seller", "declarant"):
        count_col = f"{entity}_n"
        if count_col in out:
            out[f"new_{entity}"] = (out[count_col] == 0).astype(float)
        else:
            ids = table[f"{entity}_id"]
            counts = _prior_sums(ids, table, ["one"])["one"]
            out[f"new_{entity}"] = (counts == 0).astype(float).to_numpy()
    out["tax_rate"] = table["tax_rate"].to_numpy()
    out["log_mass"] = np.log1p(mass).to_numpy()
    out["log_value"] = np.log1p(value).to_numpy()
    out["log_value_per_kg"] = table["x"].to_numpy()
    for col in CATEGORICAL:
        out[col] = pd.Categorical(table[col].astype(str))
    out = out[feature_names(config)]
    if extra:
        out = _join_extra(out, frame, extra)
    return out


def _join_extra(out: pd.DataFrame, frame: pd.DataFrame, extra: ExtraFeatures) -> pd.DataFrame:
    rows = {str(k): dict(v) for k, v in extra.items()}
    table = pd.DataFrame.from_dict(rows, orient="index", dtype="float64")
    clash = sorted(set(table.columns) & set(out.columns))
    if clash:
        raise ValidationError("extra", "extra columns must not reuse feature names", clash)
    ids = frame["declaration_id"].astype(str)
    joined = table.reindex(ids.to_numpy())
    joined.index = out.index
    return pd.concat([out, joined.sort_index(axis=1)], axis=1)


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def describe(name: str, row: Mapping[str, Any], *, overall_rate: float | None = None) -> str:
    """The feature ``name`` of one declaration in plain words (``row``: features + fields)."""
    value = row.get(name)
    for key, words in _KEY_WORDS.items():
        n = row.get(f"{key}_n")
        count = "no" if n is None or (isinstance(n, float) and math.isnan(n)) else f"{n:.0f}"
        if name == f"{key}_n":
            return f"{words}: {count} earlier declarations"
        for label, what in (("fraud", "fraud"), ("critical", "critical fraud")):
            if name == f"{key}_{label}_rate":
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    return f"{words}: no labelled history for {what}"
                base = "" if overall_rate is None else f" (overall {_pct(overall_rate)})"
                return (
                    f"{words}: past {what} rate {_pct(float(value))}{base} over {count} "
                    "earlier declarations"
                )
    if name.startswith("value_z_"):
        level = name.removeprefix("value_z_").upper()
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return f"value per kg: too few earlier declarations of this {level} to compare"
        side = "above" if float(value) >= 0 else "below"
        return (
            f"value per kg {abs(float(value)):.1f} standard deviations {side} its {level} history"
        )
    if name == "origin_differs":
        dep, org = row.get("departure_country"), row.get("origin_country")
        if value:
            return f"origin ({org}) differs from the country of departure ({dep})"
        return f"origin and departure are the same country ({org})"
    if name == "preference":
        tax = row.get("tax_type")
        return (
            f"FTA preference claimed (tax type {tax})"
            if value
            else f"no preference (tax type {tax})"
        )
    if name.startswith("new_"):
        who = name.removeprefix("new_")
        return f"{who} never seen before" if value else f"{who} seen before"
    words_own = {
        "tax_rate": "tax rate {v} %",
        "log_mass": "net mass {v} kg",
        "log_value": "declared value {v}",
        "log_value_per_kg": "value per kg {v}",
    }
    if name in words_own:
        raw = float(value) if value is not None else float("nan")
        shown = (
            raw
            if name == "tax_rate"
            else math.expm1(raw)
            if name != "log_value_per_kg"
            else math.exp(raw)
        )
        return words_own[name].format(v=f"{shown:,.4g}")
    if name in CATEGORICAL:
        return f"{_CODE_WORDS.get(name, name)} {value}"
    return f"{name} = {value}"
