"""Lot numbers: kept as printed (trimmed), compared ignoring case, and matched loosely for look-ups."""

from __future__ import annotations

import re

from inventory.domain.errors import Unprocessable

MAX_LOT_LENGTH = 64
_SEPARATORS = re.compile(r"[^0-9A-Z]")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


def clean_lot_number(raw: str) -> str:
    """The lot number as printed, trimmed; raises Unprocessable when empty, too long or unprintable."""
    lot = raw.strip()
    if not lot:
        raise Unprocessable("The lot number is empty.", code="lot_number_invalid")
    if len(lot) > MAX_LOT_LENGTH:
        raise Unprocessable(f"The lot number is longer than {MAX_LOT_LENGTH} characters.", code="lot_number_invalid")
    if not lot.isprintable():
        raise Unprocessable("The lot number contains control characters.", code="lot_number_invalid")
    return lot


def lot_key(lot_number: str) -> str:
    """The comparison key of a lot number: trimmed and upper-cased."""
    return lot_number.strip().upper()


def similar_key(lot_number: str) -> str:
    """A loose key: separators removed and leading zeros of each digit run dropped ("A-0012" ~ "a12")."""
    bare = _SEPARATORS.sub("", lot_number.strip().upper())
    return _LEADING_ZEROS.sub("", bare)
