"""Finality: records are confirmed when mined, final at the network's depth, and a record whose
block is replaced (a reorganisation, a node that lost its last blocks) reaches the chain again,
once. Driven one submitter pass at a time on the fake chain."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from gateway.config import GatewaySettings
from gateway.testing import FakeChain, FakeRelayer
from gateway.writes.outbox import Batch, Outbox, RecordKind, RecordStatus, SignedTx, Submitter
from tests.gateway.writes.outbox.test_outbox import accept, rid


@pytest.fixture
def outbox(settings: GatewaySettings) -> Iterator[Outbox]:
    with Outbox.open(settings.gateway_db_url) as box:
        yield box


def submitter_for(outbox: Outbox, relayer: FakeRelayer) -> Submitter:
    # final_check_interval 0: every pass also checks the newest final block.
    return Submitter(
        outbox,
        relayer,
        max_batch=10,
        linger=0.0,
        retry_interval=0.0,
        poll_interval=0.0,
        final_check_interval=0.0,
    )


def drain(submitter: Submitter, rounds: int = 6) -> None:
    for _ in range(rounds):
        submitter.run_once()


def grow(chain: FakeChain, blocks: int) -> None:
    """Blocks of other transactions on top (one transaction a block on the fake chain)."""
    start = chain.head()
    for n in range(blocks):
        raw = json.dumps({"record_ids": [], "filler": start + n}).encode()
        assert chain.mine(SignedTx(f"0xf{start + n:063x}", raw))


def final_of(outbox: Outbox, *numbers: int) -> set[bool]:
    records = outbox.get_many([rid(n) for n in numbers])
    return {records[rid(n)].final for n in numbers}


def test_confirmed_when_mined_final_at_depth(outbox: Outbox, chain: FakeChain) -> None:
    relayer = FakeRelayer(chain, confirmations=3)
    submitter = submitter_for(outbox, relayer)
    for n in (1, 2):
        accept(outbox, n)
    drain(submitter)
    records = outbox.get_many([rid(1), rid(2)])
    assert {r.status for r in records.values()} == {RecordStatus.CONFIRMED}
    assert final_of(outbox, 1, 2) == {False}
    grow(chain, 2)
    drain(submitter)
    assert final_of(outbox, 1, 2) == {False}  # two blocks on top: not yet
    grow(chain, 1)
    drain(submitter)
    assert final_of(outbox, 1, 2) == {True}
    assert outbox.unfinal_blocks() == []


def test_a_replaced_block_is_noticed_and_its_records_sent_again_once(
    outbox: Outbox, chain: FakeChain
) -> None:
    relayer = FakeRelayer(chain, confirmations=3)
    submitter = submitter_for(outbox, relayer)
    for n in (1, 2, 3):
        accept(outbox, n)
    drain(submitter)
    assert set(chain.inclusions()) == {rid(1), rid(2), rid(3)}
    (mined_in,) = {r.block_number for r in outbox.get_many([rid(1), rid(2), rid(3)]).values()}
    # The block is replaced before it is final: its transaction is no longer mined.
    assert chain.rollback(mined_in - 1) == 1
    assert chain.inclusions() == {}
    grow(chain, 1)  # another block took its number
    submitter.run_once()
    again = outbox.get_many([rid(1), rid(2), rid(3)])
    assert {r.status for r in again.values()} != {RecordStatus.CONFIRMED}
    drain(submitter)
    after = outbox.get_many([rid(1), rid(2), rid(3)])
    assert {r.status for r in after.values()} == {RecordStatus.CONFIRMED}
    assert chain.inclusions() == {rid(1): 1, rid(2): 1, rid(3): 1}  # on chain once each
    assert len(relayer.signed) == 1  # the same signed transaction, sent again
    assert {r.block_number for r in after.values()} == {mined_in + 1}
    grow(chain, 3)
    drain(submitter)
    assert final_of(outbox, 1, 2, 3) == {True}


def test_a_node_that_lost_final_blocks_gets_them_again(outbox: Outbox, chain: FakeChain) -> None:
    # Finality at once (anvil, QBFT), then the node loses its last blocks (a hard crash of
    # anvil before it saved its state): the records are final no more and go again.
    relayer = FakeRelayer(chain, confirmations=0)
    submitter = submitter_for(outbox, relayer)
    for n in (1, 2):
        accept(outbox, n)
    drain(submitter)
    assert final_of(outbox, 1, 2) == {True}
    accept(outbox, 3, kind=RecordKind.ATTESTATION)
    drain(submitter)
    assert final_of(outbox, 3) == {True}
    assert chain.rollback(0) == 2
    drain(submitter)
    after = outbox.get_many([rid(1), rid(2), rid(3)])
    assert {r.status for r in after.values()} == {RecordStatus.CONFIRMED}
    assert final_of(outbox, 1, 2, 3) == {True}
    assert chain.inclusions() == {rid(1): 1, rid(2): 1, rid(3): 1}


def test_a_block_still_on_the_chain_is_kept(outbox: Outbox, chain: FakeChain) -> None:
    relayer = FakeRelayer(chain, confirmations=0)
    submitter = submitter_for(outbox, relayer)
    accept(outbox, 1)
    drain(submitter)
    grow(chain, 3)
    drain(submitter)
    assert final_of(outbox, 1) == {True}
    assert chain.inclusions() == {rid(1): 1}
    assert len(relayer.broadcasts) == 1


def test_a_kind_that_cannot_be_signed_does_not_hold_up_the_others(
    outbox: Outbox, chain: FakeChain
) -> None:
    class StuckEvents(FakeRelayer):
        def sign(self, batch: Batch) -> SignedTx:
            if batch.kind is RecordKind.EVENT:
                raise RuntimeError("estimation keeps failing for these events")
            return super().sign(batch)

    relayer = StuckEvents(chain)
    submitter = submitter_for(outbox, relayer)
    accept(outbox, 1)
    accept(outbox, 2, kind=RecordKind.ATTESTATION)
    accept(outbox, 3, kind=RecordKind.CERTIFICATE_ISSUE)
    drain(submitter)
    statuses = {r.record_id: r.status for r in outbox.get_many([rid(1), rid(2), rid(3)]).values()}
    assert statuses == {
        rid(1): RecordStatus.ACCEPTED,  # waits, is tried again
        rid(2): RecordStatus.CONFIRMED,
        rid(3): RecordStatus.CONFIRMED,
    }
