"""A custodial bulk request looks its consignments up once for the request, not once per
event: one log query (or index query) for every reference, one ``exists`` per consignment,
and events on a consignment that is not on the ledger refused without a simulation each.
The answers are those of the single route (``UnknownConsignment`` 404 with the contract's
message, ``ambiguous_consignment_ref`` 409 naming the field, an event on a registration on
its way accepted)."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any

import httpx
import pytest

from gateway.auth import IssuedKey
from gateway.client import GatewayClient
from gateway.writes.outbox import RecordKind
from ledger.chain import Ledger
from ledger.chain.contracts import ContractClient
from ledger.records import (
    BusinessStep,
    ConsignmentEvent,
    ConsignmentRegistration,
    Locode,
    reference_hash,
)
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import body, chain_now, prepare
from tests.gateway.conftest import auth

UNKNOWN = 40


def _count_chain_reads(monkeypatch: pytest.MonkeyPatch, ledger: Ledger) -> Counter[str]:
    """Contract calls (by function) and log queries made while the counter is in place."""
    counts: Counter[str] = Counter()
    call = ContractClient.call

    def counted_call(self: ContractClient, function: str, *args: Any, **kw: Any) -> Any:
        counts[function] += 1
        return call(self, function, *args, **kw)

    monkeypatch.setattr(ContractClient, "call", counted_call)
    get_logs = ledger.w3.eth.get_logs

    def counted_logs(*args: Any, **kw: Any) -> Any:
        counts["get_logs"] += 1
        return get_logs(*args, **kw)

    monkeypatch.setattr(ledger.w3.eth, "get_logs", counted_logs)
    return counts


def test_a_bulk_on_unknown_consignments_looks_each_up_once(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = party_keys["carrier"]
    good = body(RecordKind.EVENT, "carrier", world, prepare(ledger, world, RecordKind.EVENT))
    tag = secrets.token_hex(4)
    unknown = [dict(good, consignment_ref=f"NO-SUCH-{tag}-{i}") for i in range(UNKNOWN)]
    # The same reference registered by two other organisations: ambiguous for the carrier.
    shared = f"SHARED-{tag}"
    for role in ("exporter", "au"):
        registration = ConsignmentRegistration(
            reference_hash=reference_hash(shared),
            origin=b"AU",
            destination=b"CN",
            deadline=chain_now(ledger) + 3600,
        )
        ledger.consignments.register(ledger.sign(registration, world.parties[role].private_key))
    # A consignment whose registration is accepted but not mined (no relayer here).
    pending = f"PENDING-{tag}"
    registered = unrelayed_client.post(
        "/consignments",
        json={"consignment_ref": pending, "origin": "SG", "destination": "NL"},
        headers=auth(key),
    )
    assert registered.json()["status"] == "accepted"
    single = unrelayed_client.post("/events", json=unknown[0], headers=auth(key))
    assert single.status_code == 404

    items = [
        good,
        *unknown,
        dict(good, consignment_ref=shared),
        dict(good, consignment_ref=pending, biz_step="departing"),
        dict(good, biz_step="arriving"),
    ]
    counts = _count_chain_reads(monkeypatch, ledger)
    response = unrelayed_client.post("/events/bulk", json={"items": items}, headers=auth(key))
    assert response.status_code == 207, response.text
    result = response.json()
    statuses = [item["status"] for item in result["items"]]
    assert statuses == [202] + [404] * UNKNOWN + [409, 202, 202]
    for item in result["items"][1 : 1 + UNKNOWN]:
        assert item["error"]["code"] == "UnknownConsignment"
        assert item["error"]["rule"] == "contract"
    # The same answer as the single route (where the contract itself refused it), but for
    # the consignment id in the message.
    assert result["items"][1]["error"]["message"] == single.json()["error"]["message"]
    ambiguous = result["items"][1 + UNKNOWN]["error"]
    assert (ambiguous["code"], ambiguous["field"]) == (
        "ambiguous_consignment_ref",
        "consignment_ref",
    )
    # Two log queries for all the references (the carrier's own registrations by id, then
    # the registrations of the others' references; they also say which consignments are on
    # chain: no `exists` call), and no simulation of the events on unknown consignments:
    # the events that can pass run as one batch, and again without the event on the pending
    # registration (the chain refuses it; the gateway accepts it, its registration first).
    assert counts["get_logs"] == 2, counts
    assert counts["exists"] == 0, counts
    assert counts["postEvents"] == 2, counts
    assert sum(counts.values()) < 10, counts


def test_a_signed_bulk_looks_consignments_up_only_when_one_is_unknown(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Events signed by the client name their consignment ids: on known consignments the
    request costs one simulation and no lookup; once the simulation names an event on an
    unknown consignment, the others' consignments are looked up once each (not one batch
    simulation per unknown event)."""
    carrier = world.parties["carrier"]
    client = GatewayClient("http://testserver", party_keys["carrier"].token, http=unrelayed_client)
    now = chain_now(ledger)

    def event(i: int, consignment: bytes) -> Any:
        record = ConsignmentEvent(
            consignment_id=consignment,
            biz_step=BusinessStep("sensor_reporting").code,
            location=Locode("CNSHA").to_bytes5(),
            event_time=now - 300 + i,
            nonce=(91 << 8) + i,
            deadline=now + 3600,
        )
        return client.sign(record, carrier.private_key)

    known = [event(i, world.consignment_id) for i in range(5)]
    counts = _count_chain_reads(monkeypatch, ledger)
    result = client.post_events(known)
    assert (result.accepted, result.rejected) == (5, 0)
    assert (counts["exists"], counts["postEvents"]) == (0, 1), counts

    unknown = [event(10 + i, secrets.token_bytes(32)) for i in range(UNKNOWN)]
    tail = [event(100 + i, world.consignment_id) for i in range(3)]
    counts.clear()
    result = client.post_events([unknown[0], *tail[:1], *unknown[1:], *tail[1:]])
    assert (result.accepted, result.rejected) == (3, UNKNOWN)
    codes = {item.error.code for item in result.items if item.error is not None}
    assert codes == {"UnknownConsignment"}
    # The first simulation names the first unknown event; then one lookup per consignment
    # (the known one included) and one simulation of the events that can pass.
    assert counts["postEvents"] == 2, counts
    assert counts["exists"] == UNKNOWN, counts
