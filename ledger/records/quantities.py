"""Units and quantities: UN/ECE Recommendation 20 unit codes and exact decimal quantities.

:class:`UnitCode` is a validated string like the identifiers of :mod:`ledger.records.values`
(on chain ``bytes8``); :class:`Quantity` is a positive decimal amount of a unit, kept exactly,
converted exactly between units of one dimension, and recorded on chain as a ``uint64`` whole
number of its unit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Self

from ledger.errors import InvalidQuantity, InvalidUnit
from ledger.records.values import _ascii_fixed, _from_ascii_fixed, _ValidatedStr

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

__all__ = [
    "QUANTITY_DECIMALS",
    "QUANTITY_MAX",
    "UNIT_CODES",
    "UNIT_CONVERSIONS",
    "Quantity",
    "UnitCode",
]


#: The accepted subset of UN/ECE Recommendation 20 unit codes (rev. 17), with their names.
#: Rec 20 has ~2,000 codes; trade documents use a handful. Add codes here as needed.
UNIT_CODES: Final[Mapping[str, str]] = {
    "KGM": "kilogram",
    "GRM": "gram",
    "TNE": "tonne (metric ton)",
    "LTR": "litre",
    "MLT": "millilitre",
    "HLT": "hectolitre",
    "LPA": "litre of pure alcohol",
    "MTQ": "cubic metre",
    "MTK": "square metre",
    "MTR": "metre",
    "C62": "one (piece, unit count)",
    "H87": "piece",
    "NAR": "number of articles",
    "NPR": "number of pairs",
    "PR": "pair",
    "SET": "set",
    "DZN": "dozen",
    "KWH": "kilowatt hour",
}


class UnitCode(_ValidatedStr):
    """A UN/ECE Recommendation 20 unit code from the accepted subset :data:`UNIT_CODES`.

    Rule: trimmed, upper-cased, and listed in :data:`UNIT_CODES` (``KGM``, ``TNE``, ``LTR``,
    ``MTQ``, ``C62``, ``NAR``, ...). On chain: ``bytes8`` (ASCII, zero-padded on the right).
    """

    __slots__ = ()
    field = "unit"
    error = InvalidUnit

    @classmethod
    def _normalise(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in UNIT_CODES:
            raise InvalidUnit(
                cls.field,
                "is not an accepted UN/ECE Recommendation 20 code "
                f"({', '.join(sorted(UNIT_CODES))})",
                value,
            )
        return code

    @property
    def description(self) -> str:
        """The unit's name, e.g. ``"kilogram"``."""
        return UNIT_CODES[self]

    def to_bytes8(self) -> bytes:
        """ASCII ``bytes8``, zero-padded on the right (``b"KGM\\x00\\x00\\x00\\x00\\x00"``)."""
        return _ascii_fixed(self, 8)

    @classmethod
    def from_bytes8(cls, raw: bytes) -> Self:
        """Decode and validate a ``bytes8`` value read from the chain."""
        return cls(_from_ascii_fixed(raw, size=8, field=cls.field, error=InvalidUnit))


#: Unit conversions that are exact: unit -> (dimension, size in the dimension's smallest unit).
#: Only units of the same dimension convert; the others (LPA, MTK, MTR, H87, NAR, NPR, PR, SET,
#: KWH) stand alone.
UNIT_CONVERSIONS: Final[Mapping[str, tuple[str, int]]] = {
    "GRM": ("mass", 1),
    "KGM": ("mass", 1_000),
    "TNE": ("mass", 1_000_000),
    "MLT": ("volume", 1),
    "LTR": ("volume", 1_000),
    "HLT": ("volume", 100_000),
    "MTQ": ("volume", 1_000_000),
    "C62": ("count", 1),
    "DZN": ("count", 12),
}

#: Fractional digits a quantity may have when entered (thousandths of its unit).
QUANTITY_DECIMALS: Final = 3
#: Largest on-chain quantity: the contracts' ``uint64`` (Certificates.sol), in whole units.
QUANTITY_MAX: Final = 2**64 - 1
_MILLI: Final = 10**QUANTITY_DECIMALS


def _to_milli(number: Decimal) -> int | None:
    """``number`` x 1000 as an exact ``int``, or ``None`` if it has more than 3 decimals.

    Works on the digits: ``Decimal`` arithmetic and ``normalize()`` round to the context
    precision (28 digits by default). The caller bounds the magnitude first, so the power of
    ten below stays small.
    """
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    end = len(digits)
    while end > 1 and digits[end - 1] == 0:  # trailing zeros are not fractional digits
        end -= 1
        exponent += 1
    if exponent < -QUANTITY_DECIMALS:
        return None
    mantissa = int("".join(map(str, digits[:end])))
    return (-1 if sign else 1) * mantissa * int(10 ** (exponent + QUANTITY_DECIMALS))


def _from_milli(milli: int) -> Decimal:
    """Exact inverse of :func:`_to_milli`, without trailing zeros (``12500`` -> ``12.5``)."""
    whole, fraction = divmod(milli, _MILLI)
    if not fraction:
        return Decimal(whole)
    return Decimal(f"{whole}.{f'{fraction:0{QUANTITY_DECIMALS}d}'.rstrip('0')}")


@dataclass(frozen=True, slots=True)
class Quantity:
    """A positive quantity of a unit, e.g. ``Quantity.parse("12.5", "TNE")``.

    Rule for the amount: a decimal string (``"12.5"``), ``int`` or ``Decimal`` -- never a
    ``float``, which cannot hold most decimals exactly -- that is finite, strictly positive and
    has at most :data:`QUANTITY_DECIMALS` (3) fractional digits (trailing zeros do not count:
    ``"1.2500"`` is 1.25). It is kept exactly, normalised (``Decimal("12.5")``).

    On chain (``contracts/RECORDS.md``, Certificates): the quantity is a ``uint64`` **whole
    number of its unit**, with the unit as ``bytes8``; fractions are recorded in a smaller unit.
    :meth:`to_chain` therefore refuses a fractional amount, and :meth:`to` converts exactly
    between units of one dimension (:data:`UNIT_CONVERSIONS`):
    ``Quantity.parse("12.5", "TNE").to("KGM").to_chain() == (12500, b"KGM\0\0\0\0\0")``.
    A drawdown carries no unit, so it must be expressed in its certificate's unit.
    """

    amount: Decimal
    unit: UnitCode

    def __post_init__(self) -> None:
        amount: object = self.amount
        if not isinstance(amount, Decimal):
            raise InvalidQuantity("quantity", "amount must be a Decimal (use Quantity.parse)")
        unit: object = self.unit
        if not isinstance(unit, UnitCode):
            object.__setattr__(self, "unit", UnitCode(unit))
        if not amount.is_finite():
            raise InvalidQuantity("quantity", "must be finite", amount)
        if amount <= 0:
            raise InvalidQuantity("quantity", "must be positive", amount)
        if amount > QUANTITY_MAX:  # exact comparison, before any scaling
            raise InvalidQuantity("quantity", f"must be at most {QUANTITY_MAX} (uint64)", amount)
        milli = _to_milli(amount)
        if milli is None:
            raise InvalidQuantity(
                "quantity", f"at most {QUANTITY_DECIMALS} fractional digits are allowed", amount
            )
        object.__setattr__(self, "amount", _from_milli(milli))

    @classmethod
    def parse(cls, amount: str | int | Decimal, unit: str) -> Quantity:
        """Validate a human amount and a unit code; see the class docstring for the rule."""
        return cls(amount=cls._decimal(amount), unit=UnitCode(unit))

    @staticmethod
    def _decimal(amount: object) -> Decimal:
        if isinstance(amount, float | bool):
            raise InvalidQuantity(
                "quantity", "must be a decimal string, int or Decimal, not float/bool", amount
            )
        if isinstance(amount, int):
            return Decimal(amount)
        if isinstance(amount, Decimal):
            return amount
        if isinstance(amount, str):
            if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", amount.strip()):
                raise InvalidQuantity(
                    "quantity", "must be a plain decimal number like '12.5'", amount
                )
            return Decimal(amount.strip())
        raise InvalidQuantity("quantity", "must be a decimal string, int or Decimal", amount)

    @property
    def is_whole(self) -> bool:
        """Whether the amount is a whole number of the unit (what the chain can record)."""
        return self.amount == self.amount.to_integral_value()

    def to(self, unit: str) -> Quantity:
        """The same quantity in another unit of its dimension, exactly.

        Raises :class:`~ledger.errors.InvalidQuantity` if the units do not convert
        (different dimensions, or a unit without conversions) or if the result would need
        more than 3 fractional digits (``Quantity.parse("1", "GRM").to("TNE")``).
        """
        target = UnitCode(unit)
        if target == self.unit:
            return self
        here, there = UNIT_CONVERSIONS.get(self.unit), UNIT_CONVERSIONS.get(target)
        if here is None or there is None or here[0] != there[0]:
            raise InvalidQuantity(
                "quantity", f"{self.unit} does not convert to {target}", str(self)
            )
        milli = _to_milli(self.amount)
        assert milli is not None  # guaranteed by construction
        scaled, remainder = divmod(milli * here[1], there[1])
        if remainder:
            raise InvalidQuantity(
                "quantity",
                f"in {target} it would need more than {QUANTITY_DECIMALS} fractional digits",
                str(self),
            )
        return Quantity(amount=_from_milli(scaled), unit=target)

    def to_chain(self) -> tuple[int, bytes]:
        """``(uint64 quantity, bytes8 unit)`` as the contracts take them.

        Raises :class:`~ledger.errors.InvalidQuantity` if the amount is not a whole number of
        the unit: convert it to a smaller unit first (:meth:`to`).
        """
        if not self.is_whole:
            raise InvalidQuantity(
                "quantity",
                "on chain a quantity is a whole number of its unit (contracts/RECORDS.md); "
                "convert it to a smaller unit first",
                str(self),
            )
        return (int(self.amount), self.unit.to_bytes8())

    @classmethod
    def from_chain(cls, quantity: int, unit: bytes) -> Quantity:
        """Inverse of :meth:`to_chain`."""
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidQuantity("quantity", "on-chain quantity must be an integer", quantity)
        return cls(amount=Decimal(quantity), unit=UnitCode.from_bytes8(unit))

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """As a pydantic field: ``{"amount": "12.5", "unit": "TNE"}`` in, the same out.

        ``amount`` is a JSON string or integer; a JSON float (``12.5``) is refused.
        """
        from pydantic_core import core_schema

        def from_mapping(data: Mapping[str, Any]) -> Quantity:
            return cls.parse(data["amount"], data["unit"])

        as_mapping = core_schema.no_info_after_validator_function(
            from_mapping,
            core_schema.typed_dict_schema(
                {
                    "amount": core_schema.typed_dict_field(
                        core_schema.union_schema(
                            [core_schema.str_schema(), core_schema.int_schema(strict=True)]
                        )
                    ),
                    "unit": core_schema.typed_dict_field(core_schema.str_schema()),
                }
            ),
        )
        to_mapping: Callable[[Quantity], dict[str, str]] = lambda q: {  # noqa: E731
            "amount": str(q.amount),
            "unit": str(q.unit),
        }
        return core_schema.json_or_python_schema(
            json_schema=as_mapping,
            python_schema=core_schema.union_schema(
                [core_schema.is_instance_schema(cls), as_mapping]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(to_mapping),
        )
