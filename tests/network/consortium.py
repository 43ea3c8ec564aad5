"""The network suite's members, as the consortium would run them: customs administrations
with their own signing keys, one gateway per member (``ledger serve`` in its own process, its
own data directory, index, relayer account and node), organisations admitted by governance,
API keys issued with ``ledger apikey issue``, and the command line for everything else.

Nothing here reaches into a gateway's process: gateways are driven over HTTP
(:class:`gateway.client.GatewayClient`) and the chain is read over JSON-RPC from a node of the
test's choosing. Every wait is bounded in time and in the number of polls.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3

from gateway.client import GatewayClient
from gateway.errors import GatewayError, ServiceUnavailable
from gateway.models import BulkResult, RecordView
from gateway.writes.kinds import record_id_for
from ledger.chain import Deployment, Ledger, manifest_path, web3_for
from ledger.network import KeyPair
from ledger.records import (
    Approval,
    BusinessStep,
    ConsignmentEvent,
    ConsignmentRegistration,
    Locode,
    Proposal,
    ProposalAction,
    SignedRecord,
    consignment_id,
    reference_hash,
)

T = TypeVar("T")

LEDGER = Path(sys.executable).with_name("ledger")
"""The installed command line (``.venv/bin/ledger``), as a member would run it."""
POLL = 0.25
CONFIRMATIONS = 3
"""Blocks on top before a gateway or index treats a block as final (Clique is not final at
once: a partition's minority blocks are replaced when it heals)."""
KEYSTORE_SECRET = "network-suite-" + secrets.token_hex(8)
THRESHOLD = 2
KIND_CODES = {"customs": 1, "carrier": 2, "trader": 3, "issuing_body": 4, "postal_operator": 5}


class Chain(Protocol):
    """What the members need of a chain: its id, a node's JSON-RPC URL and a funded account.
    :class:`ledger.network.CliqueNetwork` is one; the benchmarks also run the members on a
    single anvil node (``bench.network``)."""

    @property
    def chain_id(self) -> int: ...

    @property
    def relayer_key(self) -> KeyPair: ...

    def rpc_url(self, which: int | str) -> str: ...


def wait_for(
    what: str, probe: Callable[[], T | None], *, timeout: float = 60.0, poll: float = POLL
) -> T:
    """Poll ``probe`` until it returns something other than None/False (at most
    ``timeout / poll`` polls, and never past ``timeout``)."""
    deadline = time.monotonic() + timeout
    for _ in range(max(1, int(timeout / poll))):
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            break
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any ``LEDGER_*`` of the caller's, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(extra)
    return env


def run_ledger(
    args: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``ledger ARGS`` (the installed entry point) in ``cwd``; output captured."""
    return subprocess.run(
        [str(LEDGER), *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def hx(value: bytes) -> str:
    return "0x" + value.hex()


@dataclass(frozen=True)
class Organisation:
    """A member organisation and its current signing key (generated for the session)."""

    name: str
    kind: str  # gateway OrgKind value: customs, carrier, trader, issuing_body, postal_operator
    country: str
    private_key: str = field(default_factory=lambda: "0x" + secrets.token_hex(32), repr=False)

    @property
    def org_id(self) -> bytes:
        return keccak(text=self.name)

    @property
    def org_hex(self) -> str:
        return hx(self.org_id)

    @property
    def address(self) -> str:
        return str(Account.from_key(self.private_key).address)


@dataclass
class Member:
    """A customs administration that runs a gateway: its organisation, relayer account,
    data directory and the node its gateway and index talk to."""

    admin: Organisation
    relayer_key: str
    data_dir: Path
    node: int
    port: int = 0

    @property
    def relayer_address(self) -> str:
        return str(Account.from_key(self.relayer_key).address)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def fund(net: Chain, addresses: Iterable[str], *, wei: int = 10**21) -> None:
    """Give accounts a balance from the network's funded account.

    Gas costs nothing in the genesis (base fee 0), but geth's price oracle suggests a 1 gwei
    tip, which the transaction manager pays: relayer accounts need a balance on geth Clique.
    """
    w3 = web3_for(net.rpc_url(3))
    funder = Account.from_key(net.relayer_key.private_hex)
    nonce = w3.eth.get_transaction_count(funder.address, "pending")
    hashes = []
    for i, address in enumerate(addresses):
        tx = {
            "to": Web3.to_checksum_address(address),
            "value": wei,
            "gas": 21_000,
            "gasPrice": 0,
            "nonce": nonce + i,
            "chainId": net.chain_id,
        }
        hashes.append(w3.eth.send_raw_transaction(funder.sign_transaction(tx).raw_transaction))
    for tx_hash in hashes:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.5)
        assert receipt["status"] == 1


class GatewayProcess:
    """``ledger serve`` for one member, in its own process; stopped with SIGTERM (or
    killed) by :meth:`stop`, which is safe to call more than once."""

    def __init__(self, member: Member, net: Chain, log: Path, *, extra_env: dict[str, str]) -> None:
        self.member = member
        self.net = net
        self.log = log
        self.extra_env = extra_env
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        m = self.member
        return clean_env(
            LEDGER_DATA_DIR=str(m.data_dir),
            LEDGER_RPC_URL=self.net.rpc_url(m.node),
            LEDGER_CHAIN_ID=str(self.net.chain_id),
            LEDGER_RELAYER_KEY=m.relayer_key,
            LEDGER_KEYSTORE_SECRET=KEYSTORE_SECRET,
            LEDGER_GATEWAY_HOST="127.0.0.1",
            LEDGER_GATEWAY_PORT=str(m.port),
            LEDGER_CONFIRMATIONS=str(CONFIRMATIONS),
            **self.extra_env,
        )

    def start(self, *, timeout: float = 120.0) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(LEDGER), "serve"],
                cwd=self.member.data_dir,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        process = self.process
        wait_for(
            f"gateway {self.member.admin.name} to be ready on {self.member.url}",
            lambda: self._ready() or self._died(process),
            timeout=timeout,
            poll=0.5,
        )

    def _died(self, process: subprocess.Popen[bytes]) -> bool:
        """False while the process runs; raises once it has exited."""
        if process.poll() is not None:
            raise AssertionError(
                f"gateway {self.member.admin.name} exited with {process.returncode}:\n"
                + self.tail()
            )
        return False

    def _ready(self) -> bool:
        try:
            return httpx.get(self.member.url + "/readyz", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def readyz(self) -> tuple[int, dict[str, Any]]:
        response = httpx.get(self.member.url + "/readyz", timeout=10)
        return response.status_code, response.json()

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def issue_api_key(
    member: Member, org: Organisation, *, scopes: Sequence[str], net: Chain, timeout: float = 60.0
) -> str:
    """``ledger apikey issue`` in the member's data directory, against the member's node: the
    key is printed once. Issuing checks on chain that ``org`` is a member of that kind and
    country; a member admitted a moment ago through the other gateway is waited for (up to
    ``timeout``) until the member's own node has the block."""
    args = ["apikey", "issue", "--data-dir", str(member.data_dir), "--org-id", org.org_hex]
    args += ["--kind", org.kind, "--country", org.country, "--label", f"{org.name} (suite)"]
    for scope in scopes:
        args += ["--scope", scope]
    env = clean_env(LEDGER_RPC_URL=net.rpc_url(member.node), LEDGER_CHAIN_ID=str(net.chain_id))
    deadline = time.monotonic() + timeout
    while True:
        done = run_ledger(args, cwd=member.data_dir, env=env, timeout=120)
        if done.returncode == 0 or "is not a member" not in done.stderr:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    assert token.startswith("clk_"), done.stdout
    return token


def retrying(call: Callable[[], T], *, what: str, timeout: float = 180.0) -> T:
    """Call ``call`` until the gateway answers it: a client retries (with the same
    idempotency key) while the gateway is unavailable (503) or the connection fails."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    for _ in range(int(timeout / 0.5) + 1):
        try:
            return call()
        except (ServiceUnavailable, httpx.TransportError) as exc:
            last = exc
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    raise AssertionError(f"{what}: the gateway did not take it in {timeout:.0f} s ({last!r})")


def wait_records(
    client: GatewayClient,
    record_ids: Iterable[str],
    *,
    status: str = "confirmed",
    final: bool = True,
    timeout: float = 120.0,
) -> dict[str, RecordView]:
    """Wait until every record has ``status`` in the gateway's outbox (and, for ``confirmed``
    with ``final``, is at the network's finality: only then do the other members' indexes,
    which follow final blocks, hold it); their views."""
    pending = set(record_ids)
    views: dict[str, RecordView] = {}

    def probe() -> bool:
        for record_id in sorted(pending):
            view = client.get_record(record_id)
            if view.status == "failed":
                raise AssertionError(f"record {record_id} failed: {view.error}")
            if view.status != status or (final and status == "confirmed" and not view.final):
                return False
            views[record_id] = view
            pending.discard(record_id)
        return True

    wanted = f"{status} and final" if final and status == "confirmed" else status
    wait_for(f"{len(pending)} records to be {wanted}", probe, timeout=timeout, poll=0.5)
    return views


def record_statuses(client: GatewayClient) -> dict[str, RecordView]:
    """Every record of the client's organisation in the gateway's outbox, by record id."""
    found: dict[str, RecordView] = {}
    after = 0
    for _ in range(1000):
        page = client.list_records(after=after, limit=1000)
        for view in page.items:
            found[view.record_id] = view
        if page.next_after is None:
            return found
        after = page.next_after
    raise AssertionError("more than a million records listed")


# -- the chain, read from a node of the test's choosing ----------------------------------


def attach(net: Chain, node: int, deployment: Deployment) -> Ledger:
    return Ledger(web3_for(net.rpc_url(node)), deployment)


def chain_event_nonces(ledger: Ledger, cid: bytes) -> Counter[int]:
    """How many times each event nonce was recorded for the consignment (from the logs)."""
    client = ledger.consignments
    logs = ledger.w3.eth.get_logs(
        {
            "address": client.address,
            "fromBlock": ledger.deployment.block,
            "toBlock": "latest",
            "topics": [None, hx(cid)],
        }
    )
    return Counter(
        ConsignmentEvent.unpack_meta(d.args["meta"])["nonce"]
        for d in client.decode_logs(logs)
        if d.event == "ConsignmentEventRecorded"
    )


def indexed_record_ids(client: GatewayClient, ref: str) -> tuple[list[str], bool]:
    """The record ids of the consignment's events in a gateway's index (chain order), and
    whether the index's head equals the contract's."""
    timeline = client.timeline(ref)
    ids = [record_id_for(bytes.fromhex(e.digest[2:]), org_id=e.org_id) for e in timeline.events]
    return ids, timeline.head_matches_chain


# -- records as a carrier's own system builds and signs them -----------------------------


_NONCES = iter(range(1 << 20, 1 << 31, 1 << 16))


def nonce_block() -> int:
    """A fresh block of 65,536 event nonces for one ingest of the session's carrier."""
    return next(_NONCES)


def register_consignment(
    client: GatewayClient, carrier: Organisation, *, ref: str, origin: str, destination: str
) -> RecordView:
    record = ConsignmentRegistration(
        reference_hash=reference_hash(ref),
        origin=origin.encode("ascii"),
        destination=destination.encode("ascii"),
        # The consortium's blocks follow the wall clock (Clique); an hour covers its skew and
        # a gateway that waits out a partition.
        deadline=int(time.time()) + 3600,
    )
    view = client.sign_and_submit(record, carrier.private_key, idempotency_key=f"register {ref}")
    return wait_records(client, [view.record_id])[view.record_id]


def sensor_events(
    client: GatewayClient, carrier: Organisation, *, ref: str, count: int, now: int
) -> list[SignedRecord[ConsignmentEvent]]:
    """``count`` signed sensor readings of a consignment, unique nonces, times in order."""
    base = nonce_block()
    step = BusinessStep("sensor_reporting").code
    location = Locode("AUMEL").to_bytes5()
    cid = consignment_id(ref, registrant=carrier.org_id)
    return [
        client.sign(
            ConsignmentEvent(
                consignment_id=cid,
                biz_step=step,
                location=location,
                event_time=now - 2 * count + i,
                nonce=base + i,
                deadline=now + 86_400,
            ),
            carrier.private_key,
        )
        for i in range(count)
    ]


@dataclass
class Ingest:
    """What a bulk ingest through a gateway got back: the accepted records."""

    record_ids: list[str] = field(default_factory=list)
    replayed: int = 0
    requests: int = 0


def ingest(
    client: GatewayClient,
    events: Sequence[SignedRecord[ConsignmentEvent]],
    *,
    label: str,
    chunk: int,
    before_chunk: Callable[[int, Ingest], None] | None = None,
    timeout_per_chunk: float = 240.0,
) -> Ingest:
    """POST /events/bulk in chunks, as a client with retries would: each chunk under its own
    idempotency key, re-sent with the same key while the gateway cannot take it. Every item
    must be accepted (202, or 200 for an item the gateway already stored).

    ``before_chunk(n, so_far)`` runs before chunk ``n`` is sent, with what was accepted so far.
    """
    result = Ingest()
    for n, start in enumerate(range(0, len(events), chunk)):
        if before_chunk is not None:
            before_chunk(n, result)
        part = events[start : start + chunk]

        def post(part: Sequence[SignedRecord[ConsignmentEvent]] = part, n: int = n) -> BulkResult:
            return client.post_events(part, idempotency_key=f"{label}-{n}")

        answer = retrying(
            post,
            what=f"{label} chunk {n}",
            timeout=timeout_per_chunk,
        )
        result.requests += 1
        refused = [item for item in answer.items if item.status not in (200, 202)]
        assert not refused, f"{label} chunk {n}: refused items {refused[:3]}"
        assert [item.index for item in answer.items] == list(range(len(part)))
        result.replayed += answer.replayed
        for item in answer.items:
            assert item.record is not None
            result.record_ids.append(item.record.record_id)
    return result


def assert_exactly_once(
    *,
    ledger: Ledger,
    client: GatewayClient,
    ref: str,
    events: Sequence[SignedRecord[ConsignmentEvent]],
    accepted: Sequence[str],
    timeout: float = 240.0,
) -> None:
    """0 lost, 0 duplicated: the chain (read from ``ledger``'s node), the gateway's outbox
    and its index all hold every accepted event exactly once, and nothing else."""
    assert len(accepted) == len(set(accepted)) == len(events)
    cid = events[0].record.consignment_id
    wait_for(
        f"{len(events)} events of {ref} on chain",
        lambda: ledger.consignments.head(cid)[1] >= len(events),
        timeout=timeout,
        poll=1.0,
    )
    _, count = ledger.consignments.head(cid)
    assert count == len(events), f"{count} events on chain, {len(events)} accepted"
    nonces = chain_event_nonces(ledger, cid)
    assert set(nonces) == {e.record.nonce for e in events}
    assert max(nonces.values()) == 1, [n for n, c in nonces.items() if c > 1][:5]
    # The gateway's index follows: every accepted record once, the head equal to the chain's.
    wait_for(
        f"the index to hold the {len(events)} events of {ref}",
        lambda: (lambda r: len(r[0]) == len(events) and r[1])(indexed_record_ids(client, ref)),
        timeout=timeout,
        poll=1.0,
    )
    indexed, _ = indexed_record_ids(client, ref)
    assert sorted(indexed) == sorted(accepted)
    # And the outbox says confirmed for every one of them, with a block on the chain.
    views = wait_records(client, accepted, timeout=timeout)
    blocks = {v.block_number for v in views.values()}
    assert None not in blocks
    for number in blocks:
        assert number is not None
        canonical = ledger.w3.eth.get_block(number)["hash"]
        hashes = {v.block_hash for v in views.values() if v.block_number == number}
        assert hashes == {hx(bytes(canonical))}, f"records point at a replaced block {number}"


def gateway_call(call: Callable[[], T]) -> T | None:
    """``call()``, or None if the gateway refused it with an API error."""
    try:
        return call()
    except GatewayError:
        return None


# -- the consortium: deployed with a bootstrap file, organisations admitted by governance --


def bootstrap_toml(admins: dict[str, Organisation], relayers: list[str], now: int) -> str:
    lines = [f"threshold = {THRESHOLD}", f"relayers = [{', '.join(repr(r) for r in relayers)}]"]
    for admin in admins.values():
        lines += [
            "",
            "[[administrations]]",
            f'name = "{admin.name}"',
            f'country = "{admin.country}"',
            f'key = "{admin.address}"',
            f"valid_from = {now - 86_400}",
            f"valid_until = {now + 2 * 365 * 86_400}",
        ]
    return "\n".join(lines) + "\n"


def chain_now(net: Chain, node: int) -> int:
    """The timestamp of the latest block on ``node``."""
    return int(web3_for(net.rpc_url(node)).eth.get_block("latest")["timestamp"])


@dataclass
class Deployed:
    """What :func:`deploy_consortium` made: administrations, members (by key), the bootstrap
    file, the deployment and what ``ledger deploy`` printed."""

    admins: dict[str, Organisation]
    members: dict[str, Member]
    bootstrap: Path
    deployment: Deployment
    output: str


def deploy_consortium(net: Chain, root: Path, *, nodes: Sequence[int]) -> Deployed:
    """Australia, China and New Zealand (members on ``nodes``, each with a funded relayer of
    its own); the contracts deployed from Australia's node with ``ledger deploy --bootstrap``
    and the manifest handed to the other members."""
    admins = {
        "au": Organisation("Australian Border Force", "customs", "AU"),
        "cn": Organisation("General Administration of Customs of China", "customs", "CN"),
        "nz": Organisation("New Zealand Customs Service", "customs", "NZ"),
    }
    members = {
        key: Member(
            admin=admin,
            relayer_key="0x" + bytes(Account.create().key).hex(),
            data_dir=root / f"member-{key}",
            node=node,
        )
        for (key, admin), node in zip(admins.items(), nodes, strict=True)
    }
    for member in members.values():
        member.data_dir.mkdir()
    fund(net, [m.relayer_address for m in members.values()])
    a = members["au"]
    bootstrap = root / "bootstrap.toml"
    bootstrap.write_text(
        bootstrap_toml(
            admins, [m.relayer_address for m in members.values()], chain_now(net, a.node)
        )
    )
    done = run_ledger(
        [
            "deploy",
            "--rpc",
            net.rpc_url(a.node),
            "--chain-id",
            str(net.chain_id),
            "--bootstrap",
            str(bootstrap),
            "--data-dir",
            str(a.data_dir),
        ],
        cwd=a.data_dir,
        env=clean_env(LEDGER_RELAYER_KEY=a.relayer_key),
        timeout=600,
    )
    assert done.returncode == 0, f"ledger deploy failed:\n{done.stdout}\n{done.stderr}"
    manifest = manifest_path(a.data_dir, net.chain_id)
    # The manifest is handed to the other members (README: "give that manifest to the
    # other members").
    for member in members.values():
        if member is not a:
            target = manifest_path(member.data_dir, net.chain_id)
            target.parent.mkdir(parents=True)
            shutil.copyfile(manifest, target)
    return Deployed(admins, members, bootstrap, Deployment.load(manifest), done.stdout)


def admission(org: Organisation, *, now: int) -> Proposal:
    return Proposal(
        action=ProposalAction.ADMIT_MEMBER,
        org_id=org.org_id,
        kind=KIND_CODES[org.kind],
        country=org.country.encode("ascii"),
        account=org.address,
        valid_from=now - 60 * 86_400,  # covers journeys that began before the admission
        valid_until=now + 365 * 86_400,
        expires_at=now + 7 * 86_400,
        salt=org.org_id,
    )


def admit(
    orgs: Sequence[Organisation],
    *,
    proposer: Organisation,
    via_proposer: GatewayClient,
    approver: Organisation,
    via_approver: GatewayClient,
    now: int,
) -> dict[str, tuple[Proposal, dict[str, str]]]:
    """Admit ``orgs`` by governance: ``proposer`` proposes through its gateway, ``approver``
    approves and executes through its own, each signing with its own key. Per organisation
    name: the proposal and the record ids of the three steps."""
    proposals = {org.name: admission(org, now=now) for org in orgs}
    proposed = {
        name: via_proposer.sign_and_submit(
            p, proposer.private_key, idempotency_key=f"propose {name}"
        )
        for name, p in proposals.items()
    }
    wait_records(via_proposer, [v.record_id for v in proposed.values()], timeout=180)
    approved = {
        name: via_approver.sign_and_submit(
            Approval(proposal_id=p.proposal_id),
            approver.private_key,
            idempotency_key=f"approve {name}",
        )
        for name, p in proposals.items()
    }
    wait_records(via_approver, [v.record_id for v in approved.values()], timeout=180)
    executed = {
        name: via_approver.execute(p, idempotency_key=f"execute {name}")
        for name, p in proposals.items()
    }
    wait_records(via_approver, [v.record_id for v in executed.values()], timeout=180)
    return {
        name: (
            proposal,
            {
                "propose": proposed[name].record_id,
                "approve": approved[name].record_id,
                "execute": executed[name].record_id,
            },
        )
        for name, proposal in proposals.items()
    }
