"""Checking a proof bundle against any node: :func:`verify_bundle`.

The checks in order, each failure a finding (see :mod:`ledger.verify.bundle`, "What
verify_bundle checks"): the format, the chain and anchor block, the contract code, every log
against its receipt and its decoded record, completeness (:mod:`.completeness`), the signing
keys, the hash chain.

============================== ======== ====================================================
code                           severity meaning
============================== ======== ====================================================
``BUNDLE_MALFORMED``           critical a proof bundle lacks, adds or mistypes a field
``BUNDLE_CHAIN_MISMATCH``      critical the node is another chain than the bundle's
``BUNDLE_BLOCK_MISMATCH``      critical a block hash in the bundle is not the chain's
``BUNDLE_LOG_NOT_FOUND``       critical no such log at that transaction and log index
``BUNDLE_LOG_MISMATCH``        critical log on chain differs (address, topics, data)
``BUNDLE_RECORD_MISMATCH``     critical the decoded record differs from the log's data
``BUNDLE_HEAD_MISMATCH``       critical the recomputed hash chain differs from the head
``BUNDLE_SIGNER_UNPROVEN``     critical no key-registration log binds a signer to its org
``BUNDLE_CODE_MISMATCH``       critical contract code at an address is not the built contract
============================== ======== ====================================================
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import TransactionNotFound

from ledger.chain import contract_abi, load_artifact
from ledger.index import event_digest, next_head, registration_digest
from ledger.records import Domain, consignment_id
from ledger.verify.bundle import completeness
from ledger.verify.bundle.scope import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    CONTRACTS,
    LOG_KEYS,
    SIGNING_ORG,
    TOP_KEYS,
    decode_record,
    hexstr,
    log_evidence,
)
from ledger.verify.findings import (
    Check,
    Evidence,
    Finding,
    FindingSpec,
    Severity,
    Verdict,
    status_of,
)

__all__ = ["FINDINGS", "verify_bundle"]

log = logging.getLogger("ledger.verify.engine")

BUNDLE_MALFORMED = FindingSpec("BUNDLE_MALFORMED", Severity.CRITICAL, "Proof bundle malformed")
BUNDLE_CHAIN_MISMATCH = FindingSpec(
    "BUNDLE_CHAIN_MISMATCH", Severity.CRITICAL, "Proof bundle is for another chain"
)
BUNDLE_BLOCK_MISMATCH = FindingSpec(
    "BUNDLE_BLOCK_MISMATCH", Severity.CRITICAL, "Proof bundle block hash differs"
)
BUNDLE_LOG_NOT_FOUND = FindingSpec(
    "BUNDLE_LOG_NOT_FOUND", Severity.CRITICAL, "Proof bundle log not on chain"
)
BUNDLE_LOG_MISMATCH = FindingSpec(
    "BUNDLE_LOG_MISMATCH", Severity.CRITICAL, "Proof bundle log differs from the chain"
)
BUNDLE_RECORD_MISMATCH = FindingSpec(
    "BUNDLE_RECORD_MISMATCH", Severity.CRITICAL, "Proof bundle record differs from its log"
)
BUNDLE_HEAD_MISMATCH = FindingSpec(
    "BUNDLE_HEAD_MISMATCH", Severity.CRITICAL, "Proof bundle hash chain differs"
)
BUNDLE_CODE_MISMATCH = FindingSpec(
    "BUNDLE_CODE_MISMATCH", Severity.CRITICAL, "Contract code differs from the build"
)
BUNDLE_SIGNER_UNPROVEN = FindingSpec(
    "BUNDLE_SIGNER_UNPROVEN", Severity.CRITICAL, "Proof bundle signer key unproven"
)
FINDINGS = (
    BUNDLE_MALFORMED,
    BUNDLE_CHAIN_MISMATCH,
    BUNDLE_BLOCK_MISMATCH,
    BUNDLE_LOG_NOT_FOUND,
    BUNDLE_LOG_MISMATCH,
    BUNDLE_RECORD_MISMATCH,
    BUNDLE_HEAD_MISMATCH,
    BUNDLE_CODE_MISMATCH,
    BUNDLE_SIGNER_UNPROVEN,
)


class _Malformed(Exception):
    pass


def _need(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise _Malformed(f"{where}.{key} is missing")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Malformed(f"{where}.{key} has the wrong type")
    return value


def _bytes(value: Any, where: str, size: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise _Malformed(f"{where} must be 0x-hex")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise _Malformed(f"{where} must be 0x-hex") from None
    if size is not None and len(raw) != size:
        raise _Malformed(f"{where} must be {size} bytes")
    return raw


def _exact_keys(data: Mapping[str, Any], keys: set[str], where: str) -> None:
    missing, extra = keys - set(data), set(data) - keys
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(sorted(missing)))
        if extra:
            parts.append("unexpected " + ", ".join(sorted(extra)))
        raise _Malformed(f"{where}: " + "; ".join(parts))


def _verdict(
    findings: list[Finding], checks: list[Check], block: int, cid: bytes | None, at: int
) -> Verdict:
    return Verdict(
        status=status_of(findings),
        subject="proof bundle" + ("" if cid is None else f" of consignment {hexstr(cid)}"),
        findings=tuple(findings),
        checks=tuple(checks),
        at=at,
        block_number=block,
        consignment_id=cid,
    )


def verify_bundle(bundle: Mapping[str, Any], w3: Web3) -> Verdict:
    """Check a proof bundle against the node behind ``w3`` (see the module docstring)."""
    started = time.perf_counter()
    findings: list[Finding] = []
    checks: list[Check] = []
    try:
        _exact_keys(bundle, TOP_KEYS, "bundle")
        if bundle["format"] != BUNDLE_FORMAT or bundle["version"] != BUNDLE_VERSION:
            raise _Malformed(f"not a {BUNDLE_FORMAT} version {BUNDLE_VERSION} file")
        chain_id = _need(bundle, "chain_id", int, "bundle")
        block_info = _need(bundle, "block", dict, "bundle")
        _exact_keys(block_info, {"number", "hash"}, "block")
        block = _need(block_info, "number", int, "block")
        block_hash = _bytes(block_info["hash"], "block.hash", 32)
        contracts = _need(bundle, "contracts", dict, "bundle")
        _exact_keys(contracts, set(CONTRACTS), "contracts")
        addresses: dict[str, str] = {}
        code_hashes: dict[str, bytes] = {}
        for name in CONTRACTS:
            entry = _need(contracts, name, dict, "contracts")
            _exact_keys(entry, {"address", "code_hash"}, f"contracts.{name}")
            addresses[name] = to_checksum_address(_bytes(entry["address"], f"{name}.address", 20))
            code_hashes[name] = _bytes(entry["code_hash"], f"{name}.code_hash", 32)
        cons = _need(bundle, "consignment", dict, "bundle")
        _exact_keys(cons, {"id", "head", "event_count"}, "consignment")
        cid = _bytes(cons["id"], "consignment.id", 32)
        claimed_head = _bytes(cons["head"], "consignment.head", 28)
        claimed_count = _need(cons, "event_count", int, "consignment")
        entries = _need(bundle, "logs", list, "bundle")
        for n, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise _Malformed(f"logs[{n}] is not an object")
            _exact_keys(entry, LOG_KEYS, f"logs[{n}]")
            for key in ("block_number", "tx_index", "log_index", "block_time"):
                _need(entry, key, int, f"logs[{n}]")
            for key in ("contract", "event", "address", "data", "block_hash", "tx_hash"):
                _need(entry, key, str, f"logs[{n}]")
            _need(entry, "topics", list, f"logs[{n}]")
            _need(entry, "record", dict, f"logs[{n}]")
        positions = [(e["block_number"], e["log_index"]) for e in entries]
        if positions != sorted(set(positions)):
            raise _Malformed("logs are not in chain order or are listed twice")
    except _Malformed as exc:
        findings.append(BUNDLE_MALFORMED.finding(f"The proof bundle is malformed: {exc}."))
        checks.append(Check("bundle format", "failed", str(exc)))
        return _verdict(findings, checks, 0, None, 0)
    checks.append(Check("bundle format", "passed"))

    # chain and anchor block
    node_chain = w3.eth.chain_id
    if node_chain != chain_id:
        findings.append(
            BUNDLE_CHAIN_MISMATCH.finding(
                f"The bundle is for chain {chain_id}; the node serves chain {node_chain}.",
            )
        )
        return _verdict(findings, checks, block, cid, 0)
    try:
        header = w3.eth.get_block(block)
    except Exception:  # web3 raises BlockNotFound or a provider error
        header = None
    if header is None or bytes(header["hash"]) != block_hash:
        findings.append(
            BUNDLE_BLOCK_MISMATCH.finding(
                f"The node's block {block} is not the block {hexstr(block_hash)} the bundle "
                "was anchored at (another chain, a reorganisation, or an edited bundle).",
                [Evidence("block", hexstr(block_hash), None, block)],
            )
        )
        return _verdict(findings, checks, block, cid, 0)
    at = int(header["timestamp"])
    checks.append(Check("chain id and anchor block", "passed"))

    # contract code
    before = len(findings)
    for name in CONTRACTS:
        code = bytes(w3.eth.get_code(addresses[name], block))  # type: ignore[arg-type]
        if keccak(code) != code_hashes[name] or not load_artifact(name).runtime_matches(code):
            findings.append(
                BUNDLE_CODE_MISMATCH.finding(
                    f"The code at {addresses[name]} is not the {name} contract of this build "
                    "(or not the code the bundle recorded): its logs prove nothing.",
                    [Evidence("contract", addresses[name], None, block)],
                )
            )
    if len(findings) > before:  # the logs and state of other code prove nothing
        checks.append(Check("contract code", "failed"))
        return _verdict(findings, checks, block, cid, at)
    checks.append(Check("contract code", "passed"))

    # logs against receipts
    before = len(findings)
    by_address = {a.lower(): n for n, a in addresses.items()}
    receipts: dict[str, Any] = {}
    times: dict[int, int] = {block: at}
    verified_logs: list[tuple[tuple[str, str, list[bytes], bytes], dict[str, Any]]] = []
    for entry in entries:
        evidence = log_evidence(entry)
        try:
            topics = [_bytes(t, "topic", 32) for t in entry["topics"]]
            data = _bytes(entry["data"], "data")
            tx_hash = _bytes(entry["tx_hash"], "tx_hash", 32)
        except _Malformed as exc:
            findings.append(BUNDLE_MALFORMED.finding(f"A log: {exc}.", [evidence]))
            continue
        contract = by_address.get(entry["address"].lower())
        if contract is None or contract != entry["contract"]:
            findings.append(
                BUNDLE_LOG_MISMATCH.finding(
                    f"A log names address {entry['address']} as {entry['contract']}, which is "
                    "not that contract of the bundle's suite.",
                    [evidence],
                )
            )
            continue
        if entry["block_number"] > block:
            findings.append(
                BUNDLE_LOG_MISMATCH.finding(
                    f"A log is dated block {entry['block_number']}, after the bundle's block "
                    f"{block}.",
                    [evidence],
                )
            )
            continue
        key = hexstr(tx_hash)
        if key not in receipts:
            try:
                receipts[key] = w3.eth.get_transaction_receipt(key)  # type: ignore[arg-type]
            except TransactionNotFound:
                receipts[key] = None
        receipt = receipts[key]
        onchain = None
        if receipt is not None:
            onchain = next(
                (lg for lg in receipt["logs"] if int(lg["logIndex"]) == entry["log_index"]), None
            )
        if onchain is None:
            findings.append(
                BUNDLE_LOG_NOT_FOUND.finding(
                    f"Transaction {key} has no log {entry['log_index']} on this chain.",
                    [evidence],
                )
            )
            continue
        differences = []
        if to_checksum_address(onchain["address"]) != to_checksum_address(entry["address"]):
            differences.append("address")
        if [bytes(t) for t in onchain["topics"]] != topics:
            differences.append("topics")
        if bytes(onchain["data"]) != data:
            differences.append("data")
        if int(onchain["blockNumber"]) != entry["block_number"]:
            differences.append("block number")
        if bytes(onchain["blockHash"]) != _bytes(entry["block_hash"], "block_hash", 32):
            differences.append("block hash")
        if int(onchain["transactionIndex"]) != entry["tx_index"]:
            differences.append("transaction index")
        number = entry["block_number"]
        if number not in times:
            times[number] = int(w3.eth.get_block(number)["timestamp"])
        if times[number] != entry["block_time"]:
            differences.append("block time")
        if differences:
            findings.append(
                BUNDLE_LOG_MISMATCH.finding(
                    f"The {entry['event']} log differs from the chain in: "
                    + ", ".join(differences)
                    + ".",
                    [evidence],
                )
            )
            continue
        # The raw log is proven by its receipt: it counts for the hash chain and the signers
        # even when its human-readable part (label, record) was edited, which is reported.
        expected_event = contract_abi(contract).events.get(topics[0]) if topics else None
        if expected_event is None:
            findings.append(
                BUNDLE_RECORD_MISMATCH.finding(
                    f"The log at {key}:{entry['log_index']} is not an event of {contract}.",
                    [evidence],
                )
            )
            continue
        expected = decode_record(contract, topics, data)
        if expected_event.name != entry["event"]:
            findings.append(
                BUNDLE_RECORD_MISMATCH.finding(
                    f"The log is labelled {entry['event']} but is a {expected_event.name} log.",
                    [evidence],
                )
            )
        elif expected != entry["record"]:
            changed = sorted(
                k
                for k in set(entry["record"]) | set(expected)
                if entry["record"].get(k) != expected.get(k)
            )
            findings.append(
                BUNDLE_RECORD_MISMATCH.finding(
                    f"The decoded {entry['event']} record differs from its log in: "
                    + ", ".join(changed)
                    + ".",
                    [evidence],
                )
            )
        verified_logs.append(((contract, expected_event.name, topics, data), entry))
    checks.append(Check("logs against receipts", "failed" if len(findings) > before else "passed"))

    # completeness: the bundle's logs are exactly the node's logs of the bundle's scope
    found, in_scope = completeness.node_log_findings(
        w3, addresses, block, cid, [entry for _, entry in verified_logs]
    )
    findings.extend(found)
    checks.append(
        Check(
            "completeness (eth_getLogs)",
            "failed" if found else "passed",
            f"{in_scope} logs in scope",
        )
    )

    # state: the outcome the carried logs add up to is the contracts' state at the bundle's block
    before = len(findings)
    findings.extend(
        completeness.state_findings(w3, addresses, block, [lg for lg, _ in verified_logs])
    )
    checks.append(
        Check("state at the anchor block", "failed" if len(findings) > before else "passed")
    )

    # signers: every signed record's key is bound to its organisation by a SigningKeyAdded log
    before = len(findings)
    bound: set[tuple[bytes, bytes]] = set()
    signed: list[tuple[str, bytes, bytes, Evidence]] = []
    for (contract, event, topics, data), entry in verified_logs:
        args = contract_abi(contract).events[topics[0]].decode(topics, data)
        if event == "SigningKeyAdded":
            bound.add((bytes(args["orgId"]), bytes.fromhex(str(args["key"])[2:])))
        elif event in SIGNING_ORG:
            signer = bytes.fromhex(str(args["signer"])[2:])
            signed.append((event, bytes(args[SIGNING_ORG[event]]), signer, log_evidence(entry)))
    for event, org, signer, evidence in signed:
        if (org, signer) not in bound:
            findings.append(
                BUNDLE_SIGNER_UNPROVEN.finding(
                    f"The {event} record was signed by key {to_checksum_address(signer)} for "
                    f"organisation {hexstr(org)}, but the bundle holds no log that registered "
                    "that key for that organisation.",
                    [evidence],
                )
            )
    checks.append(Check("signing keys", "failed" if len(findings) > before else "passed"))

    # hash chain
    before = len(findings)
    domain = Domain.for_contract(
        "Consignments", chain_id=chain_id, address=addresses["Consignments"]
    )
    separator = domain.separator
    head: bytes | None = None
    count = 0
    problem = ""
    for (contract, event, topics, data), _ in verified_logs:
        if contract != "Consignments" or len(topics) < 2 or topics[1] != cid:
            continue
        args = contract_abi("Consignments").events[topics[0]].decode(topics, data)
        if event == "ConsignmentRegistered":
            if cid != consignment_id(bytes(args["referenceHash"]), registrant=bytes(topics[2])):
                problem = problem or "the consignment id is not the registrant's for its reference"
            head = next_head(
                bytes(28),
                registration_digest(
                    separator,
                    reference_hash=bytes(args["referenceHash"]),
                    origin=bytes(args["origin"]),
                    destination=bytes(args["destination"]),
                    consignor=bytes(args["consignor"]),
                    consignee=bytes(args["consignee"]),
                    deadline=int(args["deadline"]),
                ),
                # the step commits to the log's registrant and signer topics
                org_id=bytes(topics[2]),
                signer=bytes(topics[3])[12:],
            )
            if bytes(args["head"]) != head:
                problem = problem or "the registration's head does not recompute"
        elif event == "ConsignmentEventRecorded":
            if head is None:
                problem = problem or "an event comes before the registration"
                continue
            head = next_head(
                head,
                event_digest(
                    separator,
                    consignment_id=cid,
                    meta=bytes(args["meta"]),
                    seal_digest=bytes(args["sealDigest"]),
                    documents_digest=bytes(args["documentsDigest"]),
                    epcis_event_hash=bytes(args["epcisEventHash"]),
                ),
                org_id=bytes(topics[2]),
                signer=bytes(topics[3])[12:],
            )
            count += 1
            if bytes(args["head"]) != head or int(args["eventCount"]) != count:
                problem = problem or (
                    f"event #{int(args['eventCount'])} does not follow the events before it in "
                    "the bundle (an event is missing or out of order)"
                )
    fn = contract_abi("Consignments").fn("head")
    raw = w3.eth.call(
        {"to": addresses["Consignments"], "data": hexstr(fn.encode(cid))},  # type: ignore[typeddict-item]
        block,
    )
    out = fn.decode_output(bytes(raw))
    chain_head, chain_count = bytes(out["head_"]), int(out["eventCount"])
    if head is None:
        problem = problem or "the bundle has no registration of the consignment"
    elif head != claimed_head or count != claimed_count:
        problem = problem or (
            f"the logs fold to head {hexstr(head)} after {count} events, the bundle states "
            f"{hexstr(claimed_head)} after {claimed_count}"
        )
    if not problem and (chain_head != claimed_head or chain_count != claimed_count):
        problem = (
            f"the chain's head at block {block} is {hexstr(chain_head)} after {chain_count} "
            f"events, the bundle states {hexstr(claimed_head)} after {claimed_count}"
        )
    if problem:
        findings.append(
            BUNDLE_HEAD_MISMATCH.finding(
                f"The consignment's hash chain does not verify: {problem}.",
                [Evidence("head", hexstr(chain_head), None, block)],
            )
        )
    checks.append(Check("hash chain", "failed" if len(findings) > before else "passed"))
    verdict = _verdict(findings, checks, block, cid, at)
    log.info(
        "proof bundle of %s: %s (%d logs) in %.3f s",
        hexstr(cid),
        verdict.status,
        len(entries),
        time.perf_counter() - started,
    )
    return verdict
