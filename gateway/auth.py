"""API keys: issued per organisation user, stored only as hashes, scoped and revocable.

A key looks like ``clk_<key id>_<secret>``: the key id (16 hex characters) is public and is
used to find the row; the secret is 32 random bytes (base64url). The table stores only
SHA-256 of the secret; with 256 bits of entropy a fast hash is enough (there is nothing to
brute-force), and comparisons are constant-time.

Every key belongs to exactly one organisation (``org_id``, bytes32 hex) and a request made with
it acts for that organisation only (:class:`Caller`). The organisation's ``kind`` and
``country`` are kept on the key row as a *cache* of the membership registry on chain: today they
are given when the key is issued; the gateway will refresh them from the chain
(:meth:`KeyStore.refresh_organisation`).

:func:`issue_key` is the entry point for the ``ledger apikey`` CLI command.

An organisation's ``admin`` key may issue keys for its own organisation, each with scopes
within its own (never wider: an admin key without ``aeo:write`` cannot mint one that has it),
and the new key remembers who issued it (``issued_by``). Revoking a key revokes every key it
issued, and theirs in turn; a key whose issuer was revoked is refused all the same (401
``revoked_api_key``). Keys issued by the operator (admin token, CLI) have no issuer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pycountry
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Index,
    MetaData,
    String,
    Table,
    insert,
    inspect,
    select,
    text,
    update,
)

from gateway.config import GatewaySettings
from gateway.db import create_gateway_engine
from gateway.errors import InvalidRequest, NotFound, Unauthenticated

__all__ = [
    "BYTES32_PATTERN",
    "KIND_BY_CODE",
    "Caller",
    "IssuedKey",
    "KeyRecord",
    "KeyStore",
    "OrgKind",
    "Scope",
    "allowed_scopes",
    "issue_key",
    "normalize_org_id",
    "scopes_for_kind",
]

BYTES32_PATTERN = r"^0x[0-9a-fA-F]{64}$"
_BYTES32 = re.compile(BYTES32_PATTERN)
_TOKEN = re.compile(r"^clk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
KEY_PREFIX = "clk"


class Scope(StrEnum):
    """What a key may do. ``read`` covers the caller's own records; ``admin`` its own keys."""

    EVENTS_WRITE = "events:write"
    CERTIFICATES_WRITE = "certificates:write"
    ATTESTATIONS_WRITE = "attestations:write"
    AEO_WRITE = "aeo:write"
    GOVERNANCE_WRITE = "governance:write"
    READ = "read"
    ADMIN = "admin"


class OrgKind(StrEnum):
    """Kinds of member organisation (mirrors the membership registry on chain)."""

    CUSTOMS = "customs"
    CARRIER = "carrier"
    TRADER = "trader"
    ISSUING_BODY = "issuing_body"
    POSTAL_OPERATOR = "postal_operator"


_WRITE_BY_KIND: dict[OrgKind, tuple[Scope, ...]] = {
    OrgKind.CUSTOMS: (
        Scope.EVENTS_WRITE,
        Scope.CERTIFICATES_WRITE,
        Scope.ATTESTATIONS_WRITE,
        Scope.AEO_WRITE,
        Scope.GOVERNANCE_WRITE,
    ),
    OrgKind.CARRIER: (Scope.EVENTS_WRITE, Scope.ATTESTATIONS_WRITE, Scope.GOVERNANCE_WRITE),
    OrgKind.POSTAL_OPERATOR: (
        Scope.EVENTS_WRITE,
        Scope.ATTESTATIONS_WRITE,
        Scope.GOVERNANCE_WRITE,
    ),
    OrgKind.TRADER: (
        Scope.EVENTS_WRITE,
        Scope.CERTIFICATES_WRITE,
        Scope.ATTESTATIONS_WRITE,
        Scope.GOVERNANCE_WRITE,
    ),
    OrgKind.ISSUING_BODY: (
        Scope.CERTIFICATES_WRITE,
        Scope.ATTESTATIONS_WRITE,
        Scope.GOVERNANCE_WRITE,
    ),
}


def scopes_for_kind(kind: OrgKind | str) -> frozenset[Scope]:
    """The scopes an organisation of ``kind`` can use (the records its kind may write on
    chain, ``contracts/RECORDS.md``, and ``read``): what a key gets by default.

    customs: every write; carrier and postal operator: events, attestations; trader: events
    (its consignments), certificates (drawdowns as exporter), attestations; issuing body:
    certificates, attestations. Every kind has ``governance:write`` for its own signing keys
    (``KeyAddition``, ``KeyRevocation``); proposals and approvals stay refused to all but
    customs by the role check. ``admin`` (managing the organisation's API keys) is never a
    default: it is given only when asked for."""
    return frozenset((*_WRITE_BY_KIND[OrgKind(kind)], Scope.READ))


def allowed_scopes(kind: OrgKind | str) -> frozenset[Scope]:
    """The scopes a key of ``kind`` may be issued with: its kind's, and ``admin``."""
    return scopes_for_kind(kind) | {Scope.ADMIN}


KIND_BY_CODE: dict[int, OrgKind] = {
    1: OrgKind.CUSTOMS,
    2: OrgKind.CARRIER,
    3: OrgKind.TRADER,
    4: OrgKind.ISSUING_BODY,
    5: OrgKind.POSTAL_OPERATOR,
}
"""The organisation kind of each Membership kind code on chain."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated organisation a request acts for (one, never another)."""

    org_id: str
    org_kind: OrgKind
    country: str
    scopes: frozenset[Scope]
    key_id: str

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A stored key, without its secret (the store never has it)."""

    key_id: str
    org_id: str
    org_kind: OrgKind
    country: str
    scopes: frozenset[Scope]
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    issued_by: str | None = None

    @property
    def active(self) -> bool:
        now = datetime.now(UTC)
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def caller(self) -> Caller:
        return Caller(self.org_id, self.org_kind, self.country, self.scopes, self.key_id)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A newly issued key: ``token`` is shown once and is not stored anywhere."""

    token: str
    record: KeyRecord


metadata = MetaData()

api_keys = Table(
    "gateway_api_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("org_id", String(66), nullable=False),
    Column("org_kind", String(32), nullable=False, comment="cache of the on-chain registry"),
    Column("country", String(2), nullable=False, comment="cache of the on-chain registry"),
    Column("scopes", String(512), nullable=False, comment="space-separated"),
    Column("label", String(200)),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("revoked_at", Float),
    Column("issued_by", String(16), comment="key id of the admin key that issued this one"),
    Index("ix_gateway_api_keys_org", "org_id"),
    Index("ix_gateway_api_keys_issued_by", "issued_by"),
)


def normalize_org_id(value: str) -> str:
    """A bytes32 organisation id in canonical form (``0x`` + 64 lower-case hex)."""
    if not _BYTES32.match(value):
        raise InvalidRequest(
            "org_id must be 0x followed by 64 hex digits", field="org_id", rule="bytes32"
        )
    return value.lower()


def _country(value: str) -> str:
    code = value.upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise InvalidRequest(
            "country must be an ISO 3166-1 alpha-2 code", field="country", rule="iso3166_alpha2"
        )
    return code


def _scopes(values: Iterable[str]) -> frozenset[Scope]:
    result: set[Scope] = set()
    for value in values:
        try:
            result.add(Scope(value))
        except ValueError:
            raise InvalidRequest(
                f"unknown scope {value!r}", field="scopes", rule="known_scope"
            ) from None
    if not result:
        raise InvalidRequest("at least one scope is required", field="scopes", rule="non_empty")
    return frozenset(result)


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _row_to_record(row: Any) -> KeyRecord:
    return KeyRecord(
        key_id=row.key_id,
        org_id=row.org_id,
        org_kind=OrgKind(row.org_kind),
        country=row.country,
        scopes=frozenset(Scope(s) for s in row.scopes.split()),
        label=row.label,
        created_at=datetime.fromtimestamp(row.created_at, UTC),
        expires_at=_ts(row.expires_at),
        revoked_at=_ts(row.revoked_at),
        issued_by=row.issued_by,
    )


def _add_issued_by(engine: Engine) -> None:
    """Databases made before keys remembered their issuer get the column (nullable)."""
    columns = {c["name"] for c in inspect(engine).get_columns("gateway_api_keys")}
    if "issued_by" in columns:
        return
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE gateway_api_keys ADD COLUMN issued_by VARCHAR(16)"))
        conn.execute(
            text(
                "CREATE INDEX IF NOT EXISTS ix_gateway_api_keys_issued_by"
                " ON gateway_api_keys (issued_by)"
            )
        )


class KeyStore:
    """API keys in the gateway database (SQLite or PostgreSQL through SQLAlchemy Core)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        metadata.create_all(engine)
        _add_issued_by(engine)

    @classmethod
    def open(cls, url: str) -> KeyStore:
        return cls(create_gateway_engine(url))

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def issue(
        self,
        *,
        org_id: str,
        org_kind: OrgKind | str,
        country: str,
        scopes: Iterable[Scope | str],
        label: str | None = None,
        expires_at: datetime | None = None,
        issued_by: str | None = None,
    ) -> IssuedKey:
        """Create a key for one user of ``org_id``; the returned token is never stored.

        ``issued_by`` is the key id of the admin key that asks (None: the operator); the
        caller checks that the scopes lie within that key's.
        """
        try:
            kind = OrgKind(org_kind)
        except ValueError:
            raise InvalidRequest(
                f"unknown organisation kind {org_kind!r}", field="org_kind", rule="known_kind"
            ) from None
        key_id = secrets.token_hex(8)
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
        scope_set = _scopes(str(s) for s in scopes)
        now = time.time()
        row = {
            "key_id": key_id,
            "org_id": normalize_org_id(org_id),
            "org_kind": kind.value,
            "country": _country(country),
            "scopes": " ".join(sorted(s.value for s in scope_set)),
            "label": label,
            "secret_sha256": _hash_secret(secret),
            "created_at": now,
            "expires_at": None if expires_at is None else expires_at.timestamp(),
            "revoked_at": None,
            "issued_by": issued_by,
        }
        with self._engine.begin() as conn:
            if issued_by is not None:
                issuer = conn.execute(
                    select(api_keys.c.revoked_at).where(api_keys.c.key_id == issued_by)
                ).first()
                if issuer is None or issuer.revoked_at is not None:
                    raise Unauthenticated("API key revoked", code="revoked_api_key")
            conn.execute(insert(api_keys).values(**row))
        record = self.get(key_id)
        assert record is not None
        return IssuedKey(token=f"{KEY_PREFIX}_{key_id}_{secret}", record=record)

    def authenticate(self, token: str) -> Caller:
        """The caller a presented key acts for; :class:`Unauthenticated` if it is not valid."""
        match = _TOKEN.match(token.strip())
        if match is None:
            raise Unauthenticated("malformed API key", code="invalid_api_key")
        key_id, secret = match.groups()
        with self._engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        presented = _hash_secret(secret)
        stored = row.secret_sha256 if row is not None else "0" * 64
        if row is None or not hmac.compare_digest(presented, stored):
            raise Unauthenticated("unknown API key", code="invalid_api_key")
        record = _row_to_record(row)
        if record.revoked_at is not None or self._issuer_revoked(record.issued_by):
            raise Unauthenticated("API key revoked", code="revoked_api_key")
        if not record.active:
            raise Unauthenticated("API key expired", code="expired_api_key")
        return record.caller()

    def _issuer_revoked(self, issued_by: str | None) -> bool:
        """Whether a key up the chain of issuers is revoked (or gone)."""
        seen: set[str] = set()
        with self._engine.connect() as conn:
            while issued_by is not None and issued_by not in seen:
                seen.add(issued_by)
                row = conn.execute(
                    select(api_keys.c.revoked_at, api_keys.c.issued_by).where(
                        api_keys.c.key_id == issued_by
                    )
                ).first()
                if row is None or row.revoked_at is not None:
                    return True
                issued_by = row.issued_by
        return False

    def get(self, key_id: str) -> KeyRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        return None if row is None else _row_to_record(row)

    def list_keys(
        self, *, org_id: str | None = None, include_revoked: bool = True
    ) -> list[KeyRecord]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id)
        if org_id is not None:
            query = query.where(api_keys.c.org_id == normalize_org_id(org_id))
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with self._engine.connect() as conn:
            return [_row_to_record(row) for row in conn.execute(query)]

    def revoke(self, key_id: str, *, org_id: str | None = None) -> KeyRecord:
        """Revoke a key (idempotent), and every key it issued, theirs in turn. With ``org_id``,
        only a key of that organisation."""
        query = update(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
        if org_id is not None:
            query = query.where(api_keys.c.org_id == org_id)
        now = time.time()
        with self._engine.begin() as conn:
            conn.execute(query.values(revoked_at=now))
            exists = conn.execute(
                select(api_keys.c.key_id).where(api_keys.c.key_id == key_id)
            ).first()
            frontier = [key_id] if exists is not None else []
            seen = set(frontier)
            while frontier:
                children = [
                    r.key_id
                    for r in conn.execute(
                        select(api_keys.c.key_id).where(api_keys.c.issued_by.in_(frontier))
                    )
                    if r.key_id not in seen
                ]
                if children:
                    conn.execute(
                        update(api_keys)
                        .where(api_keys.c.key_id.in_(children), api_keys.c.revoked_at.is_(None))
                        .values(revoked_at=now)
                    )
                seen.update(children)
                frontier = children
        record = self.get(key_id)
        if record is None or (org_id is not None and record.org_id != org_id):
            raise NotFound(f"no API key {key_id!r}")
        return record

    def refresh_organisation(self, *, org_id: str, org_kind: OrgKind, country: str) -> int:
        """Update the cached kind and country of every key of ``org_id`` (from the chain)."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(api_keys)
                .where(api_keys.c.org_id == normalize_org_id(org_id))
                .values(org_kind=OrgKind(org_kind).value, country=_country(country))
            )
        return int(result.rowcount)


def issue_key(
    settings: GatewaySettings,
    *,
    org_id: str,
    org_kind: OrgKind | str,
    country: str,
    scopes: Iterable[Scope | str],
    label: str | None = None,
    expires_at: datetime | None = None,
) -> IssuedKey:
    """Issue a key in the gateway database named by ``settings`` (for the CLI)."""
    with KeyStore.open(settings.gateway_db_url) as store:
        return store.issue(
            org_id=org_id,
            org_kind=org_kind,
            country=country,
            scopes=scopes,
            label=label,
            expires_at=expires_at,
        )
