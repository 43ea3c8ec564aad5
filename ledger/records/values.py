"""Domain identifiers: parsed once at the edge, immutable, and encoded the same way everywhere.

Every value type of :mod:`ledger.records` is a small frozen type whose constructor (or
``parse``) enforces the rule of the standard it comes from and raises a subclass of
:class:`~ledger.errors.ValidationError` that names the field and the broken rule:

==========================  =========================================  ==================
type                        rule                                       on chain
==========================  =========================================  ==================
:class:`Locode`             UN/LOCODE (country + 3 characters)          ``bytes5``
:class:`ContainerNumber`    ISO 6346 with check digit                  ``bytes11``
:class:`HsCode`             HS 2022 subheading, 6 digits               ``bytes6``
:class:`CountryCode`        ISO 3166-1 alpha-2                         ``bytes2``
:class:`Gln`                GS1 GLN, 13 digits with check digit        ``bytes13``
:class:`BusinessStep`       CBV 2.0 bizStep word (:mod:`.cbv`)         ``uint8``
:class:`Disposition`        CBV 2.0 disposition word (:mod:`.cbv`)     ``uint8``
:class:`UnitCode`           UN/ECE Rec. 20 code (:mod:`.quantities`)   ``bytes8``
:class:`Quantity`           positive decimal (:mod:`.quantities`)      ``uint64``
==========================  =========================================  ==================

This module holds the identifiers (the first five) and the base they share
(``_ValidatedStr`` and the ``bytesN`` helpers, used by :mod:`.cbv` and :mod:`.quantities` too).

The ``str`` subclasses are usable directly as pydantic field types: a request model with
``location: Locode`` validates with the same rule, and a broken rule becomes a 422 response
that names the field (pydantic turns the ``ValueError`` into a field error).

The code lists (the UN/LOCODE list, the HS 2022 nomenclature) live in :mod:`.code_lists` and
are shipped and in force by default (:mod:`.packaged_lists`): they add the check "this code
exists" on top of the format rules here. The constructors check the format only, so a value
read back from the chain always decodes; input is checked against the lists by
``CodeLists.locode`` / ``hs_code`` and the pydantic types ``ListedLocode`` / ``ListedHsCode``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, Self

import pycountry
from eth_utils.crypto import keccak
from stdnum import ean, iso6346
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumValidationError

from ledger.errors import (
    InvalidContainerNumber,
    InvalidCountryCode,
    InvalidGln,
    InvalidHsCode,
    InvalidLocode,
    ValidationError,
)

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

__all__ = [
    "LOCODE_EXTRA_COUNTRIES",
    "LOCODE_LISTED_WITH_ZERO",
    "ContainerNumber",
    "CountryCode",
    "Gln",
    "HsCode",
    "Locode",
    "hs_codes_digest",
]

logger = logging.getLogger("ledger.records.values")


# --------------------------------------------------------------------------------------------
# Common base for validated strings
# --------------------------------------------------------------------------------------------


class _ValidatedStr(str):
    """A ``str`` whose construction normalises and validates; the result is the canonical form.

    Input must be a ``str`` of ASCII characters (every code here is ASCII). Subclasses
    implement :meth:`_normalise`, which receives the raw input and returns the canonical
    string or raises the subclass's error. Constructing from an instance is a no-op
    validation (the canonical form is a fixed point of ``_normalise``).
    """

    __slots__ = ()
    field: ClassVar[str] = "value"
    error: ClassVar[type[ValidationError]] = ValidationError

    def __new__(cls, value: object) -> Self:
        return super().__new__(cls, cls._normalise(cls._require_str(value)))

    @classmethod
    def parse(cls, value: object) -> Self:
        """Validate ``value`` and return the canonical instance (same as the constructor)."""
        return cls(value)

    @classmethod
    def _require_str(cls, value: object) -> str:
        if not isinstance(value, str):
            raise cls.error(cls.field, "must be a string", value)
        if not value.isascii():
            # every code here is ASCII; this also stops Unicode digits ("٢٢٠٤٢١") and case
            # folding ("ß".upper() == "SS") from producing a valid-looking code
            raise cls.error(cls.field, "must contain only ASCII characters", value)
        return value

    @classmethod
    def _normalise(cls, value: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def _unchecked(cls, canonical: str) -> Self:
        """Build an instance from an already-validated canonical string (no checks)."""
        return str.__new__(cls, canonical)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(
            cls.parse,
            core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )


def _ascii_fixed(value: str, size: int) -> bytes:
    """ASCII bytes of ``value`` left-aligned and zero-padded to ``size`` (Solidity ``bytesN``)."""
    raw = value.encode("ascii")
    if len(raw) > size:  # pragma: no cover - guarded by the value rules
        raise ValueError(f"{value!r} does not fit in bytes{size}")
    return raw.ljust(size, b"\x00")


def _from_ascii_fixed(raw: bytes, *, size: int, field: str, error: type[ValidationError]) -> str:
    """Inverse of :func:`_ascii_fixed`: exactly ``size`` bytes, ASCII, zero padding at the end."""
    if not isinstance(raw, bytes | bytearray) or len(raw) != size:
        raise error(field, f"must be exactly {size} bytes", raw)
    text = bytes(raw).rstrip(b"\x00")
    if b"\x00" in text:
        raise error(field, "zero bytes are only allowed as trailing padding", raw)
    try:
        return text.decode("ascii")
    except UnicodeDecodeError:
        raise error(field, "must be ASCII", raw) from None


# --------------------------------------------------------------------------------------------
# ISO 3166-1 alpha-2
# --------------------------------------------------------------------------------------------


def _iso_country_name(alpha_2: str) -> str | None:
    country = pycountry.countries.get(alpha_2=alpha_2)
    return None if country is None else str(country.name)


class CountryCode(_ValidatedStr):
    """An ISO 3166-1 alpha-2 country code that exists (pycountry), e.g. ``"AU"``.

    Rule: two ASCII letters (case-insensitive on input, upper case when stored) naming an
    officially assigned ISO 3166-1 country. User-assigned codes (``XZ``, ``EU``) and
    exceptionally reserved ones (``UK``) are rejected. On chain: ``bytes2`` (ASCII).
    """

    __slots__ = ()
    field = "country"
    error = InvalidCountryCode

    @classmethod
    def _normalise(cls, value: str) -> str:
        code = value.strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", code):
            raise InvalidCountryCode(cls.field, "must be two letters (ISO 3166-1 alpha-2)", value)
        if _iso_country_name(code) is None:
            raise InvalidCountryCode(cls.field, "is not an ISO 3166-1 alpha-2 country", value)
        return code

    @property
    def name(self) -> str:
        """The ISO 3166-1 short name, e.g. ``"Australia"``."""
        name = _iso_country_name(self)
        assert name is not None  # guaranteed by construction
        return name

    def to_bytes2(self) -> bytes:
        """ASCII ``bytes2`` for the contracts, e.g. ``b"AU"``."""
        return self.encode("ascii")

    @classmethod
    def from_bytes2(cls, raw: bytes) -> Self:
        """Decode and validate a ``bytes2`` value read from the chain."""
        return cls(_from_ascii_fixed(raw, size=2, field=cls.field, error=InvalidCountryCode))


# --------------------------------------------------------------------------------------------
# UN/LOCODE
# --------------------------------------------------------------------------------------------

#: Country codes that UN/LOCODE uses but ISO 3166-1 does not assign.
LOCODE_EXTRA_COUNTRIES: Final[Mapping[str, str]] = {
    "XZ": "Installations in International Waters",
}

#: Listed codes whose location part contains ``0``, which the format rule otherwise excludes
#: (all three have status RQ, "request under consideration", in the 2024 list).
LOCODE_LISTED_WITH_ZERO: Final[frozenset[str]] = frozenset({"DE9B0", "DEB90", "IT940"})

_LOCODE_RE: Final = re.compile(r"[A-Z]{2}[A-Z2-9]{3}")
_LOCODE_SHAPE_RE: Final = re.compile(r"([A-Z]{2}) ?([A-Z0-9]{3})")


def _locode_country_ok(country: str) -> bool:
    return country in LOCODE_EXTRA_COUNTRIES or _iso_country_name(country) is not None


class Locode(_ValidatedStr):
    """A UN/LOCODE, stored as its 5 characters without space, e.g. ``"CNSGH"``.

    Rule (format only; :meth:`.code_lists.LocodeDirectory.parse` adds "is in the list"):

    * input is trimmed and upper-cased; one space between country and location is allowed
      (``"CN SGH"`` becomes ``"CNSGH"``);
    * characters 1-2 are a country: an ISO 3166-1 alpha-2 code that exists (pycountry) or a
      UN/LOCODE-only code from :data:`LOCODE_EXTRA_COUNTRIES` (``XZ``, international waters);
    * characters 3-5 are ``[A-Z2-9]``: UN/LOCODE uses letters and, when letters run out, the
      digits 2-9 (0 and 1 are avoided because they read as O and I);
    * exception: the codes in :data:`LOCODE_LISTED_WITH_ZERO` (DE9B0, DEB90, IT940) contain a
      ``0`` and are real entries of the official list, so they are accepted as well.
      :meth:`~.code_lists.LocodeDirectory.parse` accepts every code of the loaded list even if its
      location part has another 0 or 1 (none does in the 2024 list; a test watches this).

    On chain: ``bytes5`` (ASCII).
    """

    __slots__ = ()
    field = "locode"
    error = InvalidLocode

    @classmethod
    def _normalise(cls, value: str) -> str:
        text = value.strip().upper()
        shape = _LOCODE_SHAPE_RE.fullmatch(text)
        if shape is None:
            raise InvalidLocode(
                cls.field,
                "must be 2 letters (country) and 3 letters or digits, optionally separated by a "
                "space",
                value,
            )
        country, location = shape.groups()
        code = country + location
        if not _locode_country_ok(country):
            raise InvalidLocode(cls.field, f"country {country!r} does not exist", value)
        if _LOCODE_RE.fullmatch(code) is None and code not in LOCODE_LISTED_WITH_ZERO:
            raise InvalidLocode(
                cls.field, "location part may only use letters A-Z and digits 2-9", value
            )
        return code

    @property
    def country(self) -> str:
        """The two-letter country part (may be ``XZ``, which is not an ISO 3166-1 country)."""
        return self[:2]

    @property
    def location(self) -> str:
        """The three-character location part."""
        return self[2:]

    def to_bytes5(self) -> bytes:
        """ASCII ``bytes5`` for the contracts."""
        return self.encode("ascii")

    @classmethod
    def from_bytes5(cls, raw: bytes) -> Self:
        """Decode and validate a ``bytes5`` value read from the chain (format rule)."""
        return cls(_from_ascii_fixed(raw, size=5, field=cls.field, error=InvalidLocode))


# --------------------------------------------------------------------------------------------
# ISO 6346 container numbers
# --------------------------------------------------------------------------------------------

_CONTAINER_RE: Final = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}")
_CONTAINER_RULE: Final = (
    "must be 11 characters: 3-letter owner code, category U, J or Z, 6-digit serial and check digit"
)


class ContainerNumber(_ValidatedStr):
    """An ISO 6346 container number with a valid check digit, e.g. ``"CSQU3054383"``.

    Rule (python-stdnum ``iso6346`` plus stricter checks):

    * spaces are removed and letters upper-cased (``"csqu 305438 3"`` is accepted), but
      mixed-case letters (``"NyKu3086856"``) are rejected as a likely transcription error;
    * exactly 11 characters: owner code ``[A-Z]{3}``, equipment category ``U``, ``J`` or ``Z``
      (ISO 6346; stdnum also lets ``R`` and digits in the owner code through), 6-digit
      serial, check digit;
    * the check digit matches (remainder 10 is written as 0, per ISO 6346).

    A 10-character identifier without check digit (``"QJRZ123456"``, which validator.js
    accepts) is **rejected**: the ledger records the full, self-checking number, and a
    missing check digit cannot be told apart from a mistyped one.

    On chain: ``bytes11`` (ASCII).
    """

    __slots__ = ()
    field = "container_number"
    error = InvalidContainerNumber

    @classmethod
    def _normalise(cls, value: str) -> str:
        letters = [c for c in value if c.isalpha()]
        if any(c.isupper() for c in letters) and any(c.islower() for c in letters):
            raise InvalidContainerNumber(
                cls.field, "letters must be all upper case or all lower case", value
            )
        number = iso6346.compact(value)
        if len(number) != 11:
            raise InvalidContainerNumber(cls.field, _CONTAINER_RULE, value)
        if _CONTAINER_RE.fullmatch(number) is None:
            raise InvalidContainerNumber(cls.field, _CONTAINER_RULE, value)
        try:
            return str(iso6346.validate(number))
        except InvalidChecksum:
            expected = iso6346.calc_check_digit(number[:10])
            raise InvalidContainerNumber(
                cls.field, f"check digit does not match (expected {expected})", value
            ) from None
        except (InvalidLength, InvalidFormat, StdnumValidationError):  # pragma: no cover
            raise InvalidContainerNumber(cls.field, _CONTAINER_RULE, value) from None

    @property
    def owner_code(self) -> str:
        """The 3-letter owner code registered with the BIC."""
        return self[:3]

    @property
    def category(self) -> str:
        """Equipment category identifier: U, J or Z."""
        return self[3]

    @property
    def serial(self) -> str:
        """The 6-digit serial number."""
        return self[4:10]

    @property
    def check_digit(self) -> str:
        """The check digit."""
        return self[10]

    def to_bytes11(self) -> bytes:
        """ASCII ``bytes11`` for the contracts."""
        return _ascii_fixed(self, 11)

    @classmethod
    def from_bytes11(cls, raw: bytes) -> Self:
        """Decode and validate a ``bytes11`` value read from the chain."""
        return cls(_from_ascii_fixed(raw, size=11, field=cls.field, error=InvalidContainerNumber))

    def formatted(self) -> str:
        """The presentation form, e.g. ``"CSQU 305438 3"``."""
        return str(iso6346.format(self))


# --------------------------------------------------------------------------------------------
# HS 2022
# --------------------------------------------------------------------------------------------

_HS_RE: Final = re.compile(r"(\d{4})[. ]?(\d{2})")
#: HS chapter 77 is reserved for possible future use; 98 and 99 are for national use.
_HS_RESERVED_CHAPTERS: Final = frozenset({77})


class HsCode(_ValidatedStr):
    """An HS 2022 subheading as exactly 6 digits, e.g. ``"220421"``.

    Rule: after trimming, 4 digits, an optional ``.`` or space, 2 digits (``"2204.21"``,
    ``"2204 21"`` and ``"220421"`` all give ``"220421"``); the chapter (first two digits)
    is 01-97 and not 77 (reserved). Whether the subheading exists is checked by
    :class:`~.code_lists.HsNomenclature` (the packaged HS 2022, by default). On chain: ``bytes6``
    (ASCII).
    """

    __slots__ = ()
    field = "hs_code"
    error = InvalidHsCode

    @classmethod
    def _normalise(cls, value: str) -> str:
        match = _HS_RE.fullmatch(value.strip())
        if match is None:
            raise InvalidHsCode(
                cls.field, "must be 6 digits, optionally written 'dddd.dd' (HS subheading)", value
            )
        code = match.group(1) + match.group(2)
        chapter = int(code[:2])
        if not 1 <= chapter <= 97 or chapter in _HS_RESERVED_CHAPTERS:
            raise InvalidHsCode(cls.field, "chapter must be 01-97 and not 77 (HS 2022)", value)
        return code

    @property
    def chapter(self) -> str:
        """The 2-digit chapter."""
        return self[:2]

    @property
    def heading(self) -> str:
        """The 4-digit heading."""
        return self[:4]

    def dotted(self) -> str:
        """The customary written form, e.g. ``"2204.21"``."""
        return f"{self[:4]}.{self[4:]}"

    def to_bytes6(self) -> bytes:
        """ASCII ``bytes6`` for the contracts."""
        return self.encode("ascii")

    @classmethod
    def from_bytes6(cls, raw: bytes) -> Self:
        """Decode and validate a ``bytes6`` value read from the chain."""
        return cls(_from_ascii_fixed(raw, size=6, field=cls.field, error=InvalidHsCode))


def hs_codes_digest(codes: Iterable[str]) -> bytes:
    """Canonical digest of a set of HS codes (32 bytes).

    ``keccak256(abi.encodePacked(bytes6(c1), bytes6(c2), ...))`` where ``c1 < c2 < ...`` are
    the distinct codes after :class:`HsCode` normalisation (so ``"2204.21"`` and ``"220421"``
    count once), sorted as ASCII strings, each packed as its 6 ASCII bytes (no padding,
    no length prefix). At least one code is required.

    This is the rule of ``contracts/src/libraries/HsCodes.sol`` (which also rejects an empty or
    non-ascending list). The contracts' specification in ``contracts/RECORDS.md`` is
    authoritative for this encoding; if it disagrees, it wins and this function must follow it.
    """
    if isinstance(codes, str):
        raise InvalidHsCode("hs_codes", "must be a collection of HS codes, not one string", codes)
    unique = sorted({HsCode(code) for code in codes})
    if not unique:
        raise InvalidHsCode("hs_codes", "at least one HS code is required")
    return bytes(keccak(b"".join(code.to_bytes6() for code in unique)))


# --------------------------------------------------------------------------------------------
# GS1 Global Location Number
# --------------------------------------------------------------------------------------------


class Gln(_ValidatedStr):
    """A GS1 Global Location Number: 13 digits with a valid GS1 (mod 10) check digit.

    Rule: spaces and hyphens are removed (python-stdnum ``ean.compact``); exactly 13 digits;
    the check digit matches (``stdnum.ean``). On chain: ``bytes13`` (ASCII).
    """

    __slots__ = ()
    field = "gln"
    error = InvalidGln

    @classmethod
    def _normalise(cls, value: str) -> str:
        number = str(ean.compact(value))
        if not re.fullmatch(r"[0-9]{13}", number):
            raise InvalidGln(cls.field, "must be 13 digits", value)
        try:
            return str(ean.validate(number))
        except InvalidChecksum:
            expected = ean.calc_check_digit(number[:12])
            raise InvalidGln(
                cls.field, f"check digit does not match (expected {expected})", value
            ) from None
        except StdnumValidationError:  # pragma: no cover - guarded above
            raise InvalidGln(cls.field, "must be 13 digits", value) from None

    def to_bytes13(self) -> bytes:
        """ASCII ``bytes13`` for the contracts."""
        return self.encode("ascii")
