"""The node under gateway A killed with ``kill -9`` during an ingest through A: A reports not
ready (``/readyz`` 503, its ``rpc`` check failing) while the node is down, and recovers by
itself when the node is back -- the same gateway process, never restarted. A client that sends
anyway gets its records taken into the outbox or a 503, and retries under the same
idempotency keys; every accepted event is on chain exactly once (0 lost, 0 duplicated), and
A's index holds each once.

Records that A had sent to its node before the kill may have been lost with the node's
transaction pool: A must send the same signed transactions again, not new ones.
"""

from __future__ import annotations

import secrets
import time

import pytest

from gateway.client import GatewayClient
from gateway.errors import ServiceUnavailable
from ledger.records import ConsignmentEvent, SignedRecord
from tests.network.conftest import AU, RPC_NODE, Gateways, Parties, restore
from tests.network.consortium import (
    GatewayProcess,
    Ingest,
    assert_exactly_once,
    attach,
    ingest,
    record_statuses,
    register_consignment,
    sensor_events,
    wait_for,
)

pytestmark = pytest.mark.network

TOTAL = 1000
CHUNK = 100
KILL_BEFORE_CHUNK = 3
DOWN_PROBES = 5


class NodeOutage:
    """Before chunk ``KILL_BEFORE_CHUNK``: kill node 0, watch A while it is down (and send
    that chunk once, as a client that does not look at /readyz), start the node again and
    wait for A to be ready by itself."""

    def __init__(
        self,
        parties: Parties,
        gateway: GatewayProcess,
        client: GatewayClient,
        events: list[SignedRecord[ConsignmentEvent]],
        label: str,
    ) -> None:
        self.net = parties.consortium.net
        self.gateway = gateway
        self.client = client
        self.events = events
        self.label = label
        assert gateway.process is not None
        self.pid = gateway.process.pid
        self.while_down: str | None = None
        self.in_flight_at_kill: list[str] = []

    def __call__(self, chunk: int, so_far: Ingest) -> None:
        if chunk != KILL_BEFORE_CHUNK:
            return
        net, a = self.net, self.gateway
        net.stop_node(AU, hard=True)
        assert net.pid(AU) is None
        # The records of the last chunk are still on their way (3 confirmations needed).
        statuses = record_statuses(self.client)
        self.in_flight_at_kill = [
            r for r in so_far.record_ids[-CHUNK:] if statuses[r].status != "confirmed"
        ]
        assert self.in_flight_at_kill, "every record was confirmed before the kill"
        status, body = wait_for(
            "A to report not ready",
            lambda: (lambda r: r if r[0] != 200 else None)(a.readyz()),
            timeout=60,
        )
        assert status == 503
        assert "rpc" in body["failing"], body
        for _ in range(DOWN_PROBES):  # not ready for as long as the node is down
            time.sleep(1)
            assert a.readyz()[0] == 503
        part = self.events[chunk * CHUNK : (chunk + 1) * CHUNK]
        try:
            answer = self.client.post_events(part, idempotency_key=f"{self.label}-{chunk}")
        except ServiceUnavailable as exc:
            self.while_down = f"503 {exc.code}"
        else:
            assert answer.accepted == len(part), answer
            self.while_down = "accepted"
        net.start_node(AU)
        wait_for("A to be ready again", lambda: a.readyz()[0] == 200, timeout=180, poll=1.0)
        assert a.process is not None
        assert a.process.poll() is None
        assert a.process.pid == self.pid


def test_gateway_node_killed_during_ingest_not_ready_then_recovers_nothing_lost_or_doubled(
    parties: Parties, gateways: Gateways
) -> None:
    net = parties.consortium.net
    ref = f"AU-UCR-NODEKILL-{secrets.token_hex(4).upper()}"
    try:
        with parties.client("au", "carrier") as carrier_a:
            register_consignment(carrier_a, parties.carrier, ref=ref, origin="AU", destination="CN")
            head = net.rpc(AU).block(net.rpc(AU).block_number())
            events = sensor_events(
                carrier_a, parties.carrier, ref=ref, count=TOTAL, now=int(head["timestamp"], 16)
            )
            outage = NodeOutage(parties, gateways.a, carrier_a, events, ref)
            result = ingest(carrier_a, events, label=ref, chunk=CHUNK, before_chunk=outage)
            assert outage.while_down is not None
            assert result.replayed == (CHUNK if outage.while_down == "accepted" else 0)
            assert_exactly_once(
                ledger=attach(net, RPC_NODE, parties.consortium.deployment),
                client=carrier_a,
                ref=ref,
                events=events,
                accepted=result.record_ids,
            )
        assert gateways.a.process is not None
        assert gateways.a.process.pid == outage.pid
    finally:
        restore(net)
