"""Reading scans: GS1 element strings (machine or HRI form), GS1 Digital Link URIs, plain GTINs or this service's
label codes."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, date
from functools import lru_cache
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString

from inventory.domain.errors import BarcodeInvalid, GtinInvalid, Unprocessable
from inventory.domain.gtin import GTIN_LENGTHS, normalize_gtin
from inventory.domain.labelcode import PREFIX as LABEL_PREFIX
from inventory.domain.labelcode import format_lot_code, parse_lot_code

__all__ = [
    "GS",
    "GS1_CHARSET",
    "SEPARATORS",
    "Reading",
    "format_element_string",
    "format_hri",
    "read_barcode",
]

GS = "\x1d"
"""ASCII group separator: what scanners send for FNC1."""

# Keyboard-wedge scanners often cannot type GS and are configured to send one of these instead.
# None of them is in the GS1 character set 82, so they can never be part of a value.
SEPARATORS = frozenset({GS, "|", "^", "~"})

GS1_CHARSET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + "!\"%&'()*+,-./:;<=>?_")
"""GS1 AI encodable character set 82 (lot numbers, serials and other X fields)."""

# A GS1 DataMatrix on an ampoule box holds well under 100 characters; the cap only keeps
# the split search below cheap on hostile input.
MAX_INPUT_LENGTH = 512
# More readings than this means the text is not a barcode anyone printed; refusing beats guessing.
MAX_READINGS = 64
# Upper bound on search steps per level of guessed lost separators, so pathological input stays fast.
_SEARCH_BUDGET = 4000
# Messages with more variable-length fields than this are not what ampoule boxes carry.
_MAX_GUESSED_SEPARATORS = 6

# Symbology identifiers (ISO/IEC 15424): "]" + symbology letter + modifier.
_SYMBOLOGY_ID = re.compile(r"\][A-Za-z][0-9A-Za-z]")
# These say "the data is a GS1 element string" (FNC1 in first position); nothing else may be read from them.
_GS1_SYMBOLOGIES = frozenset({"C1", "e0", "e1", "e2", "d2", "Q3", "J1"})
_HRI_MARKER = re.compile(r"\(([0-9]{2,4})\)")
_SPACE_BEFORE_PARENTHESIS = re.compile(r"\s+(?=\()")
# Whitespace at the ends is noise (line ends from the scanner), except GS, which is a leading FNC1.
_EDGE_WHITESPACE = re.compile(r"\A[^\S\x1d]+|[^\S\x1d]+\Z")

# AIs whose data starts with YYMMDD (the same list biip checks); their dates follow the GS1 century rule.
_DATE_AIS = frozenset(
    {"11", "12", "13", "15", "16", "17", "4324", "4325", "4326", "7003", "7006", "7007", "7011", "8008"}
)
_GTIN_AIS = frozenset({"01", "02", "03"})
# AIs ending in a check character pair (GS1 General Specifications 7.9.5): GMN and the MUDI/HIDRI 8014.
_CHECK_PAIR_AIS = frozenset({"8013", "8014"})
_CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_CSET32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_CHECK_PAIR_WEIGHTS = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83)
# Dates are checked here against the caller's `today`; biip would use the wall clock for the century.
_BIIP_CONFIG = ParseConfig(gs1_element_strings_verify_date=False)

# GS1 Digital Link: "http(s)://<any host>[/<prefix>]/01/<gtin>[/22/…][/10/<lot>][/21/<serial>][?17=…&…]".
_DIGITAL_LINK = re.compile(r"https?://", re.IGNORECASE)
# Primary keys and, in order, the key qualifiers that may follow each in the path (GS1 Digital Link 1.2, 4.5).
_DL_KEYS: dict[str, tuple[str, ...]] = {
    "01": ("22", "10", "21", "235"),
    "8006": ("22", "10", "21"),
    "8013": (),
    "8010": ("8011",),
    "414": ("254", "7040"),
    "415": ("8020",),
    "417": ("7040",),
    "8017": ("8019",),
    "8018": ("8019",),
    "255": (),
    "00": (),
    "253": (),
    "401": (),
    "402": (),
    "8003": (),
    "8004": ("7040",),
}
# Digital Link 1.1 short names, still printed on labels and resolved by GS1's own toolkit.
_DL_SHORT_NAMES = {
    "gtin": "01",
    "itip": "8006",
    "gmn": "8013",
    "cpid": "8010",
    "cpsn": "8011",
    "gln": "414",
    "glnx": "254",
    "payTo": "415",
    "refNo": "8020",
    "partyGln": "417",
    "gsrnp": "8017",
    "gsrn": "8018",
    "srin": "8019",
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
    "tpx": "235",
    "exp": "17",
}

ReadingKind = Literal["gs1", "gtin", "label"]
_Elements = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Reading:
    """One interpretation of a scan."""

    kind: ReadingKind
    gtin: str | None = None
    lot_number: str | None = None
    expiry: date | None = None
    serial: str | None = None
    lot_id: int | None = None
    other: tuple[tuple[str, str], ...] = field(default=())
    # An HRI reading that takes an "(AI)" inside a value as data although the plain split is valid too:
    # credible only when it names a lot the catalog knows (see services/barcodes.py).
    guessed: bool = field(default=False, compare=False)

    def as_element_string(self) -> str:
        """Canonical HRI "(01)…(17)…(10)…(21)…" then other AIs; a label reading gives its label code."""
        if self.kind == "label" and self.lot_id is not None:
            return format_lot_code(self.lot_id)
        elements: list[tuple[str, str]] = []
        if self.gtin is not None:
            elements.append(("01", self.gtin))
        if self.expiry is not None:
            elements.append(("17", _yymmdd(self.expiry)))
        if self.lot_number is not None:
            elements.append(("10", self.lot_number))
        if self.serial is not None:
            elements.append(("21", self.serial))
        elements.extend(self.other)
        return "".join(f"({code}){value}" for code, value in elements)


def read_barcode(raw: str, *, today: date, hri_guesses: bool = False) -> list[Reading]:
    """Every valid reading of a scan, the likeliest first; raises BarcodeInvalid when there is none.

    `today` is the location's local date: it decides the century of two-digit years (the domain reads no clock).

    With `hri_guesses`, an HRI text whose "(AI)" markers all split validly also gets the readings that
    take a marker inside a value as data (lot "X(21)5"), after the others and marked `guessed`.
    """
    text = _EDGE_WHITESPACE.sub("", raw)
    if not text:
        raise BarcodeInvalid("Nothing was scanned.")
    if len(text) > MAX_INPUT_LENGTH:
        raise BarcodeInvalid(f"The scan is {len(text)} characters long; no barcode here is that long.")
    if not text.isascii():
        # Also keeps "٣"-style digits away from parse_lot_code and biip, whose \d would accept them.
        raise BarcodeInvalid(
            f"The scan {_show(text)} contains characters a barcode cannot carry "
            "(is the scanner set to the right keyboard layout?)."
        )

    gs1_only = False
    if text.startswith("]"):
        if _SYMBOLOGY_ID.match(text) is None:
            raise BarcodeInvalid(f"The scan {_show(text)} starts with an unknown symbology identifier.")
        symbology, text = text[1:3], text[3:]
        gs1_only = symbology in _GS1_SYMBOLOGIES
        if symbology == "E3" and text.isdigit() and len(text) in (15, 18):
            # EAN-13/UPC-A with a 2- or 5-digit add-on: the add-on (issue number, price) is not the GTIN.
            text = text[:13]
    body = text.lstrip("".join(SEPARATORS))
    if body != text:
        gs1_only = True  # FNC1 in first position announces GS1 data.
    text = body.rstrip("".join(SEPARATORS))
    if not text:
        raise BarcodeInvalid("The scan holds no data after its prefix.")

    if _DIGITAL_LINK.match(text):
        # A URI, whatever symbology carried it (QR "]Q1"/"]Q3", DataMatrix "]d1"): GS1 Digital Link or nothing.
        return [_read_digital_link(text, today)]
    if not gs1_only:
        if text[:3].upper() == LABEL_PREFIX:
            return [_read_label(text)]
        if text.isdigit() and len(text) in GTIN_LENGTHS:
            try:
                return [Reading(kind="gtin", gtin=normalize_gtin(text))]
            except GtinInvalid as exc:
                raise BarcodeInvalid(f"Barcode not readable: {exc.detail}") from None

    search = _Search(today)
    sequences = search.hri(text, guesses=hri_guesses) if text.startswith("(") else search.machine(text)
    readings = list(
        dict.fromkeys(
            _reading(elements, today, guessed=index >= search.guessed_from) for index, elements in enumerate(sequences)
        )
    )
    if not readings:
        raise BarcodeInvalid(search.explain(gs1_only=gs1_only))
    return readings


def format_element_string(
    *,
    gtin: str,
    expiry: date | None = None,
    lot_number: str | None = None,
    serial: str | None = None,
    fnc1: str = GS,
) -> str:
    """Machine form "01…17…10…<FNC1>21…", with `fnc1` after every variable-length field that is not last."""
    elements = _elements_to_format(gtin=gtin, expiry=expiry, lot_number=lot_number, serial=serial)
    parts: list[str] = []
    for index, (code, value) in enumerate(elements):
        parts.append(code + value)
        if index < len(elements) - 1 and _ai_info(code).separator_required:
            parts.append(fnc1)
    return "".join(parts)


def format_hri(
    *,
    gtin: str,
    expiry: date | None = None,
    lot_number: str | None = None,
    serial: str | None = None,
) -> str:
    """Human-readable form "(01)…(17)…(10)…(21)…" as printed under a barcode."""
    elements = _elements_to_format(gtin=gtin, expiry=expiry, lot_number=lot_number, serial=serial)
    return "".join(f"({code}){value}" for code, value in elements)


# --- formatting helpers ---------------------------------------------------------------------------


def _elements_to_format(
    *, gtin: str, expiry: date | None, lot_number: str | None, serial: str | None
) -> list[tuple[str, str]]:
    """Validated (AI, value) pairs in the canonical order 01, 17, 10, 21."""
    elements = [("01", normalize_gtin(gtin))]
    if expiry is not None:
        elements.append(("17", _yymmdd(expiry)))
    for code, name, value in (("10", "lot_number", lot_number), ("21", "serial", serial)):
        if value is None:
            continue
        bad = sorted(set(value) - GS1_CHARSET)
        if not 1 <= len(value) <= 20 or bad:
            reason = f"characters {''.join(bad)!r} are not allowed" if bad else "it must be 1 to 20 characters"
            raise Unprocessable(f"{name} {_show(value)} cannot be put in a GS1 barcode: {reason}.", field=name)
        elements.append((code, value))
    return elements


def _yymmdd(day: date) -> str:
    return f"{day.year % 100:02d}{day.month:02d}{day.day:02d}"


# --- reading helpers ------------------------------------------------------------------------------


def _read_label(text: str) -> Reading:
    """This service's own "MIL…" label code, or BarcodeInvalid with the reason."""
    lot_id = parse_lot_code(text)
    if lot_id is not None:
        return Reading(kind="label", lot_id=lot_id)
    if re.fullmatch(r"MIL[0-9]{2,12}", text, re.IGNORECASE):
        raise BarcodeInvalid(f"Label code {_show(text)} has a wrong check digit; scan it again.")
    raise BarcodeInvalid(f"Label code {_show(text)} is malformed; expected MIL followed by digits.")


def _read_digital_link(uri: str, today: date) -> Reading:
    """The reading of a GS1 Digital Link URI (biip parses it), or BarcodeInvalid with the reason."""
    parts = urlsplit(uri)
    if not parts.netloc:
        raise BarcodeInvalid(f"The scan {_show(uri)} is a web address without a host.")
    segments = parts.path.split("/")
    if len(segments) > 2 and segments[-1] == "":
        segments.pop()  # "/01/<gtin>/": a trailing slash ends the path, it is not an empty value
    start = _dl_primary_key_index(segments)
    if start is None:
        raise BarcodeInvalid(
            f"The web address {_show(uri)} is not a GS1 Digital Link: its path holds no product key such as /01/<GTIN>."
        )
    path = [
        _DL_SHORT_NAMES.get(segment, segment) if index % 2 == 0 else segment
        for index, segment in enumerate(segments[start:])
    ]
    path_ais = path[0::2]
    query: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        ai = _DL_SHORT_NAMES.get(key, key)
        if _known_ai(ai):
            query.append((ai, value))
    seen = path_ais + [ai for ai, _ in query]
    duplicated = sorted({ai for ai in seen if seen.count(ai) > 1})
    if duplicated:
        raise BarcodeInvalid(f"Barcode not readable: ({duplicated[0]}) appears twice in the Digital Link.")
    # A key qualifier in the query beside a bare primary key ("/01/<gtin>?10=<lot>") is the form GS1's syntax
    # engine refuses: a resolver reads it as the product, not the lot. Once the path holds a qualifier, the
    # rest may come as attributes ("/01/<gtin>/10/<lot>?21=<serial>", the form our contract names).
    misplaced = [ai for ai, _ in query if ai in _DL_KEYS[path_ais[0]]]
    if misplaced and len(path_ais) == 1:
        raise BarcodeInvalid(
            f"Barcode not readable: ({misplaced[0]}) belongs in the Digital Link's path, not in its query."
        )
    decoded = list(zip(path_ais, [unquote(value) for value in path[1::2]], strict=True)) + query
    for code, value in decoded:
        if code == "01" and len(value) in GTIN_LENGTHS:
            value = value.zfill(14)
        problem = _check(code, value, today)
        if problem is not None:
            raise BarcodeInvalid(f"Barcode not readable: {problem[1]}.")
    canonical = "https://id.gs1.org/" + "/".join(path)
    if query:
        canonical += "?" + "&".join(f"{ai}={value}" for ai, value in _raw_query_pairs(parts.query))
    try:
        parsed = GS1DigitalLinkURI.parse(canonical, config=_BIIP_CONFIG)
        elements = tuple((element.ai.ai, element.value) for element in parsed.element_strings)
    except Exception as error:  # biip is third-party: any failure on odd data is "not readable", never a 500.
        reason = str(error).rstrip(".") if isinstance(error, ParseError) else "it is malformed"
        raise BarcodeInvalid(f"Barcode not readable as a GS1 Digital Link: {reason}.") from None
    return _reading(elements, today)


def _dl_primary_key_index(segments: list[str]) -> int | None:
    """Where the key path starts: the first primary key followed by key/value pairs of its qualifiers to the end.

    The path prefix before it is free (it may even contain "01"), so the key is the one the rest fits.
    """
    for index in range(1, len(segments)):
        key = _DL_SHORT_NAMES.get(segments[index], segments[index])
        if key not in _DL_KEYS or (len(segments) - index) % 2:
            continue
        qualifiers = _DL_KEYS[key]
        rest = [_DL_SHORT_NAMES.get(s, s) for s in segments[index + 2 :: 2]]
        if all(ai in qualifiers for ai in rest):
            return index
    return None


def _raw_query_pairs(query: str) -> list[tuple[str, str]]:
    """The query's AI pairs still percent-encoded, short names made numeric, other parameters dropped."""
    pairs = []
    for item in query.split("&"):
        key, _, value = item.partition("=")
        ai = _DL_SHORT_NAMES.get(key, key)
        if _known_ai(ai):
            pairs.append((ai, value))
    return pairs


def _reading(elements: _Elements, today: date, *, guessed: bool = False) -> Reading:
    """The reading of one fully valid split into element strings."""
    gtin = lot_number = serial = None
    expiry = None
    other: list[tuple[str, str]] = []
    for code, value in elements:
        if code == "01":
            gtin = value
        elif code == "10":
            lot_number = value
        elif code == "17":
            expiry = _gs1_date(value, today)
        elif code == "21":
            serial = value
        else:
            other.append((code, value))
    return Reading(
        kind="gs1",
        gtin=gtin,
        lot_number=lot_number,
        expiry=expiry,
        serial=serial,
        other=tuple(other),
        guessed=guessed,
    )


def _century_year(two_digits: int, today: date) -> int:
    """GS1 General Specifications 7.12: the year lies between 49 years back and 50 years ahead of today."""
    century = today.year - today.year % 100
    difference = two_digits - today.year % 100
    if 51 <= difference <= 99:
        century -= 100
    elif -99 <= difference <= -50:
        century += 100
    return century + two_digits


def _gs1_date(yymmdd: str, today: date) -> date | None:
    """The date of a YYMMDD field (DD=00 is the month's last day), or None when it is impossible."""
    if len(yymmdd) != 6 or not yymmdd.isascii() or not yymmdd.isdigit():
        return None
    year = _century_year(int(yymmdd[:2]), today)
    month, day = int(yymmdd[2:4]), int(yymmdd[4:])
    if not MINYEAR <= year <= MAXYEAR or not 1 <= month <= 12:
        return None
    last = calendar.monthrange(year, month)[1]
    if day == 0:
        day = last
    if day > last:
        return None
    return date(year, month, day)


@dataclass(frozen=True)
class _Ai:
    code: str
    pattern: re.Pattern[str]
    separator_required: bool
    max_length: int
    format: str


@lru_cache(maxsize=1024)
def _ai_info(code: str) -> _Ai:
    """biip's definition of an AI known to exist."""
    ai = GS1ApplicationIdentifier.extract(code)
    body = ai.format.split("+", 1)[1] if "+" in ai.format else ""
    # Upper bound of the data length from the format ("N2+X..20" -> 20, "N4+N6[+N6]" -> 12); the +1
    # covers the optional trailing "-" of AIs 4330-4333. biip's patterns for the percent-encoded
    # address AIs (4300-4320, 7253-7259) would take longer escaped values, but trying those
    # patterns on long "%xx" runs backtracks exponentially; those AIs never appear on ampoules.
    length = sum(int(match.group(1)) for match in re.finditer(r"[NXYZ](?:\.\.)?([0-9]+)", body)) + 1
    return _Ai(ai.ai, re.compile(ai.pattern), ai.separator_required, length, ai.format)


@lru_cache(maxsize=4096)
def _ai_at(window: str) -> _Ai | None:
    """The AI the text starting with `window` (up to 4 chars) begins with; GS1 AIs are prefix-free."""
    try:
        ai = GS1ApplicationIdentifier.extract(window)
    except ParseError:
        return None
    return _ai_info(ai.ai)


def _known_ai(code: str) -> bool:
    ai = _ai_at(code)
    return ai is not None and ai.code == code


@lru_cache(maxsize=8192)
def _check(code: str, value: str, today: date) -> tuple[int, str] | None:
    """None when (code, value) is a valid element string, else (severity, human reason).

    Severity 2 means the value has the right shape but wrong content (check digit, date), which
    explains a failure better than severity 1 (wrong length or characters).
    """
    ai = _ai_info(code)
    if not value:
        return 1, f"({code}) has no data"
    if len(value) > ai.max_length:
        return 1, f"({code}) {_show(value)} is longer than the field format {ai.format} allows"
    if code in _DATE_AIS and len(value) >= 6 and value[:6].isdigit() and _gs1_date(value[:6], today) is None:
        return 2, f"({code}) {value[:6]} is not a valid date"
    if ai.pattern.fullmatch(code + value) is None:
        return 1, f"({code}) {_show(value)} does not fit the field format {ai.format}"
    if code in _DATE_AIS and not _valid_date_tail(code, value[6:], today):
        return 2, f"({code}) {value} is not a valid date and time"
    if code in _CHECK_PAIR_AIS and _check_pair(value[:-2]) != value[-2:]:
        return 2, f"({code}) {_show(value)} has wrong check characters (expected {_check_pair(value[:-2])!r})"
    if code in _GTIN_AIS:
        try:
            normalize_gtin(value)
        except GtinInvalid as exc:
            return 2, f"({code}) {exc.detail.rstrip('.')}"
    try:
        element = GS1ElementString.parse(code + value, config=_BIIP_CONFIG)
    except Exception:  # biip is third-party: any failure on odd data means "not valid", never a 500.
        return 1, f"({code}) {_show(value)} is not a valid value"
    if element.sscc_error is not None or element.gln_error is not None:
        return 2, f"({code}) {value} has a wrong check digit"
    return None


def _check_pair(data: str) -> str:
    """The two check characters of a GMN-style value: weighted sum mod 1021, in base 32 (GS1 GenSpecs 7.9.5)."""
    if not 1 <= len(data) <= len(_CHECK_PAIR_WEIGHTS) or any(c not in _CSET82 for c in data):
        return ""
    total = sum(_CSET82.index(c) * _CHECK_PAIR_WEIGHTS[len(data) - i - 1] for i, c in enumerate(data)) % 1021
    return _CSET32[total >> 5] + _CSET32[total & 31]


def _valid_date_tail(code: str, tail: str, today: date) -> bool:
    """The part after YYMMDD: a second date for AI 7007, else hh[mm[ss]] (9999 = "no time", as in biip)."""
    if not tail:
        return True
    if code == "7007":
        return _gs1_date(tail, today) is not None
    hour, minute, second = int(tail[0:2]), int(tail[2:4] or 0), int(tail[4:6] or 0)
    if hour == 99 and minute == 99:
        return True
    return hour <= 23 and minute <= 59 and second <= 59


_TOO_MANY = "Barcode not readable: too many possible readings; scan it again."


class _TooMany(Exception):
    """The search went past MAX_READINGS or its step budget."""


@dataclass
class _Failure:
    position: int
    severity: int
    reason: str


class _Search:
    """Enumerates the splits of a GS1 text into valid element strings, remembering why splits failed."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.steps = 0
        self.failure: _Failure | None = None
        self.human_readable = False
        # Readings from this index on are guesses (see Reading.guessed).
        self.guessed_from = MAX_READINGS + 1

    def machine(self, text: str) -> list[_Elements]:
        """Splits of an element string in machine form (FNC1 as GS or a substitute), likeliest first.

        Splits that guess fewer lost separators come first, the greedy one (every variable field runs
        to the next separator or the end) leading. Levels with more guesses are added while the total
        stays within MAX_READINGS: the readings that need the fewest lost separators are the plausible
        ones, and enumerating every split of a long numeric lot and serial would explode.
        """
        n = len(text)
        # Index of the first separator at or after each position: a value never spans a separator.
        segment_end = [n] * (n + 1)
        for index in range(n - 1, -1, -1):
            segment_end[index] = index if text[index] in SEPARATORS else segment_end[index + 1]
        accepted: list[_Elements] = []
        for limit in range(_MAX_GUESSED_SEPARATORS + 1):
            try:
                found, pruned = self._machine_split(text, segment_end, limit)
            except _TooMany:
                if limit == 0 or len(accepted) < 2:
                    # Returning one reading would claim a certainty the data does not give.
                    raise BarcodeInvalid(_TOO_MANY) from None
                break
            accepted = found
            if not pruned:
                break
        return accepted

    def _machine_split(self, text: str, segment_end: list[int], limit: int) -> tuple[list[_Elements], bool]:
        """The splits guessing at most `limit` lost separators, and whether some split needed more."""
        n = len(text)
        # Separators inside the text prove the scanner transmits FNC1, so a variable-length field ends at
        # a separator or the end of the data (GS1 rule). Without that proof they may have been lost.
        separators_kept = segment_end[0] < n
        self.steps = 0
        pruned = False
        results: list[_Elements] = []
        costs: dict[_Elements, int] = {}
        stack: list[tuple[int, _Elements, int]] = [(0, (), 0)]
        while stack:
            position, elements, guessed = stack.pop()
            if position == n:
                self._collect(results, elements)
                costs[elements] = guessed
                continue
            self._tick()
            ai = _ai_at(text[position : position + 4])
            if ai is None:
                reason = f"{_show(text[position:])} does not start with a GS1 application identifier"
                self._fail(position, 1, reason)
                continue
            if any(code == ai.code for code, _ in elements):
                self._fail(position, 2, f"({ai.code}) appears twice")
                continue
            start = position + len(ai.code)
            end = segment_end[start]
            ends = list(range(min(end, start + ai.max_length), start, -1))  # longest first: "rest is the lot"
            if separators_kept and ai.separator_required and _check(ai.code, text[start:end], self.today) is None:
                ends = [end]
            found: list[tuple[int, _Elements, int]] = []
            best: tuple[int, str] | None = None
            too_costly = False
            for stop in ends:
                value = text[start:stop]
                problem = _check(ai.code, value, self.today)
                if problem is not None:
                    if best is None or problem[0] > best[0]:
                        best = problem
                    continue
                # A field that needs FNC1 after it but ends where no separator is: one lost separator.
                cost = guessed + (1 if ai.separator_required and stop < end else 0)
                if cost > limit:
                    pruned = too_costly = True
                    continue
                after = stop
                while after < n and text[after] in SEPARATORS:
                    after += 1
                found.append((after, (*elements, (ai.code, value)), cost))
            if not found and not too_costly:
                self._fail(position, *(best or (1, f"({ai.code}) has no data")))
            stack.extend(reversed(found))
        # Fewest guessed separators first; within a level, the depth-first order keeps longer fields first.
        return sorted(results, key=costs.__getitem__), pruned

    def hri(self, text: str, *, guesses: bool = False) -> list[_Elements]:
        """Splits of a "(AI)value(AI)value" text; spaces between elements are ignored."""
        self.human_readable = True
        # Only whitespace before "(" goes: inside a value it stays, and makes the value invalid.
        compact = _SPACE_BEFORE_PARENTHESIS.sub("", text)
        markers: list[tuple[int, int, str]] = []
        for match in _HRI_MARKER.finditer(compact):
            if _known_ai(match.group(1)):
                markers.append((match.start(), match.end(), match.group(1)))
            else:
                self._fail(match.start(), 1, f"({match.group(1)}) is not a GS1 application identifier")
        if not markers or markers[0][0] != 0:
            self._fail(0, 1, f"{_show(compact)} does not start with a known (AI)")
            return []
        # Every "(AI)" is a boundary: that is how people and decoders write HRI, and the only reading
        # when it is valid. Lots may contain parentheses, though, so when that fails a "(NN)" may be
        # part of a value, nearest boundary first.
        try:
            strict = self._hri_split(compact, markers, all_boundaries=True)
        except _TooMany:
            raise BarcodeInvalid(_TOO_MANY) from None
        if strict and not guesses:
            return strict
        explanation = self.failure
        try:
            loose = self._hri_split(compact, markers, all_boundaries=False)
        except _TooMany:
            if not strict:
                raise BarcodeInvalid(_TOO_MANY) from None
            loose = []
        self.failure = explanation  # Why the plain reading failed says more than the contortions.
        if not strict:
            return loose
        # A printed "(10)X(21)5" may be lot "X(21)5" (parentheses are GS1 characters): offer those
        # readings after the plain ones, marked as guesses that only a known lot can confirm.
        self.guessed_from = len(strict)
        return (strict + [elements for elements in loose if elements not in strict])[:MAX_READINGS]

    def _hri_split(self, compact: str, markers: list[tuple[int, int, str]], *, all_boundaries: bool) -> list[_Elements]:
        n = len(compact)
        end = len(markers)  # Marker index standing for "end of text".
        results: list[_Elements] = []
        stack: list[tuple[int, _Elements]] = [(0, ())]
        while stack:
            index, elements = stack.pop()
            if index == end:
                self._collect(results, elements)
                continue
            self._tick()
            position, start, code = markers[index]
            if any(seen == code for seen, _ in elements):
                self._fail(position, 2, f"({code}) appears twice")
                continue
            following = [index + 1] if all_boundaries else list(range(index + 1, end + 1))
            found: list[tuple[int, _Elements]] = []
            best: tuple[int, str] | None = None
            for next_index in following:
                value = compact[start : markers[next_index][0] if next_index < end else n]
                problem = _check(code, value, self.today)
                if problem is not None:
                    if best is None or problem[0] > best[0]:
                        best = problem
                    continue
                found.append((next_index, (*elements, (code, value))))
            if not found:
                self._fail(position, *(best or (1, f"({code}) has no data")))
            stack.extend(reversed(found))
        return results

    def explain(self, *, gs1_only: bool) -> str:
        """The human detail for BarcodeInvalid: the failure furthest into the text."""
        failure = self.failure
        if failure is None:
            return "Barcode not readable."
        if failure.position == 0 and failure.severity == 1 and not gs1_only and not self.human_readable:
            # Nothing at all fits: saying which GS1 field "12345" fails to be would only confuse.
            return "Barcode not readable: not a GTIN, a GS1 barcode or a label code of this service."
        return f"Barcode not readable: {failure.reason}."

    def _collect(self, results: list[_Elements], elements: _Elements) -> None:
        results.append(elements)
        if len(results) > MAX_READINGS:
            raise _TooMany

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > _SEARCH_BUDGET:
            raise _TooMany

    def _fail(self, position: int, severity: int, reason: str) -> None:
        current = self.failure
        if current is None or (position, severity) > (current.position, current.severity):
            self.failure = _Failure(position, severity, reason)


def _show(text: str) -> str:
    """A short, safe rendering of scanned text for an error detail."""
    return repr(text if len(text) <= 24 else text[:24] + "…")
