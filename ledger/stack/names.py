"""Organisation names: the chain knows members by id only; people know them by name.

An organisation id is ``keccak256(name)`` (:func:`ledger.chain.org_id`) unless a bootstrap
file gave an explicit ``org_id``, so a name is its own proof: :class:`OrganisationNames` keeps
a name under the id it hashes to, and an id is shown with the name only if one is known.
The names known to a stack:

* the demo world's organisations (:data:`~ledger.stack.DEMO_PARTIES`), always: on a chain
  that does not have them as members, their ids are simply never looked up;
* the names of the bootstrap file's administrations, recorded by :func:`record_names` in
  ``<data_dir>/organisation-names.json`` when a deployment is made or re-used with one;
* whatever an operator adds to that file: a JSON object ``{"<name>": "<0x org id>"}``, or
  ``{"<name>": null}`` for a name whose id is its hash (members admitted later by governance);
* names a caller typed (a claim's AEO operators, issuer, administration): :meth:`with_names`.

A name given with an id it does not hash to is kept (a bootstrap file may do that), but only
from the file, which only the operator writes.
"""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from ledger.chain import org_id
from ledger.errors import ConfigurationError
from ledger.stack.demo import DEMO_PARTIES

__all__ = ["NAMES_FILE", "OrganisationNames", "bootstrap_names", "record_names"]

log = logging.getLogger("ledger.stack.names")

NAMES_FILE = "organisation-names.json"


class OrganisationNames(Mapping[bytes, str]):
    """Organisation id -> name (see the module docstring)."""

    __slots__ = ("_names",)

    def __init__(self, names: Mapping[bytes, str] | None = None) -> None:
        self._names: dict[bytes, str] = dict(names or {})

    @classmethod
    def of(cls, names: Iterable[str]) -> OrganisationNames:
        """Each name under its own hash."""
        return cls({org_id(n.strip()): n.strip() for n in names if n.strip()})

    @classmethod
    def known(cls, data_dir: Path | None = None) -> OrganisationNames:
        """The demo world's names, then those of ``<data_dir>/organisation-names.json``."""
        book = cls.of(p.name for p in DEMO_PARTIES)
        if data_dir is not None:
            book._names.update(_read(data_dir / NAMES_FILE))
        return book

    def with_names(self, names: Iterable[str]) -> OrganisationNames:
        """This book plus ``names``, each under its own hash (an existing entry stays)."""
        return OrganisationNames({**OrganisationNames.of(names), **self._names})

    def __getitem__(self, key: bytes) -> str:
        return self._names[key]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _read(path: Path) -> dict[bytes, str]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"organisation names file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"organisation names file {path}: must be a JSON object")
    out: dict[bytes, str] = {}
    for name, given in data.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"organisation names file {path}: empty name")
        if given is None:
            out[org_id(name.strip())] = name.strip()
            continue
        raw = given.removeprefix("0x") if isinstance(given, str) else ""
        try:
            org = bytes.fromhex(raw)
        except ValueError:
            org = b""
        if len(org) != 32:
            raise ConfigurationError(
                f"organisation names file {path}: {name!r}: the id must be 0x and 64 hex "
                "digits, or null"
            )
        out[org] = name.strip()
    return out


def record_names(data_dir: Path, names: Mapping[str, bytes]) -> None:
    """Add ``names`` (name -> org id) to ``<data_dir>/organisation-names.json``."""
    if not names:
        return
    path = data_dir / NAMES_FILE
    current: dict[str, str | None] = {}
    if path.is_file():
        _read(path)  # refuse to extend a file that does not read
        current = json.loads(path.read_text(encoding="utf-8"))
    for name, org in names.items():
        current[name] = None if org == org_id(name) else "0x" + org.hex()
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    log.info("organisation names: %d recorded in %s", len(names), path)


def bootstrap_names(path: Path) -> dict[str, bytes]:
    """name -> org id of the bootstrap file's administrations that have a name (the file is
    checked by :func:`~ledger.stack.load_bootstrap`; this reads only the names)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read bootstrap file {path}: {exc}") from exc
    out: dict[str, bytes] = {}
    for entry in data.get("administrations") or ():
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip():
            continue
        given = entry.get("org_id")
        if given is None:
            out[name.strip()] = org_id(name.strip())
        else:
            out[name.strip()] = bytes.fromhex(str(given).removeprefix("0x"))
    return out
