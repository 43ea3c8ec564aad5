"""Risk for customs selection, built on the verification engine.

Owns: the per-consignment risk score with its contributions (:mod:`.score`). Verification
does not import it: a caller that wants ``verdict.risk`` passes :func:`score_risk` as the
verifier's ``scorer`` (``ledger.verify.Verifier(..., scorer=score_risk)``; the CLI and the
gateway do).

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
