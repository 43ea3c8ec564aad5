"""Completeness of a proof bundle, in two legs: the node's logs of the bundle's scope, and the
contracts' state at the bundle's block.

The logs are the proof of completeness; the state is the cross-check (see
:mod:`ledger.verify.bundle`, "What verify_bundle checks").

============================ ======== ======================================================
code                         severity meaning
============================ ======== ======================================================
``BUNDLE_INCOMPLETE``        critical the node holds a log in the bundle's scope it omits
``BUNDLE_LOG_UNRELATED``     critical a log outside the bundle's scope (another subject)
============================ ======== ======================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_utils.address import to_checksum_address
from web3 import Web3

from ledger.chain import contract_abi
from ledger.index import RawLog
from ledger.verify.bundle.scope import (
    ORG_EVENTS,
    bundle_scope,
    hexstr,
    log_evidence,
    node_fetch,
)
from ledger.verify.findings import Evidence, Finding, FindingSpec, Severity

__all__ = ["FINDINGS", "node_log_findings", "state_findings"]

BUNDLE_INCOMPLETE = FindingSpec(
    "BUNDLE_INCOMPLETE", Severity.CRITICAL, "Proof bundle omits a record"
)
BUNDLE_LOG_UNRELATED = FindingSpec(
    "BUNDLE_LOG_UNRELATED", Severity.CRITICAL, "Proof bundle log outside its scope"
)
FINDINGS = (BUNDLE_INCOMPLETE, BUNDLE_LOG_UNRELATED)


def node_log_findings(
    w3: Web3,
    addresses: Mapping[str, str],
    block: int,
    cid: bytes,
    carried_entries: Sequence[Mapping[str, Any]],
) -> tuple[list[Finding], int]:
    """The first leg of completeness: the bundle's logs are exactly the node's logs of the
    bundle's scope (computed again from the node alone). Returns the findings and the number of
    logs in scope."""
    findings: list[Finding] = []
    scope = bundle_scope(node_fetch(w3, addresses, block), cid)
    in_scope = {(node_log.tx_hash.lower(), node_log.log_index): node_log for node_log in scope}
    carried = {(e["tx_hash"].lower(), e["log_index"]): e for e in carried_entries}
    for ident, node_log in in_scope.items():
        if ident not in carried:
            findings.append(
                BUNDLE_INCOMPLETE.finding(
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
                BUNDLE_LOG_UNRELATED.finding(
                    f"The bundle holds a {entry['event']} log that is not about the consignment, "
                    "its certificates, their attestations or their signers.",
                    [log_evidence(entry)],
                )
            )
    return findings, len(in_scope)


def _view(w3: Web3, address: str, contract: str, function: str, arg: Any, block: int) -> Any:
    fn = contract_abi(contract).fn(function)
    raw = w3.eth.call({"to": address, "data": hexstr(fn.encode(arg))}, block)  # type: ignore[typeddict-item]
    return fn.decode_output(bytes(raw))


def state_findings(
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
        elif event in ORG_EVENTS:
            status[bytes(args["orgId"])] = 2 if event == "OrganisationSuspended" else 1
    problems: list[tuple[str, Evidence]] = []
    for cert, total in drawn.items():
        state = _view(w3, addresses["Certificates"], "Certificates", "certificate", cert, block)
        evidence = Evidence("certificate", hexstr(cert), None, block)
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
                    Evidence("attestation", hexstr(uid), None, block),
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
                    Evidence("organisation", hexstr(org), None, block),
                )
            )
    return [
        BUNDLE_INCOMPLETE.finding(
            f"The contracts' state at block {block} is not what the bundle's logs add up to: "
            f"{problem} ({evidence.kind} {evidence.record_id}).",
            [evidence],
        )
        for problem, evidence in problems
    ]


def _describe(raw: RawLog) -> str:
    """A log in words, for a finding: what it records and about what."""
    args = contract_abi(raw.contract).events[raw.topics[0]].decode(list(raw.topics), raw.data)
    h = {k: hexstr(v) if isinstance(v, bytes) else v for k, v in args.items()}
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
            return f"a {raw.event} log of consignment {hexstr(raw.topics[1])}"
