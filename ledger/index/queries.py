"""Queries over the index database.

:class:`IndexQueries` needs only the database (SQLAlchemy Core; SQLite or PostgreSQL), so a
process that serves queries can open an index that another process keeps in step with the chain
(:class:`ledger.index.follower.Index`, which adds syncing and head verification to these queries).
All state is derived from the append-only tables of :mod:`ledger.index.schema` at query time; the
read models the queries return are in :mod:`ledger.index.models`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from sqlalchemy import Connection, Engine, Row, and_, bindparam, exists, func, or_, select

from ledger.chain import contract_abi
from ledger.index.codec import _addr, _checksum, _hex, _pack_meta, _raw
from ledger.index.models import (
    AeoStatus,
    AttestationRecord,
    CertificateRecord,
    ConsignmentRecord,
    ConsignmentView,
    DrawdownRecord,
    Finding,
    KeyRecord,
    KeyValidity,
    MraRecord,
    OrganisationRecord,
    RawLog,
    TimelineEvent,
)
from ledger.index.schema import (
    CHAIN_TABLES,
    aeo_status_changes,
    attestation_revocations,
    attestations,
    certificate_revocations,
    certificates,
    consignment_events,
    consignments,
    drawdowns,
    findings,
    mra_events,
    org_admissions,
    org_status_changes,
    raw_logs,
    signing_keys_added,
    signing_keys_revoked,
    state,
)
from ledger.records import BUSINESS_STEP_CODES, DISPOSITION_CODES

__all__ = ["IndexQueries"]

_BIZ_WORDS = {code: word for word, code in BUSINESS_STEP_CODES.items()}
_DISP_WORDS = {code: word for word, code in DISPOSITION_CODES.items()}
_KIND_NAMES = {1: "customs", 2: "carrier", 3: "trader", 4: "issuing_body", 5: "postal_operator"}
_ORG_STATUS = {1: "active", 2: "suspended"}
_AEO_STATUS = {1: "active", 2: "suspended", 3: "revoked"}


# Statements of the per-consignment queries, built once (parameters bound at execution): the
# expression building would otherwise cost about as much as running them.
_CONSIGNMENT = select(consignments).where(consignments.c.consignment_id == bindparam("cid"))
_LAST_EVENT = (
    select(consignment_events.c.head, consignment_events.c.seq)
    .where(consignment_events.c.consignment_id == bindparam("cid"))
    .order_by(consignment_events.c.seq.desc())
    .limit(1)
)
_TIMELINE = (
    select(consignment_events)
    .where(consignment_events.c.consignment_id == bindparam("cid"))
    .order_by(consignment_events.c.seq)
)
_DRAWDOWNS_OF_CONSIGNMENT = (
    select(drawdowns)
    .where(drawdowns.c.consignment_id == bindparam("cid"))
    .order_by(drawdowns.c.block_number, drawdowns.c.log_index)
)


def _attestation_query(condition: Any) -> Any:
    """Attestations with their revocation (if any), in chain order."""
    revoked = attestation_revocations.alias("revoked")
    return (
        select(
            attestations,
            revoked.c.block_time.label("revoked_at"),
            revoked.c.reason_digest.label("revocation_reason"),
        )
        .outerjoin(revoked, revoked.c.uid == attestations.c.uid)
        .where(condition)
        .order_by(attestations.c.block_number, attestations.c.log_index)
    )


_ATTESTATIONS_FOR = _attestation_query(attestations.c.subject_id == bindparam("key"))
_ATTESTATION = _attestation_query(attestations.c.uid == bindparam("key"))
# A consignor's history: its consignments in earlier blocks, a revoked certificate of it, an
# AEO sanction of it (the record alone, when the count is kept with the registration).
_CONSIGNOR_REVOKED = (
    exists()
    .where(
        certificates.c.exporter == bindparam("consignor"),
        certificate_revocations.c.certificate_id == certificates.c.certificate_id,
    )
    .select_from(certificates, certificate_revocations)
)
_CONSIGNOR_SANCTIONED = exists().where(
    aeo_status_changes.c.operator_id == bindparam("consignor"),
    aeo_status_changes.c.action.in_([2, 4]),  # suspended, revoked
)
_CONSIGNOR_EARLIER = (
    select(func.count())
    .where(
        consignments.c.consignor == bindparam("consignor"),
        consignments.c.block_number < bindparam("block"),
    )
    .scalar_subquery()
)
_CONSIGNOR_HISTORY = select(_CONSIGNOR_EARLIER, _CONSIGNOR_REVOKED, _CONSIGNOR_SANCTIONED)
_CONSIGNOR_RECORD = select(_CONSIGNOR_REVOKED, _CONSIGNOR_SANCTIONED)


# ----------------------------------------------------------------------------------------------
# Queries
# ----------------------------------------------------------------------------------------------


class IndexQueries:
    """Read-only queries over an index database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._event_topic0 = contract_abi("Consignments").event("ConsignmentEventRecorded").topic0
        self._consignments_address: ChecksumAddress | None = None

    def _consignments(self) -> ChecksumAddress:
        """The Consignments address the index follows (from its state row)."""
        if self._consignments_address is None:
            with self.engine.connect() as conn:
                addresses = str(conn.execute(select(state.c.addresses)).scalar_one())
            named = dict(part.split("=", 1) for part in addresses.split(";"))
            self._consignments_address = to_checksum_address(named["Consignments"])
        return self._consignments_address

    def findings(self, consignment_id: bytes | None = None) -> list[Finding]:
        """Head mismatches recorded while indexing or by :meth:`verify_heads`."""
        query = select(findings).order_by(findings.c.id)
        if consignment_id is not None:
            query = query.where(findings.c.consignment_id == consignment_id)
        with self.engine.connect() as conn:
            return [
                Finding(
                    r.kind,
                    bytes(r.consignment_id),
                    r.block_number,
                    None if r.expected is None else bytes(r.expected),
                    None if r.found is None else bytes(r.found),
                    r.detail,
                    r.recorded_at,
                )
                for r in conn.execute(query)
            ]

    # ------------------------------------------------------------------ consignment queries

    @staticmethod
    def _timeline_event(r: Row[Any]) -> TimelineEvent:
        return TimelineEvent(
            consignment_id=bytes(r.consignment_id),
            seq=r.seq,
            biz_step=_BIZ_WORDS.get(r.biz_step, f"unknown({r.biz_step})"),
            biz_step_code=r.biz_step,
            disposition=(
                None
                if r.disposition == 0
                else _DISP_WORDS.get(r.disposition, f"unknown({r.disposition})")
            ),
            disposition_code=r.disposition,
            location=r.location,
            event_time=r.event_time,
            container=r.container,
            seal_digest=bytes(r.seal_digest),
            documents_digest=bytes(r.documents_digest),
            epcis_event_hash=bytes(r.epcis_event_hash),
            signer=_checksum(bytes(r.signer)),
            org_id=bytes(r.org_id),
            nonce=r.nonce,
            deadline=r.deadline,
            digest=bytes(r.digest),
            head=bytes(r.head),
            emitted_head=bytes(r.emitted_head),
            tx_hash=_hex(bytes(r.tx_hash)),
            block_number=r.block_number,
            block_hash=_hex(bytes(r.block_hash)),
            log_index=r.log_index,
            block_time=r.block_time,
        )

    def consignment_timeline(self, consignment_id: bytes) -> list[TimelineEvent]:
        """Every event of a consignment, in chain order."""
        with self.engine.connect() as conn:
            return self._timeline(conn, consignment_id)

    def _timeline(self, conn: Connection, consignment_id: bytes) -> list[TimelineEvent]:
        return [self._timeline_event(r) for r in conn.execute(_TIMELINE, {"cid": consignment_id})]

    def consignment_view(self, consignment_id: bytes) -> ConsignmentView | None:
        """The registration, events, attestations and drawdowns of a consignment (None: not
        registered in the index), on one connection."""
        with self.engine.connect() as conn:
            r = conn.execute(_CONSIGNMENT, {"cid": consignment_id}).first()
            if r is None:
                return None
            timeline = self._timeline(conn, consignment_id)
            last = timeline[-1] if timeline else None
            record = self._consignment_record(r, None if last is None else (last.head, last.seq))
            found = self._attestation_rows(conn, _ATTESTATIONS_FOR, consignment_id)
            draws = conn.execute(_DRAWDOWNS_OF_CONSIGNMENT, {"cid": consignment_id})
            return ConsignmentView(
                record,
                timeline,
                found,
                [self._drawdown(d) for d in draws],
                consignor_earlier=r.consignor_earlier,
            )

    def events_by_container(self, container: str) -> list[TimelineEvent]:
        """Every event that names ISO 6346 container number ``container``, in chain order."""
        query = (
            select(consignment_events)
            .where(consignment_events.c.container == container.strip().upper())
            .order_by(consignment_events.c.block_number, consignment_events.c.log_index)
        )
        with self.engine.connect() as conn:
            return [self._timeline_event(r) for r in conn.execute(query)]

    def consignment(self, consignment_id: bytes) -> ConsignmentRecord | None:
        """The registration of a consignment with its current head and event count."""
        with self.engine.connect() as conn:
            r = conn.execute(_CONSIGNMENT, {"cid": consignment_id}).first()
            if r is None:
                return None
            last = conn.execute(_LAST_EVENT, {"cid": consignment_id}).first()
        return self._consignment_record(
            r, None if last is None else (bytes(last.head), int(last.seq))
        )

    @staticmethod
    def _consignment_record(r: Row[Any], last: tuple[bytes, int] | None) -> ConsignmentRecord:
        """A registration row, with the head and count after its last event (if any)."""
        return ConsignmentRecord(
            consignment_id=bytes(r.consignment_id),
            registrant=bytes(r.registrant),
            signer=_checksum(bytes(r.signer)),
            reference_hash=bytes(r.reference_hash) if r.reference_hash is not None else bytes(32),
            origin=r.origin,
            destination=r.destination,
            consignor=bytes(r.consignor),
            consignee=bytes(r.consignee),
            deadline=int(r.deadline) if r.deadline is not None else 0,
            registered_at=r.block_time,
            digest=bytes(r.digest),
            head=bytes(r.head) if last is None else last[0],
            event_count=0 if last is None else last[1],
            tx_hash=_hex(bytes(r.tx_hash)),
            block_number=r.block_number,
            log_index=r.log_index,
        )

    def consignor_history(
        self, consignor: bytes, *, before_block: int, earlier: int | None = None
    ) -> tuple[int, bool]:
        """(consignments of ``consignor`` registered in blocks before ``before_block``, whether
        its record is clean: no certificate of its revoked, no AEO suspension or revocation).

        ``earlier``: that count when the caller has it (a registration's
        :attr:`ConsignmentView.consignor_earlier`, for ``before_block`` its block): not
        counted again."""
        params = {"consignor": consignor, "block": before_block}
        with self.engine.connect() as conn:
            if earlier is None:
                row = conn.execute(_CONSIGNOR_HISTORY, params).one()
                earlier, revoked, sanctioned = row[0], row[1], row[2]
            else:
                revoked, sanctioned = conn.execute(_CONSIGNOR_RECORD, params).one()
        return int(earlier), not revoked and not sanctioned

    def consignments_by_reference(self, reference_hash: bytes) -> list[tuple[bytes, bytes]]:
        """(consignment id, registrant orgId) of every registration of the business key whose
        keccak256 is ``reference_hash``, oldest first. More than one when several organisations
        registered the same reference (each gets its own consignment)."""
        query = (
            select(consignments.c.consignment_id, consignments.c.registrant)
            .where(consignments.c.reference_hash == reference_hash)
            .order_by(consignments.c.block_number, consignments.c.log_index)
        )
        with self.engine.connect() as conn:
            return [(bytes(r[0]), bytes(r[1])) for r in conn.execute(query)]

    def consignment_ids(self) -> list[bytes]:
        with self.engine.connect() as conn:
            return [
                bytes(r[0])
                for r in conn.execute(
                    select(consignments.c.consignment_id).order_by(
                        consignments.c.block_number, consignments.c.log_index
                    )
                )
            ]

    def raw_logs(self, consignment_id: bytes) -> list[RawLog]:
        """The raw logs about a consignment (registration, events, drawdowns, attestations
        on it), in chain order: the material of a proof bundle.

        ``ConsignmentEventRecorded`` logs are rebuilt bit for bit from their event rows (every
        topic and data word is a stored field); the others are stored as received."""
        query = select(raw_logs).where(raw_logs.c.consignment_id == consignment_id)
        events = select(consignment_events).where(
            consignment_events.c.consignment_id == consignment_id
        )
        out: list[RawLog] = []
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                out.append(
                    RawLog(
                        address=_checksum(bytes(r.address)),
                        contract=r.contract,
                        event=r.event,
                        topics=tuple(
                            bytes(t)
                            for t in (r.topic0, r.topic1, r.topic2, r.topic3)
                            if t is not None
                        ),
                        data=bytes(r.data),
                        block_number=r.block_number,
                        block_hash=_hex(bytes(r.block_hash)),
                        tx_hash=_hex(bytes(r.tx_hash)),
                        tx_index=r.tx_index,
                        log_index=r.log_index,
                        block_time=r.block_time,
                    )
                )
            address = self._consignments()
            for r in conn.execute(events):
                out.append(
                    RawLog(
                        address=address,
                        contract="Consignments",
                        event="ConsignmentEventRecorded",
                        topics=(
                            self._event_topic0,
                            bytes(r.consignment_id),
                            bytes(r.org_id),
                            bytes(r.signer).rjust(32, b"\0"),
                        ),
                        data=self._stored_meta(r)
                        + bytes(r.seal_digest)
                        + bytes(r.documents_digest)
                        + bytes(r.epcis_event_hash)
                        + bytes(r.emitted_head).ljust(32, b"\0")
                        + int(r.seq).to_bytes(32, "big"),
                        block_number=r.block_number,
                        block_hash=_hex(bytes(r.block_hash)),
                        tx_hash=_hex(bytes(r.tx_hash)),
                        tx_index=r.tx_index,
                        log_index=r.log_index,
                        block_time=r.block_time,
                    )
                )
        out.sort(key=lambda x: (x.block_number, x.log_index))
        return out

    @staticmethod
    def _stored_meta(r: Row[Any]) -> bytes:
        """The packed ``meta`` word of a stored event row."""
        return _pack_meta(
            biz_step=r.biz_step,
            disposition=r.disposition,
            location=_raw(r.location, 5),
            event_time=r.event_time,
            container=bytes(11) if r.container is None else _raw(r.container, 11),
            deadline=r.deadline,
            nonce=r.nonce,
        )

    # ------------------------------------------------------------------ certificates

    @staticmethod
    def _drawdown(r: Row[Any]) -> DrawdownRecord:
        return DrawdownRecord(
            certificate_id=bytes(r.certificate_id),
            consignment_id=bytes(r.consignment_id),
            org_id=bytes(r.org_id),
            signer=_checksum(bytes(r.signer)),
            quantity=r.quantity,
            drawn=r.drawn,
            drawn_at=r.block_time,
            tx_hash=_hex(bytes(r.tx_hash)),
            block_number=r.block_number,
            log_index=r.log_index,
        )

    def certificate(self, certificate_id: bytes) -> CertificateRecord | None:
        """A certificate of origin with its revocation state and drawdowns."""
        with self.engine.connect() as conn:
            r = conn.execute(
                select(certificates).where(certificates.c.certificate_id == certificate_id)
            ).first()
            if r is None:
                return None
            revocation = conn.execute(
                select(certificate_revocations)
                .where(certificate_revocations.c.certificate_id == certificate_id)
                .limit(1)
            ).first()
            draws = conn.execute(
                select(drawdowns)
                .where(drawdowns.c.certificate_id == certificate_id)
                .order_by(drawdowns.c.block_number, drawdowns.c.log_index)
            ).all()
        records = tuple(self._drawdown(d) for d in draws)
        return CertificateRecord(
            certificate_id=bytes(r.certificate_id),
            issuer=bytes(r.issuer),
            exporter=bytes(r.exporter),
            signer=_checksum(bytes(r.signer)),
            certificate_number=bytes(r.certificate_number),
            origin=r.origin,
            destination=r.destination,
            document_digest=bytes(r.document_digest),
            hs_codes_digest=bytes(r.hs_codes_digest),
            quantity=r.quantity,
            unit=r.unit,
            valid_from=r.valid_from,
            valid_until=r.valid_until,
            issued_at=r.issued_at,
            recorded_at=r.block_time,
            revoked_at=None if revocation is None else revocation.block_time,
            revocation_reason=None if revocation is None else bytes(revocation.reason_digest),
            drawn=sum(d.quantity for d in records),
            drawdowns=records,
            tx_hash=_hex(bytes(r.tx_hash)),
            block_number=r.block_number,
        )

    def drawdowns_for_consignment(self, consignment_id: bytes) -> list[DrawdownRecord]:
        """The certificates a consignment drew on (one drawdown each), in chain order."""
        with self.engine.connect() as conn:
            rows = conn.execute(_DRAWDOWNS_OF_CONSIGNMENT, {"cid": consignment_id})
            return [self._drawdown(r) for r in rows]

    def consignments_for_certificate(self, certificate_id: bytes) -> list[DrawdownRecord]:
        """The consignments linked to a certificate by their drawdowns, in chain order."""
        with self.engine.connect() as conn:
            return [
                self._drawdown(r)
                for r in conn.execute(
                    select(drawdowns)
                    .where(drawdowns.c.certificate_id == certificate_id)
                    .order_by(drawdowns.c.block_number, drawdowns.c.log_index)
                )
            ]

    # ------------------------------------------------------------------ attestations

    def _attestations(self, query: Any, key: bytes) -> list[AttestationRecord]:
        with self.engine.connect() as conn:
            return self._attestation_rows(conn, query, key)

    @staticmethod
    def _attestation_rows(conn: Connection, query: Any, key: bytes) -> list[AttestationRecord]:
        return [
            AttestationRecord(
                uid=bytes(r.uid),
                schema_id=bytes(r.schema_id),
                subject_type=r.subject_type,
                subject_id=bytes(r.subject_id),
                attester=bytes(r.attester),
                signer=_checksum(bytes(r.signer)),
                data_digest=bytes(r.data_digest),
                ref_uid=bytes(r.ref_uid),
                expires_at=r.expires_at,
                attested_at=r.block_time,
                revoked_at=r.revoked_at,
                revocation_reason=(
                    None if r.revocation_reason is None else bytes(r.revocation_reason)
                ),
                tx_hash=_hex(bytes(r.tx_hash)),
                block_number=r.block_number,
                log_index=r.log_index,
            )
            for r in conn.execute(query, {"key": key})
        ]

    def attestations_for(self, subject_id: bytes) -> list[AttestationRecord]:
        """Attestations about a subject (consignment, certificate, organisation, attestation)."""
        return self._attestations(_ATTESTATIONS_FOR, subject_id)

    def attestation(self, uid: bytes) -> AttestationRecord | None:
        found = self._attestations(_ATTESTATION, uid)
        return found[0] if found else None

    # ------------------------------------------------------------------ AEO and MRAs

    def aeo_status(self, certification_id: bytes, *, at: int) -> AeoStatus | None:
        """A certification's status at time ``at`` (None: not certified at or before ``at``)."""
        query = (
            select(aeo_status_changes)
            .where(
                aeo_status_changes.c.certification_id == certification_id,
                aeo_status_changes.c.block_time <= at,
            )
            .order_by(aeo_status_changes.c.block_number, aeo_status_changes.c.log_index)
        )
        with self.engine.connect() as conn:
            changes = conn.execute(query).all()
        return self._aeo_state(changes, at)

    @staticmethod
    def _aeo_state(changes: Sequence[Row[Any]], at: int) -> AeoStatus | None:
        certified = [c for c in changes if c.action == 1]
        if not certified:
            return None
        cert, last = certified[-1], changes[-1]
        return AeoStatus(
            certification_id=bytes(last.certification_id),
            operator_id=bytes(last.operator_id),
            administration=bytes(last.administration),
            programme=cert.programme,
            status=_AEO_STATUS[last.status],
            valid_from=cert.valid_from,
            valid_until=cert.valid_until,
            changed_at=last.block_time,
            at=at,
        )

    def aeo_certifications(self, operator_id: bytes, *, at: int) -> list[AeoStatus]:
        """Every certification of an operator as it stood at ``at``."""
        query = (
            select(aeo_status_changes)
            .where(
                aeo_status_changes.c.operator_id == operator_id,
                aeo_status_changes.c.block_time <= at,
            )
            .order_by(aeo_status_changes.c.block_number, aeo_status_changes.c.log_index)
        )
        grouped: dict[bytes, list[Row[Any]]] = defaultdict(list)
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                grouped[bytes(r.certification_id)].append(r)
        out = [self._aeo_state(changes, at) for changes in grouped.values()]
        return [s for s in out if s is not None]

    def mras_between(self, a: bytes, b: bytes) -> list[MraRecord]:
        """Every MRA proposed between administrations ``a`` and ``b`` (either direction)."""
        with self.engine.connect() as conn:
            proposed = conn.execute(
                select(mra_events)
                .where(
                    mra_events.c.kind == "proposed",
                    or_(
                        and_(mra_events.c.proposer == a, mra_events.c.counterpart == b),
                        and_(mra_events.c.proposer == b, mra_events.c.counterpart == a),
                    ),
                )
                .order_by(mra_events.c.block_number, mra_events.c.log_index)
            ).all()
            ids = [bytes(p.mra_id) for p in proposed]
            later = (
                conn.execute(
                    select(mra_events.c.mra_id, mra_events.c.kind, mra_events.c.block_time).where(
                        mra_events.c.mra_id.in_(ids), mra_events.c.kind != "proposed"
                    )
                ).all()
                if ids
                else []
            )
        times: dict[tuple[bytes, str], int] = {}
        for r in later:
            times.setdefault((bytes(r.mra_id), r.kind), r.block_time)
        return [
            MraRecord(
                mra_id=bytes(p.mra_id),
                proposer=bytes(p.proposer),
                counterpart=bytes(p.counterpart),
                scope=p.scope,
                valid_from=p.valid_from,
                valid_until=p.valid_until,
                proposed_at=p.block_time,
                accepted_at=times.get((bytes(p.mra_id), "accepted")),
                terminated_at=times.get((bytes(p.mra_id), "terminated")),
            )
            for p in proposed
        ]

    def mras_in_force(self, a: bytes, b: bytes, *, at: int) -> list[MraRecord]:
        """The MRAs between ``a`` and ``b`` in force at ``at`` (their scope says what for)."""
        return [m for m in self.mras_between(a, b) if m.in_force(at)]

    # ------------------------------------------------------------------ organisations and keys

    def _keys(self, condition: Any) -> list[KeyRecord]:
        revoked = signing_keys_revoked.alias("revoked")
        query = (
            select(
                signing_keys_added,
                revoked.c.revoked_at.label("revoked_at"),
            )
            .outerjoin(revoked, revoked.c.key == signing_keys_added.c.key)
            .where(condition)
            .order_by(signing_keys_added.c.block_number, signing_keys_added.c.log_index)
        )
        with self.engine.connect() as conn:
            return [
                KeyRecord(
                    key=_checksum(bytes(r.key)),
                    org_id=bytes(r.org_id),
                    valid_from=r.valid_from,
                    valid_until=r.valid_until,
                    revoked_at=r.revoked_at,
                    added_at=r.block_time,
                    signer=None if bytes(r.signer) == bytes(20) else _checksum(bytes(r.signer)),
                )
                for r in conn.execute(query)
            ]

    def organisations(self) -> list[OrganisationRecord]:
        """The organisation directory: kind, country, current status and keys."""
        keys: dict[bytes, list[KeyRecord]] = defaultdict(list)
        for k in self._keys(signing_keys_added.c.org_id.is_not(None)):
            keys[k.org_id].append(k)
        with self.engine.connect() as conn:
            admitted = conn.execute(
                select(org_admissions).order_by(org_admissions.c.org_index)
            ).all()
            status: dict[bytes, int] = {}
            for r in conn.execute(
                select(org_status_changes.c.org_id, org_status_changes.c.status).order_by(
                    org_status_changes.c.block_number, org_status_changes.c.log_index
                )
            ):
                status[bytes(r.org_id)] = r.status
        return [
            OrganisationRecord(
                org_id=bytes(r.org_id),
                kind=r.kind,
                kind_name=_KIND_NAMES.get(r.kind, str(r.kind)),
                country=r.country,
                status=_ORG_STATUS[status.get(bytes(r.org_id), 1)],
                org_index=r.org_index,
                admitted_at=r.block_time,
                keys=tuple(keys.get(bytes(r.org_id), [])),
            )
            for r in admitted
        ]

    def organisation(self, org_id: bytes) -> OrganisationRecord | None:
        for org in self.organisations():
            if org.org_id == org_id:
                return org
        return None

    def key_validity(self, key: str, *, at: int) -> KeyValidity:
        """Whether a signing key was valid at ``at`` (window and revocation, from the logs)."""
        address = to_checksum_address(key)
        found = self._keys(signing_keys_added.c.key == _addr(address))
        if not found:
            return KeyValidity(address, at, False, "unknown", None)
        record = found[0]
        if at < record.valid_from:
            reason = "not_yet_valid"
        elif at >= record.valid_until:
            reason = "expired"
        elif record.revoked_at is not None and at >= record.revoked_at:
            reason = "revoked"
        else:
            reason = "valid"
        return KeyValidity(address, at, reason == "valid", reason, record)

    # ------------------------------------------------------------------ statistics

    def counts(self) -> dict[str, int]:
        """Rows per table (diagnostics)."""
        with self.engine.connect() as conn:
            return {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in CHAIN_TABLES
            }
