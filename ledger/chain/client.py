"""The :class:`Ledger`: the deployed suite's typed clients, signing domains and record routing.

Each contract is wrapped once (:mod:`ledger.chain.contracts`; read models in
:mod:`ledger.chain.models`), and the :class:`Ledger` holds one client of each, gives the signing
domain of each record kind and sends a signed record to its contract function (:data:`ROUTES`).
Reads return dataclasses; writes take :class:`~ledger.records.record.SignedRecord` values, send
them through the relayer's
:class:`~ledger.chain.txmanager.TxManager` and return its :class:`~ledger.chain.txmanager.Receipt`.
A revert, whether found by the gas estimate or in a mined transaction, is raised as the
matching :class:`~ledger.chain.contract_errors.ContractError` subclass.

    ledger = Ledger.attach(w3, deployment, tx=TxManager(w3, relayer_key))
    signed = ledger.sign(ConsignmentEvent(...), carrier_key)
    ledger.submit(signed)
    ledger.consignments.head(consignment_id)

Many consignment events signed together with one signature (:class:`~ledger.records.EventBatch`)
go through the same :meth:`Ledger.submit`, or
:meth:`~ledger.chain.contracts.ConsignmentsClient.post_event_batch`:

    batch = ledger.sign_event_batch(events, carrier_key, nonce=n, deadline=t + 600)
    ledger.submit(batch)

Attestations signed together (:class:`~ledger.records.batches.AttestationBatch`, no nonce: each
uid is its replay protection) likewise, or with
:meth:`~ledger.chain.contracts.AttestationsClient.attest_signed_batch`:

    batch = ledger.sign_attestation_batch(attestations, customs_key, deadline=t + 600)
    ledger.submit(batch)

Drawdowns signed together (:class:`~ledger.records.DrawdownBatch`, no nonce: each (certificate,
consignment) is drawn once) likewise, or with
:meth:`~ledger.chain.contracts.CertificatesClient.draw_down_signed_batch`:

    batch = ledger.sign_drawdown_batch(drawdowns, exporter_key, deadline=t + 600)
    ledger.submit(batch)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3 import Web3

from ledger.chain.abi import DecodedLog
from ledger.chain.contracts import (
    AeoRegistryClient,
    AttestationsClient,
    CertificatesClient,
    ConsignmentsClient,
    ContractClient,
    MembershipClient,
    _batch_args,
)
from ledger.chain.declarations import DeclarationsClient
from ledger.chain.deploy import SUITE, Deployment
from ledger.chain.epcis import EpcisCapturesClient
from ledger.chain.txmanager import Receipt, TxManager
from ledger.records import (
    AeoAction,
    Approval,
    Attestation,
    AttestationBatch,
    AttestationRevocation,
    CertificateIssue,
    CertificateRevocation,
    ConsignmentEvent,
    ConsignmentRegistration,
    Declaration,
    Domain,
    Drawdown,
    DrawdownBatch,
    EpcisCapture,
    EventBatch,
    KeyAddition,
    KeyRevocation,
    MraAcceptance,
    MraProposal,
    MraTermination,
    Proposal,
    Record,
    SchemaRegistration,
    SignedAttestationBatch,
    SignedDrawdownBatch,
    SignedEventBatch,
    SignedRecord,
    sign,
    sign_attestation_batch,
    sign_drawdown_batch,
    sign_event_batch,
)

__all__ = [
    "ROUTES",
    "Ledger",
    "org_id",
    "suite_names",
]

log = logging.getLogger("ledger.chain.client")


def org_id(name: str) -> bytes:
    """A conventional organisation id: keccak256 of a stable name such as ``"AU-ABF"``."""
    return keccak(text=name)


# --------------------------------------------------------------------------------------------
# Routing of records to contract functions
# --------------------------------------------------------------------------------------------

# record type -> (contract, single function, batch function or None, argument style)
# "struct": f(record, sig); "value": f(first field, sig); "fields": f(every field, sig), e.g.
# registerSchema(definition, deadline, sig); "proposal": execute-style (no sig);
# "events": f(event records, nonce, deadline, sig), from a SignedEventBatch (the EventBatch
# record alone cannot be sent: the events travel with it); "attestations": f(attestation
# records, deadline, sig), from a SignedAttestationBatch, likewise; "drawdowns": f(drawdown
# records, deadline, sig), from a SignedDrawdownBatch.
ROUTES: Mapping[type[Record], tuple[str, str, str | None, str]] = {
    Proposal: ("Membership", "propose", None, "struct"),
    Approval: ("Membership", "approve", None, "value"),
    KeyAddition: ("Membership", "addKey", None, "struct"),
    KeyRevocation: ("Membership", "revokeKey", None, "struct"),
    ConsignmentRegistration: ("Consignments", "register", "registerBatch", "struct"),
    ConsignmentEvent: ("Consignments", "postEvent", "postEvents", "struct"),
    EventBatch: ("Consignments", "postEventBatch", None, "events"),
    CertificateIssue: ("Certificates", "issue", "issueBatch", "struct"),
    CertificateRevocation: ("Certificates", "revoke", None, "struct"),
    Drawdown: ("Certificates", "drawDown", "drawDownBatch", "struct"),
    DrawdownBatch: ("Certificates", "drawDownSignedBatch", None, "drawdowns"),
    SchemaRegistration: ("Attestations", "registerSchema", None, "fields"),
    Attestation: ("Attestations", "attest", "attestBatch", "struct"),
    AttestationBatch: ("Attestations", "attestSignedBatch", None, "attestations"),
    AttestationRevocation: ("Attestations", "revoke", "revokeBatch", "struct"),
    AeoAction: ("AeoRegistry", "applyAction", None, "struct"),
    MraProposal: ("AeoRegistry", "proposeMra", None, "struct"),
    MraAcceptance: ("AeoRegistry", "acceptMra", None, "fields"),
    MraTermination: ("AeoRegistry", "terminateMra", None, "fields"),
    Declaration: ("Declarations", "lodge", "lodgeBatch", "struct"),
    EpcisCapture: ("EpcisCaptures", "commitCapture", "commitCaptures", "struct"),
}

R = TypeVar("R", bound=Record)

Signed = SignedRecord[Any] | SignedEventBatch | SignedAttestationBatch | SignedDrawdownBatch
"""What :meth:`Ledger.submit` sends: one signed record, or a list signed as one batch."""


class Ledger:
    """The deployed suite: one client per contract, signing domains, routing of records."""

    def __init__(self, w3: Web3, deployment: Deployment, *, tx: TxManager | None = None) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.tx = tx
        chain_id = deployment.chain_id
        self.membership = MembershipClient(
            w3, deployment.address("Membership"), chain_id=chain_id, tx=tx
        )
        self.consignments = ConsignmentsClient(
            w3, deployment.address("Consignments"), chain_id=chain_id, tx=tx
        )
        self.certificates = CertificatesClient(
            w3, deployment.address("Certificates"), chain_id=chain_id, tx=tx
        )
        self.attestations = AttestationsClient(
            w3, deployment.address("Attestations"), chain_id=chain_id, tx=tx
        )
        self.aeo = AeoRegistryClient(
            w3, deployment.address("AeoRegistry"), chain_id=chain_id, tx=tx
        )
        self.declarations = DeclarationsClient(
            w3, deployment.address("Declarations"), chain_id=chain_id, tx=tx
        )
        self.epcis = EpcisCapturesClient(
            w3, deployment.address("EpcisCaptures"), chain_id=chain_id, tx=tx
        )
        self.clients: dict[str, ContractClient] = {
            c.NAME: c
            for c in (
                self.membership,
                self.consignments,
                self.certificates,
                self.attestations,
                self.aeo,
                self.declarations,
                self.epcis,
            )
        }

    @classmethod
    def attach(cls, w3: Web3, deployment: Deployment, *, tx: TxManager | None = None) -> Ledger:
        return cls(w3, deployment, tx=tx)

    def domain(self, record: Record | type[Record] | str) -> Domain:
        name = record if isinstance(record, str) else record.CONTRACT
        return self.clients[name].domain

    def sign(self, record: R, private_key: bytes | str) -> SignedRecord[R]:
        return sign(record, private_key, self.domain(record))

    def sign_event_batch(
        self,
        events: Sequence[ConsignmentEvent],
        private_key: bytes | str,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> SignedEventBatch:
        """Sign ``events`` with one EventBatch signature (see ``records.sign_event_batch``)."""
        return sign_event_batch(
            events, private_key, self.consignments.domain, nonce=nonce, deadline=deadline
        )

    def sign_attestation_batch(
        self, attestations: Sequence[Attestation], private_key: bytes | str, *, deadline: int
    ) -> SignedAttestationBatch:
        """Sign ``attestations`` with one AttestationBatch signature valid until ``deadline``
        (see ``records.sign_attestation_batch``)."""
        return sign_attestation_batch(
            attestations, private_key, self.attestations.domain, deadline=deadline
        )

    def sign_drawdown_batch(
        self, drawdowns: Sequence[Drawdown], private_key: bytes | str, *, deadline: int
    ) -> SignedDrawdownBatch:
        """Sign ``drawdowns`` with one DrawdownBatch signature valid until ``deadline``
        (see ``records.sign_drawdown_batch``)."""
        return sign_drawdown_batch(
            drawdowns, private_key, self.certificates.domain, deadline=deadline
        )

    def signer(self, signed: Signed) -> ChecksumAddress:
        return signed.signer(self.domain(signed.record))

    def call_for(self, signed: Signed) -> tuple[ContractClient, str, tuple[Any, ...]]:
        """The client, function and arguments that record ``signed`` on chain."""
        contract, function, _, style = ROUTES[type(signed.record)]
        args: tuple[Any, ...]
        if style == "events":
            if not isinstance(signed, SignedEventBatch):
                raise ValueError("an EventBatch is sent with its events: use sign_event_batch")
            args = signed.onchain()
        elif style == "attestations":
            if not isinstance(signed, SignedAttestationBatch):
                raise ValueError(
                    "an AttestationBatch is sent with its attestations: use sign_attestation_batch"
                )
            args = signed.onchain()
        elif style == "drawdowns":
            if not isinstance(signed, SignedDrawdownBatch):
                raise ValueError(
                    "a DrawdownBatch is sent with its drawdowns: use sign_drawdown_batch"
                )
            args = signed.onchain()
        elif style == "value":
            args = (signed.record.onchain()[0], signed.sig())
        elif style == "fields":
            args = (*signed.record.onchain(), signed.sig())
        else:
            args = (signed.record.onchain(), signed.sig())
        return self.clients[contract], function, args

    def batch_call_for(
        self, batch: Sequence[SignedRecord[Any]]
    ) -> tuple[ContractClient, str, tuple[Any, ...]]:
        """The client, batch function and arguments for records of one kind."""
        kinds = {type(s.record) for s in batch}
        if len(kinds) != 1:
            raise ValueError("a batch holds records of one kind")
        kind = kinds.pop()
        contract, _, batch_fn, _ = ROUTES[kind]
        if batch_fn is None:
            raise ValueError(f"{kind.__name__} records have no batch function")
        return self.clients[contract], batch_fn, _batch_args(batch)

    def simulate(self, signed: Signed) -> None:
        """Raise the contract error that recording ``signed`` would revert with, if any."""
        client, function, args = self.call_for(signed)
        client.simulate(function, *args)

    def submit(self, signed: Signed) -> Receipt:
        client, function, args = self.call_for(signed)
        return client.transact(function, *args)

    def submit_batch(self, batch: Sequence[SignedRecord[Any]]) -> Receipt:
        client, function, args = self.batch_call_for(batch)
        return client.transact(function, *args)

    def decode_logs(self, logs: Iterable[Mapping[str, Any]]) -> list[DecodedLog]:
        entries = list(logs)
        out: list[DecodedLog] = []
        for client in self.clients.values():
            out.extend(client.decode_logs(entries))
        return sorted(out, key=lambda d: (d.block_number, d.log_index))


def suite_names() -> list[str]:
    return [name for name, _ in SUITE]
