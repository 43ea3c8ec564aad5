"""Every write route refuses, at the HTTP level, what the chain would refuse or what is not a
record at all: a signer that is no member's key, a revoked key, an expired key, a replayed
record, an altered message, malformed input. (Wrong roles: ``test_authorisation``.)
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from gateway.auth import IssuedKey
from gateway.writes.kinds import KIND_PATHS, decode, decode_record
from gateway.writes.outbox import RecordKind
from ledger.chain import Ledger
from ledger.records import (
    ConsignmentRegistration,
    KeyAddition,
    KeyRevocation,
    Proposal,
    consignment_id,
    reference_hash,
)
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import (
    BODY_KINDS,
    DAY,
    allowed_role,
    body,
    chain_now,
    iso,
    prepare,
    status_and_code,
)
from tests.gateway.conftest import auth

SIGNED_KINDS = [k for k in BODY_KINDS if k is not RecordKind.EXECUTION]


def _typed(client: httpx.Client, key: IssuedKey, kind: RecordKind, data: dict[str, Any]) -> Any:
    response = client.post(f"/typed-data/{kind.value}", json=data, headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()["typed_data"]


def _signed_body(typed: Any, private_key: str | bytes) -> dict[str, Any]:
    signature = Account.sign_typed_data(private_key, full_message=typed).signature
    return {"message": typed["message"], "signature": "0x" + bytes(signature).hex()}


def _extra_keys(ledger: Ledger, world: DemoWorld, role: str) -> tuple[LocalAccount, LocalAccount]:
    """Two more keys of ``role``'s organisation on chain: one revoked, one expired."""
    party = world.parties[role]
    revoked, expiring = Account.create(), Account.create()
    now = chain_now(ledger)
    for key, until in ((revoked, now + 365 * DAY), (expiring, now + 5)):
        # Valid from a day back, so that records dated "now" on any clock are covered.
        addition = KeyAddition(
            org_id=party.org_id, key=key.address, valid_from=now - DAY, valid_until=until
        )
        ledger.membership.add_key(ledger.sign(addition, party.private_key))
    revocation = KeyRevocation(
        org_id=party.org_id, key=revoked.address, deadline=chain_now(ledger) + 3600
    )
    ledger.membership.revoke_key(ledger.sign(revocation, party.private_key))
    # Past the expiring key's end (an absolute time: increaseTime is relative to an offset
    # that evm_revert resets).
    later = max(chain_now(ledger), now) + 30
    ledger.w3.provider.make_request("evm_setNextBlockTimestamp", [later])  # type: ignore[arg-type]
    ledger.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    return revoked, expiring


def _spare_key(ledger: Ledger, world: DemoWorld, role: str) -> str:
    party = world.parties[role]
    spare = Account.create()
    now = chain_now(ledger)
    addition = KeyAddition(
        org_id=party.org_id, key=spare.address, valid_from=now - 60, valid_until=now + DAY
    )
    ledger.membership.add_key(ledger.sign(addition, party.private_key))
    return str(spare.address)


@pytest.mark.parametrize("kind", SIGNED_KINDS, ids=str)
def test_bad_signers_are_refused(
    kind: RecordKind,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    role = allowed_role(kind)
    prep = prepare(ledger, world, kind)
    revoked, expired = _extra_keys(ledger, world, role)
    key = party_keys[role]
    path = f"{KIND_PATHS[kind]}/signed"
    data = body(kind, role, world, prep)
    if kind is RecordKind.KEY_REVOCATION:
        data = {"key": _spare_key(ledger, world, role)}  # the one the tests above do not use
    typed = _typed(unrelayed_client, key, kind, data)

    stranger = unrelayed_client.post(
        path, json=_signed_body(typed, Account.create().key), headers=auth(key)
    )
    assert status_and_code(stranger) == (403, "UnknownKey")

    by_revoked = unrelayed_client.post(
        path, json=_signed_body(typed, revoked.key), headers=auth(key)
    )
    assert by_revoked.status_code == 403
    assert by_revoked.json()["error"]["code"] in {"KeyRevoked", "NotOrganisationKey"}

    by_expired = unrelayed_client.post(
        path, json=_signed_body(typed, expired.key), headers=auth(key)
    )
    assert by_expired.status_code == 403
    assert by_expired.json()["error"]["code"] in {"KeyExpired", "NotOrganisationKey"}

    # A genuine signature moved onto an altered message recovers to some other address.
    genuine = _signed_body(typed, world.parties[role].private_key)
    altered = dict(genuine, message=dict(genuine["message"]))
    name, value = next(iter(altered["message"].items()))
    if isinstance(value, int):
        altered["message"][name] = value + 1
    elif value.startswith("0x"):
        altered["message"][name] = value[:-2] + ("00" if value[-2:] != "00" else "01")
    else:
        altered["message"][name] = value + " (altered)"
    assert status_and_code(unrelayed_client.post(path, json=altered, headers=auth(key))) == (
        403,
        "UnknownKey",
    )

    # And the genuine one is accepted: the refusals above were about the signer only.
    assert unrelayed_client.post(path, json=genuine, headers=auth(key)).status_code == 202


@pytest.mark.parametrize("kind", BODY_KINDS, ids=str)
def test_a_record_already_on_chain_is_refused(
    kind: RecordKind,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """A signed record replayed to this gateway after it was recorded (by any relayer) is
    refused with the contract's duplicate or state error: 409, never a second record."""
    role = allowed_role(kind)
    prep = prepare(ledger, world, kind)
    key = party_keys[role]
    data = body(kind, role, world, prep)
    if kind is RecordKind.EXECUTION:
        proposal = decode_record(kind, data["proposal"])
        assert isinstance(proposal, Proposal)
        ledger.membership.execute(proposal)
        response = unrelayed_client.post(KIND_PATHS[kind], json=data, headers=auth(key))
        assert status_and_code(response) == (409, "ProposalAlreadyExecuted")
        return
    if kind is RecordKind.KEY_REVOCATION:
        data = {"key": _spare_key(ledger, world, role)}
    signed_body = _signed_body(
        _typed(unrelayed_client, key, kind, data), world.parties[role].private_key
    )
    ledger.submit(decode(kind, signed_body["message"], signed_body["signature"]))
    response = unrelayed_client.post(
        f"{KIND_PATHS[kind]}/signed", json=signed_body, headers=auth(key)
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"]["rule"] == "contract"


MALFORMED: dict[RecordKind, tuple[dict[str, Any], str, str]] = {
    # kind: (fields to change, field named in the error, rule named in the error)
    RecordKind.CONSIGNMENT: ({"origin": "XZ"}, "origin", "iso3166_alpha2"),
    RecordKind.EVENT: ({"container": "CSQU3054384"}, "container", "iso6346"),
    RecordKind.CERTIFICATE_ISSUE: ({"hs_codes": ["2204.2"]}, "hs_codes.0", "hs2022"),
    RecordKind.CERTIFICATE_REVOKE: (
        {"certificate_number": ""},
        "certificate_number",
        "string_too_short",
    ),
    RecordKind.DRAWDOWN: (
        {"quantity": {"amount": "-5", "unit": "LTR"}},
        "quantity",
        "quantity",
    ),
    RecordKind.SCHEMA: ({"definition": ""}, "definition", "string_too_short"),
    RecordKind.ATTESTATION: ({"subject_type": "ship"}, "subject_type", "literal_error"),
    RecordKind.ATTESTATION_REVOKE: ({"uid": "0x1234"}, "uid", "string_pattern_mismatch"),
    RecordKind.AEO_ACTION: ({"programme": "AEOX"}, "programme", "literal_error"),
    RecordKind.MRA_PROPOSAL: ({"programmes": []}, "programmes", "too_short"),
    RecordKind.MRA_ACCEPTANCE: ({"mra_id": "mra-1"}, "mra_id", "string_pattern_mismatch"),
    RecordKind.MRA_TERMINATION: ({"mra_id": "0x" + "zz" * 32}, "mra_id", "string_pattern_mismatch"),
    RecordKind.PROPOSAL: ({"action": "dissolve"}, "action", "literal_error"),
    RecordKind.APPROVAL: ({"proposal_id": 7}, "proposal_id", "string_type"),
    RecordKind.EXECUTION: (
        {"proposal": {"action": 5}},
        "orgId",
        "is required in a Proposal record",
    ),
    RecordKind.KEY_ADDITION: ({"key": "0x1234"}, "key", "string_pattern_mismatch"),
    RecordKind.KEY_REVOCATION: ({"key": "carrier key"}, "key", "string_pattern_mismatch"),
    RecordKind.DECLARATION: ({"origin_country": "XZ"}, "origin_country", "iso3166_alpha2"),
}


@pytest.mark.parametrize("kind", BODY_KINDS, ids=str)
def test_malformed_input_is_422_naming_field_and_rule(
    kind: RecordKind,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    role = allowed_role(kind)
    prep = prepare(ledger, world, kind)
    change, field, rule = MALFORMED[kind]
    data = {**body(kind, role, world, prep), **change}
    response = unrelayed_client.post(KIND_PATHS[kind], json=data, headers=auth(party_keys[role]))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["field"], error["rule"]) == (field, rule)


@pytest.mark.parametrize("kind", SIGNED_KINDS, ids=str)
def test_malformed_signed_submissions_are_422(
    kind: RecordKind,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    role = allowed_role(kind)
    prep = prepare(ledger, world, kind)
    key = party_keys[role]
    path = f"{KIND_PATHS[kind]}/signed"
    typed = _typed(unrelayed_client, key, kind, body(kind, role, world, prep))
    good = _signed_body(typed, world.parties[role].private_key)

    short = unrelayed_client.post(path, json=dict(good, signature="0x1234"), headers=auth(key))
    assert short.status_code == 422
    assert short.json()["error"]["field"] == "signature"

    # The high-s twin of a valid signature (EIP-2 malleability) is refused, not recovered.
    raw = bytes.fromhex(good["signature"][2:])
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = (n - int.from_bytes(raw[32:64], "big")).to_bytes(32, "big")
    twin = raw[:32] + high_s + bytes([55 - raw[64]])
    malleable = unrelayed_client.post(
        path, json=dict(good, signature="0x" + twin.hex()), headers=auth(key)
    )
    assert (malleable.status_code, malleable.json()["error"]["rule"]) == (422, "signature")

    missing = dict(
        good, message={k: v for k, v in good["message"].items() if k != next(iter(good["message"]))}
    )
    incomplete = unrelayed_client.post(path, json=missing, headers=auth(key))
    assert incomplete.status_code == 422
    assert incomplete.json()["error"]["field"] == next(iter(good["message"]))


def test_bulk_items_fail_alone_with_their_own_errors(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    prep = prepare(ledger, world, RecordKind.EVENT)
    good = body(RecordKind.EVENT, "carrier", world, prep)
    unknown = dict(good, consignment_ref=f"NO-SUCH-{secrets.token_hex(4)}")
    response = unrelayed_client.post(
        "/events/bulk",
        json={"items": [good, unknown, dict(good, biz_step="departing")]},
        headers=auth(party_keys["carrier"]),
    )
    assert response.status_code == 207
    result = response.json()
    assert (result["accepted"], result["rejected"]) == (2, 1)
    assert [i["status"] for i in result["items"]] == [202, 404, 202]
    assert result["items"][1]["error"]["code"] == "UnknownConsignment"


def test_bulk_is_limited_to_1000_items(
    unrelayed_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    item = {"message": {}, "signature": "0x" + "11" * 64 + "1b"}
    response = unrelayed_client.post(
        "/events/bulk", json={"items": [item] * 1001}, headers=auth(party_keys["carrier"])
    )
    assert response.status_code == 422
    assert (response.json()["error"]["field"], response.json()["error"]["rule"]) == (
        "items",
        "too_long",
    )


def test_bulk_judges_a_bad_location_or_seal_in_one_item_alone(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    prep = prepare(ledger, world, RecordKind.EVENT)
    good = body(RecordKind.EVENT, "carrier", world, prep)
    bad_place = dict(good, location="XXQQQ1")
    bad_seal = dict(good, seals=["ML-AU \u202e7654321"])
    response = unrelayed_client.post(
        "/events/bulk",
        json={"items": [good, bad_place, bad_seal, dict(good, biz_step="departing"), 7]},
        headers=auth(party_keys["carrier"]),
    )
    assert response.status_code == 207, response.text
    result = response.json()
    assert (result["accepted"], result["rejected"]) == (2, 3)
    items = result["items"]
    assert [i["status"] for i in items] == [202, 422, 422, 202, 422]
    assert items[1]["error"]["field"] == "items[1].location"
    assert items[2]["error"]["field"] == "items[2].seals.0"
    assert items[2]["error"]["rule"] == "control_character"
    assert items[4]["error"]["field"].startswith("items[4]")


@pytest.mark.parametrize("text", ["ML-AU\u0000123", "AU\u202eUCR", "AU\u200bUCR", "A\x07B"])
def test_control_and_format_characters_are_refused_in_references_and_seals(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
    text: str,
) -> None:
    prep = prepare(ledger, world, RecordKind.EVENT)
    good = body(RecordKind.EVENT, "carrier", world, prep)
    for bad, field in (
        (dict(good, seals=[text]), "seals.0"),
        (
            {**{k: v for k, v in good.items() if k != "consignment_id"}, "consignment_ref": text},
            "consignment_ref",
        ),
    ):
        response = unrelayed_client.post("/events", json=bad, headers=auth(party_keys["carrier"]))
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert (error["field"], error["rule"]) == (field, "control_character")


def test_a_contract_refusal_names_the_field(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    prep = prepare(ledger, world, RecordKind.EVENT)
    good = body(RecordKind.EVENT, "carrier", world, prep)
    future = dict(good, event_time=iso(chain_now(ledger) + 30 * DAY))
    response = unrelayed_client.post("/events", json=future, headers=auth(party_keys["carrier"]))
    assert status_and_code(response) == (422, "RecordTimeInFuture")
    assert response.json()["error"]["field"] == "event_time"
    unknown = dict(good, consignment_ref=f"NO-SUCH-{secrets.token_hex(4)}")
    response = unrelayed_client.post("/events", json=unknown, headers=auth(party_keys["carrier"]))
    assert status_and_code(response) == (404, "UnknownConsignment")
    assert response.json()["error"]["field"] == "consignment_ref"


@pytest.mark.parametrize(
    ("name", "path", "field"),
    [
        ("RecordTimeInFuture", "/events", "event_time"),
        ("RecordTimeInFuture", "/events/signed", "message.eventTime"),
        ("RecordTimeInFuture", "/certificates", "issued_at"),
        ("RecordTimeInFuture", "/records", None),  # which record's time: the kind says
        ("InvalidValidity", "/aeo/actions", "valid_until"),
        ("InvalidValidity", "/aeo/actions/signed", "message.validUntil"),
        ("DeadlineExpired", "/records", "payload.deadline"),
        ("KeyRevoked", "/events", None),  # the signer's key, not a field of the request
    ],
)
def test_contract_errors_map_to_the_request_field(name: str, path: str, field: str | None) -> None:
    from gateway.errors import contract_error_field

    assert contract_error_field(name, path) == field


def test_a_certificate_issue_answers_the_certificate_id(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    from ledger.records import certificate_id

    role = allowed_role(RecordKind.CERTIFICATE_ISSUE)
    prep = prepare(ledger, world, RecordKind.CERTIFICATE_ISSUE)
    data = body(RecordKind.CERTIFICATE_ISSUE, role, world, prep)
    response = unrelayed_client.post("/certificates", json=data, headers=auth(party_keys[role]))
    assert response.status_code == 202, response.text
    issuer = world.parties[role].org_id
    expected = "0x" + certificate_id(issuer, data["certificate_number"]).hex()
    assert response.json()["certificate_id"] == expected
    record = unrelayed_client.get(
        f"/records/{response.json()['record_id']}", headers=auth(party_keys[role])
    )
    assert record.json()["certificate_id"] == expected


def test_bulk_with_not_one_event_shaped_item_is_422(
    unrelayed_client: httpx.Client, party_keys: dict[str, IssuedKey]
) -> None:
    response = unrelayed_client.post(
        "/events/bulk",
        json={"items": [{"message": {}}, {"location": "AUADL"}]},
        headers=auth(party_keys["carrier"]),
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"].startswith("items[0]")


def test_a_reference_several_organisations_registered_must_name_its_registrant(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """A consignment id is bound to its registrant, so a public reference that a competitor
    registered too names two consignments: a caller who registered neither must say whose
    (409 naming the field), the registrant itself gets its own, and naming the registrant
    picks that one."""
    prep = prepare(ledger, world, RecordKind.EVENT)
    ref = f"SHARED-{secrets.token_hex(4)}"
    carrier, competitor = world.parties["carrier"], world.parties["exporter"]
    for party in (competitor, carrier):  # the competitor first: it pre-empts nothing
        registration = ConsignmentRegistration(
            reference_hash=reference_hash(ref),
            origin=b"AU",
            destination=b"CN",
            deadline=chain_now(ledger) + 3600,
        )
        ledger.consignments.register(ledger.sign(registration, party.private_key))
    carriers = "0x" + consignment_id(ref, registrant=carrier.org_id).hex()
    event = dict(body(RecordKind.EVENT, "au", world, prep), consignment_ref=ref)

    response = unrelayed_client.post("/events", json=event, headers=auth(party_keys["au"]))
    assert status_and_code(response) == (409, "ambiguous_consignment_ref")
    assert response.json()["error"]["field"] == "consignment_ref"

    named = dict(event, consignment_registrant="0x" + carrier.org_id.hex())
    typed = _typed(unrelayed_client, party_keys["au"], RecordKind.EVENT, named)
    assert typed["message"]["consignmentId"] == carriers
    response = unrelayed_client.post("/events", json=named, headers=auth(party_keys["au"]))
    assert response.status_code == 202, response.text

    own = _typed(unrelayed_client, party_keys["carrier"], RecordKind.EVENT, event)
    assert own["message"]["consignmentId"] == carriers


def test_a_registration_names_its_reference_not_an_id(
    unrelayed_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    data = {"consignment_id": "0x" + "ab" * 32, "origin": "AU", "destination": "CN"}
    response = unrelayed_client.post(
        "/consignments", json=data, headers=auth(party_keys["carrier"])
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "consignment_ref"
