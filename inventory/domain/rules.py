"""Usability rules applied at the chair and at receipt; pure functions of dates, statuses and names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, timedelta

EXPIRES_SOON_DAYS = 30
REPEAT_SCAN_WINDOW = timedelta(seconds=10)
"""The same barcode on the same session within this time is taken for a double scan, not a second ampoule."""


def is_expired(expiry: date, today: date) -> bool:
    """A lot may be used up to and including its expiry date."""
    return expiry < today


def expires_soon(expiry: date, today: date, *, within_days: int = EXPIRES_SOON_DAYS) -> bool:
    """True when the lot is still usable but expires within the given number of days."""
    return not is_expired(expiry, today) and (expiry - today).days <= within_days


def repeat_seconds_ago(previous_use: datetime | None, now: datetime) -> int | None:
    """Whole seconds since the same barcode was recorded on the session when that makes this scan a repeat.

    None when there is no earlier use or it lies outside the window. A use stamped slightly in the future
    (another instance's clock ahead of ours) is as recent as one just now.
    """
    if previous_use is None:
        return None
    age = now - previous_use
    if abs(age) >= REPEAT_SCAN_WINDOW:
        return None
    return max(0, int(age.total_seconds()))


def normalise_name(text: str) -> str:
    """Lower-case, accents removed, runs of non-letters collapsed to one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.split(r"[^0-9a-z]+", bare)).strip()


def allergy_conflicts(allergies: Iterable[str], ingredients: Iterable[str]) -> list[str]:
    """The product ingredients that match one of the client's allergies.

    Matching ignores case and accents; an allergy also matches an ingredient that contains it as whole
    words ("lidocaine" matches "Lidocaine hydrochloride").
    """
    wanted = [normalise_name(a) for a in allergies if normalise_name(a)]
    matches: list[str] = []
    for ingredient in ingredients:
        padded = f" {normalise_name(ingredient)} "
        if any(f" {allergy} " in padded for allergy in wanted):
            matches.append(ingredient)
    return matches
