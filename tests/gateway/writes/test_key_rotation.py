"""Custodial key rotation is two-phase: ``replace`` stages a successor and the registered key
keeps signing (so it can register the successor) until the successor is registered on chain in
a final block; only then does the store switch to it."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from gateway.auth import IssuedKey, KeyStore
from gateway.client import GatewayClient
from gateway.services import GatewayServices
from gateway.writes.kinds import KIND_PATHS
from gateway.writes.outbox import RecordKind
from ledger.chain import Ledger
from ledger.records import Proposal, ProposalAction
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import DAY, chain_now, hx, iso
from tests.gateway.conftest import auth, org_hex, signing_key_store
from tests.gateway.writes.test_chain_relay import wait_final


def test_replace_keeps_the_registered_key_until_the_successor_is_confirmed(
    chain_client: httpx.Client,
    chain_services: GatewayServices,
    party_keys: dict[str, IssuedKey],
    keys: KeyStore,
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    carrier = world.parties["carrier"]
    org = org_hex(carrier)
    admin = keys.issue(org_id=org, org_kind="carrier", country=carrier.country, scopes=["admin"])
    org_admin = GatewayClient("http://testserver", admin.token, http=chain_client)
    staged = org_admin.add_signing_key(org_id=org, replace=True)
    assert staged.address != carrier.address
    assert staged.pending is True
    assert staged.replaces == carrier.address
    assert chain_services.chain is not None
    assert chain_services.chain.signing_keys is not None
    store = chain_services.chain.signing_keys
    # The registered key still signs, so the organisation can register its successor.
    assert store.account(org).address == carrier.address
    key = party_keys["carrier"]
    now = chain_now(ledger)
    response = chain_client.post(
        KIND_PATHS[RecordKind.KEY_ADDITION],
        json={"key": staged.address, "valid_from": iso(now), "valid_until": iso(now + 365 * DAY)},
        headers=auth(key),
    )
    assert response.status_code == 202, response.text
    rid = response.json()["record_id"]
    assert wait_final(chain_client, key, [rid])[rid]["status"] == "confirmed"
    # Registered and final: the successor now signs; the listing shows it, nothing pending.
    assert store.account(org).address == staged.address
    listed = {k.org_id: k for k in org_admin.list_signing_keys()}
    assert listed[org].address == staged.address
    assert listed[org].pending is False


def test_replace_of_a_key_never_registered_swaps_at_once(
    chain_client: httpx.Client, chain_services: GatewayServices
) -> None:
    """A stored key that is not registered on chain can sign nothing: replacing it loses no
    authority, so the new key is the organisation's key at once."""
    from tests.gateway.conftest import ADMIN_TOKEN

    operator = GatewayClient("http://testserver", ADMIN_TOKEN, http=chain_client)
    org = "0x" + "ef" * 32
    first = operator.add_signing_key(org_id=org)
    replacement = Account.create()
    swapped = operator.add_signing_key(org_id=org, private_key=replacement.key.hex(), replace=True)
    assert swapped.address == replacement.address != first.address
    assert swapped.pending is False
    assert chain_services.chain is not None
    assert chain_services.chain.signing_keys is not None
    assert chain_services.chain.signing_keys.account(org).address == replacement.address


def _proposal_body(action: str, org: str, account: str, now: int, salt: str) -> dict[str, Any]:
    return {
        "action": action,
        "org_id": org,
        "account": account,
        "valid_from": iso(now),
        "valid_until": iso(now + 365 * DAY),
        "expires_at": iso(now + DAY),
        "salt": salt,
    }


def test_governance_key_actions_through_the_gateway(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """AU proposes to replace the carrier's key, CN approves, AU executes: the old key is
    revoked and the new one registered, each step a custodial record through the relayer."""
    carrier = world.parties["carrier"]
    fresh = Account.create()
    now = chain_now(ledger)
    salt = "0x" + secrets.token_hex(32)
    body = {
        **_proposal_body("replace_key", org_hex(carrier), fresh.address, now, salt),
        "replaces": carrier.address,
    }
    au, cn = party_keys["au"], party_keys["cn"]
    proposed = chain_client.post("/governance/proposals", json=body, headers=auth(au))
    assert proposed.status_code == 202, proposed.text
    rid = proposed.json()["record_id"]
    assert wait_final(chain_client, au, [rid])[rid]["status"] == "confirmed"
    proposal = Proposal(
        action=ProposalAction.REPLACE_KEY,
        org_id=carrier.org_id,
        account=fresh.address,
        valid_from=now,
        valid_until=now + 365 * DAY,
        expires_at=now + DAY,
        salt=bytes.fromhex(salt[2:]),
        subject=Proposal.key_subject(carrier.address),
    )
    assert ledger.membership.proposal_state(proposal.proposal_id).approvals == 1
    approved = chain_client.post(
        "/governance/approvals", json={"proposal_id": hx(proposal.proposal_id)}, headers=auth(cn)
    )
    assert approved.status_code == 202, approved.text
    rid = approved.json()["record_id"]
    assert wait_final(chain_client, cn, [rid])[rid]["status"] == "confirmed"
    executed = chain_client.post(
        "/governance/executions", json={"proposal": proposal.json_message()}, headers=auth(au)
    )
    assert executed.status_code == 202, executed.text
    rid = executed.json()["record_id"]
    assert wait_final(chain_client, au, [rid])[rid]["status"] == "confirmed"
    assert ledger.membership.key_info(carrier.address).revoked_at != 0
    assert ledger.membership.key_info(fresh.address).org_id == carrier.org_id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"account": None}, "account"),
        ({"action": "replace_key"}, "replaces"),
        ({"replaces": "0x" + "11" * 20}, "replaces"),
        ({"action": "revoke_certificate"}, "certificate_id"),
        ({"action": "revoke_aeo_certification"}, "certification_id"),
        ({"certification_id": "0x" + "22" * 32}, "certification_id"),
    ],
)
def test_governance_key_actions_refuse_malformed_proposals(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
    change: dict[str, Any],
    field: str,
) -> None:
    now = chain_now(ledger)
    body = _proposal_body(
        "add_key",
        org_hex(world.parties["carrier"]),
        Account.create().address,
        now,
        "0x" + "00" * 32,
    )
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    response = chain_client.post("/governance/proposals", json=body, headers=auth(party_keys["au"]))
    assert response.status_code == 422, response.text
    assert field in response.text


def test_governance_key_actions_refuse_wrong_role(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    now = chain_now(ledger)
    body = _proposal_body(
        "add_key",
        org_hex(world.parties["carrier"]),
        Account.create().address,
        now,
        "0x" + secrets.token_hex(32),
    )
    response = chain_client.post(
        "/governance/proposals", json=body, headers=auth(party_keys["carrier"])
    )
    assert response.status_code == 403, response.text


def _govern_through_gateway(
    client: httpx.Client, keys: dict[str, IssuedKey], body: dict[str, Any], proposal: Proposal
) -> None:
    """AU proposes ``body`` (whose record is ``proposal``), CN approves, AU executes."""
    au, cn = keys["au"], keys["cn"]
    steps = [
        ("/governance/proposals", body, au),
        ("/governance/approvals", {"proposal_id": hx(proposal.proposal_id)}, cn),
        ("/governance/executions", {"proposal": proposal.json_message()}, au),
    ]
    for path, payload, key in steps:
        response = client.post(path, json=payload, headers=auth(key))
        assert response.status_code == 202, response.text
        rid = response.json()["record_id"]
        assert wait_final(client, key, [rid])[rid]["status"] == "confirmed", path


def test_governance_revokes_a_suspended_issuers_certificate(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    chamber = world.parties["chamber"]
    now = chain_now(ledger)
    salt = "0x" + secrets.token_hex(32)
    suspend = Proposal(
        action=ProposalAction.SUSPEND_MEMBER,
        org_id=chamber.org_id,
        expires_at=now + DAY,
        salt=bytes.fromhex(salt[2:]),
    )
    _govern_through_gateway(
        chain_client,
        party_keys,
        {
            "action": "suspend_member",
            "org_id": org_hex(chamber),
            "expires_at": iso(now + DAY),
            "salt": salt,
        },
        suspend,
    )
    # The suspended chamber cannot revoke its certificate itself.
    refused = chain_client.post(
        KIND_PATHS[RecordKind.CERTIFICATE_REVOKE],
        json={"certificate_number": world.certificate_number},
        headers=auth(party_keys["chamber"]),
    )
    assert refused.status_code == 403, refused.text
    salt = "0x" + secrets.token_hex(32)
    revoke = Proposal(
        action=ProposalAction.REVOKE_RECORD,
        org_id=chamber.org_id,
        account=ledger.certificates.address,
        expires_at=now + DAY,
        salt=bytes.fromhex(salt[2:]),
        subject=world.certificate_id,
    )
    _govern_through_gateway(
        chain_client,
        party_keys,
        {
            "action": "revoke_certificate",
            "org_id": org_hex(chamber),
            "certificate_id": hx(world.certificate_id),
            "expires_at": iso(now + DAY),
            "salt": salt,
        },
        revoke,
    )
    assert ledger.certificates.certificate(world.certificate_id).status == 2


class _Registry:
    """A chain that knows the current key, and the successor once ``confirm`` is set; or that
    cannot be asked at all (``down``)."""

    def __init__(self, current: str) -> None:
        self.current = current
        self.confirm = False
        self.down = False

    def registered(self, org_id: str, address: str) -> bool:
        if self.down:
            raise ConnectionError("node unreachable")
        return address == self.current

    def confirmed(self, org_id: str, address: str) -> bool:
        if self.down:
            raise ConnectionError("node unreachable")
        return self.confirm


def test_rotation_keeps_the_registered_key_while_the_chain_cannot_be_asked(tmp_path: Path) -> None:
    store = signing_key_store(tmp_path / "keys")
    org = "0x" + "ab" * 32
    current = store.add(org)
    registry = _Registry(current.address)
    store.registry = registry
    registry.down = True
    staged = store.add(org, replace=True)  # unknown whether registered: the safe side, staged
    assert staged.pending
    assert store.account(org).address == current.address  # no promotion while unreachable
    registry.down = False
    assert store.account(org).address == current.address  # reachable, not registered yet
    registry.confirm = True
    assert store.account(org).address == staged.address
    retired = tmp_path / "keys" / f"{org}.{current.address}.retired"
    assert retired.is_file(), "the old key's file is kept"
    assert store.pending(org) is None
