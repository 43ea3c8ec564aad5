"""GS1 EPCIS 2.0 and CBV 2.0: event hash IDs and the GS1 identifiers events carry.

Owns: the CBV 2.0 event hash ID of EPCIS 2.0 JSON/JSON-LD events and documents
(:mod:`.hashing`: ``ni:///sha-256;<hex>?ver=CBV2.0``, the canonical pre-hash string), the
GS1 keys of EPCIS (:mod:`.identifiers`: SGTIN, SSCC, SGLN, GRAI, GIAI, LGTIN, GLN and more,
read from EPC URNs and GS1 Digital Link URIs, check digits validated, written in the
constrained canonical Digital Link form), the CBV words that JSON-LD lets a document write
bare (:mod:`.vocabulary`), capture documents checked against GS1's EPCIS 2.0 JSON Schema and
CBV 2.0 (:mod:`.validation`), what a query needs of each event (:mod:`.events`), the Merkle
tree a capture commits on chain (:mod:`.merkle`) and the ``ledger epcis`` commands
(:mod:`.cli`). Its errors are in the one tree of :mod:`ledger.errors`, under ``EpcisError``.

May import: :mod:`ledger.errors`, :mod:`ledger.records` and third-party packages only. It
knows nothing of chains, databases or HTTP; :mod:`ledger.verify` may use it, not the reverse.
"""

from ledger.epcis.hashing import (
    HASH_VERSION,
    canonical_time,
    document_events,
    document_hash_ids,
    document_prehashes,
    event_hash_digest,
    event_hash_id,
    event_prehash,
    hash_id_of_prehash,
    load_document,
)
from ledger.epcis.identifiers import (
    Gs1Key,
    canonical_digital_link,
    check_digit,
    parse_digital_link,
    parse_epc_urn,
    parse_gs1_key,
)
from ledger.errors import (
    CheckDigitMismatch,
    EpcisError,
    InvalidEpcisDocument,
    InvalidEpcisEvent,
    InvalidGs1Identifier,
)

__all__ = [
    "HASH_VERSION",
    "CheckDigitMismatch",
    "EpcisError",
    "Gs1Key",
    "InvalidEpcisDocument",
    "InvalidEpcisEvent",
    "InvalidGs1Identifier",
    "canonical_digital_link",
    "canonical_time",
    "check_digit",
    "document_events",
    "document_hash_ids",
    "document_prehashes",
    "event_hash_digest",
    "event_hash_id",
    "event_prehash",
    "hash_id_of_prehash",
    "load_document",
    "parse_digital_link",
    "parse_epc_urn",
    "parse_gs1_key",
]
