"""Peer systems, deployed on the benchmark node and measured with real transactions.

EAS (Ethereum Attestation Service)
    ``@ethereum-attestation-service/eas-contracts`` 1.9.0, compiled here from the package's
    Solidity sources with the compiler and settings EAS itself builds with: solc 0.8.29 (its
    pinned ``solc`` devDependency, installed as the npm alias ``solc-eas``), optimizer on with
    1,000,000 runs, EVM version ``paris``, ``bytecodeHash: none``, OpenZeppelin 5.3.0. The
    result is byte-identical to the artifacts EAS ships in the package (checked on every run
    and put on record as ``matches_shipped_artifacts``).

TradeTrust DocumentStore
    ``@tradetrust-tt/document-store`` 4.1.1. No version of it (nor of its predecessor
    ``@govtechsg/document-store``, nor ``@trustvc/document-store``) ships Solidity sources:
    the packages ship the vendor's compiled bytecode and ABI in typechain factories. That
    bytecode is deployed as shipped; its compiler (solc 0.8.2) is read from the CBOR
    metadata of the deployed code.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from eth_abi.abi import encode
from web3.contract import Contract

from bench.context import BenchContext, BenchError, Figures, digest
from bench.toolchain import (
    NODE_MODULES,
    collect_sources,
    compile_solcjs,
    factory_artifact,
    solc_version_from_runtime,
    solcjs_version,
)

__all__ = ["EAS_SCHEMA", "EAS_SCHEMA_4", "bench_docstore", "bench_eas"]

log = logging.getLogger("bench.peers")

EAS_PACKAGE = "@ethereum-attestation-service/eas-contracts"
EAS_SOLC_PACKAGE = "solc-eas"
EAS_SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 1_000_000},
    "evmVersion": "paris",
    "metadata": {"bytecodeHash": "none"},
}
# The same three fields that the baseline events carry, so that the figures compare.
EAS_SCHEMA = "bytes32 consignmentId,uint8 step,bytes32 digest"
EAS_SCHEMA_4 = EAS_SCHEMA + ",bytes32 reference"  # one more 32-byte word of data
NO_EXPIRATION = 0
ZERO_UID = b"\x00" * 32
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

DOCSTORE_PACKAGE = "@tradetrust-tt/document-store"
DOCSTORE_FACTORY = f"{DOCSTORE_PACKAGE}/dist/contracts/factories/DocumentStore__factory.js"


def _package_version(package: str) -> str:
    data = json.loads((NODE_MODULES / package / "package.json").read_text())
    version: str = data["version"]
    return version


# -- EAS -------------------------------------------------------------------------------------


def _compile_eas() -> dict[str, dict[str, Any]]:
    package_dir = NODE_MODULES / EAS_PACKAGE
    # Units named as in EAS's own (hardhat) build: contracts/..., @openzeppelin/...
    sources = collect_sources(
        ["contracts/EAS.sol", "contracts/SchemaRegistry.sol"],
        {"contracts/": package_dir / "contracts", "": NODE_MODULES},
    )
    return compile_solcjs(
        EAS_SOLC_PACKAGE,
        sources,
        EAS_SETTINGS,
        {"EAS": "contracts/EAS.sol", "SchemaRegistry": "contracts/SchemaRegistry.sol"},
    )


def _matches_shipped(compiled: dict[str, dict[str, Any]]) -> bool:
    for name, artifact in compiled.items():
        shipped_path = (
            NODE_MODULES / EAS_PACKAGE / "artifacts" / "contracts" / f"{name}.sol" / f"{name}.json"
        )
        shipped = json.loads(shipped_path.read_text())
        for field in ("bytecode", "deployedBytecode"):
            if shipped[field].lower() != artifact[field].lower():
                return False
    return True


def _attestation_data(ctx: BenchContext, index: int, *, extra_word: bool = False) -> Any:
    """AttestationRequestData: recipient, expirationTime, revocable, refUID, data, value.

    The data is the baseline event's (consignment id, step, digest); ``extra_word`` adds
    a fourth 32-byte field (see :data:`EAS_SCHEMA_4`).
    """
    types = ["bytes32", "uint8", "bytes32"]
    values: list[Any] = [digest("consignment", index), 1 + index % 7, digest("documents", index)]
    if extra_word:
        types.append("bytes32")
        values.append(digest("reference", index))
    recipient = ctx.accounts[1].address
    return (recipient, NO_EXPIRATION, True, ZERO_UID, encode(types, values), 0)


def _register(ctx: BenchContext, registry: Contract, schema: str) -> bytes:
    receipt = ctx.transact(registry.functions.register(schema, ZERO_ADDRESS, True))
    registered = registry.events.Registered().process_receipt(receipt)
    if len(registered) != 1:
        raise BenchError("SchemaRegistry.register emitted no Registered event")
    uid: bytes = registered[0]["args"]["uid"]
    return uid


def bench_eas(ctx: BenchContext) -> Figures:
    """Deploy SchemaRegistry + EAS, register a schema; gas of attest and of multiAttest."""
    compiled = _compile_eas()
    ctx.note(
        "eas",
        "compiler",
        {
            "package": f"{EAS_PACKAGE}@{_package_version(EAS_PACKAGE)}",
            "solc": solcjs_version(EAS_SOLC_PACKAGE),
            "settings": EAS_SETTINGS,
            "matches_shipped_artifacts": _matches_shipped(compiled),
        },
    )
    registry, _ = ctx.deploy(
        compiled["SchemaRegistry"]["abi"], compiled["SchemaRegistry"]["bytecode"]
    )
    eas, _ = ctx.deploy(compiled["EAS"]["abi"], compiled["EAS"]["bytecode"], registry.address)
    schema_uid = _register(ctx, registry, EAS_SCHEMA)
    sequence = iter(range(1_000_000))

    def attest(_: int) -> Any:
        return eas.functions.attest((schema_uid, _attestation_data(ctx, next(sequence))))

    single = ctx.median_gas(attest, ctx.sizes.gas_samples, section="eas", key="attest_gas")
    batch = [_attestation_data(ctx, next(sequence)) for _ in range(ctx.sizes.batch)]
    receipt = ctx.transact(eas.functions.multiAttest([(schema_uid, batch)]))
    _check_attested(eas, receipt, ctx.sizes.batch)
    per_item = int(receipt["gasUsed"]) / ctx.sizes.batch
    ctx.note("eas", "schema", EAS_SCHEMA)
    ctx.note("eas", "batch", ctx.sizes.batch)
    ctx.note("eas", "multiattest_total_gas", int(receipt["gasUsed"]))

    # EAS stores every attestation, ~22,100 gas per 32-byte word of data: the same two
    # measurements with one more word, on record to show how the figures scale with it.
    schema4_uid = _register(ctx, registry, EAS_SCHEMA_4)
    receipt = ctx.transact(
        eas.functions.attest((schema4_uid, _attestation_data(ctx, next(sequence), extra_word=True)))
    )
    batch4 = [
        _attestation_data(ctx, next(sequence), extra_word=True) for _ in range(ctx.sizes.batch)
    ]
    receipt4 = ctx.transact(eas.functions.multiAttest([(schema4_uid, batch4)]))
    _check_attested(eas, receipt4, ctx.sizes.batch)
    ctx.note(
        "eas",
        "with_fourth_word",
        {
            "schema": EAS_SCHEMA_4,
            "attest_gas": int(receipt["gasUsed"]),
            "multiattest_gas_per_item": int(receipt4["gasUsed"]) / ctx.sizes.batch,
        },
    )
    return {"eas_gas_attest": single, "eas_gas_multiattest100": per_item}


def _check_attested(eas: Contract, receipt: Any, expected: int) -> None:
    attested = eas.events.Attested().process_receipt(receipt)
    if len(attested) != expected:
        raise BenchError(f"multiAttest emitted {len(attested)} Attested events, not {expected}")


# -- TradeTrust DocumentStore ----------------------------------------------------------------


def bench_docstore(ctx: BenchContext) -> Figures:
    """Deploy TradeTrust's DocumentStore as shipped; gas of issue and of bulkIssue."""
    artifact = factory_artifact(DOCSTORE_FACTORY)
    store, _ = ctx.deploy(
        artifact["abi"], artifact["bytecode"], "Bench DocumentStore", ctx.deployer.address
    )
    runtime = bytes(ctx.w3.eth.get_code(store.address))
    ctx.note(
        "docstore",
        "compiler",
        {
            "package": f"{DOCSTORE_PACKAGE}@{_package_version(DOCSTORE_PACKAGE)}",
            "solc": solc_version_from_runtime(runtime),
            "build": "vendor bytecode as shipped in the package (no Solidity sources shipped)",
        },
    )

    def issue(i: int) -> Any:
        return store.functions.issue(digest("certificate", i))

    single = ctx.median_gas(issue, ctx.sizes.gas_samples, section="docstore", key="issue_gas")
    documents = [digest("bulk certificate", i) for i in range(ctx.sizes.batch)]
    receipt = ctx.transact(store.functions.bulkIssue(documents))
    issued = store.events.DocumentIssued().process_receipt(receipt)
    if len(issued) != ctx.sizes.batch:
        raise BenchError(f"bulkIssue emitted {len(issued)} DocumentIssued events")
    if not store.functions.isIssued(documents[-1]).call():
        raise BenchError("DocumentStore does not report the last bulk-issued document")
    return {
        "docstore_gas_issue": single,
        "docstore_gas_bulkissue100": int(receipt["gasUsed"]) / ctx.sizes.batch,
    }
