"""Real signed load on the bench chain: consignments with 20-event journeys, relayed in batches.

The index and verification sections need a chain holding tens of thousands of consignment
events. Nothing is written into an index directly: every record below is signed by its
organisation's key, relayed by the suite's relayer (:class:`~ledger.chain.txmanager.TxManager`) in
batched transactions, checked by the contracts and mined by anvil; the index later reads it
back from the logs.

    load = event_load(ctx)          # shared by the sections of one run
    load.grow_to(50_000)            # until 50,000 events of this load are on chain

Each consignment (registered by the carrier, consignor the exporter, AU -> CN) gets an export
release attestation from the Australian customs and a journey of :data:`JOURNEY` (20 events,
its own container, one seal, Adelaide -> Melbourne -> Shanghai, two weeks in the past), all signed
by the carrier. The journey is consistent, so verification of these consignments runs every
check and passes (the verdicts are put on record).

**Signing** runs in :data:`WORKERS` processes (``multiprocessing``, spawn): each task is one
batch; the worker computes each record's EIP-712 digest with :meth:`Record.digest`, signs it
with coincurve (libsecp256k1, the backend eth-keys uses: the same deterministic RFC 6979
signature; the first record of every batch is compared with :func:`ledger.records.sign`) and
ABI-encodes the batch call. **Sending** goes through the relayer's ``send_many`` at
consecutive nonces as the batches come out of the pool, with up to :data:`IN_FLIGHT`
transactions pending; every receipt is awaited and must succeed. Batches: 700 events
(~19,800 gas each: every event of a batch is on a different consignment, so each pays a
cold head update), 200 registrations (~65,000 each), 300 attestations (~36,000 each), so
each transaction stays under EIP-7825's 16,777,216 gas; the node's block gas limit is
raised (``bench.run``) so that about 17 such transactions fit in one 1-second block.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import coincurve
from eth_utils.crypto import keccak
from stdnum import iso6346

from bench.context import BenchContext, BenchError
from bench.ours import OurSuite, our_suite
from ledger.chain import MAX_TX_GAS, PendingTx, contract_abi
from ledger.errors import LedgerError
from ledger.records import (
    Attestation,
    BusinessStep,
    ConsignmentEvent,
    ConsignmentRegistration,
    ContainerNumber,
    Disposition,
    Domain,
    Locode,
    Record,
    SignedRecord,
    SubjectType,
    consignment_id,
    reference_hash,
    sign,
    to_compact_signature,
)

__all__ = [
    "EVENTS_PER_CONSIGNMENT",
    "JOURNEY",
    "EventLoad",
    "container_for",
    "event_load",
    "size_label",
]

log = logging.getLogger("bench.load")

WORKERS = 2
IN_FLIGHT = 48  # transactions sent and not yet awaited (about 3 blocks' worth)
SEND_GROUP = 4  # batches per send_many call
EVENT_BATCH = 700
REGISTRATION_BATCH = 200
ATTESTATION_BATCH = 300
DAY = 86_400

# (business step, disposition, UN/LOCODE, hours after the start); carrier-signed, consistent:
# every change of place is a departure followed by an arrival.
JOURNEY: tuple[tuple[str, str | None, str, int], ...] = (
    ("packing", None, "AUADL", 0),
    ("staging_outbound", None, "AUADL", 4),
    ("loading", "in_transit", "AUADL", 8),
    ("departing", "in_transit", "AUADL", 10),
    ("arriving", "in_transit", "AUMEL", 40),
    ("unloading", "in_progress", "AUMEL", 42),
    ("storing", "in_progress", "AUMEL", 50),
    ("sensor_reporting", "in_progress", "AUMEL", 60),
    ("sensor_reporting", "in_progress", "AUMEL", 66),
    ("loading", "in_transit", "AUMEL", 70),
    ("sensor_reporting", "in_transit", "AUMEL", 71),
    ("departing", "in_transit", "AUMEL", 72),
    ("arriving", "in_transit", "CNSGH", 290),
    ("unloading", "in_progress", "CNSGH", 292),
    ("inspecting", "in_progress", "CNSGH", 296),
    ("storing", "in_progress", "CNSGH", 300),
    ("loading", "in_transit", "CNSGH", 310),
    ("departing", "in_transit", "CNSGH", 311),
    ("arriving", "in_transit", "CNSHA", 314),
    ("receiving", "in_progress", "CNSHA", 316),
)
EVENTS_PER_CONSIGNMENT = len(JOURNEY)


def container_for(cid: bytes) -> str:
    """The consignment's own ISO 6346 container, owner code and serial from its id: one
    container in two consignments at once is a finding (DUPLICATE_CONTAINER), so the space
    (26^3 owner codes x 10^6 serials) keeps two of 10,000 consignments from sharing one
    (a serial alone, 10^6, gave ~1 % of them a twin)."""
    owner = "".join(chr(ord("A") + b % 26) for b in cid[8:11])
    body = f"{owner}U{int.from_bytes(cid[:8], 'big') % 1_000_000:06d}"
    return body + iso6346.calc_check_digit(body)


def size_label(events: int) -> str:
    """Result key suffix for a number of events: 10000 -> "10k", 2500 -> "2.5k"."""
    if events >= 1000 and events % 1000 == 0:
        return f"{events // 1000}k"
    if events >= 1000:
        return f"{events / 1000:g}k"
    return str(events)


# -- signing worker (runs in the pool's processes) -------------------------------------------


@dataclass(frozen=True, slots=True)
class _Task:
    domain: Domain
    private_key: str
    records: tuple[Record, ...]
    call: tuple[str, str] | None = None  # (contract, batch function): return its calldata


@cache
def _signer(private_key: str) -> coincurve.PrivateKey:
    return coincurve.PrivateKey(bytes.fromhex(private_key.removeprefix("0x")))


def _signature(key: coincurve.PrivateKey, digest: bytes) -> bytes:
    """65-byte r ‖ s ‖ v over ``digest`` (v = 27 + recovery id), as eth-account gives it."""
    raw = key.sign_recoverable(digest, hasher=None)
    return raw[:64] + bytes([27 + raw[64]])


def sign_task(task: _Task) -> bytes | list[bytes]:
    """Sign every record of ``task``: the calldata of its batch call if ``task.call`` names
    one, else the signatures."""
    key = _signer(task.private_key)
    signatures = [_signature(key, record.digest(task.domain)) for record in task.records]
    reference = sign(task.records[0], task.private_key, task.domain).signature
    if signatures[0] != reference:
        raise BenchError("coincurve signature differs from ledger.records.sign")
    if task.call is None:
        return signatures
    contract, function = task.call
    return (
        contract_abi(contract)
        .fn(function)
        .encode(
            [record.onchain() for record in task.records],
            [to_compact_signature(signature) for signature in signatures],
        )
    )


# -- the load ---------------------------------------------------------------------------------


def _chunks(items: Sequence[Record], size: int) -> Iterator[tuple[Record, ...]]:
    for start in range(0, len(items), size):
        yield tuple(items[start : start + size])


class EventLoad:
    """Consignments and their journeys on the bench chain, grown on demand."""

    def __init__(self, ctx: BenchContext, suite: OurSuite) -> None:
        self.ctx = ctx
        self.suite = suite
        self.consignments: list[bytes] = []
        self.events = 0
        self.stages: list[dict[str, Any]] = []
        self.gas: dict[str, list[int]] = {"registration": [], "attestation": [], "event": []}
        self.items: dict[str, int] = {"registration": 0, "attestation": 0, "event": 0}
        self._next_id = 0
        self._ref_hashes: dict[bytes, bytes] = {}  # consignment id -> its reference hash
        world = suite.world
        self._carrier = world.parties["carrier"]
        self._customs = world.parties["au"]
        self._exporter = world.parties["exporter"]
        self._release_schema = world.schema_ids.get("export-release", bytes(32))
        self._seal = keccak(text="seal ML-AU bench")

    # -- records -------------------------------------------------------------------------

    def _registrations(self, ids: Sequence[bytes], now: int) -> list[Record]:
        deadline = now + 6 * 3600  # as the events': relayed within the stage
        return [
            ConsignmentRegistration(
                reference_hash=self._ref_hashes[cid],
                origin=b"AU",
                destination=b"CN",
                consignor=self._exporter.org_id,
                deadline=deadline,
            )
            for cid in ids
        ]

    def _attestations(self, ids: Sequence[bytes]) -> list[Record]:
        deadline = self.suite.now() + 6 * 3600  # as the events': relayed within hours
        return [
            Attestation(
                schema_id=self._release_schema,
                subject_type=SubjectType.CONSIGNMENT,
                subject_id=cid,
                data_digest=keccak(b"export declaration" + cid),
                deadline=deadline,
            )
            for cid in ids
        ]

    def _events(self, ids: Sequence[bytes], now: int) -> list[ConsignmentEvent]:
        """Round ``i`` of every consignment, then round ``i + 1``: each batch spans many
        consignments, and each consignment's events land in order across many blocks."""
        start = now - 14 * DAY
        deadline = now + 6 * 3600
        out: list[ConsignmentEvent] = []
        for step, disposition, where, hours in JOURNEY:
            biz = BusinessStep(step).code
            disp = Disposition(disposition).code if disposition else 0
            location = Locode(where).to_bytes5()
            packing = step == "packing"
            for cid in ids:
                out.append(
                    ConsignmentEvent(
                        consignment_id=cid,
                        biz_step=biz,
                        disposition=disp,
                        location=location,
                        event_time=start + hours * 3600,
                        container=bytes(11)
                        if packing
                        else ContainerNumber(container_for(cid)).to_bytes11(),
                        seal_digest=bytes(32) if packing else self._seal,
                        documents_digest=keccak(cid + location + bytes([biz])),
                        epcis_event_hash=keccak(b"epcis" + cid + bytes([biz, hours % 256])),
                        nonce=self.suite.next_nonce(self._carrier.address),
                        deadline=deadline,
                    )
                )
        return out

    # -- growth --------------------------------------------------------------------------

    def _tasks(
        self, kind: str, records: Sequence[Record], size: int
    ) -> list[tuple[str, str, _Task]]:
        """Batch tasks of one record kind: (kind, contract address, task)."""
        ledger = self.suite.ledger
        if kind == "attestation":
            contract, function, key = "Attestations", "attestBatch", self._customs.private_key
        elif kind == "registration":
            contract, function, key = "Consignments", "registerBatch", self._carrier.private_key
        else:
            contract, function, key = "Consignments", "postEvents", self._carrier.private_key
        to = ledger.clients[contract].address
        domain = ledger.domain(contract)
        return [
            (kind, to, _Task(domain, key, batch, (contract, function)))
            for batch in _chunks(records, size)
        ]

    def new_ids(self, count: int, *, prefix: str = "BENCH-UCR") -> list[bytes]:
        """Ids of ``count`` consignments not used yet in this run."""
        first = self._next_id
        self._next_id += count
        ids = []
        for i in range(count):  # registered by the carrier (see _registrations)
            ref = reference_hash(f"{prefix}-{first + i:07d}")
            cid = consignment_id(ref, registrant=self._carrier.org_id)
            self._ref_hashes[cid] = ref
            ids.append(cid)
        return ids

    def grow_to(self, events: int) -> None:
        """Register consignments and relay their journeys until ``events`` events of this
        load are on chain (rounded up to whole journeys)."""
        if events <= self.events:
            return
        count = -(-(events - self.events) // EVENTS_PER_CONSIGNMENT)
        ids = self.new_ids(count)
        now = self.suite.now()
        tasks = [
            *self._tasks("registration", self._registrations(ids, now), REGISTRATION_BATCH),
            *self._tasks("attestation", self._attestations(ids), ATTESTATION_BATCH),
            *self._tasks("event", self._events(ids, now), EVENT_BATCH),
        ]
        started = time.perf_counter()
        block_before = int(self.suite.ledger.w3.eth.block_number)
        self._relay(tasks)
        seconds = time.perf_counter() - started
        added = count * EVENTS_PER_CONSIGNMENT
        self.consignments.extend(ids)
        self.events += added
        stage = {
            "events": self.events,
            "consignments_added": count,
            "events_added": added,
            "transactions": len(tasks),
            "blocks": int(self.suite.ledger.w3.eth.block_number) - block_before,
            "seconds": round(seconds, 2),
            "events_per_s": round(added / seconds, 1),
        }
        self.stages.append(stage)
        log.info("load: %s", stage)

    def register(self, ids: Sequence[bytes]) -> None:
        """Register consignments (relayed here, as the load is)."""
        registrations = self._registrations(ids, self.suite.now())
        self._relay(self._tasks("registration", registrations, REGISTRATION_BATCH))

    def sign_journeys(self, ids: Sequence[bytes]) -> list[SignedRecord[ConsignmentEvent]]:
        """The journeys of ``ids``, signed (in the pool) and not sent: round by round."""
        events = self._events(ids, self.suite.now())
        domain = self.suite.ledger.domain("Consignments")
        key = self._carrier.private_key
        tasks = [_Task(domain, key, batch) for batch in _chunks(events, EVENT_BATCH)]
        out: list[SignedRecord[ConsignmentEvent]] = []
        with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
            for task, signatures in zip(tasks, pool.imap(sign_task, tasks), strict=True):
                assert isinstance(signatures, list)
                for record, signature in zip(task.records, signatures, strict=True):
                    assert isinstance(record, ConsignmentEvent)
                    out.append(SignedRecord(record, signature))
        return out

    def _relay(self, tasks: Sequence[tuple[str, str, _Task]]) -> None:
        """Sign in the pool, send in order as batches come out, await every receipt."""
        context = multiprocessing.get_context("spawn")
        window: deque[tuple[str, int, PendingTx]] = deque()
        with context.Pool(WORKERS) as pool:
            calldata = pool.imap(sign_task, [task for _, _, task in tasks], chunksize=1)
            group: list[tuple[str, int, dict[str, Any]]] = []
            for (kind, to, task), data in zip(tasks, calldata, strict=True):
                group.append((kind, len(task.records), {"to": to, "data": data}))
                if len(group) == SEND_GROUP:
                    self._send(group, window)
                    group = []
                while len(window) > IN_FLIGHT:
                    self._await(window.popleft())
            if group:
                self._send(group, window)
        while window:
            self._await(window.popleft())

    def _send(
        self,
        group: list[tuple[str, int, dict[str, Any]]],
        window: deque[tuple[str, int, PendingTx]],
    ) -> None:
        # Gas is given (the cap), not estimated: the batch sizes keep every transaction well
        # under it (receipts on record), and estimating each would double the node's work.
        txs = [{**fields, "gas": MAX_TX_GAS} for _, _, fields in group]
        try:
            sent = self.suite.tx.send_many(txs)
        except LedgerError as exc:
            raise BenchError(f"relaying the load failed: {exc}") from exc
        for (kind, items, _), pending in zip(group, sent, strict=True):
            window.append((kind, items, pending))

    def _await(self, entry: tuple[str, int, PendingTx]) -> None:
        kind, items, pending = entry
        try:
            receipt = self.suite.tx.wait(pending, timeout=self.ctx.receipt_timeout * 5)
        except LedgerError as exc:
            raise BenchError(f"a {kind} batch of the load failed: {exc}") from exc
        self.gas[kind].append(receipt.gas_used)
        self.items[kind] += items

    def summary(self) -> dict[str, Any]:
        """What was loaded, for ``meta``."""
        per_item = {
            kind: round(sum(gas) / self.items[kind], 1) if self.items[kind] else None
            for kind, gas in self.gas.items()
        }
        return {
            "consignments": len(self.consignments),
            "events": self.events,
            "events_per_consignment": EVENTS_PER_CONSIGNMENT,
            "batch_items": {
                "event": EVENT_BATCH,
                "registration": REGISTRATION_BATCH,
                "attestation": ATTESTATION_BATCH,
            },
            "gas_per_item": per_item,
            "max_tx_gas": {kind: max(gas) for kind, gas in self.gas.items() if gas},
            "signing_workers": WORKERS,
            "stages": self.stages,
        }


def event_load(ctx: BenchContext) -> EventLoad:
    """The load of this run (shared by the index and verification sections)."""
    load = ctx.shared.get("event_load")
    if not isinstance(load, EventLoad):
        load = EventLoad(ctx, our_suite(ctx))
        ctx.shared["event_load"] = load
    return load
