"""``POST /typed-data/...`` needs the write scope of the route whose record it builds (a key
with ``read`` only gets 403 naming the scope), and the OpenAPI says so; ``GET
/typed-data/domains`` takes any valid key."""

from __future__ import annotations

import httpx
import pytest

from gateway.auth import KeyStore, Scope
from gateway.writes.kinds import KIND_SCOPES
from gateway.writes.outbox import RecordKind
from ledger.chain import Ledger
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import allowed_role, body, prepare, status_and_code
from tests.gateway.conftest import KIND_NAMES, auth, org_hex

SIGNED_KINDS = [
    kind
    for kind in KIND_SCOPES
    if kind not in (RecordKind.EXECUTION, RecordKind.DECLARATION, RecordKind.EPCIS_CAPTURE)
]
BATCHES = {
    "event_batch": (RecordKind.EVENT, Scope.EVENTS_WRITE),
    "attestation_batch": (RecordKind.ATTESTATION, Scope.ATTESTATIONS_WRITE),
    "drawdown_batch": (RecordKind.DRAWDOWN, Scope.CERTIFICATES_WRITE),
}


def _key(keys: KeyStore, world: DemoWorld, role: str, *scopes: Scope) -> dict[str, str]:
    party = world.parties[role]
    issued = keys.issue(
        org_id=org_hex(party),
        org_kind=KIND_NAMES[party.kind],
        country=party.country,
        scopes=scopes,
    )
    return auth(issued)


@pytest.mark.parametrize("kind", SIGNED_KINDS, ids=lambda k: k.value)
def test_typed_data_needs_the_write_scope_of_its_kind(
    unrelayed_client: httpx.Client,
    keys: KeyStore,
    ledger: Ledger,
    world: DemoWorld,
    kind: RecordKind,
) -> None:
    role = allowed_role(kind)
    data = body(kind, role, world, prepare(ledger, world, kind))
    scope = KIND_SCOPES[kind]
    path = f"/typed-data/{kind.value}"
    others = tuple(s for s in Scope if s not in (scope, Scope.ADMIN))
    refused = unrelayed_client.post(path, json=data, headers=_key(keys, world, role, *others))
    assert status_and_code(refused) == (403, "missing_scope"), refused.text
    assert repr(scope.value) in refused.json()["error"]["message"]
    allowed = unrelayed_client.post(path, json=data, headers=_key(keys, world, role, scope))
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["kind"] == kind.value


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_batch_typed_data_needs_the_write_scope_of_its_records(
    unrelayed_client: httpx.Client,
    keys: KeyStore,
    ledger: Ledger,
    world: DemoWorld,
    name: str,
) -> None:
    kind, scope = BATCHES[name]
    role = allowed_role(kind)
    data = {"items": [body(kind, role, world, prepare(ledger, world, kind))]}
    path = f"/typed-data/{name}"
    refused = unrelayed_client.post(path, json=data, headers=_key(keys, world, role, Scope.READ))
    assert status_and_code(refused) == (403, "missing_scope"), refused.text
    assert repr(scope.value) in refused.json()["error"]["message"]
    allowed = unrelayed_client.post(path, json=data, headers=_key(keys, world, role, scope))
    assert allowed.status_code == 200, allowed.text


def test_domains_take_any_key_and_the_openapi_names_each_scope(
    unrelayed_client: httpx.Client, keys: KeyStore, world: DemoWorld
) -> None:
    # A client signs with the domains, whatever its key's scopes.
    for scope in (Scope.EVENTS_WRITE, Scope.READ):
        key = _key(keys, world, "carrier", scope)
        assert unrelayed_client.get("/typed-data/domains", headers=key).status_code == 200
    paths = unrelayed_client.get("/openapi.json").json()["paths"]
    expected = {f"/typed-data/{kind.value}": KIND_SCOPES[kind].value for kind in SIGNED_KINDS}
    expected |= {f"/typed-data/{name}": scope.value for name, (_, scope) in BATCHES.items()}
    for path, scope in expected.items():
        operation = paths[path]["post"]
        assert operation["x-required-scope"] == scope, path
        example = operation["responses"]["403"]["content"]["application/json"]["example"]
        assert repr(scope) in example["error"]["message"], path
    assert "x-required-scope" not in paths["/typed-data/domains"]["get"]
