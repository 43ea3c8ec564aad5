"""The log index: follows the suite's contract logs into a database and answers queries.

    index = Index("sqlite:///index.db", ledger, confirmations=2)
    index.sync()                                   # catch up to latest - confirmations
    index.consignment_timeline(consignment_id)     # every event, decoded, with its head
    index.verify_heads()                           # recomputed heads == on-chain heads

**Fetching.** ``eth_getLogs`` over block ranges for the five contract addresses at once
(adaptive span: start at ``span`` blocks, halve on an error or a timeout, grow back on success),
through raw JSON-RPC (no web3 result formatting, no contract objects) and decoded by topic0 with
the artifacts' ABIs (:func:`ledger.abi.contract_abi`); the hot events are decoded word by word.
Block timestamps come from one batched ``eth_getBlockByNumber`` request per range.

**Writing.** Each range is written in one database transaction together with the cursor (the
last processed block's number and hash), so a crash never leaves half a range and a new
:class:`Index` on the same database resumes from the cursor. All chain-data tables are
append-only (see :mod:`ledger.index_schema`); state is derived at query time.

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
A mismatch is logged as an error on ``ledger.index``, stored as a finding and (by default)
raised as :class:`~ledger.errors.HeadMismatch`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_hash.auto import keccak as _eth_keccak
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Table,
    and_,
    create_engine,
    delete,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.pool import ConnectionPoolEntry

from ledger.abi import AbiEvent, contract_abi
from ledger.client import Ledger
from ledger.errors import HeadMismatch, IndexingError, IndexMismatch
from ledger.index_schema import (
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
from ledger.values import BUSINESS_STEP_CODES, DISPOSITION_CODES

__all__ = [
    "AeoStatus",
    "AttestationRecord",
    "CertificateRecord",
    "ConsignmentRecord",
    "DrawdownRecord",
    "Finding",
    "HeadVerification",
    "Index",
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

log = logging.getLogger("ledger.index")

ZERO28 = bytes(28)
ZERO32 = bytes(32)
DEFAULT_SPAN = 2000
KEEP_BLOCKS = 4096  # block hashes kept for the fork-point search (in blocks behind the cursor)
HEAD_CACHE_LIMIT = 200_000

_BIZ_WORDS = {code: word for word, code in BUSINESS_STEP_CODES.items()}
_DISP_WORDS = {code: word for word, code in DISPOSITION_CODES.items()}
_KIND_NAMES = {1: "customs", 2: "carrier", 3: "trader", 4: "issuing_body", 5: "postal_operator"}
_ORG_STATUS = {1: "active", 2: "suspended"}
_AEO_STATUS = {1: "active", 2: "suspended", 3: "revoked"}
_AEO_EVENTS = {
    "AeoCertified": (1, 1),
    "AeoSuspended": (2, 2),
    "AeoReinstated": (3, 1),
    "AeoRevoked": (4, 3),
}  # event -> (action, status after)
_PROGRAMME_SCOPE = {"AEOC": 0x1, "AEOS": 0x2, "AEOF": 0x4}
_CONTRACTS = ("Membership", "Consignments", "Certificates", "Attestations", "AeoRegistry")


# ----------------------------------------------------------------------------------------------
# Digests and heads (fast, hand-encoded; equal to ledger.records' digests, see the tests)
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


def next_head(previous: bytes, digest: bytes) -> bytes:
    """One step of the hash chain: ``bytes28(keccak(abi.encode(bytes28 previous, digest)))``."""
    return keccak(previous[:28].ljust(32, b"\0") + digest)[:28]


def _pack_meta(
    *,
    biz_step: int,
    disposition: int,
    location: bytes,
    event_time: int,
    container: bytes,
    deadline: int,
    nonce: int,
) -> bytes:
    return (
        bytes([biz_step, disposition])
        + location
        + event_time.to_bytes(5, "big")
        + container
        + deadline.to_bytes(5, "big")
        + nonce.to_bytes(4, "big")
    )


def _text(raw: bytes) -> str:
    """``bytesN`` ASCII to text; latin-1 so that every byte value round-trips."""
    return raw.rstrip(b"\0").decode("latin-1")


def _raw(text: str, size: int) -> bytes:
    return text.encode("latin-1").ljust(size, b"\0")


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def _addr(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value[-20:])
    return bytes.fromhex(str(value)[2:])


@lru_cache(maxsize=8192)
def _checksum(raw: bytes) -> ChecksumAddress:
    return to_checksum_address(raw)


# ----------------------------------------------------------------------------------------------
# Read models
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one :meth:`Index.sync` call did."""

    from_block: int  # first block processed (cursor + 1 at the start)
    to_block: int  # the cursor at the end
    blocks: int  # blocks processed (after any reorg rollback)
    logs: int  # logs indexed
    consignment_events: int
    reorgs: int  # fork points walked back to
    seconds: float


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One consignment event, every field decoded, with its position and the head after it."""

    consignment_id: bytes
    seq: int  # 1-based position in the consignment's chain (eventCount after it)
    biz_step: str  # CBV 2.0 word
    biz_step_code: int
    disposition: str | None  # CBV 2.0 word, None when 0
    disposition_code: int
    location: str  # UN/LOCODE
    event_time: int
    container: str | None  # ISO 6346, None when zero
    seal_digest: bytes
    documents_digest: bytes
    epcis_event_hash: bytes
    signer: ChecksumAddress
    org_id: bytes
    nonce: int
    deadline: int
    digest: bytes  # the record's EIP-712 digest
    head: bytes  # head after this event (bytes28), recomputed by the index
    emitted_head: bytes  # head in the log
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int
    block_time: int


@dataclass(frozen=True, slots=True)
class ConsignmentRecord:
    consignment_id: bytes
    registrant: bytes
    signer: ChecksumAddress
    origin: str
    destination: str
    consignor: bytes
    consignee: bytes
    registered_at: int  # block time
    digest: bytes  # EIP-712 digest of the registration
    head: bytes  # current recomputed head (bytes28)
    event_count: int
    tx_hash: str
    block_number: int
    log_index: int


@dataclass(frozen=True, slots=True)
class DrawdownRecord:
    certificate_id: bytes
    consignment_id: bytes
    org_id: bytes
    signer: ChecksumAddress
    quantity: int
    drawn: int  # the certificate's total drawn after this drawdown
    drawn_at: int  # block time
    tx_hash: str
    block_number: int
    log_index: int


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    certificate_id: bytes
    issuer: bytes
    exporter: bytes
    signer: ChecksumAddress
    certificate_number: bytes
    origin: str
    destination: str
    document_digest: bytes
    hs_codes_digest: bytes
    quantity: int
    unit: str
    valid_from: int
    valid_until: int
    issued_at: int
    recorded_at: int  # block time of issue
    revoked_at: int | None  # block time of revocation
    revocation_reason: bytes | None
    drawn: int
    drawdowns: tuple[DrawdownRecord, ...]
    tx_hash: str
    block_number: int

    @property
    def remaining(self) -> int:
        return self.quantity - self.drawn

    @property
    def status(self) -> str:
        return "revoked" if self.revoked_at is not None else "issued"

    def usable_at(self, t: int) -> bool:
        """Issued, not revoked by ``t``, validity window covers ``t``, quantity left."""
        revoked = self.revoked_at is not None and self.revoked_at <= t
        return not revoked and self.valid_from <= t < self.valid_until and self.remaining > 0


@dataclass(frozen=True, slots=True)
class AeoStatus:
    """An AEO certification's state at time ``at``, from its status-change events."""

    certification_id: bytes
    operator_id: bytes
    administration: bytes
    programme: str
    status: str  # active | suspended | revoked
    valid_from: int
    valid_until: int
    changed_at: int  # block time of the last change at or before ``at``
    at: int

    @property
    def in_force(self) -> bool:
        return self.status == "active" and self.valid_from <= self.at < self.valid_until


@dataclass(frozen=True, slots=True)
class MraRecord:
    mra_id: bytes
    proposer: bytes
    counterpart: bytes
    scope: int  # bit mask: 0x1 AEOC, 0x2 AEOS, 0x4 AEOF
    valid_from: int
    valid_until: int
    proposed_at: int
    accepted_at: int | None
    terminated_at: int | None

    @property
    def programmes(self) -> tuple[str, ...]:
        return tuple(p for p, bit in _PROGRAMME_SCOPE.items() if self.scope & bit)

    def in_force(self, t: int) -> bool:
        return (
            self.accepted_at is not None
            and self.accepted_at <= t
            and self.valid_from <= t < self.valid_until
            and (self.terminated_at is None or t < self.terminated_at)
        )

    def covers(self, programme: str) -> bool:
        return bool(self.scope & _PROGRAMME_SCOPE.get(programme.strip(), 0))


@dataclass(frozen=True, slots=True)
class AttestationRecord:
    uid: bytes
    schema_id: bytes
    subject_type: int  # 1 consignment, 2 certificate, 3 organisation, 4 attestation
    subject_id: bytes
    attester: bytes
    signer: ChecksumAddress
    data_digest: bytes
    ref_uid: bytes
    expires_at: int  # 0: never
    attested_at: int  # block time
    revoked_at: int | None  # block time
    revocation_reason: bytes | None
    tx_hash: str
    block_number: int
    log_index: int

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def valid_at(self, t: int) -> bool:
        if t < self.attested_at or (self.revoked_at is not None and self.revoked_at <= t):
            return False
        return self.expires_at == 0 or t < self.expires_at


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key: ChecksumAddress
    org_id: bytes
    valid_from: int
    valid_until: int
    revoked_at: int | None
    added_at: int  # block time
    signer: ChecksumAddress | None  # the key that signed the addition (None: governance)

    def valid_at(self, t: int) -> bool:
        if not self.valid_from <= t < self.valid_until:
            return False
        return self.revoked_at is None or t < self.revoked_at


@dataclass(frozen=True, slots=True)
class KeyValidity:
    """Whether ``key`` could sign at ``at``, and why not."""

    key: ChecksumAddress
    at: int
    valid: bool
    reason: str  # "valid" | "unknown" | "not_yet_valid" | "expired" | "revoked"
    record: KeyRecord | None


@dataclass(frozen=True, slots=True)
class OrganisationRecord:
    org_id: bytes
    kind: int
    kind_name: str
    country: str
    status: str  # active | suspended
    org_index: int
    admitted_at: int  # block time
    keys: tuple[KeyRecord, ...]


@dataclass(frozen=True, slots=True)
class RawLog:
    """A log exactly as the chain returned it (for proof bundles)."""

    address: ChecksumAddress
    contract: str
    event: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    block_hash: str
    tx_hash: str
    tx_index: int
    log_index: int
    block_time: int

    def as_rpc(self) -> dict[str, Any]:
        """The ``eth_getLogs`` JSON form."""
        return {
            "address": self.address,
            "topics": [_hex(t) for t in self.topics],
            "data": _hex(self.data),
            "blockNumber": hex(self.block_number),
            "blockHash": self.block_hash,
            "transactionHash": self.tx_hash,
            "transactionIndex": hex(self.tx_index),
            "logIndex": hex(self.log_index),
            "removed": False,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # "log_head_mismatch" (while indexing) | "chain_head_mismatch" (verify_heads)
    consignment_id: bytes
    block_number: int
    expected: bytes | None  # the chain's head
    found: bytes | None  # the index's recomputed head
    detail: str
    recorded_at: int


@dataclass(frozen=True, slots=True)
class HeadVerification:
    block_number: int  # the indexed block the heads were compared at
    checked: int
    mismatches: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches


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


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


class Index:
    """A database index of the suite's logs, kept in step with the chain.

    ``engine_or_url`` is an SQLAlchemy engine or URL (``sqlite:///path.db``,
    ``postgresql+psycopg://...``); the tables are created if missing. ``confirmations`` holds
    back the newest blocks; ``span`` is the initial (and largest) ``eth_getLogs`` range.
    """

    def __init__(
        self,
        engine_or_url: Engine | str,
        ledger: Ledger,
        *,
        confirmations: int = 0,
        span: int = DEFAULT_SPAN,
        keep_blocks: int = KEEP_BLOCKS,
    ) -> None:
        if confirmations < 0 or span < 1:
            raise ValueError("confirmations must be >= 0 and span >= 1")
        engine = create_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
        if engine.dialect.name == "sqlite" and not event.contains(
            engine, "connect", _sqlite_pragmas
        ):
            event.listen(engine, "connect", _sqlite_pragmas)
            engine.dispose()  # connections opened before the listener get the pragmas too
        self.engine = engine
        self.ledger = ledger
        self.confirmations = confirmations
        self.max_span = span
        self._span = span
        self.keep_blocks = keep_blocks
        self._provider: Any = ledger.w3.provider
        self._separator = ledger.consignments.domain.separator
        self._heads: dict[bytes, tuple[bytes, int]] = {}
        self._compiled: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...] | None]] = {}
        self._lock = threading.Lock()
        self._addresses = {name: ledger.clients[name].address.lower() for name in _CONTRACTS}
        self._by_address = {addr: name for name, addr in self._addresses.items()}
        self._decoders: dict[tuple[str, bytes], tuple[str, _Decoder]] = {}
        self._event_topic0 = contract_abi("Consignments").event("ConsignmentEventRecorded").topic0
        for name in _CONTRACTS:
            for topic0, abi_event in contract_abi(name).events.items():
                self._decoders[(name, topic0)] = (abi_event.name, _static_decoder(abi_event))
        metadata.create_all(engine)
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
            row = conn.execute(select(state.c.cursor_block, state.c.cursor_hash)).one()
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
            if self._span < self.max_span:
                self._span = min(self.max_span, self._span * 2)
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
        previous = self._previous_head(conn, cid)
        if previous is None:
            head = next_head(ZERO28, digest)
            self._log_mismatch(
                found,
                (block_number, log_index),
                cid,
                computed=head,
                emitted=emitted,
                detail="event for a consignment the index never saw registered",
            )
        else:
            head = next_head(previous[0], digest)
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
            bytes.fromhex(topics[2][2:]),
            bytes.fromhex(topics[3][26:]),
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
            head = next_head(ZERO28, digest)
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
        block, _ = self.cursor()
        wanted = None if consignment_ids is None else list(dict.fromkeys(consignment_ids))
        with self.engine.connect() as conn:
            reg_query = select(consignments)
            ev_query = select(consignment_events).order_by(
                consignment_events.c.consignment_id, consignment_events.c.seq
            )
            if wanted is not None:
                reg_query = reg_query.where(consignments.c.consignment_id.in_(wanted))
                ev_query = ev_query.where(consignment_events.c.consignment_id.in_(wanted))
            registrations = {bytes(r.consignment_id): r for r in conn.execute(reg_query)}
            events: dict[bytes, list[Row[Any]]] = defaultdict(list)
            for r in conn.execute(ev_query):
                events[bytes(r.consignment_id)].append(r)
        ids = wanted if wanted is not None else sorted(registrations)
        computed: dict[bytes, tuple[bytes, int, str]] = {}
        for cid in ids:
            computed[cid] = self._recompute(cid, registrations.get(cid), events.get(cid, []))
        fn = self.ledger.consignments.abi.fn("head")
        address = self.ledger.consignments.address
        calls = [
            ("eth_call", [{"to": address, "data": _hex(fn.encode(cid))}, hex(block)]) for cid in ids
        ]
        results = self._rpc_batch(calls) if calls else []
        mismatches: list[Finding] = []
        now = int(time.time())
        for cid, raw in zip(ids, results, strict=True):
            out = fn.decode_output(bytes.fromhex(raw[2:]))
            chain_head, chain_count = bytes(out["head_"]), int(out["eventCount"])
            head, count, problem = computed[cid]
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
            head = next_head(head, digest)
            if not problem and (r.seq != n or head != bytes(r.head) or digest != bytes(r.digest)):
                problem = f"stored event #{r.seq} does not match its recomputed digest or head"
        return head, len(events), problem

    def findings(self, consignment_id: bytes | None = None) -> list[Finding]:
        """Head mismatches recorded while indexing or by :meth:`verify_heads`."""
        query = select(findings).order_by(findings.c.id)
        if consignment_id is not None:
            query = query.where(findings.c.consignment_id == consignment_id)
        with self.engine.connect() as conn:
            return [
                Finding(
                    r.kind,
                    bytes(r.consignment_id),
                    r.block_number,
                    None if r.expected is None else bytes(r.expected),
                    None if r.found is None else bytes(r.found),
                    r.detail,
                    r.recorded_at,
                )
                for r in conn.execute(query)
            ]

    # ------------------------------------------------------------------ consignment queries

    @staticmethod
    def _timeline_event(r: Row[Any]) -> TimelineEvent:
        return TimelineEvent(
            consignment_id=bytes(r.consignment_id),
            seq=r.seq,
            biz_step=_BIZ_WORDS.get(r.biz_step, f"unknown({r.biz_step})"),
            biz_step_code=r.biz_step,
            disposition=(
                None
                if r.disposition == 0
                else _DISP_WORDS.get(r.disposition, f"unknown({r.disposition})")
            ),
            disposition_code=r.disposition,
            location=r.location,
            event_time=r.event_time,
            container=r.container,
            seal_digest=bytes(r.seal_digest),
            documents_digest=bytes(r.documents_digest),
            epcis_event_hash=bytes(r.epcis_event_hash),
            signer=_checksum(bytes(r.signer)),
            org_id=bytes(r.org_id),
            nonce=r.nonce,
            deadline=r.deadline,
            digest=bytes(r.digest),
            head=bytes(r.head),
            emitted_head=bytes(r.emitted_head),
            tx_hash=_hex(bytes(r.tx_hash)),
            block_number=r.block_number,
            block_hash=_hex(bytes(r.block_hash)),
            log_index=r.log_index,
            block_time=r.block_time,
        )

    def consignment_timeline(self, consignment_id: bytes) -> list[TimelineEvent]:
        """Every event of a consignment, in chain order."""
        query = (
            select(consignment_events)
            .where(consignment_events.c.consignment_id == consignment_id)
            .order_by(consignment_events.c.seq)
        )
        with self.engine.connect() as conn:
            return [self._timeline_event(r) for r in conn.execute(query)]

    def events_by_container(self, container: str) -> list[TimelineEvent]:
        """Every event that names ISO 6346 container number ``container``, in chain order."""
        query = (
            select(consignment_events)
            .where(consignment_events.c.container == container.strip().upper())
            .order_by(consignment_events.c.block_number, consignment_events.c.log_index)
        )
        with self.engine.connect() as conn:
            return [self._timeline_event(r) for r in conn.execute(query)]

    def consignment(self, consignment_id: bytes) -> ConsignmentRecord | None:
        """The registration of a consignment with its current head and event count."""
        with self.engine.connect() as conn:
            r = conn.execute(
                select(consignments).where(consignments.c.consignment_id == consignment_id)
            ).first()
            if r is None:
                return None
            last = conn.execute(
                select(consignment_events.c.head, consignment_events.c.seq)
                .where(consignment_events.c.consignment_id == consignment_id)
                .order_by(consignment_events.c.seq.desc())
                .limit(1)
            ).first()
        return ConsignmentRecord(
            consignment_id=bytes(r.consignment_id),
            registrant=bytes(r.registrant),
            signer=_checksum(bytes(r.signer)),
            origin=r.origin,
            destination=r.destination,
            consignor=bytes(r.consignor),
            consignee=bytes(r.consignee),
            registered_at=r.block_time,
            digest=bytes(r.digest),
            head=bytes(r.head) if last is None else bytes(last.head),
            event_count=0 if last is None else int(last.seq),
            tx_hash=_hex(bytes(r.tx_hash)),
            block_number=r.block_number,
            log_index=r.log_index,
        )

    def consignment_ids(self) -> list[bytes]:
        with self.engine.connect() as conn:
            return [
                bytes(r[0])
                for r in conn.execute(
                    select(consignments.c.consignment_id).order_by(
                        consignments.c.block_number, consignments.c.log_index
                    )
                )
            ]

    def raw_logs(self, consignment_id: bytes) -> list[RawLog]:
        """The raw logs about a consignment (registration, events, drawdowns, attestations
        on it), in chain order: the material of a proof bundle.

        ``ConsignmentEventRecorded`` logs are rebuilt bit for bit from their event rows (every
        topic and data word is a stored field); the others are stored as received."""
        query = select(raw_logs).where(raw_logs.c.consignment_id == consignment_id)
        events = select(consignment_events).where(
            consignment_events.c.consignment_id == consignment_id
        )
        out: list[RawLog] = []
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                out.append(
                    RawLog(
                        address=_checksum(bytes(r.address)),
                        contract=r.contract,
                        event=r.event,
                        topics=tuple(
                            bytes(t)
                            for t in (r.topic0, r.topic1, r.topic2, r.topic3)
                            if t is not None
                        ),
                        data=bytes(r.data),
                        block_number=r.block_number,
                        block_hash=_hex(bytes(r.block_hash)),
                        tx_hash=_hex(bytes(r.tx_hash)),
                        tx_index=r.tx_index,
                        log_index=r.log_index,
                        block_time=r.block_time,
                    )
                )
            address = _checksum(bytes.fromhex(self._addresses["Consignments"][2:]))
            for r in conn.execute(events):
                out.append(
                    RawLog(
                        address=address,
                        contract="Consignments",
                        event="ConsignmentEventRecorded",
                        topics=(
                            self._event_topic0,
                            bytes(r.consignment_id),
                            bytes(r.org_id),
                            bytes(r.signer).rjust(32, b"\0"),
                        ),
                        data=self._stored_meta(r)
                        + bytes(r.seal_digest)
                        + bytes(r.documents_digest)
                        + bytes(r.epcis_event_hash)
                        + bytes(r.emitted_head).ljust(32, b"\0")
                        + int(r.seq).to_bytes(32, "big"),
                        block_number=r.block_number,
                        block_hash=_hex(bytes(r.block_hash)),
                        tx_hash=_hex(bytes(r.tx_hash)),
                        tx_index=r.tx_index,
                        log_index=r.log_index,
                        block_time=r.block_time,
                    )
                )
        out.sort(key=lambda x: (x.block_number, x.log_index))
        return out

    @staticmethod
    def _stored_meta(r: Row[Any]) -> bytes:
        """The packed ``meta`` word of a stored event row."""
        return _pack_meta(
            biz_step=r.biz_step,
            disposition=r.disposition,
            location=_raw(r.location, 5),
            event_time=r.event_time,
            container=bytes(11) if r.container is None else _raw(r.container, 11),
            deadline=r.deadline,
            nonce=r.nonce,
        )

    # ------------------------------------------------------------------ certificates

    @staticmethod
    def _drawdown(r: Row[Any]) -> DrawdownRecord:
        return DrawdownRecord(
            certificate_id=bytes(r.certificate_id),
            consignment_id=bytes(r.consignment_id),
            org_id=bytes(r.org_id),
            signer=_checksum(bytes(r.signer)),
            quantity=r.quantity,
            drawn=r.drawn,
            drawn_at=r.block_time,
            tx_hash=_hex(bytes(r.tx_hash)),
            block_number=r.block_number,
            log_index=r.log_index,
        )

    def certificate(self, certificate_id: bytes) -> CertificateRecord | None:
        """A certificate of origin with its revocation state and drawdowns."""
        with self.engine.connect() as conn:
            r = conn.execute(
                select(certificates).where(certificates.c.certificate_id == certificate_id)
            ).first()
            if r is None:
                return None
            revocation = conn.execute(
                select(certificate_revocations)
                .where(certificate_revocations.c.certificate_id == certificate_id)
                .limit(1)
            ).first()
            draws = conn.execute(
                select(drawdowns)
                .where(drawdowns.c.certificate_id == certificate_id)
                .order_by(drawdowns.c.block_number, drawdowns.c.log_index)
            ).all()
        records = tuple(self._drawdown(d) for d in draws)
        return CertificateRecord(
            certificate_id=bytes(r.certificate_id),
            issuer=bytes(r.issuer),
            exporter=bytes(r.exporter),
            signer=_checksum(bytes(r.signer)),
            certificate_number=bytes(r.certificate_number),
            origin=r.origin,
            destination=r.destination,
            document_digest=bytes(r.document_digest),
            hs_codes_digest=bytes(r.hs_codes_digest),
            quantity=r.quantity,
            unit=r.unit,
            valid_from=r.valid_from,
            valid_until=r.valid_until,
            issued_at=r.issued_at,
            recorded_at=r.block_time,
            revoked_at=None if revocation is None else revocation.block_time,
            revocation_reason=None if revocation is None else bytes(revocation.reason_digest),
            drawn=sum(d.quantity for d in records),
            drawdowns=records,
            tx_hash=_hex(bytes(r.tx_hash)),
            block_number=r.block_number,
        )

    def drawdowns_for_consignment(self, consignment_id: bytes) -> list[DrawdownRecord]:
        """The certificates a consignment drew on (one drawdown each), in chain order."""
        with self.engine.connect() as conn:
            return [
                self._drawdown(r)
                for r in conn.execute(
                    select(drawdowns)
                    .where(drawdowns.c.consignment_id == consignment_id)
                    .order_by(drawdowns.c.block_number, drawdowns.c.log_index)
                )
            ]

    def consignments_for_certificate(self, certificate_id: bytes) -> list[DrawdownRecord]:
        """The consignments linked to a certificate by their drawdowns, in chain order."""
        with self.engine.connect() as conn:
            return [
                self._drawdown(r)
                for r in conn.execute(
                    select(drawdowns)
                    .where(drawdowns.c.certificate_id == certificate_id)
                    .order_by(drawdowns.c.block_number, drawdowns.c.log_index)
                )
            ]

    # ------------------------------------------------------------------ attestations

    def _attestations(self, condition: Any) -> list[AttestationRecord]:
        revoked = attestation_revocations.alias("revoked")
        query = (
            select(
                attestations,
                revoked.c.block_time.label("revoked_at"),
                revoked.c.reason_digest.label("revocation_reason"),
            )
            .outerjoin(revoked, revoked.c.uid == attestations.c.uid)
            .where(condition)
            .order_by(attestations.c.block_number, attestations.c.log_index)
        )
        with self.engine.connect() as conn:
            return [
                AttestationRecord(
                    uid=bytes(r.uid),
                    schema_id=bytes(r.schema_id),
                    subject_type=r.subject_type,
                    subject_id=bytes(r.subject_id),
                    attester=bytes(r.attester),
                    signer=_checksum(bytes(r.signer)),
                    data_digest=bytes(r.data_digest),
                    ref_uid=bytes(r.ref_uid),
                    expires_at=r.expires_at,
                    attested_at=r.block_time,
                    revoked_at=r.revoked_at,
                    revocation_reason=(
                        None if r.revocation_reason is None else bytes(r.revocation_reason)
                    ),
                    tx_hash=_hex(bytes(r.tx_hash)),
                    block_number=r.block_number,
                    log_index=r.log_index,
                )
                for r in conn.execute(query)
            ]

    def attestations_for(self, subject_id: bytes) -> list[AttestationRecord]:
        """Attestations about a subject (consignment, certificate, organisation, attestation)."""
        return self._attestations(attestations.c.subject_id == subject_id)

    def attestation(self, uid: bytes) -> AttestationRecord | None:
        found = self._attestations(attestations.c.uid == uid)
        return found[0] if found else None

    # ------------------------------------------------------------------ AEO and MRAs

    def aeo_status(self, certification_id: bytes, *, at: int) -> AeoStatus | None:
        """A certification's status at time ``at`` (None: not certified at or before ``at``)."""
        query = (
            select(aeo_status_changes)
            .where(
                aeo_status_changes.c.certification_id == certification_id,
                aeo_status_changes.c.block_time <= at,
            )
            .order_by(aeo_status_changes.c.block_number, aeo_status_changes.c.log_index)
        )
        with self.engine.connect() as conn:
            changes = conn.execute(query).all()
        return self._aeo_state(changes, at)

    @staticmethod
    def _aeo_state(changes: Sequence[Row[Any]], at: int) -> AeoStatus | None:
        certified = [c for c in changes if c.action == 1]
        if not certified:
            return None
        cert, last = certified[-1], changes[-1]
        return AeoStatus(
            certification_id=bytes(last.certification_id),
            operator_id=bytes(last.operator_id),
            administration=bytes(last.administration),
            programme=cert.programme,
            status=_AEO_STATUS[last.status],
            valid_from=cert.valid_from,
            valid_until=cert.valid_until,
            changed_at=last.block_time,
            at=at,
        )

    def aeo_certifications(self, operator_id: bytes, *, at: int) -> list[AeoStatus]:
        """Every certification of an operator as it stood at ``at``."""
        query = (
            select(aeo_status_changes)
            .where(
                aeo_status_changes.c.operator_id == operator_id,
                aeo_status_changes.c.block_time <= at,
            )
            .order_by(aeo_status_changes.c.block_number, aeo_status_changes.c.log_index)
        )
        grouped: dict[bytes, list[Row[Any]]] = defaultdict(list)
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                grouped[bytes(r.certification_id)].append(r)
        out = [self._aeo_state(changes, at) for changes in grouped.values()]
        return [s for s in out if s is not None]

    def mras_between(self, a: bytes, b: bytes) -> list[MraRecord]:
        """Every MRA proposed between administrations ``a`` and ``b`` (either direction)."""
        with self.engine.connect() as conn:
            proposed = conn.execute(
                select(mra_events)
                .where(
                    mra_events.c.kind == "proposed",
                    or_(
                        and_(mra_events.c.proposer == a, mra_events.c.counterpart == b),
                        and_(mra_events.c.proposer == b, mra_events.c.counterpart == a),
                    ),
                )
                .order_by(mra_events.c.block_number, mra_events.c.log_index)
            ).all()
            ids = [bytes(p.mra_id) for p in proposed]
            later = (
                conn.execute(
                    select(mra_events.c.mra_id, mra_events.c.kind, mra_events.c.block_time).where(
                        mra_events.c.mra_id.in_(ids), mra_events.c.kind != "proposed"
                    )
                ).all()
                if ids
                else []
            )
        times: dict[tuple[bytes, str], int] = {}
        for r in later:
            times.setdefault((bytes(r.mra_id), r.kind), r.block_time)
        return [
            MraRecord(
                mra_id=bytes(p.mra_id),
                proposer=bytes(p.proposer),
                counterpart=bytes(p.counterpart),
                scope=p.scope,
                valid_from=p.valid_from,
                valid_until=p.valid_until,
                proposed_at=p.block_time,
                accepted_at=times.get((bytes(p.mra_id), "accepted")),
                terminated_at=times.get((bytes(p.mra_id), "terminated")),
            )
            for p in proposed
        ]

    def mras_in_force(self, a: bytes, b: bytes, *, at: int) -> list[MraRecord]:
        """The MRAs between ``a`` and ``b`` in force at ``at`` (their scope says what for)."""
        return [m for m in self.mras_between(a, b) if m.in_force(at)]

    # ------------------------------------------------------------------ organisations and keys

    def _keys(self, condition: Any) -> list[KeyRecord]:
        revoked = signing_keys_revoked.alias("revoked")
        query = (
            select(
                signing_keys_added,
                revoked.c.revoked_at.label("revoked_at"),
            )
            .outerjoin(revoked, revoked.c.key == signing_keys_added.c.key)
            .where(condition)
            .order_by(signing_keys_added.c.block_number, signing_keys_added.c.log_index)
        )
        with self.engine.connect() as conn:
            return [
                KeyRecord(
                    key=_checksum(bytes(r.key)),
                    org_id=bytes(r.org_id),
                    valid_from=r.valid_from,
                    valid_until=r.valid_until,
                    revoked_at=r.revoked_at,
                    added_at=r.block_time,
                    signer=None if bytes(r.signer) == bytes(20) else _checksum(bytes(r.signer)),
                )
                for r in conn.execute(query)
            ]

    def organisations(self) -> list[OrganisationRecord]:
        """The organisation directory: kind, country, current status and keys."""
        keys: dict[bytes, list[KeyRecord]] = defaultdict(list)
        for k in self._keys(signing_keys_added.c.org_id.is_not(None)):
            keys[k.org_id].append(k)
        with self.engine.connect() as conn:
            admitted = conn.execute(
                select(org_admissions).order_by(org_admissions.c.org_index)
            ).all()
            status: dict[bytes, int] = {}
            for r in conn.execute(
                select(org_status_changes.c.org_id, org_status_changes.c.status).order_by(
                    org_status_changes.c.block_number, org_status_changes.c.log_index
                )
            ):
                status[bytes(r.org_id)] = r.status
        return [
            OrganisationRecord(
                org_id=bytes(r.org_id),
                kind=r.kind,
                kind_name=_KIND_NAMES.get(r.kind, str(r.kind)),
                country=r.country,
                status=_ORG_STATUS[status.get(bytes(r.org_id), 1)],
                org_index=r.org_index,
                admitted_at=r.block_time,
                keys=tuple(keys.get(bytes(r.org_id), [])),
            )
            for r in admitted
        ]

    def organisation(self, org_id: bytes) -> OrganisationRecord | None:
        for org in self.organisations():
            if org.org_id == org_id:
                return org
        return None

    def key_validity(self, key: str, *, at: int) -> KeyValidity:
        """Whether a signing key was valid at ``at`` (window and revocation, from the logs)."""
        address = to_checksum_address(key)
        found = self._keys(signing_keys_added.c.key == _addr(address))
        if not found:
            return KeyValidity(address, at, False, "unknown", None)
        record = found[0]
        if at < record.valid_from:
            reason = "not_yet_valid"
        elif at >= record.valid_until:
            reason = "expired"
        elif record.revoked_at is not None and at >= record.revoked_at:
            reason = "revoked"
        else:
            reason = "valid"
        return KeyValidity(address, at, reason == "valid", reason, record)

    # ------------------------------------------------------------------ statistics

    def counts(self) -> dict[str, int]:
        """Rows per table (diagnostics)."""
        with self.engine.connect() as conn:
            return {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in CHAIN_TABLES
            }
