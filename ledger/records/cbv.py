"""CBV 2.0 business steps and dispositions: the words, their on-chain codes and their forms.

:class:`BusinessStep` and :class:`Disposition` are validated strings (the bare CBV word) like
the identifiers of :mod:`ledger.records.values`; on chain each is a ``uint8`` from
:data:`BUSINESS_STEP_CODES` or :data:`DISPOSITION_CODES`, which are signed into records and
never renumbered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Final, Self

from ledger.errors import InvalidBusinessStep, InvalidDisposition
from ledger.records.values import _ValidatedStr

__all__ = [
    "BUSINESS_STEP_CODES",
    "DISPOSITION_CODES",
    "BusinessStep",
    "Disposition",
]


#: CBV 2.0 business steps and their ``uint8`` codes: the 41 words in ASCII (``sorted()``) order,
#: 1-based (1 accepting .. 41 void_shipping); 0 is never a valid business step. This is the
#: contracts' table (``contracts/src/libraries/Cbv.sol``; ``contracts/RECORDS.md`` is
#: authoritative and tests compare with it when it is present). Codes are signed into records:
#: never renumber.
BUSINESS_STEP_CODES: Final[Mapping[str, int]] = {
    "accepting": 1,
    "arriving": 2,
    "assembling": 3,
    "collecting": 4,
    "commissioning": 5,
    "consigning": 6,
    "creating_class_instance": 7,
    "cycle_counting": 8,
    "decommissioning": 9,
    "departing": 10,
    "destroying": 11,
    "disassembling": 12,
    "dispensing": 13,
    "encoding": 14,
    "entering_exiting": 15,
    "holding": 16,
    "inspecting": 17,
    "installing": 18,
    "killing": 19,
    "loading": 20,
    "other": 21,
    "packing": 22,
    "picking": 23,
    "receiving": 24,
    "removing": 25,
    "repackaging": 26,
    "repairing": 27,
    "replacing": 28,
    "reserving": 29,
    "retail_selling": 30,
    "sampling": 31,
    "sensor_reporting": 32,
    "shipping": 33,
    "staging_outbound": 34,
    "stock_taking": 35,
    "stocking": 36,
    "storing": 37,
    "transporting": 38,
    "unloading": 39,
    "unpacking": 40,
    "void_shipping": 41,
}

#: CBV 2.0 dispositions and their ``uint8`` codes: the 33 words in ASCII (``sorted()``) order,
#: 1-based (1 active .. 33 unknown); 0 means "no disposition" on chain. Same source and
#: stability rule as :data:`BUSINESS_STEP_CODES`.
DISPOSITION_CODES: Final[Mapping[str, int]] = {
    "active": 1,
    "available": 2,
    "completeness_inferred": 3,
    "completeness_verified": 4,
    "conformant": 5,
    "container_closed": 6,
    "container_open": 7,
    "damaged": 8,
    "destroyed": 9,
    "dispensed": 10,
    "disposed": 11,
    "encoded": 12,
    "expired": 13,
    "in_progress": 14,
    "in_transit": 15,
    "inactive": 16,
    "mismatch_class": 17,
    "mismatch_instance": 18,
    "mismatch_quantity": 19,
    "needs_replacement": 20,
    "no_pedigree_match": 21,
    "non_conformant": 22,
    "non_sellable_other": 23,
    "partially_dispensed": 24,
    "recalled": 25,
    "reserved": 26,
    "retail_sold": 27,
    "returned": 28,
    "sellable_accessible": 29,
    "sellable_not_accessible": 30,
    "stolen": 31,
    "unavailable": 32,
    "unknown": 33,
}


def _cbv_word(value: str, *, urn: str, web: str, words: Mapping[str, int]) -> str | None:
    """Strip one of the accepted CBV prefixes and return the bare word, or ``None``."""
    text = value.strip()
    for prefix in (urn, f"https://ref.gs1.org/cbv/{web}-", f"cbv:{web}-"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text if text in words else None


class _CbvWord(_ValidatedStr):
    __slots__ = ()
    codes: ClassVar[Mapping[str, int]]
    urn_prefix: ClassVar[str]
    web_name: ClassVar[str]

    @classmethod
    def _normalise(cls, value: str) -> str:
        word = _cbv_word(value, urn=cls.urn_prefix, web=cls.web_name, words=cls.codes)
        if word is None:
            raise cls.error(
                cls.field,
                f"is not a CBV 2.0 {cls.web_name} (bare word, {cls.urn_prefix}<word> or "
                f"https://ref.gs1.org/cbv/{cls.web_name}-<word>)",
                value,
            )
        return word

    @property
    def code(self) -> int:
        """The ``uint8`` code used on chain."""
        return self.codes[self]

    @property
    def urn(self) -> str:
        """The CBV URN form, e.g. ``urn:epcglobal:cbv:bizstep:shipping``."""
        return f"{self.urn_prefix}{self}"

    @property
    def uri(self) -> str:
        """The GS1 Web URI form, e.g. ``https://ref.gs1.org/cbv/BizStep-shipping``."""
        return f"https://ref.gs1.org/cbv/{self.web_name}-{self}"

    @classmethod
    def from_code(cls, code: int) -> Self:
        """The word for an on-chain code; raises the type's error for an unknown code."""
        for word, known in cls.codes.items():
            if known == code:
                return cls._unchecked(word)
        raise cls.error(cls.field, f"{code} is not a {cls.web_name} code", code)


class BusinessStep(_CbvWord):
    """A CBV 2.0 business step, stored as the bare word (``"shipping"``).

    Accepted inputs: the bare word, the URN ``urn:epcglobal:cbv:bizstep:shipping``, the GS1
    Web URI ``https://ref.gs1.org/cbv/BizStep-shipping`` and the EPCIS JSON-LD compact IRI
    ``cbv:BizStep-shipping``. Words are case-sensitive (CBV words are lower case). Words
    outside CBV 2.0 (``transforming``, private vocabularies) are rejected. On chain: ``uint8``
    from :data:`BUSINESS_STEP_CODES`.
    """

    __slots__ = ()
    field = "biz_step"
    error = InvalidBusinessStep
    codes = BUSINESS_STEP_CODES
    urn_prefix = "urn:epcglobal:cbv:bizstep:"
    web_name = "BizStep"


class Disposition(_CbvWord):
    """A CBV 2.0 disposition, stored as the bare word (``"in_transit"``).

    Accepted inputs as for :class:`BusinessStep` with ``urn:epcglobal:cbv:disp:``,
    ``https://ref.gs1.org/cbv/Disp-`` and ``cbv:Disp-``. Words outside CBV 2.0
    (``in_transport``) are rejected. On chain: ``uint8`` from :data:`DISPOSITION_CODES`, where
    an event without disposition has code 0 (:meth:`code_of`, :meth:`from_optional_code`).
    """

    __slots__ = ()
    field = "disposition"
    error = InvalidDisposition
    codes = DISPOSITION_CODES
    urn_prefix = "urn:epcglobal:cbv:disp:"
    web_name = "Disp"

    @staticmethod
    def code_of(disposition: Disposition | None) -> int:
        """The on-chain code of an optional disposition: 0 for ``None``."""
        return 0 if disposition is None else disposition.code

    @classmethod
    def from_optional_code(cls, code: int) -> Disposition | None:
        """``None`` for code 0 (no disposition), else :meth:`from_code`."""
        return None if code == 0 else cls.from_code(code)
