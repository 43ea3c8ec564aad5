"""The ``ledger network`` commands.

    ledger network up [--dir DIR] [--period S] [--chain-id N] [--http-port P] [--p2p-port P]
    ledger network status [--dir DIR] [--json]
    ledger network down [--dir DIR] [--hard]
    ledger network stop-node NODE [--hard] / start-node NODE      (name or index)
    ledger network geth                      build (or find) geth v1.13.15, print its path
    ledger network besu-config --out DIR --member NAME[@HOST[:PORT]] ... [--validators N]

:func:`add_network_parser` registers them on the ``ledger`` parser (``ledger/cli.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

__all__ = ["add_network_parser"]


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _network(args: argparse.Namespace) -> Any:
    from ledger.network.clique import CliqueNetwork
    from ledger.settings import Settings

    settings = Settings()
    directory = args.dir if args.dir is not None else settings.network_dir
    return CliqueNetwork(directory, settings=settings)


def _print_status(net: Any) -> None:
    _out(f"Clique network in {net.directory} (chain id {net.chain_id})")
    _out(f"{'#':<2} {'node':<11} {'role':<7} {'pid':>7} {'block':>7} {'peers':>5}  "
         f"{'JSON-RPC':<22} signer")  # fmt: skip
    for s in net.status():
        pid = str(s.pid) if s.pid is not None else "down"
        block = str(s.block_number) if s.block_number is not None else "-"
        peers = str(s.peers) if s.peers is not None else "-"
        _out(
            f"{s.index:<2} {s.name:<11} {s.role:<7} {pid:>7} {block:>7} {peers:>5}  "
            f"{s.rpc_url:<22} {s.signer_address or '-'}" + (f"  ({s.error})" if s.error else "")
        )


def cmd_up(args: argparse.Namespace) -> int:
    net = _network(args)
    net.init(
        chain_id=args.chain_id,
        period=args.period,
        http_port=args.http_port,
        p2p_port=args.p2p_port,
    )
    net.up(timeout=args.timeout)
    _print_status(net)
    _out(f"JSON-RPC for gateways and indexes: {net.rpc_url('rpc')}; `ledger network down` stops")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    net = _network(args)
    if args.json:
        _out(json.dumps([{**asdict(s), "running": s.running} for s in net.status()], indent=2))
    else:
        _print_status(net)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    net = _network(args)
    net.down(hard=args.hard)
    _out(f"stopped the nodes of {net.directory} (data kept)")
    return 0


def cmd_stop_node(args: argparse.Namespace) -> int:
    net = _network(args)
    net.stop_node(args.node, hard=args.hard)
    _out(f"stopped {net.node(args.node).name}")
    return 0


def cmd_start_node(args: argparse.Namespace) -> int:
    net = _network(args)
    pid = net.start_node(args.node, timeout=args.timeout)
    _out(f"started {net.node(args.node).name} (pid {pid})")
    return 0


def cmd_geth(args: argparse.Namespace) -> int:
    from ledger.network.geth import ensure_geth

    _out(str(ensure_geth()))
    return 0


def cmd_besu_config(args: argparse.Namespace) -> int:
    from ledger.errors import NetworkConfigError
    from ledger.network.besu import MemberSpec, write_besu_kit

    members = [MemberSpec.parse(text, index=i) for i, text in enumerate(args.member or [])]
    count = args.validators if args.validators is not None else len(members)
    if count < len(members):
        raise NetworkConfigError(f"{len(members)} members named but --validators {count}")
    members += [MemberSpec.parse(f"validator-{i + 1}", index=i) for i in range(len(members), count)]
    kit = write_besu_kit(
        args.out,
        members,
        chain_id=args.chain_id,
        block_period=args.block_period,
        epoch_length=args.epoch_length,
        request_timeout=args.request_timeout,
        accounts=args.account or [],
        force=args.force,
    )
    _out(f"Besu QBFT kit for {len(kit.validators)} validators (chain id {kit.chain_id}) in "
         f"{kit.out}:")  # fmt: skip
    for member_dir, address in zip(kit.member_dirs, kit.validators, strict=True):
        _out(f"  {member_dir}  validator {address}")
    _out("each member: cd members/<name> && besu --config-file=config.toml")
    return 0


def add_network_parser(sub: Any) -> None:
    """Add ``network`` and its sub-commands to the ``ledger`` sub-parser group ``sub``."""
    from ledger.network.besu import DEFAULT_BESU_CHAIN_ID
    from ledger.network.clique import DEFAULT_CHAIN_ID, DEFAULT_HTTP_PORT, DEFAULT_P2P_PORT

    network = sub.add_parser(
        "network", help="a local multi-node Clique network (geth), and the Besu QBFT kit"
    )
    actions = network.add_subparsers(dest="network_command", required=True)

    def with_dir(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--dir", type=Path, help="network state directory (default .data/network, "
            "LEDGER_NETWORK_DIR)"
        )  # fmt: skip
        return p

    p = with_dir(actions.add_parser("up", help="start the 3 signers and the RPC node"))
    p.add_argument("--chain-id", type=int, default=DEFAULT_CHAIN_ID, help="for a new network")
    p.add_argument("--period", type=int, default=1, help="seconds between blocks (new network)")
    p.add_argument("--http-port", type=int, default=DEFAULT_HTTP_PORT, help="first node's RPC")
    p.add_argument("--p2p-port", type=int, default=DEFAULT_P2P_PORT, help="first node's P2P")
    p.add_argument("--timeout", type=float, default=120.0, help="readiness timeout (s)")
    p.set_defaults(func=cmd_up)

    p = with_dir(actions.add_parser("status", help="each node's pid, block, peers, signer"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = with_dir(actions.add_parser("down", help="stop every node (data kept)"))
    p.add_argument("--hard", action="store_true", help="SIGKILL instead of SIGTERM")
    p.set_defaults(func=cmd_down)

    p = with_dir(actions.add_parser("stop-node", help="stop one node (name or index)"))
    p.add_argument("node")
    p.add_argument("--hard", action="store_true", help="kill -9")
    p.set_defaults(func=cmd_stop_node)

    p = with_dir(actions.add_parser("start-node", help="start one node on its data"))
    p.add_argument("node")
    p.add_argument("--timeout", type=float, default=60.0)
    p.set_defaults(func=cmd_start_node)

    p = actions.add_parser("geth", help="build or find geth v1.13.15 and print its path")
    p.set_defaults(func=cmd_geth)

    p = actions.add_parser(
        "besu-config", help="write a Hyperledger Besu QBFT network kit (genesis, keys, configs)"
    )
    p.add_argument("--out", type=Path, required=True, help="directory to write")
    p.add_argument(
        "--member",
        action="append",
        metavar="NAME[@HOST[:P2P_PORT]]",
        help="a member running one validator (repeat); without a host: 127.0.0.1, ports "
        "30303+i (P2P) and 8545+i (RPC)",
    )
    p.add_argument("--validators", type=int, help="number of validators (default: members)")
    p.add_argument("--chain-id", type=int, default=DEFAULT_BESU_CHAIN_ID)
    p.add_argument("--block-period", type=int, default=2, help="blockperiodseconds")
    p.add_argument("--epoch-length", type=int, default=30000, help="epochlength")
    p.add_argument("--request-timeout", type=int, default=4, help="requesttimeoutseconds")
    p.add_argument(
        "--account", action="append", metavar="ADDRESS", help="extra allowlisted account"
    )
    p.add_argument("--force", action="store_true", help="write into a non-empty --out")
    p.set_defaults(func=cmd_besu_config)
