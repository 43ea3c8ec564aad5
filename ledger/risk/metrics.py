"""Figures of a selection: precision and recall at a share inspected, and ROC AUC.

"At k %" means the ``round(k/100 · n)`` highest-scored declarations (at least one), as
:func:`ledger.risk.selection.select` would inspect them with no exploration. Ties in the
score keep the input order (a stable sort), so figures are reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SHARES", "auc", "figures", "inspected_count", "precision_at", "recall_at"]

SHARES: tuple[int, ...] = (1, 2, 5, 10)  # percent inspected

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def inspected_count(n: int, share: float) -> int:
    """How many of ``n`` declarations a share (a fraction, 0..1) inspects: round, at least 1."""
    return max(1, round(share * n)) if n else 0


def _top(scores: FloatArray, share: float) -> np.ndarray[Any, np.dtype[np.intp]]:
    order = np.argsort(-scores, kind="stable")
    return order[: inspected_count(len(scores), share)]


def precision_at(labels: FloatArray, scores: FloatArray, share: float) -> float:
    """Share of frauds among the top ``share`` (a fraction) of scores."""
    top = _top(scores, share)
    return float(labels[top].mean()) if len(top) else float("nan")


def recall_at(labels: FloatArray, scores: FloatArray, share: float) -> float:
    """Share of all frauds found in the top ``share`` of scores."""
    total = float(labels.sum())
    if total == 0:
        return float("nan")
    return float(labels[_top(scores, share)].sum()) / total


def auc(labels: FloatArray, scores: FloatArray) -> float:
    """ROC AUC (Mann-Whitney, ties counted half); NaN when one class is missing."""
    positives = labels == 1
    n_pos = int(positives.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def figures(
    labels: Sequence[float] | FloatArray,
    scores: Sequence[float] | FloatArray,
    *,
    shares: Sequence[int] = SHARES,
) -> dict[str, Any]:
    """``{"precision_at": {"1": ..}, "recall_at": {"1": ..}, "auc": .., "positives": ..}``."""
    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape:
        raise ValueError(f"labels {y.shape} and scores {s.shape} differ in shape")
    return {
        "precision_at": {str(k): round(precision_at(y, s, k / 100), 4) for k in shares},
        "recall_at": {str(k): round(recall_at(y, s, k / 100), 4) for k in shares},
        "auc": round(auc(y, s), 4),
        "positives": int(y.sum()),
        "rows": len(y),
    }
