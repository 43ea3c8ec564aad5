"""Goods declarations through the gateway: lodging (custodial and client-signed), reading
with scopes, the encrypted store checked against the chain, amendments, and every write
path's refusals (wrong signer, revoked or expired key, replay, wrong role, malformed)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from fastapi import FastAPI
from sqlalchemy import select, update

from gateway.auth import IssuedKey, KeyStore, Scope
from gateway.config import GatewaySettings
from gateway.db import create_gateway_engine
from gateway.main import create_app
from gateway.services import GatewayServices
from gateway.writes.declaration_store import declarations_table
from ledger.chain import Ledger
from ledger.records import DeclarationValues, new_salt
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import status_and_code
from tests.gateway.conftest import KIND_NAMES, auth, make_settings, org_hex, serve
from tests.gateway.writes.test_chain_relay import wait_final
from tests.gateway.writes.test_write_errors import _extra_keys
from tests.ledger.chain.test_client import revoke_by_governance


def declaration_body(world: DemoWorld, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "declaration_number": f"CN-IMP-{secrets.token_hex(5)}",
        "date": "2026-12-06",
        "administration": org_hex(world.parties["cn"]),
        "office": "2200",
        "procedure": "B",
        "import_type": "11",
        "transport_mode": "10",
        "importer": "CN-IMP-0042",
        "seller": "AU-BAROSSA-01",
        "hs6": "2204.21",
        "departure_country": "AU",
        "origin_country": "AU",
        "tax_type": "FAU1",
        "preference_claimed": True,
        "certificate_issuer": org_hex(world.parties["chamber"]),
        "certificate_number": world.certificate_number,
        "net_mass_kg": 4500,
        "item_price": 31500,
        "currency": "AUD",
        "consignment_ref": world.consignment_ref,
        "consignment_registrant": org_hex(world.parties["carrier"]),
    }
    body.update(changes)
    return body


def lodge(client: httpx.Client, key: IssuedKey, body: dict[str, Any]) -> httpx.Response:
    return client.post("/declarations", json=body, headers=auth(key))


def declaration_id_of(client: httpx.Client, key: IssuedKey, record_id: str) -> str:
    for item in client.get("/declarations", headers=auth(key)).json()["items"]:
        if item["record_id"] == record_id:
            return str(item["declaration_id"])
    raise AssertionError(f"no declaration with record {record_id}")


def test_lodged_declaration_reaches_the_chain_and_is_read_by_its_parties_only(
    chain_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    body = declaration_body(world)
    response = lodge(chain_client, party_keys["exporter"], body)
    assert response.status_code == 202, response.text
    rid = response.json()["record_id"]
    view = wait_final(chain_client, party_keys["exporter"], [rid])[rid]
    assert view["status"] == "confirmed", view
    did = declaration_id_of(chain_client, party_keys["exporter"], rid)

    for role in ("exporter", "cn"):  # the declarant and the administration
        got = chain_client.get(f"/declarations/{did}", headers=auth(party_keys[role]))
        assert got.status_code == 200, got.text
        data = got.json()
        assert data["on_chain"] == "matches"
        assert data["values"]["declaration_number"] == body["declaration_number"]
        assert data["values"]["hs6"] == "220421"
        assert data["administration"] == org_hex(world.parties["cn"])
    for role in ("au", "carrier", "chamber"):  # another administration, other members
        got = chain_client.get(f"/declarations/{did}", headers=auth(party_keys[role]))
        assert status_and_code(got) == (404, "declaration_not_found")
        listed = chain_client.get("/declarations", headers=auth(party_keys[role])).json()
        assert did not in [i["declaration_id"] for i in listed["items"]]
    listed = chain_client.get("/declarations", headers=auth(party_keys["cn"])).json()
    assert did in [i["declaration_id"] for i in listed["items"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hs6", "7700.10"),
        ("hs6", "22A421"),
        ("hs6", "2204.99"),  # well formed, but no HS 2022 subheading (the shipped list)
        ("origin_country", "XZ"),
        ("departure_country", "Australia"),
        ("currency", "XXY"),
        ("net_mass_kg", 0),
        ("net_mass_kg", -4),
        ("item_price", "abc"),
        ("date", "2026-13-01"),
        ("certificate_number", None),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
    field: str,
    value: object,
) -> None:
    response = lodge(
        unrelayed_client, party_keys["exporter"], declaration_body(world, **{field: value})
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"].endswith(field)
    listed = unrelayed_client.get("/declarations", headers=auth(party_keys["exporter"])).json()
    assert listed["items"] == []


def test_malformed_bodies_are_422(
    unrelayed_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    body = declaration_body(world)
    del body["hs6"]
    assert lodge(unrelayed_client, party_keys["exporter"], body).status_code == 422
    extra = declaration_body(world, surprise="field")
    assert lodge(unrelayed_client, party_keys["exporter"], extra).status_code == 422
    bad_admin = declaration_body(world, administration="0x1234")
    assert lodge(unrelayed_client, party_keys["exporter"], bad_admin).status_code == 422


@pytest.mark.parametrize("role", ["cn", "au", "chamber"])
def test_wrong_role_cannot_lodge(
    unrelayed_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld, role: str
) -> None:
    response = lodge(unrelayed_client, party_keys[role], declaration_body(world))
    assert status_and_code(response) == (403, "WrongKind")


def test_administration_must_be_customs(
    unrelayed_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    body = declaration_body(world, administration=org_hex(world.parties["carrier"]))
    response = lodge(unrelayed_client, party_keys["exporter"], body)
    assert status_and_code(response) == (422, "NotAnAdministration")
    listed = unrelayed_client.get("/declarations", headers=auth(party_keys["exporter"])).json()
    assert listed["items"] == [], "a refused declaration leaves nothing in the store"


def test_a_key_without_the_scope_is_refused(
    unrelayed_client: httpx.Client, keys: KeyStore, world: DemoWorld
) -> None:
    party = world.parties["exporter"]
    key = keys.issue(
        org_id=org_hex(party),
        org_kind=KIND_NAMES[party.kind],
        country=party.country,
        scopes=(Scope.EVENTS_WRITE, Scope.READ),
    )
    response = lodge(unrelayed_client, key, declaration_body(world))
    assert status_and_code(response) == (403, "missing_scope")


def test_the_same_number_twice_is_refused_and_an_idempotent_repeat_answers_the_same(
    unrelayed_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    key = party_keys["exporter"]
    body = declaration_body(world)
    headers = {**auth(key), "Idempotency-Key": "decl-1"}
    first = unrelayed_client.post("/declarations", json=body, headers=headers)
    assert first.status_code == 202, first.text
    again = unrelayed_client.post("/declarations", json=body, headers=headers)
    assert again.status_code == 202
    assert again.json()["record_id"] == first.json()["record_id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    replay = lodge(unrelayed_client, key, dict(body, item_price=100))
    assert status_and_code(replay) == (409, "DeclarationExists")
    listed = unrelayed_client.get("/declarations", headers=auth(key)).json()["items"]
    assert len(listed) == 1
    assert listed[0]["values"]["item_price"] == "31500", "the first value declared is kept"


def test_a_revoked_custodial_key_is_refused(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    revoke_by_governance(ledger, world, world.parties["exporter"])
    response = lodge(unrelayed_client, party_keys["exporter"], declaration_body(world))
    assert status_and_code(response) == (403, "KeyRevoked")
    listed = unrelayed_client.get("/declarations", headers=auth(party_keys["exporter"])).json()
    assert listed["items"] == []


# ------------------------------------------------------------------ signed by the client


def signed_body(
    ledger: Ledger, world: DemoWorld, key: Any, *, age: int = 0, **changes: Any
) -> tuple[dict[str, Any], DeclarationValues]:
    """A client-signed declaration, lodged ``age`` seconds before the latest block."""
    body = declaration_body(world, **changes)
    values = DeclarationValues.parse(dict(body, declarant=org_hex(world.parties["exporter"])))
    salt = new_salt()
    lodged_at = int(ledger.w3.eth.get_block("latest")["timestamp"]) - age
    record = values.record(salt=salt, lodged_at=lodged_at)
    signed = ledger.sign(record, key)
    payload = {
        "values": {k: v for k, v in values.as_dict().items() if k != "declarant"},
        "salt": "0x" + salt.hex(),
        "message": record.json_message(),
        "signature": "0x" + signed.signature.hex(),
    }
    return payload, values


def test_client_signed_declaration_is_accepted_and_checked(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["exporter"]
    exporter = world.parties["exporter"].private_key
    good, _ = signed_body(ledger, world, exporter)
    accepted = unrelayed_client.post("/declarations/signed", json=good, headers=auth(key))
    assert accepted.status_code == 202, accepted.text
    replayed = unrelayed_client.post("/declarations/signed", json=good, headers=auth(key))
    assert replayed.status_code == 202, "the same signed record again: the stored answer"
    assert replayed.json()["record_id"] == accepted.json()["record_id"]
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    # The same number signed again over other values is refused: the first value stays.
    number = good["values"]["declaration_number"]
    again, _ = signed_body(ledger, world, exporter, declaration_number=number, item_price=99)
    refused = unrelayed_client.post("/declarations/signed", json=again, headers=auth(key))
    assert status_and_code(refused) == (409, "DeclarationExists")

    # Values that are not those the signed digest commits to.
    other, _ = signed_body(ledger, world, exporter)
    other["values"]["item_price"] = "1"
    refused = unrelayed_client.post("/declarations/signed", json=other, headers=auth(key))
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "message.valuesDigest"

    # Signed by a stranger, by another member's key, by a revoked and by an expired key.
    revoked, expired = _extra_keys(ledger, world, "exporter")
    for signer, expected in (
        (Account.create().key, (403, "UnknownKey")),
        (world.parties["carrier"].private_key, (403, "wrong_organisation")),
        (revoked.key, (403, "KeyRevoked")),
        (expired.key, (403, "KeyExpired")),
    ):
        payload, _ = signed_body(ledger, world, signer)
        response = unrelayed_client.post("/declarations/signed", json=payload, headers=auth(key))
        assert status_and_code(response) == expected, response.text
    listed = unrelayed_client.get("/declarations", headers=auth(key)).json()["items"]
    assert len(listed) == 1, "only the good declaration is stored"


def test_a_signed_declaration_held_back_over_a_day_is_refused_naming_lodged_at(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["exporter"]
    exporter = world.parties["exporter"].private_key
    stale, _ = signed_body(ledger, world, exporter, age=24 * 3600 + 120)
    refused = unrelayed_client.post("/declarations/signed", json=stale, headers=auth(key))
    assert status_and_code(refused) == (422, "LodgementTooOld"), refused.text
    assert refused.json()["error"]["field"] == "message.lodgedAt"
    fresh, _ = signed_body(ledger, world, exporter, age=24 * 3600 - 600)
    accepted = unrelayed_client.post("/declarations/signed", json=fresh, headers=auth(key))
    assert accepted.status_code == 202, accepted.text


def test_client_signed_declaration_for_another_declarant_is_refused(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    payload, _ = signed_body(ledger, world, world.parties["exporter"].private_key)
    payload["values"]["declarant"] = org_hex(world.parties["exporter"])
    response = unrelayed_client.post(
        "/declarations/signed", json=payload, headers=auth(party_keys["carrier"])
    )
    assert status_and_code(response) == (403, "wrong_organisation")


# ------------------------------------------------------------------ amendments and the store


def test_amendment_chain_and_what_the_chain_keeps(
    chain_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    key = party_keys["exporter"]
    first = lodge(chain_client, key, declaration_body(world))
    assert first.status_code == 202, first.text
    first_id = declaration_id_of(chain_client, key, first.json()["record_id"])
    wait_final(chain_client, key, [first.json()["record_id"]])  # amended once on chain
    amendment = lodge(chain_client, key, declaration_body(world, net_mass_kg=4400, amends=first_id))
    assert amendment.status_code == 202, amendment.text
    rids = [first.json()["record_id"], amendment.json()["record_id"]]
    views = wait_final(chain_client, key, rids)
    assert {v["status"] for v in views.values()} == {"confirmed"}
    second_id = declaration_id_of(chain_client, key, rids[1])
    original = chain_client.get(f"/declarations/{first_id}", headers=auth(key)).json()
    assert original["amended_by"] == second_id
    assert original["values"]["net_mass_kg"] == "4500"
    # Nobody else can amend it: to them it does not exist.
    other = lodge(chain_client, party_keys["carrier"], declaration_body(world, amends=first_id))
    assert status_and_code(other) == (404, "declaration_not_found")


def test_values_are_encrypted_at_rest_and_checked_on_read(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    settings: GatewaySettings,
    world: DemoWorld,
) -> None:
    key = party_keys["exporter"]
    body = declaration_body(world, importer="A-VERY-RECOGNISABLE-IMPORTER")
    response = lodge(chain_client, key, body)
    rid = response.json()["record_id"]
    wait_final(chain_client, key, [rid])
    did = declaration_id_of(chain_client, key, rid)
    assert (settings.data_dir / "declarations.key").stat().st_mode & 0o077 == 0
    engine = create_gateway_engine(settings.gateway_db_url)
    try:
        with engine.begin() as conn:
            row = conn.execute(
                select(declarations_table).where(declarations_table.c.declaration_id == did)
            ).one()
            assert b"RECOGNISABLE" not in row.ciphertext
            assert body["declaration_number"].encode() not in row.ciphertext
            # A flipped byte does not decrypt (AES-GCM): refused, never served.
            bad = bytes([row.ciphertext[0] ^ 1]) + row.ciphertext[1:]
            conn.execute(
                update(declarations_table)
                .where(declarations_table.c.declaration_id == did)
                .values(ciphertext=bad)
            )
        got = chain_client.get(f"/declarations/{did}", headers=auth(key))
        assert status_and_code(got) == (409, "declaration_store_corrupt")
    finally:
        engine.dispose()


def test_values_changed_in_the_store_no_longer_match_the_chain(
    chain_app: FastAPI,
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
) -> None:
    key = party_keys["exporter"]
    response = lodge(chain_client, key, declaration_body(world))
    rid = response.json()["record_id"]
    wait_final(chain_client, key, [rid])
    did = declaration_id_of(chain_client, key, rid)
    store = chain_app.state.declarations
    stored = store.get(did, reader=org_hex(world.parties["exporter"]))
    lower = DeclarationValues.parse(dict(stored.values.as_dict(), item_price="3150"))
    store.delete(did)
    store.put(
        declaration_id=did,
        record_id=rid,
        values=lower,
        salt=stored.salt,
        lodged_at=stored.lodged_at,
        amends=None,
    )
    got = chain_client.get(f"/declarations/{did}", headers=auth(key))
    assert status_and_code(got) == (409, "values_mismatch")


def test_hs6_is_checked_against_the_nomenclature_when_one_is_configured(
    tmp_path: Path,
    chain_services: GatewayServices,
    custodial: dict[str, str],
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
) -> None:
    hs_csv = tmp_path / "hs.csv"
    hs_csv.write_text(
        "section,hscode,description,parent,level\n"
        "IV,2204,Wine of fresh grapes,22,4\n"
        "IV,220421,In containers holding 2 l or less,2204,6\n",
        encoding="utf-8",
    )
    settings = make_settings(tmp_path, hs_csv=hs_csv)  # the API keys are in its database
    services = GatewayServices(chain=chain_services.chain)
    with serve(create_app(settings, services=services)) as client:
        key = party_keys["exporter"]
        ok = lodge(client, key, declaration_body(world, hs6="2204.21"))
        assert ok.status_code == 202, ok.text
        unknown = lodge(client, key, declaration_body(world, hs6="2204.29"))
        assert status_and_code(unknown) == (422, "invalid_hs_code")
        assert unknown.json()["error"]["field"] == "hs6"
        assert unknown.json()["error"]["rule"] == "hs2022"


def test_typed_data_stages_the_values_until_the_declarant_signs(
    chain_app: FastAPI,
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["exporter"]
    typed = chain_client.post(
        "/typed-data/declaration", json=declaration_body(world), headers=auth(key)
    )
    assert typed.status_code == 200, typed.text
    data = typed.json()["typed_data"]
    digest = data["message"]["valuesDigest"]
    store = chain_app.state.declarations
    exporter = org_hex(world.parties["exporter"])
    assert store.draft(digest, declarant=exporter) is not None
    assert store.draft(digest, declarant=org_hex(world.parties["carrier"])) is None
    signature = Account.sign_typed_data(
        world.parties["exporter"].private_key, full_message=data
    ).signature
    lodged = chain_client.post(
        "/declarations/signed",
        json={"message": data["message"], "signature": "0x" + bytes(signature).hex()},
        headers=auth(key),
    )
    assert lodged.status_code == 202, lodged.text
    assert lodged.json()["record_id"] == typed.json()["record_id"]
    assert store.draft(digest, declarant=exporter) is None, "the draft is now the declaration"
    # Without staged values (and none given) a signed message is refused, naming them.
    payload, _ = signed_body(ledger, world, world.parties["exporter"].private_key)
    bare = {"message": payload["message"], "signature": payload["signature"]}
    refused = chain_client.post("/declarations/signed", json=bare, headers=auth(key))
    assert status_and_code(refused) == (422, "invalid_request")
    assert refused.json()["error"]["field"] == "values"
