"""What the outbox holds that the chain cannot see yet: records accepted but not mined.

Pre-validation (:mod:`gateway.writes.validation`) runs a record as ``eth_call`` on the pending
block, which knows nothing of the records still in the outbox. Some kinds are recorded once per
**natural id**, an id that leaves the signed ``deadline`` out:

======================== ========================================== ===========================
kind                     natural id                                 a second one is refused
======================== ========================================== ===========================
consignment registration consignment id (registrant, reference)     ``ConsignmentExists``
certificate revocation   certificate id (issuer, number)            ``CertificateIsRevoked``
key revocation           the key                                    ``KeyAlreadyRevoked``
schema registration      schema id (its definition)                 ``SchemaExists``
attestation              uid (attester, content)                    ``AttestationExists``
attestation revocation   the attestation's uid                      ``AttestationAlreadyRevoked``
MRA proposal             MRA id (proposer, content)                 ``MraExists``
MRA acceptance           the MRA id                                 ``MraNotPending``
MRA termination          the MRA id                                 ``MraAlreadyTerminated``
======================== ========================================== ===========================

(A drawdown's (certificate, consignment) pair is checked with the certificate's balance, in
:mod:`~gateway.writes.validation`.)

The same content signed again with a new deadline (a custodial request sent again without its
``Idempotency-Key``) is another record, with another record id, for the same natural id: the
chain would refuse the later one, so :func:`refuse_pending_duplicate` answers it at once (409,
the contract's error) instead of accepting a record bound to fail.
"""

from __future__ import annotations

from gateway.errors import Conflict
from gateway.models.stored import RecordKind
from gateway.writes.kinds import decode_record
from gateway.writes.outbox import Outbox
from ledger.errors import LedgerError
from ledger.records import (
    Attestation,
    AttestationRevocation,
    CertificateRevocation,
    ConsignmentRegistration,
    KeyRevocation,
    MraAcceptance,
    MraProposal,
    MraTermination,
    Record,
    SchemaRegistration,
    certificate_id,
    consignment_id,
)

__all__ = ["natural_id", "pending_ids", "refuse_pending_duplicate", "registered_ids"]

# The contract's error for a second record with a natural id taken, and the message field it
# is about (None: the record as a whole).
_ONCE: dict[RecordKind, tuple[str, str | None]] = {
    RecordKind.CONSIGNMENT: ("ConsignmentExists", "referenceHash"),
    RecordKind.CERTIFICATE_REVOKE: ("CertificateIsRevoked", "certificateNumber"),
    RecordKind.KEY_REVOCATION: ("KeyAlreadyRevoked", "key"),
    RecordKind.SCHEMA: ("SchemaExists", "definition"),
    RecordKind.ATTESTATION: ("AttestationExists", None),
    RecordKind.ATTESTATION_REVOKE: ("AttestationAlreadyRevoked", "uid"),
    RecordKind.MRA_PROPOSAL: ("MraExists", None),
    RecordKind.MRA_ACCEPTANCE: ("MraNotPending", "mraId"),
    RecordKind.MRA_TERMINATION: ("MraAlreadyTerminated", "mraId"),
}


def natural_id(record: Record, org_id: bytes) -> bytes | None:
    """The id under which the contract records ``record`` signed for organisation ``org_id``
    once (see the table above), or None for other kinds."""
    if isinstance(record, ConsignmentRegistration):
        return consignment_id(record.reference_hash, registrant=org_id)
    if isinstance(record, CertificateRevocation):
        return certificate_id(org_id, record.certificate_number)
    if isinstance(record, KeyRevocation):
        return bytes.fromhex(record.key.removeprefix("0x").lower())
    if isinstance(record, SchemaRegistration):
        return record.schema_id
    if isinstance(record, Attestation):
        return record.uid(org_id)
    if isinstance(record, AttestationRevocation):
        return record.uid
    if isinstance(record, MraProposal):
        return record.mra_id(org_id)
    if isinstance(record, MraAcceptance | MraTermination):
        return record.mra_id
    return None


def pending_ids(kind: RecordKind, outbox: Outbox) -> dict[bytes, str]:
    """The natural ids of the records of ``kind`` on their way to the chain, each with the
    record id that takes it (read once, for checking many records: a signed batch)."""
    ids: dict[bytes, str] = {}
    for stored in outbox.pending(kind):
        try:
            record = decode_record(kind, stored.payload)
            nid = natural_id(record, bytes.fromhex(stored.org_id.removeprefix("0x")))
        except (ValueError, TypeError, KeyError, LedgerError):  # not a well-formed record
            continue
        if nid is not None:
            ids.setdefault(nid, stored.record_id)
    return ids


def refuse_pending_duplicate(
    kind: RecordKind,
    record: Record,
    *,
    org_id: bytes,
    record_id: str,
    outbox: Outbox,
    pending: dict[bytes, str] | None = None,
    field: str | None = None,
) -> None:
    """Raise :class:`~gateway.errors.Conflict` (409, the contract's error) when another record
    on its way to the chain takes ``record``'s natural id; the same record again (the same
    ``record_id``) is not a duplicate (its stored answer is given elsewhere). ``pending`` is
    :func:`pending_ids` read already; ``field`` overrides the field the error names (e.g.
    ``attestations[3]`` in a batch)."""
    once = _ONCE.get(kind)
    wanted = natural_id(record, org_id)
    if once is None or wanted is None:
        return
    taken = (pending if pending is not None else pending_ids(kind, outbox)).get(wanted)
    if taken is not None and taken != record_id:
        code, default_field = once
        raise Conflict(
            f"{code}: a record with the same id (0x{wanted.hex()}) is already on its way to "
            f"the chain as record {taken}",
            code=code,
            field=field or default_field,
            rule="contract",
        )


def registered_ids(outbox: Outbox) -> set[str]:
    """The consignment ids (0x hex) of the registrations on their way to the chain."""
    return {"0x" + nid.hex() for nid in pending_ids(RecordKind.CONSIGNMENT, outbox)}
