"""The certificate of origin: does it exist, is it the issuer's unaltered, valid and unrevoked
record, was the issuer authorised, does it cover these goods for this destination and exporter.

The claim's certificate is found by number and issuer, by number alone, by the document's
digest, or as the one certificate the consignment drew on (:func:`find`). The quantity ledger
(:mod:`ledger.verify.checks.quantity`) and the index's record against the contract's
(:func:`ledger.verify.checks.integrity.certificate_state`) are part of the same check,
"certificate of origin".

================================ ======== ===================================================
code                             severity meaning
================================ ======== ===================================================
``CERT_NOT_FOUND``               critical no such certificate of origin on the ledger (forged)
``CERT_DIGEST_MISMATCH``         critical document's keccak256 != the on-chain digest
``CERT_ISSUER_NOT_AUTHORISED``   critical the issuer could not certify this origin at issue time
``CERT_REVOKED``                 critical the certificate was revoked by its issuer
``CERT_EXPIRED``                 critical the verification date is after the validity period
``CERT_NOT_YET_VALID``           critical the verification date is before the validity period
``CERT_HS_MISMATCH``             critical the HS code list does not hash to the on-chain digest
``GOODS_NOT_COVERED``            critical a claimed HS code is not in the certificate's list
``CERT_DESTINATION_MISMATCH``    critical the certificate is for another destination country
``CERT_EXPORTER_MISMATCH``       warning  the consignor is not the certificate's exporter
``CERT_ISSUER_SUSPENDED``        warning  the issuer is suspended now: the certificate still
                                          proves what was issued, but allows no drawdown and
                                          only governance may revoke it
================================ ======== ===================================================
"""

from __future__ import annotations

from eth_utils.crypto import keccak
from sqlalchemy import select

from ledger.errors import InvalidClaim, LedgerError
from ledger.index import CertificateRecord, certificate_revocations, certificates
from ledger.records import CUSTOMS, ISSUING_BODY, HsCode, certificate_id, hs_codes_digest
from ledger.verify.checks import integrity, quantity
from ledger.verify.evidence import KIND_NAMES, ZERO32, date, ev_registration, h
from ledger.verify.findings import Evidence, FindingSpec, Severity
from ledger.verify.run import ClaimCheck, Context, Run

__all__ = ["CHECKS", "FINDINGS", "find"]

CERT_NOT_FOUND = FindingSpec(
    "CERT_NOT_FOUND", Severity.CRITICAL, "Certificate of origin not on the ledger"
)
CERT_DIGEST_MISMATCH = FindingSpec(
    "CERT_DIGEST_MISMATCH", Severity.CRITICAL, "Certificate document altered"
)
CERT_ISSUER_NOT_AUTHORISED = FindingSpec(
    "CERT_ISSUER_NOT_AUTHORISED", Severity.CRITICAL, "Issuer not authorised for the origin"
)
CERT_REVOKED = FindingSpec("CERT_REVOKED", Severity.CRITICAL, "Certificate revoked")
CERT_EXPIRED = FindingSpec("CERT_EXPIRED", Severity.CRITICAL, "Certificate expired")
CERT_NOT_YET_VALID = FindingSpec(
    "CERT_NOT_YET_VALID", Severity.CRITICAL, "Certificate not yet valid"
)
CERT_HS_MISMATCH = FindingSpec(
    "CERT_HS_MISMATCH", Severity.CRITICAL, "HS codes differ from the certificate"
)
GOODS_NOT_COVERED = FindingSpec(
    "GOODS_NOT_COVERED", Severity.CRITICAL, "Goods not covered by the certificate"
)
CERT_DESTINATION_MISMATCH = FindingSpec(
    "CERT_DESTINATION_MISMATCH", Severity.CRITICAL, "Certificate for another destination"
)
CERT_EXPORTER_MISMATCH = FindingSpec(
    "CERT_EXPORTER_MISMATCH", Severity.WARNING, "Consignor is not the certificate's exporter"
)
CERT_ISSUER_SUSPENDED = FindingSpec(
    "CERT_ISSUER_SUSPENDED", Severity.WARNING, "Certificate's issuer is suspended"
)
FINDINGS = (
    CERT_NOT_FOUND,
    CERT_DIGEST_MISMATCH,
    CERT_ISSUER_NOT_AUTHORISED,
    CERT_REVOKED,
    CERT_EXPIRED,
    CERT_NOT_YET_VALID,
    CERT_HS_MISMATCH,
    GOODS_NOT_COVERED,
    CERT_DESTINATION_MISMATCH,
    CERT_EXPORTER_MISMATCH,
    CERT_ISSUER_SUSPENDED,
)


def find(ctx: Context, run: Run) -> CertificateRecord | None:
    cc = run.claim.certificate
    if cc is not None and cc.number is not None:
        if cc.issuer is not None:
            return ctx.index.certificate(certificate_id(cc.issuer, cc.number))
        number_hash = keccak(text=cc.number)
        with ctx.index.engine.connect() as conn:
            row = conn.execute(
                select(certificates.c.certificate_id).where(
                    certificates.c.certificate_number == number_hash
                )
            ).first()
        return None if row is None else ctx.index.certificate(bytes(row[0]))
    if cc is not None and (cc.document is not None or cc.document_digest is not None):
        digest = cc.document_digest or keccak(cc.document or b"")
        with ctx.index.engine.connect() as conn:
            row = conn.execute(
                select(certificates.c.certificate_id).where(
                    certificates.c.document_digest == digest
                )
            ).first()
        return None if row is None else ctx.index.certificate(bytes(row[0]))
    if run.consignment is not None and len(run.drawdowns) == 1:
        return ctx.index.certificate(run.drawdowns[0].certificate_id)
    return None


def _cert_evidence(ctx: Context, cert: CertificateRecord) -> Evidence:
    with ctx.index.engine.connect() as conn:
        row = conn.execute(
            select(certificates.c.log_index).where(
                certificates.c.certificate_id == cert.certificate_id
            )
        ).first()
    return Evidence(
        "certificate",
        h(cert.certificate_id),
        cert.tx_hash,
        cert.block_number,
        None if row is None else int(row[0]),
        f"issued {date(cert.issued_at)} for {cert.quantity} {cert.unit}, "
        f"{cert.origin} -> {cert.destination}",
    )


def check_certificate(ctx: Context, run: Run) -> None:
    cc = run.claim.certificate
    wants = cc is not None or run.claim.hs_codes or run.claim.quantity is not None
    cert = run.found_certificate
    if cert is None:
        if cc is not None:
            what = cc.number or "the presented document"
            run.add(
                CERT_NOT_FOUND.finding(
                    f"No certificate of origin {what} "
                    + ("from that issuer " if cc.issuer is not None else "")
                    + "is recorded on the ledger. A genuine certificate is recorded by its "
                    "issuer when issued: treat this one as forged until the issuer confirms.",
                )
            )
            run.check("certificate exists", len(run.findings) - 1)
        elif wants:
            run.skip("certificate", "the claim names no certificate and none is linked")
        return
    run.certificate = cert
    evidence = _cert_evidence(ctx, cert)
    before = len(run.findings)
    # the index against the contract: record hash, status, drawn quantity
    state = ctx.certificates.certificate(cert.certificate_id)
    integrity.certificate_state(run, cert, state, evidence)
    _cert_document(run, cert, evidence)
    _cert_issuer(ctx, run, cert, evidence)
    issuer = ctx.orgs.get(cert.issuer)
    if issuer is not None and issuer.status == "suspended":
        run.add(
            CERT_ISSUER_SUSPENDED.finding(
                f"The issuer {ctx.org_name(cert.issuer)} is suspended. The certificate still "
                "proves what it recorded when issued, but the ledger refuses drawdowns on it "
                "while the issuer is suspended, and only governance (k of n customs "
                "administrations) may revoke it.",
                [evidence],
            )
        )
    revoked = state.status == 2 or cert.revoked_at is not None
    if revoked:
        run.add(
            CERT_REVOKED.finding(
                "The issuer revoked this certificate of origin"
                + (f" on {date(cert.revoked_at)}" if cert.revoked_at else "")
                + ". It no longer supports any claim of origin.",
                [evidence, *_revocation_evidence(ctx, cert)],
            )
        )
    if run.at < cert.valid_from:
        run.add(
            CERT_NOT_YET_VALID.finding(
                f"The certificate is valid only from {date(cert.valid_from)}; the claim is "
                f"verified for {date(run.at)}.",
                [evidence],
            )
        )
    elif run.at >= cert.valid_until:
        run.add(
            CERT_EXPIRED.finding(
                f"The certificate expired on {date(cert.valid_until)}; the claim is "
                f"verified for {date(run.at)}.",
                [evidence],
            )
        )
    _cert_goods(run, cert, evidence)
    if run.consignment is not None:
        cons = run.consignment
        if cons.destination != cert.destination:
            run.add(
                CERT_DESTINATION_MISMATCH.finding(
                    f"The certificate is for goods going to {cert.destination}, but the "
                    f"consignment is registered for {cons.destination}.",
                    [evidence, ev_registration(cons)],
                )
            )
        if cons.consignor != ZERO32 and cons.consignor != cert.exporter:
            run.add(
                CERT_EXPORTER_MISMATCH.finding(
                    f"The certificate was issued to exporter {ctx.org_name(cert.exporter)}"
                    f" but the consignor is {ctx.org_name(cons.consignor)}.",
                    [evidence, ev_registration(cons)],
                )
            )
    quantity.check_quantity(ctx, run, cert, evidence)
    run.check("certificate of origin", before)


def _revocation_evidence(ctx: Context, cert: CertificateRecord) -> list[Evidence]:
    with ctx.index.engine.connect() as conn:
        row = conn.execute(
            select(certificate_revocations).where(
                certificate_revocations.c.certificate_id == cert.certificate_id
            )
        ).first()
    if row is None:
        return []
    return [
        Evidence(
            "revocation",
            h(cert.certificate_id),
            h(bytes(row.tx_hash)),
            row.block_number,
            row.log_index,
            f"revoked {date(row.block_time)}",
        )
    ]


def _cert_document(run: Run, cert: CertificateRecord, evidence: Evidence) -> None:
    cc = run.claim.certificate
    if cc is None or (cc.document is None and cc.document_digest is None):
        return
    digest = keccak(cc.document) if cc.document is not None else cc.document_digest
    if digest != cert.document_digest:
        run.add(
            CERT_DIGEST_MISMATCH.finding(
                "The certificate document presented is not the one the issuer recorded: "
                f"its digest is {h(digest or b'')}, the ledger holds "
                f"{h(cert.document_digest)}. The document was altered after issue.",
                [evidence],
            )
        )


def _cert_issuer(ctx: Context, run: Run, cert: CertificateRecord, evidence: Evidence) -> None:
    issuer = ctx.orgs.get(cert.issuer)
    problems: list[str] = []
    claimed = (run.claim.origin or cert.origin).upper()
    if issuer is None:
        problems.append("the issuer is not a member organisation")
    else:
        if issuer.kind not in (ISSUING_BODY, CUSTOMS):
            problems.append(f"the issuer is a {KIND_NAMES.get(issuer.kind)}")
        if issuer.country != cert.origin:
            problems.append(f"the issuer is in {issuer.country} but certified origin {cert.origin}")
        if claimed != issuer.country:
            problems.append(
                f"the issuer, in {issuer.country}, cannot certify origin {claimed} as claimed"
            )
        status, _ = ctx.status_at(cert.issuer, (cert.block_number, evidence.log_index or 0))
        if status != 1:
            problems.append("the issuer was suspended when the certificate was recorded")
    key = ctx.key(cert.signer)
    if key.org_id != cert.issuer:
        problems.append("the signing key does not belong to the issuer")
    elif not (key.valid_from <= cert.issued_at < key.valid_until) or (
        key.revoked_at and key.revoked_at <= cert.recorded_at
    ):
        problems.append("the signing key was not valid at the time of issue")
    if problems:
        run.add(
            CERT_ISSUER_NOT_AUTHORISED.finding(
                "The certificate's issuer was not authorised to certify this origin: "
                + "; ".join(problems)
                + ".",
                [evidence],
            )
        )


def _cert_goods(run: Run, cert: CertificateRecord, evidence: Evidence) -> None:
    cc = run.claim.certificate
    try:
        claimed = sorted({HsCode(c) for c in run.claim.hs_codes})
        full = (
            None if cc is None or cc.hs_codes is None else sorted({HsCode(c) for c in cc.hs_codes})
        )
    except LedgerError as exc:
        raise InvalidClaim(f"hs_codes: {exc}") from exc
    if full is not None:
        if hs_codes_digest(full) != cert.hs_codes_digest:
            run.add(
                CERT_HS_MISMATCH.finding(
                    "The HS codes on the presented certificate ("
                    + ", ".join(c.dotted() for c in full)
                    + ") are not the codes the issuer recorded.",
                    [evidence],
                )
            )
            return
        missing = [c for c in claimed if c not in full]
        if missing:
            run.add(
                GOODS_NOT_COVERED.finding(
                    "The certificate does not cover the declared goods "
                    + ", ".join(c.dotted() for c in missing)
                    + "; it covers "
                    + ", ".join(c.dotted() for c in full)
                    + ".",
                    [evidence],
                )
            )
    elif claimed and hs_codes_digest(claimed) != cert.hs_codes_digest:
        run.add(
            CERT_HS_MISMATCH.finding(
                "The declared goods ("
                + ", ".join(c.dotted() for c in claimed)
                + ") are not the HS codes the certificate was issued for. (Present the "
                "certificate's full code list to check a part of it.)",
                [evidence],
            )
        )


CHECKS = (ClaimCheck("certificate of origin", check_certificate, needs_consignment=False),)
