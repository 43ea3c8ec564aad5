"""A partition that replaces blocks holding confirmed records.

Gateway A's node (Australia's signer, node 0) is cut off with the RPC node, away from the two
other signers. Records written through A are mined there, in a block of the minority's own:
A reports them ``confirmed`` but not ``final`` (Clique is not final at once; the gateways run
with ``confirmations`` = 3). When the network heals, the majority's longer chain wins and that
block is replaced. Afterwards every record is on chain exactly once, A's outbox points at the
blocks that hold them now and calls them ``final``, and both gateways' indexes hold each event
once, with the contract's head.

How the minority gets a block of its own: Clique lets a signer seal at most one of any two
consecutive blocks, so a signer alone seals one block at most, and only if it did not seal the
last one. Node 0 stops sealing (``miner_stop``) before the split, the two others seal on, the
records reach node 0's pool, and then node 0 seals again: one block, with the records.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from tests.network.conftest import AU, CN, NZ, RPC_NODE, Gateways, Parties, restore
from tests.network.consortium import (
    assert_exactly_once,
    attach,
    hx,
    indexed_record_ids,
    ingest,
    register_consignment,
    sensor_events,
    wait_for,
    wait_records,
)

pytestmark = pytest.mark.network

COUNT = 60
CHUNK = 20


def record_json(url: str, api_key: str, record_id: str) -> dict[str, Any]:
    """``GET /records/{id}`` as JSON, all fields (``final`` included)."""
    response = httpx.get(
        f"{url}/records/{record_id}", headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_records_in_replaced_minority_blocks_end_up_on_chain_once(
    parties: Parties, gateways: Gateways
) -> None:
    c = parties.consortium
    net = c.net
    au_rpc, majority = net.rpc(AU), net.rpc(CN)
    ref = f"AU-UCR-SPLIT-{secrets.token_hex(4).upper()}"
    api_key = parties.keys[("au", "carrier")]
    gaps: list[str] = []  # what the gateway got wrong; the chain-level checks assert at once
    try:
        with parties.client("au", "carrier") as carrier_a, parties.client("cn", "carrier") as b:
            register_consignment(carrier_a, parties.carrier, ref=ref, origin="AU", destination="NZ")
            head = au_rpc.block(au_rpc.block_number())
            events = sensor_events(
                carrier_a, parties.carrier, ref=ref, count=COUNT, now=int(head["timestamp"], 16)
            )

            au_rpc.call("miner_stop")
            stopped_at = majority.block_number()
            last = wait_for(
                "two blocks sealed without node 0",
                lambda: n if (n := majority.block_number()) >= stopped_at + 2 else None,
                timeout=30,
            )
            au_signer = str(net.node(AU).signer_address).lower()
            assert str(majority.call("clique_getSigner", hex(last))).lower() != au_signer
            net.partition([[AU, RPC_NODE], [CN, NZ]])
            base = au_rpc.block_number()
            result = ingest(carrier_a, events, label=ref, chunk=CHUNK)
            submitted = wait_records(carrier_a, result.record_ids, status="submitted", timeout=120)
            tx_hashes = {v.tx_hash for v in submitted.values()}
            assert None not in tx_hashes

            au_rpc.call("miner_start")
            au_rpc.call("miner_setGasPrice", "0x0")
            receipts = {
                h: wait_for(
                    f"{h} mined on the minority side",
                    lambda h=h: au_rpc.call("eth_getTransactionReceipt", h),
                    timeout=60,
                )
                for h in tx_hashes
            }
            minority_blocks = {int(r["blockNumber"], 16): r["blockHash"] for r in receipts.values()}
            assert set(minority_blocks) == {base + 1}, (base, minority_blocks)
            wait_for("the majority past the minority", lambda: majority.block_number() > base + 3)
            assert majority.block(base + 1)["hash"] != minority_blocks[base + 1]

            # A: mined, so confirmed -- but not final, the block has nothing on top.
            try:
                wait_records(
                    carrier_a, result.record_ids, status="confirmed", final=False, timeout=20
                )
            except AssertionError as exc:
                gaps.append(f"records mined in the minority block are not 'confirmed': {exc}")
            sample = record_json(c.a.url, api_key, result.record_ids[0])
            if sample.get("final") is not False:
                gaps.append(
                    f"a record in an unburied minority block: final={sample.get('final')!r}"
                )

            net.heal(timeout=120)
            wait_for(
                "node 0 to adopt the majority chain",
                lambda: au_rpc.block(base + 1)["hash"] == majority.block(base + 1)["hash"],
                timeout=60,
            )
            replaced = au_rpc.call("eth_getBlockByHash", minority_blocks[base + 1], False)
            assert replaced is None or replaced["hash"] != au_rpc.block(base + 1)["hash"]

            # Exactly once on chain, in A's index and in A's outbox, pointing at canonical blocks.
            ledger = attach(net, NZ, c.deployment)
            assert_exactly_once(
                ledger=ledger, client=carrier_a, ref=ref, events=events, accepted=result.record_ids
            )
            # B's index, on the majority side all along, holds each event once too.
            wait_for(
                "B's index to hold the events",
                lambda: (lambda r: len(r[0]) == COUNT and r[1])(indexed_record_ids(b, ref)),
                timeout=120,
            )
            assert sorted(indexed_record_ids(b, ref)[0]) == sorted(result.record_ids)
            # And A calls them final once they are buried deep enough.
            try:
                wait_for(
                    "A to call every record final",
                    lambda: all(
                        record_json(c.a.url, api_key, r).get("final") is True
                        for r in result.record_ids
                    ),
                    timeout=30,
                    poll=1.0,
                )
            except AssertionError as exc:
                gaps.append(str(exc))
            for record_id in result.record_ids[:5]:
                view = record_json(c.a.url, api_key, record_id)
                block = ledger.w3.eth.get_block(view["block_number"])
                assert view["block_hash"] == hx(bytes(block["hash"]))
    finally:
        restore(net)
    assert not gaps, "\n".join(gaps)
