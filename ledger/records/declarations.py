"""Goods declarations as records: the on-chain :class:`Declaration` and its off-chain values.

A declarant lodges a goods declaration with the importing customs administration. The chain
keeps the :class:`Declaration` record (``Declarations.lodge``): the keys verification needs
(declarant, administration, consignment, the certificate of origin behind a preference claim)
and ``valuesDigest``, which fixes the declared values at lodgement. The values themselves,
:class:`DeclarationValues`, stay off chain in the administration's store.

``valuesDigest = keccak256(salt ‖ canonical JSON of the values)``, where the salt is 32 random
bytes kept with the values: without it, anyone who can guess most of a declaration (an HS code,
a route) could test guesses of its price against the digest on chain. The canonical JSON is
:meth:`DeclarationValues.canonical`: the fields of :data:`VALUE_FIELDS` as strings (numbers in
their shortest decimal form, no exponent), keys sorted, no spaces, UTF-8.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import pycountry
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from ledger.errors import ValidationError
from ledger.records.record import Record
from ledger.records.record import consignment_id as bound_consignment_id
from ledger.records.values import CountryCode, HsCode

__all__ = [
    "DECLARATION_INSPECTION_SCHEMA",
    "INSPECTION_RESULT_CODES",
    "VALUE_FIELDS",
    "Declaration",
    "DeclarationValues",
    "declaration_id",
    "declaration_ref",
    "new_salt",
    "values_digest",
]

ZERO32 = b"\0" * 32

DECLARATION_INSPECTION_SCHEMA = (
    "declaration-inspection(bytes32 declarationId,uint8 result,bytes32 kindDigest)"
)
"""The attestation schema of an inspection result: ``dataDigest = keccak256(abi.encode(
declarationId, result, keccak256(kind)))`` with ``result`` from :data:`INSPECTION_RESULT_CODES`
and ``kind`` what was found (UTF-8, empty for none)."""

INSPECTION_RESULT_CODES: dict[str, int] = {"no_irregularity": 0, "fraud": 1, "critical_fraud": 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class Declaration(Record):
    """A goods declaration on chain (``Declarations.lodge``), signed by the declarant."""

    CONTRACT: ClassVar[str] = "Declarations"
    PRIMARY_TYPE: ClassVar[str] = "Declaration"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("declaration_ref", "declarationRef", "bytes32"),
        ("administration", "administration", "bytes32"),
        ("consignment_id", "consignmentId", "bytes32"),
        ("certificate_id", "certificateId", "bytes32"),
        ("values_digest", "valuesDigest", "bytes32"),
        ("amends", "amends", "bytes32"),
        ("lodged_at", "lodgedAt", "uint40"),
    )
    declaration_ref: bytes  # keccak256 of the declarant's declaration number
    administration: bytes
    consignment_id: bytes = ZERO32
    certificate_id: bytes = ZERO32
    values_digest: bytes
    amends: bytes = ZERO32
    lodged_at: int

    def record_time(self) -> int:
        return self.lodged_at


def declaration_ref(number: str) -> bytes:
    """keccak256 of the declarant's own declaration number (UTF-8)."""
    text = number.strip()
    if not text:
        raise ValidationError("declaration_number", "must not be empty")
    return keccak(text=text)


def declaration_id(declarant: bytes, number: str | bytes) -> bytes:
    """keccak256(abi.encode(declarant orgId, declarationRef)), as the contract computes it."""
    ref = number if isinstance(number, bytes) else declaration_ref(number)
    return keccak(encode(["bytes32", "bytes32"], [declarant, ref]))


def new_salt() -> bytes:
    """32 random bytes for :func:`values_digest`."""
    return secrets.token_bytes(32)


def _decimal(field: str, value: object) -> str:
    """A positive finite number in its shortest plain decimal form (``"12.5"``, ``"3"``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValidationError(field, "must be a number", value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(field, "must be a number", value) from None
    if not number.is_finite() or number <= 0:
        raise ValidationError(field, "must be a positive number", value)
    text = format(number.normalize(), "f")
    return text


def _code(field: str, value: object, *, most: int = 64, empty: bool = False) -> str:
    if value is None and empty:
        return ""
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string", value)
    text = value.strip()
    if not text and not empty:
        raise ValidationError(field, "must not be empty", value)
    if len(text) > most:
        raise ValidationError(field, f"must be at most {most} characters", value)
    return text


def _currency(value: object) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if not code or pycountry.currencies.get(alpha_3=code) is None:
        raise ValidationError("currency", "must be an ISO 4217 currency code", value)
    return code


def _org(field: str, value: object, *, empty: bool = False) -> str:
    """An organisation id as 0x-prefixed lower-case hex of 32 bytes."""
    if empty and (value is None or value == ""):
        return ""
    if isinstance(value, bytes) and len(value) == 32:
        return "0x" + value.hex()
    if isinstance(value, str):
        text = value.strip().lower()
        if len(text) == 66 and text.startswith("0x"):
            try:
                bytes.fromhex(text[2:])
            except ValueError:
                pass
            else:
                return text
    raise ValidationError(field, "must be an organisation id (32 bytes, 0x hex)", value)


@dataclass(frozen=True, slots=True)
class DeclarationValues:
    """The declared values of one goods declaration, as lodged (validated at construction).

    Build it with :meth:`parse`, which checks every field and raises
    :class:`~ledger.errors.ValidationError` naming the field and the rule: HS6 a valid HS 2022
    subheading form, countries ISO 3166-1 alpha-2, currency ISO 4217, net mass and item price
    positive, a certificate (issuer and number) exactly when a preference is claimed.
    """

    declaration_number: str
    date: str  # ISO 8601 date of lodgement
    declarant: str  # organisation id, 0x hex
    administration: str  # importing customs administration's organisation id, 0x hex
    office: str
    procedure: str  # customs procedure / process type
    import_type: str
    transport_mode: str
    importer: str
    seller: str
    courier: str  # "" when none
    hs6: str
    departure_country: str
    origin_country: str
    tax_type: str  # e.g. "A" (basic), an FTA preference code
    preference_claimed: bool
    certificate_issuer: str  # organisation id, 0x hex; "" without a preference claim
    certificate_number: str  # "" without a preference claim
    net_mass_kg: str  # decimal string
    item_price: str  # decimal string
    currency: str  # ISO 4217
    consignment_ref: str  # "" when the goods travel in no consignment on the ledger
    # the organisation that registered consignment_ref (0x hex), "" without a reference: a
    # consignment id is bound to its registrant, so the reference alone names no consignment
    consignment_registrant: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DeclarationValues:
        """Validate ``data`` (a mapping with the fields of this class)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(unknown[0], "is not a declaration field", data[unknown[0]])
        try:
            date = dt.date.fromisoformat(str(data.get("date", "")))
        except ValueError:
            raise ValidationError(
                "date", "must be an ISO 8601 date (YYYY-MM-DD)", data.get("date")
            ) from None
        claimed = data.get("preference_claimed", False)
        if not isinstance(claimed, bool):
            raise ValidationError("preference_claimed", "must be true or false", claimed)
        issuer = _org("certificate_issuer", data.get("certificate_issuer"), empty=True)
        number = _code("certificate_number", data.get("certificate_number"), empty=True)
        if claimed and not (issuer and number):
            field = "certificate_issuer" if not issuer else "certificate_number"
            raise ValidationError(field, "is required when a preference is claimed")
        if not claimed and (issuer or number):
            field = "certificate_issuer" if issuer else "certificate_number"
            raise ValidationError(field, "is given only when a preference is claimed")

        def country(field: str) -> str:
            value = data.get(field)
            try:
                return str(CountryCode(value))
            except ValidationError as exc:
                raise type(exc)(field, exc.rule, value) from None

        ref = _code("consignment_ref", data.get("consignment_ref"), empty=True)
        registrant = _org("consignment_registrant", data.get("consignment_registrant"), empty=True)
        if ref and not registrant:
            raise ValidationError(
                "consignment_registrant",
                "is required with consignment_ref (a consignment id is bound to the organisation "
                "that registered the reference)",
            )
        if registrant and not ref:
            raise ValidationError("consignment_registrant", "is given only with consignment_ref")
        try:
            hs6 = str(HsCode(data.get("hs6")))
        except ValidationError as exc:
            raise type(exc)("hs6", exc.rule, data.get("hs6")) from None
        return cls(
            declaration_number=_code("declaration_number", data.get("declaration_number")),
            date=date.isoformat(),
            declarant=_org("declarant", data.get("declarant")),
            administration=_org("administration", data.get("administration")),
            office=_code("office", data.get("office")),
            procedure=_code("procedure", data.get("procedure")),
            import_type=_code("import_type", data.get("import_type")),
            transport_mode=_code("transport_mode", data.get("transport_mode")),
            importer=_code("importer", data.get("importer")),
            seller=_code("seller", data.get("seller")),
            courier=_code("courier", data.get("courier"), empty=True),
            hs6=hs6,
            departure_country=country("departure_country"),
            origin_country=country("origin_country"),
            tax_type=_code("tax_type", data.get("tax_type"), most=16),
            preference_claimed=claimed,
            certificate_issuer=issuer,
            certificate_number=number,
            net_mass_kg=_decimal("net_mass_kg", data.get("net_mass_kg")),
            item_price=_decimal("item_price", data.get("item_price")),
            currency=_currency(data.get("currency")),
            consignment_ref=ref,
            consignment_registrant=registrant,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def canonical(self) -> bytes:
        """The canonical JSON the digest is taken over (keys sorted, no spaces, UTF-8)."""
        return json.dumps(
            self.as_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

    def digest(self, salt: bytes) -> bytes:
        return values_digest(self, salt)

    def certificate_id(self) -> bytes:
        """The certificate behind the preference claim (zero bytes without one)."""
        if not self.preference_claimed:
            return ZERO32
        issuer = bytes.fromhex(self.certificate_issuer[2:])
        number = keccak(text=self.certificate_number)
        return keccak(encode(["bytes32", "bytes32"], [issuer, number]))

    def consignment_id(self) -> bytes:
        """The consignment's id: its reference as registered by ``consignment_registrant``
        (zero bytes without a reference)."""
        if not self.consignment_ref:
            return ZERO32
        return bound_consignment_id(
            self.consignment_ref, registrant=bytes.fromhex(self.consignment_registrant[2:])
        )

    def record(self, *, salt: bytes, lodged_at: int, amends: bytes = ZERO32) -> Declaration:
        """The on-chain record for these values."""
        return Declaration(
            declaration_ref=declaration_ref(self.declaration_number),
            administration=bytes.fromhex(self.administration[2:]),
            consignment_id=self.consignment_id(),
            certificate_id=self.certificate_id(),
            values_digest=self.digest(salt),
            amends=amends,
            lodged_at=lodged_at,
        )


VALUE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(DeclarationValues))


def values_digest(values: DeclarationValues, salt: bytes) -> bytes:
    """keccak256(salt ‖ canonical JSON): the ``valuesDigest`` of a declaration."""
    if len(salt) != 32:
        raise ValidationError("salt", "must be 32 bytes", salt)
    return keccak(salt + values.canonical())
