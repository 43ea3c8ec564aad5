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


def render_report(verdict: Verdict) -> str:
    """A plain-text report for a customs officer."""
    lines = [
        _HEADLINE[verdict.status],
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


def verdict_json(verdict: Verdict) -> str:
    """The verdict as JSON text (for ``--json`` output and the gateway)."""
    data = verdict.as_dict()
    if verdict.risk is not None:
        data["risk"] = jsonable(asdict(verdict.risk))
    return json.dumps(data, indent=2, sort_keys=True)
