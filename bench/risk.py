"""Risk selection figures: training time, scoring throughput, and the evaluation table.

    python -m bench.risk                  # the shared data next to the repository
    python -m bench.risk --data DIR --json

Needs ``df_syn_train_eng.csv`` and ``df_syn_valid_eng.csv`` (Korea Customs Service synthetic
declarations) in ``--data`` (default ``../shared/data/risk``). No anvil node: this section is
separate from ``bench.run``. Prints, and records in ``BENCHMARKS.md`` by hand:

* ``train_s_45k``: :func:`ledger.risk.train_model` on train + valid (45,519 rows), both labels,
  inner validation and refit included (the retraining a customs administration would run);
* ``score_per_s``: features from the 2020 history plus prediction, for the 8,134 declarations
  of 2021 Q1, in declarations per second (``predict_per_s``: prediction alone);
* ``select_s``: a 5 % selection with exploration and three reasons per selected declaration;
* the evaluation (train 2020, report 2021 Q1) of :func:`ledger.risk.evaluate`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ledger.risk.declarations import read_declarations_csv, read_declarations_csvs
from ledger.risk.evaluate import evaluate
from ledger.risk.model import RiskModel, train_model

__all__ = ["main", "run"]

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "risk"
TRAIN = "df_syn_train_eng.csv"
VALID = "df_syn_valid_eng.csv"


def run(data: Path) -> dict[str, Any]:
    train_path, valid_path = data / TRAIN, data / VALID
    train = read_declarations_csv(train_path)
    valid = read_declarations_csv(valid_path)
    everything = read_declarations_csvs([train_path, valid_path])

    started = time.perf_counter()
    model = train_model(everything)
    train_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        evaluation = evaluate([train_path], valid_path, model_dir=Path(tmp))
        model2020 = RiskModel.load(Path(tmp))
    train_2020_s = evaluation["model"]["train_seconds"]
    new = valid.drop(columns=["fraud", "critical"]).assign(
        fraud=float("nan"), critical=float("nan")
    )
    started = time.perf_counter()
    feats = model2020.features(train, new)
    model2020.predict(feats)
    score_s = time.perf_counter() - started
    started = time.perf_counter()
    model2020.predict(feats)
    predict_s = time.perf_counter() - started
    started = time.perf_counter()
    chosen = model2020.select(train, new, rate=0.05, exploration=0.1, seed=0)
    select_s = time.perf_counter() - started

    return {
        "rows_45k": len(everything),
        "train_s_45k": round(train_s, 2),
        "rounds_45k": model.metadata["rounds"],
        "train_s_2020": round(train_2020_s, 2),
        "score_rows": len(new),
        "score_per_s": round(len(new) / score_s, 1),
        "predict_per_s": round(len(new) / predict_s, 1),
        "select_s": round(select_s, 3),
        "selected": len(chosen),
        "example_selection": {
            "declaration_id": chosen[0].declaration_id,
            "score": chosen[0].score,
            "reasons": [r.text for r in chosen[0].reasons],
        },
        "evaluation": {k: v for k, v in evaluation.items() if k != "published"},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_1m": round(os.getloadavg()[0], 2),
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.risk", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the CSV files")
    parser.add_argument("--json", action="store_true", help="print everything as JSON")
    args = parser.parse_args(argv)
    if not (args.data / TRAIN).is_file() or not (args.data / VALID).is_file():
        sys.stderr.write(f"bench.risk: {TRAIN} and {VALID} not found in {args.data}\n")
        return 2
    logging.basicConfig(level=logging.WARNING)
    result = run(args.data)
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return 0
    for key in ("rows_45k", "train_s_45k", "rounds_45k", "train_s_2020", "score_rows"):
        sys.stdout.write(f"{key:<16} {result[key]}\n")
    for key in ("score_per_s", "predict_per_s", "select_s", "selected"):
        sys.stdout.write(f"{key:<16} {result[key]}\n")
    sys.stdout.write(f"example          {json.dumps(result['example_selection'])}\n")
    ev = result["evaluation"]
    rows = [("model", ev), *[(f"{b}", f) for b, f in ev["baselines"].items()]]
    for target in ("Fraud", "Critical Fraud"):
        sys.stdout.write(f"{target}: precision@1/2/5/10 %, recall@1/2/5/10 %, AUC\n")
        for label, figs in rows:
            f = figs[target]
            p = " ".join(f"{f['precision_at'][k]:.3f}" for k in ("1", "2", "5", "10"))
            r = " ".join(f"{f['recall_at'][k]:.3f}" for k in ("1", "2", "5", "10"))
            sys.stdout.write(f"  {label:<14} {p} | {r} | {f['auc']:.4f}\n")
    sys.stdout.write(f"machine          {json.dumps(result['machine'])}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
