"""The ``ledger`` command line.

    ledger compile [--check]     compile contracts into ledger/artifacts (or check they are fresh)
    ledger node                  run the embedded anvil node until Ctrl-C
    ledger deploy [--rpc URL]    deploy the contract suite (or re-use a matching deployment)
    ledger up [--rpc URL]        node + deploy + demo data + gateway, until Ctrl-C

Every option can also be set as a ``LEDGER_*`` environment variable or in a TOML file
(see :class:`ledger.settings.Settings`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic import ValidationError as SettingsValidationError

from ledger.errors import LedgerError
from ledger.settings import Settings

__all__ = ["main"]

log = logging.getLogger("ledger.cli")


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings with the command-line options on top (the class is ``args.settings_cls``)."""
    overrides: dict[str, Any] = {}
    for name in ("rpc_url", "chain_id", "data_dir", "node_port", "gateway_port", "config"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    cls: type[Settings] = getattr(args, "settings_cls", Settings)
    return cls(**overrides)


def out(text: str) -> None:
    """Write a line for the user (the CLI's output, not a log)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def wait_for_stop() -> None:
    """Block until SIGINT or SIGTERM."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop.wait(0.5):
        pass


def cmd_compile(args: argparse.Namespace) -> int:
    from ledger.toolchain import ARTIFACTS_DIR, check_artifacts, write_artifacts

    if args.check:
        check_artifacts()
        out(f"artifacts in {ARTIFACTS_DIR} match the sources")
        return 0
    written = write_artifacts()
    out(f"compiled {len(written) - 1} contracts into {ARTIFACTS_DIR}")
    return 0


def cmd_node(args: argparse.Namespace) -> int:
    from ledger.node import AnvilNode

    settings = settings_from_args(args)
    node = AnvilNode(
        host=settings.node_host,
        port=settings.node_port,
        chain_id=settings.chain_id,
        state_dir=settings.data_dir / "node",
        free_gas=settings.free_gas,
        block_time=settings.block_time,
    )
    with node:
        out(f"anvil JSON-RPC at {node.rpc_url} (chain id {node.chain_id}); Ctrl-C stops it")
        wait_for_stop()
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    from ledger.deploy import SUITE, manifest_path
    from ledger.stack import connect, deploy, relayer_key
    from ledger.txmanager import TxManager

    settings = settings_from_args(args)
    w3 = connect(settings)
    tx = TxManager(w3, relayer_key(settings, w3), confirmations=settings.confirmations)
    deployment, created = deploy(settings, w3, tx, bootstrap_file=args.bootstrap, fresh=args.fresh)
    verb = "deployed" if created else "re-used"
    out(f"{verb} the contract suite on chain {deployment.chain_id} (block {deployment.block}):")
    for name, _ in SUITE:
        out(f"  {name:<13} {deployment.address(name)}")
    out(f"manifest: {manifest_path(settings.data_dir, deployment.chain_id)}")
    return 0


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every chain-facing command takes."""
    parser.add_argument("--config", type=Path, help="TOML settings file")
    parser.add_argument("--data-dir", dest="data_dir", type=Path, help="data directory")
    parser.add_argument("--chain-id", dest="chain_id", type=int, help="chain id")
    parser.add_argument("--node-port", dest="node_port", type=int, help="embedded node port")


def build_parser() -> tuple[argparse.ArgumentParser, Any]:
    """The parser and its sub-command group (so that other programs can add commands)."""
    parser = argparse.ArgumentParser(prog="ledger", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("compile", help="compile the contracts into build artifacts")
    p.add_argument("--check", action="store_true", help="fail if artifacts are stale")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("node", help="run the embedded anvil node")
    add_common(p)
    p.set_defaults(func=cmd_node)

    p = sub.add_parser("deploy", help="deploy the contract suite or re-use its deployment")
    add_common(p)
    p.add_argument("--rpc", dest="rpc_url", help="JSON-RPC URL of the chain")
    p.add_argument("--bootstrap", type=Path, help="TOML file with the first administrations")
    p.add_argument("--fresh", action="store_true", help="deploy anew even if a manifest exists")
    p.set_defaults(func=cmd_deploy)
    return parser, sub


def main(
    argv: Sequence[str] | None = None,
    *,
    parser: argparse.ArgumentParser | None = None,
    settings_cls: type[Settings] = Settings,
) -> int:
    if parser is None:
        parser, _ = build_parser()
    args = parser.parse_args(argv)
    args.settings_cls = settings_cls
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        result: int = args.func(args)
    except (LedgerError, SettingsValidationError) as exc:
        sys.stderr.write(f"ledger {args.command}: {exc}\n")
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
