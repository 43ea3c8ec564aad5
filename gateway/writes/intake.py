"""Accepting records: custodial (the gateway signs) and non-custodial (the client signed);
the events of a bulk request checked together (:func:`prepare_many`), events signed
together with one EventBatch signature (:func:`accept_event_batch`) and attestations signed
together with one AttestationBatch signature (:func:`accept_attestation_batch`) and drawdowns
signed together with one DrawdownBatch signature (:func:`accept_drawdown_batch`).

Both end in :func:`accept_signed`: a record already in the outbox (same id) is answered
from there (an idempotent repeat, never validated again, so a retry after the record was
mined is still a 202 with its state); anything else is checked by
:class:`~gateway.writes.validation.ChainValidator` and then stored durably by
:meth:`~gateway.writes.outbox.Outbox.accept`. Drawdowns are checked and stored under one lock, so
that two concurrent drawdowns cannot both pass the balance check.

Custodial requests without a ``nonce``/``deadline``/``salt`` get fresh ones, so the same body
sent twice is two records; a retry must carry the same ``Idempotency-Key``, which is answered
with the record first stored under it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from gateway.auth import KIND_BY_CODE, Caller, KeyStore
from gateway.errors import GatewayError, IdempotencyConflict, InvalidRequest, ServiceUnavailable
from gateway.models.record_fields import RecordCreate
from gateway.models.stored import AcceptResult, NewRecord, RecordKind
from gateway.writes.kinds import (
    BATCH_DEADLINE_KEY,
    decode,
    decode_record,
    execution_id,
    kind_of,
    record_id_for,
    recover,
)
from gateway.writes.ledger_services import LedgerServices
from gateway.writes.outbox import Outbox
from gateway.writes.validation import Candidate, signer_nonce
from ledger.errors import InvalidSignature, LedgerError, ValidationError
from ledger.records import (
    Attestation,
    ConsignmentEvent,
    Drawdown,
    Locode,
    Proposal,
    SignedAttestationBatch,
    SignedDrawdownBatch,
    SignedEventBatch,
    SignedRecord,
    active_code_lists,
    sign,
)

__all__ = [
    "accept_attestation_batch",
    "accept_custodial",
    "accept_drawdown_batch",
    "accept_event_batch",
    "accept_execution",
    "accept_message",
    "accept_signed",
    "custodial_body_sha256",
    "decode_attestation_batch",
    "decode_drawdown_batch",
    "decode_event_batch",
    "prepare_many",
    "prepare_signed",
    "sign_custodial",
    "sync_caller",
]

logger = logging.getLogger("gateway.writes")


def sync_caller(chain: LedgerServices, caller: Caller, keys: KeyStore) -> Caller:
    """The caller with kind and country from the chain; refreshes the key table's cache."""
    org = chain.validator.organisation(caller)
    kind = KIND_BY_CODE.get(org.kind)
    if kind is None:
        return caller
    if kind != caller.org_kind or org.country != caller.country:
        keys.refresh_organisation(org_id=caller.org_id, org_kind=kind, country=org.country)
        logger.info(
            "organisation %s refreshed from the chain: %s %s", caller.org_id, kind, org.country
        )
        return Caller(caller.org_id, kind, org.country, caller.scopes, caller.key_id)
    return caller


@contextmanager
def _serialised(chain: LedgerServices, kind: RecordKind, outbox: Outbox) -> Iterator[None]:
    """Drawdowns one at a time from the balance check to the outbox: in this process (the
    validator's lock) and across gateways sharing the database (the outbox's lock)."""
    if kind is not RecordKind.DRAWDOWN:
        yield
        return
    with chain.validator.drawdown_lock, outbox.exclusive("drawdown-balance"):
        yield


def _new_record(
    caller: Caller,
    signed: SignedRecord[Any],
    *,
    rid: str,
    signer: str,
    idempotency_key: str | None,
    body_sha256: str | None = None,
) -> NewRecord:
    return NewRecord(
        org_id=caller.org_id,
        kind=kind_of(signed.record),
        record_id=rid,
        payload=signed.record.json_message(),
        signature="0x" + signed.signature.hex(),
        idempotency_key=idempotency_key,
        signer_nonce=signer_nonce(signed.record, signer),
        body_sha256=body_sha256,
    )


def custodial_body_sha256(body: RecordCreate) -> str:
    """SHA-256 of a custodial request body (its kind and fields, canonical JSON).

    The gateway signs a custodial record with a fresh nonce and deadline, so two signings of
    one body differ; this fingerprint is what an ``Idempotency-Key`` repeat is compared with.
    """
    canonical = json.dumps(
        {"kind": body.KIND.value, "body": body.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def prepare_signed(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    signed: SignedRecord[Any],
    *,
    idempotency_key: str | None,
    memo: dict[str, Any] | None = None,
    signer: str | None = None,
    body_sha256: str | None = None,
) -> AcceptResult | NewRecord:
    """Check a signed record; a record already stored is answered from the outbox at once.

    ``signer``: the address recovered already (else it is recovered here, once). Returns the
    stored answer (an :class:`AcceptResult`) or the checked record to store.
    """
    digest = signed.record.digest(chain.ledger.domain(signed.record))
    if signer is None:
        signer = recover(digest, signed.signature)
    rid = record_id_for(digest, org_id=caller.org_id)
    new = _new_record(
        caller,
        signed,
        rid=rid,
        signer=signer,
        idempotency_key=idempotency_key,
        body_sha256=body_sha256,
    )
    existing = outbox.get(rid)
    if existing is not None and existing.signature == new.signature:
        return _store(outbox, new)  # a repeat: answered from the outbox, not checked again
    checked = chain.validator.check_signed(caller, signed, outbox=outbox, memo=memo, signer=signer)
    assert checked == rid
    return new


def prepare_many(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    items: Sequence[tuple[SignedRecord[Any], str | None]],
    *,
    memo: dict[str, Any] | None = None,
) -> list[AcceptResult | NewRecord | LedgerError]:
    """:func:`prepare_signed` for the records of a bulk request (``(signed, idempotency
    key)`` each), checked together: one outbox lookup for repeats and one simulation
    (:meth:`~gateway.writes.validation.ChainValidator.check_many`). The answer for each item: the
    stored answer of a repeat, the checked record to store, or its error."""
    answers: list[AcceptResult | NewRecord | LedgerError | None] = [None] * len(items)
    news: list[NewRecord | None] = [None] * len(items)
    candidates: list[tuple[int, Candidate]] = []
    for i, (signed, key) in enumerate(items):
        try:
            digest = signed.record.digest(chain.ledger.domain(signed.record))
            signer = recover(digest, signed.signature)
        except LedgerError as exc:
            answers[i] = exc
            continue
        rid = record_id_for(digest, org_id=caller.org_id)
        news[i] = _new_record(caller, signed, rid=rid, signer=signer, idempotency_key=key)
        candidates.append((i, Candidate(signed, signer, rid)))
    stored = outbox.get_many([c.record_id for _, c in candidates])
    to_check: list[tuple[int, Candidate]] = []
    for i, candidate in candidates:
        new = news[i]
        assert new is not None
        existing = stored.get(candidate.record_id)
        if existing is not None and existing.signature == new.signature:
            try:
                answers[i] = _store(outbox, new)  # a repeat, not checked again
            except GatewayError as exc:
                answers[i] = exc
        else:
            to_check.append((i, candidate))
    simulated: set[int] = set()
    errors = chain.validator.check_many(
        caller, [c for _, c in to_check], outbox=outbox, memo=memo, simulated=simulated
    )
    now = time.time()
    for position, ((i, _), error) in enumerate(zip(to_check, errors, strict=True)):
        new = news[i]
        assert new is not None
        if error is None and position in simulated:
            new = dataclasses.replace(new, simulated_at=now)
        answers[i] = new if error is None else error
    out: list[AcceptResult | NewRecord | LedgerError] = []
    for answer in answers:
        assert answer is not None
        out.append(answer)
    return out


def _store(outbox: Outbox, new: NewRecord) -> AcceptResult:
    return outbox.accept(
        org_id=new.org_id,
        kind=new.kind,
        record_id=new.record_id,
        payload=new.payload,
        signature=new.signature,
        idempotency_key=new.idempotency_key,
        signer_nonce=new.signer_nonce,
        signed_batch=new.signed_batch,
        body_sha256=new.body_sha256,
    )


def accept_signed(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    signed: SignedRecord[Any],
    *,
    idempotency_key: str | None,
    memo: dict[str, Any] | None = None,
    signer: str | None = None,
    body_sha256: str | None = None,
) -> AcceptResult:
    """Validate (unless already stored) and store a signed record (``body_sha256``: of the
    custodial request it was signed from)."""
    with _serialised(chain, kind_of(signed.record), outbox):
        prepared = prepare_signed(
            chain,
            outbox,
            caller,
            signed,
            idempotency_key=idempotency_key,
            memo=memo,
            signer=signer,
            body_sha256=body_sha256,
        )
        return prepared if isinstance(prepared, AcceptResult) else _store(outbox, prepared)


def accept_message(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    kind: RecordKind,
    message: dict[str, Any],
    signature: str,
    *,
    idempotency_key: str | None,
    memo: dict[str, Any] | None = None,
) -> AcceptResult:
    """A non-custodial submission: the EIP-712 message as signed, and its signature."""
    signed = decode(kind, message, signature)
    check_listed_codes(signed.record)
    signer = chain.ledger.signer(signed)  # a signature that does not recover is a 422 here
    return accept_signed(
        chain, outbox, caller, signed, idempotency_key=idempotency_key, memo=memo, signer=signer
    )


def _replay(
    outbox: Outbox, caller: Caller, body: RecordCreate, key: str | None
) -> AcceptResult | None:
    """The stored answer for a custodial request whose ``Idempotency-Key`` was used already:
    the same kind and the same body (a record stored from another body, or signed by the
    client, is a conflict)."""
    if key is None:
        return None
    stored = outbox.by_idempotency_key(org_id=caller.org_id, idempotency_key=key)
    if stored is None:
        return None
    if stored.kind is not body.KIND or stored.body_sha256 != custodial_body_sha256(body):
        raise IdempotencyConflict(
            "this Idempotency-Key was already used for a different record",
            field="Idempotency-Key",
            rule="same_content",
        )
    return AcceptResult(stored, created=False)


def sign_custodial(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    body: RecordCreate,
    *,
    idempotency_key: str | None,
    memo: dict[str, Any] | None = None,
) -> AcceptResult | SignedRecord[Any]:
    """Build the record and sign it with the organisation's custodial key, unless the
    idempotency key was used already (then the stored answer). ``memo``: one per request,
    for the chain lookups the request's records share (see ``LedgerServices.context``)."""
    replay = _replay(outbox, caller, body, idempotency_key)
    if replay is not None:
        return replay
    if chain.signing_keys is None:
        raise ServiceUnavailable("this gateway holds no custodial keys", code="no_custodial_keys")
    account = chain.signing_keys.account(caller.org_id)
    record = body.to_record(chain.context(caller, signer=account.address, memo=memo))
    return sign(record, account.key, chain.ledger.domain(record))


def accept_custodial(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    body: RecordCreate,
    *,
    idempotency_key: str | None,
    memo: dict[str, Any] | None = None,
) -> AcceptResult:
    """A custodial submission: build the record, sign it with the organisation's key."""
    signed = sign_custodial(chain, outbox, caller, body, idempotency_key=idempotency_key)
    if isinstance(signed, AcceptResult):
        return signed
    return accept_signed(
        chain,
        outbox,
        caller,
        signed,
        idempotency_key=idempotency_key,
        memo=memo,
        body_sha256=custodial_body_sha256(body),
    )


def accept_execution(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    message: dict[str, Any],
    *,
    idempotency_key: str | None,
) -> AcceptResult:
    """Execute a governance proposal (unsigned; any customs administration may ask)."""
    proposal = decode_record(RecordKind.EXECUTION, message)
    assert isinstance(proposal, Proposal)
    rid = execution_id(proposal, caller.org_id)
    if outbox.get(rid) is None:
        rid = chain.validator.check_execution(caller, proposal)
    return outbox.accept(
        org_id=caller.org_id,
        kind=RecordKind.EXECUTION,
        record_id=rid,
        payload=proposal.json_message(),
        signature="0x",
        idempotency_key=idempotency_key,
    )


def _decode_items(
    messages: Sequence[Mapping[str, Any]], record_type: Any, field: str
) -> tuple[Any, ...]:
    """The records of a signed batch's messages; one that does not decode is named
    ``<field>[i].<its field>`` (422)."""
    items: list[Any] = []
    for index, message in enumerate(messages):
        try:
            items.append(record_type.from_message(message))
        except ValidationError as exc:
            raise ValidationError(f"{field}[{index}].{exc.field}", exc.rule, exc.value) from None
    return tuple(items)


def check_listed_codes(record: Any, *, prefix: str = "") -> None:
    """422 if a signed record names a place that is not in the UN/LOCODE list in force
    (the field is the message's ``location``, behind ``prefix``). Custodial requests are
    checked by their models (``ListedLocode``, ``ListedHsCode``); a certificate signed by its
    client carries only the digest of its HS codes, so there is nothing to look up."""
    if isinstance(record, ConsignmentEvent):
        field = f"{prefix}location"
        try:
            code = Locode.from_bytes5(record.location)
        except ValidationError as exc:
            raise type(exc)(field, exc.rule, exc.value) from None
        active_code_lists().locode(code, field=field)


def _signature_bytes(signature: str) -> bytes:
    try:
        return bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        raise InvalidSignature("signature", "must be 0x-hex", signature) from None


def _refuse_repeats(keys: Sequence[object], *, field: str, same: str, rule: str) -> None:
    """422 for the first item of a batch whose key an earlier item has: ``<field>[i] <same>
    <field>[j]``."""
    seen: dict[object, int] = {}
    for index, key in enumerate(keys):
        if key in seen:
            raise InvalidRequest(
                f"{field}[{index}] {same} {field}[{seen[key]}]",
                field=f"{field}[{index}]",
                rule=rule,
            )
        seen[key] = index


def _store_signed_batch(
    outbox: Outbox,
    caller: Caller,
    *,
    kind: RecordKind,
    field: str,
    batch_id: str,
    rids: Sequence[str],
    payloads: Sequence[dict[str, Any]],
    signature: bytes,
    idempotency_key: str | None,
    check: Callable[[], None],
    signer_nonce: str | None = None,
) -> list[AcceptResult]:
    """Store the records of one signed batch (one per item, ``signed_batch`` = ``batch_id``),
    all or none. A batch sent again is answered from the outbox, not checked again; an item
    stored as another record is a 409; otherwise ``check()`` (the validator's, raising for a
    batch the contract would refuse) runs before the store."""
    stored = outbox.get_many(rids)
    if len(stored) == len(rids) and all(stored[rid].signed_batch == batch_id for rid in rids):
        return [AcceptResult(stored[r], created=False) for r in rids]
    if stored:
        index = next(i for i, rid in enumerate(rids) if rid in stored)
        raise IdempotencyConflict(
            f"{field}[{index}] was already submitted as another record",
            field=f"{field}[{index}]",
            rule="same_content",
        )
    check()
    simulated_at = time.time()
    text = "0x" + signature.hex()
    news = [
        NewRecord(
            org_id=caller.org_id,
            kind=kind,
            record_id=rid,
            payload=payload,
            signature=text,
            idempotency_key=None if idempotency_key is None else f"{idempotency_key}:{i}",
            signer_nonce=signer_nonce,
            signed_batch=batch_id,
            simulated_at=simulated_at,
        )
        for i, (rid, payload) in enumerate(zip(rids, payloads, strict=True))
    ]
    return outbox.accept_batch(news)


def decode_event_batch(messages: Sequence[Mapping[str, Any]], signature: str) -> SignedEventBatch:
    """Events signed together, from their messages and the batch signature (422 if
    malformed: an event that does not decode, or one without the batch's nonce and
    deadline, is named ``events[i]...``)."""
    events = _decode_items(messages, ConsignmentEvent, "events")
    for index, event in enumerate(events):
        check_listed_codes(event, prefix=f"events[{index}].")
    # checks the signature and the batch terms
    return SignedEventBatch(events, _signature_bytes(signature))


def accept_event_batch(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    messages: Sequence[Mapping[str, Any]],
    signature: str,
    *,
    idempotency_key: str | None,
) -> tuple[SignedEventBatch, str, str, list[AcceptResult]]:
    """A batch of events signed together: check it as a whole, store one record per event.

    Each event is an outbox record of kind ``event`` with its own record id (the id it would
    have if signed alone: its digest carries the batch's nonce and deadline), the batch
    signature, and ``signed_batch`` = the batch id; the submitter sends them in one
    ``postEventBatch`` transaction. A batch sent again (same events, same signature) is
    answered from the outbox. Returns the batch, its signer, its id and the records.
    """
    batch = decode_event_batch(messages, signature)
    domain = chain.ledger.consignments.domain
    digest = batch.record.digest(domain)
    signer = recover(digest, batch.signature)
    batch_id = record_id_for(digest, org_id=caller.org_id)
    digests = batch.event_digests(domain)  # from the struct hashes of eventsHash
    _refuse_repeats(digests, field="events", same="is the same event as", rule="unique_events")
    records = _store_signed_batch(
        outbox,
        caller,
        kind=RecordKind.EVENT,
        field="events",
        batch_id=batch_id,
        rids=[record_id_for(d, org_id=caller.org_id) for d in digests],
        payloads=[event.json_message() for event in batch.events],
        signature=batch.signature,
        idempotency_key=idempotency_key,
        check=lambda: chain.validator.check_event_batch(
            caller, batch, signer=signer, batch_id=batch_id, outbox=outbox
        ),
        signer_nonce=signer_nonce(batch.events[0], signer),
    )
    return batch, signer, batch_id, records


def decode_attestation_batch(
    messages: Sequence[Mapping[str, Any]], deadline: int, signature: str
) -> SignedAttestationBatch:
    """Attestations signed together, from their messages, the batch's deadline and the batch
    signature (422 if malformed: an attestation that does not decode is named
    ``attestations[i]...``)."""
    attestations = _decode_items(messages, Attestation, "attestations")
    # checks the signature
    return SignedAttestationBatch(attestations, deadline, _signature_bytes(signature))


def accept_attestation_batch(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    messages: Sequence[Mapping[str, Any]],
    deadline: int,
    signature: str,
    *,
    idempotency_key: str | None,
) -> tuple[SignedAttestationBatch, str, str, list[AcceptResult]]:
    """A batch of attestations signed together: check it as a whole, store one record per
    attestation.

    Each attestation is an outbox record of kind ``attestation`` with its own record id (the
    id it would have if signed alone), the batch signature, the batch's deadline in its
    payload (:data:`~gateway.writes.kinds.BATCH_DEADLINE_KEY`) and ``signed_batch`` = the batch id;
    the submitter sends them in one ``attestSignedBatch`` transaction. A batch sent again
    (same attestations, deadline and signature) is answered from the outbox. Returns the
    batch, its signer, its id and the records.
    """
    batch = decode_attestation_batch(messages, deadline, signature)
    domain = chain.ledger.attestations.domain
    digest = batch.record.digest(domain)
    signer = recover(digest, batch.signature)
    batch_id = record_id_for(digest, org_id=caller.org_id)
    _refuse_repeats(
        batch.struct_hashes,
        field="attestations",
        same="is the same attestation as",
        rule="unique_attestations",
    )
    records = _store_signed_batch(
        outbox,
        caller,
        kind=RecordKind.ATTESTATION,
        field="attestations",
        batch_id=batch_id,
        rids=[record_id_for(a.digest(domain), org_id=caller.org_id) for a in batch.attestations],
        payloads=[
            {**a.json_message(), BATCH_DEADLINE_KEY: batch.deadline} for a in batch.attestations
        ],
        signature=batch.signature,
        idempotency_key=idempotency_key,
        check=lambda: chain.validator.check_attestation_batch(
            caller, batch, signer=signer, outbox=outbox
        ),
    )
    return batch, signer, batch_id, records


def decode_drawdown_batch(
    messages: Sequence[Mapping[str, Any]], deadline: int, signature: str
) -> SignedDrawdownBatch:
    """Drawdowns signed together, from their messages, the batch's deadline and the batch
    signature (422 if malformed: a drawdown that does not decode is named
    ``drawdowns[i]...``)."""
    drawdowns = _decode_items(messages, Drawdown, "drawdowns")
    # checks the signature
    return SignedDrawdownBatch(drawdowns, deadline, _signature_bytes(signature))


def accept_drawdown_batch(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    messages: Sequence[Mapping[str, Any]],
    deadline: int,
    signature: str,
    *,
    idempotency_key: str | None,
) -> tuple[SignedDrawdownBatch, str, str, list[AcceptResult]]:
    """A batch of drawdowns signed together: check it as a whole, store one record per
    drawdown.

    Each drawdown is an outbox record of kind ``drawdown`` with its own record id (the id it
    would have if signed alone), the batch signature, the batch's deadline in its payload
    (:data:`~gateway.writes.kinds.BATCH_DEADLINE_KEY`) and ``signed_batch`` = the batch id; the
    submitter sends them in one ``drawDownSignedBatch`` transaction. As for a single drawdown,
    the balance check and the store run under the validator's drawdown lock, so that two
    requests cannot both spend the same balance. A batch sent again (same drawdowns, deadline
    and signature) is answered from the outbox. Returns the batch, its signer, its id and the
    records.
    """
    batch = decode_drawdown_batch(messages, deadline, signature)
    domain = chain.ledger.certificates.domain
    digest = batch.record.digest(domain)
    signer = recover(digest, batch.signature)
    batch_id = record_id_for(digest, org_id=caller.org_id)
    _refuse_repeats(
        [(d.certificate_id, d.consignment_id) for d in batch.drawdowns],
        field="drawdowns",
        same="draws the same certificate for the same consignment as",
        rule="unique_drawdowns",
    )
    with _serialised(chain, RecordKind.DRAWDOWN, outbox):
        records = _store_signed_batch(
            outbox,
            caller,
            kind=RecordKind.DRAWDOWN,
            field="drawdowns",
            batch_id=batch_id,
            rids=[record_id_for(d.digest(domain), org_id=caller.org_id) for d in batch.drawdowns],
            payloads=[
                {**d.json_message(), BATCH_DEADLINE_KEY: batch.deadline} for d in batch.drawdowns
            ],
            signature=batch.signature,
            idempotency_key=idempotency_key,
            check=lambda: chain.validator.check_drawdown_batch(
                caller, batch, signer=signer, outbox=outbox
            ),
        )
    return batch, signer, batch_id, records
