"""Selection for inspection at a fixed rate, with a random exploration share and reasons.

Of ``n`` declarations, ``round(rate · n)`` are selected. Of those, ``round(exploration ·
selected)`` are drawn at random (seeded) from the declarations that the score did not pick,
so that the model keeps receiving labels from the whole population (inspection results are
the next training labels); the rest are the highest scores.

An AEO credit lowers a declaration's score by at most ``max_credit`` (a bounded, dated credit
that the caller computes from the ledger at the declaration's date), never to an exemption: a
credited declaration still ranks by its lowered score and can always be drawn by exploration.

The ledger's findings raise a declaration's score by at most ``max_uplift``: a critical
finding on its consignment or on the certificate behind its preference claim is evidence the
declaration history cannot show (the caller computes the uplift from the verifier's verdict).

Every selection carries its score and its reasons: the features that moved its score most
(per-feature contributions, e.g. LightGBM's SHAP values), in plain words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ledger.errors import ValidationError
from ledger.risk.metrics import inspected_count

__all__ = ["MAX_CREDIT", "MAX_UPLIFT", "Reason", "Selected", "choose", "top_reasons"]

MAX_CREDIT = 0.05  # the largest score reduction an AEO credit can bring (score is 0..1)
MAX_UPLIFT = 0.5  # the largest score rise the ledger's findings can bring


@dataclass(frozen=True, slots=True)
class Reason:
    """One feature's push on the score (``contribution`` in log-odds; > 0 raises the risk)."""

    feature: str
    contribution: float
    text: str


@dataclass(frozen=True, slots=True)
class Selected:
    declaration_id: str
    score: float  # the model's probability of fraud, after any AEO credit
    by: Literal["risk", "exploration"]
    reasons: tuple[Reason, ...]


def _credited(
    ids: Sequence[str],
    scores: np.ndarray[Any, Any],
    credits: Mapping[str, float] | None,
    bound: float,
) -> np.ndarray[Any, Any]:
    if not credits:
        return scores
    cut = np.array([min(max(float(credits.get(i, 0.0)), 0.0), bound) for i in ids])
    credited: np.ndarray[Any, Any] = np.clip(scores - cut, 0.0, 1.0)
    return credited


def _uplifted(
    ids: Sequence[str],
    scores: np.ndarray[Any, Any],
    uplifts: Mapping[str, float] | None,
    bound: float,
) -> np.ndarray[Any, Any]:
    if not uplifts:
        return scores
    rise = np.array([min(max(float(uplifts.get(i, 0.0)), 0.0), bound) for i in ids])
    raised: np.ndarray[Any, Any] = np.clip(scores + rise, 0.0, 1.0)
    return raised


def choose(
    ids: Sequence[str],
    scores: Sequence[float] | np.ndarray[Any, Any],
    *,
    rate: float,
    exploration: float = 0.1,
    seed: int = 0,
    credits: Mapping[str, float] | None = None,
    max_credit: float = MAX_CREDIT,
    uplifts: Mapping[str, float] | None = None,
    max_uplift: float = MAX_UPLIFT,
) -> tuple[list[int], list[int], np.ndarray[Any, Any]]:
    """Positions chosen by risk and by exploration, and the scores (credited, uplifted).

    ``rate`` and ``exploration`` are fractions in 0..1; ties in the score keep input order.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValidationError("rate", "must be a fraction between 0 and 1", rate)
    if not 0.0 <= exploration <= 1.0:
        raise ValidationError("exploration", "must be a fraction between 0 and 1", exploration)
    values = np.asarray(scores, dtype=np.float64)
    if values.shape != (len(ids),):
        raise ValidationError("scores", f"needs one score per declaration ({len(ids)})")
    values = _uplifted(ids, _credited(ids, values, credits, max_credit), uplifts, max_uplift)
    n = len(ids)
    total = inspected_count(n, rate) if rate > 0 else 0
    explore = round(exploration * total)
    order = np.argsort(-values, kind="stable")
    by_risk = [int(i) for i in order[: total - explore]]
    rest = np.setdiff1d(np.arange(n), by_risk)  # sorted, so the draw depends on the seed alone
    rng = np.random.default_rng(seed)
    by_chance = [int(i) for i in rng.choice(rest, size=explore, replace=False)] if explore else []
    return by_risk, sorted(by_chance), values


def top_reasons(
    contributions: Mapping[str, float],
    describe: Mapping[str, str],
    *,
    top: int = 3,
) -> tuple[Reason, ...]:
    """The ``top`` features that raised the score most (then lowered, if none raised it).

    ``contributions``: feature → contribution; ``describe``: feature → the words for it.
    """
    ranked = sorted(contributions.items(), key=lambda kv: -kv[1])
    raising = [(f, c) for f, c in ranked if c > 0]
    chosen = raising[:top] if raising else sorted(ranked, key=lambda kv: kv[1])[:top]
    return tuple(Reason(f, round(float(c), 4), describe[f]) for f, c in chosen)
