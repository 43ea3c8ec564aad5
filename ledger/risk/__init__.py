"""Risk for customs selection, built on the verification engine and the declaration history.

Owns: the per-consignment risk score with its contributions (:mod:`.score`); and the learned
risk selection of goods declarations: the declaration record and table
(:mod:`.declarations`), leakage-free features from the declaration history
(:mod:`.features`), the LightGBM model stored with its training description (:mod:`.model`),
selection at a fixed rate with an exploration share and reasons (:mod:`.selection`), the
figures (:mod:`.metrics`), train-then-test evaluation against baselines (:mod:`.evaluate`) and
the ``ledger risk`` commands (:mod:`.commands`). Verification
does not import it: a caller that wants ``verdict.risk`` passes :func:`score_risk` as the
verifier's ``scorer`` (``ledger.verify.Verifier(..., scorer=score_risk)``; the CLI and the
gateway do).

May import: :mod:`ledger.errors`, :mod:`ledger.records`, :mod:`ledger.chain`,
:mod:`ledger.index`, :mod:`ledger.verify`; pandas, numpy and LightGBM (the learned part only).

The learned part is loaded on first use of one of its names, so that importing this package
(as the command line does) does not load pandas and LightGBM.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ledger.risk.score import (
    BANDS,
    Contribution,
    RiskScore,
    band_of,
    score_risk,
)

if TYPE_CHECKING:
    from ledger.risk.declarations import (
        DataDescription,
        Declaration,
        declarations_frame,
        read_declarations_csv,
        read_declarations_csvs,
    )
    from ledger.risk.evaluate import evaluate
    from ledger.risk.features import ExtraFeatures, FeatureConfig, build_features
    from ledger.risk.metrics import figures
    from ledger.risk.model import ModelParams, RiskModel, train_model
    from ledger.risk.selection import MAX_CREDIT, MAX_UPLIFT, Reason, Selected, choose

_LAZY = {
    "DataDescription": "declarations",
    "Declaration": "declarations",
    "declarations_frame": "declarations",
    "read_declarations_csv": "declarations",
    "read_declarations_csvs": "declarations",
    "evaluate": "evaluate",
    "ExtraFeatures": "features",
    "FeatureConfig": "features",
    "build_features": "features",
    "figures": "metrics",
    "ModelParams": "model",
    "RiskModel": "model",
    "train_model": "model",
    "MAX_CREDIT": "selection",
    "MAX_UPLIFT": "selection",
    "Reason": "selection",
    "Selected": "selection",
    "choose": "selection",
}

__all__ = [
    "BANDS",
    "MAX_CREDIT",
    "MAX_UPLIFT",
    "Contribution",
    "DataDescription",
    "Declaration",
    "ExtraFeatures",
    "FeatureConfig",
    "ModelParams",
    "Reason",
    "RiskModel",
    "RiskScore",
    "Selected",
    "band_of",
    "build_features",
    "choose",
    "declarations_frame",
    "evaluate",
    "figures",
    "read_declarations_csv",
    "read_declarations_csvs",
    "score_risk",
    "train_model",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"ledger.risk.{module}"), name)
