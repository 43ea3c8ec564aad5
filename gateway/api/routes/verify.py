"""Provenance verification: the verifier page, claims, proof bundles.

``GET /verify`` serves the verifier page (it asks for an API key and calls the routes below).
A claim is checked by :class:`ledger.verify.Verifier` against the index and the chain; a proof
bundle by :func:`ledger.bundle.verify_bundle` against the gateway's node — anyone can repeat
that check against another node with ``ledger verify-bundle``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import HTMLResponse

from gateway.api.deps import ReadCaller, ServicesDep, SettingsDep
from gateway.errors import InvalidRequest, NotFound, ServiceUnavailable
from gateway.models import ERROR_401, ERROR_403, ERROR_404
from gateway.writes import require_ledger
from ledger.bundle import export_bundle, verify_bundle
from ledger.errors import InvalidBundle, InvalidClaim, ValidationError
from ledger.records import consignment_id
from ledger.values import LocodeDirectory
from ledger.verify import Verdict, Verifier, claim_from_json

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


@cache
def _page() -> str:
    return resources.files("gateway").joinpath("static/verify.html").read_text(encoding="utf-8")


@cache
def _locodes(path: Path) -> LocodeDirectory:
    return LocodeDirectory.from_csv(path)


def _verdict_body(verdict: Verdict) -> dict[str, Any]:
    body = verdict.as_dict()
    return body


@router.get("", response_class=HTMLResponse, summary="The verifier page", include_in_schema=True)
def page() -> HTMLResponse:
    """A page for customs officers: enter a claim, see the verdict, findings and evidence."""
    return HTMLResponse(_page())


@router.post(
    "",
    summary="Verify a claim about goods",
    responses={**ERROR_401, **ERROR_403},
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
    ``failed``), every finding with its evidence on chain, the checks run or skipped and a
    risk score. Without ``administration`` the caller's organisation verifies."""
    chain = require_ledger(services.chain)
    if chain.index is None:
        raise ServiceUnavailable("this gateway has no index to verify from", code="no_index")
    data = dict(claim)
    data.setdefault("administration", caller.org_id)
    try:
        parsed = claim_from_json(data)
    except (InvalidClaim, ValidationError) as exc:
        raise InvalidRequest(str(exc), code="invalid_claim", field="claim") from exc
    locodes = _locodes(settings.unlocode_csv) if settings.unlocode_csv else None
    verifier = Verifier(chain.ledger, chain.index, locodes=locodes)
    try:
        verdict = verifier.verify(parsed, sync=False)
    except InvalidClaim as exc:
        raise InvalidRequest(str(exc), code="invalid_claim", field="claim") from exc
    return _verdict_body(verdict)


@router.get(
    "/bundle",
    summary="Export a consignment's proof bundle",
    responses={**ERROR_401, **ERROR_403, **ERROR_404},
)
def bundle(
    caller: ReadCaller,
    services: ServicesDep,
    consignment_ref: Annotated[
        str, Query(min_length=1, max_length=200, examples=["AU-UCR-1795458359-0001"])
    ],
) -> dict[str, Any]:
    """A self-contained JSON file with the consignment's records, transactions, blocks,
    contract addresses and chain id, anchored at the indexed block. Check it against any
    node with ``ledger verify-bundle`` or ``POST /verify/bundle``."""
    chain = require_ledger(services.chain)
    if chain.index is None:
        raise ServiceUnavailable("this gateway has no index to export from", code="no_index")
    cid = consignment_id(consignment_ref)
    if chain.index.consignment(cid) is None:
        raise NotFound(
            f"no consignment with reference {consignment_ref!r}", field="consignment_ref"
        )
    return export_bundle(chain.index, cid, sync=False)


@router.post(
    "/bundle",
    summary="Check a proof bundle against this gateway's node",
    responses={**ERROR_401, **ERROR_403},
)
def check_bundle(
    caller: ReadCaller,
    services: ServicesDep,
    payload: Annotated[dict[str, Any], Body(description="A bundle from GET /verify/bundle")],
) -> dict[str, Any]:
    """Every log at its transaction, block and log index; the recomputed hash chain against
    the on-chain head; the contract code against the build. A changed field fails with the
    reason."""
    chain = require_ledger(services.chain)
    try:
        verdict = verify_bundle(payload, chain.ledger.w3)
    except InvalidBundle as exc:
        raise InvalidRequest(str(exc), code="invalid_bundle", field="bundle") from exc
    return _verdict_body(verdict)
