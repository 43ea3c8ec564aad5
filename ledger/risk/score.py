"""A risk score (0-100) per consignment for customs risk management, with its contributions.

The score is additive and explained line by line, so an officer sees why it is what it is:

==============================================  ======
contribution                                    points
==============================================  ======
base (any claim)                                   +40
consignment on the ledger, every check passed      -15
recognised AEO among the presented operators       -20
  (only for a consignment on the ledger)
clean history: >= 3 earlier consignments of
the consignor, no revoked certificate, no
AEO suspension or revocation                       -10
no earlier consignment of the consignor             +5
each critical finding code                         +35
each warning finding code                          +15
==============================================  ======

A finding code counts once however many times it is raised (``ORIGIN_MISMATCH`` from both
the registered origin and the first loading is one contribution, marked ``(x2)``). A claim
whose consignment is not on the ledger gets neither the AEO credit nor the clean-run credit:
there is nothing for them to vouch for.

The sum is clamped to 0..100. Bands (:data:`BANDS`):

* ``low`` (0-34): verified on the ledger, nothing found; release with documentary checks at
  most. A clean verified consignment always lands here (40 - 15 + 5 = 30 at worst).
* ``medium`` (35-59): something to look at (a warning with facilitation, or an unknown
  consignor without a clean run): documentary check.
* ``high`` (60-100): a critical finding, or several warnings: physical inspection. A failed
  verdict is always ``high`` (at least 60) whatever the facilitation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.verify import Finding, Severity

__all__ = ["BANDS", "Contribution", "RiskScore", "band_of", "score_risk"]

BASE = 40
CLEAN_RUN = -15
AEO_BONUS = -20
CLEAN_HISTORY = -10
NO_HISTORY = 5
CRITICAL_POINTS = 35
WARNING_POINTS = 15
CLEAN_HISTORY_MIN = 3
FAILED_FLOOR = 60

#: (band, lowest score, what it means for the officer), in order.
BANDS: tuple[tuple[str, int, str], ...] = (
    ("low", 0, "verified on the ledger, nothing found: release, documentary checks at most"),
    ("medium", 35, "something to look at: documentary check"),
    ("high", 60, "a critical finding or several warnings: physical inspection"),
)


@dataclass(frozen=True, slots=True)
class Contribution:
    reason: str
    points: int


@dataclass(frozen=True, slots=True)
class RiskScore:
    score: int
    band: str  # low | medium | high
    contributions: tuple[Contribution, ...]
    meaning: str = ""  # what the band means for the officer (BANDS), for pages and reports


def band_of(score: int) -> str:
    """The band of a score (:data:`BANDS`)."""
    band = BANDS[0][0]
    for name, lowest, _meaning in BANDS:
        if score >= lowest:
            band = name
    return band


def score_risk(
    findings: Iterable[Finding],
    *,
    recognised_aeos: int,
    history: tuple[int, bool],
    on_ledger: bool,
) -> RiskScore:
    """Score a claim from its findings, recognised AEOs, the consignor's history (earlier
    consignments, clean record) and whether its consignment is on the ledger."""
    found = list(findings)
    parts = [Contribution("base", BASE)]
    if on_ledger and not found:
        parts.append(Contribution("consignment on the ledger, every check passed", CLEAN_RUN))
    if recognised_aeos and on_ledger:
        parts.append(Contribution("operator recognised as AEO by this administration", AEO_BONUS))
    earlier, clean = history
    if earlier >= CLEAN_HISTORY_MIN and clean:
        parts.append(Contribution(f"clean history ({earlier} earlier consignments)", CLEAN_HISTORY))
    elif earlier == 0:
        parts.append(Contribution("no earlier consignment of the consignor", NO_HISTORY))
    counts = Counter(f.code for f in found)
    severity = {f.code: f.severity for f in found}
    critical = False
    for code, count in counts.items():  # first-raised order (Counter keeps insertion order)
        times = f" (x{count})" if count > 1 else ""
        if severity[code] is Severity.CRITICAL:
            critical = True
            parts.append(Contribution(f"{code}{times} (critical)", CRITICAL_POINTS))
        else:
            parts.append(Contribution(f"{code}{times} (warning)", WARNING_POINTS))
    score = max(0, min(100, sum(p.points for p in parts)))
    if critical:
        score = max(score, FAILED_FLOOR)
    band = band_of(score)
    meaning = next(text for name, _lowest, text in BANDS if name == band)
    return RiskScore(score, band, tuple(parts), meaning)
