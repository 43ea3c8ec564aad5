"""``python -m bench.selection`` at a tiny size: every figure is there and sensible (the
lead runs the real one, 1,000,000 declarations, on a quiet machine)."""

from __future__ import annotations

import json

import pytest

from bench.selection import main, run


def test_tiny_run_selects_five_percent_with_reasons() -> None:
    result = run(1500, inspected=0.3, seed=1)
    assert result["size"] == 1500
    assert result["train_rows"] == result["inspected"] > 0
    assert result["considered"] == 1500 - result["inspected"]
    assert result["selected"] == round(0.05 * result["considered"])
    for key in ("fill_s", "train_s", "read_s", "select_s"):
        assert result[key] >= 0
    assert result["select_s"] >= result["read_s"]
    assert result["example_reasons"]


def test_cli_refuses_a_size_too_small(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--size", "10"]) == 2
    assert "at least 200" in capsys.readouterr().err


def test_cli_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--size", "400", "--inspected", "0.4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["size"] == 400
