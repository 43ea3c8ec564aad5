"""The EPCIS benchmark's documents are conformant captures, and the reference implementation
(the peer) gives the same hash ids as ours on them."""

from __future__ import annotations

import json

import pytest
from epcis_event_hash_generator.hash_generator import epcis_hashes_from_events
from epcis_event_hash_generator.json_to_py import event_list_from_epcis_document_str

from bench.epcis import PEER_CONTEXT, capture_document
from ledger.epcis import document_hash_ids
from ledger.epcis.validation import check_document


def test_benchmark_document_is_a_valid_capture() -> None:
    document = capture_document(9)
    assert check_document(document) == []
    assert len(set(document_hash_ids(document))) == 9


# The reference implementation reads its bundled JSON-LD context with importlib.resources'
# deprecated open_text.
@pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")
def test_peer_agrees_on_the_benchmark_document() -> None:
    document = capture_document(6, salt=3)
    document["@context"] = [PEER_CONTEXT]
    theirs = epcis_hashes_from_events(event_list_from_epcis_document_str(json.dumps(document)))
    assert theirs == document_hash_ids(document)
