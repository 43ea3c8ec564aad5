"""The suite's logs as the follower reads them: decoded, and mapped to the rows of the index.

``eth_getLogs`` entries are decoded by topic0 with the artifacts' ABIs (word by word where every
parameter is a static value type: :func:`_static_decoder`) into :class:`_Log`; the hot
``ConsignmentEventRecorded`` log is kept raw (:data:`_HotEvent`) and decoded by the writer.
:func:`_domain_row` maps a decoded log to its row in the domain tables of
:mod:`ledger.index.schema`. Private to :mod:`ledger.index`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.chain import AbiEvent
from ledger.index.codec import _addr, _hex, _text
from ledger.index.schema import (
    aeo_status_changes,
    attestation_revocations,
    attestations,
    certificate_revocations,
    certificates,
    drawdowns,
    mra_events,
    org_admissions,
    org_status_changes,
    schemas,
    signing_keys_added,
    signing_keys_revoked,
)

_AEO_EVENTS = {
    "AeoCertified": (1, 1),
    "AeoSuspended": (2, 2),
    "AeoReinstated": (3, 1),
    "AeoRevoked": (4, 3),
}  # event -> (action, status after)


@dataclass(slots=True)
class _Log:
    contract: str
    event: str
    args: dict[str, Any]
    address: bytes
    topics: list[bytes]
    data: bytes
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    tx_index: int
    log_index: int


_Decoder = Callable[[list[bytes], bytes], dict[str, Any]]

# A ConsignmentEventRecorded log kept raw for the hot path:
# (block number, log index, block hash, tx hash hex, tx index, topics hex, data)
_HotEvent = tuple[int, int, bytes, str, int, list[str], bytes]


def _position(entry: _Log | _HotEvent) -> tuple[int, int]:
    if isinstance(entry, tuple):
        return entry[0], entry[1]
    return entry.block_number, entry.log_index


def _static_decoder(event: AbiEvent) -> _Decoder:
    """A word-by-word decoder for events whose parameters are all static value types."""
    plan: list[tuple[str, bool, str, int]] = []
    for name in event.order:
        param = next(p for p in (*event.indexed, *event.data) if p["name"] == name)
        kind = str(param["type"])
        indexed = any(p["name"] == name for p in event.indexed)
        if kind.startswith("bytes") and kind != "bytes":
            plan.append((name, indexed, "bytes", int(kind[5:])))
        elif kind.startswith("uint"):
            plan.append((name, indexed, "uint", 0))
        elif kind == "address":
            plan.append((name, indexed, "address", 0))
        elif kind == "bool":
            plan.append((name, indexed, "bool", 0))
        else:
            return lambda topics, data: _fallback(event, topics, data)

    def decode(topics: list[bytes], data: bytes) -> dict[str, Any]:
        out: dict[str, Any] = {}
        t = 1
        d = 0
        for name, indexed, kind, size in plan:
            if indexed:
                word = topics[t]
                t += 1
            else:
                word = data[d : d + 32]
                d += 32
            if kind == "bytes":
                out[name] = word[:size]
            elif kind == "uint":
                out[name] = int.from_bytes(word, "big")
            elif kind == "address":
                out[name] = word[12:]
            else:
                out[name] = word[31] == 1
        return out

    return decode


def _fallback(event: AbiEvent, topics: list[bytes], data: bytes) -> dict[str, Any]:
    args = event.decode(topics, data)
    for name, value in list(args.items()):
        if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
            args[name] = _addr(value)
    return args


def _decode_logs(
    raw: Sequence[Mapping[str, Any]],
    headers: Mapping[int, tuple[bytes, int]],
    *,
    hot_address: str,
    hot_topic: str,
    by_address: Mapping[str, str],
    decoders: Mapping[tuple[str, bytes], tuple[str, _Decoder]],
) -> list[_Log | _HotEvent] | None:
    """The entries of one ``eth_getLogs`` answer, decoded (the hot event kind, ``hot_topic`` at
    ``hot_address``, kept raw), in chain order; ``headers``: (hash, timestamp) of every block
    they are in. Logs of other addresses or unknown events are left out. None if the chain
    changed under the request (an entry removed, or its block hash not its header's)."""
    hashes = {number: _hex(header[0]) for number, header in headers.items()}
    out: list[_Log | _HotEvent] = []
    for entry in raw:
        if entry.get("removed"):
            return None
        block_number = int(entry["blockNumber"], 16)
        if entry["blockHash"].lower() != hashes[block_number]:
            return None
        address = entry["address"].lower()
        topics_hex = entry["topics"]
        if not topics_hex:
            continue
        if address == hot_address and topics_hex[0].lower() == hot_topic:
            out.append(
                (
                    block_number,
                    int(entry["logIndex"], 16),
                    headers[block_number][0],
                    entry["transactionHash"],
                    int(entry["transactionIndex"], 16),
                    topics_hex,
                    bytes.fromhex(entry["data"][2:]),
                )
            )
            continue
        contract = by_address.get(address)
        if contract is None:
            continue
        topics = [bytes.fromhex(t[2:]) for t in topics_hex]
        decoder = decoders.get((contract, topics[0]))
        if decoder is None:
            continue
        name, decode = decoder
        data = bytes.fromhex(entry["data"][2:])
        out.append(
            _Log(
                contract=contract,
                event=name,
                args=decode(topics, data),
                address=bytes.fromhex(address[2:]),
                topics=topics,
                data=data,
                block_number=block_number,
                block_hash=headers[block_number][0],
                tx_hash=bytes.fromhex(entry["transactionHash"][2:]),
                tx_index=int(entry["transactionIndex"], 16),
                log_index=int(entry["logIndex"], 16),
            )
        )
    out.sort(key=_position)
    return out


def _domain_row(entry: _Log) -> tuple[Any, dict[str, Any] | None, bytes | None]:
    """The domain table and row for a log of any kind but ``ConsignmentRegistered`` and
    ``ConsignmentEventRecorded`` (which check the hash chain: :mod:`ledger.index.writer`), and
    the consignment it concerns (if any); ``(None, None, None)`` for a log kept raw only."""
    a = entry.args
    ev = entry.event
    if ev == "QuantityDrawn":
        return (
            drawdowns,
            {
                "certificate_id": a["certificateId"],
                "consignment_id": a["consignmentId"],
                "org_id": a["orgId"],
                "signer": a["signer"],
                "quantity": a["quantity"],
                "drawn": a["drawn"],
            },
            a["consignmentId"],
        )
    if ev == "Attested":
        return (
            attestations,
            {
                "uid": a["uid"],
                "subject_id": a["subjectId"],
                "attester": a["attester"],
                "signer": a["signer"],
                "schema_id": a["schemaId"],
                "subject_type": a["subjectType"],
                "data_digest": a["dataDigest"],
                "ref_uid": a["refUid"],
                "expires_at": a["expiresAt"],
            },
            (a["subjectId"] if a["subjectType"] == 1 else None),
        )
    if ev == "AttestationRevoked":
        return (
            attestation_revocations,
            {
                "uid": a["uid"],
                "attester": a["attester"],
                "signer": a["signer"],
                "reason_digest": a["reasonDigest"],
            },
            None,
        )
    if ev == "CertificateIssued":
        r = a["record"]
        return (
            certificates,
            {
                "certificate_id": a["certificateId"],
                "issuer": a["issuer"],
                "exporter": a["exporter"],
                "signer": a["signer"],
                "certificate_number": r["certificateNumber"],
                "origin": _text(r["origin"]),
                "destination": _text(r["destination"]),
                "document_digest": r["documentDigest"],
                "hs_codes_digest": r["hsCodesDigest"],
                "quantity": r["quantity"],
                "unit": _text(r["unit"]),
                "valid_from": r["validFrom"],
                "valid_until": r["validUntil"],
                "issued_at": r["issuedAt"],
            },
            None,
        )
    if ev == "CertificateRevoked":
        return (
            certificate_revocations,
            {
                "certificate_id": a["certificateId"],
                "issuer": a["issuer"],
                "signer": a["signer"],
                "reason_digest": a["reasonDigest"],
            },
            None,
        )
    if ev in _AEO_EVENTS:
        action, status = _AEO_EVENTS[ev]
        certified = ev == "AeoCertified"
        return (
            aeo_status_changes,
            {
                "certification_id": a["certificationId"],
                "operator_id": a["operatorId"],
                "administration": a["administration"],
                "action": action,
                "status": status,
                "programme": _text(a["programme"]) if certified else None,
                "valid_from": a["validFrom"] if certified else None,
                "valid_until": a["validUntil"] if certified else None,
                "signer": a["signer"],
                "nonce": a["nonce"],
            },
            None,
        )
    if ev in ("MraProposed", "MraAccepted", "MraTerminated"):
        proposed = ev == "MraProposed"
        return (
            mra_events,
            {
                "mra_id": a["mraId"],
                "kind": ev[3:].lower(),
                "proposer": a.get("proposer"),
                "counterpart": a.get("counterpart"),
                "by_org": a.get("by"),
                "signer": a["signer"],
                "scope": a["scope"] if proposed else None,
                "valid_from": a["validFrom"] if proposed else None,
                "valid_until": a["validUntil"] if proposed else None,
            },
            None,
        )
    if ev == "OrganisationAdmitted":
        return (
            org_admissions,
            {
                "org_id": a["orgId"],
                "kind": a["kind"],
                "country": _text(a["country"]),
                "org_index": a["index"],
                "proposal_id": a["proposalId"],
            },
            None,
        )
    if ev in ("OrganisationSuspended", "OrganisationReinstated"):
        return (
            org_status_changes,
            {
                "org_id": a["orgId"],
                "status": 2 if ev == "OrganisationSuspended" else 1,
                "proposal_id": a["proposalId"],
            },
            None,
        )
    if ev == "SigningKeyAdded":
        return (
            signing_keys_added,
            {
                "org_id": a["orgId"],
                "key": a["key"],
                "valid_from": a["validFrom"],
                "valid_until": a["validUntil"],
                "signer": a["signer"],
                "proposal_id": a["proposalId"],
            },
            None,
        )
    if ev == "SigningKeyRevoked":
        return (
            signing_keys_revoked,
            {
                "org_id": a["orgId"],
                "key": a["key"],
                "revoked_at": a["revokedAt"],
                "signer": a["signer"],
                "proposal_id": a["proposalId"],
            },
            None,
        )
    if ev == "SchemaRegistered":
        return (
            schemas,
            {
                "schema_id": a["schemaId"],
                "registrant": a["registrant"],
                "signer": a["signer"],
                "definition": a["definition"],
            },
            None,
        )
    return None, None, None  # governance bookkeeping: kept in raw logs only
