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

    confirmed, or failed by the contract, in a block that is replaced before it is final
             ──▶ submitted (the batch is live again: its same signed tx is followed, sent
                 again, or dropped and its records batched again)

Finality
--------
A mined batch's records are ``confirmed`` at once and *final* (``OutboxRecord.final``, ``final``
in ``GET /records/{id}``) once its block is buried under the network's finality depth (the
``confirmations`` setting; by default the network's own, see :mod:`ledger.chain.finality`).
Until then every pass asks the relayer where the block stands (:meth:`Relayer.block_state`):
final, still on the chain, or replaced -- then the batch is live again, as above. A node that
loses blocks already taken as final (anvil after a hard crash, a reorganisation deeper than
the setting) is noticed too: every pass checks that the newest final block is still on the
chain, walks back to the newest that is, and checks the ones above it again. The contracts'
unique record ids make a second inclusion impossible, so sending again is always safe.

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
transient: that kind backs off and is retried; the other kinds go on.

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
opened, in one transaction (see :mod:`~gateway.writes.outbox.upgrade`).

Threads
-------
The outbox object is thread-safe (each call uses its own connection and transaction); the
FastAPI routes call :meth:`Outbox.accept` from the thread pool, the submitter runs in its own
thread. ``close()`` the outbox (or use it as a context manager) to release the database.

Modules
-------
* :mod:`gateway.models.stored` -- the stored record (:class:`OutboxRecord`), its kind and
  status, :class:`NewRecord` and :class:`AcceptResult` (models, shared with the API);
* :mod:`~gateway.writes.outbox.protocol` -- :class:`Relayer` and what passes through it;
* :mod:`~gateway.writes.outbox.schema` -- the tables;
* :mod:`~gateway.writes.outbox.rows` -- records to rows and back, the request digest;
* :mod:`~gateway.writes.outbox.upgrade` -- the in-place upgrade of the first schema;
* :mod:`~gateway.writes.outbox.store` -- :class:`OutboxStore`, the API side: accept, look up;
* :mod:`~gateway.writes.outbox.state_machine` -- :class:`Outbox`, the store and the
  submitter side's transitions;
* :mod:`~gateway.writes.outbox.submitter` -- :class:`Submitter`, the background worker.

The package may import :mod:`ledger.errors`, :mod:`gateway.models.stored`,
:mod:`gateway.db`, :mod:`gateway.errors` and :mod:`gateway.metrics`; nothing else of the
gateway. Import its public names from here.
"""

from gateway.errors import OutboxUpgradeError
from gateway.models.stored import AcceptResult, NewRecord, OutboxRecord, RecordKind, RecordStatus
from gateway.writes.outbox.protocol import (
    Batch,
    BatchResult,
    BlockState,
    RecordOutcome,
    Relayer,
    SignedTx,
    TxState,
)
from gateway.writes.outbox.rows import request_digest
from gateway.writes.outbox.schema import (
    batches_table,
    metadata,
    records_table,
    states_table,
    txs_table,
)
from gateway.writes.outbox.state_machine import Outbox
from gateway.writes.outbox.store import OutboxStore
from gateway.writes.outbox.submitter import Submitter, load_relayer_factory

__all__ = [
    "AcceptResult",
    "Batch",
    "BatchResult",
    "BlockState",
    "NewRecord",
    "Outbox",
    "OutboxRecord",
    "OutboxStore",
    "OutboxUpgradeError",
    "RecordKind",
    "RecordOutcome",
    "RecordStatus",
    "Relayer",
    "SignedTx",
    "Submitter",
    "TxState",
    "batches_table",
    "load_relayer_factory",
    "metadata",
    "records_table",
    "request_digest",
    "states_table",
    "txs_table",
]
