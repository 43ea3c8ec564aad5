"""The typed clients against the deployed suite: every method, and every write path's
security rules (wrong signer, revoked or expired key, replayed signature, wrong role,
malformed input), each asserting the exact decoded contract error."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import replace

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak

from ledger.chain import Ledger, contract_abi, error_specs, static_words_encode
from ledger.chain import contract_errors as ce
from ledger.records import (
    AeoAction,
    AeoActionCode,
    Approval,
    Attestation,
    AttestationRevocation,
    BusinessStep,
    CertificateIssue,
    CertificateRevocation,
    ConsignmentEvent,
    ConsignmentRegistration,
    Declaration,
    Drawdown,
    KeyAddition,
    KeyRevocation,
    Locode,
    MraAcceptance,
    MraProposal,
    MraTermination,
    Proposal,
    ProposalAction,
    Record,
    SchemaRegistration,
    SignedRecord,
    SubjectType,
    certificate_id,
    consignment_id,
    fixed_ascii,
    hs_codes_digest,
    reference_hash,
)
from ledger.stack import CARRIER, TRADER, DemoWorld, Party, admit


def now(ledger: Ledger) -> int:
    return int(ledger.w3.eth.get_block("latest")["timestamp"])


def advance(ledger: Ledger, seconds: int) -> None:
    ledger.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    ledger.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def governors(world: DemoWorld) -> list[Party]:
    return [world.parties["au"], world.parties["cn"]]


def _nonce() -> int:
    return secrets.randbits(32)


# ------------------------------------------------------------------------------------------
# Record factories for the write paths under test: (record, the party that may sign it)
# ------------------------------------------------------------------------------------------


def make_event(ledger: Ledger, world: DemoWorld) -> tuple[Record, Party]:
    t = now(ledger)
    event = ConsignmentEvent(
        consignment_id=world.consignment_id,
        biz_step=BusinessStep("inspecting").code,
        location=Locode("CNSGH").to_bytes5(),
        event_time=t,
        nonce=_nonce(),
        deadline=t + 600,
    )
    return event, world.parties["carrier"]


def make_registration(ledger: Ledger, world: DemoWorld) -> tuple[Record, Party]:
    record = ConsignmentRegistration(
        reference_hash=reference_hash(f"UCR-{secrets.token_hex(4)}"),
        origin=b"AU",
        destination=b"CN",
        consignor=world.parties["exporter"].org_id,  # drawdowns need the exporter as a party
        deadline=now(ledger) + 3600,
    )
    return record, world.parties["carrier"]


def make_certificate(ledger: Ledger, world: DemoWorld) -> tuple[Record, Party]:
    t = now(ledger)
    record = CertificateIssue(
        certificate_number=keccak(text=f"COO-{secrets.token_hex(4)}"),
        exporter=world.parties["exporter"].org_id,
        origin=b"AU",
        destination=b"CN",
        document_digest=keccak(text="doc"),
        hs_codes_digest=hs_codes_digest(["220421"]),
        quantity=100,
        unit=fixed_ascii("LTR", 8),
        valid_from=t - 10,
        valid_until=t + 86400,
        issued_at=t,
    )
    return record, world.parties["chamber"]


def make_drawdown(ledger: Ledger, world: DemoWorld) -> tuple[Record, Party]:
    registration, carrier = make_registration(ledger, world)
    ledger.submit(ledger.sign(registration, carrier.private_key))
    assert isinstance(registration, ConsignmentRegistration)
    record = Drawdown(
        certificate_id=world.certificate_id,
        consignment_id=registration.consignment_id_for(carrier.org_id),
        quantity=10,
        deadline=now(ledger) + 3600,
    )
    return record, world.parties["exporter"]


def make_attestation(ledger: Ledger, world: DemoWorld) -> tuple[Record, Party]:
    record = Attestation(
        schema_id=world.schema_ids["seal-check"],
        subject_type=SubjectType.CONSIGNMENT,
        subject_id=world.consignment_id,
        data_digest=keccak(text=secrets.token_hex(8)),
        deadline=now(ledger) + 600,
    )
    return record, world.parties["cn"]


def make_attestation_revocation(ledger: Ledger, world: DemoWorld) -> tuple[Record, Party]:
    attestation, cn = make_attestation(ledger, world)
    ledger.submit(ledger.sign(attestation, cn.private_key))
    assert isinstance(attestation, Attestation)
    return AttestationRevocation(uid=attestation.uid(cn.org_id), deadline=now(ledger) + 600), cn


def make_aeo_action(ledger: Ledger, world: DemoWorld) -> tuple[Record, Party]:
    t = now(ledger)
    record = AeoAction(
        action=AeoActionCode.CERTIFY,
        operator_id=world.parties["exporter"].org_id,
        programme=fixed_ascii("AEOS", 8),
        valid_from=t - 10,
        valid_until=t + 86400,
        nonce=_nonce(),
        deadline=t + 600,
    )
    return record, world.parties["au"]


def make_mra(ledger: Ledger, world: DemoWorld) -> tuple[Record, Party]:
    t = now(ledger)
    record = MraProposal(
        counterpart=world.parties["cn"].org_id,
        scope=0x2,
        valid_from=t - 10,
        valid_until=t + 99999,
        deadline=t + 600,
    )
    return record, world.parties["au"]


def make_key_addition(ledger: Ledger, world: DemoWorld) -> tuple[Record, Party]:
    t = now(ledger)
    carrier = world.parties["carrier"]
    record = KeyAddition(
        org_id=carrier.org_id, key=Account.create().address, valid_from=t - 10, valid_until=t + 9999
    )
    return record, carrier


def make_proposal(ledger: Ledger, world: DemoWorld) -> tuple[Record, Party]:
    t = now(ledger)
    newcomer = Party.random("Newcomer Freight", CARRIER, "NZ")
    record = Proposal(
        action=ProposalAction.ADMIT_MEMBER,
        org_id=newcomer.org_id,
        kind=CARRIER,
        country=b"NZ",
        account=newcomer.address,
        valid_from=t - 10,
        valid_until=t + 99999,
        expires_at=t + 3600,
    )
    return record, world.parties["au"]


def make_declaration(ledger: Ledger, world: DemoWorld) -> tuple[Record, Party]:
    record = Declaration(
        declaration_ref=keccak(text=f"DECL-{secrets.token_hex(6)}"),
        administration=world.parties["cn"].org_id,
        consignment_id=world.consignment_id,
        certificate_id=world.certificate_id,
        values_digest=keccak(text=secrets.token_hex(8)),
        lodged_at=now(ledger),
    )
    return record, world.parties["exporter"]


WRITE_PATHS: dict[str, Callable[[Ledger, DemoWorld], tuple[Record, Party]]] = {
    "event": make_event,
    "registration": make_registration,
    "certificate": make_certificate,
    "drawdown": make_drawdown,
    "attestation": make_attestation,
    "attestation_revoke": make_attestation_revocation,
    "aeo": make_aeo_action,
    "mra": make_mra,
    "key": make_key_addition,
    "proposal": make_proposal,
    "declaration": make_declaration,
}

# A party whose kind may not sign the record kind (wrong role), and the error it gets.
# Any active member may attest (what an attestation means is its schema's business), so the
# role rule for attestations is on revocation: only the attesting organisation.
WRONG_ROLE: dict[str, tuple[str, type[ce.ContractError]]] = {
    "event": ("chamber", ce.NotConsignmentParty),
    "registration": ("chamber", ce.WrongKind),
    "certificate": ("carrier", ce.WrongKind),
    "drawdown": ("carrier", ce.NotAuthorisedToDraw),
    "attestation_revoke": ("exporter", ce.NotAttester),
    "aeo": ("carrier", ce.WrongKind),
    "mra": ("exporter", ce.WrongKind),
    "key": ("exporter", ce.NotOrganisationKey),
    "proposal": ("carrier", ce.WrongKind),
    "declaration": ("au", ce.WrongKind),
}

REPLAY_ERROR: dict[str, type[ce.ContractError]] = {
    "event": ce.NonceAlreadyUsed,
    "registration": ce.ConsignmentExists,
    "certificate": ce.CertificateExists,
    "drawdown": ce.AlreadyDrawn,
    "attestation": ce.AttestationExists,
    "attestation_revoke": ce.AttestationAlreadyRevoked,
    "aeo": ce.NonceAlreadyUsed,
    "mra": ce.MraExists,
    "key": ce.KeyAlreadyRegistered,
    "proposal": ce.ProposalExists,
    "declaration": ce.DeclarationExists,
}


def revoke_by_governance(ledger: Ledger, world: DemoWorld, party: Party) -> None:
    t = now(ledger)
    proposal = Proposal(
        action=ProposalAction.REVOKE_KEY, account=party.address, expires_at=t + 3600
    )
    au, cn = governors(world)
    ledger.membership.propose(ledger.sign(proposal, au.private_key))
    ledger.membership.approve(
        ledger.sign(Approval(proposal_id=proposal.proposal_id), cn.private_key)
    )
    ledger.membership.execute(proposal)


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_write_path_accepts_the_right_signer(ledger: Ledger, world: DemoWorld, path: str) -> None:
    record, party = WRITE_PATHS[path](ledger, world)
    receipt = ledger.submit(ledger.sign(record, party.private_key))
    assert receipt.succeeded
    assert ledger.decode_logs(receipt.logs), "every accepted record emits an event"


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_write_path_refuses_an_unknown_signer(ledger: Ledger, world: DemoWorld, path: str) -> None:
    record, _ = WRITE_PATHS[path](ledger, world)
    stranger = Account.create()
    with pytest.raises(ce.UnknownKey) as caught:
        ledger.submit(ledger.sign(record, stranger.key))
    assert caught.value.args_map["key"].lower() == stranger.address.lower()


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_write_path_refuses_a_revoked_key(ledger: Ledger, world: DemoWorld, path: str) -> None:
    record, party = WRITE_PATHS[path](ledger, world)
    revoke_by_governance(ledger, world, party)
    with pytest.raises(ce.KeyRevoked):
        ledger.submit(ledger.sign(record, party.private_key))


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_write_path_refuses_an_expired_key(ledger: Ledger, world: DemoWorld, path: str) -> None:
    _, party = WRITE_PATHS[path](ledger, world)
    short = Account.create()
    t = now(ledger)
    addition = KeyAddition(
        org_id=party.org_id, key=short.address, valid_from=t - 10, valid_until=t + 60
    )
    ledger.membership.add_key(ledger.sign(addition, party.private_key))
    advance(ledger, 120)
    fresh, _ = WRITE_PATHS[path](ledger, world)  # a record with current times
    with pytest.raises(ce.KeyExpired):
        ledger.submit(ledger.sign(fresh, short.key))


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_write_path_refuses_a_replayed_signature(
    ledger: Ledger, world: DemoWorld, path: str
) -> None:
    record, party = WRITE_PATHS[path](ledger, world)
    signed = ledger.sign(record, party.private_key)
    ledger.submit(signed)
    with pytest.raises(REPLAY_ERROR[path]):
        ledger.submit(signed)


@pytest.mark.parametrize("path", WRONG_ROLE)
def test_write_path_refuses_the_wrong_role(ledger: Ledger, world: DemoWorld, path: str) -> None:
    record, _ = WRITE_PATHS[path](ledger, world)
    role, error = WRONG_ROLE[path]
    with pytest.raises(error):
        ledger.submit(ledger.sign(record, world.parties[role].private_key))


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_write_path_refuses_an_altered_record(ledger: Ledger, world: DemoWorld, path: str) -> None:
    """A relayer that changes a signed field makes the signature recover another key."""
    record, party = WRITE_PATHS[path](ledger, world)
    signed = ledger.sign(record, party.private_key)
    first = record.FIELDS[-1][0] if path != "key" else "valid_until"
    value = getattr(record, first)
    altered = replace(record, **{first: value + 1 if isinstance(value, int) else keccak(value)})  # type: ignore[type-var]
    with pytest.raises((ce.UnknownKey, ce.SignerNotAuthorised)):
        ledger.submit(SignedRecord(altered, signed.signature))


def test_relayer_not_allowed(ledger: Ledger, world: DemoWorld) -> None:
    from ledger.chain import TxManager

    outsider = TxManager(ledger.w3, Account.create().key, poll_interval=0.05)
    other = Ledger(ledger.w3, ledger.deployment, tx=outsider)
    record, party = make_registration(ledger, world)
    with pytest.raises(ce.RelayerNotAllowed):
        other.submit(other.sign(record, party.private_key))


def test_malformed_event_fields_are_refused(ledger: Ledger, world: DemoWorld) -> None:
    event, carrier = make_event(ledger, world)
    assert isinstance(event, ConsignmentEvent)
    with pytest.raises(ce.InvalidBizStep):
        ledger.submit(ledger.sign(replace(event, biz_step=99), carrier.private_key))
    with pytest.raises(ce.InvalidLocation):
        ledger.submit(ledger.sign(replace(event, location=bytes(5)), carrier.private_key))
    with pytest.raises(ce.DeadlineExpired):
        ledger.submit(ledger.sign(replace(event, deadline=now(ledger) - 100), carrier.private_key))
    with pytest.raises(ce.RecordTimeInFuture):
        ledger.submit(
            ledger.sign(replace(event, event_time=now(ledger) + 3600), carrier.private_key)
        )
    with pytest.raises(ce.UnknownConsignment):
        ledger.submit(
            ledger.sign(replace(event, consignment_id=keccak(text="nope")), carrier.private_key)
        )


def test_suspended_member_cannot_sign(ledger: Ledger, world: DemoWorld) -> None:
    carrier = world.parties["carrier"]
    t = now(ledger)
    proposal = Proposal(
        action=ProposalAction.SUSPEND_MEMBER, org_id=carrier.org_id, expires_at=t + 3600
    )
    au, cn = governors(world)
    ledger.membership.propose(ledger.sign(proposal, au.private_key))
    with pytest.raises(ce.InsufficientApprovals):
        ledger.membership.execute(proposal)
    ledger.membership.approve(
        ledger.sign(Approval(proposal_id=proposal.proposal_id), cn.private_key)
    )
    ledger.membership.execute(proposal)
    assert ledger.membership.organisation(carrier.org_id).status == 2
    event, _ = make_event(ledger, world)
    with pytest.raises(ce.MemberNotActive):
        ledger.submit(ledger.sign(event, carrier.private_key))


# ------------------------------------------------------------------------------------------
# Reads and the remaining methods
# ------------------------------------------------------------------------------------------


def test_membership_reads(ledger: Ledger, world: DemoWorld) -> None:
    orgs = ledger.membership.organisations()
    assert {o.org_id for o in orgs} == {p.org_id for p in world.parties.values()}
    assert ledger.membership.threshold() == 2
    assert ledger.membership.active_customs_count() == 2
    assert ledger.membership.is_relayer(ledger.tx.address if ledger.tx else "")
    assert not ledger.membership.is_relayer(Account.create().address)
    exporter = world.parties["exporter"]
    info = ledger.membership.key_info(exporter.address)
    assert info.org_id == exporter.org_id
    assert info.kind == TRADER
    assert info.country == "AU"
    assert info.valid_at(now(ledger))
    assert not ledger.membership.key_info(Account.create().address).known


def test_governance_admits_and_records_approvals(ledger: Ledger, world: DemoWorld) -> None:
    newcomer = Party.random("Kiwi Post", 5, "NZ")
    proposal_id = admit(ledger, newcomer, governors=governors(world), now=now(ledger))
    state = ledger.membership.proposal_state(proposal_id)
    assert state.executed
    assert state.approvals == 2
    assert ledger.membership.has_approved(proposal_id, world.parties["cn"].org_id)
    org = ledger.membership.organisation(newcomer.org_id)
    assert (org.kind, org.country, org.status) == (5, "NZ", 1)


def test_key_rotation_by_the_organisation(ledger: Ledger, world: DemoWorld) -> None:
    carrier = world.parties["carrier"]
    new = Account.create()
    t = now(ledger)
    ledger.membership.add_key(
        ledger.sign(
            KeyAddition(
                org_id=carrier.org_id, key=new.address, valid_from=t - 1, valid_until=t + 999
            ),
            carrier.private_key,
        )
    )
    ledger.membership.revoke_key(
        ledger.sign(
            KeyRevocation(org_id=carrier.org_id, key=carrier.address, deadline=now(ledger) + 3600),
            new.key,
        )
    )
    assert ledger.membership.key_info(carrier.address).revoked_at > 0
    event, _ = make_event(ledger, world)
    assert ledger.submit(ledger.sign(event, new.key)).succeeded


def test_events_extend_the_hash_chain(ledger: Ledger, world: DemoWorld) -> None:
    head, count = ledger.consignments.head(world.consignment_id)
    batch = []
    for _ in range(3):
        event, carrier = make_event(ledger, world)
        batch.append(ledger.sign(event, carrier.private_key))
    receipt = ledger.consignments.post_events(batch)
    expected = head
    for signed in batch:
        expected = ledger.consignments.next_head(
            expected,
            signed.record.digest(ledger.domain(signed.record)),
            org_id=carrier.org_id,
            signer=carrier.address,
        )
    new_head, new_count = ledger.consignments.head(world.consignment_id)
    assert (new_head, new_count) == (expected, count + 3)
    logs = [d for d in ledger.decode_logs(receipt.logs) if d.event == "ConsignmentEventRecorded"]
    assert [d.args["eventCount"] for d in logs] == [count + 1, count + 2, count + 3]
    state = ledger.consignments.consignment(world.consignment_id)
    assert (state.origin, state.destination, state.event_count) == ("AU", "CN", count + 3)
    assert ledger.consignments.exists(world.consignment_id)
    assert not ledger.consignments.exists(keccak(text="unknown"))


def test_batch_failure_names_the_item(ledger: Ledger, world: DemoWorld) -> None:
    good, carrier = make_event(ledger, world)
    assert isinstance(good, ConsignmentEvent)
    batch = [
        ledger.sign(good, carrier.private_key),
        ledger.sign(replace(good, nonce=good.nonce ^ 1, biz_step=0), carrier.private_key),
    ]
    before = ledger.consignments.head(world.consignment_id)
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.consignments.post_events(batch)
    assert caught.value.index == 1
    assert isinstance(caught.value.cause, ce.InvalidBizStep)
    assert ledger.consignments.head(world.consignment_id) == before


def test_registration_batch(ledger: Ledger, world: DemoWorld) -> None:
    records = [make_registration(ledger, world) for _ in range(3)]
    ledger.consignments.register_batch([ledger.sign(r, p.private_key) for r, p in records])
    assert all(ledger.consignments.exists(r.consignment_id_for(p.org_id)) for r, p in records)  # type: ignore[attr-defined]


def test_a_competitor_registering_the_same_reference_first_does_not_preempt_it(
    ledger: Ledger, world: DemoWorld
) -> None:
    """A UCR is public: a trader registering the carrier's reference first gets its own
    consignment (the id is bound to the registrant); the carrier's registration still goes
    through, and events and drawdowns land on the consignment they name."""
    carrier, squatter = world.parties["carrier"], world.parties["exporter"]
    ref = f"UCR-PUBLIC-{secrets.token_hex(4)}"
    squat = ConsignmentRegistration(
        reference_hash=reference_hash(ref),
        origin=b"AU",
        destination=b"CN",
        deadline=now(ledger) + 3600,
    )
    ledger.submit(ledger.sign(squat, squatter.private_key))
    own = ConsignmentRegistration(
        reference_hash=reference_hash(ref),
        origin=b"AU",
        destination=b"CN",
        consignor=squatter.org_id,
        deadline=now(ledger) + 3600,
    )
    ledger.submit(ledger.sign(own, carrier.private_key))  # before the binding: ConsignmentExists
    squat_id = consignment_id(ref, registrant=squatter.org_id)
    cid = consignment_id(ref, registrant=carrier.org_id)
    assert squat_id != cid
    assert cid == ledger.consignments.call("consignmentIdOf", carrier.org_id, reference_hash(ref))
    assert ledger.consignments.consignment(cid).registrant == carrier.org_id
    assert ledger.consignments.consignment(squat_id).registrant == squatter.org_id
    t = now(ledger)
    event = ConsignmentEvent(
        consignment_id=cid,
        biz_step=BusinessStep("loading").code,
        location=Locode("AUADL").to_bytes5(),
        event_time=t,
        nonce=_nonce(),
        deadline=t + 600,
    )
    ledger.submit(ledger.sign(event, carrier.private_key))
    assert ledger.consignments.head(cid)[1] == 1
    assert ledger.consignments.head(squat_id)[1] == 0


def test_certificate_lifecycle(ledger: Ledger, world: DemoWorld) -> None:
    record, chamber = make_certificate(ledger, world)
    assert isinstance(record, CertificateIssue)
    ledger.certificates.issue(ledger.sign(record, chamber.private_key))
    cert = certificate_id(chamber.org_id, record.certificate_number)
    state = ledger.certificates.certificate(cert)
    assert (state.quantity, state.drawn, state.status, state.origin) == (100, 0, 1, "AU")
    assert state.record_hash == record.struct_hash()[:24]
    drawdowns = []
    for quantity in (60, 30):
        registration, carrier = make_registration(ledger, world)
        ledger.submit(ledger.sign(registration, carrier.private_key))
        drawdowns.append(
            Drawdown(
                certificate_id=cert,
                consignment_id=registration.consignment_id_for(carrier.org_id),  # type: ignore[attr-defined]
                quantity=quantity,
                deadline=now(ledger) + 3600,
            )
        )
    exporter = world.parties["exporter"]
    ledger.certificates.draw_down_batch([ledger.sign(d, exporter.private_key) for d in drawdowns])
    assert ledger.certificates.remaining(cert) == 10
    assert ledger.certificates.drawn_for(cert, drawdowns[0].consignment_id) == 60
    registration, carrier = make_registration(ledger, world)
    ledger.submit(ledger.sign(registration, carrier.private_key))
    overdraw = Drawdown(
        certificate_id=cert,
        consignment_id=registration.consignment_id_for(carrier.org_id),  # type: ignore[attr-defined]
        quantity=11,
        deadline=now(ledger) + 3600,
    )
    with pytest.raises(ce.QuantityExceeded):
        ledger.certificates.draw_down(ledger.sign(overdraw, exporter.private_key))
    revocation = CertificateRevocation(
        certificate_number=record.certificate_number, deadline=now(ledger) + 3600
    )
    ledger.certificates.revoke(ledger.sign(revocation, chamber.private_key))
    assert ledger.certificates.certificate(cert).status == 2
    with pytest.raises(ce.CertificateIsRevoked):
        ledger.certificates.draw_down(
            ledger.sign(replace(overdraw, quantity=1), exporter.private_key)
        )


def test_certificate_issuer_must_be_of_the_origin_country(ledger: Ledger, world: DemoWorld) -> None:
    record, chamber = make_certificate(ledger, world)
    with pytest.raises(ce.WrongCountry):
        ledger.submit(ledger.sign(replace(record, origin=b"NZ"), chamber.private_key))  # type: ignore[type-var]


def test_expired_certificate_cannot_be_drawn(ledger: Ledger, world: DemoWorld) -> None:
    record, chamber = make_certificate(ledger, world)
    short = replace(record, valid_until=now(ledger) + 30)  # type: ignore[type-var]
    ledger.submit(ledger.sign(short, chamber.private_key))
    advance(ledger, 60)
    registration, carrier = make_registration(ledger, world)
    ledger.submit(ledger.sign(registration, carrier.private_key))
    cert = certificate_id(chamber.org_id, short.certificate_number)  # type: ignore[attr-defined]
    cid = registration.consignment_id_for(carrier.org_id)  # type: ignore[attr-defined]
    drawdown = Drawdown(
        certificate_id=cert, consignment_id=cid, quantity=1, deadline=now(ledger) + 3600
    )
    with pytest.raises(ce.CertificateExpired):
        ledger.submit(ledger.sign(drawdown, world.parties["exporter"].private_key))


def test_attestation_lifecycle(ledger: Ledger, world: DemoWorld) -> None:
    cn = world.parties["cn"]
    records = [make_attestation(ledger, world)[0] for _ in range(2)]
    ledger.attestations.attest_batch([ledger.sign(r, cn.private_key) for r in records])
    uids = [r.uid(cn.org_id) for r in records]  # type: ignore[attr-defined]
    assert all(ledger.attestations.is_valid(u) for u in uids)
    state = ledger.attestations.attestation(uids[0])
    assert state.attester == cn.org_id
    with pytest.raises(ce.NotAttester):
        ledger.attestations.revoke(
            ledger.sign(
                AttestationRevocation(uid=uids[0], deadline=now(ledger) + 600),
                world.parties["au"].private_key,
            )
        )
    ledger.attestations.revoke_batch(
        [
            ledger.sign(AttestationRevocation(uid=u, deadline=now(ledger) + 600), cn.private_key)
            for u in uids
        ]
    )
    assert not any(ledger.attestations.is_valid(u) for u in uids)
    assert ledger.attestations.attestation(uids[1]).revoked_at > 0
    assert (
        ledger.attestations.schema_registrant(world.schema_ids["seal-check"])
        == world.parties["au"].org_id
    )


def test_aeo_status_history_and_recognition(ledger: Ledger, world: DemoWorld) -> None:
    au, cn, exporter = world.parties["au"], world.parties["cn"], world.parties["exporter"]
    t = now(ledger)
    recognition = ledger.aeo.recognition(exporter.org_id, cn.org_id, t)
    assert recognition.recognised
    assert recognition.certification_id == world.certification_id
    assert recognition.mra_id == world.mra_id
    own = ledger.aeo.recognition(exporter.org_id, au.org_id, t)
    assert own.recognised
    assert own.mra_id == bytes(32)

    def act(code: int) -> None:
        action = AeoAction(
            action=code,
            operator_id=exporter.org_id,
            programme=fixed_ascii("AEOF", 8),
            nonce=_nonce(),
            deadline=now(ledger) + 600,
        )
        ledger.aeo.apply_action(ledger.sign(action, au.private_key))

    act(AeoActionCode.SUSPEND)
    assert not ledger.aeo.recognition(exporter.org_id, cn.org_id, now(ledger)).recognised
    act(AeoActionCode.REINSTATE)
    assert ledger.aeo.recognition(exporter.org_id, cn.org_id, now(ledger)).recognised
    history = ledger.aeo.status_history(world.certification_id)
    assert [h.status for h in history] == [1, 2, 1]
    assert ledger.aeo.certification(world.certification_id).programme == "AEOF"
    assert world.certification_id in ledger.aeo.certifications_of(exporter.org_id)

    with pytest.raises(ce.WrongKind):  # only customs administrations act on MRAs
        ledger.aeo.terminate_mra(
            ledger.sign(
                MraTermination(mra_id=world.mra_id, deadline=now(ledger) + 600),
                exporter.private_key,
            )
        )
    ledger.aeo.terminate_mra(
        ledger.sign(MraTermination(mra_id=world.mra_id, deadline=now(ledger) + 600), cn.private_key)
    )
    assert ledger.aeo.mra(world.mra_id).terminated_at > 0
    assert not ledger.aeo.recognition(exporter.org_id, cn.org_id, now(ledger)).recognised
    assert world.mra_id in ledger.aeo.mras_between(au.org_id, cn.org_id)


def test_mra_takes_effect_only_when_accepted(ledger: Ledger, world: DemoWorld) -> None:
    record, au = make_mra(ledger, world)
    receipt = ledger.submit(ledger.sign(record, au.private_key))
    mra_id = next(
        d.args["mraId"] for d in ledger.decode_logs(receipt.logs) if d.event == "MraProposed"
    )
    assert ledger.aeo.mra(mra_id).accepted_at == 0
    assert mra_id == record.mra_id(au.org_id)  # type: ignore[attr-defined]
    acceptance = MraAcceptance(mra_id=mra_id, deadline=now(ledger) + 600)
    with pytest.raises(ce.NotMraCounterpart):
        ledger.aeo.accept_mra(ledger.sign(acceptance, au.private_key))
    ledger.aeo.accept_mra(ledger.sign(acceptance, world.parties["cn"].private_key))
    assert ledger.aeo.mra(mra_id).in_force(now(ledger))


def test_simulate_reports_the_error_without_sending(ledger: Ledger, world: DemoWorld) -> None:
    record, party = make_registration(ledger, world)
    signed = ledger.sign(record, party.private_key)
    block = ledger.w3.eth.block_number
    ledger.simulate(signed)
    with pytest.raises(ce.UnknownKey):
        ledger.simulate(ledger.sign(record, Account.create().key))
    assert ledger.w3.eth.block_number == block


def test_every_contract_error_has_a_python_class() -> None:
    missing = [spec.name for spec in error_specs().values() if ce.error_class(spec.name) is None]
    assert missing == []


def test_decode_revert_builds_messages_from_natspec() -> None:
    spec = next(s for s in error_specs().values() if s.name == "QuantityExceeded")
    from eth_abi.abi import encode

    data = spec.selector + encode(["bytes32", "uint64", "uint64"], [b"\x01" * 32, 5, 2])
    error = ce.decode_revert(data)
    assert isinstance(error, ce.QuantityExceeded)
    assert isinstance(error, ce.RecordStateConflict)
    assert "exceed the certificate's remaining quantity" in str(error)
    assert "requested=5" in str(error)
    wrapped_spec = next(s for s in error_specs().values() if s.name == "BatchItemFailed")
    wrapped = ce.decode_revert(wrapped_spec.selector + encode(["uint256", "bytes"], [3, data]))
    assert isinstance(wrapped, ce.BatchItemFailed)
    assert wrapped.index == 3
    assert isinstance(wrapped.cause, ce.QuantityExceeded)
    assert isinstance(ce.decode_revert(b"\xde\xad\xbe\xef"), ce.UnknownContractError)


def test_static_words_encode_is_eth_abi_for_batch_calls() -> None:
    """The fast encoder of batch calls gives eth-abi's bytes, and declines what it does not
    cover (eth-abi encodes those)."""
    rng = random.Random(7)

    def word() -> bytes:
        return secrets.token_bytes(32)

    record = "(bytes32,bytes32,bytes32,bytes32,bytes32)"
    sig = "(bytes32,bytes32)"
    for n in (0, 1, 7, 300):
        records = [tuple(word() for _ in range(5)) for _ in range(n)]
        sigs = [(word(), word()) for _ in range(n)]
        nonce, deadline = rng.randrange(2**32), rng.randrange(2**40)
        cases = [
            ([f"{record}[]", f"{sig}[]"], [records, sigs]),
            (
                [f"{record}[]", "uint32", "uint40", sig],
                [records, nonce, deadline, sigs[0] if n else (word(), word())],
            ),
        ]
        for types, args in cases:
            assert static_words_encode(types, args) == encode(types, args)
    fn = contract_abi("Consignments").fn("postEventBatch")
    assert fn.inputs == (f"{record}[]", "uint32", "uint40", sig)
    fn = contract_abi("Consignments").fn("postEvents")
    assert fn.inputs == (f"{record}[]", f"{sig}[]")
    attestation = "(bytes32,uint8,bytes32,bytes32,bytes32,uint40,uint40)"
    fn = contract_abi("Attestations").fn("attestSignedBatch")
    assert fn.inputs == (f"{attestation}[]", "uint40", sig)
    for n in (1, 5):
        items = [
            (
                word(),
                rng.randrange(256),
                word(),
                word(),
                word(),
                rng.randrange(2**40),
                rng.randrange(2**40),
            )
            for _ in range(n)
        ]
        args = [items, rng.randrange(2**40), (word(), word())]
        assert static_words_encode(fn.inputs, args) == encode(list(fn.inputs), args)
    # Declined: other types, wrong sizes, out-of-range integers.
    assert static_words_encode(["bytes2"], [b"AU"]) is None
    assert static_words_encode(["string"], ["x"]) is None
    assert static_words_encode(["bytes32"], [b"short"]) is None
    assert static_words_encode(["uint8"], [256]) is None
    assert static_words_encode(["(bytes32,bytes2)[]"], [[(word(), b"AU")]]) is None


@pytest.mark.parametrize("path", ["attestation", "attestation_revoke", "mra"])
def test_attestation_and_mra_records_past_their_deadline_are_refused(
    ledger: Ledger, world: DemoWorld, path: str
) -> None:
    record, party = WRITE_PATHS[path](ledger, world)
    late = replace(record, deadline=now(ledger) - 1)  # type: ignore[type-var]
    with pytest.raises(ce.DeadlineExpired):
        ledger.submit(ledger.sign(late, party.private_key))
    ledger.submit(ledger.sign(record, party.private_key))  # the same, in time


def test_schema_and_mra_decisions_past_their_deadline_are_refused(
    ledger: Ledger, world: DemoWorld
) -> None:
    au, cn = world.parties["au"], world.parties["cn"]
    past = now(ledger) - 1
    late_schema = SchemaRegistration(definition=f"late({secrets.token_hex(4)})", deadline=past)
    with pytest.raises(ce.DeadlineExpired):
        ledger.submit(ledger.sign(late_schema, au.private_key))
    proposal, _ = make_mra(ledger, world)
    ledger.submit(ledger.sign(proposal, au.private_key))
    mra_id = proposal.mra_id(au.org_id)  # type: ignore[attr-defined]
    with pytest.raises(ce.DeadlineExpired):
        ledger.submit(ledger.sign(MraAcceptance(mra_id=mra_id, deadline=past), cn.private_key))
    with pytest.raises(ce.DeadlineExpired):
        ledger.submit(ledger.sign(MraTermination(mra_id=mra_id, deadline=past), au.private_key))
    assert ledger.aeo.mra(mra_id).accepted_at == 0
    assert ledger.aeo.mra(mra_id).terminated_at == 0


def test_records_signed_again_with_a_new_deadline_keep_their_id(
    ledger: Ledger, world: DemoWorld
) -> None:
    """A retried signing (a custodial POST sent again signs a new deadline) hits the same
    attestation uid or MRA id, so the duplicate is still refused."""
    attestation, cn = make_attestation(ledger, world)
    ledger.submit(ledger.sign(attestation, cn.private_key))
    again = replace(attestation, deadline=attestation.deadline + 60)  # type: ignore[type-var]
    with pytest.raises(ce.AttestationExists):
        ledger.submit(ledger.sign(again, cn.private_key))
    proposal, au = make_mra(ledger, world)
    ledger.submit(ledger.sign(proposal, au.private_key))
    again_mra = replace(proposal, deadline=proposal.deadline + 60)  # type: ignore[type-var]
    with pytest.raises(ce.MraExists):
        ledger.submit(ledger.sign(again_mra, au.private_key))
