"""The verdict model: finding specifications, findings with their evidence, checks, verdicts.

A :class:`FindingSpec` is declared once, in the check module that raises it (see
:mod:`ledger.verify.checks` and :mod:`ledger.verify.bundle.check`), and makes its findings
(:meth:`FindingSpec.finding`). :func:`status_of` turns findings into the verdict's status:
**failed** when any finding is critical, **suspicious** when any is a warning, **verified**
when there is none.

Imports nothing of :mod:`ledger`: the model is shared by the checks, the orchestrator, the
report, the proof bundles and :mod:`ledger.risk`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "Check",
    "Evidence",
    "Finding",
    "FindingSpec",
    "Severity",
    "Verdict",
    "VerdictStatus",
    "jsonable",
    "status_of",
]


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"


class VerdictStatus(StrEnum):
    VERIFIED = "verified"
    SUSPICIOUS = "suspicious"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Evidence:
    """An on-chain record a finding rests on."""

    kind: str  # registration | event | certificate | revocation | drawdown | attestation | ...
    record_id: str  # 0x-hex id (event: "<consignment id>#<seq>")
    tx_hash: str | None = None
    block_number: int | None = None
    log_index: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    title: str
    explanation: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class FindingSpec:
    code: str
    severity: Severity  # the default; signer findings may be raised to critical
    title: str

    def finding(
        self,
        explanation: str,
        evidence: Iterable[Evidence] = (),
        *,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this kind, with its explanation and the records it rests on."""
        return Finding(
            self.code, severity or self.severity, self.title, explanation, tuple(evidence)
        )


@dataclass(frozen=True, slots=True)
class Check:
    """One check and how it went: ``passed``, ``failed`` or ``skipped`` (with why)."""

    name: str
    outcome: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    status: VerdictStatus
    subject: str  # what was verified, in words
    findings: tuple[Finding, ...]
    checks: tuple[Check, ...]
    at: int  # the verification date (unix seconds)
    block_number: int  # chain data up to this block
    consignment_id: bytes | None = None
    certificate_id: bytes | None = None
    # what the verifier's scorer made of the findings (ledger.risk.RiskScore when the caller
    # passes ledger.risk.score_risk); None for bundles and without a scorer
    risk: Any = None
    # the positive evidence: what the ledger holds for the claim (ledger.verify.dossier);
    # None for bundles and when nothing claimed is on the ledger
    record: Any = None
    # 0x org id -> {name, kind, country, status, member} of the organisations named
    organisations: Any = None

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    @property
    def ok(self) -> bool:
        return self.status is VerdictStatus.VERIFIED

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (bytes as 0x-hex)."""
        out: dict[str, Any] = jsonable(asdict(self))
        return out


def jsonable(value: Any) -> Any:
    """``value`` with bytes as 0x-hex, enums as their values, tuples as lists."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def status_of(findings: Iterable[Finding]) -> VerdictStatus:
    severities = {f.severity for f in findings}
    if Severity.CRITICAL in severities:
        return VerdictStatus.FAILED
    if Severity.WARNING in severities:
        return VerdictStatus.SUSPICIOUS
    return VerdictStatus.VERIFIED
