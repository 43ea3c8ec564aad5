"""The chain of custody: times in order, no silences or unexplained moves, travel that is
physically possible, records entered when they happened.

Travel speed: :data:`SEA_KMH` (60 km/h) between places that are not both airports,
:data:`AIR_KMH` (1,000 km/h) when both are, plus :data:`DISTANCE_SLACK_KM`; only where the
:class:`~ledger.records.LocodeDirectory` has coordinates for both (else the travel time check
is skipped). Thresholds for silences and late records are the
:class:`~ledger.verify.VerificationPolicy`'s.

======================== ======== ========================================================
code                     severity meaning
======================== ======== ========================================================
``CUSTODY_GAP``          warning  location jump without departure/arrival; silence
``TIME_NOT_MONOTONIC``   warning  an event is dated before the event recorded before it
``IMPOSSIBLE_TRAVEL``    critical two locations too far apart for the time between them
``BACKDATED_RECORD``     warning  recorded on chain long after the time it claims
======================== ======== ========================================================
"""

from __future__ import annotations

from typing import Final

from ledger.index import TimelineEvent
from ledger.records import great_circle_km
from ledger.verify.checks.origin import DEPARTURE_STEPS
from ledger.verify.evidence import date, duration, ev_event
from ledger.verify.findings import FindingSpec, Severity
from ledger.verify.run import ClaimCheck, Context, Run

__all__ = ["AIR_KMH", "CHECKS", "DISTANCE_SLACK_KM", "FINDINGS", "SEA_KMH"]

CUSTODY_GAP = FindingSpec("CUSTODY_GAP", Severity.WARNING, "Gap in the chain of custody")
TIME_NOT_MONOTONIC = FindingSpec(
    "TIME_NOT_MONOTONIC", Severity.WARNING, "Event dated before the previous event"
)
IMPOSSIBLE_TRAVEL = FindingSpec(
    "IMPOSSIBLE_TRAVEL", Severity.CRITICAL, "Physically impossible travel time"
)
BACKDATED_RECORD = FindingSpec(
    "BACKDATED_RECORD", Severity.WARNING, "Record entered long after its own date"
)
FINDINGS = (CUSTODY_GAP, TIME_NOT_MONOTONIC, IMPOSSIBLE_TRAVEL, BACKDATED_RECORD)

SEA_KMH: Final = 60.0
AIR_KMH: Final = 1000.0
DISTANCE_SLACK_KM: Final = 50.0
ARRIVAL_STEPS = frozenset({"arriving", "receiving", "unloading", "accepting", "transporting"})


def _max_speed(ctx: Context, a: str, b: str) -> float:
    if ctx.locodes is not None:
        ea, eb = ctx.locodes.get(a), ctx.locodes.get(b)
        if ea is not None and eb is not None and ea.is_airport and eb.is_airport:
            return AIR_KMH
    return SEA_KMH


def check_custody(ctx: Context, run: Run) -> None:
    before = len(run.findings)
    travel_checked = 0
    previous: TimelineEvent | None = None
    for e in run.timeline:
        lag = e.block_time - e.event_time
        if lag > ctx.policy.max_recording_lag:
            run.add(
                BACKDATED_RECORD.finding(
                    f"Event #{e.seq} claims {date(e.event_time)} but was recorded "
                    f"{duration(lag)} later, on {date(e.block_time)}. Late records can "
                    "rewrite history; ask the signer why.",
                    [ev_event(e)],
                )
            )
        if previous is None:
            previous = e
            continue
        dt = e.event_time - previous.event_time
        if dt < 0:
            run.add(
                TIME_NOT_MONOTONIC.finding(
                    f"Event #{e.seq} ({e.biz_step} at {e.location}) is dated "
                    f"{date(e.event_time)}, {duration(dt)} before the event recorded "
                    f"before it ({previous.biz_step} at {previous.location}, "
                    f"{date(previous.event_time)}).",
                    [ev_event(previous), ev_event(e)],
                )
            )
        if dt > ctx.policy.max_event_gap:
            run.add(
                CUSTODY_GAP.finding(
                    f"Nothing was recorded for {duration(dt)} between event #{previous.seq}"
                    f" and event #{e.seq}: the goods' whereabouts are unknown.",
                    [ev_event(previous), ev_event(e)],
                )
            )
        if e.location != previous.location:
            if not (previous.biz_step in DEPARTURE_STEPS and e.biz_step in ARRIVAL_STEPS):
                run.add(
                    CUSTODY_GAP.finding(
                        f"The goods were last recorded at {previous.location} "
                        f"({previous.biz_step}) and next at {e.location} ({e.biz_step}) "
                        "with no departure and arrival recorded in between: custody of "
                        "the goods during that move is not shown.",
                        [ev_event(previous), ev_event(e)],
                    )
                )
            if ctx.locodes is not None:
                a = ctx.locodes.coordinates(previous.location)
                b = ctx.locodes.coordinates(e.location)
                if a is not None and b is not None:
                    travel_checked += 1
                    km = great_circle_km(a, b)
                    speed = _max_speed(ctx, previous.location, e.location)
                    reachable = speed * max(dt, 0) / 3600 + DISTANCE_SLACK_KM
                    if km > reachable:
                        run.add(
                            IMPOSSIBLE_TRAVEL.finding(
                                f"{previous.location} and {e.location} are {km:,.0f} km "
                                f"apart but only {duration(max(dt, 0))} passed between "
                                f"event #{previous.seq} and #{e.seq}: at most "
                                f"{reachable:,.0f} km at {speed:,.0f} km/h. These events "
                                "cannot both be true.",
                                [ev_event(previous), ev_event(e)],
                            )
                        )
        previous = e
    if ctx.locodes is None:
        run.skip("travel times", "no UN/LOCODE directory with coordinates was given")
    elif travel_checked == 0 and len({e.location for e in run.timeline}) > 1:
        run.skip("travel times", "no coordinates for these locations")
    run.check("chain of custody", before)


CHECKS = (ClaimCheck("chain of custody", check_custody),)
