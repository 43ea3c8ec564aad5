"""``ledger up`` as a newcomer runs it: node, deployment, demo data and gateway; Ctrl-C
stops everything; a second run finds the same chain and deployment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from web3 import Web3

from ledger.chain import AnvilNode, Ledger, TxManager, deploy_suite, rpc_call
from ledger.stack import (
    DEMO_FILE,
    DEMO_PARTIES,
    SEEDING_FILE,
    bootstrap_for,
    demo_complete,
    seed_if_new,
)
from tests.conftest import free_port


def _wait_http(url: str, timeout: float = 90) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bytes(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _epcis_demo_codes(port: int, api_key: str, reference: str, timeout: float = 60) -> set[str]:
    """The finding codes of the EPCIS demo's suspect consignment, once the index has it."""
    deadline = time.monotonic() + timeout
    codes: set[str] = set()
    while time.monotonic() < deadline:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/verify",
            data=json.dumps({"consignment_ref": reference}).encode(),
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                verdict = json.loads(response.read())
            codes = {f["code"] for f in verdict["findings"]}
            if "DUPLICATE_CONTAINER" in codes:
                return codes
        except OSError:
            pass
        time.sleep(0.5)
    return codes


def _start(
    data: Path,
    node_port: int,
    gateway_port: int,
    log: Path,
    *options: str,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    try:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway.cli",
                "up",
                "--data-dir",
                str(data),
                "--node-port",
                str(node_port),
                "--gateway-port",
                str(gateway_port),
                *options,
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=data.parent,
            env=env,
        )
    finally:
        handle.close()


def _stop(proc: subprocess.Popen[bytes], sig: int) -> int:
    proc.send_signal(sig)
    return proc.wait(timeout=30)


def _anvil_alive(port: int) -> bool:
    try:
        rpc_call(f"http://127.0.0.1:{port}", "eth_chainId", timeout=1)
    except OSError:
        return False
    return True


def _iso(seconds_ago: int) -> str:
    return datetime.fromtimestamp(time.time() - seconds_ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _code_lists_and_scopes_are_enforced(
    base: str, keys: dict[str, Any], demo: dict[str, Any]
) -> None:
    """On a plain `ledger up` (no code-list setting): unlisted places and HS codes are 422,
    a 10-minute Adelaide -> Shanghai voyage is IMPOSSIBLE_TRAVEL, and the demo keys carry
    only their kinds' scopes."""

    def key(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[name]['api_key']}"}

    carrier, chamber = "Oceanic Container Line", "Australian Chamber of Commerce and Industry"
    ref = demo["consignment"]["ref"]
    event = {"consignment_ref": ref, "container": "CSQU3054383", "disposition": "in_transit"}
    with httpx.Client(base_url=base, timeout=30) as http:
        bad_place = http.post(
            "/events",
            json={**event, "biz_step": "departing", "location": "AUZZZ", "event_time": _iso(3600)},
            headers=key(carrier),
        )
        assert bad_place.status_code == 422, bad_place.text
        assert bad_place.json()["error"]["field"] == "location"
        certificate = {
            "certificate_number": "CHAFTA-AU-TEST-1",
            "exporter": keys["Barossa Valley Wine Exports"]["org_id"],
            "origin": "AU",
            "destination": "CN",
            "document_digest": "0x" + "d0" * 32,
            "hs_codes": ["2204.99"],
            "quantity": {"amount": "100", "unit": "LTR"},
            "valid_from": _iso(3600),
            "valid_until": _iso(-365 * 86400),
        }
        bad_hs = http.post("/certificates", json=certificate, headers=key(chamber))
        assert bad_hs.status_code == 422, bad_hs.text
        assert bad_hs.json()["error"]["field"] == "hs_codes.0"
        # least privilege: a carrier's demo key cannot write AEO records
        aeo = {
            "action": "suspend",
            "operator_id": keys["Barossa Valley Wine Exports"]["org_id"],
            "programme": "AEOF",
        }
        refused = http.post("/aeo/actions", json=aeo, headers=key(carrier))
        assert refused.status_code == 403, refused.text
        assert "aeo:write" in refused.text

        ids = []
        for step, where, ago in (("departing", "AUADL", 3600), ("arriving", "CNSGH", 3000)):
            answer = http.post(
                "/events",
                json={**event, "biz_step": step, "location": where, "event_time": _iso(ago)},
                headers=key(carrier),
            )
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["record_id"])
        customs = key("General Administration of Customs of China")
        deadline = time.monotonic() + 90
        codes: list[str] = []
        while time.monotonic() < deadline:
            statuses = [http.get(f"/records/{rid}", headers=key(carrier)).json() for rid in ids]
            if all(s.get("status") == "confirmed" for s in statuses):
                verdict = http.post(
                    "/verify", json={"consignment_ref": ref, "origin": "AU"}, headers=customs
                ).json()
                codes = [f["code"] for f in verdict.get("findings", [])]
                if "IMPOSSIBLE_TRAVEL" in codes:
                    break
            time.sleep(1)
        assert "IMPOSSIBLE_TRAVEL" in codes, codes


@pytest.mark.slow
def test_up_serves_then_stops_cleanly_and_restarts_on_the_same_chain(tmp_path: Path) -> None:
    data = tmp_path / "data"
    node_port, gateway_port = free_port(), free_port()
    log = tmp_path / "up.log"
    proc = _start(data, node_port, gateway_port, log)
    try:
        health = json.loads(_wait_http(f"http://127.0.0.1:{gateway_port}/healthz"))
        assert health["status"] == "ok"
        assert int(rpc_call(f"http://127.0.0.1:{node_port}", "eth_chainId"), 16) == 31337
        manifest = json.loads((data / "deployments" / "31337.json").read_text())
        keys = json.loads((data / "demo-api-keys.json").read_text())
        assert len(keys) == 5
        assert all(k["api_key"].startswith("clk_") for k in keys.values())
        demo = json.loads((data / "demo.json").read_text())
        _code_lists_and_scopes_are_enforced(f"http://127.0.0.1:{gateway_port}", keys, demo)
        height = int(rpc_call(f"http://127.0.0.1:{node_port}", "eth_blockNumber"), 16)
        customs = next(v["api_key"] for k, v in keys.items() if "China" in k)
        codes = _epcis_demo_codes(gateway_port, customs, demo["epcis"]["suspect_consignment"])
        assert {"CLONED_SERIAL", "SERIAL_NOT_COMMISSIONED", "DUPLICATE_CONTAINER"} <= codes
    finally:
        code = _stop(proc, signal.SIGINT)
    assert code == 0, log.read_text()
    assert not _anvil_alive(node_port), "Ctrl-C left anvil running"
    output = log.read_text()
    assert "Customs ledger is up." in output
    assert "deployed now" in output
    assert "Traceback" not in output

    proc = _start(data, node_port, gateway_port, log)
    try:
        _wait_http(f"http://127.0.0.1:{gateway_port}/healthz")
        assert int(rpc_call(f"http://127.0.0.1:{node_port}", "eth_blockNumber"), 16) >= height
        again = json.loads((data / "deployments" / "31337.json").read_text())
        assert again == manifest
        code_at = rpc_call(
            f"http://127.0.0.1:{node_port}",
            "eth_getCode",
            [manifest["contracts"]["Consignments"]["address"], "latest"],
        )
        assert len(code_at) > 2
    finally:
        code = _stop(proc, signal.SIGTERM)
    assert code == 0
    assert not _anvil_alive(node_port)
    second = log.read_text()[len(output) :]
    assert "re-used at block" in second
    assert demo["consignment"]["ref"] in second
    assert os.stat(data / "demo-api-keys.json").st_mode & 0o077 == 0


BOOTSTRAP = """
threshold = 1
relayers = ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"]

[[administrations]]
name = "Australian Border Force"
country = "AU"
key = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
valid_from = "2026-01-01T00:00:00Z"
valid_until = "2031-01-01T00:00:00Z"
"""


@pytest.mark.slow
def test_up_on_a_network_deploys_with_a_bootstrap_then_reuses_without(tmp_path: Path) -> None:
    """``ledger up --rpc URL --bootstrap FILE`` on a chain that is not the local development
    chain (an anvil with its own chain id), then ``ledger up --rpc URL`` re-uses it."""
    data = tmp_path / "data"
    bootstrap = tmp_path / "bootstrap.toml"
    bootstrap.write_text(BOOTSTRAP)
    gateway_port = free_port()
    log = tmp_path / "up.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_KEYSTORE_SECRET"] = "a secret for this test network"
    with AnvilNode(port=free_port(), chain_id=4242, free_gas=True) as network:
        options = ("--rpc", network.rpc_url, "--chain-id", "4242")
        proc = _start(
            data, free_port(), gateway_port, log, *options, "--bootstrap", str(bootstrap), env=env
        )
        try:
            _wait_http(f"http://127.0.0.1:{gateway_port}/healthz")
            manifest = json.loads((data / "deployments" / "4242.json").read_text())
        finally:
            code = _stop(proc, signal.SIGINT)
        first = log.read_text()
        assert code == 0, first
        assert "deployed now" in first
        assert "  demo " not in first, "no demo data on a network"
        assert "API keys" not in first
        assert not (data / DEMO_FILE).exists()
        height = rpc_call(network.rpc_url, "eth_blockNumber")

        proc = _start(data, free_port(), gateway_port, log, *options, env=env)
        try:
            _wait_http(f"http://127.0.0.1:{gateway_port}/healthz")
        finally:
            code = _stop(proc, signal.SIGTERM)
        second = log.read_text()[len(first) :]
        assert code == 0, second
        assert "re-used at block" in second
        assert rpc_call(network.rpc_url, "eth_blockNumber") == height, "re-use sends no transaction"
        assert json.loads((data / "deployments" / "4242.json").read_text()) == manifest


# ------------------------------------------------------------------------------------------
# The demo data: seeded once per deployment, completed after an interruption
# ------------------------------------------------------------------------------------------


def _fresh_ledger(w3: Web3, tx: TxManager) -> Ledger:
    now = int(w3.eth.get_block("latest")["timestamp"])
    bootstrap = bootstrap_for(DEMO_PARTIES, relayers=[tx.address], now=now)
    return Ledger(w3, deploy_suite(w3, tx, bootstrap), tx=tx)


def _interrupt_after(
    monkeypatch: pytest.MonkeyPatch, client: object, method: str, calls: int
) -> None:
    """Make ``client.method`` raise KeyboardInterrupt (Ctrl-C) right after its n-th call has
    been mined: the chain has moved on, the seeding process has not noticed."""
    real = getattr(client, method)
    seen = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal seen
        result = real(*args, **kwargs)
        seen += 1
        if seen == calls:
            raise KeyboardInterrupt
        return result

    monkeypatch.setattr(client, method, wrapper)


@pytest.mark.parametrize(
    ("client", "method", "calls"),
    [
        ("membership", "propose", 2),  # the exporter's admission proposed, not approved
        ("membership", "approve", 1),  # the carrier's admission approved, not executed
        ("aeo", "propose_mra", 1),  # the MRA proposed, not accepted
        ("certificates", "issue", 1),  # the certificate issued, no consignment yet
        ("consignments", "post_event", 3),  # three of the five events recorded
        ("attestations", "attest", 1),  # everything on chain, demo.json not written
    ],
)
def test_interrupted_demo_seeding_is_completed_by_the_next_run(
    w3: Web3,
    relayer_tx: TxManager,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    client: str,
    method: str,
    calls: int,
) -> None:
    ledger = _fresh_ledger(w3, relayer_tx)
    with monkeypatch.context() as patch:
        _interrupt_after(patch, getattr(ledger, client), method, calls)
        with pytest.raises(KeyboardInterrupt):
            seed_if_new(ledger, data_dir=tmp_path)
    assert not (tmp_path / DEMO_FILE).exists(), "an interrupted seeding is not complete"
    assert not demo_complete(ledger, data_dir=tmp_path)
    anchor = json.loads((tmp_path / SEEDING_FILE).read_text())["anchor"]

    world = seed_if_new(ledger, data_dir=tmp_path)

    assert world is not None
    assert world.consignment_ref == f"AU-UCR-{anchor}-0001", "the interrupted demo, not a new one"
    assert world.certificate_number == f"CHAFTA-AU-{anchor}"
    for party in DEMO_PARTIES:
        assert ledger.membership.organisation(party.org_id).registered, party.name
    assert ledger.membership.organisation_count() == len(DEMO_PARTIES)
    assert ledger.consignments.consignment(world.consignment_id).event_count == 5
    assert ledger.certificates.drawn_for(world.certificate_id, world.consignment_id) == 4500
    assert ledger.certificates.remaining(world.certificate_id) == 4500
    au, cn, exporter = (world.parties[k] for k in ("au", "cn", "exporter"))
    assert len(ledger.aeo.mras_between(au.org_id, cn.org_id)) == 1
    now = int(w3.eth.get_block("latest")["timestamp"])
    assert ledger.aeo.recognition(exporter.org_id, cn.org_id, now).recognised
    assert all(ledger.attestations.is_valid(uid) for uid in world.attestation_uids)

    done = json.loads((tmp_path / DEMO_FILE).read_text())
    assert done["consignment"]["ref"] == world.consignment_ref
    assert done["deployment"]["membership"] == ledger.deployment.address("Membership")
    assert not (tmp_path / SEEDING_FILE).exists()
    height = w3.eth.block_number
    assert seed_if_new(ledger, data_dir=tmp_path) is None
    assert w3.eth.block_number == height, "a complete demo is not seeded again"


def test_demo_of_another_deployment_does_not_count(
    w3: Web3, relayer_tx: TxManager, tmp_path: Path
) -> None:
    first = _fresh_ledger(w3, relayer_tx)
    assert seed_if_new(first, data_dir=tmp_path) is not None
    assert demo_complete(first, data_dir=tmp_path)
    second = _fresh_ledger(w3, relayer_tx)  # e.g. `ledger deploy --fresh`
    assert not demo_complete(second, data_dir=tmp_path)
    world = seed_if_new(second, data_dir=tmp_path)
    assert world is not None
    assert second.consignments.consignment(world.consignment_id).event_count == 5
    done = json.loads((tmp_path / DEMO_FILE).read_text())
    assert done["deployment"]["membership"] == second.deployment.address("Membership")
