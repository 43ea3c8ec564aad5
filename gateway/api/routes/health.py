"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.api.deps import MetricsDep, OutboxDep, ServicesDep, SettingsDep
from gateway.models import CheckView, Health, Readiness
from gateway.services import ReadinessCheck

__all__ = ["router"]

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
    """Ready for traffic: the outbox database answers, a relayer runs, every check passes.

    Checks given to ``create_app`` (e.g. ``rpc``, ``deployment``) run as they are; the index
    lag check also sets the ``gateway_index_lag_blocks`` gauge and fails above
    ``readiness_max_index_lag`` blocks.
    """
    checks: dict[str, CheckView] = {"outbox": _run(outbox.ping)}
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
def metrics_endpoint(metrics: MetricsDep, outbox: OutboxDep) -> Response:
    """Metrics in the Prometheus text format (outbox depth is refreshed on each scrape)."""
    for state, count in outbox.counts().items():
        metrics.outbox_depth.labels(state.value).set(count)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
