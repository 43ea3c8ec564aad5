"""What the gateway checks before it accepts a record: signer, organisation, role, contract.

:class:`ChainValidator` answers "may this caller put this record in the outbox?" against the
chain, in this order (the first failure is the answer):

1. **Shape**: the message decodes into the record type (422, ``ValidationError``) and the
   signature is a valid low-s secp256k1 signature that recovers (422 ``invalid_signature``).
2. **One organisation**: the recovered key is registered (403 ``UnknownKey``) and belongs to
   the caller's organisation (403 ``wrong_organisation``). A key of one organisation never
   acts for another, whatever the request says.
3. **Membership from the chain**: the caller's organisation is registered (403
   ``UnknownOrganisation``) and active (403 ``MemberNotActive``); its kind and country are
   read from Membership, not trusted from the API-key table.
4. **Role** (:func:`authorise`, the domain rules of ``contracts/RECORDS.md``): carriers,
   customs and postal operators, or the parties to a consignment, post its events; an issuing
   body or customs of the origin country issues its certificates; the exporter or customs of
   origin or destination draws them down; customs of the operator's country writes AEO
   records; customs govern and sign MRAs; attestations and schemas by any member; an
   organisation manages its own keys. Denials are 403 with the contract's error name
   (``WrongKind``, ``WrongCountry``, ``NotConsignmentParty``, ``NotAuthorisedToDraw``, ...).
5. **The contract itself**: the record's single-record function runs as ``eth_call`` from the
   relayer on the pending block; a revert is raised as the decoded
   :class:`~ledger.chain.contract_errors.ContractError` (revoked or expired key 403, duplicate or
   used nonce 409, unknown consignment 404, overdraw 409, invalid field 422). The records of
   a bulk request run as one batch call (:meth:`ChainValidator.check_many`): a
   ``BatchItemFailed(i, ...)`` gives record *i* its own error and the rest runs again. Events
   signed together run as the ``postEventBatch`` call they will be relayed with
   (:meth:`ChainValidator.check_event_batch`), attestations signed together as their
   ``attestSignedBatch`` call (:meth:`ChainValidator.check_attestation_batch`), drawdowns
   signed together as their ``drawDownSignedBatch`` call
   (:meth:`ChainValidator.check_drawdown_batch`).
6. **What the chain cannot see yet**: drawdowns accepted but not mined count against the
   certificate's balance (409 ``QuantityExceeded``, ``AlreadyDrawn``); a nonce held by
   another record in the outbox (accepted or submitted) is refused (409 ``NonceAlreadyUsed``);
   a registration, certificate revocation, key revocation, attestation or MRA proposal whose
   natural id another record in the outbox already takes is refused (409 ``ConsignmentExists``,
   ``CertificateIsRevoked``, ``KeyAlreadyRevoked``, ``AttestationExists``, ``MraExists``: a
   record signed again with a new deadline is another record, for the same id;
   :mod:`~gateway.writes.pending`); an event whose consignment registration is accepted but
   not mined is accepted.

The signature is recovered once per record (by the route, which passes the signer on).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from web3.exceptions import Web3Exception

from gateway.auth import KIND_BY_CODE, Caller, OrgKind
from gateway.errors import (
    Conflict,
    GatewayError,
    PermissionDenied,
    ServiceUnavailable,
    contract_error_status,
)
from gateway.models.stored import RecordKind
from gateway.writes.kinds import (
    BATCH_FUNCTIONS,
    execution_id,
    kind_of,
    record_id,
)
from gateway.writes.outbox import Outbox
from gateway.writes.pending import pending_ids, refuse_pending_duplicate, registered_ids
from ledger.chain import BatchItemFailed, ContractError, Ledger, Organisation, is_transient
from ledger.chain.contract_errors import (  # not re-exported by ledger.chain
    QuantityExceeded,
    UnknownConsignment,
)
from ledger.errors import LedgerError
from ledger.records import (
    AeoAction,
    CertificateIssue,
    ConsignmentEvent,
    Drawdown,
    KeyAddition,
    KeyRevocation,
    Proposal,
    Record,
    SignedAttestationBatch,
    SignedDrawdownBatch,
    SignedEventBatch,
    SignedRecord,
)

__all__ = ["CONSIGNMENTS_ON_CHAIN", "Candidate", "ChainValidator", "authorise", "signer_nonce"]

logger = logging.getLogger("gateway.validation")

ACTIVE = 1

CONSIGNMENTS_ON_CHAIN = "consignments-on-chain"
"""Key of a request's ``memo``: consignment id -> whether it is on chain (looked up once)."""

_GOVERNANCE = {
    RecordKind.PROPOSAL,
    RecordKind.APPROVAL,
    RecordKind.EXECUTION,
    RecordKind.MRA_PROPOSAL,
    RecordKind.MRA_ACCEPTANCE,
    RecordKind.MRA_TERMINATION,
}
_ANY_MEMBER = {RecordKind.SCHEMA, RecordKind.ATTESTATION, RecordKind.ATTESTATION_REVOKE}


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _deny(code: str, message: str, *, field: str | None = None) -> PermissionDenied:
    return PermissionDenied(message, code=code, field=field, rule="role")


@contextmanager
def _chain_calls() -> Iterator[None]:
    """RPC failures while validating are 503 (try again), never 500."""
    try:
        yield
    except ContractError:
        raise
    except (Web3Exception, OSError) as exc:
        if isinstance(exc, OSError) or is_transient(exc):
            logger.warning("chain unavailable while validating: %r", exc)
            raise ServiceUnavailable(
                "the chain node is not available", code="chain_unavailable"
            ) from exc
        raise


@dataclass(frozen=True, slots=True)
class Candidate:
    """A signed record of a request: its signer recovered once, its record id computed."""

    signed: SignedRecord[Any]
    signer: str
    record_id: str


def signer_nonce(record: Record, signer: str) -> str | None:
    """``contract:signer:nonce`` of a record that uses its signer's nonce bitmap, else None."""
    if isinstance(record, ConsignmentEvent | AeoAction):
        return f"{record.CONTRACT}:{signer.lower()}:{record.nonce}"
    return None


def _nonce_conflict(signer: str, nonce: int, *, field: str = "nonce") -> Conflict:
    return Conflict(
        f"nonce {nonce} of {signer} is held by another record on its way to the chain",
        code="NonceAlreadyUsed",
        field=field,
        rule="contract",
    )


def authorise(ledger: Ledger, *, org: Organisation, kind: RecordKind, record: Record) -> None:
    """The domain's role rules for ``org`` writing ``record`` (raises PermissionDenied)."""
    org_kind = KIND_BY_CODE.get(org.kind)
    if kind in _ANY_MEMBER:
        return
    if kind in _GOVERNANCE:
        if org_kind is not OrgKind.CUSTOMS:
            raise _deny("WrongKind", f"only customs administrations may submit {kind} records")
        return
    if kind is RecordKind.EPCIS_CAPTURE:
        if org_kind is OrgKind.ISSUING_BODY:
            raise _deny("WrongKind", "issuing bodies do not capture EPCIS events")
        return
    if kind is RecordKind.CONSIGNMENT:
        if org_kind is OrgKind.ISSUING_BODY:
            raise _deny("WrongKind", "issuing bodies do not register consignments")
        return
    if isinstance(record, ConsignmentEvent):
        if org_kind in (OrgKind.CUSTOMS, OrgKind.CARRIER, OrgKind.POSTAL_OPERATOR):
            return
        state = ledger.consignments.consignment(record.consignment_id)
        parties = {state.registrant, state.consignor, state.consignee}
        if state.registered and org.org_id not in parties:
            raise _deny(
                "NotConsignmentParty",
                "only carriers, customs, postal operators and the consignment's parties post "
                "its events",
                field="consignmentId",
            )
        return
    if isinstance(record, CertificateIssue):
        if org_kind not in (OrgKind.ISSUING_BODY, OrgKind.CUSTOMS):
            raise _deny("WrongKind", "only issuing bodies and customs issue certificates")
        if record.origin.decode("ascii", "replace") != org.country:
            raise _deny(
                "WrongCountry",
                f"an organisation of {org.country} cannot issue certificates of origin for "
                f"{record.origin.decode('ascii', 'replace')}",
                field="origin",
            )
        return
    if kind is RecordKind.CERTIFICATE_REVOKE:
        if org_kind not in (OrgKind.ISSUING_BODY, OrgKind.CUSTOMS):
            raise _deny("WrongKind", "only the issuer revokes a certificate")
        return
    if isinstance(record, Drawdown):
        cert = ledger.certificates.certificate(record.certificate_id)
        if cert.status == 0:
            return  # the contract answers UnknownCertificate (404)
        customs_here = org_kind is OrgKind.CUSTOMS and org.country in (
            cert.origin,
            cert.destination,
        )
        if org.org_id != cert.exporter and not customs_here:
            raise _deny(
                "NotAuthorisedToDraw",
                "only the certificate's exporter or customs of its origin or destination "
                "country draws it down",
                field="certificateId",
            )
        return
    if isinstance(record, AeoAction):
        if org_kind is not OrgKind.CUSTOMS:
            raise _deny("WrongKind", "only customs administrations write AEO records")
        operator = ledger.membership.organisation(record.operator_id)
        if operator.registered and operator.country != org.country:
            raise _deny(
                "WrongCountry",
                f"customs of {org.country} cannot write AEO records for an operator of "
                f"{operator.country}",
                field="operatorId",
            )
        return
    if isinstance(record, KeyAddition | KeyRevocation):
        if record.org_id != org.org_id:
            raise _deny(
                "wrong_organisation",
                "an organisation manages its own keys only",
                field="orgId",
            )
        return
    if kind is RecordKind.DECLARATION:
        if org_kind not in (OrgKind.TRADER, OrgKind.CARRIER, OrgKind.POSTAL_OPERATOR):
            raise _deny(
                "WrongKind",
                "only traders, carriers and postal operators lodge goods declarations",
            )
        return
    raise AssertionError(f"no rule for {kind}")  # pragma: no cover - every kind has one


class ChainValidator:
    """Checks records against the chain before the outbox accepts them (see the module)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.drawdown_lock = threading.Lock()
        """Held from the drawdown balance check until the record is in the outbox."""

    # --- lookups ------------------------------------------------------------------------

    def organisation(self, caller: Caller) -> Organisation:
        """The caller's organisation as the chain has it (403 if unknown)."""
        with _chain_calls():
            org = self.ledger.membership.organisation(bytes.fromhex(caller.org_id[2:]))
        if not org.registered:
            raise PermissionDenied(
                "the API key's organisation is not a member on chain",
                code="UnknownOrganisation",
            )
        return org

    # --- the checks ---------------------------------------------------------------------

    def check_signer(
        self, caller: Caller, signer: str, *, memo: dict[str, Any] | None = None
    ) -> Organisation:
        """Checks 2-3: the key is registered to the caller's organisation, which is active.

        ``memo`` (one per request) keeps the key and organisation lookups of a bulk request.
        """
        memo = {} if memo is None else memo
        with _chain_calls():
            key = memo.get(signer)
            if key is None:
                key = memo[signer] = self.ledger.membership.key_info(signer)
            if not key.known:
                raise PermissionDenied(
                    f"the signing key {signer} is not registered to any member",
                    code="UnknownKey",
                    field="signature",
                )
            if _hex(key.org_id) != caller.org_id:
                raise PermissionDenied(
                    f"the record is signed by a key of organisation {_hex(key.org_id)}, "
                    "not the API key's",
                    code="wrong_organisation",
                    field="signature",
                )
            org = memo.get(caller.org_id)
            if org is None:
                org = memo[caller.org_id] = self._active(caller)
        assert isinstance(org, Organisation)
        return org

    def check_signed(
        self,
        caller: Caller,
        signed: SignedRecord[Any],
        *,
        outbox: Outbox,
        memo: dict[str, Any] | None = None,
        signer: str | None = None,
    ) -> str:
        """Checks 2-6 for a signed record; returns its record id.

        ``signer`` is the address recovered already (else it is recovered here); ``memo``
        (one per request) keeps the key and organisation lookups of a bulk request.
        """
        kind = kind_of(signed.record)
        rid = record_id(self.ledger, signed.record, org_id=caller.org_id)
        with _chain_calls():
            if signer is None:
                signer = self.ledger.signer(signed)
            org = self.check_signer(caller, signer, memo=memo)
            authorise(self.ledger, org=org, kind=kind, record=signed.record)
            self._check_nonce_claims([(signer_nonce(signed.record, signer), rid)], outbox=outbox)
            self._simulate(kind, signed, outbox=outbox)
            if isinstance(signed.record, Drawdown):
                self._check_pending_drawdowns(signed.record, outbox=outbox)
            refuse_pending_duplicate(
                kind, signed.record, org_id=org.org_id, record_id=rid, outbox=outbox
            )
        return rid

    def check_many(
        self,
        caller: Caller,
        candidates: Sequence[Candidate],
        *,
        outbox: Outbox,
        memo: dict[str, Any] | None = None,
        simulated: set[int] | None = None,
    ) -> list[LedgerError | None]:
        """Checks 2-6 for records of one kind that travel in batches (a bulk request), with
        one simulation for all of them; the answer for each: None (accepted) or its error.
        ``simulated`` receives the indices of the records that passed the batch simulation
        itself (not those accepted with their registration on its way, nor after a fallback).

        The checks that need no node run per record (key and organisation from ``memo``,
        role, nonce against the outbox). Then the records that passed run as one batch call
        (``postEvents`` ...) on the pending block, in order, as they will be relayed: a
        ``BatchItemFailed(i, ...)`` names the record that fails, which gets that error, and
        the others are simulated again without it. A failure that names no record (e.g. the
        batch is more than the node runs in one call) falls back to a call per record.
        """
        memo = {} if memo is None else memo
        errors: list[LedgerError | None] = [None] * len(candidates)
        kinds = {kind_of(c.signed.record) for c in candidates}
        if len(kinds) != 1 or kinds & {RecordKind.DRAWDOWN} or not kinds <= set(BATCH_FUNCTIONS):
            return [self._check_one(caller, c, outbox=outbox, memo=memo) for c in candidates]
        kind = kinds.pop()
        live: list[int] = []
        for i, candidate in enumerate(candidates):
            try:
                org = self.check_signer(caller, candidate.signer, memo=memo)
                with _chain_calls():
                    authorise(self.ledger, org=org, kind=kind, record=candidate.signed.record)
            except (PermissionDenied, ContractError) as exc:
                errors[i] = exc
                continue
            live.append(i)
        claimed = self._nonce_conflicts(
            [
                (signer_nonce(candidates[i].signed.record, candidates[i].signer), candidates[i])
                for i in live
            ],
            outbox=outbox,
        )
        for i in list(live):
            conflict = claimed.get(candidates[i].record_id)
            if conflict is not None:
                errors[i] = conflict
                live.remove(i)
        pending_registrations: set[str] | None = None
        looked_up = False  # whether every event's consignment was looked up (memo)

        def pending() -> set[str]:
            nonlocal pending_registrations
            if pending_registrations is None:
                pending_registrations = self._pending_registrations(outbox)
            return pending_registrations

        if kind is RecordKind.EVENT:  # what the request's lookups found already (no call)
            live = self._refuse_unknown_consignments(
                candidates, live, errors, memo=memo, pending=pending, look_up=False
            )
        while live:
            signed = [candidates[i].signed for i in live]
            try:
                with _chain_calls():
                    if len(signed) == 1:
                        client, function, args = self.ledger.call_for(signed[0])
                    else:
                        client, function, args = self.ledger.batch_call_for(signed)
                    client.call(function, *args, block="pending")
                if simulated is not None:
                    simulated.update(live)
                break
            except BatchItemFailed as exc:
                if not 0 <= exc.index < len(live):
                    raise
                failed = live.pop(exc.index)
                error: ContractError = exc.cause
            except ContractError as exc:
                if len(live) > 1:
                    logger.info("batch simulation named no record (%s): one call each", exc)
                    for i in live:
                        errors[i] = self._simulate_one(kind, candidates[i], outbox=outbox)
                    break
                failed = live.pop()
                error = exc
            except Web3Exception as exc:
                if len(live) == 1 or is_transient(exc):
                    raise ServiceUnavailable(
                        "the chain node is not available", code="chain_unavailable"
                    ) from exc
                logger.info("batch simulation failed (%r): one call each", exc)
                for i in live:
                    errors[i] = self._simulate_one(kind, candidates[i], outbox=outbox)
                break
            record = candidates[failed].signed.record
            if isinstance(error, UnknownConsignment) and isinstance(record, ConsignmentEvent):
                if _hex(record.consignment_id) in pending():
                    continue  # its registration is on its way: accepted, as a single event is
                if not looked_up:
                    # One event's consignment is not on chain: look the others' up (once
                    # per consignment) rather than simulate the batch again per such event.
                    looked_up = True
                    live = self._refuse_unknown_consignments(
                        candidates, live, errors, memo=memo, pending=pending, look_up=True
                    )
            errors[failed] = error
        return errors

    def check_event_batch(
        self,
        caller: Caller,
        batch: SignedEventBatch,
        *,
        signer: str,
        batch_id: str,
        outbox: Outbox,
    ) -> None:
        """Checks 2-6 for events signed together (``postEventBatch``); raises the first
        failure, for the whole batch: one signature covers every event, so none can be
        dropped. A ``BatchItemFailed`` names the event (its index in the batch).

        Events of a consignment whose registration is accepted but not yet mined are
        refused (``UnknownConsignment``): the batch cannot be simulated past them.
        """
        memo: dict[str, Any] = {}
        org = self.check_signer(caller, signer, memo=memo)
        with _chain_calls():
            for index, event in enumerate(batch.events):
                try:
                    authorise(self.ledger, org=org, kind=RecordKind.EVENT, record=event)
                except PermissionDenied as exc:
                    exc.field = f"events[{index}].{exc.field or 'consignmentId'}"
                    raise
            value = f"{batch.record.CONTRACT}:{signer.lower()}:{batch.record.nonce}"
            for holder in outbox.claimed_nonces([value]).get(value, []):
                if holder.signed_batch != batch_id:
                    raise _nonce_conflict(signer, batch.record.nonce, field="nonce")
            client, function, args = self.ledger.call_for(batch)
            client.call(function, *args, block="pending")

    def check_attestation_batch(
        self, caller: Caller, batch: SignedAttestationBatch, *, signer: str, outbox: Outbox
    ) -> None:
        """Checks 2-5 for attestations signed together (``attestSignedBatch``); raises the
        first failure, for the whole batch: one signature covers every attestation, so none
        can be dropped. Any member may attest (no role check); the batch runs as its
        ``attestSignedBatch`` call on the pending block. An attestation that would fail is
        named with ``field`` = ``attestations[i]`` (``attestations[i].deadline`` when its own
        deadline has passed) and the contract error's name and status. An attestation on its
        way to the chain has the record id it would have alone, so the same batch again is the
        same records; the same content signed again with another deadline (another record id)
        is refused while the first is on its way (409 ``AttestationExists``), as the chain
        would refuse it.
        """
        org = self.check_signer(caller, signer)
        with _chain_calls():
            authorise(self.ledger, org=org, kind=RecordKind.ATTESTATION, record=batch.record)
            client, function, args = self.ledger.call_for(batch)
            try:
                client.call(function, *args, block="pending")
                pending = pending_ids(RecordKind.ATTESTATION, outbox)
                for index, attestation in enumerate(batch.attestations):
                    rid = record_id(self.ledger, attestation, org_id=caller.org_id)
                    refuse_pending_duplicate(
                        RecordKind.ATTESTATION,
                        attestation,
                        org_id=org.org_id,
                        record_id=rid,
                        outbox=outbox,
                        pending=pending,
                        field=f"attestations[{index}]",
                    )
            except BatchItemFailed as exc:
                field = f"attestations[{exc.index}]"
                if exc.cause.name == "DeadlineExpired":  # the item's own (the batch's is not)
                    field += ".deadline"
                raise GatewayError(
                    str(exc.cause),
                    code=exc.cause.name,
                    field=field,
                    rule="contract",
                    status_code=contract_error_status(exc),
                ) from exc

    def check_drawdown_batch(
        self, caller: Caller, batch: SignedDrawdownBatch, *, signer: str, outbox: Outbox
    ) -> None:
        """Checks 2-6 for drawdowns signed together (``drawDownSignedBatch``); raises the first
        failure, for the whole batch: one signature covers every drawdown, so none can be
        dropped. The role rule of a drawdown (the certificate's exporter, or customs of its
        origin or destination country) is checked for each; the batch runs as its
        ``drawDownSignedBatch`` call on the pending block; then, as for a single drawdown,
        drawdowns accepted but not yet on chain count against each certificate's balance,
        together with the batch's earlier drawdowns, and hold their (certificate,
        consignment) pair. A drawdown that fails is named with ``field`` = ``drawdowns[i]...``.
        Call it holding :attr:`drawdown_lock` until the records are in the outbox.
        """
        memo: dict[str, Any] = {}
        org = self.check_signer(caller, signer, memo=memo)
        with _chain_calls():
            for index, drawdown in enumerate(batch.drawdowns):
                try:
                    authorise(self.ledger, org=org, kind=RecordKind.DRAWDOWN, record=drawdown)
                except PermissionDenied as exc:
                    exc.field = f"drawdowns[{index}].{exc.field or 'certificateId'}"
                    raise
            client, function, args = self.ledger.call_for(batch)
            try:
                client.call(function, *args, block="pending")
            except BatchItemFailed as exc:
                raise GatewayError(
                    str(exc.cause),
                    code=exc.cause.name,
                    field=f"drawdowns[{exc.index}]",
                    rule="contract",
                    status_code=contract_error_status(exc),
                ) from exc
            self._check_pending_drawdown_batch(batch.drawdowns, outbox=outbox)

    def _check_pending_drawdown_batch(
        self, drawdowns: Sequence[Drawdown], *, outbox: Outbox
    ) -> None:
        """The pending-drawdown rule of :meth:`_check_pending_drawdowns` for the drawdowns of
        one batch, in order (the simulation counted the batch's own earlier drawdowns against
        the chain's balance; this adds those accepted but not yet on chain)."""
        pending: dict[str, int] = {}
        pairs: set[tuple[str, str]] = set()
        for stored in outbox.pending(RecordKind.DRAWDOWN):
            certificate = str(stored.payload.get("certificateId", "")).lower()
            pairs.add((certificate, str(stored.payload.get("consignmentId", "")).lower()))
            pending[certificate] = pending.get(certificate, 0) + int(
                stored.payload.get("quantity", 0)
            )
        earlier: dict[str, int] = {}
        for index, record in enumerate(drawdowns):
            certificate = _hex(record.certificate_id)
            if (certificate, _hex(record.consignment_id)) in pairs:
                raise Conflict(
                    "a drawdown of this certificate for this consignment is already on its way",
                    code="AlreadyDrawn",
                    field=f"drawdowns[{index}].consignmentId",
                    rule="contract",
                )
            waiting = pending.get(certificate, 0)
            before = earlier.get(certificate, 0)
            earlier[certificate] = before + record.quantity
            if waiting == 0:
                continue
            remaining = self.ledger.certificates.remaining(record.certificate_id) - waiting - before
            if record.quantity > remaining:
                error = QuantityExceeded(
                    "QuantityExceeded",
                    {
                        "certificateId": record.certificate_id,
                        "requested": record.quantity,
                        "remaining": max(remaining, 0),
                    },
                )
                raise Conflict(
                    f"{error} (counting {waiting} in drawdowns accepted but not yet on chain)",
                    code="QuantityExceeded",
                    field=f"drawdowns[{index}].quantity",
                    rule="contract",
                )

    def check_execution(self, caller: Caller, proposal: Proposal) -> str:
        """Checks for an execution (unsigned): a customs caller, and the call would pass."""
        with _chain_calls():
            org = self._active(caller)
            authorise(self.ledger, org=org, kind=RecordKind.EXECUTION, record=proposal)
            self.ledger.membership.call("execute", proposal.onchain(), block="pending")
        return execution_id(proposal, caller.org_id)

    # --- internals ----------------------------------------------------------------------

    def _active(self, caller: Caller) -> Organisation:
        org = self.organisation(caller)
        if org.status != ACTIVE:
            raise PermissionDenied(
                "the organisation is suspended", code="MemberNotActive", rule="membership"
            )
        return org

    def _check_one(
        self, caller: Caller, candidate: Candidate, *, outbox: Outbox, memo: dict[str, Any]
    ) -> LedgerError | None:
        try:
            self.check_signed(
                caller, candidate.signed, outbox=outbox, memo=memo, signer=candidate.signer
            )
        except (PermissionDenied, Conflict, ContractError) as exc:
            return exc
        return None

    def _simulate_one(
        self, kind: RecordKind, candidate: Candidate, *, outbox: Outbox
    ) -> LedgerError | None:
        try:
            with _chain_calls():
                self._simulate(kind, candidate.signed, outbox=outbox)
        except ContractError as exc:
            return exc
        return None

    def _nonce_conflicts(
        self, claims: Sequence[tuple[str | None, Candidate]], *, outbox: Outbox
    ) -> dict[str, Conflict]:
        """Records (by record id) whose nonce an other record in the outbox holds."""
        wanted = [value for value, _ in claims if value is not None]
        if not wanted:
            return {}
        held = outbox.claimed_nonces(wanted)
        out: dict[str, Conflict] = {}
        for value, candidate in claims:
            if value is None:
                continue
            holders = held.get(value, [])
            if any(h.record_id != candidate.record_id for h in holders):
                nonce = int(value.rsplit(":", 1)[1])
                out[candidate.record_id] = _nonce_conflict(candidate.signer, nonce)
        return out

    def _check_nonce_claims(
        self, claims: Sequence[tuple[str | None, str]], *, outbox: Outbox
    ) -> None:
        for value, rid in claims:
            if value is None:
                continue
            for holder in outbox.claimed_nonces([value]).get(value, []):
                if holder.record_id != rid:
                    signer, nonce = value.split(":")[1:]
                    raise _nonce_conflict(signer, int(nonce))

    def _refuse_unknown_consignments(
        self,
        candidates: Sequence[Candidate],
        live: list[int],
        errors: list[LedgerError | None],
        *,
        memo: dict[str, Any],
        pending: Callable[[], set[str]],
        look_up: bool,
    ) -> list[int]:
        """The events of ``live`` whose consignment is on chain or on its way (registration
        accepted, not mined), or not known yet; the others get ``UnknownConsignment`` (404)
        in ``errors`` without a simulation each. Known: what ``memo`` holds (the request's
        reference lookups; "not there" too) and, with ``look_up``, one ``exists`` call per
        consignment not in it (kept there). So a bulk request on consignments that are not
        on the ledger costs a lookup per consignment, not a batch simulation per event, and
        one on consignments that are costs nothing more. Such an event would fail anyway:
        the contract checks the consignment last, so a signed event that also breaks an
        earlier rule (deadline, key validity, nonce) is answered with ``UnknownConsignment``
        rather than that rule."""
        on_chain: dict[bytes, bool] = memo.setdefault(CONSIGNMENTS_ON_CHAIN, {})
        kept: list[int] = []
        for i in live:
            record = candidates[i].signed.record
            assert isinstance(record, ConsignmentEvent)
            cid = record.consignment_id
            known = on_chain.get(cid)
            if known is None and look_up:
                with _chain_calls():
                    known = on_chain[cid] = self.ledger.consignments.exists(cid)
            if known is None or known or _hex(cid) in pending():
                kept.append(i)
            else:
                errors[i] = UnknownConsignment("UnknownConsignment", {"consignmentId": cid})
        return kept

    def _pending_registrations(self, outbox: Outbox) -> set[str]:
        return registered_ids(outbox)

    def _simulate(self, kind: RecordKind, signed: SignedRecord[Any], *, outbox: Outbox) -> None:
        client, function, args = self.ledger.call_for(signed)
        try:
            client.call(function, *args, block="pending")
        except UnknownConsignment:
            record = signed.record
            if isinstance(record, ConsignmentEvent) and self._registration_pending(
                record.consignment_id, outbox=outbox
            ):
                return
            raise

    @staticmethod
    def _registration_pending(consignment_id: bytes, *, outbox: Outbox) -> bool:
        return _hex(consignment_id) in registered_ids(outbox)

    def _check_pending_drawdowns(self, record: Drawdown, *, outbox: Outbox) -> None:
        certificate = _hex(record.certificate_id)
        consignment = _hex(record.consignment_id)
        pending = 0
        for stored in outbox.pending(RecordKind.DRAWDOWN):
            if str(stored.payload.get("certificateId", "")).lower() != certificate:
                continue
            if str(stored.payload.get("consignmentId", "")).lower() == consignment:
                raise Conflict(
                    "a drawdown of this certificate for this consignment is already on its way",
                    code="AlreadyDrawn",
                    field="consignmentId",
                    rule="contract",
                )
            pending += int(stored.payload.get("quantity", 0))
        if pending == 0:
            return
        remaining = self.ledger.certificates.remaining(record.certificate_id) - pending
        if record.quantity > remaining:
            error = QuantityExceeded(
                "QuantityExceeded",
                {
                    "certificateId": record.certificate_id,
                    "requested": record.quantity,
                    "remaining": max(remaining, 0),
                },
            )
            raise Conflict(
                f"{error} (counting {pending} in drawdowns accepted but not yet on chain)",
                code="QuantityExceeded",
                field="quantity",
                rule="contract",
            )
