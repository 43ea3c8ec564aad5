"""The quantity ledger of a certificate of origin: drawn for this consignment, not beyond its
total, not reused by other consignments beyond what the policy allows, in a comparable unit.

Part of the "certificate of origin" check (:mod:`ledger.verify.checks.certificate` calls
:func:`check_quantity` once the certificate is found). The drawn quantity is the contract's
(:func:`ledger.verify.checks.integrity.drawn_for`), not only the index's.

============================ ======== =====================================================
code                         severity meaning
============================ ======== =====================================================
``CERT_NOT_DRAWN``           critical the consignment drew nothing on the certificate
``CERT_QUANTITY_EXCEEDED``   critical claimed quantity > quantity drawn for the consignment
``CERT_OVERDRAWN``           critical total drawn > certificate quantity
``CERT_DRAWN_BY_OTHERS``     warning  other consignments drew on it beyond plausibility
``QUANTITY_UNIT_MISMATCH``   critical the claimed unit does not convert to the certificate's
============================ ======== =====================================================
"""

from __future__ import annotations

from ledger.errors import LedgerError
from ledger.index import CertificateRecord
from ledger.verify.checks import integrity
from ledger.verify.evidence import ZERO32, ev_drawdown, ev_registration, h
from ledger.verify.findings import Evidence, FindingSpec, Severity
from ledger.verify.run import Context, Run

__all__ = ["FINDINGS", "check_quantity"]

CERT_NOT_DRAWN = FindingSpec(
    "CERT_NOT_DRAWN", Severity.CRITICAL, "Certificate not drawn for this consignment"
)
CERT_QUANTITY_EXCEEDED = FindingSpec(
    "CERT_QUANTITY_EXCEEDED", Severity.CRITICAL, "Quantity beyond what the certificate covers"
)
CERT_OVERDRAWN = FindingSpec(
    "CERT_OVERDRAWN", Severity.CRITICAL, "Certificate drawn beyond its total"
)
CERT_DRAWN_BY_OTHERS = FindingSpec(
    "CERT_DRAWN_BY_OTHERS", Severity.WARNING, "Certificate also used by other consignments"
)
QUANTITY_UNIT_MISMATCH = FindingSpec(
    "QUANTITY_UNIT_MISMATCH", Severity.CRITICAL, "Quantity unit does not match"
)
FINDINGS = (
    CERT_NOT_DRAWN,
    CERT_QUANTITY_EXCEEDED,
    CERT_OVERDRAWN,
    CERT_DRAWN_BY_OTHERS,
    QUANTITY_UNIT_MISMATCH,
)


def _claimed_quantity(run: Run, cert: CertificateRecord) -> int | None:
    q = run.claim.quantity
    if q is None or isinstance(q, int):
        return q
    try:
        converted = q.to(cert.unit)
    except LedgerError:
        run.add(
            QUANTITY_UNIT_MISMATCH.finding(
                f"The declared quantity {q} cannot be compared with the certificate, "
                f"which is in {cert.unit}.",
            )
        )
        return None
    amount = converted.amount
    return int(amount) if amount == amount.to_integral_value() else int(amount) + 1


def check_quantity(ctx: Context, run: Run, cert: CertificateRecord, evidence: Evidence) -> None:
    if cert.drawn > cert.quantity:
        run.add(
            CERT_OVERDRAWN.finding(
                f"{cert.drawn} {cert.unit} were drawn on a certificate for "
                f"{cert.quantity} {cert.unit}.",
                [evidence, *(ev_drawdown(d) for d in cert.drawdowns)],
            )
        )
    claimed = _claimed_quantity(run, cert)
    if run.consignment is None:
        if claimed is not None and claimed > cert.remaining:
            run.add(
                CERT_QUANTITY_EXCEEDED.finding(
                    f"The certificate has {cert.remaining} {cert.unit} left of "
                    f"{cert.quantity}; it cannot cover {claimed} {cert.unit}.",
                    [evidence],
                )
            )
        return
    cid = run.consignment.consignment_id
    mine = [d for d in cert.drawdowns if d.consignment_id == cid]
    drawn_here = integrity.drawn_for(ctx, run, cert, mine, evidence)
    if not mine:
        run.add(
            CERT_NOT_DRAWN.finding(
                "No quantity of this certificate was drawn for this consignment: the "
                "ledger does not link them. "
                + (
                    f"The certificate is already fully used ({cert.drawn} of "
                    f"{cert.quantity} {cert.unit} drawn by other consignments)."
                    if cert.remaining == 0
                    else f"{cert.remaining} {cert.unit} remain undrawn."
                ),
                [evidence, ev_registration(run.consignment)],
            )
        )
    if claimed is not None and claimed > drawn_here:
        run.add(
            CERT_QUANTITY_EXCEEDED.finding(
                f"The declared {claimed} {cert.unit} exceed the {drawn_here} {cert.unit} "
                f"drawn on the certificate for this consignment (certificate total "
                f"{cert.quantity}, {cert.remaining} left).",
                [evidence, *(ev_drawdown(d) for d in mine)],
            )
        )
    others = [d for d in cert.drawdowns if d.consignment_id != cid]
    if others:
        reasons: list[str] = []
        consignments_count = len({d.consignment_id for d in cert.drawdowns})
        if consignments_count > ctx.policy.max_consignments_per_certificate:
            reasons.append(
                f"{consignments_count} consignments drew on it (policy allows "
                f"{ctx.policy.max_consignments_per_certificate})"
            )
        for d in others:
            other = ctx.index.consignment(d.consignment_id)
            if other is None:
                continue
            if other.origin != cert.origin:
                reasons.append(f"{h(d.consignment_id)[:12]}... starts in {other.origin}")
            if other.consignor not in (ZERO32, cert.exporter) or (
                other.consignor != run.consignment.consignor
            ):
                reasons.append(f"{h(d.consignment_id)[:12]}... has another consignor")
        if reasons:
            run.add(
                CERT_DRAWN_BY_OTHERS.finding(
                    "The certificate was also used for other consignments: "
                    + "; ".join(reasons)
                    + ". A certificate reused across shipments may cover goods that are "
                    "not these.",
                    [evidence, *(ev_drawdown(d) for d in others)],
                )
            )
