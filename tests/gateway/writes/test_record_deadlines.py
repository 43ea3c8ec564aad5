"""The signed deadline of the records that carry one without a nonce (consignment registrations,
certificate revocations, drawdowns, key revocations, schemas, attestations and their
revocations, MRA proposals, acceptances and terminations) through the gateway: a custodial body
takes an optional ``deadline`` (default +24 h), a client signs it in the typed data, a deadline
already passed is a 422 naming the field, the same record signed again with a new deadline is
refused while the first is on its way, and a record whose deadline passes in the outbox fails
unsent."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from gateway.auth import IssuedKey
from gateway.models.record_fields import _DEADLINE_SECONDS
from gateway.writes.kinds import KIND_PATHS, record_id
from gateway.writes.outbox import Outbox, RecordKind, RecordStatus, Submitter
from gateway.writes.relayer import ContractRelayer
from ledger.chain import Ledger, TxManager
from ledger.records import (
    CertificateRevocation,
    ConsignmentRegistration,
    Drawdown,
    KeyAddition,
    KeyRevocation,
    Record,
    reference_hash,
)
from ledger.stack import DemoWorld
from tests.conftest import RELAYER_KEY
from tests.gateway.chain_cases import (
    DAY,
    allowed_role,
    assert_nothing_stored,
    body,
    chain_now,
    iso,
    prepare,
    status_and_code,
)
from tests.gateway.conftest import auth

DEADLINE_KINDS = [
    RecordKind.CONSIGNMENT,
    RecordKind.CERTIFICATE_REVOKE,
    RecordKind.DRAWDOWN,
    RecordKind.KEY_REVOCATION,
    RecordKind.SCHEMA,
    RecordKind.ATTESTATION,
    RecordKind.ATTESTATION_REVOKE,
    RecordKind.MRA_PROPOSAL,
    RecordKind.MRA_ACCEPTANCE,
    RecordKind.MRA_TERMINATION,
]
"""The kinds whose records carry a deadline of their own (no nonce)."""


def _body(
    kind: RecordKind, ledger: Ledger, world: DemoWorld, **extra: Any
) -> tuple[str, dict[str, Any]]:
    """A valid custodial body of ``kind`` and the role that may send it."""
    role = allowed_role(kind)
    data = body(kind, role, world, prepare(ledger, world, kind))
    if kind is RecordKind.KEY_REVOCATION:
        # a key of the organisation that the demo world does not sign with
        party, spare, t = world.parties[role], Account.create(), chain_now(ledger)
        addition = KeyAddition(
            org_id=party.org_id, key=spare.address, valid_from=t - 60, valid_until=t + DAY
        )
        ledger.membership.add_key(ledger.sign(addition, party.private_key))
        data = {"key": spare.address}
    return role, {**data, **extra}


def _typed(client: httpx.Client, key: IssuedKey, kind: RecordKind, data: dict[str, Any]) -> Any:
    response = client.post(f"/typed-data/{kind.value}", json=data, headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()["typed_data"]


@pytest.mark.parametrize("kind", DEADLINE_KINDS, ids=str)
def test_a_custodial_record_is_signed_with_a_deadline(
    kind: RecordKind,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """Without ``deadline`` the gateway signs now + 24 h; with one, that time."""
    role, data = _body(kind, ledger, world)
    before = chain_now(ledger)
    typed = _typed(unrelayed_client, party_keys[role], kind, data)
    fields = [f["name"] for f in typed["types"][typed["primaryType"]]]
    assert fields[-1] == "deadline"
    default = int(typed["message"]["deadline"])
    assert before + _DEADLINE_SECONDS <= default <= chain_now(ledger) + _DEADLINE_SECONDS + 5
    chosen = before + 2 * DAY
    typed = _typed(unrelayed_client, party_keys[role], kind, {**data, "deadline": iso(chosen)})
    assert int(typed["message"]["deadline"]) == chosen


@pytest.mark.parametrize("kind", DEADLINE_KINDS, ids=str)
def test_a_custodial_record_past_its_deadline_is_422(
    kind: RecordKind,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    role, data = _body(kind, ledger, world, deadline=iso(chain_now(ledger) - 3600))
    key = party_keys[role]
    response = unrelayed_client.post(KIND_PATHS[kind], json=data, headers=auth(key))
    assert status_and_code(response) == (422, "DeadlineExpired"), response.text
    assert response.json()["error"]["field"] == "deadline"
    assert_nothing_stored(unrelayed_client, key, kind.value)


@pytest.mark.parametrize("kind", DEADLINE_KINDS, ids=str)
def test_a_client_signed_record_past_its_deadline_is_422(
    kind: RecordKind,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """The deadline is in the typed data the client signs; signed and submitted after it
    (``POST .../signed`` or ``POST /records``), the record is refused naming it."""
    role, data = _body(kind, ledger, world, deadline=iso(chain_now(ledger) - 60))
    key = party_keys[role]
    typed = _typed(unrelayed_client, key, kind, data)
    signature = Account.sign_typed_data(world.parties[role].private_key, full_message=typed)
    hex_signature = "0x" + bytes(signature.signature).hex()

    signed = unrelayed_client.post(
        f"{KIND_PATHS[kind]}/signed",
        json={"message": typed["message"], "signature": hex_signature},
        headers=auth(key),
    )
    assert status_and_code(signed) == (422, "DeadlineExpired"), signed.text
    assert signed.json()["error"]["field"] == "message.deadline"

    relayed = unrelayed_client.post(
        "/records",
        json={"kind": kind.value, "payload": typed["message"], "signature": hex_signature},
        headers=auth(key),
    )
    assert status_and_code(relayed) == (422, "DeadlineExpired"), relayed.text
    assert relayed.json()["error"]["field"] == "payload.deadline"
    assert_nothing_stored(unrelayed_client, key, kind.value)


MALFORMED_CUSTODIAL = [
    1795509000,  # a number
    "1795509000",  # digits
    "2026-12-07T10:00:00",  # no offset
    "tomorrow",
    "10000-01-01T00:00:00Z",  # past uint40 and ISO 8601's four-digit years
]
MALFORMED_SIGNED = [2**40, -1, "soon", None]  # None: missing (a message of the type before)


@pytest.mark.parametrize("kind", DEADLINE_KINDS, ids=str)
def test_a_malformed_deadline_is_422_naming_it(
    kind: RecordKind,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """A custodial ``deadline`` that is no ISO time with an offset, and a signed message whose
    deadline is out of the uint40 range, no number or missing: 422 naming it, nothing stored."""
    role, data = _body(kind, ledger, world)
    key = party_keys[role]
    for deadline in MALFORMED_CUSTODIAL:
        response = unrelayed_client.post(
            KIND_PATHS[kind], json={**data, "deadline": deadline}, headers=auth(key)
        )
        assert response.status_code == 422, (deadline, response.text)
        assert response.json()["error"]["field"] == "deadline", deadline
    typed = dict(_typed(unrelayed_client, key, kind, data)["message"])
    for deadline in MALFORMED_SIGNED:
        message = dict(typed)
        if deadline is None:
            del message["deadline"]
        else:
            message["deadline"] = deadline
        response = unrelayed_client.post(
            f"{KIND_PATHS[kind]}/signed",
            json={"message": message, "signature": "0x" + "11" * 64 + "1b"},
            headers=auth(key),
        )
        assert response.status_code == 422, (deadline, response.text)
        # decoding names the field as the type does (the contract's refusals: message.deadline)
        assert response.json()["error"]["field"] == "deadline", (deadline, response.text)
    assert_nothing_stored(unrelayed_client, key, kind.value)


PENDING_DUPLICATE = {
    RecordKind.CONSIGNMENT: ("ConsignmentExists", "referenceHash"),
    RecordKind.CERTIFICATE_REVOKE: ("CertificateIsRevoked", "certificateNumber"),
    RecordKind.DRAWDOWN: ("AlreadyDrawn", "consignmentId"),
    RecordKind.KEY_REVOCATION: ("KeyAlreadyRevoked", "key"),
    RecordKind.SCHEMA: ("SchemaExists", "definition"),
    RecordKind.ATTESTATION: ("AttestationExists", None),
    RecordKind.ATTESTATION_REVOKE: ("AttestationAlreadyRevoked", "uid"),
    RecordKind.MRA_PROPOSAL: ("MraExists", None),
    RecordKind.MRA_ACCEPTANCE: ("MraNotPending", "mraId"),
    RecordKind.MRA_TERMINATION: ("MraAlreadyTerminated", "mraId"),
}


@pytest.mark.parametrize("kind", DEADLINE_KINDS, ids=str)
def test_a_record_signed_again_with_a_new_deadline_is_refused_while_the_first_is_pending(
    kind: RecordKind,
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """A custodial retry without an Idempotency-Key is signed with a new deadline: another
    record for the same consignment, certificate, (certificate, consignment) pair or key. While
    the first is on its way it is refused (409 naming the id); the same record again (same
    deadline, same record id) is the stored one."""
    t = chain_now(ledger)
    role, data = _body(kind, ledger, world, deadline=iso(t + 3600))
    key = party_keys[role]
    first = unrelayed_client.post(KIND_PATHS[kind], json=data, headers=auth(key))
    assert first.status_code == 202, first.text
    repeat = unrelayed_client.post(KIND_PATHS[kind], json=data, headers=auth(key))
    assert repeat.status_code == 202, repeat.text
    assert repeat.json()["record_id"] == first.json()["record_id"]
    again = unrelayed_client.post(
        KIND_PATHS[kind], json={**data, "deadline": iso(t + 7200)}, headers=auth(key)
    )
    code, field = PENDING_DUPLICATE[kind]
    assert status_and_code(again) == (409, code), again.text
    assert again.json()["error"].get("field") == field
    if kind is not RecordKind.DRAWDOWN:  # the balance check names no record
        assert first.json()["record_id"] in again.json()["error"]["message"]


def test_the_same_attestation_by_another_organisation_is_another_uid(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """The attestation uid covers the attester: the same content attested by another
    organisation while the first is on its way is its own attestation."""
    role, data = _body(RecordKind.ATTESTATION, ledger, world)
    deadline = {"deadline": iso(chain_now(ledger) + DAY)}
    path = KIND_PATHS[RecordKind.ATTESTATION]
    first = unrelayed_client.post(path, json={**data, **deadline}, headers=auth(party_keys[role]))
    assert first.status_code == 202, first.text
    other = "au" if role != "au" else "cn"
    second = unrelayed_client.post(path, json={**data, **deadline}, headers=auth(party_keys[other]))
    assert second.status_code == 202, second.text
    assert second.json()["record_id"] != first.json()["record_id"]


def _records(ledger: Ledger, world: DemoWorld, deadline: int) -> list[tuple[str, Record]]:
    """One record of each deadline kind, by a party that may sign it: (role, record)."""
    p = world.parties
    return [
        (
            "carrier",
            ConsignmentRegistration(
                reference_hash=reference_hash(f"LATE-{secrets.token_hex(4)}"),
                origin=b"AU",
                destination=b"CN",
                deadline=deadline,
            ),
        ),
        (
            "chamber",
            CertificateRevocation(
                certificate_number=reference_hash(world.certificate_number), deadline=deadline
            ),
        ),
        (
            "exporter",
            Drawdown(
                certificate_id=world.certificate_id,
                consignment_id=world.consignment_id,
                quantity=1,
                deadline=deadline,
            ),
        ),
        (
            "carrier",
            KeyRevocation(org_id=p["carrier"].org_id, key=p["carrier"].address, deadline=deadline),
        ),
    ]


def test_a_record_whose_deadline_passes_in_the_outbox_fails_unsent(
    ledger: Ledger, relayer_tx: TxManager, world: DemoWorld, tmp_path: Path
) -> None:
    """Accepted while its deadline was ahead, relayed after it: the relayer's pre-validation
    fails it (``DeadlineExpired``) and sends nothing, whatever else would have been wrong."""
    now = chain_now(ledger)
    accepted: dict[str, RecordKind] = {}
    with Outbox.open(f"sqlite:///{tmp_path / 'outbox.sqlite3'}") as outbox:
        for role, record in _records(ledger, world, deadline=now + 60):
            party = world.parties[role]
            signed = ledger.sign(record, party.private_key)
            org = "0x" + party.org_id.hex()
            rid = record_id(ledger, record, org_id=org)
            kind = {
                ConsignmentRegistration: RecordKind.CONSIGNMENT,
                CertificateRevocation: RecordKind.CERTIFICATE_REVOKE,
                Drawdown: RecordKind.DRAWDOWN,
                KeyRevocation: RecordKind.KEY_REVOCATION,
            }[type(record)]
            outbox.accept(
                org_id=org,
                kind=kind,
                record_id=rid,
                payload=record.json_message(),
                signature="0x" + signed.signature.hex(),
            )
            accepted[rid] = kind
        later = max(chain_now(ledger), now) + 120
        ledger.w3.provider.make_request("evm_setNextBlockTimestamp", [later])  # type: ignore[arg-type]
        ledger.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

        submitter = Submitter(outbox, ContractRelayer(ledger, relayer_tx, RELAYER_KEY), linger=0)
        for _ in range(3 * len(accepted)):
            submitter.run_once()
        for rid, kind in accepted.items():
            stored = outbox.get(rid)
            assert stored.status is RecordStatus.FAILED, (kind, stored)
            assert stored.error_code == "DeadlineExpired", (kind, stored.error_code)
            assert stored.tx_hash is None, kind
    assert ledger.membership.key_info(world.parties["carrier"].address).revoked_at == 0
    assert ledger.certificates.certificate(world.certificate_id).status == 1
