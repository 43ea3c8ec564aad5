"""A fake chain and relayer, for tests and local runs without contracts.

:class:`FakeChain` is a durable stand-in for the chain: a SQLite file (WAL,
``synchronous=FULL``) where a transaction is mined at most once (by hash, as on a real chain),
and every record a mined transaction carried is logged -- *without* the contracts' replay
protection, so a record relayed twice shows up twice. :class:`FakeRelayer` implements
:class:`gateway.writes.outbox.Relayer` on it, with switches to make steps fail, keep transactions
pending, report them dropped or reverted, or reject single records.

``make_relayer`` is a ``relayer_factory`` for the settings (``gateway.testing:make_relayer``):
the chain file is ``<data_dir>/fake-chain.sqlite3``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from gateway.config import GatewaySettings
from gateway.models.stored import OutboxRecord
from gateway.writes.outbox import (
    Batch,
    BatchResult,
    BlockState,
    RecordOutcome,
    SignedTx,
    TxState,
)

__all__ = ["FakeChain", "FakeRelayer", "RelayerFault", "make_relayer"]


class RelayerFault(RuntimeError):
    """Raised by :class:`FakeRelayer` where a fault was injected."""


class FakeChain:
    """A durable log of mined transactions and the records they carried."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS txs (tx_hash TEXT PRIMARY KEY, block INTEGER NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS inclusions (record_id TEXT NOT NULL, tx_hash TEXT NOT NULL,"
            " log_index INTEGER NOT NULL)"
        )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> FakeChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def mine(self, tx: SignedTx) -> bool:
        """Include ``tx`` in a new block, unless it is already mined; True if it was new."""
        body = json.loads(tx.raw_tx)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                known = self._db.execute(
                    "SELECT 1 FROM txs WHERE tx_hash = ?", (tx.tx_hash,)
                ).fetchone()
                if known is not None:
                    self._db.execute("COMMIT")
                    return False
                (height,) = self._db.execute("SELECT COUNT(*) FROM txs").fetchone()
                self._db.execute("INSERT INTO txs VALUES (?, ?)", (tx.tx_hash, height + 1))
                self._db.executemany(
                    "INSERT INTO inclusions VALUES (?, ?, ?)",
                    [(rid, tx.tx_hash, i) for i, rid in enumerate(body["record_ids"])],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return True

    def head(self) -> int:
        """The number of the newest block (one transaction a block; 0 before the first)."""
        return self.tx_count()

    def block_hash(self, block: int) -> str | None:
        """The hash of block ``block`` now: it changes when the block is replaced."""
        with self._lock:
            row = self._db.execute("SELECT tx_hash FROM txs WHERE block = ?", (block,)).fetchone()
        if row is None:
            return None
        return "0x" + hashlib.sha256(f"{block}:{row[0]}".encode()).hexdigest()

    def rollback(self, keep: int) -> int:
        """Lose every block after ``keep`` (a node that crashed, or a reorg): their
        transactions are no longer mined; returns how many blocks were lost."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                lost = [
                    row[0]
                    for row in self._db.execute("SELECT tx_hash FROM txs WHERE block > ?", (keep,))
                ]
                self._db.executemany(
                    "DELETE FROM inclusions WHERE tx_hash = ?", [(h,) for h in lost]
                )
                self._db.execute("DELETE FROM txs WHERE block > ?", (keep,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(lost)

    def block_of(self, tx_hash: str) -> int | None:
        with self._lock:
            row = self._db.execute("SELECT block FROM txs WHERE tx_hash = ?", (tx_hash,)).fetchone()
        return None if row is None else int(row[0])

    def inclusions(self) -> Counter[str]:
        """How many times each record id was carried by a mined transaction."""
        with self._lock:
            rows = self._db.execute("SELECT record_id FROM inclusions").fetchall()
        return Counter(row[0] for row in rows)

    def tx_count(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM txs").fetchone()
        return int(count)


class FakeRelayer:
    """A :class:`~gateway.writes.outbox.Relayer` on a :class:`FakeChain`.

    * ``mine_on_broadcast`` (default): a broadcast mines at once; otherwise it stays in the
      (in-memory, lost on restart) pool until :meth:`mine_pending`.
    * :meth:`fail` makes the next ``times`` calls of a step raise; ``"broadcast_after"``
      raises *after* the transaction went out (the sender never learns it did).
    * ``dropped`` / ``reverted``: tx hashes to report as such; ``reject``: record ids that
      the "contract" rejects (failed outcome) when mined.
    * ``confirmations``: blocks on top of a transaction's block before it is final.
    """

    def __init__(
        self,
        chain: FakeChain,
        *,
        mine_on_broadcast: bool = True,
        broadcast_delay: float = 0.0,
        reject: Callable[[OutboxRecord], str | None] | None = None,
        confirmations: int = 0,
    ) -> None:
        self.chain = chain
        self.confirmations = confirmations
        self.mine_on_broadcast = mine_on_broadcast
        self.broadcast_delay = broadcast_delay
        self.reject = reject
        self.pool: dict[str, SignedTx] = {}
        self.dropped: set[str] = set()
        self.reverted: set[str] = set()
        self.signed: list[SignedTx] = []
        self.broadcasts: list[str] = []
        self._faults: Counter[str] = Counter()
        self._nonce = 0
        self._lock = threading.Lock()

    def close(self) -> None:
        self.chain.close()

    def fail(self, step: str, times: int = 1) -> None:
        """Make the next ``times`` calls of ``step`` raise (sign, broadcast, broadcast_after,
        receipt)."""
        self._faults[step] += times

    def _fault(self, step: str) -> None:
        with self._lock:
            if self._faults[step] > 0:
                self._faults[step] -= 1
                raise RelayerFault(f"injected {step} fault")

    def sign(self, batch: Batch) -> SignedTx:
        self._fault("sign")
        with self._lock:
            nonce = self._nonce
            self._nonce += 1
        raw = json.dumps(
            {
                "batch_id": batch.batch_id,
                "kind": batch.kind.value,
                "record_ids": list(batch.record_ids),
                "nonce": nonce,
            },
            sort_keys=True,
        ).encode()
        tx = SignedTx("0x" + hashlib.sha256(raw).hexdigest(), raw, nonce)
        self.signed.append(tx)
        return tx

    def broadcast(self, batch: Batch, tx: SignedTx) -> None:
        self._fault("broadcast")
        if self.broadcast_delay:
            time.sleep(self.broadcast_delay)
        self.broadcasts.append(tx.tx_hash)
        if self.mine_on_broadcast:
            self.chain.mine(tx)
        else:
            self.pool[tx.tx_hash] = tx
        self._fault("broadcast_after")

    def mine_pending(self) -> int:
        """Mine every pooled transaction; returns how many."""
        pooled = list(self.pool.values())
        self.pool.clear()
        return sum(self.chain.mine(tx) for tx in pooled)

    def receipt(self, batch: Batch, tx: SignedTx) -> BatchResult:
        self._fault("receipt")
        if tx.tx_hash in self.dropped:
            return BatchResult(TxState.DROPPED, reason="nonce used by another transaction")
        block = self.chain.block_of(tx.tx_hash)
        if block is None:
            state = TxState.PENDING if tx.tx_hash in self.pool else TxState.UNKNOWN
            return BatchResult(state)
        block_hash = self.chain.block_hash(block)
        if tx.tx_hash in self.reverted:
            return BatchResult(TxState.REVERTED, block, block_hash, reason="BatchReverted()")
        outcomes: dict[str, RecordOutcome] = {}
        for index, record in enumerate(batch.records):
            reason = self.reject(record) if self.reject is not None else None
            outcomes[record.record_id] = (
                RecordOutcome(ok=True, log_index=index)
                if reason is None
                else RecordOutcome(ok=False, code="rejected", reason=reason)
            )
        final = self.chain.head() - block >= self.confirmations
        return BatchResult(TxState.MINED, block, block_hash, outcomes, final=final)

    def block_state(self, block_number: int, block_hash: str) -> BlockState:
        self._fault("block_state")
        if self.chain.block_hash(block_number) != block_hash:
            return BlockState.REPLACED
        if self.chain.head() - block_number >= self.confirmations:
            return BlockState.FINAL
        return BlockState.UNFINAL


def make_relayer(settings: GatewaySettings) -> FakeRelayer:
    """``relayer_factory`` for local runs and the process tests (chain in the data dir)."""
    return FakeRelayer(FakeChain(settings.data_dir / "fake-chain.sqlite3"), broadcast_delay=0.002)
