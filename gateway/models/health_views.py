"""Response models of the health routes: liveness and readiness with its checks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["CheckView", "Health", "Readiness"]


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"] = "ok"


class CheckView(BaseModel):
    ok: bool
    detail: str | None = None


class Readiness(BaseModel):
    """Every readiness check by name; ``failing`` names the ones that did not pass."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "not_ready",
                    "failing": ["rpc"],
                    "checks": {
                        "outbox": {"ok": True, "detail": None},
                        "rpc": {"ok": False, "detail": "connection refused"},
                    },
                }
            ]
        }
    )

    status: Literal["ready", "not_ready"]
    failing: list[str]
    checks: dict[str, CheckView]
