"""Train on one period, report on the next: the model against two baselines.

:func:`evaluate` trains :func:`ledger.risk.model.train_model` on the training files and scores
the test file with features from the training history (the test labels are read only to
compute the figures). For ``Fraud`` and ``Critical Fraud`` it reports precision and recall at
1, 2, 5 and 10 % inspected and the ROC AUC, beside two baselines computed in the same run:

* ``random``: a seeded random order (its expected precision is the fraud rate);
* ``hs6_past_rate``: the past fraud rate of the declaration's HS6 subheading in the training
  period (smoothed towards the overall rate), the simplest rule a risk officer would use.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ledger.risk.declarations import describe_files, read_declarations_csv, read_declarations_csvs
from ledger.risk.metrics import figures
from ledger.risk.model import ModelParams, RiskModel, train_model

__all__ = ["PUBLISHED", "TARGET_NAMES", "evaluate"]

TARGET_NAMES: dict[str, str] = {"fraud": "Fraud", "critical": "Critical Fraud"}

PUBLISHED: dict[str, Any] = {
    "source": "Jeong et al., Customs Import Declaration Datasets, arXiv 2208.02484, Table 3 "
    "(test split, 2021 Q2; not the split reported here)",
    "Fraud": {
        "LightGBM": {"precision_at": {"5": 0.762, "10": 0.641}},
        "XGBoost": {"precision_at": {"5": 0.675, "10": 0.579}},
    },
}


def evaluate(
    train_paths: Sequence[Path],
    test_path: Path,
    *,
    params: ModelParams | None = None,
    seed: int = 0,
    model_dir: Path | None = None,
) -> dict[str, Any]:
    """Figures of the model and the baselines on ``test_path`` (see the module docstring)."""
    train = read_declarations_csvs(train_paths)
    test = read_declarations_csv(test_path)
    started = time.perf_counter()
    model: RiskModel = train_model(
        train, params=params or ModelParams(), data=describe_files(train_paths, train)
    )
    train_s = time.perf_counter() - started
    if model_dir is not None:
        model.save(model_dir)
    started = time.perf_counter()
    feats = model.features(train, test)
    scores = {t: model.predict(feats, target=t) for t in TARGET_NAMES}
    score_s = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    chance = rng.random(len(test))
    result: dict[str, Any] = {}
    baselines: dict[str, Any] = {"random": {}, "hs6_past_rate": {}}
    for target, name in TARGET_NAMES.items():
        labels = test[target].to_numpy(dtype=np.float64)
        result[name] = figures(labels, scores[target])
        baselines["random"][name] = figures(labels, chance)
        baselines["hs6_past_rate"][name] = figures(
            labels, feats[f"hs6_{target}_rate"].fillna(-1.0).to_numpy(dtype=np.float64)
        )
    result["baselines"] = baselines
    result["published"] = PUBLISHED
    result["model"] = {
        "columns": list(model.columns),
        "rounds": model.metadata["rounds"],
        "inner_validation": model.metadata["inner_validation"],
        "train_seconds": round(train_s, 2),
        "score_seconds": round(score_s, 3),
    }
    result["data"] = {
        "train": model.metadata["data"],
        "test": describe_files([test_path], test).to_json(),
    }
    return result
