"""Origin and route: did the goods start in the claimed origin, and did they pass through a
third country without customs control there (origin laundering).

The claimed origin must be the registered one and the country of the first loading (or, with
no loading, the first departure). Every event in a third country (neither origin nor
destination) needs a valid attestation on the consignment by an active customs administration
of that country: attestation times are block times, events carry their own times, so the
attestation is not required to fall inside the stay.

======================== ======== ========================================================
code                     severity meaning
======================== ======== ========================================================
``ORIGIN_MISMATCH``      critical registered origin or first loading elsewhere
``ORIGIN_UNPROVEN``      warning  no loading or departure event proves where goods left
``ORIGIN_LAUNDERING``    critical transshipment in a third country with no customs there
======================== ======== ========================================================
"""

from __future__ import annotations

from collections import defaultdict

from ledger.index import TimelineEvent
from ledger.records import CUSTOMS
from ledger.verify.evidence import ev_event, ev_registration
from ledger.verify.findings import FindingSpec, Severity
from ledger.verify.run import ClaimCheck, Context, Run

__all__ = ["CHECKS", "DEPARTURE_STEPS", "FINDINGS", "LOADING_STEPS"]

ORIGIN_MISMATCH = FindingSpec(
    "ORIGIN_MISMATCH", Severity.CRITICAL, "Goods did not start in the claimed origin"
)
ORIGIN_UNPROVEN = FindingSpec(
    "ORIGIN_UNPROVEN", Severity.WARNING, "No loading event proves the origin"
)
ORIGIN_LAUNDERING = FindingSpec(
    "ORIGIN_LAUNDERING", Severity.CRITICAL, "Transshipment without customs control"
)
FINDINGS = (ORIGIN_MISMATCH, ORIGIN_UNPROVEN, ORIGIN_LAUNDERING)

LOADING_STEPS = frozenset({"loading"})
DEPARTURE_STEPS = frozenset({"loading", "departing", "shipping", "transporting"})


def check_origin(ctx: Context, run: Run) -> None:
    assert run.consignment is not None
    cons = run.consignment
    before = len(run.findings)
    claimed = (run.claim.origin or cons.origin).upper()
    if cons.origin != claimed:
        run.add(
            ORIGIN_MISMATCH.finding(
                f"The consignment was registered as leaving {cons.origin}, not the claimed "
                f"origin {claimed}.",
                [ev_registration(cons)],
            )
        )
    loading = next((e for e in run.timeline if e.biz_step in LOADING_STEPS), None)
    if loading is None:
        loading = next((e for e in run.timeline if e.biz_step in DEPARTURE_STEPS), None)
    if loading is None:
        run.add(
            ORIGIN_UNPROVEN.finding(
                "No loading or departure event is recorded, so the ledger does not show "
                "where the goods started their journey.",
                [ev_registration(cons)],
            )
        )
    elif loading.location[:2] != claimed:
        run.add(
            ORIGIN_MISMATCH.finding(
                f"The goods were first loaded at {loading.location} in "
                f"{loading.location[:2]}, not in the claimed origin {claimed}.",
                [ev_event(loading)],
            )
        )
    # transshipment through third countries
    # every event counts: goods packed or stored in a third country before their "first"
    # loading are as suspect as goods transshipped there
    third: dict[str, list[TimelineEvent]] = defaultdict(list)
    for e in run.timeline:
        country = e.location[:2]
        if country not in (claimed, cons.origin, cons.destination):
            third[country].append(e)
    for country, events in third.items():
        controls = [
            a
            for a in run.attestations
            if a.valid_at(run.at)
            and (org := ctx.orgs.get(a.attester)) is not None
            and org.kind == CUSTOMS
            and org.country == country
        ]
        if not controls:
            places = sorted({e.location for e in events})
            run.add(
                ORIGIN_LAUNDERING.finding(
                    f"The goods were handled in {country} ({', '.join(places)}), a third "
                    f"country between origin {claimed} and destination {cons.destination}, "
                    f"and no customs administration of {country} attested the consignment. "
                    "Without customs control there the goods may have been swapped or "
                    "re-labelled (origin laundering); the direct transport of originating "
                    "goods is not shown.",
                    [ev_event(e) for e in events],
                )
            )
    run.check("origin and route", before)


CHECKS = (ClaimCheck("origin and route", check_origin),)
