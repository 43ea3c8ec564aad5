"""The index against the chain: the hash chain head, record attribution, and every other place
where what the index serves is compared with the contracts' state.

The index is a convenience; the chain is the authority. Each comparison here reads the chain
(in the verification's batch, :class:`~ledger.verify.reads.ChainReads`) and reports a
difference as a finding:

=================  ========  ========================================================
code               severity  meaning
=================  ========  ========================================================
``HEAD_MISMATCH``  critical  the hash chain of the index's events != on-chain head
``INDEX_MISMATCH`` critical  an index record differs from contract state
=================  ========  ========================================================

What each check proves
----------------------
* **hash chain equals on-chain head** (``HEAD_MISMATCH``): the registration and the events the
  index shows, folded with :func:`ledger.index.next_head`, give the consignment's ``head(id)``
  and ``eventCount`` at the indexed block. Each chain step commits to the record's EIP-712
  digest, the acting organisation's id and the recovered signing key (contracts/RECORDS.md
  "Hash chain"), so this one ``eth_call`` proves that no record is hidden, added, reordered or
  altered **and** that each is attributed to the organisation and key that signed it.
* **record attribution (chain logs)** (``INDEX_MISMATCH``; only with
  :attr:`~ledger.verify.VerificationPolicy.check_attribution`): the consignment's own logs
  (``eth_getLogs`` by consignment id, over the blocks that hold its records) hold each record
  shown at the same block, log index and transaction, with the same organisation and signer
  topics. Beyond the head it proves that the positions shown as evidence (transaction hash,
  block, log index) are the records' own; it costs a log read that dominates a verification
  on a busy chain, so it is off by default.
* ``INDEX_MISMATCH`` is also raised, through the helpers below, by the other checks where they
  compare: a consignment registered on chain but missing from the index
  (:func:`consignment_not_indexed`), an attestation the contract holds otherwise
  (:func:`confirmed_attestations`), a certificate's record hash or drawn total
  (:func:`certificate_state`), the quantity drawn for the consignment (:func:`drawn_for`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from ledger.index import (
    AttestationRecord,
    CertificateRecord,
    ConsignmentRecord,
    DrawdownRecord,
    event_digest,
    next_head,
    registration_digest,
)
from ledger.records import CertificateIssue, fixed_ascii
from ledger.verify.evidence import ev_attestation, ev_drawdown, ev_event, ev_registration, h
from ledger.verify.findings import Evidence, FindingSpec, Severity
from ledger.verify.reads import log_ranges, topic_address
from ledger.verify.run import ClaimCheck, Context, Run

__all__ = [
    "CHECKS",
    "FINDINGS",
    "attributed",
    "attribution_filter",
    "certificate_state",
    "confirmed_attestations",
    "consignment_not_indexed",
    "drawn_for",
]

HEAD_MISMATCH = FindingSpec(
    "HEAD_MISMATCH", Severity.CRITICAL, "Event history differs from the on-chain hash chain"
)
INDEX_MISMATCH = FindingSpec(
    "INDEX_MISMATCH", Severity.CRITICAL, "Index differs from contract state"
)
FINDINGS = (HEAD_MISMATCH, INDEX_MISMATCH)


# ------------------------------------------------------------------ hash chain


def check_head(ctx: Context, run: Run) -> None:
    assert run.consignment is not None
    before = len(run.findings)
    cons = run.consignment
    separator = ctx.ledger.consignments.domain.separator
    head = next_head(
        bytes(28),
        registration_digest(
            separator,
            reference_hash=cons.reference_hash,
            origin=cons.origin.encode("latin-1"),
            destination=cons.destination.encode("latin-1"),
            consignor=cons.consignor,
            consignee=cons.consignee,
            deadline=cons.deadline,
        ),
        org_id=cons.registrant,
        signer=cons.signer,
    )
    problems: list[str] = []
    for n, e in enumerate(run.timeline, start=1):
        if e.seq != n:
            problems.append(f"event #{n} is missing (next stored is #{e.seq})")
            break
        meta = (
            bytes([e.biz_step_code, e.disposition_code])
            + e.location.encode("latin-1").ljust(5, b"\0")
            + e.event_time.to_bytes(5, "big")
            + (e.container or "").encode("latin-1").ljust(11, b"\0")
            + e.deadline.to_bytes(5, "big")
            + e.nonce.to_bytes(4, "big")
        )
        digest = event_digest(
            separator,
            consignment_id=cons.consignment_id,
            meta=meta,
            seal_digest=e.seal_digest,
            documents_digest=e.documents_digest,
            epcis_event_hash=e.epcis_event_hash,
        )
        head = next_head(head, digest, org_id=e.org_id, signer=e.signer)
    chain_head, chain_count = ctx.consignments.head(cons.consignment_id, block=run.block)
    if head != chain_head or len(run.timeline) != chain_count or problems:
        detail = "; ".join(problems) or (
            f"the {len(run.timeline)} events shown fold to head {h(head)}, the contract "
            f"holds {h(chain_head)} after {chain_count} events at block {run.block}"
        )
        run.add(
            HEAD_MISMATCH.finding(
                "The event history served for this consignment is not the one recorded on "
                f"the ledger ({detail}). Events may have been hidden, added or altered by "
                "the index, or attributed to another organisation or key; do not rely on "
                "it: verify against a node or a proof bundle.",
                [ev_registration(cons), Evidence("head", h(chain_head), None, run.block)],
            )
        )
    run.check("hash chain equals on-chain head", before)


# ------------------------------------------------------------------ attribution


@dataclass(frozen=True, slots=True)
class Attributed:
    """A record of the consignment as the index places and attributes it."""

    what: str
    tx_hash: str
    block_number: int
    log_index: int
    org: bytes
    signer: str
    topics: tuple[str, str, str, str]  # 0x-hex, lower case: event, consignment, org, signer
    evidence: Callable[[], Evidence]  # built only for a finding

    def matches(self, entry: Mapping[str, Any], address: str) -> bool:
        """Whether the node's log ``entry`` is this record, as the index has it."""
        return (
            not entry.get("removed", False)
            and str(entry.get("address", "")).lower() == address.lower()
            and int(entry["blockNumber"], 16) == self.block_number
            and int(entry["logIndex"], 16) == self.log_index
            and str(entry.get("transactionHash", "")).lower() == self.tx_hash.lower()
            and tuple(str(t).lower() for t in entry.get("topics", ())) == self.topics
        )


def _topic0(ctx: Context) -> dict[str, str]:
    abi = ctx.ledger.consignments.abi
    return {
        "registration": h(abi.event("ConsignmentRegistered").topic0),
        "event": h(abi.event("ConsignmentEventRecorded").topic0),
    }


def attributed(ctx: Context, run: Run) -> list[Attributed]:
    """The registration and every event, as the index attributes them."""
    assert run.consignment is not None
    cons = run.consignment
    cid = h(cons.consignment_id)
    topic0 = _topic0(ctx)
    items = [
        Attributed(
            "the registration",
            cons.tx_hash,
            cons.block_number,
            cons.log_index,
            cons.registrant,
            cons.signer,
            (topic0["registration"], cid, h(cons.registrant), topic_address(cons.signer)),
            partial(ev_registration, cons),
        )
    ]
    items += [
        Attributed(
            f"event #{e.seq}",
            e.tx_hash,
            e.block_number,
            e.log_index,
            e.org_id,
            e.signer,
            (topic0["event"], cid, h(e.org_id), topic_address(e.signer)),
            partial(ev_event, e),
        )
        for e in run.timeline
    ]
    return items


def attribution_filter(ctx: Context, cons: ConsignmentRecord) -> list[Any]:
    """``eth_getLogs`` topics: a registration or an event, of this consignment id."""
    topic0 = _topic0(ctx)
    return [[topic0["registration"], topic0["event"]], h(cons.consignment_id)]


def check_attribution(ctx: Context, run: Run) -> None:
    """Each record's organisation and signer as the chain's own log has them.

    The node is asked for the consignment's logs (``eth_getLogs`` on the Consignments
    address, topics [registration or event, consignment id], over the blocks the index
    names); each record shown must be a log there at the same block and log index, in the
    same transaction, with the same topics (event, consignment, organisation, signer)."""
    assert run.consignment is not None
    before = len(run.findings)
    address = ctx.ledger.consignments.address
    items = attributed(ctx, run)
    topics = attribution_filter(ctx, run.consignment)
    on_chain: dict[tuple[int, int], Mapping[str, Any]] = {}
    for start, end in log_ranges(i.block_number for i in items):
        for log_entry in ctx.chain.logs(address, topics, start, end):
            position = (int(log_entry["blockNumber"], 16), int(log_entry["logIndex"], 16))
            on_chain[position] = log_entry
    for item in items:
        entry = on_chain.get((item.block_number, item.log_index))
        if entry is None or not item.matches(entry, address):
            run.add(
                INDEX_MISMATCH.finding(
                    f"The index attributes {item.what} to {ctx.org_name(item.org)} (key "
                    f"{item.signer}), but the transaction's log on chain does not say so: "
                    "the index is not reliable for who recorded this consignment's history.",
                    [item.evidence()],
                )
            )
    run.check("record attribution (chain logs)", before)


# ------------------------------------------------------------------ for the other checks


def consignment_not_indexed(run: Run, cid: bytes, what: str) -> None:
    """The consignment is registered on chain but the index does not serve it."""
    run.add(
        INDEX_MISMATCH.finding(
            f"Consignment {what} is registered on chain but missing from the index.",
            [Evidence("consignment", h(cid))],
        )
    )


def confirmed_attestations(
    ctx: Context, run: Run, found: list[AttestationRecord]
) -> list[AttestationRecord]:
    """The index's attestations as the contract holds them: an attestation whose attester
    differs on chain is dropped, a revocation the index lacks is applied (both reported)."""
    out: list[AttestationRecord] = []
    for a in found:
        state = ctx.attestations.attestation(a.uid)
        if state.attester != a.attester:
            run.add(
                INDEX_MISMATCH.finding(
                    f"The index shows an attestation by {ctx.org_name(a.attester)} that "
                    "the contract does not hold as such; it is ignored.",
                    [ev_attestation(a)],
                )
            )
            continue
        if state.revoked_at and a.revoked_at is None:
            run.add(
                INDEX_MISMATCH.finding(
                    "An attestation is revoked on chain but the index shows it as valid.",
                    [ev_attestation(a)],
                )
            )
            a = replace(a, revoked_at=state.revoked_at)
        out.append(a)
    return out


def certificate_state(run: Run, cert: CertificateRecord, state: Any, evidence: Evidence) -> None:
    """The certificate as the index serves it against the contract's record hash and drawn
    quantity (``state``: the contract's ``certificate`` view)."""
    issue = CertificateIssue(
        certificate_number=cert.certificate_number,
        exporter=cert.exporter,
        origin=cert.origin.encode("latin-1"),
        destination=cert.destination.encode("latin-1"),
        document_digest=cert.document_digest,
        hs_codes_digest=cert.hs_codes_digest,
        quantity=cert.quantity,
        unit=fixed_ascii(cert.unit, 8),
        valid_from=cert.valid_from,
        valid_until=cert.valid_until,
        issued_at=cert.issued_at,
    )
    if issue.struct_hash()[:24] != state.record_hash or state.drawn != cert.drawn:
        run.add(
            INDEX_MISMATCH.finding(
                "The certificate as served by the index differs from the record the "
                "contract holds (record hash or drawn quantity): the index is not reliable "
                "for this certificate.",
                [evidence],
            )
        )


def drawn_for(
    ctx: Context,
    run: Run,
    cert: CertificateRecord,
    mine: list[DrawdownRecord],
    evidence: Evidence,
) -> int:
    """The quantity drawn on ``cert`` for the run's consignment, as the contract holds it
    (a difference from the index's drawdowns ``mine`` is reported)."""
    assert run.consignment is not None
    drawn_here = sum(d.quantity for d in mine)
    on_chain: int = ctx.certificates.drawn_for(cert.certificate_id, run.consignment.consignment_id)
    if on_chain != drawn_here:
        run.add(
            INDEX_MISMATCH.finding(
                f"The index shows {drawn_here} {cert.unit} drawn for this consignment, the "
                f"contract holds {on_chain} {cert.unit}.",
                [evidence, *(ev_drawdown(d) for d in mine)],
            )
        )
    return on_chain


CHECKS = (
    ClaimCheck("hash chain equals on-chain head", check_head),
    ClaimCheck(
        "record attribution (chain logs)", check_attribution, needs_policy="check_attribution"
    ),
)
