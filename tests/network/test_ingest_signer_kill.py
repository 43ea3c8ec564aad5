"""A signer killed with ``kill -9`` in the middle of a 2,000-event ingest through gateway A:
the two other signers go on sealing (2 of 3 is enough for Clique), every accepted event ends
up on chain exactly once (0 lost, 0 duplicated), A's index holds each once, and the signer
rejoins when it is started again.
"""

from __future__ import annotations

import secrets

import pytest

from ledger.records import consignment_id
from tests.network.conftest import AU, NZ, RPC_NODE, Parties, restore
from tests.network.consortium import (
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

TOTAL = 2000
CHUNK = 200
KILL_BEFORE_CHUNK = 3


def signer_of(parties: Parties, number: int) -> str:
    rpc = parties.consortium.net.rpc(RPC_NODE)
    return str(rpc.call("clique_getSigner", hex(number))).lower()


def test_signer_killed_during_ingest_chain_goes_on_nothing_lost_or_doubled(
    parties: Parties,
) -> None:
    net = parties.consortium.net
    rpc = net.rpc(RPC_NODE)
    nz = str(net.node(NZ).signer_address).lower()
    ref = f"AU-UCR-INGEST-{secrets.token_hex(4).upper()}"
    marks: dict[str, int] = {}

    def kill_nz(chunk: int, _: Ingest) -> None:
        if chunk == KILL_BEFORE_CHUNK:
            net.stop_node(NZ, hard=True)
            assert net.pid(NZ) is None
            marks["killed"] = rpc.block_number()

    try:
        with parties.client("au", "carrier") as carrier_a:
            register_consignment(carrier_a, parties.carrier, ref=ref, origin="AU", destination="NZ")
            head = net.rpc(AU).block(net.rpc(AU).block_number())
            events = sensor_events(
                carrier_a, parties.carrier, ref=ref, count=TOTAL, now=int(head["timestamp"], 16)
            )
            result = ingest(carrier_a, events, label=ref, chunk=CHUNK, before_chunk=kill_nz)
            assert result.replayed == 0
            ledger = attach(net, RPC_NODE, parties.consortium.deployment)
            assert_exactly_once(
                ledger=ledger, client=carrier_a, ref=ref, events=events, accepted=result.record_ids
            )
            marks["restarted"] = rpc.block_number()
            # The chain went on without nz: past the blocks it may have had in flight, the two
            # others seal every block; and the records sent after the kill were mined in blocks
            # of theirs.
            after = range(marks["killed"] + 3, marks["restarted"] + 1)
            assert len(after) >= 4, marks
            assert nz not in {signer_of(parties, n) for n in after}
            views = record_statuses(carrier_a)
            sent_after_kill = result.record_ids[KILL_BEFORE_CHUNK * CHUNK :]
            blocks = {views[r].block_number for r in sent_after_kill}
            assert None not in blocks
            assert min(b for b in blocks if b is not None) > marks["killed"]
            assert nz not in {signer_of(parties, b) for b in blocks if b is not None}

        net.start_node(NZ)
        net.wait_ready(timeout=120)
        wait_for(
            "a block sealed by the restarted signer",
            lambda: (
                nz
                in {
                    signer_of(parties, n) for n in range(marks["restarted"], rpc.block_number() + 1)
                }
            ),
            timeout=60,
        )
        # nz caught up with the chain: it holds the same consignment head as the RPC node.
        rejoined = attach(net, NZ, parties.consortium.deployment)
        target = rpc.block_number()
        wait_for("nz at the RPC node's head", lambda: net.rpc(NZ).block_number() >= target)
        assert net.rpc(NZ).block(target)["hash"] == rpc.block(target)["hash"]
        cid = consignment_id(ref, registrant=parties.carrier.org_id)
        assert rejoined.consignments.head(cid) == ledger.consignments.head(cid)
    finally:
        restore(net)
