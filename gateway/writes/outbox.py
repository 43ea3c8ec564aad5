"""The durable relay outbox: every accepted record reaches the chain exactly once.

Records and states
------------------
A record is one signed domain record (an event, a certificate issue, an attestation, ...) of
one organisation. It moves through these states; every arrow is one database transaction::

    accepted ──sign+store tx──▶ submitted ──mined, record ok────────────▶ confirmed
       ▲                           │  ├──mined, record rejected─────────▶ failed (code, reason)
       │                           │  └──reverted, record blamed (or alone)─▶ failed
       └──tx dropped; reverted, ───┘
          record not blamed (batched again; with no one blamed, each record is sent alone)

    submitted ──tx unknown to the node──▶ submitted (the *same* signed tx is broadcast again)

    accepted ──sign raises RecordRejected for it, or ValidationError when alone──▶ failed
             (never sent)

``accepted`` rows are written by :meth:`Outbox.accept`; the :class:`Submitter` (one background
thread) does the rest through a pluggable :class:`Relayer`, which the ledger implements with the
contracts and the transaction manager. A batch holds records of one kind only, at most
``max_batch`` of them, and waits at most ``linger`` seconds to fill up.

Per ``contracts/RECORDS.md`` a batch reverts as a whole (``BatchItemFailed(index, reason)``)
if one item fails, so one bad record must not hold up the others: the relayer pre-validates
in ``sign`` (``eth_call``) and raises :class:`gateway.errors.RecordRejected` naming the item,
which fails alone, unsent; after a revert it names the item in ``BatchResult.outcomes``. A
``ledger.errors.ValidationError`` from ``sign`` without a culprit isolates the batch's records
(one per transaction) until the bad one fails alone. Any other exception from ``sign`` is
transient: back off, retry.

Why a record accepted is never lost
-----------------------------------
* ``202 Accepted`` is sent only after :meth:`Outbox.accept` has committed the row. On SQLite the
  database is in WAL mode with ``synchronous=FULL``, so the commit has been fsync'd; on
  PostgreSQL a commit is durable by default.
* No transition deletes a record or moves it backwards except into ``accepted``, and every
  non-terminal state is picked up again by the submitter, also after a restart: ``accepted`` rows
  are batched, ``submitted`` rows are followed through their stored transaction. A relayer that
  raises at any step leaves the rows where they were, and the step is retried.

Why a record is never on chain twice
------------------------------------
1. *Sign, store, then broadcast.* The relayer signs the batch transaction first
   (:meth:`Relayer.sign`, no side effect on the chain); the outbox then commits, in one
   transaction, the batch with the transaction hash *and the raw signed transaction*, and the
   records as ``submitted`` in that batch. Only then is it broadcast. A crash before the commit
   leaves the records ``accepted`` and nothing was sent; a crash after it leaves everything
   needed to finish the job, and nothing that was sent is unknown to the outbox.
2. *A record is in at most one live transaction.* The commit in (1) only moves rows that are
   still ``accepted`` (guarded ``UPDATE ... WHERE status = 'accepted'``; a mismatch rolls back and
   nothing is broadcast), so two submitters cannot put one record in two transactions.
3. *Re-sending never creates a second transaction.* When the node does not know a stored
   transaction (``TxState.UNKNOWN``: not mined, not in its pool, e.g. lost in a crash before the
   broadcast or evicted), the outbox broadcasts the *same raw bytes* again. A given signed
   transaction (same hash, same sender nonce) can be included in the chain at most once.
4. *A record leaves its transaction only when that transaction can never be mined.* Records go
   back to ``accepted`` (and into a new transaction) only if the relayer reports
   ``TxState.DROPPED`` -- defined as: no receipt for the hash and the sender's nonce at a
   block buried under ``confirmations`` blocks is already past the transaction's nonce, i.e.
   the nonce was consumed by another transaction and ours is invalid forever -- or
   ``TxState.REVERTED``, where the receipt shows the transaction had no effect. "Not found right
   now" is never a reason to build a new transaction; it is a reason to re-send the old one.
5. *Last line of defence.* The contracts reject a second submission of the same signed record
   (unique record id / nonce in the EIP-712 message), so even an operator mistake (restoring an
   old outbox file, two gateways on copies of it) cannot put a record on chain twice; it can
   only produce a per-record rejection, which the relayer reports as such.

The relayer must therefore:

* make ``sign`` free of side effects that ``broadcast`` would not repeat (take the nonce from
  the node's pending count plus the outbox's live transactions, never from a counter that a
  crash between ``sign`` and the commit would leave with a gap);
* make ``broadcast`` idempotent (a node answering "already known", or "nonce too low" with our
  hash on chain, for the same bytes is success);
* treat a fee-bumped replacement (same nonce, *same calldata*) as the same transaction: report
  ``MINED`` when any of them is mined, and ``DROPPED`` only when the nonce went to a transaction
  with other calldata. On free-gas networks (Besu with ``zeroBaseFee``, the production setting)
  ``ledger.chain.txmanager`` re-sends the same bytes instead of bumping, so the hash never changes;
* report a record that the contract refuses as a replay *of the same signed record* (e.g.
  ``NonceAlreadyUsed`` where the nonce was used by this record) as ``ok``: it is on chain.


Storage
-------
What is written once is kept apart from what changes, so that a transition of a thousand
records rewrites a thousand small rows, not their payloads:

* ``gateway_outbox_record_data``: a record as accepted (ids, kind, payload, signature, ...),
  written by :meth:`Outbox.accept` and never changed;
* ``gateway_outbox_record_states``: one small row per record (status, batch, outcome,
  attempts), written in the same transaction as the record and rewritten by its transitions;
* ``gateway_outbox_batch_states``: one small row per batch transaction (hash, nonce, state,
  block): a record's transaction hash and block are those of the batch it refers to;
* ``gateway_outbox_batch_txs``: the raw signed transaction of each batch, written once, in the
  transaction that moves its records to ``submitted``.

An outbox of the first schema (``gateway_outbox_records`` with every column of a record,
``gateway_outbox_batches`` with the raw transaction) is moved into these tables when it is
opened, in one transaction (see :func:`_upgrade`).

Threads
-------
The outbox object is thread-safe (each call uses its own connection and transaction); the
FastAPI routes call :meth:`Outbox.accept` from the thread pool, the submitter runs in its own
thread. ``close()`` the outbox (or use it as a context manager) to release the database.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Engine,
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
    bindparam,
    func,
    insert,
    inspect,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from gateway.db import create_gateway_engine
from gateway.errors import (
    BatchTooLarge,
    Conflict,
    GatewayError,
    IdempotencyConflict,
    OutboxUpgradeError,
    PermissionDenied,
    RecordRejected,
)
from gateway.metrics import GatewayMetrics
from ledger.errors import ValidationError

__all__ = [
    "AcceptResult",
    "Batch",
    "BatchResult",
    "NewRecord",
    "Outbox",
    "OutboxRecord",
    "OutboxUpgradeError",
    "RecordKind",
    "RecordOutcome",
    "RecordStatus",
    "Relayer",
    "SignedTx",
    "Submitter",
    "TxState",
    "load_relayer_factory",
]

logger = logging.getLogger("gateway.outbox")


class RecordKind(StrEnum):
    """Kinds of signed record, one per contract function; a batch carries one kind only."""

    CONSIGNMENT = "consignment"  # ConsignmentRegistration -> register / registerBatch
    EVENT = "event"  # ConsignmentEvent -> postEvent / postEvents
    CERTIFICATE_ISSUE = "certificate_issue"  # CertificateIssue -> issue / issueBatch
    CERTIFICATE_REVOKE = "certificate_revoke"  # CertificateRevocation -> revoke
    DRAWDOWN = "drawdown"  # Drawdown -> drawDown / drawDownBatch
    SCHEMA = "schema"  # SchemaRegistration -> registerSchema
    ATTESTATION = "attestation"  # Attestation -> attest / attestBatch
    ATTESTATION_REVOKE = "attestation_revoke"  # AttestationRevocation -> revoke / revokeBatch
    AEO_ACTION = "aeo_action"  # AeoAction -> applyAction
    MRA_PROPOSAL = "mra_proposal"  # MraProposal -> proposeMra
    MRA_ACCEPTANCE = "mra_acceptance"  # MraAcceptance -> acceptMra
    MRA_TERMINATION = "mra_termination"  # MraTermination -> terminateMra
    PROPOSAL = "proposal"  # Proposal -> propose
    APPROVAL = "approval"  # Approval -> approve
    EXECUTION = "execution"  # Proposal (unsigned) -> execute
    KEY_ADDITION = "key_addition"  # KeyAddition -> addKey
    KEY_REVOCATION = "key_revocation"  # KeyRevocation -> revokeKey


class RecordStatus(StrEnum):
    """Where a record is on its way to the chain (see the module docstring)."""

    ACCEPTED = "accepted"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    FAILED = "failed"


class TxState(StrEnum):
    """What the relayer knows about a stored batch transaction."""

    PENDING = "pending"  # known to the node, not mined yet: wait
    MINED = "mined"  # mined and successful (with enough confirmations): per-record outcomes
    REVERTED = "reverted"  # mined and reverted: no effect on chain
    UNKNOWN = "unknown"  # not mined, not known to the node: broadcast the same tx again
    DROPPED = "dropped"  # provably never minable (its nonce was used by another tx)


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A stored record and its relay state."""

    seq: int
    record_id: str
    org_id: str
    kind: RecordKind
    payload: Mapping[str, Any]
    signature: str
    status: RecordStatus
    idempotency_key: str | None
    batch_id: str | None
    tx_hash: str | None
    block_number: int | None
    block_hash: str | None
    log_index: int | None
    error_code: str | None
    error_reason: str | None
    attempts: int
    isolate: bool
    created_at: datetime
    updated_at: datetime
    signer_nonce: str | None = None
    """``<contract>:<signer>:<nonce>`` for records that use a signer's nonce (events, AEO
    actions): a nonce that a record on its way to the chain holds (see
    :meth:`Outbox.claimed_nonces`)."""
    signed_batch: str | None = None
    """The id of the signed event batch (``postEventBatch``) this record travels with: the
    records of one signed batch go in one transaction, together, in order, or fail together."""
    simulated_at: datetime | None = None
    """When the intake ran the record on the pending block (with the records of its request)
    and it passed; None when it was accepted without that (the relayer checks it then)."""
    body_sha256: str | None = None
    """SHA-256 of the custodial request the gateway signed this record from (None for a
    record the client signed): an ``Idempotency-Key`` sent again with another body is a
    conflict, not a repeat."""


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A record to store with :meth:`Outbox.accept_many`."""

    org_id: str
    kind: RecordKind
    record_id: str
    payload: Mapping[str, Any]
    signature: str
    idempotency_key: str | None = None
    signer_nonce: str | None = None
    signed_batch: str | None = None
    simulated_at: float | None = None
    body_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class AcceptResult:
    """The stored record and whether this call created it (False: an idempotent repeat)."""

    record: OutboxRecord
    created: bool


@dataclass(frozen=True, slots=True)
class Batch:
    """Records of one kind that travel in one transaction."""

    batch_id: str
    kind: RecordKind
    records: tuple[OutboxRecord, ...]

    @property
    def record_ids(self) -> tuple[str, ...]:
        return tuple(r.record_id for r in self.records)

    @property
    def signed_batch(self) -> str | None:
        """The signed event batch these records are (all of it), or None."""
        return self.records[0].signed_batch if self.records else None


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A signed, not necessarily broadcast, transaction: stored before it is sent."""

    tx_hash: str
    raw_tx: bytes
    nonce: int | None = None


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What the mined transaction did with one record (default: accepted, log index unknown)."""

    ok: bool = True
    log_index: int | None = None
    code: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The relayer's answer about a batch transaction."""

    state: TxState
    block_number: int | None = None
    block_hash: str | None = None
    outcomes: Mapping[str, RecordOutcome] = field(default_factory=dict)
    reason: str | None = None
    isolate: bool = True
    """``REVERTED`` with no record blamed: send the records alone next (the default), or,
    when False (the transaction ran out of gas: no record's fault), batch them again."""


@runtime_checkable
class Relayer(Protocol):
    """Sends batches of signed records to the chain (implemented by the ledger).

    Three steps instead of one ``relay(batch)`` call, because the outbox has to store the
    signed transaction between signing and sending (see the module docstring).
    """

    def sign(self, batch: Batch) -> SignedTx:
        """Build and sign the batch transaction; no effect on the chain."""
        ...

    def broadcast(self, batch: Batch, tx: SignedTx) -> None:
        """Send ``tx`` (idempotent: sending the same signed transaction again is harmless)."""
        ...

    def receipt(self, batch: Batch, tx: SignedTx) -> BatchResult:
        """Where ``tx`` is: pending, mined (per-record outcomes), reverted, unknown, dropped."""
        ...


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
    Column("state", String(16), nullable=False, comment="live, mined, reverted, dropped"),
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
)
"""A stored record as :func:`_row_to_record` reads it: data, state and its batch's tx."""

_RECORDS_JOIN = records_table.join(
    states_table, states_table.c.seq == records_table.c.seq
).outerjoin(batches_table, batches_table.c.batch_id == states_table.c.batch_id)


def _select_records() -> Select[Any]:
    return select(*_RECORD_COLUMNS).select_from(_RECORDS_JOIN)


_LIVE = "live"
_HANDED_LIMIT = 10_000  # records accepted and not yet scanned that the outbox keeps in memory
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


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


_string: Callable[[str], str] = json.encoder.encode_basestring
"""A string as :func:`_canonical` writes it (``json.dumps`` with ``ensure_ascii=False`` uses
this very function), without the encoder around it."""


def request_digest(
    *, kind: RecordKind, record_id: str, payload: Mapping[str, Any], signature: str
) -> str:
    """SHA-256 of what makes two submissions "the same record"."""
    return _request_digest(
        kind=kind, record_id=record_id, payload=_canonical(payload), signature=signature
    )


def _request_digest(*, kind: RecordKind, record_id: str, payload: bytes, signature: str) -> str:
    """:func:`request_digest` of a payload in its canonical form already (the stored one).

    The canonical form of ``{"kind", "payload", "record_id", "signature"}``, its keys in
    order, with the payload's own canonical form inside: the same bytes, one encoding of the
    payload instead of two.
    """
    body = "".join(
        (
            '{"kind":',
            _string(kind.value),
            ',"payload":',
            payload.decode(),
            ',"record_id":',
            _string(record_id),
            ',"signature":',
            _string(signature),
            "}",
        )
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _data_values(item: NewRecord, now: float) -> dict[str, Any]:
    """The written-once row of a new record (its seq is the database's)."""
    payload = _canonical(item.payload)
    return {
        "record_id": item.record_id,
        "org_id": item.org_id,
        "kind": item.kind.value,
        "idempotency_key": item.idempotency_key,
        "request_sha256": _request_digest(
            kind=item.kind, record_id=item.record_id, payload=payload, signature=item.signature
        ),
        "payload": payload.decode(),
        "signature": item.signature,
        "created_at": now,
        "signer_nonce": item.signer_nonce,
        "signed_batch": item.signed_batch,
        "simulated_at": item.simulated_at,
        "body_sha256": item.body_sha256,
    }


def _state_values(seq: int, now: float) -> dict[str, Any]:
    """The state row of a record just accepted."""
    return {
        "seq": seq,
        "status": RecordStatus.ACCEPTED.value,
        "attempts": 0,
        "isolate": False,
        "updated_at": now,
    }


def _accepted_state(seq: int, now: float) -> tuple[Any, ...]:
    """The values of :data:`_STATE_COLUMNS` in the state row of a record just accepted."""
    values = _state_values(seq, now)
    return tuple(values.get(column.name) for column in _STATE_COLUMNS)


def _new_outbox_record(seq: int, item: NewRecord, at: datetime) -> OutboxRecord:
    """The stored form of a record just inserted (as :func:`_row_to_record` would read it)."""
    return OutboxRecord(
        seq=seq,
        record_id=item.record_id,
        org_id=item.org_id,
        kind=item.kind,
        payload=item.payload,
        signature=item.signature,
        status=RecordStatus.ACCEPTED,
        idempotency_key=item.idempotency_key,
        batch_id=None,
        tx_hash=None,
        block_number=None,
        block_hash=None,
        log_index=None,
        error_code=None,
        error_reason=None,
        attempts=0,
        isolate=False,
        created_at=at,
        updated_at=at,
        signer_nonce=item.signer_nonce,
        signed_batch=item.signed_batch,
        simulated_at=None if item.simulated_at is None else _dt(item.simulated_at),
        body_sha256=item.body_sha256,
    )


def _mined(record: OutboxRecord, result: BatchResult, now: float) -> OutboxRecord:
    """``record`` (submitted) as :meth:`Outbox.apply` stores it for a mined batch."""
    outcome = result.outcomes.get(record.record_id, RecordOutcome())
    return dataclasses.replace(
        record,
        status=RecordStatus.CONFIRMED if outcome.ok else RecordStatus.FAILED,
        block_number=result.block_number,
        block_hash=result.block_hash,
        log_index=outcome.log_index,
        error_code=record.error_code if outcome.ok else outcome.code or "rejected",
        error_reason=(
            record.error_reason if outcome.ok else outcome.reason or "rejected by the contract"
        ),
        updated_at=_dt(now),
    )


def _row_to_record(row: Any, state: Any = None) -> OutboxRecord:
    """The stored record of a row of :func:`_select_records` (data, state and batch), or of a
    row of the data table and the ``state`` row of an accepted record (in no batch)."""
    if state is None:
        state = batch = row
    else:
        batch = None
    return OutboxRecord(
        seq=row.seq,
        record_id=row.record_id,
        org_id=row.org_id,
        kind=RecordKind(row.kind),
        payload=json.loads(row.payload),
        signature=row.signature,
        status=RecordStatus(state.status),
        idempotency_key=row.idempotency_key,
        batch_id=state.batch_id,
        tx_hash=None if batch is None else batch.tx_hash,
        block_number=None if batch is None else batch.block_number,
        block_hash=None if batch is None else batch.block_hash,
        log_index=state.log_index,
        error_code=state.error_code,
        error_reason=state.error_reason,
        attempts=state.attempts,
        isolate=bool(state.isolate),
        created_at=_dt(row.created_at),
        updated_at=_dt(state.updated_at),
        signer_nonce=row.signer_nonce,
        signed_batch=row.signed_batch,
        simulated_at=None if row.simulated_at is None else _dt(row.simulated_at),
        body_sha256=row.body_sha256,
    )


def _accepted_record(data: OutboxRecord, state: Any) -> OutboxRecord:
    """``data`` (a record as stored, any state) in the state of an accepted ``state`` row.

    An accepted record is in no batch (every transition into ``accepted`` clears the batch
    id), so it has no transaction hash or block either.
    """
    return dataclasses.replace(
        data,
        status=RecordStatus(state.status),
        batch_id=None,
        tx_hash=None,
        block_number=None,
        block_hash=None,
        log_index=state.log_index,
        error_code=state.error_code,
        error_reason=state.error_reason,
        attempts=state.attempts,
        isolate=bool(state.isolate),
        updated_at=_dt(state.updated_at),
    )


@dataclass(frozen=True, slots=True)
class _Ready:
    batches: list[tuple[RecordKind, list[OutboxRecord]]]
    next_deadline: float | None
    more: bool = False  # the scan was cut short: more accepted records wait behind these


# --- the upgrade of an outbox of the first schema ----------------------------------------

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


class Outbox:
    """The durable outbox in the gateway database (see the module docstring)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []
        self._live: dict[str, tuple[Batch, SignedTx]] = {}  # see live_batches
        # The accepted records of the last scan, by seq, with their state rows' values.
        self._accepted: dict[int, tuple[tuple[Any, ...], OutboxRecord]] = {}  # ready_batches
        # Records this object accepted and no scan has seen yet, in the same form (as
        # stored: the submitter need not read back and parse what was just written).
        self._handed: dict[int, tuple[tuple[Any, ...], OutboxRecord]] = {}
        self._handed_lock = threading.Lock()
        _upgrade(engine)
        metadata.create_all(engine)

    @classmethod
    def open(cls, url: str, *, clock: Callable[[], float] = time.time) -> Outbox:
        """Open (creating if needed, upgrading if of an older schema) the outbox at a
        SQLAlchemy URL."""
        engine = create_gateway_engine(url)
        try:
            return cls(engine, clock=clock)
        except BaseException:
            engine.dispose()
            raise

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def on_accept(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each newly accepted record (the submitter's wake-up)."""
        self._listeners.append(listener)

    # --- the API side -------------------------------------------------------------------

    def accept(
        self,
        *,
        org_id: str,
        kind: RecordKind,
        record_id: str,
        payload: Mapping[str, Any],
        signature: str,
        idempotency_key: str | None = None,
        signer_nonce: str | None = None,
        signed_batch: str | None = None,
        body_sha256: str | None = None,
    ) -> AcceptResult:
        """Store a record durably, once.

        Submitting the same record again (same record id, or the same ``idempotency_key`` from
        the same organisation) returns the stored one with ``created=False``. Raises
        :class:`IdempotencyConflict` if the id or key was used for different content, and
        :class:`PermissionDenied` if the record id belongs to another organisation.
        """
        return self._accept_one(
            NewRecord(
                org_id=org_id,
                kind=kind,
                record_id=record_id,
                payload=payload,
                signature=signature,
                idempotency_key=idempotency_key,
                signer_nonce=signer_nonce,
                signed_batch=signed_batch,
                body_sha256=body_sha256,
            )
        )

    def _accept_one(self, item: NewRecord) -> AcceptResult:
        try:
            (stored,) = self.accept_many_atomic([item])
        except IntegrityError:
            existing = self._find_existing(
                org_id=item.org_id, record_id=item.record_id, idempotency_key=item.idempotency_key
            )
            if existing is None:  # pragma: no cover - a constraint we do not know of
                raise
            row_org, row_digest, record = existing
            if row_org != item.org_id:
                raise PermissionDenied(
                    "this record id belongs to another organisation",
                    code="record_id_taken",
                    field="record_id",
                ) from None
            digest = request_digest(
                kind=item.kind,
                record_id=item.record_id,
                payload=item.payload,
                signature=item.signature,
            )
            if row_digest != digest:
                which = "record id" if record.record_id == item.record_id else "Idempotency-Key"
                raise IdempotencyConflict(
                    f"this {which} was already used for a different record",
                    field="record_id" if which == "record id" else "Idempotency-Key",
                    rule="same_content",
                ) from None
            return AcceptResult(record, created=False)
        return stored

    def accept_many(self, items: Sequence[NewRecord]) -> list[AcceptResult | GatewayError]:
        """Store several records durably in one database transaction (one fsync).

        The answer for each item is what :meth:`accept` would give; if any item collides with
        a stored one (same record id or idempotency key), the items are stored one by one
        instead and the colliding ones answer as :meth:`accept` does (a repeat, or the
        :class:`IdempotencyConflict` / :class:`PermissionDenied` it raises, returned).
        """
        if not items:
            return []
        try:
            return list(self.accept_many_atomic(items))
        except IntegrityError:
            pass
        results: list[AcceptResult | GatewayError] = []
        for item in items:
            try:
                results.append(self._accept_one(item))
            except GatewayError as exc:
                results.append(exc)
        return results

    def accept_batch(self, items: Sequence[NewRecord]) -> list[AcceptResult]:
        """Store the records of one signed event batch (``signed_batch`` set, the same for
        all) durably in one transaction, all or none.

        Sent again, the same batch answers with the stored records (``created=False``).
        Raises :class:`IdempotencyConflict` (and stores nothing) if any record id or
        idempotency key was used for another record: a signed batch is never stored in part.
        """
        if not items:
            return []
        group = items[0].signed_batch
        if group is None or any(item.signed_batch != group for item in items):
            raise ValueError("accept_batch takes the records of one signed batch")
        try:
            results = self.accept_many_atomic(items)
        except IntegrityError:
            stored = self.get_many([item.record_id for item in items])
            same = len(stored) == len(items) and all(
                stored[item.record_id].signed_batch == group
                and stored[item.record_id].org_id == item.org_id
                for item in items
            )
            if not same:
                raise IdempotencyConflict(
                    "an event of this batch (or its Idempotency-Key) was already used for "
                    "another record",
                    field="events",
                    rule="same_content",
                ) from None
            return [AcceptResult(stored[item.record_id], created=False) for item in items]
        return results

    def accept_many_atomic(self, items: Sequence[NewRecord]) -> list[AcceptResult]:
        """Store new records in one transaction; raises ``IntegrityError`` (nothing stored)
        if any collides with a stored one. :meth:`accept_many` answers collisions instead."""
        now = self._clock()
        rows = [_data_values(item, now) for item in items]
        with self._engine.begin() as conn:
            if self._engine.dialect.name == "sqlite":
                # executemany, then the rowids: SQLite writes one transaction at a time, so
                # the rows of this one got the consecutive seqs up to the largest; their state
                # rows are one INSERT ... SELECT (the write lock is held meanwhile).
                conn.execute(insert(records_table), rows)
                rc = records_table.c
                last = int(conn.execute(select(func.max(rc.seq))).scalar_one())
                seqs = list(range(last - len(rows) + 1, last + 1))
                accepted = _state_values(0, now)
                columns = [c.name for c in _STATE_COLUMNS if c.name in accepted]
                conn.execute(
                    insert(states_table).from_select(
                        columns,
                        select(
                            rc.seq,
                            *(literal(accepted[n], states_table.c[n].type) for n in columns[1:]),
                        ).where(rc.seq >= seqs[0]),
                    )
                )
            else:
                returned = conn.execute(
                    insert(records_table).returning(
                        records_table.c.seq, sort_by_parameter_order=True
                    ),
                    rows,
                )
                seqs = [int(row.seq) for row in returned]
                conn.execute(insert(states_table), [_state_values(seq, now) for seq in seqs])
        at = _dt(now)
        stored = [_new_outbox_record(seq, item, at) for seq, item in zip(seqs, items, strict=True)]
        with self._handed_lock:
            if len(self._handed) + len(stored) <= _HANDED_LIMIT:
                state = _accepted_state(0, now)[1:]  # the same for all but the seq
                self._handed.update((r.seq, ((r.seq, *state), r)) for r in stored)
        for listener in self._listeners:
            listener()
        return [AcceptResult(record, created=True) for record in stored]

    def _find_existing(
        self, *, org_id: str, record_id: str, idempotency_key: str | None
    ) -> tuple[str, str, OutboxRecord] | None:
        rc = records_table.c
        condition = rc.record_id == record_id
        if idempotency_key is not None:
            condition = or_(
                condition, (rc.org_id == org_id) & (rc.idempotency_key == idempotency_key)
            )
        # Prefer the idempotency-key match: it is the client's own statement of identity.
        with self._engine.connect() as conn:
            rows = list(conn.execute(_select_records().where(condition)).all())
        if not rows:
            return None
        rows.sort(key=lambda r: r.idempotency_key != idempotency_key or r.org_id != org_id)
        row = rows[0]
        return row.org_id, row.request_sha256, _row_to_record(row)

    def by_idempotency_key(self, *, org_id: str, idempotency_key: str) -> OutboxRecord | None:
        """The record an organisation stored under ``idempotency_key``, if any."""
        rc = records_table.c
        with self._engine.connect() as conn:
            row = conn.execute(
                _select_records().where(rc.org_id == org_id, rc.idempotency_key == idempotency_key)
            ).first()
        return None if row is None else _row_to_record(row)

    def get_many(self, record_ids: Sequence[str]) -> dict[str, OutboxRecord]:
        """The stored records among ``record_ids`` (one query), by record id."""
        out: dict[str, OutboxRecord] = {}
        with self._engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(record_ids))):
                query = _select_records().where(records_table.c.record_id.in_(chunk))
                out.update((row.record_id, _row_to_record(row)) for row in conn.execute(query))
        return out

    def claimed_nonces(self, signer_nonces: Sequence[str]) -> dict[str, list[OutboxRecord]]:
        """Records on their way to the chain (accepted or submitted) that hold one of
        ``signer_nonces`` (``contract:signer:nonce``), by that value.

        The chain cannot see a nonce that an accepted record will use: this is how a second
        record with the same nonce is refused before it is accepted.
        """
        out: dict[str, list[OutboxRecord]] = {}
        live = [RecordStatus.ACCEPTED.value, RecordStatus.SUBMITTED.value]
        with self._engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(signer_nonces))):
                query = _select_records().where(
                    records_table.c.signer_nonce.in_(chunk), _status().in_(live)
                )
                for row in conn.execute(query):
                    out.setdefault(row.signer_nonce, []).append(_row_to_record(row))
        return out

    def get(self, record_id: str) -> OutboxRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                _select_records().where(records_table.c.record_id == record_id)
            ).first()
        return None if row is None else _row_to_record(row)

    def records(
        self,
        *,
        org_id: str,
        status: RecordStatus | None = None,
        kind: RecordKind | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[OutboxRecord]:
        """Records of one organisation in acceptance order, after the cursor ``after`` (seq)."""
        rc, sc = records_table.c, states_table.c
        if status is None:
            query = _select_records().where(rc.org_id == org_id, rc.seq > after).order_by(rc.seq)
        else:
            # In the order of the status index: a few accepted among a million confirmed.
            query = (
                _select_records()
                .where(sc.status == status.value, sc.seq > after, rc.org_id == org_id)
                .order_by(sc.seq)
            )
        query = query.limit(limit)
        if kind is not None:
            query = query.where(rc.kind == kind.value)
        with self._engine.connect() as conn:
            return [_row_to_record(row) for row in conn.execute(query)]

    def counts(self) -> dict[RecordStatus, int]:
        """Number of records in each state."""
        sc = states_table.c
        query = select(sc.status, func.count()).group_by(sc.status)
        counts = dict.fromkeys(RecordStatus, 0)
        with self._engine.connect() as conn:
            for row in conn.execute(query):
                counts[RecordStatus(str(row[0]))] = int(row[1])
        return counts

    def pending(self, kind: RecordKind) -> list[OutboxRecord]:
        """Records of ``kind`` on their way to the chain (accepted or submitted), oldest first.

        Pre-validation uses it for what ``eth_call`` cannot see: e.g. drawdowns of one
        certificate that are accepted but not mined yet.
        """
        query = (
            _select_records()
            .where(
                records_table.c.kind == kind.value,
                states_table.c.status.in_(
                    [RecordStatus.ACCEPTED.value, RecordStatus.SUBMITTED.value]
                ),
            )
            .order_by(records_table.c.seq)
        )
        with self._engine.connect() as conn:
            return [_row_to_record(row) for row in conn.execute(query)]

    def ping(self) -> None:
        """Raise if the database cannot be read (a readiness check)."""
        with self._engine.connect() as conn:
            conn.execute(select(func.count()).select_from(batches_table)).scalar_one()

    # --- the submitter side -------------------------------------------------------------

    def ready_batches(
        self,
        *,
        max_size: int | Callable[[RecordKind], int],
        linger: float,
        scan_limit: int = 5_000,
    ) -> _Ready:
        """Accepted records packed into batches (one kind each, at most ``max_size``, which may
        be a function of the kind: the relayer's limit for it).

        Full batches are ready at once; a partial one when its oldest record has waited
        ``linger`` seconds. ``next_deadline`` is when the next partial batch becomes ready.
        Records marked ``isolate`` (their batch reverted) travel alone. The records of a
        signed event batch are one batch of their own, whole and in order, ready at once.
        """
        sc = states_table.c
        query = (
            select(*_STATE_COLUMNS)
            .where(sc.status == RecordStatus.ACCEPTED.value)
            .order_by(sc.seq)
            .limit(scan_limit)
        )
        with self._engine.connect() as conn:
            # A record waits here for a pass or more, and only its small state row changes:
            # each pass reads the state rows, and a record's written-once row is read (and
            # its payload parsed) once, the first time it is seen.
            states = conn.execute(query).all()
            known = self._accepted
            unseen = [row.seq for row in states if row.seq not in known]
            with self._handed_lock:
                handed = {seq: self._handed.pop(seq) for seq in unseen if seq in self._handed}
            if handed:
                known = {**known, **handed}
                unseen = [seq for seq in unseen if seq not in handed]
            data: dict[int, Any] = {}
            for chunk in _chunks(unseen):
                query = select(records_table).where(records_table.c.seq.in_(chunk))
                data.update((int(row.seq), row) for row in conn.execute(query))
        rows: list[OutboxRecord] = []
        waiting: dict[int, tuple[tuple[Any, ...], OutboxRecord]] = {}
        for state in states:
            values = tuple(state)
            seen = known.get(state.seq)
            if seen is None:
                record = _row_to_record(data[state.seq], state)
            elif seen[0] != values:
                record = _accepted_record(seen[1], state)
            else:
                record = seen[1]
            rows.append(record)
            waiting[state.seq] = (values, record)
        self._accepted = waiting
        now = self._clock()
        by_kind: dict[RecordKind, list[OutboxRecord]] = {}
        groups: dict[str, list[OutboxRecord]] = {}
        ready: list[tuple[RecordKind, list[OutboxRecord]]] = []
        for record in rows:
            if record.signed_batch is not None:
                groups.setdefault(record.signed_batch, []).append(record)
            elif record.isolate:
                ready.append((record.kind, [record]))
            else:
                by_kind.setdefault(record.kind, []).append(record)
        truncated = len(rows) == scan_limit
        for group in groups.values():
            # Stored in one transaction, a group's rows are consecutive; one cut by the scan
            # limit waits for the next pass.
            if truncated and group[-1].seq == rows[-1].seq:
                continue
            ready.append((group[0].kind, group))
        deadline: float | None = None
        for kind, records in by_kind.items():
            size = max(1, max_size(kind) if callable(max_size) else max_size)
            for start in range(0, len(records), size):
                chunk = records[start : start + size]
                due = chunk[0].created_at.timestamp() + linger
                if len(chunk) == size or due <= now:
                    ready.append((kind, chunk))
                else:
                    deadline = due if deadline is None else min(deadline, due)
        ready.sort(key=lambda item: item[1][0].seq)
        return _Ready(ready, deadline, more=truncated)

    def mark_submitted(self, batch: Batch, tx: SignedTx) -> None:
        """Store the signed transaction and move the batch's records to ``submitted``.

        One transaction: either the batch row exists and all its records point at it, or
        nothing changed. Raises :class:`Conflict` (and changes nothing) if any record is no
        longer ``accepted``.
        """
        now = self._clock()
        sc = states_table.c
        accepted = _status() == RecordStatus.ACCEPTED.value
        submitted = {
            "status": RecordStatus.SUBMITTED.value,
            "batch_id": batch.batch_id,
            "updated_at": now,
        }
        with self._engine.begin() as conn:
            conn.execute(
                insert(batches_table).values(
                    batch_id=batch.batch_id,
                    kind=batch.kind.value,
                    tx_hash=tx.tx_hash,
                    nonce=tx.nonce,
                    size=len(batch.records),
                    state=_LIVE,
                    broadcasts=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(insert(txs_table).values(batch_id=batch.batch_id, raw_tx=tx.raw_tx))
            if batch.signed_batch is not None:
                # A signed batch is stored and moved whole: found by its id.
                whole = select(records_table.c.seq).where(
                    records_table.c.signed_batch == batch.signed_batch
                )
                moved = conn.execute(
                    update(states_table).where(sc.seq.in_(whole), accepted).values(**submitted)
                ).rowcount
            else:
                moved = 0
                for chunk in _chunks([r.seq for r in batch.records]):
                    moved += conn.execute(
                        update(states_table).where(sc.seq.in_(chunk), accepted).values(**submitted)
                    ).rowcount
            if moved != len(batch.records):
                raise Conflict(f"batch {batch.batch_id}: some records are no longer accepted")
        # Committed: the batch is live, and its records are what the update above wrote (the
        # guard saw every one still accepted as read), so live_batches need not read back a
        # thousand rows that were just written.
        at = _dt(now)
        records = tuple(
            dataclasses.replace(
                record,
                status=RecordStatus.SUBMITTED,
                batch_id=batch.batch_id,
                tx_hash=tx.tx_hash,
                updated_at=at,
            )
            for record in batch.records
        )
        self._live[batch.batch_id] = (Batch(batch.batch_id, batch.kind, records), tx)

    def isolate(self, record_ids: Sequence[str]) -> int:
        """Mark accepted records to travel alone (their batch could not be built); the
        records of a signed event batch cannot travel alone and are left as they are."""
        rc = records_table.c
        now = self._clock()
        changed = 0
        with self._engine.begin() as conn:
            for chunk in _chunks(list(record_ids)):
                alone = select(rc.seq).where(rc.record_id.in_(chunk), rc.signed_batch.is_(None))
                changed += conn.execute(
                    update(states_table)
                    .where(states_table.c.seq.in_(alone), _status() == RecordStatus.ACCEPTED.value)
                    .values(isolate=True, updated_at=now)
                ).rowcount
        return changed

    def fail_unsent(self, record_id: str, *, code: str, reason: str) -> OutboxRecord | None:
        """Fail an accepted record that can never be sent (nothing of it reached the chain).

        A record of a signed event batch fails with all of its batch: one signature covers
        them all, so none can be sent without it.
        """
        rc, sc = records_table.c, states_table.c
        now = self._clock()
        accepted = _status() == RecordStatus.ACCEPTED.value
        failed = {"status": RecordStatus.FAILED.value, "updated_at": now}
        with self._engine.begin() as conn:
            conn.execute(
                update(states_table)
                .where(sc.seq.in_(select(rc.seq).where(rc.record_id == record_id)), accepted)
                .values(**failed, error_code=code, error_reason=reason)
            )
            group: str | None = conn.execute(
                select(rc.signed_batch).where(rc.record_id == record_id)
            ).scalar()
            if group is not None:
                conn.execute(
                    update(states_table)
                    .where(sc.seq.in_(select(rc.seq).where(rc.signed_batch == group)), accepted)
                    .values(
                        **failed,
                        error_code=code,
                        error_reason=f"an event of its signed batch failed: {reason}",
                    )
                )
        return self.get(record_id)

    def note_broadcast(self, batch_id: str) -> None:
        """Count a re-send of the batch's stored transaction (``broadcasts``)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(batches_table)
                .where(batches_table.c.batch_id == batch_id)
                .values(broadcasts=batches_table.c.broadcasts + 1, updated_at=self._clock())
            )

    def live_batches(self) -> list[tuple[Batch, SignedTx]]:
        """Stored transactions not yet known to be mined, reverted or dropped.

        A live batch's transaction and records do not change until :meth:`apply` ends it,
        so each is read once (a batch is a thousand records and a 200 kB transaction) and
        kept while it is live; every call asks the database which batches are live.
        """
        bc, sc = batches_table.c, states_table.c
        with self._engine.connect() as conn:
            live_ids = [
                str(row.batch_id)
                for row in conn.execute(
                    select(bc.batch_id).where(bc.state == _LIVE).order_by(bc.created_at)
                )
            ]
            for batch_id in live_ids:
                if batch_id in self._live:
                    continue
                row = conn.execute(
                    select(bc.kind, bc.tx_hash, bc.nonce, txs_table.c.raw_tx)
                    .select_from(batches_table.join(txs_table))
                    .where(bc.batch_id == batch_id)
                ).one()
                records = conn.execute(
                    _select_records()
                    .where(sc.batch_id == batch_id, _status() == RecordStatus.SUBMITTED.value)
                    .order_by(records_table.c.seq)
                ).all()
                batch = Batch(
                    batch_id, RecordKind(row.kind), tuple(_row_to_record(r) for r in records)
                )
                self._live[batch_id] = (batch, SignedTx(row.tx_hash, bytes(row.raw_tx), row.nonce))
        wanted = set(live_ids)
        for batch_id in [b for b in self._live if b not in wanted]:
            del self._live[batch_id]
        return [self._live[batch_id] for batch_id in live_ids]

    def apply(self, batch: Batch, result: BatchResult) -> list[OutboxRecord]:
        """Record the final fate of a batch transaction; returns the records it changed.

        ``PENDING`` and ``UNKNOWN`` change nothing (the caller waits or re-broadcasts).
        """
        if result.state in (TxState.PENDING, TxState.UNKNOWN):
            return []
        now = self._clock()
        sc = states_table.c
        in_batch = (sc.batch_id == batch.batch_id) & (_status() == RecordStatus.SUBMITTED.value)
        seqs = {record.record_id: record.seq for record in batch.records}
        with self._engine.begin() as conn:
            # The batch's state is its records' transaction and block: one small row.
            claimed = conn.execute(
                update(batches_table)
                .where(batches_table.c.batch_id == batch.batch_id, batches_table.c.state == _LIVE)
                .values(
                    state=result.state.value,
                    block_number=result.block_number,
                    block_hash=result.block_hash,
                    reason=result.reason,
                    updated_at=now,
                )
            ).rowcount
            if claimed != 1:
                return []
            if result.state is TxState.MINED:
                # One statement, executed for every record (executemany).
                params: list[dict[str, Any]] = []
                for record in batch.records:
                    outcome = result.outcomes.get(record.record_id, RecordOutcome())
                    params.append(
                        {
                            "record_seq": record.seq,
                            "new_status": (
                                RecordStatus.CONFIRMED if outcome.ok else RecordStatus.FAILED
                            ).value,
                            "new_log_index": outcome.log_index,
                            "new_code": None if outcome.ok else outcome.code or "rejected",
                            "new_reason": (
                                None if outcome.ok else outcome.reason or "rejected by the contract"
                            ),
                        }
                    )
                conn.execute(
                    update(states_table)
                    .where(in_batch, sc.seq == bindparam("record_seq"))
                    .values(
                        status=bindparam("new_status"),
                        log_index=bindparam("new_log_index"),
                        error_code=func.coalesce(bindparam("new_code"), sc.error_code),
                        error_reason=func.coalesce(bindparam("new_reason"), sc.error_reason),
                        updated_at=now,
                    ),
                    params,
                )
            elif result.state is TxState.REVERTED:
                # Nothing of a reverted batch is on chain. The items the relayer blames
                # (BatchItemFailed(index, reason)) fail; the others go back to be batched again.
                # With no culprit named, a lone record fails and several are retried one by one.
                # A signed event batch is one unit: it fails as a whole, or goes back whole.
                culprits = {rid for rid, o in result.outcomes.items() if not o.ok}
                culprits &= set(batch.record_ids)
                whole = batch.signed_batch is not None
                if not culprits and (len(batch.records) <= 1 or whole) and result.isolate:
                    culprits = set(batch.record_ids)
                blamed = next(iter(culprits), None)
                if whole and blamed is not None:
                    culprits = set(batch.record_ids)
                for record_id in culprits:
                    outcome = result.outcomes.get(
                        record_id, result.outcomes.get(blamed or "", RecordOutcome(ok=False))
                    )
                    # A failed record stays in the batch: its block is the batch's.
                    conn.execute(
                        update(states_table)
                        .where(in_batch, sc.seq == seqs[record_id])
                        .values(
                            status=RecordStatus.FAILED.value,
                            error_code=outcome.code or "reverted",
                            error_reason=outcome.reason or result.reason or "transaction reverted",
                            updated_at=now,
                        )
                    )
                requeue: dict[str, Any] = {
                    "status": RecordStatus.ACCEPTED.value,
                    "batch_id": None,
                    "attempts": sc.attempts + 1,
                    "updated_at": now,
                }
                if not culprits and result.isolate and not whole:
                    requeue["isolate"] = True
                conn.execute(update(states_table).where(in_batch).values(**requeue))
            else:  # DROPPED: the transaction can never be mined; none of it is on chain
                conn.execute(
                    update(states_table)
                    .where(in_batch)
                    .values(
                        status=RecordStatus.ACCEPTED.value,
                        batch_id=None,
                        attempts=sc.attempts + 1,
                        updated_at=now,
                    )
                )
            known = result.state is TxState.MINED and all(
                r.status is RecordStatus.SUBMITTED and r.batch_id == batch.batch_id
                for r in batch.records
            )
            changed: list[Any] = []
            if not known:
                for chunk in _chunks(list(seqs.values())):
                    changed += conn.execute(
                        _select_records()
                        .where(records_table.c.seq.in_(chunk))
                        .order_by(records_table.c.seq)
                    ).all()
        self._live.pop(batch.batch_id, None)
        if known:
            # What the update above wrote, from the batch's records as stored (submitted,
            # from live_batches): a mined batch is a thousand rows, not read back.
            return [_mined(record, result, now) for record in batch.records]
        return [_row_to_record(row) for row in changed]


def load_relayer_factory(path: str) -> Callable[..., Relayer]:
    """Import ``module:callable`` (the ``relayer_factory`` setting)."""
    module_name, _, attr = path.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    if not callable(factory):
        raise TypeError(f"{path} is not callable")
    return factory  # type: ignore[no-any-return]


class Submitter:
    """The background worker that moves records from ``accepted`` to a final state.

    :meth:`run_once` does one pass (follow live transactions, then send ready batches) and is
    what tests call; :meth:`start` runs passes in a daemon thread until :meth:`stop`.
    """

    def __init__(
        self,
        outbox: Outbox,
        relayer: Relayer,
        *,
        max_batch: int = 50,
        linger: float = 0.2,
        poll_interval: float = 0.5,
        retry_interval: float = 2.0,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.outbox = outbox
        self.relayer = relayer
        self.max_batch = max_batch
        self.linger = linger
        self.poll_interval = poll_interval
        self.retry_interval = retry_interval
        self.metrics = metrics
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._sign_blocked_until = 0.0
        outbox.on_accept(self._wake.set)

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="gateway-submitter", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.error("submitter did not stop within %.1f s", timeout)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        logger.info("submitter started")
        delay = 0.0
        while not self._stopping.is_set():
            self._wake.wait(delay)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                delay = self.run_once()
            except Exception:
                logger.exception("submitter pass failed")
                delay = self.retry_interval
        logger.info("submitter stopped")

    # --- one pass -----------------------------------------------------------------------

    def run_once(self) -> float:
        """Follow live transactions, then send ready batches; returns seconds to next pass."""
        live = self.follow()
        next_deadline = self.dispatch()
        delay = self.poll_interval if live or self._stopping.is_set() else 5 * self.poll_interval
        if next_deadline is not None:
            delay = min(delay, max(0.0, next_deadline - time.time()))
        return max(delay, 0.001)

    def follow(self) -> int:
        """Check every stored transaction; returns how many are still live."""
        still_live = 0
        for batch, tx in self.outbox.live_batches():
            try:
                result = self.relayer.receipt(batch, tx)
            except Exception:
                self._error("receipt", batch)
                still_live += 1
                continue
            if result.state is TxState.UNKNOWN:
                logger.info(
                    "batch %s tx %s unknown to the node: re-sent", batch.batch_id, tx.tx_hash
                )
                self._broadcast(batch, tx, again=True)
                still_live += 1
                continue
            if result.state is TxState.PENDING:
                still_live += 1
                continue
            changed = self.outbox.apply(batch, result)
            logger.info(
                "batch %s tx %s %s in block %s (%d records)",
                batch.batch_id,
                tx.tx_hash,
                result.state.value,
                result.block_number,
                len(changed),
            )
            self._observe(changed)
        return still_live

    def dispatch(self) -> float | None:
        """Sign, store and send every ready batch; returns the next linger deadline."""
        if time.time() < self._sign_blocked_until:
            return self._sign_blocked_until
        ready = self.outbox.ready_batches(max_size=self._limit, linger=self.linger)
        for kind, records in ready.batches:
            batch = Batch(uuid.uuid4().hex, kind, tuple(records))
            try:
                tx = self.relayer.sign(batch)
            except BatchTooLarge as exc:
                # The relayer learnt a smaller limit for this kind; the records stay accepted
                # and are batched again (smaller) on the next pass.
                logger.info("batch %s: %s; re-batching", batch.batch_id, exc)
                continue
            except RecordRejected as exc:
                # Pre-validation (e.g. eth_call) named the item the contract would refuse: fail
                # it, never sent; the rest of the batch is formed again on the next pass.
                self._error("sign", batch)
                failed = self.outbox.fail_unsent(exc.record_id, code=exc.code, reason=exc.message)
                self._observe([failed] if failed is not None else [])
                continue
            except ValidationError as exc:
                # Deterministic: a record the relayer cannot encode. Find it (send the batch's
                # records alone), then fail it; it never reached the chain, so this is safe.
                self._error("sign", batch)
                if len(records) > 1 and batch.signed_batch is None:
                    self.outbox.isolate(batch.record_ids)
                else:
                    failed = self.outbox.fail_unsent(
                        records[0].record_id,
                        code=exc.rule or "invalid_record",
                        reason=str(exc),
                    )
                    self._observe([failed] if failed is not None else [])
                continue
            except Exception:
                self._error("sign", batch)
                self._sign_blocked_until = time.time() + self.retry_interval
                return self._sign_blocked_until
            try:
                self.outbox.mark_submitted(batch, tx)
            except Conflict:
                logger.warning("batch %s: records changed under us; not sent", batch.batch_id)
                continue
            if self.metrics is not None:
                self.metrics.batch_size.labels(kind.value).observe(len(records))
            self._broadcast(batch, tx)
        if ready.more and ready.batches:
            return time.time()  # more are waiting behind the scan: the next pass at once
        return ready.next_deadline

    def _limit(self, kind: RecordKind) -> int:
        """The most records of ``kind`` in one transaction (the relayer may know fewer fit)."""
        limit = getattr(self.relayer, "batch_limit", None)
        if callable(limit):
            return max(1, min(self.max_batch, int(limit(kind))))
        return self.max_batch

    def _broadcast(self, batch: Batch, tx: SignedTx, *, again: bool = False) -> None:
        try:
            self.relayer.broadcast(batch, tx)
        except Exception:
            # Stored already: the next pass finds it unknown (or pending) and re-sends it.
            self._error("broadcast", batch)
            return
        if again:
            # Counted for re-sends only: counting every first send would cost a database
            # transaction (an fsync) per batch.
            self.outbox.note_broadcast(batch.batch_id)

    def _error(self, step: str, batch: Batch) -> None:
        logger.exception("relayer %s failed for batch %s", step, batch.batch_id)
        if self.metrics is not None:
            self.metrics.relay_errors.labels(step).inc()

    def _observe(self, changed: Sequence[OutboxRecord]) -> None:
        if self.metrics is None:
            return
        now = time.time()
        for record in changed:
            if record.status is RecordStatus.CONFIRMED:
                self.metrics.confirmation_seconds.labels(record.kind.value).observe(
                    max(0.0, now - record.created_at.timestamp())
                )
            elif record.status is RecordStatus.FAILED:
                self.metrics.records_failed.labels(record.error_code or "unknown").inc()
