"""This service's own lot code, printed as Code 128 on labels of products without a GTIN.

Format: ``MIL`` + the lot id in decimal + one check digit (GS1 mod-10 over the id), e.g. ``MIL1234`` + ``5``.
Letters make it impossible to confuse with a GTIN; the check digit catches a misread digit.
"""

from __future__ import annotations

import re

PREFIX = "MIL"
_CODE = re.compile(r"^MIL([0-9]{1,12})$", re.IGNORECASE)


def mod10_check_digit(digits: str) -> int:
    """GS1 mod-10 check digit of a digit string (weights 3,1,3,… from the right)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        total += int(char) * (3 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10


def format_lot_code(lot_id: int) -> str:
    """The label code for a lot id."""
    if lot_id <= 0:
        raise ValueError("lot ids are positive")
    body = str(lot_id)
    return f"{PREFIX}{body}{mod10_check_digit(body)}"


def parse_lot_code(text: str) -> int | None:
    """The lot id of a label code, or None when the text is not a valid label code."""
    match = _CODE.match(text.strip())
    if match is None:
        return None
    digits = match.group(1)
    body, check = digits[:-1], digits[-1]
    if not body or mod10_check_digit(body) != int(check):
        return None
    lot_id = int(body)
    return lot_id if lot_id > 0 else None
