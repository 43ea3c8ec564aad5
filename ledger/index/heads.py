"""The consignment hash chain, recomputed from logs: the two EIP-712 digests and the head step.

Fast and hand-encoded (the follower computes them for every log it indexes), and equal to the
digests of :mod:`ledger.records` (the tests compare them): :func:`registration_digest` and
:func:`event_digest` give a record's EIP-712 digest from the values its log carries, and
:func:`next_head` is one step of the chain (contracts/RECORDS.md "Hash chain").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_hash.auto import keccak as _eth_keccak

from ledger.records import ConsignmentEvent, ConsignmentRegistration

__all__ = ["ZERO28", "event_digest", "next_head", "registration_digest"]

ZERO28 = bytes(28)


def _fast_keccak() -> Callable[[bytes], bytes]:
    """keccak256 straight through pycryptodome's C library (about twice as fast as going
    through its Python hash object); eth-hash's if that library is not available."""
    try:
        from Crypto.Hash import keccak as pycryptodome_keccak
        from Crypto.Util import _raw_api

        ffi: Any = getattr(_raw_api, "ffi")  # noqa: B009 - private, untyped
        lib: Any = getattr(pycryptodome_keccak, "_raw_keccak_lib")  # noqa: B009
        voidpp, out_t = ffi.typeof("void **"), ffi.typeof("uint8_t[32]")
        new, buffer = ffi.new, ffi.buffer
        init, absorb, digest, destroy = (
            lib.keccak_init,
            lib.keccak_absorb,
            lib.keccak_digest,
            lib.keccak_destroy,
        )

        def fast(data: bytes) -> bytes:
            pp = new(voidpp)
            init(pp, 64, 24)  # 512-bit capacity (keccak-256), 24 rounds
            state = pp[0]
            absorb(state, data, len(data))
            out = new(out_t)
            digest(state, out, 32, 0x01)  # original Keccak padding, not SHA-3's
            destroy(state)
            return bytes(buffer(out))

        if fast(b"") != _eth_keccak(b"") or fast(b"x" * 200) != _eth_keccak(b"x" * 200):
            return _eth_keccak
        return fast
    except Exception:  # any other pycryptodome build or backend: the portable path
        return _eth_keccak


keccak = _fast_keccak()

_EVENT_TYPEHASH = ConsignmentEvent.typehash()
_REGISTRATION_TYPEHASH = ConsignmentRegistration.typehash()


def _u(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _b(value: bytes) -> bytes:
    return value.ljust(32, b"\0")


def registration_digest(
    separator: bytes,
    *,
    reference_hash: bytes,
    origin: bytes,
    destination: bytes,
    consignor: bytes,
    consignee: bytes,
    deadline: int,
) -> bytes:
    """EIP-712 digest of a ConsignmentRegistration (``separator``: the Consignments domain's)."""
    struct = keccak(
        _REGISTRATION_TYPEHASH
        + reference_hash
        + _b(origin)
        + _b(destination)
        + consignor
        + consignee
        + _u(deadline)
    )
    return keccak(b"\x19\x01" + separator + struct)


def event_digest(
    separator: bytes,
    *,
    consignment_id: bytes,
    meta: bytes,
    seal_digest: bytes,
    documents_digest: bytes,
    epcis_event_hash: bytes,
) -> bytes:
    """EIP-712 digest of a ConsignmentEvent given its packed ``meta`` word."""
    biz, disp = meta[0], meta[1]
    location, event_time, container = meta[2:7], meta[7:12], meta[12:23]
    deadline, nonce = meta[23:28], meta[28:32]
    struct = keccak(
        _EVENT_TYPEHASH
        + consignment_id
        + _u(biz)
        + _u(disp)
        + _b(location)
        + event_time.rjust(32, b"\0")
        + _b(container)
        + seal_digest
        + documents_digest
        + epcis_event_hash
        + nonce.rjust(32, b"\0")
        + deadline.rjust(32, b"\0")
    )
    return keccak(b"\x19\x01" + separator + struct)


_ZERO12 = b"\0" * 12


def next_head(previous: bytes, digest: bytes, *, org_id: bytes, signer: bytes | str) -> bytes:
    """One step of the hash chain (contracts/RECORDS.md "Hash chain"):
    ``bytes28(keccak(abi.encode(bytes28 previous, bytes32 digest, bytes32 org_id, address
    signer)))``, where ``digest`` is the record's EIP-712 digest, ``org_id`` the acting
    organisation and ``signer`` the key that signed it (20 bytes or a 0x-hex address; for a
    batch-signed event, the batch signer). So a head also proves who signed each record of its
    chain."""
    if isinstance(signer, str):
        signer = bytes.fromhex(signer[2:])
    return keccak(previous[:28].ljust(32, b"\0") + digest + org_id + _ZERO12 + signer)[:28]
