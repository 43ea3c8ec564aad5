"""``ledger epcis``: EPCIS 2.0 commands.

``ledger epcis hash FILE [--prehash]`` prints one CBV 2.0 event hash ID per event, in
document order (with ``--prehash``, each followed by a tab and its canonical pre-hash string).
``ledger epcis validate FILE`` checks a capture document as ``POST /epcis/capture`` does (GS1's
JSON Schema with format checks, CBV 2.0) and prints each problem as a JSON line; exit 0 when
valid, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ledger.epcis.hashing import document_prehashes, hash_id_of_prehash, load_document
from ledger.epcis.validation import check_document

__all__ = ["add_commands"]


def cmd_hash(args: argparse.Namespace) -> int:
    prehashes = document_prehashes(load_document(args.file))
    for prehash in prehashes:
        line = hash_id_of_prehash(prehash)
        sys.stdout.write(f"{line}\t{prehash}\n" if args.prehash else f"{line}\n")
    sys.stdout.flush()
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    errors = check_document(load_document(args.file))
    for error in errors:
        sys.stdout.write(json.dumps(error.as_dict()) + "\n")
    sys.stdout.flush()
    return 1 if errors else 0


def add_commands(sub: Any) -> None:
    """Add ``epcis`` and its sub-commands to an argparse sub-command group."""
    epcis = sub.add_parser("epcis", help="GS1 EPCIS 2.0 tools (CBV 2.0 event hash IDs)")
    commands = epcis.add_subparsers(dest="epcis_command", required=True)
    p = commands.add_parser(
        "hash", help="print the CBV 2.0 event hash ID of every event, in document order"
    )
    p.add_argument("file", type=Path, help="EPCIS 2.0 JSON/JSON-LD document")
    p.add_argument(
        "--prehash", action="store_true", help="also print each canonical pre-hash string"
    )
    p.set_defaults(func=cmd_hash)
    v = commands.add_parser(
        "validate",
        help="check a capture document (GS1 JSON Schema, CBV 2.0): one JSON line per problem",
    )
    v.add_argument("file", type=Path, help="EPCIS 2.0 JSON/JSON-LD capture document")
    v.set_defaults(func=cmd_validate)
