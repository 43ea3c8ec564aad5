"""Every record kind the contracts accept, with its EIP-712 typed data.

A record is a frozen dataclass. Its EIP-712 type (the field order and Solidity types) is
declared once, in ``FIELDS``, exactly as the contract's ``*_TYPEHASH`` constant spells it; a
test compares every type hash and struct hash with the deployed contracts. From it come:

* :meth:`Record.type_string` / :meth:`Record.typehash`;
* :meth:`Record.struct_hash` (fast: ``keccak(typehash ‖ abi.encode(values))``, with ``string``
  fields hashed, as EIP-712 prescribes for dynamic values);
* :meth:`Record.typed_data`: the ``eth_signTypedData_v4`` JSON that any other signer (a
  browser wallet, ethers.js, a hardware key) signs to get the same digest;
* :meth:`Record.digest` and :func:`sign`: the EIP-712 digest and a signature over it.

The signature goes on chain in compact EIP-2098 form ``(r, vs)`` (:meth:`SignedRecord.sig`).

Consignment events can also be signed together: one :class:`EventBatch` signature covers a
list of :class:`ConsignmentEvent` records that all carry the batch's nonce and deadline
(:func:`sign_event_batch` gives a :class:`SignedEventBatch`). Each event's own digest, and so
the hash chain and the index, are the same as if it had been signed alone.

Attestations likewise: one :class:`AttestationBatch` signature (a deadline, no nonce: each
attestation's uid is its replay protection) covers a list of :class:`Attestation` records
(:func:`sign_attestation_batch` gives a :class:`SignedAttestationBatch`); each gets the uid and
the ``Attested`` log it would get if signed alone.

Drawdowns likewise: one :class:`DrawdownBatch` signature (a deadline, no nonce: a drawdown is
recorded once per (certificate, consignment)) covers a list of :class:`Drawdown` records
(:func:`sign_drawdown_batch` gives a :class:`SignedDrawdownBatch`); each is stored and gets the
``QuantityDrawn`` log it would get if signed alone.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache
from typing import Any, ClassVar, Generic, Self, TypeVar

from eth_abi.abi import encode
from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ledger.errors import ValidationError
from ledger.records.typed_data import check_signature, recover_digest, to_compact_signature

__all__ = [
    "ATTESTATION_BATCH_MAX",
    "DOMAIN_NAMES",
    "DRAWDOWN_BATCH_MAX",
    "AeoAction",
    "AeoActionCode",
    "Approval",
    "Attestation",
    "AttestationBatch",
    "AttestationRevocation",
    "CertificateIssue",
    "CertificateRevocation",
    "ConsignmentEvent",
    "ConsignmentRegistration",
    "Domain",
    "Drawdown",
    "DrawdownBatch",
    "EventBatch",
    "KeyAddition",
    "KeyRevocation",
    "MraAcceptance",
    "MraProposal",
    "MraTermination",
    "Proposal",
    "ProposalAction",
    "Record",
    "SchemaRegistration",
    "SignedAttestationBatch",
    "SignedDrawdownBatch",
    "SignedEventBatch",
    "SignedRecord",
    "attestations_hash",
    "certificate_id",
    "consignment_id",
    "drawdowns_hash",
    "fixed_ascii",
    "new_nonce",
    "sign",
    "sign_attestation_batch",
    "sign_drawdown_batch",
    "sign_event_batch",
    "typed_digest",
    "with_batch_terms",
]

DOMAIN_VERSION = "1"
DOMAIN_NAMES: Mapping[str, str] = {
    "Membership": "TradeLedger Membership",
    "Consignments": "TradeLedger Consignments",
    "Certificates": "TradeLedger Certificates",
    "Attestations": "TradeLedger Attestations",
    "AeoRegistry": "TradeLedger AeoRegistry",
}


@dataclass(frozen=True, slots=True)
class Domain:
    """An EIP-712 domain: one per contract and chain."""

    name: str
    version: str
    chain_id: int
    verifying_contract: ChecksumAddress

    @classmethod
    def for_contract(cls, contract: str, *, chain_id: int, address: str) -> Domain:
        return cls(DOMAIN_NAMES[contract], DOMAIN_VERSION, chain_id, to_checksum_address(address))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }

    @property
    def separator(self) -> bytes:
        return _separator(self)


_DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_DOMAIN_TYPES = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


@cache
def _separator(domain: Domain) -> bytes:
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                _DOMAIN_TYPEHASH,
                keccak(text=domain.name),
                keccak(text=domain.version),
                domain.chain_id,
                domain.verifying_contract,
            ],
        )
    )


def fixed_ascii(text: str, size: int) -> bytes:
    """ASCII ``text`` right-padded with zero bytes to ``size`` (Solidity ``bytesN``)."""
    raw = text.encode("ascii")
    if len(raw) > size:
        raise ValidationError("value", f"must be at most {size} ASCII characters", text)
    return raw.ljust(size, b"\0")


def consignment_id(business_key: str) -> bytes:
    """The on-chain consignment id: keccak256 of the UTF-8 business key (e.g. a WCO UCR)."""
    key = business_key.strip()
    if not key:
        raise ValidationError("consignment_ref", "must not be empty")
    return keccak(text=key)


def certificate_id(issuer: bytes, certificate_number: str | bytes) -> bytes:
    """keccak256(abi.encode(issuer orgId, keccak256(certificate number)))."""
    number = (
        certificate_number
        if isinstance(certificate_number, bytes)
        else keccak(text=certificate_number)
    )
    return keccak(encode(["bytes32", "bytes32"], [issuer, number]))


def new_nonce() -> int:
    """A random 32-bit nonce (records that carry one: events, AEO actions).

    Sequential nonces from one signer share a storage word on chain and cost less gas;
    :class:`ledger.chain.client.NonceSource` hands those out.
    """
    return secrets.randbits(32)


class Record:
    """Base of every record kind. Subclasses are frozen dataclasses that set the class vars."""

    CONTRACT: ClassVar[str]
    PRIMARY_TYPE: ClassVar[str]
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]]  # (attribute, EIP-712 name, type)

    @classmethod
    def type_string(cls) -> str:
        inner = ",".join(f"{typ} {name}" for _, name, typ in cls.FIELDS)
        return f"{cls.PRIMARY_TYPE}({inner})"

    @classmethod
    def typehash(cls) -> bytes:
        return _typehash(cls.type_string())

    @classmethod
    def eip712_types(cls) -> dict[str, list[dict[str, str]]]:
        return {
            "EIP712Domain": list(_DOMAIN_TYPES),
            cls.PRIMARY_TYPE: [{"name": name, "type": typ} for _, name, typ in cls.FIELDS],
        }

    def message(self) -> dict[str, Any]:
        """The EIP-712 message: field values by their EIP-712 names."""
        return {name: getattr(self, attr) for attr, name, _ in self.FIELDS}

    def json_message(self) -> dict[str, Any]:
        """The message as JSON values (bytes as 0x-hex), as wallets take it."""
        out: dict[str, Any] = {}
        for attr, name, _ in self.FIELDS:
            value = getattr(self, attr)
            out[name] = "0x" + value.hex() if isinstance(value, bytes) else value
        return out

    def struct_hash(self) -> bytes:
        """``keccak(typehash ‖ enc(field_1) ‖ …)``; every field is one 32-byte word (static
        types encoded here, checked as eth-abi checks them; ``string``/``bytes`` hashed)."""
        words = [self.typehash()]
        for attr, _, typ in self.FIELDS:
            words.append(_word(attr, typ, getattr(self, attr)))
        return keccak(b"".join(words))

    def digest(self, domain: Domain) -> bytes:
        return typed_digest(domain, self.struct_hash())

    def typed_data(self, domain: Domain) -> dict[str, Any]:
        """The full ``eth_signTypedData_v4`` message (JSON-ready)."""
        return {
            "types": self.eip712_types(),
            "primaryType": self.PRIMARY_TYPE,
            "domain": domain.as_dict(),
            "message": self.json_message(),
        }

    def record_time(self) -> int | None:
        """The record's own time that the signing key must cover (None: the block time)."""
        return None

    def onchain(self) -> tuple[Any, ...]:
        """The record as the contract function's struct argument."""
        return tuple(getattr(self, attr) for attr, _, _ in self.FIELDS)

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Self:
        """Build a record from its EIP-712 message (names as in the type; hex for bytes)."""
        kwargs: dict[str, Any] = {}
        for attr, name, typ in cls.FIELDS:
            if name not in message:
                raise ValidationError(name, f"is required in a {cls.PRIMARY_TYPE} record")
            kwargs[attr] = _coerce(name, typ, message[name])
        return cls(**kwargs)


def typed_digest(domain: Domain, struct_hash: bytes) -> bytes:
    """The EIP-712 digest ``keccak(0x1901 ‖ domainSeparator ‖ structHash)``."""
    return keccak(b"\x19\x01" + domain.separator + struct_hash)


@cache
def _typehash(type_string: str) -> bytes:
    return keccak(text=type_string)


@cache
def _static_type(typ: str) -> tuple[str, int]:
    """("uint", bits), ("int", bits), ("bytes", size), or (typ, 0) for the others."""
    if typ.startswith("uint"):
        return "uint", int(typ[4:] or 256)
    if typ.startswith("int"):
        return "int", int(typ[3:] or 256)
    if typ.startswith("bytes") and typ != "bytes":
        return "bytes", int(typ[5:])
    return typ, 0


def _word(name: str, typ: str, value: Any) -> bytes:
    """The EIP-712 encoding of one field (``encodeData``'s 32-byte word)."""
    base, size = _static_type(typ)
    if base == "bytes":
        if not isinstance(value, bytes | bytearray) or len(value) > size:
            raise ValidationError(name, f"must be at most {size} bytes", value)
        return bytes(value).ljust(32, b"\0")  # left-aligned, as eth-abi pads bytesN
    if base == "uint":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**size:
            raise ValidationError(name, f"must fit in {typ}", value)
        number: int = value
        return number.to_bytes(32, "big")
    if base == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(name, f"must be an integer ({typ})", value)
        if not -(2 ** (size - 1)) <= value < 2 ** (size - 1):
            raise ValidationError(name, f"must fit in {typ}", value)
        signed: int = value
        return signed.to_bytes(32, "big", signed=True)
    if typ == "string":
        return keccak(text=value)
    if typ == "bytes":
        return keccak(value)
    return encode([typ], [value])  # address, bool: as eth-abi encodes them


def _coerce(name: str, typ: str, value: Any) -> Any:
    if typ.startswith("bytes") and typ != "bytes":
        size = int(typ[5:])
        if isinstance(value, str):
            text = value[2:] if value.startswith("0x") else value
            try:
                raw = bytes.fromhex(text)
            except ValueError:
                raise ValidationError(name, f"must be 0x-hex of {size} bytes", value) from None
        elif isinstance(value, bytes):
            raw = value
        else:
            raise ValidationError(name, f"must be 0x-hex of {size} bytes", value)
        if len(raw) != size:
            raise ValidationError(name, f"must be {size} bytes, got {len(raw)}", value)
        return raw
    if typ.startswith(("uint", "int")):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError(name, f"must be an integer ({typ})", value)
        number = int(value, 0) if isinstance(value, str) else value
        bits = int(typ[4:] if typ.startswith("uint") else typ[3:])
        if typ.startswith("uint") and not 0 <= number < 2**bits:
            raise ValidationError(name, f"must fit in {typ}", value)
        return number
    if typ == "address":
        try:
            return to_checksum_address(value)
        except (ValueError, TypeError):
            raise ValidationError(name, "must be a 20-byte address", value) from None
    if typ == "string":
        if not isinstance(value, str):
            raise ValidationError(name, "must be a string", value)
        return value
    raise ValidationError(name, f"unsupported type {typ}")


# --------------------------------------------------------------------------------------------
# Membership
# --------------------------------------------------------------------------------------------


class ProposalAction:
    """Governance action codes (IMembership.Proposal.action)."""

    ADMIT_MEMBER = 1
    SUSPEND_MEMBER = 2
    REINSTATE_MEMBER = 3
    ADD_CUSTOMS = 4
    SET_THRESHOLD = 5
    REVOKE_KEY = 6
    ADD_RELAYER = 7
    REMOVE_RELAYER = 8


ZERO32 = bytes(32)
ZERO_ADDRESS = to_checksum_address("0x" + "00" * 20)


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal(Record):
    """A governance proposal by a customs administration; its id is its struct hash."""

    CONTRACT: ClassVar[str] = "Membership"
    PRIMARY_TYPE: ClassVar[str] = "Proposal"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("action", "action", "uint8"),
        ("org_id", "orgId", "bytes32"),
        ("kind", "kind", "uint8"),
        ("country", "country", "bytes2"),
        ("account", "account", "address"),
        ("valid_from", "validFrom", "uint40"),
        ("valid_until", "validUntil", "uint40"),
        ("threshold", "threshold", "uint16"),
        ("expires_at", "expiresAt", "uint40"),
        ("salt", "salt", "bytes32"),
    )
    action: int
    org_id: bytes = ZERO32
    kind: int = 0
    country: bytes = b"\0\0"
    account: str = ZERO_ADDRESS
    valid_from: int = 0
    valid_until: int = 0
    threshold: int = 0
    expires_at: int
    salt: bytes = ZERO32

    @property
    def proposal_id(self) -> bytes:
        return self.struct_hash()


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval(Record):
    CONTRACT: ClassVar[str] = "Membership"
    PRIMARY_TYPE: ClassVar[str] = "Approval"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (("proposal_id", "proposalId", "bytes32"),)
    proposal_id: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyAddition(Record):
    CONTRACT: ClassVar[str] = "Membership"
    PRIMARY_TYPE: ClassVar[str] = "KeyAddition"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("org_id", "orgId", "bytes32"),
        ("key", "key", "address"),
        ("valid_from", "validFrom", "uint40"),
        ("valid_until", "validUntil", "uint40"),
    )
    org_id: bytes
    key: str
    valid_from: int
    valid_until: int


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRevocation(Record):
    CONTRACT: ClassVar[str] = "Membership"
    PRIMARY_TYPE: ClassVar[str] = "KeyRevocation"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("org_id", "orgId", "bytes32"),
        ("key", "key", "address"),
    )
    org_id: bytes
    key: str


# --------------------------------------------------------------------------------------------
# Consignments
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsignmentRegistration(Record):
    CONTRACT: ClassVar[str] = "Consignments"
    PRIMARY_TYPE: ClassVar[str] = "ConsignmentRegistration"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("consignment_id", "consignmentId", "bytes32"),
        ("origin", "origin", "bytes2"),
        ("destination", "destination", "bytes2"),
        ("consignor", "consignor", "bytes32"),
        ("consignee", "consignee", "bytes32"),
    )
    consignment_id: bytes
    origin: bytes
    destination: bytes
    consignor: bytes = ZERO32
    consignee: bytes = ZERO32


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsignmentEvent(Record):
    """An EPCIS-aligned event. On chain the small fields travel packed in one word (``meta``)."""

    CONTRACT: ClassVar[str] = "Consignments"
    PRIMARY_TYPE: ClassVar[str] = "ConsignmentEvent"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("consignment_id", "consignmentId", "bytes32"),
        ("biz_step", "bizStep", "uint8"),
        ("disposition", "disposition", "uint8"),
        ("location", "location", "bytes5"),
        ("event_time", "eventTime", "uint40"),
        ("container", "container", "bytes11"),
        ("seal_digest", "sealDigest", "bytes32"),
        ("documents_digest", "documentsDigest", "bytes32"),
        ("epcis_event_hash", "epcisEventHash", "bytes32"),
        ("nonce", "nonce", "uint32"),
        ("deadline", "deadline", "uint40"),
    )
    consignment_id: bytes
    biz_step: int
    disposition: int = 0
    location: bytes
    event_time: int
    container: bytes = bytes(11)
    seal_digest: bytes = ZERO32
    documents_digest: bytes = ZERO32
    epcis_event_hash: bytes = ZERO32
    nonce: int
    deadline: int

    def record_time(self) -> int:
        return self.event_time

    @property
    def meta(self) -> bytes:
        """The packed word (layout in contracts/src/libraries/EventMeta.sol)."""
        word = (
            (self.biz_step << 248)
            | (self.disposition << 240)
            | (int.from_bytes(self.location, "big") << 200)
            | (self.event_time << 160)
            | (int.from_bytes(self.container, "big") << 72)
            | (self.deadline << 32)
            | self.nonce
        )
        return word.to_bytes(32, "big")

    @classmethod
    def unpack_meta(cls, meta: bytes) -> dict[str, Any]:
        word = int.from_bytes(meta, "big")
        return {
            "biz_step": word >> 248,
            "disposition": (word >> 240) & 0xFF,
            "location": ((word >> 200) & (2**40 - 1)).to_bytes(5, "big"),
            "event_time": (word >> 160) & (2**40 - 1),
            "container": ((word >> 72) & (2**88 - 1)).to_bytes(11, "big"),
            "deadline": (word >> 32) & (2**40 - 1),
            "nonce": word & 0xFFFFFFFF,
        }

    def onchain(self) -> tuple[Any, ...]:
        return (
            self.consignment_id,
            self.meta,
            self.seal_digest,
            self.documents_digest,
            self.epcis_event_hash,
        )


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


# --------------------------------------------------------------------------------------------
# Certificates of origin
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateIssue(Record):
    CONTRACT: ClassVar[str] = "Certificates"
    PRIMARY_TYPE: ClassVar[str] = "CertificateIssue"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("certificate_number", "certificateNumber", "bytes32"),
        ("exporter", "exporter", "bytes32"),
        ("origin", "origin", "bytes2"),
        ("destination", "destination", "bytes2"),
        ("document_digest", "documentDigest", "bytes32"),
        ("hs_codes_digest", "hsCodesDigest", "bytes32"),
        ("quantity", "quantity", "uint64"),
        ("unit", "unit", "bytes8"),
        ("valid_from", "validFrom", "uint40"),
        ("valid_until", "validUntil", "uint40"),
        ("issued_at", "issuedAt", "uint40"),
    )
    certificate_number: bytes  # keccak256 of the issuer's certificate number
    exporter: bytes
    origin: bytes
    destination: bytes
    document_digest: bytes
    hs_codes_digest: bytes
    quantity: int
    unit: bytes
    valid_from: int
    valid_until: int
    issued_at: int

    def record_time(self) -> int:
        return self.issued_at


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateRevocation(Record):
    CONTRACT: ClassVar[str] = "Certificates"
    PRIMARY_TYPE: ClassVar[str] = "CertificateRevocation"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("certificate_number", "certificateNumber", "bytes32"),
        ("reason_digest", "reasonDigest", "bytes32"),
    )
    certificate_number: bytes
    reason_digest: bytes = ZERO32


@dataclass(frozen=True, slots=True, kw_only=True)
class Drawdown(Record):
    CONTRACT: ClassVar[str] = "Certificates"
    PRIMARY_TYPE: ClassVar[str] = "Drawdown"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("certificate_id", "certificateId", "bytes32"),
        ("consignment_id", "consignmentId", "bytes32"),
        ("quantity", "quantity", "uint64"),
    )
    certificate_id: bytes
    consignment_id: bytes
    quantity: int


DRAWDOWN_BATCH_MAX = 300
"""Most drawdowns in one signed batch. The batch is one transaction that the relayer cannot
split (one signature covers the list), so its gas with the relayer's margin (x 1.2,
``TxManager.gas_margin``) must stay under EIP-7825's 16,777,216 cap whatever the drawdowns
hold: 37,038 gas each on distinct certificates by the exporter (contracts/RECORDS.md §8),
39,035 each when a customs administration draws (it also reads each certificate's second slot,
the countries) on distinct certificates and consignments, all cold (``eth_estimateGas``,
measured by ``tests/ledger/test_drawdown_batches.py``): 300 x 39,035 x 1.2 = 14.1 M, leaving
room for full-width quantities (+96 gas each) and the estimate's spread."""


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


# --------------------------------------------------------------------------------------------
# Attestations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaRegistration(Record):
    CONTRACT: ClassVar[str] = "Attestations"
    PRIMARY_TYPE: ClassVar[str] = "SchemaRegistration"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (("definition", "definition", "string"),)
    definition: str

    @property
    def schema_id(self) -> bytes:
        return keccak(text=self.definition)

    def onchain(self) -> tuple[Any, ...]:
        return (self.definition,)


class SubjectType:
    CONSIGNMENT = 1
    CERTIFICATE = 2
    ORGANISATION = 3
    ATTESTATION = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Attestation(Record):
    CONTRACT: ClassVar[str] = "Attestations"
    PRIMARY_TYPE: ClassVar[str] = "Attestation"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("schema_id", "schemaId", "bytes32"),
        ("subject_type", "subjectType", "uint8"),
        ("subject_id", "subjectId", "bytes32"),
        ("data_digest", "dataDigest", "bytes32"),
        ("ref_uid", "refUid", "bytes32"),
        ("expires_at", "expiresAt", "uint40"),
    )
    schema_id: bytes
    subject_type: int
    subject_id: bytes
    data_digest: bytes
    ref_uid: bytes = ZERO32
    expires_at: int = 0

    def uid(self, attester: bytes) -> bytes:
        """keccak256(abi.encode(attester orgId, struct hash))."""
        return keccak(encode(["bytes32", "bytes32"], [attester, self.struct_hash()]))


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
    signature's life. Build it with :meth:`of`.
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


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationRevocation(Record):
    CONTRACT: ClassVar[str] = "Attestations"
    PRIMARY_TYPE: ClassVar[str] = "AttestationRevocation"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("uid", "uid", "bytes32"),
        ("reason_digest", "reasonDigest", "bytes32"),
    )
    uid: bytes
    reason_digest: bytes = ZERO32


# --------------------------------------------------------------------------------------------
# AEO certifications and mutual recognition agreements
# --------------------------------------------------------------------------------------------


class AeoActionCode:
    """AEO action codes (IAeoRegistry.AeoAction.action)."""

    CERTIFY = 1
    SUSPEND = 2
    REINSTATE = 3
    REVOKE = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class AeoAction(Record):
    CONTRACT: ClassVar[str] = "AeoRegistry"
    PRIMARY_TYPE: ClassVar[str] = "AeoAction"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("action", "action", "uint8"),
        ("operator_id", "operatorId", "bytes32"),
        ("programme", "programme", "bytes8"),
        ("valid_from", "validFrom", "uint40"),
        ("valid_until", "validUntil", "uint40"),
        ("nonce", "nonce", "uint32"),
        ("deadline", "deadline", "uint40"),
    )
    action: int
    operator_id: bytes
    programme: bytes
    valid_from: int = 0
    valid_until: int = 0
    nonce: int
    deadline: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MraProposal(Record):
    CONTRACT: ClassVar[str] = "AeoRegistry"
    PRIMARY_TYPE: ClassVar[str] = "MraProposal"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("counterpart", "counterpart", "bytes32"),
        ("scope", "scope", "uint32"),
        ("valid_from", "validFrom", "uint40"),
        ("valid_until", "validUntil", "uint40"),
    )
    counterpart: bytes
    scope: int
    valid_from: int
    valid_until: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MraAcceptance(Record):
    CONTRACT: ClassVar[str] = "AeoRegistry"
    PRIMARY_TYPE: ClassVar[str] = "MraAcceptance"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (("mra_id", "mraId", "bytes32"),)
    mra_id: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class MraTermination(Record):
    CONTRACT: ClassVar[str] = "AeoRegistry"
    PRIMARY_TYPE: ClassVar[str] = "MraTermination"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (("mra_id", "mraId", "bytes32"),)
    mra_id: bytes


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
)

# --------------------------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------------------------

R = TypeVar("R", bound=Record)


@dataclass(frozen=True, slots=True)
class SignedRecord(Generic[R]):
    """A record with the 65-byte ``r ‖ s ‖ v`` signature of its signer."""

    record: R
    signature: bytes

    def __post_init__(self) -> None:
        check_signature(self.signature)

    def sig(self) -> tuple[bytes, bytes]:
        """The compact EIP-2098 form the contracts take: ``(r, vs)``."""
        return to_compact_signature(self.signature)

    def signer(self, domain: Domain) -> ChecksumAddress:
        """The address that signed (recovered from the signature)."""
        return recover_digest(self.record.digest(domain), self.signature)


def sign(record: R, private_key: bytes | str, domain: Domain) -> SignedRecord[R]:
    """Sign ``record``'s EIP-712 digest in ``domain`` with ``private_key``."""
    signed = Account.unsafe_sign_hash(record.digest(domain), private_key)
    return SignedRecord(record, bytes(signed.signature))


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
        return [
            keccak(encode(["bytes32", "bytes32"], [attester, struct_hash]))
            for struct_hash in self.struct_hashes
        ]

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


def record_fields(record: Record) -> dict[str, Any]:
    """The dataclass fields of a record (attribute names)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}  # type: ignore[arg-type]
