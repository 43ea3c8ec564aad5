"""Two members, each with its own gateway, index, relayer account and node: Australia's
gateway (A) on signer node 0, China's (B) on signer node 1.

* Governance across members: the carrier and the forwarder were admitted with the proposal
  sent through A and the approval and execution through B (the ``parties`` fixture); a key of
  the forwarder is rotated with the proposal through B and the approval through A.
* A carrier's records written through A are confirmed there, indexed by B from its own node,
  and verified by Chinese customs through B; the proof bundle exported from A verifies
  against a third node with ``ledger verify-bundle``, no gateway involved, and a bundle with
  one altered event does not.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from gateway.errors import PermissionDenied
from ledger.records import (
    EXPORT_RELEASE_SCHEMA,
    Approval,
    Attestation,
    BusinessStep,
    ConsignmentEvent,
    ConsignmentRegistration,
    ContainerNumber,
    Disposition,
    KeyAddition,
    Locode,
    Proposal,
    ProposalAction,
    SchemaRegistration,
    SubjectType,
    consignment_id,
    reference_hash,
)
from tests.network.conftest import AU, CN, NZ, RPC_NODE, Parties
from tests.network.consortium import (
    attach,
    clean_env,
    hx,
    indexed_record_ids,
    register_consignment,
    run_ledger,
    wait_for,
    wait_records,
)

pytestmark = pytest.mark.network

DAY = 86_400


def sender_of(parties: Parties, node: int, tx_hash: str | None) -> str:
    assert tx_hash is not None
    tx = parties.consortium.net.rpc(node).call("eth_getTransactionByHash", tx_hash)
    return str(tx["from"]).lower()


def latest_time(parties: Parties, node: int) -> int:
    rpc = parties.consortium.net.rpc(node)
    return int(rpc.block(rpc.block_number())["timestamp"], 16)


def test_admission_proposed_through_a_approved_and_executed_through_b(parties: Parties) -> None:
    c = parties.consortium
    au, cn = c.admins["au"], c.admins["cn"]
    ledger = attach(c.net, NZ, c.deployment)  # a node neither gateway talks to
    with parties.client("au", "au") as via_a, parties.client("cn", "cn") as via_b:
        for org in (parties.carrier, parties.forwarder):
            proposal, records = parties.admissions[org.name]
            state = ledger.membership.proposal_state(proposal.proposal_id)
            assert state.executed
            assert state.approvals == 2
            assert ledger.membership.has_approved(proposal.proposal_id, au.org_id)
            assert ledger.membership.has_approved(proposal.proposal_id, cn.org_id)
            info = ledger.membership.key_info(org.address)
            assert (info.org_id, info.kind, info.country) == (org.org_id, 2, org.country)
            # Each step travelled in a transaction of the gateway it was sent through.
            proposed = via_a.get_record(records["propose"])
            approved = via_b.get_record(records["approve"])
            executed = via_b.get_record(records["execute"])
            assert sender_of(parties, NZ, proposed.tx_hash) == c.a.relayer_address.lower()
            assert sender_of(parties, NZ, approved.tx_hash) == c.b.relayer_address.lower()
            assert sender_of(parties, NZ, executed.tx_hash) == c.b.relayer_address.lower()
            assert proposed.block_number < approved.block_number < executed.block_number


def journey(ref: str, now: int, registrant: bytes) -> list[ConsignmentEvent]:
    """Melbourne to Shanghai in a sealed container: loading, departing, arriving, unloading
    (of ``ref`` as ``registrant`` registered it)."""
    cid = consignment_id(ref, registrant=registrant)
    container = ContainerNumber("CSQU3054383").to_bytes11()
    seal = bytes.fromhex(secrets.token_hex(32))
    start = now - 20 * DAY
    steps = [
        ("loading", "in_transit", "AUMEL", 0),
        ("departing", "in_transit", "AUMEL", 3600),
        ("arriving", "in_transit", "CNSHA", 12 * DAY),
        ("unloading", "in_progress", "CNSHA", 12 * DAY + 3600),
    ]
    return [
        ConsignmentEvent(
            consignment_id=cid,
            biz_step=BusinessStep(step).code,
            disposition=Disposition(disposition).code,
            location=Locode(where).to_bytes5(),
            event_time=start + offset,
            container=container,
            seal_digest=seal,
            nonce=secrets.randbits(30),
            deadline=now + DAY,
        )
        for step, disposition, where, offset in steps
    ]


@pytest.fixture(scope="module")
def shipment(parties: Parties) -> dict[str, Any]:
    """A consignment and its journey, written by the carrier through gateway A."""
    ref = f"AU-UCR-NET-{secrets.token_hex(4).upper()}"
    au = parties.consortium.admins["au"]
    with parties.client("au", "carrier") as carrier_a, parties.client("au", "au") as au_a:
        register_consignment(carrier_a, parties.carrier, ref=ref, origin="AU", destination="CN")
        now = latest_time(parties, AU)
        views = [
            carrier_a.sign_and_submit(event, parties.carrier.private_key)
            for event in journey(ref, now, parties.carrier.org_id)
        ]
        # Australian customs releases the goods for export (the attestation China requires).
        schema = SchemaRegistration(definition=EXPORT_RELEASE_SCHEMA, deadline=now + 3600)
        registered = au_a.sign_and_submit(schema, au.private_key)
        wait_records(au_a, [registered.record_id], timeout=180)
        release = Attestation(
            schema_id=schema.schema_id,
            subject_type=SubjectType.CONSIGNMENT,
            subject_id=consignment_id(ref, registrant=parties.carrier.org_id),
            data_digest=keccak(text=f"export declaration for {ref}"),
            deadline=now + 3600,
        )
        released = au_a.sign_and_submit(release, au.private_key)
        wait_records(au_a, [released.record_id], timeout=180)
        confirmed = wait_records(carrier_a, [v.record_id for v in views], timeout=180)
    return {
        "ref": ref,
        "record_ids": [v.record_id for v in views],
        "confirmed": confirmed,
        "release_subject": hx(release.subject_id),
    }


def test_records_written_through_a_are_indexed_by_b(
    parties: Parties, shipment: dict[str, Any]
) -> None:
    c = parties.consortium
    ref, record_ids = shipment["ref"], shipment["record_ids"]
    ledger = attach(c.net, RPC_NODE, c.deployment)
    # Confirmed at A: each record's block is on the chain as the RPC node sees it.
    for view in shipment["confirmed"].values():
        assert view.block_number is not None
        assert hx(bytes(ledger.w3.eth.get_block(view.block_number)["hash"])) == view.block_hash
    with parties.client("cn", "carrier") as carrier_b:
        wait_for(
            "B's index to hold the journey",
            lambda: indexed_record_ids(carrier_b, ref) == (record_ids, True),
            timeout=120,
        )
        consignment = carrier_b.consignment(ref)
    head, count = ledger.consignments.head(consignment_id(ref, registrant=parties.carrier.org_id))
    assert count == 4
    assert (consignment.event_count, consignment.head) == (count, hx(head))


def verify(member_url: str, api_key: str, claim: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        member_url + "/verify",
        json=claim,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_chinese_customs_verify_through_b(parties: Parties, shipment: dict[str, Any]) -> None:
    c = parties.consortium
    key = parties.keys[("cn", "cn")]
    with parties.client("cn", "carrier") as carrier_b:
        wait_for(
            "B's index to hold the journey",
            lambda: indexed_record_ids(carrier_b, shipment["ref"])[1],
            timeout=120,
        )
        # The export release may sit in a later block than the last event: B's index must
        # hold it too before China's customs verify through B.
        wait_for(
            "B's index to hold the export release",
            lambda: len(carrier_b.attestations(shipment["release_subject"]).items) > 0,
            timeout=120,
        )
    verdict = verify(c.b.url, key, {"consignment_ref": shipment["ref"], "origin": "AU"})
    assert verdict["status"] == "verified", json.dumps(verdict, indent=1)[:6000]
    assert verdict["findings"] == []
    # The same journey presented as goods of New Zealand origin is not.
    laundered = verify(c.b.url, key, {"consignment_ref": shipment["ref"], "origin": "NZ"})
    assert laundered["status"] != "verified", json.dumps(laundered, indent=1)[:4000]


def test_bundle_from_a_verifies_against_another_node_without_a_gateway(
    parties: Parties, shipment: dict[str, Any], tmp_path: Path
) -> None:
    c = parties.consortium
    response = httpx.get(
        c.a.url + "/verify/bundle",
        params={"consignment_ref": shipment["ref"]},
        headers={"Authorization": f"Bearer {parties.keys[('au', 'au')]}"},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    bundle = response.json()
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    for node in (RPC_NODE, NZ):
        done = run_ledger(
            ["verify-bundle", str(path), "--rpc", c.net.rpc_url(node), "--json"],
            cwd=tmp_path,
            env=clean_env(LEDGER_DATA_DIR=str(tmp_path / "empty")),
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["status"] == "verified"
    # One event moved to another port: the node's logs give it away.
    tampered = json.loads(json.dumps(bundle))
    flipped = _alter_one_event(tampered)
    assert flipped, "no event found to alter in the bundle"
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    done = run_ledger(
        ["verify-bundle", str(bad), "--rpc", c.net.rpc_url(RPC_NODE), "--json"],
        cwd=tmp_path,
        env=clean_env(LEDGER_DATA_DIR=str(tmp_path / "empty")),
    )
    assert done.returncode == 4, done.stdout + done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["status"] == "failed"
    assert "BUNDLE_RECORD_MISMATCH" in {f["code"] for f in verdict["findings"]}


def _alter_one_event(bundle: dict[str, Any]) -> bool:
    for entry in bundle["logs"]:
        if entry["event"] == "ConsignmentEventRecorded":
            fields = entry["record"]["fields"]
            fields["location"] = "NZAKL" if fields["location"] != "NZAKL" else "AUMEL"
            return True
    return False


def test_key_rotation_proposed_through_b_approved_through_a(parties: Parties) -> None:
    """The forwarder registers a new key (signed with its old one, through B); China proposes
    to revoke the old key through B, Australia approves and executes through A. Afterwards the
    old key is refused by both gateways and the chain, and the new key writes."""
    c = parties.consortium
    au, cn = c.admins["au"], c.admins["cn"]
    old = parties.forwarder
    new_key = "0x" + bytes(Account.create().key).hex()
    new_address = str(Account.from_key(new_key).address)
    now = latest_time(parties, CN)
    with (
        parties.client("cn", "forwarder") as forwarder_b,
        parties.client("au", "forwarder") as forwarder_a,
        parties.client("cn", "cn") as cn_b,
        parties.client("au", "au") as au_a,
    ):
        added = forwarder_b.sign_and_submit(
            KeyAddition(
                org_id=old.org_id,
                key=new_address,
                valid_from=now - 60 * DAY,
                valid_until=now + 365 * DAY,
            ),
            old.private_key,
        )
        wait_records(forwarder_b, [added.record_id], timeout=180)
        revoke = Proposal(
            action=ProposalAction.REVOKE_KEY,
            account=old.address,
            expires_at=now + 7 * DAY,
            salt=bytes.fromhex(secrets.token_hex(32)),
        )
        proposed = cn_b.sign_and_submit(revoke, cn.private_key)
        proposed = wait_records(cn_b, [proposed.record_id], timeout=180)[proposed.record_id]
        approved = au_a.sign_and_submit(Approval(proposal_id=revoke.proposal_id), au.private_key)
        approved = wait_records(au_a, [approved.record_id], timeout=180)[approved.record_id]
        executed = au_a.execute(revoke)
        wait_records(au_a, [executed.record_id], timeout=180)

        ledger = attach(c.net, RPC_NODE, c.deployment)
        assert ledger.membership.key_info(old.address).revoked_at != 0
        assert ledger.membership.key_info(new_address).org_id == old.org_id
        assert sender_of(parties, RPC_NODE, proposed.tx_hash) == c.b.relayer_address.lower()
        assert sender_of(parties, RPC_NODE, approved.tx_hash) == c.a.relayer_address.lower()

        # The old key is refused at the door of either gateway; the new one is taken.
        ref = f"NZ-FWD-{secrets.token_hex(4).upper()}"
        registration_old = _registration(ref, deadline=now + 3600)
        for client in (forwarder_a, forwarder_b):
            with pytest.raises(PermissionDenied) as refused:
                client.sign_and_submit(registration_old, old.private_key)
            assert refused.value.code == "KeyRevoked", refused.value
        view = forwarder_a.sign_and_submit(registration_old, new_key)
        wait_records(forwarder_a, [view.record_id], timeout=180)
        assert ledger.consignments.exists(consignment_id(ref, registrant=old.org_id))


def _registration(ref: str, *, deadline: int) -> ConsignmentRegistration:
    return ConsignmentRegistration(
        reference_hash=reference_hash(ref), origin=b"NZ", destination=b"AU", deadline=deadline
    )
