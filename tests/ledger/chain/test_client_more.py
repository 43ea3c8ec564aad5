"""Client methods the main client tests do not call: ``Ledger.attach``, ``transact``,
``batch_call_for``, ``submit_batch``, ``issue_batch``, ``certification_id`` and the
organisation directory (``organisation_count`` / ``organisation_id``)."""

from __future__ import annotations

import secrets

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from web3 import Web3

from ledger.chain import Deployment, Ledger, TxManager, deploy_suite
from ledger.chain import contract_errors as ce
from ledger.errors import ConfigurationError
from ledger.records import (
    Approval,
    Attestation,
    CertificateIssue,
    ConsignmentRegistration,
    SignedRecord,
    SubjectType,
    fixed_ascii,
    hs_codes_digest,
    reference_hash,
)
from ledger.stack import DEMO_PARTIES, TRADER, DemoWorld, Party, admit, bootstrap_for


def _now(ledger: Ledger) -> int:
    return int(ledger.w3.eth.get_block("latest")["timestamp"])


def _certificate(ledger: Ledger, world: DemoWorld, *, quantity: int = 100) -> CertificateIssue:
    t = _now(ledger)
    return CertificateIssue(
        certificate_number=keccak(text=f"COO-{secrets.token_hex(6)}"),
        exporter=world.parties["exporter"].org_id,
        origin=b"AU",
        destination=b"CN",
        document_digest=keccak(text=secrets.token_hex(8)),
        hs_codes_digest=hs_codes_digest(["220421"]),
        quantity=quantity,
        unit=fixed_ascii("LTR", 8),
        valid_from=t - 10,
        valid_until=t + 86400,
        issued_at=t,
    )


def _signed_certificates(
    ledger: Ledger, world: DemoWorld, quantities: list[int]
) -> list[SignedRecord[CertificateIssue]]:
    chamber = world.parties["chamber"]
    return [
        ledger.sign(_certificate(ledger, world, quantity=q), chamber.private_key)
        for q in quantities
    ]


def _registration(ledger: Ledger) -> ConsignmentRegistration:
    return ConsignmentRegistration(
        reference_hash=reference_hash(f"UCR-{secrets.token_hex(6)}"),
        origin=b"AU",
        destination=b"CN",
        deadline=_now(ledger) + 3600,
    )


def _issued_id(world: DemoWorld, signed: SignedRecord[CertificateIssue]) -> bytes:
    """The contract's certificate id: keccak256(abi.encode(issuer orgId, number digest))."""
    issuer = world.parties["chamber"].org_id
    return keccak(encode(["bytes32", "bytes32"], [issuer, signed.record.certificate_number]))


# ------------------------------------------------------------------------------------------
# Ledger.attach and ContractClient.transact
# ------------------------------------------------------------------------------------------


def test_attach_gives_clients_at_the_deployment_addresses(
    ledger: Ledger, deployment: Deployment, relayer_tx: TxManager, world: DemoWorld
) -> None:
    attached = Ledger.attach(ledger.w3, deployment, tx=relayer_tx)
    assert isinstance(attached, Ledger)
    for name, client in attached.clients.items():
        assert client.address == deployment.address(name)
        assert client.domain.chain_id == deployment.chain_id
        assert client.tx is relayer_tx
    assert attached.membership.threshold() == 2
    assert attached.consignments.exists(world.consignment_id)
    # A record signed for the attached suite is accepted by it.
    carrier = world.parties["carrier"]
    registration = _registration(ledger)
    attached.submit(attached.sign(registration, carrier.private_key))
    assert ledger.consignments.exists(
        registration.consignment_id_for(world.parties["carrier"].org_id)
    )


def test_attach_without_a_transaction_manager_reads_but_cannot_write(
    ledger: Ledger, deployment: Deployment, world: DemoWorld
) -> None:
    reader = Ledger.attach(ledger.w3, deployment)
    assert reader.membership.organisation(world.parties["carrier"].org_id).registered
    signed = reader.sign(_registration(ledger), world.parties["carrier"].private_key)
    with pytest.raises(ConfigurationError, match="Consignments client has no transaction manager"):
        reader.submit(signed)
    with pytest.raises(ConfigurationError, match="Membership client has no transaction manager"):
        reader.membership.transact("execute", ())
    assert not ledger.consignments.exists(
        signed.record.consignment_id_for(world.parties["carrier"].org_id)
    )


def test_transact_sends_the_encoded_call_and_returns_its_receipt(
    ledger: Ledger, world: DemoWorld
) -> None:
    registration = _registration(ledger)
    signed = ledger.sign(registration, world.parties["carrier"].private_key)
    height = ledger.w3.eth.block_number
    receipt = ledger.consignments.transact("register", registration.onchain(), signed.sig())
    assert receipt.succeeded
    assert receipt.block_number == height + 1
    assert ledger.w3.eth.get_transaction(receipt.tx_hash)["input"] == (  # type: ignore[arg-type]
        ledger.consignments.calldata("register", registration.onchain(), signed.sig())
    )
    events = [d.event for d in ledger.decode_logs(receipt.logs)]
    assert events == ["ConsignmentRegistered"]
    assert ledger.consignments.exists(
        registration.consignment_id_for(world.parties["carrier"].org_id)
    )


def test_transact_raises_the_decoded_contract_error(ledger: Ledger, world: DemoWorld) -> None:
    existing = ConsignmentRegistration(
        reference_hash=reference_hash(world.consignment_ref),
        origin=b"AU",
        destination=b"CN",
        deadline=_now(ledger) + 3600,
    )
    signed = ledger.sign(existing, world.parties["carrier"].private_key)
    with pytest.raises(ce.ConsignmentExists) as caught:
        ledger.consignments.transact("register", existing.onchain(), signed.sig())
    assert caught.value.args_map["consignmentId"] == world.consignment_id


# ------------------------------------------------------------------------------------------
# Batches: batch_call_for, submit_batch, issue_batch
# ------------------------------------------------------------------------------------------


def test_batch_call_for_routes_a_batch_to_its_batch_function(
    ledger: Ledger, world: DemoWorld
) -> None:
    batch = _signed_certificates(ledger, world, [10, 20])
    client, function, args = ledger.batch_call_for(batch)
    assert client is ledger.certificates
    assert function == "issueBatch"
    assert args == ([s.record.onchain() for s in batch], [s.sig() for s in batch])
    registrations = [
        ledger.sign(_registration(ledger), world.parties["carrier"].private_key) for _ in range(2)
    ]
    client, function, _ = ledger.batch_call_for(registrations)
    assert (client, function) == (ledger.consignments, "registerBatch")


def test_batch_call_for_refuses_mixed_kinds_and_kinds_without_a_batch_function(
    ledger: Ledger, world: DemoWorld
) -> None:
    certificate = _signed_certificates(ledger, world, [10])[0]
    registration = ledger.sign(_registration(ledger), world.parties["carrier"].private_key)
    with pytest.raises(ValueError, match="a batch holds records of one kind"):
        ledger.batch_call_for([certificate, registration])
    approval = ledger.sign(Approval(proposal_id=bytes(32)), world.parties["au"].private_key)
    with pytest.raises(ValueError, match="Approval records have no batch function"):
        ledger.batch_call_for([approval])


def test_submit_batch_records_every_item_in_one_transaction(
    ledger: Ledger, world: DemoWorld
) -> None:
    cn = world.parties["cn"]
    attestations = [
        Attestation(
            schema_id=world.schema_ids["seal-check"],
            subject_type=SubjectType.CONSIGNMENT,
            subject_id=world.consignment_id,
            data_digest=keccak(text=secrets.token_hex(8)),
            deadline=_now(ledger) + 600,
        )
        for _ in range(3)
    ]
    height = ledger.w3.eth.block_number
    receipt = ledger.submit_batch([ledger.sign(a, cn.private_key) for a in attestations])
    assert receipt.succeeded
    assert ledger.w3.eth.block_number == height + 1, "one transaction"
    uids = [a.uid(cn.org_id) for a in attestations]
    assert all(ledger.attestations.is_valid(uid) for uid in uids)
    attested = [d.args["uid"] for d in ledger.decode_logs(receipt.logs) if d.event == "Attested"]
    assert attested == uids


def test_submit_batch_names_the_failing_item_and_records_nothing(
    ledger: Ledger, world: DemoWorld
) -> None:
    carrier = world.parties["carrier"]
    fresh = _registration(ledger)
    duplicate = ConsignmentRegistration(
        reference_hash=reference_hash(world.consignment_ref),
        origin=b"AU",
        destination=b"CN",
        deadline=_now(ledger) + 3600,
    )
    batch = [ledger.sign(fresh, carrier.private_key), ledger.sign(duplicate, carrier.private_key)]
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit_batch(batch)
    assert caught.value.index == 1
    assert isinstance(caught.value.cause, ce.ConsignmentExists)
    assert not ledger.consignments.exists(fresh.consignment_id_for(carrier.org_id))


def test_issue_batch_issues_every_certificate(ledger: Ledger, world: DemoWorld) -> None:
    batch = _signed_certificates(ledger, world, [100, 250, 7])
    receipt = ledger.certificates.issue_batch(batch)
    assert receipt.succeeded
    issued = [
        d.args["certificateId"]
        for d in ledger.decode_logs(receipt.logs)
        if d.event == "CertificateIssued"
    ]
    ids = [_issued_id(world, s) for s in batch]
    assert issued == ids
    for cert, signed in zip(ids, batch, strict=True):
        state = ledger.certificates.certificate(cert)
        assert state.status == 1
        assert state.quantity == signed.record.quantity
        assert state.remaining == signed.record.quantity
        assert state.exporter == world.parties["exporter"].org_id


def test_issue_batch_refuses_a_certificate_issued_already(ledger: Ledger, world: DemoWorld) -> None:
    first, second = _signed_certificates(ledger, world, [5, 6])
    ledger.certificates.issue(first)
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.certificates.issue_batch([second, first])
    assert caught.value.index == 1
    assert isinstance(caught.value.cause, ce.CertificateExists)
    assert ledger.certificates.certificate(_issued_id(world, second)).status == 0


# ------------------------------------------------------------------------------------------
# AeoRegistry.certification_id, Membership.organisation_count / organisation_id
# ------------------------------------------------------------------------------------------


def test_certification_id_is_the_contracts_key(ledger: Ledger, world: DemoWorld) -> None:
    au, cn, exporter = (world.parties[k] for k in ("au", "cn", "exporter"))
    full = fixed_ascii("AEOF", 8)
    assert ledger.aeo.certification_id(au.org_id, exporter.org_id, full) == keccak(
        encode(["bytes32", "bytes32", "bytes8"], [au.org_id, exporter.org_id, full])
    )
    assert ledger.aeo.certification_id(au.org_id, exporter.org_id, full) == (world.certification_id)
    certification = ledger.aeo.certification(world.certification_id)
    assert (certification.administration, certification.operator_id) == (
        au.org_id,
        exporter.org_id,
    )
    others = {
        ledger.aeo.certification_id(au.org_id, exporter.org_id, fixed_ascii("AEOS", 8)),
        ledger.aeo.certification_id(cn.org_id, exporter.org_id, full),
        ledger.aeo.certification_id(au.org_id, cn.org_id, full),
    }
    assert world.certification_id not in others
    assert len(others) == 3


def test_organisation_directory_lists_members_in_admission_order(
    ledger: Ledger, world: DemoWorld
) -> None:
    assert ledger.membership.organisation_count() == len(DEMO_PARTIES)
    ids = [
        ledger.membership.organisation_id(i)
        for i in range(1, ledger.membership.organisation_count() + 1)
    ]
    assert ids == [p.org_id for p in DEMO_PARTIES]
    assert ledger.membership.organisation_id(0) == bytes(32), "indexes start at 1"
    assert ledger.membership.organisation_id(len(DEMO_PARTIES) + 1) == bytes(32)
    for index, org in enumerate(ids, start=1):
        assert ledger.membership.organisation(org).index == index

    newcomer = Party.random("Coonawarra Estates", TRADER, "AU")
    admit(ledger, newcomer, governors=[world.parties["au"], world.parties["cn"]], now=_now(ledger))
    assert ledger.membership.organisation_count() == len(DEMO_PARTIES) + 1
    assert ledger.membership.organisation_id(len(DEMO_PARTIES) + 1) == newcomer.org_id
    assert [o.org_id for o in ledger.membership.organisations()] == [*ids, newcomer.org_id]


def test_organisation_count_of_a_fresh_deployment_is_its_administrations(
    w3: Web3, relayer_tx: TxManager
) -> None:
    now = int(w3.eth.get_block("latest")["timestamp"])
    bootstrap = bootstrap_for(DEMO_PARTIES, relayers=[relayer_tx.address], now=now)
    fresh = Ledger.attach(w3, deploy_suite(w3, relayer_tx, bootstrap), tx=relayer_tx)
    customs = [a.org_id for a in bootstrap.administrations]
    assert fresh.membership.organisation_count() == len(customs) == 2
    assert [fresh.membership.organisation_id(i) for i in (1, 2)] == customs
