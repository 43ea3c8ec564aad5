"""Custodial key rotation is two-phase: ``replace`` stages a successor and the registered key
keeps signing (so it can register the successor) until the successor is registered on chain in
a final block; only then does the store switch to it."""

from __future__ import annotations

import httpx
from eth_account import Account

from gateway.auth import IssuedKey, KeyStore
from gateway.client import GatewayClient
from gateway.services import GatewayServices
from gateway.writes.kinds import KIND_PATHS
from gateway.writes.outbox import RecordKind
from ledger.chain import Ledger
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import DAY, chain_now, iso
from tests.gateway.conftest import auth, org_hex
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
    assert chain_services.chain is not None and chain_services.chain.signing_keys is not None
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
    assert chain_services.chain is not None and chain_services.chain.signing_keys is not None
    assert chain_services.chain.signing_keys.account(org).address == replacement.address
