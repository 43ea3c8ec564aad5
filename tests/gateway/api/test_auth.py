"""API keys: issue, authenticate, scopes, revocation, organisation boundaries, storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from gateway.auth import KeyStore, OrgKind, Scope, issue_key
from gateway.config import GatewaySettings
from tests.gateway.conftest import (
    ADMIN_TOKEN,
    ORG_A,
    ORG_B,
    KeyMaker,
    auth,
    record_body,
)


def test_issued_key_authenticates_as_its_organisation(keys: KeyStore, make_key: KeyMaker) -> None:
    issued = make_key(ORG_A, scopes=("events:write", "read"))
    assert issued.token.startswith(f"clk_{issued.record.key_id}_")
    caller = keys.authenticate(issued.token)
    assert caller.org_id == ORG_A
    assert caller.org_kind == "carrier"
    assert caller.country == "NL"
    assert caller.scopes == {Scope.EVENTS_WRITE, Scope.READ}
    assert caller.key_id == issued.record.key_id


def test_issue_key_for_the_cli(settings: GatewaySettings) -> None:
    issued = issue_key(
        settings,
        org_id=ORG_B.upper().replace("0X", "0x"),
        org_kind="customs",
        country="de",
        scopes=["read"],
        label="cli",
    )
    with KeyStore.open(settings.gateway_db_url) as store:
        caller = store.authenticate(issued.token)
        assert caller.org_id == ORG_B
        assert caller.country == "DE"
        assert [k.label for k in store.list_keys()] == ["cli"]


def test_key_is_usable_on_the_api(client: httpx.Client, make_key: KeyMaker) -> None:
    key = make_key()
    response = client.post("/records", json=record_body(1), headers=auth(key))
    assert response.status_code == 202
    assert response.json()["org_id"] == ORG_A
    via_header = client.get("/records", headers={"X-API-Key": key.token})
    assert via_header.status_code == 200
    assert len(via_header.json()["items"]) == 1


def test_missing_wrong_and_malformed_keys_are_401(client: httpx.Client, make_key: KeyMaker) -> None:
    key = make_key()
    wrong_secret = key.token[:-4] + ("AAAA" if not key.token.endswith("AAAA") else "BBBB")
    unknown_id = "clk_0000000000000000_" + key.token.split("_", 2)[2]
    cases = {
        None: "missing_api_key",
        wrong_secret: "invalid_api_key",
        unknown_id: "invalid_api_key",
        "not-a-key": "invalid_api_key",
    }
    for token, code in cases.items():
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        response = client.get("/records", headers=headers)
        assert response.status_code == 401, token
        assert response.json()["error"]["code"] == code


def test_revoked_key_is_401(client: httpx.Client, make_key: KeyMaker) -> None:
    key = make_key()
    assert client.get("/records", headers=auth(key)).status_code == 200
    revoked = client.delete(
        f"/admin/api-keys/{key.record.key_id}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = client.get("/records", headers=auth(key))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "revoked_api_key"


def test_expired_key_is_401(keys: KeyStore, client: httpx.Client) -> None:
    key = keys.issue(
        org_id=ORG_A,
        org_kind="carrier",
        country="NL",
        scopes=["read"],
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    response = client.get("/records", headers=auth(key))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "expired_api_key"


def test_missing_scope_is_403(client: httpx.Client, make_key: KeyMaker) -> None:
    events_only = make_key(scopes=("events:write",))
    read_only = make_key(scopes=("read",))
    read = client.get("/records", headers=auth(events_only))
    assert read.status_code == 403
    assert read.json()["error"]["code"] == "missing_scope"
    write = client.post("/records", json=record_body(1), headers=auth(read_only))
    assert write.status_code == 403
    wrong_kind = client.post(
        "/records", json=record_body(2, kind="certificate_issue"), headers=auth(events_only)
    )
    assert wrong_kind.status_code == 403
    assert "certificates:write" in wrong_kind.json()["error"]["message"]


def test_organisation_cannot_see_or_act_for_another(
    client: httpx.Client, make_key: KeyMaker
) -> None:
    key_a = make_key(ORG_A)
    key_b = make_key(ORG_B)
    body = record_body(7)
    created = client.post("/records", json=body, headers=auth(key_a))
    assert created.status_code == 202
    record_id = created.json()["record_id"]

    assert client.get(f"/records/{record_id}", headers=auth(key_a)).status_code == 200
    assert client.get(f"/records/{record_id}", headers=auth(key_b)).status_code == 404
    assert client.get("/records", headers=auth(key_b)).json()["items"] == []

    # B submitting A's record (same record id) does not get it, nor an answer about it.
    taken = client.post("/records", json=body, headers=auth(key_b))
    assert taken.status_code == 403
    assert "org_id" not in taken.json()["error"]
    # A record naming another organisation than the key's is refused.
    forged = client.post("/records", json=record_body(8, orgId=ORG_A), headers=auth(key_b))
    assert forged.status_code == 403
    assert forged.json()["error"]["field"] == "payload.orgId"
    own = client.post("/records", json=record_body(9, orgId=ORG_B), headers=auth(key_b))
    assert own.status_code == 202


def test_secret_is_stored_only_as_a_hash(settings: GatewaySettings, keys: KeyStore) -> None:
    issued = keys.issue(org_id=ORG_A, org_kind="carrier", country="NL", scopes=["read"])
    secret = issued.token.split("_", 2)[2]
    keys.close()
    raw = b"".join(
        path.read_bytes() for path in settings.data_dir.glob("gateway.sqlite3*") if path.is_file()
    )
    assert issued.record.key_id.encode() in raw  # the data is really in these files
    assert secret.encode() not in raw
    assert issued.token.encode() not in raw


def test_admin_routes_with_operator_token(client: httpx.Client) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    issued = client.post(
        "/admin/api-keys",
        json={"org_id": ORG_B, "org_kind": "customs", "country": "de", "scopes": ["read"]},
        headers=admin,
    )
    assert issued.status_code == 201
    body = issued.json()
    assert body["country"] == "DE"
    token = body["api_key"]
    assert client.get("/records", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listed = client.get("/admin/api-keys", params={"org_id": ORG_B}, headers=admin).json()
    assert [k["key_id"] for k in listed["items"]] == [body["key_id"]]
    assert "api_key" not in listed["items"][0]
    assert client.get("/admin/api-keys").status_code == 401
    bad_token = client.get("/admin/api-keys", headers={"Authorization": "Bearer nope"})
    assert bad_token.status_code == 401


def test_admin_scoped_key_manages_its_own_organisation_only(
    client: httpx.Client, make_key: KeyMaker
) -> None:
    admin_a = make_key(ORG_A, scopes=("admin", "events:write"))
    plain_a = make_key(ORG_A, scopes=("read",))
    key_b = make_key(ORG_B, scopes=("read",))
    own = {"org_id": ORG_A, "org_kind": "carrier", "country": "NL", "scopes": ["events:write"]}
    assert client.post("/admin/api-keys", json=own, headers=auth(admin_a)).status_code == 201
    other = {**own, "org_id": ORG_B}
    assert client.post("/admin/api-keys", json=other, headers=auth(admin_a)).status_code == 403
    recast = {**own, "org_kind": "customs"}
    assert client.post("/admin/api-keys", json=recast, headers=auth(admin_a)).status_code == 403
    listed = client.get("/admin/api-keys", headers=auth(admin_a)).json()["items"]
    assert {k["org_id"] for k in listed} == {ORG_A}
    assert (
        client.delete(f"/admin/api-keys/{key_b.record.key_id}", headers=auth(admin_a)).status_code
        == 404
    )
    assert client.get("/admin/api-keys", headers=auth(plain_a)).status_code == 403


def test_cached_kind_and_country_are_refreshed_from_the_chain(
    keys: KeyStore, make_key: KeyMaker
) -> None:
    first = make_key(ORG_A)
    second = make_key(ORG_A, scopes=("read",))
    other = make_key(ORG_B)
    assert keys.refresh_organisation(org_id=ORG_A, org_kind=OrgKind.TRADER, country="be") == 2
    for key in (first, second):
        caller = keys.authenticate(key.token)
        assert (caller.org_kind, caller.country) == (OrgKind.TRADER, "BE")
    assert keys.authenticate(other.token).org_kind is OrgKind.CARRIER
