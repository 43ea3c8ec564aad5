"""Selection at a fixed rate with an exploration share; bounded credit; reasons; figures."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import ValidationError
from ledger.risk.metrics import auc, figures, precision_at, recall_at
from ledger.risk.selection import MAX_CREDIT, MAX_UPLIFT, choose, top_reasons


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 400),
    rate=st.floats(0.0, 1.0),
    exploration=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_selects_round_rate_n_with_the_exploration_share(
    n: int, rate: float, exploration: float, seed: int
) -> None:
    ids = [f"D{i}" for i in range(n)]
    scores = np.random.default_rng(1).random(n)
    by_risk, by_chance, _ = choose(ids, scores, rate=rate, exploration=exploration, seed=seed)
    total = max(1, round(rate * n)) if rate > 0 else 0
    assert len(by_risk) + len(by_chance) == total
    assert len(by_chance) == round(exploration * total)
    assert not set(by_risk) & set(by_chance)
    # the risk picks are the highest scores
    if by_risk:
        assert min(scores[by_risk]) >= np.max(np.delete(scores, by_risk), initial=-1.0)


def test_exploration_is_seeded_and_random() -> None:
    ids = [f"D{i}" for i in range(1000)]
    scores = np.linspace(1, 0, 1000)
    a = choose(ids, scores, rate=0.1, exploration=0.1, seed=3)
    b = choose(ids, scores, rate=0.1, exploration=0.1, seed=3)
    c = choose(ids, scores, rate=0.1, exploration=0.1, seed=4)
    assert a[0] == list(range(90))
    assert len(a[1]) == 10
    assert a[1] == b[1]
    assert a[1] != c[1]
    assert min(a[1]) >= 90  # drawn from the rest


def test_default_exploration_is_ten_percent_of_the_selected() -> None:
    ids = [f"D{i}" for i in range(500)]
    by_risk, by_chance, _ = choose(ids, np.arange(500.0), rate=0.2)
    assert (len(by_risk), len(by_chance)) == (90, 10)


def test_aeo_credit_is_bounded_never_an_exemption() -> None:
    ids = ["AEO", "B", "C", "D"]
    scores = np.array([0.9, 0.5, 0.2, 0.1])
    by_risk, _, credited = choose(ids, scores, rate=0.25, exploration=0, credits={"AEO": 1.0})
    assert credited[0] == pytest.approx(0.9 - MAX_CREDIT)
    assert by_risk == [0]  # a high risk stays selected despite the credit
    _, _, credited = choose(ids, scores, rate=0.25, credits={"AEO": -5.0})
    assert credited[0] == 0.9  # a negative credit is no credit
    # a credited declaration can still be drawn by exploration
    drawn = {
        i
        for seed in range(40)
        for i in choose(ids, scores, rate=1.0, exploration=1.0, seed=seed, credits={"AEO": 1})[1]
    }
    assert 0 in drawn


def test_rejects_rates_outside_zero_to_one() -> None:
    with pytest.raises(ValidationError, match="rate"):
        choose(["a"], [0.5], rate=5)
    with pytest.raises(ValidationError, match="exploration"):
        choose(["a"], [0.5], rate=0.5, exploration=-0.1)
    with pytest.raises(ValidationError, match="one score per declaration"):
        choose(["a", "b"], [0.5], rate=0.5)


def test_top_reasons_are_the_features_that_raised_the_score_most() -> None:
    words = {"a": "A words", "b": "B words", "c": "C words", "d": "D words"}
    reasons = top_reasons({"a": 0.1, "b": 0.9, "c": -2.0, "d": 0.3}, words, top=2)
    assert [(r.feature, r.text) for r in reasons] == [("b", "B words"), ("d", "D words")]
    # nothing raised it: the features that lowered it most are shown
    lowered = top_reasons({"a": -0.1, "c": -2.0}, words, top=1)
    assert [r.feature for r in lowered] == ["c"]


def test_figures_on_a_hand_made_ranking() -> None:
    labels = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1], dtype=float)
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    assert precision_at(labels, scores, 0.2) == 0.5  # top 2: one fraud
    assert recall_at(labels, scores, 0.3) == pytest.approx(2 / 3)
    # pairs (fraud, clean) ranked right: 7 + 6 + 0 of 3 * 7
    assert auc(labels, scores) == pytest.approx(13 / 21)
    f = figures(labels, scores)
    assert set(f["precision_at"]) == {"1", "2", "5", "10"}
    assert f["precision_at"]["10"] == 1.0  # round(0.1 * 10) = 1 declaration
    assert f["positives"] == 3


def test_ledger_findings_raise_a_score_within_their_bound() -> None:
    ids = ["LOW", "MID", "HIGH"]
    scores = [0.1, 0.5, 0.65]
    by_risk, _, raised = choose(ids, scores, rate=1 / 3, exploration=0, uplifts={"LOW": 0.9})
    assert raised[0] == pytest.approx(0.1 + MAX_UPLIFT), "bounded by MAX_UPLIFT"
    assert by_risk == [2], "0.65 still outranks 0.1 + 0.5"
    _, _, raised = choose(ids, scores, rate=1 / 3, exploration=0, uplifts={"LOW": 0.3})
    assert raised.tolist() == pytest.approx([0.4, 0.5, 0.65])
    _, _, raised = choose(ids, scores, rate=1 / 3, uplifts={"MID": -1.0})
    assert raised[1] == pytest.approx(0.5), "a negative uplift is no credit"
    by_risk, _, _ = choose(ids, [0.1, 0.5, 0.55], rate=1 / 3, exploration=0, uplifts={"LOW": 0.5})
    assert by_risk == [0], "a critical ledger finding can put a low model score first"
