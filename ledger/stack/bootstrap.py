"""The bootstrap file for a production deployment: the first customs administrations.

A TOML file, for example::

    threshold = 2
    relayers = ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]

    [[administrations]]
    name = "Australian Border Force"      # org id = keccak256(name) unless org_id is given
    country = "AU"
    key = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    valid_from = "2026-01-01T00:00:00Z"   # RFC 3339, or unix seconds
    valid_until = "2031-01-01T00:00:00Z"

    [[administrations]]
    name = "General Administration of Customs of China"
    country = "CN"
    key = "0x..."
    valid_from = 1767225600
    valid_until = 1924992000

Every field is checked, and an error names the entry and the field.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from ledger.chain import Bootstrap, BootstrapAdministration
from ledger.errors import ConfigurationError
from ledger.records import CountryCode

__all__ = ["load_bootstrap"]


def _time(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                raise ConfigurationError(f"{where}: give a time zone (e.g. Z) in {value!r}")
            return int(parsed.timestamp())
    raise ConfigurationError(f"{where}: must be RFC 3339 time or unix seconds, got {value!r}")


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ConfigurationError(f"{where}: must be a 20-byte hex address, got {value!r}")
    return to_checksum_address(value)


def load_bootstrap(path: Path) -> Bootstrap:
    """Read and check a bootstrap file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read bootstrap file {path}: {exc}") from exc
    entries = data.get("administrations")
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(f"{path}: needs at least one [[administrations]] entry")
    admins = []
    for i, entry in enumerate(entries):
        where = f"{path}: administrations[{i}]"
        if "org_id" in entry:
            raw = str(entry["org_id"])
            org = bytes.fromhex(raw.removeprefix("0x")) if len(raw) in (64, 66) else b""
            if len(org) != 32:
                raise ConfigurationError(f"{where}.org_id: must be 32 bytes of hex")
        elif isinstance(entry.get("name"), str) and entry["name"].strip():
            org = keccak(text=entry["name"].strip())
        else:
            raise ConfigurationError(f"{where}: give a name or an org_id")
        try:
            country = CountryCode(entry.get("country"))
        except ValueError as exc:
            raise ConfigurationError(f"{where}.country: {exc}") from exc
        valid_from = _time(entry.get("valid_from"), f"{where}.valid_from")
        valid_until = _time(entry.get("valid_until"), f"{where}.valid_until")
        if valid_until <= valid_from:
            raise ConfigurationError(f"{where}: valid_until must be after valid_from")
        admins.append(
            BootstrapAdministration(
                org,
                str(country),
                _address(entry.get("key"), f"{where}.key"),
                valid_from,
                valid_until,
            )
        )
    relayers = data.get("relayers", [])
    if not isinstance(relayers, list) or not relayers:
        raise ConfigurationError(f"{path}: relayers must list at least one relayer address")
    threshold = data.get("threshold", len(admins))
    if not isinstance(threshold, int) or not 1 <= threshold <= len(admins):
        raise ConfigurationError(
            f"{path}: threshold must be between 1 and the number of administrations "
            f"({len(admins)}), got {threshold!r}"
        )
    return Bootstrap(
        tuple(admins),
        tuple(_address(r, f"{path}: relayers[{i}]") for i, r in enumerate(relayers)),
        threshold,
    )
