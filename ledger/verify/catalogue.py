"""Every finding code, gathered from the modules that declare them (:data:`CATALOGUE`), and
:func:`make_finding` to raise one by its code.

Each code is declared once, next to the code that raises it: the claim checks
(:mod:`ledger.verify.checks`, each module with its table) and the proof bundle's checks
(:mod:`ledger.verify.bundle.check`, :mod:`ledger.verify.bundle.completeness`). This registry
is their union, in that order; the gateway, the report and :mod:`ledger.risk` read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ledger.verify import checks
from ledger.verify.bundle import check as bundle_check
from ledger.verify.bundle import completeness as bundle_completeness
from ledger.verify.findings import Evidence, Finding, FindingSpec, Severity

__all__ = ["CATALOGUE", "DECLARING_MODULES", "make_finding"]

#: The modules that declare finding codes (each has ``FINDINGS``).
DECLARING_MODULES = (*checks.FAMILIES, bundle_check, bundle_completeness)

#: Every finding code and its specification.
CATALOGUE: Mapping[str, FindingSpec] = {
    spec.code: spec for module in DECLARING_MODULES for spec in module.FINDINGS
}


def make_finding(
    code: str,
    explanation: str,
    evidence: Iterable[Evidence] = (),
    *,
    severity: Severity | None = None,
) -> Finding:
    """A finding of the kind ``code`` (:data:`CATALOGUE`); the checks use their own
    :class:`FindingSpec` constants (:meth:`FindingSpec.finding`)."""
    return CATALOGUE[code].finding(explanation, evidence, severity=severity)
