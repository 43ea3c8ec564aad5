"""What a query needs of an EPCIS 2.0 event, read once at capture: :class:`EventSummary`.

Values are canonical, so that a query matches however a document spelt them: business steps
and dispositions as CBV 2.0 web URIs (``shipping`` and ``urn:epcglobal:cbv:bizstep:shipping``
are both ``https://ref.gs1.org/cbv/BizStep-shipping``), GS1 keys (EPC URN or any Digital Link)
as the constrained canonical GS1 Digital Link URI (what the event hash uses), times as UTC
milliseconds. Other identifiers stay as written.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from ledger.epcis.hashing import canonical_time, event_prehash, hash_id_of_prehash, namespaces_of
from ledger.epcis.identifiers import canonical_digital_link
from ledger.epcis.vocabulary import CBV_URN_PREFIXES, VOCAB_TERMS

__all__ = [
    "EPC_ROLES",
    "EventSummary",
    "canonical_epc",
    "canonical_term",
    "exact_json",
    "summarise",
    "time_millis",
]

EPC_ROLES: Final = {
    "epcList": "epc",
    "childEPCs": "child",
    "inputEPCList": "input",
    "outputEPCList": "output",
    "parentID": "parent",
}
"""Where an event names an EPC, and the role it is stored under."""


def exact_json(value: Any) -> str:
    """JSON text with numbers read as :class:`~decimal.Decimal` written exactly as numbers
    (``json`` writes no Decimal itself, and a float would round beyond 15-17 digits, which
    would change an event's hash id)."""
    mark = "\x00" + secrets.token_hex(8)  # no document holds a NUL and this token
    escaped = "\\u0000" + mark[1:]

    def decimal(number: object) -> object:
        if isinstance(number, Decimal):
            return mark + str(number) + mark
        raise TypeError(f"not JSON: {type(number).__name__}")

    text = json.dumps(value, default=decimal, ensure_ascii=False, separators=(",", ":"))
    return text.replace('"' + escaped, "").replace(escaped + '"', "")


def canonical_epc(value: str) -> str:
    """A GS1 key as its canonical Digital Link URI; any other identifier as written."""
    text = value.strip()
    return canonical_digital_link(text) or text


def canonical_term(value: str, vocab: str, context: Any = None) -> str:
    """A CBV word, compact IRI or CBV 1.x URN as its CBV 2.0 web URI; anything else as written."""
    text = value.strip()
    if text in VOCAB_TERMS[vocab]:
        return VOCAB_TERMS[vocab][text]
    prefix, colon, rest = text.partition(":")
    namespaces = namespaces_of(context)
    if colon and not rest.startswith("//") and prefix in namespaces:
        text = namespaces[prefix] + rest
    for urn, web in CBV_URN_PREFIXES:
        if text.startswith(urn):
            return web + text[len(urn) :]
    return text


def time_millis(value: object, *, field: str = "eventTime") -> int:
    """An EPCIS timestamp as UTC milliseconds since the epoch (rounded as the hash rounds)."""
    text = canonical_time(value, field=field)  # YYYY-MM-DDTHH:MM:SS.sssZ
    moment = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1000 + int(text[20:23])


def _id_of(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value).strip() if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True, slots=True)
class EventSummary:
    """One captured event as queries see it (see the module docstring)."""

    index: int  # position in the document's eventList
    event_id: str | None  # the document's eventID, if it has one
    hash_id: str  # ni:///sha-256;...?ver=CBV2.0
    digest: bytes  # the 32-byte SHA-256 inside hash_id
    event_type: str
    event_time: int  # UTC milliseconds
    action: str | None
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    epcs: tuple[tuple[str, str], ...]  # (role, canonical EPC): see EPC_ROLES
    biz_transactions: tuple[str, ...]  # the business transaction ids, as written

    @property
    def all_epcs(self) -> list[str]:
        return [epc for _, epc in self.epcs]


def summarise(events: Sequence[Mapping[str, Any]], context: Any = None) -> list[EventSummary]:
    """The summaries of a document's events, in document order (each must be hashable)."""
    out: list[EventSummary] = []
    for i, event in enumerate(events):
        prehash = event_prehash(event, context)
        hash_id = hash_id_of_prehash(prehash)
        epcs: list[tuple[str, str]] = []
        for name, role in EPC_ROLES.items():
            value = event.get(name)
            values = value if isinstance(value, list) else [value]
            epcs.extend((role, canonical_epc(v)) for v in values if isinstance(v, str) and v)
        transactions = tuple(
            str(t["bizTransaction"]).strip()
            for t in event.get("bizTransactionList") or ()
            if isinstance(t, Mapping) and isinstance(t.get("bizTransaction"), str)
        )
        biz_step, disposition = event.get("bizStep"), event.get("disposition")
        out.append(
            EventSummary(
                index=i,
                event_id=_id_of(event.get("eventID")),
                hash_id=hash_id,
                digest=bytes.fromhex(hash_id.split(";", 1)[1].split("?", 1)[0]),
                event_type=str(event.get("type", "")).strip(),
                event_time=time_millis(event.get("eventTime")),
                action=str(event["action"]) if isinstance(event.get("action"), str) else None,
                biz_step=canonical_term(biz_step, "bizStep", context)
                if isinstance(biz_step, str)
                else None,
                disposition=canonical_term(disposition, "disposition", context)
                if isinstance(disposition, str)
                else None,
                read_point=_id_of(event.get("readPoint")),
                biz_location=_id_of(event.get("bizLocation")),
                epcs=tuple(epcs),
                biz_transactions=transactions,
            )
        )
    return out
