"""Key lifecycle and suspension through the library on the session chain: governance gives a
locked-out organisation a key back (ADD_KEY), swaps a key (REPLACE_KEY), keys cannot be
backdated beyond MAX_KEY_BACKDATE, a suspended issuer's certificates cannot be drawn and only
governance revokes them (REVOKE_RECORD), and drawdowns go onto the exporter's consignments only.
Each would have been accepted, or been impossible, before these rules."""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from ledger.chain import Ledger
from ledger.chain import contract_errors as ce
from ledger.records import (
    Approval,
    BusinessStep,
    ConsignmentEvent,
    ConsignmentRegistration,
    Drawdown,
    KeyAddition,
    Locode,
    Proposal,
    ProposalAction,
    reference_hash,
)
from ledger.stack import CUSTOMS, DemoWorld, Party, admit

DAY = 86_400


def now(ledger: Ledger) -> int:
    return int(ledger.w3.eth.get_block("latest")["timestamp"])


def govern(ledger: Ledger, world: DemoWorld, proposal: Proposal) -> None:
    """AU proposes, CN approves (k = 2), executed."""
    au, cn = world.parties["au"], world.parties["cn"]
    ledger.membership.propose(ledger.sign(proposal, au.private_key))
    ledger.membership.approve(
        ledger.sign(Approval(proposal_id=proposal.proposal_id), cn.private_key)
    )
    ledger.membership.execute(proposal)


def key_proposal(ledger: Ledger, action: int, org: bytes, key: str, **extra: object) -> Proposal:
    t = now(ledger)
    return Proposal(
        action=action,
        org_id=org,
        account=key,
        valid_from=t,
        valid_until=t + 365 * DAY,
        expires_at=t + 3600,
        salt=secrets.token_bytes(32),
        **extra,  # type: ignore[arg-type]
    )


def event(ledger: Ledger, world: DemoWorld) -> ConsignmentEvent:
    return ConsignmentEvent(
        consignment_id=world.consignment_id,
        biz_step=BusinessStep("inspecting").code,
        location=Locode("CNSGH").to_bytes5(),
        event_time=now(ledger),
        nonce=secrets.randbits(32),
        deadline=now(ledger) + 600,
    )


def test_governance_gives_a_locked_out_organisation_a_key(ledger: Ledger, world: DemoWorld) -> None:
    carrier = world.parties["carrier"]
    govern(
        ledger,
        world,
        Proposal(
            action=ProposalAction.REVOKE_KEY, account=carrier.address, expires_at=now(ledger) + 60
        ),
    )
    with pytest.raises(ce.KeyRevoked):
        ledger.submit(ledger.sign(event(ledger, world), carrier.private_key))
    fresh = Account.create()
    govern(
        ledger, world, key_proposal(ledger, ProposalAction.ADD_KEY, carrier.org_id, fresh.address)
    )
    assert ledger.membership.key_info(fresh.address).org_id == carrier.org_id
    assert ledger.submit(ledger.sign(event(ledger, world), fresh.key)).succeeded


def test_governance_replaces_a_key(ledger: Ledger, world: DemoWorld) -> None:
    cn = world.parties["cn"]  # a customs administration's own key
    fresh = Account.create()
    proposal = key_proposal(
        ledger,
        ProposalAction.REPLACE_KEY,
        cn.org_id,
        fresh.address,
        subject=Proposal.key_subject(cn.address),
    )
    govern(ledger, world, proposal)
    assert ledger.membership.key_info(cn.address).revoked_at == now(ledger)
    assert ledger.membership.key_info(fresh.address).org_id == cn.org_id
    # CN governs with its new key.
    other = Proposal(
        action=ProposalAction.ADD_RELAYER,
        account=Account.create().address,
        expires_at=now(ledger) + 60,
    )
    assert ledger.membership.propose(ledger.sign(other, fresh.key)).succeeded


def test_key_governance_refuses_wrong_role_malformed_subject_and_replay(
    ledger: Ledger, world: DemoWorld
) -> None:
    carrier = world.parties["carrier"]
    fresh = Account.create()
    proposal = key_proposal(ledger, ProposalAction.ADD_KEY, carrier.org_id, fresh.address)
    with pytest.raises(ce.WrongKind):  # only customs administrations govern
        ledger.membership.propose(ledger.sign(proposal, carrier.private_key))
    with pytest.raises(ce.UnknownKey):
        ledger.membership.propose(ledger.sign(proposal, Account.create().key))
    ledger.membership.propose(ledger.sign(proposal, world.parties["au"].private_key))
    with pytest.raises(ce.ProposalExists):
        ledger.membership.propose(ledger.sign(proposal, world.parties["au"].private_key))
    dirty = key_proposal(
        ledger,
        ProposalAction.REPLACE_KEY,
        carrier.org_id,
        fresh.address,
        subject=b"\x01" + Proposal.key_subject(carrier.address)[1:],
    )
    ledger.membership.propose(ledger.sign(dirty, world.parties["au"].private_key))
    ledger.membership.approve(
        ledger.sign(Approval(proposal_id=dirty.proposal_id), world.parties["cn"].private_key)
    )
    with pytest.raises(ce.InvalidProposalSubject):
        ledger.membership.execute(dirty)


def test_a_key_cannot_be_backdated_beyond_the_bound(ledger: Ledger, world: DemoWorld) -> None:
    carrier = world.parties["carrier"]
    fresh = Account.create()
    record = KeyAddition(
        org_id=carrier.org_id, key=fresh.address, valid_from=0, valid_until=now(ledger) + DAY
    )
    receipt = ledger.membership.add_key(ledger.sign(record, carrier.private_key))
    block_time = int(ledger.w3.eth.get_block(receipt.block_number)["timestamp"])
    bound = int(ledger.membership.call("MAX_KEY_BACKDATE"))
    assert bound == 30 * DAY
    assert ledger.membership.key_info(fresh.address).valid_from == block_time - bound
    dated_1970 = ConsignmentEvent(
        consignment_id=world.consignment_id,
        biz_step=BusinessStep("inspecting").code,
        location=Locode("CNSGH").to_bytes5(),
        event_time=1,
        nonce=secrets.randbits(32),
        deadline=now(ledger) + 600,
    )
    with pytest.raises(ce.KeyNotYetValid):
        ledger.submit(ledger.sign(dated_1970, fresh.key))


def register(ledger: Ledger, world: DemoWorld, *, consignor: bytes) -> bytes:
    carrier = world.parties["carrier"]
    registration = ConsignmentRegistration(
        reference_hash=reference_hash(f"UCR-{secrets.token_hex(4)}"),
        origin=b"AU",
        destination=b"CN",
        consignor=consignor,
        deadline=now(ledger) + 3600,
    )
    ledger.submit(ledger.sign(registration, carrier.private_key))
    return registration.consignment_id_for(carrier.org_id)


def suspend(ledger: Ledger, world: DemoWorld, party: Party) -> None:
    govern(
        ledger,
        world,
        Proposal(
            action=ProposalAction.SUSPEND_MEMBER, org_id=party.org_id, expires_at=now(ledger) + 60
        ),
    )


def test_no_drawdown_on_a_suspended_issuers_certificate(ledger: Ledger, world: DemoWorld) -> None:
    exporter, chamber = world.parties["exporter"], world.parties["chamber"]
    cid = register(ledger, world, consignor=exporter.org_id)
    suspend(ledger, world, chamber)
    drawdown = Drawdown(
        certificate_id=world.certificate_id,
        consignment_id=cid,
        quantity=1,
        deadline=now(ledger) + 3600,
    )
    with pytest.raises(ce.IssuerSuspended):
        ledger.submit(ledger.sign(drawdown, exporter.private_key))
    state = ledger.certificates.certificate(world.certificate_id)
    assert state.status == 1, "the certificate still proves what was issued"
    assert state.issuer == chamber.org_id


def test_only_governance_revokes_a_suspended_issuers_certificate(
    ledger: Ledger, world: DemoWorld
) -> None:
    chamber = world.parties["chamber"]
    revoke = Proposal(
        action=ProposalAction.REVOKE_RECORD,
        org_id=chamber.org_id,
        account=ledger.certificates.address,
        subject=world.certificate_id,
        expires_at=now(ledger) + 3600,
        salt=secrets.token_bytes(32),
    )
    with pytest.raises(ce.InvalidStatus):  # the issuer is active: it revokes its own
        govern(ledger, world, revoke)
    suspend(ledger, world, chamber)
    govern(ledger, world, replace(revoke, salt=secrets.token_bytes(32)))
    assert ledger.certificates.certificate(world.certificate_id).status == 2


def test_drawdown_only_onto_a_consignment_of_the_exporter(ledger: Ledger, world: DemoWorld) -> None:
    exporter = world.parties["exporter"]
    unrelated = register(ledger, world, consignor=bytes(32))
    drawdown = Drawdown(
        certificate_id=world.certificate_id,
        consignment_id=unrelated,
        quantity=1,
        deadline=now(ledger) + 3600,
    )
    with pytest.raises(ce.ExporterNotConsignmentParty):
        ledger.submit(ledger.sign(drawdown, exporter.private_key))
    with pytest.raises(ce.UnknownConsignment):
        ledger.submit(
            ledger.sign(
                Drawdown(
                    certificate_id=world.certificate_id,
                    consignment_id=keccak(text="never registered"),
                    quantity=1,
                    deadline=now(ledger) + 3600,
                ),
                exporter.private_key,
            )
        )
    own = register(ledger, world, consignor=exporter.org_id)
    ok = Drawdown(
        certificate_id=world.certificate_id,
        consignment_id=own,
        quantity=1,
        deadline=now(ledger) + 3600,
    )
    assert ledger.submit(ledger.sign(ok, exporter.private_key)).succeeded


def test_only_governance_revokes_a_suspended_administrations_aeo_certification(
    ledger: Ledger, world: DemoWorld
) -> None:
    au, cn, exporter = (world.parties[k] for k in ("au", "cn", "exporter"))
    nz = Party.random("New Zealand Customs Service", CUSTOMS, "NZ")
    admit(ledger, nz, governors=[au, cn], now=now(ledger), salt=secrets.token_bytes(32))
    assert ledger.aeo.recognition(exporter.org_id, cn.org_id, now(ledger)).recognised
    suspend(ledger, world, au)  # 2 of 3 administrations remain: k = 2 still reachable
    # Recognition through the suspended administration's certification is cut at once.
    assert not ledger.aeo.recognition(exporter.org_id, cn.org_id, now(ledger)).recognised
    assert ledger.aeo.certification(world.certification_id).status == 1, "record unchanged"
    revoke = Proposal(
        action=ProposalAction.REVOKE_RECORD,
        org_id=au.org_id,
        account=ledger.aeo.address,
        subject=world.certification_id,
        expires_at=now(ledger) + 3600,
        salt=secrets.token_bytes(32),
    )
    with pytest.raises(ce.MemberNotActive):  # AU signs nothing now
        ledger.membership.propose(ledger.sign(revoke, au.private_key))
    ledger.membership.propose(ledger.sign(revoke, cn.private_key))
    ledger.membership.approve(ledger.sign(Approval(proposal_id=revoke.proposal_id), nz.private_key))
    ledger.membership.execute(revoke)
    assert ledger.aeo.certification(world.certification_id).status == 3
