"""Where the gateway spends its time during ingest: a sampling profile of all its threads.

    python -m bench.profile_gateway 4000        # events; prints the profile
    python -m bench.profile_gateway 4000 --batch-signed   # EventBatch, /events/batch/signed

Not part of ``make bench``: it runs the gateway in-process (uvicorn in a thread, the same
``create_app(settings, services=build_services(settings))`` as ``gateway.stack``) on a fresh
anvil with the bench's block time and gas limit, posts pre-signed events with 4 concurrent
typed clients (as the ``ingest`` section does: signed one by one to ``/events/bulk``, or
with ``--batch-signed`` signed together, 1,000 per EventBatch, to ``/events/batch/signed``)
and samples every thread's stack every 3 ms (``sys._current_frames``; cProfile sees one
thread only, and the gateway's work is spread over the request workers, the submitter, the
index thread and uvicorn's event loop, which parses request bodies and serialises
answers). Printed: the share of samples per thread, then per function (cumulative: the
function is on the stack) for the request workers, the submitter and the event loop while
busy (samples of an idle worker, waiting for a request, or of the submitter waiting for
its next pass, are counted apart).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType

import uvicorn
from pydantic import SecretStr

from bench.context import QUICK, BenchContext, dev_accounts
from bench.ingest import CLIENTS, REQUEST_ITEMS, Chunk, sign_batches
from bench.load import EventLoad
from bench.ours import OurSuite
from bench.run import BLOCK_GAS_LIMIT, BLOCK_TIME_S, CHAIN_ID, HARDFORK, _free_port
from gateway.auth import issue_key
from gateway.client import GatewayClient
from gateway.config import GatewaySettings
from gateway.main import create_app
from gateway.stack import build_services
from ledger.chain import AnvilNode, manifest_path, web3_for
from ledger.records import SignedEventBatch

INTERVAL_S = 0.003
_IDLE = (
    "get (python3.11/queue.py",
    "wait (python3.11/threading.py",
    "select (python3.11/selectors.py",  # the event loop waiting for I/O
)


def _name(frame: FrameType) -> str:
    code = frame.f_code
    path = Path(code.co_filename)
    return f"{code.co_name} ({path.parent.name}/{path.name}:{code.co_firstlineno})"


class Sampler:
    """Stacks of every other thread, every ``INTERVAL_S``, aggregated per thread group."""

    def __init__(self) -> None:
        self.samples: Counter[str] = Counter()
        self.functions: dict[str, Counter[str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        skip = {threading.get_ident(), threading.main_thread().ident}
        while not self._stop.is_set():
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident in skip:
                    continue
                group = names.get(ident, "?")
                if group.startswith("ThreadPoolExecutor"):
                    continue  # the benchmark's own clients
                group = "request workers" if group.startswith("AnyIO") else group
                seen: set[str] = set()
                current: FrameType | None = frame
                while current is not None:
                    seen.add(_name(current))
                    current = current.f_back
                if any(name.startswith(_IDLE) for name in seen) and not any(
                    name.startswith(("run_once", "post_events_bulk")) for name in seen
                ):
                    group += " (idle)"  # a worker or the submitter waiting for work
                self.samples[group] += 1
                self.functions.setdefault(group, Counter()).update(seen)
            time.sleep(INTERVAL_S)

    def report(self, top: int = 45) -> str:
        lines = ["samples per thread group:"]
        lines += [f"  {n:7d}  {group}" for group, n in self.samples.most_common()]
        for group in ("request workers", "gateway-submitter", "uvicorn event loop"):
            total = self.samples.get(group, 0)
            if not total:
                continue
            lines.append(f"\n{group}: share of its samples with the function on the stack")
            for name, n in self.functions[group].most_common(top):
                lines.append(f"  {n / total * 100:5.1f}%  {name}")
        return "\n".join(lines)


def main(argv: list[str]) -> int:
    together = "--batch-signed" in argv
    numbers = [a for a in argv if not a.startswith("--")]
    count = int(numbers[0]) if numbers else 4000
    node = AnvilNode(
        port=_free_port(),
        chain_id=CHAIN_ID,
        free_gas=True,
        block_time=BLOCK_TIME_S,
        extra_args=("--hardfork", HARDFORK, "--gas-limit", str(BLOCK_GAS_LIMIT)),
    )
    with node, tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        w3 = web3_for(node.rpc_url, timeout=60)
        ctx = BenchContext(node=node, w3=w3, accounts=dev_accounts(10), sizes=QUICK, quick=True)
        suite = OurSuite(ctx, relayer=3, gateway_relayer=4, seed=False)
        load = EventLoad(ctx, suite)
        ids = load.new_ids(-(-count // 20), prefix="PROFILE")
        load.register(ids)
        events = load.sign_journeys(ids)
        data_dir = Path(tmp)
        suite.deployment.save(manifest_path(data_dir, CHAIN_ID))
        settings = GatewaySettings(
            data_dir=data_dir,
            rpc_url=node.rpc_url,
            chain_id=CHAIN_ID,
            relayer_key=SecretStr("0x" + bytes(suite.gateway_relayer.key).hex()),
            batch_max_size=1000,
        )
        carrier = suite.world.parties["carrier"]
        token = issue_key(
            settings,
            org_id="0x" + carrier.org_id.hex(),
            org_kind="carrier",
            country=carrier.country,
            scopes=["events:write", "read"],
        ).token
        app = create_app(settings, services=build_services(settings))
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True, name="uvicorn event loop")
        thread.start()
        base = f"http://127.0.0.1:{port}"
        while not server.started:
            time.sleep(0.05)
        chunks: list[Chunk]
        if together:
            chunks = list(
                sign_batches(events, carrier.private_key, suite.ledger.domain("Consignments"))
            )
        else:
            chunks = [events[i : i + REQUEST_ITEMS] for i in range(0, len(events), REQUEST_ITEMS)]
        clients = [GatewayClient(base, token, timeout=600) for _ in range(CLIENTS)]

        def post(i: int) -> object:
            chunk = chunks[i]
            client = clients[i % CLIENTS]
            if isinstance(chunk, SignedEventBatch):
                return client.post_event_batch(chunk)
            return client.post_events(chunk)

        started = time.perf_counter()
        with Sampler() as sampler:
            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(post, range(len(chunks))))
            posted = time.perf_counter() - started
            client = clients[0]
            while any(
                client.list_records(status=status, kind="event", limit=1).items
                for status in ("accepted", "submitted")
            ):
                time.sleep(0.25)
            done = time.perf_counter() - started
        print(
            f"{len(events)} events: posted in {posted:.1f} s, all confirmed after {done:.1f} s "
            f"({len(events) / done:.1f} events/s)\n"
        )
        print(sampler.report())
        for c in clients:
            c.close()
        server.should_exit = True
        thread.join(10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
