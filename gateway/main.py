"""The FastAPI application.

``create_app(settings, *, services=...)`` builds an app; its lifespan opens the gateway
database (API keys, outbox), starts the submitter thread if there is a relayer, and on
shutdown stops the thread and closes the database. To serve::

    uvicorn --factory gateway.main:app_factory   # settings from LEDGER_* / ledger.toml
    python -m gateway                            # the same, on gateway_host:gateway_port

``app.state`` holds ``settings``, ``metrics`` (at once) and ``keys``, ``outbox``,
``submitter`` (while the lifespan runs).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from gateway.api.openapi import document_app
from gateway.api.routes import (
    aeo,
    api_keys,
    attestations,
    certificates,
    consignments,
    declarations,
    docs,
    epcis,
    events,
    governance,
    health,
    inspections,
    organisations,
    records,
    risk,
    signing_keys,
    typed_data,
    verify,
)
from gateway.auth import KeyStore
from gateway.config import GatewaySettings
from gateway.db import DatabaseProbe, create_gateway_engine
from gateway.errors import ServiceUnavailable, database_fault, install_exception_handlers
from gateway.logs import configure_logging
from gateway.metrics import GatewayMetrics
from gateway.middleware import BodyLimitMiddleware, RequestContextMiddleware
from gateway.ratelimit import RateLimiter, rate_limiter_for
from gateway.services import GatewayServices
from gateway.writes.declaration_store import DeclarationStore, load_or_create_key
from gateway.writes.outbox import Outbox, Submitter, load_relayer_factory
from ledger.records import use_code_lists

__all__ = ["app_factory", "create_app", "serve"]

logger = logging.getLogger("gateway.main")

DESCRIPTION = """\
Relays EIP-712-signed records of carriers, customs administrations, AEOs and issuing bodies
to the permissioned ledger, in batches, through a durable outbox.

Authenticate with an API key: `Authorization: Bearer clk_<id>_<secret>`. A key acts for one
organisation only. Errors have the body `{"error": {"code", "message", "field"?, "rule"?}}`.
"""


def _start_index_sync(
    services: GatewayServices, settings: GatewaySettings, stop: threading.Event
) -> threading.Thread | None:
    """Follow the chain's logs into the index in a daemon thread until ``stop`` is set."""
    index = services.chain.index if services.chain is not None else None
    if index is None:
        return None
    stop.clear()

    def run() -> None:
        logger.info("index sync started")
        while not stop.is_set():
            try:
                index.run_forever(stop, poll_interval=settings.index_sync_seconds)
            except Exception:
                logger.exception("index sync failed; retrying")
                stop.wait(settings.relay_retry_seconds)
        logger.info("index sync stopped")

    thread = threading.Thread(target=run, name="gateway-index", daemon=True)
    thread.start()
    return thread


def _check_stores_at_start(app: FastAPI) -> None:
    """One clear log line per store that is not usable at start (the gateway still starts:
    /readyz answers 503 with the reason, and writes into a damaged outbox are refused)."""
    for name in ("outbox_probe", "index_probe"):
        probe: DatabaseProbe | None = getattr(app.state, name)
        if probe is None:
            continue
        try:
            probe()
        except Exception as exc:
            logger.error("%s database not usable: %s", name.removesuffix("_probe"), exc)


def _services_from_settings(settings: GatewaySettings) -> GatewayServices:
    if settings.relayer_factory is None:
        return GatewayServices()
    factory = load_relayer_factory(settings.relayer_factory)
    return GatewayServices(relayer=factory(settings))


def create_app(
    settings: GatewaySettings | None = None, *, services: GatewayServices | None = None
) -> FastAPI:
    """Build the gateway app.

    ``settings`` default to :class:`GatewaySettings` from the environment; ``services``
    default to a relayer built by the ``relayer_factory`` setting (or none).
    """
    settings = settings if settings is not None else GatewaySettings()
    owns_relayer = services is None
    services = services if services is not None else _services_from_settings(settings)
    metrics = GatewayMetrics()
    stop_index = threading.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The code lists every write is checked against: loaded now, so a bad unlocode_csv
        # or hs_csv stops the start and the first request does not wait for them.
        use_code_lists(settings.code_lists())
        engine = create_gateway_engine(
            settings.gateway_db_url, busy_timeout=settings.database_busy_timeout_seconds
        )
        secret = settings.declarations_key
        declarations_key = load_or_create_key(
            configured=secret.get_secret_value() if secret is not None else None,
            data_dir=settings.data_dir,
        )
        try:
            keys = KeyStore(engine)
            outbox = Outbox(engine)
            declarations = DeclarationStore(engine, declarations_key)
        except Exception as exc:
            fault = database_fault(exc)
            if fault is None:
                raise
            # One clear line; the gateway does not start (a supervisor sees the exit).
            logger.error("outbox database not usable (%s): %s", fault[0], fault[1])
            engine.dispose()
            raise ServiceUnavailable(
                f"the outbox database is not usable: {fault[1]}", code="database_unavailable"
            ) from None
        submitter: Submitter | None = None
        if services.relayer is not None:
            submitter = Submitter(
                outbox,
                services.relayer,
                max_batch=settings.batch_max_size,
                linger=settings.batch_linger_seconds,
                poll_interval=settings.relay_poll_seconds,
                retry_interval=settings.relay_retry_seconds,
                metrics=metrics,
            )
        app.state.rate_limiter = rate_limiter_for(
            engine, per_second=settings.rate_limit_per_second, burst=settings.rate_limit_burst
        )
        app.state.keys = keys
        app.state.outbox = outbox
        app.state.declarations = declarations
        app.state.outbox_probe = DatabaseProbe(engine)
        index = services.chain.index if services.chain is not None else None
        index_engine = getattr(index, "engine", None)
        app.state.index_probe = None if index_engine is None else DatabaseProbe(index_engine)
        _check_stores_at_start(app)
        app.state.submitter = submitter
        if submitter is not None:
            submitter.start()
        index_thread = _start_index_sync(services, settings, stop_index)
        relayer_name = "none" if services.relayer is None else type(services.relayer).__name__
        logger.info("gateway started (relayer: %s)", relayer_name)
        try:
            yield
        finally:
            stop_index.set()
            if index_thread is not None:
                index_thread.join(timeout=30)
                if index_thread.is_alive():
                    logger.error("index sync did not stop within 30 s")
            if submitter is not None:
                submitter.stop()
            close = getattr(services.relayer, "close", None)
            if owns_relayer and callable(close):
                close()
            engine.dispose()
            use_code_lists(None)
            logger.info("gateway stopped")

    app = FastAPI(
        title="Customs ledger gateway",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # /docs and /redoc are served from the gateway's own assets (routes/docs.py), not
        # FastAPI's pages, which load their scripts from a CDN
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.metrics = metrics
    app.state.rate_limiter = RateLimiter(
        per_second=settings.rate_limit_per_second, burst=settings.rate_limit_burst
    )
    app.state.submitter = None
    app.state.outbox_probe = None
    app.state.index_probe = None
    install_exception_handlers(app)
    document_app(app)
    app.include_router(health.router)
    app.include_router(records.router)
    app.include_router(consignments.router)
    app.include_router(events.router)
    app.include_router(epcis.router)
    app.include_router(certificates.router)
    app.include_router(attestations.router)
    app.include_router(aeo.router)
    app.include_router(governance.router)
    app.include_router(organisations.router)
    app.include_router(typed_data.router)
    app.include_router(api_keys.router)
    app.include_router(signing_keys.router)
    app.include_router(verify.router)
    app.include_router(declarations.router)
    app.include_router(declarations.typed_router)
    app.include_router(inspections.router)
    app.include_router(risk.router)
    app.include_router(docs.router)
    # Added last = outermost: request ids and metrics see every answer, 413 included.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "X-API-Key",
                "X-Request-ID",
            ],
            expose_headers=["X-Request-ID", "Location", "Idempotent-Replayed"],
        )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app


def app_factory() -> FastAPI:
    """Entry point for ``uvicorn --factory``: JSON logs, settings from the environment."""
    configure_logging()
    return create_app(GatewaySettings())


def serve(settings: GatewaySettings | None = None) -> None:
    """Run the gateway on ``gateway_host:gateway_port`` (for the CLI; blocks until stopped).

    Logs are JSON lines; uvicorn's own access log is off (``gateway.access`` has the same,
    with request ids).
    """
    import uvicorn

    settings = settings if settings is not None else GatewaySettings()
    configure_logging()
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        access_log=False,
        log_config=None,
    )
