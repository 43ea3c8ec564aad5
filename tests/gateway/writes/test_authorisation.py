"""The authorisation matrix: every write route x every kind of organisation x acting for its
own organisation or for another, on the seeded demo world with a postal operator admitted by
governance in the test's setup (``chain_cases.with_postal_operator``).

Own organisation: the party's API key and a record signed (custodially) with the party's own
key; the answer is the domain's rule (``chain_cases.EXPECTED``). Another organisation: the
party's API key with a record signed by another member's key (its typed data, signed by it,
sent to the ``/signed`` route and to the generic ``/records`` route): always 403
``wrong_organisation``. And the other ways of reaching into another organisation: a key
record naming another organisation, signed by the caller's own key; a trader's event on a
consignment it is not a party to.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from eth_account import Account

from gateway.auth import IssuedKey, KeyStore
from gateway.services import GatewayServices
from gateway.writes.kinds import KIND_PATHS
from gateway.writes.outbox import RecordKind
from ledger.chain import Ledger
from ledger.records import ConsignmentRegistration, reference_hash
from ledger.stack import POSTAL_OPERATOR, DemoWorld
from tests.gateway.chain_cases import (
    BODY_KINDS,
    EXPECTED,
    MATRIX_ROLES,
    POSTAL,
    active_mra,
    body,
    chain_now,
    prepare,
    with_postal_operator,
)
from tests.gateway.conftest import ALL_WRITE_SCOPES, auth, org_hex

SIGNED_KINDS = [k for k in BODY_KINDS if k is not RecordKind.EXECUTION]


@dataclass
class Matrix:
    """The demo world with a postal operator, and an API key for every role."""

    world: DemoWorld
    keys: dict[str, IssuedKey]


@pytest.fixture
def matrix(
    ledger: Ledger,
    world: DemoWorld,
    chain_services: GatewayServices,
    keys: KeyStore,
    party_keys: dict[str, IssuedKey],
    custodial: dict[str, str],
) -> Matrix:
    """Admit the postal operator (reverted after the test), hold its key custodially and give
    it an API key with every write scope, like the demo parties."""
    full = with_postal_operator(ledger, world)
    assert ledger.membership.organisation(POSTAL.org_id).kind == POSTAL_OPERATOR
    assert chain_services.chain is not None
    assert chain_services.chain.signing_keys is not None
    chain_services.chain.signing_keys.add(org_hex(POSTAL), POSTAL.private_key)
    postal_key = keys.issue(
        org_id=org_hex(POSTAL),
        org_kind="postal_operator",
        country=POSTAL.country,
        scopes=ALL_WRITE_SCOPES,
    )
    return Matrix(full, {**party_keys, "postal": postal_key})


def _outcome(response: httpx.Response) -> tuple[int, str | None]:
    if response.status_code == 202:
        return 202, None
    return response.status_code, response.json()["error"]["code"]


def _typed(
    client: httpx.Client, key: IssuedKey, kind: RecordKind, data: dict[str, Any]
) -> dict[str, Any]:
    response = client.post(f"/typed-data/{kind.value}", json=data, headers=auth(key))
    assert response.status_code == 200, response.text
    typed: dict[str, Any] = response.json()["typed_data"]
    return typed


def _sign(private_key: str, typed: dict[str, Any]) -> str:
    return "0x" + bytes(Account.sign_typed_data(private_key, full_message=typed).signature).hex()


@pytest.mark.parametrize("kind", BODY_KINDS, ids=str)
def test_own_organisation_matrix(
    kind: RecordKind, unrelayed_client: httpx.Client, ledger: Ledger, matrix: Matrix
) -> None:
    world = matrix.world
    prep = prepare(ledger, world, kind)
    got = {}
    for n, role in enumerate(MATRIX_ROLES):
        data = body(kind, role, world, prep)
        if kind is RecordKind.MRA_TERMINATION:
            # Either party may terminate an MRA, once: each role gets an MRA of its own (the
            # demo's, terminated by the first, would be a 409 MraAlreadyTerminated for the next).
            data = {"mra_id": "0x" + active_mra(ledger, world, days=300 + n).hex()}
        response = unrelayed_client.post(
            KIND_PATHS[kind], json=data, headers=auth(matrix.keys[role])
        )
        got[role] = _outcome(response)
    assert got == EXPECTED[kind]


@pytest.mark.parametrize("kind", SIGNED_KINDS, ids=str)
def test_acting_for_another_organisation_is_refused(
    kind: RecordKind, unrelayed_client: httpx.Client, ledger: Ledger, matrix: Matrix
) -> None:
    """A record signed by another member's key, on the typed route and on /records."""
    world = matrix.world
    prep = prepare(ledger, world, kind)
    signed_route, records_route = {}, {}
    for index, role in enumerate(MATRIX_ROLES):
        signer = MATRIX_ROLES[(index + 1) % len(MATRIX_ROLES)]
        typed = _typed(unrelayed_client, matrix.keys[signer], kind, body(kind, signer, world, prep))
        signature = _sign(world.parties[signer].private_key, typed)
        headers = auth(matrix.keys[role])
        response = unrelayed_client.post(
            f"{KIND_PATHS[kind]}/signed",
            json={"message": typed["message"], "signature": signature},
            headers=headers,
        )
        signed_route[role] = _outcome(response)
        response = unrelayed_client.post(
            "/records",
            json={"kind": kind.value, "payload": typed["message"], "signature": signature},
            headers=headers,
        )
        records_route[role] = _outcome(response)
    refused = dict.fromkeys(MATRIX_ROLES, (403, "wrong_organisation"))
    assert signed_route == refused
    assert records_route == refused


def test_execution_cannot_name_another_organisation(
    unrelayed_client: httpx.Client, ledger: Ledger, matrix: Matrix
) -> None:
    """An execution is unsigned: it acts for the caller, whose record it is."""
    world = matrix.world
    prep = prepare(ledger, world, RecordKind.EXECUTION)
    response = unrelayed_client.post(
        KIND_PATHS[RecordKind.EXECUTION],
        json=body(RecordKind.EXECUTION, "cn", world, prep),
        headers=auth(matrix.keys["cn"]),
    )
    assert response.status_code == 202
    assert response.json()["org_id"] == "0x" + world.parties["cn"].org_id.hex()


@pytest.mark.parametrize("kind", [RecordKind.KEY_ADDITION, RecordKind.KEY_REVOCATION], ids=str)
def test_key_records_naming_another_organisation_are_refused(
    kind: RecordKind, unrelayed_client: httpx.Client, ledger: Ledger, matrix: Matrix
) -> None:
    """A key record whose ``orgId`` is another organisation's, signed by the caller's own
    (valid) key: no organisation adds or revokes another's keys, whichever route it takes."""
    world = matrix.world
    prep = prepare(ledger, world, kind)
    signed_route, records_route, custodial_route = {}, {}, {}
    for index, role in enumerate(MATRIX_ROLES):
        other = world.parties[MATRIX_ROLES[(index + 1) % len(MATRIX_ROLES)]]
        key = matrix.keys[role]
        typed = _typed(unrelayed_client, key, kind, body(kind, role, world, prep))
        assert typed["message"]["orgId"] == org_hex(world.parties[role])
        typed["message"]["orgId"] = org_hex(other)
        if kind is RecordKind.KEY_REVOCATION:
            typed["message"]["key"] = other.address  # revoke the other's key
        signature = _sign(world.parties[role].private_key, typed)
        response = unrelayed_client.post(
            f"{KIND_PATHS[kind]}/signed",
            json={"message": typed["message"], "signature": signature},
            headers=auth(key),
        )
        signed_route[role] = (*_outcome(response), response.json()["error"].get("field"))
        response = unrelayed_client.post(
            "/records",
            json={"kind": kind.value, "payload": typed["message"], "signature": signature},
            headers=auth(key),
        )
        records_route[role] = _outcome(response)
        # The custodial route has no field to name an organisation: it is the API key's.
        data = {**body(kind, role, world, prep), "org_id": org_hex(other)}
        response = unrelayed_client.post(KIND_PATHS[kind], json=data, headers=auth(key))
        error = response.json()["error"]
        custodial_route[role] = (response.status_code, error["field"], error["rule"])
    assert signed_route == dict.fromkeys(MATRIX_ROLES, (403, "wrong_organisation", "orgId"))
    assert records_route == dict.fromkeys(MATRIX_ROLES, (403, "wrong_organisation"))
    assert custodial_route == dict.fromkeys(MATRIX_ROLES, (422, "org_id", "extra_forbidden"))


def test_events_on_a_consignment_the_trader_is_no_party_to(
    unrelayed_client: httpx.Client, ledger: Ledger, matrix: Matrix
) -> None:
    """The exporter posts events on the demo consignment, which it consigns (the matrix); on
    a consignment between other parties it is refused. Carriers, postal operators and customs
    post on any consignment; the registrant is a party."""
    world = matrix.world
    p = world.parties
    ref = f"NOT-THE-EXPORTERS-{secrets.token_hex(4)}"
    registration = ConsignmentRegistration(
        reference_hash=reference_hash(ref),
        origin=b"AU",
        destination=b"CN",
        consignor=p["chamber"].org_id,
        deadline=chain_now(ledger) + 3600,
    )
    ledger.consignments.register(ledger.sign(registration, p["carrier"].private_key))
    prep = prepare(ledger, world, RecordKind.EVENT)
    event = {**body(RecordKind.EVENT, "exporter", world, prep), "consignment_ref": ref}
    got = {
        role: _outcome(
            unrelayed_client.post(
                KIND_PATHS[RecordKind.EVENT], json=event, headers=auth(matrix.keys[role])
            )
        )
        for role in MATRIX_ROLES
    }
    assert got == {
        "au": (202, None),
        "cn": (202, None),
        "carrier": (202, None),
        "exporter": (403, "NotConsignmentParty"),
        "chamber": (202, None),  # the consignor of this one
        "postal": (202, None),
    }
    # Signed by the exporter itself (not custodially), the answer is the same.
    typed = _typed(unrelayed_client, matrix.keys["exporter"], RecordKind.EVENT, event)
    response = unrelayed_client.post(
        f"{KIND_PATHS[RecordKind.EVENT]}/signed",
        json={"message": typed["message"], "signature": _sign(p["exporter"].private_key, typed)},
        headers=auth(matrix.keys["exporter"]),
    )
    assert _outcome(response) == (403, "NotConsignmentParty")
