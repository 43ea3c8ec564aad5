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

The queries and their read models live in :mod:`ledger.index.queries` (:class:`Index` inherits them;
:class:`~ledger.index.queries.IndexQueries` alone opens an index read-only); the tables in
:mod:`ledger.index.schema`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from eth_hash.auto import keccak as _eth_keccak
from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Table,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import ConnectionPoolEntry

from ledger.chain import AbiEvent, Ledger, contract_abi
from ledger.errors import HeadMismatch, IndexingError, IndexMismatch
from ledger.index.queries import (
    AeoStatus,
    AttestationRecord,
    CertificateRecord,
    ConsignmentRecord,
    ConsignmentView,
    DrawdownRecord,
    Finding,
    HeadVerification,
    IndexQueries,
    KeyRecord,
    KeyValidity,
    MraRecord,
    OrganisationRecord,
    RawLog,
    SyncResult,
    TimelineEvent,
    _addr,
    _hex,
    _raw,
    _text,
)
from ledger.index.schema import (
    CHAIN_TABLES,
    aeo_status_changes,
    attestation_revocations,
    attestations,
    blocks,
    certificate_revocations,
    certificates,
    consignment_events,
    consignments,
    drawdowns,
    findings,
    metadata,
    mra_events,
    org_admissions,
    org_status_changes,
    raw_logs,
    schemas,
    signing_keys_added,
    signing_keys_revoked,
    state,
)
from ledger.records import ConsignmentEvent, ConsignmentRegistration

__all__ = [
    "DEFAULT_SPAN",
    "AeoStatus",
    "AttestationRecord",
    "CertificateRecord",
    "ConsignmentRecord",
    "ConsignmentView",
    "DrawdownRecord",
    "Finding",
    "HeadVerification",
    "Index",
    "IndexQueries",
    "KeyRecord",
    "KeyValidity",
    "MraRecord",
    "OrganisationRecord",
    "RawLog",
    "SyncResult",
    "TimelineEvent",
    "event_digest",
    "next_head",
    "registration_digest",
]

log = logging.getLogger("ledger.index.follower")

ZERO28 = bytes(28)
ZERO32 = bytes(32)
DEFAULT_SPAN = 2000
# Logs per eth_getLogs answer, about: the span shrinks to fit and starts at one block, so that
# catching up on a chain of dense blocks never holds hundreds of thousands of logs at once.
MAX_LOGS_PER_FETCH = 10_000
# Fewer gas than any log of the suite costs (a batch-signed event, the cheapest, ~9,400): a
# range of blocks is asked for only if its gas used, at this much per log, fits MAX_LOGS.
MIN_GAS_PER_LOG = 2_000
KEEP_BLOCKS = 4096  # block hashes kept for the fork-point search (in blocks behind the cursor)
HEAD_CACHE_LIMIT = 200_000
VERIFY_CHUNK = 500  # consignments per verify_heads() round (rows in memory, eth_call batch)

_AEO_EVENTS = {
    "AeoCertified": (1, 1),
    "AeoSuspended": (2, 2),
    "AeoReinstated": (3, 1),
    "AeoRevoked": (4, 3),
}  # event -> (action, status after)
_CONTRACTS = ("Membership", "Consignments", "Certificates", "Attestations", "AeoRegistry")
_CURSOR = select(state.c.cursor_block, state.c.cursor_hash)


# ----------------------------------------------------------------------------------------------
# Digests and heads (fast, hand-encoded; equal to ledger.records.kinds' digests, see the tests)
# ----------------------------------------------------------------------------------------------


def _fast_keccak() -> Callable[[bytes], bytes]:
    """keccak256 straight through pycryptodome's C library (about twice as fast as going
    through its Python hash object); eth-hash's if that library is not available."""
    try:
        from Crypto.Hash import keccak as pycryptodome_keccak
        from Crypto.Util import _raw_api

        ffi: Any = getattr(_raw_api, "ffi")  # noqa: B009 - private, untyped
        lib: Any = getattr(pycryptodome_keccak, "_raw_keccak_lib")  # noqa: B009
        voidpp, out_t = ffi.typeof("void **"), ffi.typeof("uint8_t[32]")
        new, buffer = ffi.new, ffi.buffer
        init, absorb, digest, destroy = (
            lib.keccak_init,
            lib.keccak_absorb,
            lib.keccak_digest,
            lib.keccak_destroy,
        )

        def fast(data: bytes) -> bytes:
            pp = new(voidpp)
            init(pp, 64, 24)  # 512-bit capacity (keccak-256), 24 rounds
            state = pp[0]
            absorb(state, data, len(data))
            out = new(out_t)
            digest(state, out, 32, 0x01)  # original Keccak padding, not SHA-3's
            destroy(state)
            return bytes(buffer(out))

        if fast(b"") != _eth_keccak(b"") or fast(b"x" * 200) != _eth_keccak(b"x" * 200):
            return _eth_keccak
        return fast
    except Exception:  # any other pycryptodome build or backend: the portable path
        return _eth_keccak


keccak = _fast_keccak()

_EVENT_TYPEHASH = ConsignmentEvent.typehash()
_REGISTRATION_TYPEHASH = ConsignmentRegistration.typehash()


def _u(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _b(value: bytes) -> bytes:
    return value.ljust(32, b"\0")


def registration_digest(
    separator: bytes,
    *,
    consignment_id: bytes,
    origin: bytes,
    destination: bytes,
    consignor: bytes,
    consignee: bytes,
) -> bytes:
    """EIP-712 digest of a ConsignmentRegistration (``separator``: the Consignments domain's)."""
    struct = keccak(
        _REGISTRATION_TYPEHASH
        + consignment_id
        + _b(origin)
        + _b(destination)
        + consignor
        + consignee
    )
    return keccak(b"\x19\x01" + separator + struct)


def event_digest(
    separator: bytes,
    *,
    consignment_id: bytes,
    meta: bytes,
    seal_digest: bytes,
    documents_digest: bytes,
    epcis_event_hash: bytes,
) -> bytes:
    """EIP-712 digest of a ConsignmentEvent given its packed ``meta`` word."""
    biz, disp = meta[0], meta[1]
    location, event_time, container = meta[2:7], meta[7:12], meta[12:23]
    deadline, nonce = meta[23:28], meta[28:32]
    struct = keccak(
        _EVENT_TYPEHASH
        + consignment_id
        + _u(biz)
        + _u(disp)
        + _b(location)
        + event_time.rjust(32, b"\0")
        + _b(container)
        + seal_digest
        + documents_digest
        + epcis_event_hash
        + nonce.rjust(32, b"\0")
        + deadline.rjust(32, b"\0")
    )
    return keccak(b"\x19\x01" + separator + struct)


_ZERO12 = b"\0" * 12


def next_head(previous: bytes, digest: bytes, *, org_id: bytes, signer: bytes | str) -> bytes:
    """One step of the hash chain (contracts/RECORDS.md "Hash chain"):
    ``bytes28(keccak(abi.encode(bytes28 previous, bytes32 digest, bytes32 org_id, address
    signer)))``, where ``digest`` is the record's EIP-712 digest, ``org_id`` the acting
    organisation and ``signer`` the key that signed it (20 bytes or a 0x-hex address; for a
    batch-signed event, the batch signer). So a head also proves who signed each record of its
    chain."""
    if isinstance(signer, str):
        signer = bytes.fromhex(signer[2:])
    return keccak(previous[:28].ljust(32, b"\0") + digest + org_id + _ZERO12 + signer)[:28]


# ----------------------------------------------------------------------------------------------
# Log decoding
# ----------------------------------------------------------------------------------------------


class _RpcError(Exception):
    pass


@dataclass(slots=True)
class _Log:
    contract: str
    event: str
    args: dict[str, Any]
    address: bytes
    topics: list[bytes]
    data: bytes
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    tx_index: int
    log_index: int


_Decoder = Callable[[list[bytes], bytes], dict[str, Any]]

# A ConsignmentEventRecorded log kept raw for the hot path:
# (block number, log index, block hash, tx hash hex, tx index, topics hex, data)
_HotEvent = tuple[int, int, bytes, str, int, list[str], bytes]

_EVENT_COLUMNS = (
    "block_number",
    "log_index",
    "block_hash",
    "tx_hash",
    "block_time",
    "tx_index",
    "consignment_id",
    "seq",
    "org_id",
    "signer",
    "biz_step",
    "disposition",
    "location",
    "event_time",
    "container",
    "seal_digest",
    "documents_digest",
    "epcis_event_hash",
    "nonce",
    "deadline",
    "digest",
    "head",
    "emitted_head",
)
_ZERO11 = bytes(11)


def _position(entry: _Log | _HotEvent) -> tuple[int, int]:
    if isinstance(entry, tuple):
        return entry[0], entry[1]
    return entry.block_number, entry.log_index


def _static_decoder(event: AbiEvent) -> _Decoder:
    """A word-by-word decoder for events whose parameters are all static value types."""
    plan: list[tuple[str, bool, str, int]] = []
    for name in event.order:
        param = next(p for p in (*event.indexed, *event.data) if p["name"] == name)
        kind = str(param["type"])
        indexed = any(p["name"] == name for p in event.indexed)
        if kind.startswith("bytes") and kind != "bytes":
            plan.append((name, indexed, "bytes", int(kind[5:])))
        elif kind.startswith("uint"):
            plan.append((name, indexed, "uint", 0))
        elif kind == "address":
            plan.append((name, indexed, "address", 0))
        elif kind == "bool":
            plan.append((name, indexed, "bool", 0))
        else:
            return lambda topics, data: _fallback(event, topics, data)

    def decode(topics: list[bytes], data: bytes) -> dict[str, Any]:
        out: dict[str, Any] = {}
        t = 1
        d = 0
        for name, indexed, kind, size in plan:
            if indexed:
                word = topics[t]
                t += 1
            else:
                word = data[d : d + 32]
                d += 32
            if kind == "bytes":
                out[name] = word[:size]
            elif kind == "uint":
                out[name] = int.from_bytes(word, "big")
            elif kind == "address":
                out[name] = word[12:]
            else:
                out[name] = word[31] == 1
        return out

    return decode


def _fallback(event: AbiEvent, topics: list[bytes], data: bytes) -> dict[str, Any]:
    args = event.decode(topics, data)
    for name, value in list(args.items()):
        if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
            args[name] = _addr(value)
    return args


# ----------------------------------------------------------------------------------------------
# The index
# ----------------------------------------------------------------------------------------------


def _consignor_state(conn: Connection, consignor: bytes) -> tuple[int, int, int]:
    """(block of the consignor's latest indexed registration, its registrations before that
    block, its registrations up to and including it); (-1, 0, 0) when it has none."""
    c = consignments.c
    latest = conn.execute(
        select(c.block_number, c.consignor_earlier)
        .where(c.consignor == consignor)
        .order_by(c.block_number.desc())
        .limit(1)
    ).first()
    if latest is None:
        return -1, 0, 0
    block = int(latest.block_number)
    in_block = select(func.count()).where(c.consignor == consignor, c.block_number == block)
    if latest.consignor_earlier is None:  # indexed before the count was kept: count them all
        upto = int(conn.execute(select(func.count()).where(c.consignor == consignor)).scalar_one())
        before = upto - int(conn.execute(in_block).scalar_one())
        return block, before, upto
    before = int(latest.consignor_earlier)
    return block, before, before + int(conn.execute(in_block).scalar_one())


# Columns added to the schema after index files were made with it: (table, column), each added
# (NULL in the existing rows) when a file without it is opened.
_ADDED_COLUMNS: Final = ((consignments, "consignor_earlier"),)


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


class Index(IndexQueries):
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
        metadata.create_all(engine)
        _add_missing_columns(engine)
        for table in metadata.sorted_tables:  # indexes added to the schema after the file was made
            for table_index in table.indexes:
                table_index.create(engine, checkfirst=True)
        self._init_state()

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
        """The last processed block number and its hash."""
        with self.engine.connect() as conn:
            row = conn.execute(_CURSOR).one()
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
        hashes: dict[int, str] = {}
        for number, header in headers.items():
            if header is None:
                return None
            complete[number] = header
            hashes[number] = _hex(header[0])
        consignments_address = self._addresses["Consignments"]
        hot_topic = _hex(self._event_topic0)
        out: list[_Log | _HotEvent] = []
        for entry in raw:
            if entry.get("removed"):
                return None
            block_number = int(entry["blockNumber"], 16)
            if entry["blockHash"].lower() != hashes[block_number]:
                return None
            address = entry["address"].lower()
            topics_hex = entry["topics"]
            if not topics_hex:
                continue
            if address == consignments_address and topics_hex[0].lower() == hot_topic:
                out.append(
                    (
                        block_number,
                        int(entry["logIndex"], 16),
                        complete[block_number][0],
                        entry["transactionHash"],
                        int(entry["transactionIndex"], 16),
                        topics_hex,
                        bytes.fromhex(entry["data"][2:]),
                    )
                )
                continue
            contract = self._by_address.get(address)
            if contract is None:
                continue
            topics = [bytes.fromhex(t[2:]) for t in topics_hex]
            decoder = self._decoders.get((contract, topics[0]))
            if decoder is None:
                continue
            name, decode = decoder
            data = bytes.fromhex(entry["data"][2:])
            out.append(
                _Log(
                    contract=contract,
                    event=name,
                    args=decode(topics, data),
                    address=bytes.fromhex(address[2:]),
                    topics=topics,
                    data=data,
                    block_number=block_number,
                    block_hash=complete[block_number][0],
                    tx_hash=bytes.fromhex(entry["transactionHash"][2:]),
                    tx_index=int(entry["transactionIndex"], 16),
                    log_index=int(entry["logIndex"], 16),
                )
            )
        out.sort(key=_position)
        return out, complete, complete[end][0]

    def _write(
        self,
        cursor: int,
        end: int,
        end_hash: bytes,
        logs: list[_Log | _HotEvent],
        headers: Mapping[int, tuple[bytes, int]],
    ) -> int:
        """Write one range and the new cursor in one transaction; returns consignment events."""
        rows: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        event_rows: list[tuple[Any, ...]] = []
        found: list[dict[str, Any]] = []
        n_events = 0
        with self.engine.begin() as conn:
            for entry in logs:
                if isinstance(entry, tuple):
                    event_rows.append(self._event_row(conn, entry, headers[entry[0]][1], found))
                    continue
                block_time = headers[entry.block_number][1]
                pos = {
                    "block_number": entry.block_number,
                    "log_index": entry.log_index,
                    "block_hash": entry.block_hash,
                    "tx_hash": entry.tx_hash,
                    "block_time": block_time,
                }
                table, row, consignment = self._row(conn, entry, found)
                if table is not None and row is not None:
                    row.update(pos)
                    rows[table].append(row)
                topics: list[bytes | None] = [*entry.topics, None, None, None]
                rows[raw_logs].append(
                    {
                        **pos,
                        "tx_index": entry.tx_index,
                        "address": entry.address,
                        "contract": entry.contract,
                        "event": entry.event,
                        "topic0": topics[0],
                        "topic1": topics[1],
                        "topic2": topics[2],
                        "topic3": topics[3],
                        "data": entry.data,
                        "consignment_id": consignment,
                    }
                )
            if rows.get(consignments):
                self._count_earlier(conn, rows[consignments])
            for table, table_rows in rows.items():
                if table is raw_logs:
                    self._bulk_insert(conn, table, table_rows)
                else:
                    conn.execute(table.insert(), table_rows)
            if event_rows:
                # The event row holds every bit of its log (raw_logs() rebuilds it): no raw copy
                # of the highest-volume log.
                self._bulk_insert_tuples(conn, consignment_events, _EVENT_COLUMNS, event_rows)
                n_events = len(event_rows)
            if found:
                conn.execute(findings.insert(), found)
            known = {number: h for number, (h, _) in headers.items()}
            conn.execute(
                blocks.insert(),
                [{"block_number": n, "block_hash": h} for n, h in sorted(known.items())],
            )
            conn.execute(delete(blocks).where(blocks.c.block_number < end - self.keep_blocks))
            conn.execute(
                state.update()
                .where(state.c.id == 1)
                .values(cursor_block=end, cursor_hash=end_hash, updated_at=int(time.time()))
            )
        if len(self._heads) > HEAD_CACHE_LIMIT:
            self._heads.clear()
        log.debug("indexed blocks %d..%d: %d logs", cursor + 1, end, len(logs))
        return n_events

    @staticmethod
    def _count_earlier(conn: Connection, registrations: list[dict[str, Any]]) -> None:
        """Set each new registration row's ``consignor_earlier``: the consignor's consignments
        in earlier blocks, those already indexed (all in blocks before this range) and those
        before it in this range. Found from the consignor's latest indexed registration (its
        count, plus the registrations in its block), counted only when that row predates the
        column. The count stays right for as long as the row exists: rows in earlier blocks
        are never added later (a reorg removes every row after the fork point, this one too).
        """
        # consignor -> (block of its latest registration, registrations before that block,
        # registrations up to and including it)
        known: dict[bytes, tuple[int, int, int]] = {}
        for row in registrations:  # chain order
            consignor, block = row["consignor"], row["block_number"]
            state = known.get(consignor)
            if state is None:
                state = _consignor_state(conn, consignor)
            latest, before, upto = state
            if block > latest:
                latest, before = block, upto
            row["consignor_earlier"] = before
            known[consignor] = (latest, before, upto + 1)

    def _bulk_insert(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        """executemany of a statement compiled once per dialect, without SQLAlchemy's per-row
        parameter processing (for the high-volume tables, whose values need no conversion)."""
        keys = tuple(rows[0])
        cached = self._compiled.get((table.name, keys))
        if cached is None:
            compiled = table.insert().compile(dialect=conn.dialect, column_keys=list(keys))
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            cached = self._compiled[(table.name, keys)] = (str(compiled), order)
        sql, order = cached
        if order is None:
            conn.exec_driver_sql(sql, rows)
        else:
            conn.exec_driver_sql(sql, [tuple(row[k] for k in order) for row in rows])

    def _bulk_insert_tuples(
        self,
        conn: Connection,
        table: Table,
        columns: tuple[str, ...],
        rows: list[tuple[Any, ...]],
    ) -> None:
        cached = self._compiled.get((table.name, columns))
        if cached is None:
            compiled = table.insert().compile(dialect=conn.dialect, column_keys=list(columns))
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            cached = self._compiled[(table.name, columns)] = (str(compiled), order)
        sql, order = cached
        if order is None:
            conn.exec_driver_sql(sql, [dict(zip(columns, row, strict=True)) for row in rows])
        elif order == columns:
            conn.exec_driver_sql(sql, rows)
        else:
            picks = [columns.index(name) for name in order]
            conn.exec_driver_sql(sql, [tuple(row[i] for i in picks) for row in rows])

    def _previous_head(self, conn: Connection, consignment_id: bytes) -> tuple[bytes, int] | None:
        cached = self._heads.get(consignment_id)
        if cached is not None:
            return cached
        row = conn.execute(
            select(consignment_events.c.head, consignment_events.c.seq)
            .where(consignment_events.c.consignment_id == consignment_id)
            .order_by(consignment_events.c.seq.desc())
            .limit(1)
        ).first()
        if row is not None:
            return bytes(row.head), int(row.seq)
        reg = conn.execute(
            select(consignments.c.head).where(consignments.c.consignment_id == consignment_id)
        ).first()
        return None if reg is None else (bytes(reg.head), 0)

    def _log_mismatch(
        self,
        found: list[dict[str, Any]],
        position: tuple[int, int],
        consignment_id: bytes,
        *,
        computed: bytes,
        emitted: bytes,
        detail: str,
    ) -> None:
        log.error(
            "head mismatch in the log stream: consignment %s at block %d log %d: recomputed "
            "%s, log says %s (%s)",
            _hex(consignment_id),
            position[0],
            position[1],
            _hex(computed),
            _hex(emitted),
            detail,
        )
        found.append(
            {
                "kind": "log_head_mismatch",
                "consignment_id": consignment_id,
                "block_number": position[0],
                "expected": emitted,
                "found": computed,
                "detail": detail,
                "recorded_at": int(time.time()),
            }
        )

    def _event_row(
        self,
        conn: Connection,
        hot: _HotEvent,
        block_time: int,
        found: list[dict[str, Any]],
    ) -> tuple[Any, ...]:
        """The row of a ConsignmentEventRecorded log (the hot path: decoded word by word, row
        as a tuple in ``_EVENT_COLUMNS`` order); checks the emitted head against the fold."""
        block_number, log_index, block_hash, tx_hash, tx_index, topics, data = hot
        cid = bytes.fromhex(topics[1][2:])
        meta = data[:32]
        seal, documents, epcis = data[32:64], data[64:96], data[96:128]
        emitted = data[128:156]
        seq = int.from_bytes(data[160:192], "big")
        digest = event_digest(
            self._separator,
            consignment_id=cid,
            meta=meta,
            seal_digest=seal,
            documents_digest=documents,
            epcis_event_hash=epcis,
        )
        org_id = bytes.fromhex(topics[2][2:])
        signer = bytes.fromhex(topics[3][26:])
        previous = self._previous_head(conn, cid)
        if previous is None:
            head = next_head(ZERO28, digest, org_id=org_id, signer=signer)
            self._log_mismatch(
                found,
                (block_number, log_index),
                cid,
                computed=head,
                emitted=emitted,
                detail="event for a consignment the index never saw registered",
            )
        else:
            head = next_head(previous[0], digest, org_id=org_id, signer=signer)
            if head != emitted or seq != previous[1] + 1:
                self._log_mismatch(
                    found,
                    (block_number, log_index),
                    cid,
                    computed=head,
                    emitted=emitted,
                    detail=f"event #{seq} after #{previous[1]}",
                )
        self._heads[cid] = (head, seq)
        container = meta[12:23]
        return (
            block_number,
            log_index,
            block_hash,
            bytes.fromhex(tx_hash[2:]),
            block_time,
            tx_index,
            cid,
            seq,
            org_id,
            signer,
            meta[0],
            meta[1],
            _text(meta[2:7]),
            int.from_bytes(meta[7:12], "big"),
            None if container == _ZERO11 else _text(container),
            seal,
            documents,
            epcis,
            int.from_bytes(meta[28:32], "big"),
            int.from_bytes(meta[23:28], "big"),
            digest,
            head,
            emitted,
        )

    def _row(  # one branch per event kind
        self, conn: Connection, entry: _Log, found: list[dict[str, Any]]
    ) -> tuple[Any, dict[str, Any] | None, bytes | None]:
        """The domain table and row for a log, and the consignment it concerns (if any)."""
        a = entry.args
        ev = entry.event
        if ev == "ConsignmentRegistered":
            cid = a["consignmentId"]
            digest = registration_digest(
                self._separator,
                consignment_id=cid,
                origin=a["origin"],
                destination=a["destination"],
                consignor=a["consignor"],
                consignee=a["consignee"],
            )
            head = next_head(ZERO28, digest, org_id=a["registrant"], signer=a["signer"])
            if head != a["head"]:
                self._log_mismatch(
                    found,
                    (entry.block_number, entry.log_index),
                    cid,
                    computed=head,
                    emitted=a["head"],
                    detail="registration",
                )
            self._heads[cid] = (head, 0)
            return (
                consignments,
                {
                    "consignment_id": cid,
                    "registrant": a["registrant"],
                    "signer": a["signer"],
                    "origin": _text(a["origin"]),
                    "destination": _text(a["destination"]),
                    "consignor": a["consignor"],
                    "consignee": a["consignee"],
                    "digest": digest,
                    "head": head,
                    "emitted_head": a["head"],
                },
                cid,
            )
        if ev == "QuantityDrawn":
            return (
                drawdowns,
                {
                    "certificate_id": a["certificateId"],
                    "consignment_id": a["consignmentId"],
                    "org_id": a["orgId"],
                    "signer": a["signer"],
                    "quantity": a["quantity"],
                    "drawn": a["drawn"],
                },
                a["consignmentId"],
            )
        if ev == "Attested":
            return (
                attestations,
                {
                    "uid": a["uid"],
                    "subject_id": a["subjectId"],
                    "attester": a["attester"],
                    "signer": a["signer"],
                    "schema_id": a["schemaId"],
                    "subject_type": a["subjectType"],
                    "data_digest": a["dataDigest"],
                    "ref_uid": a["refUid"],
                    "expires_at": a["expiresAt"],
                },
                (a["subjectId"] if a["subjectType"] == 1 else None),
            )
        if ev == "AttestationRevoked":
            return (
                attestation_revocations,
                {
                    "uid": a["uid"],
                    "attester": a["attester"],
                    "signer": a["signer"],
                    "reason_digest": a["reasonDigest"],
                },
                None,
            )
        if ev == "CertificateIssued":
            r = a["record"]
            return (
                certificates,
                {
                    "certificate_id": a["certificateId"],
                    "issuer": a["issuer"],
                    "exporter": a["exporter"],
                    "signer": a["signer"],
                    "certificate_number": r["certificateNumber"],
                    "origin": _text(r["origin"]),
                    "destination": _text(r["destination"]),
                    "document_digest": r["documentDigest"],
                    "hs_codes_digest": r["hsCodesDigest"],
                    "quantity": r["quantity"],
                    "unit": _text(r["unit"]),
                    "valid_from": r["validFrom"],
                    "valid_until": r["validUntil"],
                    "issued_at": r["issuedAt"],
                },
                None,
            )
        if ev == "CertificateRevoked":
            return (
                certificate_revocations,
                {
                    "certificate_id": a["certificateId"],
                    "issuer": a["issuer"],
                    "signer": a["signer"],
                    "reason_digest": a["reasonDigest"],
                },
                None,
            )
        if ev in _AEO_EVENTS:
            action, status = _AEO_EVENTS[ev]
            certified = ev == "AeoCertified"
            return (
                aeo_status_changes,
                {
                    "certification_id": a["certificationId"],
                    "operator_id": a["operatorId"],
                    "administration": a["administration"],
                    "action": action,
                    "status": status,
                    "programme": _text(a["programme"]) if certified else None,
                    "valid_from": a["validFrom"] if certified else None,
                    "valid_until": a["validUntil"] if certified else None,
                    "signer": a["signer"],
                    "nonce": a["nonce"],
                },
                None,
            )
        if ev in ("MraProposed", "MraAccepted", "MraTerminated"):
            proposed = ev == "MraProposed"
            return (
                mra_events,
                {
                    "mra_id": a["mraId"],
                    "kind": ev[3:].lower(),
                    "proposer": a.get("proposer"),
                    "counterpart": a.get("counterpart"),
                    "by_org": a.get("by"),
                    "signer": a["signer"],
                    "scope": a["scope"] if proposed else None,
                    "valid_from": a["validFrom"] if proposed else None,
                    "valid_until": a["validUntil"] if proposed else None,
                },
                None,
            )
        if ev == "OrganisationAdmitted":
            return (
                org_admissions,
                {
                    "org_id": a["orgId"],
                    "kind": a["kind"],
                    "country": _text(a["country"]),
                    "org_index": a["index"],
                    "proposal_id": a["proposalId"],
                },
                None,
            )
        if ev in ("OrganisationSuspended", "OrganisationReinstated"):
            return (
                org_status_changes,
                {
                    "org_id": a["orgId"],
                    "status": 2 if ev == "OrganisationSuspended" else 1,
                    "proposal_id": a["proposalId"],
                },
                None,
            )
        if ev == "SigningKeyAdded":
            return (
                signing_keys_added,
                {
                    "org_id": a["orgId"],
                    "key": a["key"],
                    "valid_from": a["validFrom"],
                    "valid_until": a["validUntil"],
                    "signer": a["signer"],
                    "proposal_id": a["proposalId"],
                },
                None,
            )
        if ev == "SigningKeyRevoked":
            return (
                signing_keys_revoked,
                {
                    "org_id": a["orgId"],
                    "key": a["key"],
                    "revoked_at": a["revokedAt"],
                    "signer": a["signer"],
                    "proposal_id": a["proposalId"],
                },
                None,
            )
        if ev == "SchemaRegistered":
            return (
                schemas,
                {
                    "schema_id": a["schemaId"],
                    "registrant": a["registrant"],
                    "signer": a["signer"],
                    "definition": a["definition"],
                },
                None,
            )
        return None, None, None  # governance bookkeeping: kept in raw logs only

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
        head = next_head(
            ZERO28,
            registration_digest(
                self._separator,
                consignment_id=cid,
                origin=_raw(registration.origin, 2),
                destination=_raw(registration.destination, 2),
                consignor=bytes(registration.consignor),
                consignee=bytes(registration.consignee),
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
