"""Captured EPCIS events that concern a consignment become that consignment's signed events.

An event concerns a consignment when one of its business transactions carries the
consignment's reference (UCR or carrier reference: the whole ``bizTransaction``, or its last
``/`` or ``:`` segment, names a consignment registered on chain), or else when it names a
freight container (``urn:epc:id:bic:<ISO 6346>``, in ``epcList``, ``parentID`` or
``childEPCs``) that the consignment's latest event up to that time carried (from the index).
Such an event is also written
as a :class:`~ledger.records.ConsignmentEvent` in the consignment's hash chain, signed with the
capturing organisation's custodial key, with the event's CBV 2.0 hash digest as its
``epcisEventHash``: business step and disposition as the CBV words (a step or disposition
outside CBV 2.0 cannot be), the event time, and the place as a UN/LOCODE.

EPCIS names places by GLN/SGLN or any URI and has no UN/LOCODE identifier; the gateway reads
one from ``bizLocation`` (else ``readPoint``) written as ``urn:un:locode:<code>``
(:data:`LOCODE_URN`), and from nowhere else. An event that concerns a consignment but has no
UN/LOCODE place or a non-CBV step is reported as not linked (with the reason) and stays in the
capture only; its commitment proves it all the same.

A consignment id is bound to the organisation that registered the reference, so a reference
names the capturing organisation's own registration of it, else its only registration (from
the index). A reference that several organisations registered, none of them the capturer, is
reported as not linked (the capture cannot say whose consignment it meant).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ledger.chain import Ledger
from ledger.epcis.events import EventSummary
from ledger.errors import ValidationError
from ledger.records import (
    BusinessStep,
    ConsignmentEvent,
    ContainerNumber,
    Disposition,
    Locode,
    consignment_id,
    reference_hash,
)

__all__ = [
    "BIC_URN",
    "LOCODE_URN",
    "ContainerLookup",
    "Link",
    "ReferenceLookup",
    "Unlinked",
    "consignment_links",
]

LOCODE_URN: Final = "urn:un:locode:"
BIC_URN: Final = "urn:epc:id:bic:"

ContainerLookup = Callable[[str, int], bytes | None]
"""(ISO 6346 container, unix time) -> the consignment id whose latest event up to then
carried it, or None."""

ReferenceLookup = Callable[[bytes], list[bytes]]
"""keccak256 of a reference -> the ids of its registrations (every registrant's), e.g. from the
index's ``consignments_by_reference``."""


@dataclass(frozen=True, slots=True)
class Link:
    """A captured event written as an event of consignment ``reference``."""

    event_index: int
    reference: str
    record: ConsignmentEvent


@dataclass(frozen=True, slots=True)
class Unlinked:
    """A captured event that concerns a consignment but cannot be one of its events."""

    event_index: int
    reference: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"event_index": self.event_index, "reference": self.reference, "reason": self.reason}


def _candidates(value: str) -> list[str]:
    text = value.strip()
    out = [text]
    for sep in ("/", ":"):
        tail = text.rsplit(sep, 1)[-1]
        if tail and tail not in out:
            out.append(tail)
    return out


def _registrations(
    ledger: Ledger, ref: str, capturer: bytes, by_reference: ReferenceLookup | None
) -> list[bytes]:
    """The consignments ``ref`` may name for ``capturer``: its own registration when there is
    one, else every registration of the reference."""
    own = consignment_id(ref, registrant=capturer)
    if ledger.consignments.exists(own):
        return [own]
    return [] if by_reference is None else by_reference(reference_hash(ref))


def _reference(
    ledger: Ledger,
    event: Mapping[str, Any],
    known: dict[str, list[bytes]],
    capturer: bytes,
    by_reference: ReferenceLookup | None,
) -> tuple[str, list[bytes]] | None:
    """The first business transaction naming a registered consignment, and its registrations."""
    for t in event.get("bizTransactionList") or ():
        value = t.get("bizTransaction") if isinstance(t, Mapping) else None
        if not isinstance(value, str):
            continue
        for ref in _candidates(value):
            if ref not in known:
                known[ref] = _registrations(ledger, ref, capturer, by_reference)
            if known[ref]:
                return ref, known[ref]
    return None


def _container(event: Mapping[str, Any]) -> str | None:
    values: list[Any] = [event.get("parentID")]
    for name in ("epcList", "childEPCs"):
        items = event.get(name)
        values.extend(items if isinstance(items, list) else ())
    for value in values:
        if isinstance(value, str) and value.strip().startswith(BIC_URN):
            return value.strip()[len(BIC_URN) :]
    return None


def _locode(event: Mapping[str, Any]) -> str | None:
    for name in ("bizLocation", "readPoint"):
        place = event.get(name)
        value = place.get("id") if isinstance(place, Mapping) else None
        if isinstance(value, str) and value.strip().lower().startswith(LOCODE_URN):
            return value.strip()[len(LOCODE_URN) :].upper()
    return None


def consignment_links(
    ledger: Ledger,
    events: Sequence[Mapping[str, Any]],
    summaries: Sequence[EventSummary],
    *,
    nonce: Any,
    deadline: int,
    capturer: bytes,
    by_container: ContainerLookup | None = None,
    by_reference: ReferenceLookup | None = None,
) -> tuple[list[Link], list[Unlinked]]:
    """The consignment events to write for a capture's events, and those that cannot be.

    ``nonce`` gives each record a fresh nonce (``() -> int``); ``capturer`` is the capturing
    organisation (its own registration of a reference comes first); ``by_reference`` finds
    the other registrations of a reference (none: only the capturer's own are linked);
    ``by_container`` finds the consignment of a container (none: events are linked by business
    transaction only)."""
    links: list[Link] = []
    unlinked: list[Unlinked] = []
    known: dict[str, list[bytes]] = {}
    for event, summary in zip(events, summaries, strict=True):
        found = _reference(ledger, event, known, capturer, by_reference)
        ref = None if found is None else found[0]
        box = _container(event)
        if found is not None and len(found[1]) > 1:
            unlinked.append(
                Unlinked(
                    summary.index,
                    found[0],
                    f"reference registered by {len(found[1])} organisations, none of them the "
                    "capturer: whose consignment is meant is not known",
                )
            )
            continue
        cid = found[1][0] if found is not None else None
        if cid is None and box is not None and by_container is not None:
            cid = by_container(box, summary.event_time // 1000)
            ref = None if cid is None else "0x" + cid.hex()
        if ref is None or cid is None:
            continue
        code = _locode(event)
        if code is None:
            unlinked.append(
                Unlinked(
                    summary.index,
                    ref,
                    f"no UN/LOCODE place: bizLocation or readPoint as {LOCODE_URN}<code>",
                )
            )
            continue
        try:
            step = BusinessStep(str(event.get("bizStep", "")))
            disposition = event.get("disposition")
            record = ConsignmentEvent(
                consignment_id=cid,
                biz_step=step.code,
                disposition=Disposition(str(disposition)).code if disposition else 0,
                location=Locode(code).to_bytes5(),
                event_time=summary.event_time // 1000,
                container=ContainerNumber(box).to_bytes11() if box else bytes(11),
                seal_digest=bytes(32),
                epcis_event_hash=summary.digest,
                nonce=nonce(),
                deadline=deadline,
            )
        except ValidationError as exc:
            unlinked.append(Unlinked(summary.index, ref, str(exc)))
            continue
        links.append(Link(summary.index, ref, record))
    return links, unlinked
