"""Control and format characters are refused (422, rule ``control_character``, naming the
field) in the messages clients send as they are: a governance proposal to execute, the
EIP-712 message of a signed governance, AEO or MRA record, and the items of a signed batch,
as they are in the custodial bodies' text."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.auth import Scope
from gateway.writes.kinds import KIND_PATHS
from gateway.writes.outbox import RecordKind
from tests.gateway.conftest import SIGNATURE, KeyMaker, auth

TEXTS = ["0x5347\u0000", "\u202e0x5347", "0x53\u200b47", "0x\x075347"]
SCOPES = (Scope.GOVERNANCE_WRITE, Scope.AEO_WRITE, Scope.EVENTS_WRITE, Scope.READ)
PROPOSAL: dict[str, Any] = {
    "action": 1,
    "orgId": "0x" + "0b" * 32,
    "kind": 2,
    "country": "0x5347",
    "account": "0x" + "5a" * 20,
    "validFrom": 1795392000,
    "validUntil": 1953158400,
    "threshold": 0,
    "expiresAt": 1796000000,
    "salt": "0x" + "00" * 32,
    "subject": "0x" + "00" * 32,
}
SIGNED_GOVERNANCE = [
    RecordKind.PROPOSAL,
    RecordKind.APPROVAL,
    RecordKind.KEY_ADDITION,
    RecordKind.KEY_REVOCATION,
    RecordKind.AEO_ACTION,
    RecordKind.MRA_PROPOSAL,
    RecordKind.MRA_ACCEPTANCE,
    RecordKind.MRA_TERMINATION,
]


def _refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["field"], error["rule"]) == (field, "control_character"), error


@pytest.mark.parametrize("text", TEXTS)
def test_a_proposal_to_execute_is_refused_with_control_characters(
    client: httpx.Client, make_key: KeyMaker, text: str
) -> None:
    headers = auth(make_key(scopes=SCOPES, org_kind="customs", country="AU"))
    response = client.post(
        "/governance/executions", json={"proposal": dict(PROPOSAL, country=text)}, headers=headers
    )
    _refused(response, "proposal.country")
    nested = dict(PROPOSAL, extra={"note": ["ok", text]})
    response = client.post("/governance/executions", json={"proposal": nested}, headers=headers)
    _refused(response, "proposal.extra")
    named = {**PROPOSAL, f"note{text}": 1}
    response = client.post("/governance/executions", json={"proposal": named}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["rule"] == "control_character"
    assert response.json()["error"]["field"].startswith("proposal.")


@pytest.mark.parametrize("kind", SIGNED_GOVERNANCE, ids=lambda k: k.value)
def test_a_signed_governance_message_is_refused_with_control_characters(
    client: httpx.Client, make_key: KeyMaker, kind: RecordKind
) -> None:
    headers = auth(make_key(scopes=SCOPES, org_kind="customs", country="AU"))
    for text in TEXTS:
        body = {"message": dict(PROPOSAL, salt=text), "signature": SIGNATURE}
        response = client.post(f"{KIND_PATHS[kind]}/signed", json=body, headers=headers)
        _refused(response, "message.salt")


def test_the_items_of_a_signed_batch_are_refused_with_control_characters(
    client: httpx.Client, make_key: KeyMaker
) -> None:
    headers = auth(make_key(scopes=SCOPES))
    body = {"events": [{"location": "0x4155\u202e41444c"}], "signature": SIGNATURE}
    _refused(client.post("/events/batch/signed", json=body, headers=headers), "events.0.location")
