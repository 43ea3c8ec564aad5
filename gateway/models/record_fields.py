"""What the record request models are built of: field types, the OpenAPI example messages,
the build context (caller, time, nonces) and the base class :class:`RecordCreate`."""

from __future__ import annotations

import secrets
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    JsonValue,
    Strict,
    StrictInt,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from gateway.auth import BYTES32_PATTERN
from gateway.models.stored import RecordKind
from ledger.records import Record, consignment_id

__all__ = [
    "EXAMPLE_ATTESTATION_MESSAGE",
    "EXAMPLE_DRAWDOWN_MESSAGE",
    "EXAMPLE_EVENT_MESSAGE",
    "PROGRAMME_BITS",
    "Address",
    "BuildContext",
    "Bytes32",
    "FreeText",
    "Message",
    "Nonce",
    "NonceSource",
    "Programme",
    "RecordCreate",
    "RuledModel",
    "Signature",
    "TextLine",
    "Timestamp",
    "WholeNumber",
    "absent",
    "branch",
    "given",
    "one_of_fields",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_LINE_BREAKS = frozenset("\t\n\r")


def _refuse_controls(value: str, *, allowed: frozenset[str] = frozenset()) -> str:
    for char in value:
        if char not in allowed and unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co"):
            raise PydanticCustomError(
                "control_character",
                "must not contain control, format or private-use characters (found {char})",
                {"char": f"U+{ord(char):04X}"},
            )
    return value


def _text_line(value: str) -> str:
    return _refuse_controls(value)


def _free_text(value: str) -> str:
    return _refuse_controls(value, allowed=_LINE_BREAKS)


TextLine = Annotated[str, AfterValidator(_text_line)]
"""An identifier or one line of text (seal, reference, certificate number, label): no
control characters (U+0000, ...), no format characters (U+202E right-to-left override, zero
width joiners, ...), which would make two values look alike or a reading reorder them."""

FreeText = Annotated[str, AfterValidator(_free_text)]
"""Free text (a reason, a definition): as :data:`TextLine`, but tabs and line breaks are
allowed."""


def _message_text(value: Any) -> Any:
    if isinstance(value, str):
        _refuse_controls(value)
    elif isinstance(value, list):
        for item in value:
            _message_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_controls(str(key))
            _message_text(item)
    return value


Message = dict[
    Annotated[str, AfterValidator(_text_line)], Annotated[Any, AfterValidator(_message_text)]
]
"""A message as the client sent it (an EIP-712 message, a governance proposal's): its field
names and every text in it follow :data:`TextLine` (a refusal names the message's field, rule
``control_character``), whatever the record type then makes of them."""


def _whole(value: object) -> object:
    # JSON Schema's integer is any number with a zero fraction (7.0 too), so a client
    # generating from the OpenAPI may send one; a bool or a string is still refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[StrictInt, BeforeValidator(_whole)]
"""An integer as JSON Schema has it: ``7`` or ``7.0``, never ``7.5``, ``"7"`` or ``true``."""

Nonce = Annotated[int, Strict(), Field(ge=0, lt=2**32), BeforeValidator(_whole)]
"""A record's nonce (uint32); its bounds are in the OpenAPI (``minimum``,
``exclusiveMaximum``)."""


def _iso_text(value: object) -> object:
    # pydantic also takes a number (or a string of digits) as Unix seconds; the API takes
    # ISO 8601 text only, as its schema says (``format: date-time``).
    if isinstance(value, bool | int | float) or (
        isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("must be an ISO 8601 time with its offset, e.g. 2026-11-23T18:00:00Z")
    return value


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_text),
    Field(ge=datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), lt=datetime(9999, 1, 1, tzinfo=UTC)),
]
"""A time in a request: ISO 8601 *with* its offset (``2026-11-23T18:00:00Z`` or ``+08:00``).
A time without one is refused (422 naming the field, rule ``timezone_aware``) rather than
guessed as UTC: a local time taken for UTC would date a record hours off."""

Bytes32 = Annotated[
    str,
    Field(pattern=BYTES32_PATTERN, examples=["0x" + "ab" * 32]),
    AfterValidator(str.lower),
]
Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
Signature = Annotated[
    str,
    Field(
        pattern=r"^0x[0-9a-fA-F]{130}$",
        description="65-byte secp256k1 signature (r, s, v) over the EIP-712 digest, hex.",
    ),
]
Programme = Literal["AEOC", "AEOS", "AEOF"]
PROGRAMME_BITS: dict[str, int] = {"AEOC": 0x1, "AEOS": 0x2, "AEOF": 0x4}

_ORG = "0x" + "0a" * 32
_OTHER = "0x" + "0b" * 32
_CERT = "0x" + "ce" * 32
_SIG = "0x" + "11" * 64 + "1b"
# A ConsignmentEvent message as signed (loading at Adelaide), for the OpenAPI examples.
EXAMPLE_EVENT_MESSAGE: dict[str, JsonValue] = {
    "consignmentId": "0x" + "c0" * 32,
    "bizStep": 20,
    "disposition": 15,
    "location": "0x415541444c",
    "eventTime": 1795422600,
    "container": "0x" + b"CSQU3054383".hex(),  # ISO 6346, bytes11
    "sealDigest": "0x" + "5e" * 32,
    "documentsDigest": "0x" + "00" * 32,
    "epcisEventHash": "0x" + "00" * 32,
    "nonce": 1792,
    "deadline": 1795509000,
}
# An Attestation message as signed (a seal check of a consignment), for the OpenAPI examples.
EXAMPLE_ATTESTATION_MESSAGE: dict[str, JsonValue] = {
    "schemaId": "0x" + "5c" * 32,
    "subjectType": 1,
    "subjectId": "0x" + "c0" * 32,
    "dataDigest": "0x" + "da" * 32,
    "refUid": "0x" + "00" * 32,
    "expiresAt": 0,
    "deadline": 1795509000,
}
# A Drawdown message as signed (4,500 litres of a certificate for a consignment).
EXAMPLE_DRAWDOWN_MESSAGE: dict[str, JsonValue] = {
    "certificateId": "0x" + "ce" * 32,
    "consignmentId": "0x" + "c0" * 32,
    "quantity": 4500,
    "deadline": 1795509000,
}
_DEADLINE_SECONDS = 24 * 3600
_PROPOSAL_SECONDS = 7 * 24 * 3600


def _b32(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _ts(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _deadline(value: datetime | None, ctx: BuildContext) -> int:
    """A record's deadline: the request's, else ``_DEADLINE_SECONDS`` from now."""
    return _ts(value) if value else ctx.now + _DEADLINE_SECONDS


class NonceSource:
    """Sequential nonces per signing key within a random 256-nonce word (thread-safe).

    Consecutive records of one key share a storage word of the contract's nonce bitmap
    (cheaper); a fresh random word is taken every 256 nonces and after a restart, so reuse
    is as unlikely as a 24-bit collision (and a reused nonce is refused by pre-validation).
    """

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(self, signer: str) -> int:
        with self._lock:
            nonce = self._next.get(signer)
            if nonce is None or nonce & 0xFF == 0:
                nonce = secrets.randbits(24) << 8
            self._next[signer] = (nonce + 1) & 0xFFFFFFFF
            return nonce


@dataclass(frozen=True)
class BuildContext:
    """What converting a request needs besides the request: the caller, the time, nonces."""

    org_id: bytes
    now: int
    nonce: Callable[[], int]
    certificate_unit: Callable[[bytes], str | None]
    #: The Certificates and AeoRegistry contracts' addresses (governance's revoke_certificate
    #: and revoke_aeo_certification name them).
    certificates: str = "0x" + "00" * 20
    aeo: str = "0x" + "00" * 20
    #: The consignment id of a reference (and its registrant when the request names it), for
    #: the caller: the caller's own registration, else the reference's only registration in the
    #: index; a reference several organisations registered raises a 409 naming the field.
    #: Without one: the caller's own registration.
    consignment: Callable[[str, bytes | None, str], bytes] | None = None

    def consignment_of(self, ref: str, registrant: bytes | None, field: str) -> bytes:
        """The consignment id that reference ``ref`` (request field ``field``) names."""
        if registrant is not None:
            return consignment_id(ref, registrant=registrant)
        if self.consignment is None:
            return consignment_id(ref, registrant=self.org_id)
        return self.consignment(ref, registrant, field)


def given(*names: str) -> dict[str, Any]:
    """JSON Schema: the fields ``names`` are given, not null."""
    return {"required": list(names), "properties": {n: {"not": {"type": "null"}} for n in names}}


def absent(*names: str) -> dict[str, Any]:
    """JSON Schema: the fields ``names`` are left out or null."""
    return {"properties": {n: {"type": "null"} for n in names}}


def branch(*parts: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema: every one of ``parts`` (``given``, ``absent``, ``{"properties": ...}``)."""
    merged: dict[str, Any] = {"properties": {}}
    for part in parts:
        merged["properties"].update(part.get("properties", {}))
        if "required" in part:
            merged.setdefault("required", []).extend(part["required"])
    return merged


def one_of_fields(first: str, second: str) -> dict[str, Any]:
    """JSON Schema: exactly one of the fields ``first`` and ``second`` is given."""
    return {"anyOf": [branch(given(first), absent(second)), branch(given(second), absent(first))]}


class RuledModel(BaseModel):
    """A request model whose rules across fields (one field or the other, a field an action
    needs) its JSON Schema says too (``SCHEMA_RULES``, each a schema all values must
    match, under ``allOf``), so that the OpenAPI documents them and a client or a fuzzer
    generating from it sends what the model accepts. The model's own validators stay the
    rule; the schema says the same."""

    SCHEMA_RULES: ClassVar[tuple[dict[str, Any], ...]] = ()

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(core_schema)
        rules = [rule for klass in reversed(cls.__mro__) for rule in _own_rules(klass)]
        if rules:
            target = handler.resolve_ref_schema(json_schema)
            target["allOf"] = [*target.get("allOf", []), *rules]
        return json_schema


def _own_rules(klass: type) -> tuple[dict[str, Any], ...]:
    rules = klass.__dict__.get("SCHEMA_RULES", ())
    return rules if isinstance(rules, tuple) else ()


class RecordCreate(RuledModel):
    """Base of the human-friendly request models."""

    model_config = ConfigDict(extra="forbid")
    KIND: ClassVar[RecordKind]

    def to_record(self, ctx: BuildContext) -> Record:  # pragma: no cover - abstract
        raise NotImplementedError


class _ConsignmentRef(RecordCreate):
    consignment_ref: TextLine | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="Business key (WCO UCR or carrier reference). The consignment id is "
        "keccak256(abi.encode(registrant, keccak256(reference))): the caller's own registration "
        "of it, else its only registration (409 when several organisations registered it: give "
        "consignment_registrant or consignment_id).",
    )
    consignment_registrant: Bytes32 | None = Field(
        default=None,
        description="The organisation that registered consignment_ref (with consignment_ref).",
    )
    consignment_id: Bytes32 | None = Field(
        default=None, description="On-chain consignment id (instead of consignment_ref)."
    )

    SCHEMA_RULES: ClassVar[tuple[dict[str, Any], ...]] = (
        one_of_fields("consignment_ref", "consignment_id"),
        {"anyOf": [given("consignment_ref"), absent("consignment_registrant")]},
    )

    @model_validator(mode="after")
    def _one_reference(self) -> Self:
        if (self.consignment_ref is None) == (self.consignment_id is None):
            raise ValueError("give exactly one of consignment_ref and consignment_id")
        if self.consignment_registrant is not None and self.consignment_ref is None:
            raise ValueError("consignment_registrant is given only with consignment_ref")
        return self

    def _consignment(self, ctx: BuildContext) -> bytes:
        if self.consignment_id is not None:
            return _b32(self.consignment_id)
        assert self.consignment_ref is not None
        registrant = (
            _b32(self.consignment_registrant) if self.consignment_registrant is not None else None
        )
        return ctx.consignment_of(self.consignment_ref, registrant, "consignment_ref")
