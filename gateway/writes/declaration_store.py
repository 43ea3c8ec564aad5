"""The administration's store of declared values, encrypted at rest, and of inspection results.

A goods declaration's values stay off chain (the chain holds their salted digest,
``ledger.records.values_digest``). This store keeps them in the gateway database (SQLite or
PostgreSQL, like the outbox), each row's values and salt encrypted with AES-256-GCM under the
store's key, with the declaration id as associated data, so a row copied onto another id does
not decrypt. The key is 32 bytes: ``declarations_key`` from the settings (hex), or else the file
``<data_dir>/declarations.key``, generated (mode 0600) the first time the gateway starts.

Who may read a row is decided here, not by the routes: the declarant's organisation and the
administration the declaration was lodged with; anyone else gets 404, as if there were none.
Reading a row decrypts it and checks that its values hash to the digest it was lodged with
(the caller compares that record with the chain's).

Inspection results recorded by the administration (no irregularity, fraud, critical fraud,
with the kind) are kept beside them: they are the labels of the next training.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    insert,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError

from gateway.errors import Conflict, NotFound
from ledger.errors import ConfigurationError
from ledger.records import Declaration, DeclarationValues

__all__ = [
    "INSPECTION_RESULTS",
    "DeclarationStore",
    "Inspection",
    "StoredDeclaration",
    "load_or_create_key",
]

KEY_FILE = "declarations.key"
INSPECTION_RESULTS = ("no_irregularity", "fraud", "critical_fraud")

metadata = MetaData()

declarations_table = Table(
    "gateway_declarations",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("declaration_id", String(66), nullable=False, unique=True),
    Column("record_id", String(66), nullable=False, comment="outbox record of the lodgement"),
    Column("declarant", String(66), nullable=False),
    Column("administration", String(66), nullable=False),
    Column("lodged_at", Integer, nullable=False),
    Column("amends", String(66), comment="the declaration it amends"),
    Column("nonce", LargeBinary(12), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False, comment="AES-GCM(values and salt)"),
    Column("created_at", Float, nullable=False),
    Index("ix_gateway_declarations_declarant", "declarant", "seq"),
    Index("ix_gateway_declarations_administration", "administration", "seq"),
    comment="declared values, encrypted; the chain holds their digest",
)

drafts_table = Table(
    "gateway_declaration_drafts",
    metadata,
    Column("values_digest", String(66), primary_key=True),
    Column("declarant", String(66), nullable=False),
    Column("nonce", LargeBinary(12), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False, comment="AES-GCM(values and salt)"),
    Column("created_at", Float, nullable=False),
    comment="values staged by POST /typed-data/declaration until the declarant signs",
)

inspections_table = Table(
    "gateway_inspections",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("declaration_id", String(66), nullable=False, unique=True),
    Column("administration", String(66), nullable=False),
    Column("result", String(32), nullable=False),
    Column("kind", Text, nullable=False, comment="what was found, e.g. undervaluation"),
    Column("record_id", String(66), nullable=False, comment="the attestation's outbox record"),
    Column("inspected_at", Integer, nullable=False),
    comment="inspection results: the labels of the next training",
)


def load_or_create_key(*, configured: str | None, data_dir: Path) -> bytes:
    """The store's 32-byte key: ``configured`` (hex), else ``<data_dir>/declarations.key``,
    created with 32 random bytes (mode 0600) when missing."""
    if configured:
        try:
            key = bytes.fromhex(configured.removeprefix("0x"))
        except ValueError:
            key = b""
        if len(key) != 32:
            raise ConfigurationError("declarations_key must be 32 bytes as hex (64 digits)")
        return key
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
            handle.flush()
            os.fsync(handle.fileno())
    key = path.read_bytes()
    if len(key) != 32:
        raise ConfigurationError(f"{path} must hold exactly 32 bytes")
    return key


@dataclass(frozen=True, slots=True)
class StoredDeclaration:
    """A declaration's values as lodged, decrypted, with what was lodged on chain."""

    declaration_id: str
    record_id: str
    declarant: str
    administration: str
    lodged_at: int
    amends: str | None
    values: DeclarationValues
    salt: bytes

    def record(self) -> Declaration:
        """The on-chain record these values were lodged as."""
        amends = bytes.fromhex(self.amends[2:]) if self.amends else bytes(32)
        return self.values.record(salt=self.salt, lodged_at=self.lodged_at, amends=amends)


@dataclass(frozen=True, slots=True)
class Inspection:
    declaration_id: str
    administration: str
    result: str
    kind: str
    record_id: str
    inspected_at: int


class DeclarationStore:
    """Encrypted declared values and inspection results in the gateway database."""

    def __init__(self, engine: Engine, key: bytes) -> None:
        self.engine = engine
        self._aead = AESGCM(key)
        metadata.create_all(engine)

    # ------------------------------------------------------------------ writes

    def put(
        self,
        *,
        declaration_id: str,
        record_id: str,
        values: DeclarationValues,
        salt: bytes,
        lodged_at: int,
        amends: str | None,
    ) -> None:
        """Store a declaration's values; the same declaration again is a 409."""
        nonce = secrets.token_bytes(12)
        plain = json.dumps({"values": values.as_dict(), "salt": salt.hex()}).encode("utf-8")
        sealed = self._aead.encrypt(nonce, plain, declaration_id.encode("ascii"))
        row = {
            "declaration_id": declaration_id,
            "record_id": record_id,
            "declarant": values.declarant,
            "administration": values.administration,
            "lodged_at": lodged_at,
            "amends": amends,
            "nonce": nonce,
            "ciphertext": sealed,
            "created_at": time.time(),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(declarations_table).values(**row))
        except IntegrityError:
            raise Conflict(
                "this declaration number was lodged already by the declarant",
                code="DeclarationExists",
                field="declaration_number",
            ) from None

    def put_many(self, items: Sequence[tuple[str, str, DeclarationValues, bytes, int]]) -> None:
        """Store many declarations in one transaction: ``(declaration id, record id, values,
        salt, lodged at)`` each (an import of history; a duplicate id fails them all)."""
        rows = []
        now = time.time()
        for did, rid, values, salt, lodged_at in items:
            nonce = secrets.token_bytes(12)
            plain = json.dumps({"values": values.as_dict(), "salt": salt.hex()}).encode()
            rows.append(
                {
                    "declaration_id": did,
                    "record_id": rid,
                    "declarant": values.declarant,
                    "administration": values.administration,
                    "lodged_at": lodged_at,
                    "amends": None,
                    "nonce": nonce,
                    "ciphertext": self._aead.encrypt(nonce, plain, did.encode("ascii")),
                    "created_at": now,
                }
            )
        with self.engine.begin() as conn:
            conn.execute(insert(declarations_table), rows)

    def record_inspections(self, inspections: Sequence[Inspection]) -> None:
        """Many inspection results in one transaction (an import of past results)."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(inspections_table),
                [
                    {
                        "declaration_id": i.declaration_id,
                        "administration": i.administration,
                        "result": i.result,
                        "kind": i.kind,
                        "record_id": i.record_id,
                        "inspected_at": i.inspected_at,
                    }
                    for i in inspections
                ],
            )

    def put_draft(self, *, values: DeclarationValues, salt: bytes) -> str:
        """Stage values whose record the declarant is about to sign; returns their digest.
        The same values and salt again change nothing."""
        digest = "0x" + values.digest(salt).hex()
        nonce = secrets.token_bytes(12)
        plain = json.dumps({"values": values.as_dict(), "salt": salt.hex()}).encode("utf-8")
        sealed = self._aead.encrypt(nonce, plain, digest.encode("ascii"))
        row = {
            "values_digest": digest,
            "declarant": values.declarant,
            "nonce": nonce,
            "ciphertext": sealed,
            "created_at": time.time(),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(drafts_table).values(**row))
        except IntegrityError:
            pass  # staged already: the digest commits to the values and salt
        return digest

    def draft(
        self, values_digest: str, *, declarant: str
    ) -> tuple[DeclarationValues, bytes] | None:
        """The staged values (and salt) with this digest, if ``declarant`` staged them."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(drafts_table).where(
                    and_(
                        drafts_table.c.values_digest == values_digest.lower(),
                        drafts_table.c.declarant == declarant,
                    )
                )
            ).first()
        if row is None:
            return None
        try:
            plain = self._aead.decrypt(row.nonce, row.ciphertext, row.values_digest.encode())
        except InvalidTag:
            return None
        data = json.loads(plain)
        return DeclarationValues.parse(data["values"]), bytes.fromhex(data["salt"])

    def delete_draft(self, values_digest: str) -> None:
        """Drop staged values once their declaration is lodged (they are in its row now)."""
        with self.engine.begin() as conn:
            conn.execute(
                drafts_table.delete().where(drafts_table.c.values_digest == values_digest.lower())
            )

    def delete(self, declaration_id: str) -> None:
        """Drop a row whose lodgement was refused (before anything reached the outbox)."""
        with self.engine.begin() as conn:
            conn.execute(
                declarations_table.delete().where(
                    declarations_table.c.declaration_id == declaration_id
                )
            )

    def set_record_id(self, declaration_id: str, record_id: str) -> None:
        """The outbox record that lodges the declaration (known once it is accepted)."""
        with self.engine.begin() as conn:
            conn.execute(
                declarations_table.update()
                .where(declarations_table.c.declaration_id == declaration_id)
                .values(record_id=record_id)
            )

    def set_inspection_record_id(self, declaration_id: str, record_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                inspections_table.update()
                .where(inspections_table.c.declaration_id == declaration_id)
                .values(record_id=record_id)
            )

    def delete_inspection(self, declaration_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                inspections_table.delete().where(
                    inspections_table.c.declaration_id == declaration_id
                )
            )

    def record_inspection(self, inspection: Inspection) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(inspections_table).values(
                        declaration_id=inspection.declaration_id,
                        administration=inspection.administration,
                        result=inspection.result,
                        kind=inspection.kind,
                        record_id=inspection.record_id,
                        inspected_at=inspection.inspected_at,
                    )
                )
        except IntegrityError:
            raise Conflict(
                "an inspection result is recorded for this declaration already",
                code="InspectionExists",
                field="declaration_id",
            ) from None

    # ------------------------------------------------------------------ reads

    def _open(self, row: Any) -> StoredDeclaration:
        try:
            plain = self._aead.decrypt(
                row.nonce, row.ciphertext, row.declaration_id.encode("ascii")
            )
        except InvalidTag:
            raise Conflict(
                "the stored values of this declaration do not decrypt: the row was altered "
                "or the store's key changed",
                code="declaration_store_corrupt",
            ) from None
        data = json.loads(plain)
        return StoredDeclaration(
            declaration_id=row.declaration_id,
            record_id=row.record_id,
            declarant=row.declarant,
            administration=row.administration,
            lodged_at=int(row.lodged_at),
            amends=row.amends,
            # validated when stored; AES-GCM proves the row is as it was written
            values=DeclarationValues(**data["values"]),
            salt=bytes.fromhex(data["salt"]),
        )

    @staticmethod
    def _visible(org_id: str) -> Any:
        return or_(
            declarations_table.c.declarant == org_id,
            declarations_table.c.administration == org_id,
        )

    def get(self, declaration_id: str, *, reader: str) -> StoredDeclaration:
        """The declaration, for the declarant or its administration (404 for anyone else)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(declarations_table).where(
                    and_(
                        declarations_table.c.declaration_id == declaration_id.lower(),
                        self._visible(reader),
                    )
                )
            ).first()
        if row is None:
            raise NotFound("no such declaration", code="declaration_not_found")
        return self._open(row)

    def list_for(
        self, *, reader: str, after: int = 0, limit: int = 100
    ) -> tuple[list[StoredDeclaration], int]:
        """The declarations ``reader`` may see (its own, or lodged with it), oldest first;
        with the cursor of the next page (0: no more)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(declarations_table)
                .where(and_(self._visible(reader), declarations_table.c.seq > after))
                .order_by(declarations_table.c.seq)
                .limit(limit + 1)
            ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return [self._open(r) for r in rows], (int(rows[-1].seq) if more else 0)

    def lodged_with(self, administration: str) -> list[StoredDeclaration]:
        """Every declaration lodged with ``administration``, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(declarations_table)
                .where(declarations_table.c.administration == administration)
                .order_by(declarations_table.c.seq)
            ).all()
        return [self._open(r) for r in rows]

    def inspections(self, administration: str) -> dict[str, Inspection]:
        """The inspection results ``administration`` recorded, by declaration id."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(inspections_table).where(
                    inspections_table.c.administration == administration
                )
            ).all()
        return {
            r.declaration_id: Inspection(
                r.declaration_id, r.administration, r.result, r.kind, r.record_id, r.inspected_at
            )
            for r in rows
        }
