"""What a record is: the EIP-712 domain, the :class:`Record` base, and signing one record.

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
The identifiers that records carry (:func:`consignment_id`, :func:`certificate_id`,
:func:`fixed_ascii`, :func:`new_nonce`) are here too. The record kinds themselves are in
:mod:`ledger.records.kinds`, the batches signed as one in :mod:`ledger.records.batches`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
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
    "DOMAIN_NAMES",
    "Domain",
    "Record",
    "SignedRecord",
    "certificate_id",
    "consignment_id",
    "fixed_ascii",
    "new_nonce",
    "reference_hash",
    "sign",
    "typed_digest",
]

DOMAIN_VERSION = "1"
DOMAIN_NAMES: Mapping[str, str] = {
    "Membership": "TradeLedger Membership",
    "Consignments": "TradeLedger Consignments",
    "Certificates": "TradeLedger Certificates",
    "Attestations": "TradeLedger Attestations",
    "AeoRegistry": "TradeLedger AeoRegistry",
    "Declarations": "TradeLedger Declarations",
    "EpcisCaptures": "TradeLedger EpcisCaptures",
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


def reference_hash(business_key: str) -> bytes:
    """keccak256 of the UTF-8 business key (e.g. a WCO UCR): a registration's ``referenceHash``."""
    key = business_key.strip()
    if not key:
        raise ValidationError("consignment_ref", "must not be empty")
    return keccak(text=key)


def consignment_id(business_key: str | bytes, *, registrant: bytes) -> bytes:
    """The on-chain consignment id of ``business_key`` registered by organisation ``registrant``.

    keccak256(abi.encode(registrant orgId, keccak256(business key))), as Consignments derives it
    (``consignmentIdOf``): the id is bound to the registering organisation, so two organisations
    registering the same reference get two consignments and neither can pre-empt the other.
    ``business_key`` is the reference text or its 32-byte :func:`reference_hash`.
    """
    if len(registrant) != 32 or registrant == bytes(32):
        raise ValidationError("registrant", "must be a non-zero 32-byte organisation id")
    ref = business_key if isinstance(business_key, bytes) else reference_hash(business_key)
    if len(ref) != 32:
        raise ValidationError("consignment_ref", "a reference hash must be 32 bytes")
    return keccak(encode(["bytes32", "bytes32"], [registrant, ref]))


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
        try:
            number = int(value, 0) if isinstance(value, str) else value
        except ValueError:
            raise ValidationError(name, f"must be an integer ({typ})", value) from None
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


ZERO32 = bytes(32)
ZERO_ADDRESS = to_checksum_address("0x" + "00" * 20)


# --------------------------------------------------------------------------------------------
# Signing one record
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


def record_fields(record: Record) -> dict[str, Any]:
    """The dataclass fields of a record (attribute names)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}  # type: ignore[arg-type]
