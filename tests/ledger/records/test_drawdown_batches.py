"""Batch-signed drawdowns (``Certificates.drawDownSignedBatch``) against the session anvil.

One DrawdownBatch signature covers a list of drawdowns: the Python type and hashes equal the
contract's, every drawdown is stored and logged exactly as if signed alone (so the index needs
nothing new), and every security rule is enforced with the right contract error.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.exceptions import ContractLogicError

from ledger.chain import MAX_TX_GAS, ROUTES, Ledger, decode_revert
from ledger.chain import contract_errors as ce
from ledger.errors import ValidationError
from ledger.index import Index
from ledger.records import (
    DRAWDOWN_BATCH_MAX,
    Approval,
    CertificateIssue,
    ConsignmentRegistration,
    Drawdown,
    DrawdownBatch,
    KeyAddition,
    Proposal,
    ProposalAction,
    SignedDrawdownBatch,
    certificate_id,
    consignment_id,
    drawdowns_hash,
    fixed_ascii,
    hash_typed_data,
    recover_typed_data,
    reference_hash,
    sign,
    sign_drawdown_batch,
)
from ledger.stack import DemoWorld, Party


def now(ledger: Ledger) -> int:
    return int(ledger.w3.eth.get_block("latest")["timestamp"])


def exporter(world: DemoWorld) -> Party:
    return world.parties["exporter"]


def register(ledger: Ledger, world: DemoWorld, count: int, *, tag: str = "") -> list[bytes]:
    """``count`` new consignments (registered in one batch by the carrier)."""
    label = tag or secrets.token_hex(4)
    refs = [reference_hash(f"UCR-DD-{label}-{i}") for i in range(count)]
    carrier = world.parties["carrier"]
    ids = [consignment_id(r, registrant=carrier.org_id) for r in refs]
    ledger.consignments.register_batch(
        [
            ledger.sign(
                ConsignmentRegistration(
                    reference_hash=r,
                    origin=b"AU",
                    destination=b"CN",
                    consignor=world.parties["exporter"].org_id,  # drawn on: the exporter's
                    deadline=now(ledger) + 3600,
                ),
                carrier.private_key,
            )
            for r in refs
        ]
    )
    return ids


def issue(ledger: Ledger, world: DemoWorld, count: int, *, quantity: int = 1000) -> list[bytes]:
    """``count`` new certificates of the demo exporter (issued in one batch by the chamber)."""
    chamber = world.parties["chamber"]
    t = now(ledger)
    label = secrets.token_hex(4)
    records = [
        CertificateIssue(
            certificate_number=keccak(text=f"CO-DD-{label}-{i}"),
            exporter=exporter(world).org_id,
            origin=b"AU",
            destination=b"CN",
            document_digest=keccak(text=f"document {label} {i}"),
            hs_codes_digest=keccak(b"220421"),
            quantity=quantity,
            unit=fixed_ascii("LTR", 8),
            valid_from=t - 3600,
            valid_until=t + 86400 * 30,
            issued_at=t,
        )
        for i in range(count)
    ]
    ledger.certificates.issue_batch([ledger.sign(r, chamber.private_key) for r in records])
    return [certificate_id(chamber.org_id, f"CO-DD-{label}-{i}") for i in range(count)]


def drawdowns(
    ledger: Ledger, world: DemoWorld, count: int = 3, *, quantity: int = 10
) -> list[Drawdown]:
    """``count`` drawdowns from the demo certificate, each on a new consignment."""
    return [
        Drawdown(
            certificate_id=world.certificate_id,
            consignment_id=c,
            quantity=quantity,
            deadline=now(ledger) + 3600,
        )
        for c in register(ledger, world, count)
    ]


def signed_batch(
    ledger: Ledger, world: DemoWorld, count: int = 3, *, key: bytes | str | None = None
) -> SignedDrawdownBatch:
    return ledger.sign_drawdown_batch(
        drawdowns(ledger, world, count),
        exporter(world).private_key if key is None else key,
        deadline=now(ledger) + 600,
    )


def govern(ledger: Ledger, world: DemoWorld, proposal: Proposal) -> None:
    """Propose (AU customs), approve (CN customs), execute."""
    ledger.membership.propose(ledger.sign(proposal, world.parties["au"].private_key))
    ledger.membership.approve(
        ledger.sign(Approval(proposal_id=proposal.proposal_id), world.parties["cn"].private_key)
    )
    ledger.membership.execute(proposal)


# ------------------------------------------------------------------------------------------
# Types and hashes equal the contract's
# ------------------------------------------------------------------------------------------


def test_typehash_equals_the_contract_constant(ledger: Ledger) -> None:
    assert DrawdownBatch.type_string() == "DrawdownBatch(bytes32 drawdownsHash,uint40 deadline)"
    assert bytes(ledger.certificates.call("DRAWDOWN_BATCH_TYPEHASH")) == DrawdownBatch.typehash()


def test_drawdowns_hash_struct_hash_and_digest_equal_the_contract(
    ledger: Ledger, world: DemoWorld
) -> None:
    items = drawdowns(ledger, world, 4)
    items[2] = replace(items[2], quantity=2**64 - 1)
    batch = DrawdownBatch.of(items, deadline=now(ledger) + 600)
    client = ledger.certificates
    on_chain = client.drawdowns_hash(items)
    assert batch.drawdowns_hash == on_chain == drawdowns_hash(items)
    assert on_chain == keccak(
        b"".join(bytes(client.call("hashDrawdown", d.onchain())) for d in items)
    )
    assert client.hash_drawdown_batch(batch) == batch.struct_hash()
    digest = bytes(client.call("hashTypedData", batch.struct_hash()))
    assert batch.digest(client.domain) == digest
    assert hash_typed_data(batch.typed_data(client.domain)) == digest


def test_a_wallet_signature_over_the_typed_data_is_the_batch_signature(
    ledger: Ledger, world: DemoWorld
) -> None:
    signed = signed_batch(ledger, world)
    typed = signed.record.typed_data(ledger.certificates.domain)
    assert typed["primaryType"] == "DrawdownBatch"
    assert recover_typed_data(typed, signed.signature) == exporter(world).address
    assert ledger.signer(signed) == exporter(world).address


# ------------------------------------------------------------------------------------------
# The Python record
# ------------------------------------------------------------------------------------------


def test_drawdown_batch_of_refuses_empty_too_large_and_foreign_lists(world: DemoWorld) -> None:
    with pytest.raises(ValidationError) as caught:
        DrawdownBatch.of([], deadline=1)
    assert caught.value.field == "drawdowns"
    one = Drawdown(
        certificate_id=world.certificate_id,
        consignment_id=bytes(32),
        quantity=1,
        deadline=1,
    )
    many = [replace(one, consignment_id=i.to_bytes(32, "big")) for i in range(DRAWDOWN_BATCH_MAX)]
    DrawdownBatch.of(many, deadline=1)
    with pytest.raises(ValidationError, match=f"at most {DRAWDOWN_BATCH_MAX}"):
        DrawdownBatch.of([*many, one], deadline=1)
    items: list[object] = [one, "not a drawdown"]
    with pytest.raises(ValidationError) as caught:
        DrawdownBatch.of(items, deadline=1)  # type: ignore[arg-type]
    assert caught.value.field == "drawdowns[1]"


def test_signed_batch_derives_its_record(ledger: Ledger, world: DemoWorld) -> None:
    items = drawdowns(ledger, world, 3)
    deadline = now(ledger) + 600
    signed = sign_drawdown_batch(
        items, exporter(world).private_key, ledger.certificates.domain, deadline=deadline
    )
    assert signed.record == DrawdownBatch(drawdowns_hash=drawdowns_hash(items), deadline=deadline)
    assert len(signed) == 3
    assert signed.struct_hashes == tuple(d.struct_hash() for d in items)
    assert signed.onchain() == ([d.onchain() for d in items], deadline, signed.sig())
    with pytest.raises(ValidationError):
        SignedDrawdownBatch((), deadline, signed.signature)


def test_routes_send_a_signed_batch_to_draw_down_signed_batch(
    ledger: Ledger, world: DemoWorld
) -> None:
    assert ROUTES[DrawdownBatch][:2] == ("Certificates", "drawDownSignedBatch")
    signed = signed_batch(ledger, world)
    client, function, args = ledger.call_for(signed)
    assert (client, function) == (ledger.certificates, "drawDownSignedBatch")
    assert args == signed.onchain()
    ledger.simulate(signed)  # valid: no error
    alone = sign(signed.record, exporter(world).private_key, ledger.certificates.domain)
    with pytest.raises(ValueError, match="sent with its drawdowns"):
        ledger.call_for(alone)


# ------------------------------------------------------------------------------------------
# Recording: storage, logs and the index
# ------------------------------------------------------------------------------------------


def test_a_batch_is_recorded_as_single_drawdowns(ledger: Ledger, world: DemoWorld) -> None:
    party = world.parties["cn"]  # customs of the destination country may draw too
    certs = issue(ledger, world, 2)
    consignments = register(ledger, world, 3)
    items = [
        Drawdown(
            certificate_id=certs[0],
            consignment_id=consignments[0],
            quantity=100,
            deadline=now(ledger) + 3600,
        ),
        Drawdown(
            certificate_id=certs[1],
            consignment_id=consignments[0],
            quantity=7,
            deadline=now(ledger) + 3600,
        ),
        Drawdown(
            certificate_id=certs[0],
            consignment_id=consignments[1],
            quantity=250,
            deadline=now(ledger) + 3600,
        ),
    ]
    signed = ledger.sign_drawdown_batch(items, party.private_key, deadline=now(ledger) + 600)

    receipt = ledger.certificates.draw_down_signed_batch(signed)

    assert receipt.succeeded
    logs = [d for d in ledger.decode_logs(receipt.logs) if d.event == "QuantityDrawn"]
    assert len(logs) == len(signed)
    for drawdown, log, drawn in zip(signed.drawdowns, logs, (100, 7, 350), strict=True):
        assert log.args["certificateId"] == drawdown.certificate_id
        assert log.args["consignmentId"] == drawdown.consignment_id
        assert log.args["orgId"] == party.org_id
        assert to_checksum_address(log.args["signer"]) == party.address  # the batch signer
        assert log.args["quantity"] == drawdown.quantity
        assert log.args["drawn"] == drawn
        assert (
            ledger.certificates.drawn_for(drawdown.certificate_id, drawdown.consignment_id)
            == drawdown.quantity
        )
    assert ledger.certificates.remaining(certs[0]) == 650
    assert ledger.certificates.remaining(certs[1]) == 993


def test_the_index_holds_batch_signed_drawdowns_as_single_ones(
    ledger: Ledger, world: DemoWorld, tmp_path: Path
) -> None:
    signed = signed_batch(ledger, world, 4)
    single = drawdowns(ledger, world, 1, quantity=33)[0]
    ledger.submit(signed)
    ledger.submit(ledger.sign(single, exporter(world).private_key))

    index = Index(f"sqlite:///{tmp_path / 'index.db'}", ledger)
    try:
        index.sync()
        org, address = exporter(world).org_id, exporter(world).address
        for drawdown in signed.drawdowns:
            rows = index.drawdowns_for_consignment(drawdown.consignment_id)
            assert len(rows) == 1
            row = rows[0]
            assert row.certificate_id == world.certificate_id
            assert (row.org_id, row.signer, row.quantity) == (org, address, drawdown.quantity)
        (alone,) = index.drawdowns_for_consignment(single.consignment_id)
        assert (alone.org_id, alone.signer) == (org, address)
        record = index.certificate(world.certificate_id)
        assert record is not None
        assert record.drawn == ledger.certificates.certificate(world.certificate_id).drawn
        assert record.drawn == 4500 + 4 * 10 + 33
        linked = {
            d.consignment_id for d in index.consignments_for_certificate(record.certificate_id)
        }
        assert {d.consignment_id for d in signed.drawdowns} | {single.consignment_id} <= linked
    finally:
        index.engine.dispose()


def test_the_largest_batch_fits_the_transaction_gas_cap(ledger: Ledger, world: DemoWorld) -> None:
    """DRAWDOWN_BATCH_MAX drawdowns by a customs administration (which also reads each
    certificate's countries), each on its own certificate and its own consignment, all cold,
    stay under EIP-7825's cap with the relayer's gas margin: the relayer cannot split the
    batch."""
    n = DRAWDOWN_BATCH_MAX
    certs: list[bytes] = []
    for _ in range(0, n, 100):
        certs += issue(ledger, world, 100)
    consignments: list[bytes] = []
    for part in range(0, n, 100):
        consignments += register(ledger, world, 100, tag=f"{secrets.token_hex(3)}-{part}")
    worst = [
        Drawdown(certificate_id=c, consignment_id=k, quantity=1000, deadline=now(ledger) + 3600)
        for c, k in zip(certs[:n], consignments[:n], strict=True)
    ]
    signed = ledger.sign_drawdown_batch(
        worst, world.parties["au"].private_key, deadline=now(ledger) + 600
    )
    client = ledger.certificates
    assert ledger.tx is not None
    gas = ledger.w3.eth.estimate_gas(
        {
            "from": ledger.tx.address,
            "to": client.address,
            "data": "0x" + client.calldata("drawDownSignedBatch", *signed.onchain()).hex(),
        }
    )
    assert gas * 1.2 < MAX_TX_GAS, gas
    assert gas / n < 40_500, gas / n  # 39,344 measured: the figure behind DRAWDOWN_BATCH_MAX
    assert ledger.submit(signed).succeeded


# ------------------------------------------------------------------------------------------
# Security rules, each with its decoded contract error
# ------------------------------------------------------------------------------------------


def test_refuses_an_unknown_signer(ledger: Ledger, world: DemoWorld) -> None:
    stranger = Account.create()
    signed = signed_batch(ledger, world, key=stranger.key)
    with pytest.raises(ce.UnknownKey) as caught:
        ledger.submit(signed)
    assert caught.value.args_map["key"].lower() == stranger.address.lower()


def test_refuses_a_revoked_key(ledger: Ledger, world: DemoWorld) -> None:
    party = exporter(world)
    signed = signed_batch(ledger, world, key=party.private_key)
    govern(
        ledger,
        world,
        Proposal(
            action=ProposalAction.REVOKE_KEY, account=party.address, expires_at=now(ledger) + 3600
        ),
    )
    with pytest.raises(ce.KeyRevoked):
        ledger.submit(signed)


def test_refuses_a_suspended_member(ledger: Ledger, world: DemoWorld) -> None:
    party = exporter(world)
    signed = signed_batch(ledger, world, key=party.private_key)
    govern(
        ledger,
        world,
        Proposal(
            action=ProposalAction.SUSPEND_MEMBER, org_id=party.org_id, expires_at=now(ledger) + 3600
        ),
    )
    with pytest.raises(ce.MemberNotActive):
        ledger.submit(signed)


@pytest.mark.parametrize(("offset", "error"), [(600, ce.KeyNotYetValid), (-1, ce.KeyExpired)])
def test_refuses_a_key_outside_its_window(
    ledger: Ledger, world: DemoWorld, offset: int, error: type[ce.ContractError]
) -> None:
    party = exporter(world)
    fresh = Account.create()
    t = now(ledger)
    window = (t + offset, t + 86400) if offset > 0 else (t - 3600, t + 5)
    addition = KeyAddition(
        org_id=party.org_id, key=fresh.address, valid_from=window[0], valid_until=window[1]
    )
    ledger.membership.add_key(ledger.sign(addition, party.private_key))
    signed = signed_batch(ledger, world, key=fresh.key)
    if offset < 0:
        ledger.w3.provider.make_request("evm_increaseTime", [10])  # type: ignore[arg-type]
        ledger.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    with pytest.raises(error) as caught:
        ledger.certificates.simulate_signed_batch(signed)
    assert caught.value.args_map["key"].lower() == fresh.address.lower()


@pytest.mark.parametrize("who", ["carrier", "chamber"])
def test_refuses_a_signer_that_may_not_draw_naming_the_first_drawdown(
    ledger: Ledger, world: DemoWorld, who: str
) -> None:
    """A carrier, or the issuing body itself, is neither the exporter nor customs of the
    certificate's origin or destination."""
    party = world.parties[who]
    signed = signed_batch(ledger, world, key=party.private_key)
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(signed)
    assert caught.value.index == 0
    assert isinstance(caught.value.cause, ce.NotAuthorisedToDraw)
    assert caught.value.cause.args_map["orgId"] == party.org_id


def test_refuses_a_replayed_batch_naming_its_first_drawdown(
    ledger: Ledger, world: DemoWorld
) -> None:
    signed = signed_batch(ledger, world)
    ledger.submit(signed)
    drawn = ledger.certificates.certificate(world.certificate_id).drawn
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(signed)
    assert caught.value.index == 0
    assert isinstance(caught.value.cause, ce.AlreadyDrawn)
    assert caught.value.cause.args_map["consignmentId"] == signed.drawdowns[0].consignment_id
    assert ledger.certificates.certificate(world.certificate_id).drawn == drawn


def test_refuses_a_duplicate_inside_the_batch_and_one_drawn_alone(
    ledger: Ledger, world: DemoWorld
) -> None:
    items = drawdowns(ledger, world, 3)
    key, deadline = exporter(world).private_key, now(ledger) + 600
    twice = replace(items[1], quantity=1)  # the same pair, another quantity
    duplicate = ledger.sign_drawdown_batch([*items, twice], key, deadline=deadline)
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(duplicate)
    assert (caught.value.index, type(caught.value.cause)) == (3, ce.AlreadyDrawn)
    ledger.submit(ledger.sign(items[2], key))
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(ledger.sign_drawdown_batch(items, key, deadline=deadline))
    assert (caught.value.index, type(caught.value.cause)) == (2, ce.AlreadyDrawn)


def test_refuses_more_than_the_remaining_quantity_counting_earlier_items(
    ledger: Ledger, world: DemoWorld
) -> None:
    remaining = ledger.certificates.remaining(world.certificate_id)
    items = drawdowns(ledger, world, 2)
    items[0] = replace(items[0], quantity=remaining - 5)
    items[1] = replace(items[1], quantity=6)
    signed = ledger.sign_drawdown_batch(
        items, exporter(world).private_key, deadline=now(ledger) + 600
    )
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(signed)
    assert caught.value.index == 1
    assert isinstance(caught.value.cause, ce.QuantityExceeded)
    assert caught.value.cause.args_map["remaining"] == 5
    assert ledger.certificates.remaining(world.certificate_id) == remaining


def test_refuses_an_unregistered_consignment_naming_it(ledger: Ledger, world: DemoWorld) -> None:
    items = drawdowns(ledger, world, 3)
    items[1] = replace(items[1], consignment_id=keccak(text="no such consignment"))
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(
            ledger.sign_drawdown_batch(
                items, exporter(world).private_key, deadline=now(ledger) + 600
            )
        )
    assert caught.value.index == 1
    assert isinstance(caught.value.cause, ce.UnknownConsignment)


def test_refuses_a_drawdown_altered_after_signing(ledger: Ledger, world: DemoWorld) -> None:
    """A relayer that changes a signed drawdown makes the signature recover another key."""
    signed = signed_batch(ledger, world)
    items = list(signed.drawdowns)
    items[1] = replace(items[1], quantity=4000)
    altered = SignedDrawdownBatch(tuple(items), signed.deadline, signed.signature)
    with pytest.raises(ce.UnknownKey) as caught:
        ledger.submit(altered)
    assert caught.value.args_map["key"].lower() == ledger.signer(altered).lower()
    assert ledger.signer(altered) != exporter(world).address
    reordered = SignedDrawdownBatch(signed.drawdowns[::-1], signed.deadline, signed.signature)
    dropped = SignedDrawdownBatch(signed.drawdowns[:2], signed.deadline, signed.signature)
    for forged in (reordered, dropped):
        with pytest.raises(ce.UnknownKey):
            ledger.submit(forged)


def test_refuses_an_expired_deadline(ledger: Ledger, world: DemoWorld) -> None:
    signed = ledger.sign_drawdown_batch(
        drawdowns(ledger, world, 2), exporter(world).private_key, deadline=now(ledger) - 1
    )
    with pytest.raises(ce.DeadlineExpired):
        ledger.submit(signed)


def test_refuses_an_empty_batch(ledger: Ledger, world: DemoWorld) -> None:
    empty = DrawdownBatch(drawdowns_hash=keccak(b""), deadline=now(ledger) + 600)
    signed = sign(empty, exporter(world).private_key, ledger.certificates.domain)
    with pytest.raises(ce.LengthMismatch):
        ledger.certificates.simulate("drawDownSignedBatch", [], empty.deadline, signed.sig())


def test_refuses_a_sender_that_is_not_a_relayer(ledger: Ledger, world: DemoWorld) -> None:
    signed = signed_batch(ledger, world)
    client = ledger.certificates
    data = client.calldata("drawDownSignedBatch", *signed.onchain())
    outsider = Account.create().address
    with pytest.raises(ContractLogicError) as caught:
        ledger.w3.eth.call({"from": outsider, "to": client.address, "data": "0x" + data.hex()})
    error = decode_revert(str(caught.value.data))
    assert isinstance(error, ce.RelayerNotAllowed)
    assert error.args_map["sender"].lower() == outsider.lower()
