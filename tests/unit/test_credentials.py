"""Password and e-mail rules (NIST SP 800-63B): what is refused, with which code, and what is normalised."""

from __future__ import annotations

import pytest

from inventory.domain import credentials
from inventory.domain.errors import Unprocessable

EMAIL = "claire.martin@clinic.test"


def fullwidth(text: str) -> str:
    """The letters of text as their fullwidth forms, which NFKC turns back."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in text)


def refusal(password: str, email: str = EMAIL) -> str:
    """The code a new password is refused with."""
    with pytest.raises(Unprocessable) as raised:
        credentials.check_new_password(password, email=email)
    assert raised.value.status == 422
    return raised.value.code


@pytest.mark.parametrize(
    ("password", "code"),
    [
        (" " * 10, "password_too_simple"),
        ("1234567890", "password_too_simple"),
        ("0987654321", "password_too_simple"),
        ("aaaaaaaaaa", "password_too_simple"),
        ("abababababab", "password_too_simple"),
        ("abcabcabcabc", "password_too_simple"),
        ("abcdefghijkl", "password_too_simple"),
        ("azertyuiop", "password_too_simple"),
        ("qwertyuiop", "password_too_simple"),
        ("password1234", "password_too_common"),
        ("Password2026!", "password_too_common"),
        ("motdepasse", "password_too_common"),
        ("trustno1trustno1", "password_too_simple"),
        ("iloveyou12345", "password_too_common"),
        ("short", "password_too_short"),
        ("x" * 9, "password_too_short"),
        ("a good phrase\x00but a NUL", "password_invalid"),
        ("tab\tinside the phrase", "password_invalid"),
        ("Z" + "kq3-" * 40, "password_too_long"),
        ("claire.martin-2026", "password_contains_context"),
        ("ClaireMartin likes tea", "password_contains_context"),
        ("my meso-inventory key", "password_contains_context"),
        ("MesoInventory rocks!", "password_contains_context"),
    ],
)
def test_weak_passwords_are_refused_with_a_code_naming_the_rule(password: str, code: str) -> None:
    assert refusal(password) == code


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "ampoule fridge seventeen",
        "Zebra-Quartz-9f3a",
        "le café du matin est chaud",
        "x" * 3 + "yz" + "12quartz",
        "Z" + "kq3-" * 15 + "end",  # 64 characters: long passphrases are welcome
    ],
)
def test_good_passwords_pass_without_composition_rules(password: str) -> None:
    assert credentials.check_new_password(password, email=EMAIL) == credentials.normalise_password(password)


def test_passwords_are_nfkc_normalised() -> None:
    wide = fullwidth("correct") + " horse battery"
    assert credentials.check_new_password(wide, email=EMAIL) == "correct horse battery"
    decomposed = "cafe\u0301 au lait chaud"
    assert credentials.normalise_password(decomposed) == "café au lait chaud"


def test_length_is_counted_after_normalisation() -> None:
    # "ﬃ" is one code point that NFKC turns into three letters.
    assert len(credentials.normalise_password("ﬃ" * 4)) == 12


@pytest.mark.parametrize(
    "email",
    [
        "admin\u200b@clinic.test",  # zero-width space
        "ad\u2060min@clinic.test",  # word joiner
        "admin\u00ad@clinic.test",  # soft hyphen
        "\ufeffadmin@clinic.test",  # byte-order mark
        "admin@clinic\u200d.test",  # zero-width joiner in the domain
        "ad\x07min@clinic.test",
        "ad min@clinic.test",
        "admin\u00a0@clinic.test",  # no-break space
        " admin@clinic.test",
        "admin@clinic.test\n",
        "no-at-sign",
        "@clinic.test",
        "admin@",
        "admin@nodot",
        "admin@clinic..test",
    ],
)
def test_malformed_or_invisible_emails_are_refused(email: str) -> None:
    with pytest.raises(Unprocessable) as raised:
        credentials.check_new_email(email)
    assert raised.value.code == "validation_error"
    assert raised.value.extra["field"] == "email"


def test_emails_are_stored_nfkc_and_case_folded() -> None:
    assert credentials.check_new_email("Claire.MARTIN@Clinic.Test") == "claire.martin@clinic.test"
    assert credentials.check_new_email(fullwidth("staff") + "@clinic.test") == "staff@clinic.test"
    assert credentials.normalise_email("STRASSE@clinic.test") == credentials.normalise_email("straße@clinic.test")


def test_the_blocklist_is_the_packaged_list_of_common_passwords() -> None:
    blocklist = credentials.common_passwords()
    assert len(blocklist) >= 25_000
    assert {"password", "123456", "qwerty", "azerty", "soleil"} <= blocklist
