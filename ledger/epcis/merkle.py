"""The Merkle tree a capture commits on chain, over its events' CBV 2.0 hash digests.

Built to be checked by OpenZeppelin's ``MerkleProof`` (``contracts/src/EpcisCaptures.sol``):
pairs are hashed sorted (``keccak256(min ‖ max)``, OpenZeppelin's commutative hash), so a proof
is just the list of siblings. A leaf is the event's 32-byte hash digest (the SHA-256 inside its
``ni:///sha-256;...`` id) hashed twice, ``keccak256(keccak256(digest))``, as OpenZeppelin's
standard tree does: a leaf can then never be mistaken for an inner node (second pre-image).

Leaves stay in document order; a level with an odd node carries it up unpaired. A tree of one
leaf has that leaf as its root and an empty proof.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_utils.crypto import keccak

from ledger.errors import EpcisError

__all__ = ["MerkleTree", "leaf_of", "verify_proof"]


def leaf_of(digest: bytes) -> bytes:
    """The leaf of an event: ``keccak256(bytes.concat(keccak256(abi.encode(digest))))``."""
    if len(digest) != 32:
        raise EpcisError("digest", "an event hash digest is 32 bytes", len(digest))
    return keccak(keccak(digest))


def _pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


@dataclass(frozen=True)
class MerkleTree:
    """A capture's tree; ``levels[0]`` are the leaves, ``levels[-1]`` is ``[root]``."""

    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def of_digests(cls, digests: Sequence[bytes]) -> MerkleTree:
        if not digests:
            raise EpcisError("eventList", "a capture commits at least one event", 0)
        level = tuple(leaf_of(d) for d in digests)
        levels = [level]
        while len(level) > 1:
            nxt = [_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            level = tuple(nxt)
            levels.append(level)
        return cls(tuple(levels))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def __len__(self) -> int:
        return len(self.levels[0])

    def proof(self, index: int) -> list[bytes]:
        """The siblings from leaf ``index`` up to the root (for ``MerkleProof.verify``)."""
        if not 0 <= index < len(self):
            raise EpcisError("index", f"the capture has {len(self)} events", index)
        out: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                out.append(level[sibling])
            index //= 2
        return out


def verify_proof(proof: Sequence[bytes], root: bytes, digest: bytes) -> bool:
    """Whether ``proof`` leads from the event with hash ``digest`` to ``root``."""
    node = leaf_of(digest)
    for sibling in proof:
        node = _pair(node, sibling)
    return node == root
