"""Gateway ingest: pre-signed events through the gateway's HTTP API until confirmed on chain.

The gateway runs as it does in production: a ``uvicorn`` process serving
``gateway.stack:app_factory`` (:func:`gateway.stack.build_services`: the real
:class:`~gateway.relayer.ContractRelayer`, the durable outbox in SQLite, the log index
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
journey of :mod:`bench.load`, registered beforehand) are signed by the carrier before the
clock starts, then posted with the typed client (:meth:`GatewayClient.post_events`, 1,000
per request, :data:`CLIENTS` concurrent clients). The clock stops at the confirmation of the
last one, as the gateway records it (the record's ``updated_at`` when it turned
``confirmed``); every record must be confirmed, none failed, and the chain must hold exactly
the events sent (each consignment's ``eventCount``).

* ``ingest_events_per_s``: events / (last confirmation - first request sent);
* ``submit_to_confirmed_p50_ms``, ``..._p99_ms``: per event, its confirmation time minus the
  time its request was sent (one clock: same machine);
* ``gateway_rss_mb``: ``VmHWM`` of the gateway process during ingest, in MiB.
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
from pathlib import Path
from typing import Any

import httpx

from bench.context import BenchContext, BenchError, Figures, percentile
from bench.load import EVENTS_PER_CONSIGNMENT, EventLoad
from bench.ours import OurSuite
from gateway.auth import issue_key
from gateway.client import GatewayClient
from gateway.config import GatewaySettings
from ledger.deploy import manifest_path
from ledger.records import ConsignmentEvent, SignedRecord

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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no {field}")


@contextmanager
def _gateway(ctx: BenchContext, data_dir: Path, env_settings: dict[str, str]) -> Iterator[Any]:
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


def _post_all(
    base: str, token: str, chunks: Sequence[list[SignedRecord[ConsignmentEvent]]]
) -> dict[str, float]:
    """Post every chunk (``CLIENTS`` at a time); record id -> time its request was sent."""
    sent: dict[str, float] = {}
    clients = [GatewayClient(base, token, timeout=120) for _ in range(CLIENTS)]

    def post(i: int) -> dict[str, float]:
        client = clients[i % CLIENTS]
        at = time.time()
        result = client.post_events(chunks[i], idempotency_key=f"bench-ingest-{i}")
        if result.accepted != len(chunks[i]):
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


def bench_ingest(ctx: BenchContext) -> Figures:
    suite = OurSuite(ctx, relayer=3, gateway_relayer=4, seed=False)
    load = EventLoad(ctx, suite)
    count = -(-ctx.sizes.ingest_events // EVENTS_PER_CONSIGNMENT)
    ids = load.new_ids(count, prefix="BENCH-INGEST")
    load.register(ids)
    t0 = time.perf_counter()
    events = load.sign_journeys(ids)
    signing_s = time.perf_counter() - t0
    chunks = [events[i : i + REQUEST_ITEMS] for i in range(0, len(events), REQUEST_ITEMS)]
    carrier = suite.world.parties["carrier"]
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
        with _gateway(ctx, data_dir, settings) as (process, base):
            ready_s = time.perf_counter() - started_at
            pid = process.pid
            startup_hwm_kib = _status_kib(pid, "VmHWM")
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the high-water mark
            block_before = int(ctx.w3.eth.block_number)
            first = time.time()
            sent = _post_all(base, token, chunks)
            posted = time.time()
            with GatewayClient(base, token) as client:
                _wait_confirmed(client, len(events), process)
                confirmed = _confirmed_times(client)
            hwm_kib = _status_kib(pid, "VmHWM")
            rss_kib = _status_kib(pid, "VmRSS")
            blocks = int(ctx.w3.eth.block_number) - block_before
        gateway_log = (data_dir / "gateway.log").read_text()[-2000:]
    if set(confirmed) != set(sent):
        raise BenchError(
            f"{len(sent)} events accepted, {len(confirmed)} confirmed: the sets differ"
        )
    on_chain = _chain_counts(load, ids)
    if on_chain != Counter({EVENTS_PER_CONSIGNMENT: count}):
        raise BenchError(f"event counts on chain per consignment: {dict(on_chain)}")
    last = max(confirmed.values())
    latencies = [(confirmed[r] - sent[r]) * 1000 for r in sent]
    seconds = last - first
    ctx.note(
        SECTION,
        "run",
        {
            "events": len(events),
            "consignments": count,
            "requests": len(chunks),
            "request_items": REQUEST_ITEMS,
            "clients": CLIENTS,
            "settings": {k: v for k, v in settings.items() if "KEY" not in k and "DIR" not in k},
            "signing_s": round(signing_s, 2),
            "gateway_ready_s": round(ready_s, 2),
            "posting_s": round(posted - first, 2),
            "seconds": round(seconds, 2),
            "blocks": blocks,
            "startup_rss_hwm_mb": round(startup_hwm_kib / 1024, 1),
            "rss_end_mb": round(rss_kib / 1024, 1),
            "chain_events_per_consignment": EVENTS_PER_CONSIGNMENT,
            "deployment": suite.deployment.address("Consignments"),
        },
    )
    if "Traceback" in gateway_log:
        ctx.note(SECTION, "gateway_log_tail", gateway_log)
    return {
        "ingest_events_per_s": round(len(events) / seconds, 1),
        "submit_to_confirmed_p50_ms": round(percentile(latencies, 50), 1),
        "submit_to_confirmed_p99_ms": round(percentile(latencies, 99), 1),
        "gateway_rss_mb": round(hwm_kib / 1024, 1),
    }
