"""Benchmarks on the geth Clique network, beside the same measurements on anvil.

    python -m bench.network                 # make bench-network: full sizes
    python -m bench.network --quick         # small sizes (the smoke test, marked ``network``)
    python -m bench.network --out /tmp/network.json -v

The consortium is the network test suite's (:mod:`tests.network.consortium`): three customs
administrations deploy with ``ledger deploy --bootstrap``, Australia's gateway (``ledger
serve``) runs on signer node 0 and China's on signer node 1, each with its own relayer
account, and a carrier admitted by governance ingests pre-signed events through
``POST /events/bulk``. The same harness then runs on one anvil node (1 s blocks, free gas,
the network's block gas limit), with the same sizes and the same finality depth, and every
figure gets its ratio network / anvil.

Figures (``<chain>`` is ``network`` or ``anvil``):

* ``<chain>_one_gw_events_per_s``: events through gateway A, from the first request to the
  moment the last one is reported ``final``; ``<chain>_two_gw_events_per_s`` the same through
  A and B at once (each its own consignments, client and relayer);
* ``<chain>_submit_to_final_p50_ms`` / ``_p99_ms``: per record, its ``202`` to the first poll
  of ``GET /records`` (paged, from the first page that still holds a record not final) that
  reports it final (both ingests);
* ``<chain>_verify_p50_ms`` / ``_p99_ms``: ``POST /verify`` at gateway A of a claim about a
  consignment ingested above;
* ``<chain>_gas_per_event``: gasUsed of the ingest's transactions (receipts) / their events;
  ``<chain>_ceiling_events_per_s`` = block gas limit / block period / gas per event, and
  ``<chain>_two_gw_pct_of_ceiling`` the two-gateway rate as a % of it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import secrets
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_typing import HexStr

from bench.context import DEV_KEY_0, BenchError, percentile
from bench.run import git_meta, machine_meta
from gateway.client import GatewayClient
from ledger.chain import AnvilNode, web3_for
from ledger.network import CliqueNetwork, KeyPair, ensure_geth
from ledger.records import ConsignmentEvent, ConsignmentRegistration, SignedRecord, reference_hash
from tests.network.consortium import (
    CONFIRMATIONS,
    Chain,
    GatewayProcess,
    Organisation,
    admit,
    chain_now,
    deploy_consortium,
    issue_api_key,
    retrying,
    sensor_events,
    wait_records,
)

__all__ = ["FULL", "QUICK", "Sizes", "main", "run"]

log = logging.getLogger("bench.network")

DEFAULT_OUT = Path(__file__).resolve().parent / "network-results.json"
GAS_LIMIT = 1_000_000_000  # the Clique genesis's (ledger.network.clique.DEFAULT_GAS_LIMIT)
PERIOD_S = 1
ANVIL_CHAIN_ID = 31337
GATEWAY_ENV = {
    # As the network suite: geth's pool refuses a transaction over 128 KiB ("oversized
    # data"), and a postEvents of 1,000 events signed one by one is ~203 kB (500: ~102 kB).
    "LEDGER_BATCH_MAX_SIZE": "500",
    "LEDGER_BATCH_LINGER_SECONDS": "0.2",
    "LEDGER_RELAY_POLL_SECONDS": "0.25",
    "LEDGER_RELAY_RETRY_SECONDS": "1.0",
    "LEDGER_INDEX_SYNC_SECONDS": "0.5",
}
POLL_S = 0.25
FINAL_TIMEOUT_S = 300.0
# Ports away from the network suite's defaults (8611-8614 HTTP, +100 engine API, 30311+ P2P).
HTTP_PORT_FROM = 9611
P2P_PORT_FROM = 31311


@dataclass(frozen=True)
class Sizes:
    consignments: int  # per gateway and ingest
    events_per_consignment: int
    chunk: int  # events per POST /events/bulk
    verify_samples: int

    @property
    def events(self) -> int:
        return self.consignments * self.events_per_consignment


FULL = Sizes(consignments=100, events_per_consignment=20, chunk=1000, verify_samples=200)
QUICK = Sizes(consignments=10, events_per_consignment=20, chunk=100, verify_samples=20)


# -- ports and chains --------------------------------------------------------------------------


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _ports(
    count: int, start: int, *, plus: int | None = None, taken: Sequence[int] = ()
) -> list[int]:
    """``count`` free loopback ports from ``start`` up (and ``port + plus`` free as well)."""
    found: list[int] = []
    for port in range(start, start + 2000):
        if len(found) == count:
            break
        if port in taken or (plus is not None and port + plus in taken):
            continue
        if _free(port) and (plus is None or _free(port + plus)):
            found.append(port)
    if len(found) < count:
        raise BenchError(f"no {count} free ports from {start}")
    return found


class AnvilChain:
    """One anvil node as the members' chain: every "node" is the same one."""

    def __init__(self, node: AnvilNode) -> None:
        self.node = node

    @property
    def chain_id(self) -> int:
        return ANVIL_CHAIN_ID

    @property
    def relayer_key(self) -> KeyPair:
        return KeyPair.from_hex(DEV_KEY_0)

    def rpc_url(self, which: int | str) -> str:
        return self.node.rpc_url


@contextmanager
def clique_chain(root: Path) -> Iterator[tuple[CliqueNetwork, tuple[int, int, int]]]:
    net = CliqueNetwork(root / "clique", geth=ensure_geth())
    http = _ports(4, HTTP_PORT_FROM, plus=100)
    p2p = _ports(4, P2P_PORT_FROM, taken=[*http, *(p + 100 for p in http)])
    net.init(period=PERIOD_S, gas_limit=GAS_LIMIT, http_ports=http, p2p_ports=p2p)
    try:
        net.up(timeout=120)
        yield net, (0, 1, 2)
    finally:
        net.down(hard=True)


@contextmanager
def anvil_chain(root: Path) -> Iterator[tuple[AnvilChain, tuple[int, int, int]]]:
    (port,) = _ports(1, HTTP_PORT_FROM + 300)
    node = AnvilNode(
        port=port,
        chain_id=ANVIL_CHAIN_ID,
        free_gas=True,
        block_time=PERIOD_S,
        extra_args=("--gas-limit", str(GAS_LIMIT)),
    )
    with node:
        yield AnvilChain(node), (0, 0, 0)


# -- one chain's measurements ----------------------------------------------------------------


@dataclass
class Submitted:
    """Records accepted by one gateway: their 202 times, then the first poll that saw them
    final, and the transactions that hold them."""

    sent: dict[str, float]
    final: dict[str, float]
    tx_hashes: set[str]
    first_request: float


def _post(
    client: GatewayClient,
    events: Sequence[SignedRecord[ConsignmentEvent]],
    *,
    label: str,
    chunk: int,
    sent: dict[str, float],
    lock: threading.Lock,
) -> None:
    for n, start in enumerate(range(0, len(events), chunk)):
        part = events[start : start + chunk]

        def post(part: Sequence[SignedRecord[ConsignmentEvent]] = part, n: int = n) -> Any:
            return client.post_events(part, idempotency_key=f"{label}-{n}")

        answer = retrying(post, what=f"{label} chunk {n}", timeout=120)
        now = time.perf_counter()
        refused = [item for item in answer.items if item.status not in (200, 202)]
        if refused:
            raise BenchError(f"{label} chunk {n}: refused items {refused[:3]}")
        with lock:
            for item in answer.items:
                assert item.record is not None
                sent[item.record.record_id] = now


def _follow(
    client: GatewayClient,
    result: Submitted,
    *,
    expected: int,
    lock: threading.Lock,
    stop: threading.Event,
) -> None:
    """Poll ``GET /records`` (pages of 1,000) until ``expected`` records are final; a page
    whose records are all final is not read again."""
    start_after = 0
    deadline = time.monotonic() + FINAL_TIMEOUT_S
    for _ in range(int(FINAL_TIMEOUT_S / POLL_S) + 1):
        after, keep_start = start_after, True
        for _ in range(10_000):
            page = client.list_records(after=after, limit=1000)
            now = time.perf_counter()
            with lock:
                for view in page.items:
                    if view.status == "failed":
                        raise BenchError(f"record {view.record_id} failed: {view.error}")
                    if view.final and view.record_id in result.sent:
                        result.final.setdefault(view.record_id, now)
                        if view.tx_hash:
                            result.tx_hashes.add(view.tx_hash)
                open_page = any(not v.final for v in page.items)
            if open_page:
                keep_start = False
            if page.next_after is None:
                break
            if keep_start:
                start_after = page.next_after
            after = page.next_after
        with lock:
            if len(result.final) >= expected:
                return
        if time.monotonic() > deadline or stop.wait(POLL_S):
            break
    raise BenchError(f"{len(result.final)} of {expected} records final after {FINAL_TIMEOUT_S} s")


def _ingest_until_final(
    jobs: Sequence[tuple[GatewayClient, Sequence[SignedRecord[ConsignmentEvent]], str]],
    *,
    chunk: int,
) -> tuple[list[Submitted], float]:
    """Post each job's events through its gateway and follow them to final, all at once;
    the results and the seconds from the first request to the last record seen final."""
    results = [Submitted({}, {}, set(), 0.0) for _ in jobs]
    locks = [threading.Lock() for _ in jobs]
    stop = threading.Event()  # set on any failure: the followers give up at once
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2 * len(jobs)) as pool:
        futures = []
        for (client, events, label), result, lock in zip(jobs, results, locks, strict=True):
            result.first_request = t0
            futures.append(
                pool.submit(
                    _post, client, events, label=label, chunk=chunk, sent=result.sent, lock=lock
                )
            )
            futures.append(
                pool.submit(_follow, client, result, expected=len(events), lock=lock, stop=stop)
            )
        try:
            for future in futures:
                future.result(timeout=FINAL_TIMEOUT_S + 60)
        except BaseException:
            stop.set()
            raise
    last = max(max(r.final.values()) for r in results)
    return results, last - t0


def _register(client: GatewayClient, carrier: Organisation, refs: Sequence[str]) -> None:
    deadline = int(time.time()) + 3600  # the consortium's blocks follow the wall clock
    views = [
        client.sign_and_submit(
            ConsignmentRegistration(
                reference_hash=reference_hash(ref),
                origin=b"AU",
                destination=b"CN",
                deadline=deadline,
            ),
            carrier.private_key,
            idempotency_key=f"register {ref}",
        )
        for ref in refs
    ]
    wait_records(client, [v.record_id for v in views], timeout=180)


def _events(
    client: GatewayClient, carrier: Organisation, refs: Sequence[str], *, per: int, now: int
) -> list[SignedRecord[ConsignmentEvent]]:
    out: list[SignedRecord[ConsignmentEvent]] = []
    for ref in refs:
        out += sensor_events(client, carrier, ref=ref, count=per, now=now)
    return out


def _verify_latencies(
    url: str, api_key: str, refs: Sequence[str], *, samples: int
) -> tuple[list[float], Counter[str]]:
    latencies: list[float] = []
    verdicts: Counter[str] = Counter()
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60
    ) as http:
        for i in range(samples):
            claim = {"consignment_ref": refs[i % len(refs)], "origin": "AU"}
            t0 = time.perf_counter()
            response = http.post("/verify", json=claim)
            latencies.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise BenchError(f"POST /verify: {response.status_code} {response.text[:300]}")
            verdicts[str(response.json().get("status"))] += 1
    return latencies, verdicts


def measure(
    chain: Chain, nodes: tuple[int, int, int], *, root: Path, sizes: Sizes, name: str
) -> tuple[dict[str, float], dict[str, Any]]:
    """The consortium on ``chain``, gateways A and B on ``nodes[0]`` and ``nodes[1]``; the
    figures (keys prefixed with ``name``) and details for ``meta``."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    made = deploy_consortium(chain, root, nodes=nodes)
    timings["deploy_s"] = round(time.perf_counter() - t, 1)
    a, b = made.members["au"], made.members["cn"]
    a.port, b.port = _ports(2, HTTP_PORT_FROM + 400)
    au, cn = made.admins["au"], made.admins["cn"]
    carrier = Organisation("Tasman Container Line", "carrier", "AU")
    with ExitStack() as stack:
        gateways = [
            GatewayProcess(m, chain, root / f"gateway-{k}.log", extra_env=GATEWAY_ENV)
            for k, m in (("a", a), ("b", b))
        ]
        for gateway in gateways:
            stack.callback(gateway.stop)
            gateway.start()
        keys = {
            "au": issue_api_key(a, au, scopes=["governance:write", "read"], net=chain),
            "cn": issue_api_key(b, cn, scopes=["governance:write", "read"], net=chain),
        }
        via_a = stack.enter_context(GatewayClient(a.url, keys["au"], timeout=120))
        via_b = stack.enter_context(GatewayClient(b.url, keys["cn"], timeout=120))
        admit(
            [carrier],
            proposer=au,
            via_proposer=via_a,
            approver=cn,
            via_approver=via_b,
            now=chain_now(chain, a.node),
        )
        # issuing checks membership on chain: the carrier's keys once it is admitted
        keys["carrier_a"] = issue_api_key(a, carrier, scopes=["events:write", "read"], net=chain)
        keys["carrier_b"] = issue_api_key(b, carrier, scopes=["events:write", "read"], net=chain)
        timings["setup_s"] = round(time.perf_counter() - t, 1)
        carrier_a = stack.enter_context(GatewayClient(a.url, keys["carrier_a"], timeout=120))
        carrier_b = stack.enter_context(GatewayClient(b.url, keys["carrier_b"], timeout=120))
        tag = secrets.token_hex(3).upper()
        refs = {
            f"{who}{n}": [f"AU-UCR-BENCH-{tag}-{who}{n}-{i:04d}" for i in range(sizes.consignments)]
            for who in ("a", "b")
            for n in (1, 2)
        }
        _register(carrier_a, carrier, refs["a1"] + refs["a2"])
        _register(carrier_b, carrier, refs["b2"])
        now = chain_now(chain, a.node)
        per = sizes.events_per_consignment
        events = {
            key: _events(
                carrier_a if key.startswith("a") else carrier_b,
                carrier,
                refs[key],
                per=per,
                now=now,
            )
            for key in ("a1", "a2", "b2")
        }
        timings["prepare_s"] = round(time.perf_counter() - t, 1)
        one, one_s = _ingest_until_final([(carrier_a, events["a1"], "one-a")], chunk=sizes.chunk)
        two, two_s = _ingest_until_final(
            [(carrier_a, events["a2"], "two-a"), (carrier_b, events["b2"], "two-b")],
            chunk=sizes.chunk,
        )
        timings["ingest_s"] = round(time.perf_counter() - t, 1)
        latencies = [
            (r.final[rid] - sent) * 1000 for r in (*one, *two) for rid, sent in r.sent.items()
        ]
        w3 = web3_for(chain.rpc_url(nodes[2] if name == "network" else 0), timeout=60)
        gas = 0
        tx_count = 0
        hashes = set().union(*(r.tx_hashes for r in (*one, *two)))
        for tx_hash in hashes:
            gas += int(w3.eth.get_transaction_receipt(HexStr(tx_hash))["gasUsed"])
            tx_count += 1
        n_events = sum(len(r.sent) for r in (*one, *two))
        gas_per_event = gas / n_events
        ceiling = GAS_LIMIT / PERIOD_S / gas_per_event
        # Verification: B's index must hold A's consignments too; A's is asked.
        verify_ms, verdicts = _verify_latencies(
            a.url, keys["au"], refs["a1"], samples=sizes.verify_samples
        )
        timings["total_s"] = round(time.perf_counter() - t, 1)
    two_rate = 2 * sizes.events / two_s
    figures = {
        f"{name}_one_gw_events_per_s": round(sizes.events / one_s, 1),
        f"{name}_two_gw_events_per_s": round(two_rate, 1),
        f"{name}_submit_to_final_p50_ms": round(percentile(latencies, 50), 1),
        f"{name}_submit_to_final_p99_ms": round(percentile(latencies, 99), 1),
        f"{name}_verify_p50_ms": round(percentile(verify_ms, 50), 2),
        f"{name}_verify_p99_ms": round(percentile(verify_ms, 99), 2),
        f"{name}_gas_per_event": round(gas_per_event, 1),
        f"{name}_ceiling_events_per_s": round(ceiling, 1),
        f"{name}_two_gw_pct_of_ceiling": round(100 * two_rate / ceiling, 2),
    }
    meta = {
        "timings": timings,
        "one_gw_seconds": round(one_s, 2),
        "two_gw_seconds": round(two_s, 2),
        "transactions": tx_count,
        "events_measured": n_events,
        "verify_verdicts": dict(verdicts),
        "gateway_nodes": {"a": nodes[0], "b": nodes[1]},
    }
    return figures, meta


# -- the run -----------------------------------------------------------------------------------

RATIO_KEYS = (
    "one_gw_events_per_s",
    "two_gw_events_per_s",
    "submit_to_final_p50_ms",
    "submit_to_final_p99_ms",
    "verify_p50_ms",
    "verify_p99_ms",
)


def _load() -> dict[str, Any]:
    load1, load5, load15 = os.getloadavg()
    return {"loadavg": [round(load1, 2), round(load5, 2), round(load15, 2)]}


def run(*, quick: bool) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    started = dt.datetime.now(dt.UTC)
    git = git_meta()
    figures: dict[str, float] = {}
    meta: dict[str, Any] = {}
    load: dict[str, Any] = {"start": _load()}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-network-") as tmp:
        root = Path(tmp)
        chains: list[tuple[str, Callable[[Path], Any]]] = [
            ("network", clique_chain),
            ("anvil", anvil_chain),
        ]
        for name, start in chains:
            (root / name).mkdir()
            log.info("%s: starting", name)
            with start(root / name) as (chain, nodes):
                result, details = measure(chain, nodes, root=root / name, sizes=sizes, name=name)
            figures.update(result)
            meta[name] = details
            load[f"after_{name}"] = _load()
            log.info("%s: %s", name, result)
    for key in RATIO_KEYS:
        if figures.get(f"anvil_{key}"):
            figures[f"ratio_{key}"] = round(figures[f"network_{key}"] / figures[f"anvil_{key}"], 3)
    for key, value in figures.items():
        if not value > 0:
            raise BenchError(f"{key}={value!r}: not a positive number")
    results: dict[str, Any] = dict(figures)
    results["meta"] = {
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", "bench.network", *sys.argv[1:]]),
        "mode": "quick" if quick else "full",
        "wall_s": round(time.perf_counter() - t0, 1),
        "sizes": {
            "events_per_gateway": sizes.events,
            "consignments_per_gateway": sizes.consignments,
            "events_per_consignment": sizes.events_per_consignment,
            "chunk": sizes.chunk,
            "verify_samples": sizes.verify_samples,
        },
        "chains": {
            "network": "geth v1.13.15 Clique, 3 signers + 1 RPC node, gateways on signers 0 and 1",
            "anvil": "one anvil node, interval mining, free gas",
            "period_s": PERIOD_S,
            "gas_limit": GAS_LIMIT,
            "confirmations": CONFIRMATIONS,
            "gateway_env": GATEWAY_ENV,
        },
        "machine": {**machine_meta(), "load": load},
        "git": git,
        **meta,
    }
    return results


def table(results: dict[str, Any]) -> str:
    keys = [k for k in results if k != "meta"]
    width = max(len(k) for k in keys)
    lines = [f"{'figure':<{width}}  {'value':>12}", f"{'-' * width}  {'-' * 12}"]
    lines += [f"{k:<{width}}  {results[k]:>12,}" for k in keys]
    meta = results["meta"]
    lines.append("")
    lines.append(
        f"{meta['mode']} run, {meta['date']}, {meta['wall_s']} s, "
        f"{meta['machine']['cores']} cores, load {meta['machine']['load']}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.network", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON path")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    try:
        results = run(quick=args.quick)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
