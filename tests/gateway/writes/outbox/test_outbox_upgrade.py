"""The outbox's storage on SQLite and PostgreSQL, and the in-place upgrade of an outbox of
the first schema (one wide row per record, the signed transaction in the batch row).

The PostgreSQL cases run against a throwaway cluster in a temporary directory (as the index's
PostgreSQL tests do); outside CI they are skipped when the server binaries or the psycopg
driver are missing, in CI (CI=true) that is a failure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    inspect,
    select,
)

from gateway.config import GatewaySettings
from gateway.db import create_gateway_engine
from gateway.errors import Conflict
from gateway.testing import FakeChain, FakeRelayer
from gateway.writes.outbox import (
    AcceptResult,
    Batch,
    NewRecord,
    Outbox,
    OutboxRecord,
    OutboxUpgradeError,
    RecordKind,
    RecordStatus,
    SignedTx,
    Submitter,
    metadata,
)
from tests.gateway.conftest import ORG_A, SIGNATURE
from tests.system_services import postgres_cluster

# --- the first schema, as the gateway created it -----------------------------------------

v1 = MetaData()
v1_records = Table(
    "gateway_outbox_records",
    v1,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("record_id", String(66), nullable=False, unique=True),
    Column("org_id", String(66), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("idempotency_key", String(255)),
    Column("request_sha256", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("signature", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("batch_id", String(32)),
    Column("tx_hash", String(66)),
    Column("block_number", Integer),
    Column("block_hash", String(66)),
    Column("log_index", Integer),
    Column("error_code", String(64)),
    Column("error_reason", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("isolate", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("signer_nonce", String(160)),
    Column("signed_batch", String(66)),
    Column("simulated_at", Float),
    Column("body_sha256", String(64)),
    UniqueConstraint("org_id", "idempotency_key", name="uq_gateway_outbox_idempotency"),
    Index("ix_gateway_outbox_status_seq", "status", "seq"),
    Index("ix_gateway_outbox_org_seq", "org_id", "seq"),
    Index("ix_gateway_outbox_batch", "batch_id"),
    Index("ix_gateway_outbox_signer_nonce", "signer_nonce"),
    Index("ix_gateway_outbox_signed_batch", "signed_batch"),
)
v1_batches = Table(
    "gateway_outbox_batches",
    v1,
    Column("batch_id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("raw_tx", LargeBinary, nullable=False),
    Column("nonce", Integer),
    Column("size", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("broadcasts", Integer, nullable=False, default=0),
    Column("block_number", Integer),
    Column("block_hash", String(66)),
    Column("reason", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_gateway_outbox_batches_state", "state"),
)


def rid(n: int) -> str:
    return f"0x{n:064x}"


def fake_tx(batch_id: str, record_ids: list[str], nonce: int) -> tuple[str, bytes]:
    """A transaction as :class:`FakeRelayer` signs it: (hash, raw bytes)."""
    body = {"batch_id": batch_id, "kind": "event", "record_ids": record_ids, "nonce": nonce}
    raw = json.dumps(body, sort_keys=True).encode()
    return "0x" + hashlib.sha256(raw).hexdigest(), raw


GROUP = "0x" + "9b" * 32
LIVE_HASH, LIVE_RAW = fake_tx("b-live", [rid(3), rid(4), rid(5)], 0)
MINED_HASH, MINED_RAW = fake_tx("b-mined", [rid(6), rid(7)], 1)
DROPPED_HASH, DROPPED_RAW = fake_tx("b-dropped", [rid(2)], 2)
# The mined batch is the fake chain's first block (its hash as FakeChain.block_hash makes it):
# the outbox checks that the blocks of mined batches are still on the chain.
MINED_BLOCK = 1
BLOCK_HASH = "0x" + hashlib.sha256(f"{MINED_BLOCK}:{MINED_HASH}".encode()).hexdigest()


def _record(n: int, status: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(c.name for c in v1_records.c)
    row |= {
        "seq": n,
        "record_id": rid(n),
        "org_id": ORG_A,
        "kind": "event",
        "request_sha256": f"{n:064x}",
        "payload": json.dumps({"n": n}),
        "signature": SIGNATURE,
        "status": status,
        "attempts": 0,
        "isolate": False,
        "created_at": 100.0 + n,
        "updated_at": 200.0 + n,
    }
    row.update(values)
    return row


def _mined(n: int, status: str, **values: Any) -> dict[str, Any]:
    batch = {"batch_id": "b-mined", "tx_hash": MINED_HASH, "block_number": MINED_BLOCK}
    return _record(n, status, block_hash=BLOCK_HASH, **batch, **values)


V1_RECORDS = [
    _record(
        1,
        "accepted",
        idempotency_key="key-1",
        body_sha256="ab" * 32,
        simulated_at=101.5,
        signer_nonce="Consignments:0xabc:1",
    ),
    _record(2, "accepted", attempts=1, isolate=True),  # its batch was dropped
    *(_record(n, "submitted", batch_id="b-live", tx_hash=LIVE_HASH) for n in (3, 4, 5)),
    _mined(6, "confirmed", log_index=0),
    _mined(7, "failed", log_index=None, error_code="Nope", error_reason="refused"),
    _record(8, "failed", error_code="invalid_record", error_reason="cannot be encoded"),
    *(
        _record(n, "accepted", signed_batch=GROUP, signer_nonce="Consignments:0xabc:9")
        for n in (9, 10)
    ),
]
V1_BATCHES = [
    {
        "batch_id": "b-live",
        "kind": "event",
        "tx_hash": LIVE_HASH,
        "raw_tx": LIVE_RAW,
        "nonce": 0,
        "size": 3,
        "state": "live",
        "broadcasts": 1,
        "created_at": 150.0,
        "updated_at": 151.0,
    },
    {
        "batch_id": "b-mined",
        "kind": "event",
        "tx_hash": MINED_HASH,
        "raw_tx": MINED_RAW,
        "nonce": 1,
        "size": 2,
        "state": "mined",
        "broadcasts": 0,
        "block_number": MINED_BLOCK,
        "block_hash": BLOCK_HASH,
        "created_at": 140.0,
        "updated_at": 160.0,
    },
    {
        "batch_id": "b-dropped",
        "kind": "event",
        "tx_hash": DROPPED_HASH,
        "raw_tx": DROPPED_RAW,
        "nonce": 2,
        "size": 1,
        "state": "dropped",
        "broadcasts": 0,
        "reason": "nonce used by another transaction",
        "created_at": 130.0,
        "updated_at": 135.0,
    },
]


def write_v1(url: str, records: list[dict[str, Any]], batches: list[dict[str, Any]]) -> None:
    batches = [dict.fromkeys(c.name for c in v1_batches.c) | batch for batch in batches]
    engine = create_gateway_engine(url)
    try:
        v1.create_all(engine)
        with engine.begin() as conn:
            if batches:
                conn.execute(insert(v1_batches), batches)
            conn.execute(insert(v1_records), records)
    finally:
        engine.dispose()


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def v1_record(row: dict[str, Any]) -> OutboxRecord:
    """What the gateway of the first schema answered for a row (its ``_row_to_record``)."""
    return OutboxRecord(
        seq=row["seq"],
        record_id=row["record_id"],
        org_id=row["org_id"],
        kind=RecordKind(row["kind"]),
        payload=json.loads(row["payload"]),
        signature=row["signature"],
        status=RecordStatus(row["status"]),
        idempotency_key=row["idempotency_key"],
        batch_id=row["batch_id"],
        tx_hash=row["tx_hash"],
        block_number=row["block_number"],
        block_hash=row["block_hash"],
        log_index=row["log_index"],
        error_code=row["error_code"],
        error_reason=row["error_reason"],
        attempts=row["attempts"],
        isolate=bool(row["isolate"]),
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
        signer_nonce=row["signer_nonce"],
        signed_batch=row["signed_batch"],
        simulated_at=None if row["simulated_at"] is None else _dt(row["simulated_at"]),
        body_sha256=row.get("body_sha256"),
        # A mined batch of the first schema was mined at the confirmations asked for: final.
        final=row["batch_id"] in {b["batch_id"] for b in V1_BATCHES if b["state"] == "mined"},
    )


def tables(url: str) -> set[str]:
    engine = create_gateway_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


# --- databases: SQLite, and PostgreSQL in a throwaway cluster ----------------------------


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[str]:
    with postgres_cluster(user="gateway", prefix="gateway-outbox-pg-") as url:
        yield url


def _drop_everything(engine: Engine) -> None:
    present = MetaData()
    present.reflect(engine)
    present.drop_all(engine)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, settings: GatewaySettings) -> str:
    """An empty gateway database of each kind."""
    if request.param == "sqlite":
        return settings.gateway_db_url
    url: str = request.getfixturevalue("pg_cluster")
    engine = create_gateway_engine(url)
    try:
        _drop_everything(engine)
    finally:
        engine.dispose()
    return url


def drain(submitter: Submitter, rounds: int = 4) -> None:
    for _ in range(rounds):
        submitter.run_once()


# --- the upgrade --------------------------------------------------------------------------


def test_an_outbox_of_the_first_schema_is_upgraded_intact_and_finished(
    db_url: str, chain: FakeChain
) -> None:
    write_v1(db_url, V1_RECORDS, V1_BATCHES)
    before = {row["record_id"]: v1_record(row) for row in V1_RECORDS}
    with Outbox.open(db_url) as box:
        assert box.get_many(list(before)) == before  # every record as it was, field by field
        assert box.counts() == {
            RecordStatus.ACCEPTED: 4,
            RecordStatus.SUBMITTED: 3,
            RecordStatus.CONFIRMED: 1,
            RecordStatus.FAILED: 2,
        }
        ((live, tx),) = box.live_batches()
        assert (live.batch_id, live.record_ids) == ("b-live", (rid(3), rid(4), rid(5)))
        assert tx == SignedTx(LIVE_HASH, LIVE_RAW, 0)
    assert "gateway_outbox_records" not in tables(db_url)
    assert "gateway_outbox_batches" not in tables(db_url)

    assert chain.mine(SignedTx(MINED_HASH, MINED_RAW, 1))  # mined before the upgrade
    with Outbox.open(db_url) as box:  # opened again: nothing more to move
        assert box.get_many(list(before)) == before
        relayer = FakeRelayer(chain)
        drain(Submitter(box, relayer, max_batch=10, linger=0.0, retry_interval=0.0))
        after = box.get_many(list(before))
        new = box.accept(
            org_id=ORG_A,
            kind=RecordKind.EVENT,
            record_id=rid(11),
            payload={"n": 11},
            signature=SIGNATURE,
        ).record
    # The submitted batch was sent again as stored; the accepted records were sent once.
    assert LIVE_HASH in relayer.broadcasts
    assert all(rid(3) not in json.loads(signed.raw_tx)["record_ids"] for signed in relayer.signed)
    pending = [1, 2, 3, 4, 5, 9, 10]
    assert chain.inclusions() == {rid(n): 1 for n in [*pending, 6, 7]}
    assert {after[rid(n)].status for n in pending} == {RecordStatus.CONFIRMED}
    assert after[rid(3)].tx_hash == LIVE_HASH
    assert after[rid(9)].batch_id == after[rid(10)].batch_id != after[rid(1)].batch_id
    for n in (6, 7, 8):  # ended before the upgrade: untouched
        assert after[rid(n)] == before[rid(n)]
    assert new.seq == 11  # the seqs go on after the moved ones


def test_an_outbox_from_before_the_added_columns_is_upgraded(settings: GatewaySettings) -> None:
    engine = create_gateway_engine(settings.gateway_db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE gateway_outbox_records (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            "record_id VARCHAR(66) NOT NULL UNIQUE, org_id VARCHAR(66) NOT NULL, "
            "kind VARCHAR(32) NOT NULL, idempotency_key VARCHAR(255), "
            "request_sha256 VARCHAR(64) NOT NULL, payload TEXT NOT NULL, "
            "signature VARCHAR(200) NOT NULL, status VARCHAR(16) NOT NULL, "
            "batch_id VARCHAR(32), tx_hash VARCHAR(66), block_number INTEGER, "
            "block_hash VARCHAR(66), log_index INTEGER, error_code VARCHAR(64), "
            "error_reason TEXT, attempts INTEGER NOT NULL, isolate BOOLEAN NOT NULL, "
            "created_at FLOAT NOT NULL, updated_at FLOAT NOT NULL)"
        )
        conn.exec_driver_sql(
            "INSERT INTO gateway_outbox_records (record_id, org_id, kind, request_sha256, "
            "payload, signature, status, attempts, isolate, created_at, updated_at) VALUES "
            f"('{rid(1)}', '{ORG_A}', 'event', 'x', '{{}}', '0x', 'accepted', 0, 0, 1.0, 1.0)"
        )
    engine.dispose()
    with Outbox.open(settings.gateway_db_url) as box:
        old = box.get(rid(1))
        assert old is not None
        assert (old.status, old.payload, old.created_at) == (RecordStatus.ACCEPTED, {}, _dt(1.0))
        assert (old.signer_nonce, old.signed_batch, old.simulated_at, old.body_sha256) == (
            None,
            None,
            None,
            None,
        )
        again = box.accept(
            org_id=ORG_A, kind=RecordKind.EVENT, record_id=rid(2), payload={}, signature="0x"
        )
        assert again.created
        assert again.record.seq == 2


def test_an_upgrade_that_does_not_fit_changes_nothing(db_url: str) -> None:
    # A record whose transaction is not its batch's: its tx hash would be lost in the move.
    records = [
        {**row, "tx_hash": "0x" + "ee" * 32} if row["seq"] == 6 else row for row in V1_RECORDS
    ]
    write_v1(db_url, records, V1_BATCHES)
    with pytest.raises(OutboxUpgradeError, match="1 records"):
        Outbox.open(db_url)
    present = tables(db_url)
    assert {"gateway_outbox_records", "gateway_outbox_batches"} <= present
    assert not present & set(metadata.tables)  # not even the new tables were created
    engine = create_gateway_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(v1_records)).scalar() == 10
    finally:
        engine.dispose()


def test_an_outbox_used_by_an_older_gateway_after_the_upgrade_is_refused(db_url: str) -> None:
    with Outbox.open(db_url) as box:
        box.accept(
            org_id=ORG_A, kind=RecordKind.EVENT, record_id=rid(1), payload={}, signature="0x"
        )
    write_v1(db_url, V1_RECORDS[1:2], [])  # seq 2: an older gateway accepted one meanwhile
    with pytest.raises(OutboxUpgradeError, match="both"):
        Outbox.open(db_url)
    assert "gateway_outbox_records" in tables(db_url)


# --- the relay cycle on each database -----------------------------------------------------


def test_the_relay_cycle_on_each_database(db_url: str, chain: FakeChain) -> None:
    with Outbox.open(db_url) as box:
        plain = [
            NewRecord(ORG_A, RecordKind.EVENT, rid(n), {"n": n}, SIGNATURE) for n in range(1, 5)
        ]
        group = [
            NewRecord(ORG_A, RecordKind.EVENT, rid(n), {"n": n}, SIGNATURE, signed_batch=GROUP)
            for n in range(5, 8)
        ]
        assert all(isinstance(r, AcceptResult) and r.created for r in box.accept_many(plain))
        stored = box.accept_batch(group)
        assert [r.record for r in box.accept_batch(group)] == [r.record for r in stored]
        assert [r.record.seq for r in stored] == [5, 6, 7]
        relayer = FakeRelayer(chain, mine_on_broadcast=False)
        submitter = Submitter(box, relayer, max_batch=3, linger=0.0, retry_interval=0.0)
        submitter.dispatch()
        assert box.counts()[RecordStatus.SUBMITTED] == 7
        with pytest.raises(Conflict):
            box.mark_submitted(Batch("b-again", RecordKind.EVENT, (stored[0].record,)), tx_of(1))
        dropped = relayer.signed[0].tx_hash  # rid(1..3): never mined, to be batched again
        relayer.dropped.add(dropped)
        relayer.pool.pop(dropped)
        relayer.mine_pending()
        submitter.follow()
        assert {r.record_id: r.status for r in box.records(org_id=ORG_A)} == {
            **{rid(n): RecordStatus.ACCEPTED for n in (1, 2, 3)},
            **{rid(n): RecordStatus.CONFIRMED for n in range(4, 8)},
        }
        relayer.mine_on_broadcast = True
        drain(submitter)
        confirmed = box.records(org_id=ORG_A, status=RecordStatus.CONFIRMED, after=2, limit=3)
        assert [r.seq for r in confirmed] == [3, 4, 5]
        first = box.get(rid(1))
        assert first is not None
        assert first.attempts == 1
        assert first.block_number == chain.block_of(first.tx_hash or "")
    assert chain.inclusions() == {rid(n): 1 for n in range(1, 8)}


def tx_of(n: int) -> SignedTx:
    return SignedTx("0x" + f"{n:064x}", b"{}", n)
