"""Required attestations: the customs attestations the verifying administration's policy
requires (by default the export release by the customs of the origin country), present and
valid on the verification date.

========================= ======== ======================================================
code                      severity meaning
========================= ======== ======================================================
``ATTESTATION_MISSING``   critical a required attestation (e.g. export release) is absent,
                                   or was made only after the verification time
``ATTESTATION_REVOKED``   critical required attestation revoked or expired by then
========================= ======== ======================================================

An attestation made after the verification time did not exist then: it is *missing* as of
that time (the explanation says when it was made), never *revoked*.
"""

from __future__ import annotations

from eth_utils.crypto import keccak

from ledger.records import CUSTOMS
from ledger.verify.evidence import date, ev_attestation, ev_registration
from ledger.verify.findings import FindingSpec, Severity
from ledger.verify.run import ClaimCheck, Context, Run

__all__ = ["CHECKS", "FINDINGS"]

ATTESTATION_MISSING = FindingSpec(
    "ATTESTATION_MISSING", Severity.CRITICAL, "Required customs attestation missing"
)
ATTESTATION_REVOKED = FindingSpec(
    "ATTESTATION_REVOKED", Severity.CRITICAL, "Required customs attestation revoked"
)
FINDINGS = (ATTESTATION_MISSING, ATTESTATION_REVOKED)


def check_required_attestations(ctx: Context, run: Run) -> None:
    assert run.consignment is not None
    before = len(run.findings)
    cons = run.consignment
    for definition, whose in ctx.policy.required_attestations:
        schema_id = keccak(text=definition)
        country = cons.origin if whose == "origin" else cons.destination
        name = definition.split("(")[0]
        candidates = [
            a
            for a in run.attestations
            if a.schema_id == schema_id
            and (org := ctx.orgs.get(a.attester)) is not None
            and org.kind == CUSTOMS
            and org.country == country
        ]
        valid = [a for a in candidates if a.valid_at(run.at)]
        if valid:
            continue
        made = [a for a in candidates if a.attested_at <= run.at]
        if candidates and not made:
            first = min(a.attested_at for a in candidates)
            run.add(
                ATTESTATION_MISSING.finding(
                    f"No {name} attestation by the customs of {country} existed on "
                    f"{date(run.at)}: the first was made on {date(first)}, after the "
                    "verification time.",
                    [ev_attestation(a) for a in candidates],
                )
            )
        elif made:
            run.add(
                ATTESTATION_REVOKED.finding(
                    f"The {name} attestation by the customs of {country} was revoked or has "
                    f"expired by {date(run.at)}.",
                    [ev_attestation(a) for a in made],
                )
            )
        else:
            run.add(
                ATTESTATION_MISSING.finding(
                    f"No {name} attestation by the customs administration of {country} is "
                    "recorded for this consignment.",
                    [ev_registration(cons)],
                )
            )
    run.check("required attestations", before)


CHECKS = (ClaimCheck("required attestations", check_required_attestations),)
