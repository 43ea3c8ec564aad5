"""Verification of claims about goods: does the ledger support the claim, and why not.

    verifier = Verifier(ledger, index, locodes=LocodeDirectory.from_csv(seaports_csv))
    verdict = verifier.verify(Claim(consignment_ref="AU-UCR-...", origin="AU",
                                    certificate=CertificateClaim(number="CHAFTA-...",
                                                                 issuer=chamber_org_id),
                                    administration=cn_customs_org_id))
    verdict.status        # "verified" | "suspicious" | "failed"
    render_report(verdict)

A :class:`Claim` names what is claimed (a consignment by reference, id or container; a
certificate of origin by number and issuer, or the document itself; the origin country; the
goods (HS codes, quantity); the operators presented as AEOs; the verifying customs
administration and the date). The :class:`Verifier` reads the log index
(:class:`ledger.index.Index`) for the history and the chain (typed clients) for everything the
index could hide: consignment heads at the indexed block, certificate state and record hash,
attestation revocation, key state, organisation status, AEO recognition. Those chain reads go
to the node as raw JSON-RPC, in one batch request per verification where they can be known in
advance.
It returns a :class:`Verdict`: **failed** when any finding is critical, **suspicious** when
any is a warning, **verified** when there is none. Every check that ran or was skipped is listed in
``verdict.checks``; a check that cannot run (no locode coordinates, no serial registry, nothing
claimed) is *skipped*, never silently passed.

What each chain check proves
----------------------------
* **hash chain equals on-chain head** (``HEAD_MISMATCH``): the registration and the events the
  index shows, folded with :func:`ledger.index.next_head`, give the consignment's ``head(id)``
  and ``eventCount`` at the indexed block. Each chain step commits to the record's EIP-712
  digest, the acting organisation's id and the recovered signing key (contracts/RECORDS.md
  "Hash chain"), so this one ``eth_call`` proves that no record is hidden, added, reordered or
  altered **and** that each is attributed to the organisation and key that signed it.
* **record attribution (chain logs)** (``INDEX_MISMATCH``; only with
  :attr:`VerificationPolicy.check_attribution`): the consignment's own logs (``eth_getLogs`` by
  consignment id, over the blocks that hold its records) hold each record shown at the same
  block, log index and transaction, with the same organisation and signer topics. Beyond the
  head it proves that the positions shown as evidence (transaction hash, block, log index) are
  the records' own; it costs a log read that dominates a verification on a busy chain, so it
  is off by default.

For the CLI and the gateway
---------------------------
* ``ledger verify``: :func:`claim_from_json` (a JSON claim file or request body) then
  :func:`verify_claim` (``ledger``, ``index``, optional ``locodes``, ``serials``, ``policy``),
  then :func:`render_report` (text) or :func:`verdict_json` (``--json``). Exit status: 0
  verified, 1 suspicious, 2 failed is a natural mapping of :attr:`Verdict.status`.
  :class:`~ledger.errors.InvalidClaim` is a usage error (HTTP 422).
* ``ledger verify-bundle``: :func:`ledger.verify.bundle.load_bundle` then
  :func:`ledger.verify.bundle.verify_bundle` (``bundle``, ``w3``) and the same rendering;
  :func:`~ledger.verify.export_bundle` + :func:`~ledger.verify.write_bundle` to produce one.

Findings
--------
Every finding has a stable ``code``, a ``severity`` (``critical`` fails the claim, ``warning``
makes it suspicious), a plain-language explanation and evidence (transaction hash, block, log
index and record id of the on-chain records it rests on). The codes:

==================================  ========  =====================================================
code                                severity  meaning
==================================  ========  =====================================================
``CONSIGNMENT_NOT_FOUND``           critical  no consignment with that reference/id/container
``CONTAINER_MISMATCH``              critical  claimed container not in the consignment's events
``CONTAINER_CHANGED``               warning   events name different containers
``CERT_NOT_FOUND``                  critical  no such certificate of origin on the ledger (forged)
``CERT_DIGEST_MISMATCH``            critical  document's keccak256 != the on-chain digest
``CERT_ISSUER_NOT_AUTHORISED``      critical  the issuer could not certify this origin at issue time
``CERT_REVOKED``                    critical  the certificate was revoked by its issuer
``CERT_EXPIRED``                    critical  the verification date is after the validity period
``CERT_NOT_YET_VALID``              critical  the verification date is before the validity period
``CERT_HS_MISMATCH``                critical  the HS code list does not hash to the on-chain digest
``GOODS_NOT_COVERED``               critical  a claimed HS code is not in the certificate's list
``CERT_DESTINATION_MISMATCH``       critical  the certificate is for another destination country
``CERT_EXPORTER_MISMATCH``          warning   the consignor is not the certificate's exporter
``CERT_NOT_DRAWN``                  critical  the consignment drew nothing on the certificate
``CERT_QUANTITY_EXCEEDED``          critical  claimed quantity > quantity drawn for the consignment
``CERT_OVERDRAWN``                  critical  total drawn > certificate quantity
``CERT_DRAWN_BY_OTHERS``            warning   other consignments drew on it beyond plausibility
``QUANTITY_UNIT_MISMATCH``          critical  the claimed unit does not convert to the certificate's
``ORIGIN_MISMATCH``                 critical  registered origin or first loading elsewhere
``ORIGIN_UNPROVEN``                 warning   no loading or departure event proves where goods left
``ORIGIN_LAUNDERING``               critical  transshipment in a third country with no customs there
``HEAD_MISMATCH``                   critical  the hash chain of the index's events != on-chain head
``INDEX_MISMATCH``                  critical  an index record differs from contract state
``CUSTODY_GAP``                     warning   location jump without departure/arrival; silence
``TIME_NOT_MONOTONIC``              warning   an event is dated before the event recorded before it
``IMPOSSIBLE_TRAVEL``               critical  two locations too far apart for the time between them
``BACKDATED_RECORD``                warning   recorded on chain long after the time it claims
``SEAL_CHANGED_WITHOUT_INSPECTION`` critical  a new seal with no customs inspection attestation
``SIGNER_KEY_INVALID``              critical  key unknown, not valid or revoked at record time
``SIGNER_KEY_REVOKED``              warning   key revoked after it signed (compromise?)
``SIGNER_NOT_AUTHORISED``           critical  the key is not the organisation's, or its kind may not
``SIGNER_MEMBER_SUSPENDED``         warning   the signer's organisation is suspended since (critical
                                              when it was suspended at the record's time)
``AEO_NOT_CERTIFIED``               critical  the operator presented as AEO has no AEO certification
``AEO_SUSPENDED``                   critical  its certification is suspended on the date
``AEO_REVOKED``                     critical  its certification is revoked
``AEO_EXPIRED``                     critical  its certification is outside its validity on the date
``AEO_NOT_RECOGNISED``              critical  certified, but not recognised by the verifying
                                              administration (no MRA, terminated, out of scope)
``ATTESTATION_MISSING``             critical  a required attestation (e.g. export release) is absent
``ATTESTATION_REVOKED``             critical  required attestation revoked or expired
``EPCIS_HASH_MISMATCH``             critical  a supplied EPCIS event matches no on-chain event hash
``CLONED_SERIAL``                   critical  an item serial also travels in another consignment at
                                              an overlapping time
``SERIAL_NOT_COMMISSIONED``         critical  serial absent from the brand owner's list
``BUNDLE_MALFORMED``                critical  a proof bundle lacks, adds or mistypes a field
``BUNDLE_CHAIN_MISMATCH``           critical  the node is another chain than the bundle's
``BUNDLE_BLOCK_MISMATCH``           critical  a block hash in the bundle is not the chain's
``BUNDLE_LOG_NOT_FOUND``            critical  no such log at that transaction and log index
``BUNDLE_LOG_MISMATCH``             critical  log on chain differs (address, topics, data)
``BUNDLE_RECORD_MISMATCH``          critical  the decoded record differs from the log's data
``BUNDLE_HEAD_MISMATCH``            critical  the recomputed hash chain differs from the head
``BUNDLE_SIGNER_UNPROVEN``          critical  no key-registration log binds a signer to its org
``BUNDLE_CODE_MISMATCH``            critical  contract code at an address is not the built contract
``BUNDLE_INCOMPLETE``               critical  the node holds a log in the bundle's scope it omits
``BUNDLE_LOG_UNRELATED``            critical  a log outside the bundle's scope (another subject)
==================================  ========  =====================================================

Limits, honestly
----------------
* Item serials are not on chain. Events commit an ``epcisEventHash``; the claim may supply the
  EPCIS events (JSON), which are hashed with :func:`epcis_event_hash` (a canonical pre-hash in
  the spirit of the GS1 CBV 2.0 event hash: the identifying fields, lists sorted, sha-256; not
  checked against GS1's reference implementation) and must match an on-chain event. Serials are
  then compared through an optional off-chain :class:`SerialRegistry` (sightings ingested from
  hash-matched EPCIS events, and brand owners' commissioning lists). It is only as complete as
  what was fed into it; without it the serial checks are skipped.
* A key revocation or a member suspension *after* a record cannot be told apart from a routine
  rotation: it is reported as a warning. The contracts refuse records after a revocation, so a
  critical signer finding means the index disagrees with the contracts' rules.
* Travel speed: :data:`SEA_KMH` (60 km/h) between places that are not both airports,
  :data:`AIR_KMH` (1,000 km/h) when both are, plus :data:`DISTANCE_SLACK_KM`; only where the
  :class:`~ledger.records.LocodeDirectory` has coordinates for both.
* Transshipment control is accepted from any valid attestation on the consignment by an active
  customs administration of the third country (attestation times are block times, events
  carry their own times, so the attestation is not required to fall inside the stay).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache, partial
from typing import Any, Final, TypeVar

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    select,
)

from ledger.chain import ContractClient, KeyInfo, Ledger, decode_revert, shared_transport
from ledger.errors import InvalidClaim, LedgerError, VerificationError
from ledger.index import (
    aeo_status_changes,
    certificate_revocations,
    certificates,
    mra_events,
    org_status_changes,
    signing_keys_revoked,
)
from ledger.index.follower import (
    DEFAULT_SPAN,
    AttestationRecord,
    CertificateRecord,
    ConsignmentRecord,
    DrawdownRecord,
    Index,
    OrganisationRecord,
    TimelineEvent,
    event_digest,
    next_head,
    registration_digest,
)
from ledger.records import (
    BUSINESS_STEP_CODES,
    CertificateIssue,
    HsCode,
    LocodeDirectory,
    Quantity,
    certificate_id,
    consignment_id,
    fixed_ascii,
    great_circle_km,
    hs_codes_digest,
)
from ledger.records.vocabulary import (
    CARRIER,
    CUSTOMS,
    EXPORT_RELEASE_SCHEMA,
    INSPECTION_SCHEMA,
    ISSUING_BODY,
    POSTAL_OPERATOR,
    TRADER,
)

__all__ = [
    "AIR_KMH",
    "CATALOGUE",
    "DISTANCE_SLACK_KM",
    "SEA_KMH",
    "CertificateClaim",
    "Check",
    "Claim",
    "Evidence",
    "Finding",
    "FindingSpec",
    "SerialRegistry",
    "Severity",
    "Sighting",
    "Verdict",
    "VerdictStatus",
    "VerificationPolicy",
    "Verifier",
    "claim_from_json",
    "epcis_event_hash",
    "epcis_serials",
    "make_finding",
    "render_report",
    "status_of",
    "verdict_json",
    "verify_claim",
]

log = logging.getLogger("ledger.verify.engine")

ZERO32 = bytes(32)
SEA_KMH: Final = 60.0
AIR_KMH: Final = 1000.0
DISTANCE_SLACK_KM: Final = 50.0
_END = (2**62, 0)  # a chain position after every log

_KIND_NAMES = {
    1: "customs administration",
    2: "carrier",
    3: "trader",
    4: "issuing body",
    5: "postal operator",
}
_STEP = BUSINESS_STEP_CODES
_LOADING_STEPS = frozenset({"loading"})
_DEPARTURE_STEPS = frozenset({"loading", "departing", "shipping", "transporting"})
_ARRIVAL_STEPS = frozenset({"arriving", "receiving", "unloading", "accepting", "transporting"})


# ----------------------------------------------------------------------------------------------
# Findings, checks and verdicts
# ----------------------------------------------------------------------------------------------


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"


class VerdictStatus(StrEnum):
    VERIFIED = "verified"
    SUSPICIOUS = "suspicious"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FindingSpec:
    code: str
    severity: Severity  # the default; signer findings may be raised to critical
    title: str


def _spec(code: str, severity: str, title: str) -> tuple[str, FindingSpec]:
    return code, FindingSpec(code, Severity(severity), title)


#: Every finding code (see the table in the module docstring).
CATALOGUE: Mapping[str, FindingSpec] = dict(
    [
        _spec("CONSIGNMENT_NOT_FOUND", "critical", "Consignment not on the ledger"),
        _spec("CONTAINER_MISMATCH", "critical", "Container not in the consignment's events"),
        _spec("CONTAINER_CHANGED", "warning", "Container changed during the journey"),
        _spec("CERT_NOT_FOUND", "critical", "Certificate of origin not on the ledger"),
        _spec("CERT_DIGEST_MISMATCH", "critical", "Certificate document altered"),
        _spec("CERT_ISSUER_NOT_AUTHORISED", "critical", "Issuer not authorised for the origin"),
        _spec("CERT_REVOKED", "critical", "Certificate revoked"),
        _spec("CERT_EXPIRED", "critical", "Certificate expired"),
        _spec("CERT_NOT_YET_VALID", "critical", "Certificate not yet valid"),
        _spec("CERT_HS_MISMATCH", "critical", "HS codes differ from the certificate"),
        _spec("GOODS_NOT_COVERED", "critical", "Goods not covered by the certificate"),
        _spec("CERT_DESTINATION_MISMATCH", "critical", "Certificate for another destination"),
        _spec("CERT_EXPORTER_MISMATCH", "warning", "Consignor is not the certificate's exporter"),
        _spec("CERT_NOT_DRAWN", "critical", "Certificate not drawn for this consignment"),
        _spec("CERT_QUANTITY_EXCEEDED", "critical", "Quantity beyond what the certificate covers"),
        _spec("CERT_OVERDRAWN", "critical", "Certificate drawn beyond its total"),
        _spec("CERT_DRAWN_BY_OTHERS", "warning", "Certificate also used by other consignments"),
        _spec("QUANTITY_UNIT_MISMATCH", "critical", "Quantity unit does not match"),
        _spec("ORIGIN_MISMATCH", "critical", "Goods did not start in the claimed origin"),
        _spec("ORIGIN_UNPROVEN", "warning", "No loading event proves the origin"),
        _spec("ORIGIN_LAUNDERING", "critical", "Transshipment without customs control"),
        _spec("HEAD_MISMATCH", "critical", "Event history differs from the on-chain hash chain"),
        _spec("INDEX_MISMATCH", "critical", "Index differs from contract state"),
        _spec("CUSTODY_GAP", "warning", "Gap in the chain of custody"),
        _spec("TIME_NOT_MONOTONIC", "warning", "Event dated before the previous event"),
        _spec("IMPOSSIBLE_TRAVEL", "critical", "Physically impossible travel time"),
        _spec("BACKDATED_RECORD", "warning", "Record entered long after its own date"),
        _spec("SEAL_CHANGED_WITHOUT_INSPECTION", "critical", "Seal changed without inspection"),
        _spec("SIGNER_KEY_INVALID", "critical", "Signed with a key not valid at the time"),
        _spec("SIGNER_KEY_REVOKED", "warning", "Signing key since revoked"),
        _spec("SIGNER_NOT_AUTHORISED", "critical", "Signer not authorised for the record"),
        _spec("SIGNER_MEMBER_SUSPENDED", "warning", "Signing organisation suspended"),
        _spec("AEO_NOT_CERTIFIED", "critical", "Operator is not an AEO"),
        _spec("AEO_SUSPENDED", "critical", "AEO certification suspended"),
        _spec("AEO_REVOKED", "critical", "AEO certification revoked"),
        _spec("AEO_EXPIRED", "critical", "AEO certification not valid on the date"),
        _spec("AEO_NOT_RECOGNISED", "critical", "AEO not recognised by this administration"),
        _spec("ATTESTATION_MISSING", "critical", "Required customs attestation missing"),
        _spec("ATTESTATION_REVOKED", "critical", "Required customs attestation revoked"),
        _spec("EPCIS_HASH_MISMATCH", "critical", "EPCIS event not committed on the ledger"),
        _spec("CLONED_SERIAL", "critical", "Item serial seen in another consignment"),
        _spec("SERIAL_NOT_COMMISSIONED", "critical", "Item serial never commissioned"),
        _spec("BUNDLE_MALFORMED", "critical", "Proof bundle malformed"),
        _spec("BUNDLE_CHAIN_MISMATCH", "critical", "Proof bundle is for another chain"),
        _spec("BUNDLE_BLOCK_MISMATCH", "critical", "Proof bundle block hash differs"),
        _spec("BUNDLE_LOG_NOT_FOUND", "critical", "Proof bundle log not on chain"),
        _spec("BUNDLE_LOG_MISMATCH", "critical", "Proof bundle log differs from the chain"),
        _spec("BUNDLE_RECORD_MISMATCH", "critical", "Proof bundle record differs from its log"),
        _spec("BUNDLE_HEAD_MISMATCH", "critical", "Proof bundle hash chain differs"),
        _spec("BUNDLE_CODE_MISMATCH", "critical", "Contract code differs from the build"),
        _spec("BUNDLE_SIGNER_UNPROVEN", "critical", "Proof bundle signer key unproven"),
        _spec("BUNDLE_INCOMPLETE", "critical", "Proof bundle omits a record"),
        _spec("BUNDLE_LOG_UNRELATED", "critical", "Proof bundle log outside its scope"),
    ]
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """An on-chain record a finding rests on."""

    kind: str  # registration | event | certificate | revocation | drawdown | attestation | ...
    record_id: str  # 0x-hex id (event: "<consignment id>#<seq>")
    tx_hash: str | None = None
    block_number: int | None = None
    log_index: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    title: str
    explanation: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    """One check and how it went: ``passed``, ``failed`` or ``skipped`` (with why)."""

    name: str
    outcome: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    status: VerdictStatus
    subject: str  # what was verified, in words
    findings: tuple[Finding, ...]
    checks: tuple[Check, ...]
    at: int  # the verification date (unix seconds)
    block_number: int  # chain data up to this block
    consignment_id: bytes | None = None
    certificate_id: bytes | None = None
    risk: Any = None  # ledger.risk.score.RiskScore for claims; None for bundles

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    @property
    def ok(self) -> bool:
        return self.status is VerdictStatus.VERIFIED

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (bytes as 0x-hex)."""
        out: dict[str, Any] = _jsonable(asdict(self))
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def status_of(findings: Iterable[Finding]) -> VerdictStatus:
    severities = {f.severity for f in findings}
    if Severity.CRITICAL in severities:
        return VerdictStatus.FAILED
    if Severity.WARNING in severities:
        return VerdictStatus.SUSPICIOUS
    return VerdictStatus.VERIFIED


def make_finding(
    code: str,
    explanation: str,
    evidence: Iterable[Evidence] = (),
    *,
    severity: Severity | None = None,
) -> Finding:
    spec = CATALOGUE[code]
    return Finding(code, severity or spec.severity, spec.title, explanation, tuple(evidence))


# ----------------------------------------------------------------------------------------------
# Claims and policy
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateClaim:
    """A certificate of origin as presented: by number and issuer, and/or the document.

    ``hs_codes`` is the certificate document's full HS code list when the claim has it: it
    must hash to the on-chain digest, and the claimed goods must be a subset of it.
    """

    number: str | None = None
    issuer: bytes | None = None  # issuer organisation id
    document: bytes | None = None  # the document as presented; keccak256 is compared
    document_digest: bytes | None = None
    hs_codes: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """What is claimed about goods. Everything is optional, but something must identify a
    consignment (reference, id or container) or a certificate."""

    consignment_ref: str | None = None
    consignment_id: bytes | None = None
    container: str | None = None
    certificate: CertificateClaim | None = None
    origin: str | None = None  # ISO 3166-1 alpha-2
    hs_codes: tuple[str, ...] = ()
    quantity: Quantity | int | None = None  # int: in the certificate's unit
    aeo_operators: tuple[bytes, ...] = ()
    administration: bytes | None = None  # the verifying customs administration (org id)
    at: int | None = None  # verification date (unix seconds); default: the latest block's
    epcis_events: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationPolicy:
    """The verifying administration's thresholds (documented defaults)."""

    #: A certificate of origin covers one consignment unless partial shipments are accepted.
    max_consignments_per_certificate: int = 1
    #: Longest silence between two events of one consignment.
    max_event_gap: int = 45 * 86400
    #: Longest delay between a record's own time and its recording on chain.
    max_recording_lag: int = 30 * 86400
    #: (schema definition, whose customs must attest: "origin" | "destination")
    required_attestations: tuple[tuple[str, str], ...] = ((EXPORT_RELEASE_SCHEMA, "origin"),)
    inspection_schema: str = INSPECTION_SCHEMA
    #: Also re-read the registration and event logs from the node (``eth_getLogs`` by
    #: consignment id) and match each record shown to its log: same block, log index,
    #: transaction and topics. Off by default: the hash chain head already proves every
    #: record's organisation and signing key (the chain step commits to both, see
    #: contracts/RECORDS.md "Hash chain"), so a misattributing index fails ``HEAD_MISMATCH``;
    #: what only this check adds is proof that the evidence's positions (transaction, block,
    #: log index) are the records' own.
    check_attribution: bool = False


def _hex_bytes(value: Any, size: int | None, name: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidClaim(f"{name}: must be 0x-hex")
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise InvalidClaim(f"{name}: must be 0x-hex") from None
    if size is not None and len(raw) != size:
        raise InvalidClaim(f"{name}: must be {size} bytes")
    return raw


def _org_ref(value: Any, name: str) -> bytes:
    """An organisation id: 0x-hex of 32 bytes, or a name (keccak256 of it, as org_id())."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        return _hex_bytes(value, 32, name)
    if isinstance(value, str) and value.strip():
        return keccak(text=value.strip())
    raise InvalidClaim(f"{name}: must be an organisation id (0x + 64 hex) or name")


def claim_from_json(data: Mapping[str, Any]) -> Claim:
    """A :class:`Claim` from its JSON form (CLI files, gateway requests).

    Keys: ``consignment_ref``, ``consignment_id`` (0x), ``container``, ``certificate``
    (``number``, ``issuer`` (id or name), ``document`` (text or 0x-hex), ``document_digest``,
    ``hs_codes``), ``origin``, ``hs_codes``, ``quantity`` + ``unit``, ``aeo_operators`` (ids or
    names), ``administration`` (id or name), ``at`` (unix or ISO 8601), ``epcis_events``.
    """
    known = {
        "consignment_ref",
        "consignment_id",
        "container",
        "certificate",
        "origin",
        "hs_codes",
        "quantity",
        "unit",
        "aeo_operators",
        "administration",
        "at",
        "epcis_events",
    }
    unknown = set(data) - known
    if unknown:
        raise InvalidClaim(f"unknown claim fields: {', '.join(sorted(unknown))}")
    cert: CertificateClaim | None = None
    if data.get("certificate") is not None:
        c = data["certificate"]
        if not isinstance(c, Mapping):
            raise InvalidClaim("certificate: must be an object")
        document = c.get("document")
        doc_bytes: bytes | None = None
        if isinstance(document, str):
            doc_bytes = (
                _hex_bytes(document, None, "certificate.document")
                if document.startswith("0x")
                else document.encode("utf-8")
            )
        cert = CertificateClaim(
            number=c.get("number"),
            issuer=None if c.get("issuer") is None else _org_ref(c["issuer"], "certificate.issuer"),
            document=doc_bytes,
            document_digest=(
                None
                if c.get("document_digest") is None
                else _hex_bytes(c["document_digest"], 32, "certificate.document_digest")
            ),
            hs_codes=None if c.get("hs_codes") is None else tuple(c["hs_codes"]),
        )
    quantity: Quantity | int | None = None
    if data.get("quantity") is not None:
        unit = data.get("unit")
        try:
            quantity = (
                Quantity.parse(str(data["quantity"]), str(unit)) if unit else int(data["quantity"])
            )
        except (LedgerError, ValueError) as exc:
            raise InvalidClaim(f"quantity: {exc}") from exc
    at = data.get("at")
    if isinstance(at, str):
        try:
            at = int(datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp())
        except ValueError:
            raise InvalidClaim("at: must be unix seconds or ISO 8601") from None
    events = data.get("epcis_events") or ()
    return Claim(
        consignment_ref=data.get("consignment_ref"),
        consignment_id=(
            None
            if data.get("consignment_id") is None
            else _hex_bytes(data["consignment_id"], 32, "consignment_id")
        ),
        container=data.get("container"),
        certificate=cert,
        origin=data.get("origin"),
        hs_codes=tuple(data.get("hs_codes") or ()),
        quantity=quantity,
        aeo_operators=tuple(_org_ref(o, "aeo_operators") for o in data.get("aeo_operators", ())),
        administration=(
            None
            if data.get("administration") is None
            else _org_ref(data["administration"], "administration")
        ),
        at=None if at is None else int(at),
        epcis_events=tuple(events),
    )


# ----------------------------------------------------------------------------------------------
# EPCIS event hashes and the off-chain serial registry
# ----------------------------------------------------------------------------------------------

_EPCIS_LISTS = ("epcList", "parentID", "childEPCs", "inputEPCList", "outputEPCList")
_EPCIS_SCALARS = ("action", "bizStep", "disposition")


def _epcis_time(value: str) -> str:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{parsed.microsecond // 1000:03d}Z"
    )


def _cbv_uri(kind: str, value: str) -> str:
    if value.startswith(("http://", "https://", "urn:")):
        return value
    return f"https://ref.gs1.org/cbv/{kind}-{value}"


def epcis_event_hash(event: Mapping[str, Any]) -> bytes:
    """sha-256 of a canonical pre-hash string of an EPCIS 2.0 event (JSON-LD form).

    Fields, in this order, each ``name=value`` with lists sorted and prefixed by their name:
    ``eventType``, ``eventTime`` (UTC, milliseconds), ``eventTimeZoneOffset``, the EPC lists
    (``epcList``, ``parentID``, ``childEPCs``, ``inputEPCList``, ``outputEPCList``),
    ``action``, ``bizStep`` and ``disposition`` (as CBV web URIs), ``readPoint`` and
    ``bizLocation`` ids. Modelled on the GS1 CBV 2.0 event-hash algorithm, not a certified
    implementation of it: signers and verifiers of this ledger must use this function.
    """
    try:
        parts = [
            f"eventType={event['type']}",
            f"eventTime={_epcis_time(str(event['eventTime']))}",
            f"eventTimeZoneOffset={event.get('eventTimeZoneOffset', '+00:00')}",
        ]
    except (KeyError, ValueError) as exc:
        raise InvalidClaim(f"EPCIS event: {exc}") from exc
    for name in _EPCIS_LISTS:
        value = event.get(name)
        if value is None:
            continue
        items = [value] if isinstance(value, str) else [str(v) for v in value]
        parts.append(name + "".join(f"epc={v}" for v in sorted(items)))
    for name in _EPCIS_SCALARS:
        value = event.get(name)
        if value is None:
            continue
        text = str(value)
        if name == "bizStep":
            text = _cbv_uri("BizStep", text)
        elif name == "disposition":
            text = _cbv_uri("Disp", text)
        parts.append(f"{name}={text}")
    for name in ("readPoint", "bizLocation"):
        value = event.get(name)
        if isinstance(value, Mapping) and "id" in value:
            parts.append(f"{name}=id={value['id']}")
    return hashlib.sha256("".join(parts).encode("utf-8")).digest()


def epcis_serials(event: Mapping[str, Any]) -> list[str]:
    """The item identifiers (EPCs) an EPCIS event names."""
    out: list[str] = []
    for name in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        value = event.get(name)
        if isinstance(value, list | tuple):
            out.extend(str(v) for v in value)
    return sorted(set(out))


def serial_class(serial: str) -> str:
    """The product class of an EPC: ``urn:epc:id:sgtin:CP.IR.SERIAL`` -> ``urn:...:CP.IR``."""
    head, _, _ = serial.rpartition(".")
    return head or serial


_serial_metadata = MetaData()
_sightings = Table(
    "verify_serial_sightings",
    _serial_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("serial", String(200), nullable=False, index=True),
    Column("consignment_id", String(66), nullable=False),
    Column("first_time", BigInteger, nullable=False),
    Column("last_time", BigInteger, nullable=False),
    Column("location", String(5), nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
)
_commissions = Table(
    "verify_serial_commissions",
    _serial_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("serial", String(200), nullable=False, index=True),
    Column("serial_class", String(200), nullable=False, index=True),
    Column("brand_owner", String(66), nullable=False),
    Column("commissioned_at", BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Sighting:
    serial: str
    consignment_id: bytes
    first_time: int  # the consignment's journey window (first and last event times)
    last_time: int
    location: str  # where the EPCIS event that names the serial was recorded
    tx_hash: str
    block_number: int
    log_index: int


class SerialRegistry:
    """Off-chain table of item serials: where they were seen, and what brand owners commissioned.

    Sightings come only from EPCIS events whose hash matches an on-chain event
    (:meth:`ingest`), so each is bound to a signed record. Commissioning lists come from the
    brand owners (:meth:`commission`); a serial is "never commissioned" only when its product
    class has a list and the serial is not in it.
    """

    def __init__(self, engine_or_url: Engine | str) -> None:
        self.engine = (
            create_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
        )
        _serial_metadata.create_all(self.engine)

    def commission(self, *, brand_owner: bytes, serials: Iterable[str], at: int) -> int:
        rows = [
            {
                "serial": s,
                "serial_class": serial_class(s),
                "brand_owner": "0x" + brand_owner.hex(),
                "commissioned_at": at,
            }
            for s in serials
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(_commissions.insert(), rows)
        return len(rows)

    def ingest(
        self, *, timeline: Sequence[TimelineEvent], epcis_events: Iterable[Mapping[str, Any]]
    ) -> int:
        """Record the serials of EPCIS events of one consignment (each must match an event of
        ``timeline`` by hash, else :class:`VerificationError`). Returns the sightings added."""
        if not timeline:
            raise VerificationError("a consignment with no events has no EPCIS events")
        by_hash = {e.epcis_event_hash: e for e in timeline if e.epcis_event_hash != ZERO32}
        first = min(e.event_time for e in timeline)
        last = max(e.event_time for e in timeline)
        rows: list[dict[str, Any]] = []
        for doc in epcis_events:
            event = by_hash.get(epcis_event_hash(doc))
            if event is None:
                raise VerificationError("an EPCIS event does not match any on-chain event hash")
            for serial in epcis_serials(doc):
                rows.append(
                    {
                        "serial": serial,
                        "consignment_id": "0x" + event.consignment_id.hex(),
                        "first_time": first,
                        "last_time": last,
                        "location": event.location,
                        "tx_hash": event.tx_hash,
                        "block_number": event.block_number,
                        "log_index": event.log_index,
                    }
                )
        if rows:
            with self.engine.begin() as conn:
                conn.execute(_sightings.insert(), rows)
        return len(rows)

    def sightings(self, serial: str) -> list[Sighting]:
        with self.engine.connect() as conn:
            return [
                Sighting(
                    r.serial,
                    bytes.fromhex(r.consignment_id[2:]),
                    r.first_time,
                    r.last_time,
                    r.location,
                    r.tx_hash,
                    r.block_number,
                    r.log_index,
                )
                for r in conn.execute(select(_sightings).where(_sightings.c.serial == serial))
            ]

    def commissioning(self, serial: str) -> bool | None:
        """True: commissioned; False: its class has a list without it; None: no list known."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(_commissions.c.id).where(_commissions.c.serial == serial).limit(1)
            ).first()
            if found is not None:
                return True
            listed = conn.execute(
                select(_commissions.c.id)
                .where(_commissions.c.serial_class == serial_class(serial))
                .limit(1)
            ).first()
        return False if listed is not None else None


# ----------------------------------------------------------------------------------------------
# Evidence helpers
# ----------------------------------------------------------------------------------------------


def _h(raw: bytes) -> str:
    return "0x" + raw.hex()


def _date(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: int) -> str:
    td = timedelta(seconds=abs(seconds))
    if td.days >= 2:
        return f"{td.days} days"
    hours = td.total_seconds() / 3600
    return f"{hours:.1f} hours"


def ev_event(e: TimelineEvent, note: str = "") -> Evidence:
    return Evidence(
        "event",
        f"{_h(e.consignment_id)}#{e.seq}",
        e.tx_hash,
        e.block_number,
        e.log_index,
        note or f"event #{e.seq}: {e.biz_step} at {e.location} on {_date(e.event_time)}",
    )


def ev_registration(c: ConsignmentRecord) -> Evidence:
    return Evidence(
        "registration",
        _h(c.consignment_id),
        c.tx_hash,
        c.block_number,
        c.log_index,
        f"registered {c.origin} -> {c.destination}",
    )


def ev_drawdown(d: DrawdownRecord) -> Evidence:
    return Evidence(
        "drawdown",
        f"{_h(d.certificate_id)}/{_h(d.consignment_id)}",
        d.tx_hash,
        d.block_number,
        d.log_index,
        f"drew {d.quantity} for consignment {_h(d.consignment_id)[:12]}...",
    )


def ev_attestation(a: AttestationRecord, note: str = "") -> Evidence:
    return Evidence("attestation", _h(a.uid), a.tx_hash, a.block_number, a.log_index, note)


# ----------------------------------------------------------------------------------------------
# Chain reads: one JSON-RPC batch per verification
# ----------------------------------------------------------------------------------------------

_ClientT = TypeVar("_ClientT", bound=ContractClient)
_ReadKey = tuple[Any, ...]
_LOG_SPAN: Final = DEFAULT_SPAN  # largest eth_getLogs block range asked for at once
_MAX_LOG_QUERIES: Final = 64  # eth_getLogs requests per verification, at most (span allowing)


class _ChainReads:
    """The chain reads of one verification: contract calls, log queries and a block header,
    sent as raw JSON-RPC (no web3 middleware round trips, no result formatters), those known
    in advance in one batch request (:meth:`want_call`, :meth:`want_logs`, then
    :meth:`flush`). Each answer is kept for the rest of the verification only, so every
    verification reads the chain afresh; a read that was not asked for in advance is sent on
    its own when it is needed. A revert is raised as the contract's error (as
    :meth:`ledger.chain.client.ContractClient.call` does), where the answer is used.

    The requests go through the provider's persistent-connection transport
    (:func:`ledger.chain.jsonrpc.shared_transport`) when the ledger's provider is a plain HTTP
    provider, through the provider itself otherwise; the answers are the same."""

    def __init__(self, ledger: Ledger) -> None:
        provider = ledger.w3.provider
        self._provider: Any = shared_transport(provider) or provider
        self._answers: dict[_ReadKey, Any] = {}
        self._pending: dict[_ReadKey, tuple[str, list[Any]]] = {}

    # -- what to read ---------------------------------------------------------------------

    @staticmethod
    def _call_key(
        client: ContractClient, function: str, args: tuple[Any, ...], block: int | str
    ) -> _ReadKey:
        return ("call", client.address, function, args, block)

    @staticmethod
    def _call_request(
        client: ContractClient, function: str, args: tuple[Any, ...], block: int | str
    ) -> tuple[str, list[Any]]:
        request: dict[str, Any] = {
            "to": client.address,
            "data": "0x" + client.abi.fn(function).encode(*args).hex(),
        }
        if client.tx is not None:  # as ContractClient.call: from the relayer when it has one
            request["from"] = client.tx.address
        return "eth_call", [request, hex(block) if isinstance(block, int) else block]

    @staticmethod
    def _logs_request(
        address: str, topics: Sequence[Any], start: int, end: int
    ) -> tuple[_ReadKey, tuple[str, list[Any]]]:
        frozen = tuple(t if isinstance(t, str) else tuple(t) for t in topics)
        query = {
            "fromBlock": hex(start),
            "toBlock": hex(end),
            "address": address,
            "topics": [t if isinstance(t, str) else list(t) for t in topics],
        }
        return ("logs", address.lower(), frozen, start, end), ("eth_getLogs", [query])

    def want_call(
        self, client: ContractClient, function: str, *args: Any, block: int | str = "latest"
    ) -> None:
        key = self._call_key(client, function, args, block)
        if key not in self._answers and key not in self._pending:
            self._pending[key] = self._call_request(client, function, args, block)

    def want_logs(self, address: str, topics: Sequence[Any], start: int, end: int) -> None:
        key, request = self._logs_request(address, topics, start, end)
        if key not in self._answers:
            self._pending[key] = request

    def want_block(self, number: int) -> None:
        key = ("block", number)
        if key not in self._answers:
            self._pending[key] = ("eth_getBlockByNumber", [hex(number), False])

    def flush(self) -> None:
        """Send what is wanted and not answered yet, in one batch request."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        keys = list(pending)
        requests = [pending[k] for k in keys]
        batch = getattr(self._provider, "make_batch_request", None)
        responses: Any = None
        if batch is not None and len(requests) > 1:
            responses = batch(requests)
            if not isinstance(responses, list):  # a node that takes no batches: one by one
                log.info("the node refused a batch request (%s): sending one by one", responses)
                responses = None
            elif len(responses) != len(requests):
                raise VerificationError(
                    f"the node answered {len(responses)} of {len(requests)} batched requests"
                )
        if responses is None:
            responses = [self._provider.make_request(m, p) for m, p in requests]
        for key, (method, _), response in zip(keys, requests, responses, strict=True):
            self._answers[key] = self._answer(method, response)

    @staticmethod
    def _answer(method: str, response: Mapping[str, Any]) -> Any:
        """The result, or the error to raise where it is used."""
        error = response.get("error")
        if error is None:
            return response.get("result")
        if method == "eth_call" and isinstance(error, Mapping):
            data = error.get("data")
            if isinstance(data, Mapping):
                data = data.get("data")
            reverted = "revert" in str(error.get("message", "")).lower()
            if reverted or (isinstance(data, str) and data.startswith("0x")):
                return decode_revert(data if isinstance(data, str) else None)
        return VerificationError(f"{method} failed on the node: {error}")

    def _get(self, key: _ReadKey, request: tuple[str, list[Any]] | None = None) -> Any:
        """The answer for ``key`` (sent now, with what else is pending, if not in yet)."""
        if key not in self._answers:
            if request is not None:
                self._pending[key] = request
            self.flush()
        answer = self._answers[key]
        if isinstance(answer, Exception):
            raise answer
        return answer

    # -- answers --------------------------------------------------------------------------

    def raw_call(
        self, client: ContractClient, function: str, *args: Any, block: int | str = "latest"
    ) -> str:
        """The node's answer to ``function(*args)`` as it came (``0x`` hex), the revert raised
        as :meth:`call` raises it."""
        key = self._call_key(client, function, args, block)
        if key not in self._answers:
            self._pending[key] = self._call_request(client, function, args, block)
        return str(self._get(key))

    def call(
        self, client: ContractClient, function: str, *args: Any, block: int | str = "latest"
    ) -> Any:
        """As :meth:`ContractClient.call`: the decoded output of ``function(*args)``."""
        raw = self.raw_call(client, function, *args, block=block)
        return client.abi.fn(function).decode_output(bytes.fromhex(raw[2:]))

    def logs(
        self, address: str, topics: Sequence[Any], start: int, end: int
    ) -> list[dict[str, Any]]:
        """``eth_getLogs`` as the node answers it (hex strings)."""
        key, request = self._logs_request(address, topics, start, end)
        answer: list[dict[str, Any]] = self._get(key, request) or []
        return answer

    def block_time(self, number: int) -> int:
        header = self._get(("block", number), ("eth_getBlockByNumber", [hex(number), False]))
        if header is None:
            raise VerificationError(f"the node has no block {number}")
        return int(header["timestamp"], 16)

    def served(self, client: _ClientT) -> _ClientT:
        """A copy of ``client`` whose reads are answered here: its typed methods
        (``key_info``, ``head``, ...) stay the client's own, their calls come from the batch."""
        clone = copy.copy(client)

        def call(function: str, *args: Any, block: int | str = "latest") -> Any:
            return self.call(client, function, *args, block=block)

        clone.call = call  # type: ignore[method-assign]
        return clone


# ----------------------------------------------------------------------------------------------
# The verifier
# ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _checksummed(address: str) -> ChecksumAddress:
    return to_checksum_address(address)


# Decoded key states by (Membership address, key, the node's raw keyInfo answer). The answer is
# read afresh in every verification; only its decoding is shared, since the same answer always
# decodes to the same KeyInfo (frozen). Cleared when full.
_KEY_STATES: dict[tuple[str, str, str], KeyInfo] = {}
_KEY_STATES_MAX: Final = 4096


def _topic_address(address: str) -> str:
    """An address as an indexed topic (left-padded to 32 bytes), lower-case 0x-hex."""
    return "0x" + address.lower().removeprefix("0x").rjust(64, "0")


def _log_ranges(
    blocks: Iterable[int], *, span: int = _LOG_SPAN, most: int = _MAX_LOG_QUERIES
) -> list[tuple[int, int]]:
    """``eth_getLogs`` block ranges that cover ``blocks`` and as little else as they can.

    A node reads every log of every block in a range (blocks full of other consignments'
    batches fill their bloom filters), so a range should not hold blocks without a record:
    the ranges are the runs of adjacent blocks; if there would be more than ``most``, the
    narrowest gaps between them are closed first. No range holds more than ``span`` blocks."""
    ordered = sorted({b for b in blocks if b >= 0})
    if not ordered:
        return []
    gaps = sorted(
        (i for i in range(1, len(ordered)) if ordered[i] - ordered[i - 1] > 1),
        key=lambda i: ordered[i] - ordered[i - 1],
        reverse=True,
    )
    breaks = set(gaps[: max(most - 1, 0)])
    out: list[tuple[int, int]] = []
    start = previous = ordered[0]
    for i, block in enumerate(ordered[1:], start=1):
        if i in breaks or block - start >= span:
            out.append((start, previous))
            start = block
        previous = block
    out.append((start, previous))
    return out


@dataclass(frozen=True, slots=True)
class _Attributed:
    """A record of the consignment as the index places and attributes it."""

    what: str
    tx_hash: str
    block_number: int
    log_index: int
    org: bytes
    signer: str
    topics: tuple[str, str, str, str]  # 0x-hex, lower case: event, consignment, org, signer
    evidence: Callable[[], Evidence]  # built only for a finding

    def matches(self, entry: Mapping[str, Any], address: str) -> bool:
        """Whether the node's log ``entry`` is this record, as the index has it."""
        return (
            not entry.get("removed", False)
            and str(entry.get("address", "")).lower() == address.lower()
            and int(entry["blockNumber"], 16) == self.block_number
            and int(entry["logIndex"], 16) == self.log_index
            and str(entry.get("transactionHash", "")).lower() == self.tx_hash.lower()
            and tuple(str(t).lower() for t in entry.get("topics", ())) == self.topics
        )


@dataclass
class _Run:
    claim: Claim
    at: int
    block: int
    findings: list[Finding] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    consignment: ConsignmentRecord | None = None
    timeline: list[TimelineEvent] = field(default_factory=list)
    attestations: list[AttestationRecord] = field(default_factory=list)
    drawdowns: list[DrawdownRecord] = field(default_factory=list)
    attributed: list[_Attributed] = field(default_factory=list)  # registration and events
    found_certificate: CertificateRecord | None = None  # what the claim's certificate resolves to
    certificate: CertificateRecord | None = None
    recognised_aeos: list[bytes] = field(default_factory=list)
    consignor_earlier: int | None = None  # the index's count, kept with the registration

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def check(self, name: str, failed_before: int, note: str = "") -> None:
        self.checks.append(
            Check(name, "failed" if len(self.findings) > failed_before else "passed", note)
        )

    def skip(self, name: str, why: str) -> None:
        self.checks.append(Check(name, "skipped", why))


class Verifier:
    """Checks claims against the index and the chain (see the module docstring).

    ``locodes``: a :class:`~ledger.records.LocodeDirectory` with coordinates enables the travel
    time check; ``serials``: a :class:`SerialRegistry` enables the cloned-serial checks.

    Kept between verifications: only the index's organisation directory and members' status
    history, while the index cursor (block number and hash) stays where it was read. Every
    verification reads the chain afresh (keys, heads, logs, attestations, certificates).
    """

    def __init__(
        self,
        ledger: Ledger,
        index: Index,
        *,
        locodes: LocodeDirectory | None = None,
        serials: SerialRegistry | None = None,
        policy: VerificationPolicy | None = None,
    ) -> None:
        self.ledger = ledger
        self.index = index
        self.locodes = locodes
        self.serials = serials
        self.policy = policy or VerificationPolicy()
        self._orgs: dict[bytes, OrganisationRecord] = {}
        self._keys: dict[str, KeyInfo] = {}
        self._org_status: dict[bytes, list[tuple[int, int, int, str, int]]] = {}
        # The index cursor (block number, block hash) at which _orgs and _org_status were read.
        # They are index rows, and the index writes rows only in the transaction that moves
        # its cursor to a new block (and removes them only by moving it back, on a reorg):
        # rows read at one cursor are the rows at that cursor, until it moves.
        self._directory_at: tuple[int, bytes | None] | None = None
        consignments_abi = ledger.consignments.abi
        self._attribution_topic0 = {
            "registration": _h(consignments_abi.event("ConsignmentRegistered").topic0),
            "event": _h(consignments_abi.event("ConsignmentEventRecorded").topic0),
        }
        self._begin_reads()

    def _begin_reads(self) -> None:
        """Fresh chain reads (one verification's), and the typed clients answered from them."""
        self._chain = chain = _ChainReads(self.ledger)
        self._membership = chain.served(self.ledger.membership)
        self._consignments = chain.served(self.ledger.consignments)
        self._certificates = chain.served(self.ledger.certificates)
        self._attestations = chain.served(self.ledger.attestations)
        self._aeo = chain.served(self.ledger.aeo)

    # ------------------------------------------------------------------ entry point

    def verify(self, claim: Claim, *, sync: bool = True) -> Verdict:
        """Verify ``claim``; with ``sync`` the index first catches up with the chain."""
        if (
            claim.consignment_ref is None
            and claim.consignment_id is None
            and claim.container is None
            and claim.certificate is None
        ):
            raise InvalidClaim("a claim must name a consignment, a container or a certificate")
        started = time.perf_counter()
        if sync:
            self.index.sync()
        cursor = self.index.cursor()
        block = cursor[0]
        self._begin_reads()
        if self._directory_at != cursor:
            self._orgs = {o.org_id: o for o in self.index.organisations()}
            self._load_org_status()
            self._directory_at = cursor
        self._keys = {}
        run = _Run(claim=claim, at=0 if claim.at is None else claim.at, block=block)

        self._locate_consignment(run)
        run.found_certificate = self._find_certificate(run)
        self._read_chain(run)
        at = claim.at
        if at is None:
            at = run.at = self._chain.block_time(block)
        if run.consignment is not None:
            run.attestations = self._confirmed_attestations(run, run.attestations)
            self._check_head(run)
            if self.policy.check_attribution:
                self._check_attribution(run)
            self._check_container(run)
        self._check_certificate(run)
        if run.consignment is not None:
            self._check_origin(run)
            self._check_custody(run)
            self._check_seals(run)
            self._check_signers(run)
            self._check_required_attestations(run)
            self._check_serials(run)
        self._check_aeo(run)

        from ledger.risk.score import score_risk  # local: ledger.risk.score imports this module

        risk = score_risk(
            run.findings, recognised_aeos=len(run.recognised_aeos), history=self._history(run)
        )
        status = status_of(run.findings)
        subject = self._subject(run)
        log.info(
            "verified %s: %s (%d findings) in %.3f s",
            subject,
            status,
            len(run.findings),
            time.perf_counter() - started,
        )
        return Verdict(
            status=status,
            subject=subject,
            findings=tuple(run.findings),
            checks=tuple(run.checks),
            at=at,
            block_number=block,
            consignment_id=None if run.consignment is None else run.consignment.consignment_id,
            certificate_id=None if run.certificate is None else run.certificate.certificate_id,
            risk=risk,
        )

    @staticmethod
    def _subject(run: _Run) -> str:
        c = run.claim
        if c.consignment_ref:
            return f"consignment {c.consignment_ref}"
        if run.consignment is not None:
            return f"consignment {_h(run.consignment.consignment_id)}"
        if c.container:
            return f"container {c.container}"
        if c.certificate is not None and c.certificate.number:
            return f"certificate {c.certificate.number}"
        return "certificate"

    # ------------------------------------------------------------------ lookups

    def _load_org_status(self) -> None:
        rows: dict[bytes, list[tuple[int, int, int, str, int]]] = defaultdict(list)
        with self.index.engine.connect() as conn:
            for r in conn.execute(
                select(org_status_changes).order_by(
                    org_status_changes.c.block_number, org_status_changes.c.log_index
                )
            ):
                rows[bytes(r.org_id)].append(
                    (r.block_time, r.status, r.block_number, _h(bytes(r.tx_hash)), r.log_index)
                )
        self._org_status = dict(rows)

    def _status_at(
        self, org: bytes, position: tuple[int, int]
    ) -> tuple[int, tuple[int, int, int, str, int] | None]:
        """(status, the change that set it) of ``org`` just before the log at ``position``
        (block number, log index) in chain order: 1 active, 2 suspended."""
        status, change = 1, None
        for row in self._org_status.get(org, []):
            if (row[2], row[4]) < position:
                status, change = row[1], row
        return status, change

    def _key(self, signer: str) -> KeyInfo:
        """``signer``'s state on chain, read afresh in this verification's batch; decoded once
        per distinct answer (:data:`_KEY_STATES`)."""
        key = _checksummed(signer)
        info = self._keys.get(key)
        if info is None:
            membership = self.ledger.membership
            answer = (membership.address, key, self._chain.raw_call(membership, "keyInfo", key))
            info = _KEY_STATES.get(answer)
            if info is None:
                info = self._membership.key_info(key)
                if len(_KEY_STATES) >= _KEY_STATES_MAX:
                    _KEY_STATES.clear()
                _KEY_STATES[answer] = info
            self._keys[key] = info
        return info

    def _revoked_before(self, key: str, position: tuple[int, int]) -> bool:
        """Whether ``key``'s revocation log comes before the record's log in chain order."""
        with self.index.engine.connect() as conn:
            row = conn.execute(
                select(signing_keys_revoked.c.block_number, signing_keys_revoked.c.log_index)
                .where(signing_keys_revoked.c.key == bytes.fromhex(key[2:]))
                .limit(1)
            ).first()
        if row is None:  # the index lacks it: fall back on the contract's revocation time
            return False
        return (int(row[0]), int(row[1])) < position

    def _org_name(self, org: bytes) -> str:
        record = self._orgs.get(org)
        if record is None:
            return f"unknown organisation {_h(org)[:12]}..."
        return f"{_KIND_NAMES.get(record.kind, 'member')} {_h(org)[:12]}... ({record.country})"

    def _locate_consignment(self, run: _Run) -> None:
        c = run.claim
        cid: bytes | None = c.consignment_id
        if cid is None and c.consignment_ref:
            cid = consignment_id(c.consignment_ref)
        if cid is None and c.container:
            events = self.index.events_by_container(c.container)
            if events:
                cid = events[-1].consignment_id
                ids = {e.consignment_id for e in events}
                note = f"latest of {len(ids)} consignment(s) using the container"
                run.checks.append(Check("consignment lookup by container", "passed", note))
            else:
                run.add(
                    make_finding(
                        "CONSIGNMENT_NOT_FOUND",
                        f"No event on the ledger names container {c.container}: the ledger "
                        "holds no journey for it.",
                    )
                )
                return
        if cid is None:
            return
        view = self.index.consignment_view(cid)
        if view is None:
            # the index might be behind or hide it: ask the chain before concluding
            on_chain = self._consignments.exists(cid)
            what = c.consignment_ref or _h(cid)
            run.add(
                make_finding(
                    "INDEX_MISMATCH" if on_chain else "CONSIGNMENT_NOT_FOUND",
                    f"Consignment {what} is registered on chain but missing from the index."
                    if on_chain
                    else f"Consignment {what} is not registered on the ledger.",
                    [Evidence("consignment", _h(cid))],
                )
            )
            return
        run.consignment = view.consignment
        run.timeline = view.timeline
        run.attestations = view.attestations  # confirmed against the contract in verify()
        run.drawdowns = view.drawdowns
        run.consignor_earlier = view.consignor_earlier

    def _read_chain(self, run: _Run) -> None:
        """Ask the node, in one batch, for what the checks will read from the chain: the
        head at the indexed block, the consignment's logs (with ``check_attribution``), its
        attestations' and every signer's state on chain, the certificate's state, the block
        time."""
        chain = self._chain
        if run.claim.at is None:
            chain.want_block(run.block)
        signers: list[str] = []
        cons = run.consignment
        if cons is not None:
            cid = cons.consignment_id
            chain.want_call(self.ledger.consignments, "head", cid, block=run.block)
            if self.policy.check_attribution:
                address = self.ledger.consignments.address
                topics = self._attribution_filter(cons)
                run.attributed = self._attributed(run)
                for start, end in _log_ranges(i.block_number for i in run.attributed):
                    chain.want_logs(address, topics, start, end)
            for a in run.attestations:
                chain.want_call(self.ledger.attestations, "attestation", a.uid)
            signers += [cons.signer, *(e.signer for e in run.timeline)]
            signers += [d.signer for d in run.drawdowns] + [a.signer for a in run.attestations]
        cert = run.found_certificate
        if cert is not None:
            chain.want_call(self.ledger.certificates, "certificate", cert.certificate_id)
            if cons is not None:
                chain.want_call(
                    self.ledger.certificates, "drawnFor", cert.certificate_id, cons.consignment_id
                )
            signers.append(cert.signer)
        for signer in dict.fromkeys(signers):
            chain.want_call(self.ledger.membership, "keyInfo", _checksummed(signer))
        chain.flush()

    def _confirmed_attestations(
        self, run: _Run, found: list[AttestationRecord]
    ) -> list[AttestationRecord]:
        """The index's attestations as the contract holds them: an attestation whose attester
        differs on chain is dropped, a revocation the index lacks is applied (both reported)."""
        out: list[AttestationRecord] = []
        for a in found:
            state = self._attestations.attestation(a.uid)
            if state.attester != a.attester:
                run.add(
                    make_finding(
                        "INDEX_MISMATCH",
                        f"The index shows an attestation by {self._org_name(a.attester)} that "
                        "the contract does not hold as such; it is ignored.",
                        [ev_attestation(a)],
                    )
                )
                continue
            if state.revoked_at and a.revoked_at is None:
                run.add(
                    make_finding(
                        "INDEX_MISMATCH",
                        "An attestation is revoked on chain but the index shows it as valid.",
                        [ev_attestation(a)],
                    )
                )
                a = replace(a, revoked_at=state.revoked_at)
            out.append(a)
        return out

    # ------------------------------------------------------------------ hash chain

    def _check_head(self, run: _Run) -> None:
        assert run.consignment is not None
        before = len(run.findings)
        cons = run.consignment
        separator = self.ledger.consignments.domain.separator
        head = next_head(
            bytes(28),
            registration_digest(
                separator,
                consignment_id=cons.consignment_id,
                origin=cons.origin.encode("latin-1"),
                destination=cons.destination.encode("latin-1"),
                consignor=cons.consignor,
                consignee=cons.consignee,
            ),
            org_id=cons.registrant,
            signer=cons.signer,
        )
        problems: list[str] = []
        for n, e in enumerate(run.timeline, start=1):
            if e.seq != n:
                problems.append(f"event #{n} is missing (next stored is #{e.seq})")
                break
            meta = (
                bytes([e.biz_step_code, e.disposition_code])
                + e.location.encode("latin-1").ljust(5, b"\0")
                + e.event_time.to_bytes(5, "big")
                + (e.container or "").encode("latin-1").ljust(11, b"\0")
                + e.deadline.to_bytes(5, "big")
                + e.nonce.to_bytes(4, "big")
            )
            digest = event_digest(
                separator,
                consignment_id=cons.consignment_id,
                meta=meta,
                seal_digest=e.seal_digest,
                documents_digest=e.documents_digest,
                epcis_event_hash=e.epcis_event_hash,
            )
            head = next_head(head, digest, org_id=e.org_id, signer=e.signer)
        chain_head, chain_count = self._consignments.head(cons.consignment_id, block=run.block)
        if head != chain_head or len(run.timeline) != chain_count or problems:
            detail = "; ".join(problems) or (
                f"the {len(run.timeline)} events shown fold to head {_h(head)}, the contract "
                f"holds {_h(chain_head)} after {chain_count} events at block {run.block}"
            )
            run.add(
                make_finding(
                    "HEAD_MISMATCH",
                    "The event history served for this consignment is not the one recorded on "
                    f"the ledger ({detail}). Events may have been hidden, added or altered by "
                    "the index, or attributed to another organisation or key; do not rely on "
                    "it: verify against a node or a proof bundle.",
                    [ev_registration(cons), Evidence("head", _h(chain_head), None, run.block)],
                )
            )
        run.check("hash chain equals on-chain head", before)

    def _attributed(self, run: _Run) -> list[_Attributed]:
        """The registration and every event, as the index attributes them."""
        assert run.consignment is not None
        cons = run.consignment
        cid = _h(cons.consignment_id)
        topic0 = self._attribution_topic0
        items = [
            _Attributed(
                "the registration",
                cons.tx_hash,
                cons.block_number,
                cons.log_index,
                cons.registrant,
                cons.signer,
                (topic0["registration"], cid, _h(cons.registrant), _topic_address(cons.signer)),
                partial(ev_registration, cons),
            )
        ]
        items += [
            _Attributed(
                f"event #{e.seq}",
                e.tx_hash,
                e.block_number,
                e.log_index,
                e.org_id,
                e.signer,
                (topic0["event"], cid, _h(e.org_id), _topic_address(e.signer)),
                partial(ev_event, e),
            )
            for e in run.timeline
        ]
        return items

    def _attribution_filter(self, cons: ConsignmentRecord) -> list[Any]:
        """``eth_getLogs`` topics: a registration or an event, of this consignment id."""
        topic0 = self._attribution_topic0
        return [[topic0["registration"], topic0["event"]], _h(cons.consignment_id)]

    def _check_attribution(self, run: _Run) -> None:
        """Each record's organisation and signer as the chain's own log has them.

        The node is asked for the consignment's logs (``eth_getLogs`` on the Consignments
        address, topics [registration or event, consignment id], over the blocks the index
        names); each record shown must be a log there at the same block and log index, in the
        same transaction, with the same topics (event, consignment, organisation, signer)."""
        assert run.consignment is not None
        before = len(run.findings)
        address = self.ledger.consignments.address
        items = run.attributed or self._attributed(run)
        topics = self._attribution_filter(run.consignment)
        on_chain: dict[tuple[int, int], Mapping[str, Any]] = {}
        for start, end in _log_ranges(i.block_number for i in items):
            for log_entry in self._chain.logs(address, topics, start, end):
                position = (int(log_entry["blockNumber"], 16), int(log_entry["logIndex"], 16))
                on_chain[position] = log_entry
        for item in items:
            entry = on_chain.get((item.block_number, item.log_index))
            if entry is None or not item.matches(entry, address):
                run.add(
                    make_finding(
                        "INDEX_MISMATCH",
                        f"The index attributes {item.what} to {self._org_name(item.org)} (key "
                        f"{item.signer}), but the transaction's log on chain does not say so: "
                        "the index is not reliable for who recorded this consignment's history.",
                        [item.evidence()],
                    )
                )
        run.check("record attribution (chain logs)", before)

    def _check_container(self, run: _Run) -> None:
        before = len(run.findings)
        containers = [e.container for e in run.timeline if e.container]
        if run.claim.container:
            wanted = run.claim.container.strip().upper()
            if wanted not in containers:
                run.add(
                    make_finding(
                        "CONTAINER_MISMATCH",
                        f"Container {wanted} was never reported for this consignment; its "
                        f"events name {', '.join(sorted(set(containers))) or 'no container'}.",
                        [ev_event(e) for e in run.timeline[:1]],
                    )
                )
        previous: TimelineEvent | None = None
        for e in run.timeline:
            if not e.container:
                continue
            if previous is not None and previous.container != e.container:
                run.add(
                    make_finding(
                        "CONTAINER_CHANGED",
                        f"The goods moved from container {previous.container} to "
                        f"{e.container} with no recorded unpacking and repacking.",
                        [ev_event(previous), ev_event(e)],
                    )
                )
            previous = e
        run.check("container", before)

    # ------------------------------------------------------------------ certificate

    def _find_certificate(self, run: _Run) -> CertificateRecord | None:
        cc = run.claim.certificate
        if cc is not None and cc.number is not None:
            if cc.issuer is not None:
                return self.index.certificate(certificate_id(cc.issuer, cc.number))
            number_hash = keccak(text=cc.number)
            with self.index.engine.connect() as conn:
                row = conn.execute(
                    select(certificates.c.certificate_id).where(
                        certificates.c.certificate_number == number_hash
                    )
                ).first()
            return None if row is None else self.index.certificate(bytes(row[0]))
        if cc is not None and (cc.document is not None or cc.document_digest is not None):
            digest = cc.document_digest or keccak(cc.document or b"")
            with self.index.engine.connect() as conn:
                row = conn.execute(
                    select(certificates.c.certificate_id).where(
                        certificates.c.document_digest == digest
                    )
                ).first()
            return None if row is None else self.index.certificate(bytes(row[0]))
        if run.consignment is not None and len(run.drawdowns) == 1:
            return self.index.certificate(run.drawdowns[0].certificate_id)
        return None

    def _cert_evidence(self, cert: CertificateRecord) -> Evidence:
        with self.index.engine.connect() as conn:
            row = conn.execute(
                select(certificates.c.log_index).where(
                    certificates.c.certificate_id == cert.certificate_id
                )
            ).first()
        return Evidence(
            "certificate",
            _h(cert.certificate_id),
            cert.tx_hash,
            cert.block_number,
            None if row is None else int(row[0]),
            f"issued {_date(cert.issued_at)} for {cert.quantity} {cert.unit}, "
            f"{cert.origin} -> {cert.destination}",
        )

    def _check_certificate(self, run: _Run) -> None:
        cc = run.claim.certificate
        wants = cc is not None or run.claim.hs_codes or run.claim.quantity is not None
        cert = run.found_certificate
        if cert is None:
            if cc is not None:
                what = cc.number or "the presented document"
                run.add(
                    make_finding(
                        "CERT_NOT_FOUND",
                        f"No certificate of origin {what} "
                        + ("from that issuer " if cc.issuer is not None else "")
                        + "is recorded on the ledger. A genuine certificate is recorded by its "
                        "issuer when issued: treat this one as forged until the issuer confirms.",
                    )
                )
                run.check("certificate exists", len(run.findings) - 1)
            elif wants:
                run.skip("certificate", "the claim names no certificate and none is linked")
            return
        run.certificate = cert
        evidence = self._cert_evidence(cert)
        before = len(run.findings)
        # the index against the contract: record hash, status, drawn quantity
        state = self._certificates.certificate(cert.certificate_id)
        issue = CertificateIssue(
            certificate_number=cert.certificate_number,
            exporter=cert.exporter,
            origin=cert.origin.encode("latin-1"),
            destination=cert.destination.encode("latin-1"),
            document_digest=cert.document_digest,
            hs_codes_digest=cert.hs_codes_digest,
            quantity=cert.quantity,
            unit=fixed_ascii(cert.unit, 8),
            valid_from=cert.valid_from,
            valid_until=cert.valid_until,
            issued_at=cert.issued_at,
        )
        if issue.struct_hash()[:28] != state.record_hash or state.drawn != cert.drawn:
            run.add(
                make_finding(
                    "INDEX_MISMATCH",
                    "The certificate as served by the index differs from the record the "
                    "contract holds (record hash or drawn quantity): the index is not reliable "
                    "for this certificate.",
                    [evidence],
                )
            )
        self._cert_document(run, cert, evidence)
        self._cert_issuer(run, cert, evidence)
        revoked = state.status == 2 or cert.revoked_at is not None
        if revoked:
            run.add(
                make_finding(
                    "CERT_REVOKED",
                    "The issuer revoked this certificate of origin"
                    + (f" on {_date(cert.revoked_at)}" if cert.revoked_at else "")
                    + ". It no longer supports any claim of origin.",
                    [evidence, *self._revocation_evidence(cert)],
                )
            )
        if run.at < cert.valid_from:
            run.add(
                make_finding(
                    "CERT_NOT_YET_VALID",
                    f"The certificate is valid only from {_date(cert.valid_from)}; the claim is "
                    f"verified for {_date(run.at)}.",
                    [evidence],
                )
            )
        elif run.at >= cert.valid_until:
            run.add(
                make_finding(
                    "CERT_EXPIRED",
                    f"The certificate expired on {_date(cert.valid_until)}; the claim is "
                    f"verified for {_date(run.at)}.",
                    [evidence],
                )
            )
        self._cert_goods(run, cert, evidence)
        if run.consignment is not None:
            cons = run.consignment
            if cons.destination != cert.destination:
                run.add(
                    make_finding(
                        "CERT_DESTINATION_MISMATCH",
                        f"The certificate is for goods going to {cert.destination}, but the "
                        f"consignment is registered for {cons.destination}.",
                        [evidence, ev_registration(cons)],
                    )
                )
            if cons.consignor != ZERO32 and cons.consignor != cert.exporter:
                run.add(
                    make_finding(
                        "CERT_EXPORTER_MISMATCH",
                        f"The certificate was issued to exporter {self._org_name(cert.exporter)}"
                        f" but the consignor is {self._org_name(cons.consignor)}.",
                        [evidence, ev_registration(cons)],
                    )
                )
        self._cert_quantity(run, cert, evidence)
        run.check("certificate of origin", before)

    def _revocation_evidence(self, cert: CertificateRecord) -> list[Evidence]:
        with self.index.engine.connect() as conn:
            row = conn.execute(
                select(certificate_revocations).where(
                    certificate_revocations.c.certificate_id == cert.certificate_id
                )
            ).first()
        if row is None:
            return []
        return [
            Evidence(
                "revocation",
                _h(cert.certificate_id),
                _h(bytes(row.tx_hash)),
                row.block_number,
                row.log_index,
                f"revoked {_date(row.block_time)}",
            )
        ]

    def _cert_document(self, run: _Run, cert: CertificateRecord, evidence: Evidence) -> None:
        cc = run.claim.certificate
        if cc is None or (cc.document is None and cc.document_digest is None):
            return
        digest = keccak(cc.document) if cc.document is not None else cc.document_digest
        if digest != cert.document_digest:
            run.add(
                make_finding(
                    "CERT_DIGEST_MISMATCH",
                    "The certificate document presented is not the one the issuer recorded: "
                    f"its digest is {_h(digest or b'')}, the ledger holds "
                    f"{_h(cert.document_digest)}. The document was altered after issue.",
                    [evidence],
                )
            )

    def _cert_issuer(self, run: _Run, cert: CertificateRecord, evidence: Evidence) -> None:
        issuer = self._orgs.get(cert.issuer)
        problems: list[str] = []
        claimed = (run.claim.origin or cert.origin).upper()
        if issuer is None:
            problems.append("the issuer is not a member organisation")
        else:
            if issuer.kind not in (ISSUING_BODY, CUSTOMS):
                problems.append(f"the issuer is a {_KIND_NAMES.get(issuer.kind)}")
            if issuer.country != cert.origin:
                problems.append(
                    f"the issuer is in {issuer.country} but certified origin {cert.origin}"
                )
            if claimed != issuer.country:
                problems.append(
                    f"the issuer, in {issuer.country}, cannot certify origin {claimed} as claimed"
                )
            status, _ = self._status_at(cert.issuer, (cert.block_number, evidence.log_index or 0))
            if status != 1:
                problems.append("the issuer was suspended when the certificate was recorded")
        key = self._key(cert.signer)
        if key.org_id != cert.issuer:
            problems.append("the signing key does not belong to the issuer")
        elif not (key.valid_from <= cert.issued_at < key.valid_until) or (
            key.revoked_at and key.revoked_at <= cert.recorded_at
        ):
            problems.append("the signing key was not valid at the time of issue")
        if problems:
            run.add(
                make_finding(
                    "CERT_ISSUER_NOT_AUTHORISED",
                    "The certificate's issuer was not authorised to certify this origin: "
                    + "; ".join(problems)
                    + ".",
                    [evidence],
                )
            )

    def _cert_goods(self, run: _Run, cert: CertificateRecord, evidence: Evidence) -> None:
        cc = run.claim.certificate
        try:
            claimed = sorted({HsCode(c) for c in run.claim.hs_codes})
            full = (
                None
                if cc is None or cc.hs_codes is None
                else sorted({HsCode(c) for c in cc.hs_codes})
            )
        except LedgerError as exc:
            raise InvalidClaim(f"hs_codes: {exc}") from exc
        if full is not None:
            if hs_codes_digest(full) != cert.hs_codes_digest:
                run.add(
                    make_finding(
                        "CERT_HS_MISMATCH",
                        "The HS codes on the presented certificate ("
                        + ", ".join(c.dotted() for c in full)
                        + ") are not the codes the issuer recorded.",
                        [evidence],
                    )
                )
                return
            missing = [c for c in claimed if c not in full]
            if missing:
                run.add(
                    make_finding(
                        "GOODS_NOT_COVERED",
                        "The certificate does not cover the declared goods "
                        + ", ".join(c.dotted() for c in missing)
                        + "; it covers "
                        + ", ".join(c.dotted() for c in full)
                        + ".",
                        [evidence],
                    )
                )
        elif claimed and hs_codes_digest(claimed) != cert.hs_codes_digest:
            run.add(
                make_finding(
                    "CERT_HS_MISMATCH",
                    "The declared goods ("
                    + ", ".join(c.dotted() for c in claimed)
                    + ") are not the HS codes the certificate was issued for. (Present the "
                    "certificate's full code list to check a part of it.)",
                    [evidence],
                )
            )

    def _claimed_quantity(self, run: _Run, cert: CertificateRecord) -> int | None:
        q = run.claim.quantity
        if q is None or isinstance(q, int):
            return q
        try:
            converted = q.to(cert.unit)
        except LedgerError:
            run.add(
                make_finding(
                    "QUANTITY_UNIT_MISMATCH",
                    f"The declared quantity {q} cannot be compared with the certificate, "
                    f"which is in {cert.unit}.",
                )
            )
            return None
        amount = converted.amount
        return int(amount) if amount == amount.to_integral_value() else int(amount) + 1

    def _cert_quantity(self, run: _Run, cert: CertificateRecord, evidence: Evidence) -> None:
        if cert.drawn > cert.quantity:
            run.add(
                make_finding(
                    "CERT_OVERDRAWN",
                    f"{cert.drawn} {cert.unit} were drawn on a certificate for "
                    f"{cert.quantity} {cert.unit}.",
                    [evidence, *(ev_drawdown(d) for d in cert.drawdowns)],
                )
            )
        claimed = self._claimed_quantity(run, cert)
        if run.consignment is None:
            if claimed is not None and claimed > cert.remaining:
                run.add(
                    make_finding(
                        "CERT_QUANTITY_EXCEEDED",
                        f"The certificate has {cert.remaining} {cert.unit} left of "
                        f"{cert.quantity}; it cannot cover {claimed} {cert.unit}.",
                        [evidence],
                    )
                )
            return
        cid = run.consignment.consignment_id
        mine = [d for d in cert.drawdowns if d.consignment_id == cid]
        drawn_here = sum(d.quantity for d in mine)
        on_chain = self._certificates.drawn_for(cert.certificate_id, cid)
        if on_chain != drawn_here:
            run.add(
                make_finding(
                    "INDEX_MISMATCH",
                    f"The index shows {drawn_here} {cert.unit} drawn for this consignment, the "
                    f"contract holds {on_chain} {cert.unit}.",
                    [evidence, *(ev_drawdown(d) for d in mine)],
                )
            )
            drawn_here = on_chain
        if not mine:
            run.add(
                make_finding(
                    "CERT_NOT_DRAWN",
                    "No quantity of this certificate was drawn for this consignment: the "
                    "ledger does not link them. "
                    + (
                        f"The certificate is already fully used ({cert.drawn} of "
                        f"{cert.quantity} {cert.unit} drawn by other consignments)."
                        if cert.remaining == 0
                        else f"{cert.remaining} {cert.unit} remain undrawn."
                    ),
                    [evidence, ev_registration(run.consignment)],
                )
            )
        if claimed is not None and claimed > drawn_here:
            run.add(
                make_finding(
                    "CERT_QUANTITY_EXCEEDED",
                    f"The declared {claimed} {cert.unit} exceed the {drawn_here} {cert.unit} "
                    f"drawn on the certificate for this consignment (certificate total "
                    f"{cert.quantity}, {cert.remaining} left).",
                    [evidence, *(ev_drawdown(d) for d in mine)],
                )
            )
        others = [d for d in cert.drawdowns if d.consignment_id != cid]
        if others:
            reasons: list[str] = []
            consignments_count = len({d.consignment_id for d in cert.drawdowns})
            if consignments_count > self.policy.max_consignments_per_certificate:
                reasons.append(
                    f"{consignments_count} consignments drew on it (policy allows "
                    f"{self.policy.max_consignments_per_certificate})"
                )
            for d in others:
                other = self.index.consignment(d.consignment_id)
                if other is None:
                    continue
                if other.origin != cert.origin:
                    reasons.append(f"{_h(d.consignment_id)[:12]}... starts in {other.origin}")
                if other.consignor not in (ZERO32, cert.exporter) or (
                    other.consignor != run.consignment.consignor
                ):
                    reasons.append(f"{_h(d.consignment_id)[:12]}... has another consignor")
            if reasons:
                run.add(
                    make_finding(
                        "CERT_DRAWN_BY_OTHERS",
                        "The certificate was also used for other consignments: "
                        + "; ".join(reasons)
                        + ". A certificate reused across shipments may cover goods that are "
                        "not these.",
                        [evidence, *(ev_drawdown(d) for d in others)],
                    )
                )

    # ------------------------------------------------------------------ origin and route

    def _check_origin(self, run: _Run) -> None:
        assert run.consignment is not None
        cons = run.consignment
        before = len(run.findings)
        claimed = (run.claim.origin or cons.origin).upper()
        if cons.origin != claimed:
            run.add(
                make_finding(
                    "ORIGIN_MISMATCH",
                    f"The consignment was registered as leaving {cons.origin}, not the claimed "
                    f"origin {claimed}.",
                    [ev_registration(cons)],
                )
            )
        loading = next((e for e in run.timeline if e.biz_step in _LOADING_STEPS), None)
        if loading is None:
            loading = next((e for e in run.timeline if e.biz_step in _DEPARTURE_STEPS), None)
        if loading is None:
            run.add(
                make_finding(
                    "ORIGIN_UNPROVEN",
                    "No loading or departure event is recorded, so the ledger does not show "
                    "where the goods started their journey.",
                    [ev_registration(cons)],
                )
            )
        elif loading.location[:2] != claimed:
            run.add(
                make_finding(
                    "ORIGIN_MISMATCH",
                    f"The goods were first loaded at {loading.location} in "
                    f"{loading.location[:2]}, not in the claimed origin {claimed}.",
                    [ev_event(loading)],
                )
            )
        # transshipment through third countries
        # every event counts: goods packed or stored in a third country before their "first"
        # loading are as suspect as goods transshipped there
        third: dict[str, list[TimelineEvent]] = defaultdict(list)
        for e in run.timeline:
            country = e.location[:2]
            if country not in (claimed, cons.origin, cons.destination):
                third[country].append(e)
        for country, events in third.items():
            controls = [
                a
                for a in run.attestations
                if a.valid_at(run.at)
                and (org := self._orgs.get(a.attester)) is not None
                and org.kind == CUSTOMS
                and org.country == country
            ]
            if not controls:
                places = sorted({e.location for e in events})
                run.add(
                    make_finding(
                        "ORIGIN_LAUNDERING",
                        f"The goods were handled in {country} ({', '.join(places)}), a third "
                        f"country between origin {claimed} and destination {cons.destination}, "
                        f"and no customs administration of {country} attested the consignment. "
                        "Without customs control there the goods may have been swapped or "
                        "re-labelled (origin laundering); the direct transport of originating "
                        "goods is not shown.",
                        [ev_event(e) for e in events],
                    )
                )
        run.check("origin and route", before)

    # ------------------------------------------------------------------ chain of custody

    def _max_speed(self, a: str, b: str) -> float:
        if self.locodes is not None:
            ea, eb = self.locodes.get(a), self.locodes.get(b)
            if ea is not None and eb is not None and ea.is_airport and eb.is_airport:
                return AIR_KMH
        return SEA_KMH

    def _check_custody(self, run: _Run) -> None:
        before = len(run.findings)
        travel_checked = 0
        previous: TimelineEvent | None = None
        for e in run.timeline:
            lag = e.block_time - e.event_time
            if lag > self.policy.max_recording_lag:
                run.add(
                    make_finding(
                        "BACKDATED_RECORD",
                        f"Event #{e.seq} claims {_date(e.event_time)} but was recorded "
                        f"{_duration(lag)} later, on {_date(e.block_time)}. Late records can "
                        "rewrite history; ask the signer why.",
                        [ev_event(e)],
                    )
                )
            if previous is None:
                previous = e
                continue
            dt = e.event_time - previous.event_time
            if dt < 0:
                run.add(
                    make_finding(
                        "TIME_NOT_MONOTONIC",
                        f"Event #{e.seq} ({e.biz_step} at {e.location}) is dated "
                        f"{_date(e.event_time)}, {_duration(dt)} before the event recorded "
                        f"before it ({previous.biz_step} at {previous.location}, "
                        f"{_date(previous.event_time)}).",
                        [ev_event(previous), ev_event(e)],
                    )
                )
            if dt > self.policy.max_event_gap:
                run.add(
                    make_finding(
                        "CUSTODY_GAP",
                        f"Nothing was recorded for {_duration(dt)} between event #{previous.seq}"
                        f" and event #{e.seq}: the goods' whereabouts are unknown.",
                        [ev_event(previous), ev_event(e)],
                    )
                )
            if e.location != previous.location:
                if not (previous.biz_step in _DEPARTURE_STEPS and e.biz_step in _ARRIVAL_STEPS):
                    run.add(
                        make_finding(
                            "CUSTODY_GAP",
                            f"The goods were last recorded at {previous.location} "
                            f"({previous.biz_step}) and next at {e.location} ({e.biz_step}) "
                            "with no departure and arrival recorded in between: custody of "
                            "the goods during that move is not shown.",
                            [ev_event(previous), ev_event(e)],
                        )
                    )
                if self.locodes is not None:
                    a = self.locodes.coordinates(previous.location)
                    b = self.locodes.coordinates(e.location)
                    if a is not None and b is not None:
                        travel_checked += 1
                        km = great_circle_km(a, b)
                        speed = self._max_speed(previous.location, e.location)
                        reachable = speed * max(dt, 0) / 3600 + DISTANCE_SLACK_KM
                        if km > reachable:
                            run.add(
                                make_finding(
                                    "IMPOSSIBLE_TRAVEL",
                                    f"{previous.location} and {e.location} are {km:,.0f} km "
                                    f"apart but only {_duration(max(dt, 0))} passed between "
                                    f"event #{previous.seq} and #{e.seq}: at most "
                                    f"{reachable:,.0f} km at {speed:,.0f} km/h. These events "
                                    "cannot both be true.",
                                    [ev_event(previous), ev_event(e)],
                                )
                            )
            previous = e
        if self.locodes is None:
            run.skip("travel times", "no UN/LOCODE directory with coordinates was given")
        elif travel_checked == 0 and len({e.location for e in run.timeline}) > 1:
            run.skip("travel times", "no coordinates for these locations")
        run.check("chain of custody", before)

    # ------------------------------------------------------------------ seals

    def _check_seals(self, run: _Run) -> None:
        before = len(run.findings)
        inspection_schema = keccak(text=self.policy.inspection_schema)
        inspections = [
            a
            for a in run.attestations
            if a.schema_id == inspection_schema
            and a.valid_at(run.at)
            and (org := self._orgs.get(a.attester)) is not None
            and org.kind == CUSTOMS
        ]
        used: set[bytes] = set()
        last: TimelineEvent | None = None
        for e in run.timeline:
            if e.seal_digest == ZERO32:
                continue
            if last is not None and e.seal_digest != last.seal_digest:
                countries = {last.location[:2], e.location[:2]}
                cover = next(
                    (
                        a
                        for a in inspections
                        if a.uid not in used
                        and self._orgs[a.attester].country in countries
                        and (a.block_number, a.log_index) > (last.block_number, last.log_index)
                    ),
                    None,
                )
                if cover is None:
                    run.add(
                        make_finding(
                            "SEAL_CHANGED_WITHOUT_INSPECTION",
                            f"The seal changed between event #{last.seq} ({last.location}) and "
                            f"event #{e.seq} ({e.location}) and no customs administration of "
                            f"{' or '.join(sorted(countries))} recorded an inspection. The "
                            "container was opened outside customs control.",
                            [ev_event(last), ev_event(e)],
                        )
                    )
                else:
                    used.add(cover.uid)
            last = e
        run.check("seals", before)

    # ------------------------------------------------------------------ signers

    def _check_signers(self, run: _Run) -> None:
        assert run.consignment is not None
        before = len(run.findings)
        cons = run.consignment
        parties = {cons.registrant, cons.consignor, cons.consignee} - {ZERO32}
        # (what, signer, org, record time, block time, kinds that may sign it, a party of the
        # consignment, its log position, its evidence: built only for a finding)
        records: list[
            tuple[
                str,
                str,
                bytes,
                int,
                int,
                frozenset[int],
                bool,
                tuple[int, int],
                Callable[[], Evidence],
            ]
        ] = [
            (
                "registration",
                cons.signer,
                cons.registrant,
                cons.registered_at,
                cons.registered_at,
                frozenset({CUSTOMS, CARRIER, TRADER, POSTAL_OPERATOR}),
                False,
                (cons.block_number, cons.log_index),
                partial(ev_registration, cons),
            )
        ]
        for e in run.timeline:
            records.append(
                (
                    f"event #{e.seq}",
                    e.signer,
                    e.org_id,
                    e.event_time,
                    e.block_time,
                    frozenset({CUSTOMS, CARRIER, POSTAL_OPERATOR}),
                    e.org_id in parties,
                    (e.block_number, e.log_index),
                    partial(ev_event, e),
                )
            )
        for d in run.drawdowns:
            records.append(
                (
                    "drawdown",
                    d.signer,
                    d.org_id,
                    d.drawn_at,
                    d.drawn_at,
                    frozenset({CUSTOMS, TRADER}),
                    False,
                    (d.block_number, d.log_index),
                    partial(ev_drawdown, d),
                )
            )
        for a in run.attestations:
            records.append(
                (
                    "attestation",
                    a.signer,
                    a.attester,
                    a.attested_at,
                    a.attested_at,
                    frozenset({CUSTOMS, CARRIER, TRADER, ISSUING_BODY, POSTAL_OPERATOR}),
                    False,
                    (a.block_number, a.log_index),
                    partial(ev_attestation, a),
                )
            )
        revoked_later: dict[str, list[Evidence]] = defaultdict(list)
        suspended_later: dict[bytes, list[Evidence]] = defaultdict(list)
        for what, signer, org, t, block_time, kinds, party, position, evidence in records:
            key = self._key(signer)
            if key.org_id != org:
                run.add(
                    make_finding(
                        "SIGNER_NOT_AUTHORISED",
                        f"The {what} is attributed to {self._org_name(org)} but was signed "
                        f"with key {signer}, which is not one of its keys.",
                        [evidence()],
                    )
                )
                continue
            member = self._orgs.get(org)
            if member is not None and member.kind not in kinds and not party:
                run.add(
                    make_finding(
                        "SIGNER_NOT_AUTHORISED",
                        f"The {what} was signed by a {_KIND_NAMES.get(member.kind)}, which may "
                        "not sign such records for this consignment.",
                        [evidence()],
                    )
                )
            revoked_before = bool(key.revoked_at) and (
                t > key.revoked_at or self._revoked_before(key.key, position)
            )
            window = all(key.valid_from <= x < key.valid_until for x in (t, block_time))
            if not window or revoked_before:
                if revoked_before:
                    why = f"it was revoked on {_date(key.revoked_at)}"
                elif t < key.valid_from:
                    why = f"it became valid only on {_date(key.valid_from)}"
                else:
                    why = f"it expired on {_date(key.valid_until)}"
                run.add(
                    make_finding(
                        "SIGNER_KEY_INVALID",
                        f"The {what} ({_date(t)}) was signed with key {signer}, but {why}.",
                        [evidence()],
                    )
                )
            elif key.revoked_at:
                revoked_later[key.key].append(evidence())
            status, change = self._status_at(org, position)
            if status != 1:
                run.add(
                    make_finding(
                        "SIGNER_MEMBER_SUSPENDED",
                        f"The {what} was recorded while {self._org_name(org)} was suspended.",
                        [evidence()],
                        severity=Severity.CRITICAL,
                    )
                )
            else:
                now_status, _ = self._status_at(org, _END)
                if now_status != 1:
                    suspended_later[org].append(evidence())
        for key_address, evidence_list in revoked_later.items():
            info = self._keys[key_address]
            run.add(
                make_finding(
                    "SIGNER_KEY_REVOKED",
                    f"Key {key_address} of {self._org_name(info.org_id)} signed "
                    f"{len(evidence_list)} record(s) of this consignment and was revoked on "
                    f"{_date(info.revoked_at)}. Keys are revoked when compromised or when staff "
                    "leave: confirm these records with the organisation.",
                    evidence_list,
                )
            )
        for org, evidence_list in suspended_later.items():
            _, change = self._status_at(org, _END)
            since = "" if change is None else f" since {_date(change[0])}"
            ev_change = (
                []
                if change is None
                else [Evidence("suspension", _h(org), change[3], change[2], change[4])]
            )
            run.add(
                make_finding(
                    "SIGNER_MEMBER_SUSPENDED",
                    f"{self._org_name(org)} signed {len(evidence_list)} record(s) of this "
                    f"consignment and is suspended{since} by the customs administrations. "
                    "Its records were accepted while it was a member in good standing; "
                    "treat them with caution.",
                    [*evidence_list, *ev_change],
                )
            )
        run.check("signers", before)

    # ------------------------------------------------------------------ attestations

    def _check_required_attestations(self, run: _Run) -> None:
        assert run.consignment is not None
        before = len(run.findings)
        cons = run.consignment
        for definition, whose in self.policy.required_attestations:
            schema_id = keccak(text=definition)
            country = cons.origin if whose == "origin" else cons.destination
            name = definition.split("(")[0]
            candidates = [
                a
                for a in run.attestations
                if a.schema_id == schema_id
                and (org := self._orgs.get(a.attester)) is not None
                and org.kind == CUSTOMS
                and org.country == country
            ]
            valid = [a for a in candidates if a.valid_at(run.at)]
            if valid:
                continue
            if candidates:
                run.add(
                    make_finding(
                        "ATTESTATION_REVOKED",
                        f"The {name} attestation by the customs of {country} was revoked or has "
                        f"expired by {_date(run.at)}.",
                        [ev_attestation(a) for a in candidates],
                    )
                )
            else:
                run.add(
                    make_finding(
                        "ATTESTATION_MISSING",
                        f"No {name} attestation by the customs administration of {country} is "
                        "recorded for this consignment.",
                        [ev_registration(cons)],
                    )
                )
        run.check("required attestations", before)

    # ------------------------------------------------------------------ serials

    def _check_serials(self, run: _Run) -> None:
        assert run.consignment is not None
        docs = run.claim.epcis_events
        if not docs:
            run.skip("item serials", "the claim supplies no EPCIS events")
            return
        before = len(run.findings)
        by_hash = {e.epcis_event_hash: e for e in run.timeline if e.epcis_event_hash != ZERO32}
        serials: dict[str, TimelineEvent] = {}
        for doc in docs:
            digest = epcis_event_hash(doc)
            event = by_hash.get(digest)
            if event is None:
                run.add(
                    make_finding(
                        "EPCIS_HASH_MISMATCH",
                        f"An EPCIS event supplied with the claim (hash {_h(digest)}) matches no "
                        "event recorded for this consignment: the item list was not committed "
                        "by the signer, or was altered.",
                        [ev_registration(run.consignment)],
                    )
                )
                continue
            for serial in epcis_serials(doc):
                serials.setdefault(serial, event)
        if self.serials is None:
            run.skip("cloned serials", "no serial registry configured")
            run.check("EPCIS events", before)
            return
        cid = run.consignment.consignment_id
        first = min((e.event_time for e in run.timeline), default=0)
        last = max((e.event_time for e in run.timeline), default=0)
        for serial, event in sorted(serials.items()):
            clones = [
                s
                for s in self.serials.sightings(serial)
                if s.consignment_id != cid and s.first_time <= last and first <= s.last_time
            ]
            if clones:
                other = clones[0]
                run.add(
                    make_finding(
                        "CLONED_SERIAL",
                        f"Item {serial} is also reported in consignment "
                        f"{_h(other.consignment_id)[:12]}... at {other.location} between "
                        f"{_date(other.first_time)} and {_date(other.last_time)}, while this "
                        "consignment travelled. One item cannot be in two places: at least one "
                        "of them carries a copied serial (counterfeit).",
                        [
                            ev_event(event),
                            *(
                                Evidence(
                                    "event",
                                    _h(s.consignment_id),
                                    s.tx_hash,
                                    s.block_number,
                                    s.log_index,
                                    f"{serial} at {s.location}",
                                )
                                for s in clones
                            ),
                        ],
                    )
                )
            if self.serials.commissioning(serial) is False:
                run.add(
                    make_finding(
                        "SERIAL_NOT_COMMISSIONED",
                        f"Item {serial} is not in its brand owner's list of commissioned "
                        "serials: the brand owner never made it.",
                        [ev_event(event)],
                    )
                )
        run.check("item serials", before)

    # ------------------------------------------------------------------ AEO

    def _check_aeo(self, run: _Run) -> None:
        operators = run.claim.aeo_operators
        if not operators:
            run.skip("AEO status", "no operator presented as AEO")
            return
        admin = run.claim.administration
        if admin is None:
            raise InvalidClaim("AEO operators need the verifying administration")
        admin_org = self._orgs.get(admin)
        if admin_org is None or admin_org.kind != CUSTOMS:
            raise InvalidClaim("the verifying administration is not a customs administration")
        before = len(run.findings)
        for op in operators:  # one batch request for all of them
            self._chain.want_call(self.ledger.aeo, "recognition", op, admin, run.at)
        self._chain.flush()
        for op in operators:
            recognition = self._aeo.recognition(op, admin, run.at)
            if recognition.recognised:
                run.recognised_aeos.append(op)
                continue
            self._explain_aeo(run, op, admin)
        run.check("AEO status and recognition", before)

    def _aeo_evidence(self, certification_id: bytes) -> list[Evidence]:
        with self.index.engine.connect() as conn:
            rows = conn.execute(
                select(aeo_status_changes)
                .where(aeo_status_changes.c.certification_id == certification_id)
                .order_by(aeo_status_changes.c.block_number, aeo_status_changes.c.log_index)
            ).all()
        names = {1: "certified", 2: "suspended", 3: "reinstated", 4: "revoked"}
        return [
            Evidence(
                "aeo",
                _h(certification_id),
                _h(bytes(r.tx_hash)),
                r.block_number,
                r.log_index,
                f"{names.get(r.action, '?')} {_date(r.block_time)}",
            )
            for r in rows
        ]

    def _mra_evidence(self, mra_id: bytes) -> list[Evidence]:
        with self.index.engine.connect() as conn:
            rows = conn.execute(
                select(mra_events)
                .where(mra_events.c.mra_id == mra_id)
                .order_by(mra_events.c.block_number, mra_events.c.log_index)
            ).all()
        return [
            Evidence(
                "mra",
                _h(mra_id),
                _h(bytes(r.tx_hash)),
                r.block_number,
                r.log_index,
                f"{r.kind} {_date(r.block_time)}",
            )
            for r in rows
        ]

    def _explain_aeo(self, run: _Run, op: bytes, admin: bytes) -> None:
        name = self._org_name(op)
        statuses = self.index.aeo_certifications(op, at=run.at)
        if not statuses:
            run.add(
                make_finding(
                    "AEO_NOT_CERTIFIED",
                    f"{name} is presented as an Authorised Economic Operator but no customs "
                    f"administration has certified it (as of {_date(run.at)}).",
                    [Evidence("organisation", _h(op))],
                )
            )
            return
        in_force = [s for s in statuses if s.in_force]
        if not in_force:
            s = statuses[-1]
            evidence = self._aeo_evidence(s.certification_id)
            if s.status == "suspended":
                code, why = "AEO_SUSPENDED", f"was suspended on {_date(s.changed_at)}"
            elif s.status == "revoked":
                code, why = "AEO_REVOKED", f"was revoked on {_date(s.changed_at)}"
            else:
                code, why = (
                    "AEO_EXPIRED",
                    (f"is valid from {_date(s.valid_from)} to {_date(s.valid_until)}"),
                )
            run.add(
                make_finding(
                    code,
                    f"The {s.programme} certification of {name} by "
                    f"{self._org_name(s.administration)} {why}: it gives no AEO status on "
                    f"{_date(run.at)}.",
                    evidence,
                )
            )
            return
        reasons: list[str] = []
        proof: list[Evidence] = []
        for s in in_force:
            proof.extend(self._aeo_evidence(s.certification_id))
            mras = self.index.mras_between(s.administration, admin)
            if not mras:
                reasons.append(
                    f"no mutual recognition agreement exists between "
                    f"{self._org_name(s.administration)} and the verifying administration"
                )
                continue
            for m in mras:
                proof.extend(self._mra_evidence(m.mra_id))
                if m.accepted_at is None:
                    reasons.append("the MRA was proposed but never accepted")
                elif m.terminated_at is not None and m.terminated_at <= run.at:
                    reasons.append(f"the MRA was terminated on {_date(m.terminated_at)}")
                elif not m.covers(s.programme):
                    reasons.append(
                        f"the MRA covers {', '.join(m.programmes) or 'nothing'}, not {s.programme}"
                    )
                elif not m.in_force(run.at):
                    reasons.append(
                        f"the MRA is in effect from {_date(max(m.valid_from, m.accepted_at))} "
                        f"to {_date(m.valid_until)}"
                    )
        run.add(
            make_finding(
                "AEO_NOT_RECOGNISED",
                f"{name} holds an AEO certification, but the verifying administration does not "
                f"recognise it on {_date(run.at)}: "
                + "; ".join(sorted(set(reasons)) or ["the contract's recognition query says no"])
                + ".",
                proof,
            )
        )

    # ------------------------------------------------------------------ history (risk)

    def _history(self, run: _Run) -> tuple[int, bool]:
        """(earlier consignments of the same consignor, whether its record is clean)."""
        if run.consignment is None or run.consignment.consignor == ZERO32:
            return 0, False
        cons = run.consignment
        return self.index.consignor_history(
            cons.consignor, before_block=cons.block_number, earlier=run.consignor_earlier
        )


def verify_claim(
    claim: Claim,
    *,
    ledger: Ledger,
    index: Index,
    locodes: LocodeDirectory | None = None,
    serials: SerialRegistry | None = None,
    policy: VerificationPolicy | None = None,
    sync: bool = True,
) -> Verdict:
    """One-call form of :meth:`Verifier.verify` (what ``ledger verify`` calls)."""
    verifier = Verifier(ledger, index, locodes=locodes, serials=serials, policy=policy)
    return verifier.verify(claim, sync=sync)


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------

_HEADLINE = {
    VerdictStatus.VERIFIED: "VERIFIED: the ledger supports the claim",
    VerdictStatus.SUSPICIOUS: "SUSPICIOUS: the ledger supports the claim only with reservations",
    VerdictStatus.FAILED: "FAILED: the ledger does not support the claim",
}


def render_report(verdict: Verdict) -> str:
    """A plain-text report for a customs officer."""
    lines = [
        _HEADLINE[verdict.status],
        f"Subject: {verdict.subject}",
        f"Verified for: {_date(verdict.at)}  (chain data up to block {verdict.block_number})",
    ]
    if verdict.consignment_id is not None:
        lines.append(f"Consignment id: {_h(verdict.consignment_id)}")
    if verdict.certificate_id is not None:
        lines.append(f"Certificate id: {_h(verdict.certificate_id)}")
    risk = verdict.risk
    if risk is not None:
        lines.append(f"Risk score: {risk.score}/100 ({risk.band})")
        for c in risk.contributions:
            lines.append(f"    {c.points:+4d}  {c.reason}")
    lines.append("")
    if verdict.findings:
        lines.append(f"Findings ({len(verdict.findings)}):")
        for n, f in enumerate(verdict.findings, start=1):
            lines.append(f"{n}. [{f.severity.upper()}] {f.code}: {f.title}")
            lines.append(f"   {f.explanation}")
            for e in f.evidence:
                where = []
                if e.tx_hash:
                    where.append(f"tx {e.tx_hash}")
                if e.block_number is not None:
                    where.append(f"block {e.block_number}")
                if e.log_index is not None:
                    where.append(f"log {e.log_index}")
                detail = f" ({e.note})" if e.note else ""
                lines.append(f"   - {e.kind} {e.record_id}{detail}: {', '.join(where) or '-'}")
    else:
        lines.append("No findings.")
    lines.append("")
    lines.append("Checks:")
    for c in verdict.checks:
        note = f" ({c.note})" if c.note else ""
        lines.append(f"  [{c.outcome}] {c.name}{note}")
    return "\n".join(lines) + "\n"


def verdict_json(verdict: Verdict) -> str:
    """The verdict as JSON text (for ``--json`` output and the gateway)."""
    data = verdict.as_dict()
    if verdict.risk is not None:
        data["risk"] = _jsonable(asdict(verdict.risk))
    return json.dumps(data, indent=2, sort_keys=True)
