"""Models of the admin routes: API keys and custodial signing keys (requests and views)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from gateway.auth import BYTES32_PATTERN, IssuedKey, KeyRecord, OrgKind, Scope
from gateway.models.record_fields import TextLine, Timestamp

__all__ = [
    "ApiKeyCreate",
    "ApiKeyIssued",
    "ApiKeyList",
    "ApiKeyView",
    "SigningKeyCreate",
    "SigningKeyList",
    "SigningKeyView",
]

Bytes32 = Annotated[str, Field(pattern=BYTES32_PATTERN, examples=["0x" + "ab" * 32])]

_ORG = "0x" + "0a" * 32
_WHEN = "2026-11-23T18:00:00Z"


class ApiKeyCreate(BaseModel):
    """Issue an API key for one user of one organisation."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "org_id": _ORG,
                    "org_kind": "carrier",
                    "country": "NL",
                    "scopes": ["events:write", "read"],
                    "label": "rotterdam terminal integration",
                }
            ]
        },
    )

    org_id: Bytes32
    org_kind: OrgKind = Field(description="Cached from the membership registry on chain.")
    country: str = Field(
        pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2; cached from the chain."
    )
    scopes: list[Scope] = Field(min_length=1)
    label: TextLine | None = Field(default=None, max_length=200)
    expires_at: Timestamp | None = None


class ApiKeyView(BaseModel):
    """A stored API key (its secret is not stored and never shown again)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key_id": "3f9a1c0d2b4e6f81",
                    "org_id": _ORG,
                    "org_kind": "carrier",
                    "country": "NL",
                    "scopes": ["events:write", "read"],
                    "label": "rotterdam terminal integration",
                    "created_at": _WHEN,
                    "expires_at": None,
                    "revoked_at": None,
                }
            ]
        }
    )

    key_id: str
    org_id: str
    org_kind: OrgKind
    country: str
    scopes: list[Scope]
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_stored(cls, record: KeyRecord) -> ApiKeyView:
        return cls(
            key_id=record.key_id,
            org_id=record.org_id,
            org_kind=record.org_kind,
            country=record.country,
            scopes=sorted(record.scopes),
            label=record.label,
            created_at=record.created_at,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
        )


class ApiKeyIssued(ApiKeyView):
    """A new key; ``api_key`` is shown this once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key_id": "3f9a1c0d2b4e6f81",
                    "api_key": "clk_3f9a1c0d2b4e6f81_" + "x" * 43,
                    "org_id": _ORG,
                    "org_kind": "carrier",
                    "country": "NL",
                    "scopes": ["events:write", "read"],
                    "label": "rotterdam terminal integration",
                    "created_at": _WHEN,
                    "expires_at": None,
                    "revoked_at": None,
                }
            ]
        }
    )

    api_key: str = Field(description="Send as 'Authorization: Bearer <api_key>'.")

    @classmethod
    def from_issued(cls, issued: IssuedKey) -> ApiKeyIssued:
        view = ApiKeyView.from_stored(issued.record)
        return cls(api_key=issued.token, **view.model_dump())


class ApiKeyList(BaseModel):
    items: list[ApiKeyView]


class SigningKeyCreate(BaseModel):
    """Store a custodial signing key for an organisation (generated when not given)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"org_id": _ORG}]})

    org_id: Bytes32
    private_key: SecretStr | None = Field(
        default=None, description="0x-hex private key to import; omitted: a new random key."
    )
    replace: bool = Field(default=False, description="Replace the organisation's current key.")


class SigningKeyView(BaseModel):
    """A custodial key: its organisation and address (the key itself never leaves)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"org_id": _ORG, "address": "0x" + "5a" * 20}]}
    )

    org_id: str
    address: str


class SigningKeyList(BaseModel):
    items: list[SigningKeyView]
