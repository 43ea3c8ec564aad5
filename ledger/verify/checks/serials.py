"""Item serials: the EPCIS events of a consignment, and their serials neither travelling
elsewhere at the same time (cloned) nor unknown to the brand owner.

By default the events are the EPCIS captures of the index (:mod:`ledger.index.epcis`) that
concern the consignment: a business transaction carrying the claim's consignment reference, or
a hash id that one of its on-chain events commits. Their item serials (SGTINs and other
instance EPCs in ``epcList``, ``childEPCs`` and ``outputEPCList``) are looked up in every
other capture: a sighting during this consignment's journey at a place none of its events is
at, or under another consignment's business transaction, is a cloned serial; a serial whose
product class has commissioning events (the brand owner's registry) but none for it was never
commissioned.

EPCIS events supplied with a claim must hash (:func:`~ledger.verify.registry.epcis_event_hash`)
to an event of the consignment, and their serials are compared through the optional
:class:`~ledger.verify.registry.SerialRegistry` as well.

============================== ======== ====================================================
code                           severity meaning
============================== ======== ====================================================
``EPCIS_HASH_MISMATCH``        critical a supplied EPCIS event matches no on-chain event hash
``CLONED_SERIAL``              critical an item serial also travels in another consignment at
                                        an overlapping time
``SERIAL_NOT_COMMISSIONED``    critical serial absent from the brand owner's list
============================== ======== ====================================================
"""

from __future__ import annotations

from ledger.index import EventRow, Sighting, TimelineEvent, epcis_store
from ledger.verify.evidence import ZERO32, date, ev_event, ev_registration, h
from ledger.verify.findings import Evidence, FindingSpec, Severity
from ledger.verify.registry import epcis_event_hash, epcis_serials
from ledger.verify.run import ClaimCheck, Context, Run

__all__ = ["CHECKS", "FINDINGS", "captured_events", "journey"]

EPCIS_HASH_MISMATCH = FindingSpec(
    "EPCIS_HASH_MISMATCH", Severity.CRITICAL, "EPCIS event not committed on the ledger"
)
CLONED_SERIAL = FindingSpec(
    "CLONED_SERIAL", Severity.CRITICAL, "Item serial seen in another consignment"
)
SERIAL_NOT_COMMISSIONED = FindingSpec(
    "SERIAL_NOT_COMMISSIONED", Severity.CRITICAL, "Item serial never commissioned"
)
FINDINGS = (EPCIS_HASH_MISMATCH, CLONED_SERIAL, SERIAL_NOT_COMMISSIONED)


def journey(run: Run) -> tuple[int, int]:
    """This consignment's journey: its first and last event times (unix seconds)."""
    times = [e.event_time for e in run.timeline] or [run.at]
    return min(times), max(times)


def captured_events(ctx: Context, run: Run) -> list[EventRow]:
    """The captured EPCIS events that concern this consignment (see the module docstring),
    read once per verification (the serial and container checks both use them)."""
    if run.captured is not None:
        return run.captured
    store = epcis_store(ctx.index.engine)
    found: dict[int, EventRow] = {}
    if run.claim.consignment_ref:
        for row in store.events_for_reference(run.claim.consignment_ref):
            found[row.row] = row
    hash_ids = [
        "ni:///sha-256;" + e.epcis_event_hash.hex() + "?ver=CBV2.0"
        for e in run.timeline
        if e.epcis_event_hash != ZERO32
    ]
    for row in store.events_by_ids(hash_ids):
        found[row.row] = row
    run.captured = [found[k] for k in sorted(found)]
    return run.captured


_SERIAL_ROLES = ("epcList", "childEPCs", "outputEPCList")


def _serials_of(row: EventRow) -> set[str]:
    out: set[str] = set()
    for name in _SERIAL_ROLES:
        values = row.event.get(name)
        for value in values if isinstance(values, list) else ():
            if isinstance(value, str) and ("/21/" in value or ":sgtin:" in value):
                out.add(value.strip())
    return out


def _elsewhere(s: Sighting, *, own: set[str], places: set[str], reference: str | None) -> bool:
    if s.hash_id in own:
        return False
    if (
        reference
        and s.biz_transactions
        and not any(
            t == reference or t.endswith(("/" + reference, ":" + reference))
            for t in s.biz_transactions
        )
    ):
        return True
    where = s.biz_location or s.read_point
    return where is not None and where not in places


def check_captured_serials(ctx: Context, run: Run) -> None:
    assert run.consignment is not None
    rows = captured_events(ctx, run)
    if not rows:
        run.skip("captured serials", "no EPCIS capture concerns this consignment")
        return
    before = len(run.findings)
    store = epcis_store(ctx.index.engine)
    first, last = journey(run)
    own = {r.hash_id for r in rows}
    places = {
        p
        for r in rows
        for p in (_place(r.event.get("bizLocation")), _place(r.event.get("readPoint")))
        if p is not None
    }
    evidence = [ev_registration(run.consignment)]
    for serial in sorted({s for r in rows for s in _serials_of(r)}):
        clones = [
            s
            for s in store.sightings(serial)
            if first * 1000 <= s.event_time <= last * 1000
            and _elsewhere(s, own=own, places=places, reference=run.claim.consignment_ref)
        ]
        if clones:
            other = clones[0]
            run.add(
                CLONED_SERIAL.finding(
                    f"Item {serial} is also captured at "
                    f"{other.biz_location or other.read_point} on {date(other.event_time // 1000)}"
                    f" (EPCIS event {other.hash_id}), while this consignment carried it. One "
                    "item cannot be in two places: at least one of them carries a copied serial "
                    "(counterfeit).",
                    [*evidence, *(_ev_sighting(s) for s in clones)],
                )
            )
        if store.commissioning(serial) is False:
            run.add(
                SERIAL_NOT_COMMISSIONED.finding(
                    f"Item {serial} was never commissioned: its brand owner's commissioning "
                    "events cover its product but not this serial.",
                    evidence,
                )
            )
    run.check("captured serials", before)


def _place(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _ev_sighting(s: Sighting) -> Evidence:
    return Evidence("epcis_event", s.hash_id, note=f"{s.epc} in capture {s.capture_id}")


def check_serials(ctx: Context, run: Run) -> None:
    assert run.consignment is not None
    docs = run.claim.epcis_events
    if not docs:
        run.skip("item serials", "the claim supplies no EPCIS events")
        return
    before = len(run.findings)
    by_hash = {e.epcis_event_hash: e for e in run.timeline if e.epcis_event_hash != ZERO32}
    serials: dict[str, TimelineEvent] = {}
    for doc in docs:
        digest = epcis_event_hash(doc)
        event = by_hash.get(digest)
        if event is None:
            run.add(
                EPCIS_HASH_MISMATCH.finding(
                    f"An EPCIS event supplied with the claim (hash {h(digest)}) matches no "
                    "event recorded for this consignment: the item list was not committed "
                    "by the signer, or was altered.",
                    [ev_registration(run.consignment)],
                )
            )
            continue
        for serial in epcis_serials(doc):
            serials.setdefault(serial, event)
    if ctx.serials is None:
        run.skip("cloned serials", "no serial registry configured")
        run.check("EPCIS events", before)
        return
    cid = run.consignment.consignment_id
    first = min((e.event_time for e in run.timeline), default=0)
    last = max((e.event_time for e in run.timeline), default=0)
    for serial, event in sorted(serials.items()):
        clones = [
            s
            for s in ctx.serials.sightings(serial)
            if s.consignment_id != cid and s.first_time <= last and first <= s.last_time
        ]
        if clones:
            other = clones[0]
            run.add(
                CLONED_SERIAL.finding(
                    f"Item {serial} is also reported in consignment "
                    f"{h(other.consignment_id)[:12]}... at {other.location} between "
                    f"{date(other.first_time)} and {date(other.last_time)}, while this "
                    "consignment travelled. One item cannot be in two places: at least one "
                    "of them carries a copied serial (counterfeit).",
                    [
                        ev_event(event),
                        *(
                            Evidence(
                                "event",
                                h(s.consignment_id),
                                s.tx_hash,
                                s.block_number,
                                s.log_index,
                                f"{serial} at {s.location}",
                            )
                            for s in clones
                        ),
                    ],
                )
            )
        if ctx.serials.commissioning(serial) is False:
            run.add(
                SERIAL_NOT_COMMISSIONED.finding(
                    f"Item {serial} is not in its brand owner's list of commissioned "
                    "serials: the brand owner never made it.",
                    [ev_event(event)],
                )
            )
    run.check("item serials", before)


CHECKS = (
    ClaimCheck("captured serials", check_captured_serials),
    ClaimCheck("item serials", check_serials),
)
