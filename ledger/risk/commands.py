"""``ledger risk ...``: train, evaluate and select from the command line.

    ledger risk train --train FILE... --out DIR           fit and store a model (retraining)
    ledger risk evaluate --train FILE... --test FILE [--json] [--model-out DIR]
    ledger risk select --model DIR --history FILE... --declarations FILE --rate 0.05
                       [--exploration 0.1] [--seed N]  selected declarations with reasons (JSON)

Files are CSV in the layout of the Korea Customs Service synthetic declarations
(:mod:`ledger.risk.declarations`). pandas and LightGBM are imported only when a risk command
runs, so the other commands start as fast as before.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

__all__ = ["add_risk_parser"]


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def cmd_train(args: argparse.Namespace) -> int:
    from ledger.risk.declarations import describe_files, read_declarations_csvs
    from ledger.risk.model import train_model

    train = read_declarations_csvs(args.train)
    model = train_model(train, data=describe_files(args.train, train))
    model.save(args.out)
    _out(json.dumps({"model": str(args.out), **model.metadata["inner_validation"]}, indent=2))
    return 0


def _table(result: dict[str, Any]) -> str:
    rows = [("model", result), *[(f"{b} baseline", f) for b, f in result["baselines"].items()]]
    lines = []
    for target in ("Fraud", "Critical Fraud"):
        lines.append(f"{target}:  precision@1/2/5/10 %   recall@1/2/5/10 %   AUC")
        for label, figs in rows:
            f = figs[target]
            p = " ".join(f"{f['precision_at'][k]:.3f}" for k in ("1", "2", "5", "10"))
            r = " ".join(f"{f['recall_at'][k]:.3f}" for k in ("1", "2", "5", "10"))
            lines.append(f"  {label:<26} {p}   {r}   {f['auc']:.4f}")
    return "\n".join(lines)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ledger.risk.evaluate import evaluate

    result = evaluate(args.train, args.test, seed=args.seed, model_dir=args.model_out)
    _out(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


def cmd_select(args: argparse.Namespace) -> int:
    from ledger.risk.declarations import read_declarations_csv, read_declarations_csvs
    from ledger.risk.model import RiskModel

    model = RiskModel.load(args.model)
    history = read_declarations_csvs(args.history)
    declarations = read_declarations_csv(args.declarations)
    chosen = model.select(
        history, declarations, rate=args.rate, exploration=args.exploration, seed=args.seed
    )
    _out(json.dumps([asdict(s) for s in chosen], indent=2))
    return 0


def add_risk_parser(sub: Any) -> None:
    """Add ``risk`` and its sub-commands to the ``ledger`` parser's sub-command group."""
    risk = sub.add_parser("risk", help="risk-based selection of goods declarations")
    actions = risk.add_subparsers(dest="risk_command", required=True)

    p = actions.add_parser("train", help="train a model on labelled declarations and store it")
    p.add_argument("--train", type=Path, nargs="+", required=True, help="CSV files")
    p.add_argument("--out", type=Path, required=True, help="model directory to write")
    p.set_defaults(func=cmd_train)

    p = actions.add_parser("evaluate", help="train on --train, report figures on --test")
    p.add_argument("--train", type=Path, nargs="+", required=True, help="CSV files")
    p.add_argument("--test", type=Path, required=True, help="CSV file of a later period")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--seed", type=int, default=0, help="seed of the random baseline")
    p.add_argument("--model-out", dest="model_out", type=Path, help="also store the model")
    p.set_defaults(func=cmd_evaluate)

    p = actions.add_parser("select", help="select declarations for inspection, with reasons")
    p.add_argument("--model", type=Path, required=True, help="model directory")
    p.add_argument("--history", type=Path, nargs="+", required=True, help="labelled CSV files")
    p.add_argument("--declarations", type=Path, required=True, help="CSV file to select from")
    p.add_argument("--rate", type=float, required=True, help="share inspected (0..1)")
    p.add_argument("--exploration", type=float, default=0.1, help="random share of the selected")
    p.add_argument("--seed", type=int, default=0, help="seed of the exploration draw")
    p.set_defaults(func=cmd_select)
