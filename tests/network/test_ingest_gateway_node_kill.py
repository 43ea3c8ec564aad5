"""The node under gateway A killed with ``kill -9`` during an ingest through A: A reports not
ready (``/readyz`` 503, its ``rpc`` check failing) while the node is down, and recovers by
itself when the node is back -- the same gateway process, never restarted. The client retries
what A could not take, under the same idempotency keys; every accepted event is on chain
exactly once (0 lost, 0 duplicated), and A's index holds each once.

Records that A had sent to its node before the kill may have been lost with the node's
transaction pool: A must send the same signed transactions again, not new ones.
"""

from __future__ import annotations

import secrets
import time

import pytest

from tests.network.conftest import AU, RPC_NODE, Gateways, Parties, restore
from tests.network.consortium import (
    assert_exactly_once,
    attach,
    ingest,
    register_consignment,
    sensor_events,
    wait_for,
)

pytestmark = pytest.mark.network

TOTAL = 1000
CHUNK = 100
KILL_BEFORE_CHUNK = 3
DOWN_PROBES = 5


def test_gateway_node_killed_during_ingest_not_ready_then_recovers_nothing_lost_or_doubled(
    parties: Parties, gateways: Gateways
) -> None:
    net = parties.consortium.net
    a = gateways.a
    assert a.process is not None
    pid = a.process.pid
    ref = f"AU-UCR-NODEKILL-{secrets.token_hex(4).upper()}"
    seen: dict[str, object] = {}

    def kill_and_revive(chunk: int) -> None:
        if chunk != KILL_BEFORE_CHUNK:
            return
        net.stop_node(AU, hard=True)
        assert net.pid(AU) is None
        status, body = wait_for(
            "A to report not ready",
            lambda: (lambda r: r if r[0] != 200 else None)(a.readyz()),
            timeout=60,
        )
        assert status == 503
        assert "rpc" in body["failing"], body
        # Not ready for as long as the node is down, not just once.
        for _ in range(DOWN_PROBES):
            time.sleep(1)
            assert a.readyz()[0] == 503
        seen["down"] = body
        net.start_node(AU)
        wait_for("A to be ready again", lambda: a.readyz()[0] == 200, timeout=180, poll=1.0)
        assert a.process is not None
        assert a.process.poll() is None
        assert a.process.pid == pid

    try:
        with parties.client("au", "carrier") as carrier_a:
            register_consignment(carrier_a, parties.carrier, ref=ref, origin="AU", destination="CN")
            head = net.rpc(AU).block(net.rpc(AU).block_number())
            events = sensor_events(
                carrier_a, parties.carrier, ref=ref, count=TOTAL, now=int(head["timestamp"], 16)
            )
            result = ingest(carrier_a, events, label=ref, chunk=CHUNK, before_chunk=kill_and_revive)
            assert "down" in seen
            assert_exactly_once(
                ledger=attach(net, RPC_NODE, parties.consortium.deployment),
                client=carrier_a,
                ref=ref,
                events=events,
                accepted=result.record_ids,
            )
        assert a.process is not None
        assert a.process.pid == pid
    finally:
        restore(net)
