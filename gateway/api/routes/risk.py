"""Risk selection of goods declarations for inspection, and the officer's page."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from gateway.api.deps import DeclarationStoreDep, ReadCaller, ServicesDep, SettingsDep
from gateway.api.risk_selection import LedgerView, describe_model, load_model, select
from gateway.auth import OrgKind
from gateway.errors import PermissionDenied
from gateway.models.declaration_views import SelectionItemView, SelectionView
from gateway.models.error_views import ERROR_401, ERROR_403, ERROR_409
from gateway.writes.ledger_services import require_ledger

__all__ = ["router"]

router = APIRouter(prefix="/risk", tags=["declarations"])


@router.get(
    "/selection",
    response_model=SelectionView,
    summary="Declarations selected for inspection",
    responses={**ERROR_401, **ERROR_403, **ERROR_409},
)
def selection(
    caller: ReadCaller,
    services: ServicesDep,
    settings: SettingsDep,
    store: DeclarationStoreDep,
    rate: Annotated[float, Query(gt=0, le=1, description="Share to inspect.")] = 0.05,
    exploration: Annotated[
        float, Query(ge=0, le=1, description="Share of the selection drawn at random.")
    ] = 0.1,
    seed: Annotated[int, Query(ge=0, description="Seed of the random draw.")] = 0,
) -> SelectionView:
    """For a customs administration: of the declarations lodged with it that are not
    inspected yet (latest versions only), `rate` are selected — the highest scores of the
    trained model, and `exploration` of them drawn at random from the rest — each with its
    score, its reasons in plain words and the ledger's findings behind it (consignment and
    certificate verification, AEO credit)."""
    if caller.org_kind is not OrgKind.CUSTOMS:
        raise PermissionDenied(
            "only customs administrations see the risk selection", code="WrongKind", rule="role"
        )
    chain = require_ledger(services.chain)
    stored = store.lodged_with(caller.org_id)
    inspections = store.inspections(caller.org_id)
    model = load_model(settings.risk_model_path)
    view = LedgerView(chain, administration=caller.org_id)
    items, considered = select(
        stored,
        inspections,
        model=model,
        rate=rate,
        exploration=exploration,
        seed=seed,
        credit=view.credit,
        findings=view.findings,
        uplift=view.uplift,
    )
    return SelectionView(
        rate=rate,
        exploration=exploration,
        considered=considered,
        model=describe_model(model),
        items=[SelectionItemView(**i) for i in items],
    )


@cache
def _page() -> str:
    return resources.files("gateway").joinpath("static/officer.html").read_text(encoding="utf-8")


@router.get(
    "/officer",
    response_class=HTMLResponse,
    summary="The officer's selection page",
    responses={200: {"content": {"text/html": {"example": "<!doctype html><html>...</html>"}}}},
)
def officer_page() -> HTMLResponse:
    """A page for customs officers: the declarations selected for inspection with their
    score, reasons and the provenance findings behind them; record inspection results."""
    return HTMLResponse(_page())
