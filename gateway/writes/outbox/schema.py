"""The outbox's tables: what is written once apart from what changes, and the queries over them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)

__all__ = ["batches_table", "metadata", "records_table", "states_table", "txs_table"]

metadata = MetaData()

# Storage: what is written once is kept apart from what changes. A record's row in
# records_table (payload, signature, ids: ~1 kB) is written once, by accept; its relay state is
# a small row of states_table that the transitions rewrite. A batch's signed transaction (up to
# a few hundred kB) is written once into txs_table; its state is a small row of batches_table
# that the records of the batch refer to (their transaction hash and block are the batch's).

records_table = Table(
    "gateway_outbox_record_data",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("record_id", String(66), nullable=False, unique=True),
    Column("org_id", String(66), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("idempotency_key", String(255)),
    Column("request_sha256", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("signature", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("signer_nonce", String(160), comment="contract:signer:nonce of nonce records"),
    Column("signed_batch", String(66), comment="signed event batch the record travels with"),
    Column("simulated_at", Float, comment="when the intake simulated it (passed)"),
    Column("body_sha256", String(64), comment="custodial request body it was signed from"),
    UniqueConstraint("org_id", "idempotency_key", name="uq_gateway_outbox_data_idempotency"),
    Index("ix_gateway_outbox_data_org_seq", "org_id", "seq"),
    Index("ix_gateway_outbox_data_signer_nonce", "signer_nonce"),
    Index("ix_gateway_outbox_data_signed_batch", "signed_batch"),
    comment="accepted records, written once",
)

batches_table = Table(
    "gateway_outbox_batch_states",
    metadata,
    Column("batch_id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("nonce", Integer),
    Column("size", Integer, nullable=False),
    Column(
        "state",
        String(16),
        nullable=False,
        comment="live, included (mined, not final yet), mined (final), reverted, dropped",
    ),
    Column(
        "broadcasts", Integer, nullable=False, default=0, comment="re-sends (unknown to the node)"
    ),
    Column("block_number", Integer),
    Column("block_hash", String(66)),
    Column("reason", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_gateway_outbox_batch_states_state", "state"),
    comment="batch transactions and where they are",
)

txs_table = Table(
    "gateway_outbox_batch_txs",
    metadata,
    Column("batch_id", String(32), ForeignKey(batches_table.c.batch_id), primary_key=True),
    Column("raw_tx", LargeBinary, nullable=False),
    comment="the signed transaction of each batch, written once",
)

states_table = Table(
    "gateway_outbox_record_states",
    metadata,
    Column("seq", Integer, ForeignKey(records_table.c.seq), primary_key=True, autoincrement=False),
    Column("status", String(16), nullable=False),
    Column(
        "batch_id",
        String(32),
        ForeignKey(batches_table.c.batch_id),
        comment="the transaction it is in (submitted) or ended in; none while accepted",
    ),
    Column("log_index", Integer),
    Column("error_code", String(64)),
    Column("error_reason", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("isolate", Boolean, nullable=False, default=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_gateway_outbox_states_status_seq", "status", "seq"),
    Index("ix_gateway_outbox_states_batch", "batch_id"),
    comment="the relay state of each record, rewritten by its transitions",
)

_STATE_COLUMNS = tuple(
    states_table.c[name]
    for name in (
        "seq",
        "status",
        "batch_id",
        "log_index",
        "error_code",
        "error_reason",
        "attempts",
        "isolate",
        "updated_at",
    )
)
"""A record's relay state: the key and the columns that a transition may change."""

_RECORD_COLUMNS = (
    *records_table.c,
    *_STATE_COLUMNS[1:],
    batches_table.c.tx_hash,
    batches_table.c.block_number,
    batches_table.c.block_hash,
    batches_table.c.state.label("batch_state"),
)
"""A stored record as :func:`_row_to_record` reads it: data, state and its batch's tx."""

_RECORDS_JOIN = records_table.join(
    states_table, states_table.c.seq == records_table.c.seq
).outerjoin(batches_table, batches_table.c.batch_id == states_table.c.batch_id)


def _select_records() -> Select[Any]:
    return select(*_RECORD_COLUMNS).select_from(_RECORDS_JOIN)


_LIVE = "live"
_MINED = "included"  # mined, its records confirmed; not final yet: checked again until it is
_FINAL = "mined"  # mined at the network's finality (the name outboxes have always stored)
_IN_CHUNK = 900  # SQLite's default limit of bound parameters is 999 before 3.32


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def _status() -> ColumnElement[Any]:
    """The status column in a condition that a more selective index must serve.

    Without statistics SQLite's planner may take the status index for ``status = ? AND
    seq IN (SELECT ... WHERE signed_batch = ?)`` (or ``signer_nonce IN (...)``) and walk
    every accepted record, thousands when the gateway is busy; ``status || ''`` is not
    indexed, so the planner takes the other condition's index and checks the status on the
    rows found.
    """
    return states_table.c.status.concat("")
