"""Records signed together: one signature over many events, attestations or drawdowns.

Consignment events can be signed together: one :class:`EventBatch` signature covers a list of
:class:`~ledger.records.kinds.ConsignmentEvent` records that all carry the batch's nonce and
deadline (:func:`sign_event_batch` gives a :class:`SignedEventBatch`). Each event's own digest,
and so the hash chain and the index, are the same as if it had been signed alone.

Attestations likewise: one :class:`AttestationBatch` signature (a deadline, no nonce: each
attestation's uid is its replay protection) covers a list of
:class:`~ledger.records.kinds.Attestation` records (:func:`sign_attestation_batch` gives a
:class:`SignedAttestationBatch`); each gets the uid and the ``Attested`` log it would get if
signed alone.

Drawdowns likewise: one :class:`DrawdownBatch` signature (a deadline, no nonce: a drawdown is
recorded once per (certificate, consignment)) covers a list of
:class:`~ledger.records.kinds.Drawdown` records (:func:`sign_drawdown_batch` gives a
:class:`SignedDrawdownBatch`); each is stored and gets the ``QuantityDrawn`` log it would get if
signed alone.

The batch records are records like the single kinds (:class:`~ledger.records.record.Record`),
so :data:`RECORD_TYPES`, every kind the contracts accept, is declared here, where both are seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak

from ledger.errors import ValidationError
from ledger.records.declarations import Declaration
from ledger.records.kinds import (
    AeoAction,
    Approval,
    Attestation,
    AttestationRevocation,
    CertificateIssue,
    CertificateRevocation,
    ConsignmentEvent,
    ConsignmentRegistration,
    Drawdown,
    KeyAddition,
    KeyRevocation,
    MraAcceptance,
    MraProposal,
    MraTermination,
    Proposal,
    SchemaRegistration,
)
from ledger.records.record import Domain, Record, typed_digest
from ledger.records.typed_data import check_signature, recover_digest, to_compact_signature

__all__ = [
    "ATTESTATION_BATCH_MAX",
    "DRAWDOWN_BATCH_MAX",
    "RECORD_TYPES",
    "AttestationBatch",
    "DrawdownBatch",
    "EventBatch",
    "SignedAttestationBatch",
    "SignedDrawdownBatch",
    "SignedEventBatch",
    "attestations_hash",
    "drawdowns_hash",
    "events_hash",
    "sign_attestation_batch",
    "sign_drawdown_batch",
    "sign_event_batch",
    "with_batch_terms",
]


def _check_batch_items(
    items: Sequence[Any], kind: type, *, field: str, most: int | None = None
) -> None:
    """What every signed batch asks of its items (``field``, e.g. ``"drawdowns"``): at least
    one, at most ``most``, each a ``kind``; else :class:`~ledger.errors.ValidationError`."""
    if not items:
        raise ValidationError(field, f"a batch holds at least one {field[:-1]}")
    if most is not None and len(items) > most:
        raise ValidationError(
            field,
            f"a batch holds at most {most} {field} (one transaction under the EIP-7825 gas cap)",
            len(items),
        )
    article = "an" if kind.__name__[0] in "AEIOU" else "a"
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            raise ValidationError(f"{field}[{i}]", f"must be {article} {kind.__name__}", item)


def _items_hash(items: Iterable[Any], struct_hashes: Sequence[bytes] | None) -> bytes:
    """keccak256 of the items' struct hashes concatenated in order (given, or computed)."""
    hashes = (item.struct_hash() for item in items) if struct_hashes is None else struct_hashes
    return keccak(b"".join(hashes))


@dataclass(frozen=True, slots=True, kw_only=True)
class EventBatch(Record):
    """One signature over many consignment events (``Consignments.postEventBatch``).

    ``events_hash`` is keccak256 of the events' ConsignmentEvent struct hashes concatenated in
    order; every event carries the batch's ``nonce`` and ``deadline`` in its own fields. The
    nonce comes from the signer's unordered bitmap, as a single event's does, and is used once
    for the whole batch. Build it with :meth:`of`.
    """

    CONTRACT: ClassVar[str] = "Consignments"
    PRIMARY_TYPE: ClassVar[str] = "EventBatch"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("events_hash", "eventsHash", "bytes32"),
        ("nonce", "nonce", "uint32"),
        ("deadline", "deadline", "uint40"),
    )
    events_hash: bytes
    nonce: int
    deadline: int

    @classmethod
    def of(
        cls,
        events: Sequence[ConsignmentEvent],
        *,
        nonce: int | None = None,
        deadline: int | None = None,
        struct_hashes: Sequence[bytes] | None = None,
    ) -> EventBatch:
        """The batch record of ``events``, which must all carry its nonce and deadline.

        Without ``nonce`` / ``deadline`` the first event's are the batch's;
        ``struct_hashes``: the events' struct hashes, computed already. Raises
        :class:`~ledger.errors.ValidationError` for an empty list or an event whose nonce or
        deadline differs (:func:`with_batch_terms` sets them).
        """
        _check_batch_items(events, ConsignmentEvent, field="events")
        batch_nonce = events[0].nonce if nonce is None else nonce
        batch_deadline = events[0].deadline if deadline is None else deadline
        for i, event in enumerate(events):
            if event.nonce != batch_nonce or event.deadline != batch_deadline:
                raise ValidationError(
                    f"events[{i}]",
                    f"must carry the batch's nonce {batch_nonce} and deadline {batch_deadline}",
                    (event.nonce, event.deadline),
                )
        hashed = _items_hash(events, struct_hashes)
        return cls(events_hash=hashed, nonce=batch_nonce, deadline=batch_deadline)


def events_hash(events: Iterable[ConsignmentEvent]) -> bytes:
    """keccak256 of the events' struct hashes, concatenated in order (``eventsHash``)."""
    return _items_hash(events, None)


def with_batch_terms(
    events: Iterable[ConsignmentEvent], *, nonce: int, deadline: int
) -> tuple[ConsignmentEvent, ...]:
    """The events with the batch's ``nonce`` and ``deadline`` set in each."""
    return tuple(replace(event, nonce=nonce, deadline=deadline) for event in events)


DRAWDOWN_BATCH_MAX = 300
"""Most drawdowns in one signed batch. The batch is one transaction that the relayer cannot
split (one signature covers the list), so its gas with the relayer's margin (x 1.2,
``TxManager.gas_margin``) must stay under EIP-7825's 16,777,216 cap whatever the drawdowns
hold: 39,378 gas each on distinct certificates by the exporter (contracts/RECORDS.md §8),
39,344 each when a customs administration draws (it also reads each certificate's countries)
on distinct certificates and consignments, all cold (``eth_estimateGas``, measured by
``tests/ledger/records/test_drawdown_batches.py``; 40,028 before each drawdown carried its own
deadline and the contract read the certificate's first slot once): 300 x 39,344 x 1.2 =
14.2 M, leaving room for full-width quantities (+96 gas each) and the estimate's spread."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawdownBatch(Record):
    """One signature over many drawdowns (``Certificates.drawDownSignedBatch``).

    ``drawdowns_hash`` is keccak256 of the drawdowns' struct hashes concatenated in order.
    There is no nonce: a drawdown is recorded once per (certificate, consignment), so a batch
    sent again fails at its first drawdown (``AlreadyDrawn``); ``deadline`` bounds the
    signature's life. Build it with :meth:`of`.
    """

    CONTRACT: ClassVar[str] = "Certificates"
    PRIMARY_TYPE: ClassVar[str] = "DrawdownBatch"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("drawdowns_hash", "drawdownsHash", "bytes32"),
        ("deadline", "deadline", "uint40"),
    )
    drawdowns_hash: bytes
    deadline: int

    @classmethod
    def of(
        cls,
        drawdowns: Sequence[Drawdown],
        *,
        deadline: int,
        struct_hashes: Sequence[bytes] | None = None,
    ) -> DrawdownBatch:
        """The batch record of ``drawdowns`` with ``deadline``.

        ``struct_hashes``: the drawdowns' struct hashes, computed already. Raises
        :class:`~ledger.errors.ValidationError` for an empty list, more than
        :data:`DRAWDOWN_BATCH_MAX` drawdowns, or an item that is not a Drawdown.
        """
        _check_batch_items(drawdowns, Drawdown, field="drawdowns", most=DRAWDOWN_BATCH_MAX)
        return cls(drawdowns_hash=_items_hash(drawdowns, struct_hashes), deadline=deadline)


def drawdowns_hash(drawdowns: Iterable[Drawdown]) -> bytes:
    """keccak256 of the drawdowns' struct hashes, concatenated in order."""
    return _items_hash(drawdowns, None)


ATTESTATION_BATCH_MAX = 350
"""Most attestations in one signed batch. The batch is one transaction that the relayer cannot
split (one signature covers the list), so its gas with the relayer's margin (x 1.2,
``TxManager.gas_margin``) must stay under EIP-7825's 16,777,216 cap whatever the attestations
hold: 30,838 gas each in the common case (contracts/RECORDS.md §8), 35,269 each when every one
also reads two cold attestations (``subjectType`` 4 and a ``refUid``; measured by the tests),
~37,400 with a cold schema of its own too: 350 x 37,400 x 1.2 = 15.7 M."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationBatch(Record):
    """One signature over many attestations (``Attestations.attestSignedBatch``).

    ``attestations_hash`` is keccak256 of the attestations' struct hashes concatenated in
    order. There is no nonce: every attestation's uid is recorded once, ever, so a batch sent
    again fails at its first attestation (``AttestationExists``); ``deadline`` bounds the
    signature's life, and each attestation's own ``deadline`` is checked too. Build it with
    :meth:`of`.
    """

    CONTRACT: ClassVar[str] = "Attestations"
    PRIMARY_TYPE: ClassVar[str] = "AttestationBatch"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("attestations_hash", "attestationsHash", "bytes32"),
        ("deadline", "deadline", "uint40"),
    )
    attestations_hash: bytes
    deadline: int

    @classmethod
    def of(
        cls,
        attestations: Sequence[Attestation],
        *,
        deadline: int,
        struct_hashes: Sequence[bytes] | None = None,
    ) -> AttestationBatch:
        """The batch record of ``attestations`` with ``deadline``.

        ``struct_hashes``: the attestations' struct hashes, computed already. Raises
        :class:`~ledger.errors.ValidationError` for an empty list, more than
        :data:`ATTESTATION_BATCH_MAX` attestations, or an item that is not an Attestation.
        """
        _check_batch_items(
            attestations, Attestation, field="attestations", most=ATTESTATION_BATCH_MAX
        )
        return cls(attestations_hash=_items_hash(attestations, struct_hashes), deadline=deadline)


def attestations_hash(attestations: Iterable[Attestation]) -> bytes:
    """keccak256 of the attestations' struct hashes, concatenated in order."""
    return _items_hash(attestations, None)


RECORD_TYPES: tuple[type[Record], ...] = (
    Proposal,
    Approval,
    KeyAddition,
    KeyRevocation,
    ConsignmentRegistration,
    ConsignmentEvent,
    EventBatch,
    CertificateIssue,
    CertificateRevocation,
    Drawdown,
    DrawdownBatch,
    SchemaRegistration,
    Attestation,
    AttestationBatch,
    AttestationRevocation,
    AeoAction,
    MraProposal,
    MraAcceptance,
    MraTermination,
    Declaration,
)


# --------------------------------------------------------------------------------------------
# Signed batches
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedEventBatch:
    """Consignment events with the one 65-byte signature of their :class:`EventBatch`.

    ``record`` is the batch record (derived from the events); ``sig()`` and ``signer()`` work
    as for a :class:`SignedRecord`, so the batch signer is what the contract recovers.
    """

    events: tuple[ConsignmentEvent, ...]
    signature: bytes
    record: EventBatch = field(init=False)
    struct_hashes: tuple[bytes, ...] = field(init=False, repr=False, compare=False)
    """The events' struct hashes, in order (computed once, for ``eventsHash``)."""

    def __post_init__(self) -> None:
        check_signature(self.signature)
        events = tuple(self.events)
        _check_batch_items(events, ConsignmentEvent, field="events")
        hashes = tuple(event.struct_hash() for event in events)
        object.__setattr__(self, "events", events)
        object.__setattr__(self, "struct_hashes", hashes)
        object.__setattr__(self, "record", EventBatch.of(events, struct_hashes=hashes))

    def __len__(self) -> int:
        return len(self.events)

    def sig(self) -> tuple[bytes, bytes]:
        """The compact EIP-2098 form the contract takes: ``(r, vs)``."""
        return to_compact_signature(self.signature)

    def event_digests(self, domain: Domain) -> list[bytes]:
        """Each event's EIP-712 digest in ``domain`` (what it would sign alone)."""
        return [typed_digest(domain, struct_hash) for struct_hash in self.struct_hashes]

    def signer(self, domain: Domain) -> ChecksumAddress:
        """The address that signed the batch (recovered from the signature)."""
        return recover_digest(self.record.digest(domain), self.signature)

    def onchain(self) -> tuple[list[tuple[Any, ...]], int, int, tuple[bytes, bytes]]:
        """The arguments of ``postEventBatch(records, nonce, deadline, sig)``."""
        return (
            [event.onchain() for event in self.events],
            self.record.nonce,
            self.record.deadline,
            self.sig(),
        )


def sign_event_batch(
    events: Sequence[ConsignmentEvent],
    private_key: bytes | str,
    domain: Domain,
    *,
    nonce: int | None = None,
    deadline: int | None = None,
) -> SignedEventBatch:
    """Sign ``events`` together with one :class:`EventBatch` signature in ``domain``.

    With ``nonce`` and ``deadline`` they are set in every event (:func:`with_batch_terms`);
    without them the events must already share one nonce and one deadline.
    """
    if (nonce is None) != (deadline is None):
        raise ValidationError("nonce", "give both the batch's nonce and deadline, or neither")
    if nonce is not None and deadline is not None:
        events = with_batch_terms(events, nonce=nonce, deadline=deadline)
    batch = EventBatch.of(events)
    signed = Account.unsafe_sign_hash(batch.digest(domain), private_key)
    return SignedEventBatch(tuple(events), bytes(signed.signature))


@dataclass(frozen=True, slots=True)
class SignedAttestationBatch:
    """Attestations with the one 65-byte signature of their :class:`AttestationBatch`.

    ``record`` is the batch record (derived from the attestations and ``deadline``); ``sig()``
    and ``signer()`` work as for a :class:`SignedRecord`, so the batch signer is what the
    contract recovers, and the attester of every attestation is the signer's organisation.
    """

    attestations: tuple[Attestation, ...]
    deadline: int
    signature: bytes
    record: AttestationBatch = field(init=False)
    struct_hashes: tuple[bytes, ...] = field(init=False, repr=False, compare=False)
    """The attestations' struct hashes, in order (computed once)."""

    def __post_init__(self) -> None:
        check_signature(self.signature)
        attestations = tuple(self.attestations)
        _check_batch_items(attestations, Attestation, field="attestations")
        hashes = tuple(a.struct_hash() for a in attestations)
        batch = AttestationBatch.of(attestations, deadline=self.deadline, struct_hashes=hashes)
        object.__setattr__(self, "attestations", attestations)
        object.__setattr__(self, "struct_hashes", hashes)
        object.__setattr__(self, "record", batch)

    def __len__(self) -> int:
        return len(self.attestations)

    def sig(self) -> tuple[bytes, bytes]:
        """The compact EIP-2098 form the contract takes: ``(r, vs)``."""
        return to_compact_signature(self.signature)

    def uids(self, attester: bytes) -> list[bytes]:
        """Each attestation's uid when ``attester`` (the signer's orgId) records it."""
        return [a.uid(attester) for a in self.attestations]

    def signer(self, domain: Domain) -> ChecksumAddress:
        """The address that signed the batch (recovered from the signature)."""
        return recover_digest(self.record.digest(domain), self.signature)

    def onchain(self) -> tuple[list[tuple[Any, ...]], int, tuple[bytes, bytes]]:
        """The arguments of ``attestSignedBatch(records, deadline, sig)``."""
        return ([a.onchain() for a in self.attestations], self.deadline, self.sig())


def sign_attestation_batch(
    attestations: Sequence[Attestation],
    private_key: bytes | str,
    domain: Domain,
    *,
    deadline: int,
) -> SignedAttestationBatch:
    """Sign ``attestations`` together with one :class:`AttestationBatch` signature in
    ``domain`` (the Attestations contract's), valid until ``deadline`` (unix seconds)."""
    attestations = tuple(attestations)
    batch = AttestationBatch.of(attestations, deadline=deadline)
    signed = Account.unsafe_sign_hash(batch.digest(domain), private_key)
    return SignedAttestationBatch(attestations, deadline, bytes(signed.signature))


@dataclass(frozen=True, slots=True)
class SignedDrawdownBatch:
    """Drawdowns with the one 65-byte signature of their :class:`DrawdownBatch`.

    ``record`` is the batch record (derived from the drawdowns and ``deadline``); ``sig()`` and
    ``signer()`` work as for a :class:`SignedRecord`, so the batch signer is what the contract
    recovers, and the drawing organisation of every drawdown is the signer's.
    """

    drawdowns: tuple[Drawdown, ...]
    deadline: int
    signature: bytes
    record: DrawdownBatch = field(init=False)
    struct_hashes: tuple[bytes, ...] = field(init=False, repr=False, compare=False)
    """The drawdowns' struct hashes, in order (computed once)."""

    def __post_init__(self) -> None:
        check_signature(self.signature)
        drawdowns = tuple(self.drawdowns)
        _check_batch_items(drawdowns, Drawdown, field="drawdowns")
        hashes = tuple(d.struct_hash() for d in drawdowns)
        batch = DrawdownBatch.of(drawdowns, deadline=self.deadline, struct_hashes=hashes)
        object.__setattr__(self, "drawdowns", drawdowns)
        object.__setattr__(self, "struct_hashes", hashes)
        object.__setattr__(self, "record", batch)

    def __len__(self) -> int:
        return len(self.drawdowns)

    def sig(self) -> tuple[bytes, bytes]:
        """The compact EIP-2098 form the contract takes: ``(r, vs)``."""
        return to_compact_signature(self.signature)

    def signer(self, domain: Domain) -> ChecksumAddress:
        """The address that signed the batch (recovered from the signature)."""
        return recover_digest(self.record.digest(domain), self.signature)

    def onchain(self) -> tuple[list[tuple[Any, ...]], int, tuple[bytes, bytes]]:
        """The arguments of ``drawDownSignedBatch(records, deadline, sig)``."""
        return ([d.onchain() for d in self.drawdowns], self.deadline, self.sig())


def sign_drawdown_batch(
    drawdowns: Sequence[Drawdown],
    private_key: bytes | str,
    domain: Domain,
    *,
    deadline: int,
) -> SignedDrawdownBatch:
    """Sign ``drawdowns`` together with one :class:`DrawdownBatch` signature in ``domain``
    (the Certificates contract's), valid until ``deadline`` (unix seconds)."""
    drawdowns = tuple(drawdowns)
    batch = DrawdownBatch.of(drawdowns, deadline=deadline)
    signed = Account.unsafe_sign_hash(batch.digest(domain), private_key)
    return SignedDrawdownBatch(drawdowns, deadline, bytes(signed.signature))
