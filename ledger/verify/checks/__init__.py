"""The checks a claim goes through, one module per family, each declaring the finding codes it
raises (``FINDINGS``, a :class:`~ledger.verify.findings.FindingSpec` each, with its table in the
module docstring) and its checks (``CHECKS``, :class:`~ledger.verify.run.ClaimCheck`: a name,
what it needs, the function). A code is declared and raised in one module only; "when is
``ORIGIN_LAUNDERING`` raised" is answered by :mod:`.origin`.

In the order :class:`ledger.verify.engine.Verifier` runs them (:data:`CLAIM_CHECKS`):

* :mod:`.integrity` — the index against the chain: hash chain head, record attribution, and
  every index record compared with contract state (``HEAD_MISMATCH``, ``INDEX_MISMATCH``);
* :mod:`.consignment` — finding the consignment, its container (``CONSIGNMENT_NOT_FOUND``,
  ``CONTAINER_*``);
* :mod:`.certificate` — the certificate of origin (``CERT_*``, ``GOODS_NOT_COVERED``), with
  :mod:`.quantity` — its quantity ledger (``CERT_NOT_DRAWN``, ``CERT_QUANTITY_EXCEEDED``,
  ``CERT_OVERDRAWN``, ``CERT_DRAWN_BY_OTHERS``, ``QUANTITY_UNIT_MISMATCH``);
* :mod:`.origin` — origin and route (``ORIGIN_*``);
* :mod:`.custody` — chain of custody and travel times (``CUSTODY_GAP``, ``TIME_NOT_MONOTONIC``,
  ``IMPOSSIBLE_TRAVEL``, ``BACKDATED_RECORD``);
* :mod:`.seals` — seals (``SEAL_CHANGED_WITHOUT_INSPECTION``);
* :mod:`.signers` — signing keys and members (``SIGNER_*``);
* :mod:`.attestations` — required customs attestations (``ATTESTATION_*``);
* :mod:`.serials` — EPCIS events and item serials, from the index's EPCIS captures by default
  (``EPCIS_HASH_MISMATCH``, ``CLONED_SERIAL``, ``SERIAL_NOT_COMMISSIONED``);
* :mod:`.containers` — a container or logistic unit in two consignments or places at once
  (``DUPLICATE_CONTAINER``);
* :mod:`.aeo` — AEO status and recognition (``AEO_*``).

The proof bundle's codes (``BUNDLE_*``) are declared by :mod:`ledger.verify.bundle.check`.

May import: :mod:`ledger.errors`, :mod:`ledger.records`, :mod:`ledger.chain`,
:mod:`ledger.index` (with its EPCIS captures) and the verification model
(:mod:`ledger.verify.findings`,
:mod:`ledger.verify.claim`, :mod:`ledger.verify.evidence`, :mod:`ledger.verify.registry`,
:mod:`ledger.verify.reads`, :mod:`ledger.verify.run`); never the orchestrator or the report.
"""

from ledger.verify.checks import (
    aeo,
    attestations,
    certificate,
    consignment,
    containers,
    custody,
    integrity,
    origin,
    quantity,
    seals,
    serials,
    signers,
)
from ledger.verify.findings import FindingSpec
from ledger.verify.run import ClaimCheck

__all__ = ["CLAIM_CHECKS", "FAMILIES", "FINDINGS"]

#: The check modules, each with its ``FINDINGS``.
FAMILIES = (
    integrity,
    consignment,
    certificate,
    quantity,
    origin,
    custody,
    seals,
    signers,
    attestations,
    serials,
    containers,
    aeo,
)

#: Every code a claim's verification can raise.
FINDINGS: tuple[FindingSpec, ...] = tuple(spec for family in FAMILIES for spec in family.FINDINGS)

#: The checks in the order they run (after the consignment and certificate are located).
CLAIM_CHECKS: tuple[ClaimCheck, ...] = (
    *integrity.CHECKS,
    *consignment.CHECKS,
    *certificate.CHECKS,
    *origin.CHECKS,
    *custody.CHECKS,
    *seals.CHECKS,
    *signers.CHECKS,
    *attestations.CHECKS,
    *serials.CHECKS,
    *containers.CHECKS,
    *aeo.CHECKS,
)
