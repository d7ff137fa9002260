"""Rules for e-mail addresses and passwords (NIST SP 800-63B): length, blocklist, context, no composition rules.

E-mail addresses are compared and stored in one normal form: NFKC, then case-folded. A new address with
surrounding white space is refused rather than silently trimmed (what an admin typed is what is stored,
or nothing); invisible (Unicode Cf, e.g. U+200B) and control characters are refused, so two accounts can
never look identical. Sign-in is lenient: it trims and normalises what it is given the same way.

Passwords are NFKC-normalised before hashing and verifying (the same password typed on another keyboard
or composed differently still matches), must be 10 to 128 characters, contain no control characters, and
are refused when common (the 30,000 most common passwords of the zxcvbn package, also with leading and
trailing digits and punctuation removed), repetitive or sequential, or built on the e-mail's local part or
the product's name.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise

from inventory.domain.errors import Unprocessable

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
MAX_EMAIL_LENGTH = 254
PRODUCT_WORDS = ("mesoinventory", "meso-inventory", "meso inventory")

# Rows of keyboards used in French and English clinics, the alphabet and digits: a run along one is simple.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiopasdfghjklzxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertzuiopasdfghjklyxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "1q2w3e4r5t6y7u8i9o0p",
    "1a2z3e4r5t6y7u8i9o0p",
)
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_REPEATED = re.compile(r"(.+?)\1+", re.DOTALL)
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}


class PasswordRefused(Unprocessable):
    """A new password breaks one of the rules; `code` names which."""

    title = "Password refused"


def _refuse(code: str, detail: str) -> PasswordRefused:
    return PasswordRefused(detail, code=code)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The blocklist: zxcvbn's list of the 30,000 most common passwords (lower case)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


def normalise_password(password: str) -> str:
    """The form a password is hashed and verified in (NFKC)."""
    return unicodedata.normalize("NFKC", password)


def _is_sequence(text: str) -> bool:
    return any(text in row or text in row[::-1] for row in _SEQUENCES)


def _steps_evenly(text: str) -> bool:
    steps = {ord(b) - ord(a) for a, b in pairwise(text)}
    return len(steps) == 1 and abs(next(iter(steps))) <= 1


def check_new_password(password: str, *, email: str) -> str:
    """The normalised password, or PasswordRefused with a code saying which rule it breaks."""
    normal = normalise_password(password)
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in normal):
        raise _refuse("password_invalid", "The password must not contain control characters.")
    if len(normal) < MIN_PASSWORD_LENGTH:
        raise _refuse("password_too_short", f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(normal) > MAX_PASSWORD_LENGTH:
        raise _refuse("password_too_long", f"The password may have at most {MAX_PASSWORD_LENGTH} characters.")
    folded = normal.casefold()
    squeezed = "".join(folded.split())
    if _REPEATED.fullmatch(squeezed) or len(set(squeezed)) <= 2 or _is_sequence(squeezed) or _steps_evenly(squeezed):
        raise _refuse("password_too_simple", "The password is a repetition or a sequence; choose a longer phrase.")
    blocklist = common_passwords()
    core = _EDGES.sub("", squeezed)
    if folded in blocklist or squeezed in blocklist or core in blocklist:
        raise _refuse("password_too_common", "The password is among the most common ones; choose another.")
    local = normalise_email(email).partition("@")[0]
    letters = re.sub(r"[\W_]+", "", squeezed)
    context = [re.sub(r"[\W_]+", "", word) for word in (local, *PRODUCT_WORDS)]
    if any(len(word) >= 3 and word in letters for word in context):
        raise _refuse(
            "password_contains_context", "The password must not contain the e-mail address or the product's name."
        )
    return normal


def normalise_email(email: str) -> str:
    """The form an address is stored, compared and looked up in: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", email).casefold()


def check_new_email(email: str) -> str:
    """The normalised address, or Unprocessable (validation_error) when it is malformed or hides characters."""
    if email != email.strip():
        raise Unprocessable(
            "The e-mail address has white space around it; send it without.", code="validation_error", field="email"
        )
    normal = normalise_email(email)
    if any(unicodedata.category(ch) in _INVISIBLE or ch.isspace() for ch in normal):
        raise Unprocessable(
            "The e-mail address contains invisible, control or space characters.",
            code="validation_error",
            field="email",
        )
    local, at, domain = normal.rpartition("@")
    labels = domain.split(".")
    if not at or not local or len(labels) < 2 or not all(labels) or len(normal) > MAX_EMAIL_LENGTH:
        raise Unprocessable("A valid e-mail address is required.", code="validation_error", field="email")
    return normal
