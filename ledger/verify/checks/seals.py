"""Seals: a container's seal may change only under customs control.

A seal that changes between two events needs an inspection attestation
(:attr:`~ledger.verify.VerificationPolicy.inspection_schema`), valid on the verification date,
by a customs administration of either event's country, recorded after the earlier event;
each inspection covers one change.

===================================== ======== ================================================
code                                  severity meaning
===================================== ======== ================================================
``SEAL_CHANGED_WITHOUT_INSPECTION``   critical a new seal with no customs inspection attestation
===================================== ======== ================================================
"""

from __future__ import annotations

from eth_utils.crypto import keccak

from ledger.index import TimelineEvent
from ledger.records import CUSTOMS
from ledger.verify.evidence import ZERO32, ev_event
from ledger.verify.findings import FindingSpec, Severity
from ledger.verify.run import ClaimCheck, Context, Run

__all__ = ["CHECKS", "FINDINGS"]

SEAL_CHANGED_WITHOUT_INSPECTION = FindingSpec(
    "SEAL_CHANGED_WITHOUT_INSPECTION", Severity.CRITICAL, "Seal changed without inspection"
)
FINDINGS = (SEAL_CHANGED_WITHOUT_INSPECTION,)


def check_seals(ctx: Context, run: Run) -> None:
    before = len(run.findings)
    inspection_schema = keccak(text=ctx.policy.inspection_schema)
    inspections = [
        a
        for a in run.attestations
        if a.schema_id == inspection_schema
        and a.valid_at(run.at)
        and (org := ctx.orgs.get(a.attester)) is not None
        and org.kind == CUSTOMS
    ]
    used: set[bytes] = set()
    last: TimelineEvent | None = None
    for e in run.timeline:
        if e.seal_digest == ZERO32:
            continue
        if last is not None and e.seal_digest != last.seal_digest:
            countries = {last.location[:2], e.location[:2]}
            cover = next(
                (
                    a
                    for a in inspections
                    if a.uid not in used
                    and ctx.orgs[a.attester].country in countries
                    and (a.block_number, a.log_index) > (last.block_number, last.log_index)
                ),
                None,
            )
            if cover is None:
                run.add(
                    SEAL_CHANGED_WITHOUT_INSPECTION.finding(
                        f"The seal changed between event #{last.seq} ({last.location}) and "
                        f"event #{e.seq} ({e.location}) and no customs administration of "
                        f"{' or '.join(sorted(countries))} recorded an inspection. The "
                        "container was opened outside customs control.",
                        [ev_event(last), ev_event(e)],
                    )
                )
            else:
                used.add(cover.uid)
        last = e
    run.check("seals", before)


CHECKS = (ClaimCheck("seals", check_seals),)
