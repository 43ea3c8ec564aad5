"""What is claimed about goods, and the verifying administration's policy.

A :class:`Claim` names what is claimed (a consignment by reference, id or container; a
certificate of origin by number and issuer, or the document itself; the origin country; the
goods (HS codes, quantity); the operators presented as AEOs; the verifying customs
administration and the date). :func:`claim_from_json` reads its JSON form (CLI claim files,
gateway request bodies); a malformed claim is :class:`~ledger.errors.InvalidClaim` (a usage
error, HTTP 422). :class:`VerificationPolicy` holds the thresholds the checks apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eth_utils.crypto import keccak

from ledger.errors import InvalidClaim, InvalidContainerNumber, LedgerError
from ledger.records import EXPORT_RELEASE_SCHEMA, INSPECTION_SCHEMA, ContainerNumber, Quantity

__all__ = ["CertificateClaim", "Claim", "VerificationPolicy", "claim_from_json", "claim_names"]


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
    # the organisation that registered ``consignment_ref``: needed only when several did
    registrant: bytes | None = None
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

    Keys: ``consignment_ref``, ``registrant`` (the organisation that registered the reference,
    id or name; needed when several did), ``consignment_id`` (0x), ``container`` (ISO 6346, check
    digit checked: :class:`~ledger.errors.InvalidContainerNumber` naming ``container``),
    ``certificate``
    (``number``, ``issuer`` (id or name), ``document`` (text or 0x-hex), ``document_digest``,
    ``hs_codes``), ``origin``, ``hs_codes``, ``quantity`` + ``unit``, ``aeo_operators`` (ids or
    names), ``administration`` (id or name), ``at`` (unix or ISO 8601), ``epcis_events``.
    """
    known = {
        "consignment_ref",
        "registrant",
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
    container = data.get("container")
    if container is not None:
        # A mistyped container number is the claim's error, not a consignment the ledger
        # lacks: ISO 6346 (check digit included) before any lookup.
        try:
            container = str(ContainerNumber(container))
        except InvalidContainerNumber as exc:
            raise InvalidContainerNumber("container", exc.rule, container) from None
    return Claim(
        consignment_ref=data.get("consignment_ref"),
        registrant=(
            None if data.get("registrant") is None else _org_ref(data["registrant"], "registrant")
        ),
        consignment_id=(
            None
            if data.get("consignment_id") is None
            else _hex_bytes(data["consignment_id"], 32, "consignment_id")
        ),
        container=container,
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


def claim_names(data: Mapping[str, Any]) -> list[str]:
    """The organisation names (not ids) a claim's JSON form spells out: its AEO operators,
    verifying administration and certificate issuer. A claim keeps only their ids
    (keccak256 of the name); a verifier given these names says them back."""
    values: list[Any] = list(data.get("aeo_operators") or [])
    values.append(data.get("administration"))
    certificate = data.get("certificate")
    if isinstance(certificate, Mapping):
        values.append(certificate.get("issuer"))
    return [
        v.strip() for v in values if isinstance(v, str) and v.strip() and not v.startswith("0x")
    ]
