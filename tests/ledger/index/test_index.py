"""The log index against the session anvil: every query on the seeded demo world, following new
records, resume after a restart, reorgs, confirmations, head verification and tampering."""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from sqlalchemy import create_engine, event, func, inspect, select, update

from ledger.chain import Ledger, contract_abi
from ledger.errors import HeadMismatch, IndexMismatch
from ledger.index import (
    Index,
    IndexQueries,
    consignment_events,
    consignments,
    event_digest,
    next_head,
    raw_logs,
    registration_digest,
)
from ledger.index.follower import MIN_GAS_PER_LOG
from ledger.records import (
    AeoAction,
    AeoActionCode,
    Attestation,
    AttestationRevocation,
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
    MraTermination,
    SubjectType,
    certificate_id,
    consignment_id,
    fixed_ascii,
    reference_hash,
)
from ledger.stack import DemoWorld

CONTAINER = "CSQU3054383"


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------


def rpc(ledger: Ledger, method: str, *params: Any) -> Any:
    response = ledger.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in response, response
    return response["result"]


def now(ledger: Ledger) -> int:
    return int(ledger.w3.eth.get_block("latest")["timestamp"])


def advance(ledger: Ledger, seconds: int) -> None:
    rpc(ledger, "evm_increaseTime", seconds)
    rpc(ledger, "evm_mine")


def post_event(
    ledger: Ledger,
    world: DemoWorld,
    cid: bytes,
    step: str,
    where: str,
    *,
    disposition: str | None = None,
    container: str | None = None,
) -> ConsignmentEvent:
    t = now(ledger)
    event = ConsignmentEvent(
        consignment_id=cid,
        biz_step=BusinessStep(step).code,
        disposition=Disposition(disposition).code if disposition else 0,
        location=Locode(where).to_bytes5(),
        event_time=t,
        container=ContainerNumber(container).to_bytes11() if container else bytes(11),
        documents_digest=keccak(text=f"docs {step} {t}"),
        epcis_event_hash=keccak(text=f"epcis {step} {t}"),
        nonce=secrets.randbits(32),
        deadline=t + 3600,
    )
    ledger.consignments.post_event(ledger.sign(event, world.parties["carrier"].private_key))
    return event


def register(ledger: Ledger, world: DemoWorld, ref: str) -> bytes:
    cid = consignment_id(ref, registrant=world.parties["carrier"].org_id)
    record = ConsignmentRegistration(
        reference_hash=reference_hash(ref),
        origin=b"AU",
        destination=b"CN",
        consignor=world.parties["exporter"].org_id,
        deadline=now(ledger) + 3600,
    )
    ledger.consignments.register(ledger.sign(record, world.parties["carrier"].private_key))
    return cid


def make_index(path: Path, ledger: Ledger, **kwargs: Any) -> Index:
    return Index(f"sqlite:///{path / 'index.db'}", ledger, **kwargs)


@pytest.fixture
def index(ledger: Ledger, tmp_path: Path) -> Iterator[Index]:
    idx = make_index(tmp_path, ledger)
    try:
        yield idx
    finally:
        idx.engine.dispose()


# ------------------------------------------------------------------------------------------
# Assertions shared with the PostgreSQL tests
# ------------------------------------------------------------------------------------------


def check_seeded_world(index: Index, ledger: Ledger, world: DemoWorld) -> None:
    """Every query's answer on the demo world as seeded (after a full sync)."""
    t = now(ledger)
    parties = world.parties
    carrier, exporter = parties["carrier"], parties["exporter"]
    au, cn, chamber = parties["au"], parties["cn"], parties["chamber"]
    cid = world.consignment_id

    # Consignment timeline: every field decoded, digests and heads recomputed.
    timeline = index.consignment_timeline(cid)
    assert [e.biz_step for e in timeline] == [
        "packing",
        "loading",
        "departing",
        "arriving",
        "unloading",
    ]
    assert [e.disposition for e in timeline] == [
        None,
        "in_transit",
        "in_transit",
        "in_transit",
        "in_progress",
    ]
    assert [e.location for e in timeline] == ["AUADL", "AUADL", "AUADL", "CNSGH", "CNSGH"]
    assert [e.seq for e in timeline] == [1, 2, 3, 4, 5]
    assert timeline[0].container is None
    assert timeline[0].seal_digest == bytes(32)
    assert {e.container for e in timeline[1:]} == {CONTAINER}
    assert {e.seal_digest for e in timeline[1:]} == {keccak(text="seal ML-AU 1234567")}
    assert timeline[0].signer == exporter.address
    assert timeline[0].org_id == exporter.org_id
    assert all(e.signer == carrier.address and e.org_id == carrier.org_id for e in timeline[1:])
    assert timeline[3].event_time - timeline[2].event_time == 12 * 86400
    domain = ledger.consignments.domain
    registration = index.consignment(cid)
    assert registration is not None
    assert (registration.origin, registration.destination) == ("AU", "CN")
    assert registration.consignor == exporter.org_id
    assert registration.registrant == carrier.org_id
    assert registration.signer == carrier.address
    assert registration.reference_hash == reference_hash(world.consignment_ref)
    assert registration.digest == ConsignmentRegistration(
        reference_hash=registration.reference_hash,
        origin=b"AU",
        destination=b"CN",
        consignor=exporter.org_id,
        deadline=registration.deadline,
    ).digest(domain)
    assert registration.deadline > 0  # signed by the demo, and kept from the log
    head = next_head(bytes(28), registration.digest, org_id=carrier.org_id, signer=carrier.address)
    for e in timeline:
        record = ConsignmentEvent(
            consignment_id=cid,
            biz_step=e.biz_step_code,
            disposition=e.disposition_code,
            location=Locode(e.location).to_bytes5(),
            event_time=e.event_time,
            container=ContainerNumber(e.container).to_bytes11() if e.container else bytes(11),
            seal_digest=e.seal_digest,
            documents_digest=e.documents_digest,
            epcis_event_hash=e.epcis_event_hash,
            nonce=e.nonce,
            deadline=e.deadline,
        )
        assert e.digest == record.digest(domain)
        party = exporter if e.seq == 1 else carrier  # who signed it (asserted above)
        head = next_head(head, e.digest, org_id=party.org_id, signer=party.address)
        assert e.head == head == e.emitted_head
        assert e.tx_hash.startswith("0x")
        assert len(e.tx_hash) == 66
        receipt = ledger.w3.eth.get_transaction_receipt(e.tx_hash)  # type: ignore[arg-type]
        assert receipt["blockNumber"] == e.block_number
        assert any(int(lg["logIndex"]) == e.log_index for lg in receipt["logs"])
    chain_head, count = ledger.consignments.head(cid)
    assert (registration.head, registration.event_count) == (chain_head, count) == (head, 5)
    assert [e.block_number for e in timeline] == sorted(e.block_number for e in timeline)

    # Lookups for the verifier: by container, raw logs (re-decodable), drawdowns.
    by_container = index.events_by_container(CONTAINER)
    assert [e.seq for e in by_container] == [2, 3, 4, 5]
    assert index.events_by_container("MSCU1234566") == []
    logs = index.raw_logs(cid)
    assert [lg.event for lg in logs] == [
        "ConsignmentRegistered",
        "QuantityDrawn",
        *["ConsignmentEventRecorded"] * 5,
        "Attested",
    ]
    for lg in logs:
        as_rpc = lg.as_rpc()
        as_rpc.update(
            topics=[bytes.fromhex(x[2:]) for x in as_rpc["topics"]],
            data=lg.data,
            blockNumber=lg.block_number,
            logIndex=lg.log_index,
            transactionIndex=lg.tx_index,
        )
        decoded = contract_abi(lg.contract).decode_log(as_rpc)
        assert decoded is not None
        assert decoded.event == lg.event
    assert logs[2].as_rpc()["transactionHash"] == timeline[0].tx_hash
    chain_logs = {
        (int(x["blockNumber"], 16), int(x["logIndex"], 16)): x
        for x in rpc(
            ledger,
            "eth_getLogs",
            {
                "fromBlock": hex(ledger.deployment.block),
                "toBlock": "latest",
                "address": [c.address for c in ledger.clients.values()],
            },
        )
    }
    for lg in logs:  # bit for bit what the chain returns (event logs are rebuilt from rows)
        mine, theirs = lg.as_rpc(), chain_logs[(lg.block_number, lg.log_index)]
        for name in ("topics", "data", "blockHash", "transactionHash", "blockNumber", "logIndex"):
            assert mine[name] == theirs[name], name
        assert int(mine["transactionIndex"], 16) == int(theirs["transactionIndex"], 16)
        assert mine["address"].lower() == theirs["address"].lower()

    # Certificate of origin and drawdowns.
    cert = index.certificate(world.certificate_id)
    assert cert is not None
    assert cert.issuer == chamber.org_id
    assert cert.exporter == exporter.org_id
    assert cert.certificate_number == keccak(text=world.certificate_number)
    assert (cert.origin, cert.destination, cert.unit) == ("AU", "CN", "LTR")
    assert (cert.quantity, cert.drawn, cert.remaining) == (9000, 4500, 4500)
    assert cert.status == "issued"
    assert cert.revoked_at is None
    assert cert.usable_at(t)
    assert [(d.consignment_id, d.quantity, d.drawn) for d in cert.drawdowns] == [(cid, 4500, 4500)]
    assert [d.consignment_id for d in index.consignments_for_certificate(cert.certificate_id)] == [
        cid
    ]
    assert [d.certificate_id for d in index.drawdowns_for_consignment(cid)] == [
        world.certificate_id
    ]
    assert index.certificate(bytes(32)) is None

    # AEO status as of a time.
    status = index.aeo_status(world.certification_id, at=t)
    assert status is not None
    assert status.status == "active"
    assert status.in_force
    assert status.programme == "AEOF"
    assert status.operator_id == exporter.org_id
    assert status.administration == au.org_id
    assert index.aeo_status(world.certification_id, at=status.changed_at - 1) is None
    certs = index.aeo_certifications(exporter.org_id, at=t)
    assert [c.certification_id for c in certs] == [world.certification_id]

    # MRA recognition between the two administrations.
    in_force = index.mras_in_force(cn.org_id, au.org_id, at=t)
    assert [m.mra_id for m in in_force] == [world.mra_id]
    mra = in_force[0]
    assert mra.scope == 0x7
    assert mra.programmes == ("AEOC", "AEOS", "AEOF")
    assert mra.covers("AEOF")
    assert mra.proposer == au.org_id
    assert mra.counterpart == cn.org_id
    assert mra.accepted_at is not None
    assert mra.terminated_at is None
    assert index.mras_in_force(au.org_id, cn.org_id, at=mra.accepted_at - 1) == []
    assert index.mras_in_force(au.org_id, carrier.org_id, at=t) == []

    # Attestations by subject.
    attested = index.attestations_for(cid)
    assert [a.uid for a in attested] == world.attestation_uids
    assert attested[0].attester == au.org_id
    assert attested[0].signer == au.address
    assert attested[0].schema_id == world.schema_ids["export-release"]
    assert attested[0].subject_type == SubjectType.CONSIGNMENT
    assert not attested[0].revoked
    assert attested[0].valid_at(t)

    # Organisation directory with keys, and key validity.
    orgs = {o.org_id: o for o in index.organisations()}
    assert set(orgs) == {p.org_id for p in parties.values()}
    for party in parties.values():
        org = orgs[party.org_id]
        assert (org.kind, org.country, org.status) == (party.kind, party.country, "active")
        assert [k.key for k in org.keys] == [party.address]
    assert orgs[au.org_id].kind_name == "customs"
    assert orgs[chamber.org_id].kind_name == ("issuing_body")
    key = orgs[carrier.org_id].keys[0]
    info = ledger.membership.key_info(carrier.address)
    assert (key.valid_from, key.valid_until, key.revoked_at) == (
        info.valid_from,
        info.valid_until,
        None,
    )
    assert index.key_validity(carrier.address, at=t).valid
    assert index.key_validity(carrier.address, at=key.valid_from - 1).reason == "not_yet_valid"
    assert index.key_validity(carrier.address, at=key.valid_until).reason == "expired"
    stranger = Account.create().address
    assert index.key_validity(stranger, at=t).reason == "unknown"

    # What the verifier reads in one go, and the consignor's history (risk).
    view = index.consignment_view(cid)
    assert view is not None
    assert view.consignment == index.consignment(cid)
    assert view.timeline == timeline
    assert view.attestations == index.attestations_for(cid)
    assert view.drawdowns == index.drawdowns_for_consignment(cid)
    latest = ledger.w3.eth.block_number + 1
    assert index.consignor_history(exporter.org_id, before_block=latest) == (1, True)
    assert index.consignor_history(exporter.org_id, before_block=view.consignment.block_number) == (
        0,
        True,
    )

    # The heads agree with the chain.
    verification = index.verify_heads()
    assert verification.ok
    assert verification.checked == 1
    assert index.findings() == []


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------


def test_fast_digests_equal_the_records_and_the_contract(ledger: Ledger, world: DemoWorld) -> None:
    domain = ledger.consignments.domain
    event = ConsignmentEvent(
        consignment_id=world.consignment_id,
        biz_step=20,
        disposition=15,
        location=b"NLRTM",
        event_time=1_700_000_000,
        container=ContainerNumber(CONTAINER).to_bytes11(),
        seal_digest=keccak(b"seal"),
        documents_digest=keccak(b"docs"),
        epcis_event_hash=keccak(b"epcis"),
        nonce=2**32 - 1,
        deadline=2**40 - 1,
    )
    fast = event_digest(
        domain.separator,
        consignment_id=event.consignment_id,
        meta=event.meta,
        seal_digest=event.seal_digest,
        documents_digest=event.documents_digest,
        epcis_event_hash=event.epcis_event_hash,
    )
    assert fast == event.digest(domain)
    registration = ConsignmentRegistration(
        reference_hash=reference_hash(world.consignment_ref),
        origin=b"AU",
        destination=b"CN",
        consignee=b"\x01" * 32,
        deadline=1_800_000_000,
    )
    assert registration_digest(
        domain.separator,
        reference_hash=registration.reference_hash,
        origin=b"AU",
        destination=b"CN",
        consignor=bytes(32),
        consignee=b"\x01" * 32,
        deadline=1_800_000_000,
    ) == registration.digest(domain)
    previous = keccak(b"previous")[:28]
    org, signer = keccak(b"org"), keccak(b"signer")[:20]
    head = next_head(previous, fast, org_id=org, signer=signer)
    assert head == ledger.consignments.next_head(previous, fast, org_id=org, signer=signer)
    assert head == next_head(previous, fast, org_id=org, signer="0x" + signer.hex())
    # the step commits to the organisation and to the signer, each on its own
    assert next_head(previous, fast, org_id=keccak(b"other"), signer=signer) != head
    assert next_head(previous, fast, org_id=org, signer=keccak(b"other")[:20]) != head


def test_seeded_world_every_query(index: Index, ledger: Ledger, world: DemoWorld) -> None:
    result = index.sync()
    latest = ledger.w3.eth.block_number
    assert result.to_block == latest == index.cursor()[0]
    assert result.from_block == ledger.deployment.block
    assert result.consignment_events == 5
    assert result.logs > 20
    assert result.reorgs == 0
    assert index.lag() == 0
    check_seeded_world(index, ledger, world)
    # A read-only reader on the same database (e.g. another process) answers the same.
    reader = IndexQueries(create_engine(str(index.engine.url)))
    cid = world.consignment_id
    assert reader.consignment_timeline(cid) == index.consignment_timeline(cid)
    assert reader.raw_logs(cid) == index.raw_logs(cid)
    assert reader.organisations() == index.organisations()
    reader.engine.dispose()


def test_follows_new_records(
    index: Index, ledger: Ledger, world: DemoWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    index.sync()
    p = world.parties
    au, cn, carrier, exporter, chamber = (
        p[k] for k in ("au", "cn", "carrier", "exporter", "chamber")
    )
    cid = world.consignment_id
    t0 = now(ledger)

    # More events on the demo consignment, and a new consignment with its own.
    inspected = post_event(ledger, world, cid, "inspecting", "CNSGH", disposition="conformant")
    other = register(ledger, world, f"AU-UCR-{t0}-0002")
    post_event(
        ledger, world, other, "loading", "AUMEL", disposition="in_transit", container="MSCU1234566"
    )
    post_event(ledger, world, other, "departing", "AUMEL", container="MSCU1234566")

    # A second certificate drawn by both consignments; the demo certificate is revoked.
    number = f"CHAFTA-AU-{t0}-B"
    issue = CertificateIssue(
        certificate_number=keccak(text=number),
        exporter=exporter.org_id,
        origin=b"AU",
        destination=b"CN",
        document_digest=keccak(text=number),
        hs_codes_digest=keccak(b"220421"),
        quantity=100,
        unit=fixed_ascii("KGM", 8),
        valid_from=t0 - 60,
        valid_until=t0 + 86400,
        issued_at=t0,
    )
    ledger.certificates.issue(ledger.sign(issue, chamber.private_key))
    cert_b = certificate_id(chamber.org_id, number)
    for consignment, quantity in ((cid, 30), (other, 50)):
        drawdown = Drawdown(
            certificate_id=cert_b,
            consignment_id=consignment,
            quantity=quantity,
            deadline=now(ledger) + 3600,
        )
        ledger.certificates.draw_down(ledger.sign(drawdown, exporter.private_key))
    revocation = CertificateRevocation(
        certificate_number=keccak(text=world.certificate_number), deadline=now(ledger) + 3600
    )
    ledger.certificates.revoke(ledger.sign(revocation, chamber.private_key))

    # A seal-check attestation by China, then revoked.
    seal_check = Attestation(
        schema_id=world.schema_ids["seal-check"],
        subject_type=SubjectType.CONSIGNMENT,
        subject_id=cid,
        data_digest=keccak(text="seal intact"),
        deadline=now(ledger) + 600,
    )
    ledger.attestations.attest(ledger.sign(seal_check, cn.private_key))
    uid = seal_check.uid(cn.org_id)
    reason = keccak(text="wrong seal number")
    ledger.attestations.revoke(
        ledger.sign(
            AttestationRevocation(uid=uid, reason_digest=reason, deadline=now(ledger) + 600),
            cn.private_key,
        )
    )

    # AEO suspended then reinstated, with time passing in between; the MRA is terminated.
    advance(ledger, 100)

    def aeo(action: int) -> None:
        t = now(ledger)
        record = AeoAction(
            action=action,
            operator_id=exporter.org_id,
            programme=fixed_ascii("AEOF", 8),
            nonce=secrets.randbits(32),
            deadline=t + 600,
        )
        ledger.aeo.apply_action(ledger.sign(record, au.private_key))

    aeo(AeoActionCode.SUSPEND)
    advance(ledger, 100)
    aeo(AeoActionCode.REINSTATE)
    advance(ledger, 100)
    ledger.aeo.terminate_mra(
        ledger.sign(MraTermination(mra_id=world.mra_id, deadline=now(ledger) + 600), cn.private_key)
    )

    result = index.sync()
    assert result.consignment_events == 3
    assert result.reorgs == 0
    t1 = now(ledger)

    timeline = index.consignment_timeline(cid)
    assert len(timeline) == 6
    assert timeline[-1].biz_step == "inspecting"
    assert timeline[-1].disposition == "conformant"
    assert timeline[-1].event_time == inspected.event_time
    assert timeline[-1].documents_digest == inspected.documents_digest
    assert timeline[-1].epcis_event_hash == inspected.epcis_event_hash
    assert timeline[-1].head == ledger.consignments.head(cid)[0]
    other_timeline = index.consignment_timeline(other)
    assert [(e.biz_step, e.location, e.container) for e in other_timeline] == [
        ("loading", "AUMEL", "MSCU1234566"),
        ("departing", "AUMEL", "MSCU1234566"),
    ]
    assert [e.consignment_id for e in index.events_by_container("MSCU1234566")] == [other, other]

    cert = index.certificate(cert_b)
    assert cert is not None
    assert (cert.quantity, cert.drawn, cert.remaining) == (100, 80, 20)
    assert cert.unit == "KGM"
    assert [(d.consignment_id, d.quantity, d.drawn) for d in cert.drawdowns] == [
        (cid, 30, 30),
        (other, 50, 80),
    ]
    assert [d.consignment_id for d in index.consignments_for_certificate(cert_b)] == [cid, other]
    assert [d.certificate_id for d in index.drawdowns_for_consignment(cid)] == [
        world.certificate_id,
        cert_b,
    ]
    old = index.certificate(world.certificate_id)
    assert old is not None
    assert old.status == "revoked"
    assert old.revoked_at is not None
    assert not old.usable_at(t1)
    assert old.usable_at(old.revoked_at - 1)

    attested = {a.uid: a for a in index.attestations_for(cid)}
    assert set(attested) == {*world.attestation_uids, uid}
    revoked = attested[uid]
    assert revoked.revoked
    assert revoked.revocation_reason == reason
    assert revoked.attester == cn.org_id
    assert not revoked.valid_at(t1)
    assert not attested[world.attestation_uids[0]].revoked
    assert index.attestation(uid) == revoked

    changes = [index.aeo_status(world.certification_id, at=t) for t in range(t0, t1 + 1)]
    statuses = [c.status for c in changes if c is not None]
    assert statuses[0] == "active"
    assert statuses[-1] == "active"
    assert "suspended" in statuses
    first_suspended = statuses.index("suspended")
    assert statuses[first_suspended:].count("suspended") >= 100
    suspended_at = changes[first_suspended]
    assert suspended_at is not None
    assert not suspended_at.in_force
    assert ledger.aeo.certification(world.certification_id).status == 1

    mras = index.mras_between(au.org_id, cn.org_id)
    assert len(mras) == 1
    assert mras[0].terminated_at is not None
    assert index.mras_in_force(au.org_id, cn.org_id, at=t1) == []
    assert index.mras_in_force(au.org_id, cn.org_id, at=mras[0].terminated_at - 1) == mras

    monkeypatch.setattr("ledger.index.follower.VERIFY_CHUNK", 1)  # one consignment per round
    verification = index.verify_heads()
    assert verification.ok
    assert verification.checked == 2
    # The new consignment's raw logs: registration, two events, one drawdown.
    assert [lg.event for lg in index.raw_logs(other)] == [
        "ConsignmentRegistered",
        "ConsignmentEventRecorded",
        "ConsignmentEventRecorded",
        "QuantityDrawn",
    ]
    assert carrier.org_id in {o.org_id for o in index.organisations()}


def test_an_index_without_its_state_row_yet_reads_as_not_started(
    index: Index, ledger: Ledger
) -> None:
    """While a deleted index file is made afresh under a live gateway, the schema is there
    before the state row: the cursor is the block before the deployment, not an error."""
    from ledger.index.schema import state

    index.sync()
    assert index.cursor()[0] > ledger.deployment.block
    with index.engine.begin() as conn:
        conn.execute(state.delete())
    assert index.cursor() == (ledger.deployment.block - 1, None)


def test_resume_after_restart_continues_without_duplicates(
    ledger: Ledger, world: DemoWorld, tmp_path: Path
) -> None:
    first = make_index(tmp_path, ledger)
    first.sync()
    cursor = first.cursor()
    rows_before = first.counts()
    first.engine.dispose()
    post_event(ledger, world, world.consignment_id, "inspecting", "CNSGH")
    post_event(ledger, world, world.consignment_id, "receiving", "CNSGH")

    second = make_index(tmp_path, ledger)
    assert second.cursor() == cursor
    result = second.sync()
    assert result.from_block == cursor[0] + 1
    assert result.consignment_events == 2
    assert result.blocks == ledger.w3.eth.block_number - cursor[0]
    rows_after = second.counts()
    assert rows_after["index_consignment_events"] == rows_before["index_consignment_events"] + 2
    with second.engine.connect() as conn:
        keys = conn.execute(select(raw_logs.c.block_number, raw_logs.c.log_index)).all()
    assert len(keys) == len(set(keys)) == rows_after["index_raw_logs"]
    assert [e.seq for e in second.consignment_timeline(world.consignment_id)] == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
    ]
    assert second.sync().blocks == 0  # nothing new: no work, no duplicates
    assert second.verify_heads().ok
    second.engine.dispose()


def test_index_refuses_a_database_of_another_deployment(ledger: Ledger, tmp_path: Path) -> None:
    idx = make_index(tmp_path, ledger)
    idx.engine.dispose()
    other = Ledger(ledger.w3, ledger.deployment)
    other.consignments.address = other.certificates.address  # as if another deployment
    with pytest.raises(IndexMismatch, match="built for chain"):
        make_index(tmp_path, other)


@pytest.mark.parametrize("longer_fork", [False, True])
def test_reorg_rolls_back_orphaned_rows(
    index: Index, ledger: Ledger, world: DemoWorld, relayer_tx: Any, longer_fork: bool
) -> None:
    cid = world.consignment_id
    index.sync()
    snapshot = rpc(ledger, "evm_snapshot")
    orphan_cid = register(ledger, world, f"orphan-{secrets.token_hex(4)}")
    orphan = post_event(ledger, world, cid, "inspecting", "CNSGH", container="MSCU1234566")
    post_event(ledger, world, orphan_cid, "loading", "AUMEL")
    index.sync()
    orphan_tip = index.cursor()[0]
    assert len(index.consignment_timeline(cid)) == 6
    assert index.consignment(orphan_cid) is not None

    assert rpc(ledger, "evm_revert", snapshot) is True
    relayer_tx.resync()
    replacement = post_event(ledger, world, cid, "receiving", "CNSHA", disposition="in_progress")
    if longer_fork:
        for _ in range(5):
            rpc(ledger, "evm_mine")
        assert ledger.w3.eth.block_number > orphan_tip
    else:
        assert ledger.w3.eth.block_number < orphan_tip

    result = index.sync()
    assert result.reorgs == 1
    timeline = index.consignment_timeline(cid)
    assert len(timeline) == 6
    assert timeline[-1].biz_step == "receiving"
    assert timeline[-1].location == "CNSHA"
    assert timeline[-1].nonce == replacement.nonce != orphan.nonce
    assert index.consignment(orphan_cid) is None
    assert index.raw_logs(orphan_cid) == []
    assert index.events_by_container("MSCU1234566") == []
    block = ledger.w3.eth.get_block("latest")
    assert index.cursor() == (block["number"], bytes(block["hash"]))
    assert index.verify_heads().ok
    with index.engine.connect() as conn:
        hashes = {bytes(h) for (h,) in conn.execute(select(raw_logs.c.block_hash))}
    for h in hashes:  # every remaining row is on the canonical chain
        assert ledger.w3.eth.get_block(h)["hash"] == h


def test_confirmations_hold_back_the_newest_blocks(
    ledger: Ledger, world: DemoWorld, tmp_path: Path
) -> None:
    idx = make_index(tmp_path, ledger, confirmations=3)
    for _ in range(3):
        rpc(ledger, "evm_mine")
    post_event(ledger, world, world.consignment_id, "inspecting", "CNSGH")
    latest = ledger.w3.eth.block_number
    result = idx.sync()
    assert result.to_block == latest - 3
    assert idx.lag() == 3
    assert len(idx.consignment_timeline(world.consignment_id)) == 5
    for _ in range(2):
        rpc(ledger, "evm_mine")
    idx.sync()
    assert len(idx.consignment_timeline(world.consignment_id)) == 5
    rpc(ledger, "evm_mine")
    idx.sync()
    assert len(idx.consignment_timeline(world.consignment_id)) == 6
    assert idx.cursor()[0] == latest
    idx.engine.dispose()


def test_sync_until_stops_at_the_given_block(index: Index, ledger: Ledger) -> None:
    target = ledger.deployment.block + 10
    assert index.sync(until=target).to_block == target
    assert index.cursor()[0] == target
    assert index.lag() == ledger.w3.eth.block_number - target


@pytest.mark.parametrize("tamper", ["location", "organisation", "signer"])
def test_tampered_event_row_is_reported_and_raised(
    index: Index,
    ledger: Ledger,
    world: DemoWorld,
    caplog: pytest.LogCaptureFixture,
    tamper: str,
) -> None:
    """An altered record, or a record attributed to another organisation or key (the chain
    step commits to both), folds to another head than the contract's."""
    cid = world.consignment_id
    index.sync()
    assert index.verify_heads().ok
    exporter = world.parties["exporter"]
    values: dict[str, Any] = {
        "location": {"location": "CNSHA"},  # departing from Shanghai instead of Adelaide
        "organisation": {"org_id": exporter.org_id},  # the carrier's key, the exporter's name
        "signer": {"signer": bytes.fromhex(exporter.address[2:])},  # the exporter's key
    }[tamper]
    with index.engine.begin() as conn:
        conn.execute(
            update(consignment_events)
            .where(consignment_events.c.consignment_id == cid, consignment_events.c.seq == 3)
            .values(**values)
        )
    with (
        caplog.at_level(logging.ERROR, logger="ledger.index.follower"),
        pytest.raises(HeadMismatch, match="0x" + cid.hex()) as raised,
    ):
        index.verify_heads()
    assert raised.value.consignment_ids == (cid,)
    assert any(
        r.name == "ledger.index.follower"
        and r.levelno == logging.ERROR
        and cid.hex() in r.getMessage()
        for r in caplog.records
    )
    found = index.findings(cid)
    assert [f.kind for f in found] == ["chain_head_mismatch"]
    assert found[0].expected == ledger.consignments.head(cid)[0]
    assert "#3" in found[0].detail
    report = index.verify_heads(raise_on_mismatch=False)
    assert not report.ok
    assert [f.consignment_id for f in report.mismatches] == [cid]


def test_inconsistent_log_stream_is_flagged_while_indexing(
    index: Index, ledger: Ledger, world: DemoWorld, caplog: pytest.LogCaptureFixture
) -> None:
    index._separator = keccak(b"another domain")  # every recomputed digest now differs
    with caplog.at_level(logging.ERROR, logger="ledger.index.follower"):
        index.sync()
    found = index.findings(world.consignment_id)
    assert {f.kind for f in found} == {"log_head_mismatch"}
    assert len(found) == 6
    on_chain = {e.emitted_head for e in index.consignment_timeline(world.consignment_id)}
    assert {f.expected for f in found[1:]} == on_chain  # the logs' heads, as emitted
    assert any("head mismatch in the log stream" in r.getMessage() for r in caplog.records)


def test_key_validity_as_of_a_time(index: Index, ledger: Ledger, world: DemoWorld) -> None:
    carrier = world.parties["carrier"]
    new_key = Account.create()
    t0 = now(ledger)
    addition = KeyAddition(
        org_id=carrier.org_id, key=new_key.address, valid_from=t0 - 10, valid_until=t0 + 10_000
    )
    ledger.membership.add_key(ledger.sign(addition, carrier.private_key))
    advance(ledger, 50)
    revocation = KeyRevocation(
        org_id=carrier.org_id, key=new_key.address, deadline=now(ledger) + 3600
    )
    ledger.membership.revoke_key(ledger.sign(revocation, carrier.private_key))
    index.sync()

    revoked_at = ledger.membership.key_info(new_key.address).revoked_at
    assert revoked_at > t0
    assert index.key_validity(new_key.address, at=t0 - 11).reason == "not_yet_valid"
    ok = index.key_validity(new_key.address, at=t0)
    assert ok.valid
    assert ok.record is not None
    assert ok.record.signer == carrier.address
    assert index.key_validity(new_key.address, at=revoked_at - 1).valid
    late = index.key_validity(new_key.address, at=revoked_at)
    assert not late.valid
    assert late.reason == "revoked"
    assert late.record is not None
    assert late.record.revoked_at == revoked_at
    assert index.key_validity(new_key.address, at=t0 + 10_000).reason == "expired"
    org = index.organisation(carrier.org_id)
    assert org is not None
    assert [k.key for k in org.keys] == [carrier.address, new_key.address]


def test_adaptive_span_halves_on_too_many_results(
    index: Index, ledger: Ledger, world: DemoWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = index._get_logs
    spans: list[int] = []

    def limited(start: int, end: int) -> list[dict[str, Any]]:
        spans.append(end - start + 1)
        if end - start + 1 > 16:
            raise OSError("query returned more than 10000 results")
        return real(start, end)

    monkeypatch.setattr(index, "_get_logs", limited)
    total = ledger.w3.eth.block_number - ledger.deployment.block + 1
    # A first span that covers the session chain however long earlier tests made it.
    index.max_span = index._span = max(256, total)
    index.sync()
    assert spans[0] == total > 16
    assert spans[1] == total // 2
    assert sum(s for s in spans if s <= 16) == total  # every block fetched exactly once
    assert len(index.consignment_timeline(world.consignment_id)) == 5


def test_span_follows_the_number_of_logs_per_answer(
    index: Index, ledger: Ledger, world: DemoWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = index._get_logs
    fetches: list[tuple[int, int]] = []  # (blocks asked for, logs answered)

    def counted(start: int, end: int) -> list[dict[str, Any]]:
        logs = real(start, end)
        fetches.append((end - start + 1, len(logs)))
        return logs

    monkeypatch.setattr(index, "_get_logs", counted)
    index.max_logs = 3
    index.sync()
    total = ledger.w3.eth.block_number - ledger.deployment.block + 1
    assert fetches[0][0] == 1  # a first answer of one block, however long the chain
    assert sum(blocks for blocks, _ in fetches) == total  # every block fetched exactly once
    assert any(logs > 3 for _, logs in fetches)  # the demo has blocks of more logs than that
    for (blocks, logs), (following, _) in itertools.pairwise(fetches):
        if logs > 3:  # shrunk to fit
            assert following <= max(1, blocks * 3 // logs)
    # The next range after an answer of `logs` logs over `blocks` blocks (max_logs 3, the
    # range so far 8): shrunk to fit, kept, or doubled while the answers are small.
    index._span = 8
    assert index._next_span(8, 12) == 2  # 8 * 3 // 12
    assert index._next_span(8, 300) == 1
    assert index._next_span(8, 2) == 8  # 2 * 2 > 3: kept
    assert index._next_span(8, 1) == 16
    assert index._next_span(2, 0) == 16  # a range cut short does not shrink it
    index._span = index.max_span
    assert index._next_span(index.max_span, 0) == index.max_span
    assert len(index.consignment_timeline(world.consignment_id)) == 5


def test_a_wide_range_is_cut_where_its_gas_could_pay_for_too_many_logs(
    index: Index, ledger: Ledger, world: DemoWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = index._get_logs
    ranges: list[tuple[int, int]] = []

    def recorded(start: int, end: int) -> list[dict[str, Any]]:
        ranges.append((start, end))
        return real(start, end)

    monkeypatch.setattr(index, "_get_logs", recorded)
    index.max_logs = 40  # the demo's blocks use ~100k to ~15M gas: 80,000 gas of room
    index._span = index.max_span  # as if the blocks before had been sparse
    index.sync()
    w3 = ledger.w3
    budget = index.max_logs * MIN_GAS_PER_LOG
    for start, end in ranges:
        gas = [int(w3.eth.get_block(n)["gasUsed"]) for n in range(start, end + 1)]
        assert end == start or sum(gas) <= budget, (start, end, gas)
    assert len(ranges) > 1  # the chain was not asked for in one range
    total = w3.eth.block_number - ledger.deployment.block + 1
    assert sum(end - start + 1 for start, end in ranges) == total
    assert len(index.consignment_timeline(world.consignment_id)) == 5


def test_timeline_query_is_served_by_indexes(index: Index, world: DemoWorld) -> None:
    index.sync()
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(index.engine, "before_cursor_execute", seen)
    try:
        timeline = index.consignment_timeline(world.consignment_id)
    finally:
        event.remove(index.engine, "before_cursor_execute", seen)
    assert len(timeline) == 5
    assert statements
    with index.engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            details = " | ".join(str(row[-1]) for row in plan)
            # A full scan is a "SCAN <table>" without an index; every read here is a lookup.
            for step in details.split(" | "):
                if step.startswith("SCAN "):
                    assert "USING" in step, f"full scan in {statement!r}: {details}"


def test_run_forever_follows_the_chain_until_stopped(
    index: Index, ledger: Ledger, world: DemoWorld
) -> None:
    stop = threading.Event()
    worker = threading.Thread(target=index.run_forever, args=(stop, 0.02), daemon=True)
    worker.start()
    try:
        post_event(ledger, world, world.consignment_id, "inspecting", "CNSGH")
        deadline = time.monotonic() + 10
        while len(index.consignment_timeline(world.consignment_id)) < 6:
            assert time.monotonic() < deadline, "the background task did not index the event"
            time.sleep(0.02)
    finally:
        stop.set()
        worker.join(timeout=5)
    assert not worker.is_alive()
    assert index.lag() == 0


def test_a_failed_range_leaves_nothing_behind(
    index: Index, ledger: Ledger, world: DemoWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = index.cursor()

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(index, "_bulk_insert_tuples", crash)  # after the other tables' inserts
    index._span = index.max_span  # one range holding the whole chain, failing as a whole
    with pytest.raises(RuntimeError, match="disk full"):
        index.sync()
    assert index.cursor() == before
    assert set(index.counts().values()) == {0}
    monkeypatch.undo()
    index.sync()
    assert len(index.consignment_timeline(world.consignment_id)) == 5
    assert index.counts()["index_consignments"] == 1
    assert index.verify_heads().ok


def test_consignment_view_is_the_separate_queries_on_one_connection(
    index: Index, ledger: Ledger, world: DemoWorld
) -> None:
    index.sync()
    cid = world.consignment_id
    view = index.consignment_view(cid)
    assert view is not None
    assert view.consignment == index.consignment(cid)
    assert view.timeline == index.consignment_timeline(cid)
    assert view.attestations == index.attestations_for(cid)
    assert view.drawdowns == index.drawdowns_for_consignment(cid)
    assert len(view.timeline) == view.consignment.event_count == 5
    assert view.attestations  # the demo has both: the comparisons above bite
    assert view.drawdowns
    no_such = consignment_id("NO-SUCH-UCR", registrant=world.parties["carrier"].org_id)
    assert index.consignment_view(no_such) is None
    fresh = register(ledger, world, "AU-UCR-VIEW-NO-EVENTS")
    index.sync()
    empty = index.consignment_view(fresh)
    assert empty is not None
    assert empty.consignment == index.consignment(fresh)
    assert (empty.timeline, empty.consignment.event_count) == ([], 0)


def test_consignor_history_counts_earlier_registrations(
    index: Index, ledger: Ledger, world: DemoWorld
) -> None:
    exporter = world.parties["exporter"].org_id
    index.sync()
    before = index.consignor_history(exporter, before_block=ledger.w3.eth.block_number + 1)
    first = register(ledger, world, "AU-UCR-HISTORY-1")
    register(ledger, world, "AU-UCR-HISTORY-2")
    index.sync()
    record = index.consignment(first)
    assert record is not None
    assert index.consignor_history(exporter, before_block=record.block_number) == before
    latest = ledger.w3.eth.block_number + 1
    assert index.consignor_history(exporter, before_block=latest) == (before[0] + 2, before[1])
    assert index.consignor_history(bytes(32), before_block=latest) == (0, True)


def test_an_index_added_to_the_schema_is_created_on_an_existing_file(
    ledger: Ledger, tmp_path: Path
) -> None:
    make_index(tmp_path, ledger).engine.dispose()
    engine = create_engine(f"sqlite:///{tmp_path / 'index.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_index_consignments_consignor")
    assert "ix_index_consignments_consignor" not in {
        i["name"] for i in inspect(engine).get_indexes("index_consignments")
    }
    reopened = make_index(tmp_path, ledger)
    assert "ix_index_consignments_consignor" in {
        i["name"] for i in inspect(engine).get_indexes("index_consignments")
    }
    reopened.engine.dispose()
    engine.dispose()


def kept_counts(index: Index) -> dict[bytes, tuple[int | None, int]]:
    """Per registration: the consignor's earlier consignments as kept in its row, and as the
    rows count them."""
    c = consignments.c
    with index.engine.connect() as conn:
        query = select(c.consignment_id, c.consignor, c.block_number, c.consignor_earlier)
        rows = conn.execute(query)
        return {
            bytes(r.consignment_id): (
                r.consignor_earlier,
                conn.execute(
                    select(func.count()).where(
                        c.consignor == r.consignor, c.block_number < r.block_number
                    )
                ).scalar_one(),
            )
            for r in rows.all()
        }


def register_together(ledger: Ledger, world: DemoWorld, count: int) -> list[bytes]:
    """``count`` registrations of the exporter's in one transaction (one block)."""
    refs = [reference_hash(f"AU-UCR-TOGETHER-{secrets.token_hex(4)}") for _ in range(count)]
    ids = [consignment_id(r, registrant=world.parties["carrier"].org_id) for r in refs]
    records = [
        ConsignmentRegistration(
            reference_hash=r,
            origin=b"AU",
            destination=b"CN",
            consignor=world.parties["exporter"].org_id,
            deadline=now(ledger) + 3600,
        )
        for r in refs
    ]
    key = world.parties["carrier"].private_key
    ledger.consignments.register_batch([ledger.sign(r, key) for r in records])
    return ids


def test_each_registration_keeps_the_count_of_its_consignors_earlier_ones(
    index: Index, ledger: Ledger, world: DemoWorld
) -> None:
    exporter = world.parties["exporter"].org_id
    index.sync()
    first = register(ledger, world, f"AU-UCR-COUNT-{secrets.token_hex(4)}")
    index.sync()  # from the rows already indexed
    together = register_together(ledger, world, 3)
    after = register(ledger, world, f"AU-UCR-COUNT-{secrets.token_hex(4)}")
    index.sync()  # one range: the rows indexed before it, then the range's own
    counts = kept_counts(index)
    assert all(kept == counted for kept, counted in counts.values()), counts
    base = counts[first][0]
    assert base is not None
    assert [counts[cid][0] for cid in together] == [base + 1] * 3  # one block: none counts another
    assert counts[after][0] == base + 4
    for cid in (first, *together, after):
        view = index.consignment_view(cid)
        assert view is not None
        assert view.consignor_earlier == counts[cid][0]
        block = view.consignment.block_number
        assert index.consignor_history(
            exporter, before_block=block, earlier=view.consignor_earlier
        ) == index.consignor_history(exporter, before_block=block)


def test_a_reorg_leaves_the_kept_counts_right(
    index: Index, ledger: Ledger, world: DemoWorld, relayer_tx: Any
) -> None:
    index.sync()
    snapshot = rpc(ledger, "evm_snapshot")
    orphans = register_together(ledger, world, 2)
    index.sync()
    assert rpc(ledger, "evm_revert", snapshot) is True
    relayer_tx.resync()
    kept = register(ledger, world, f"AU-UCR-KEPT-{secrets.token_hex(4)}")
    for _ in range(3):
        rpc(ledger, "evm_mine")
    assert index.sync().reorgs == 1
    counts = kept_counts(index)
    assert not set(orphans) & set(counts)
    assert all(stored == counted for stored, counted in counts.values()), counts
    assert counts[kept][0] is not None


def columns(engine: Any) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(consignments.name)}


def test_an_index_file_without_the_kept_counts_is_upgraded(
    ledger: Ledger, world: DemoWorld, tmp_path: Path
) -> None:
    """A file made before the column: it is added when the file is opened, the rows indexed
    before keep NULL (their history is counted when read), the new rows get their count."""
    exporter = world.parties["exporter"].org_id
    old = make_index(tmp_path, ledger)
    old.sync()
    earlier = register(ledger, world, f"AU-UCR-OLD-{secrets.token_hex(4)}")
    old.sync()
    with old.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE index_consignments DROP COLUMN consignor_earlier")
    old.engine.dispose()
    engine = create_engine(f"sqlite:///{tmp_path / 'index.db'}")
    assert "consignor_earlier" not in columns(engine)
    upgraded = make_index(tmp_path, ledger)
    try:
        assert "consignor_earlier" in columns(engine)
        view = upgraded.consignment_view(earlier)
        assert view is not None
        assert view.consignor_earlier is None
        block = view.consignment.block_number
        history = upgraded.consignor_history(exporter, before_block=block)
        assert history[0] == kept_counts(upgraded)[earlier][1]
        later = register_together(ledger, world, 2)
        upgraded.sync()  # after rows without a count: counted once, then kept
        counts = kept_counts(upgraded)
        assert all(stored is None for cid, (stored, _) in counts.items() if cid not in later)
        assert [counts[cid][0] for cid in later] == [counts[cid][1] for cid in later]
        assert counts[later[0]][0] == history[0] + 1
        make_index(tmp_path, ledger).engine.dispose()  # an up-to-date file opens as it is
    finally:
        upgraded.engine.dispose()
        engine.dispose()


def test_an_index_file_without_registration_deadlines_is_upgraded(
    ledger: Ledger, world: DemoWorld, tmp_path: Path
) -> None:
    """A file made before registrations kept their deadline: the column is added when the
    file is opened; a row without it cannot give its registration digest, so the head check
    names it (re-index) instead of passing or failing on a guess; new rows keep theirs."""
    old = make_index(tmp_path, ledger)
    earlier = register(ledger, world, f"AU-UCR-OLD-{secrets.token_hex(4)}")
    old.sync()
    with old.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE index_consignments DROP COLUMN deadline")
    old.engine.dispose()
    engine = create_engine(f"sqlite:///{tmp_path / 'index.db'}")
    assert "deadline" not in columns(engine)
    upgraded = make_index(tmp_path, ledger)
    try:
        assert "deadline" in columns(engine)
        later = register(ledger, world, f"AU-UCR-NEW-{secrets.token_hex(4)}")
        upgraded.sync()
        old_row, new_row = upgraded.consignment(earlier), upgraded.consignment(later)
        assert old_row is not None
        assert new_row is not None
        assert old_row.deadline == 0
        assert new_row.deadline > now(ledger)
        checked = upgraded.verify_heads([earlier, later], raise_on_mismatch=False)
        (mismatch,) = checked.mismatches
        assert mismatch.consignment_id == earlier
        assert "without its deadline" in mismatch.detail
    finally:
        upgraded.engine.dispose()
        engine.dispose()


def test_a_reference_maps_to_one_consignment_per_registrant(
    index: Index, ledger: Ledger, world: DemoWorld
) -> None:
    """Two organisations registering one reference make two consignments (the id is bound to
    the registrant); the index keeps the reference hash and lists both, oldest first."""
    ref = f"AU-UCR-SHARED-{secrets.token_hex(4)}"
    carrier = world.parties["carrier"]
    competitor = world.parties["exporter"]
    first = register(ledger, world, ref)  # by the carrier
    squat = ConsignmentRegistration(
        reference_hash=reference_hash(ref),
        origin=b"AU",
        destination=b"CN",
        deadline=now(ledger) + 3600,
    )
    ledger.consignments.register(ledger.sign(squat, competitor.private_key))
    index.sync()
    second = consignment_id(ref, registrant=competitor.org_id)
    assert first != second
    assert index.consignments_by_reference(reference_hash(ref)) == [
        (first, carrier.org_id),
        (second, competitor.org_id),
    ]
    record = index.consignment(second)
    assert record is not None
    assert (record.reference_hash, record.registrant) == (reference_hash(ref), competitor.org_id)
    assert index.consignments_by_reference(reference_hash("NO-SUCH-UCR")) == []
    assert index.verify_heads().ok
