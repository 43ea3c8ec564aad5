"""The typed clients: each deployed contract wrapped once.

:class:`ContractClient` encodes calls (fast for the static words of batch calls:
:func:`static_words_encode`), decodes reverts into the
:class:`~ledger.chain.contract_errors.ContractError` subclasses, and sends writes through the
relayer's :class:`~ledger.chain.txmanager.TxManager`. One subclass per contract
(:class:`MembershipClient`, :class:`ConsignmentsClient`, :class:`CertificatesClient`,
:class:`AttestationsClient`, :class:`AeoRegistryClient`) names its functions: writes take
signed records, reads return the dataclasses of :mod:`ledger.chain.models`. The
:class:`~ledger.chain.client.Ledger` holds one of each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.exceptions import ContractLogicError

from ledger.chain.abi import AbiFunction, ContractAbi, DecodedLog, contract_abi
from ledger.chain.contract_errors import decode_revert
from ledger.chain.models import (
    AttestationState,
    CertificateState,
    Certification,
    ConsignmentState,
    KeyInfo,
    Mra,
    Organisation,
    ProposalState,
    ProposedAction,
    Recognition,
    StatusChange,
)
from ledger.chain.rpc_errors import revert_data
from ledger.chain.txmanager import Receipt, TxManager
from ledger.errors import ConfigurationError, TransactionReverted
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
    Domain,
    Drawdown,
    DrawdownBatch,
    EventBatch,
    KeyAddition,
    KeyRevocation,
    MraAcceptance,
    MraProposal,
    MraTermination,
    Proposal,
    SchemaRegistration,
    SignedAttestationBatch,
    SignedDrawdownBatch,
    SignedEventBatch,
    SignedRecord,
)

__all__ = [
    "AeoRegistryClient",
    "AttestationsClient",
    "CertificatesClient",
    "ConsignmentsClient",
    "ContractClient",
    "MembershipClient",
    "static_words_encode",
]


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("ascii", errors="replace")


class ContractClient:
    """One deployed contract: encoded calls, decoded reverts, relayed writes."""

    NAME: ClassVar[str]

    def __init__(
        self, w3: Web3, address: str, *, chain_id: int, tx: TxManager | None = None
    ) -> None:
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.tx = tx
        self.abi: ContractAbi = contract_abi(self.NAME)
        self.domain = Domain.for_contract(self.NAME, chain_id=chain_id, address=self.address)

    def calldata(self, function: str, *args: Any) -> bytes:
        fn = self.abi.fn(function)
        fast = static_words_encode(fn.inputs, args)
        return fn.encode(*args) if fast is None else fn.selector + fast

    def call(self, function: str, *args: Any, block: int | str = "latest") -> Any:
        fn: AbiFunction = self.abi.fn(function)
        request: dict[str, Any] = {"to": self.address, "data": "0x" + fn.encode(*args).hex()}
        if self.tx is not None:
            request["from"] = self.tx.address
        try:
            raw = self.w3.eth.call(request, block)  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise decode_revert(revert_data(exc)) from exc
        return fn.decode_output(bytes(raw))

    def simulate(self, function: str, *args: Any) -> None:
        """Run a write as a call from the relayer: raises the error it would revert with."""
        self.call(function, *args)

    def transact(self, function: str, *args: Any) -> Receipt:
        if self.tx is None:
            raise ConfigurationError(
                f"{self.NAME} client has no transaction manager: attach with tx=TxManager(...)"
            )
        data = self.calldata(function, *args)
        try:
            receipt = self.tx.send_and_wait({"to": self.address, "data": "0x" + data.hex()})
        except TransactionReverted as exc:
            raise decode_revert(exc.data) from exc
        return receipt

    def decode_logs(self, logs: Iterable[Mapping[str, Any]]) -> list[DecodedLog]:
        out: list[DecodedLog] = []
        for entry in logs:
            if to_checksum_address(str(entry["address"])) != self.address:
                continue
            decoded = self.abi.decode_log(entry)
            if decoded is not None:
                out.append(decoded)
        return out

    def _sign_args(self, signed: SignedRecord[Any]) -> tuple[Any, ...]:
        return (signed.record.onchain(), signed.sig())


def _word(typ: str, value: Any) -> bytes | None:
    """One ABI word of a ``bytes32`` or ``uintN`` value; None for anything else."""
    if typ == "bytes32":
        return value if isinstance(value, bytes) and len(value) == 32 else None
    if typ.startswith("uint") and isinstance(value, int) and not isinstance(value, bool):
        bits = int(typ[4:] or 256)
        return value.to_bytes(32, "big") if 0 <= value < 2**bits else None
    return None


def _static_tuple(typ: str, value: Any) -> bytes | None:
    """A static tuple of ``bytes32`` / ``uintN`` members, inline; None for anything else."""
    if not (typ.startswith("(") and typ.endswith(")")) or not isinstance(value, tuple | list):
        return None
    members = typ[1:-1].split(",")
    if len(members) != len(value) or any("(" in m or "[" in m for m in members):
        return None
    words = [_word(m, v) for m, v in zip(members, value, strict=True)]
    return None if any(w is None for w in words) else b"".join(w for w in words if w)


def static_words_encode(types: Sequence[str], args: Sequence[Any]) -> bytes | None:
    """ABI encoding of arguments that are ``bytes32``, ``uintN``, static tuples of those, or
    dynamic arrays of such tuples -- what batch calls take (``postEvents(EventRecord[],
    Sig[])``, ``postEventBatch(EventRecord[], uint32, uint40, Sig)``) -- without eth-abi's
    per-value machinery (a batch is a thousand tuples); None when anything else is there,
    and eth-abi encodes. The bytes are eth-abi's (``test_client`` checks)."""
    if len(types) != len(args):
        return None
    head: list[bytes] = []
    tails: list[bytes] = []
    head_size = 0
    for typ in types:
        head_size += 32 * (
            len(typ[1:-1].split(",")) if typ.startswith("(") and typ.endswith(")") else 1
        )
    offset = head_size
    for typ, value in zip(types, args, strict=True):
        if typ.endswith("[]"):
            if not isinstance(value, list | tuple):
                return None
            element = typ[:-2]
            parts = [_static_tuple(element, item) for item in value]
            if any(p is None for p in parts):
                return None
            tail = len(value).to_bytes(32, "big") + b"".join(p for p in parts if p)
            head.append(offset.to_bytes(32, "big"))
            tails.append(tail)
            offset += len(tail)
            continue
        encoded = _static_tuple(typ, value) if typ.startswith("(") else _word(typ, value)
        if encoded is None:
            return None
        head.append(encoded)
    return b"".join(head) + b"".join(tails)


class MembershipClient(ContractClient):
    NAME = "Membership"

    def propose(self, signed: SignedRecord[Proposal]) -> Receipt:
        return self.transact("propose", *self._sign_args(signed))

    def approve(self, signed: SignedRecord[Approval]) -> Receipt:
        return self.transact("approve", signed.record.proposal_id, signed.sig())

    def execute(self, proposal: Proposal) -> Receipt:
        return self.transact("execute", proposal.onchain())

    def add_key(self, signed: SignedRecord[KeyAddition]) -> Receipt:
        return self.transact("addKey", *self._sign_args(signed))

    def revoke_key(self, signed: SignedRecord[KeyRevocation]) -> Receipt:
        return self.transact("revokeKey", *self._sign_args(signed))

    def is_relayer(self, account: str) -> bool:
        return bool(self.call("isRelayer", to_checksum_address(account)))

    def key_info(self, key: str, *, block: int | str = "latest") -> KeyInfo:
        d = self.call("keyInfo", to_checksum_address(key), block=block)
        return KeyInfo(
            key=to_checksum_address(key),
            org_id=d["orgId"],
            org_index=d["orgIndex"],
            kind=d["kind"],
            status=d["status"],
            country=_text(d["country"]),
            valid_from=d["validFrom"],
            valid_until=d["validUntil"],
            revoked_at=d["revokedAt"],
        )

    def organisation(self, org: bytes, *, block: int | str = "latest") -> Organisation:
        d = self.call("organisation", org, block=block)
        return Organisation(
            org_id=org,
            kind=d["kind"],
            status=d["status"],
            country=_text(d["country"]),
            index=d["index"],
            admitted_at=d["admittedAt"],
        )

    def organisation_count(self) -> int:
        return int(self.call("organisationCount"))

    def organisation_id(self, index: int) -> bytes:
        return bytes(self.call("organisationId", index))

    def organisations(self) -> list[Organisation]:
        return [
            self.organisation(self.organisation_id(i))
            for i in range(1, self.organisation_count() + 1)
        ]

    def threshold(self) -> int:
        return int(self.call("threshold"))

    def active_customs_count(self) -> int:
        return int(self.call("activeCustomsCount"))

    def proposal_state(self, proposal_id: bytes) -> ProposalState:
        d = self.call("proposalState", proposal_id)
        return ProposalState(d["action"], d["approvals"], d["expiresAt"], d["executed"])

    def has_approved(self, proposal_id: bytes, org: bytes) -> bool:
        return bool(self.call("hasApproved", proposal_id, org))

    def proposed(
        self, *, from_block: int, proposal_id: bytes | None = None
    ) -> list[ProposedAction]:
        """The proposals made since ``from_block`` (oldest first), or the one with
        ``proposal_id``, as proposed: read from their ``ProposalCreated`` logs (the topic
        filters on the proposal id, so one proposal is one indexed lookup)."""
        event = self.abi.event("ProposalCreated")
        topics: list[str | None] = ["0x" + event.topic0.hex()]
        if proposal_id is not None:
            topics.append("0x" + proposal_id.hex())
        logs = self.w3.eth.get_logs(
            {
                "address": self.address,
                "fromBlock": from_block,
                "toBlock": "latest",
                "topics": topics,
            }
        )
        found: list[ProposedAction] = []
        for raw in logs:
            decoded = self.abi.decode_log(raw)
            if decoded is None or decoded.event != "ProposalCreated":
                continue
            found.append(
                ProposedAction(
                    proposal=Proposal.from_message(decoded.args["proposal"]),
                    proposer=bytes(decoded.args["proposer"]),
                    block_number=decoded.block_number,
                    tx_hash=decoded.tx_hash,
                )
            )
        return found


class ConsignmentsClient(ContractClient):
    NAME = "Consignments"

    def register(self, signed: SignedRecord[ConsignmentRegistration]) -> Receipt:
        return self.transact("register", *self._sign_args(signed))

    def register_batch(self, batch: Sequence[SignedRecord[ConsignmentRegistration]]) -> Receipt:
        return self.transact("registerBatch", *_batch_args(batch))

    def post_event(self, signed: SignedRecord[ConsignmentEvent]) -> Receipt:
        return self.transact("postEvent", *self._sign_args(signed))

    def post_events(self, batch: Sequence[SignedRecord[ConsignmentEvent]]) -> Receipt:
        return self.transact("postEvents", *_batch_args(batch))

    def post_event_batch(self, signed: SignedEventBatch) -> Receipt:
        """Record events signed together (``postEventBatch``): one signature, one nonce.

        The whole batch reverts if any event fails: ``BatchItemFailed`` names the event.
        """
        return self.transact("postEventBatch", *signed.onchain())

    def events_hash(
        self, events: Sequence[ConsignmentEvent], *, nonce: int, deadline: int
    ) -> bytes:
        """The contract's ``eventsHash`` of ``events`` with the batch's nonce and deadline."""
        return bytes(self.call("eventsHash", [e.onchain() for e in events], nonce, deadline))

    def hash_event_batch(self, batch: EventBatch) -> bytes:
        """The contract's EIP-712 struct hash of ``batch``."""
        return bytes(self.call("hashEventBatch", batch.onchain()))

    def exists(self, consignment_id: bytes) -> bool:
        return bool(self.call("exists", consignment_id))

    def head(self, consignment_id: bytes, *, block: int | str = "latest") -> tuple[bytes, int]:
        d = self.call("head", consignment_id, block=block)
        return bytes(d["head_"]), int(d["eventCount"])

    def consignment(self, consignment_id: bytes) -> ConsignmentState:
        d = self.call("consignment", consignment_id)
        return ConsignmentState(
            consignment_id=consignment_id,
            head=d["head"],
            event_count=d["eventCount"],
            origin=_text(d["origin"]),
            destination=_text(d["destination"]),
            registrant=d["registrant"],
            consignor=d["consignor"],
            consignee=d["consignee"],
            registered_at=d["registeredAt"],
        )

    def next_head(
        self, previous: bytes, digest: bytes, *, org_id: bytes, signer: bytes | str
    ) -> bytes:
        """One chain step on chain (``nextHead``): commits to the record's digest, organisation
        and signing key (20 bytes or a 0x-hex address)."""
        address = to_checksum_address(signer)
        return bytes(self.call("nextHead", previous, digest, org_id, address))


class CertificatesClient(ContractClient):
    NAME = "Certificates"

    def issue(self, signed: SignedRecord[CertificateIssue]) -> Receipt:
        return self.transact("issue", *self._sign_args(signed))

    def issue_batch(self, batch: Sequence[SignedRecord[CertificateIssue]]) -> Receipt:
        return self.transact("issueBatch", *_batch_args(batch))

    def revoke(self, signed: SignedRecord[CertificateRevocation]) -> Receipt:
        return self.transact("revoke", *self._sign_args(signed))

    def draw_down(self, signed: SignedRecord[Drawdown]) -> Receipt:
        return self.transact("drawDown", *self._sign_args(signed))

    def draw_down_batch(self, batch: Sequence[SignedRecord[Drawdown]]) -> Receipt:
        return self.transact("drawDownBatch", *_batch_args(batch))

    def draw_down_signed_batch(self, signed: SignedDrawdownBatch) -> Receipt:
        """Record drawdowns signed together (``drawDownSignedBatch``): one signature.

        The whole batch reverts if any drawdown fails: ``BatchItemFailed`` names it.
        """
        return self.transact("drawDownSignedBatch", *signed.onchain())

    def simulate_signed_batch(self, signed: SignedDrawdownBatch) -> None:
        """Raise the error that ``draw_down_signed_batch(signed)`` would revert with, if any."""
        self.simulate("drawDownSignedBatch", *signed.onchain())

    def drawdowns_hash(self, drawdowns: Sequence[Drawdown]) -> bytes:
        """The contract's ``drawdownsHash`` of ``drawdowns``."""
        return bytes(self.call("drawdownsHash", [d.onchain() for d in drawdowns]))

    def hash_drawdown_batch(self, batch: DrawdownBatch) -> bytes:
        """The contract's EIP-712 struct hash of ``batch``."""
        return bytes(self.call("hashDrawdownBatch", batch.onchain()))

    def certificate(self, certificate_id: bytes) -> CertificateState:
        d = self.call("certificate", certificate_id)
        return CertificateState(
            certificate_id=certificate_id,
            quantity=d["quantity"],
            drawn=d["drawn"],
            valid_from=d["validFrom"],
            valid_until=d["validUntil"],
            status=d["status"],
            exporter=d["exporter"],
            origin=_text(d["origin"]),
            destination=_text(d["destination"]),
            record_hash=d["recordHash"],
            issuer=d["issuer"],
        )

    def drawn_for(self, certificate_id: bytes, consignment_id: bytes) -> int:
        return int(self.call("drawnFor", certificate_id, consignment_id))

    def remaining(self, certificate_id: bytes) -> int:
        return int(self.call("remaining", certificate_id))


class AttestationsClient(ContractClient):
    NAME = "Attestations"

    def register_schema(self, signed: SignedRecord[SchemaRegistration]) -> Receipt:
        return self.transact("registerSchema", *signed.record.onchain(), signed.sig())

    def attest(self, signed: SignedRecord[Attestation]) -> Receipt:
        return self.transact("attest", *self._sign_args(signed))

    def attest_batch(self, batch: Sequence[SignedRecord[Attestation]]) -> Receipt:
        return self.transact("attestBatch", *_batch_args(batch))

    def attest_signed_batch(self, signed: SignedAttestationBatch) -> Receipt:
        """Record attestations signed together (``attestSignedBatch``): one signature.

        The whole batch reverts if any attestation fails: ``BatchItemFailed`` names it.
        """
        return self.transact("attestSignedBatch", *signed.onchain())

    def simulate_signed_batch(self, signed: SignedAttestationBatch) -> None:
        """Raise the error that ``attest_signed_batch(signed)`` would revert with, if any."""
        self.simulate("attestSignedBatch", *signed.onchain())

    def attestations_hash(self, attestations: Sequence[Attestation]) -> bytes:
        """The contract's ``attestationsHash`` of ``attestations``."""
        return bytes(self.call("attestationsHash", [a.onchain() for a in attestations]))

    def hash_attestation_batch(self, batch: AttestationBatch) -> bytes:
        """The contract's EIP-712 struct hash of ``batch``."""
        return bytes(self.call("hashAttestationBatch", batch.onchain()))

    def attestation_uid(self, attester: bytes, attestation: Attestation) -> bytes:
        """The uid ``attestation`` gets when ``attester`` (an orgId) records it."""
        return bytes(self.call("attestationUid", attester, attestation.onchain()))

    def revoke(self, signed: SignedRecord[AttestationRevocation]) -> Receipt:
        return self.transact("revoke", *self._sign_args(signed))

    def revoke_batch(self, batch: Sequence[SignedRecord[AttestationRevocation]]) -> Receipt:
        return self.transact("revokeBatch", *_batch_args(batch))

    def is_valid(self, uid: bytes) -> bool:
        return bool(self.call("isValid", uid))

    def attestation(self, uid: bytes) -> AttestationState:
        d = self.call("attestation", uid)
        return AttestationState(uid, d["attester"], d["attestedAt"], d["expiresAt"], d["revokedAt"])

    def schema_registrant(self, schema_id: bytes) -> bytes:
        return bytes(self.call("schema", schema_id)["registrant"])


class AeoRegistryClient(ContractClient):
    NAME = "AeoRegistry"

    def apply_action(self, signed: SignedRecord[AeoAction]) -> Receipt:
        return self.transact("applyAction", *self._sign_args(signed))

    def propose_mra(self, signed: SignedRecord[MraProposal]) -> Receipt:
        return self.transact("proposeMra", *self._sign_args(signed))

    def accept_mra(self, signed: SignedRecord[MraAcceptance]) -> Receipt:
        return self.transact("acceptMra", *signed.record.onchain(), signed.sig())

    def terminate_mra(self, signed: SignedRecord[MraTermination]) -> Receipt:
        return self.transact("terminateMra", *signed.record.onchain(), signed.sig())

    def mra_id(self, proposer: bytes, proposal: MraProposal) -> bytes:
        """The id ``proposal`` gets when ``proposer`` (an orgId) proposes it (``mraIdOf``)."""
        return bytes(self.call("mraIdOf", proposer, proposal.onchain()))

    def recognition(self, operator: bytes, administration: bytes, at: int) -> Recognition:
        d = self.call("recognition", operator, administration, at)
        return Recognition(d["recognised"], d["certificationId"], d["mraId"])

    def certification_id(self, administration: bytes, operator: bytes, programme: bytes) -> bytes:
        return bytes(self.call("certificationId", administration, operator, programme))

    def certification(self, certification_id: bytes) -> Certification:
        d = self.call("certification", certification_id)
        return Certification(
            certification_id=certification_id,
            administration=d["administration"],
            operator_id=d["operatorId"],
            programme=_text(d["programme"]),
            valid_from=d["validFrom"],
            valid_until=d["validUntil"],
            status=d["status"],
        )

    def status_history(self, certification_id: bytes) -> list[StatusChange]:
        rows = self.call("statusHistory", certification_id)
        return [StatusChange(r["at"], r["status"], r["validFrom"], r["validUntil"]) for r in rows]

    def certifications_of(self, operator: bytes) -> list[bytes]:
        return [bytes(x) for x in self.call("certificationsOf", operator)]

    def mra(self, mra_id: bytes) -> Mra:
        d = self.call("mra", mra_id)
        return Mra(
            mra_id=mra_id,
            proposer=d["proposer"],
            counterpart=d["counterpart"],
            scope=d["scope"],
            valid_from=d["validFrom"],
            valid_until=d["validUntil"],
            proposed_at=d["proposedAt"],
            accepted_at=d["acceptedAt"],
            terminated_at=d["terminatedAt"],
        )

    def mras_between(self, a: bytes, b: bytes) -> list[bytes]:
        return [bytes(x) for x in self.call("mrasBetween", a, b)]


def _batch_args(batch: Sequence[SignedRecord[Any]]) -> tuple[list[Any], list[Any]]:
    return [s.record.onchain() for s in batch], [s.sig() for s in batch]
