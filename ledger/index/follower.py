"""The log index: follows the suite's contract logs into a database and answers queries.

    index = Index("sqlite:///index.db", ledger, confirmations=2)
    index.sync()                                   # catch up to latest - confirmations
    index.consignment_timeline(consignment_id)     # every event, decoded, with its head
    index.verify_heads()                           # recomputed heads == on-chain heads

**Fetching.** ``eth_getLogs`` over block ranges for the five contract addresses at once
(adaptive span: start at ``span`` blocks, halve on an error or a timeout, grow back on success),
through raw JSON-RPC (no web3 result formatting, no contract objects) and decoded by topic0 with
the artifacts' ABIs (:func:`~ledger.chain.abi.contract_abi`); the hot events are decoded word
by word.
Block timestamps come from one batched ``eth_getBlockByNumber`` request per range.

**Writing.** Each range is written in one database transaction together with the cursor (the
last processed block's number and hash), so a crash never leaves half a range and a new
:class:`Index` on the same database resumes from the cursor. All chain-data tables are
append-only (see :mod:`ledger.index.schema`); state is derived at query time.

**Reorgs.** Only blocks up to ``latest - confirmations`` are indexed. Before each range the
stored hash of the cursor block is compared with the chain's; on a difference the index walks
back through the recently processed block hashes (``index_blocks``) to the newest one still on
the chain (the fork point), deletes every row from later blocks and re-indexes from there. If no
stored block is still on the chain the index is rebuilt from the deployment block. A range is
only accepted if the chain did not change under it (the end block's hash before and after
``eth_getLogs`` agree and every log's block hash matches its header).

**Heads.** Each consignment's hash chain is recomputed from the logs (registration digest, then
``head = keccak(prev28 ‖ 0000 ‖ eventDigest)[:28]``) and compared with the head every
``ConsignmentEventRecorded`` log carries; :meth:`Index.verify_heads` recomputes it again from
the stored rows and compares it with ``Consignments.head(id)`` on chain at the indexed block.
A mismatch is logged as an error on ``ledger.index.follower``, stored as a finding and (by default)
raised as :class:`~ledger.errors.HeadMismatch`.

This module is the follower: the cursor, the JSON-RPC requests, the range and span logic,
reorgs and :meth:`Index.verify_heads`. Decoding logs and mapping them to rows is in
:mod:`ledger.index.logs`, writing a range in :mod:`ledger.index.writer` (a base class of
:class:`Index`), the digests and the head step in :mod:`ledger.index.heads` (re-exported here:
``event_digest``, ``next_head``, ``registration_digest``, as are the read models). The queries
live in :mod:`ledger.index.queries` (:class:`Index` inherits them;
:class:`~ledger.index.queries.IndexQueries` alone opens an index read-only), their read models in
:mod:`ledger.index.models`; the tables in :mod:`ledger.index.schema`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from sqlalchemy import (
    Engine,
    Row,
    create_engine,
    delete,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import ConnectionPoolEntry

from ledger.chain import Ledger, contract_abi
from ledger.errors import HeadMismatch, IndexingError, IndexMismatch
from ledger.index.codec import _hex, _raw
from ledger.index.heads import ZERO28, event_digest, next_head, registration_digest
from ledger.index.logs import _decode_logs, _Decoder, _HotEvent, _Log, _static_decoder
from ledger.index.models import (
    Finding,
    HeadVerification,
    SyncResult,
)
from ledger.index.queries import IndexQueries
from ledger.index.schema import (
    CHAIN_TABLES,
    blocks,
    consignment_events,
    consignments,
    findings,
    metadata,
    state,
)
from ledger.index.writer import _IndexWriter

__all__ = ["DEFAULT_SPAN", "MIN_GAS_PER_LOG", "Index"]

log = logging.getLogger("ledger.index.follower")

ZERO32 = bytes(32)
DEFAULT_SPAN = 2000
# Logs per eth_getLogs answer, about: the span shrinks to fit and starts at one block, so that
# catching up on a chain of dense blocks never holds hundreds of thousands of logs at once.
MAX_LOGS_PER_FETCH = 10_000
# Fewer gas than any log of the suite costs (a batch-signed event, the cheapest, ~9,400): a
# range of blocks is asked for only if its gas used, at this much per log, fits MAX_LOGS.
MIN_GAS_PER_LOG = 2_000
KEEP_BLOCKS = 4096  # block hashes kept for the fork-point search (in blocks behind the cursor)
VERIFY_CHUNK = 500  # consignments per verify_heads() round (rows in memory, eth_call batch)

_CONTRACTS = ("Membership", "Consignments", "Certificates", "Attestations", "AeoRegistry")
_CURSOR = select(state.c.cursor_block, state.c.cursor_hash)


class _RpcError(Exception):
    pass


# ----------------------------------------------------------------------------------------------
# The index
# ----------------------------------------------------------------------------------------------


# Columns added to the schema after index files were made with it: (table, column), each added
# (NULL in the existing rows) when a file without it is opened.
_ADDED_COLUMNS: Final = (
    (consignments, "consignor_earlier"),
    (consignments, "reference_hash"),
    (consignments, "deadline"),
)


def _add_missing_columns(engine: Engine) -> None:
    """Bring an index file made by an earlier version up to the schema: add the columns of
    :data:`_ADDED_COLUMNS` it lacks (their readers treat NULL as "not kept")."""
    inspector = inspect(engine)
    for table, name in _ADDED_COLUMNS:
        if name in {col["name"] for col in inspector.get_columns(table.name)}:
            continue
        column = table.c[name]
        kind = column.type.compile(dialect=engine.dialect)
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))
            log.info("index schema: added %s.%s", table.name, name)
        except (OperationalError, ProgrammingError):  # another process added it meanwhile
            inspector = inspect(engine)
            if name not in {col["name"] for col in inspector.get_columns(table.name)}:
                raise


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a file, None when it is gone: a new file has another."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


class Index(_IndexWriter, IndexQueries):
    """A database index of the suite's logs, kept in step with the chain.

    ``engine_or_url`` is an SQLAlchemy engine or URL (``sqlite:///path.db``,
    ``postgresql+psycopg://...``); the tables are created if missing. ``confirmations`` holds
    back the newest blocks; ``span`` is the largest ``eth_getLogs`` range: the range starts at
    one block, doubles while an answer holds under half of ``max_logs`` logs and shrinks to
    fit when one holds more; and a range of several blocks is cut, before its logs are asked
    for, where the blocks' gas used could pay for more than ``max_logs`` logs (at
    :data:`MIN_GAS_PER_LOG`). So an answer (and the memory to decode and write it) stays near
    ``max_logs`` logs however dense the blocks are, also where sparse blocks (a wide range)
    are followed by dense ones; a single block is asked for whole.
    """

    def __init__(
        self,
        engine_or_url: Engine | str,
        ledger: Ledger,
        *,
        confirmations: int = 0,
        span: int = DEFAULT_SPAN,
        max_logs: int = MAX_LOGS_PER_FETCH,
        keep_blocks: int = KEEP_BLOCKS,
    ) -> None:
        if confirmations < 0 or span < 1 or max_logs < 1:
            raise ValueError("confirmations must be >= 0, span and max_logs >= 1")
        engine = create_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
        if engine.dialect.name == "sqlite" and not event.contains(
            engine, "connect", _sqlite_pragmas
        ):
            event.listen(engine, "connect", _sqlite_pragmas)
            engine.dispose()  # connections opened before the listener get the pragmas too
        super().__init__(engine)
        self.ledger = ledger
        self.confirmations = confirmations
        self.max_span = span
        self.max_logs = max_logs
        self._span = 1
        self.keep_blocks = keep_blocks
        self._provider: Any = ledger.w3.provider
        self._separator = ledger.consignments.domain.separator
        self._heads: dict[bytes, tuple[bytes, int]] = {}
        self._compiled: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...] | None]] = {}
        self._lock = threading.Lock()
        self._addresses = {name: ledger.clients[name].address.lower() for name in _CONTRACTS}
        self._by_address = {addr: name for name, addr in self._addresses.items()}
        self._decoders: dict[tuple[str, bytes], tuple[str, _Decoder]] = {}
        for name in _CONTRACTS:
            for topic0, abi_event in contract_abi(name).events.items():
                self._decoders[(name, topic0)] = (abi_event.name, _static_decoder(abi_event))
        self._prepare()

    def _prepare(self) -> None:
        """Create what is missing (tables, columns, indexes, the state row)."""
        engine = self.engine
        metadata.create_all(engine)
        _add_missing_columns(engine)
        for table in metadata.sorted_tables:  # indexes added to the schema after the file was made
            for table_index in table.indexes:
                table_index.create(engine, checkfirst=True)
        self._init_state()
        path = self._file()
        self._file_id = _file_id(path) if path is not None else None

    def _file(self) -> Path | None:
        url = self.engine.url
        database = url.database
        if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return None
        return Path(database)

    def rebuild_if_deleted(self) -> bool:
        """If the SQLite file was deleted (or replaced) under the running index, start a new
        one and rebuild it from the deployment block (the index is derived: nothing is lost);
        True then. The open connections would otherwise go on writing into the deleted file,
        and new ones find an empty file (reads answer 503 until it is rebuilt)."""
        path = self._file()
        if path is None or _file_id(path) == self._file_id:
            return False
        with self._lock:
            if _file_id(path) == self._file_id:
                return False
            log.warning("the index file %s was deleted; rebuilding it from the chain", path)
            self.engine.dispose()
            self._heads.clear()
            self._span = 1
            self._prepare()
        return True

    # ------------------------------------------------------------------ state and cursor

    def _addresses_text(self) -> str:
        return ";".join(f"{name}={addr}" for name, addr in self._addresses.items())

    def _init_state(self) -> None:
        deployment = self.ledger.deployment
        with self.engine.begin() as conn:
            row = conn.execute(select(state).where(state.c.id == 1)).first()
            if row is None:
                conn.execute(
                    state.insert().values(
                        id=1,
                        chain_id=deployment.chain_id,
                        deployment_block=deployment.block,
                        addresses=self._addresses_text(),
                        cursor_block=deployment.block - 1,
                        cursor_hash=None,
                        updated_at=int(time.time()),
                    )
                )
                log.info("new index from block %d", deployment.block)
                return
            if row.chain_id != deployment.chain_id or row.addresses != self._addresses_text():
                raise IndexMismatch(
                    f"the index database was built for chain {row.chain_id} and contracts "
                    f"{row.addresses}, not chain {deployment.chain_id} and "
                    f"{self._addresses_text()}"
                )
            log.info("resuming index after block %d", row.cursor_block)

    def cursor(self) -> tuple[int, bytes | None]:
        """The last processed block number and its hash; the block before the deployment (and
        no hash) while an index is being made afresh and holds no state row yet (a deleted
        index file rebuilt under a live gateway), so readers fall back on the chain."""
        with self.engine.connect() as conn:
            row = conn.execute(_CURSOR).first()
        if row is None:
            return self.ledger.deployment.block - 1, None
        return int(row.cursor_block), row.cursor_hash

    def lag(self) -> int:
        """Blocks between the chain head and the last processed block."""
        return self._block_number() - self.cursor()[0]

    # ------------------------------------------------------------------ RPC

    def _rpc(self, method: str, params: list[Any]) -> Any:
        response = self._provider.make_request(method, params)
        if "error" in response:
            raise _RpcError(f"{method}: {response['error']}")
        return response.get("result")

    def _rpc_batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(calls), 500):
            chunk = list(calls[start : start + 500])
            batch = getattr(self._provider, "make_batch_request", None)
            if batch is None:
                out.extend(self._rpc(m, p) for m, p in chunk)
                continue
            responses = batch(chunk)
            if not isinstance(responses, list):
                raise _RpcError(f"batch request failed: {responses}")
            for response in responses:
                if "error" in response:
                    raise _RpcError(str(response["error"]))
                out.append(response.get("result"))
        return out

    def _block_number(self) -> int:
        return int(self._rpc("eth_blockNumber", []), 16)

    def _headers(self, numbers: Iterable[int]) -> dict[int, tuple[bytes, int] | None]:
        """Block hash and timestamp per block number (None: no such block)."""
        wanted = sorted(set(numbers))
        results = self._rpc_batch([("eth_getBlockByNumber", [hex(n), False]) for n in wanted])
        out: dict[int, tuple[bytes, int] | None] = {}
        for number, header in zip(wanted, results, strict=True):
            out[number] = (
                None
                if header is None
                else (bytes.fromhex(header["hash"][2:]), int(header["timestamp"], 16))
            )
        return out

    def _get_logs(self, start: int, end: int) -> list[dict[str, Any]]:
        logs: list[dict[str, Any]] = self._rpc(
            "eth_getLogs",
            [
                {
                    "fromBlock": hex(start),
                    "toBlock": hex(end),
                    "address": list(self._addresses.values()),
                }
            ],
        )
        return logs

    # ------------------------------------------------------------------ sync

    def sync(self, until: int | None = None) -> SyncResult:
        """Index up to ``min(until, latest - confirmations)``; returns what was done."""
        with self._lock:
            return self._sync(until)

    def _sync(self, until: int | None) -> SyncResult:
        started = time.perf_counter()
        first_cursor, _ = self.cursor()
        n_blocks = n_logs = n_events = n_reorgs = 0
        while True:
            cursor, cursor_hash = self.cursor()
            target = self._block_number() - self.confirmations
            if until is not None:
                target = min(target, until)
            if cursor_hash is not None:
                # A cursor above the target is fine (confirmations raised, or a reorg to a
                # shorter chain, which the hash check catches); only the hash matters.
                header = self._headers([cursor])[cursor]
                if header is None or header[0] != cursor_hash:
                    self._rollback_to_fork(cursor)
                    n_reorgs += 1
                    continue
            if cursor >= target:
                break
            end = min(cursor + self._span, target)
            try:
                if end - cursor > 1:
                    end = self._fit_range(cursor + 1, end)
                fetched = self._fetch(cursor + 1, end)
            except (_RpcError, OSError, TimeoutError) as exc:
                if end - cursor == 1:
                    raise IndexingError(f"eth_getLogs failed for block {end}: {exc}") from exc
                self._span = max(1, (end - cursor) // 2)
                log.info(
                    "eth_getLogs %d..%d failed (%s): span now %d", cursor + 1, end, exc, self._span
                )
                continue
            if fetched is None:
                log.warning("chain changed while fetching %d..%d; retrying", cursor + 1, end)
                time.sleep(0.05)
                continue
            logs, headers, end_hash = fetched
            try:
                n_events += self._write(cursor, end, end_hash, logs, headers)
            except Exception:
                self._heads.clear()  # the cache may hold heads of the rolled-back range
                raise
            n_blocks += end - cursor
            n_logs += len(logs)
            self._span = self._next_span(end - cursor, len(logs))
        last, _ = self.cursor()
        return SyncResult(
            from_block=first_cursor + 1,
            to_block=last,
            blocks=n_blocks,
            logs=n_logs,
            consignment_events=n_events,
            reorgs=n_reorgs,
            seconds=time.perf_counter() - started,
        )

    def _fit_range(self, start: int, end: int) -> int:
        """The last block of ``start..end`` (``start`` at least) up to which the blocks' gas
        used pays for at most ``max_logs`` logs at :data:`MIN_GAS_PER_LOG` each."""
        numbers = range(start, end + 1)
        headers = self._rpc_batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        budget = self.max_logs * MIN_GAS_PER_LOG
        used = 0
        for number, header in zip(numbers, headers, strict=True):
            if header is None:  # not there (yet): the range up to the block before
                return max(start, number - 1)
            used += int(header["gasUsed"], 16)
            if used > budget:
                return max(start, number - 1)
        return end

    def _next_span(self, blocks: int, logs: int) -> int:
        """The range of the next ``eth_getLogs`` after one of ``blocks`` held ``logs`` logs."""
        if logs > self.max_logs:
            return max(1, blocks * self.max_logs // logs)
        if 2 * logs <= self.max_logs:
            return min(self.max_span, 2 * max(blocks, self._span))
        return max(1, min(self.max_span, blocks))

    def _fetch(
        self, start: int, end: int
    ) -> tuple[list[_Log | _HotEvent], dict[int, tuple[bytes, int]], bytes] | None:
        """Logs of ``start..end`` (decoded, or raw for the hot event kind), headers of their
        blocks, the end block's hash; None if the chain changed under the request."""
        before = self._headers([end])[end]
        if before is None:
            return None
        raw = self._get_logs(start, end)
        numbers = {int(entry["blockNumber"], 16) for entry in raw}
        numbers.add(end)
        headers = self._headers(numbers)
        after = headers[end]
        if after is None or after[0] != before[0]:
            return None
        complete: dict[int, tuple[bytes, int]] = {}
        for number, header in headers.items():
            if header is None:
                return None
            complete[number] = header
        out = _decode_logs(
            raw,
            complete,
            hot_address=self._addresses["Consignments"],
            hot_topic=_hex(self._event_topic0),
            by_address=self._by_address,
            decoders=self._decoders,
        )
        if out is None:
            return None
        return out, complete, complete[end][0]

    # ------------------------------------------------------------------ reorgs

    def _rollback_to_fork(self, cursor: int) -> None:
        """Find the newest processed block still on the chain; delete every row after it."""
        with self.engine.connect() as conn:
            known = conn.execute(
                select(blocks.c.block_number, blocks.c.block_hash)
                .where(blocks.c.block_number <= cursor)
                .order_by(blocks.c.block_number.desc())
            ).all()
        fork: int | None = None
        fork_hash: bytes | None = None
        for start in range(0, len(known), 64):
            chunk = known[start : start + 64]
            chain = self._headers(int(r.block_number) for r in chunk)
            for r in chunk:
                header = chain[int(r.block_number)]
                if header is not None and header[0] == bytes(r.block_hash):
                    fork, fork_hash = int(r.block_number), bytes(r.block_hash)
                    break
            if fork is not None:
                break
        if fork is None:
            fork = self.ledger.deployment.block - 1
            log.warning(
                "reorg deeper than the %d stored block hashes: rebuilding the index from block %d",
                len(known),
                fork + 1,
            )
        with self.engine.begin() as conn:
            removed = 0
            for table in CHAIN_TABLES:
                removed += conn.execute(delete(table).where(table.c.block_number > fork)).rowcount
            conn.execute(delete(findings).where(findings.c.block_number > fork))
            conn.execute(delete(blocks).where(blocks.c.block_number > fork))
            conn.execute(
                state.update()
                .where(state.c.id == 1)
                .values(cursor_block=fork, cursor_hash=fork_hash, updated_at=int(time.time()))
            )
        self._heads.clear()
        log.warning(
            "reorg: block %d is no longer on the chain; rolled back to fork point %d "
            "(%d rows removed)",
            cursor,
            fork,
            removed,
        )

    # ------------------------------------------------------------------ background task

    def run_forever(self, stop_event: threading.Event, poll_interval: float = 1.0) -> None:
        """Sync until ``stop_event`` is set; errors are logged and retried with back-off."""
        failures = 0
        while not stop_event.is_set():
            try:
                self.rebuild_if_deleted()
                result = self.sync()
                failures = 0
                if result.logs:
                    log.info("indexed %d logs up to block %d", result.logs, result.to_block)
            except Exception:  # keep following the chain; the next round retries
                failures += 1
                log.exception("index sync failed (attempt %d)", failures)
            stop_event.wait(poll_interval * min(2**failures, 60))

    # ------------------------------------------------------------------ heads

    def verify_heads(
        self,
        consignment_ids: Iterable[bytes] | None = None,
        *,
        raise_on_mismatch: bool = True,
    ) -> HeadVerification:
        """Recompute each consignment's head from the stored rows and compare it with
        ``Consignments.head(id)`` on chain at the indexed block.

        Every mismatch is logged as an error, stored as a ``chain_head_mismatch`` finding and,
        unless ``raise_on_mismatch`` is false, raised as :class:`HeadMismatch`.
        """
        with self._lock:  # rows and cursor must not move under the comparison
            block, _ = self.cursor()
            if consignment_ids is None:
                ids = self.consignment_ids()
            else:
                ids = list(dict.fromkeys(consignment_ids))
            pairs: list[tuple[bytes, tuple[bytes, int, str], bytes, int]] = []
            for start in range(0, len(ids), VERIFY_CHUNK):
                pairs.extend(self._verify_chunk(ids[start : start + VERIFY_CHUNK], block))
        mismatches: list[Finding] = []
        now = int(time.time())
        for cid, (head, count, problem), chain_head, chain_count in pairs:
            if head != chain_head or count != chain_count or problem:
                detail = problem or (
                    f"recomputed head {_hex(head)} after {count} events, chain has "
                    f"{_hex(chain_head)} after {chain_count}"
                )
                log.error(
                    "index head mismatch for consignment %s at block %d: %s",
                    _hex(cid),
                    block,
                    detail,
                )
                mismatches.append(
                    Finding("chain_head_mismatch", cid, block, chain_head, head, detail, now)
                )
        if mismatches:
            with self.engine.begin() as conn:
                conn.execute(
                    findings.insert(),
                    [
                        {
                            "kind": f.kind,
                            "consignment_id": f.consignment_id,
                            "block_number": f.block_number,
                            "expected": f.expected,
                            "found": f.found,
                            "detail": f.detail,
                            "recorded_at": f.recorded_at,
                        }
                        for f in mismatches
                    ],
                )
        result = HeadVerification(block, len(ids), tuple(mismatches))
        if mismatches and raise_on_mismatch:
            names = ", ".join(_hex(f.consignment_id) for f in mismatches)
            raise HeadMismatch(
                f"{len(mismatches)} consignment head(s) in the index differ from the chain at "
                f"block {block}: {names}",
                consignment_ids=tuple(f.consignment_id for f in mismatches),
            )
        return result

    def _verify_chunk(
        self, ids: list[bytes], block: int
    ) -> list[tuple[bytes, tuple[bytes, int, str], bytes, int]]:
        """(id, (recomputed head, count, problem), chain head, chain count) for some ids."""
        with self.engine.connect() as conn:
            registrations = {
                bytes(r.consignment_id): r
                for r in conn.execute(
                    select(consignments).where(consignments.c.consignment_id.in_(ids))
                )
            }
            events: dict[bytes, list[Row[Any]]] = defaultdict(list)
            for r in conn.execute(
                select(consignment_events)
                .where(consignment_events.c.consignment_id.in_(ids))
                .order_by(consignment_events.c.consignment_id, consignment_events.c.seq)
            ):
                events[bytes(r.consignment_id)].append(r)
        fn = self.ledger.consignments.abi.fn("head")
        address = self.ledger.consignments.address
        calls = [
            ("eth_call", [{"to": address, "data": _hex(fn.encode(cid))}, hex(block)]) for cid in ids
        ]
        results = self._rpc_batch(calls) if calls else []
        out = []
        for cid, raw in zip(ids, results, strict=True):
            decoded = fn.decode_output(bytes.fromhex(raw[2:]))
            computed = self._recompute(cid, registrations.get(cid), events.get(cid, []))
            out.append((cid, computed, bytes(decoded["head_"]), int(decoded["eventCount"])))
        return out

    def _recompute(
        self, cid: bytes, registration: Row[Any] | None, events: Sequence[Row[Any]]
    ) -> tuple[bytes, int, str]:
        """Fold the stored rows of one consignment: (head, event count, problem or "")."""
        if registration is None:
            return ZERO28, 0, "not registered in the index"
        if registration.reference_hash is None:
            return ZERO28, 0, "registration indexed without its reference hash: re-index"
        if registration.deadline is None:
            return ZERO28, 0, "registration indexed without its deadline: re-index"
        head = next_head(
            ZERO28,
            registration_digest(
                self._separator,
                reference_hash=bytes(registration.reference_hash),
                origin=_raw(registration.origin, 2),
                destination=_raw(registration.destination, 2),
                consignor=bytes(registration.consignor),
                consignee=bytes(registration.consignee),
                deadline=int(registration.deadline),
            ),
            org_id=bytes(registration.registrant),
            signer=bytes(registration.signer),
        )
        problem = "" if head == bytes(registration.head) else "stored registration head differs"
        for n, r in enumerate(events, start=1):
            meta = self._stored_meta(r)
            digest = event_digest(
                self._separator,
                consignment_id=cid,
                meta=meta,
                seal_digest=bytes(r.seal_digest),
                documents_digest=bytes(r.documents_digest),
                epcis_event_hash=bytes(r.epcis_event_hash),
            )
            head = next_head(head, digest, org_id=bytes(r.org_id), signer=bytes(r.signer))
            if not problem and (r.seq != n or head != bytes(r.head) or digest != bytes(r.digest)):
                problem = f"stored event #{r.seq} does not match its recomputed digest or head"
        return head, len(events), problem
