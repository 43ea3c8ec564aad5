"""The submitter: the background worker that moves records from ``accepted`` to a final state
through a :class:`~gateway.writes.outbox.protocol.Relayer`, and the ``relayer_factory``
setting's loader."""

from __future__ import annotations

import importlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from gateway.errors import BatchTooLarge, Conflict, RecordRejected
from gateway.metrics import GatewayMetrics
from gateway.models.stored import OutboxRecord, RecordKind, RecordStatus
from gateway.writes.outbox.protocol import Batch, BlockState, Relayer, SignedTx, TxState
from gateway.writes.outbox.state_machine import FinalityBlock, Outbox
from ledger.errors import ValidationError

__all__ = ["Submitter", "load_relayer_factory"]

logger = logging.getLogger("gateway.outbox")


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
        final_check_interval: float = 2.0,
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
        self._kind_blocked_until: dict[RecordKind, float] = {}
        """Kinds whose last batch failed to sign for no record's fault, until when they wait."""
        self.final_check_interval = final_check_interval
        """Seconds between checks that the newest final block is still on the chain."""
        self._final_checked_at = 0.0
        self._final_tip: FinalityBlock | None = None  # the newest final block seen
        self._final_tip_loaded = False
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
        """Follow live transactions and mined ones until final, then send ready batches;
        returns seconds to the next pass."""
        live = self.follow()
        live += self.follow_finality()
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
            if result.state is TxState.MINED and result.final:
                self._note_final(result.block_number, result.block_hash)
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

    def follow_finality(self) -> int:
        """Check the blocks of mined batches that are not final yet: final ones are marked
        so, replaced ones taken back (their batches are live again: the same transaction is
        followed, sent again, or dropped and its records batched again). Then, every
        ``final_check_interval`` at most, check that the newest final block is still on the
        chain.
        Returns how many blocks wait for finality."""
        waiting = 0
        for block in self.outbox.unfinal_blocks():
            try:
                state = self.relayer.block_state(block.number, block.hash)
            except Exception:
                logger.exception("relayer block_state failed for block %d", block.number)
                if self.metrics is not None:
                    self.metrics.relay_errors.labels("block_state").inc()
                waiting += 1
                continue
            if state is BlockState.FINAL:
                self.outbox.mark_final(block)
                self._note_final(block.number, block.hash)
            elif state is BlockState.REPLACED:
                batches = self.outbox.reopen(block)
                logger.warning(
                    "block %d (%s) was replaced: %d batch transactions are followed again",
                    block.number,
                    block.hash,
                    len(batches),
                )
                waiting += 1
            else:
                waiting += 1
        now = time.monotonic()
        if now - self._final_checked_at >= self.final_check_interval:
            self._final_checked_at = now
            self._check_final_tip()
        return waiting

    def _note_final(self, number: int | None, block_hash: str | None) -> None:
        if number is None or block_hash is None:
            return
        if self._final_tip is None or number >= self._final_tip.number:
            self._final_tip = FinalityBlock(number, block_hash)

    def _check_final_tip(self) -> None:
        """One look at the newest final block (kept in memory; read from the outbox once):
        only when the chain no longer has it are the final blocks walked."""
        if not self._final_tip_loaded:
            newest = self.outbox.final_blocks(limit=1)
            self._final_tip = newest[0] if newest else None
            self._final_tip_loaded = True
        tip = self._final_tip
        if tip is None:
            return
        try:
            if self.relayer.block_state(tip.number, tip.hash) is not BlockState.REPLACED:
                return
        except Exception:
            logger.exception("relayer block_state failed for the newest final block")
            return
        self._check_final_blocks()
        self._final_tip_loaded = False  # read again from the outbox after the walk

    def _check_final_blocks(self, *, most: int = 64) -> None:
        """A block taken as final that the chain no longer has (a node that lost its last
        blocks in a crash, or a reorganisation deeper than the finality depth): walk back to
        the newest final block still on the chain; the final batches above it are checked
        again as not final (and taken back by :meth:`follow_finality`)."""
        blocks = self.outbox.final_blocks(limit=most)
        if not blocks:
            return
        try:
            for position, block in enumerate(blocks):
                if self.relayer.block_state(block.number, block.hash) is not BlockState.REPLACED:
                    if position > 0:
                        self._unfinalize(above=block.number)
                    return
        except Exception:
            logger.exception("relayer block_state failed while checking final blocks")
            return
        # All of these are gone (a later pass walks further back, if need be).
        self._unfinalize(above=blocks[-1].number - 1)

    def _unfinalize(self, *, above: int) -> None:
        count = self.outbox.unfinalize_above(above)
        logger.warning(
            "blocks after %d that held final batches are no longer on the chain: %d batches "
            "are checked again",
            above,
            count,
        )

    def dispatch(self) -> float | None:
        """Sign, store and send every ready batch; returns the next linger deadline."""
        now = time.time()
        blocked = {k: t for k, t in self._kind_blocked_until.items() if t > now}
        self._kind_blocked_until = blocked
        ready = self.outbox.ready_batches(max_size=self._limit, linger=self.linger)
        for kind, records in ready.batches:
            if kind in self._kind_blocked_until:
                continue
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
                # it, never sent; the rest of the batch is formed again on the next pass. An
                # expected outcome (e.g. a capture committed twice), so one line, no traceback.
                logger.warning(
                    "batch %s: record %s refused before sending: %s",
                    batch.batch_id,
                    exc.record_id,
                    exc.message,
                )
                if self.metrics is not None:
                    self.metrics.relay_errors.labels("sign").inc()
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
                # Not a record to blame (the node is away, the relayer is not allowed, ...):
                # this kind waits and is tried again; the other kinds go on.
                self._error("sign", batch)
                self._kind_blocked_until[kind] = time.time() + self.retry_interval
                continue
            try:
                self.outbox.mark_submitted(batch, tx)
            except Conflict:
                logger.warning("batch %s: records changed under us; not sent", batch.batch_id)
                continue
            if self.metrics is not None:
                self.metrics.batch_size.labels(kind.value).observe(len(records))
            self._broadcast(batch, tx)
        waiting = list(self._kind_blocked_until.values())
        if ready.more and any(k not in self._kind_blocked_until for k, _ in ready.batches):
            return time.time()  # more are waiting behind the scan: the next pass at once
        deadlines = [d for d in (ready.next_deadline, min(waiting, default=None)) if d is not None]
        return min(deadlines, default=None)

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
