"""Proof bundles: a consignment's on-chain evidence in one JSON file, checkable against any node.

    bundle = export_bundle(index, consignment_id)      # from the index, anchored at its block
    write_bundle(bundle, path)
    verdict = verify_bundle(load_bundle(path), w3)      # any node: no gateway, no index

**What a bundle holds** (``format`` ``customs-ledger/proof-bundle``, ``version`` 1)::

    chain_id      the chain's id
    block         {number, hash}: the block at which the head is asserted
    contracts     {name: {address, code_hash}} for the five contracts (code_hash: keccak256 of the
                  runtime code at that block)
    consignment   {id, head, event_count}: Consignments.head(id) at ``block``
    logs          every log of the consignment's scope (below), in chain order, each
                  {contract, event, address, topics, data, block_number, block_hash, tx_hash,
                  tx_index, log_index, block_time, record}

**Scope**: the logs a bundle holds, defined by indexed topics alone (:func:`bundle_scope`), so
that the node can be asked for the same set:

1. ``Consignments`` logs with the consignment id (registration and events);
2. ``QuantityDrawn`` logs with the consignment id (its drawdowns), which name its certificates;
3. every ``CertificateIssued``, ``CertificateRevoked`` and ``QuantityDrawn`` log of those
   certificates (drawdowns by *other* consignments included);
4. ``Attested`` logs whose subject is the consignment, one of its certificates, or an
   attestation found so far (repeated until no new one), and the ``AttestationRevoked`` logs of
   all of them;
5. for every signed record above, the ``OrganisationAdmitted``, ``OrganisationSuspended`` and
   ``OrganisationReinstated`` logs of its organisation and the ``SigningKeyAdded`` and
   ``SigningKeyRevoked`` logs of its key.

``record`` is the log decoded with the contracts' ABI (ids and digests as 0x-hex, the signer's
key address included: the chain proves who signed through the contract's signature check and
the log carries the recovered signer; the 65-byte signatures of events are calldata, not logs,
so the bundle carries the signer address, not the signature). Consignment events also carry
``fields``: the packed ``meta`` word unpacked (CBV step and disposition words, UN/LOCODE, time,
container, nonce, deadline).

**What** :func:`verify_bundle` **checks**, each failure a finding of :mod:`ledger.verify.engine`:

* the bundle has exactly the fields above, well typed (``BUNDLE_MALFORMED``);
* the node's chain id is the bundle's (``BUNDLE_CHAIN_MISMATCH``) and its block at
  ``block.number`` has ``block.hash`` (``BUNDLE_BLOCK_MISMATCH``);
* the code at each contract address, at that block, hashes to ``code_hash`` and is the runtime
  code of the build artifacts, immutables aside (``BUNDLE_CODE_MISMATCH``, which ends the
  check: the logs and state of other code prove nothing);
* every log is in its transaction's receipt (``eth_getTransactionReceipt``) at its log index
  (``BUNDLE_LOG_NOT_FOUND``) with the same address, topics, data, block number, block hash and
  block time, from a suite contract, at or before the bundle's block (``BUNDLE_LOG_MISMATCH``);
* every ``record`` is exactly the decoding of its log (``BUNDLE_RECORD_MISMATCH``);
* every signed record's key is bound to the record's organisation by a verified
  ``SigningKeyAdded`` log in the bundle (``BUNDLE_SIGNER_UNPROVEN``);
* the hash chain recomputed from the registration and event logs matches each event's emitted
  head, the bundle's head and count, and ``Consignments.head(id)`` at the bundle's block
  (``BUNDLE_HEAD_MISMATCH``);
* **completeness**, in two legs:

  - *the node's logs*: the scope is computed again from the node alone, each filter an
    ``eth_getLogs`` by address, event topics and the indexed id, from block 0 to the bundle's
    block (the range halved when the node refuses it as too wide), and the bundle's proven
    logs must be that set exactly: a log the node has and the bundle lacks is
    ``BUNDLE_INCOMPLETE`` (a hidden certificate revocation, drawdown by another consignment,
    attestation, attestation revocation, key revocation or member suspension), a proven log
    outside the scope is ``BUNDLE_LOG_UNRELATED``;
  - *the contracts' state* at the bundle's block (``eth_call``): each certificate's status and
    drawn total, each attestation's and key's revocation, each member's status must be what
    the bundle's logs add up to (``BUNDLE_INCOMPLETE``).

The logs are the proof of completeness; the state is the cross-check. Logs prove more: the
contracts emit one for every change ("every change an event"), a filter by indexed id lists
them all, while state shows only the outcome (it cannot list the attestations on a
consignment, and a suspension hidden together with the reinstatement that followed leaves it
unchanged). State holds where a node's log filter fails (log filters have had bugs; a node
that drops a log from ``eth_getLogs`` still has its effect in state). Events are proven
complete by the head as well. Both legs trust the node as much as the rest of the check does.
The filters start at block 0 (a hidden attestation or certificate log may be older than anything
the bundle carries): on Besu, give the node a verifier uses ``--rpc-max-logs-range=0``, or the
check walks a long chain in pieces of the node's limit (5,000 blocks by default).

So changing any field of a bundle, adding a log or removing one makes one of these checks
fail, and the finding says which. What a bundle does not prove: anything outside its scope, in
particular AEO certifications and MRAs (it carries none: ask the node's ``recognition`` view,
``ledger verify``), attestations on the signing organisations or that only refer to one of
its attestations (``refUid`` is not indexed), the schemas of its attestations, and the keys
that signed key additions.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from sqlalchemy import select
from web3 import Web3
from web3.exceptions import TransactionNotFound, Web3RPCError

from ledger.chain import contract_abi, load_artifact
from ledger.errors import InvalidBundle
from ledger.index import Index, RawLog, event_digest, next_head, raw_logs, registration_digest
from ledger.records import BUSINESS_STEP_CODES, DISPOSITION_CODES, ConsignmentEvent, Domain
from ledger.verify.engine import (
    Check,
    Evidence,
    Finding,
    Verdict,
    make_finding,
    status_of,
)

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "bundle_scope",
    "export_bundle",
    "load_bundle",
    "verify_bundle",
    "write_bundle",
]

log = logging.getLogger("ledger.verify.engine")

BUNDLE_FORMAT = "customs-ledger/proof-bundle"
BUNDLE_VERSION = 1
CONTRACTS = ("Membership", "Consignments", "Certificates", "Attestations", "AeoRegistry")
_TOP_KEYS = {"format", "version", "chain_id", "block", "contracts", "consignment", "logs"}
_LOG_KEYS = {
    "contract",
    "event",
    "address",
    "topics",
    "data",
    "block_number",
    "block_hash",
    "tx_hash",
    "tx_index",
    "log_index",
    "block_time",
    "record",
}
_BIZ = {code: word for word, code in BUSINESS_STEP_CODES.items()}
_DISP = {code: word for word, code in DISPOSITION_CODES.items()}


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return _hex(bytes(value))
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("latin-1")


def decode_record(contract: str, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
    """The ``record`` of a bundle log: the log decoded with the contract's ABI, JSON-ready."""
    abi = contract_abi(contract)
    event = abi.events.get(topics[0]) if topics else None
    if event is None:
        raise ValueError("the log is not an event of the contract")
    args = event.decode(list(topics), data)
    record: dict[str, Any] = _json_value(args)
    if event.name == "ConsignmentEventRecorded":
        meta = ConsignmentEvent.unpack_meta(bytes(args["meta"]))
        record["fields"] = {
            "biz_step": _BIZ.get(meta["biz_step"], str(meta["biz_step"])),
            "disposition": _DISP.get(meta["disposition"]) if meta["disposition"] else None,
            "location": _text(meta["location"]),
            "event_time": meta["event_time"],
            "container": _text(meta["container"]) or None,
            "nonce": meta["nonce"],
            "deadline": meta["deadline"],
        }
    return record


def _log_entry(raw: RawLog) -> dict[str, Any]:
    return {
        "contract": raw.contract,
        "event": raw.event,
        "address": raw.address,
        "topics": [_hex(t) for t in raw.topics],
        "data": _hex(raw.data),
        "block_number": raw.block_number,
        "block_hash": raw.block_hash,
        "tx_hash": raw.tx_hash,
        "tx_index": raw.tx_index,
        "log_index": raw.log_index,
        "block_time": raw.block_time,
        "record": decode_record(raw.contract, raw.topics, raw.data),
    }


def _raw_rows(index: Index, query: Any) -> list[RawLog]:
    with index.engine.connect() as conn:
        return [
            RawLog(
                address=to_checksum_address(bytes(r.address)),
                contract=r.contract,
                event=r.event,
                topics=tuple(
                    bytes(t) for t in (r.topic0, r.topic1, r.topic2, r.topic3) if t is not None
                ),
                data=bytes(r.data),
                block_number=r.block_number,
                block_hash=_hex(bytes(r.block_hash)),
                tx_hash=_hex(bytes(r.tx_hash)),
                tx_index=r.tx_index,
                log_index=r.log_index,
                block_time=r.block_time,
            )
            for r in conn.execute(query)
        ]


# record event -> the argument naming the organisation whose key signed it
SIGNING_ORG = {
    "ConsignmentRegistered": "registrant",
    "ConsignmentEventRecorded": "orgId",
    "QuantityDrawn": "orgId",
    "Attested": "attester",
    "AttestationRevoked": "attester",
    "CertificateIssued": "issuer",
    "CertificateRevoked": "issuer",
}
_CONSIGNMENT_EVENTS = ("ConsignmentRegistered", "ConsignmentEventRecorded")
_CERTIFICATE_EVENTS = ("CertificateIssued", "CertificateRevoked", "QuantityDrawn")
_ORG_EVENTS = ("OrganisationAdmitted", "OrganisationSuspended", "OrganisationReinstated")
_KEY_EVENTS = ("SigningKeyAdded", "SigningKeyRevoked")


# A fetch answers one filter of the scope: the logs of ``contract`` named one of ``events``
# whose indexed topic at ``position`` (1..3) is one of ``values``, in any order.
Fetch = Callable[[str, tuple[str, ...], int, Sequence[bytes]], list[RawLog]]


def _signed_by(raw: RawLog) -> tuple[bytes, bytes] | None:
    """(organisation id, key as a 32-byte topic) of a signed record's log, else None."""
    field = SIGNING_ORG.get(raw.event)
    if field is None:
        return None
    args = contract_abi(raw.contract).events[raw.topics[0]].decode(list(raw.topics), raw.data)
    return bytes(args[field]), bytes.fromhex(str(args["signer"])[2:]).rjust(32, b"\0")


def bundle_scope(fetch: Fetch, consignment_id: bytes) -> list[RawLog]:
    """Every log a bundle of ``consignment_id`` must hold, found through ``fetch`` alone, in
    chain order (see "Scope" in the module docstring).

    The same definition serves :func:`export_bundle` (``fetch`` reads the index) and
    :func:`verify_bundle` (``fetch`` is ``eth_getLogs`` on the node), so a genuine bundle is
    exactly the node's answer."""
    found: dict[tuple[str, int], RawLog] = {}

    def add(logs: Sequence[RawLog]) -> list[RawLog]:
        for raw in logs:
            found.setdefault((raw.tx_hash.lower(), raw.log_index), raw)
        return list(logs)

    add(fetch("Consignments", _CONSIGNMENT_EVENTS, 1, [consignment_id]))
    drawn = add(fetch("Certificates", ("QuantityDrawn",), 2, [consignment_id]))
    certs = sorted({raw.topics[1] for raw in drawn})
    add(fetch("Certificates", _CERTIFICATE_EVENTS, 1, certs))
    # attestations on the consignment, on its certificates, and on those attestations (closure)
    subjects, asked = {consignment_id, *certs}, set[bytes]()
    while subjects - asked:
        new = sorted(subjects - asked)
        asked.update(new)
        subjects.update(raw.topics[1] for raw in add(fetch("Attestations", ("Attested",), 2, new)))
    uids = sorted(subjects - {consignment_id, *certs})
    add(fetch("Attestations", ("AttestationRevoked",), 1, uids))
    signed = [s for raw in list(found.values()) if (s := _signed_by(raw)) is not None]
    add(fetch("Membership", _ORG_EVENTS, 1, sorted({org for org, _ in signed})))
    add(fetch("Membership", _KEY_EVENTS, 2, sorted({key for _, key in signed})))
    return sorted(found.values(), key=lambda r: (r.block_number, r.log_index))


def _index_fetch(index: Index, consignment_id: bytes) -> Fetch:
    def fetch(
        contract: str, events: tuple[str, ...], position: int, values: Sequence[bytes]
    ) -> list[RawLog]:
        if not values:
            return []
        if contract == "Consignments":  # event logs are rebuilt from their rows
            return [
                r
                for r in index.raw_logs(consignment_id)
                if r.contract == contract and r.event in events and r.topics[position] in values
            ]
        topic = raw_logs.c[f"topic{position}"]
        query = select(raw_logs).where(
            raw_logs.c.contract == contract,
            raw_logs.c.event.in_(events),
            topic.in_(list(values)),
        )
        return _raw_rows(index, query)

    return fetch


def _node_fetch(w3: Web3, addresses: Mapping[str, str], block: int) -> Fetch:
    def fetch(
        contract: str, events: tuple[str, ...], position: int, values: Sequence[bytes]
    ) -> list[RawLog]:
        if not values:
            return []
        abi = contract_abi(contract)
        topics: list[Any] = [[_hex(abi.event(e).topic0) for e in events]]
        topics += [None] * (position - 1) + [[_hex(v) for v in values]]
        params = {"address": addresses[contract], "topics": topics}
        return [
            RawLog(
                address=to_checksum_address(lg["address"]),
                contract=contract,
                event=abi.events[bytes(lg["topics"][0])].name,
                topics=tuple(bytes(t) for t in lg["topics"]),
                data=bytes(lg["data"]),
                block_number=int(lg["blockNumber"]),
                block_hash=_hex(bytes(lg["blockHash"])),
                tx_hash=_hex(bytes(lg["transactionHash"])),
                tx_index=int(lg["transactionIndex"]),
                log_index=int(lg["logIndex"]),
                block_time=0,  # not asked: the receipts check compares block times
            )
            for lg in _get_logs(w3, params, 0, block)
        ]

    return fetch


def _get_logs(w3: Web3, params: Mapping[str, Any], first: int, last: int) -> list[Any]:
    """``eth_getLogs`` from block ``first`` to ``last``, halving the range when the node refuses
    it (Besu's ``--rpc-max-logs-range``, providers' result caps)."""
    try:
        return list(w3.eth.get_logs({**params, "fromBlock": first, "toBlock": last}))  # type: ignore[typeddict-item]
    except (Web3RPCError, ValueError):
        if last <= first:  # refused for one block: not a range limit
            raise
        middle = (first + last) // 2
        return _get_logs(w3, params, first, middle) + _get_logs(w3, params, middle + 1, last)


def export_bundle(index: Index, consignment_id: bytes, *, sync: bool = True) -> dict[str, Any]:
    """The proof bundle of a consignment, anchored at the index's block.

    The index provides the logs; the chain is asked for the head, block hash and code at that
    block, so a bundle exported from a tampered index fails :func:`verify_bundle`.
    """
    if sync:
        index.sync()
    ledger = index.ledger
    w3 = ledger.w3
    block, _ = index.cursor()
    header = w3.eth.get_block(block)
    logs = bundle_scope(_index_fetch(index, consignment_id), consignment_id)
    if not any(r.event == "ConsignmentRegistered" for r in logs):
        raise InvalidBundle(f"consignment {_hex(consignment_id)} is not in the index")
    head, count = ledger.consignments.head(consignment_id, block=block)
    contracts = {}
    for name in CONTRACTS:
        address = ledger.clients[name].address
        code = bytes(w3.eth.get_code(address, block))
        contracts[name] = {"address": address, "code_hash": _hex(keccak(code))}
    bundle = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "chain_id": ledger.deployment.chain_id,
        "block": {"number": block, "hash": _hex(bytes(header["hash"]))},
        "contracts": contracts,
        "consignment": {"id": _hex(consignment_id), "head": _hex(head), "event_count": count},
        "logs": [_log_entry(r) for r in logs],
    }
    log.info(
        "exported proof bundle of %s: %d logs at block %d", _hex(consignment_id), len(logs), block
    )
    return bundle


def write_bundle(bundle: Mapping[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(bundle, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load_bundle(path: str | Path) -> dict[str, Any]:
    """Read a bundle file (raises :class:`~ledger.errors.InvalidBundle` if it is not a JSON
    object; everything else is :func:`verify_bundle`'s business)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidBundle(f"cannot read proof bundle {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidBundle(f"proof bundle {path} is not a JSON object")
    return data


# ----------------------------------------------------------------------------------------------
# Verification
# ----------------------------------------------------------------------------------------------


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


def _log_evidence(entry: Mapping[str, Any]) -> Evidence:
    tx = entry.get("tx_hash")
    block = entry.get("block_number")
    index = entry.get("log_index")
    return Evidence(
        "log",
        f"{tx}:{index}",
        tx if isinstance(tx, str) else None,
        block if isinstance(block, int) else None,
        index if isinstance(index, int) else None,
        str(entry.get("event", "")),
    )


def _view(w3: Web3, address: str, contract: str, function: str, arg: Any, block: int) -> Any:
    fn = contract_abi(contract).fn(function)
    raw = w3.eth.call({"to": address, "data": _hex(fn.encode(arg))}, block)  # type: ignore[typeddict-item]
    return fn.decode_output(bytes(raw))


def _state_findings(
    w3: Web3,
    addresses: Mapping[str, str],
    block: int,
    logs: Sequence[tuple[str, str, list[bytes], bytes]],
) -> list[Finding]:
    """The second leg of completeness: the state the carried logs add up to (certificate status
    and drawn total, attestation and key revocation, member status) against the contracts'
    views at ``block``. It holds even if the node's log filter missed a log."""
    revoked_certs: set[bytes] = set()
    drawn: dict[bytes, int] = {}
    attestations: dict[bytes, bool] = {}  # uid -> revocation carried
    keys: dict[str, bool] = {}  # key address -> revocation carried
    status: dict[bytes, int] = {}  # org -> 1 active, 2 suspended, after the carried logs
    for contract, event, topics, data in logs:
        args = contract_abi(contract).events[topics[0]].decode(topics, data)
        if event == "CertificateIssued":
            drawn.setdefault(bytes(args["certificateId"]), 0)
        elif event == "CertificateRevoked":
            revoked_certs.add(bytes(args["certificateId"]))
        elif event == "QuantityDrawn":
            cert = bytes(args["certificateId"])
            drawn[cert] = drawn.get(cert, 0) + int(args["quantity"])
        elif event == "Attested":
            attestations.setdefault(bytes(args["uid"]), False)
        elif event == "AttestationRevoked":
            attestations[bytes(args["uid"])] = True
        elif event == "SigningKeyAdded":
            keys.setdefault(to_checksum_address(args["key"]), False)
        elif event == "SigningKeyRevoked":
            keys[to_checksum_address(args["key"])] = True
        elif event in _ORG_EVENTS:
            status[bytes(args["orgId"])] = 2 if event == "OrganisationSuspended" else 1
    problems: list[tuple[str, Evidence]] = []
    for cert, total in drawn.items():
        state = _view(w3, addresses["Certificates"], "Certificates", "certificate", cert, block)
        evidence = Evidence("certificate", _hex(cert), None, block)
        if int(state["status"]) == 2 and cert not in revoked_certs:
            problems.append(("the certificate is revoked, the bundle has no revocation", evidence))
        if int(state["drawn"]) != total:
            problems.append(
                (
                    f"{int(state['drawn'])} were drawn on the certificate, the bundle's "
                    f"drawdowns add up to {total}",
                    evidence,
                )
            )
    for uid, carried in attestations.items():
        state = _view(w3, addresses["Attestations"], "Attestations", "attestation", uid, block)
        if int(state["revokedAt"]) and not carried:
            problems.append(
                (
                    "the attestation is revoked, the bundle has no revocation",
                    Evidence("attestation", _hex(uid), None, block),
                )
            )
    for key, carried in keys.items():
        state = _view(w3, addresses["Membership"], "Membership", "key", key, block)
        if int(state["revokedAt"]) and not carried:
            problems.append(
                (
                    "the signing key is revoked, the bundle has no revocation",
                    Evidence("key", key, None, block),
                )
            )
    words = {1: "active", 2: "suspended"}
    for org, carried_status in status.items():
        state = _view(w3, addresses["Membership"], "Membership", "organisation", org, block)
        if int(state["status"]) != carried_status:
            problems.append(
                (
                    f"the organisation is {words.get(int(state['status']), 'unknown')}, the "
                    f"bundle's logs leave it {words[carried_status]}",
                    Evidence("organisation", _hex(org), None, block),
                )
            )
    return [
        make_finding(
            "BUNDLE_INCOMPLETE",
            f"The contracts' state at block {block} is not what the bundle's logs add up to: "
            f"{problem} ({evidence.kind} {evidence.record_id}).",
            [evidence],
        )
        for problem, evidence in problems
    ]


def _describe(raw: RawLog) -> str:
    """A log in words, for a finding: what it records and about what."""
    args = contract_abi(raw.contract).events[raw.topics[0]].decode(list(raw.topics), raw.data)
    h = {k: _hex(v) if isinstance(v, bytes) else v for k, v in args.items()}
    match raw.event:
        case "CertificateRevoked":
            return f"the revocation of certificate {h['certificateId']}"
        case "CertificateIssued":
            return f"the issue of certificate {h['certificateId']}"
        case "QuantityDrawn":
            return (
                f"a drawdown of {h['quantity']} on certificate {h['certificateId']} for "
                f"consignment {h['consignmentId']}"
            )
        case "Attested":
            return f"attestation {h['uid']} by {h['attester']} on {h['subjectId']}"
        case "AttestationRevoked":
            return f"the revocation of attestation {h['uid']}"
        case "SigningKeyAdded" | "SigningKeyRevoked":
            what = "addition" if raw.event == "SigningKeyAdded" else "revocation"
            return f"the {what} of signing key {h['key']} of organisation {h['orgId']}"
        case "OrganisationAdmitted" | "OrganisationSuspended" | "OrganisationReinstated":
            return f"an {raw.event} log of organisation {h['orgId']}"
        case _:
            return f"a {raw.event} log of consignment {_hex(raw.topics[1])}"


def _verdict(
    findings: list[Finding], checks: list[Check], block: int, cid: bytes | None, at: int
) -> Verdict:
    return Verdict(
        status=status_of(findings),
        subject="proof bundle" + ("" if cid is None else f" of consignment {_hex(cid)}"),
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
        _exact_keys(bundle, _TOP_KEYS, "bundle")
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
            _exact_keys(entry, _LOG_KEYS, f"logs[{n}]")
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
        findings.append(make_finding("BUNDLE_MALFORMED", f"The proof bundle is malformed: {exc}."))
        checks.append(Check("bundle format", "failed", str(exc)))
        return _verdict(findings, checks, 0, None, 0)
    checks.append(Check("bundle format", "passed"))

    # chain and anchor block
    node_chain = w3.eth.chain_id
    if node_chain != chain_id:
        findings.append(
            make_finding(
                "BUNDLE_CHAIN_MISMATCH",
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
            make_finding(
                "BUNDLE_BLOCK_MISMATCH",
                f"The node's block {block} is not the block {_hex(block_hash)} the bundle "
                "was anchored at (another chain, a reorganisation, or an edited bundle).",
                [Evidence("block", _hex(block_hash), None, block)],
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
                make_finding(
                    "BUNDLE_CODE_MISMATCH",
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
        evidence = _log_evidence(entry)
        try:
            topics = [_bytes(t, "topic", 32) for t in entry["topics"]]
            data = _bytes(entry["data"], "data")
            tx_hash = _bytes(entry["tx_hash"], "tx_hash", 32)
        except _Malformed as exc:
            findings.append(make_finding("BUNDLE_MALFORMED", f"A log: {exc}.", [evidence]))
            continue
        contract = by_address.get(entry["address"].lower())
        if contract is None or contract != entry["contract"]:
            findings.append(
                make_finding(
                    "BUNDLE_LOG_MISMATCH",
                    f"A log names address {entry['address']} as {entry['contract']}, which is "
                    "not that contract of the bundle's suite.",
                    [evidence],
                )
            )
            continue
        if entry["block_number"] > block:
            findings.append(
                make_finding(
                    "BUNDLE_LOG_MISMATCH",
                    f"A log is dated block {entry['block_number']}, after the bundle's block "
                    f"{block}.",
                    [evidence],
                )
            )
            continue
        key = _hex(tx_hash)
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
                make_finding(
                    "BUNDLE_LOG_NOT_FOUND",
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
                make_finding(
                    "BUNDLE_LOG_MISMATCH",
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
                make_finding(
                    "BUNDLE_RECORD_MISMATCH",
                    f"The log at {key}:{entry['log_index']} is not an event of {contract}.",
                    [evidence],
                )
            )
            continue
        expected = decode_record(contract, topics, data)
        if expected_event.name != entry["event"]:
            findings.append(
                make_finding(
                    "BUNDLE_RECORD_MISMATCH",
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
                make_finding(
                    "BUNDLE_RECORD_MISMATCH",
                    f"The decoded {entry['event']} record differs from its log in: "
                    + ", ".join(changed)
                    + ".",
                    [evidence],
                )
            )
        verified_logs.append(((contract, expected_event.name, topics, data), entry))
    checks.append(Check("logs against receipts", "failed" if len(findings) > before else "passed"))

    # completeness: the bundle's logs are exactly the node's logs of the bundle's scope
    before = len(findings)
    scope = bundle_scope(_node_fetch(w3, addresses, block), cid)
    in_scope = {(node_log.tx_hash.lower(), node_log.log_index): node_log for node_log in scope}
    carried = {(e["tx_hash"].lower(), e["log_index"]): e for _, e in verified_logs}
    for ident, node_log in in_scope.items():
        if ident not in carried:
            findings.append(
                make_finding(
                    "BUNDLE_INCOMPLETE",
                    f"The node holds {_describe(node_log)} (block {node_log.block_number}), "
                    "which the bundle omits: a bundle that hides it cannot be relied on.",
                    [
                        Evidence(
                            "log",
                            f"{node_log.tx_hash}:{node_log.log_index}",
                            node_log.tx_hash,
                            node_log.block_number,
                            node_log.log_index,
                            node_log.event,
                        )
                    ],
                )
            )
    for ident, entry in carried.items():
        if ident not in in_scope:
            findings.append(
                make_finding(
                    "BUNDLE_LOG_UNRELATED",
                    f"The bundle holds a {entry['event']} log that is not about the consignment, "
                    "its certificates, their attestations or their signers.",
                    [_log_evidence(entry)],
                )
            )
    checks.append(
        Check(
            "completeness (eth_getLogs)",
            "failed" if len(findings) > before else "passed",
            f"{len(in_scope)} logs in scope",
        )
    )

    # state: the outcome the carried logs add up to is the contracts' state at the bundle's block
    before = len(findings)
    findings.extend(_state_findings(w3, addresses, block, [lg for lg, _ in verified_logs]))
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
            signed.append((event, bytes(args[SIGNING_ORG[event]]), signer, _log_evidence(entry)))
    for event, org, signer, evidence in signed:
        if (org, signer) not in bound:
            findings.append(
                make_finding(
                    "BUNDLE_SIGNER_UNPROVEN",
                    f"The {event} record was signed by key {to_checksum_address(signer)} for "
                    f"organisation {_hex(org)}, but the bundle holds no log that registered "
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
            head = next_head(
                bytes(28),
                registration_digest(
                    separator,
                    consignment_id=cid,
                    origin=bytes(args["origin"]),
                    destination=bytes(args["destination"]),
                    consignor=bytes(args["consignor"]),
                    consignee=bytes(args["consignee"]),
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
        {"to": addresses["Consignments"], "data": _hex(fn.encode(cid))},  # type: ignore[typeddict-item]
        block,
    )
    out = fn.decode_output(bytes(raw))
    chain_head, chain_count = bytes(out["head_"]), int(out["eventCount"])
    if head is None:
        problem = problem or "the bundle has no registration of the consignment"
    elif head != claimed_head or count != claimed_count:
        problem = problem or (
            f"the logs fold to head {_hex(head)} after {count} events, the bundle states "
            f"{_hex(claimed_head)} after {claimed_count}"
        )
    if not problem and (chain_head != claimed_head or chain_count != claimed_count):
        problem = (
            f"the chain's head at block {block} is {_hex(chain_head)} after {chain_count} "
            f"events, the bundle states {_hex(claimed_head)} after {claimed_count}"
        )
    if problem:
        findings.append(
            make_finding(
                "BUNDLE_HEAD_MISMATCH",
                f"The consignment's hash chain does not verify: {problem}.",
                [Evidence("head", _hex(chain_head), None, block)],
            )
        )
    checks.append(Check("hash chain", "failed" if len(findings) > before else "passed"))
    verdict = _verdict(findings, checks, block, cid, at)
    log.info(
        "proof bundle of %s: %s (%d logs) in %.3f s",
        _hex(cid),
        verdict.status,
        len(entries),
        time.perf_counter() - started,
    )
    return verdict
