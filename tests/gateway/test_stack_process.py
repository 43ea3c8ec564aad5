"""The gateway on the real stack, as processes: uvicorn running ``gateway.stack:app_factory``
against an anvil of its own (deployed and seeded here), killed with SIGKILL in the middle of
a bulk submission (events signed one by one, or together), and an anvil stopped and
restarted from its state directory while records are on their way. Afterwards the chain
holds every record exactly once.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from web3 import Web3
from web3.providers import HTTPProvider

from gateway.auth import issue_key
from gateway.client import GatewayClient
from gateway.config import GatewaySettings
from gateway.writes.outbox import Outbox, RecordStatus
from ledger.chain import AnvilNode, Ledger, TxManager, deploy_suite, manifest_path
from ledger.records import (
    BusinessStep,
    ConsignmentEvent,
    Locode,
    SignedEventBatch,
    SignedRecord,
    sign_event_batch,
)
from ledger.stack import DEMO_PARTIES, DemoWorld, bootstrap_for, seed_demo
from tests.conftest import CHAIN_ID, RELAYER_KEY, free_port

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@dataclass
class Stack:
    data_dir: Path
    node: AnvilNode
    w3: Web3
    ledger: Ledger
    world: DemoWorld
    api_key: str


def _start_node(state_dir: Path, port: int, block_time: float | None) -> AnvilNode:
    node = AnvilNode(
        port=port, chain_id=CHAIN_ID, state_dir=state_dir, free_gas=True, block_time=block_time
    )
    node.start()
    return node


@contextmanager
def stack(tmp_path: Path, *, block_time: float | None = None) -> Iterator[Stack]:
    """A fresh anvil with the suite deployed (manifest in the data dir) and the demo seeded."""
    data_dir = tmp_path / "data"
    node = _start_node(data_dir / "node", free_port(), block_time)
    try:
        w3 = Web3(HTTPProvider(node.rpc_url, request_kwargs={"timeout": 30}))
        tx = TxManager(w3, RELAYER_KEY, poll_interval=0.05)
        now = int(w3.eth.get_block("latest")["timestamp"])
        deployment = deploy_suite(
            w3, tx, bootstrap_for(DEMO_PARTIES, relayers=[tx.address], now=now)
        )
        deployment.save(manifest_path(data_dir, CHAIN_ID))
        ledger = Ledger(w3, deployment, tx=tx)
        world = seed_demo(ledger)
        carrier = world.parties["carrier"]
        issued = issue_key(
            GatewaySettings(data_dir=data_dir),
            org_id="0x" + carrier.org_id.hex(),
            org_kind="carrier",
            country=carrier.country,
            scopes=["events:write", "read"],
        )
        yield Stack(data_dir, node, w3, ledger, world, issued.token)
    finally:
        node.stop()


@contextmanager
def gateway_process(s: Stack, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "LEDGER_DATA_DIR": str(s.data_dir),
            "LEDGER_RPC_URL": s.node.rpc_url,
            "LEDGER_CHAIN_ID": str(CHAIN_ID),
            "LEDGER_RELAYER_KEY": RELAYER_KEY,
            "LEDGER_BATCH_MAX_SIZE": "400",
            "LEDGER_BATCH_LINGER_SECONDS": "0.1",
            "LEDGER_RELAY_POLL_SECONDS": "0.1",
            "LEDGER_RELAY_RETRY_SECONDS": "0.3",
            "LEDGER_KEYSTORE_SCRYPT_N": "1024",
        }
    )
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
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=s.data_dir, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gateway did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def signed_events(s: Stack, count: int) -> list[SignedRecord[ConsignmentEvent]]:
    carrier = s.world.parties["carrier"]
    now = int(s.w3.eth.get_block("latest")["timestamp"])
    base = secrets.randbits(16) << 12
    location = Locode("CNSHA").to_bytes5()
    step = BusinessStep("sensor_reporting").code
    return [
        s.ledger.sign(
            ConsignmentEvent(
                consignment_id=s.world.consignment_id,
                biz_step=step,
                location=location,
                event_time=now - 3600 + i,
                nonce=base + i,
                deadline=now + 86_400,
            ),
            carrier.private_key,
        )
        for i in range(count)
    ]


def chain_events(s: Stack) -> Counter[int]:
    """How many times each event nonce was recorded for the consignment (from the logs)."""
    client = s.ledger.consignments
    logs = s.w3.eth.get_logs(
        {
            "address": client.address,
            "fromBlock": s.ledger.deployment.block,
            "toBlock": "latest",
            "topics": [None, "0x" + s.world.consignment_id.hex()],
        }
    )
    return Counter(
        ConsignmentEvent.unpack_meta(d.args["meta"])["nonce"]
        for d in client.decode_logs(logs)
        if d.event == "ConsignmentEventRecorded"
    )


def wait_for_count(s: Stack, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    count = -1
    while time.monotonic() < deadline:
        try:
            _, count = s.ledger.consignments.head(s.world.consignment_id)
        except Exception:  # the node may be restarting
            count = -1
        if count >= expected:
            return count
        time.sleep(0.2)
    return count


def post_chunks(client: GatewayClient, chunks: list[list[Any]], keys: list[str]) -> list[Any]:
    return [
        client.post_events(chunk, idempotency_key=key)
        for chunk, key in zip(chunks, keys, strict=True)
    ]


SEEDED_EVENTS = 5


def send_bulk(port: int, api_key: str, chunk: list[Any], idempotency_key: str) -> socket.socket:
    """POST /events/bulk as the typed client would, without waiting for the answer."""
    items = [
        {"message": e.record.json_message(), "signature": "0x" + e.signature.hex()} for e in chunk
    ]
    body = json.dumps({"items": items}).encode()
    head = (
        "POST /events/bulk HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {api_key}\r\n"
        f"Idempotency-Key: {idempotency_key}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(head + body)
    return sock


def receive_all(sock: socket.socket) -> bytes:
    """Whatever the server answered before its connection closed (b"" if nothing)."""
    data = b""
    with sock:
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    return data


def outbox_counts(s: Stack) -> dict[RecordStatus, int]:
    """Records in each state in the gateway's outbox database (read while it is down)."""
    with Outbox.open(GatewaySettings(data_dir=s.data_dir).gateway_db_url) as outbox:
        return outbox.counts()


def rpc(s: Stack, method: str, *params: Any) -> Any:
    response = s.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in response, response
    return response.get("result")


def test_kill_9_in_the_middle_of_a_bulk_submission_delivers_every_event_once(
    tmp_path: Path,
) -> None:
    """The first bulk request is relayed and mined; then the node stops mining, so that the
    next four (accepted, 202) are still accepted or submitted -- their transactions waiting in
    the node's pool -- when the gateway is killed during the sixth. The restarted gateway must
    follow the stored transactions and send what was never sent: exactly 2,000 on chain."""
    total, size = 2000, 200
    with stack(tmp_path) as s:
        events = signed_events(s, total)
        chunks = [events[i : i + size] for i in range(0, total, size)]
        keys = [f"bulk-{i}" for i in range(len(chunks))]
        port = free_port()
        log = tmp_path / "gateway.log"
        base = f"http://127.0.0.1:{port}"
        with gateway_process(s, port, log) as process:
            client = GatewayClient(base, s.api_key, timeout=60)
            assert post_chunks(client, chunks[:1], keys[:1])[0].accepted == size
            assert wait_for_count(s, SEEDED_EVENTS + size, timeout=30) == SEEDED_EVENTS + size
            rpc(s, "evm_setAutomine", False)  # from now on nothing is mined
            more = post_chunks(client, chunks[1:4], keys[1:4])
            started = time.monotonic()
            more += post_chunks(client, chunks[4:5], keys[4:5])
            one_request = time.monotonic() - started
            assert all(r.accepted == size for r in more)
            deadline = time.monotonic() + 10
            submitted: list[Any] = []
            while not submitted and time.monotonic() < deadline:
                submitted = client.list_records(status="submitted", limit=1).items
            assert submitted, "no transaction was sent to the node before the kill"
            client.close()
            # The sixth request is sent whole; the kill lands while the gateway checks it
            # (a quarter of the time the fifth took), before it can answer.
            sixth = send_bulk(port, s.api_key, chunks[5], keys[5])
            time.sleep(one_request / 4)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            answer = receive_all(sixth)
        assert process.returncode == -signal.SIGKILL
        assert answer == b"", f"the sixth bulk request was answered before the kill: {answer!r}"
        # What the kill left: the first request on chain, the next four in the outbox on
        # their way (accepted, or submitted with a transaction in the pool), none lost.
        assert sum(chain_events(s).values()) == SEEDED_EVENTS + size
        left = outbox_counts(s)
        assert left[RecordStatus.FAILED] == 0
        assert left[RecordStatus.CONFIRMED] <= size
        unconfirmed = left[RecordStatus.ACCEPTED] + left[RecordStatus.SUBMITTED]
        assert unconfirmed >= 4 * size, left
        assert left[RecordStatus.SUBMITTED] > 0, left
        assert int(rpc(s, "txpool_status")["pending"], 16) > 0

        with gateway_process(s, port, log):
            with GatewayClient(base, s.api_key, timeout=60) as client:
                again = post_chunks(client, chunks, keys)
            rpc(s, "evm_setIntervalMining", 1)  # the pool is mined again, a block a second
            assert sum(r.rejected for r in again) == 0
            assert sum(r.replayed for r in again) >= 5 * size  # the first five were stored
            assert sum(r.accepted + r.replayed for r in again) == total
            count = wait_for_count(s, SEEDED_EVENTS + total, timeout=60)
            assert count == SEEDED_EVENTS + total
            with GatewayClient(base, s.api_key) as client:
                failed = client.list_records(status="failed", limit=1000).items
                assert failed == []
                # Ready: node reachable, deployment verified, relayer allowed, index caught up.
                deadline = time.monotonic() + 15
                readiness = client.readyz()
                while readiness.status != "ready" and time.monotonic() < deadline:
                    time.sleep(0.2)
                    readiness = client.readyz()
            assert readiness.status == "ready", readiness
            assert {"rpc", "deployment", "relayer_allowed", "index_lag"} <= set(readiness.checks)
            deadline = time.monotonic() + 30
            final = outbox_counts(s)
            while final[RecordStatus.CONFIRMED] < total and time.monotonic() < deadline:
                time.sleep(0.2)
                final = outbox_counts(s)
        assert final[RecordStatus.CONFIRMED] == total, final
        assert sum(final.values()) == total  # one row per event: nothing stored twice
        nonces = chain_events(s)
        ours = {e.record.nonce for e in events}
        assert {n: c for n, c in nonces.items() if n in ours} == dict.fromkeys(ours, 1)
        assert sum(nonces.values()) == SEEDED_EVENTS + total


def test_node_stopped_and_restarted_while_records_are_queued(tmp_path: Path) -> None:
    total = 300
    with stack(tmp_path) as s:
        # From now on nothing is mined: a transaction the gateway sends waits in the pool,
        # which dies with the node. (The restarted node automines.)
        s.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
        events = signed_events(s, total)
        port = free_port()
        log = tmp_path / "gateway.log"
        with (
            gateway_process(s, port, log),
            GatewayClient(f"http://127.0.0.1:{port}", s.api_key, timeout=60) as client,
        ):
            result = client.post_events(events, idempotency_key="queued")
            assert result.accepted == total
            # Stop the node while the records' transaction is in its pool.
            deadline = time.monotonic() + 5
            submitted: list[Any] = []
            while not submitted and time.monotonic() < deadline:
                submitted = client.list_records(status="submitted", limit=1000).items
            assert submitted, "no transaction was waiting in the node's pool"
            assert client.list_records(status="confirmed").items == []
            s.node.stop()
            time.sleep(2)  # the submitter keeps failing and retrying meanwhile
            s.node = _start_node(s.data_dir / "node", s.node.port, None)
            count = wait_for_count(s, SEEDED_EVENTS + total, timeout=60)
            assert count == SEEDED_EVENTS + total
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                confirmed = client.list_records(status="confirmed", limit=1000).items
                if len(confirmed) == total:
                    break
                time.sleep(0.2)
            assert len(confirmed) == total
        nonces = chain_events(s)
        ours = {e.record.nonce for e in events}
        assert {n: c for n, c in nonces.items() if n in ours} == dict.fromkeys(ours, 1)


def signed_batches(s: Stack, count: int, size: int) -> list[SignedEventBatch]:
    """``count`` batches of ``size`` events signed together, each with a nonce of its own."""
    carrier = s.world.parties["carrier"]
    events = [e.record for e in signed_events(s, count * size)]
    return [
        sign_event_batch(
            events[i * size : (i + 1) * size],
            carrier.private_key,
            s.ledger.consignments.domain,
            nonce=events[i * size].nonce,
            deadline=events[i * size].deadline,
        )
        for i in range(count)
    ]


def send_batch(port: int, api_key: str, batch: SignedEventBatch, key: str) -> socket.socket:
    """POST /events/batch/signed as the typed client would, without waiting for the answer."""
    body = json.dumps(
        {
            "events": [event.json_message() for event in batch.events],
            "signature": "0x" + batch.signature.hex(),
        }
    ).encode()
    head = (
        "POST /events/batch/signed HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {api_key}\r\n"
        f"Idempotency-Key: {key}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(head + body)
    return sock


def test_kill_9_with_signed_batches_on_their_way_delivers_every_batch_once(
    tmp_path: Path,
) -> None:
    """As the bulk test above, with events signed together: the first batch is mined, the
    next four are accepted (their transactions in the pool, or not yet sent) when the
    gateway is killed during the sixth. Restarted, and every batch sent again by the
    client, the chain holds each batch exactly once: 1,200 events, each nonce 200 times."""
    count, size = 6, 200
    with stack(tmp_path) as s:
        batches = signed_batches(s, count, size)
        keys = [f"batch-{i}" for i in range(count)]
        port = free_port()
        log = tmp_path / "gateway.log"
        base = f"http://127.0.0.1:{port}"
        with gateway_process(s, port, log) as process:
            client = GatewayClient(base, s.api_key, timeout=60)
            assert len(client.post_event_batch(batches[0], idempotency_key=keys[0]).records) == size
            assert wait_for_count(s, SEEDED_EVENTS + size, timeout=30) == SEEDED_EVENTS + size
            rpc(s, "evm_setAutomine", False)  # from now on nothing is mined
            started = time.monotonic()
            for batch, key in zip(batches[1:5], keys[1:5], strict=True):
                assert len(client.post_event_batch(batch, idempotency_key=key).records) == size
            one_request = (time.monotonic() - started) / 4
            deadline = time.monotonic() + 10
            submitted: list[Any] = []
            while not submitted and time.monotonic() < deadline:
                submitted = client.list_records(status="submitted", limit=1).items
            assert submitted, "no transaction was sent to the node before the kill"
            client.close()
            sixth = send_batch(port, s.api_key, batches[5], keys[5])
            time.sleep(one_request / 4)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            receive_all(sixth)
        assert process.returncode == -signal.SIGKILL
        assert sum(chain_events(s).values()) == SEEDED_EVENTS + size
        left = outbox_counts(s)
        assert left[RecordStatus.FAILED] == 0
        assert left[RecordStatus.ACCEPTED] + left[RecordStatus.SUBMITTED] >= 4 * size, left
        # A signed batch is stored whole or not at all.
        assert sum(left.values()) % size == 0, left

        with gateway_process(s, port, log):
            with GatewayClient(base, s.api_key, timeout=60) as client:
                again = [
                    client.post_event_batch(batch, idempotency_key=key)
                    for batch, key in zip(batches, keys, strict=True)
                ]
            rpc(s, "evm_setIntervalMining", 1)
            assert all(len(view.records) == size for view in again)
            count_on_chain = wait_for_count(s, SEEDED_EVENTS + count * size, timeout=60)
            assert count_on_chain == SEEDED_EVENTS + count * size
            deadline = time.monotonic() + 30
            final = outbox_counts(s)
            while final[RecordStatus.CONFIRMED] < count * size and time.monotonic() < deadline:
                time.sleep(0.2)
                final = outbox_counts(s)
        assert final[RecordStatus.CONFIRMED] == count * size, final
        assert sum(final.values()) == count * size  # one row per event: nothing stored twice
        nonces = chain_events(s)
        ours = {batch.record.nonce for batch in batches}
        assert {n: c for n, c in nonces.items() if n in ours} == dict.fromkeys(ours, size)
        assert sum(nonces.values()) == SEEDED_EVENTS + count * size
