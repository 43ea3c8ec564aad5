"""AEO status and recognition: each operator presented as an Authorised Economic Operator is
recognised by the verifying administration on the date (the AeoRegistry's ``recognition``
view, one batch for all of them), and when it is not, why: not certified, suspended, revoked,
outside its validity, or certified by an administration the verifying one does not recognise
(no MRA, terminated, out of scope).

========================= ======== =========================================================
code                      severity meaning
========================= ======== =========================================================
``AEO_NOT_CERTIFIED``     critical the operator presented as AEO has no AEO certification
``AEO_SUSPENDED``         critical its certification is suspended on the date
``AEO_REVOKED``           critical its certification is revoked
``AEO_EXPIRED``           critical its certification is outside its validity on the date
``AEO_NOT_RECOGNISED``    critical certified, but not recognised by the verifying
                                   administration (no MRA, terminated, out of scope)
``AEO_CERTIFIER_SUSPENDED`` critical certified only by administrations suspended now: their
                                   certifications are recognised by no one (the
                                   contract's rule) while they are suspended
========================= ======== =========================================================
"""

from __future__ import annotations

from sqlalchemy import select

from ledger.errors import InvalidClaim
from ledger.index import aeo_status_changes, mra_events
from ledger.records import CUSTOMS
from ledger.verify.evidence import date, h
from ledger.verify.findings import Evidence, FindingSpec, Severity
from ledger.verify.run import ClaimCheck, Context, Run

__all__ = ["CHECKS", "FINDINGS"]

AEO_NOT_CERTIFIED = FindingSpec("AEO_NOT_CERTIFIED", Severity.CRITICAL, "Operator is not an AEO")
AEO_SUSPENDED = FindingSpec("AEO_SUSPENDED", Severity.CRITICAL, "AEO certification suspended")
AEO_REVOKED = FindingSpec("AEO_REVOKED", Severity.CRITICAL, "AEO certification revoked")
AEO_EXPIRED = FindingSpec(
    "AEO_EXPIRED", Severity.CRITICAL, "AEO certification not valid on the date"
)
AEO_NOT_RECOGNISED = FindingSpec(
    "AEO_NOT_RECOGNISED", Severity.CRITICAL, "AEO not recognised by this administration"
)
AEO_CERTIFIER_SUSPENDED = FindingSpec(
    "AEO_CERTIFIER_SUSPENDED", Severity.CRITICAL, "AEO certified by a suspended administration"
)
FINDINGS = (
    AEO_NOT_CERTIFIED,
    AEO_SUSPENDED,
    AEO_REVOKED,
    AEO_EXPIRED,
    AEO_NOT_RECOGNISED,
    AEO_CERTIFIER_SUSPENDED,
)


def check_aeo(ctx: Context, run: Run) -> None:
    operators = run.claim.aeo_operators
    if not operators:
        run.skip("AEO status", "no operator presented as AEO")
        return
    admin = run.claim.administration
    if admin is None:
        raise InvalidClaim("AEO operators need the verifying administration")
    admin_org = ctx.orgs.get(admin)
    if admin_org is None or admin_org.kind != CUSTOMS:
        raise InvalidClaim("the verifying administration is not a customs administration")
    before = len(run.findings)
    for op in operators:  # one batch request for all of them
        ctx.chain.want_call(ctx.ledger.aeo, "recognition", op, admin, run.at)
    ctx.chain.flush()
    for op in operators:
        recognition = ctx.aeo.recognition(op, admin, run.at)
        if recognition.recognised:
            run.recognised_aeos.append(op)
            continue
        _explain_aeo(ctx, run, op, admin)
    run.check("AEO status and recognition", before)


def _aeo_evidence(ctx: Context, certification_id: bytes) -> list[Evidence]:
    with ctx.index.engine.connect() as conn:
        rows = conn.execute(
            select(aeo_status_changes)
            .where(aeo_status_changes.c.certification_id == certification_id)
            .order_by(aeo_status_changes.c.block_number, aeo_status_changes.c.log_index)
        ).all()
    names = {1: "certified", 2: "suspended", 3: "reinstated", 4: "revoked"}
    return [
        Evidence(
            "aeo",
            h(certification_id),
            h(bytes(r.tx_hash)),
            r.block_number,
            r.log_index,
            f"{names.get(r.action, '?')} {date(r.block_time)}",
        )
        for r in rows
    ]


def _mra_evidence(ctx: Context, mra_id: bytes) -> list[Evidence]:
    with ctx.index.engine.connect() as conn:
        rows = conn.execute(
            select(mra_events)
            .where(mra_events.c.mra_id == mra_id)
            .order_by(mra_events.c.block_number, mra_events.c.log_index)
        ).all()
    return [
        Evidence(
            "mra",
            h(mra_id),
            h(bytes(r.tx_hash)),
            r.block_number,
            r.log_index,
            f"{r.kind} {date(r.block_time)}",
        )
        for r in rows
    ]


def _explain_aeo(ctx: Context, run: Run, op: bytes, admin: bytes) -> None:
    name = ctx.org_name(op)
    statuses = ctx.index.aeo_certifications(op, at=run.at)
    if not statuses:
        run.add(
            AEO_NOT_CERTIFIED.finding(
                f"{name} is presented as an Authorised Economic Operator but no customs "
                f"administration has certified it (as of {date(run.at)}).",
                [Evidence("organisation", h(op))],
            )
        )
        return
    in_force = [s for s in statuses if s.in_force]
    if not in_force:
        s = statuses[-1]
        evidence = _aeo_evidence(ctx, s.certification_id)
        if s.status == "suspended":
            spec, why = AEO_SUSPENDED, f"was suspended on {date(s.changed_at)}"
        elif s.status == "revoked":
            spec, why = AEO_REVOKED, f"was revoked on {date(s.changed_at)}"
        else:
            spec, why = (
                AEO_EXPIRED,
                (f"is valid from {date(s.valid_from)} to {date(s.valid_until)}"),
            )
        run.add(
            spec.finding(
                f"The {s.programme} certification of {name} by "
                f"{ctx.org_name(s.administration)} {why}: it gives no AEO status on "
                f"{date(run.at)}.",
                evidence,
            )
        )
        return

    def suspended(org: bytes) -> bool:
        record = ctx.orgs.get(org)
        return record is not None and record.status == "suspended"

    cut = [s for s in in_force if suspended(s.administration)]
    if len(cut) == len(in_force):
        run.add(
            AEO_CERTIFIER_SUSPENDED.finding(
                f"{name} is certified as AEO only by "
                + ", ".join(sorted({ctx.org_name(s.administration) for s in cut}))
                + ", suspended now: a suspended administration's certifications are "
                "recognised by no one while it is suspended (the certification records stay "
                "on the ledger).",
                [e for s in cut for e in _aeo_evidence(ctx, s.certification_id)],
            )
        )
        return
    reasons: list[str] = []
    proof: list[Evidence] = []
    for s in in_force:
        if suspended(s.administration):
            reasons.append(f"{ctx.org_name(s.administration)}, which certified it, is suspended")
            continue
        proof.extend(_aeo_evidence(ctx, s.certification_id))
        mras = ctx.index.mras_between(s.administration, admin)
        if not mras:
            reasons.append(
                f"no mutual recognition agreement exists between "
                f"{ctx.org_name(s.administration)} and the verifying administration"
            )
            continue
        for m in mras:
            proof.extend(_mra_evidence(ctx, m.mra_id))
            if m.accepted_at is None:
                reasons.append("the MRA was proposed but never accepted")
            elif m.terminated_at is not None and m.terminated_at <= run.at:
                reasons.append(f"the MRA was terminated on {date(m.terminated_at)}")
            elif not m.covers(s.programme):
                reasons.append(
                    f"the MRA covers {', '.join(m.programmes) or 'nothing'}, not {s.programme}"
                )
            elif not m.in_force(run.at):
                reasons.append(
                    f"the MRA is in effect from {date(max(m.valid_from, m.accepted_at))} "
                    f"to {date(m.valid_until)}"
                )
    run.add(
        AEO_NOT_RECOGNISED.finding(
            f"{name} holds an AEO certification, but the verifying administration does not "
            f"recognise it on {date(run.at)}: "
            + "; ".join(sorted(set(reasons)) or ["the contract's recognition query says no"])
            + ".",
            proof,
        )
    )


CHECKS = (ClaimCheck("AEO status and recognition", check_aeo, needs_consignment=False),)
