"""The in-place upgrade of an outbox of the first schema (one wide row per record, the signed
transaction in the batch row) into the current tables, in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, MetaData, Table, func, insert, inspect, null, or_, select

from gateway.errors import OutboxUpgradeError
from gateway.writes.outbox.schema import (
    _STATE_COLUMNS,
    batches_table,
    metadata,
    records_table,
    states_table,
    txs_table,
)

logger = logging.getLogger("gateway.outbox")


_V1_RECORDS = "gateway_outbox_records"
_V1_BATCHES = "gateway_outbox_batches"
_PG_MIGRATION_LOCK = 0x6F7574626F78  # pg_advisory_xact_lock key of the upgrade ("outbox")


@contextmanager
def _exclusive_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that holds the database's write lock from its first statement.

    On SQLite the driver would run DDL outside a transaction (it begins one only before an
    INSERT, UPDATE or DELETE): ``BEGIN IMMEDIATE`` makes the table creations and drops part of
    it, and makes a second process wait for the first. On PostgreSQL, whose DDL is
    transactional, an advisory lock does the waiting.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def _upgrade(engine: Engine) -> bool:
    """Move an outbox of the first schema (one wide row per record, the signed transaction in
    the batch row) into the current tables; returns whether there was one to move.

    One transaction: every record and batch is copied (same seq, same batch id, the state
    columns into the state rows), the old tables are dropped, and either all of it is
    committed or nothing changed. Opening the outbox again finds no old table and does
    nothing, also when another process did the upgrade meanwhile. Raises
    :class:`OutboxUpgradeError` (nothing changed) when the old rows do not fit the current
    schema: current tables that hold records already, or a record whose transaction hash or
    block is not its batch's. Columns that the first schema gained after its first release
    (``signer_nonce``, ``signed_batch``, ``simulated_at``, ``body_sha256``) are NULL where the
    old table lacks them.
    """
    if not inspect(engine).has_table(_V1_RECORDS):
        return False
    with _exclusive_transaction(engine) as conn:
        present = inspect(conn)
        if not present.has_table(_V1_RECORDS):
            return False  # upgraded by another process while this one waited for the lock
        metadata.create_all(conn)
        if conn.execute(select(func.count()).select_from(records_table)).scalar_one():
            raise OutboxUpgradeError(
                f"the outbox holds records in both {_V1_RECORDS} (the first schema) and "
                f"{records_table.name}: it was opened by an older gateway after its upgrade"
            )
        old = MetaData()
        old_records = Table(_V1_RECORDS, old, autoload_with=conn)
        old_batches = (
            Table(_V1_BATCHES, old, autoload_with=conn) if present.has_table(_V1_BATCHES) else None
        )
        orc = old_records.c
        # A record's transaction hash and block are now its batch's: they must agree.
        elsewhere = or_(
            orc.tx_hash.is_not(None), orc.block_number.is_not(None), orc.block_hash.is_not(None)
        )
        if old_batches is None:
            disagree = (
                select(func.count())
                .select_from(old_records)
                .where(orc.batch_id.is_not(None) | elsewhere)
            )
        else:
            obc = old_batches.c
            disagree = (
                select(func.count())
                .select_from(old_records.outerjoin(old_batches, obc.batch_id == orc.batch_id))
                .where(
                    or_(
                        orc.batch_id.is_(None) & elsewhere,
                        orc.batch_id.is_not(None)
                        & or_(
                            obc.batch_id.is_(None),
                            orc.tx_hash.is_distinct_from(obc.tx_hash),
                            orc.block_number.is_distinct_from(obc.block_number),
                            orc.block_hash.is_distinct_from(obc.block_hash),
                        ),
                    )
                )
            )
        mismatched = conn.execute(disagree).scalar_one()
        if mismatched:
            raise OutboxUpgradeError(
                f"{mismatched} records of {_V1_RECORDS} name a transaction or block that is "
                f"not their batch's ({_V1_BATCHES}); not upgraded"
            )
        if old_batches is not None:
            obc = old_batches.c
            names = [c.name for c in batches_table.c]
            conn.execute(insert(batches_table).from_select(names, select(*(obc[n] for n in names))))
            conn.execute(
                insert(txs_table).from_select(
                    ["batch_id", "raw_tx"], select(obc.batch_id, obc.raw_tx)
                )
            )
        data = [c.name for c in records_table.c]
        conn.execute(
            insert(records_table).from_select(
                data,
                select(*(orc[n] if n in orc else null().label(n) for n in data)),
            )
        )
        state = [c.name for c in _STATE_COLUMNS]
        conn.execute(insert(states_table).from_select(state, select(*(orc[n] for n in state))))
        moved = conn.execute(select(func.count()).select_from(old_records)).scalar_one()
        if conn.dialect.name == "postgresql":
            # The seqs were copied: the sequence continues after the largest.
            conn.execute(
                select(
                    func.setval(
                        func.pg_get_serial_sequence(records_table.name, "seq"),
                        select(
                            func.coalesce(func.max(records_table.c.seq), 0) + 1
                        ).scalar_subquery(),
                        False,
                    )
                )
            )
        old_records.drop(conn)
        if old_batches is not None:
            old_batches.drop(conn)
    logger.info(
        "outbox: %d records moved from %s into %s and %s",
        moved,
        _V1_RECORDS,
        records_table.name,
        states_table.name,
    )
    return True
