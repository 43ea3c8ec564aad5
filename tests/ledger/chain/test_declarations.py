"""Goods declarations on chain through the Python client: lodging, reading back against the
stored values' digest, amendments, and the contract's refusals mapped to Python errors."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from ledger.chain import Ledger
from ledger.chain import contract_errors as ce
from ledger.errors import ValidationError
from ledger.records import DeclarationValues, consignment_id, declaration_id, new_salt
from ledger.stack import DemoWorld


def _now(ledger: Ledger) -> int:
    return int(ledger.w3.eth.get_block("latest")["timestamp"])


def values(world: DemoWorld, **changes: Any) -> DeclarationValues:
    data: dict[str, Any] = {
        "declaration_number": f"CN-IMP-{secrets.token_hex(4)}",
        "date": "2026-12-06",
        "declarant": "0x" + world.parties["exporter"].org_id.hex(),
        "administration": "0x" + world.parties["cn"].org_id.hex(),
        "office": "2200",
        "procedure": "B",
        "import_type": "11",
        "transport_mode": "10",
        "importer": "IMP-1",
        "seller": "SELL-1",
        "courier": "",
        "hs6": "2204.21",
        "departure_country": "au",
        "origin_country": "AU",
        "tax_type": "FAU1",
        "preference_claimed": True,
        "certificate_issuer": "0x" + world.parties["chamber"].org_id.hex(),
        "certificate_number": world.certificate_number,
        "net_mass_kg": 4500,
        "item_price": "31500.00",
        "currency": "aud",
        "consignment_ref": world.consignment_ref,
        "consignment_registrant": "0x" + world.parties["carrier"].org_id.hex(),
    }
    data.update(changes)
    return DeclarationValues.parse(data)


def test_lodge_and_read_back(ledger: Ledger, world: DemoWorld) -> None:
    v = values(world)
    salt = new_salt()
    record = v.record(salt=salt, lodged_at=_now(ledger))
    assert record.certificate_id == world.certificate_id
    assert record.consignment_id == world.consignment_id
    declarant = world.parties["exporter"]
    ledger.submit(ledger.sign(record, declarant.private_key))
    did = declaration_id(declarant.org_id, v.declaration_number)
    assert ledger.declarations.declaration_id(declarant.org_id, record.declaration_ref) == did
    state = ledger.declarations.declaration(did)
    assert state.declarant == declarant.org_id
    assert state.administration == world.parties["cn"].org_id
    assert state.matches(v.record(salt=salt, lodged_at=record.lodged_at))
    # Values changed after lodgement no longer match what the chain fixed.
    lower = values(world, declaration_number=v.declaration_number, item_price="3150")
    assert not state.matches(lower.record(salt=salt, lodged_at=record.lodged_at))
    assert ledger.declarations.hash_declaration(record) == record.struct_hash()


def test_amendment_points_to_the_amended(ledger: Ledger, world: DemoWorld) -> None:
    declarant = world.parties["exporter"]
    first = values(world)
    r1 = first.record(salt=new_salt(), lodged_at=_now(ledger))
    ledger.submit(ledger.sign(r1, declarant.private_key))
    id1 = declaration_id(declarant.org_id, first.declaration_number)
    second = values(world, net_mass_kg="4400")
    r2 = second.record(salt=new_salt(), lodged_at=_now(ledger), amends=id1)
    ledger.submit(ledger.sign(r2, declarant.private_key))
    id2 = declaration_id(declarant.org_id, second.declaration_number)
    assert ledger.declarations.declaration(id1).amended_by == id2
    third = values(world).record(salt=new_salt(), lodged_at=_now(ledger), amends=id1)
    with pytest.raises(ce.AlreadyAmended):
        ledger.submit(ledger.sign(third, declarant.private_key))


def test_refusals(ledger: Ledger, world: DemoWorld) -> None:
    declarant = world.parties["exporter"]
    record = values(world).record(salt=new_salt(), lodged_at=_now(ledger))
    signed = ledger.sign(record, declarant.private_key)
    ledger.submit(signed)
    with pytest.raises(ce.DeclarationExists):
        ledger.submit(signed)
    other = values(world).record(salt=new_salt(), lodged_at=_now(ledger))
    with pytest.raises(ce.WrongKind):
        ledger.submit(ledger.sign(other, world.parties["cn"].private_key))
    with pytest.raises(ce.UnknownKey):
        ledger.submit(ledger.sign(other, "0x" + secrets.token_hex(32)))
    to_carrier = values(world, administration="0x" + world.parties["carrier"].org_id.hex())
    with pytest.raises(ce.NotAnAdministration):
        ledger.submit(
            ledger.sign(
                to_carrier.record(salt=new_salt(), lodged_at=_now(ledger)), declarant.private_key
            )
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hs6", "7700.10"),
        ("hs6", "22042"),
        ("origin_country", "XZ"),
        ("departure_country", "UK"),
        ("currency", "XYZ"),
        ("net_mass_kg", 0),
        ("item_price", "-5"),
        ("item_price", "NaN"),
        ("date", "06/12/2026"),
        ("declarant", "exporter"),
        ("certificate_number", ""),
        ("consignment_registrant", ""),  # a reference names no consignment without it
        ("consignment_registrant", "carrier"),
    ],
)
def test_values_refuse_bad_fields(world: DemoWorld, field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        values(world, **{field: value})
    assert info.value.field == field


def test_certificate_only_with_a_preference_claim(world: DemoWorld) -> None:
    with pytest.raises(ValidationError) as info:
        values(world, preference_claimed=False, certificate_issuer="")
    assert info.value.field == "certificate_number"
    plain = values(world, preference_claimed=False, certificate_issuer="", certificate_number="")
    assert plain.certificate_id() == bytes(32)


def test_digest_is_salted_and_canonical(world: DemoWorld) -> None:
    v = values(world, declaration_number="D-1")
    same = values(world, declaration_number="D-1", net_mass_kg="4500.000", currency="AUD")
    salt = new_salt()
    assert v.digest(salt) == same.digest(salt)
    assert v.digest(salt) != v.digest(new_salt())


def test_the_consignment_is_the_registrants(world: DemoWorld) -> None:
    """The declared consignment id is the reference as its registrant registered it."""
    carrier = world.parties["carrier"]
    v = values(world)
    assert v.consignment_id() == consignment_id(world.consignment_ref, registrant=carrier.org_id)
    assert v.consignment_id() == world.consignment_id
    with pytest.raises(ValidationError) as info:
        values(world, consignment_ref="")  # a registrant without a reference
    assert info.value.field == "consignment_registrant"
    none = values(world, consignment_ref="", consignment_registrant="")
    assert none.consignment_id() == bytes(32)
