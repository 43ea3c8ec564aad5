"""How the index stores chain values: ``bytesN`` text, hex, addresses and the packed event word.

Shared by the follower that writes rows (:mod:`ledger.index.follower`), the read models
(:mod:`ledger.index.models`) and the queries (:mod:`ledger.index.queries`), so that a value is
written and read back the same way. Private to :mod:`ledger.index`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address


def _pack_meta(
    *,
    biz_step: int,
    disposition: int,
    location: bytes,
    event_time: int,
    container: bytes,
    deadline: int,
    nonce: int,
) -> bytes:
    return (
        bytes([biz_step, disposition])
        + location
        + event_time.to_bytes(5, "big")
        + container
        + deadline.to_bytes(5, "big")
        + nonce.to_bytes(4, "big")
    )


def _text(raw: bytes) -> str:
    """``bytesN`` ASCII to text; latin-1 so that every byte value round-trips."""
    return raw.rstrip(b"\0").decode("latin-1")


def _raw(text: str, size: int) -> bytes:
    return text.encode("latin-1").ljust(size, b"\0")


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def _addr(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value[-20:])
    return bytes.fromhex(str(value)[2:])


@lru_cache(maxsize=8192)
def _checksum(raw: bytes) -> ChecksumAddress:
    return to_checksum_address(raw)
