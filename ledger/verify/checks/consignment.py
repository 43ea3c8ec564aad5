"""The consignment a claim is about: finding it on the ledger, and its container.

A claim names its consignment by reference, id or container (:func:`locate`, run before the
checks); a consignment the index lacks is looked up on chain before it is declared missing.
A consignment id is bound to the organisation that registered the reference (keccak256 of
registrant and reference), so one reference may have several registrants: the index maps the
reference to them, and when there is more than one the claim must name its ``registrant``;
otherwise the verifier does not guess and reports ``REFERENCE_AMBIGUOUS``.
The container check compares the claimed container with the consignment's events.

========================== ======== ====================================================
code                       severity meaning
========================== ======== ====================================================
``CONSIGNMENT_NOT_FOUND``  critical no consignment with that reference/id/container
``REFERENCE_AMBIGUOUS``    critical several organisations registered the reference and the
                                    claim names no registrant
``CONTAINER_MISMATCH``     critical claimed container not in the consignment's events
``CONTAINER_CHANGED``      warning  events name different containers
========================== ======== ====================================================
"""

from __future__ import annotations

from ledger.index import TimelineEvent
from ledger.records import consignment_id, reference_hash
from ledger.verify.checks import integrity
from ledger.verify.evidence import ev_event, h
from ledger.verify.findings import Check, Evidence, FindingSpec, Severity
from ledger.verify.run import ClaimCheck, Context, Run

__all__ = ["CHECKS", "FINDINGS", "locate"]

CONSIGNMENT_NOT_FOUND = FindingSpec(
    "CONSIGNMENT_NOT_FOUND", Severity.CRITICAL, "Consignment not on the ledger"
)
REFERENCE_AMBIGUOUS = FindingSpec(
    "REFERENCE_AMBIGUOUS", Severity.CRITICAL, "Reference registered by several organisations"
)
CONTAINER_MISMATCH = FindingSpec(
    "CONTAINER_MISMATCH", Severity.CRITICAL, "Container not in the consignment's events"
)
CONTAINER_CHANGED = FindingSpec(
    "CONTAINER_CHANGED", Severity.WARNING, "Container changed during the journey"
)
FINDINGS = (CONSIGNMENT_NOT_FOUND, REFERENCE_AMBIGUOUS, CONTAINER_MISMATCH, CONTAINER_CHANGED)


def _by_reference(ctx: Context, run: Run, ref: str) -> bytes | None:
    """The consignment id of reference ``ref``: the claim's registrant's, else the only
    registration of the reference in the index. None (with a finding) when no organisation
    or several registered it."""
    registrant = run.claim.registrant
    if registrant is not None:
        return consignment_id(ref, registrant=registrant)
    ref_hash = reference_hash(ref)
    found = ctx.index.consignments_by_reference(ref_hash)
    if len(found) == 1:
        return found[0][0]
    if not found:
        run.add(
            CONSIGNMENT_NOT_FOUND.finding(
                f"No organisation has registered consignment {ref} on the ledger (as indexed; "
                "name the claim's registrant to ask the chain itself).",
                [Evidence("reference", h(ref_hash), note="keccak256 of the reference")],
            )
        )
        return None
    run.add(
        REFERENCE_AMBIGUOUS.finding(
            f"Consignment reference {ref} is registered by {len(found)} organisations, each "
            "with its own consignment: the claim must name its registrant to say which.",
            [Evidence("consignment", h(cid), note=f"registrant {h(org)}") for cid, org in found],
        )
    )
    return None


def locate(ctx: Context, run: Run) -> None:
    """The claim's consignment, its events, attestations and drawdowns, from the index."""
    c = run.claim
    cid: bytes | None = c.consignment_id
    if cid is None and c.consignment_ref:
        cid = _by_reference(ctx, run, c.consignment_ref)
        if cid is None:
            return
    if cid is None and c.container:
        events = ctx.index.events_by_container(c.container)
        if events:
            cid = events[-1].consignment_id
            ids = {e.consignment_id for e in events}
            note = f"latest of {len(ids)} consignment(s) using the container"
            run.checks.append(Check("consignment lookup by container", "passed", note))
        else:
            run.add(
                CONSIGNMENT_NOT_FOUND.finding(
                    f"No event on the ledger names container {c.container}: the ledger "
                    "holds no journey for it.",
                )
            )
            return
    if cid is None:
        return
    view = ctx.index.consignment_view(cid)
    if view is None:
        # the index might be behind or hide it: ask the chain before concluding
        what = c.consignment_ref or h(cid)
        if ctx.consignments.exists(cid):
            integrity.consignment_not_indexed(run, cid, what)
        else:
            run.add(
                CONSIGNMENT_NOT_FOUND.finding(
                    f"Consignment {what} is not registered on the ledger.",
                    [Evidence("consignment", h(cid))],
                )
            )
        return
    run.consignment = view.consignment
    run.timeline = view.timeline
    run.attestations = view.attestations  # confirmed against the contract before the checks
    run.drawdowns = view.drawdowns
    run.consignor_earlier = view.consignor_earlier


def check_container(ctx: Context, run: Run) -> None:
    before = len(run.findings)
    containers = [e.container for e in run.timeline if e.container]
    if run.claim.container:
        wanted = run.claim.container.strip().upper()
        if wanted not in containers:
            run.add(
                CONTAINER_MISMATCH.finding(
                    f"Container {wanted} was never reported for this consignment; its "
                    f"events name {', '.join(sorted(set(containers))) or 'no container'}.",
                    [ev_event(e) for e in run.timeline[:1]],
                )
            )
    previous: TimelineEvent | None = None
    for e in run.timeline:
        if not e.container:
            continue
        if previous is not None and previous.container != e.container:
            run.add(
                CONTAINER_CHANGED.finding(
                    f"The goods moved from container {previous.container} to "
                    f"{e.container} with no recorded unpacking and repacking.",
                    [ev_event(previous), ev_event(e)],
                )
            )
        previous = e
    run.check("container", before)


CHECKS = (ClaimCheck("container", check_container),)
