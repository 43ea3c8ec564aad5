"""Lodging goods declarations and recording inspection results: the store and the outbox
together.

A declaration's values go into the administration's encrypted store
(:mod:`gateway.writes.declaration_store`) and its record (digest and keys) into the outbox, to be
relayed to ``Declarations.lodge``. The store row is written first, keyed by the declaration id
(declarant and number), which reserves the number; if the record is then refused (role, key,
chain check), the row is removed and nothing is kept. A custodial repeat under the same
``Idempotency-Key`` answers with the stored record.

An inspection result is an attestation by the administration (schema
:data:`~ledger.records.DECLARATION_INSPECTION_SCHEMA`) about the declaration's consignment (or,
without one, about the declarant), whose data digest commits to the declaration id, the result
and the kind found; the result is also kept in the store as the next training's label.
"""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from gateway.auth import Caller, OrgKind
from gateway.errors import IdempotencyConflict, InvalidRequest, NotFound, PermissionDenied
from gateway.models.declaration_requests import DeclarationCreate, InspectionCreate
from gateway.models.stored import AcceptResult, RecordKind
from gateway.models.trade_requests import AttestationCreate
from gateway.writes.declaration_store import DeclarationStore, Inspection
from gateway.writes.intake import accept_custodial, accept_signed
from gateway.writes.kinds import decode, record_id_for
from gateway.writes.ledger_services import LedgerServices
from gateway.writes.outbox import Outbox
from ledger.errors import ValidationError
from ledger.records import (
    DECLARATION_INSPECTION_SCHEMA,
    INSPECTION_RESULT_CODES,
    Declaration,
    DeclarationValues,
    declaration_id,
)

__all__ = ["lodge_custodial", "lodge_signed", "record_inspection", "stage"]


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _require_declarant(caller: Caller) -> None:
    if caller.org_kind not in (OrgKind.TRADER, OrgKind.CARRIER, OrgKind.POSTAL_OPERATOR):
        raise PermissionDenied(
            "only traders, carriers and postal operators lodge goods declarations",
            code="WrongKind",
            rule="role",
        )


def _amends(store: DeclarationStore, caller: Caller, amends: str | None) -> None:
    """An amendment names a declaration of the caller's (else 404, as for one it cannot see)."""
    if amends is None:
        return
    earlier = store.get(amends, reader=caller.org_id)
    if earlier.declarant != caller.org_id:
        raise NotFound("no such declaration of yours to amend", code="declaration_not_found")


def _store_then_accept(
    store: DeclarationStore,
    *,
    values: DeclarationValues,
    salt: bytes,
    lodged_at: int,
    amends: str | None,
    accept: Any,
) -> AcceptResult:
    did = _hex(declaration_id(bytes.fromhex(values.declarant[2:]), values.declaration_number))
    store.put(
        declaration_id=did,
        record_id="",
        values=values,
        salt=salt,
        lodged_at=lodged_at,
        amends=amends,
    )
    try:
        result: AcceptResult = accept()
    except BaseException:
        store.delete(did)
        raise
    store.set_record_id(did, result.record.record_id)
    return result


def lodge_custodial(
    chain: LedgerServices,
    outbox: Outbox,
    store: DeclarationStore,
    caller: Caller,
    body: DeclarationCreate,
    *,
    idempotency_key: str | None,
) -> AcceptResult:
    """Lodge ``body`` for the caller's organisation, signed with its custodial key."""
    _require_declarant(caller)
    declarant = bytes.fromhex(caller.org_id[2:])
    values = body.values(declarant)
    if idempotency_key is not None:
        stored = outbox.by_idempotency_key(org_id=caller.org_id, idempotency_key=idempotency_key)
        if stored is not None:  # a repeat: the stored answer (or 409 for another body)
            return accept_custodial(chain, outbox, caller, body, idempotency_key=idempotency_key)
    _amends(store, caller, body.amends)
    body.lodge_at(chain.now())
    assert body.lodged_at is not None
    return _store_then_accept(
        store,
        values=values,
        salt=body.salt,
        lodged_at=body.lodged_at,
        amends=body.amends,
        accept=lambda: accept_custodial(
            chain, outbox, caller, body, idempotency_key=idempotency_key
        ),
    )


def lodge_signed(
    chain: LedgerServices,
    outbox: Outbox,
    store: DeclarationStore,
    caller: Caller,
    *,
    message: dict[str, Any],
    signature: str,
    values_data: dict[str, Any] | None,
    salt_hex: str | None,
    idempotency_key: str | None,
) -> AcceptResult:
    """Lodge a declaration the declarant signed itself.

    The signer is checked first (a key of the caller's organisation), then the values: given
    with their salt, or staged by :func:`stage` under the message's ``valuesDigest``. The
    message must be the record of those values (every field, the digest included)."""
    signed = decode(RecordKind.DECLARATION, message, signature)
    record = signed.record
    assert isinstance(record, Declaration)
    signer = chain.ledger.signer(signed)  # 422 when the signature does not recover
    chain.validator.check_signer(caller, signer)
    _require_declarant(caller)
    if values_data is not None or salt_hex is not None:
        if values_data is None or salt_hex is None:
            missing = "values" if values_data is None else "salt"
            raise InvalidRequest(
                "give the values with the salt of their digest", field=missing, rule="required"
            )
        data = dict(values_data)
        data.setdefault("declarant", caller.org_id)
        if str(data["declarant"]).lower() != caller.org_id:
            raise PermissionDenied(
                "the declaration names another declarant than the API key's organisation",
                code="wrong_organisation",
                field="values.declarant",
            )
        try:
            values = DeclarationValues.parse(data)
        except ValidationError as exc:
            raise type(exc)(f"values.{exc.field}", exc.rule, exc.value) from None
        salt = bytes.fromhex(salt_hex[2:])
    else:
        staged = store.draft(_hex(record.values_digest), declarant=caller.org_id)
        if staged is None:
            raise InvalidRequest(
                "no values for this declaration: give `values` and `salt`, or build the "
                "message with POST /typed-data/declaration",
                field="values",
                rule="required",
            )
        values, salt = staged
    expected = values.record(salt=salt, lodged_at=record.lodged_at, amends=record.amends)
    for name, onchain, _ in Declaration.FIELDS:
        if getattr(expected, name) != getattr(record, name):
            raise InvalidRequest(
                f"the signed message's {onchain} is not that of the values given",
                field=f"message.{onchain}",
                rule="matches_values",
            )
    amends = _hex(record.amends) if any(record.amends) else None
    rid = record_id_for(record.digest(chain.ledger.domain(record)), org_id=caller.org_id)
    if outbox.get(rid) is not None:  # the same record again: the stored answer
        return accept_signed(
            chain, outbox, caller, signed, idempotency_key=idempotency_key, signer=signer
        )
    _amends(store, caller, amends)
    result = _store_then_accept(
        store,
        values=values,
        salt=salt,
        lodged_at=record.lodged_at,
        amends=amends,
        accept=lambda: accept_signed(
            chain, outbox, caller, signed, idempotency_key=idempotency_key, signer=signer
        ),
    )
    store.delete_draft(_hex(record.values_digest))
    return result


def stage(
    chain: LedgerServices, store: DeclarationStore, caller: Caller, body: DeclarationCreate
) -> Declaration:
    """The record to sign for ``body``, its values staged (encrypted) until it is lodged."""
    record = body.to_record(chain.context(caller))
    values = body.values(bytes.fromhex(caller.org_id[2:]))
    store.put_draft(values=values, salt=body.salt)
    return record


def record_inspection(
    chain: LedgerServices,
    outbox: Outbox,
    store: DeclarationStore,
    caller: Caller,
    body: InspectionCreate,
    *,
    idempotency_key: str | None,
) -> tuple[AcceptResult, Inspection]:
    """The administration records an inspection result as an attestation and a label."""
    if caller.org_kind is not OrgKind.CUSTOMS:
        raise PermissionDenied(
            "only customs administrations record inspection results",
            code="WrongKind",
            rule="role",
        )
    stored = store.get(body.declaration_id, reader=caller.org_id)
    if stored.administration != caller.org_id:
        raise NotFound("no declaration lodged with you", code="declaration_not_found")
    code = INSPECTION_RESULT_CODES[body.result]
    data_digest = keccak(
        encode(
            ["bytes32", "uint8", "bytes32"],
            [bytes.fromhex(stored.declaration_id[2:]), code, keccak(text=body.kind)],
        )
    )
    consignment = stored.values.consignment_ref
    attestation = AttestationCreate.model_validate(
        {
            "schema": DECLARATION_INSPECTION_SCHEMA,
            "subject_type": "consignment" if consignment else "organisation",
            **({"subject_ref": consignment} if consignment else {"subject_id": stored.declarant}),
            "data_digest": _hex(data_digest),
        }
    )
    if idempotency_key is not None:
        replay = outbox.by_idempotency_key(org_id=caller.org_id, idempotency_key=idempotency_key)
        recorded = store.inspections(caller.org_id).get(stored.declaration_id)
        if replay is not None and recorded is not None and recorded.record_id == replay.record_id:
            if (recorded.result, recorded.kind) != (body.result, body.kind):
                raise IdempotencyConflict(
                    "this Idempotency-Key was already used for a different result",
                    field="Idempotency-Key",
                    rule="same_content",
                )
            return AcceptResult(replay, created=False), recorded
    inspection = Inspection(
        declaration_id=stored.declaration_id,
        administration=caller.org_id,
        result=body.result,
        kind=body.kind,
        record_id="",
        inspected_at=chain.now(),
    )
    store.record_inspection(inspection)
    try:
        result = accept_custodial(
            chain, outbox, caller, attestation, idempotency_key=idempotency_key
        )
    except BaseException:
        store.delete_inspection(stored.declaration_id)
        raise
    store.set_inspection_record_id(stored.declaration_id, result.record.record_id)
    return result, store.inspections(caller.org_id)[stored.declaration_id]
