"""The packaged code lists are enforced on every write, with no setting: a well-formed
UN/LOCODE that the UN/LOCODE list does not hold, or an HS code that is not an HS 2022
subheading, is a 422 naming the field (custodial bodies, signed events, signed batches)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from eth_account import Account

from gateway.auth import IssuedKey
from gateway.writes.kinds import KIND_PATHS
from gateway.writes.outbox import RecordKind
from ledger.chain import Ledger
from ledger.records import ConsignmentEvent, sign_event_batch
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import body, prepare
from tests.gateway.conftest import auth

UNKNOWN_PLACES = ["AUZZZ", "AUADX", "NLZZZ"]


@pytest.mark.parametrize("place", UNKNOWN_PLACES)
def test_an_unlisted_place_is_422_on_the_custodial_route(
    place: str,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    prep = prepare(ledger, world, RecordKind.EVENT)
    path, headers = KIND_PATHS[RecordKind.EVENT], auth(party_keys["carrier"])
    good = body(RecordKind.EVENT, "carrier", world, prep)
    response = unrelayed_client.post(path, json={**good, "location": place}, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["field"], error["rule"], error["code"]) == (
        "location",
        "unlocode",
        "invalid_locode",
    )
    assert "is not in the UN/LOCODE list" in error["message"]
    assert place in error["message"]
    # A listed code in the same body is accepted (and a real entry that merely looks
    # made up, CNZZZ = Zhengzhoudong Railway Station, is listed).
    for listed in ("CNSGH", "CNZZZ"):
        ok = unrelayed_client.post(path, json={**good, "location": listed}, headers=headers)
        assert ok.status_code == 202, ok.text


def test_an_hs_code_outside_hs_2022_is_422_naming_the_item(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    prep = prepare(ledger, world, RecordKind.CERTIFICATE_ISSUE)
    path, headers = KIND_PATHS[RecordKind.CERTIFICATE_ISSUE], auth(party_keys["chamber"])
    good = body(RecordKind.CERTIFICATE_ISSUE, "chamber", world, prep)
    bad = {**good, "hs_codes": ["2204.21", "2204.99"]}
    response = unrelayed_client.post(path, json=bad, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["field"], error["rule"], error["code"]) == (
        "hs_codes.1",
        "hs2022",
        "invalid_hs_code",
    )
    assert "is not an HS 2022 subheading" in error["message"]
    assert unrelayed_client.post(path, json=good, headers=headers).status_code == 202


def _signed_event(
    client: httpx.Client, key: IssuedKey, data: dict[str, Any], private_key: str, place: str
) -> dict[str, Any]:
    typed = client.post("/typed-data/event", json=data, headers=auth(key))
    assert typed.status_code == 200, typed.text
    full = typed.json()["typed_data"]
    full["message"]["location"] = "0x" + place.encode("ascii").hex()
    signature = Account.sign_typed_data(private_key, full_message=full).signature
    return {"message": full["message"], "signature": "0x" + bytes(signature).hex()}


def test_an_unlisted_place_is_422_on_the_signed_route(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    prep = prepare(ledger, world, RecordKind.EVENT)
    key, carrier = party_keys["carrier"], world.parties["carrier"]
    data = body(RecordKind.EVENT, "carrier", world, prep)
    signed = _signed_event(unrelayed_client, key, data, carrier.private_key, "AUADX")
    response = unrelayed_client.post("/events/signed", json=signed, headers=auth(key))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["rule"]) == ("invalid_locode", "unlocode")
    assert error["field"].endswith("location")
    signed = _signed_event(unrelayed_client, key, data, carrier.private_key, "CNSGH")
    ok = unrelayed_client.post("/events/signed", json=signed, headers=auth(key))
    assert ok.status_code == 202, ok.text


def test_an_unlisted_place_in_a_signed_batch_names_the_event(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    prep = prepare(ledger, world, RecordKind.EVENT)
    key, carrier = party_keys["carrier"], world.parties["carrier"]
    first = body(RecordKind.EVENT, "carrier", world, prep)
    second = {**first, "biz_step": "departing"}
    typed = unrelayed_client.post(
        "/typed-data/event_batch", json={"items": [first, second]}, headers=auth(key)
    )
    assert typed.status_code == 200, typed.text
    answer = typed.json()
    events = answer["events"]
    events[1]["location"] = "0x" + b"AUZZZ".hex()
    # the batch signature covers the events: sign the altered ones with the library
    records = [ConsignmentEvent.from_message(e) for e in events]
    batch = sign_event_batch(records, carrier.private_key, ledger.consignments.domain)
    response = unrelayed_client.post(
        "/events/batch/signed",
        json={"events": events, "signature": "0x" + batch.signature.hex()},
        headers=auth(key),
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "events[1].location"
    assert error["code"] == "invalid_locode"


def test_an_unlisted_place_is_quoted_as_written() -> None:
    from ledger.errors import InvalidLocode
    from ledger.records import Locode, packaged_unlocode

    with pytest.raises(InvalidLocode, match=r"\(got 'AUZZZ'\)"):
        packaged_unlocode().entry(Locode("AUZZZ"))
