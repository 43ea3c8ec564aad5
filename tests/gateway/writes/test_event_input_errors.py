"""Invalid event input on the custodial event route, over HTTP: 422 naming field and rule.

The library's value types (:class:`ledger.records.Locode`, :class:`ledger.records.BusinessStep`)
check the codes; these tests show the gateway answers with their field and rule, through the
real request models and exception handler (not a stand-in validator).
"""

from __future__ import annotations

import httpx
import pytest

from gateway.auth import IssuedKey
from gateway.writes.kinds import KIND_PATHS
from gateway.writes.outbox import RecordKind
from ledger.chain import Ledger
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import body, prepare
from tests.gateway.conftest import auth


@pytest.mark.parametrize(
    ("change", "field", "rule", "code"),
    [
        ({"location": "XXABC"}, "location", "unlocode", "invalid_locode"),
        ({"location": "NLRT"}, "location", "unlocode", "invalid_locode"),
        ({"biz_step": "teleporting"}, "biz_step", "cbv_bizstep", "invalid_business_step"),
    ],
    ids=["locode-unknown-country", "locode-too-short", "biz-step-not-cbv"],
)
def test_invalid_event_codes_are_422_naming_field_and_rule(
    change: dict[str, str],
    field: str,
    rule: str,
    code: str,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    prep = prepare(ledger, world, RecordKind.EVENT)
    path, headers = KIND_PATHS[RecordKind.EVENT], auth(party_keys["carrier"])
    good = body(RecordKind.EVENT, "carrier", world, prep)
    response = unrelayed_client.post(path, json={**good, **change}, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["field"], error["rule"], error["code"]) == (field, rule, code)
    assert repr(change[field]) in error["message"]
    # The same body with valid codes is accepted: the 422 is the code's, not the body's.
    assert unrelayed_client.post(path, json=good, headers=headers).status_code == 202
