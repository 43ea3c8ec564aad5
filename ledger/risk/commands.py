"""``ledger risk ...``: train, evaluate and select from the command line.

    ledger risk train --train FILE... --out DIR           fit and store a model (retraining)
    ledger risk train --administration ORG_ID --out DIR   ... on its inspection results
    ledger risk evaluate --train FILE... --test FILE [--json] [--model-out DIR]
    ledger risk select --model DIR --history FILE... --declarations FILE --rate 0.05
                       [--exploration 0.1] [--seed N]  selected declarations with reasons (JSON)

Files are CSV in the layout of the Korea Customs Service synthetic declarations
(:mod:`ledger.risk.declarations`). pandas and LightGBM are imported only when a risk command
runs, so the other commands start as fast as before.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

__all__ = ["StoreReader", "add_risk_parser"]

StoreReader = Callable[[argparse.Namespace], Any]
"""Reads the inspected declarations of ``args.administration`` from a declaration store (the
gateway's) as a labelled table; the library's own command line has none."""


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def cmd_train(args: argparse.Namespace) -> int:
    import pandas as pd

    from ledger.errors import ValidationError
    from ledger.risk.declarations import DataDescription, describe_files, read_declarations_csvs
    from ledger.risk.model import train_model

    frames = []
    files: list[tuple[str, str]] = []
    if args.train:
        csv = read_declarations_csvs(args.train)
        frames.append(csv)
        files.extend(describe_files(args.train, csv).files)
    administration = getattr(args, "administration", None)
    if administration:
        inspected = args.store_reader(args)
        frames.append(inspected)
        ids = "\n".join(sorted(str(i) for i in inspected["declaration_id"]))
        name = f"gateway store: {len(inspected)} inspected, lodged with {administration}"
        files.append((name, hashlib.sha256(ids.encode()).hexdigest()))
    if not frames:
        raise ValidationError("train", "give --train files or --administration (or both)")
    train = pd.concat(frames, ignore_index=True).sort_values("date", kind="stable")
    train = train.reset_index(drop=True)
    data = DataDescription(
        files=tuple(files),
        rows=len(train),
        first_date=str(train["date"].min().date()) if len(train) else "",
        last_date=str(train["date"].max().date()) if len(train) else "",
        fraud_rate=round(float(train["fraud"].mean()), 6),
        critical_rate=round(float(train["critical"].mean()), 6),
    )
    model = train_model(train, data=data)
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


def add_risk_parser(sub: Any, *, store_reader: StoreReader | None = None) -> None:
    """Add ``risk`` and its sub-commands to the ``ledger`` parser's sub-command group;
    with ``store_reader``, ``risk train --administration`` also learns from the inspection
    results in that store."""
    risk = sub.add_parser("risk", help="risk-based selection of goods declarations")
    actions = risk.add_subparsers(dest="risk_command", required=True)

    p = actions.add_parser("train", help="train a model on labelled declarations and store it")
    p.add_argument("--train", type=Path, nargs="*", default=[], help="CSV files")
    p.add_argument("--out", type=Path, required=True, help="model directory to write")
    if store_reader is not None:
        p.add_argument("--config", type=Path, help="TOML settings file (the store's)")
        p.add_argument("--data-dir", dest="data_dir", type=Path, help="data directory")
        p.add_argument(
            "--administration",
            help="also the declarations lodged with this administration (org id) that it "
            "inspected, from the gateway's declaration store: their results are the labels",
        )
    p.set_defaults(func=cmd_train, store_reader=store_reader)

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
