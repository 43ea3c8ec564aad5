"""The verdict for a customs officer (plain text) and for programs (JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict

from ledger.verify.evidence import date, h
from ledger.verify.findings import Verdict, VerdictStatus, jsonable

__all__ = ["render_report", "verdict_json"]

_HEADLINE = {
    VerdictStatus.VERIFIED: "VERIFIED: the ledger supports the claim",
    VerdictStatus.SUSPICIOUS: "SUSPICIOUS: the ledger supports the claim only with reservations",
    VerdictStatus.FAILED: "FAILED: the ledger does not support the claim",
}


_BUNDLE_HEADLINE = {
    VerdictStatus.VERIFIED: "VERIFIED: every record of the bundle is on the chain as stated "
    "(this checks the bundle, not a claim)",
    VerdictStatus.SUSPICIOUS: "SUSPICIOUS: the bundle matches the chain only with reservations",
    VerdictStatus.FAILED: "FAILED: the bundle does not match the chain",
}


def render_report(verdict: Verdict, *, bundle: bool = False) -> str:
    """A plain-text report for a customs officer (``bundle``: of a proof bundle's check,
    which tests the bundle against the chain, not a claim)."""
    lines = [
        (_BUNDLE_HEADLINE if bundle else _HEADLINE)[verdict.status],
        f"Subject: {verdict.subject}",
        f"Verified for: {date(verdict.at)}  (chain data up to block {verdict.block_number})",
    ]
    if verdict.consignment_id is not None:
        lines.append(f"Consignment id: {h(verdict.consignment_id)}")
    if verdict.certificate_id is not None:
        lines.append(f"Certificate id: {h(verdict.certificate_id)}")
    risk = verdict.risk
    if risk is not None:
        meaning = getattr(risk, "meaning", "")
        band = f"{risk.band}: {meaning}" if meaning else risk.band
        lines.append(f"Risk score: {risk.score}/100 ({band})")
        for c in risk.contributions:
            lines.append(f"    {c.points:+4d}  {c.reason}")
    lines += _evidence(verdict)
    lines.append("")
    if verdict.findings:
        lines.append(f"Findings ({len(verdict.findings)}):")
        for n, f in enumerate(verdict.findings, start=1):
            lines.append(f"{n}. [{f.severity.upper()}] {f.code}: {f.title}")
            lines.append(f"   {f.explanation}")
            for e in f.evidence:
                where = []
                if e.tx_hash:
                    where.append(f"tx {e.tx_hash}")
                if e.block_number is not None:
                    where.append(f"block {e.block_number}")
                if e.log_index is not None:
                    where.append(f"log {e.log_index}")
                detail = f" ({e.note})" if e.note else ""
                lines.append(f"   - {e.kind} {e.record_id}{detail}: {', '.join(where) or '-'}")
    else:
        lines.append("No findings.")
    lines.append("")
    lines.append("Checks:")
    for c in verdict.checks:
        note = f" ({c.note})" if c.note else ""
        lines.append(f"  [{c.outcome}] {c.name}{note}")
    return "\n".join(lines) + "\n"


def _org(verdict: Verdict, org: str | None) -> str:
    if org is None:
        return "-"
    known = (verdict.organisations or {}).get(org) or {}
    return str(known.get("name") or f"{known.get('kind') or 'organisation'} {org[:12]}...")


def _evidence(verdict: Verdict) -> list[str]:
    """What the ledger holds for the claim (``verdict.record``), in lines."""
    record = verdict.record
    if not record:
        return []
    lines = ["", "On the ledger:"]
    cons = record.get("consignment")
    if cons:
        lines.append(
            f"  consignment {cons['reference'] or cons['consignment_id']}: {cons['origin']} -> "
            f"{cons['destination']}, consignor {_org(verdict, cons['consignor'])}, registered "
            f"by {_org(verdict, cons['registrant'])} (tx {cons['tx_hash']})"
        )
    for e in record.get("journey", []):
        place = e["place"]["name"] + f" ({e['location']})" if e["place"] else e["location"]
        lines.append(
            f"  #{e['seq']} {e['biz_step']} at {place} on {date(e['event_time'])}, signed by "
            f"{_org(verdict, e['org_id'])} (tx {e['tx_hash']}, block {e['block_number']})"
        )
    cert = record.get("certificate")
    if cert:
        lines.append(
            f"  certificate {cert['number'] or cert['certificate_id']}: issued by "
            f"{_org(verdict, cert['issuer'])} to {_org(verdict, cert['exporter'])}, "
            f"{cert['quantity']} {cert['unit']} ({cert['remaining']} left) (tx {cert['tx_hash']})"
        )
    for d in record.get("drawdowns", []):
        lines.append(
            f"  drawdown of {d['quantity']} by {_org(verdict, d['org_id'])} (tx {d['tx_hash']})"
        )
    for a in record.get("attestations", []):
        valid = "valid" if a["valid_at_verification"] else "not valid"
        lines.append(
            f"  {a['schema']} by {_org(verdict, a['attester'])} on {date(a['attested_at'])}, "
            f"{valid} at the verification time (tx {a['tx_hash']})"
        )
    return lines


def verdict_json(verdict: Verdict) -> str:
    """The verdict as JSON text (for ``--json`` output and the gateway)."""
    data = verdict.as_dict()
    if verdict.risk is not None:
        data["risk"] = jsonable(asdict(verdict.risk))
    return json.dumps(data, indent=2, sort_keys=True)
