"""GTIN validation and normalisation to the 14-digit form the service stores."""

from __future__ import annotations

from inventory.domain.errors import GtinInvalid
from inventory.domain.labelcode import mod10_check_digit

GTIN_LENGTHS = (8, 12, 13, 14)
_ASCII_DIGITS = frozenset("0123456789")


def normalize_gtin(value: str) -> str:
    """The GTIN as 14 digits (zero-padded) after checking length and check digit; raises GtinInvalid."""
    # Whitespace anywhere is dropped: staff copy the HRI printed under an EAN-13, which is grouped
    # with spaces ("3 760001 234567"). Nothing else is forgiven.
    digits = "".join(value.split())
    if not digits:
        raise GtinInvalid("A GTIN is required.")
    # str.isdigit() accepts Arabic-Indic or full-width digits; a GTIN is ASCII digits only.
    if not set(digits) <= _ASCII_DIGITS:
        raise GtinInvalid(f"A GTIN contains digits only, got {_show(digits)}.")
    if len(digits) not in GTIN_LENGTHS:
        raise GtinInvalid(f"A GTIN has 8, 12, 13 or 14 digits, got {len(digits)}.")
    expected = mod10_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise GtinInvalid(f"GTIN {digits} has a wrong check digit (expected {expected}).")
    padded = digits.zfill(14)
    # All zeros passes the mod-10 check but is the classic "no GTIN" placeholder, never a product.
    if padded == "0" * 14:
        raise GtinInvalid("GTIN 0…0 is a placeholder, not a product's GTIN.")
    return padded


def is_valid_gtin(value: str) -> bool:
    """Whether normalize_gtin would accept the value."""
    try:
        normalize_gtin(value)
    except GtinInvalid:
        return False
    return True


def _show(text: str) -> str:
    """A short, safe rendering of user input for an error detail."""
    return repr(text if len(text) <= 24 else text[:24] + "…")
