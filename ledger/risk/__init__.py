"""Risk for customs selection, built on the verification engine.

Owns: the per-consignment risk score with its contributions (:mod:`.score`).

May import: :mod:`ledger.errors`, :mod:`ledger.records`, :mod:`ledger.chain`,
:mod:`ledger.index`, :mod:`ledger.verify`.
"""

from ledger.risk.score import (
    Contribution,
    RiskScore,
    score_risk,
)

__all__ = [
    "Contribution",
    "RiskScore",
    "score_risk",
]
