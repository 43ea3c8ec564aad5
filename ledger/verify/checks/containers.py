"""Containers: one container cannot travel in two consignments, or be in two places, at once.

Run by default, from the index: every ISO 6346 container this consignment's events name is
looked up in the other consignments' events (the index keeps the container of every event);
another consignment that has the same container at any time within this consignment's journey
(first to last event), at another place, is a duplicated container. Where EPCIS captures name
a logistic unit (an SSCC or other parent of an aggregation) of this consignment's captured
events, the unit's sightings in other places within the journey count the same way.

============================== ======== ====================================================
code                           severity meaning
============================== ======== ====================================================
``DUPLICATE_CONTAINER``        critical the same container or logistic unit is recorded for
                                        another consignment, or at another place, while this
                                        consignment travelled
============================== ======== ====================================================
"""

from __future__ import annotations

from sqlalchemy import select

from ledger.index import consignment_events, epcis_store
from ledger.verify.checks.serials import captured_events, journey
from ledger.verify.evidence import date, ev_event, h
from ledger.verify.findings import Evidence, FindingSpec, Severity
from ledger.verify.run import ClaimCheck, Context, Run

__all__ = ["CHECKS", "FINDINGS"]

DUPLICATE_CONTAINER = FindingSpec(
    "DUPLICATE_CONTAINER", Severity.CRITICAL, "Container recorded in two places at once"
)
FINDINGS = (DUPLICATE_CONTAINER,)


def check_containers(ctx: Context, run: Run) -> None:
    assert run.consignment is not None
    before = len(run.findings)
    if not run.timeline:
        run.skip("containers", "the consignment has no events")
        return
    first, last = journey(run)
    cid = run.consignment.consignment_id
    mine = {e.container: e for e in run.timeline if e.container}
    places = {e.location for e in run.timeline}
    c = consignment_events.c
    with ctx.index.engine.connect() as conn:
        rows = conn.execute(
            select(c.consignment_id, c.location, c.event_time, c.tx_hash)
            .add_columns(c.block_number, c.log_index, c.container)
            .where(c.container.in_(list(mine)))
            .where(c.consignment_id != cid)
            .where(c.event_time >= first)
            .where(c.event_time <= last)
            .order_by(c.event_time)
        ).all()
    reported: set[bytes] = set()
    for r in rows:
        other = bytes(r.consignment_id)
        if other in reported:
            continue
        reported.add(other)
        event = mine[r.container]
        run.add(
            DUPLICATE_CONTAINER.finding(
                f"Container {r.container} is recorded for consignment {h(other)[:12]}... at "
                f"{r.location} on {date(r.event_time)}, while this consignment carried it "
                f"({date(first)} to {date(last)}). One container cannot travel in two "
                "consignments at once: one of the records is false, or the container number "
                "was duplicated.",
                [
                    ev_event(event),
                    Evidence(
                        "event",
                        h(other),
                        h(bytes(r.tx_hash)),
                        r.block_number,
                        r.log_index,
                        f"{r.container} at {r.location}",
                    ),
                ],
            )
        )
    units = _captured_units(ctx, run)
    store = epcis_store(ctx.index.engine)
    own = {row.hash_id for row in captured_events(ctx, run)}
    for unit in sorted(units):
        for s in store.sightings(unit):
            if s.hash_id in own or not first * 1000 <= s.event_time <= last * 1000:
                continue
            if s.biz_location is None or s.biz_location in places:
                continue
            run.add(
                DUPLICATE_CONTAINER.finding(
                    f"Logistic unit {unit} is also captured at {s.biz_location} on "
                    f"{date(s.event_time // 1000)} (EPCIS event {s.hash_id}), while this "
                    "consignment carried it.",
                    [Evidence("epcis_event", s.hash_id, note=f"capture {s.capture_id}")],
                )
            )
            break
    run.check("containers", before)


def _captured_units(ctx: Context, run: Run) -> set[str]:
    """The logistic units (aggregation parents) of this consignment's captured events."""
    units: set[str] = set()
    for row in captured_events(ctx, run):
        parent = row.event.get("parentID")
        if isinstance(parent, str) and parent.strip():
            units.add(parent.strip())
    return units


CHECKS = (ClaimCheck("containers", check_containers),)
