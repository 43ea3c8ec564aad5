"""The trained model on a small synthetic history: scores, reasons, storage, no label reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ledger.errors import ValidationError
from ledger.risk.model import ModelParams, RiskModel, train_model
from tests.ledger.risk.risk_synthetic import synthetic_declarations

FAST = ModelParams(max_rounds=60, early_stopping=20, min_data_in_leaf=10, inner_months=1)


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    table = synthetic_declarations(1200, days=150)
    cut = table["date"] >= pd.Timestamp("2020-05-01")
    return table[~cut].reset_index(drop=True), table[cut].reset_index(drop=True)


@pytest.fixture(scope="module")
def model(split: tuple[pd.DataFrame, pd.DataFrame]) -> RiskModel:
    return train_model(split[0], params=FAST)


def test_scores_rank_the_planted_risk_first(
    model: RiskModel, split: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    history, new = split
    scores = model.score(history, new)
    assert scores.shape == (len(new),)
    assert ((scores >= 0) & (scores <= 1)).all()
    differs = (new["origin_country"] != new["departure_country"]).to_numpy()
    assert scores[differs].mean() > scores[~differs].mean()


def test_scores_do_not_read_the_labels_of_the_scored(
    model: RiskModel, split: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    history, new = split
    flipped = new.assign(fraud=1.0 - new["fraud"], critical=np.nan)
    np.testing.assert_array_equal(model.score(history, new), model.score(history, flipped))
    np.testing.assert_array_equal(
        model.score(history, new, target="critical"),
        model.score(history, flipped, target="critical"),
    )


def test_select_gives_scores_and_reasons_in_words(
    model: RiskModel, split: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    history, new = split
    chosen = model.select(history, new, rate=0.1, exploration=0.2, seed=5)
    total = round(0.1 * len(new))
    assert len(chosen) == total
    assert sum(s.by == "exploration" for s in chosen) == round(0.2 * total)
    assert len({s.declaration_id for s in chosen}) == total
    risky = [s.score for s in chosen if s.by == "risk"]
    assert risky == sorted(risky, reverse=True)
    for s in chosen:
        assert 1 <= len(s.reasons) <= 3
        for r in s.reasons:
            assert r.feature in model.columns
            assert r.text
            assert r.feature not in r.text.split()  # words, not the column name


def test_stored_model_gives_the_same_scores(
    model: RiskModel, split: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    history, new = split
    model.save(tmp_path / "m")
    assert {p.name for p in (tmp_path / "m").iterdir()} == {
        "fraud.txt",
        "critical.txt",
        "model.json",
    }
    loaded = RiskModel.load(tmp_path / "m")
    assert loaded.columns == model.columns
    assert loaded.params == model.params
    assert loaded.metadata["rounds"] == model.metadata["rounds"]
    np.testing.assert_allclose(loaded.score(history, new), model.score(history, new))
    inner = loaded.metadata["inner_validation"]
    assert inner["rows"] + inner["fit_rows"] == len(history)
    assert set(inner["figures"]) == {"fraud", "critical"}


def test_extra_columns_become_model_features(split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    history, new = split
    # a finding on most frauds: the model must learn to use it
    frauds = history.loc[history["fraud"] == 1, "declaration_id"].iloc[::4]
    extra = {i: {"findings_critical": 0.0} for i in history["declaration_id"]}
    extra.update(
        {
            i: {"findings_critical": 1.0}
            for i in history.loc[history["fraud"] == 1, "declaration_id"]
        }
    )
    extra.update({i: {"findings_critical": 0.0} for i in frauds})
    m = train_model(history, params=FAST, extra=extra)
    assert m.columns[-1] == "findings_critical"
    with pytest.raises(ValidationError, match="missing columns"):
        m.score(history, new)  # the extra features are needed at scoring time too
    none = m.score(history, new, extra={})
    some = m.score(
        history, new, extra={i: {"findings_critical": 1.0} for i in new["declaration_id"]}
    )
    assert none.shape == some.shape == (len(new),)
    assert not np.array_equal(none, some)


def test_training_needs_labels(split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    with pytest.raises(ValidationError, match="both labels"):
        train_model(split[1].assign(fraud=np.nan), params=FAST)
    with pytest.raises(ValidationError, match="not a risk model directory"):
        RiskModel.load(Path("/nonexistent"))
