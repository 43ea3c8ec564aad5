"""The verification engine's parts: claims from JSON, the EPCIS event hash, the findings
catalogue, risk scores, reports; and the seeded demo consignment verifying as genuine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from ledger.chain import Ledger
from ledger.errors import InvalidClaim
from ledger.index import Index
from ledger.records import Quantity
from ledger.risk import BANDS, band_of, score_risk
from ledger.stack import DemoWorld
from ledger.verify import (
    CertificateClaim,
    Claim,
    Evidence,
    Severity,
    Verdict,
    VerdictStatus,
    Verifier,
    claim_from_json,
    epcis_event_hash,
    epcis_serials,
    make_finding,
    render_report,
    status_of,
    verdict_json,
)

EVENT = {
    "type": "ObjectEvent",
    "eventTime": "2026-03-01T10:00:00+10:30",
    "eventTimeZoneOffset": "+10:30",
    "epcList": ["urn:epc:id:sgtin:9312345.012345.2", "urn:epc:id:sgtin:9312345.012345.1"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "readPoint": {"id": "urn:epc:id:sgln:9312345.00001.0"},
}


def test_claim_from_json_reads_every_field() -> None:
    claim = claim_from_json(
        {
            "consignment_ref": "AU-UCR-1",
            "registrant": "Oceanic Container Line",
            "container": "MSCU1234566",
            "certificate": {
                "number": "COO-1",
                "issuer": "Australian Chamber of Commerce and Industry",
                "document": "the certificate text",
                "hs_codes": ["2204.21"],
            },
            "origin": "AU",
            "hs_codes": ["220421"],
            "quantity": "4.5",
            "unit": "TNE",
            "aeo_operators": ["0x" + "ab" * 32],
            "administration": "General Administration of Customs of China",
            "at": "2026-03-01T00:00:00Z",
        }
    )
    assert claim.certificate is not None
    assert claim.certificate.issuer == keccak(text="Australian Chamber of Commerce and Industry")
    assert claim.certificate.document == b"the certificate text"
    assert claim.quantity == Quantity.parse("4.5", "TNE")
    assert claim.aeo_operators == (bytes.fromhex("ab" * 32),)
    assert claim.at == 1772323200
    assert claim.registrant == keccak(text="Oceanic Container Line")


@pytest.mark.parametrize(
    "data",
    [
        {"consignment_ref": "x", "colour": "red"},
        {"consignment_id": "0x1234"},
        {"consignment_ref": "x", "at": "yesterday"},
        {"consignment_ref": "x", "quantity": "1.5", "unit": "PARSEC"},
        {"consignment_ref": "x", "registrant": ""},
    ],
)
def test_claim_from_json_rejects_bad_input(data: dict[str, object]) -> None:
    with pytest.raises(InvalidClaim):
        claim_from_json(data)


def test_epcis_event_hash_is_canonical() -> None:
    base = epcis_event_hash(EVENT)
    reordered = dict(reversed(list(EVENT.items())), epcList=sorted(EVENT["epcList"]))
    same_instant = dict(EVENT, eventTime="2026-02-28T23:30:00Z")
    word_uri = dict(EVENT, bizStep="https://ref.gs1.org/cbv/BizStep-shipping")
    assert epcis_event_hash(reordered) == base
    assert epcis_event_hash(same_instant) == base
    assert epcis_event_hash(word_uri) == base
    assert epcis_event_hash(dict(EVENT, epcList=["urn:epc:id:sgtin:9312345.012345.3"])) != base
    assert len(base) == 32
    assert epcis_serials(EVENT) == sorted(EVENT["epcList"])


def test_epcis_event_without_time_is_refused() -> None:
    with pytest.raises(InvalidClaim):
        epcis_event_hash({"type": "ObjectEvent"})


def test_status_follows_the_worst_severity() -> None:
    warning = make_finding("CUSTODY_GAP", "gap")
    critical = make_finding("CERT_REVOKED", "revoked")
    assert status_of([]) is VerdictStatus.VERIFIED
    assert status_of([warning]) is VerdictStatus.SUSPICIOUS
    assert status_of([warning, critical]) is VerdictStatus.FAILED
    raised = make_finding("SIGNER_MEMBER_SUSPENDED", "x", severity=Severity.CRITICAL)
    assert status_of([raised]) is VerdictStatus.FAILED


def test_risk_score_contributions() -> None:
    clean = score_risk([], recognised_aeos=1, history=(5, True), on_ledger=True)
    assert clean.score == 0
    assert clean.band == "low"
    assert [c.points for c in clean.contributions] == [40, -15, -20, -10]
    unknown = score_risk([], recognised_aeos=0, history=(0, False), on_ledger=True)
    assert unknown.score == 30
    assert unknown.band == "low"
    failed = score_risk(
        [make_finding("CERT_REVOKED", "r")], recognised_aeos=1, history=(5, True), on_ledger=True
    )
    assert failed.band == "high"
    assert failed.score >= 60
    many = score_risk(
        [
            make_finding(code, "r")
            for code in ("CERT_REVOKED", "ORIGIN_LAUNDERING", "HEAD_MISMATCH")
        ],
        recognised_aeos=0,
        history=(0, False),
        on_ledger=True,
    )
    assert many.score == 100


def test_a_clean_verified_consignment_is_low_risk_with_or_without_facilitation() -> None:
    """Every combination of AEO credit and consignor history, with nothing found on a
    consignment on the ledger, lands in the low band (the demo consignment was "medium")."""
    for aeos in (0, 1):
        for history in ((0, False), (1, True), (2, False), (3, True), (9, False)):
            risk = score_risk([], recognised_aeos=aeos, history=history, on_ledger=True)
            assert risk.band == "low", (aeos, history, risk)
    # the demo: the exporter is a recognised AEO, its first consignment
    demo = score_risk([], recognised_aeos=1, history=(0, False), on_ledger=True)
    assert demo.band == "low"
    assert demo.score == 10


def test_a_finding_code_counts_once() -> None:
    twice = [
        make_finding("ORIGIN_MISMATCH", "registered origin is CN"),
        make_finding("ORIGIN_MISMATCH", "first loaded at CNSGH"),
    ]
    risk = score_risk(twice, recognised_aeos=0, history=(5, True), on_ledger=True)
    points = [c for c in risk.contributions if c.reason.startswith("ORIGIN_MISMATCH")]
    assert [(c.reason, c.points) for c in points] == [("ORIGIN_MISMATCH (x2) (critical)", 35)]
    assert risk.score == 65


def test_no_aeo_credit_for_a_consignment_not_on_the_ledger() -> None:
    finding = make_finding("CONSIGNMENT_NOT_FOUND", "no such consignment")
    off = score_risk([finding], recognised_aeos=1, history=(0, False), on_ledger=False)
    assert not any("AEO" in c.reason for c in off.contributions)
    assert not any("every check passed" in c.reason for c in off.contributions)
    on = score_risk([finding], recognised_aeos=1, history=(0, False), on_ledger=True)
    assert any("AEO" in c.reason for c in on.contributions)


def test_bands_cover_every_score() -> None:
    assert [band_of(s) for s in (0, 34, 35, 59, 60, 100)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]
    assert [b[0] for b in BANDS] == ["low", "medium", "high"]
    high = score_risk(
        [make_finding("CERT_REVOKED", "r")], recognised_aeos=0, history=(0, False), on_ledger=True
    )
    assert "physical inspection" in high.meaning


def test_report_and_json_name_codes_and_evidence() -> None:
    finding = make_finding(
        "IMPOSSIBLE_TRAVEL",
        "AUADL and CNSGH are 7,000 km apart but only 3 hours passed.",
        [Evidence("event", "0xabc#4", "0x" + "12" * 32, 41, 0, "arriving at CNSGH")],
    )
    verdict = Verdict(
        status=status_of([finding]),
        subject="consignment X",
        findings=(finding,),
        checks=(),
        at=1772323200,
        block_number=41,
        consignment_id=b"\x01" * 32,
        risk=score_risk([finding], recognised_aeos=0, history=(0, False), on_ledger=True),
    )
    report = render_report(verdict)
    assert report.startswith("FAILED")
    assert "[CRITICAL] IMPOSSIBLE_TRAVEL" in report
    assert "tx 0x" + "12" * 32 + ", block 41, log 0" in report
    data = json.loads(verdict_json(verdict))
    assert data["status"] == "failed"
    assert data["findings"][0]["code"] == "IMPOSSIBLE_TRAVEL"
    assert data["consignment_id"] == "0x" + "01" * 32
    assert data["risk"]["band"] == "high"


def test_seeded_demo_consignment_verifies(ledger: Ledger, world: DemoWorld, tmp_path: Path) -> None:
    index = Index(f"sqlite:///{tmp_path / 'index.db'}", ledger)
    try:
        chamber, exporter, cn = (world.parties[k] for k in ("chamber", "exporter", "cn"))
        claim = Claim(
            consignment_ref=world.consignment_ref,
            container="CSQU3054383",
            certificate=CertificateClaim(
                number=world.certificate_number,
                issuer=chamber.org_id,
                document=f"certificate document {world.certificate_number}".encode(),
                hs_codes=("2204.21",),
            ),
            origin="AU",
            hs_codes=("2204.21",),
            quantity=4500,
            aeo_operators=(exporter.org_id,),
            administration=cn.org_id,
        )
        verifier = Verifier(ledger, index, scorer=score_risk)
        index.sync()
        verdict = verifier.verify(claim, sync=False)
        assert verdict.status is VerdictStatus.VERIFIED, render_report(verdict)
        assert verdict.findings == ()
        # the travel times were checked with the packaged UN/LOCODE coordinates
        assert "travel times" not in {c.name for c in verdict.checks if c.outcome == "skipped"}
        assert verdict.risk is not None
        assert verdict.risk.band == "low", verdict.risk
    finally:
        index.engine.dispose()
