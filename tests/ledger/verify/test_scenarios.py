"""One test per counterfeit pattern, each recorded on chain through signed records, and the
genuine consignments that must verify with no finding at all.

Each test builds its scenario with :class:`tests.ledger.scenarios.Builder` on the seeded demo
world, indexes the chain into a fresh SQLite file and asserts the verdict and the exact
finding codes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from ledger.chain import Ledger
from ledger.errors import InvalidClaim
from ledger.index import Index, attestation_revocations, consignment_events
from ledger.records import (
    AeoActionCode,
    AttestationRevocation,
    ConsignmentRegistration,
    LocodeDirectory,
    consignment_id,
    reference_hash,
)
from ledger.risk import score_risk
from ledger.stack import CARRIER, CUSTOMS, EXPORT_RELEASE_SCHEMA, ISSUING_BODY
from ledger.verify import (
    CertificateClaim,
    Claim,
    SerialRegistry,
    VerdictStatus,
    VerificationPolicy,
    Verifier,
    export_bundle,
    render_report,
    verify_bundle,
)
from tests.ledger.scenarios import (
    DAY,
    DIRECT,
    JOURNEY_START,
    TRANSSHIPPED,
    Builder,
    Leg,
    advance,
    assert_verdict,
    now,
    serial_journey,
)

# ------------------------------------------------------------------------------------------
# Genuine consignments: no finding at all
# ------------------------------------------------------------------------------------------


def test_genuine_direct_consignment_verifies(build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment()
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.VERIFIED)
    assert verdict.findings == ()
    assert {c.outcome for c in verdict.checks} <= {"passed", "skipped"}
    assert verdict.risk is not None
    assert verdict.risk.band == "low"
    assert "VERIFIED" in render_report(verdict)


def test_genuine_transshipment_with_customs_attestation_verifies(
    build: Builder, verifier: Verifier
) -> None:
    build.admit("sg", "Singapore Customs", CUSTOMS, "SG")
    shipment = build.shipment(legs=TRANSSHIPPED)
    build.attest("seal-check(bytes32 sealDigest,bool intact)", shipment.cid, "sg")
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.VERIFIED)


def test_genuine_aeo_under_mra_verifies_and_lowers_risk(build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment()
    with_aeo = verifier.verify(build.claim(shipment))
    without = verifier.verify(build.claim(shipment, aeo_operators=()))
    assert_verdict(with_aeo, VerdictStatus.VERIFIED)
    assert_verdict(without, VerdictStatus.VERIFIED)
    assert with_aeo.risk.score < without.risk.score
    assert any("AEO" in c.reason for c in with_aeo.risk.contributions)


def test_genuine_resealed_after_customs_inspection_verifies(
    build: Builder, verifier: Verifier
) -> None:
    legs = list(DIRECT)
    legs[3] = Leg("arriving", "CNSGH", 3 + 12 * 24, disposition="in_transit")
    legs[4] = Leg("unloading", "CNSGH", 4 + 12 * 24, seal="seal CN-CUS 0001")
    shipment = build.shipment(legs=legs)
    build.inspection(shipment.cid, "cn")
    assert_verdict(verifier.verify(build.claim(shipment)), VerdictStatus.VERIFIED)


# ------------------------------------------------------------------------------------------
# Certificates of origin
# ------------------------------------------------------------------------------------------


def test_forged_certificate(build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment()
    forged = CertificateClaim(
        number="COO-AU-FAKE-0001",
        issuer=build.parties["chamber"].org_id,
        document=b"Certificate of origin COO-AU-FAKE-0001",
    )
    verdict = verifier.verify(build.claim(shipment, certificate=forged))
    assert_verdict(verdict, VerdictStatus.FAILED, "CERT_NOT_FOUND")


def test_altered_certificate(build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment()
    altered = CertificateClaim(
        number=shipment.certificate_number,
        issuer=shipment.certificate_issuer.org_id,
        document=shipment.document.replace(b"9000", b"90000"),
    )
    verdict = verifier.verify(build.claim(shipment, certificate=altered))
    assert_verdict(verdict, VerdictStatus.FAILED, "CERT_DIGEST_MISMATCH")


def test_goods_not_on_the_certificate(build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment()
    verdict = verifier.verify(build.claim(shipment, hs_codes=("2204.21", "2208.30")))
    assert_verdict(verdict, VerdictStatus.FAILED, "GOODS_NOT_COVERED")


def test_certificate_reused_beyond_its_quantity(build: Builder, verifier: Verifier) -> None:
    certificate = build.certificate(quantity=9000)
    build.shipment(certificate=certificate, draw=4500)
    build.shipment(certificate=certificate, draw=4500)
    third = build.shipment(certificate=certificate, draw=None)  # the contract refuses more
    verdict = verifier.verify(build.claim(third, quantity=3000))
    assert_verdict(
        verdict,
        VerdictStatus.FAILED,
        "CERT_NOT_DRAWN",
        "CERT_QUANTITY_EXCEEDED",
        "CERT_DRAWN_BY_OTHERS",
    )


def test_quantity_declared_beyond_the_drawdown(build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment(draw=4500)
    verdict = verifier.verify(build.claim(shipment, quantity=9000))
    assert_verdict(verdict, VerdictStatus.FAILED, "CERT_QUANTITY_EXCEEDED")


def test_certificate_drawn_for_two_consignments(build: Builder, verifier: Verifier) -> None:
    certificate = build.certificate(quantity=9000)
    build.shipment(certificate=certificate, draw=4500)
    second = build.shipment(certificate=certificate, draw=4500)
    verdict = verifier.verify(build.claim(second))
    assert_verdict(verdict, VerdictStatus.SUSPICIOUS, "CERT_DRAWN_BY_OTHERS")


def test_revoked_certificate(build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment()
    build.revoke_certificate(shipment.certificate_number)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "CERT_REVOKED")


def test_expired_certificate(ledger: Ledger, build: Builder, verifier: Verifier) -> None:
    certificate = build.certificate(valid_for=2 * 3600)
    shipment = build.shipment(certificate=certificate)
    advance(ledger, 3 * 3600)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "CERT_EXPIRED")


def test_issuer_not_authorised_for_the_origin(build: Builder, verifier: Verifier) -> None:
    build.admit("sg_chamber", "Singapore Business Federation", ISSUING_BODY, "SG")
    certificate = build.certificate(issuer="sg_chamber", origin="SG")
    shipment = build.shipment(certificate=certificate, issuer="sg_chamber")
    verdict = verifier.verify(build.claim(shipment, origin="AU"))
    assert_verdict(verdict, VerdictStatus.FAILED, "CERT_ISSUER_NOT_AUTHORISED")


# ------------------------------------------------------------------------------------------
# Origin and route
# ------------------------------------------------------------------------------------------


def test_origin_laundering_via_transshipment(build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment(legs=TRANSSHIPPED)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "ORIGIN_LAUNDERING")
    (finding,) = verdict.findings
    assert {e.note.split(" at ")[1][:5] for e in finding.evidence} == {"SGSIN"}


def test_goods_loaded_outside_the_claimed_origin(build: Builder, verifier: Verifier) -> None:
    legs = (
        Leg("loading", "SGSIN", 2, disposition="in_transit"),
        Leg("departing", "SGSIN", 3, disposition="in_transit"),
        Leg("arriving", "CNSGH", 3 + 5 * 24, disposition="in_transit"),
    )
    shipment = build.shipment(legs=legs)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "ORIGIN_MISMATCH", "ORIGIN_LAUNDERING")


# ------------------------------------------------------------------------------------------
# Chain of custody and seals
# ------------------------------------------------------------------------------------------


def test_custody_gap(build: Builder, verifier: Verifier) -> None:
    legs = (
        *DIRECT[:3],
        Leg("storing", "CNSGH", 3 + 13 * 24),  # never recorded arriving or unloading
    )
    shipment = build.shipment(legs=legs)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.SUSPICIOUS, "CUSTODY_GAP")


def test_impossible_travel_time(build: Builder, verifier: Verifier) -> None:
    legs = (
        *DIRECT[:3],
        Leg("arriving", "CNSGH", 6, disposition="in_transit"),  # 7,000 km in 3 hours
        Leg("unloading", "CNSGH", 7, disposition="in_progress"),
    )
    shipment = build.shipment(legs=legs)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "IMPOSSIBLE_TRAVEL")


def test_travel_times_are_checked_by_default(ledger: Ledger, index: Index, build: Builder) -> None:
    """No directory given: the packaged UN/LOCODE list's coordinates are used."""
    legs = (
        *DIRECT[:3],
        Leg("arriving", "CNSGH", 6, disposition="in_transit"),  # 7,000 km in 3 hours
        Leg("unloading", "CNSGH", 7, disposition="in_progress"),
    )
    shipment = build.shipment(legs=legs)
    verdict = Verifier(ledger, index).verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "IMPOSSIBLE_TRAVEL")


def test_travel_time_is_skipped_without_coordinates(
    ledger: Ledger, index: Index, build: Builder
) -> None:
    legs = (*DIRECT[:3], Leg("arriving", "CNSGH", 6), Leg("unloading", "CNSGH", 7))
    shipment = build.shipment(legs=legs)
    verdict = Verifier(ledger, index, locodes=LocodeDirectory({})).verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.VERIFIED)
    assert any(c.name == "travel times" and c.outcome == "skipped" for c in verdict.checks)


def test_events_out_of_time_order(build: Builder, verifier: Verifier) -> None:
    legs = (
        *DIRECT[:3],
        Leg("arriving", "CNSGH", 3 + 12 * 24),
        Leg("unloading", "CNSGH", 3 + 11 * 24),  # dated a day before the arrival
    )
    shipment = build.shipment(legs=legs)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.SUSPICIOUS, "TIME_NOT_MONOTONIC")


def test_seal_changed_without_inspection(build: Builder, verifier: Verifier) -> None:
    legs = list(DIRECT)
    legs[3] = Leg("arriving", "CNSGH", 3 + 12 * 24, seal="seal XX 0000001")
    legs[4] = Leg("unloading", "CNSGH", 4 + 12 * 24, seal="seal XX 0000001")
    shipment = build.shipment(legs=legs)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "SEAL_CHANGED_WITHOUT_INSPECTION")


def test_index_tampered_head_mismatch(index: Index, build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment()
    index.sync()
    with index.engine.begin() as conn:  # the index now says the goods arrived in Singapore
        conn.execute(
            update(consignment_events)
            .where(
                consignment_events.c.consignment_id == shipment.cid,
                consignment_events.c.seq == 4,
            )
            .values(location="SGSIN")
        )
    verdict = verifier.verify(build.claim(shipment))
    assert "HEAD_MISMATCH" in verdict.codes
    assert verdict.status is VerdictStatus.FAILED


def test_index_missing_an_event_head_mismatch(
    index: Index, build: Builder, verifier: Verifier
) -> None:
    shipment = build.shipment()
    index.sync()
    with index.engine.begin() as conn:
        conn.execute(
            consignment_events.delete().where(
                consignment_events.c.consignment_id == shipment.cid,
                consignment_events.c.seq == 5,
            )
        )
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "HEAD_MISMATCH")


# ------------------------------------------------------------------------------------------
# Signers
# ------------------------------------------------------------------------------------------


def test_event_signed_by_a_key_revoked_since(
    ledger: Ledger, build: Builder, verifier: Verifier
) -> None:
    key = build.add_key("carrier", valid_from=now(ledger) - 60 * DAY)
    shipment = build.shipment(keys={"carrier": key})
    build.revoke_key("carrier", key)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.SUSPICIOUS, "SIGNER_KEY_REVOKED")
    (finding,) = verdict.findings
    assert len(finding.evidence) == 4  # the four carrier events


def test_event_signed_by_a_member_suspended_since(build: Builder, verifier: Verifier) -> None:
    rogue = build.admit("rogue", "Fly-by-Night Shipping", CARRIER, "SG")
    shipment = build.shipment(keys={"carrier": rogue.private_key})
    build.suspend(rogue)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.SUSPICIOUS, "SIGNER_MEMBER_SUSPENDED")


def test_backdated_events(
    ledger: Ledger, index: Index, locodes: LocodeDirectory, build: Builder
) -> None:
    """Events recorded 8 to 20 days after their dates, judged by an administration that allows
    a week. (The contracts let a key sign at most 30 days before its registration, so on this
    fresh chain, whose keys are 21 days old, nothing older can be recorded.)"""
    shipment = build.shipment(start=now(ledger) - 20 * DAY)
    strict = Verifier(
        ledger,
        index,
        locodes=locodes,
        scorer=score_risk,
        policy=VerificationPolicy(max_recording_lag=7 * DAY),
    )
    verdict = strict.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.SUSPICIOUS, "BACKDATED_RECORD")


# ------------------------------------------------------------------------------------------
# Required attestations
# ------------------------------------------------------------------------------------------


def test_export_release_missing(build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment(release=False)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "ATTESTATION_MISSING")


# ------------------------------------------------------------------------------------------
# AEO
# ------------------------------------------------------------------------------------------


def test_aeo_suspended(build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment()
    build.aeo(AeoActionCode.SUSPEND)
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "AEO_SUSPENDED")


def test_operator_presented_as_aeo_without_certification(
    build: Builder, verifier: Verifier
) -> None:
    shipment = build.shipment()
    verdict = verifier.verify(
        build.claim(shipment, aeo_operators=(build.parties["carrier"].org_id,))
    )
    assert_verdict(verdict, VerdictStatus.FAILED, "AEO_NOT_CERTIFIED")


@pytest.mark.parametrize("case", ["no_mra", "mra_terminated", "mra_out_of_scope"])
def test_aeo_not_recognised(build: Builder, verifier: Verifier, case: str) -> None:
    shipment = build.shipment()
    administration = build.parties["cn"].org_id
    if case == "no_mra":
        administration = build.admit("nz", "New Zealand Customs Service", CUSTOMS, "NZ").org_id
    elif case == "mra_terminated":
        build.terminate_demo_mra()
    else:
        build.terminate_demo_mra()
        build.mra(scope=0x2)  # AEOS only; the exporter holds AEOF
    verdict = verifier.verify(build.claim(shipment, administration=administration))
    assert_verdict(verdict, VerdictStatus.FAILED, "AEO_NOT_RECOGNISED")
    (finding,) = verdict.findings
    expected = {
        "no_mra": "no mutual recognition agreement",
        "mra_terminated": "terminated",
        "mra_out_of_scope": "not AEOF",
    }[case]
    assert expected in finding.explanation


# ------------------------------------------------------------------------------------------
# Cloned serials
# ------------------------------------------------------------------------------------------


def test_cloned_serial(ledger: Ledger, index: Index, build: Builder, tmp_path: Path) -> None:
    registry = SerialRegistry(f"sqlite:///{tmp_path / 'serials.db'}")
    start = now(ledger) - JOURNEY_START
    serials = ["urn:epc:id:sgtin:9312345.012345.1001", "urn:epc:id:sgtin:9312345.012345.1002"]
    original = build.shipment(legs=serial_journey(serials, start=start), start=start)
    copy = build.shipment(legs=serial_journey(serials[:1], start=start + 3600), start=start + 3600)
    index.sync()
    registry.ingest(timeline=index.consignment_timeline(original.cid), epcis_events=original.epcis)
    verifier = Verifier(ledger, index, serials=registry)
    genuine = verifier.verify(build.claim(original))
    cloned = verifier.verify(build.claim(copy))
    # the original's serials are only its own; the copy carries one of them at the same time
    assert_verdict(genuine, VerdictStatus.VERIFIED)
    assert_verdict(cloned, VerdictStatus.FAILED, "CLONED_SERIAL")


def test_serial_never_commissioned(
    ledger: Ledger, index: Index, build: Builder, tmp_path: Path
) -> None:
    registry = SerialRegistry(f"sqlite:///{tmp_path / 'serials.db'}")
    registry.commission(
        brand_owner=build.parties["exporter"].org_id,
        serials=["urn:epc:id:sgtin:9312345.012345.1001"],
        at=now(ledger),
    )
    start = now(ledger) - JOURNEY_START
    fake = ["urn:epc:id:sgtin:9312345.012345.9999"]
    shipment = build.shipment(legs=serial_journey(fake, start=start), start=start)
    verdict = Verifier(ledger, index, serials=registry).verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "SERIAL_NOT_COMMISSIONED")


def test_epcis_document_not_committed(ledger: Ledger, build: Builder, verifier: Verifier) -> None:
    start = now(ledger) - JOURNEY_START
    shipment = build.shipment(legs=serial_journey(["urn:epc:id:sgtin:1.2.3"], start=start))
    altered = dict(shipment.epcis[0], epcList=["urn:epc:id:sgtin:1.2.4"])
    verdict = verifier.verify(build.claim(shipment, epcis_events=(altered,)))
    assert_verdict(verdict, VerdictStatus.FAILED, "EPCIS_HASH_MISMATCH")


# ------------------------------------------------------------------------------------------
# Lookups and claims
# ------------------------------------------------------------------------------------------


def test_consignment_found_by_container(build: Builder, verifier: Verifier) -> None:
    shipment = build.shipment()
    verdict = verifier.verify(build.claim(shipment, consignment_ref=None))
    assert verdict.consignment_id == shipment.cid


def test_a_reference_registered_by_two_organisations_needs_its_registrant(
    build: Builder, verifier: Verifier
) -> None:
    """A competitor registering the same public reference gets its own consignment (the id is
    bound to the registrant): a claim by reference alone is ambiguous and the verifier says so
    rather than guess; naming the registrant finds the carrier's consignment."""
    shipment = build.shipment()
    squatter = build.world.parties["exporter"]
    squat = ConsignmentRegistration(
        reference_hash=reference_hash(shipment.ref),
        origin=b"AU",
        destination=b"CN",
        deadline=now(build.ledger) + 3600,
    )
    build.ledger.submit(build.ledger.sign(squat, squatter.private_key))
    verdict = verifier.verify(build.claim(shipment, container=None))
    assert_verdict(verdict, VerdictStatus.FAILED, "REFERENCE_AMBIGUOUS")
    (finding,) = verdict.findings
    assert {e.record_id for e in finding.evidence} == {
        "0x" + shipment.cid.hex(),
        "0x" + consignment_id(shipment.ref, registrant=squatter.org_id).hex(),
    }
    carrier = build.world.parties["carrier"]
    named = verifier.verify(build.claim(shipment, container=None, registrant=carrier.org_id))
    assert named.consignment_id == shipment.cid
    assert_verdict(named, VerdictStatus.VERIFIED)


def test_unknown_consignment(build: Builder, verifier: Verifier) -> None:
    verdict = verifier.verify(Claim(consignment_ref="NO-SUCH-UCR"))
    assert_verdict(verdict, VerdictStatus.FAILED, "CONSIGNMENT_NOT_FOUND")


def test_claim_must_name_something(verifier: Verifier) -> None:
    with pytest.raises(InvalidClaim):
        verifier.verify(Claim(origin="AU"))


def test_certificate_only_claim(build: Builder, verifier: Verifier) -> None:
    number, _, document = build.certificate(quantity=100)
    issuer = build.parties["chamber"].org_id
    claim = Claim(
        certificate=CertificateClaim(number=number, issuer=issuer, document=document),
        origin="AU",
        hs_codes=("2204.21",),
        quantity=100,
    )
    assert_verdict(verifier.verify(claim), VerdictStatus.VERIFIED)
    build.revoke_certificate(number)
    too_much = Claim(
        certificate=CertificateClaim(number=number, issuer=issuer), origin="AU", quantity=101
    )
    assert_verdict(
        verifier.verify(too_much), VerdictStatus.FAILED, "CERT_REVOKED", "CERT_QUANTITY_EXCEEDED"
    )


@pytest.mark.parametrize("logs", [False, True], ids=["head", "head and logs"])
def test_index_misattributing_an_event(
    ledger: Ledger, index: Index, build: Builder, locodes: LocodeDirectory, logs: bool
) -> None:
    """The chain step commits to each record's organisation and signer, so the head check
    alone catches it; the log check, when asked for, sees it as well."""
    shipment = build.shipment()
    index.sync()
    exporter = build.parties["exporter"]
    with index.engine.begin() as conn:  # the record unchanged, its organisation and key not
        conn.execute(
            update(consignment_events)
            .where(
                consignment_events.c.consignment_id == shipment.cid,
                consignment_events.c.seq == 2,
            )
            .values(org_id=exporter.org_id, signer=bytes.fromhex(exporter.address[2:]))
        )
    policy = VerificationPolicy(check_attribution=logs)
    verifier = Verifier(ledger, index, locodes=locodes, policy=policy)
    verdict = verifier.verify(build.claim(shipment))
    codes = ("HEAD_MISMATCH", "INDEX_MISMATCH") if logs else ("HEAD_MISMATCH",)
    assert_verdict(verdict, VerdictStatus.FAILED, *codes)


def test_index_hiding_a_revoked_export_release(
    index: Index, build: Builder, verifier: Verifier
) -> None:
    shipment = build.shipment(release=False)
    uid = build.attest(EXPORT_RELEASE_SCHEMA, shipment.cid, "au")
    build.ledger.attestations.revoke(
        build.ledger.sign(
            AttestationRevocation(uid=uid, deadline=now(build.ledger) + 600),
            build.parties["au"].private_key,
        )
    )
    index.sync()
    with index.engine.begin() as conn:
        conn.execute(attestation_revocations.delete().where(attestation_revocations.c.uid == uid))
    verdict = verifier.verify(build.claim(shipment))
    assert_verdict(verdict, VerdictStatus.FAILED, "INDEX_MISMATCH", "ATTESTATION_REVOKED")


def test_tampered_bundle(ledger: Ledger, index: Index, build: Builder) -> None:
    shipment = build.shipment()
    bundle = export_bundle(index, shipment.cid)
    assert_verdict(verify_bundle(bundle, ledger.w3), VerdictStatus.VERIFIED)
    arrival = [e for e in bundle["logs"] if e["event"] == "ConsignmentEventRecorded"][3]
    arrival["record"]["fields"]["location"] = "SGSIN"  # "it came through Singapore"
    verdict = verify_bundle(bundle, ledger.w3)
    assert_verdict(verdict, VerdictStatus.FAILED, "BUNDLE_RECORD_MISMATCH")
    assert "fields" in verdict.findings[0].explanation
