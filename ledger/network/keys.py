"""secp256k1 keys for nodes and accounts: node ids, enode URLs and addresses.

A node's identity on the devp2p network is its public key (64 bytes, the uncompressed point
without the 0x04 prefix); its enode URL is ``enode://<id hex>@host:port``. Its address (the
QBFT validator address, the Clique signer address) is the last 20 bytes of the Keccak-256 of
that public key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from coincurve import PrivateKey
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ledger.errors import NetworkConfigError

__all__ = ["KeyPair"]

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class KeyPair:
    """A secp256k1 private key and what derives from it."""

    private_key: bytes

    def __post_init__(self) -> None:
        if len(self.private_key) != 32 or not 0 < int.from_bytes(self.private_key) < _SECP256K1_N:
            raise NetworkConfigError("a secp256k1 private key is 32 bytes in [1, n-1]")

    @classmethod
    def generate(cls) -> KeyPair:
        while True:
            candidate = secrets.token_bytes(32)
            if 0 < int.from_bytes(candidate) < _SECP256K1_N:
                return cls(candidate)

    @classmethod
    def from_hex(cls, text: str) -> KeyPair:
        try:
            return cls(bytes.fromhex(text.strip().removeprefix("0x")))
        except ValueError as exc:
            raise NetworkConfigError(f"not a hex private key: {exc}") from exc

    @property
    def private_hex(self) -> str:
        """The private key as 64 hex digits, no prefix (geth's ``nodekey`` file format)."""
        return self.private_key.hex()

    @property
    def public_key(self) -> bytes:
        """The 64-byte public key (uncompressed point without the 0x04 prefix)."""
        return PrivateKey(self.private_key).public_key.format(compressed=False)[1:]

    @property
    def node_id(self) -> str:
        """The devp2p node id: the public key in hex, no prefix."""
        return self.public_key.hex()

    @property
    def address(self) -> str:
        """The checksummed account address of this key."""
        return to_checksum_address(keccak(self.public_key)[-20:])

    def enode(self, host: str, port: int) -> str:
        return f"enode://{self.node_id}@{host}:{port}"
