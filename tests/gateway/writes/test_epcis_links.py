"""Which consignment a captured EPCIS event's business transaction names, now that a
consignment id is bound to the organisation that registered the reference."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from eth_utils.crypto import keccak

from gateway.writes.epcis_consignments import consignment_links
from ledger.epcis.events import summarise
from ledger.records import consignment_id, reference_hash

CAPTURER = keccak(text="org:capturer")
CARRIER = keccak(text="org:carrier")
COMPETITOR = keccak(text="org:competitor")
REF = "AU-UCR-2026-000042"

EVENT: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2026-11-20T10:00:00Z",
    "eventTimeZoneOffset": "+00:00",
    "epcList": ["urn:epc:id:sgtin:9520123.011111.1"],
    "action": "OBSERVE",
    "bizStep": "departing",
    "bizLocation": {"id": "urn:un:locode:AUADL"},
    "bizTransactionList": [{"type": "bol", "bizTransaction": f"urn:example:ucr:{REF}"}],
}


def _links(registered: set[bytes], indexed: list[bytes]) -> tuple[list[Any], list[Any]]:
    ledger: Any = SimpleNamespace(consignments=SimpleNamespace(exists=registered.__contains__))
    asked: list[bytes] = []

    def by_reference(ref_hash: bytes) -> list[bytes]:
        asked.append(ref_hash)
        return indexed if ref_hash == reference_hash(REF) else []

    return consignment_links(
        ledger,
        [EVENT],
        summarise([EVENT]),
        nonce=lambda: 7,
        deadline=2_000_000_000,
        capturer=CAPTURER,
        by_reference=by_reference,
    )


def test_the_only_registration_of_a_reference_is_linked() -> None:
    carriers = consignment_id(REF, registrant=CARRIER)
    links, unlinked = _links({carriers}, [carriers])
    assert unlinked == []
    assert [link.record.consignment_id for link in links] == [carriers]


def test_the_capturers_own_registration_comes_first() -> None:
    own = consignment_id(REF, registrant=CAPTURER)
    competitors = consignment_id(REF, registrant=COMPETITOR)
    links, unlinked = _links({own, competitors}, [competitors, own])
    assert unlinked == []
    assert [link.record.consignment_id for link in links] == [own]


def test_a_reference_several_others_registered_is_not_linked() -> None:
    ids = [consignment_id(REF, registrant=r) for r in (CARRIER, COMPETITOR)]
    links, unlinked = _links(set(ids), ids)
    assert links == []
    assert [u.reference for u in unlinked] == [REF]
    assert "registered by 2 organisations" in unlinked[0].reason
