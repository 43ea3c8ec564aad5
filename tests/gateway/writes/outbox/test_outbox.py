"""The relay outbox and its submitter, driven one pass at a time with a fake relayer."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from gateway.config import GatewaySettings
from gateway.db import create_gateway_engine
from gateway.errors import Conflict, IdempotencyConflict, PermissionDenied, RecordRejected
from gateway.testing import FakeChain, FakeRelayer
from gateway.writes.outbox import (
    AcceptResult,
    Batch,
    BatchResult,
    NewRecord,
    Outbox,
    OutboxRecord,
    RecordKind,
    RecordOutcome,
    RecordStatus,
    SignedTx,
    Submitter,
    TxState,
    request_digest,
    states_table,
)
from ledger.errors import InvalidTypedData
from tests.gateway.conftest import ORG_A, ORG_B, SIGNATURE


def rid(n: int) -> str:
    return f"0x{n:064x}"


def accept(
    outbox: Outbox,
    n: int,
    *,
    kind: RecordKind = RecordKind.EVENT,
    org: str = ORG_A,
    key: str | None = None,
    payload: dict[str, object] | None = None,
) -> AcceptResult:
    return outbox.accept(
        org_id=org,
        kind=kind,
        record_id=rid(n),
        payload=payload if payload is not None else {"n": n},
        signature=SIGNATURE,
        idempotency_key=key,
    )


@pytest.fixture
def outbox(settings: GatewaySettings) -> Iterator[Outbox]:
    with Outbox.open(settings.gateway_db_url) as box:
        yield box


def submitter_for(outbox: Outbox, relayer: FakeRelayer, *, max_batch: int = 3) -> Submitter:
    return Submitter(outbox, relayer, max_batch=max_batch, linger=0.0, retry_interval=0.0)


def drain(submitter: Submitter, rounds: int = 4) -> None:
    for _ in range(rounds):
        submitter.run_once()


def statuses(outbox: Outbox, org: str = ORG_A) -> dict[str, RecordStatus]:
    return {r.record_id: r.status for r in outbox.records(org_id=org, limit=10_000)}


def test_accept_is_idempotent_by_record_id(outbox: Outbox) -> None:
    first = accept(outbox, 1)
    again = accept(outbox, 1)
    assert first.created
    assert not again.created
    assert again.record == first.record
    assert first.record.status is RecordStatus.ACCEPTED
    assert outbox.counts()[RecordStatus.ACCEPTED] == 1


def test_accept_is_idempotent_by_key_per_organisation(outbox: Outbox) -> None:
    first = accept(outbox, 1, key="k-1")
    again = accept(outbox, 1, key="k-1")
    assert not again.created
    assert again.record.record_id == first.record.record_id
    # The same key from another organisation is another record.
    other = accept(outbox, 2, key="k-1", org=ORG_B)
    assert other.created
    assert outbox.counts()[RecordStatus.ACCEPTED] == 2


def test_reused_key_or_id_with_other_content_conflicts(outbox: Outbox) -> None:
    accept(outbox, 1, key="k-1")
    with pytest.raises(IdempotencyConflict) as by_key:
        accept(outbox, 2, key="k-1")
    assert by_key.value.field == "Idempotency-Key"
    with pytest.raises(IdempotencyConflict) as by_id:
        accept(outbox, 1, payload={"n": "changed"})
    assert by_id.value.field == "record_id"
    with pytest.raises(PermissionDenied):
        accept(outbox, 1, org=ORG_B)
    assert outbox.counts()[RecordStatus.ACCEPTED] == 1


def test_batches_are_formed_by_kind_with_max_size(
    outbox: Outbox, relayer: FakeRelayer, chain: FakeChain
) -> None:
    for n in range(7):
        accept(outbox, n)
        if n < 2:
            accept(outbox, 100 + n, kind=RecordKind.CERTIFICATE_ISSUE)
    submitter = submitter_for(outbox, relayer, max_batch=3)
    drain(submitter)
    batches = [json.loads(tx.raw_tx) for tx in relayer.signed]
    sizes = sorted((b["kind"], len(b["record_ids"])) for b in batches)
    assert sizes == [("certificate_issue", 2), ("event", 1), ("event", 3), ("event", 3)]
    records = outbox.records(org_id=ORG_A)
    assert {r.status for r in records} == {RecordStatus.CONFIRMED}
    for record in records:
        tx = next(tx for tx in relayer.signed if tx.tx_hash == record.tx_hash)
        assert record.record_id in json.loads(tx.raw_tx)["record_ids"]
        assert record.kind.value == json.loads(tx.raw_tx)["kind"]
        assert record.block_number is not None
        assert record.block_hash is not None
        assert record.log_index is not None
    assert set(chain.inclusions().values()) == {1}
    assert len(chain.inclusions()) == 9


def test_partial_batch_waits_for_linger(settings: GatewaySettings) -> None:
    now = [1_000.0]
    with Outbox.open(settings.gateway_db_url, clock=lambda: now[0]) as box:
        accept(box, 1)
        accept(box, 2)
        waiting = box.ready_batches(max_size=10, linger=0.5)
        assert waiting.batches == []
        assert waiting.next_deadline == pytest.approx(1_000.5)
        now[0] += 0.5
        ready = box.ready_batches(max_size=10, linger=0.5)
        assert [len(records) for _, records in ready.batches] == [2]
        for n in range(3, 12):
            accept(box, n)
        full = box.ready_batches(max_size=10, linger=60)
        assert [len(records) for _, records in full.batches] == [10]


def test_states_accepted_submitted_confirmed(outbox: Outbox, chain: FakeChain) -> None:
    relayer = FakeRelayer(chain, mine_on_broadcast=False)
    accept(outbox, 1)
    submitter = submitter_for(outbox, relayer)
    submitter.run_once()
    submitted = outbox.get(rid(1))
    assert submitted is not None
    assert submitted.status is RecordStatus.SUBMITTED
    assert submitted.tx_hash == relayer.signed[0].tx_hash
    assert submitted.batch_id is not None
    submitter.run_once()  # pending: nothing changes
    still = outbox.get(rid(1))
    assert still is not None
    assert still.status is RecordStatus.SUBMITTED
    relayer.mine_pending()
    submitter.run_once()
    confirmed = outbox.get(rid(1))
    assert confirmed is not None
    assert confirmed.status is RecordStatus.CONFIRMED
    assert confirmed.block_number == 1
    assert confirmed.log_index == 0


def test_rejected_record_fails_with_reason(outbox: Outbox, chain: FakeChain) -> None:
    def reject(record: OutboxRecord) -> str | None:
        return "SignerKeyRevoked(0x01)" if record.record_id == rid(2) else None

    relayer = FakeRelayer(chain, reject=reject)
    for n in range(1, 4):
        accept(outbox, n)
    drain(submitter_for(outbox, relayer))
    failed = outbox.get(rid(2))
    assert failed is not None
    assert failed.status is RecordStatus.FAILED
    assert failed.error_code == "rejected"
    assert failed.error_reason == "SignerKeyRevoked(0x01)"
    assert statuses(outbox)[rid(1)] is RecordStatus.CONFIRMED
    assert statuses(outbox)[rid(3)] is RecordStatus.CONFIRMED


def test_reverted_batch_is_split_and_the_bad_record_fails_alone(
    outbox: Outbox, chain: FakeChain
) -> None:
    relayer = FakeRelayer(chain)
    for n in range(1, 4):
        accept(outbox, n)
    submitter = submitter_for(outbox, relayer)
    submitter.dispatch()
    relayer.reverted.add(relayer.signed[0].tx_hash)
    submitter.follow()
    assert set(statuses(outbox).values()) == {RecordStatus.ACCEPTED}
    assert all(r.isolate and r.attempts == 1 for r in outbox.records(org_id=ORG_A))
    submitter.dispatch()
    assert len(relayer.signed) == 4  # three single-record transactions
    bad = next(tx for tx in relayer.signed[1:] if rid(2).encode() in tx.raw_tx)
    relayer.reverted.add(bad.tx_hash)
    submitter.follow()
    final = outbox.get(rid(2))
    assert final is not None
    assert final.status is RecordStatus.FAILED
    assert final.error_code == "reverted"
    assert final.error_reason == "BatchReverted()"
    assert statuses(outbox)[rid(1)] is RecordStatus.CONFIRMED
    assert statuses(outbox)[rid(3)] is RecordStatus.CONFIRMED


def test_dropped_transaction_is_rebatched_once(outbox: Outbox, chain: FakeChain) -> None:
    relayer = FakeRelayer(chain, mine_on_broadcast=False)
    for n in range(1, 3):
        accept(outbox, n)
    submitter = submitter_for(outbox, relayer)
    submitter.run_once()
    first = relayer.signed[0]
    relayer.pool.clear()
    relayer.dropped.add(first.tx_hash)  # its nonce was taken by another transaction
    submitter.run_once()  # requeued and sent again in a new transaction
    assert len(relayer.signed) == 2
    second = relayer.signed[1]
    assert second.tx_hash != first.tx_hash
    relayer.mine_pending()
    submitter.run_once()
    assert set(statuses(outbox).values()) == {RecordStatus.CONFIRMED}
    assert chain.block_of(first.tx_hash) is None
    assert chain.inclusions() == {rid(1): 1, rid(2): 1}
    record = outbox.get(rid(1))
    assert record is not None
    assert record.attempts == 1
    assert record.tx_hash == second.tx_hash


def test_mark_submitted_refuses_records_no_longer_accepted(
    outbox: Outbox, relayer: FakeRelayer
) -> None:
    record = accept(outbox, 1).record
    batch = Batch("b" * 32, RecordKind.EVENT, (record,))
    tx = relayer.sign(batch)
    outbox.mark_submitted(batch, tx)
    with pytest.raises(Conflict):
        outbox.mark_submitted(Batch("c" * 32, RecordKind.EVENT, (record,)), SignedTx("0x1", b"{}"))
    assert [b.batch_id for b, _ in outbox.live_batches()] == [batch.batch_id]


# --- restarts: close and reopen the outbox on the same file ------------------------------


def reopen(settings: GatewaySettings, old: Outbox) -> Outbox:
    old.close()
    return Outbox.open(settings.gateway_db_url)


def test_restart_sends_accepted_but_unsent_records_once(
    settings: GatewaySettings, outbox: Outbox, chain: FakeChain
) -> None:
    for n in range(5):
        accept(outbox, n)
    with reopen(settings, outbox) as box:
        relayer = FakeRelayer(chain)
        drain(submitter_for(box, relayer))
        assert set(statuses(box).values()) == {RecordStatus.CONFIRMED}
        assert len(relayer.signed) == 2  # 3 + 2
    assert chain.inclusions() == {rid(n): 1 for n in range(5)}


def test_restart_confirms_mined_transactions_without_resending(
    settings: GatewaySettings, outbox: Outbox, chain: FakeChain
) -> None:
    for n in range(4):
        accept(outbox, n)
    submitter_for(outbox, FakeRelayer(chain)).dispatch()  # mined, then "crash"
    assert set(statuses(outbox).values()) == {RecordStatus.SUBMITTED}
    with reopen(settings, outbox) as box:
        relayer = FakeRelayer(chain)
        drain(submitter_for(box, relayer))
        assert set(statuses(box).values()) == {RecordStatus.CONFIRMED}
        assert relayer.signed == []
        assert relayer.broadcasts == []
    assert chain.inclusions() == {rid(n): 1 for n in range(4)}


def test_restart_resends_unknown_transactions_unchanged(
    settings: GatewaySettings, outbox: Outbox, chain: FakeChain
) -> None:
    for n in range(3):
        accept(outbox, n)
    before = FakeRelayer(chain, mine_on_broadcast=False)
    submitter_for(outbox, before).dispatch()  # in the node's pool only, then "crash"
    sent = before.signed[0]
    with reopen(settings, outbox) as box:
        after = FakeRelayer(chain, mine_on_broadcast=False)  # the pool is gone
        submitter = submitter_for(box, after)
        submitter.run_once()
        assert after.signed == []
        assert after.broadcasts == [sent.tx_hash]
        assert after.pool == {sent.tx_hash: sent}
        after.mine_pending()
        submitter.run_once()
        assert set(statuses(box).values()) == {RecordStatus.CONFIRMED}
    assert chain.inclusions() == {rid(n): 1 for n in range(3)}


def test_crash_between_store_and_broadcast_resends_the_stored_tx(
    settings: GatewaySettings, outbox: Outbox, chain: FakeChain
) -> None:
    accept(outbox, 1)
    before = FakeRelayer(chain)
    before.fail("broadcast")
    submitter_for(outbox, before).dispatch()
    assert statuses(outbox)[rid(1)] is RecordStatus.SUBMITTED
    assert chain.tx_count() == 0
    with reopen(settings, outbox) as box:
        after = FakeRelayer(chain)
        drain(submitter_for(box, after))
        assert after.broadcasts == [before.signed[0].tx_hash]
        assert statuses(box)[rid(1)] is RecordStatus.CONFIRMED
    assert chain.inclusions() == {rid(1): 1}


def test_relayer_raising_at_every_step_loses_nothing(outbox: Outbox, chain: FakeChain) -> None:
    relayer = FakeRelayer(chain)
    for n in range(10):
        accept(outbox, n, kind=RecordKind.EVENT if n % 2 else RecordKind.ATTESTATION)
    relayer.fail("sign")
    relayer.fail("broadcast")
    relayer.fail("broadcast_after")  # sent, but the caller sees an error
    relayer.fail("receipt", times=2)
    submitter = submitter_for(outbox, relayer)
    for _ in range(10):
        submitter.run_once()
    assert set(statuses(outbox).values()) == {RecordStatus.CONFIRMED}
    assert chain.inclusions() == {rid(n): 1 for n in range(10)}
    assert len(set(relayer.broadcasts)) == len(relayer.signed)  # re-sends reuse the signed tx


def test_record_that_cannot_be_signed_fails_alone(outbox: Outbox, chain: FakeChain) -> None:
    class PickyRelayer(FakeRelayer):
        def sign(self, batch: Batch) -> SignedTx:
            if rid(2) in batch.record_ids:
                raise InvalidTypedData("payload.eventTime", "uint64", -1)
            return super().sign(batch)

    relayer = PickyRelayer(chain)
    for n in range(1, 5):
        accept(outbox, n)
    drain(submitter_for(outbox, relayer, max_batch=10), rounds=8)
    bad = outbox.get(rid(2))
    assert bad is not None
    assert bad.status is RecordStatus.FAILED
    assert bad.error_code == "uint64"
    assert bad.tx_hash is None
    others = {n: statuses(outbox)[rid(n)] for n in (1, 3, 4)}
    assert set(others.values()) == {RecordStatus.CONFIRMED}
    assert chain.inclusions() == {rid(1): 1, rid(3): 1, rid(4): 1}


def test_transient_sign_errors_back_off_and_keep_records(
    outbox: Outbox, relayer: FakeRelayer
) -> None:
    accept(outbox, 1)
    relayer.fail("sign", times=1)
    submitter = Submitter(outbox, relayer, linger=0.0, retry_interval=60.0)
    submitter.run_once()
    submitter.run_once()  # still backing off: not even tried
    assert relayer.signed == []
    assert statuses(outbox)[rid(1)] is RecordStatus.ACCEPTED


def test_sqlite_outbox_is_wal_with_full_sync(outbox: Outbox, settings: GatewaySettings) -> None:
    engine = create_gateway_engine(settings.gateway_db_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        engine.dispose()


def test_reverted_batch_fails_the_blamed_record_and_rebatches_the_rest(
    outbox: Outbox, chain: FakeChain
) -> None:
    class BlamingRelayer(FakeRelayer):
        def receipt(self, batch: Batch, tx: SignedTx) -> BatchResult:
            result = super().receipt(batch, tx)
            if rid(2) not in batch.record_ids:
                return result
            blamed = RecordOutcome(ok=False, code="KeyRevoked", reason="KeyRevoked(0xk, 17)")
            return BatchResult(
                TxState.REVERTED,
                result.block_number,
                result.block_hash,
                {rid(2): blamed},
                reason="BatchItemFailed(1, KeyRevoked)",
            )

    relayer = BlamingRelayer(chain)
    for n in range(1, 5):
        accept(outbox, n)
    drain(submitter_for(outbox, relayer, max_batch=10))
    failed = outbox.get(rid(2))
    assert failed is not None
    assert failed.status is RecordStatus.FAILED
    assert failed.error_code == "KeyRevoked"
    assert failed.error_reason == "KeyRevoked(0xk, 17)"
    assert len(relayer.signed) == 2  # the rest went again together, not one by one
    second = json.loads(relayer.signed[1].raw_tx)["record_ids"]
    assert second == [rid(1), rid(3), rid(4)]
    assert {statuses(outbox)[rid(n)] for n in (1, 3, 4)} == {RecordStatus.CONFIRMED}


def test_record_rejected_at_signing_fails_unsent(outbox: Outbox, chain: FakeChain) -> None:
    class PrevalidatingRelayer(FakeRelayer):
        def sign(self, batch: Batch) -> SignedTx:
            if rid(3) in batch.record_ids:
                raise RecordRejected(rid(3), "DeadlineExpired(5, 9)", code="DeadlineExpired")
            return super().sign(batch)

    relayer = PrevalidatingRelayer(chain)
    for n in range(1, 5):
        accept(outbox, n)
    drain(submitter_for(outbox, relayer, max_batch=10))
    rejected = outbox.get(rid(3))
    assert rejected is not None
    assert rejected.status is RecordStatus.FAILED
    assert rejected.error_code == "DeadlineExpired"
    assert rejected.tx_hash is None
    assert chain.inclusions() == {rid(1): 1, rid(2): 1, rid(4): 1}


# --- records of a signed event batch (postEventBatch): one unit --------------------------


def _group(outbox: Outbox, first: int, count: int, *, group: str = "0x" + "9b" * 32) -> list[str]:
    news = [
        NewRecord(
            org_id=ORG_A,
            kind=RecordKind.EVENT,
            record_id=rid(first + i),
            payload={"n": first + i},
            signature=SIGNATURE,
            signer_nonce="Consignments:0xabc:7",
            signed_batch=group,
        )
        for i in range(count)
    ]
    results = outbox.accept_batch(news)
    assert all(r.created for r in results)
    stored = [outbox.get(r.record.record_id) for r in results]
    assert [r.record for r in results] == stored  # the answer is what was stored
    return [r.record.record_id for r in results]


def test_a_signed_batch_travels_whole_and_alone(outbox: Outbox) -> None:
    accept(outbox, 1)
    ids = _group(outbox, 10, 5)
    accept(outbox, 2)
    ready = outbox.ready_batches(max_size=2, linger=3600).batches
    groups = [records for _, records in ready if records[0].signed_batch is not None]
    # Larger than max_size and not waiting for linger; never mixed with other records.
    assert [[r.record_id for r in records] for records in groups] == [ids]
    others = [[r.record_id for r in records] for _, records in ready if records not in groups]
    assert others == [[rid(1), rid(2)]]  # a full batch of their own


def test_a_signed_batch_is_stored_whole_or_not_at_all(outbox: Outbox) -> None:
    accept(outbox, 21, key="taken")
    news = [
        NewRecord(
            org_id=ORG_A,
            kind=RecordKind.EVENT,
            record_id=rid(20 + i),
            payload={"n": i},
            signature=SIGNATURE,
            idempotency_key="taken" if i == 2 else None,
            signed_batch="0x" + "9c" * 32,
        )
        for i in range(3)
    ]
    with pytest.raises(IdempotencyConflict):
        outbox.accept_batch(news)
    assert outbox.get(rid(20)) is None
    # Sent again unchanged, a stored batch answers with its records.
    ids = _group(outbox, 30, 3)
    again = outbox.accept_batch(
        [
            NewRecord(
                org_id=ORG_A,
                kind=RecordKind.EVENT,
                record_id=rid(30 + i),
                payload={"n": 30 + i},
                signature=SIGNATURE,
                signer_nonce="Consignments:0xabc:7",
                signed_batch="0x" + "9b" * 32,
            )
            for i in range(3)
        ]
    )
    assert [(r.record.record_id, r.created) for r in again] == [(i, False) for i in ids]


def test_a_signed_batch_fails_together(outbox: Outbox, chain: FakeChain) -> None:
    ids = _group(outbox, 40, 4)
    failed = outbox.fail_unsent(ids[2], code="UnknownConsignment", reason="no such consignment")
    assert failed is not None
    assert failed.error_code == "UnknownConsignment"
    states = {i: outbox.get(i) for i in ids}
    assert {r.status for r in states.values() if r is not None} == {RecordStatus.FAILED}
    assert {r.error_code for r in states.values() if r is not None} == {"UnknownConsignment"}
    # Isolating never splits a signed batch (it cannot be sent in parts).
    more = _group(outbox, 50, 2, group="0x" + "9d" * 32)
    assert outbox.isolate(more) == 0


def test_a_reverted_signed_batch_fails_whole_or_goes_back_whole(
    outbox: Outbox, chain: FakeChain
) -> None:
    ids = _group(outbox, 60, 3)
    ((kind, records),) = outbox.ready_batches(max_size=10, linger=0).batches
    batch = Batch("b-revert", kind, tuple(records))
    outbox.mark_submitted(batch, SignedTx("0x" + "01" * 32, b"raw", 0))
    # Ran out of gas: nobody's fault, the whole batch goes back, not isolated.
    outbox.apply(batch, BatchResult(TxState.REVERTED, 5, "0x" + "aa" * 32, isolate=False))
    back = [outbox.get(i) for i in ids]
    assert all(r is not None and r.status is RecordStatus.ACCEPTED and not r.isolate for r in back)
    ((kind, records),) = outbox.ready_batches(max_size=10, linger=0).batches
    assert [r.record_id for r in records] == ids
    batch = Batch("b-blame", kind, tuple(records))
    outbox.mark_submitted(batch, SignedTx("0x" + "02" * 32, b"raw", 1))
    blamed = {ids[1]: RecordOutcome(ok=False, code="KeyRevoked", reason="revoked")}
    outbox.apply(batch, BatchResult(TxState.REVERTED, 6, "0x" + "bb" * 32, blamed))
    final = [outbox.get(i) for i in ids]
    assert [r.status if r else None for r in final] == [RecordStatus.FAILED] * 3
    assert {r.error_code for r in final if r is not None} == {"KeyRevoked"}


def test_claimed_nonces_are_those_of_records_on_their_way(outbox: Outbox) -> None:
    outbox.accept_many(
        [
            NewRecord(
                org_id=ORG_A,
                kind=RecordKind.EVENT,
                record_id=rid(70 + i),
                payload={"n": i},
                signature=SIGNATURE,
                signer_nonce=f"Consignments:0xabc:{i}",
            )
            for i in range(3)
        ]
    )
    outbox.fail_unsent(rid(71), code="x", reason="y")
    held = outbox.claimed_nonces([f"Consignments:0xabc:{i}" for i in range(4)])
    assert {value: [r.record_id for r in rs] for value, rs in held.items()} == {
        "Consignments:0xabc:0": [rid(70)],
        "Consignments:0xabc:2": [rid(72)],
    }


def test_apply_of_a_mined_live_batch_answers_what_it_stored(
    outbox: Outbox, chain: FakeChain
) -> None:
    ids = [accept(outbox, 80 + i).record.record_id for i in range(3)]
    ((kind, records),) = outbox.ready_batches(max_size=10, linger=0).batches
    batch = Batch("b-mined", kind, tuple(records))
    outbox.mark_submitted(batch, SignedTx("0x" + "03" * 32, b"raw", 0))
    ((live, _),) = outbox.live_batches()
    outcomes = {ids[1]: RecordOutcome(ok=False, code="Nope", reason="refused")}
    outcomes[ids[0]] = RecordOutcome(ok=True, log_index=4)
    changed = outbox.apply(live, BatchResult(TxState.MINED, 9, "0x" + "cc" * 32, outcomes))
    assert changed == [outbox.get(i) for i in ids]
    assert [r.status for r in changed] == [
        RecordStatus.CONFIRMED,
        RecordStatus.FAILED,
        RecordStatus.CONFIRMED,
    ]
    assert changed[0].log_index == 4
    assert changed[1].error_code == "Nope"
    assert outbox.live_batches() == []


def test_a_batch_marked_submitted_is_live_as_stored(
    settings: GatewaySettings, outbox: Outbox
) -> None:
    accept(outbox, 90)
    _group(outbox, 91, 3)
    for kind, records in outbox.ready_batches(max_size=10, linger=0).batches:
        batch = Batch(f"b-{records[0].seq}", kind, tuple(records))
        outbox.mark_submitted(batch, SignedTx("0x" + f"{records[0].seq:064x}", b"raw", 0))
    kept = outbox.live_batches()  # from mark_submitted, not read back
    assert [len(batch.records) for batch, _ in kept] == [1, 3]
    with reopen(settings, outbox) as box:
        assert box.live_batches() == kept  # read from the database


def _statements(run: Callable[[], object]) -> list[tuple[str, Any]]:
    """The SQL statements that ``run`` executes, with their parameters (the first set of
    those of an executemany)."""
    seen: list[tuple[str, Any]] = []

    def hook(*args: Any) -> None:
        statement, parameters = args[2], args[3]
        many = isinstance(parameters, list) and parameters and isinstance(parameters[0], tuple)
        seen.append((statement, parameters[0] if many else parameters))

    event.listen(Engine, "before_cursor_execute", hook)
    try:
        run()
    finally:
        event.remove(Engine, "before_cursor_execute", hook)
    return seen


def test_transitions_do_not_walk_the_status_index(
    settings: GatewaySettings, outbox: Outbox
) -> None:
    # A busy outbox holds thousands of accepted records: a statement about a few of them
    # must find them by their own index (seq, signed batch, signer nonce, batch id), not walk
    # every accepted row.
    for n in range(3):
        accept(outbox, n)
    _group(outbox, 10, 3)
    held = [f"Consignments:0xabc:{n}" for n in range(2)]
    (plain, group) = outbox.ready_batches(max_size=10, linger=0).batches
    plain_batch = Batch("b-plain", plain[0], tuple(plain[1][:2]))
    group_batch = Batch("b-group", group[0], tuple(group[1]))

    def transitions() -> None:
        outbox.mark_submitted(plain_batch, SignedTx("0x" + "01" * 32, b"raw", 0))
        outbox.mark_submitted(group_batch, SignedTx("0x" + "02" * 32, b"raw", 1))
        outbox.claimed_nonces(held)
        outbox.isolate([rid(2)])
        outbox.fail_unsent(rid(2), code="x", reason="y")
        outbox._live.clear()  # read the live batches back, as after a restart
        live = dict((b.batch_id, b) for b, _ in outbox.live_batches())
        outbox.apply(live["b-plain"], BatchResult(TxState.MINED, 5, "0x" + "cc" * 32))
        outbox.apply(live["b-group"], BatchResult(TxState.DROPPED))

    statements = [
        (sql, parameters)
        for sql, parameters in _statements(transitions)
        if states_table.name in sql and sql.lstrip().startswith(("SELECT", "UPDATE"))
    ]
    assert len(statements) >= 10
    path = make_url(settings.gateway_db_url).database
    assert path is not None
    with closing(sqlite3.connect(path)) as db:
        for sql, parameters in statements:
            plan = " ".join(
                str(row[-1]) for row in db.execute("EXPLAIN QUERY PLAN " + sql, parameters)
            )
            assert "ix_gateway_outbox_states_status_seq" not in plan, (sql, plan)
            assert "SCAN" not in plan, (sql, plan)
    assert outbox.counts() == {
        RecordStatus.ACCEPTED: 3,
        RecordStatus.SUBMITTED: 0,
        RecordStatus.CONFIRMED: 2,
        RecordStatus.FAILED: 1,
    }


def test_ready_batches_see_a_waiting_record_change(outbox: Outbox) -> None:
    for n in (95, 96):
        accept(outbox, n)
    ((_, records),) = outbox.ready_batches(max_size=10, linger=0).batches
    assert [r.isolate for r in records] == [False, False]
    assert outbox.isolate([rid(96)]) == 1  # changed between two passes
    ready = outbox.ready_batches(max_size=10, linger=0).batches
    assert [[(r.record_id, r.isolate) for r in rs] for _, rs in ready] == [
        [(rid(95), False)],
        [(rid(96), True)],
    ]
    assert [r for _, rs in ready for r in rs] == [outbox.get(rid(95)), outbox.get(rid(96))]


def test_ready_batches_see_a_record_changed_before_its_first_scan(outbox: Outbox) -> None:
    # The records just accepted reach the submitter from memory: as they were stored, and
    # in the state their row is in when the scan reads it.
    outbox.accept_many(
        [NewRecord(ORG_A, RecordKind.EVENT, rid(n), {"n": n}, SIGNATURE) for n in (97, 98)]
    )
    assert outbox.isolate([rid(98)]) == 1
    ready = outbox.ready_batches(max_size=10, linger=0).batches
    assert [[(r.record_id, r.isolate) for r in rs] for _, rs in ready] == [
        [(rid(97), False)],
        [(rid(98), True)],
    ]
    assert [r for _, rs in ready for r in rs] == [outbox.get(rid(97)), outbox.get(rid(98))]


@pytest.mark.parametrize(
    "payload",
    [{}, {"n": 10**30, "b": [1, 2.5, None, True]}, {"z": 'é\u2028"\\\x00😀', "a": {"y": []}}],
)
def test_request_digest_is_that_of_the_canonical_body(payload: dict[str, object]) -> None:
    # Stored digests decide what is a repeat: the digest of a record must stay the SHA-256
    # of the canonical JSON of its kind, id, payload and signature, whatever the encoding.
    record_id, signature = '0x"ab\x01é', "0xé\n"
    body = {"kind": "event", "record_id": record_id, "payload": payload, "signature": signature}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    digest = request_digest(
        kind=RecordKind.EVENT, record_id=record_id, payload=payload, signature=signature
    )
    assert digest == expected


def test_records_accepted_together_are_one_statement_on_sqlite(outbox: Outbox) -> None:
    # One INSERT ... VALUES (...), (...) for all: row by row, the driver lets go of the GIL
    # for every row, and in a busy gateway waits to get it back, holding the write lock.
    items = [NewRecord(ORG_A, RecordKind.EVENT, rid(n), {"n": n}, SIGNATURE) for n in range(50)]
    statements = _statements(lambda: outbox.accept_many(items))
    inserts = [sql for sql, _ in statements if sql.startswith("INSERT")]
    assert [sql.split("(")[0].strip() for sql in inserts] == [
        "INSERT INTO gateway_outbox_record_data",
        "INSERT INTO gateway_outbox_record_states",
    ]
    assert inserts[0].count("(?") == 50  # the rows' values, all in the one statement
    stored = outbox.get_many([item.record_id for item in items])
    assert [stored[item.record_id].seq for item in items] == list(range(1, 51))
    assert [stored[item.record_id].payload for item in items] == [item.payload for item in items]
