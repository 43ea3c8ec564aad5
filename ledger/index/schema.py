"""The index database schema (SQLAlchemy Core; SQLite and PostgreSQL).

Every table that holds chain data is **append-only** and each row carries the position of the
log it came from (``block_number``, ``block_hash``, ``tx_hash``, ``log_index``) and the block's
timestamp (``block_time``). State (an organisation's status, a certificate's drawn quantity,
an AEO certification's status at time t) is derived from these rows at query time, so undoing a
reorg is one ``DELETE ... WHERE block_number > fork`` per table. One count is kept in a row when
it is written, as it cannot change while the row exists: a registration's
``consignor_earlier`` (rows in earlier blocks are never added later; a reorg that would add
some removes this row first).

Ids and digests are stored as raw bytes (``BLOB`` / ``bytea``), addresses as their 20 bytes,
``uint64`` quantities as decimal text (SQLite and PostgreSQL ``BIGINT`` are signed 64-bit).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

__all__ = [
    "CHAIN_TABLES",
    "RawBytes",
    "Uint64",
    "aeo_status_changes",
    "attestation_revocations",
    "attestations",
    "blocks",
    "certificate_revocations",
    "certificates",
    "consignment_events",
    "consignments",
    "drawdowns",
    "findings",
    "metadata",
    "mra_events",
    "org_admissions",
    "org_status_changes",
    "raw_logs",
    "schemas",
    "signing_keys_added",
    "signing_keys_revoked",
    "state",
]


class Uint64(TypeDecorator[int]):
    """An unsigned 64-bit integer stored as decimal text (no signed-BIGINT overflow)."""

    impl = String(20)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class RawBytes(LargeBinary):
    """``BLOB`` / ``bytea`` bound as plain ``bytes`` (both drivers take them as they are): no
    per-value conversion on the hot insert path."""

    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


metadata = MetaData()

B32 = RawBytes(32)
ADDR = RawBytes(20)


def _position() -> list[Column[Any]]:
    """The log position columns every chain-data row carries; (block_number, log_index) is key."""
    return [
        Column("block_number", BigInteger, primary_key=True, autoincrement=False),
        Column("log_index", Integer, primary_key=True, autoincrement=False),
        Column("block_hash", B32, nullable=False),
        Column("tx_hash", B32, nullable=False),
        Column("block_time", BigInteger, nullable=False),
    ]


# ----------------------------------------------------------------------------------------------
# Bookkeeping
# ----------------------------------------------------------------------------------------------

state = Table(
    "index_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("chain_id", BigInteger, nullable=False),
    Column("deployment_block", BigInteger, nullable=False),
    Column("addresses", Text, nullable=False),  # "Name=0x..;Name=0x.." of the five contracts
    Column("cursor_block", BigInteger, nullable=False),  # last processed block
    Column("cursor_hash", B32, nullable=True),  # its hash (None before the first range)
    Column("updated_at", BigInteger, nullable=False),
)

# Hashes of recently processed blocks (range ends and blocks with logs): the fork-point search.
blocks = Table(
    "index_blocks",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("block_hash", B32, nullable=False),
)

# Logs as received, except ConsignmentEventRecorded (rebuilt from index_consignment_events).
raw_logs = Table(
    "index_raw_logs",
    metadata,
    *_position(),
    Column("tx_index", Integer, nullable=False),
    Column("address", ADDR, nullable=False),
    Column("contract", String(16), nullable=False),
    Column("event", String(40), nullable=False),
    Column("topic0", B32, nullable=True),
    Column("topic1", B32, nullable=True),
    Column("topic2", B32, nullable=True),
    Column("topic3", B32, nullable=True),
    Column("data", RawBytes, nullable=False),
    Column("consignment_id", B32, nullable=True),  # set on logs about a consignment
    Index("ix_index_raw_logs_consignment", "consignment_id"),
)

# Findings: head mismatches seen while indexing (block of the log) or by verify_heads().
findings = Table(
    "index_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # "log_head_mismatch" | "chain_head_mismatch"
    Column("consignment_id", B32, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("expected", B32, nullable=True),  # the chain's head (bytes28)
    Column("found", B32, nullable=True),  # the index's recomputed head
    Column("detail", Text, nullable=False),
    Column("recorded_at", BigInteger, nullable=False),  # wall-clock seconds
    Index("ix_index_findings_consignment", "consignment_id"),
)

# ----------------------------------------------------------------------------------------------
# Membership
# ----------------------------------------------------------------------------------------------

org_admissions = Table(
    "index_org_admissions",
    metadata,
    *_position(),
    Column("org_id", B32, nullable=False),
    Column("kind", Integer, nullable=False),
    Column("country", String(2), nullable=False),
    Column("org_index", BigInteger, nullable=False),
    Column("proposal_id", B32, nullable=False),
    Index("ix_index_org_admissions_org", "org_id"),
)

org_status_changes = Table(
    "index_org_status_changes",
    metadata,
    *_position(),
    Column("org_id", B32, nullable=False),
    Column("status", Integer, nullable=False),  # 1 active (reinstated), 2 suspended
    Column("proposal_id", B32, nullable=False),
    Index("ix_index_org_status_org", "org_id", "block_number"),
)

signing_keys_added = Table(
    "index_signing_keys_added",
    metadata,
    *_position(),
    Column("org_id", B32, nullable=False),
    Column("key", ADDR, nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_until", BigInteger, nullable=False),
    Column("signer", ADDR, nullable=False),
    Column("proposal_id", B32, nullable=False),
    Index("ix_index_keys_added_key", "key"),
    Index("ix_index_keys_added_org", "org_id"),
)

signing_keys_revoked = Table(
    "index_signing_keys_revoked",
    metadata,
    *_position(),
    Column("org_id", B32, nullable=False),
    Column("key", ADDR, nullable=False),
    Column("revoked_at", BigInteger, nullable=False),
    Column("signer", ADDR, nullable=False),
    Column("proposal_id", B32, nullable=False),
    Index("ix_index_keys_revoked_key", "key"),
)

# ----------------------------------------------------------------------------------------------
# Consignments
# ----------------------------------------------------------------------------------------------

consignments = Table(
    "index_consignments",
    metadata,
    *_position(),
    Column(
        "consignment_id", B32, nullable=False
    ),  # keccak256(abi.encode(registrant, reference_hash))
    Column("registrant", B32, nullable=False),
    Column("signer", ADDR, nullable=False),
    # keccak256 of the business key (the UCR); one reference may have several registrants.
    # NULL only in rows of index files made before the column was added
    Column("reference_hash", B32, nullable=True),
    Column("origin", String(2), nullable=False),
    Column("destination", String(2), nullable=False),
    Column("consignor", B32, nullable=False),
    Column("consignee", B32, nullable=False),
    # the registration's signed deadline (part of its digest); NULL only in rows of index files
    # made before the column was added
    Column("deadline", BigInteger, nullable=True),
    Column("digest", B32, nullable=False),  # EIP-712 digest of the registration
    Column("head", B32, nullable=False),  # recomputed head_0 (bytes28)
    Column("emitted_head", B32, nullable=False),  # head in the log
    # the consignor's consignments registered in earlier blocks (the risk score's history);
    # NULL in rows indexed before the column was added (counted when read)
    Column("consignor_earlier", BigInteger, nullable=True),
    Index("ix_index_consignments_id", "consignment_id"),
    Index("ix_index_consignments_reference", "reference_hash"),  # reference -> consignment ids
    Index("ix_index_consignments_consignor", "consignor", "block_number"),  # history (risk)
)

consignment_events = Table(
    "index_consignment_events",
    metadata,
    *_position(),
    Column("tx_index", Integer, nullable=False),
    Column("consignment_id", B32, nullable=False),
    Column("seq", BigInteger, nullable=False),  # eventCount after this event (1-based)
    Column("org_id", B32, nullable=False),
    Column("signer", ADDR, nullable=False),
    Column("biz_step", Integer, nullable=False),
    Column("disposition", Integer, nullable=False),
    Column("location", String(5), nullable=False),
    Column("event_time", BigInteger, nullable=False),
    Column("container", String(11), nullable=True),
    Column("seal_digest", B32, nullable=False),
    Column("documents_digest", B32, nullable=False),
    Column("epcis_event_hash", B32, nullable=False),
    Column("nonce", BigInteger, nullable=False),
    Column("deadline", BigInteger, nullable=False),
    Column("digest", B32, nullable=False),  # EIP-712 digest of the event record
    Column("head", B32, nullable=False),  # recomputed head after this event (bytes28)
    Column("emitted_head", B32, nullable=False),  # head in the log
    Index("ix_index_events_consignment_seq", "consignment_id", "seq"),
    Index("ix_index_events_container", "container"),
)

# ----------------------------------------------------------------------------------------------
# Certificates of origin
# ----------------------------------------------------------------------------------------------

certificates = Table(
    "index_certificates",
    metadata,
    *_position(),
    Column("certificate_id", B32, nullable=False),
    Column("issuer", B32, nullable=False),
    Column("exporter", B32, nullable=False),
    Column("signer", ADDR, nullable=False),
    Column("certificate_number", B32, nullable=False),
    Column("origin", String(2), nullable=False),
    Column("destination", String(2), nullable=False),
    Column("document_digest", B32, nullable=False),
    Column("hs_codes_digest", B32, nullable=False),
    Column("quantity", Uint64, nullable=False),
    Column("unit", String(8), nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_until", BigInteger, nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Index("ix_index_certificates_id", "certificate_id"),
    Index("ix_index_certificates_exporter", "exporter"),
)

certificate_revocations = Table(
    "index_certificate_revocations",
    metadata,
    *_position(),
    Column("certificate_id", B32, nullable=False),
    Column("issuer", B32, nullable=False),
    Column("signer", ADDR, nullable=False),
    Column("reason_digest", B32, nullable=False),
    Index("ix_index_certificate_revocations_id", "certificate_id"),
)

drawdowns = Table(
    "index_drawdowns",
    metadata,
    *_position(),
    Column("certificate_id", B32, nullable=False),
    Column("consignment_id", B32, nullable=False),
    Column("org_id", B32, nullable=False),
    Column("signer", ADDR, nullable=False),
    Column("quantity", Uint64, nullable=False),
    Column("drawn", Uint64, nullable=False),  # the certificate's total drawn after this one
    Index("ix_index_drawdowns_certificate", "certificate_id"),
    Index("ix_index_drawdowns_consignment", "consignment_id"),
)

# ----------------------------------------------------------------------------------------------
# Attestations
# ----------------------------------------------------------------------------------------------

schemas = Table(
    "index_schemas",
    metadata,
    *_position(),
    Column("schema_id", B32, nullable=False),
    Column("registrant", B32, nullable=False),
    Column("signer", ADDR, nullable=False),
    Column("definition", Text, nullable=False),
    Index("ix_index_schemas_id", "schema_id"),
)

attestations = Table(
    "index_attestations",
    metadata,
    *_position(),
    Column("uid", B32, nullable=False),
    Column("subject_id", B32, nullable=False),
    Column("attester", B32, nullable=False),
    Column("signer", ADDR, nullable=False),
    Column("schema_id", B32, nullable=False),
    Column("subject_type", Integer, nullable=False),
    Column("data_digest", B32, nullable=False),
    Column("ref_uid", B32, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_index_attestations_uid", "uid"),
    Index("ix_index_attestations_subject", "subject_id"),
)

attestation_revocations = Table(
    "index_attestation_revocations",
    metadata,
    *_position(),
    Column("uid", B32, nullable=False),
    Column("attester", B32, nullable=False),
    Column("signer", ADDR, nullable=False),
    Column("reason_digest", B32, nullable=False),
    Index("ix_index_attestation_revocations_uid", "uid"),
)

# ----------------------------------------------------------------------------------------------
# AEO certifications and MRAs
# ----------------------------------------------------------------------------------------------

aeo_status_changes = Table(
    "index_aeo_status_changes",
    metadata,
    *_position(),
    Column("certification_id", B32, nullable=False),
    Column("operator_id", B32, nullable=False),
    Column("administration", B32, nullable=False),
    Column("action", Integer, nullable=False),  # 1 certify, 2 suspend, 3 reinstate, 4 revoke
    Column("status", Integer, nullable=False),  # after the change: 1 active, 2 suspended, 3 revoked
    Column("programme", String(8), nullable=True),  # CERTIFY only
    Column("valid_from", BigInteger, nullable=True),  # CERTIFY only
    Column("valid_until", BigInteger, nullable=True),  # CERTIFY only
    Column("signer", ADDR, nullable=False),
    Column("nonce", BigInteger, nullable=False),
    Index("ix_index_aeo_certification", "certification_id", "block_number"),
    Index("ix_index_aeo_operator", "operator_id"),
)

mra_events = Table(
    "index_mra_events",
    metadata,
    *_position(),
    Column("mra_id", B32, nullable=False),
    Column("kind", String(10), nullable=False),  # proposed | accepted | terminated
    Column("proposer", B32, nullable=True),  # proposed, accepted
    Column("counterpart", B32, nullable=True),  # proposed, accepted
    Column("by_org", B32, nullable=True),  # terminated
    Column("signer", ADDR, nullable=False),
    Column("scope", BigInteger, nullable=True),  # proposed
    Column("valid_from", BigInteger, nullable=True),  # proposed
    Column("valid_until", BigInteger, nullable=True),  # proposed
    Index("ix_index_mra_id", "mra_id"),
    Index("ix_index_mra_parties", "proposer", "counterpart"),
)

#: Tables whose rows come from logs: a reorg deletes their rows above the fork point.
CHAIN_TABLES: tuple[Table, ...] = (
    raw_logs,
    org_admissions,
    org_status_changes,
    signing_keys_added,
    signing_keys_revoked,
    consignments,
    consignment_events,
    certificates,
    certificate_revocations,
    drawdowns,
    schemas,
    attestations,
    attestation_revocations,
    aeo_status_changes,
    mra_events,
)
