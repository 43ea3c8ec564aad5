"""Governance over HTTP without computing EIP-712 hashes: a custodial proposal answers with
its id and the message the gateway completed (salt, expiry), the proposal can be read back,
approved by that id and executed by that id."""

from __future__ import annotations

import httpx
from eth_account import Account

from gateway.auth import IssuedKey, KeyStore, Scope
from ledger.chain import Ledger
from ledger.records import Proposal
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import DAY, chain_now
from tests.gateway.conftest import auth, org_hex
from tests.gateway.writes.test_chain_relay import wait_final


def _propose_relayer(client: httpx.Client, key: IssuedKey, ledger: Ledger) -> dict[str, object]:
    """A custodial add_relayer proposal with no salt and no expiry: the gateway picks them."""
    now = chain_now(ledger)
    body = {"action": "add_relayer", "account": Account.create().address}
    response = client.post("/governance/proposals", json=body, headers=auth(key))
    assert response.status_code == 202, response.text
    view = response.json()
    rid = view["record_id"]
    assert wait_final(client, key, [rid])[rid]["status"] == "confirmed"
    message = view["proposal"]
    assert message["salt"] != "0x" + "00" * 32
    assert now < message["expiresAt"] <= now + 8 * DAY
    return view


def test_a_proposal_is_read_approved_and_executed_by_the_id_it_answered_with(
    chain_client: httpx.Client, party_keys: dict[str, IssuedKey], ledger: Ledger
) -> None:
    au, cn = party_keys["au"], party_keys["cn"]
    view = _propose_relayer(chain_client, au, ledger)
    proposal_id = view["proposal_id"]
    # the id is the message's struct hash, the one the contract knows
    assert proposal_id == "0x" + Proposal.from_message(view["proposal"]).proposal_id.hex()
    assert ledger.membership.proposal_state(bytes.fromhex(proposal_id[2:])).approvals == 1

    read = chain_client.get(f"/governance/proposals/{proposal_id}", headers=auth(cn))
    assert read.status_code == 200, read.text
    shown = read.json()
    assert shown["action"] == "add_relayer"
    assert shown["proposer"] == au.record.org_id
    assert shown["message"] == view["proposal"]
    assert (shown["approvals"], shown["threshold"]) == (1, ledger.membership.threshold())
    assert shown["state"] == ("open" if shown["threshold"] > 1 else "approved")

    approved = chain_client.post(
        "/governance/approvals", json={"proposal_id": proposal_id}, headers=auth(cn)
    )
    assert approved.status_code == 202, approved.text
    assert approved.json()["proposal_id"] == proposal_id
    rid = approved.json()["record_id"]
    assert wait_final(chain_client, cn, [rid])[rid]["status"] == "confirmed"
    assert (
        chain_client.get(f"/governance/proposals/{proposal_id}", headers=auth(cn)).json()["state"]
        == "approved"
    )

    executed = chain_client.post(
        "/governance/executions", json={"proposal_id": proposal_id}, headers=auth(au)
    )
    assert executed.status_code == 202, executed.text
    rid = executed.json()["record_id"]
    assert wait_final(chain_client, au, [rid])[rid]["status"] == "confirmed"
    assert ledger.membership.proposal_state(bytes.fromhex(proposal_id[2:])).executed
    listed = chain_client.get("/governance/proposals?state=executed", headers=auth(cn))
    assert listed.status_code == 200, listed.text
    assert proposal_id in [p["proposal_id"] for p in listed.json()["items"]]
    open_ = chain_client.get("/governance/proposals?state=open", headers=auth(cn)).json()
    assert proposal_id not in [p["proposal_id"] for p in open_["items"]]


def test_an_unknown_proposal_is_404_to_read_and_to_execute(
    chain_client: httpx.Client, party_keys: dict[str, IssuedKey]
) -> None:
    unknown = "0x" + "9a" * 32
    au = party_keys["au"]
    read = chain_client.get(f"/governance/proposals/{unknown}", headers=auth(au))
    assert read.status_code == 404, read.text
    assert read.json()["error"]["code"] == "UnknownProposal"
    executed = chain_client.post(
        "/governance/executions", json={"proposal_id": unknown}, headers=auth(au)
    )
    assert executed.status_code == 404, executed.text


def test_an_execution_names_the_proposal_once(
    chain_client: httpx.Client, party_keys: dict[str, IssuedKey]
) -> None:
    au = party_keys["au"]
    for body in ({}, {"proposal_id": "0x" + "9a" * 32, "proposal": {"action": 7}}):
        response = chain_client.post("/governance/executions", json=body, headers=auth(au))
        assert response.status_code == 422, response.text


def test_reading_proposals_needs_the_read_scope(
    chain_client: httpx.Client, keys: KeyStore, world: DemoWorld
) -> None:
    cn = world.parties["cn"]
    writer = keys.issue(
        org_id=org_hex(cn), org_kind="customs", country=cn.country, scopes=[Scope.AEO_WRITE]
    )
    response = chain_client.get("/governance/proposals", headers=auth(writer))
    assert response.status_code == 403, response.text
    assert "'read'" in response.json()["error"]["message"]
