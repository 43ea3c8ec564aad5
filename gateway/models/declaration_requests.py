"""Request models of goods declarations and inspections.

A declaration is lodged with its values (:class:`DeclarationCreate`); the gateway validates
them (:class:`ledger.records.DeclarationValues`: HS 2022, ISO 3166, ISO 4217, positive mass and
price; 422 naming the field), keeps them encrypted in the administration's store and relays
the record that fixes their digest on chain.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from gateway.models.record_fields import BuildContext, Bytes32, RecordCreate, Signature
from gateway.models.stored import RecordKind
from ledger.records import Declaration, DeclarationValues, new_salt

__all__ = ["DeclarationCreate", "DeclarationSignedSubmission", "InspectionCreate"]

_SIG = "0x" + "11" * 64 + "1b"
_EXAMPLE: dict[str, Any] = {
    "declaration_number": "CN-2026-000123",
    "date": "2026-12-06",
    "administration": "0x" + "0c" * 32,
    "office": "2200",
    "procedure": "B",
    "import_type": "11",
    "transport_mode": "10",
    "importer": "CN-IMP-0042",
    "seller": "AU-BAROSSA-01",
    "hs6": "2204.21",
    "departure_country": "AU",
    "origin_country": "AU",
    "tax_type": "FAU1",
    "preference_claimed": True,
    "certificate_issuer": "0x" + "ac" * 32,
    "certificate_number": "ACCI-2026-0001",
    "net_mass_kg": 4500,
    "item_price": 31500,
    "currency": "AUD",
    "consignment_ref": "AU-UCR-...",
    "consignment_registrant": "0x" + "ca" * 32,
}


class DeclarationCreate(RecordCreate):
    """A goods declaration lodged by the caller's organisation (the declarant)."""

    KIND: ClassVar[RecordKind] = RecordKind.DECLARATION
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    declaration_number: str = Field(min_length=1, max_length=64)
    date: str = Field(description="Lodgement date, ISO 8601 (YYYY-MM-DD).")
    administration: Bytes32 = Field(description="The importing customs administration.")
    office: str
    procedure: str
    import_type: str
    transport_mode: str
    importer: str
    seller: str
    courier: str = ""
    hs6: str = Field(description="HS 2022 subheading, 6 digits ('2204.21' or '220421').")
    departure_country: str = Field(description="ISO 3166-1 alpha-2.")
    origin_country: str = Field(description="ISO 3166-1 alpha-2, as declared.")
    tax_type: str = Field(description="Tax type, e.g. 'A' (basic) or an FTA preference code.")
    preference_claimed: bool = False
    certificate_issuer: Bytes32 | None = Field(
        default=None, description="Issuer of the certificate of origin behind the claim."
    )
    certificate_number: str | None = None
    net_mass_kg: float | str = Field(description="Net mass in kg, positive.")
    item_price: float | str = Field(description="Item price, positive, in `currency`.")
    currency: str = Field(description="ISO 4217 currency code.")
    consignment_ref: str = Field(default="", description="The consignment's business key.")
    consignment_registrant: Bytes32 | None = Field(
        default=None,
        description="The organisation that registered `consignment_ref` (required with it: a "
        "consignment id is bound to its registrant).",
    )
    amends: Bytes32 | None = Field(
        default=None, description="The declaration id this one amends (its latest version)."
    )

    _salt: bytes = PrivateAttr(default_factory=new_salt)
    _lodged_at: int | None = PrivateAttr(default=None)

    def values(self, declarant: bytes) -> DeclarationValues:
        """The validated values (raises ``ValidationError`` naming the field)."""
        data = self.model_dump(exclude={"amends"})
        data["declarant"] = "0x" + declarant.hex()
        data["certificate_issuer"] = data["certificate_issuer"] or ""
        data["certificate_number"] = data["certificate_number"] or ""
        data["consignment_registrant"] = data["consignment_registrant"] or ""
        return DeclarationValues.parse(data)

    @property
    def salt(self) -> bytes:
        return self._salt

    def lodge_at(self, t: int) -> None:
        self._lodged_at = t

    @property
    def lodged_at(self) -> int | None:
        return self._lodged_at

    def to_record(self, ctx: BuildContext) -> Declaration:
        lodged_at = self._lodged_at if self._lodged_at is not None else ctx.now
        self._lodged_at = lodged_at
        amends = bytes.fromhex(self.amends[2:]) if self.amends else bytes(32)
        return self.values(ctx.org_id).record(salt=self._salt, lodged_at=lodged_at, amends=amends)


class DeclarationSignedSubmission(BaseModel):
    """A declaration the declarant signed itself: the Declaration EIP-712 message with its
    signature, and the values it was built from. Either the values and the salt of their
    digest are given here, or they were staged by ``POST /typed-data/declaration`` (which
    returned the message to sign). The message must be the record of these values (its
    ``valuesDigest`` = keccak256(salt ‖ canonical values))."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"message": {"declarationRef": "0x" + "d1" * 32}, "signature": _SIG}]
        },
    )
    values: dict[str, Any] | None = Field(
        default=None, description="The values, as for POST /declarations (with `salt`)."
    )
    salt: Bytes32 | None = Field(default=None, description="The salt of the values digest.")
    message: dict[str, Any] = Field(description="The Declaration EIP-712 message as signed.")
    signature: Signature


class InspectionCreate(BaseModel):
    """An inspection result recorded by the administration the declaration was lodged with."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"declaration_id": "0x" + "de" * 32, "result": "fraud", "kind": "undervaluation"}
            ]
        },
    )
    declaration_id: Bytes32
    result: Literal["no_irregularity", "fraud", "critical_fraud"]
    kind: str = Field(
        default="",
        max_length=200,
        description="What was found (e.g. 'undervaluation', 'false origin'); empty for none.",
    )
