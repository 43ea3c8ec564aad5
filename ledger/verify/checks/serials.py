"""Item serials: the EPCIS events supplied with a claim committed on chain, and their serials
neither travelling elsewhere at the same time (cloned) nor unknown to the brand owner.

The EPCIS events must hash (:func:`~ledger.verify.registry.epcis_event_hash`) to an event of the
consignment; their serials are compared through the optional
:class:`~ledger.verify.registry.SerialRegistry`. Without EPCIS events the check is skipped,
without a registry the cloned-serial part is.

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

from ledger.index import TimelineEvent
from ledger.verify.evidence import ZERO32, date, ev_event, ev_registration, h
from ledger.verify.findings import Evidence, FindingSpec, Severity
from ledger.verify.registry import epcis_event_hash, epcis_serials
from ledger.verify.run import ClaimCheck, Context, Run

__all__ = ["CHECKS", "FINDINGS"]

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


CHECKS = (ClaimCheck("item serials", check_serials),)
