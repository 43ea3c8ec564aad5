"""Errors of :mod:`ledger.epcis`, under the library's one root.

They extend the tree drawn in :mod:`ledger.errors` (kept here so that this package does not
edit that module while others restructure it; the tree there gains these lines when it is
merged)::

    LedgerError
    └── ValidationError (ValueError)          (ledger.errors; names field and rule)
        └── EpcisError                        (anything ledger.epcis refuses)
            ├── InvalidGs1Identifier          (an EPC URN or GS1 Digital Link URI)
            │   └── CheckDigitMismatch        (a GS1 key whose check digit is wrong)
            ├── InvalidEpcisEvent             (an event that cannot be hashed)
            └── InvalidEpcisDocument          (no EPCIS document or no event list)

Every error carries ``field`` (what was read: ``epcList[2]``, ``eventTime``, ``identifier``)
and ``rule`` (what it broke), as :class:`ledger.errors.ValidationError` does.
"""

from __future__ import annotations

from ledger.errors import ValidationError

__all__ = [
    "CheckDigitMismatch",
    "EpcisError",
    "InvalidEpcisDocument",
    "InvalidEpcisEvent",
    "InvalidGs1Identifier",
]


class EpcisError(ValidationError):
    """An EPCIS document, event or GS1 identifier breaks a rule of GS1 EPCIS 2.0 / CBV 2.0."""


class InvalidGs1Identifier(EpcisError):
    """An EPC URN or a GS1 Digital Link URI is malformed or names no supported GS1 key."""


class CheckDigitMismatch(InvalidGs1Identifier):
    """A GTIN, SSCC, GLN or GRAI whose GS1 mod-10 check digit does not match its digits."""


class InvalidEpcisEvent(EpcisError):
    """An event lacks what the CBV 2.0 event hash needs (its type, a parsable eventTime)."""


class InvalidEpcisDocument(EpcisError):
    """A document that is not JSON, not an object, or holds no event list."""
