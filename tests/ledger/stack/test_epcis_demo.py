"""The EPCIS demo (what `make run` records): the verifier finds the cloned serial, the serial
never commissioned and the duplicated container by default, and the demo's own consignment
stays clear of them."""

from __future__ import annotations

from ledger.chain import Ledger
from ledger.index import Index, epcis_store
from ledger.stack import DemoWorld
from ledger.stack.epcis_demo import DEMO_CONTAINER, DEMO_GTIN_EPC, seed_epcis_demo
from ledger.verify import Claim, Verifier

EPCIS_CODES = {"CLONED_SERIAL", "SERIAL_NOT_COMMISSIONED", "DUPLICATE_CONTAINER"}


def test_demo_clone_and_duplicate_container_are_found(
    ledger: Ledger, world: DemoWorld, index: Index
) -> None:
    store = epcis_store(index.engine)
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    refs = seed_epcis_demo(ledger, store, world, now=now)
    again = seed_epcis_demo(ledger, store, world, now=now)  # resumable: nothing twice
    assert again == refs
    index.sync()
    verifier = Verifier(ledger, index)

    suspect = verifier.verify(Claim(consignment_ref=refs["suspect_consignment"]))
    codes = {f.code for f in suspect.findings}
    assert codes >= EPCIS_CODES, codes
    clone = next(f for f in suspect.findings if f.code == "CLONED_SERIAL")
    assert f"{DEMO_GTIN_EPC}.1" in clone.explanation
    missing = next(f for f in suspect.findings if f.code == "SERIAL_NOT_COMMISSIONED")
    assert f"{DEMO_GTIN_EPC}.9" in missing.explanation
    duplicate = next(f for f in suspect.findings if f.code == "DUPLICATE_CONTAINER")
    assert DEMO_CONTAINER in duplicate.explanation
    assert "SGSIN" in duplicate.explanation

    genuine = verifier.verify(Claim(consignment_ref=world.consignment_ref))
    assert not ({f.code for f in genuine.findings} & EPCIS_CODES)
    checks = {c.name: c.outcome for c in genuine.checks}
    assert checks["containers"] == "passed"
    assert checks["captured serials"] == "skipped"  # no capture names the demo consignment


def test_demo_captures_are_committed_on_chain(
    ledger: Ledger, world: DemoWorld, index: Index
) -> None:
    store = epcis_store(index.engine)
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    seed_epcis_demo(ledger, store, world, now=now)
    rows = store.sightings(f"{DEMO_GTIN_EPC}.1")
    assert len(rows) == 3  # commissioned, shipped, and the clone's receiving
    for row in rows:
        capture = store.capture(row.capture_id)
        assert capture is not None
        committed = ledger.epcis.capture(bytes.fromhex(row.capture_id[2:]))
        assert committed.root == capture.root
        event = next(e for e in store.capture_events(row.capture_id) if e.hash_id == row.hash_id)
        proof = store.proof(row.capture_id, event.position)
        assert ledger.epcis.prove_event(committed.capture_id, event.digest, proof)
