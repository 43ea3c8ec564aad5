"""Code lists: the UN/LOCODE list and the HS 2022 nomenclature, loaded from CSV, and the
configured set that input is checked against.

The format rules of :class:`~ledger.records.values.Locode` and
:class:`~ledger.records.values.HsCode` say whether a code is well formed; the lists here say
whether it exists. :class:`LocodeDirectory` and :class:`HsNomenclature` hold them (names,
functions and coordinates of locations; :func:`great_circle_km` measures between them) and
load them from CSV files; :class:`CodeLists` holds a pair and checks input against them. The
lists shipped with the library, and in force by default, are in :mod:`.packaged_lists`;
``Settings.code_lists()`` (settings ``unlocode_csv`` and ``hs_csv``) can name others.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ledger.errors import ConfigurationError, InvalidHsCode, InvalidLocode, ValidationError
from ledger.records.values import HsCode, Locode, _locode_country_ok, hs_codes_digest

__all__ = [
    "LOCODE_FUNCTIONS",
    "CodeLists",
    "HsNomenclature",
    "LocodeDirectory",
    "LocodeEntry",
    "great_circle_km",
]


# --------------------------------------------------------------------------------------------
# UN/LOCODE list
# --------------------------------------------------------------------------------------------


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

    __slots__ = ("_decode", "_rows")

    def __init__(self, rows: Mapping[str, _Row]) -> None:
        self._rows: dict[str, _Row | str] = dict(rows)
        self._decode: Callable[[str], _Row] | None = None

    @classmethod
    def from_lines(cls, lines: dict[str, str], decode: Callable[[str], _Row]) -> LocodeDirectory:
        """A directory kept compact: one line of text per code, decoded by ``decode`` on lookup
        (the packaged list, :mod:`.packaged_lists`)."""
        directory = cls({})
        directory._rows = dict(lines)
        directory._decode = decode
        return directory

    def _row(self, key: str) -> _Row | None:
        row = self._rows.get(key)
        if isinstance(row, str):
            assert self._decode is not None
            return self._decode(row)
        return row

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
        row = self._row(key)
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
            raise InvalidLocode(Locode.field, "is not in the UN/LOCODE list", str(code))
        return found

    def coordinates(self, code: str) -> tuple[float, float] | None:
        """``(latitude, longitude)`` in degrees if the loaded files give them, else ``None``."""
        row = self._row(self._key(code))
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
# HS 2022 nomenclature
# --------------------------------------------------------------------------------------------


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

    ``locodes`` (the UN/LOCODE list) and ``hs`` (the HS 2022 nomenclature): a well-formed code
    that the list does not hold is refused. A ``CodeLists`` built by hand may leave one
    ``None`` (then only the format rule applies); the lists in force never do
    (:func:`~.packaged_lists.active_code_lists`). Errors name the
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
