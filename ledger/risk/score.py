"""A risk score (0-100) per consignment for customs risk management, with its contributions.

The score is additive and explained line by line, so an officer sees why it is what it is:

==========================================  ======
contribution                                points
==========================================  ======
base (any consignment)                         +40
recognised AEO among the presented operators   -20
clean history: >= 3 earlier consignments of
the consignor, no revoked certificate, no
AEO suspension or revocation                   -10
no earlier consignment of the consignor         +5
each critical finding                          +35
each warning finding                           +15
==========================================  ======

The sum is clamped to 0..100. Bands: ``low`` below 25, ``medium`` below 60, ``high`` from 60.
A failed verdict is always ``high`` (at least 60) whatever the facilitation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.verify import Finding, Severity

__all__ = ["Contribution", "RiskScore", "score_risk"]

BASE = 40
AEO_BONUS = -20
CLEAN_HISTORY = -10
NO_HISTORY = 5
CRITICAL_POINTS = 35
WARNING_POINTS = 15
CLEAN_HISTORY_MIN = 3


@dataclass(frozen=True, slots=True)
class Contribution:
    reason: str
    points: int


@dataclass(frozen=True, slots=True)
class RiskScore:
    score: int
    band: str  # low | medium | high
    contributions: tuple[Contribution, ...]


def score_risk(
    findings: Iterable[Finding], *, recognised_aeos: int, history: tuple[int, bool]
) -> RiskScore:
    """Score a consignment from its findings, recognised AEOs and the consignor's history
    (earlier consignments, clean record)."""
    parts = [Contribution("base", BASE)]
    if recognised_aeos:
        parts.append(Contribution("operator recognised as AEO by this administration", AEO_BONUS))
    earlier, clean = history
    if earlier >= CLEAN_HISTORY_MIN and clean:
        parts.append(Contribution(f"clean history ({earlier} earlier consignments)", CLEAN_HISTORY))
    elif earlier == 0:
        parts.append(Contribution("no earlier consignment of the consignor", NO_HISTORY))
    critical = False
    for f in findings:
        if f.severity is Severity.CRITICAL:
            critical = True
            parts.append(Contribution(f"{f.code} (critical)", CRITICAL_POINTS))
        else:
            parts.append(Contribution(f"{f.code} (warning)", WARNING_POINTS))
    score = max(0, min(100, sum(p.points for p in parts)))
    if critical:
        score = max(score, 60)
    band = "low" if score < 25 else "medium" if score < 60 else "high"
    return RiskScore(score, band, tuple(parts))
