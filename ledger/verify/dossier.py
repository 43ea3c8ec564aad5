"""The positive evidence of a verification: what the ledger holds for the claim, record by
record, for an officer to file beside the verdict.

Findings say what is wrong; a clean verdict has none, and "no finding" is not evidence. The
dossier (:func:`dossier`, ``verdict.record``) lists what the verdict rests on: the
consignment's registration, its journey event by event (place, with its UN/LOCODE name and
coordinates where the loaded code list has them; event time and recording time; the signing
organisation and key; the transaction, block and log index), the certificate of origin and its
drawdowns, the customs attestations (valid or not at the verification time) and the operators
recognised as AEOs. :func:`organisations` names every organisation it mentions (and those the
claim names): id -> name (where known), kind, country and whether the ledger has it as a
member.

Everything is JSON-ready: ids and digests as 0x-hex, times as unix seconds.
"""

from __future__ import annotations

from typing import Any

from eth_utils.crypto import keccak

from ledger.records import EXPORT_RELEASE_SCHEMA, INSPECTION_SCHEMA, SEAL_CHECK_SCHEMA
from ledger.verify.evidence import KIND_NAMES, ZERO32, h
from ledger.verify.run import Context, Run

__all__ = ["dossier", "organisations"]

#: Schema ids of the attestation schemas the ledger's vocabulary defines, in words.
SCHEMA_NAMES = {
    keccak(text=definition): definition.split("(")[0]
    for definition in (EXPORT_RELEASE_SCHEMA, SEAL_CHECK_SCHEMA, INSPECTION_SCHEMA)
}


def _place(ctx: Context, code: str) -> dict[str, Any] | None:
    if ctx.locodes is None:
        return None
    entry = ctx.locodes.get(code)
    if entry is None:
        return None
    lat, lon = entry.coordinates if entry.coordinates is not None else (None, None)
    return {
        "name": entry.name,
        "subdivision": entry.subdivision,
        "latitude": lat,
        "longitude": lon,
    }


def _position(tx_hash: str, block_number: int, log_index: int | None) -> dict[str, Any]:
    return {"tx_hash": tx_hash, "block_number": block_number, "log_index": log_index}


def dossier(ctx: Context, run: Run) -> dict[str, Any] | None:
    """What the ledger holds for the claim (see the module docstring); ``None`` when the
    claim names nothing found on the ledger."""
    cons, cert = run.consignment, run.certificate or run.found_certificate
    if cons is None and cert is None:
        return None
    out: dict[str, Any] = {"consignment": None, "journey": [], "certificate": None}
    if cons is not None:
        out["consignment"] = {
            "consignment_id": h(cons.consignment_id),
            "reference": run.claim.consignment_ref,
            "origin": cons.origin,
            "destination": cons.destination,
            "consignor": None if cons.consignor == ZERO32 else h(cons.consignor),
            "consignee": None if cons.consignee == ZERO32 else h(cons.consignee),
            "registrant": h(cons.registrant),
            "signer": str(cons.signer),
            "registered_at": cons.registered_at,
            "event_count": cons.event_count,
            **_position(cons.tx_hash, cons.block_number, cons.log_index),
        }
        out["journey"] = [
            {
                "seq": e.seq,
                "biz_step": e.biz_step,
                "disposition": e.disposition,
                "location": e.location,
                "place": _place(ctx, e.location),
                "event_time": e.event_time,
                "recorded_at": e.block_time,
                "container": e.container,
                "sealed": e.seal_digest != ZERO32,
                "org_id": h(e.org_id),
                "signer": str(e.signer),
                **_position(e.tx_hash, e.block_number, e.log_index),
            }
            for e in run.timeline
        ]
    if cert is not None:
        out["certificate"] = {
            "certificate_id": h(cert.certificate_id),
            "number": None if run.claim.certificate is None else run.claim.certificate.number,
            "issuer": h(cert.issuer),
            "exporter": h(cert.exporter),
            "signer": str(cert.signer),
            "origin": cert.origin,
            "destination": cert.destination,
            "quantity": cert.quantity,
            "unit": cert.unit,
            "drawn": cert.drawn,
            "remaining": cert.remaining,
            "valid_from": cert.valid_from,
            "valid_until": cert.valid_until,
            "issued_at": cert.issued_at,
            "recorded_at": cert.recorded_at,
            "revoked_at": cert.revoked_at,
            **_position(cert.tx_hash, cert.block_number, None),
        }
    out["drawdowns"] = [
        {
            "certificate_id": h(d.certificate_id),
            "consignment_id": h(d.consignment_id),
            "quantity": d.quantity,
            "org_id": h(d.org_id),
            "signer": str(d.signer),
            "drawn_at": d.drawn_at,
            **_position(d.tx_hash, d.block_number, d.log_index),
        }
        for d in run.drawdowns
    ]
    out["attestations"] = [
        {
            "uid": h(a.uid),
            "schema": SCHEMA_NAMES.get(a.schema_id, h(a.schema_id)),
            "attester": h(a.attester),
            "signer": str(a.signer),
            "attested_at": a.attested_at,
            "expires_at": a.expires_at or None,
            "revoked_at": a.revoked_at,
            "valid_at_verification": a.valid_at(run.at),
            **_position(a.tx_hash, a.block_number, a.log_index),
        }
        for a in run.attestations
    ]
    out["recognised_aeos"] = [h(op) for op in run.recognised_aeos]
    return out


def _ids(record: dict[str, Any] | None, run: Run) -> list[bytes]:
    found: list[bytes] = []
    claim = run.claim
    found += list(claim.aeo_operators)
    if claim.administration is not None:
        found.append(claim.administration)
    if claim.certificate is not None and claim.certificate.issuer is not None:
        found.append(claim.certificate.issuer)
    if record is not None:
        cons, cert = record["consignment"], record["certificate"]
        for item in (cons or {}), (cert or {}):
            for key in ("consignor", "consignee", "registrant", "issuer", "exporter"):
                if item.get(key):
                    found.append(bytes.fromhex(item[key][2:]))
        for key, items in (
            ("org_id", record["journey"]),
            ("org_id", record["drawdowns"]),
            ("attester", record["attestations"]),
        ):
            found += [bytes.fromhex(i[key][2:]) for i in items]
        found += [bytes.fromhex(op[2:]) for op in record["recognised_aeos"]]
    return list(dict.fromkeys(found))


def organisations(ctx: Context, run: Run, record: dict[str, Any] | None) -> dict[str, Any]:
    """0x org id -> ``{name, kind, country, status, member}`` for every organisation the
    dossier or the claim names (``name`` ``None`` where no name is known)."""
    out: dict[str, Any] = {}
    for org in _ids(record, run):
        member = ctx.orgs.get(org)
        out[h(org)] = {
            "name": ctx.names.get(org),
            "kind": None if member is None else KIND_NAMES.get(member.kind, "member"),
            "country": None if member is None else member.country,
            "status": None if member is None else member.status,
            "member": member is not None,
        }
    return out
