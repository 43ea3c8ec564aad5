"""Provenance verification: the verifier page, claims, proof bundles.

``GET /verify`` serves the verifier page (it asks for an API key and calls the routes below).
A claim is checked by :class:`ledger.verify.Verifier` against the index and the chain; a proof
bundle by :func:`ledger.verify.bundle.verify_bundle` against the gateway's node — anyone can repeat
that check against another node with ``ledger verify-bundle``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import HTMLResponse

from gateway.api.deps import ReadCaller, ServicesDep, SettingsDep
from gateway.errors import InvalidRequest, NotFound, ServiceUnavailable
from gateway.models.error_views import ERROR_401, ERROR_403, ERROR_404
from gateway.reads import queries
from gateway.writes.ledger_services import require_ledger
from ledger.errors import InvalidBundle, InvalidClaim, ValidationError
from ledger.risk import score_risk
from ledger.verify import Verifier, claim_from_json, claim_names, export_bundle, verify_bundle

__all__ = ["router"]

router = APIRouter(prefix="/verify", tags=["verification"])

CLAIM_EXAMPLE: dict[str, Any] = {
    "consignment_ref": "AU-UCR-1795458359-0001",
    "origin": "AU",
    "certificate": {
        "number": "CHAFTA-AU-1795458359",
        "issuer": "Australian Chamber of Commerce and Industry",
    },
    "hs_codes": ["2204.21"],
    "quantity": "4500",
    "unit": "LTR",
    "aeo_operators": ["Barossa Valley Wine Exports"],
    "administration": "General Administration of Customs of China",
}


VERDICT_EXAMPLE: dict[str, Any] = {
    "status": "failed",
    "subject": "consignment AU-UCR-1795458359-0001",
    "at": 1795458400,
    "block_number": 29,
    "consignment_id": "0x79c233d18d6c2cb5c4875766070716c7254eadf87765b45c2bbfc2b87435d8fe",
    "certificate_id": None,
    "findings": [
        {
            "code": "ORIGIN_MISMATCH",
            "severity": "critical",
            "title": "Goods did not start in the claimed origin",
            "explanation": "The goods were first loaded at AUADL in AU, not in the claimed "
            "origin NZ.",
            "evidence": [
                {
                    "kind": "event",
                    "record_id": "0x79c2...#2",
                    "tx_hash": "0x6cf3350bbad327510f26f0a5f834fc28941553b9fe826a0515c1032950adef0a",
                    "block_number": 25,
                    "log_index": 0,
                    "note": "event #2: loading at AUADL on 2026-11-09 19:34 UTC",
                }
            ],
        }
    ],
    "checks": [{"name": "origin and route", "outcome": "failed", "note": ""}],
    "risk": {
        "score": 75,
        "band": "high",
        "contributions": [
            {"reason": "base", "points": 40},
            {"reason": "ORIGIN_MISMATCH (critical)", "points": 35},
        ],
    },
    "record": {
        "consignment": {
            "consignment_id": "0x79c233d18d6c2cb5c4875766070716c7254eadf87765b45c2bbfc2b87435d8fe",
            "reference": "AU-UCR-1795458359-0001",
            "origin": "AU",
            "destination": "CN",
            "consignor": "0x1569be370bc71bba3e9313e0a50d4a7f9b2c0ec26f8d1e3f4d35aa075ddf38e8",
            "registered_at": 1795458360,
            "event_count": 5,
            "tx_hash": "0x3b1d...",
            "block_number": 22,
            "log_index": 0,
        },
        "journey": [
            {
                "seq": 2,
                "biz_step": "loading",
                "location": "AUADL",
                "place": {
                    "name": "Adelaide",
                    "subdivision": "SA",
                    "latitude": -34.92,
                    "longitude": 138.58,
                },
                "event_time": 1794253600,
                "recorded_at": 1795458370,
                "container": "CSQU3054383",
                "sealed": True,
                "org_id": "0x752f4fa1ea0c540cc93895366f76898872b0cd7fe21ef6e39fa27c8a69bee82c",
                "tx_hash": "0x6cf3350bbad327510f26f0a5f834fc28941553b9fe826a0515c1032950adef0a",
                "block_number": 25,
                "log_index": 0,
            }
        ],
        "certificate": None,
        "drawdowns": [],
        "attestations": [],
        "recognised_aeos": [],
    },
    "organisations": {
        "0x752f4fa1ea0c540cc93895366f76898872b0cd7fe21ef6e39fa27c8a69bee82c": {
            "name": "Oceanic Container Line",
            "kind": "carrier",
            "country": "SG",
            "status": "active",
            "member": True,
        }
    },
}
BUNDLE_EXAMPLE: dict[str, Any] = {
    "format": "customs-ledger/proof-bundle",
    "version": 1,
    "chain_id": 31337,
    "block": {"number": 29, "hash": "0x4bde7d5a..."},
    "contracts": {"Consignments": {"address": "0xe7f1...", "code_hash": "0x..."}},
    "consignment": {"id": "0x79c2...", "head": "0x1fe41770...", "event_count": 5},
    "logs": ["..."],
}


def _json_example(example: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"application/json": {"example": example}}}}


@cache
def _page() -> str:
    return resources.files("gateway").joinpath("static/verify.html").read_text(encoding="utf-8")


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _as_of_day(value: Any, now: int) -> Any:
    """A claim's ``at`` given as a day (``2026-12-06``, UTC) is the end of that day
    (23:59:59 UTC), or ``now`` if that is earlier: "as of that day" includes what was
    recorded on it, and nothing after now is known. Any other value is left as it is."""
    if not isinstance(value, str) or not _DAY.match(value.strip()):
        return value
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidRequest(
            f"at: {value!r} is not a calendar day", code="invalid_claim", field="at"
        ) from None
    end = int(datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC).timestamp())
    return min(end, now)


_FIELD = re.compile(r"^([a-z_]+(?:\.[a-z_]+)*(?:\[\d+\])?): ")
_NAMED = ("consignment_ref", "container", "certificate")


def _claim_error(exc: InvalidClaim | ValidationError) -> InvalidRequest:
    """A claim the verifier cannot take, as a 422 naming the claim's field."""
    if isinstance(exc, ValidationError):
        field = exc.field
        if field.startswith("hs_code"):
            field = "hs_codes"
        return InvalidRequest(str(exc), code="invalid_claim", field=field, rule=exc.rule)
    message = str(exc)
    match = _FIELD.match(message)
    if match is not None:
        return InvalidRequest(message, code="invalid_claim", field=match.group(1))
    if "must name a consignment" in message:
        return InvalidRequest(
            message,
            code="invalid_claim",
            field="consignment_ref",
            rule="one_of:" + ",".join(_NAMED),
        )
    return InvalidRequest(message, code="invalid_claim", field="claim")


@router.get(
    "",
    response_class=HTMLResponse,
    summary="The verifier page",
    responses={200: {"content": {"text/html": {"example": "<!doctype html><html>...</html>"}}}},
)
def page() -> HTMLResponse:
    """A page for customs officers: enter a claim, see the verdict, findings and evidence."""
    return HTMLResponse(_page())


@router.post(
    "",
    summary="Verify a claim about goods",
    responses={**_json_example(VERDICT_EXAMPLE), **ERROR_401, **ERROR_403},
)
def verify(
    caller: ReadCaller,
    services: ServicesDep,
    settings: SettingsDep,
    claim: Annotated[dict[str, Any], Body(examples=[CLAIM_EXAMPLE])],
) -> dict[str, Any]:
    """Check the claim against the ledger: certificate of origin, quantity, origin and route,
    custody and hash chain, seals, signers, AEO status and recognition, required
    attestations, item serials. Returns the verdict (``verified`` / ``suspicious`` /
    ``failed``), every finding with its evidence on chain, the checks run or skipped, a
    risk score, the positive evidence (``record``: the registration, the journey event by
    event with places, times, signers and transactions, the certificate, drawdowns and
    attestations) and the organisations named (``organisations``: id -> name, kind,
    country). Without ``administration`` the caller's organisation verifies.

    ``at`` is the moment verified *as of* (unix seconds or ISO 8601 with a time zone): key,
    certificate, attestation, AEO and MRA validity are judged at that moment; a record made
    after it did not exist then. A day (``2026-12-06``, UTC) means the end of that day, or
    now if the day is not over. Without ``at``, the time of the latest indexed block.
    A claim the verifier cannot take is a 422 naming its field (``container`` for a bad
    ISO 6346 check digit)."""
    chain = require_ledger(services.chain)
    if chain.index is None:
        raise ServiceUnavailable("this gateway has no index to verify from", code="no_index")
    data = dict(claim)
    data.setdefault("administration", caller.org_id)
    if "at" in data:
        data["at"] = _as_of_day(data["at"], chain.now())
    try:
        parsed = claim_from_json(data)
    except (InvalidClaim, ValidationError) as exc:
        raise _claim_error(exc) from exc
    names = queries.organisation_names(settings.data_dir).with_names(claim_names(data))
    locodes = settings.code_lists().locodes
    verifier = Verifier(chain.ledger, chain.index, locodes=locodes, scorer=score_risk, names=names)
    try:
        verdict = verifier.verify(parsed, sync=False)
    except InvalidClaim as exc:
        raise _claim_error(exc) from exc
    return verdict.as_dict()


@router.get(
    "/bundle",
    summary="Export a consignment's proof bundle",
    responses={**_json_example(BUNDLE_EXAMPLE), **ERROR_401, **ERROR_403, **ERROR_404},
)
def bundle(
    caller: ReadCaller,
    services: ServicesDep,
    consignment_ref: Annotated[
        str, Query(min_length=1, max_length=200, examples=["AU-UCR-1795458359-0001"])
    ],
    registrant: Annotated[
        str | None,
        Query(
            pattern=r"^0x[0-9a-fA-F]{64}$",
            description="The organisation that registered the reference (needed when several "
            "did: each registration is its own consignment); not the zero id.",
            json_schema_extra={"not": {"pattern": "^0x0{64}$"}},
        ),
    ] = None,
) -> dict[str, Any]:
    """A self-contained JSON file with the consignment's records, transactions, blocks,
    contract addresses and chain id, anchored at the indexed block. Check it against any
    node with ``ledger verify-bundle`` or ``POST /verify/bundle``."""
    chain = require_ledger(services.chain)
    if chain.index is None:
        raise ServiceUnavailable("this gateway has no index to export from", code="no_index")
    cid = chain.consignment_for(
        bytes.fromhex(caller.org_id[2:]),
        consignment_ref,
        None if registrant is None else bytes.fromhex(registrant[2:]),
    )
    if chain.index.consignment(cid) is None:
        raise NotFound(
            f"no consignment with reference {consignment_ref!r}", field="consignment_ref"
        )
    return export_bundle(chain.index, cid, sync=False)


@router.post(
    "/bundle",
    summary="Check a proof bundle against this gateway's node",
    responses={**_json_example(VERDICT_EXAMPLE), **ERROR_401, **ERROR_403},
)
def check_bundle(
    caller: ReadCaller,
    services: ServicesDep,
    payload: Annotated[
        dict[str, Any],
        Body(description="A bundle from GET /verify/bundle", examples=[BUNDLE_EXAMPLE]),
    ],
) -> dict[str, Any]:
    """Every log at its transaction, block and log index; the recomputed hash chain against
    the on-chain head; the contract code against the build. A changed field fails with the
    reason."""
    chain = require_ledger(services.chain)
    try:
        verdict = verify_bundle(payload, chain.ledger.w3)
    except InvalidBundle as exc:
        raise InvalidRequest(str(exc), code="invalid_bundle", field="bundle") from exc
    return verdict.as_dict()
