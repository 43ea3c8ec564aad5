"""Risk selection over the declarations lodged with an administration.

The history is the administration's inspected declarations (their inspection results are the
labels); the candidates are the declarations lodged with it that are not inspected yet and not
amended since (an amended declaration is judged by its latest version). They are scored by the
trained model (``ledger risk train``, kept in ``risk_model_dir``) and selected at the asked rate
with an exploration share (``ledger.risk.RiskModel.select``).

Beside the model's reasons, each selected declaration carries the ledger's findings behind
it: the verification of its consignment and of the certificate of origin behind a preference
claim (``ledger.verify``, when the gateway has an index), and AEO status. An AEO credit is
granted only when the declarant is certified and recognised by the administration on the
declaration's date (``AeoRegistry.recognition`` at ``lodgedAt``), and is a bounded reduction of
the score (``ledger.risk.MAX_CREDIT``), never an exemption. The findings also move the score,
for every candidate that names a consignment or claims a preference: a critical finding on its
consignment or certificate raises it by ``UPLIFT_CRITICAL``, a warning by ``UPLIFT_WARNING``
(bounded by ``ledger.risk.MAX_UPLIFT``), since the declaration history cannot show what the
ledger contradicts; the selected declaration's reasons say so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gateway.errors import Conflict
from gateway.writes.declaration_store import Inspection, StoredDeclaration
from gateway.writes.ledger_services import LedgerServices

__all__ = [
    "UPLIFT_CRITICAL",
    "UPLIFT_WARNING",
    "LedgerView",
    "describe_model",
    "load_model",
    "select",
    "training_frame",
]

UPLIFT_CRITICAL = 0.3
"""Score rise for a critical finding on the declaration's consignment or certificate."""
UPLIFT_WARNING = 0.1
"""Score rise for a warning finding (and no critical one)."""


def _risk_row(s: StoredDeclaration, inspection: Inspection | None) -> dict[str, Any]:
    v = s.values
    fraud = None if inspection is None else inspection.result != "no_irregularity"
    critical = None if inspection is None else inspection.result == "critical_fraud"
    return {
        "declaration_id": s.declaration_id,
        "date": dt.date.fromisoformat(v.date),
        "office_id": v.office,
        "process_type": v.procedure,
        "import_type": v.import_type,
        "import_use": "",
        "payment_type": "",
        "transport_mode": v.transport_mode,
        "declarant_id": v.declarant,
        "importer_id": v.importer,
        "seller_id": v.seller,
        "courier_id": v.courier,
        "hs6": v.hs6,
        "departure_country": v.departure_country,
        "origin_country": v.origin_country,
        "tax_rate": float("nan"),
        "tax_type": v.tax_type,
        "origin_indicator": "",
        "net_mass_kg": float(v.net_mass_kg),
        "item_price": float(v.item_price),
        "fraud": fraud,
        "critical": critical,
    }


def training_frame(stored: Sequence[StoredDeclaration], inspections: dict[str, Inspection]) -> Any:
    """The inspected declarations as the risk engine's labelled table."""
    from ledger.risk import Declaration, declarations_frame

    rows = [
        Declaration(**_risk_row(s, inspections[s.declaration_id]))
        for s in stored
        if s.declaration_id in inspections
    ]
    return declarations_frame(rows)


# Findings of the certificate checks (``ledger.verify.checks.certificate`` and ``quantity``).
_CERTIFICATE_CODES = ("CERT_", "GOODS_NOT_COVERED", "QUANTITY_")


def _finding(source: str, code: str, severity: str, text: str) -> dict[str, Any]:
    return {"source": source, "code": code, "severity": severity, "text": text}


class LedgerView:
    """What the ledger says about declarations lodged with ``administration``: the AEO
    credit (one recognition call per declarant and day, cached) and the verification
    findings (only for the declarations selected)."""

    def __init__(self, chain: LedgerServices, *, administration: str) -> None:
        self.chain = chain
        self.administration = administration
        self._admin = bytes.fromhex(administration[2:])
        self._recognised: dict[tuple[str, int], bool] = {}
        self._verified: dict[str, list[dict[str, Any]]] = {}

    def recognised(self, s: StoredDeclaration) -> bool:
        """Whether the declarant is an AEO certified and recognised by the administration
        on the declaration's date (the day it was lodged)."""
        key = (s.values.declarant, s.lodged_at // 86_400)
        hit = self._recognised.get(key)
        if hit is None:
            declarant = bytes.fromhex(s.values.declarant[2:])
            recognition = self.chain.ledger.aeo.recognition(declarant, self._admin, s.lodged_at)
            hit = self._recognised[key] = recognition.recognised
        return hit

    def credit(self, s: StoredDeclaration) -> float:
        from ledger.risk import MAX_CREDIT

        return MAX_CREDIT if self.recognised(s) else 0.0

    def uplift(self, s: StoredDeclaration) -> float:
        """The score rise the ledger's findings on the declaration's consignment and
        certificate bring (0 without a consignment or preference claim)."""
        severities = {f["severity"] for f in self.ledger_findings(s)}
        if "critical" in severities:
            return UPLIFT_CRITICAL
        return UPLIFT_WARNING if "warning" in severities else 0.0

    def findings(self, s: StoredDeclaration) -> list[dict[str, Any]]:
        """The findings on the declaration's consignment and certificate, and its AEO status."""
        from ledger.risk import MAX_CREDIT

        findings = list(self.ledger_findings(s))
        if self.recognised(s):
            findings.append(
                _finding(
                    "aeo",
                    "aeo_recognised",
                    "info",
                    "the declarant is an AEO recognised by this administration on the "
                    f"declaration's date: a credit of at most {MAX_CREDIT:.2f} on the score, "
                    "not an exemption",
                )
            )
        return findings

    def ledger_findings(self, s: StoredDeclaration) -> list[dict[str, Any]]:
        """The verifier's findings on the consignment and the certificate behind a
        preference claim, as of the declaration's date (once per declaration)."""
        hit = self._verified.get(s.declaration_id)
        if hit is None:
            hit = self._verified[s.declaration_id] = self._verify(s)
        return hit

    def _verify(self, s: StoredDeclaration) -> list[dict[str, Any]]:
        v = s.values
        chain = self.chain
        findings: list[dict[str, Any]] = []
        if chain.index is not None and (v.consignment_ref or v.preference_claimed):
            from ledger.verify import Verifier
            from ledger.verify.claim import CertificateClaim, Claim

            claim = Claim(
                consignment_ref=v.consignment_ref or None,
                certificate=(
                    CertificateClaim(
                        number=v.certificate_number,
                        issuer=bytes.fromhex(v.certificate_issuer[2:]),
                    )
                    if v.preference_claimed
                    else None
                ),
                origin=v.origin_country,
                hs_codes=(v.hs6,),
                administration=self._admin,
                at=s.lodged_at,
            )
            verdict = Verifier(chain.ledger, chain.index).verify(claim, sync=False)
            for f in verdict.findings:
                source = "certificate" if f.code.startswith(_CERTIFICATE_CODES) else "consignment"
                findings.append(_finding(source, f.code, str(f.severity), f.explanation))
        elif v.preference_claimed:
            state = chain.ledger.certificates.certificate(v.certificate_id())
            if state.status == 0:
                findings.append(
                    _finding(
                        "certificate",
                        "CERT_NOT_FOUND",
                        "critical",
                        "the certificate of origin behind the preference claim is not on the "
                        "ledger",
                    )
                )
        return findings


def load_model(model_dir: Path) -> Any:
    """The trained model in ``model_dir`` (409 ``no_risk_model`` without one)."""
    from ledger.risk import RiskModel

    try:
        return RiskModel.load(model_dir)
    except (OSError, ValueError) as exc:
        message = f"there is no trained risk model in {model_dir}"
        raise Conflict(
            message + ": train one with `ledger risk train --out DIR`",
            code="no_risk_model",
        ) from exc


def select(
    stored: Sequence[StoredDeclaration],
    inspections: dict[str, Inspection],
    *,
    model: Any,
    rate: float,
    exploration: float,
    seed: int,
    credit: Callable[[StoredDeclaration], float],
    findings: Callable[[StoredDeclaration], list[dict[str, Any]]],
    uplift: Callable[[StoredDeclaration], float] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The selection (items with score, reasons and findings) and the number considered.

    ``credit`` and ``uplift`` are asked for every candidate (they move the ranking),
    ``findings`` only for the declarations selected."""
    from ledger.risk import Declaration, declarations_frame

    amended = {s.amends for s in stored if s.amends}
    candidates = [
        s for s in stored if s.declaration_id not in inspections and s.declaration_id not in amended
    ]
    if not candidates:
        return [], 0
    history = training_frame(stored, inspections)
    frame = declarations_frame([Declaration(**_risk_row(s, None)) for s in candidates])
    by_id = {s.declaration_id: s for s in candidates}
    credits = {s.declaration_id: c for s in candidates if (c := credit(s))}
    uplifts = (
        {} if uplift is None else {s.declaration_id: u for s in candidates if (u := uplift(s))}
    )
    picked = model.select(
        history,
        frame,
        rate=rate,
        exploration=exploration,
        seed=seed,
        credits=credits,
        uplifts=uplifts,
    )
    items = [
        {
            "declaration_id": p.declaration_id,
            "declaration_number": by_id[p.declaration_id].values.declaration_number,
            "score": p.score,
            "by": "model" if p.by == "risk" else "exploration",
            "reasons": [r.text for r in p.reasons] + _uplift_reason(uplifts, p.declaration_id),
            "findings": findings(by_id[p.declaration_id]),
        }
        for p in picked
    ]
    return items, len(candidates)


def _uplift_reason(uplifts: dict[str, float], declaration_id: str) -> list[str]:
    rise = uplifts.get(declaration_id)
    if not rise:
        return []
    kind = "a critical finding" if rise >= UPLIFT_CRITICAL else "a warning"
    return [
        f"the ledger holds {kind} on its consignment or certificate (score +{rise:.2f}; "
        "see the findings)"
    ]


def describe_model(model: Any) -> str:
    """What scored the declarations, in words: the model and what it was trained on."""
    meta = model.metadata
    text = f"LightGBM, trained {meta.get('trained_at', 'at an unrecorded time')}"
    data = meta.get("data") or {}
    return f"{text} on {data['rows']:,} declarations" if "rows" in data else text
