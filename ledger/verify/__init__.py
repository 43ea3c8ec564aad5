"""Verification of claims about goods, and proof bundles checked against any node.

Owns: the claim and verdict model, the checks that raise findings, the orchestrator, the report
and the proof bundles:

* :mod:`.findings` — the verdict model: :class:`FindingSpec`, :class:`Finding`,
  :class:`Evidence`, :class:`Check`, :class:`Verdict`, :func:`status_of`;
* :mod:`.claim` — :class:`Claim`, :class:`CertificateClaim`, :class:`VerificationPolicy`,
  :func:`claim_from_json`;
* :mod:`.checks` — one module per family of checks, each declaring the finding codes it
  raises (with its table); :mod:`.catalogue` — all of them (:data:`CATALOGUE`);
* :mod:`.engine` — the :class:`Verifier` that runs the checks and assembles the verdict,
  :func:`verify_claim`; :mod:`.run` — what a check reads and writes; :mod:`.reads` — the
  batched chain reads; :mod:`.evidence` — evidence of index records;
* :mod:`.dossier` — the positive evidence of a verdict (``verdict.record``) and the names of
  the organisations it names (``verdict.organisations``);
* :mod:`.registry` — a claim's EPCIS events hashed (CBV 2.0), the :class:`SerialRegistry`;
* :mod:`.report` — :func:`render_report`, :func:`verdict_json`;
* :mod:`.bundle` — proof bundles: export, scope, check.

May import: :mod:`ledger.errors`, :mod:`ledger.records`, :mod:`ledger.chain`,
:mod:`ledger.index`, :mod:`ledger.epcis`; never :mod:`ledger.risk`, :mod:`ledger.stack` or the
command line. A risk score is the caller's: pass ``scorer=ledger.risk.score_risk`` to
:class:`Verifier` or :func:`verify_claim`.
"""

from ledger.verify.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    bundle_scope,
    export_bundle,
    load_bundle,
    verify_bundle,
    write_bundle,
)
from ledger.verify.catalogue import CATALOGUE, make_finding
from ledger.verify.checks.custody import AIR_KMH, DISTANCE_SLACK_KM, SEA_KMH
from ledger.verify.claim import (
    CertificateClaim,
    Claim,
    VerificationPolicy,
    claim_from_json,
    claim_names,
)
from ledger.verify.engine import RiskScorer, Verifier, verify_claim
from ledger.verify.findings import (
    Check,
    Evidence,
    Finding,
    FindingSpec,
    Severity,
    Verdict,
    VerdictStatus,
    status_of,
)
from ledger.verify.registry import SerialRegistry, Sighting, epcis_event_hash, epcis_serials
from ledger.verify.report import render_report, verdict_json

__all__ = [
    "AIR_KMH",
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "CATALOGUE",
    "DISTANCE_SLACK_KM",
    "SEA_KMH",
    "CertificateClaim",
    "Check",
    "Claim",
    "Evidence",
    "Finding",
    "FindingSpec",
    "RiskScorer",
    "SerialRegistry",
    "Severity",
    "Sighting",
    "Verdict",
    "VerdictStatus",
    "VerificationPolicy",
    "Verifier",
    "bundle_scope",
    "claim_from_json",
    "claim_names",
    "epcis_event_hash",
    "epcis_serials",
    "export_bundle",
    "load_bundle",
    "make_finding",
    "render_report",
    "status_of",
    "verdict_json",
    "verify_bundle",
    "verify_claim",
    "write_bundle",
]
