"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.api.deps import MetricsDep, OutboxDep, ServicesDep, SettingsDep
from gateway.metrics import GatewayMetrics
from gateway.models.health_views import CheckView, Health, Readiness
from gateway.services import GatewayServices, ReadinessCheck

__all__ = ["router"]

logger = logging.getLogger("gateway.metrics")

router = APIRouter(prefix="", tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Liveness")
def healthz() -> Health:
    """The process is up and serving requests (no dependency is checked)."""
    return Health()


def _run(check: ReadinessCheck) -> CheckView:
    try:
        result = check()
    except Exception as exc:  # a failing check, whatever it raised, is "not ready"
        return CheckView(ok=False, detail=str(exc) or type(exc).__name__)
    if result is False:
        return CheckView(ok=False, detail="check returned false")
    return CheckView(ok=True, detail=result if isinstance(result, str) else None)


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    responses={503: {"model": Readiness, "description": "A check failed; `failing` names it."}},
)
def readyz(
    request: Request,
    settings: SettingsDep,
    outbox: OutboxDep,
    services: ServicesDep,
    metrics: MetricsDep,
) -> Response:
    """Ready for traffic: the outbox and index databases are writable and intact, a relayer
    runs, the node answers, every check passes.

    ``outbox`` and ``index_db`` make a real write and, every few minutes, an integrity check
    (``PRAGMA quick_check`` on SQLite); a locked, read-only, full, damaged or deleted database
    fails them with the reason.

    Checks given to ``create_app`` (e.g. ``rpc``, ``deployment``) run as they are; the index
    lag check fails above ``readiness_max_index_lag`` blocks (and sets the
    ``gateway_index_lag_blocks`` gauge, which every scrape of ``/metrics`` also measures).
    """
    outbox_probe = request.app.state.outbox_probe
    checks: dict[str, CheckView] = {
        "outbox": _run(outbox.ping if outbox_probe is None else outbox_probe)
    }
    index_probe = request.app.state.index_probe
    if index_probe is not None:
        checks["index_db"] = _run(index_probe)
    submitter = request.app.state.submitter
    checks["relayer"] = (
        CheckView(ok=True)
        if submitter is not None and submitter.running
        else CheckView(ok=False, detail="no relayer running")
    )
    for name, check in services.readiness_checks.items():
        checks[name] = _run(check)
    if services.index_lag is not None:
        lag_source = services.index_lag

        def index_lag() -> str:
            lag = lag_source()
            metrics.index_lag.set(lag)
            if lag > settings.readiness_max_index_lag:
                raise RuntimeError(
                    f"index is {lag} blocks behind (limit {settings.readiness_max_index_lag})"
                )
            return f"{lag} blocks behind"

        checks["index_lag"] = _run(index_lag)
    failing = [name for name, view in checks.items() if not view.ok]
    body = Readiness(status="not_ready" if failing else "ready", failing=failing, checks=checks)
    return JSONResponse(body.model_dump(mode="json"), status_code=503 if failing else 200)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/plain": {
                    "example": (
                        "# TYPE gateway_outbox_records gauge\n"
                        'gateway_outbox_records{state="accepted"} 3.0\n'
                    )
                }
            }
        }
    },
)
def metrics_endpoint(metrics: MetricsDep, outbox: OutboxDep, services: ServicesDep) -> Response:
    """Metrics in the Prometheus text format.

    Outbox depth and index lag are measured on each scrape; the index lag is NaN when it
    cannot be measured (e.g. the node does not answer), not the last value seen.
    """
    for state, count in outbox.counts().items():
        metrics.outbox_depth.labels(state.value).set(count)
    _refresh_index_lag(metrics, services)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _refresh_index_lag(metrics: GatewayMetrics, services: GatewayServices) -> None:
    if services.index_lag is None:
        return
    try:
        lag = services.index_lag()
    except Exception as exc:  # a scrape never fails because the chain does not answer
        logger.warning("index lag unknown: %s", exc)
        metrics.index_lag.set(float("nan"))
        return
    metrics.index_lag.set(lag)
