"""Gateway-only settings, layered on the project's one settings class.

:class:`GatewaySettings` extends :class:`ledger.settings.Settings` (same ``LEDGER_`` prefix, same
sources: keyword arguments, environment, TOML file) with the fields that only the gateway needs.
Nothing in the gateway reads ``os.environ``; it is given a settings object.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from ledger.settings import Settings

__all__ = ["GatewaySettings"]


class GatewaySettings(Settings):
    """Settings of the HTTP gateway, its API key store and its relay outbox."""

    gateway_database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the gateway database (API keys and the relay outbox). "
            "Default: SQLite file <data_dir>/gateway.sqlite3 in WAL mode, synchronous=FULL."
        ),
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed by CORS (empty: no CORS headers at all).",
    )
    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1_024,
        description="Largest accepted request body in bytes; larger bodies get 413.",
    )
    database_busy_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description=(
            "How long a write waits for a SQLite database locked by another process before "
            "the request is answered 503 (database_unavailable, rule locked)."
        ),
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="Operator token for /admin routes (unset: only admin-scoped API keys).",
    )
    batch_max_size: int = Field(
        default=1000,
        ge=1,
        le=10_000,
        description=(
            "Most records of one kind in one transaction; the relayer also keeps every batch "
            "under the per-transaction gas cap (16,777,216), learning the gas per record."
        ),
    )
    batch_linger_seconds: float = Field(
        default=0.2,
        ge=0,
        le=60,
        description="How long the oldest accepted record waits for a batch to fill up.",
    )
    relay_poll_seconds: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="How often the submitter checks submitted transactions for receipts.",
    )
    relay_retry_seconds: float = Field(
        default=2.0,
        gt=0,
        le=600,
        description="Back-off after the relayer raised, before the same work is tried again.",
    )
    relayer_factory: str | None = Field(
        default=None,
        description=(
            "Import path 'module:callable' of a function (settings) -> Relayer used when "
            "create_app is given no services (unset: records are accepted but not relayed)."
        ),
    )
    keystore_scrypt_n: int = Field(
        default=2**18,
        ge=2**10,
        description="scrypt cost (N) of new custodial key files (2**18: about 0.3 s to unlock).",
    )
    index_sync_seconds: float = Field(
        default=1.0,
        gt=0,
        le=600,
        description="How often the background task syncs the log index (when there is one).",
    )
    rate_limit_per_second: float = Field(
        default=200.0,
        ge=0,
        description=(
            "Requests per second each API key may make on average (0: no limit); past it the "
            "gateway answers 429 with Retry-After. Bulk routes carry many records per request."
        ),
    )
    rate_limit_burst: int = Field(
        default=1000,
        ge=1,
        description="Requests an API key may make at once before rate_limit_per_second applies.",
    )
    readiness_max_index_lag: int = Field(
        default=12, ge=0, description="Index lag in blocks above which /readyz reports 503."
    )

    @field_validator("relayer_factory")
    @classmethod
    def _check_factory(cls, value: str | None) -> str | None:
        if value is not None and value.count(":") != 1:
            raise ValueError("relayer_factory must be 'module:callable'")
        return value

    @property
    def gateway_db_url(self) -> str:
        """The gateway database URL, defaulting to a SQLite file in the data directory."""
        if self.gateway_database_url is not None:
            return self.gateway_database_url
        return f"sqlite:///{(self.data_dir / 'gateway.sqlite3').resolve()}"
