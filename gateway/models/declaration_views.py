"""Response models of goods declarations, risk selection and inspections."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

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
    items: list[DeclarationView]
    next_cursor: int = Field(description="Pass as `after` for the next page (0: no more).")


class SelectionItemView(BaseModel):
    declaration_id: str
    declaration_number: str
    score: float
    by: Literal["model", "exploration"]
    reasons: list[str] = Field(description="Why, in plain words, strongest first.")
    findings: list[dict[str, Any]] = Field(
        description="Ledger findings behind the score: consignment and certificate checks, AEO."
    )


class SelectionView(BaseModel):
    rate: float
    exploration: float
    considered: int
    model: str = Field(description="What scored them: the trained model's description.")
    items: list[SelectionItemView]


class InspectionView(BaseModel):
    declaration_id: str
    result: str
    kind: str
    record_id: str = Field(description="The inspection attestation's record (see /records).")
