"""Read queries: the index (:mod:`ledger.index.follower`) where it is, the contract views otherwise.

Balances, statuses and heads are always read from the contracts (they are the truth and
cheap to read); histories -- a consignment's timeline, a certificate's drawdowns,
attestations by subject, AEO status as of a past date, MRAs, the key directory -- come from
the index, which the gateway keeps in step in a background thread. Without an index those
answer 503 ``index_unavailable``, except what a view can answer (AEO status now, MRA
recognition at any time, the organisation directory without keys).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path

from gateway.auth import KIND_BY_CODE
from gateway.errors import NotFound, ServiceUnavailable
from gateway.reads.views import (
    AttestationList,
    AttestationView,
    CertificateView,
    CertificationView,
    ConsignmentView,
    DrawdownView,
    EventView,
    KeyView,
    MraList,
    MraView,
    OperatorAeoView,
    OrganisationList,
    OrganisationView,
    RecognitionView,
    TimelineView,
    hx,
    when,
)
from gateway.writes.ledger_services import LedgerServices
from ledger.errors import ConfigurationError
from ledger.stack import OrganisationNames

__all__ = [
    "attestation",
    "attestations_for",
    "certificate",
    "consignment",
    "mras",
    "operator_aeo",
    "organisation",
    "organisations",
    "parse_key",
    "recognition",
    "timeline",
]

logger = logging.getLogger("gateway.reads")

_ZERO = bytes(32)
_AEO_STATUS = {1: "active", 2: "suspended", 3: "revoked"}
_PROGRAMMES = {"AEOC": 0x1, "AEOS": 0x2, "AEOF": 0x4}


def parse_key(chain: LedgerServices, org_id: str, value: str, field: str) -> bytes:
    """A bytes32 id given as 0x-hex, or a consignment's business key (e.g. a UCR): the
    consignment it names for organisation ``org_id`` (its own registration, else the
    reference's only one; 409 naming ``field`` when several organisations registered it)."""
    text = value.strip()
    if text.startswith("0x") and len(text) == 66:
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            pass
    return chain.consignment_for(bytes.fromhex(org_id[2:]), text, None, field)


def _opt(value: bytes) -> str | None:
    return None if value == _ZERO else hx(value)


def _index(chain: LedgerServices):  # type: ignore[no-untyped-def]  # ledger.index.follower is optional
    if chain.index is None:
        raise ServiceUnavailable(
            "this query needs the log index, which this gateway does not run",
            code="index_unavailable",
        )
    return chain.index


def consignment(chain: LedgerServices, cid: bytes) -> ConsignmentView:
    state = chain.ledger.consignments.consignment(cid)
    if not state.registered:
        raise NotFound(f"no consignment {hx(cid)}", code="UnknownConsignment")
    return ConsignmentView(
        consignment_id=hx(cid),
        origin=state.origin,
        destination=state.destination,
        registrant=hx(state.registrant),
        consignor=_opt(state.consignor),
        consignee=_opt(state.consignee),
        registered_at=when(state.registered_at),
        head=hx(state.head),
        event_count=state.event_count,
    )


def timeline(chain: LedgerServices, cid: bytes) -> TimelineView:
    index = _index(chain)
    head, count = chain.ledger.consignments.head(cid)
    if head == bytes(28):
        raise NotFound(f"no consignment {hx(cid)}", code="UnknownConsignment")
    events = index.consignment_timeline(cid)
    indexed_head = events[-1].head if events else None
    matches = len(events) == count and (count == 0 or indexed_head == head)
    return TimelineView(
        consignment_id=hx(cid),
        head=hx(head),
        event_count=count,
        head_matches_chain=matches,
        events=[
            EventView(
                seq=e.seq,
                biz_step=e.biz_step,
                disposition=e.disposition,
                location=e.location,
                event_time=when(e.event_time),
                container=e.container,
                seal_digest=hx(e.seal_digest),
                documents_digest=hx(e.documents_digest),
                epcis_event_hash=hx(e.epcis_event_hash),
                org_id=hx(e.org_id),
                signer=str(e.signer),
                digest=hx(e.digest),
                head=hx(e.head),
                tx_hash=e.tx_hash,
                block_number=e.block_number,
                log_index=e.log_index,
            )
            for e in events
        ],
    )


def certificate(chain: LedgerServices, certificate_id: bytes) -> CertificateView:
    state = chain.ledger.certificates.certificate(certificate_id)
    if state.status == 0:
        raise NotFound(f"no certificate {hx(certificate_id)}", code="UnknownCertificate")
    now = chain.now()
    drawdowns: list[DrawdownView] | None = None
    unit: str | None = None
    if chain.index is not None:
        record = chain.index.certificate(certificate_id)
        if record is not None:
            unit = record.unit
            drawdowns = [
                DrawdownView(
                    certificate_id=hx(d.certificate_id),
                    consignment_id=hx(d.consignment_id),
                    org_id=hx(d.org_id),
                    quantity=d.quantity,
                    drawn_after=d.drawn,
                    drawn_at=when(d.drawn_at),
                    tx_hash=d.tx_hash,
                    block_number=d.block_number,
                )
                for d in record.drawdowns
            ]
    if unit is None:
        unit = chain.certificate_unit(certificate_id)
    usable = (
        state.status == 1 and state.valid_from <= now < state.valid_until and state.remaining > 0
    )
    return CertificateView(
        certificate_id=hx(certificate_id),
        status="issued" if state.status == 1 else "revoked",
        exporter=hx(state.exporter),
        origin=state.origin,
        destination=state.destination,
        quantity=state.quantity,
        unit=unit,
        drawn=state.drawn,
        remaining=state.remaining,
        valid_from=when(state.valid_from),
        valid_until=when(state.valid_until),
        usable_now=usable,
        drawdowns=drawdowns,
    )


def attestation(chain: LedgerServices, uid: bytes) -> AttestationView:
    state = chain.ledger.attestations.attestation(uid)
    if state.attester == _ZERO:
        raise NotFound(f"no attestation {hx(uid)}", code="UnknownAttestation")
    view = AttestationView(
        uid=hx(uid),
        attester=hx(state.attester),
        attested_at=when(state.attested_at),
        expires_at=when(state.expires_at),
        revoked_at=when(state.revoked_at),
        valid=chain.ledger.attestations.is_valid(uid),
    )
    if chain.index is not None:
        record = chain.index.attestation(uid)
        if record is not None:
            view.schema_id = hx(record.schema_id)
            view.subject_type = record.subject_type
            view.subject_id = hx(record.subject_id)
            view.data_digest = hx(record.data_digest)
            view.ref_uid = hx(record.ref_uid)
    return view


def attestations_for(chain: LedgerServices, subject: bytes) -> AttestationList:
    index = _index(chain)
    now = chain.now()
    items = [
        AttestationView(
            uid=hx(a.uid),
            schema_id=hx(a.schema_id),
            subject_type=a.subject_type,
            subject_id=hx(a.subject_id),
            attester=hx(a.attester),
            data_digest=hx(a.data_digest),
            ref_uid=hx(a.ref_uid),
            attested_at=when(a.attested_at),
            expires_at=when(a.expires_at),
            revoked_at=when(a.revoked_at),
            valid=a.revoked_at is None and (a.expires_at == 0 or now < a.expires_at),
        )
        for a in index.attestations_for(subject)
    ]
    return AttestationList(subject_id=hx(subject), items=items)


def operator_aeo(chain: LedgerServices, operator: bytes, at: int | None) -> OperatorAeoView:
    moment = chain.now() if at is None else at
    if chain.index is not None:
        states = chain.index.aeo_certifications(operator, at=moment)
        views = [
            CertificationView(
                certification_id=hx(s.certification_id),
                administration=hx(s.administration),
                operator_id=hx(s.operator_id),
                programme=s.programme,
                status=s.status,
                valid_from=when(s.valid_from),
                valid_until=when(s.valid_until),
                in_force=s.in_force,
            )
            for s in states
        ]
    elif at is not None:
        raise ServiceUnavailable(
            "AEO status as of a past time needs the log index", code="index_unavailable"
        )
    else:
        views = []
        for cert_id in chain.ledger.aeo.certifications_of(operator):
            c = chain.ledger.aeo.certification(cert_id)
            status = _AEO_STATUS.get(c.status, str(c.status))
            views.append(
                CertificationView(
                    certification_id=hx(cert_id),
                    administration=hx(c.administration),
                    operator_id=hx(c.operator_id),
                    programme=c.programme,
                    status=status,
                    valid_from=when(c.valid_from),
                    valid_until=when(c.valid_until),
                    in_force=status == "active" and c.valid_from <= moment < c.valid_until,
                )
            )
    stamp = when(moment)
    assert stamp is not None
    return OperatorAeoView(operator_id=hx(operator), at=stamp, certifications=views)


def recognition(
    chain: LedgerServices, *, operator: bytes, administration: bytes, at: int | None
) -> RecognitionView:
    moment = chain.now() if at is None else at
    result = chain.ledger.aeo.recognition(operator, administration, moment)
    stamp = when(moment)
    assert stamp is not None
    return RecognitionView(
        operator_id=hx(operator),
        administration=hx(administration),
        at=stamp,
        recognised=result.recognised,
        certification_id=_opt(result.certification_id),
        mra_id=_opt(result.mra_id),
    )


def mras(chain: LedgerServices, a: bytes, b: bytes, at: int | None) -> MraList:
    index = _index(chain)
    moment = chain.now() if at is None else at
    items = [
        MraView(
            mra_id=hx(m.mra_id),
            proposer=hx(m.proposer),
            counterpart=hx(m.counterpart),
            programmes=[p for p, bit in _PROGRAMMES.items() if m.scope & bit],
            valid_from=when(m.valid_from),
            valid_until=when(m.valid_until),
            proposed_at=when(m.proposed_at),
            accepted_at=when(m.accepted_at),
            terminated_at=when(m.terminated_at),
            in_force=m.in_force(moment),
        )
        for m in index.mras_between(a, b)
    ]
    stamp = when(moment)
    assert stamp is not None
    return MraList(at=stamp, items=items)


def organisation_names(data_dir: Path) -> OrganisationNames:
    """The names this gateway knows members by (:class:`ledger.stack.OrganisationNames`:
    the demo's, the bootstrap file's, ``<data_dir>/organisation-names.json``). A names file
    that does not read is the operator's to fix: 503 with the reason, not a server error."""
    try:
        return OrganisationNames.known(data_dir)
    except ConfigurationError as exc:
        raise ServiceUnavailable(str(exc), code="organisation_names_unreadable") from exc


def organisations(
    chain: LedgerServices, names: Mapping[bytes, str] | None = None
) -> OrganisationList:
    """Every member, with its name where ``names`` (org id -> name) has it."""
    now = int(time.time())
    names = names or {}
    if chain.index is not None:
        return OrganisationList(
            items=[
                OrganisationView(
                    org_id=hx(o.org_id),
                    name=names.get(o.org_id),
                    kind=o.kind_name,
                    country=o.country,
                    status=o.status,
                    admitted_at=when(o.admitted_at),
                    keys=[
                        KeyView(
                            key=str(k.key),
                            valid_from=when(k.valid_from),
                            valid_until=when(k.valid_until),
                            revoked_at=when(k.revoked_at),
                            valid_now=k.valid_at(now),
                        )
                        for k in o.keys
                    ],
                )
                for o in chain.index.organisations()
            ]
        )
    return OrganisationList(
        items=[
            OrganisationView(
                org_id=hx(o.org_id),
                name=names.get(o.org_id),
                kind=str(KIND_BY_CODE.get(o.kind, o.kind)),
                country=o.country,
                status="active" if o.status == 1 else "suspended",
                admitted_at=when(o.admitted_at),
            )
            for o in chain.ledger.membership.organisations()
        ]
    )


def organisation(
    chain: LedgerServices, org_id: bytes, names: Mapping[bytes, str] | None = None
) -> OrganisationView:
    for view in organisations(chain, names).items:
        if view.org_id == hx(org_id):
            return view
    raise NotFound(f"no organisation {hx(org_id)}", code="UnknownOrganisation")
