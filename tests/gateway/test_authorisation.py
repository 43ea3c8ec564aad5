"""The authorisation matrix: every write route x every kind of organisation x acting for its
own organisation or for another, on the seeded demo world.

Own organisation: the party's API key and a record signed (custodially) with the party's own
key; the answer is the domain's rule (``chain_cases.EXPECTED``). Another organisation: the
party's API key with a record signed by another member's key (its typed data, signed by it,
sent to the ``/signed`` route): always 403 ``wrong_organisation``.
"""

from __future__ import annotations

import httpx
import pytest
from eth_account import Account

from gateway.auth import IssuedKey
from gateway.kinds import KIND_PATHS
from gateway.outbox import RecordKind
from ledger.client import Ledger
from ledger.demo import DemoWorld
from tests.gateway.chain_cases import EXPECTED, ROLES, body, prepare
from tests.gateway.conftest import auth

SIGNED_KINDS = [k for k in RecordKind if k is not RecordKind.EXECUTION]


def _outcome(response: httpx.Response) -> tuple[int, str | None]:
    if response.status_code == 202:
        return 202, None
    return response.status_code, response.json()["error"]["code"]


@pytest.mark.parametrize("kind", list(RecordKind), ids=str)
def test_own_organisation_matrix(
    kind: RecordKind,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    prep = prepare(ledger, world, kind)
    got = {}
    for role in ROLES:
        response = unrelayed_client.post(
            KIND_PATHS[kind], json=body(kind, role, world, prep), headers=auth(party_keys[role])
        )
        got[role] = _outcome(response)
    assert got == EXPECTED[kind]


@pytest.mark.parametrize("kind", SIGNED_KINDS, ids=str)
def test_acting_for_another_organisation_is_refused(
    kind: RecordKind,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    prep = prepare(ledger, world, kind)
    got = {}
    for index, role in enumerate(ROLES):
        signer = ROLES[(index + 1) % len(ROLES)]
        typed = unrelayed_client.post(
            f"/typed-data/{kind.value}",
            json=body(kind, signer, world, prep),
            headers=auth(party_keys[signer]),
        )
        assert typed.status_code == 200, typed.text
        data = typed.json()["typed_data"]
        signature = Account.sign_typed_data(
            world.parties[signer].private_key, full_message=data
        ).signature
        response = unrelayed_client.post(
            f"{KIND_PATHS[kind]}/signed",
            json={"message": data["message"], "signature": "0x" + bytes(signature).hex()},
            headers=auth(party_keys[role]),
        )
        got[role] = _outcome(response)
    assert got == dict.fromkeys(ROLES, (403, "wrong_organisation"))


def test_execution_cannot_name_another_organisation(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """An execution is unsigned: it acts for the caller, whose record it is."""
    prep = prepare(ledger, world, RecordKind.EXECUTION)
    response = unrelayed_client.post(
        KIND_PATHS[RecordKind.EXECUTION],
        json=body(RecordKind.EXECUTION, "cn", world, prep),
        headers=auth(party_keys["cn"]),
    )
    assert response.status_code == 202
    assert response.json()["org_id"] == "0x" + world.parties["cn"].org_id.hex()
