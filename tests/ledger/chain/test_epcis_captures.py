"""EpcisCaptures from Python: the Capture type and struct hash equal the contract's, and the
Merkle trees of ledger.epcis.merkle prove every event on chain (OpenZeppelin MerkleProof)."""

from __future__ import annotations

import hashlib

import pytest

from ledger.chain import Ledger
from ledger.chain.contract_errors import ContractError
from ledger.epcis.merkle import MerkleTree
from ledger.records import EpcisCapture
from ledger.stack import DemoWorld


def _capture(ledger: Ledger, tree: MerkleTree, salt: bytes) -> EpcisCapture:
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    return EpcisCapture(
        capture_id=hashlib.sha256(salt).digest(),
        root=tree.root,
        event_count=len(tree),
        captured_at=now,
        deadline=now + 3600,
    )


def test_capture_type_matches_the_contract(ledger: Ledger) -> None:
    tree = MerkleTree.of_digests([hashlib.sha256(b"e").digest()])
    record = _capture(ledger, tree, b"type")
    assert ledger.epcis.call("CAPTURE_TYPEHASH") == record.typehash()
    assert ledger.epcis.call("hashCapture", record.onchain()) == record.struct_hash()


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 33])
def test_every_event_is_proven_on_chain(ledger: Ledger, world: DemoWorld, size: int) -> None:
    digests = [hashlib.sha256(f"event {size} {i}".encode()).digest() for i in range(size)]
    tree = MerkleTree.of_digests(digests)
    record = _capture(ledger, tree, f"size {size}".encode())
    ledger.submit(ledger.sign(record, world.parties["carrier"].private_key))
    committed = ledger.epcis.capture(record.capture_id)
    assert committed.root == tree.root
    assert committed.org_id == world.parties["carrier"].org_id
    for i, digest in enumerate(digests):
        assert ledger.epcis.prove_event(record.capture_id, digest, tree.proof(i))
    other = hashlib.sha256(b"not captured").digest()
    assert not ledger.epcis.prove_event(record.capture_id, other, tree.proof(0))


def test_unknown_capture_reverts(ledger: Ledger) -> None:
    with pytest.raises(ContractError) as caught:
        ledger.epcis.capture(bytes(32))
    assert caught.value.name == "UnknownCapture"
