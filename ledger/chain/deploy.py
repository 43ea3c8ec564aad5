"""Deploy the contract suite, or attach to a deployment recorded in a manifest.

A deployment manifest per chain (``<data_dir>/deployments/<chain id>.json``) records the chain
id, each contract's address and the keccak of its on-chain code, the deployment block and
transactions, the deployer and the compiler. Deploying again against the same chain re-uses a
recorded deployment whose code is still on chain and matches the current build; a manifest
whose code is not on chain (a reset node, another network) is refused with a message that says
so, and so is one whose code is an older build, unless a fresh deployment is asked for.

Deployment order and constructor wiring::

    Membership(administrations, relayers, threshold)
    Consignments(membership)
    Certificates(membership, consignments)
    Attestations(membership)
    AeoRegistry(membership)
    Declarations(membership)
    EpcisCaptures(membership)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3

from ledger.chain.toolchain import Artifact, load_artifact, load_build_info
from ledger.chain.txmanager import TxManager
from ledger.errors import DeploymentError, ManifestMismatch

__all__ = [
    "SUITE",
    "Bootstrap",
    "BootstrapAdministration",
    "ContractRecord",
    "Deployment",
    "deploy_suite",
    "ensure_deployment",
    "manifest_path",
    "recorded_deployment",
    "verify_deployment",
]

log = logging.getLogger("ledger.chain.deploy")

MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class BootstrapAdministration:
    """A customs administration that governs from the first block, with its first key."""

    org_id: bytes
    country: str
    key: str
    valid_from: int
    valid_until: int


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """The constructor arguments of Membership."""

    administrations: tuple[BootstrapAdministration, ...]
    relayers: tuple[str, ...]
    threshold: int

    def membership_args(self) -> tuple[Any, ...]:
        admins = [
            (
                a.org_id,
                a.country.encode("ascii"),
                to_checksum_address(a.key),
                a.valid_from,
                a.valid_until,
            )
            for a in self.administrations
        ]
        return (admins, [to_checksum_address(r) for r in self.relayers], self.threshold)


# (contract name, constructor argument builder from (bootstrap, addresses deployed so far))
ArgsBuilder = Callable[[Bootstrap, Mapping[str, str]], tuple[Any, ...]]
SUITE: tuple[tuple[str, ArgsBuilder], ...] = (
    ("Membership", lambda b, _: b.membership_args()),
    ("Consignments", lambda _, a: (a["Membership"],)),
    ("Certificates", lambda _, a: (a["Membership"], a["Consignments"])),
    ("Attestations", lambda _, a: (a["Membership"],)),
    ("AeoRegistry", lambda _, a: (a["Membership"],)),
    ("Declarations", lambda _, a: (a["Membership"],)),
    ("EpcisCaptures", lambda _, a: (a["Membership"],)),
)


@dataclass(frozen=True, slots=True)
class ContractRecord:
    address: str
    code_hash: str  # keccak256 of the runtime code on chain
    tx_hash: str
    block: int


@dataclass(frozen=True, slots=True)
class Deployment:
    """A deployed suite, as recorded in its manifest."""

    chain_id: int
    block: int
    contracts: dict[str, ContractRecord]
    deployer: str
    compiler: str
    deployed_at: int
    version: int = MANIFEST_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError:
            raise DeploymentError(f"the deployment has no contract named {name}") from None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        data = json.loads(text)
        contracts = {name: ContractRecord(**rec) for name, rec in data.pop("contracts").items()}
        return cls(contracts=contracts, **data)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            return cls.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DeploymentError(f"cannot read deployment manifest {path}: {exc}") from exc

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)


def manifest_path(data_dir: Path, chain_id: int) -> Path:
    return data_dir / "deployments" / f"{chain_id}.json"


def _code_hash(code: bytes) -> str:
    return "0x" + keccak(code).hex()


def verify_deployment(w3: Web3, deployment: Deployment, *, source: str = "the manifest") -> None:
    """Check that every contract of ``deployment`` is on this chain and is the current build.

    Raises :class:`ManifestMismatch` when code is missing or differs from the manifest, and
    :class:`DeploymentError` when it is an older build than the artifacts.
    """
    chain_id = w3.eth.chain_id
    if chain_id != deployment.chain_id:
        raise ManifestMismatch(
            f"{source} is for chain id {deployment.chain_id}, but the node reports {chain_id}"
        )
    for name, _ in SUITE:
        if name not in deployment.contracts:
            raise ManifestMismatch(
                f"{source} has no {name} contract: it records an older suite than this "
                "version's. Deploy afresh (`ledger deploy --fresh`; for the local demo, remove "
                "the data directory and `make run` again)"
            )
        record = deployment.contracts[name]
        code = bytes(w3.eth.get_code(to_checksum_address(record.address)))
        if not code:
            raise ManifestMismatch(
                f"{source} names {name} at {record.address}, but chain {chain_id} has no code "
                "there: the chain was reset or this is another network. Deploy afresh "
                "(`ledger deploy --fresh`) or point at the chain the manifest belongs to."
            )
        if _code_hash(code) != record.code_hash:
            raise ManifestMismatch(
                f"{source} names {name} at {record.address}, but the code there does not "
                "match the code hash it recorded"
            )
        if not load_artifact(name).runtime_matches(code):
            raise DeploymentError(
                f"{name} at {record.address} is an older build than ledger/artifacts: "
                "deploy afresh with `ledger deploy --fresh`"
            )


def _constructor_data(artifact: Artifact, args: tuple[Any, ...]) -> bytes:
    constructor = next((e for e in artifact.abi if e["type"] == "constructor"), None)
    if constructor is None:
        return artifact.bytecode
    types = [_abi_type(i) for i in constructor["inputs"]]
    return artifact.bytecode + encode(types, list(args))


def _abi_type(param: Mapping[str, Any]) -> str:
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


def deploy_suite(
    w3: Web3, tx: TxManager, bootstrap: Bootstrap, *, names: Sequence[str] | None = None
) -> Deployment:
    """Deploy every contract of :data:`SUITE` in order; returns the new deployment."""
    addresses: dict[str, str] = {}
    records: dict[str, ContractRecord] = {}
    wanted = set(names) if names is not None else None
    for name, build_args in SUITE:
        if wanted is not None and name not in wanted:
            continue
        artifact = load_artifact(name)
        data = _constructor_data(artifact, build_args(bootstrap, addresses))
        receipt = tx.send_and_wait({"data": "0x" + data.hex()})
        if not receipt.succeeded or receipt.contract_address is None:
            raise DeploymentError(f"deploying {name} failed in transaction {receipt.tx_hash}")
        address = to_checksum_address(receipt.contract_address)
        code = bytes(w3.eth.get_code(address))
        addresses[name] = address
        records[name] = ContractRecord(
            address=address,
            code_hash=_code_hash(code),
            tx_hash=receipt.tx_hash,
            block=receipt.block_number,
        )
        log.info("deployed %s at %s (block %d)", name, address, receipt.block_number)
    info = load_build_info()
    return Deployment(
        chain_id=w3.eth.chain_id,
        block=min(r.block for r in records.values()),
        contracts=records,
        deployer=tx.address,
        compiler=str(info["compiler"]["build"]),
        deployed_at=int(time.time()),
    )


def recorded_deployment(w3: Web3, *, data_dir: Path) -> Deployment | None:
    """The deployment recorded for this chain in ``data_dir``, checked against the chain.

    ``None`` when there is no manifest for the chain; raises like :func:`verify_deployment`
    when there is one whose code is missing, differs, or is an older build.
    """
    path = manifest_path(data_dir, w3.eth.chain_id)
    if not path.is_file():
        return None
    deployment = Deployment.load(path)
    verify_deployment(w3, deployment, source=f"manifest {path}")
    return deployment


def ensure_deployment(
    w3: Web3,
    tx: TxManager,
    bootstrap: Bootstrap | Callable[[], Bootstrap],
    *,
    data_dir: Path,
    fresh: bool = False,
) -> tuple[Deployment, bool]:
    """Re-use the recorded deployment of this chain, or deploy one and record it.

    ``bootstrap`` may be a function that gives it: it is called only when a deployment is
    made, so that re-using one needs no bootstrap. Returns the deployment and whether it was
    deployed now.
    """
    if not fresh:
        existing = recorded_deployment(w3, data_dir=data_dir)
        if existing is not None:
            log.info(
                "re-using the deployment recorded in %s", manifest_path(data_dir, w3.eth.chain_id)
            )
            return existing, False
    args = bootstrap if isinstance(bootstrap, Bootstrap) else bootstrap()
    path = manifest_path(data_dir, w3.eth.chain_id)
    deployment = deploy_suite(w3, tx, args)
    verify_deployment(w3, deployment, source="the new deployment")
    deployment.save(path)
    log.info("deployment recorded in %s", path)
    return deployment, True
