"""Accepting records: custodial (the gateway signs) and non-custodial (the client signed).

Both end in :func:`accept_signed`: a record already in the outbox (same id) is answered
from there (an idempotent repeat, never validated again, so a retry after the record was
mined is still a 202 with its state); anything else is checked by
:class:`~gateway.validation.ChainValidator` and then stored durably by
:meth:`~gateway.outbox.Outbox.accept`. Drawdowns are checked and stored under one lock, so
that two concurrent drawdowns cannot both pass the balance check.

Custodial requests without a ``nonce``/``deadline``/``salt`` get fresh ones, so the same body
sent twice is two records; a retry must carry the same ``Idempotency-Key``, which is answered
with the record first stored under it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from gateway.auth import Caller, KeyStore
from gateway.chain import LedgerServices
from gateway.errors import IdempotencyConflict, ServiceUnavailable
from gateway.kinds import decode, decode_record, execution_id, kind_of, record_id
from gateway.outbox import AcceptResult, NewRecord, Outbox, RecordKind
from gateway.record_models import RecordCreate
from gateway.validation import KIND_BY_CODE
from ledger.records import Proposal, SignedRecord, sign

__all__ = [
    "accept_custodial",
    "accept_execution",
    "accept_message",
    "accept_signed",
    "prepare_signed",
    "require_ledger",
    "sign_custodial",
    "sync_caller",
]

logger = logging.getLogger("gateway.writes")


def require_ledger(chain: LedgerServices | None) -> LedgerServices:
    if chain is None:
        raise ServiceUnavailable("this gateway is not connected to a ledger", code="no_ledger")
    return chain


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
def _serialised(chain: LedgerServices, kind: RecordKind) -> Iterator[None]:
    lock = chain.validator.drawdown_lock if kind is RecordKind.DRAWDOWN else nullcontext()
    with lock:
        yield


def prepare_signed(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    signed: SignedRecord[Any],
    *,
    idempotency_key: str | None,
    memo: dict[str, Any] | None = None,
) -> AcceptResult | NewRecord:
    """Check a signed record; a record already stored is answered from the outbox at once.

    Returns the stored answer (an :class:`AcceptResult`) or the checked record to store.
    """
    kind = kind_of(signed.record)
    rid = record_id(chain.ledger, signed.record, org_id=caller.org_id)
    new = NewRecord(
        org_id=caller.org_id,
        kind=kind,
        record_id=rid,
        payload=signed.record.json_message(),
        signature="0x" + signed.signature.hex(),
        idempotency_key=idempotency_key,
    )
    existing = outbox.get(rid)
    if existing is not None and existing.signature == new.signature:
        return _store(outbox, new)  # a repeat: answered from the outbox, not checked again
    checked = chain.validator.check_signed(caller, signed, outbox=outbox, memo=memo)
    assert checked == rid
    return new


def _store(outbox: Outbox, new: NewRecord) -> AcceptResult:
    return outbox.accept(
        org_id=new.org_id,
        kind=new.kind,
        record_id=new.record_id,
        payload=new.payload,
        signature=new.signature,
        idempotency_key=new.idempotency_key,
    )


def accept_signed(
    chain: LedgerServices,
    outbox: Outbox,
    caller: Caller,
    signed: SignedRecord[Any],
    *,
    idempotency_key: str | None,
    memo: dict[str, Any] | None = None,
) -> AcceptResult:
    """Validate (unless already stored) and store a signed record."""
    with _serialised(chain, kind_of(signed.record)):
        prepared = prepare_signed(
            chain, outbox, caller, signed, idempotency_key=idempotency_key, memo=memo
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
    chain.ledger.signer(signed)  # a signature that does not recover is a 422 here
    return accept_signed(chain, outbox, caller, signed, idempotency_key=idempotency_key, memo=memo)


def _replay(
    outbox: Outbox, caller: Caller, kind: RecordKind, key: str | None
) -> AcceptResult | None:
    if key is None:
        return None
    stored = outbox.by_idempotency_key(org_id=caller.org_id, idempotency_key=key)
    if stored is None:
        return None
    if stored.kind is not kind:
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
) -> AcceptResult | SignedRecord[Any]:
    """Build the record and sign it with the organisation's custodial key, unless the
    idempotency key was used already (then the stored answer)."""
    replay = _replay(outbox, caller, body.KIND, idempotency_key)
    if replay is not None:
        return replay
    if chain.signing_keys is None:
        raise ServiceUnavailable("this gateway holds no custodial keys", code="no_custodial_keys")
    account = chain.signing_keys.account(caller.org_id)
    record = body.to_record(chain.context(caller, signer=account.address))
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
    return accept_signed(chain, outbox, caller, signed, idempotency_key=idempotency_key, memo=memo)


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
