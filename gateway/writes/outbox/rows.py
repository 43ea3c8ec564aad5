"""Between records and rows: the rows a new record is written as, the record a row is read as,
and the digest that makes two submissions "the same record"."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from gateway.models.stored import NewRecord, OutboxRecord, RecordKind, RecordStatus
from gateway.writes.outbox.protocol import BatchResult, RecordOutcome
from gateway.writes.outbox.schema import _FINAL, _STATE_COLUMNS

__all__ = ["request_digest"]


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
    """``record`` (submitted) as :meth:`~gateway.writes.outbox.Outbox.apply` stores it for a
    mined batch."""
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
        final=result.final,
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
        final=batch is not None and batch.batch_state == _FINAL,
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
        final=False,
    )
