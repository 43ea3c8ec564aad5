"""Builds each counterfeit pattern (and the genuine cases) on chain, through signed records.

Every scenario starts from the seeded demo world (``ledger`` fixture) and records what it needs
with the typed clients: a fresh consignment with its journey, a certificate of origin and its
drawdown, customs attestations, AEO actions, MRAs, key and membership changes. It returns the
:class:`~ledger.verify.Claim` a trader would present and what the test needs to look at.

Times: journeys start :data:`JOURNEY_START` seconds in the past (the demo keys are valid from
90 days back, and the contracts refuse records more than 300 s in the future).
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_utils.crypto import keccak
from stdnum import iso6346

from ledger.chain import Ledger
from ledger.records import (
    AeoAction,
    Approval,
    Attestation,
    BusinessStep,
    CertificateIssue,
    CertificateRevocation,
    ConsignmentEvent,
    ConsignmentRegistration,
    ContainerNumber,
    Disposition,
    Drawdown,
    KeyAddition,
    KeyRevocation,
    Locode,
    MraAcceptance,
    MraProposal,
    MraTermination,
    Proposal,
    ProposalAction,
    SubjectType,
    certificate_id,
    consignment_id,
    fixed_ascii,
    hs_codes_digest,
    reference_hash,
)
from ledger.stack.demo import (
    CUSTOMS,
    INSPECTION_SCHEMA,
    ISSUING_BODY,
    DemoWorld,
    Party,
    admit,
)
from ledger.verify import (
    CATALOGUE,
    CertificateClaim,
    Claim,
    Verdict,
    VerdictStatus,
    epcis_event_hash,
    render_report,
)

DAY = 86400
JOURNEY_START = 20 * DAY
CONTAINER = "MSCU1234566"
"""The container legs name by default; each shipment puts its own container in its place
(:func:`fresh_container`), since one container in two consignments at once is itself a
finding (``DUPLICATE_CONTAINER``)."""
WINE = ("2204.21",)
_counter = itertools.count(1)
_containers = itertools.count(200_001)


def fresh_container() -> str:
    """A new valid ISO 6346 container number (owner MSCU) for one shipment."""
    body = f"MSCU{next(_containers):06d}"
    return body + iso6346.calc_check_digit(body)


def rpc(ledger: Ledger, method: str, *params: Any) -> Any:
    response = ledger.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in response, response
    return response["result"]


def now(ledger: Ledger) -> int:
    return int(ledger.w3.eth.get_block("latest")["timestamp"])


def advance(ledger: Ledger, seconds: int) -> None:
    rpc(ledger, "evm_increaseTime", seconds)
    rpc(ledger, "evm_mine")


@dataclass(frozen=True)
class Leg:
    """One event of a journey: step, where, hours after the start, who signs it."""

    step: str
    where: str
    hours: float
    actor: str = "carrier"  # a key of Builder.parties
    disposition: str | None = None
    seal: str | None = "seal ML-AU 7654321"
    container: str | None = CONTAINER
    epcis: Mapping[str, Any] | None = None


DIRECT: tuple[Leg, ...] = (
    Leg("packing", "AUADL", 0, actor="exporter", seal=None, container=None),
    Leg("loading", "AUADL", 2, disposition="in_transit"),
    Leg("departing", "AUADL", 3, disposition="in_transit"),
    Leg("arriving", "CNSGH", 3 + 12 * 24, disposition="in_transit"),
    Leg("unloading", "CNSGH", 4 + 12 * 24, disposition="in_progress"),
)

TRANSSHIPPED: tuple[Leg, ...] = (
    Leg("packing", "AUADL", 0, actor="exporter", seal=None, container=None),
    Leg("loading", "AUADL", 2, disposition="in_transit"),
    Leg("departing", "AUADL", 3, disposition="in_transit"),
    Leg("arriving", "SGSIN", 3 + 7 * 24, disposition="in_transit"),
    Leg("unloading", "SGSIN", 4 + 7 * 24, disposition="in_progress"),
    Leg("loading", "SGSIN", 4 + 8 * 24, disposition="in_transit"),
    Leg("departing", "SGSIN", 5 + 8 * 24, disposition="in_transit"),
    Leg("arriving", "CNSGH", 5 + 13 * 24, disposition="in_transit"),
    Leg("unloading", "CNSGH", 6 + 13 * 24, disposition="in_progress"),
)


@dataclass
class Shipment:
    """A consignment recorded by a scenario, with its certificate."""

    ref: str
    cid: bytes
    certificate_number: str
    certificate_issuer: Party
    certificate_id: bytes
    document: bytes
    quantity: int
    start: int
    epcis: list[Mapping[str, Any]] = field(default_factory=list)
    container: str = CONTAINER


class Builder:
    """Records scenario data on the seeded chain."""

    def __init__(self, ledger: Ledger, world: DemoWorld) -> None:
        self.ledger = ledger
        self.world = world
        self.parties: dict[str, Party] = dict(world.parties)
        self.t0 = now(ledger)

    # ---------------------------------------------------------------- members

    def admit(self, role: str, name: str, kind: int, country: str) -> Party:
        party = Party.random(name, kind, country)
        admit(
            self.ledger,
            party,
            governors=[self.parties["au"], self.parties["cn"]],
            now=now(self.ledger),
            salt=secrets.token_bytes(32),
        )
        self.parties[role] = party
        return party

    def govern(self, proposal: Proposal) -> None:
        au, cn = self.parties["au"], self.parties["cn"]
        self.ledger.membership.propose(self.ledger.sign(proposal, au.private_key))
        approval = Approval(proposal_id=proposal.proposal_id)
        self.ledger.membership.approve(self.ledger.sign(approval, cn.private_key))
        self.ledger.membership.execute(proposal)

    def suspend(self, party: Party) -> None:
        self.govern(
            Proposal(
                action=ProposalAction.SUSPEND_MEMBER,
                org_id=party.org_id,
                expires_at=now(self.ledger) + 3600,
                salt=secrets.token_bytes(32),
            )
        )

    def add_key(self, role: str, *, valid_from: int) -> str:
        """A second signing key for ``role`` (returned as a private key)."""
        party = self.parties[role]
        account = Account.create()
        addition = KeyAddition(
            org_id=party.org_id,
            key=account.address,
            valid_from=valid_from,
            valid_until=now(self.ledger) + 365 * DAY,
        )
        self.ledger.membership.add_key(self.ledger.sign(addition, party.private_key))
        return "0x" + bytes(account.key).hex()

    def revoke_key(self, role: str, private_key: str) -> None:
        party = self.parties[role]
        revocation = KeyRevocation(
            org_id=party.org_id,
            key=Account.from_key(private_key).address,
            deadline=now(self.ledger) + 3600,
        )
        self.ledger.membership.revoke_key(self.ledger.sign(revocation, party.private_key))

    # ---------------------------------------------------------------- certificates

    def certificate(
        self,
        *,
        issuer: str = "chamber",
        origin: str = "AU",
        quantity: int = 9000,
        hs_codes: Sequence[str] = WINE,
        valid_for: int = 365 * DAY,
    ) -> tuple[str, bytes, bytes]:
        """Issue a certificate: (number, certificate id, document)."""
        t = now(self.ledger)
        number = f"COO-{origin}-{t}-{next(_counter)}-{secrets.token_hex(2)}"
        document = f"Certificate of origin {number}: wine, {quantity} LTR".encode()
        issue = CertificateIssue(
            certificate_number=keccak(text=number),
            exporter=self.parties["exporter"].org_id,
            origin=origin.encode(),
            destination=b"CN",
            document_digest=keccak(document),
            hs_codes_digest=hs_codes_digest(hs_codes),
            quantity=quantity,
            unit=fixed_ascii("LTR", 8),
            valid_from=t - 3600,
            valid_until=t + valid_for,
            issued_at=t,
        )
        party = self.parties[issuer]
        self.ledger.certificates.issue(self.ledger.sign(issue, party.private_key))
        return number, certificate_id(party.org_id, number), document

    def draw(self, cert_id: bytes, cid: bytes, quantity: int) -> None:
        drawdown = Drawdown(
            certificate_id=cert_id,
            consignment_id=cid,
            quantity=quantity,
            deadline=now(self.ledger) + 3600,
        )
        self.ledger.certificates.draw_down(
            self.ledger.sign(drawdown, self.parties["exporter"].private_key)
        )

    def revoke_certificate(self, number: str, issuer: str = "chamber") -> None:
        revocation = CertificateRevocation(
            certificate_number=keccak(text=number), deadline=now(self.ledger) + 3600
        )
        self.ledger.certificates.revoke(
            self.ledger.sign(revocation, self.parties[issuer].private_key)
        )

    # ---------------------------------------------------------------- consignments

    def register(self, *, origin: str = "AU", registrant: str = "carrier") -> tuple[str, bytes]:
        ref = f"UCR-{now(self.ledger)}-{next(_counter)}-{secrets.token_hex(3)}"
        cid = consignment_id(ref, registrant=self.parties[registrant].org_id)
        registration = ConsignmentRegistration(
            reference_hash=reference_hash(ref),
            origin=origin.encode(),
            destination=b"CN",
            consignor=self.parties["exporter"].org_id,
            deadline=now(self.ledger) + 3600,
        )
        self.ledger.consignments.register(
            self.ledger.sign(registration, self.parties[registrant].private_key)
        )
        return ref, cid

    def journey(
        self,
        cid: bytes,
        legs: Sequence[Leg],
        *,
        start: int,
        keys: Mapping[str, str] | None = None,
    ) -> None:
        t = now(self.ledger)
        for n, leg in enumerate(legs):
            key = (keys or {}).get(leg.actor) or self.parties[leg.actor].private_key
            event = ConsignmentEvent(
                consignment_id=cid,
                biz_step=BusinessStep(leg.step).code,
                disposition=Disposition(leg.disposition).code if leg.disposition else 0,
                location=Locode(leg.where).to_bytes5(),
                event_time=start + int(leg.hours * 3600),
                container=ContainerNumber(leg.container).to_bytes11()
                if leg.container
                else bytes(11),
                seal_digest=keccak(text=leg.seal) if leg.seal else bytes(32),
                epcis_event_hash=epcis_event_hash(leg.epcis) if leg.epcis else bytes(32),
                nonce=secrets.randbits(24) << 8 | n,
                deadline=t + 3600,
            )
            self.ledger.consignments.post_event(self.ledger.sign(event, key))

    def attest(self, schema: str, cid: bytes, by: str, data: str | None = None) -> bytes:
        schema_id = keccak(text=schema)
        if self.ledger.attestations.schema_registrant(schema_id) == bytes(32):
            from ledger.records import SchemaRegistration

            self.ledger.attestations.register_schema(
                self.ledger.sign(
                    SchemaRegistration(definition=schema, deadline=now(self.ledger) + 3600),
                    self.parties["au"].private_key,
                )
            )
        attestation = Attestation(
            schema_id=schema_id,
            subject_type=SubjectType.CONSIGNMENT,
            subject_id=cid,
            data_digest=keccak(text=data or f"{schema} {secrets.token_hex(4)}"),
            deadline=now(self.ledger) + 3600,
        )
        party = self.parties[by]
        self.ledger.attestations.attest(self.ledger.sign(attestation, party.private_key))
        return attestation.uid(party.org_id)

    def export_release(self, cid: bytes) -> None:
        self.attest("export-release(bytes32 declarationDigest,bytes2 country)", cid, "au")

    def inspection(self, cid: bytes, by: str) -> None:
        self.attest(INSPECTION_SCHEMA, cid, by)

    def shipment(
        self,
        *,
        legs: Sequence[Leg] = DIRECT,
        draw: int | None = 4500,
        certificate: tuple[str, bytes, bytes] | None = None,
        issuer: str = "chamber",
        release: bool = True,
        start: int | None = None,
        keys: Mapping[str, str] | None = None,
        registrant: str = "carrier",
    ) -> Shipment:
        """A consignment with its journey, a drawdown on a certificate and its export release."""
        number, cert_id, document = certificate or self.certificate(issuer=issuer)
        box = fresh_container()
        legs = [
            dataclasses.replace(leg, container=box) if leg.container == CONTAINER else leg
            for leg in legs
        ]
        ref, cid = self.register(registrant=registrant)
        begin = start if start is not None else now(self.ledger) - JOURNEY_START
        if draw:
            self.draw(cert_id, cid, draw)
        self.journey(cid, legs, start=begin, keys=keys)
        if release:
            self.export_release(cid)
        return Shipment(
            ref=ref,
            cid=cid,
            certificate_number=number,
            certificate_issuer=self.parties[issuer],
            certificate_id=cert_id,
            document=document,
            quantity=draw or 0,
            start=begin,
            epcis=[leg.epcis for leg in legs if leg.epcis],
            container=box,
        )

    def claim(self, shipment: Shipment, **changes: Any) -> Claim:
        """The claim a trader presents for ``shipment`` (genuine unless ``changes`` alter it)."""
        certificate = CertificateClaim(
            number=shipment.certificate_number,
            issuer=shipment.certificate_issuer.org_id,
            document=shipment.document,
            hs_codes=WINE,
        )
        values: dict[str, Any] = {
            "consignment_ref": shipment.ref,
            "container": shipment.container,
            "certificate": certificate,
            "origin": "AU",
            "hs_codes": WINE,
            "quantity": shipment.quantity,
            "aeo_operators": (self.parties["exporter"].org_id,),
            "administration": self.parties["cn"].org_id,
            "epcis_events": tuple(shipment.epcis),
        }
        values.update(changes)
        return Claim(**values)

    # ---------------------------------------------------------------- AEO and MRAs

    def aeo(self, action: int, *, programme: str = "AEOF", operator: str = "exporter") -> None:
        t = now(self.ledger)
        record = AeoAction(
            action=action,
            operator_id=self.parties[operator].org_id,
            programme=fixed_ascii(programme, 8),
            nonce=secrets.randbits(32),
            deadline=t + 3600,
        )
        self.ledger.aeo.apply_action(self.ledger.sign(record, self.parties["au"].private_key))

    def terminate_demo_mra(self) -> None:
        termination = MraTermination(mra_id=self.world.mra_id, deadline=now(self.ledger) + 3600)
        self.ledger.aeo.terminate_mra(self.ledger.sign(termination, self.parties["au"].private_key))

    def mra(self, scope: int) -> None:
        t = now(self.ledger)
        proposal = MraProposal(
            counterpart=self.parties["cn"].org_id,
            scope=scope,
            valid_from=t - 3600,
            valid_until=t + 365 * DAY,
            deadline=t + 3600,
        )
        receipt = self.ledger.aeo.propose_mra(
            self.ledger.sign(proposal, self.parties["au"].private_key)
        )
        mra_id = next(
            d.args["mraId"]
            for d in self.ledger.decode_logs(receipt.logs)
            if d.event == "MraProposed"
        )
        self.ledger.aeo.accept_mra(
            self.ledger.sign(
                MraAcceptance(mra_id=mra_id, deadline=t + 3600), self.parties["cn"].private_key
            )
        )


def epcis_object_event(serials: Sequence[str], *, when: int, where: str) -> dict[str, Any]:
    """A minimal EPCIS 2.0 ObjectEvent naming ``serials`` (JSON-LD form)."""
    from datetime import UTC, datetime

    return {
        "type": "ObjectEvent",
        "eventTime": datetime.fromtimestamp(when, UTC).isoformat(),
        "eventTimeZoneOffset": "+00:00",
        "epcList": list(serials),
        "action": "OBSERVE",
        "bizStep": "shipping",
        "readPoint": {"id": f"urn:epc:id:sgln:{where}"},
    }


def serial_journey(serials: Sequence[str], *, start: int) -> tuple[Leg, ...]:
    """The direct journey whose loading event commits an EPCIS event naming ``serials``."""
    doc = epcis_object_event(serials, when=start + 2 * 3600, where="AUADL")
    legs = list(DIRECT)
    legs[1] = Leg("loading", "AUADL", 2, disposition="in_transit", epcis=doc)
    return tuple(legs)


__all__ = [
    "CONTAINER",
    "CUSTOMS",
    "DAY",
    "DIRECT",
    "ISSUING_BODY",
    "JOURNEY_START",
    "TRANSSHIPPED",
    "WINE",
    "Builder",
    "Leg",
    "Shipment",
    "advance",
    "assert_verdict",
    "epcis_object_event",
    "now",
    "serial_journey",
]


# Findings that name no record: nothing on chain to point at.
NO_EVIDENCE = frozenset({"CERT_NOT_FOUND", "QUANTITY_UNIT_MISMATCH"})


def assert_verdict(verdict: Verdict, status: VerdictStatus, *codes: str) -> None:
    """The verdict has this status and exactly these finding codes (in any order), each
    explained and, unless it names no record, with on-chain evidence (tx, block, log)."""
    report = render_report(verdict)
    assert verdict.status is status, report
    assert sorted(set(verdict.codes)) == sorted(set(codes)), report
    for finding in verdict.findings:
        assert finding.code in CATALOGUE
        assert finding.explanation
        assert finding.evidence or finding.code in NO_EVIDENCE, report
        for evidence in finding.evidence:
            if evidence.kind in {"event", "registration", "drawdown", "attestation"}:
                assert evidence.tx_hash
                assert evidence.tx_hash.startswith("0x")
                assert evidence.block_number is not None
                assert evidence.log_index is not None
