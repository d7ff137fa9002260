"""Whether an allergy-override reason is a reason a person wrote, not a scanner burst that landed in the box."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from inventory.domain.errors import InventoryError
from inventory.domain.gs1 import read_barcode

MIN_REASON_CHARACTERS = 5
"""Letters or digits a reason needs: "ok" or "..." explains nothing to whoever reviews the override."""

# What a browser or scanner may leave at the ends of a typed field; every other control character is refused
# (str.strip() would also eat ASCII 28-31, and a leading GS is exactly what a scanner burst starts with).
_EDGE_CHARACTERS = " \t\r\n"
# ISO/IEC 15424 symbology identifier, as scanners prefix their data: "]C1", "]d2", "]Q3", "]e0".
_SYMBOLOGY_ID = re.compile(r"\][A-Za-z][0-9]")
# Human-readable GS1 form: "(01)…", "(10)…".
_HRI_START = re.compile(r"\(\d{2,4}\)")
# One token of digits and capitals: a GTIN, lot, serial or element string whose separators were lost.
_CODE_TOKEN = re.compile(r"[0-9A-Z]{8,}")
# One token without lower case, with digits, made of the characters GS1 codes and URIs use.
_CODE_LIKE_TOKEN = re.compile(r"(?=[^a-z]*[0-9])[0-9A-Z!\"%&'()*+,\-./:;<=>?_|^~]{8,}")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S*")


def clean_override_reason(reason: str) -> str:
    """The reason without the spaces and line ends a form or a scanner's Enter leaves at its ends."""
    return reason.strip(_EDGE_CHARACTERS)


def override_reason_refusal(reason: str, *, today: date) -> str | None:
    """Why this override reason cannot be recorded (a human sentence), or None when it is acceptable."""
    text = clean_override_reason(reason)
    if any(unicodedata.category(character) == "Cc" for character in text):
        return (
            "The override reason contains control characters (a scanner's separators?): type the reason as one line"
            " of text."
        )
    text = text.strip()
    if _SYMBOLOGY_ID.match(text):
        return "The override reason starts like a scanned barcode (symbology identifier); type the reason instead."
    if _HRI_START.match(text) or _reads_as_barcode(text, today):
        return "The override reason reads as a barcode; type why the allergy is overridden instead."
    if _URI.fullmatch(text):
        return "The override reason is a web address; type why the allergy is overridden instead."
    if _CODE_TOKEN.fullmatch(text) or _CODE_LIKE_TOKEN.fullmatch(text):
        return "The override reason looks like a code, not a sentence; type why the allergy is overridden."
    if sum(character.isalnum() for character in text) < MIN_REASON_CHARACTERS:
        return f"The override reason needs at least {MIN_REASON_CHARACTERS} letters or digits saying why."
    return None


def _reads_as_barcode(text: str, today: date) -> bool:
    """Whether the scan parser reads the text as any barcode it understands (GS1, Digital Link, GTIN, label)."""
    try:
        read_barcode(text, today=today)
    except InventoryError:
        return False
    return True
