"""EIP-712 typed data: hashing, signing and recovery, as the contracts see it.

Every record is signed by the acting organisation's own key as EIP-712 typed data. This module
is the one place that turns a typed-data message into bytes; it is a thin layer over
eth-account (``encode_typed_data``, ``Account.sign_message``, ``Account.recover_message``
and the hashing helpers in ``eth_account._utils.encode_typed_data``), adding:

* one error type: anything that cannot be encoded raises
  :class:`~ledger.errors.InvalidTypedData` (a :class:`~ledger.errors.ValidationError`),
  never a bare ``KeyError`` or eth-utils error;
* a stricter domain rule: when ``types.EIP712Domain`` is given, it must list the domain's
  fields in the canonical EIP-712 order with their canonical types (``name string``,
  ``version string``, ``chainId uint256``, ``verifyingContract address``, ``salt bytes32``).
  eth-account hashes the domain in canonical order whatever the declared order says, so a
  declaration that differs would describe a separator other than the one signed;
* strict signatures: 65 bytes ``r ‖ s ‖ v``, ``v`` 27 or 28, ``0 < r < n``,
  ``0 < s <= n/2`` (EIP-2 low s, as OpenZeppelin ``ECDSA.recover`` demands), else
  :class:`~ledger.errors.InvalidSignature` naming the field ``signature``;
* the EIP-2098 compact form ``(r, vs)`` the contracts take (:func:`to_compact_signature`).

The contracts' domains and record types are specified in ``contracts/RECORDS.md``; the tests
check every type hash listed there against this module's encoder.

A *full message* is the JSON form used by ``eth_signTypedData_v4``::

    {"types": {...}, "primaryType": "Mail", "domain": {...}, "message": {...}}

``types`` may include ``EIP712Domain``; ``primaryType`` may be omitted (it is derived, and if
given must match the derived one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

from coincurve import PublicKey
from eth_account import Account
from eth_account._utils.encode_typed_data.encoding_and_hashing import (
    encode_data,
    encode_type,
    hash_domain,
    hash_struct,
    hash_type,
)
from eth_account.messages import SignableMessage, _hash_eip191_message, encode_typed_data
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError as EthUtilsValidationError

from ledger.errors import InvalidSignature, InvalidTypedData

__all__ = [
    "DOMAIN_FIELDS",
    "SECP256K1_N",
    "check_signature",
    "domain_separator",
    "encode_struct",
    "encode_type_string",
    "from_compact_signature",
    "hash_typed_data",
    "recover_digest",
    "recover_typed_data",
    "sign_typed_data",
    "signable_message",
    "struct_hash",
    "to_compact_signature",
    "type_hash",
]

#: EIP-712 domain fields in canonical order, with their types.
DOMAIN_FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
)
#: Order of the secp256k1 group.
SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N: Final = SECP256K1_N // 2

Types = Mapping[str, Sequence[Mapping[str, str]]]

# What eth-account and eth-abi raise for input they cannot encode.
_ENCODING_ERRORS: Final = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    OverflowError,
    EthUtilsValidationError,
)


def _types_dict(types: Types) -> dict[str, list[dict[str, str]]]:
    if not isinstance(types, Mapping):
        raise InvalidTypedData("types", "must be a mapping of type name to field list", types)
    out: dict[str, list[dict[str, str]]] = {}
    for name, declared in types.items():
        fields: object = declared
        if not isinstance(fields, list | tuple):
            raise InvalidTypedData(f"types.{name}", "must be a list of {name, type} fields")
        out[name] = []
        for field in fields:
            if (
                not isinstance(field, Mapping)
                or not isinstance(field.get("name"), str)
                or not isinstance(field.get("type"), str)
            ):
                raise InvalidTypedData(
                    f"types.{name}", "each field must have a string 'name' and 'type'", field
                )
            out[name].append({"name": field["name"], "type": field["type"]})
    return out


def _check_domain_types(domain: Mapping[str, Any], declared: Sequence[Mapping[str, str]]) -> None:
    expected = [(name, type_) for name, type_ in DOMAIN_FIELDS if name in domain]
    got = [(field["name"], field["type"]) for field in declared]
    if got != expected:
        raise InvalidTypedData(
            "types.EIP712Domain",
            "must list the domain's fields in canonical EIP-712 order with canonical types "
            f"(expected {expected}, got {got})",
        )


def _check_domain(domain: object) -> Mapping[str, Any]:
    if not isinstance(domain, Mapping):
        raise InvalidTypedData("domain", "must be a mapping", domain)
    unknown = set(domain) - {name for name, _ in DOMAIN_FIELDS}
    if unknown:
        raise InvalidTypedData(
            "domain",
            f"unknown field(s) {sorted(unknown)}; EIP-712 allows "
            f"{[name for name, _ in DOMAIN_FIELDS]}",
        )
    return domain


def signable_message(full_message: Mapping[str, Any]) -> SignableMessage:
    """Validate and encode a full typed-data message (see the module docstring)."""
    if not isinstance(full_message, Mapping):
        raise InvalidTypedData("typed_data", "must be a mapping", full_message)
    missing = [key for key in ("types", "domain", "message") if key not in full_message]
    if missing:
        raise InvalidTypedData("typed_data", f"missing key(s) {missing}")
    types = _types_dict(full_message["types"])
    domain = _check_domain(full_message["domain"])
    if "EIP712Domain" in types:
        _check_domain_types(domain, types["EIP712Domain"])
    message = full_message["message"]
    if not isinstance(message, Mapping):
        raise InvalidTypedData("message", "must be a mapping", message)
    normalised: dict[str, Any] = {"types": types, "domain": dict(domain), "message": message}
    if "primaryType" in full_message:
        normalised["primaryType"] = full_message["primaryType"]
    try:
        return encode_typed_data(full_message=normalised)
    except _ENCODING_ERRORS as exc:
        raise InvalidTypedData("typed_data", f"cannot be encoded: {exc}") from exc


def hash_typed_data(full_message: Mapping[str, Any]) -> bytes:
    """The 32-byte EIP-712 digest: ``keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message))``."""
    return bytes(_hash_eip191_message(signable_message(full_message)))


def domain_separator(domain: Mapping[str, Any]) -> bytes:
    """``hashStruct(EIP712Domain)`` over the fields present in ``domain``, in canonical order."""
    checked = _check_domain(domain)
    try:
        return bytes(hash_domain(dict(checked)))
    except _ENCODING_ERRORS as exc:
        raise InvalidTypedData("domain", f"cannot be encoded: {exc}") from exc


def encode_type_string(primary_type: str, types: Types) -> str:
    """``encodeType``: e.g. ``Mail(Person from,Person to,string contents)Person(...)``."""
    try:
        return encode_type(primary_type, _types_dict(types))
    except _ENCODING_ERRORS as exc:
        raise InvalidTypedData("types", f"cannot encode type {primary_type!r}: {exc}") from exc


def type_hash(primary_type: str, types: Types) -> bytes:
    """``typeHash = keccak256(encodeType(primary_type))``."""
    try:
        return bytes(hash_type(primary_type, _types_dict(types)))
    except _ENCODING_ERRORS as exc:
        raise InvalidTypedData("types", f"cannot encode type {primary_type!r}: {exc}") from exc


def encode_struct(primary_type: str, types: Types, message: Mapping[str, Any]) -> bytes:
    """``encodeData``: ``typeHash ‖ enc(field_1) ‖ ... ‖ enc(field_n)``."""
    try:
        return bytes(encode_data(primary_type, _types_dict(types), dict(message)))
    except _ENCODING_ERRORS as exc:
        raise InvalidTypedData("message", f"cannot be encoded as {primary_type}: {exc}") from exc


def struct_hash(primary_type: str, types: Types, message: Mapping[str, Any]) -> bytes:
    """``hashStruct(message) = keccak256(encodeData(message))`` for ``primary_type``."""
    try:
        return bytes(hash_struct(primary_type, _types_dict(types), dict(message)))
    except _ENCODING_ERRORS as exc:
        raise InvalidTypedData("message", f"cannot be encoded as {primary_type}: {exc}") from exc


def check_signature(signature: bytes | str) -> bytes:
    """Validate a ``r ‖ s ‖ v`` signature and return its 65 bytes.

    Rule: 65 bytes (or ``0x``-hex of 65 bytes); ``v`` is 27 or 28; ``0 < r < n``;
    ``0 < s <= n/2`` (EIP-2: the high-s twin of a valid signature is malleable and rejected).
    Raises :class:`~ledger.errors.InvalidSignature` with field ``signature``.
    """
    if isinstance(signature, str):
        text = signature[2:] if signature.startswith(("0x", "0X")) else signature
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise InvalidSignature("signature", "must be hex or bytes", signature) from None
    elif isinstance(signature, bytes | bytearray):
        raw = bytes(signature)
    else:
        raise InvalidSignature("signature", "must be hex or bytes", signature)
    if len(raw) != 65:
        raise InvalidSignature("signature", f"must be 65 bytes (r, s, v), got {len(raw)}")
    r = int.from_bytes(raw[:32], "big")
    s = int.from_bytes(raw[32:64], "big")
    v = raw[64]
    if v not in (27, 28):
        raise InvalidSignature("signature", f"v must be 27 or 28, got {v}")
    if not 0 < r < SECP256K1_N:
        raise InvalidSignature("signature", "r must be in [1, n-1]")
    if not 0 < s <= _HALF_N:
        raise InvalidSignature("signature", "s must be in [1, n/2] (EIP-2 low s)")
    return raw


def to_compact_signature(signature: bytes | str) -> tuple[bytes, bytes]:
    """EIP-2098 compact form ``(r, vs)`` that the contracts take (``Sig { r; vs; }``).

    ``vs = s | ((v - 27) << 255)``, as specified in ``contracts/RECORDS.md``. The signature
    is checked first (:func:`check_signature`), so ``s`` never has its top bit set.
    """
    raw = check_signature(signature)
    s = int.from_bytes(raw[32:64], "big")
    vs = s | ((raw[64] - 27) << 255)
    return raw[:32], vs.to_bytes(32, "big")


def from_compact_signature(r: bytes, vs: bytes) -> bytes:
    """Inverse of :func:`to_compact_signature`: 65 bytes ``r ‖ s ‖ v``, checked."""
    if len(r) != 32 or len(vs) != 32:
        raise InvalidSignature("signature", "compact form needs 32-byte r and vs")
    value = int.from_bytes(vs, "big")
    s = value & ((1 << 255) - 1)
    v = 27 + (value >> 255)
    return check_signature(bytes(r) + s.to_bytes(32, "big") + bytes([v]))


def sign_typed_data(private_key: bytes | str, full_message: Mapping[str, Any]) -> bytes:
    """Sign the EIP-712 digest of ``full_message``; returns 65 bytes ``r ‖ s ‖ v`` (v 27/28).

    The signature is deterministic (RFC 6979) and low-s. A bad key raises
    :class:`~ledger.errors.InvalidSignature` naming ``private_key`` without echoing it.
    """
    signable = signable_message(full_message)
    try:
        signed = Account.sign_message(signable, private_key)
    except (ValueError, TypeError, EthUtilsValidationError):
        raise InvalidSignature("private_key", "is not a valid secp256k1 private key") from None
    return check_signature(bytes(signed.signature))


def recover_typed_data(full_message: Mapping[str, Any], signature: bytes | str) -> ChecksumAddress:
    """The checksummed address whose key signed ``full_message``.

    The signature must pass :func:`check_signature`; recovery itself never fails for a
    well-formed signature on secp256k1 except for rare invalid points, which also raise
    :class:`~ledger.errors.InvalidSignature`. Comparing the result with the expected signer
    is the caller's job.
    """
    raw = check_signature(signature)
    signable = signable_message(full_message)
    try:
        return to_checksum_address(Account.recover_message(signable, signature=raw))
    except (ValueError, TypeError, EthUtilsValidationError) as exc:
        raise InvalidSignature("signature", f"does not recover to a public key: {exc}") from exc


@lru_cache(maxsize=4096)
def _checksummed(address: bytes) -> ChecksumAddress:
    return to_checksum_address(address)


def recover_digest(digest: bytes, signature: bytes) -> ChecksumAddress:
    """The address whose key signed the 32-byte ``digest`` with ``signature`` (r ‖ s ‖ v).

    The same answer as ``Account._recover_hash`` (libsecp256k1 through coincurve, as eth-keys
    uses it), with the checksum of addresses seen before cached. Raises
    :class:`~ledger.errors.InvalidSignature` if nothing recovers; check the signature's form
    first (:func:`check_signature`).
    """
    if len(digest) != 32 or len(signature) != 65 or signature[64] not in (27, 28):
        raise InvalidSignature("signature", "does not recover: not a 65-byte r, s, v signature")
    try:
        public = PublicKey.from_signature_and_message(
            signature[:64] + bytes([signature[64] - 27]), digest, hasher=None
        )
    except (ValueError, TypeError) as exc:
        raise InvalidSignature("signature", f"does not recover: {exc}") from exc
    return _checksummed(keccak(public.format(compressed=False)[1:])[-20:])
