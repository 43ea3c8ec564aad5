"""Gateway ingest: pre-signed events through the gateway's HTTP API until confirmed on chain.

The gateway runs as it does in production: a ``uvicorn`` process serving
``gateway.stack:app_factory`` (:func:`gateway.stack.build_services`: the real
:class:`~gateway.writes.relayer.ContractRelayer`, the durable outbox in SQLite, the log index
following the chain in the background) against the bench node. It relays to a deployment of
the suite of its own (:class:`bench.ours.OurSuite` with the relayer dev account 3 and the
gateway's relayer dev account 4, both allowed at deployment; only the carrier and the
exporter admitted), made by this section: the
indexes of the ``verify`` and ``index`` sections follow the main deployment and see none of
these events, and the section runs before the large load, so anvil's slowdown with a growing
chain (foundry issue 6124) does not weigh on it. It gets an API key of
the carrier (``events:write``, ``read``) and is given ``LEDGER_BATCH_MAX_SIZE=1000``; every
other setting is the default (linger 0.2 s, relay poll 0.5 s, confirmations 0). Once it is
ready (``/readyz``: its index has caught up with the chain), the RSS high-water mark of the
process is reset (``/proc/<pid>/clear_refs``), so that ``gateway_rss_mb`` is the peak
during ingest.

``ctx.sizes.ingest_events`` events (20,000 in a full run: 1,000 new consignments x 20, the
journey of :mod:`bench.load`, registered beforehand; ``BENCH_INGEST_EVENTS`` overrides the
size) are posted twice, each time on consignments of their own, every event signed by the
carrier before the clock starts:

* **signed together** (the headline): 1,000 events per ``EventBatch`` signature, posted
  with :meth:`GatewayClient.post_event_batch` to ``POST /events/batch/signed`` (relayed as
  one ``postEventBatch`` transaction each);
* **signed one by one**: posted with :meth:`GatewayClient.post_events` to
  ``POST /events/bulk``, 1,000 per request (relayed with ``postEvents``).

Each time with :data:`CLIENTS` concurrent clients; the clock stops at the confirmation of
the last one, as the gateway records it (the record's ``updated_at`` when it turned
``confirmed``); every record must be confirmed, none failed, and the chain must hold
exactly the events sent (each consignment's ``eventCount``).

* ``ingest_events_per_s`` (signed together), ``ingest_events_per_s_signed_each`` (one by
  one): events / (last confirmation - first request sent);
* ``submit_to_confirmed_p50_ms``, ``..._p99_ms`` (and ``..._signed_each``): per event, its
  confirmation time minus the time its request was sent (one clock: same machine);
* ``gateway_rss_mb``: ``VmHWM`` of the gateway process during both, in MiB.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.context import BenchContext, BenchError, Figures, percentile
from bench.load import EVENTS_PER_CONSIGNMENT, EventLoad
from bench.ours import OurSuite
from gateway.auth import issue_key
from gateway.client import GatewayClient
from gateway.config import GatewaySettings
from ledger.chain import manifest_path
from ledger.records import (
    ConsignmentEvent,
    Domain,
    SignedEventBatch,
    SignedRecord,
    sign_event_batch,
)

__all__ = ["bench_ingest"]

log = logging.getLogger("bench.ingest")

SECTION = "ingest"
REPO = Path(__file__).resolve().parents[1]
REQUEST_ITEMS = 1000  # the bulk route's maximum
CLIENTS = 4  # concurrent clients posting
BATCH_MAX_SIZE = 1000  # LEDGER_BATCH_MAX_SIZE; the relayer keeps batches under the gas cap
START_TIMEOUT_S = 120.0  # startup and index catch-up over everything on the chain
CONFIRM_TIMEOUT_S = 300.0
POLL_S = 0.5
SIZE_VARIABLE = "BENCH_INGEST_EVENTS"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no {field}")


@contextmanager
def gateway_process(
    ctx: BenchContext, data_dir: Path, env_settings: dict[str, str]
) -> Iterator[Any]:
    """The gateway as a uvicorn process; yields (process, base URL)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(env_settings)
    env["PYTHONPATH"] = str(REPO)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "gateway.stack:app_factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    log_path = data_dir / "gateway.log"
    with log_path.open("ab") as out:
        process = subprocess.Popen(command, cwd=data_dir, env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text()[-4000:]
                raise BenchError(f"the gateway did not get ready:\n{tail}")
            time.sleep(0.2)
        yield process, base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


Chunk = list[SignedRecord[ConsignmentEvent]] | SignedEventBatch
"""What one request carries: events signed one by one (bulk), or signed together."""


def _post_all(base: str, token: str, chunks: Sequence[Chunk]) -> dict[str, float]:
    """Post every chunk (``CLIENTS`` at a time); record id -> time its request was sent.

    A list of signed events goes to ``POST /events/bulk`` (``post_events``), a
    :class:`SignedEventBatch` to ``POST /events/batch/signed`` (``post_event_batch``).
    """
    sent: dict[str, float] = {}
    clients = [GatewayClient(base, token, timeout=120) for _ in range(CLIENTS)]

    def post(i: int) -> dict[str, float]:
        client = clients[i % CLIENTS]
        chunk = chunks[i]
        at = time.time()
        if isinstance(chunk, SignedEventBatch):
            view = client.post_event_batch(chunk, idempotency_key=f"bench-batch-{i}")
            if len(view.records) != len(chunk.events):
                raise BenchError(f"request {i}: {len(view.records)} records stored")
            return {record.record_id: at for record in view.records}
        result = client.post_events(chunk, idempotency_key=f"bench-ingest-{i}")
        if result.accepted != len(chunk):
            errors = [item.error for item in result.items if item.error is not None]
            raise BenchError(f"request {i}: {result.accepted} accepted; first error {errors[:1]}")
        return {item.record.record_id: at for item in result.items if item.record is not None}

    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            for times in pool.map(post, range(len(chunks))):
                sent.update(times)
    finally:
        for client in clients:
            client.close()
    return sent


def _wait_confirmed(client: GatewayClient, count: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + CONFIRM_TIMEOUT_S
    while True:
        open_records = [
            client.list_records(status=status, kind="event", limit=1).items
            for status in ("accepted", "submitted")
        ]
        if not any(open_records):
            break
        if process.poll() is not None:
            raise BenchError("the gateway exited during ingest")
        if time.monotonic() > deadline:
            raise BenchError(f"{count} events not confirmed within {CONFIRM_TIMEOUT_S:g} s")
        time.sleep(POLL_S)
    failed = client.list_records(status="failed", kind="event", limit=5).items
    if failed:
        raise BenchError(f"the gateway failed records: {[r.error for r in failed]}")


def _confirmed_times(client: GatewayClient) -> dict[str, float]:
    out: dict[str, float] = {}
    after = 0
    while True:
        page = client.list_records(status="confirmed", kind="event", after=after, limit=1000)
        out.update({r.record_id: r.updated_at.timestamp() for r in page.items})
        if page.next_after is None:
            return out
        after = page.next_after


def _chain_counts(load: EventLoad, ids: Sequence[bytes]) -> Counter[int]:
    """How many consignments hold how many events on chain."""
    consignments = load.suite.ledger.consignments
    return Counter(consignments.head(cid)[1] for cid in ids)


def ingest_size(ctx: BenchContext) -> int:
    """Events to ingest: ``ctx.sizes.ingest_events``, or ``BENCH_INGEST_EVENTS`` if set (to
    measure a quick run at full size: ``BENCH_INGEST_EVENTS=20000 python -m bench.run
    --only ingest --quick``)."""
    override = os.environ.get(SIZE_VARIABLE)
    return int(override) if override else ctx.sizes.ingest_events


def sign_batches(
    events: Sequence[SignedRecord[ConsignmentEvent]], key: bytes | str, domain: Domain
) -> list[SignedEventBatch]:
    """The same journeys signed together, :data:`REQUEST_ITEMS` events per EventBatch (the
    batch's nonce: its first event's, which no event uses alone in this run)."""
    out: list[SignedEventBatch] = []
    for start in range(0, len(events), REQUEST_ITEMS):
        chunk = [signed.record for signed in events[start : start + REQUEST_ITEMS]]
        deadline = max(event.deadline for event in chunk)
        out.append(sign_event_batch(chunk, key, domain, nonce=chunk[0].nonce, deadline=deadline))
    return out


@dataclass
class _Phase:
    """One way of posting the same kind of load: its consignments, requests and figures."""

    name: str
    ids: list[bytes]
    chunks: Sequence[Chunk]
    events: int
    figures: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


def _run_phase(
    ctx: BenchContext, phase: _Phase, base: str, token: str, process: subprocess.Popen[bytes]
) -> None:
    block_before = int(ctx.w3.eth.block_number)
    first = time.time()
    sent = _post_all(base, token, phase.chunks)
    posted = time.time()
    with GatewayClient(base, token) as client:
        _wait_confirmed(client, phase.events, process)
        confirmed = {r: t for r, t in _confirmed_times(client).items() if r in sent}
    if set(confirmed) != set(sent) or len(sent) != phase.events:
        raise BenchError(
            f"{phase.name}: {phase.events} events sent, {len(sent)} accepted, "
            f"{len(confirmed)} confirmed"
        )
    last = max(confirmed.values())
    latencies = [(confirmed[r] - sent[r]) * 1000 for r in sent]
    seconds = last - first
    phase.figures = {
        "events_per_s": round(phase.events / seconds, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
    }
    phase.notes = {
        "events": phase.events,
        "consignments": len(phase.ids),
        "requests": len(phase.chunks),
        "posting_s": round(posted - first, 2),
        "seconds": round(seconds, 2),
        "blocks": int(ctx.w3.eth.block_number) - block_before,
    }


def bench_ingest(ctx: BenchContext) -> Figures:
    """Both ways a carrier's system posts pre-signed events, each on consignments of its own:
    signed together (``EventBatch``, ``POST /events/batch/signed``: the headline
    ``ingest_events_per_s``) and signed one by one (``POST /events/bulk``:
    ``ingest_events_per_s_signed_each``)."""
    suite = OurSuite(ctx, relayer=3, gateway_relayer=4, seed=False)
    load = EventLoad(ctx, suite)
    count = -(-ingest_size(ctx) // EVENTS_PER_CONSIGNMENT)
    carrier = suite.world.parties["carrier"]
    phases: list[_Phase] = []
    t0 = time.perf_counter()
    for name in ("signed_each", "batch_signed"):
        ids = load.new_ids(count, prefix=f"BENCH-INGEST-{name.upper()}")
        load.register(ids)
        events = load.sign_journeys(ids)
        chunks: Sequence[Chunk]
        if name == "batch_signed":
            chunks = sign_batches(events, carrier.private_key, suite.ledger.domain("Consignments"))
        else:
            chunks = [events[i : i + REQUEST_ITEMS] for i in range(0, len(events), REQUEST_ITEMS)]
        phases.append(_Phase(name, ids, chunks, len(events)))
    signing_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        data_dir = Path(tmp)
        suite.deployment.save(manifest_path(data_dir, ctx.w3.eth.chain_id))
        settings = {
            "LEDGER_DATA_DIR": str(data_dir),
            "LEDGER_RPC_URL": ctx.node.rpc_url,
            "LEDGER_CHAIN_ID": str(ctx.w3.eth.chain_id),
            "LEDGER_RELAYER_KEY": "0x" + bytes(suite.gateway_relayer.key).hex(),
            "LEDGER_BATCH_MAX_SIZE": str(BATCH_MAX_SIZE),
        }
        token = issue_key(
            GatewaySettings(data_dir=data_dir),
            org_id="0x" + carrier.org_id.hex(),
            org_kind="carrier",
            country=carrier.country,
            scopes=["events:write", "read"],
        ).token
        started_at = time.perf_counter()
        with gateway_process(ctx, data_dir, settings) as (process, base):
            ready_s = time.perf_counter() - started_at
            pid = process.pid
            startup_hwm_kib = status_kib(pid, "VmHWM")
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the high-water mark
            for phase in phases:
                _run_phase(ctx, phase, base, token, process)
            hwm_kib = status_kib(pid, "VmHWM")
            rss_kib = status_kib(pid, "VmRSS")
        gateway_log = (data_dir / "gateway.log").read_text()[-2000:]
    for phase in phases:
        on_chain = _chain_counts(load, phase.ids)
        if on_chain != Counter({EVENTS_PER_CONSIGNMENT: len(phase.ids)}):
            raise BenchError(f"{phase.name}: events on chain per consignment: {dict(on_chain)}")
    ctx.note(
        SECTION,
        "run",
        {
            "events": min(p.events for p in phases),  # in each phase
            "phases": {p.name: {**p.notes, **p.figures} for p in phases},
            "request_items": REQUEST_ITEMS,
            "clients": CLIENTS,
            "settings": {k: v for k, v in settings.items() if "KEY" not in k and "DIR" not in k},
            "signing_s": round(signing_s, 2),
            "gateway_ready_s": round(ready_s, 2),
            "startup_rss_hwm_mb": round(startup_hwm_kib / 1024, 1),
            "rss_end_mb": round(rss_kib / 1024, 1),
            "chain_events_per_consignment": EVENTS_PER_CONSIGNMENT,
            "deployment": suite.deployment.address("Consignments"),
        },
    )
    if "Traceback" in gateway_log:
        ctx.note(SECTION, "gateway_log_tail", gateway_log)
    each, together = phases
    return {
        "ingest_events_per_s": together.figures["events_per_s"],
        "submit_to_confirmed_p50_ms": together.figures["p50_ms"],
        "submit_to_confirmed_p99_ms": together.figures["p99_ms"],
        "ingest_events_per_s_signed_each": each.figures["events_per_s"],
        "submit_to_confirmed_p50_ms_signed_each": each.figures["p50_ms"],
        "submit_to_confirmed_p99_ms_signed_each": each.figures["p99_ms"],
        "gateway_rss_mb": round(hwm_kib / 1024, 1),
    }
