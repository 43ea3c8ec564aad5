"""The one place that reads configuration.

Values come from, in order of precedence: keyword arguments, ``LEDGER_*`` environment
variables, a TOML file named by ``LEDGER_CONFIG`` (or ``ledger.toml`` in the working
directory), then the defaults below. Nothing else in the project reads ``os.environ``.

One settings file serves the library and the gateway: :class:`Settings` ignores the gateway's
keys (:data:`GATEWAY_KEYS`) in the file, and refuses any other key it does not know, naming
it. A file named by ``LEDGER_CONFIG`` (or ``config=``) that does not exist is an error.
"""

from __future__ import annotations

import ipaddress
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ledger.errors import ConfigurationError

if TYPE_CHECKING:
    from ledger.records import CodeLists

__all__ = ["DEFAULT_KEYSTORE_SECRET", "GATEWAY_KEYS", "LOCAL_CHAIN_ID", "Settings"]

DEFAULT_KEYSTORE_SECRET = "change-me-local-only"  # noqa: S105 - public on purpose, see below
"""The key store secret when none is set: public, so fit for the local development chain only."""

LOCAL_CHAIN_ID = 31337
"""anvil's chain id: the local development chain that ``ledger up`` and ``ledger node`` run."""


GATEWAY_KEYS: Final = frozenset(
    {
        "admin_token",
        "batch_linger_seconds",
        "batch_max_size",
        "cors_origins",
        "database_busy_timeout_seconds",
        "gateway_database_url",
        "index_sync_seconds",
        "keystore_scrypt_n",
        "max_request_bytes",
        "rate_limit_burst",
        "rate_limit_per_second",
        "readiness_max_index_lag",
        "relay_poll_seconds",
        "relay_retry_seconds",
        "relayer_factory",
    }
)
"""The settings that only the gateway's ``GatewaySettings`` defines (``gateway/config.py``;
the library never imports the gateway, a test keeps the two in step). :class:`Settings`
ignores them in the settings file, so that one ``ledger.toml`` holds both."""


class Settings(BaseSettings):
    """Settings for the library, the CLI, the embedded node and the gateway."""

    model_config = SettingsConfigDict(
        env_prefix="LEDGER_",
        extra="forbid",
        validate_default=True,
    )

    config: Path | None = Field(
        default=None,
        description="Optional TOML file with any of these settings (LEDGER_CONFIG).",
    )
    rpc_url: str | None = Field(
        default=None,
        description="JSON-RPC endpoint of the chain. Unset: start the embedded anvil node.",
    )
    chain_id: int = Field(default=31337, ge=1, description="Chain id of the network.")
    data_dir: Path = Field(
        default=Path(".data"),
        description="Node state, deployment manifests, key store, index and outbox live here.",
    )
    node_host: str = Field(default="127.0.0.1", description="Embedded node listen address.")
    node_port: int = Field(default=8545, ge=1, le=65535, description="Embedded node port.")
    free_gas: bool = Field(
        default=True,
        description="Embedded node: gas price 0 and base fee 0, as on a Besu free-gas network.",
    )
    block_time: float | None = Field(
        default=None,
        gt=0,
        description="Embedded node: seconds between blocks (interval mining); unset = automine.",
    )
    gateway_host: str = Field(default="127.0.0.1", description="Gateway listen address.")
    gateway_port: int = Field(default=8000, ge=1, le=65535, description="Gateway port.")
    keystore_dir: Path | None = Field(
        default=None,
        description="Encrypted key store directory (default: <data_dir>/keystore).",
    )
    keystore_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_KEYSTORE_SECRET),
        description=(
            "Secret that unlocks the custodial key store. The default is public: the gateway "
            "refuses it except on the local development chain (chain id 31337 on the embedded "
            "node or a loopback RPC URL) or with allow_insecure_keystore_secret."
        ),
    )
    allow_insecure_keystore_secret: bool = Field(
        default=False,
        description=(
            "Open the custodial key store with the public default (or an empty) keystore_secret "
            "on any chain. For throwaway test networks only: anyone can decrypt those keys."
        ),
    )
    relayer_key: SecretStr | None = Field(
        default=None,
        description="Private key of the relayer account (default on anvil: its first dev account).",
    )
    confirmations: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Blocks a receipt must be buried under to count as final (default: the network's "
            "own: 0 on anvil and Besu QBFT/IBFT, half the signers plus one on Clique)."
        ),
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the index (default: SQLite file in <data_dir>).",
    )
    unlocode_csv: Path | None = Field(
        default=None,
        description=(
            "A UN/LOCODE list to use instead of the packaged one (a UNECE release CSV or zip, "
            "a packaged .tsv.gz, or the CSV layouts LocodeDirectory.from_csv reads)."
        ),
    )
    hs_csv: Path | None = Field(
        default=None,
        description="An HS 2022 nomenclature (CSV) to use instead of the packaged one.",
    )
    network_dir: Path = Field(
        default=Path(".data/network"),
        description="State directory of `ledger network` (the local geth Clique network).",
    )
    network_geth: Path | None = Field(
        default=None,
        description="A geth binary to use as is (unset: build or re-use the cached v1.13.15).",
    )
    network_cache_dir: Path | None = Field(
        default=None,
        description="Where geth is built and cached (default: cache_root()).",
    )
    xdg_cache_home: Path | None = Field(
        default=None,
        validation_alias="XDG_CACHE_HOME",
        description="The user's cache directory (XDG_CACHE_HOME), for network_cache_dir's default.",
    )

    @field_validator("rpc_url")
    @classmethod
    def _check_rpc_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("rpc_url must be an http(s):// or ws(s):// URL")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = _config_file(init=init_settings, env=env_settings)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file is not None:
            sources.append(_SettingsFile(settings_cls, toml_file=config_file))
        return tuple(sources)

    def code_lists(self) -> CodeLists:
        """The code lists that input is checked against: the UN/LOCODE list and the HS 2022
        nomenclature. By default the packaged ones (:mod:`ledger.records.packaged_lists`);
        ``unlocode_csv`` / ``hs_csv`` name others to use instead.

        Loaded once per pair of files, on first use (the packaged lists take about 0.1 s).
        """
        return _code_lists(self.unlocode_csv, self.hs_csv)

    def cache_root(self) -> Path:
        """The project's cache, outside any clone and shared by every clone (geth builds)."""
        if self.network_cache_dir is not None:
            return self.network_cache_dir
        base = self.xdg_cache_home if self.xdg_cache_home else Path.home() / ".cache"
        return base / "customs-ledger"

    @property
    def keystore_path(self) -> Path:
        return self.keystore_dir if self.keystore_dir is not None else self.data_dir / "keystore"

    @property
    def index_url(self) -> str:
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'index.sqlite3').resolve()}"

    @property
    def embedded(self) -> bool:
        """True when the project starts and owns the node (no RPC URL given)."""
        return self.rpc_url is None

    @property
    def local_chain(self) -> bool:
        """True on the local development chain: chain id 31337 (anvil's) on the embedded node
        or at a loopback RPC URL (``ledger node`` then ``ledger serve --rpc``, the tests)."""
        if self.chain_id != LOCAL_CHAIN_ID:
            return False
        if self.embedded:
            return True
        host = urlsplit(self.effective_rpc_url).hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def effective_rpc_url(self) -> str:
        """``rpc_url``; else the embedded node of the data directory, where a running
        ``ledger up`` / ``ledger node`` wrote its URL (``<data_dir>/node/rpc-url``), unless
        ``node_host`` or ``node_port`` is given; else ``node_host:node_port``."""
        if self.rpc_url is not None:
            return self.rpc_url
        if not {"node_host", "node_port"} & self.model_fields_set:
            try:
                written = (self.data_dir / "node" / "rpc-url").read_text(encoding="utf-8")
            except OSError:
                written = ""
            if written.strip():
                return written.strip()
        return f"http://{self.node_host}:{self.node_port}"


class _SettingsFile(TomlConfigSettingsSource):
    """The TOML settings file, less the keys that belong to the gateway's settings (when read
    for a class that does not define them). Other unknown keys stay, to be refused by name."""

    def __init__(self, settings_cls: type[BaseSettings], *, toml_file: Path) -> None:
        self._own = frozenset(settings_cls.model_fields)
        super().__init__(settings_cls, toml_file=toml_file)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            data = super()._read_file(file_path)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"settings file {file_path} is not valid TOML: {exc}") from exc
        return {k: v for k, v in data.items() if k in self._own or k not in GATEWAY_KEYS}


def _config_file(
    *, init: PydanticBaseSettingsSource, env: PydanticBaseSettingsSource
) -> Path | None:
    """The settings file: the one named by ``config=`` or ``LEDGER_CONFIG`` (which must
    exist), else ``ledger.toml`` in the working directory if there is one."""
    for source, name in ((init, "config"), (env, "LEDGER_CONFIG")):
        values: dict[str, Any] = source()
        if values.get("config"):
            path = Path(values["config"])
            if not path.is_file():
                raise ConfigurationError(
                    f"{name} names the settings file {path}, but there is no such file"
                )
            return path
    default = Path("ledger.toml")
    return default if default.is_file() else None


@lru_cache(maxsize=4)
def _code_lists(unlocode_csv: Path | None, hs_csv: Path | None) -> CodeLists:
    from ledger.records import CodeLists, load_unlocode, packaged_hs, packaged_unlocode

    return CodeLists(
        locodes=packaged_unlocode() if unlocode_csv is None else load_unlocode(unlocode_csv),
        hs=packaged_hs() if hs_csv is None else CodeLists.load(hs_csv=hs_csv).hs,
    )
