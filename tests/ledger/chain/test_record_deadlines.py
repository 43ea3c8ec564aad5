"""The deadline of consignment registrations, certificate revocations, drawdowns and key
revocations through the library on the session chain: refused once passed (``DeadlineExpired``,
named per item in batches, also inside a batch-signed list of drawdowns), accepted up to it,
and no part of the record's id, so a record signed again with a new deadline is still a
duplicate."""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest
from eth_account import Account

from ledger.chain import Ledger
from ledger.chain import contract_errors as ce
from ledger.records import (
    CertificateRevocation,
    ConsignmentRegistration,
    Drawdown,
    KeyAddition,
    KeyRevocation,
    consignment_id,
    reference_hash,
)
from ledger.stack import DemoWorld

DAY = 86_400


def now(ledger: Ledger) -> int:
    return int(ledger.w3.eth.get_block("latest")["timestamp"])


def _registration(ledger: Ledger, world: DemoWorld, *, deadline: int) -> ConsignmentRegistration:
    return ConsignmentRegistration(
        reference_hash=reference_hash(f"UCR-DEADLINE-{secrets.token_hex(4)}"),
        origin=b"AU",
        destination=b"CN",
        consignor=world.parties["exporter"].org_id,  # drawn on: the exporter must be a party
        deadline=deadline,
    )


def _registered(ledger: Ledger, world: DemoWorld, count: int) -> list[bytes]:
    carrier = world.parties["carrier"]
    records = [_registration(ledger, world, deadline=now(ledger) + 3600) for _ in range(count)]
    ledger.consignments.register_batch([ledger.sign(r, carrier.private_key) for r in records])
    return [r.consignment_id_for(carrier.org_id) for r in records]


def test_a_registration_past_its_deadline_is_refused(ledger: Ledger, world: DemoWorld) -> None:
    carrier = world.parties["carrier"]
    late = _registration(ledger, world, deadline=now(ledger) - 1)
    with pytest.raises(ce.DeadlineExpired):
        ledger.submit(ledger.sign(late, carrier.private_key))
    assert not ledger.consignments.exists(late.consignment_id_for(carrier.org_id))

    fresh = _registration(ledger, world, deadline=now(ledger) + 3600)
    with pytest.raises(ce.BatchItemFailed) as failed:
        ledger.consignments.register_batch(
            [ledger.sign(r, carrier.private_key) for r in (fresh, late)]
        )
    assert failed.value.index == 1
    assert isinstance(failed.value.cause, ce.DeadlineExpired)
    assert not ledger.consignments.exists(fresh.consignment_id_for(carrier.org_id))


def test_a_registration_signed_again_later_is_the_same_consignment(
    ledger: Ledger, world: DemoWorld
) -> None:
    carrier = world.parties["carrier"]
    first = _registration(ledger, world, deadline=now(ledger) + 600)
    ledger.submit(ledger.sign(first, carrier.private_key))
    again = replace(first, deadline=now(ledger) + 7200)
    assert again.consignment_id_for(carrier.org_id) == first.consignment_id_for(carrier.org_id)
    with pytest.raises(ce.ConsignmentExists):
        ledger.submit(ledger.sign(again, carrier.private_key))


def test_a_drawdown_past_its_deadline_is_refused_alone_and_in_batches(
    ledger: Ledger, world: DemoWorld
) -> None:
    exporter = world.parties["exporter"]
    a, b = _registered(ledger, world, 2)
    t = now(ledger)
    fresh = Drawdown(
        certificate_id=world.certificate_id, consignment_id=a, quantity=5, deadline=t + 3600
    )
    late = replace(fresh, consignment_id=b, deadline=t - 1)
    with pytest.raises(ce.DeadlineExpired):
        ledger.submit(ledger.sign(late, exporter.private_key))
    with pytest.raises(ce.BatchItemFailed) as failed:
        ledger.certificates.draw_down_batch(
            [ledger.sign(d, exporter.private_key) for d in (fresh, late)]
        )
    assert (failed.value.index, type(failed.value.cause)) == (1, ce.DeadlineExpired)
    # Signed together: the batch's deadline is ahead, the item's own has passed.
    signed = ledger.sign_drawdown_batch([fresh, late], exporter.private_key, deadline=t + 3600)
    with pytest.raises(ce.BatchItemFailed) as failed:
        ledger.submit(signed)
    assert (failed.value.index, type(failed.value.cause)) == (1, ce.DeadlineExpired)
    assert ledger.certificates.drawn_for(world.certificate_id, a) == 0


def test_a_drawdown_signed_again_later_is_the_same_drawdown(
    ledger: Ledger, world: DemoWorld
) -> None:
    exporter = world.parties["exporter"]
    (cid,) = _registered(ledger, world, 1)
    first = Drawdown(
        certificate_id=world.certificate_id,
        consignment_id=cid,
        quantity=5,
        deadline=now(ledger) + 600,
    )
    ledger.submit(ledger.sign(first, exporter.private_key))
    with pytest.raises(ce.AlreadyDrawn):
        ledger.submit(
            ledger.sign(replace(first, deadline=now(ledger) + 7200), exporter.private_key)
        )
    assert ledger.certificates.drawn_for(world.certificate_id, cid) == 5


def test_a_certificate_revocation_past_its_deadline_is_refused(
    ledger: Ledger, world: DemoWorld
) -> None:
    chamber = world.parties["chamber"]
    revocation = CertificateRevocation(
        certificate_number=reference_hash(world.certificate_number), deadline=now(ledger) - 1
    )
    with pytest.raises(ce.DeadlineExpired):
        ledger.submit(ledger.sign(revocation, chamber.private_key))
    assert ledger.certificates.certificate(world.certificate_id).status == 1
    in_time = replace(revocation, deadline=now(ledger) + 600)
    ledger.submit(ledger.sign(in_time, chamber.private_key))
    assert ledger.certificates.certificate(world.certificate_id).status == 2
    with pytest.raises(ce.CertificateIsRevoked):
        ledger.submit(
            ledger.sign(replace(in_time, deadline=now(ledger) + 7200), chamber.private_key)
        )


def test_a_key_revocation_past_its_deadline_is_refused(ledger: Ledger, world: DemoWorld) -> None:
    carrier = world.parties["carrier"]
    spare = Account.create()
    t = now(ledger)
    ledger.submit(
        ledger.sign(
            KeyAddition(
                org_id=carrier.org_id, key=spare.address, valid_from=t - 60, valid_until=t + DAY
            ),
            carrier.private_key,
        )
    )
    revocation = KeyRevocation(org_id=carrier.org_id, key=spare.address, deadline=t - 1)
    with pytest.raises(ce.DeadlineExpired):
        ledger.submit(ledger.sign(revocation, carrier.private_key))
    assert ledger.membership.key_info(spare.address).revoked_at == 0
    ledger.submit(ledger.sign(replace(revocation, deadline=now(ledger) + 600), carrier.private_key))
    assert ledger.membership.key_info(spare.address).revoked_at > 0


def test_the_registration_log_carries_its_deadline(ledger: Ledger, world: DemoWorld) -> None:
    """The ConsignmentRegistered log carries the signed deadline, so the registration's digest
    (the first link of its hash chain) is the one that was signed."""
    carrier = world.parties["carrier"]
    record = _registration(ledger, world, deadline=now(ledger) + 1234)
    receipt = ledger.submit(ledger.sign(record, carrier.private_key))
    (log,) = [d for d in ledger.decode_logs(receipt.logs) if d.event == "ConsignmentRegistered"]
    assert log.args["deadline"] == record.deadline
    assert log.args["consignmentId"] == consignment_id(
        record.reference_hash, registrant=carrier.org_id
    )
