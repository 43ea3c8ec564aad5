"""Settings of the network commands (``LEDGER_NETWORK_*`` environment variables).

Kept apart from :class:`ledger.settings.Settings` so that the network tooling does not touch the
library's settings file: these only say where geth and the network's state live.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["NetworkSettings"]


class NetworkSettings(BaseSettings):
    """Where geth comes from and where a network keeps its state."""

    model_config = SettingsConfigDict(env_prefix="LEDGER_NETWORK_", extra="ignore")

    geth: Path | None = Field(
        default=None,
        description="A geth binary to use as is (LEDGER_NETWORK_GETH); unset: build or re-use "
        "the cached go-ethereum v1.13.15.",
    )
    cache_dir: Path | None = Field(
        default=None,
        description="Cache root (LEDGER_NETWORK_CACHE_DIR); default "
        "${XDG_CACHE_HOME:-~/.cache}/customs-ledger.",
    )
    xdg_cache_home: Path | None = Field(
        default=None, validation_alias=AliasChoices("XDG_CACHE_HOME")
    )
    dir: Path = Field(
        default=Path(".data/network"),
        description="State directory of `ledger network` (LEDGER_NETWORK_DIR).",
    )

    def cache_root(self) -> Path:
        """The project's cache directory (not inside the clone, shared by every clone)."""
        if self.cache_dir is not None:
            return self.cache_dir
        base = self.xdg_cache_home if self.xdg_cache_home else Path.home() / ".cache"
        return base / "customs-ledger"
