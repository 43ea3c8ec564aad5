"""The kit a consortium needs to start a Hyperledger Besu QBFT network (the production chain).

:func:`write_besu_kit` writes, for ``N`` validators (one per customs administration)::

    <out>/genesis.json              QBFT genesis (validators in extraData, zeroBaseFee)
    <out>/permissions_config.toml   nodes-allowlist (enode URLs) and accounts-allowlist
    <out>/static-nodes.json         the validators' enode URLs
    <out>/network.json              a summary: validators, addresses, enodes, accounts
    <out>/members/<slug>/           one self-contained directory per member:
        config.toml                 Besu options (permissioning, RPC, free gas, peers)
        key, key.pub                the node key (secp256k1; its address is the validator)
        relayer.key                 the key of the member's gateway relayer account
        genesis.json, permissions_config.toml, static-nodes.json   copies of the shared files

Besu cannot run on the project's machines; the files follow Besu's documented formats and are
checked by the tests for structure and content. Key names (``nodes-allowlist``,
``permissions-nodes-config-file-enabled``, ``min-gas-price``, ...) are Besu's documented ones.

QBFT extraData (block-header validator selection) is ``RLP([vanity (32 bytes), [validator
addresses], vote (empty list), round (0), seals (empty list)])``.

The milestones stop at London (``berlinBlock``/``londonBlock`` 0, no Shanghai): the contracts are
built for ``paris``, whose opcodes a London chain runs, and the same genesis shape is what the
local Clique network uses.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rlp  # type: ignore[import-untyped]  # pyrlp ships no type hints
from eth_utils.address import is_address, to_checksum_address

from ledger.errors import NetworkConfigError
from ledger.network.keys import KeyPair

__all__ = ["BesuKit", "MemberSpec", "decode_qbft_extra_data", "qbft_extra_data", "write_besu_kit"]

log = logging.getLogger("ledger.network.besu")

BFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
"""The mixHash every IBFT 2.0 / QBFT block carries ("ctical byzantine fault tolerance")."""
DEFAULT_BESU_CHAIN_ID = 202602
DEFAULT_P2P_PORT = 30303
DEFAULT_RPC_PORT = 8545
RPC_APIS = ("ETH", "NET", "WEB3", "QBFT", "TXPOOL")
FUNDS_WEI = 10**24


@dataclass(frozen=True)
class MemberSpec:
    """One consortium member running one validator: a name and where its node is reached."""

    name: str
    host: str = "127.0.0.1"
    p2p_port: int = DEFAULT_P2P_PORT
    rpc_port: int = DEFAULT_RPC_PORT

    @property
    def slug(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        if not slug:
            raise NetworkConfigError(f"member name {self.name!r} has no letters or digits")
        return slug

    @classmethod
    def parse(cls, text: str, *, index: int = 0) -> MemberSpec:
        """``NAME`` or ``NAME@HOST`` or ``NAME@HOST:P2P_PORT``.

        Without a host, members share 127.0.0.1 and take ports ``30303 + index`` (P2P) and
        ``8545 + index`` (JSON-RPC), so that the kit can also be tried on one machine.
        """
        name, _, where = text.partition("@")
        name = name.strip()
        if not name:
            raise NetworkConfigError(f"--member {text!r}: no name")
        if not where:
            return cls(name, p2p_port=DEFAULT_P2P_PORT + index, rpc_port=DEFAULT_RPC_PORT + index)
        host, _, port = where.rpartition(":") if ":" in where else (where, "", "")
        if not host or any(c.isspace() for c in host):
            raise NetworkConfigError(f"--member {text!r}: bad host")
        try:
            p2p = int(port) if port else DEFAULT_P2P_PORT
        except ValueError as exc:
            raise NetworkConfigError(f"--member {text!r}: bad port {port!r}") from exc
        if not 0 < p2p < 65536:
            raise NetworkConfigError(f"--member {text!r}: port out of range")
        return cls(name, host=host, p2p_port=p2p)


@dataclass(frozen=True)
class _Validator:
    member: MemberSpec
    node_key: KeyPair
    relayer_key: KeyPair

    @property
    def enode(self) -> str:
        return self.node_key.enode(self.member.host, self.member.p2p_port)


@dataclass(frozen=True)
class BesuKit:
    """What :func:`write_besu_kit` wrote."""

    out: Path
    chain_id: int
    validators: list[str]  # checksummed validator addresses, in extraData order
    enodes: list[str]
    accounts: list[str]  # the accounts allowlist
    member_dirs: list[Path]


def qbft_extra_data(validators: Sequence[str], vanity: bytes = b"\0" * 32) -> str:
    """The QBFT genesis extraData for ``validators``: RLP([vanity, [addresses], [], 0, []])."""
    if len(vanity) != 32:
        raise NetworkConfigError("the extraData vanity is exactly 32 bytes")
    addresses = []
    for validator in validators:
        if not is_address(validator):
            raise NetworkConfigError(f"not an address: {validator!r}")
        addresses.append(bytes.fromhex(validator[2:]))
    encoded: bytes = rlp.encode([vanity, addresses, [], 0, []])
    return "0x" + encoded.hex()


def decode_qbft_extra_data(extra: str) -> tuple[bytes, list[str], list[Any], int, list[Any]]:
    """The fields of a QBFT extraData: vanity, validators (checksummed), vote, round, seals."""
    vanity, addresses, vote, round_, seals = rlp.decode(bytes.fromhex(extra.removeprefix("0x")))
    return (
        vanity,
        [to_checksum_address(a) for a in addresses],
        list(vote),
        int.from_bytes(round_, "big"),
        list(seals),
    )


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string for this ASCII content
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[\n" + "".join(f"  {_toml_value(v)},\n" for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def _toml(entries: Sequence[tuple[str, object] | str]) -> str:
    lines = []
    for entry in entries:
        lines.append(entry if isinstance(entry, str) else f"{entry[0]}={_toml_value(entry[1])}")
    return "\n".join(lines) + "\n"


def write_besu_kit(
    out: Path,
    members: Sequence[MemberSpec],
    *,
    chain_id: int = DEFAULT_BESU_CHAIN_ID,
    block_period: int = 2,
    epoch_length: int = 30000,
    request_timeout: int = 4,
    accounts: Sequence[str] = (),
    force: bool = False,
) -> BesuKit:
    """Write the QBFT network kit for ``members`` (one validator each) into ``out``.

    ``accounts`` are extra accounts for the accounts allowlist (besides each validator and each
    member's relayer). Refuses a non-empty ``out`` unless ``force``.
    """
    if len(members) < 1:
        raise NetworkConfigError("a QBFT network needs at least one validator")
    if len(members) < 4:
        log.warning(
            "%d validators tolerate no faulty validator; QBFT tolerates f faults with 3f+1",
            len(members),
        )
    slugs = [m.slug for m in members]
    if len(set(slugs)) != len(slugs):
        raise NetworkConfigError(f"member names must differ (as directories: {slugs})")
    endpoints = [(m.host, m.p2p_port) for m in members]
    if len(set(endpoints)) != len(endpoints):
        raise NetworkConfigError(f"two members share a host and P2P port: {endpoints}")
    if not 1 <= block_period <= 60 or epoch_length < 1 or request_timeout < 1:
        raise NetworkConfigError("block period 1..60 s, epoch length and request timeout >= 1")
    if chain_id <= 0 or chain_id in (1, 31337):
        raise NetworkConfigError(f"chain id {chain_id} is taken (mainnet or anvil)")
    extra_accounts = []
    for account in accounts:
        if not is_address(account):
            raise NetworkConfigError(f"--account {account!r} is not an address")
        extra_accounts.append(to_checksum_address(account))
    if out.exists() and any(out.iterdir()) and not force:
        raise NetworkConfigError(f"{out} is not empty (use --force to write over it)")

    validators = [_Validator(m, KeyPair.generate(), KeyPair.generate()) for m in members]
    addresses = [v.node_key.address for v in validators]
    enodes = [v.enode for v in validators]
    allowed_accounts = list(
        dict.fromkeys([*addresses, *(v.relayer_key.address for v in validators), *extra_accounts])
    )
    genesis = {
        "config": {
            "chainId": chain_id,
            "homesteadBlock": 0,
            "eip150Block": 0,
            "eip155Block": 0,
            "eip158Block": 0,
            "byzantiumBlock": 0,
            "constantinopleBlock": 0,
            "petersburgBlock": 0,
            "istanbulBlock": 0,
            "muirGlacierBlock": 0,
            "berlinBlock": 0,
            "londonBlock": 0,
            "zeroBaseFee": True,
            "qbft": {
                "blockperiodseconds": block_period,
                "epochlength": epoch_length,
                "requesttimeoutseconds": request_timeout,
            },
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": "0x1fffffffffffff",
        "difficulty": "0x1",
        "mixHash": BFT_MIX_HASH,
        "coinbase": "0x0000000000000000000000000000000000000000",
        "extraData": qbft_extra_data(addresses),
        "alloc": {a[2:].lower(): {"balance": hex(FUNDS_WEI)} for a in allowed_accounts},
    }
    permissions = _toml(
        [
            "# Besu local permissioning: only these nodes may connect, only these accounts may",
            "# send transactions. Every member keeps the same file; change it on all nodes.",
            ("nodes-allowlist", enodes),
            ("accounts-allowlist", allowed_accounts),
        ]
    )
    shared = {
        "genesis.json": json.dumps(genesis, indent=2) + "\n",
        "permissions_config.toml": permissions,
        "static-nodes.json": json.dumps(enodes, indent=2) + "\n",
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, text in shared.items():
        (out / name).write_text(text)
    member_dirs = []
    for validator in validators:
        member = validator.member
        member_dir = out / "members" / member.slug
        member_dir.mkdir(parents=True, exist_ok=True)
        for name, text in shared.items():
            (member_dir / name).write_text(text)
        key = member_dir / "key"
        key.write_text("0x" + validator.node_key.private_hex)
        key.chmod(0o600)
        (member_dir / "key.pub").write_text("0x" + validator.node_key.node_id)
        relayer = member_dir / "relayer.key"
        relayer.write_text("0x" + validator.relayer_key.private_hex)
        relayer.chmod(0o600)
        peers = [e for e in enodes if e != validator.enode]
        (member_dir / "config.toml").write_text(
            _toml(
                [
                    f"# Besu node of {member.name} (QBFT validator {validator.node_key.address}).",
                    "# Start it from this directory: besu --config-file=config.toml",
                    ("identity", member.slug),
                    ("data-path", "data"),
                    ("genesis-file", "genesis.json"),
                    ("node-private-key-file", "key"),
                    ("sync-mode", "FULL"),
                    ("min-gas-price", 0),
                    ("revert-reason-enabled", True),
                    "",
                    "# P2P: known peers only",
                    ("p2p-host", member.host),
                    ("p2p-port", member.p2p_port),
                    ("nat-method", "NONE"),
                    ("discovery-enabled", True),
                    ("bootnodes", peers),
                    ("static-nodes-file", "static-nodes.json"),
                    "",
                    "# Local permissioning (nodes and accounts allowlists)",
                    ("permissions-nodes-config-file-enabled", True),
                    ("permissions-nodes-config-file", "permissions_config.toml"),
                    ("permissions-accounts-config-file-enabled", True),
                    ("permissions-accounts-config-file", "permissions_config.toml"),
                    "",
                    "# JSON-RPC for this member's gateway and index (loopback only)",
                    ("rpc-http-enabled", True),
                    ("rpc-http-host", "127.0.0.1"),
                    ("rpc-http-port", member.rpc_port),
                    ("rpc-http-api", list(RPC_APIS)),
                    ("host-allowlist", ["localhost", "127.0.0.1"]),
                ]
            )
        )
        member_dirs.append(member_dir)
    summary = {
        "chain_id": chain_id,
        "consensus": "qbft",
        "block_period_seconds": block_period,
        "validators": [
            {
                "member": v.member.name,
                "directory": str(Path("members") / v.member.slug),
                "address": v.node_key.address,
                "enode": v.enode,
                "relayer": v.relayer_key.address,
                "rpc_port": v.member.rpc_port,
            }
            for v in validators
        ],
        "accounts_allowlist": allowed_accounts,
    }
    (out / "network.json").write_text(json.dumps(summary, indent=2) + "\n")
    log.info("wrote a Besu QBFT kit for %d validators in %s", len(validators), out)
    return BesuKit(
        out=out,
        chain_id=chain_id,
        validators=addresses,
        enodes=enodes,
        accounts=allowed_accounts,
        member_dirs=member_dirs,
    )
