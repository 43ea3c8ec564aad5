"""GS1 keys in EPCIS: EPC URNs and GS1 Digital Link URIs, parsed, checked and normalised.

One value type, :class:`Gs1Key`: a primary GS1 key (its Application Identifier and element
string, check digit included) with the key qualifiers that make it an instance or a class
(serial ``21``, lot ``10``, GLN extension ``254``, ...). It is read from either spelling:

* an EPC URN (GS1 EPC Tag Data Standard): ``urn:epc:id:sgtin:0614141.107346.2017``,
  ``urn:epc:id:sscc:...``, ``sgln``, ``grai``, ``giai``, ``pgln``, ``gsrn``, ``gsrnp``, ``gdti``,
  ``sgcn``, ``ginc``, ``gsin``, ``itip``, ``upui``, ``cpi``; the class URN
  ``urn:epc:class:lgtin:...``; the pattern ``urn:epc:idpat:sgtin:CP.IR.*``;
* a GS1 Digital Link URI on any domain and under any path prefix, with numeric AIs or their
  short names (``/gtin/``, ``/ser/``, ...), with or without a query string.

and written as the *constrained canonical* GS1 Digital Link URI that the CBV 2.0 event hash
uses (:attr:`Gs1Key.digital_link`): host ``id.gs1.org``, numeric AIs, GTIN padded to 14
digits, only the finest level of identification (a serial drops the lot, the consumer product
variant ``22`` is dropped), no query string.

EPC URN to Digital Link needs nothing but arithmetic: the check digit is computed. The other
way (:meth:`Gs1Key.epc_urn`) needs the length of the GS1 Company Prefix, which is not in the
Digital Link: it is known when the key was read from an EPC URN, and must otherwise be given
(GS1 publishes the prefix-length table; it is not bundled here).

Strict parsing (:func:`parse_gs1_key`, the default) validates digit counts, character sets and
check digits and raises :class:`~ledger.errors.InvalidGs1Identifier` or
:class:`~ledger.errors.CheckDigitMismatch` naming the field and the rule. The event hash
uses :func:`canonical_digital_link`, which is lenient about check digits (a hash is of what
was said, not a judgement of it) and returns ``None`` for anything that is not a GS1 key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

from stdnum import ean

from ledger.errors import CheckDigitMismatch, InvalidGs1Identifier

__all__ = [
    "DL_SHORT_NAMES",
    "Gs1Key",
    "canonical_digital_link",
    "check_digit",
    "parse_digital_link",
    "parse_epc_urn",
    "parse_gs1_key",
]

CANONICAL_HOST: Final = "https://id.gs1.org"

#: GS1 Digital Link short names of the primary keys and qualifiers, and their AIs.
DL_SHORT_NAMES: Final[dict[str, str]] = {
    "gtin": "01",
    "itip": "8006",
    "cpid": "8010",
    "gln": "414",
    "party": "417",
    "gsrnp": "8017",
    "gsrn": "8018",
    "gcn": "255",
    "sscc": "00",
    "gdti": "253",
    "ginc": "401",
    "gsin": "402",
    "grai": "8003",
    "giai": "8004",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
    "cpsn": "8011",
    "glnx": "254",
}

#: Primary-key AIs and the qualifiers the constrained canonical form may keep, finest first.
_QUALIFIERS: Final[dict[str, tuple[str, ...]]] = {
    "01": ("21", "235", "10"),
    "8006": ("21", "10"),
    "8010": ("8011",),
    "414": ("254",),
    "417": (),
    "8017": (),
    "8018": (),
    "255": (),
    "00": (),
    "253": (),
    "401": (),
    "402": (),
    "8003": (),
    "8004": (),
}

#: Qualifiers that are dropped rather than kept (consumer product variant).
_DROPPED_QUALIFIERS: Final = frozenset({"22"})

# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
_CSET82: Final = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*")
# Digital Link path segments: CSET 82 with the reserved characters percent-encoded.
_DL_SEGMENT: Final = re.compile(r"(?:[\"'\-.0-9;<=>?A-Z_a-z]|%[0-9A-Fa-f]{2})*")

# Maximum length of the alphanumeric part of each AI value after percent-decoding.
_MAX_LENGTH: Final[dict[str, int]] = {
    "21": 20,
    "10": 20,
    "254": 20,
    "235": 28,
    "8011": 12,
    "8004": 30,
    "401": 30,
    "8010": 30,
}

# Characters a Digital Link path segment must percent-encode that an EPC URN leaves bare
# (GS1 Digital Link 1.x, table 7-1; the URN already escapes " % & / < > ? #).
_DL_ESCAPES: Final = {c: f"%{ord(c):02X}" for c in "!()*+,:"}
# Characters an EPC URN must percent-encode (EPC Tag Data Standard, table A-1).
_URN_ESCAPES: Final = {c: f"%{ord(c):02X}" for c in '"%&/<>?#'}


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of a numeric key without its check digit."""
    return str(ean.calc_check_digit(digits))


def _dl_escape(urn_text: str) -> str:
    return "".join(_DL_ESCAPES.get(c, c) for c in urn_text)


def _urn_escape(text: str) -> str:
    return "".join(_URN_ESCAPES.get(c, c) for c in text)


@dataclass(frozen=True, slots=True)
class Gs1Key:
    """A GS1 key with its qualifiers, e.g. an SGTIN (GTIN ``01`` + serial ``21``).

    ``ai`` is the primary key's Application Identifier (``"01"``, ``"00"``, ``"414"``, ...),
    ``value`` its element string as the Digital Link writes it (GTIN-14, SSCC-18, GLN-13,
    GRAI with serial, ...), ``qualifiers`` the kept ``(AI, value)`` pairs in canonical order,
    values as Digital Link path segments (percent-encoded). ``company_prefix_length`` is known
    when the key was read from an EPC URN.
    """

    ai: str
    value: str
    qualifiers: tuple[tuple[str, str], ...] = ()
    company_prefix_length: int | None = None

    @property
    def scheme(self) -> str:
        """The EPC scheme name: ``sgtin``, ``lgtin``, ``gtin``, ``sscc``, ``sgln``, ``gln``,
        ``pgln``, ``grai``, ``giai``, ... (``gtin`` and ``gln`` are the bare keys)."""
        names = {q for q, _ in self.qualifiers}
        if self.ai == "01":
            if "21" in names:
                return "sgtin"
            if "235" in names:
                return "upui"
            return "lgtin" if "10" in names else "gtin"
        return {
            "00": "sscc",
            "414": "sgln" if names else "gln",
            "417": "pgln",
            "8003": "grai",
            "8004": "giai",
            "8006": "itip",
            "8010": "cpi",
            "8017": "gsrnp",
            "8018": "gsrn",
            "253": "gdti",
            "255": "sgcn",
            "401": "ginc",
            "402": "gsin",
        }[self.ai]

    def qualifier(self, ai: str) -> str | None:
        """The value of qualifier ``ai`` (decoded), or ``None``."""
        for name, value in self.qualifiers:
            if name == ai:
                return unquote(value)
        return None

    @property
    def digital_link(self) -> str:
        """The constrained canonical GS1 Digital Link URI (what the CBV 2.0 hash uses)."""
        path = f"/{self.ai}/{self.value}" + "".join(f"/{q}/{v}" for q, v in self.qualifiers)
        return CANONICAL_HOST + path

    def epc_urn(self, company_prefix_length: int | None = None) -> str:
        """The EPC URN of this key (``urn:epc:id:...``, ``urn:epc:class:lgtin:...``).

        ``company_prefix_length`` (6 to 12) is needed unless the key was read from an EPC URN.
        """
        length = company_prefix_length or self.company_prefix_length
        if length is None or not 6 <= length <= 12:
            raise InvalidGs1Identifier(
                "company_prefix_length",
                "the GS1 Company Prefix length (6 to 12 digits) is needed to write an EPC URN",
                company_prefix_length,
            )
        v, n = self.value, length
        scheme = self.scheme
        if scheme in ("sgtin", "lgtin", "gtin"):
            cp, ir = v[1 : 1 + n], v[0] + v[1 + n : 13]
            if scheme == "gtin":
                return f"urn:epc:idpat:sgtin:{cp}.{ir}.*"
            kind, qual = ("id", "21") if scheme == "sgtin" else ("class", "10")
            tail = _urn_escape(self.qualifier(qual) or "")
            return f"urn:epc:{kind}:{scheme}:{cp}.{ir}.{tail}"
        if scheme == "sscc":
            return f"urn:epc:id:sscc:{v[1 : 1 + n]}.{v[0]}{v[1 + n : 17]}"
        if scheme in ("sgln", "gln"):
            ext = _urn_escape(self.qualifier("254") or "0")
            return f"urn:epc:id:sgln:{v[:n]}.{v[n:12]}.{ext}"
        if scheme == "pgln":
            return f"urn:epc:id:pgln:{v[:n]}.{v[n:12]}"
        if scheme == "grai":
            return f"urn:epc:id:grai:{v[1 : 1 + n]}.{v[1 + n : 13]}.{_urn_escape(unquote(v[14:]))}"
        if scheme == "giai":
            return f"urn:epc:id:giai:{v[:n]}.{_urn_escape(unquote(v[n:]))}"
        raise InvalidGs1Identifier(
            "identifier", f"writing {scheme} as an EPC URN is not supported", self.digital_link
        )

    def __str__(self) -> str:
        return self.digital_link


# --------------------------------------------------------------------------------------------
# EPC URNs
# --------------------------------------------------------------------------------------------

_URN: Final = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):(.+)")
_URN_TEXT: Final = re.compile(r"(?:[!'()*+,\-.0-9:;=A-Z_a-z]|%[0-9A-Fa-f]{2})+")
_DIGITS: Final = re.compile(r"[0-9]+")


def _bad(field: str, rule: str, value: object) -> InvalidGs1Identifier:
    return InvalidGs1Identifier(field, rule, value)


def _split_urn(uri: str, parts: int, *, field: str) -> list[str]:
    body = uri.rpartition(":")[2]
    pieces = body.split(".", parts - 1)
    if len(pieces) != parts:
        raise _bad(field, f"an EPC URN of this scheme has {parts} dot-separated parts", uri)
    return pieces


def _prefix_and_ref(cp: str, ref: str, total: int, uri: str, field: str) -> None:
    if not (_DIGITS.fullmatch(cp) and 6 <= len(cp) <= 12):
        raise _bad(field, "the GS1 Company Prefix must be 6 to 12 digits", uri)
    if not (_DIGITS.fullmatch(ref) or ref == "") or len(cp) + len(ref) != total:
        raise _bad(field, f"company prefix and reference together must be {total} digits", uri)


def _urn_text(text: str, uri: str, field: str, *, max_length: int) -> str:
    if not _URN_TEXT.fullmatch(text) or len(unquote(text)) > max_length:
        raise _bad(
            field,
            f"must be 1 to {max_length} GS1 AI characters, URN-escaped (EPC TDS table A-1)",
            uri,
        )
    return _dl_escape(text)


def parse_epc_urn(uri: str, *, field: str = "identifier") -> Gs1Key:
    """Read an EPC URN (pure identity, LGTIN class or SGTIN pattern) as a :class:`Gs1Key`."""
    m = _URN.fullmatch(uri.strip())
    if m is None:
        raise _bad(field, "not an EPC URN (urn:epc:id|class|idpat:<scheme>:...)", uri)
    kind, scheme = m.group(1), m.group(2)
    uri = m.group(0)
    key = (kind, scheme)
    if key in {("id", "sgtin"), ("class", "lgtin"), ("id", "upui")}:
        cp, ir, tail = _split_urn(uri, 3, field=field)
        _prefix_and_ref(cp, ir, 13, uri, field)
        base = ir[0] + cp + ir[1:]
        qual = {"sgtin": "21", "lgtin": "10", "upui": "235"}[scheme]
        text = _urn_text(tail, uri, field, max_length=_MAX_LENGTH[qual])
        return Gs1Key("01", base + check_digit(base), ((qual, text),), len(cp))
    if key == ("idpat", "sgtin"):
        cp, ir, star = _split_urn(uri, 3, field=field)
        _prefix_and_ref(cp, ir, 13, uri, field)
        if star != "*":
            raise _bad(field, "an SGTIN pattern ends in '.*'", uri)
        base = ir[0] + cp + ir[1:]
        return Gs1Key("01", base + check_digit(base), (), len(cp))
    if key == ("id", "sscc") or key == ("id", "gsrn") or key == ("id", "gsrnp"):
        cp, ref = _split_urn(uri, 2, field=field)
        _prefix_and_ref(cp, ref, 17, uri, field)
        base = ref[0] + cp + ref[1:] if scheme == "sscc" else cp + ref
        ai = {"sscc": "00", "gsrn": "8018", "gsrnp": "8017"}[scheme]
        return Gs1Key(ai, base + check_digit(base), (), len(cp))
    if key == ("id", "gsin"):
        cp, ref = _split_urn(uri, 2, field=field)
        _prefix_and_ref(cp, ref, 16, uri, field)
        return Gs1Key("402", cp + ref + check_digit(cp + ref), (), len(cp))
    if key == ("id", "pgln"):
        cp, ref = _split_urn(uri, 2, field=field)
        _prefix_and_ref(cp, ref, 12, uri, field)
        return Gs1Key("417", cp + ref + check_digit(cp + ref), (), len(cp))
    if key == ("id", "sgln"):
        cp, ref, ext = _split_urn(uri, 3, field=field)
        _prefix_and_ref(cp, ref, 12, uri, field)
        gln = cp + ref + check_digit(cp + ref)
        if ext == "0":
            return Gs1Key("414", gln, (), len(cp))
        text = _urn_text(ext, uri, field, max_length=_MAX_LENGTH["254"])
        return Gs1Key("414", gln, (("254", text),), len(cp))
    if key in {("id", "grai"), ("id", "gdti"), ("id", "sgcn")}:
        cp, ref, serial = _split_urn(uri, 3, field=field)
        _prefix_and_ref(cp, ref, 12, uri, field)
        if scheme == "grai":
            base = "0" + cp + ref
            text = _urn_text(serial, uri, field, max_length=16)
            return Gs1Key("8003", base + check_digit(base) + text, (), len(cp))
        base = cp + ref
        if scheme == "sgcn" and not (_DIGITS.fullmatch(serial) and len(serial) <= 12):
            raise _bad(field, "an SGCN serial is 1 to 12 digits", uri)
        text = _urn_text(serial, uri, field, max_length=17)
        return Gs1Key("253" if scheme == "gdti" else "255", base + check_digit(base) + text)
    if key in {("id", "giai"), ("id", "ginc")}:
        cp, ref = _split_urn(uri, 2, field=field)
        _prefix_and_ref(cp, "", len(cp), uri, field)
        text = _urn_text(ref, uri, field, max_length=30 - len(cp))
        return Gs1Key("8004" if scheme == "giai" else "401", cp + text, (), len(cp))
    if key == ("id", "itip"):
        cp, ir, piece, total, serial = _split_urn(uri, 5, field=field)
        _prefix_and_ref(cp, ir, 13, uri, field)
        if not (re.fullmatch(r"[0-9]{2}", piece) and re.fullmatch(r"[0-9]{2}", total)):
            raise _bad(field, "ITIP piece and total are two digits each", uri)
        base = ir[0] + cp + ir[1:]
        text = _urn_text(serial, uri, field, max_length=20)
        return Gs1Key("8006", base + check_digit(base) + piece + total, (("21", text),), len(cp))
    if key == ("id", "cpi"):
        cp, ref, serial = _split_urn(uri, 3, field=field)
        _prefix_and_ref(cp, "", len(cp), uri, field)
        if not (_DIGITS.fullmatch(serial) and len(serial) <= 12):
            raise _bad(field, "a CPI serial is 1 to 12 digits", uri)
        return Gs1Key("8010", _dl_escape(cp + ref), (("8011", serial),), len(cp))
    raise _bad(field, f"EPC scheme {kind}:{scheme} is not supported", uri)


# --------------------------------------------------------------------------------------------
# GS1 Digital Link URIs
# --------------------------------------------------------------------------------------------

_DL_URI: Final = re.compile(r"https?://[^/?#]+(/[^?#]*)(?:\?[^#]*)?(?:#.*)?")
_GTIN_LENGTHS: Final = frozenset({8, 12, 13, 14})
# Numeric keys: (digits before the check digit's position + 1, alphanumeric tail allowed).
_NUMERIC_KEYS: Final[dict[str, tuple[int, int]]] = {
    # ai: (length of the numeric part incl. check digit, max length of an alphanumeric tail)
    "00": (18, 0),
    "414": (13, 0),
    "417": (13, 0),
    "402": (17, 0),
    "8017": (18, 0),
    "8018": (18, 0),
    "253": (13, 17),
    "255": (13, 12),
}


def _check(digits: str, uri: str, field: str, *, validate: bool) -> None:
    if validate and check_digit(digits[:-1]) != digits[-1]:
        raise CheckDigitMismatch(
            field,
            f"GS1 check digit of {digits} does not match (expected {check_digit(digits[:-1])})",
            uri,
        )


def _segment(value: str, ai: str, uri: str, field: str) -> str:
    limit = _MAX_LENGTH.get(ai, 20)
    decoded = unquote(value)
    if not value or not _DL_SEGMENT.fullmatch(value) or not _CSET82.fullmatch(decoded):
        raise _bad(field, f"AI {ai} must be GS1 AI characters, percent-encoded in a URI", uri)
    if len(decoded) > limit:
        raise _bad(field, f"AI {ai} is at most {limit} characters", uri)
    return value


def _primary_value(ai: str, value: str, uri: str, field: str, *, validate: bool) -> str:
    if ai == "01":
        if not (_DIGITS.fullmatch(value) and len(value) in _GTIN_LENGTHS):
            raise _bad(field, "a GTIN is 8, 12, 13 or 14 digits", uri)
        value = value.zfill(14)
        _check(value, uri, field, validate=validate)
        return value
    if ai == "8006":
        if not (_DIGITS.fullmatch(value) and len(value) == 18):
            raise _bad(field, "an ITIP is 18 digits (GTIN-14, piece, total)", uri)
        _check(value[:14], uri, field, validate=validate)
        return value
    if ai == "8003":
        if not (_DIGITS.fullmatch(value[:14]) and len(value) >= 14):
            raise _bad(field, "a GRAI is 14 digits ('0' and a GTIN-13), then a serial", uri)
        if validate and value[0] != "0":
            raise _bad(field, "a GRAI's 14 digits start with the filler digit '0'", uri)
        _check(value[:14], uri, field, validate=validate)
        if len(value) > 14:
            _segment(value[14:], "8003", uri, field)
        return value
    if ai in ("8004", "401", "8010"):
        if not re.match(r"[0-9]{4}", value):
            raise _bad(field, f"AI {ai} starts with the GS1 Company Prefix", uri)
        _segment(value, ai, uri, field)
        return value
    digits, tail = _NUMERIC_KEYS[ai]
    head = value[:digits]
    if not (_DIGITS.fullmatch(head) and len(head) == digits) or len(value) - digits > tail:
        rule = f"AI {ai} is {digits} digits" + (f" and up to {tail} more" if tail else "")
        raise _bad(field, rule, uri)
    if len(value) > digits:
        _segment(value[digits:], ai, uri, field)
    _check(head, uri, field, validate=validate)
    return value


def parse_digital_link(uri: str, *, field: str = "identifier", validate: bool = True) -> Gs1Key:
    """Read a GS1 Digital Link URI (any domain) as a :class:`Gs1Key` in canonical form.

    ``validate=False`` skips the check-digit test (the event hash hashes what was written).
    """
    m = _DL_URI.fullmatch(uri.strip())
    if m is None:
        raise _bad(field, "not an http(s) URI", uri)
    segments = m.group(1).strip("/").split("/")
    names = [DL_SHORT_NAMES.get(s, s) for s in segments]
    for start, name in enumerate(names):
        if name in _QUALIFIERS and start + 1 < len(names):
            break
    else:
        raise _bad(field, "names no GS1 primary key (/01/, /00/, /414/, ... or /gtin/, ...)", uri)
    ai = names[start]
    rest = segments[start + 2 :]
    if len(rest) % 2:
        raise _bad(field, "key qualifiers come in AI/value pairs", uri)
    value = _primary_value(ai, segments[start + 1], uri, field, validate=validate)
    found: dict[str, str] = {}
    for i in range(0, len(rest), 2):
        q = DL_SHORT_NAMES.get(rest[i], rest[i])
        if q in _DROPPED_QUALIFIERS:
            continue
        if q not in _QUALIFIERS[ai] or q in found:
            raise _bad(field, f"AI {q} is not a key qualifier of AI {ai} here", uri)
        found[q] = _segment(rest[i + 1], q, uri, field)
    kept: tuple[tuple[str, str], ...] = ()
    for q in _QUALIFIERS[ai]:  # finest level only: a serial drops the lot
        if q in found:
            kept = ((q, found[q]),)
            break
    if ai == "8010":
        kept = tuple((q, found[q]) for q in _QUALIFIERS[ai] if q in found)
    return Gs1Key(ai, value, kept)


def parse_gs1_key(uri: str, *, field: str = "identifier", validate: bool = True) -> Gs1Key:
    """Read an EPC URN or a GS1 Digital Link URI; see :func:`parse_epc_urn`,
    :func:`parse_digital_link`."""
    if not isinstance(uri, str):
        raise _bad(field, "must be a string", uri)
    if uri.strip().startswith("urn:epc:"):
        return parse_epc_urn(uri, field=field)
    return parse_digital_link(uri, field=field, validate=validate)


def canonical_digital_link(uri: str) -> str | None:
    """The constrained canonical GS1 Digital Link URI of an EPC URN or Digital Link URI, for
    the event hash; ``None`` when ``uri`` is not a (well-formed) GS1 key. Check digits of
    Digital Link input are not judged here."""
    if not (uri.startswith("urn:epc:") or uri.startswith(("http://", "https://"))):
        return None
    try:
        return parse_gs1_key(uri, validate=False).digital_link
    except InvalidGs1Identifier:
        return None
