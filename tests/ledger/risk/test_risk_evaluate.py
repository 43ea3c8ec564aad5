"""``ledger risk evaluate`` on the shared Korea Customs Service synthetic declarations.

Skipped, with the reason, when ``../shared/data/risk`` is absent (a user's clone). Trains the
default model on 2020 and reports on 2021 Q1, as BENCHMARKS.md records; no timing asserted.
"""

from __future__ import annotations

import json

import pytest

from ledger.cli import main
from tests.data_paths import shared_file

SHARES = {"1", "2", "5", "10"}


def check_figures(figures: dict[str, object]) -> None:
    assert isinstance(figures, dict)
    for key in ("precision_at", "recall_at"):
        values = figures[key]
        assert isinstance(values, dict)
        assert set(values) == SHARES
        assert all(0.0 <= v <= 1.0 for v in values.values())
    assert isinstance(figures["auc"], float)
    assert 0.0 <= figures["auc"] <= 1.0


@pytest.mark.slow
def test_evaluate_on_the_shared_files_beats_random(capsys: pytest.CaptureFixture[str]) -> None:
    train = shared_file("risk", "df_syn_train_eng.csv")
    test = shared_file("risk", "df_syn_valid_eng.csv")
    code = main(["risk", "evaluate", "--train", str(train), "--test", str(test), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    random = result["baselines"]["random"]
    for target in ("Fraud", "Critical Fraud"):
        check_figures(result[target])
        check_figures(random[target])
        check_figures(result["baselines"]["hs6_past_rate"][target])
        assert result[target]["auc"] > random[target]["auc"] + 0.1
    for share in ("5", "10"):
        assert result["Fraud"]["precision_at"][share] > random["Fraud"]["precision_at"][share]
        assert result["Fraud"]["recall_at"][share] > random["Fraud"]["recall_at"][share]
    assert result["data"]["train"]["rows"] == 37_385
    assert result["data"]["test"]["rows"] == 8_134
    assert result["data"]["train"]["first_date"] == "2020-01-01"
    assert len(result["data"]["test"]["files"][0]["sha256"]) == 64
