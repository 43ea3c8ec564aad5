"""Response models of goods declarations, risk selection and inspections."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_ID = "0x" + "de" * 32
_VIEW: dict[str, Any] = {
    "declaration_id": _ID,
    "record_id": "0x" + "5e" * 32,
    "status": "confirmed",
    "declarant": "0x" + "0a" * 32,
    "administration": "0x" + "0c" * 32,
    "lodged_at": 1796000000,
    "amends": None,
    "amended_by": None,
    "on_chain": "matches",
    "values": {"declaration_number": "CN-2026-000123", "hs6": "220421", "currency": "AUD"},
}
_ITEM: dict[str, Any] = {
    "declaration_id": _ID,
    "declaration_number": "CN-2026-000123",
    "score": 0.8312,
    "by": "model",
    "reasons": ["origin (NZ) differs from the country of departure (AU)"],
    "findings": [
        {
            "source": "consignment",
            "code": "ORIGIN_MISMATCH",
            "severity": "critical",
            "text": "The consignment was registered as leaving AU, not the claimed origin NZ.",
        }
    ],
}

__all__ = [
    "DeclarationList",
    "DeclarationView",
    "InspectionView",
    "SelectionItemView",
    "SelectionView",
]


class DeclarationView(BaseModel):
    """A declaration as lodged, with its values (decrypted for the declarant or its
    administration) and how they compare with the digest on chain."""

    model_config = ConfigDict(json_schema_extra={"examples": [_VIEW]})

    declaration_id: str
    record_id: str
    status: str = Field(description="The lodgement record's relay status (see /records).")
    declarant: str
    administration: str
    lodged_at: int
    amends: str | None
    amended_by: str | None = Field(description="The declaration that amends it, if on chain.")
    on_chain: Literal["pending", "matches"] = Field(
        description="'matches': the chain holds this record and the values hash to its digest; "
        "'pending': not on chain yet."
    )
    values: dict[str, Any]


class DeclarationList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_VIEW], "next_cursor": 0}]}
    )

    items: list[DeclarationView]
    next_cursor: int = Field(description="Pass as `after` for the next page (0: no more).")


class SelectionItemView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ITEM]})

    declaration_id: str
    declaration_number: str
    score: float
    by: Literal["model", "exploration"]
    reasons: list[str] = Field(description="Why, in plain words, strongest first.")
    findings: list[dict[str, Any]] = Field(
        description="Ledger findings behind the score: consignment and certificate checks, AEO."
    )


class SelectionView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rate": 0.05,
                    "exploration": 0.1,
                    "considered": 120,
                    "model": "LightGBM, trained 2026-12-01T10:00:00+00:00 on 45519 declarations",
                    "items": [_ITEM],
                }
            ]
        }
    )

    rate: float
    exploration: float
    considered: int
    model: str = Field(description="What scored them: the trained model's description.")
    items: list[SelectionItemView]


class InspectionView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "declaration_id": _ID,
                    "result": "fraud",
                    "kind": "undervaluation",
                    "record_id": "0x" + "5e" * 32,
                }
            ]
        }
    )

    declaration_id: str
    result: str
    kind: str
    record_id: str = Field(description="The inspection attestation's record (see /records).")
