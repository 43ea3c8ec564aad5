"""One scenario per finding code that the counterfeit suite (``test_scenarios.py``)
does not reach: each built on chain through signed records, or, where the contracts make the
pattern impossible, by tampering with the index, and each asserting the verdict and the exact
set of finding codes.
"""

from __future__ import annotations

import secrets

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from sqlalchemy import update

from ledger.chain import Ledger
from ledger.chain import contract_errors as ce
from ledger.index import Index, consignment_events, drawdowns
from ledger.records import (
    AeoAction,
    AeoActionCode,
    CertificateIssue,
    Drawdown,
    certificate_id,
    fixed_ascii,
    hs_codes_digest,
)
from ledger.stack import CUSTOMS, ISSUING_BODY, TRADER
from ledger.verify import (
    CertificateClaim,
    Claim,
    VerdictStatus,
    Verifier,
)
from tests.ledger.scenarios import DAY, WINE, Builder, Leg, advance, assert_verdict, now


def issue(
    build: Builder,
    *,
    destination: str = "CN",
    exporter: str = "exporter",
    valid_from: int | None = None,
    quantity: int = 9000,
) -> tuple[str, bytes, bytes]:
    """A certificate of origin of the chamber (AU) with these terms: (number, id, document)."""
    t = now(build.ledger)
    number = f"COO-AU-{t}-{secrets.token_hex(4)}"
    document = f"Certificate of origin {number}: wine, {quantity} LTR to {destination}".encode()
    record = CertificateIssue(
        certificate_number=keccak(text=number),
        exporter=build.parties[exporter].org_id,
        origin=b"AU",
        destination=destination.encode(),
        document_digest=keccak(document),
        hs_codes_digest=hs_codes_digest(WINE),
        quantity=quantity,
        unit=fixed_ascii("LTR", 8),
        valid_from=t - 3600 if valid_from is None else valid_from,
        valid_until=t + 365 * DAY,
        issued_at=t,
    )
    chamber = build.parties["chamber"]
    build.ledger.certificates.issue(build.ledger.sign(record, chamber.private_key))
    return number, certificate_id(chamber.org_id, number), document


def certify_aeo(build: Builder, operator: str, *, valid_from: int, valid_until: int) -> None:
    """An AEOF certification of ``operator`` by the AU customs with this validity."""
    record = AeoAction(
        action=AeoActionCode.CERTIFY,
        operator_id=build.parties[operator].org_id,
        programme=fixed_ascii("AEOF", 8),
        valid_from=valid_from,
        valid_until=valid_until,
        nonce=secrets.randbits(32),
        deadline=now(build.ledger) + 3600,
    )
    build.ledger.aeo.apply_action(build.ledger.sign(record, build.parties["au"].private_key))


def tamper_event(index: Index, cid: bytes, seq: int, **values: object) -> None:
    """The index rewrites event ``seq`` of ``cid`` (who signed it is not in the hash chain)."""
    index.sync()
    with index.engine.begin() as conn:
        changed = conn.execute(
            update(consignment_events)
            .where(consignment_events.c.consignment_id == cid, consignment_events.c.seq == seq)
            .values(**values)
        )
        assert changed.rowcount == 1


# ------------------------------------------------------------------------------------------
# Certificates of origin
# ------------------------------------------------------------------------------------------


def test_certificate_not_yet_valid(ledger: Ledger, build: Builder, verifier: Verifier) -> None:
    """A certificate issued today for exports from next week, presented today."""
    number, _, document = issue(build, valid_from=now(ledger) + 7 * DAY)
    claim = Claim(
        certificate=CertificateClaim(
            number=number, issuer=build.parties["chamber"].org_id, document=document
        ),
        origin="AU",
        hs_codes=WINE,
        quantity=100,
    )
    verdict = verifier.verify(claim)
    assert_verdict(verdict, VerdictStatus.FAILED, "CERT_NOT_YET_VALID")


@pytest.mark.parametrize("presented", ["full code list", "declared goods only"])
def test_certificate_hs_codes_differ(build: Builder, verifier: Verifier, presented: str) -> None:
    shipment = build.shipment()
    certificate = CertificateClaim(
        number=shipment.certificate_number,
        issuer=shipment.certificate_issuer.org_id,
        document=shipment.document,
        hs_codes=("2204.21", "2204.29") if presented == "full code list" else None,
    )
    goods = WINE if presented == "full code list" else ("2204.29",)
    verdict = verifier.verify(build.claim(shipment, certificate=certificate, hs_codes=goods))
    assert_verdict(verdict, VerdictStatus.FAILED, "CERT_HS_MISMATCH")


def test_certificate_for_another_destination(build: Builder, verifier: Verifier) -> None:
    """A certificate for wine to New Zealand drawn for a consignment to China."""
    shipment = build.shipment(certificate=issue(build, destination="NZ"))
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "CERT_DESTINATION_MISMATCH")


def test_certificate_of_another_exporter(
    ledger: Ledger, build: Builder, verifier: Verifier
) -> None:
    """Another trader's certificate, drawn by that trader, for the exporter's consignment. The
    chain refuses it unless that trader is a party of the consignment (here its registrant),
    and then the verdict names the mismatch."""
    other = build.admit("other_exporter", "Barossa Bulk Wines", TRADER, "AU")
    certificate = issue(build, exporter="other_exporter")
    unrelated = build.shipment(certificate=certificate, draw=None)
    drawdown = Drawdown(
        certificate_id=unrelated.certificate_id,
        consignment_id=unrelated.cid,
        quantity=4500,
        deadline=now(ledger) + 3600,
    )
    with pytest.raises(ce.ExporterNotConsignmentParty):
        ledger.certificates.draw_down(ledger.sign(drawdown, other.private_key))
    shipment = build.shipment(certificate=certificate, draw=None, registrant="other_exporter")
    drawdown = Drawdown(
        certificate_id=shipment.certificate_id,
        consignment_id=shipment.cid,
        quantity=4500,
        deadline=now(ledger) + 3600,
    )
    ledger.certificates.draw_down(ledger.sign(drawdown, other.private_key))
    verdict = verifier.verify(build.claim(shipment, quantity=4500))
    assert_verdict(verdict, VerdictStatus.SUSPICIOUS, "CERT_EXPORTER_MISMATCH")


def test_certificate_of_a_suspended_issuer(
    ledger: Ledger, build: Builder, verifier: Verifier
) -> None:
    """The chamber is suspended after issuing and drawing: the certificate still proves what
    it recorded (no failure), but it cannot be drawn any more, which the verdict says."""
    shipment = build.shipment()
    build.suspend(build.parties["chamber"])
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.SUSPICIOUS, "CERT_ISSUER_SUSPENDED")


def test_index_overdrawing_a_certificate(index: Index, build: Builder, verifier: Verifier) -> None:
    """The contract refuses to overdraw; an index that shows 10,000 of 9,000 drawn is caught,
    and disagrees with the contract."""
    shipment = build.shipment(draw=4500)
    index.sync()
    with index.engine.begin() as conn:
        conn.execute(
            update(drawdowns)
            .where(drawdowns.c.consignment_id == shipment.cid)
            .values(quantity=10000, drawn=10000)
        )
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "CERT_OVERDRAWN", "INDEX_MISMATCH")


# ------------------------------------------------------------------------------------------
# Origin
# ------------------------------------------------------------------------------------------


def test_origin_unproven_without_loading_or_departure(build: Builder, verifier: Verifier) -> None:
    legs = (
        Leg("packing", "AUADL", 0, actor="exporter", seal=None, container=None),
        Leg("storing", "AUADL", 5, seal=None, container=None),
    )
    shipment = build.shipment(legs=legs)
    verdict = verifier.verify(build.claim(shipment, container=None))
    assert_verdict(verdict, VerdictStatus.SUSPICIOUS, "ORIGIN_UNPROVEN")


# ------------------------------------------------------------------------------------------
# Signers (the contracts refuse these records: only an index can show them)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["key of another organisation", "kind that may not sign"])
def test_index_showing_an_unauthorised_signer(
    index: Index, build: Builder, verifier: Verifier, how: str
) -> None:
    shipment = build.shipment()
    if how == "key of another organisation":  # the carrier's key, attributed to the AU customs
        tamper_event(index, shipment.cid, 2, org_id=build.parties["au"].org_id)
    else:  # signed, says the index, by the chamber of commerce (an issuing body)
        chamber = build.parties["chamber"]
        assert chamber.kind == ISSUING_BODY
        tamper_event(
            index,
            shipment.cid,
            2,
            org_id=chamber.org_id,
            signer=bytes.fromhex(chamber.address[2:]),
        )
    verdict = verifier.verify(build.claim(shipment))
    # the chain head commits to who signed each event: the index's attribution folds to
    # another head, hence HEAD_MISMATCH as well
    assert_verdict(verdict, VerdictStatus.FAILED, "SIGNER_NOT_AUTHORISED", "HEAD_MISMATCH")


@pytest.mark.parametrize("how", ["not yet valid", "revoked before"])
def test_index_showing_an_invalid_signing_key(
    ledger: Ledger, index: Index, build: Builder, verifier: Verifier, how: str
) -> None:
    if how == "not yet valid":  # a carrier key valid only from now, for a 20-day-old event
        key = build.add_key("carrier", valid_from=now(ledger))
        shipment = build.shipment()
    else:  # a carrier key revoked before the journey was recorded
        key = build.add_key("carrier", valid_from=now(ledger) - 60 * DAY)
        build.revoke_key("carrier", key)
        shipment = build.shipment()
    address = Account.from_key(key).address
    tamper_event(index, shipment.cid, 2, signer=bytes.fromhex(address[2:]))
    verdict = verifier.verify(build.claim(shipment))
    # the head commits to the key that really signed: HEAD_MISMATCH as well
    assert_verdict(verdict, VerdictStatus.FAILED, "SIGNER_KEY_INVALID", "HEAD_MISMATCH")
    invalid = next(f for f in verdict.findings if f.code == "SIGNER_KEY_INVALID")
    assert address in invalid.explanation
    assert ("became valid only" if how == "not yet valid" else "revoked") in invalid.explanation


# ------------------------------------------------------------------------------------------
# AEO
# ------------------------------------------------------------------------------------------


def test_aeo_certified_by_a_suspended_administration(
    ledger: Ledger, build: Builder, verifier: Verifier
) -> None:
    """AU certified the exporter; CN recognises it through the MRA until AU is suspended: a
    suspended administration's certifications are recognised by no one (the contract's rule),
    though the certification itself is unchanged."""
    shipment = build.shipment()
    assert ledger.aeo.recognition(
        build.parties["exporter"].org_id, build.parties["cn"].org_id, now(ledger)
    ).recognised
    build.admit("nz", "New Zealand Customs Service", CUSTOMS, "NZ")  # k = 2 of 3 after AU
    build.suspend(build.parties["au"])
    verdict = verifier.verify(build.claim(shipment))
    # AU also signed the shipment's export release: a signer suspended since, as ever.
    assert_verdict(
        verdict, VerdictStatus.FAILED, "AEO_CERTIFIER_SUSPENDED", "SIGNER_MEMBER_SUSPENDED"
    )


def test_aeo_revoked(build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment()
    build.aeo(AeoActionCode.REVOKE)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "AEO_REVOKED")


@pytest.mark.parametrize("when", ["expired", "not yet valid"])
def test_aeo_outside_its_validity(
    ledger: Ledger, build: Builder, verifier: Verifier, when: str
) -> None:
    forwarder = build.admit("forwarder", "Port Adelaide Forwarding", TRADER, "AU")
    t = now(ledger)
    if when == "expired":
        certify_aeo(build, "forwarder", valid_from=t - DAY, valid_until=t + 3600)
        shipment = build.shipment()
        advance(ledger, 2 * 3600)
    else:
        certify_aeo(build, "forwarder", valid_from=t + 30 * DAY, valid_until=t + 365 * DAY)
        shipment = build.shipment()
    verdict = verifier.verify(build.claim(shipment, aeo_operators=(forwarder.org_id,)))
    assert_verdict(verdict, VerdictStatus.FAILED, "AEO_EXPIRED")
