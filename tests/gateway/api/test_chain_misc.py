"""The typed client's write methods, the generic /records route with a ledger, organisation
kind and country from the chain, and the custodial key store (files and admin routes)."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from pydantic import SecretStr

from gateway.auth import IssuedKey, KeyStore
from gateway.client import GatewayClient
from gateway.config import GatewaySettings
from gateway.errors import Conflict, PermissionDenied
from gateway.models.record_requests import CREATE_MODELS
from gateway.writes.custodial_keys import SigningKeyStore, add_signing_key, list_signing_keys
from gateway.writes.kinds import KIND_PATHS, decode_record
from gateway.writes.outbox import RecordKind
from ledger.chain import Ledger
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import BODY_KINDS, allowed_role, body, chain_now, iso, prepare
from tests.gateway.conftest import ADMIN_TOKEN, auth, org_hex

METHODS: dict[RecordKind, Callable[..., Any]] = {
    RecordKind.CONSIGNMENT: GatewayClient.register_consignment,
    RecordKind.EVENT: GatewayClient.post_event,
    RecordKind.CERTIFICATE_ISSUE: GatewayClient.issue_certificate,
    RecordKind.CERTIFICATE_REVOKE: GatewayClient.revoke_certificate,
    RecordKind.DRAWDOWN: GatewayClient.draw_down,
    RecordKind.SCHEMA: GatewayClient.register_schema,
    RecordKind.ATTESTATION: GatewayClient.attest,
    RecordKind.ATTESTATION_REVOKE: GatewayClient.revoke_attestation,
    RecordKind.AEO_ACTION: GatewayClient.aeo_action,
    RecordKind.MRA_PROPOSAL: GatewayClient.propose_mra,
    RecordKind.MRA_ACCEPTANCE: GatewayClient.accept_mra,
    RecordKind.MRA_TERMINATION: GatewayClient.terminate_mra,
    RecordKind.PROPOSAL: GatewayClient.propose,
    RecordKind.APPROVAL: GatewayClient.approve,
    RecordKind.KEY_ADDITION: GatewayClient.add_key,
    RecordKind.KEY_REVOCATION: GatewayClient.revoke_key,
    RecordKind.DECLARATION: GatewayClient.lodge_declaration,
}


@pytest.mark.parametrize("kind", BODY_KINDS, ids=str)
def test_client_methods_custodial_and_client_signed(
    kind: RecordKind,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    role = allowed_role(kind)
    prep = prepare(ledger, world, kind)
    client = GatewayClient("http://testserver", party_keys[role].token, http=unrelayed_client)
    data = body(kind, role, world, prep)
    if kind is RecordKind.EXECUTION:
        view = client.execute(decode_record(kind, data["proposal"]))
        assert (view.kind, view.status) == (kind, "accepted")
        return
    # One deadline for both ways, so that both are the same record (the gateway's default is
    # 24 hours after the moment it builds the record).
    deadline = {"deadline": iso(chain_now(ledger) + 3600)}
    if "deadline" not in CREATE_MODELS[kind].model_fields:
        deadline = {}
    view = METHODS[kind](client, {**data, **deadline})
    assert (view.kind, view.status) == (kind, "accepted")
    # The same body, built and signed by the client itself: the gateway only relays.
    typed = client.typed_data(kind, {**body(kind, role, world, prep), **deadline})
    record = decode_record(kind, typed.typed_data["message"])
    signed_view = client.sign_and_submit(record, world.parties[role].private_key)
    assert signed_view.record_id == typed.record_id
    assert signed_view.kind is kind


def test_generic_records_route_checks_signed_records_with_a_ledger(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["carrier"]
    prep = prepare(ledger, world, RecordKind.EVENT)
    typed = unrelayed_client.post(
        "/typed-data/event", json=body(RecordKind.EVENT, "carrier", world, prep), headers=auth(key)
    ).json()
    signature = Account.sign_typed_data(
        world.parties["carrier"].private_key, full_message=typed["typed_data"]
    ).signature
    submission = {
        "kind": "event",
        "payload": typed["typed_data"]["message"],
        "signature": "0x" + bytes(signature).hex(),
    }
    response = unrelayed_client.post("/records", json=submission, headers=auth(key))
    assert response.status_code == 202
    assert response.json()["record_id"] == typed["record_id"]
    stranger = Account.sign_typed_data(Account.create().key, full_message=typed["typed_data"])
    forged = dict(submission, signature="0x" + bytes(stranger.signature).hex())
    refused = unrelayed_client.post("/records", json=forged, headers=auth(key))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "UnknownKey")


def test_kind_and_country_come_from_the_chain(
    unrelayed_client: httpx.Client, keys: KeyStore, world: DemoWorld
) -> None:
    """A key table that calls the carrier an Australian customs administration does not make
    it one: the chain says carrier (SG), the request is judged so, the cache is corrected."""
    carrier = world.parties["carrier"]
    mislabelled = keys.issue(
        org_id=org_hex(carrier),
        org_kind="customs",
        country="AU",
        scopes=["aeo:write", "read"],
    )
    response = unrelayed_client.post(
        "/aeo/actions",
        json={
            "action": "suspend",
            "operator_id": org_hex(world.parties["exporter"]),
            "programme": "AEOF",
        },
        headers=auth(mislabelled),
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "WrongKind")
    refreshed = keys.get(mislabelled.record.key_id)
    assert refreshed is not None
    assert (refreshed.org_kind.value, refreshed.country) == ("carrier", "SG")


def test_a_key_of_a_non_member_is_refused(unrelayed_client: httpx.Client, keys: KeyStore) -> None:
    stranger = keys.issue(
        org_id="0x" + "77" * 32, org_kind="carrier", country="NL", scopes=["events:write"]
    )
    response = unrelayed_client.post(
        "/events",
        json={
            "consignment_ref": "X",
            "biz_step": "loading",
            "location": "NLRTM",
            "event_time": "2026-11-23T10:00:00Z",
        },
        headers=auth(stranger),
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "UnknownOrganisation")


# --- the custodial key store ----------------------------------------------------------------


def test_key_files_are_encrypted_private_and_reopenable(tmp_path: Path) -> None:
    secret = SecretStr("correct horse battery staple")
    store = SigningKeyStore(tmp_path / "keys", secret, scrypt_n=2**10)
    account = Account.create()
    org = "0x" + "ab" * 32
    stored = store.add(org, account.key.hex())
    assert stored.address == account.address
    file = tmp_path / "keys" / f"{org}.json"
    text = file.read_text()
    assert account.key.hex().removeprefix("0x") not in text
    assert json.loads(text)["crypto"]["kdf"] == "scrypt"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    reopened = SigningKeyStore(tmp_path / "keys", secret, scrypt_n=2**10)
    assert reopened.account(org).address == account.address
    wrong = SigningKeyStore(tmp_path / "keys", SecretStr("wrong"), scrypt_n=2**10)
    with pytest.raises(ValueError, match="MAC mismatch"):
        wrong.account(org)
    with pytest.raises(Conflict):
        store.add(org)
    # Without a chain to ask (no registry) a replacement is staged; the stored key keeps signing.
    replaced = store.add(org, replace=True)
    assert replaced.address != account.address
    assert replaced.pending
    assert replaced.replaces == account.address
    assert store.account(org).address == account.address
    assert [(k.org_id, k.pending) for k in store.list()] == [(org, False), (org, True)]


def test_cli_functions_use_the_settings_key_store(tmp_path: Path) -> None:
    settings = GatewaySettings(data_dir=tmp_path, keystore_scrypt_n=2**10)
    added = add_signing_key(settings, org_id="0x" + "cd" * 32)
    assert list_signing_keys(settings) == [added]
    assert (tmp_path / "keystore" / ("0x" + "cd" * 32 + ".json")).is_file()


def test_signing_key_admin_routes(
    chain_client: httpx.Client, party_keys: dict[str, IssuedKey], keys: KeyStore, world: DemoWorld
) -> None:
    operator = GatewayClient("http://testserver", ADMIN_TOKEN, http=chain_client)
    org = "0x" + "ef" * 32
    created = operator.add_signing_key(org_id=org)
    assert created.org_id == org
    assert org in {k.org_id for k in operator.list_signing_keys()}
    with pytest.raises(Conflict) as exists:
        operator.add_signing_key(org_id=org)
    assert exists.value.code == "key_exists"
    # An organisation's admin key manages its own organisation's custodial key only.
    carrier = world.parties["carrier"]
    admin = keys.issue(org_id=org_hex(carrier), org_kind="carrier", country="SG", scopes=["admin"])
    org_admin = GatewayClient("http://testserver", admin.token, http=chain_client)
    with pytest.raises(PermissionDenied):
        org_admin.add_signing_key(org_id=org)
    assert [k.org_id for k in org_admin.list_signing_keys()] == [org_hex(carrier)]
    # A key without the admin scope cannot use the routes at all.
    plain = GatewayClient("http://testserver", party_keys["carrier"].token, http=chain_client)
    with pytest.raises(PermissionDenied):
        plain.list_signing_keys()


def test_docs_page_and_openapi_name_every_write_route(chain_client: httpx.Client) -> None:
    docs = chain_client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text.lower()
    paths = chain_client.get("/openapi.json").json()["paths"]
    for kind in BODY_KINDS:
        assert "post" in paths[KIND_PATHS[kind]], kind
        if kind is not RecordKind.EXECUTION:
            assert "post" in paths[f"{KIND_PATHS[kind]}/signed"], kind
            assert "post" in paths[f"/typed-data/{kind.value}"], kind


def test_events_of_a_consignment_registered_but_not_yet_mined(
    chain_client: httpx.Client, party_keys: dict[str, IssuedKey], ledger: Ledger, world: DemoWorld
) -> None:
    """A carrier registers a consignment and posts its first events at once: the events are
    accepted while the registration is still on its way, and relayed after it."""
    from tests.gateway.writes.test_chain_relay import wait_final

    key = party_keys["carrier"]
    ref = f"FRESH-{__import__('secrets').token_hex(4)}"
    registration = chain_client.post(
        "/consignments",
        json={"consignment_ref": ref, "origin": "SG", "destination": "NL"},
        headers=auth(key),
    )
    assert registration.status_code == 202
    event = {
        "consignment_ref": ref,
        "biz_step": "loading",
        "location": "SGSIN",
        "event_time": "2026-11-23T10:00:00Z",
    }
    first = chain_client.post("/events", json=event, headers=auth(key))
    assert first.status_code == 202, first.text
    ids = [registration.json()["record_id"], first.json()["record_id"]]
    views = wait_final(chain_client, key, ids)
    assert [views[i]["status"] for i in ids] == ["confirmed", "confirmed"]
    assert views[ids[0]]["block_number"] <= views[ids[1]]["block_number"]
    unknown = chain_client.post(
        "/events", json=dict(event, consignment_ref=ref + "-nope"), headers=auth(key)
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "UnknownConsignment")


def test_an_event_on_a_pending_registration_is_accepted(
    unrelayed_client: httpx.Client, party_keys: dict[str, IssuedKey]
) -> None:
    key = party_keys["carrier"]
    ref = "PENDING-REGISTRATION-1"
    event = {
        "consignment_ref": ref,
        "biz_step": "loading",
        "location": "SGSIN",
        "event_time": "2026-11-23T10:00:00Z",
    }
    before = unrelayed_client.post("/events", json=event, headers=auth(key))
    assert (before.status_code, before.json()["error"]["code"]) == (404, "UnknownConsignment")
    registration = unrelayed_client.post(
        "/consignments",
        json={"consignment_ref": ref, "origin": "SG", "destination": "NL"},
        headers=auth(key),
    )
    assert registration.json()["status"] == "accepted"  # no relayer: it stays in the outbox
    after = unrelayed_client.post("/events", json=event, headers=auth(key))
    assert after.status_code == 202, after.text
