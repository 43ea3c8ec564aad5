"""The log index: contract logs followed into a database, and the queries over it.

Owns: the follower that reads the suite's logs, survives reorgs and cross-checks on-chain heads
(:mod:`.follower`), with the decoding of logs into rows (:mod:`.logs`), the writing of a range
(:mod:`.writer`) and the consignment hash chain recomputed from logs (:mod:`.heads`); the
database schema (:mod:`.schema`; SQLite and PostgreSQL), the read models (:mod:`.models`) and
the queries that build them (:mod:`.queries`), and the one encoding of stored values they share
(:mod:`.codec`). :mod:`.codec`, :mod:`.logs` and :mod:`.writer` are private to the package.
Beside the logs, on the same database: captured EPCIS 2.0 documents, their events for the
standard's queries, and where each serial and logistic unit was (:mod:`.epcis`).

May import: :mod:`ledger.errors`, :mod:`ledger.records`, :mod:`ledger.chain`, :mod:`ledger.epcis`.
"""

from ledger.index.epcis import (
    CaptureRow,
    EpcisStore,
    EventQuery,
    EventRow,
    Sighting,
    epcis_store,
)
from ledger.index.follower import DEFAULT_SPAN, Index
from ledger.index.heads import event_digest, next_head, registration_digest
from ledger.index.models import (
    AeoStatus,
    AttestationRecord,
    CertificateRecord,
    ConsignmentRecord,
    ConsignmentView,
    DrawdownRecord,
    Finding,
    HeadVerification,
    KeyRecord,
    KeyValidity,
    MraRecord,
    OrganisationRecord,
    RawLog,
    SyncResult,
    TimelineEvent,
)
from ledger.index.queries import IndexQueries
from ledger.index.schema import (
    CHAIN_TABLES,
    RawBytes,
    Uint64,
    aeo_status_changes,
    attestation_revocations,
    attestations,
    blocks,
    certificate_revocations,
    certificates,
    consignment_events,
    consignments,
    drawdowns,
    findings,
    metadata,
    mra_events,
    org_admissions,
    org_status_changes,
    raw_logs,
    schemas,
    signing_keys_added,
    signing_keys_revoked,
    state,
)

__all__ = [
    "CHAIN_TABLES",
    "DEFAULT_SPAN",
    "AeoStatus",
    "AttestationRecord",
    "CaptureRow",
    "CertificateRecord",
    "ConsignmentRecord",
    "ConsignmentView",
    "DrawdownRecord",
    "EpcisStore",
    "EventQuery",
    "EventRow",
    "Finding",
    "HeadVerification",
    "Index",
    "IndexQueries",
    "KeyRecord",
    "KeyValidity",
    "MraRecord",
    "OrganisationRecord",
    "RawBytes",
    "RawLog",
    "Sighting",
    "SyncResult",
    "TimelineEvent",
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
    "epcis_store",
    "event_digest",
    "findings",
    "metadata",
    "mra_events",
    "next_head",
    "org_admissions",
    "org_status_changes",
    "raw_logs",
    "registration_digest",
    "schemas",
    "signing_keys_added",
    "signing_keys_revoked",
    "state",
]
