"""A bundle's format and scope: which logs a proof bundle of a consignment holds, found
through a fetch alone (the index's or the node's), and each log as the bundle carries it.

See :mod:`ledger.verify.bundle` for the format and the scope's definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.exceptions import Web3RPCError

from ledger.chain import contract_abi
from ledger.index import RawLog
from ledger.records import BUSINESS_STEP_CODES, DISPOSITION_CODES, ConsignmentEvent
from ledger.verify.findings import Evidence

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "CONTRACTS",
    "LOG_KEYS",
    "ORG_EVENTS",
    "SIGNING_ORG",
    "TOP_KEYS",
    "Fetch",
    "bundle_scope",
    "decode_record",
    "hexstr",
    "log_entry",
    "log_evidence",
    "node_fetch",
]

BUNDLE_FORMAT = "customs-ledger/proof-bundle"
BUNDLE_VERSION = 1
CONTRACTS = ("Membership", "Consignments", "Certificates", "Attestations", "AeoRegistry")
TOP_KEYS = {"format", "version", "chain_id", "block", "contracts", "consignment", "logs"}
LOG_KEYS = {
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


def hexstr(raw: bytes) -> str:
    return "0x" + raw.hex()


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return hexstr(bytes(value))
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


def log_entry(raw: RawLog) -> dict[str, Any]:
    return {
        "contract": raw.contract,
        "event": raw.event,
        "address": raw.address,
        "topics": [hexstr(t) for t in raw.topics],
        "data": hexstr(raw.data),
        "block_number": raw.block_number,
        "block_hash": raw.block_hash,
        "tx_hash": raw.tx_hash,
        "tx_index": raw.tx_index,
        "log_index": raw.log_index,
        "block_time": raw.block_time,
        "record": decode_record(raw.contract, raw.topics, raw.data),
    }


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
ORG_EVENTS = ("OrganisationAdmitted", "OrganisationSuspended", "OrganisationReinstated")
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
    add(fetch("Membership", ORG_EVENTS, 1, sorted({org for org, _ in signed})))
    add(fetch("Membership", _KEY_EVENTS, 2, sorted({key for _, key in signed})))
    return sorted(found.values(), key=lambda r: (r.block_number, r.log_index))


def node_fetch(w3: Web3, addresses: Mapping[str, str], block: int) -> Fetch:
    def fetch(
        contract: str, events: tuple[str, ...], position: int, values: Sequence[bytes]
    ) -> list[RawLog]:
        if not values:
            return []
        abi = contract_abi(contract)
        topics: list[Any] = [[hexstr(abi.event(e).topic0) for e in events]]
        topics += [None] * (position - 1) + [[hexstr(v) for v in values]]
        params = {"address": addresses[contract], "topics": topics}
        return [
            RawLog(
                address=to_checksum_address(lg["address"]),
                contract=contract,
                event=abi.events[bytes(lg["topics"][0])].name,
                topics=tuple(bytes(t) for t in lg["topics"]),
                data=bytes(lg["data"]),
                block_number=int(lg["blockNumber"]),
                block_hash=hexstr(bytes(lg["blockHash"])),
                tx_hash=hexstr(bytes(lg["transactionHash"])),
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


def log_evidence(entry: Mapping[str, Any]) -> Evidence:
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
