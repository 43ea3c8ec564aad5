"""A small, realistic world: used by ``ledger up``, the tests and the benchmark.

Two customs administrations (Australia and China) govern with a threshold of 2. They admit a
carrier, an Australian wine exporter and an Australian chamber of commerce; Australia
certifies the exporter as an AEO, and the two administrations sign a mutual recognition
agreement. The chamber issues a certificate of origin (ChAFTA, wine, HS 2204.21) and a
consignment travels Adelaide to Shanghai with its events, a drawdown and customs attestations.

The signing keys are derived from the organisations' names: **demo keys, for local use only**.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak

from ledger.chain import Bootstrap, BootstrapAdministration, Ledger, org_id
from ledger.records import (
    DECLARATION_INSPECTION_SCHEMA,
    AeoAction,
    AeoActionCode,
    Approval,
    Attestation,
    BusinessStep,
    CertificateIssue,
    ConsignmentEvent,
    ConsignmentRegistration,
    ContainerNumber,
    Disposition,
    Drawdown,
    HsCode,
    Locode,
    MraAcceptance,
    MraProposal,
    Proposal,
    ProposalAction,
    SchemaRegistration,
    SubjectType,
    certificate_id,
    consignment_id,
    fixed_ascii,
    hs_codes_digest,
    reference_hash,
)

__all__ = [
    "CARRIER",
    "CUSTOMS",
    "DEMO_PARTIES",
    "EXPORT_RELEASE_SCHEMA",
    "ISSUING_BODY",
    "POSTAL_OPERATOR",
    "SEAL_CHECK_SCHEMA",
    "TRADER",
    "DemoWorld",
    "Party",
    "admit",
    "bootstrap_for",
    "demo_world",
    "seed_demo",
]

from ledger.records.vocabulary import (
    CARRIER,
    CUSTOMS,
    EXPORT_RELEASE_SCHEMA,
    INSPECTION_SCHEMA,
    ISSUING_BODY,
    POSTAL_OPERATOR,
    SEAL_CHECK_SCHEMA,
    TRADER,
)

log = logging.getLogger("ledger.stack.demo")

KEY_LIFETIME = 5 * 365 * 24 * 3600
KEY_BACKDATE = (
    28 * 24 * 3600
)  # demo keys cover the demo journeys (the EPCIS suspect starts 22 days back)
# (Membership stores at most MAX_KEY_BACKDATE = 30 days before a key's registration)


@dataclass(frozen=True, slots=True)
class Party:
    """A member organisation with one signing key."""

    name: str
    kind: int
    country: str
    private_key: str

    @property
    def org_id(self) -> bytes:
        return org_id(self.name)

    @property
    def address(self) -> ChecksumAddress:
        address: ChecksumAddress = Account.from_key(self.private_key).address
        return address

    @classmethod
    def demo(cls, name: str, kind: int, country: str) -> Party:
        """A party whose key is derived from its name (demo and tests only)."""
        key = keccak(text=f"customs-ledger demo key: {name}")
        return cls(name, kind, country, "0x" + key.hex())

    @classmethod
    def random(cls, name: str, kind: int, country: str) -> Party:
        return cls(name, kind, country, "0x" + secrets.token_bytes(32).hex())


DEMO_PARTIES: tuple[Party, ...] = (
    Party.demo("Australian Border Force", CUSTOMS, "AU"),
    Party.demo("General Administration of Customs of China", CUSTOMS, "CN"),
    Party.demo("Oceanic Container Line", CARRIER, "SG"),
    Party.demo("Barossa Valley Wine Exports", TRADER, "AU"),
    Party.demo("Australian Chamber of Commerce and Industry", ISSUING_BODY, "AU"),
)


def bootstrap_for(
    parties: Sequence[Party], *, relayers: Sequence[str], now: int, threshold: int | None = None
) -> Bootstrap:
    """Membership's constructor arguments: the customs parties, with keys valid from ``now``."""
    admins = tuple(
        BootstrapAdministration(
            p.org_id, p.country, p.address, now - KEY_BACKDATE, now + KEY_LIFETIME
        )
        for p in parties
        if p.kind == CUSTOMS
    )
    return Bootstrap(admins, tuple(relayers), threshold if threshold is not None else len(admins))


def admit(
    ledger: Ledger, party: Party, *, governors: Sequence[Party], now: int, salt: bytes = bytes(32)
) -> bytes:
    """Admit ``party`` by governance: the first governor proposes, the others approve."""
    action = ProposalAction.ADD_CUSTOMS if party.kind == CUSTOMS else ProposalAction.ADMIT_MEMBER
    proposal = Proposal(
        action=action,
        org_id=party.org_id,
        kind=party.kind,
        country=party.country.encode("ascii"),
        account=party.address,
        valid_from=now - KEY_BACKDATE,
        valid_until=now + KEY_LIFETIME,
        expires_at=now + 7 * 24 * 3600,
        salt=salt,
    )
    ledger.membership.propose(ledger.sign(proposal, governors[0].private_key))
    threshold = ledger.membership.threshold()
    for governor in governors[1:threshold]:
        approval = Approval(proposal_id=proposal.proposal_id)
        ledger.membership.approve(ledger.sign(approval, governor.private_key))
    ledger.membership.execute(proposal)
    return proposal.proposal_id


@dataclass
class DemoWorld:
    """What :func:`seed_demo` created."""

    parties: dict[str, Party]
    consignment_ref: str
    consignment_id: bytes
    certificate_number: str
    certificate_id: bytes
    schema_ids: dict[str, bytes] = field(default_factory=dict)
    mra_id: bytes = bytes(32)
    certification_id: bytes = bytes(32)
    attestation_uids: list[bytes] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "organisations": {k: "0x" + p.org_id.hex() for k, p in self.parties.items()},
            "consignment": {"ref": self.consignment_ref, "id": "0x" + self.consignment_id.hex()},
            "certificate": {
                "number": self.certificate_number,
                "id": "0x" + self.certificate_id.hex(),
            },
            "mra": "0x" + self.mra_id.hex(),
            "aeo_certification": "0x" + self.certification_id.hex(),
        }


def demo_world(parties: Sequence[Party] = DEMO_PARTIES) -> dict[str, Party]:
    """The demo parties by role."""
    au, cn, carrier, exporter, chamber = parties
    return {"au": au, "cn": cn, "carrier": carrier, "exporter": exporter, "chamber": chamber}


def _admit_resumable(
    ledger: Ledger, party: Party, *, governors: Sequence[Party], now: int, clock: int
) -> None:
    """:func:`admit`, continuing a proposal for the same admission that an interrupted run
    left open (proposed, maybe partly approved); an expired one is proposed afresh."""
    action = ProposalAction.ADD_CUSTOMS if party.kind == CUSTOMS else ProposalAction.ADMIT_MEMBER
    salt = bytes(32)
    proposal = _admission(party, action=action, now=now, salt=salt)
    state = ledger.membership.proposal_state(proposal.proposal_id)
    if state.action != 0 and not state.executed and state.expires_at <= clock:
        salt = keccak(text=f"demo admission of {party.name} at {clock}")
        proposal = _admission(party, action=action, now=now, salt=salt)
        state = ledger.membership.proposal_state(proposal.proposal_id)
    if state.action == 0:
        ledger.membership.propose(ledger.sign(proposal, governors[0].private_key))
    threshold = ledger.membership.threshold()
    approvals = 1 if state.action == 0 else state.approvals
    for governor in governors[1:]:
        if approvals >= threshold:
            break
        if not ledger.membership.has_approved(proposal.proposal_id, governor.org_id):
            approval = Approval(proposal_id=proposal.proposal_id)
            ledger.membership.approve(ledger.sign(approval, governor.private_key))
            approvals += 1
    ledger.membership.execute(proposal)


def _admission(party: Party, *, action: int, now: int, salt: bytes) -> Proposal:
    return Proposal(
        action=action,
        org_id=party.org_id,
        kind=party.kind,
        country=party.country.encode("ascii"),
        account=party.address,
        valid_from=now - KEY_BACKDATE,
        valid_until=now + KEY_LIFETIME,
        expires_at=now + 7 * 24 * 3600,
        salt=salt,
    )


def seed_demo(
    ledger: Ledger, *, parties: Sequence[Party] = DEMO_PARTIES, now: int | None = None
) -> DemoWorld:
    """Admit the demo members and record the demo consignment, certificate and attestations.

    Expects a deployment bootstrapped with :func:`bootstrap_for` over the same parties.

    ``now`` anchors the demo world: the consignment reference and certificate number, the
    validity windows and the journey's times derive from it (default: the latest block's
    time). Seeding is resumable: each step first looks on chain for what it would create, so
    that running again with the ``now`` of an interrupted run records only what that run did
    not (signature deadlines are taken from the chain's current time).
    """
    roles = demo_world(parties)
    au, cn, carrier, exporter, chamber = (roles[k] for k in roles)
    clock = int(ledger.w3.eth.get_block("latest")["timestamp"])
    now = clock if now is None else now
    governors = [au, cn]
    for party in (carrier, exporter, chamber):
        if not ledger.membership.organisation(party.org_id).registered:
            _admit_resumable(ledger, party, governors=governors, now=now, clock=clock)
            log.info("admitted %s", party.name)

    # AEO: Australia certifies the exporter (full AEO); an MRA between Australia and China.
    programme = fixed_ascii("AEOF", 8)
    certification_id = ledger.aeo.certification_id(au.org_id, exporter.org_id, programme)
    if ledger.aeo.certification(certification_id).status == 0:
        certify = AeoAction(
            action=AeoActionCode.CERTIFY,
            operator_id=exporter.org_id,
            programme=programme,
            valid_from=now - 3600,
            valid_until=now + 3 * 365 * 24 * 3600,
            nonce=secrets.randbits(32),
            deadline=clock + 3600,
        )
        ledger.aeo.apply_action(ledger.sign(certify, au.private_key))
    mra = MraProposal(
        counterpart=cn.org_id,
        scope=0x7,
        valid_from=now - 3600,
        valid_until=now + 10 * 365 * 86400,
        deadline=clock + 3600,
    )
    # The contract's MRA id: its proposer and terms, not the deadline (IAeoRegistry.mraIdOf).
    mra_id = mra.mra_id(au.org_id)
    if ledger.aeo.mra(mra_id).proposed_at == 0:
        receipt = ledger.aeo.propose_mra(ledger.sign(mra, au.private_key))
        mra_id = next(
            d.args["mraId"] for d in ledger.decode_logs(receipt.logs) if d.event == "MraProposed"
        )
    if ledger.aeo.mra(mra_id).accepted_at == 0:
        ledger.aeo.accept_mra(
            ledger.sign(MraAcceptance(mra_id=mra_id, deadline=clock + 3600), cn.private_key)
        )

    # Schemas for customs attestations.
    schema_ids: dict[str, bytes] = {}
    for definition in (
        EXPORT_RELEASE_SCHEMA,
        SEAL_CHECK_SCHEMA,
        INSPECTION_SCHEMA,
        DECLARATION_INSPECTION_SCHEMA,
    ):
        registration = SchemaRegistration(definition=definition, deadline=clock + 3600)
        if ledger.attestations.schema_registrant(registration.schema_id) == bytes(32):
            ledger.attestations.register_schema(ledger.sign(registration, au.private_key))
        schema_ids[definition.split("(")[0]] = registration.schema_id

    # The certificate of origin.
    number = f"CHAFTA-AU-{now}"
    cert_id = certificate_id(chamber.org_id, number)
    if ledger.certificates.certificate(cert_id).status == 0:
        issue = CertificateIssue(
            certificate_number=keccak(text=number),
            exporter=exporter.org_id,
            origin=b"AU",
            destination=b"CN",
            document_digest=keccak(text=f"certificate document {number}"),
            hs_codes_digest=hs_codes_digest([HsCode("2204.21")]),
            quantity=9000,
            unit=fixed_ascii("LTR", 8),
            valid_from=now - 3600,
            valid_until=now + 365 * 86400,
            issued_at=now,
        )
        ledger.certificates.issue(ledger.sign(issue, chamber.private_key))

    # The consignment and its journey.
    ref = f"AU-UCR-{now}-0001"
    cid = consignment_id(ref, registrant=carrier.org_id)
    if not ledger.consignments.exists(cid):
        consignment = ConsignmentRegistration(
            reference_hash=reference_hash(ref),
            origin=b"AU",
            destination=b"CN",
            consignor=exporter.org_id,
            deadline=clock + 3600,
        )
        ledger.consignments.register(ledger.sign(consignment, carrier.private_key))
    if ledger.certificates.drawn_for(cert_id, cid) == 0:
        ledger.certificates.draw_down(
            ledger.sign(
                Drawdown(
                    certificate_id=cert_id,
                    consignment_id=cid,
                    quantity=4500,
                    deadline=clock + 3600,
                ),
                exporter.private_key,
            )
        )
    container = ContainerNumber("CSQU3054383").to_bytes11()
    seal = keccak(text="seal ML-AU 1234567")
    journey = [
        ("packing", None, "AUADL", exporter, 0),
        ("loading", "in_transit", "AUADL", carrier, 3600),
        ("departing", "in_transit", "AUADL", carrier, 7200),
        ("arriving", "in_transit", "CNSGH", carrier, 7200 + 12 * 86400),
        ("unloading", "in_progress", "CNSGH", carrier, 7200 + 12 * 86400 + 3600),
    ]
    start = now - 14 * 86400
    recorded = ledger.consignments.consignment(cid).event_count
    events = []
    for i, (step, disposition, where, actor, offset) in enumerate(journey):
        if i < recorded:
            continue
        event = ConsignmentEvent(
            consignment_id=cid,
            biz_step=BusinessStep(step).code,
            disposition=Disposition(disposition).code if disposition else 0,
            location=Locode(where).to_bytes5(),
            event_time=start + offset,
            container=container if step != "packing" else bytes(11),
            seal_digest=seal if step != "packing" else bytes(32),
            nonce=secrets.randbits(24) << 8 | i,
            deadline=clock + 3600,
        )
        events.append(ledger.sign(event, actor.private_key))
    for signed in events:
        ledger.consignments.post_event(signed)

    release = Attestation(
        schema_id=schema_ids["export-release"],
        subject_type=SubjectType.CONSIGNMENT,
        subject_id=cid,
        data_digest=keccak(text=f"export declaration for {ref}"),
        deadline=clock + 3600,
    )
    release_uid = release.uid(au.org_id)
    if ledger.attestations.attestation(release_uid).attested_at == 0:
        ledger.attestations.attest(ledger.sign(release, au.private_key))
    return DemoWorld(
        parties=roles,
        consignment_ref=ref,
        consignment_id=cid,
        certificate_number=number,
        certificate_id=cert_id,
        schema_ids=schema_ids,
        mra_id=mra_id,
        certification_id=certification_id,
        attestation_uids=[release_uid],
    )
