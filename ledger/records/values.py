"""Domain values: parsed once at the edge, immutable, and encoded the same way everywhere.

Every value type here is a small frozen type whose constructor (or ``parse``) enforces the
rule of the standard it comes from and raises a subclass of
:class:`~ledger.errors.ValidationError` that names the field and the broken rule:

==========================  =========================================  ==================
type                        rule                                       on chain
==========================  =========================================  ==================
:class:`Locode`             UN/LOCODE (country + 3 characters)          ``bytes5``
:class:`ContainerNumber`    ISO 6346 with check digit                  ``bytes11``
:class:`HsCode`             HS 2022 subheading, 6 digits               ``bytes6``
:class:`CountryCode`        ISO 3166-1 alpha-2                         ``bytes2``
:class:`BusinessStep`       CBV 2.0 bizStep word                       ``uint8``
:class:`Disposition`        CBV 2.0 disposition word                   ``uint8``
:class:`UnitCode`           UN/ECE Rec. 20 code (accepted subset)      ``bytes8``
:class:`Quantity`           positive decimal, whole units on chain     ``uint64``
:class:`Gln`                GS1 GLN, 13 digits with check digit        ``bytes13``
==========================  =========================================  ==================

The ``str`` subclasses are usable directly as pydantic field types: a request model with
``location: Locode`` validates with the same rule, and a broken rule becomes a 422 response
that names the field (pydantic turns the ``ValueError`` into a field error).

Code lists that are too large to ship (the full UN/LOCODE list, the HS nomenclature) are
optional: :class:`LocodeDirectory` and :class:`HsNomenclature` load them from CSV files and
add the check "this code exists" on top of the format rule. :class:`CodeLists` holds the ones
configured (settings ``unlocode_csv`` and ``hs_csv``: ``Settings.code_lists()``) and checks
input against them.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final, Self

import pycountry
from eth_utils.crypto import keccak
from stdnum import ean, iso6346
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumValidationError

from ledger.errors import (
    ConfigurationError,
    InvalidBusinessStep,
    InvalidContainerNumber,
    InvalidCountryCode,
    InvalidDisposition,
    InvalidGln,
    InvalidHsCode,
    InvalidLocode,
    InvalidQuantity,
    InvalidUnit,
    ValidationError,
)

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

__all__ = [
    "BUSINESS_STEP_CODES",
    "DISPOSITION_CODES",
    "LOCODE_EXTRA_COUNTRIES",
    "LOCODE_FUNCTIONS",
    "LOCODE_LISTED_WITH_ZERO",
    "QUANTITY_DECIMALS",
    "QUANTITY_MAX",
    "UNIT_CODES",
    "UNIT_CONVERSIONS",
    "BusinessStep",
    "CodeLists",
    "ContainerNumber",
    "CountryCode",
    "Disposition",
    "Gln",
    "HsCode",
    "HsNomenclature",
    "Locode",
    "LocodeDirectory",
    "LocodeEntry",
    "Quantity",
    "UnitCode",
    "great_circle_km",
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

#: UN/LOCODE function classifiers (the 8-position ``function`` column), from the
#: UNECE code list ``function-classifiers.csv``.
LOCODE_FUNCTIONS: Final[Mapping[str, str]] = {
    "0": "Not officially functional",
    "1": "Maritime transport (sea port or maritime port)",
    "2": "Rail transport",
    "3": "Road transport",
    "4": "Air transport (airport) or space transport (spaceport)",
    "5": "International Mail Processing Centre (IMPC) recognized by the UPU",
    "6": "Multimodal transport facility",
    "7": "Fixed Transport Installation (oil pipeline terminal, power lines, ropeway terminal)",
    "8": "Inland water transport (river ports, and lake ports)",
    "A": "Special Economic Zone (SEZ)",
    "B": "Cross Border (former code; not to be used)",
}

_LOCODE_RE: Final = re.compile(r"[A-Z]{2}[A-Z2-9]{3}")
_LOCODE_SHAPE_RE: Final = re.compile(r"([A-Z]{2}) ?([A-Z0-9]{3})")


def _locode_country_ok(country: str) -> bool:
    return country in LOCODE_EXTRA_COUNTRIES or _iso_country_name(country) is not None


class Locode(_ValidatedStr):
    """A UN/LOCODE, stored as its 5 characters without space, e.g. ``"CNSGH"``.

    Rule (format only; :meth:`LocodeDirectory.parse` adds "is in the list"):

    * input is trimmed and upper-cased; one space between country and location is allowed
      (``"CN SGH"`` becomes ``"CNSGH"``);
    * characters 1-2 are a country: an ISO 3166-1 alpha-2 code that exists (pycountry) or a
      UN/LOCODE-only code from :data:`LOCODE_EXTRA_COUNTRIES` (``XZ``, international waters);
    * characters 3-5 are ``[A-Z2-9]``: UN/LOCODE uses letters and, when letters run out, the
      digits 2-9 (0 and 1 are avoided because they read as O and I);
    * exception: the codes in :data:`LOCODE_LISTED_WITH_ZERO` (DE9B0, DEB90, IT940) contain a
      ``0`` and are real entries of the official list, so they are accepted as well.
      :meth:`LocodeDirectory.parse` accepts every code of the loaded list even if its
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


@dataclass(frozen=True, slots=True)
class LocodeEntry:
    """One entry of the UN/LOCODE list.

    ``names`` holds every spelling the list gives for the code (139 codes are listed more than
    once, e.g. BEBRU as "Brussel (Bruxelles)" and "Bruxelles (Brussel)"); ``name`` is the first.
    ``status`` and ``functions`` are ``None`` where the source file lost them.
    """

    code: Locode
    name: str
    names: tuple[str, ...]
    subdivision: str | None
    status: str | None
    functions: str | None
    coordinates: tuple[float, float] | None

    @property
    def function_codes(self) -> frozenset[str]:
        """The function classifiers set in ``functions`` (keys of :data:`LOCODE_FUNCTIONS`)."""
        if self.functions is None:
            return frozenset()
        return frozenset(c for c in self.functions if c in LOCODE_FUNCTIONS)

    @property
    def is_seaport(self) -> bool:
        """Function 1: maritime transport."""
        return "1" in self.function_codes

    @property
    def is_airport(self) -> bool:
        """Function 4: air transport."""
        return "4" in self.function_codes


# Row stored per code: (name, extra names, subdivision, status, functions, lat, lon).
_Row = tuple[str, tuple[str, ...], str | None, str | None, str | None, float | None, float | None]


def _blank(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _parse_coordinate(value: str | None, *, limit: float) -> float | None:
    if value is None or not value.strip():
        return None
    number = float(value)
    if not -limit <= number <= limit:
        raise ValueError(f"coordinate {number} out of range")
    return number


_COMPACT_HEADER: Final = ["unlocode", "nameWoDiacritics", "subdivision", "status", "function"]
_SEAPORTS_HEADER: Final = [
    "country",
    "location",
    "unlocode",
    "name",
    "nameWoDiacritics",
    "subdivision",
    "status",
    "function",
    "iata",
    "lat",
    "lon",
    "geocoded",
]


def _split_name(head: str, tail: str) -> str | None:
    """Rejoin a name that the source split at its comma: ``'"Ogi'`` + ``' Niigata"'``."""
    if head.startswith('"') and tail.endswith('"'):
        return f"{head[1:]},{tail[:-1]}".strip()
    return None


def _compact_row(raw: list[str]) -> tuple[str, _Row]:
    code, name, subdivision, status, functions = raw
    joined = _split_name(raw[2], raw[3])
    if joined is not None and name.endswith('"'):
        # shifted row: code, 'tail"', '"head', 'tail"', subdivision (status, function lost)
        return code.strip(), (joined, (), _blank(raw[4]), None, None, None, None)
    return code.strip(), (
        name.strip(),
        (),
        _blank(subdivision),
        _blank(status),
        _blank(functions),
        None,
        None,
    )


def _seaports_row(raw: list[str]) -> tuple[str, _Row]:
    lat = _parse_coordinate(raw[9], limit=90.0)
    lon = _parse_coordinate(raw[10], limit=180.0)
    if lat is None or lon is None:
        lat = lon = None
    joined = _split_name(raw[3], raw[4])
    if joined is not None:
        # shifted row: name and nameWoDiacritics split in two columns each; subdivision and
        # function moved right by two, status and IATA code lost; coordinates in place
        return raw[2].strip(), (joined, (), _blank(raw[7]), None, _blank(raw[8]), lat, lon)
    name, plain = raw[3].strip(), raw[4].strip()
    alts = (plain,) if plain and plain != name else ()
    return raw[2].strip(), (
        name,
        alts,
        _blank(raw[5]),
        _blank(raw[6]),
        _blank(raw[7]),
        lat,
        lon,
    )


def _merge_rows(known: _Row, new: _Row) -> _Row:
    """Keep ``known``'s attributes, fill its gaps from ``new`` and collect new spellings."""
    k_name, k_alts, k_sub, k_status, k_func, k_lat, k_lon = known
    name, alts, subdivision, status, functions, lat, lon = new
    spellings = list(k_alts)
    for spelling in (name, *alts):
        if spelling != k_name and spelling not in spellings:
            spellings.append(spelling)
    has_coordinates = k_lat is not None and k_lon is not None
    return (
        k_name,
        tuple(spellings),
        k_sub if k_sub is not None else subdivision,
        k_status if k_status is not None else status,
        k_func if k_func is not None else functions,
        k_lat if has_coordinates else lat,
        k_lon if has_coordinates else lon,
    )


class LocodeDirectory:
    """The UN/LOCODE code list, loaded from CSV, with names, functions and coordinates.

    :meth:`from_csv` reads both formats found in ``shared/data/unlocode`` (it looks at the
    header, not the file name):

    * compact: ``unlocode,nameWoDiacritics,subdivision,status,function``;
    * seaports: ``country,location,unlocode,name,nameWoDiacritics,subdivision,status,function,
      iata,lat,lon,geocoded`` (has coordinates).

    Loading several files merges them: the first file that lists a code gives its attributes;
    later files only fill what is missing (coordinates, status, functions) and add spellings.
    A code listed twice in one file is kept once, with all its spellings in ``names``.

    Quirk handled: names that contained a comma were split into two columns by the
    conversion that produced these files, shifting the rest of the row (1,040 rows in the
    compact file, e.g. JPOGI; 58 in the seaports file, e.g. JPAGE). Such a row is recognised
    by a name column starting with ``"`` followed by one ending with ``"``; the name is
    rejoined (``Ogi, Niigata``), subdivision, function and coordinates are taken from where
    they moved, and what the conversion lost (status; functions in the compact file) is
    ``None`` unless another loaded file gives it.

    Loading the full list (116,029 rows) takes about 0.3 s; rows are kept as tuples and
    :class:`LocodeEntry` objects are built on lookup.
    """

    __slots__ = ("_rows",)

    def __init__(self, rows: Mapping[str, _Row]) -> None:
        self._rows: dict[str, _Row] = dict(rows)

    @classmethod
    def from_csv(cls, path: str | Path, *more: str | Path) -> LocodeDirectory:
        """Load one or more UN/LOCODE CSV files (see the class docstring for the formats).

        Raises :class:`~ledger.errors.ConfigurationError` if a file cannot be read or has
        neither known header.
        """
        rows: dict[str, _Row] = {}
        for one in (path, *more):
            cls._load_into(rows, Path(one))
        return cls(rows)

    @staticmethod
    def _load_into(rows: dict[str, _Row], path: Path) -> None:
        try:
            handle = path.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise ConfigurationError(f"unlocode_csv: cannot read {path}: {exc}") from exc
        with handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header == _COMPACT_HEADER:
                parse_row = _compact_row
            elif header == _SEAPORTS_HEADER:
                parse_row = _seaports_row
            else:
                raise ConfigurationError(
                    f"unlocode_csv: {path} has an unknown header {header!r}; expected "
                    f"{','.join(_COMPACT_HEADER)} or {','.join(_SEAPORTS_HEADER)}"
                )
            width = len(header)
            for lineno, raw in enumerate(reader, start=2):
                if not raw:
                    continue
                if len(raw) != width:
                    raise ConfigurationError(
                        f"unlocode_csv: {path}:{lineno}: {len(raw)} columns, expected {width}"
                    )
                try:
                    code, row = parse_row(raw)
                except ValueError as exc:
                    raise ConfigurationError(f"unlocode_csv: {path}:{lineno}: {exc}") from exc
                known = rows.get(code)
                rows[code] = row if known is None else _merge_rows(known, row)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self._key(code) in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    @staticmethod
    def _key(code: str) -> str:
        text = code.strip().upper()
        if len(text) == 6 and text[2] == " ":
            text = text[:2] + text[3:]
        return text

    def parse(self, value: object) -> Locode:
        """Validate ``value`` against the list: the code must be listed.

        Accepts the same spellings as :class:`Locode` (trimmed, upper-cased, optional space).
        A listed code is accepted even where the bare format rule would reject it (a ``0`` in
        the location part).
        """
        if not isinstance(value, str):
            raise InvalidLocode(Locode.field, "must be a string", value)
        key = self._key(value)
        if key not in self._rows:
            Locode(value)  # a malformed code gets the precise format error
            raise InvalidLocode(Locode.field, "is not in the UN/LOCODE list", value)
        if not _locode_country_ok(key[:2]):
            raise InvalidLocode(Locode.field, f"country {key[:2]!r} does not exist", value)
        return Locode._unchecked(key)

    def get(self, code: str) -> LocodeEntry | None:
        """The entry for ``code`` (any accepted spelling), or ``None`` if not listed."""
        key = self._key(code)
        row = self._rows.get(key)
        if row is None:
            return None
        name, alts, subdivision, status, functions, lat, lon = row
        return LocodeEntry(
            code=Locode._unchecked(key),
            name=name,
            names=(name, *alts),
            subdivision=subdivision,
            status=status,
            functions=functions,
            coordinates=None if lat is None or lon is None else (lat, lon),
        )

    def entry(self, code: str) -> LocodeEntry:
        """The entry for ``code``; raises :class:`~ledger.errors.InvalidLocode` if not listed."""
        found = self.get(code)
        if found is None:
            raise InvalidLocode(Locode.field, "is not in the UN/LOCODE list", code)
        return found

    def coordinates(self, code: str) -> tuple[float, float] | None:
        """``(latitude, longitude)`` in degrees if the loaded files give them, else ``None``."""
        row = self._rows.get(self._key(code))
        if row is None or row[5] is None or row[6] is None:
            return None
        return (row[5], row[6])


#: Mean Earth radius (IUGG), km.
_EARTH_RADIUS_KM: Final = 6371.0088


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two ``(lat, lon)`` points in degrees (haversine).

    Symmetric in ``a`` and ``b``, so positional arguments are safe. Uses the mean Earth
    radius (6371.0088 km); error against the ellipsoid is below 0.5 %, enough for
    travel-time plausibility checks.
    """
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


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
    :class:`HsNomenclature` when a nomenclature is loaded. On chain: ``bytes6`` (ASCII).
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


class HsNomenclature:
    """The HS 2022 nomenclature (chapters, headings, subheadings) loaded from CSV.

    Reads the ``datasets/harmonized-system`` format: ``section,hscode,description,parent,
    level``. Only codes that pass :class:`HsCode`'s own rule are accepted by :meth:`parse`
    (the file's non-HS ``999999`` "not specified" row is not a valid code).
    """

    __slots__ = ("_descriptions",)

    def __init__(self, descriptions: Mapping[str, str]) -> None:
        self._descriptions: dict[str, str] = dict(descriptions)

    @classmethod
    def from_csv(cls, path: str | Path) -> HsNomenclature:
        """Load the nomenclature; raises :class:`~ledger.errors.ConfigurationError` if unusable."""
        try:
            with Path(path).open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                if reader.fieldnames is None or not {"hscode", "description"} <= set(
                    reader.fieldnames
                ):
                    raise ConfigurationError(
                        f"hs_csv: {path} needs 'hscode' and 'description' columns"
                    )
                descriptions = {row["hscode"].strip(): row["description"] for row in reader}
        except OSError as exc:
            raise ConfigurationError(f"hs_csv: cannot read {path}: {exc}") from exc
        return cls(descriptions)

    def __len__(self) -> int:
        return len(self._descriptions)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._descriptions

    def parse(self, value: object) -> HsCode:
        """Validate ``value`` as an :class:`HsCode` whose subheading exists in the nomenclature."""
        code = HsCode(value)
        if code not in self._descriptions:
            raise InvalidHsCode(HsCode.field, "is not an HS 2022 subheading", value)
        return code

    def description(self, code: str) -> str | None:
        """The description of a chapter (2 digits), heading (4) or subheading (6), if listed."""
        return self._descriptions.get(code)

    def subheadings(self) -> frozenset[str]:
        """All 6-digit codes in the loaded file that pass the :class:`HsCode` rule."""
        out = set()
        for code in self._descriptions:
            if len(code) == 6:
                try:
                    out.add(str(HsCode(code)))
                except InvalidHsCode:
                    continue
        return frozenset(out)


# --------------------------------------------------------------------------------------------
# The configured code lists
# --------------------------------------------------------------------------------------------


def _as_field(exc: ValidationError, field: str) -> ValidationError:
    """The same error, naming the caller's field (``location``, ``hs_codes[2]``)."""
    return exc if exc.field == field else type(exc)(field, exc.rule, exc.value)


@dataclass(frozen=True, slots=True)
class CodeLists:
    """The code lists that input is checked against on top of the format rules.

    ``locodes`` (the UN/LOCODE list) and ``hs`` (the HS 2022 nomenclature) are each optional:
    without a list, only the format rule of :class:`Locode` or :class:`HsCode` applies; with
    one, a well-formed code that the list does not hold is refused too. Errors name the
    caller's ``field`` and the broken rule (``InvalidLocode``: ``"is not in the UN/LOCODE
    list"``; ``InvalidHsCode``: ``"is not an HS 2022 subheading"``).

    :meth:`ledger.settings.Settings.code_lists` builds one from the ``unlocode_csv`` and
    ``hs_csv`` settings.
    """

    locodes: LocodeDirectory | None = None
    hs: HsNomenclature | None = None

    @classmethod
    def load(
        cls, *, unlocode_csv: str | Path | None = None, hs_csv: str | Path | None = None
    ) -> CodeLists:
        """Load the lists named (raises :class:`~ledger.errors.ConfigurationError`)."""
        return cls(
            locodes=LocodeDirectory.from_csv(unlocode_csv) if unlocode_csv is not None else None,
            hs=HsNomenclature.from_csv(hs_csv) if hs_csv is not None else None,
        )

    def locode(self, value: object, *, field: str = Locode.field) -> Locode:
        """``value`` as a :class:`Locode` that is in the UN/LOCODE list, if one is loaded."""
        try:
            return self.locodes.parse(value) if self.locodes is not None else Locode(value)
        except InvalidLocode as exc:
            raise _as_field(exc, field) from None

    def hs_code(self, value: object, *, field: str = HsCode.field) -> HsCode:
        """``value`` as an :class:`HsCode` that is in the nomenclature, if one is loaded."""
        try:
            return self.hs.parse(value) if self.hs is not None else HsCode(value)
        except InvalidHsCode as exc:
            raise _as_field(exc, field) from None

    def hs_codes(self, values: Iterable[object], *, field: str = "hs_codes") -> list[HsCode]:
        """Each of ``values`` checked by :meth:`hs_code`; an error names ``field[i]``."""
        if isinstance(values, str):
            raise InvalidHsCode(field, "must be a collection of HS codes, not one string", values)
        return [self.hs_code(v, field=f"{field}[{i}]") for i, v in enumerate(values)]

    def hs_codes_digest(self, values: Iterable[object], *, field: str = "hs_codes") -> bytes:
        """:func:`hs_codes_digest` of ``values`` after :meth:`hs_codes`."""
        return hs_codes_digest(self.hs_codes(values, field=field))


# --------------------------------------------------------------------------------------------
# CBV 2.0 business steps and dispositions
# --------------------------------------------------------------------------------------------

#: CBV 2.0 business steps and their ``uint8`` codes: the 41 words in ASCII (``sorted()``) order,
#: 1-based (1 accepting .. 41 void_shipping); 0 is never a valid business step. This is the
#: contracts' table (``contracts/src/libraries/Cbv.sol``; ``contracts/RECORDS.md`` is
#: authoritative and tests compare with it when it is present). Codes are signed into records:
#: never renumber.
BUSINESS_STEP_CODES: Final[Mapping[str, int]] = {
    "accepting": 1,
    "arriving": 2,
    "assembling": 3,
    "collecting": 4,
    "commissioning": 5,
    "consigning": 6,
    "creating_class_instance": 7,
    "cycle_counting": 8,
    "decommissioning": 9,
    "departing": 10,
    "destroying": 11,
    "disassembling": 12,
    "dispensing": 13,
    "encoding": 14,
    "entering_exiting": 15,
    "holding": 16,
    "inspecting": 17,
    "installing": 18,
    "killing": 19,
    "loading": 20,
    "other": 21,
    "packing": 22,
    "picking": 23,
    "receiving": 24,
    "removing": 25,
    "repackaging": 26,
    "repairing": 27,
    "replacing": 28,
    "reserving": 29,
    "retail_selling": 30,
    "sampling": 31,
    "sensor_reporting": 32,
    "shipping": 33,
    "staging_outbound": 34,
    "stock_taking": 35,
    "stocking": 36,
    "storing": 37,
    "transporting": 38,
    "unloading": 39,
    "unpacking": 40,
    "void_shipping": 41,
}

#: CBV 2.0 dispositions and their ``uint8`` codes: the 33 words in ASCII (``sorted()``) order,
#: 1-based (1 active .. 33 unknown); 0 means "no disposition" on chain. Same source and
#: stability rule as :data:`BUSINESS_STEP_CODES`.
DISPOSITION_CODES: Final[Mapping[str, int]] = {
    "active": 1,
    "available": 2,
    "completeness_inferred": 3,
    "completeness_verified": 4,
    "conformant": 5,
    "container_closed": 6,
    "container_open": 7,
    "damaged": 8,
    "destroyed": 9,
    "dispensed": 10,
    "disposed": 11,
    "encoded": 12,
    "expired": 13,
    "in_progress": 14,
    "in_transit": 15,
    "inactive": 16,
    "mismatch_class": 17,
    "mismatch_instance": 18,
    "mismatch_quantity": 19,
    "needs_replacement": 20,
    "no_pedigree_match": 21,
    "non_conformant": 22,
    "non_sellable_other": 23,
    "partially_dispensed": 24,
    "recalled": 25,
    "reserved": 26,
    "retail_sold": 27,
    "returned": 28,
    "sellable_accessible": 29,
    "sellable_not_accessible": 30,
    "stolen": 31,
    "unavailable": 32,
    "unknown": 33,
}


def _cbv_word(value: str, *, urn: str, web: str, words: Mapping[str, int]) -> str | None:
    """Strip one of the accepted CBV prefixes and return the bare word, or ``None``."""
    text = value.strip()
    for prefix in (urn, f"https://ref.gs1.org/cbv/{web}-", f"cbv:{web}-"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text if text in words else None


class _CbvWord(_ValidatedStr):
    __slots__ = ()
    codes: ClassVar[Mapping[str, int]]
    urn_prefix: ClassVar[str]
    web_name: ClassVar[str]

    @classmethod
    def _normalise(cls, value: str) -> str:
        word = _cbv_word(value, urn=cls.urn_prefix, web=cls.web_name, words=cls.codes)
        if word is None:
            raise cls.error(
                cls.field,
                f"is not a CBV 2.0 {cls.web_name} (bare word, {cls.urn_prefix}<word> or "
                f"https://ref.gs1.org/cbv/{cls.web_name}-<word>)",
                value,
            )
        return word

    @property
    def code(self) -> int:
        """The ``uint8`` code used on chain."""
        return self.codes[self]

    @property
    def urn(self) -> str:
        """The CBV URN form, e.g. ``urn:epcglobal:cbv:bizstep:shipping``."""
        return f"{self.urn_prefix}{self}"

    @property
    def uri(self) -> str:
        """The GS1 Web URI form, e.g. ``https://ref.gs1.org/cbv/BizStep-shipping``."""
        return f"https://ref.gs1.org/cbv/{self.web_name}-{self}"

    @classmethod
    def from_code(cls, code: int) -> Self:
        """The word for an on-chain code; raises the type's error for an unknown code."""
        for word, known in cls.codes.items():
            if known == code:
                return cls._unchecked(word)
        raise cls.error(cls.field, f"{code} is not a {cls.web_name} code", code)


class BusinessStep(_CbvWord):
    """A CBV 2.0 business step, stored as the bare word (``"shipping"``).

    Accepted inputs: the bare word, the URN ``urn:epcglobal:cbv:bizstep:shipping``, the GS1
    Web URI ``https://ref.gs1.org/cbv/BizStep-shipping`` and the EPCIS JSON-LD compact IRI
    ``cbv:BizStep-shipping``. Words are case-sensitive (CBV words are lower case). Words
    outside CBV 2.0 (``transforming``, private vocabularies) are rejected. On chain: ``uint8``
    from :data:`BUSINESS_STEP_CODES`.
    """

    __slots__ = ()
    field = "biz_step"
    error = InvalidBusinessStep
    codes = BUSINESS_STEP_CODES
    urn_prefix = "urn:epcglobal:cbv:bizstep:"
    web_name = "BizStep"


class Disposition(_CbvWord):
    """A CBV 2.0 disposition, stored as the bare word (``"in_transit"``).

    Accepted inputs as for :class:`BusinessStep` with ``urn:epcglobal:cbv:disp:``,
    ``https://ref.gs1.org/cbv/Disp-`` and ``cbv:Disp-``. Words outside CBV 2.0
    (``in_transport``) are rejected. On chain: ``uint8`` from :data:`DISPOSITION_CODES`, where
    an event without disposition has code 0 (:meth:`code_of`, :meth:`from_optional_code`).
    """

    __slots__ = ()
    field = "disposition"
    error = InvalidDisposition
    codes = DISPOSITION_CODES
    urn_prefix = "urn:epcglobal:cbv:disp:"
    web_name = "Disp"

    @staticmethod
    def code_of(disposition: Disposition | None) -> int:
        """The on-chain code of an optional disposition: 0 for ``None``."""
        return 0 if disposition is None else disposition.code

    @classmethod
    def from_optional_code(cls, code: int) -> Disposition | None:
        """``None`` for code 0 (no disposition), else :meth:`from_code`."""
        return None if code == 0 else cls.from_code(code)


# --------------------------------------------------------------------------------------------
# Units and quantities
# --------------------------------------------------------------------------------------------

#: The accepted subset of UN/ECE Recommendation 20 unit codes (rev. 17), with their names.
#: Rec 20 has ~2,000 codes; trade documents use a handful. Add codes here as needed.
UNIT_CODES: Final[Mapping[str, str]] = {
    "KGM": "kilogram",
    "GRM": "gram",
    "TNE": "tonne (metric ton)",
    "LTR": "litre",
    "MLT": "millilitre",
    "HLT": "hectolitre",
    "LPA": "litre of pure alcohol",
    "MTQ": "cubic metre",
    "MTK": "square metre",
    "MTR": "metre",
    "C62": "one (piece, unit count)",
    "H87": "piece",
    "NAR": "number of articles",
    "NPR": "number of pairs",
    "PR": "pair",
    "SET": "set",
    "DZN": "dozen",
    "KWH": "kilowatt hour",
}


class UnitCode(_ValidatedStr):
    """A UN/ECE Recommendation 20 unit code from the accepted subset :data:`UNIT_CODES`.

    Rule: trimmed, upper-cased, and listed in :data:`UNIT_CODES` (``KGM``, ``TNE``, ``LTR``,
    ``MTQ``, ``C62``, ``NAR``, ...). On chain: ``bytes8`` (ASCII, zero-padded on the right).
    """

    __slots__ = ()
    field = "unit"
    error = InvalidUnit

    @classmethod
    def _normalise(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in UNIT_CODES:
            raise InvalidUnit(
                cls.field,
                "is not an accepted UN/ECE Recommendation 20 code "
                f"({', '.join(sorted(UNIT_CODES))})",
                value,
            )
        return code

    @property
    def description(self) -> str:
        """The unit's name, e.g. ``"kilogram"``."""
        return UNIT_CODES[self]

    def to_bytes8(self) -> bytes:
        """ASCII ``bytes8``, zero-padded on the right (``b"KGM\\x00\\x00\\x00\\x00\\x00"``)."""
        return _ascii_fixed(self, 8)

    @classmethod
    def from_bytes8(cls, raw: bytes) -> Self:
        """Decode and validate a ``bytes8`` value read from the chain."""
        return cls(_from_ascii_fixed(raw, size=8, field=cls.field, error=InvalidUnit))


#: Unit conversions that are exact: unit -> (dimension, size in the dimension's smallest unit).
#: Only units of the same dimension convert; the others (LPA, MTK, MTR, H87, NAR, NPR, PR, SET,
#: KWH) stand alone.
UNIT_CONVERSIONS: Final[Mapping[str, tuple[str, int]]] = {
    "GRM": ("mass", 1),
    "KGM": ("mass", 1_000),
    "TNE": ("mass", 1_000_000),
    "MLT": ("volume", 1),
    "LTR": ("volume", 1_000),
    "HLT": ("volume", 100_000),
    "MTQ": ("volume", 1_000_000),
    "C62": ("count", 1),
    "DZN": ("count", 12),
}

#: Fractional digits a quantity may have when entered (thousandths of its unit).
QUANTITY_DECIMALS: Final = 3
#: Largest on-chain quantity: the contracts' ``uint64`` (Certificates.sol), in whole units.
QUANTITY_MAX: Final = 2**64 - 1
_MILLI: Final = 10**QUANTITY_DECIMALS


def _to_milli(number: Decimal) -> int | None:
    """``number`` x 1000 as an exact ``int``, or ``None`` if it has more than 3 decimals.

    Works on the digits: ``Decimal`` arithmetic and ``normalize()`` round to the context
    precision (28 digits by default). The caller bounds the magnitude first, so the power of
    ten below stays small.
    """
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    end = len(digits)
    while end > 1 and digits[end - 1] == 0:  # trailing zeros are not fractional digits
        end -= 1
        exponent += 1
    if exponent < -QUANTITY_DECIMALS:
        return None
    mantissa = int("".join(map(str, digits[:end])))
    return (-1 if sign else 1) * mantissa * int(10 ** (exponent + QUANTITY_DECIMALS))


def _from_milli(milli: int) -> Decimal:
    """Exact inverse of :func:`_to_milli`, without trailing zeros (``12500`` -> ``12.5``)."""
    whole, fraction = divmod(milli, _MILLI)
    if not fraction:
        return Decimal(whole)
    return Decimal(f"{whole}.{f'{fraction:0{QUANTITY_DECIMALS}d}'.rstrip('0')}")


@dataclass(frozen=True, slots=True)
class Quantity:
    """A positive quantity of a unit, e.g. ``Quantity.parse("12.5", "TNE")``.

    Rule for the amount: a decimal string (``"12.5"``), ``int`` or ``Decimal`` -- never a
    ``float``, which cannot hold most decimals exactly -- that is finite, strictly positive and
    has at most :data:`QUANTITY_DECIMALS` (3) fractional digits (trailing zeros do not count:
    ``"1.2500"`` is 1.25). It is kept exactly, normalised (``Decimal("12.5")``).

    On chain (``contracts/RECORDS.md``, Certificates): the quantity is a ``uint64`` **whole
    number of its unit**, with the unit as ``bytes8``; fractions are recorded in a smaller unit.
    :meth:`to_chain` therefore refuses a fractional amount, and :meth:`to` converts exactly
    between units of one dimension (:data:`UNIT_CONVERSIONS`):
    ``Quantity.parse("12.5", "TNE").to("KGM").to_chain() == (12500, b"KGM\0\0\0\0\0")``.
    A drawdown carries no unit, so it must be expressed in its certificate's unit.
    """

    amount: Decimal
    unit: UnitCode

    def __post_init__(self) -> None:
        amount: object = self.amount
        if not isinstance(amount, Decimal):
            raise InvalidQuantity("quantity", "amount must be a Decimal (use Quantity.parse)")
        unit: object = self.unit
        if not isinstance(unit, UnitCode):
            object.__setattr__(self, "unit", UnitCode(unit))
        if not amount.is_finite():
            raise InvalidQuantity("quantity", "must be finite", amount)
        if amount <= 0:
            raise InvalidQuantity("quantity", "must be positive", amount)
        if amount > QUANTITY_MAX:  # exact comparison, before any scaling
            raise InvalidQuantity("quantity", f"must be at most {QUANTITY_MAX} (uint64)", amount)
        milli = _to_milli(amount)
        if milli is None:
            raise InvalidQuantity(
                "quantity", f"at most {QUANTITY_DECIMALS} fractional digits are allowed", amount
            )
        object.__setattr__(self, "amount", _from_milli(milli))

    @classmethod
    def parse(cls, amount: str | int | Decimal, unit: str) -> Quantity:
        """Validate a human amount and a unit code; see the class docstring for the rule."""
        return cls(amount=cls._decimal(amount), unit=UnitCode(unit))

    @staticmethod
    def _decimal(amount: object) -> Decimal:
        if isinstance(amount, float | bool):
            raise InvalidQuantity(
                "quantity", "must be a decimal string, int or Decimal, not float/bool", amount
            )
        if isinstance(amount, int):
            return Decimal(amount)
        if isinstance(amount, Decimal):
            return amount
        if isinstance(amount, str):
            if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", amount.strip()):
                raise InvalidQuantity(
                    "quantity", "must be a plain decimal number like '12.5'", amount
                )
            return Decimal(amount.strip())
        raise InvalidQuantity("quantity", "must be a decimal string, int or Decimal", amount)

    @property
    def is_whole(self) -> bool:
        """Whether the amount is a whole number of the unit (what the chain can record)."""
        return self.amount == self.amount.to_integral_value()

    def to(self, unit: str) -> Quantity:
        """The same quantity in another unit of its dimension, exactly.

        Raises :class:`~ledger.errors.InvalidQuantity` if the units do not convert
        (different dimensions, or a unit without conversions) or if the result would need
        more than 3 fractional digits (``Quantity.parse("1", "GRM").to("TNE")``).
        """
        target = UnitCode(unit)
        if target == self.unit:
            return self
        here, there = UNIT_CONVERSIONS.get(self.unit), UNIT_CONVERSIONS.get(target)
        if here is None or there is None or here[0] != there[0]:
            raise InvalidQuantity(
                "quantity", f"{self.unit} does not convert to {target}", str(self)
            )
        milli = _to_milli(self.amount)
        assert milli is not None  # guaranteed by construction
        scaled, remainder = divmod(milli * here[1], there[1])
        if remainder:
            raise InvalidQuantity(
                "quantity",
                f"in {target} it would need more than {QUANTITY_DECIMALS} fractional digits",
                str(self),
            )
        return Quantity(amount=_from_milli(scaled), unit=target)

    def to_chain(self) -> tuple[int, bytes]:
        """``(uint64 quantity, bytes8 unit)`` as the contracts take them.

        Raises :class:`~ledger.errors.InvalidQuantity` if the amount is not a whole number of
        the unit: convert it to a smaller unit first (:meth:`to`).
        """
        if not self.is_whole:
            raise InvalidQuantity(
                "quantity",
                "on chain a quantity is a whole number of its unit (contracts/RECORDS.md); "
                "convert it to a smaller unit first",
                str(self),
            )
        return (int(self.amount), self.unit.to_bytes8())

    @classmethod
    def from_chain(cls, quantity: int, unit: bytes) -> Quantity:
        """Inverse of :meth:`to_chain`."""
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidQuantity("quantity", "on-chain quantity must be an integer", quantity)
        return cls(amount=Decimal(quantity), unit=UnitCode.from_bytes8(unit))

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """As a pydantic field: ``{"amount": "12.5", "unit": "TNE"}`` in, the same out.

        ``amount`` is a JSON string or integer; a JSON float (``12.5``) is refused.
        """
        from pydantic_core import core_schema

        def from_mapping(data: Mapping[str, Any]) -> Quantity:
            return cls.parse(data["amount"], data["unit"])

        as_mapping = core_schema.no_info_after_validator_function(
            from_mapping,
            core_schema.typed_dict_schema(
                {
                    "amount": core_schema.typed_dict_field(
                        core_schema.union_schema(
                            [core_schema.str_schema(), core_schema.int_schema(strict=True)]
                        )
                    ),
                    "unit": core_schema.typed_dict_field(core_schema.str_schema()),
                }
            ),
        )
        to_mapping: Callable[[Quantity], dict[str, str]] = lambda q: {  # noqa: E731
            "amount": str(q.amount),
            "unit": str(q.unit),
        }
        return core_schema.json_or_python_schema(
            json_schema=as_mapping,
            python_schema=core_schema.union_schema(
                [core_schema.is_instance_schema(cls), as_mapping]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(to_mapping),
        )


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
