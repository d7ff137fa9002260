"""The pages' toolkit without a server: where a sign-in may send the browser, and the signed one-time messages."""

from __future__ import annotations

import pytest

from inventory.config import Settings
from inventory.web import pages


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/ui/scan?session=4", "/ui/scan?session=4"),
        ("/ui/stock#flagged", "/ui/stock#flagged"),
        (None, "/ui/"),
        ("", "/ui/"),
        ("//evil.example/ui", "/ui/"),
        ("https://evil.example/ui/scan", "/ui/"),
        ("/api/users", "/ui/"),
        ("javascript:alert(1)", "/ui/"),
    ],
)
def test_a_sign_in_only_goes_back_to_a_page_of_ours(target: str | None, expected: str) -> None:
    assert pages.safe_next(target) == expected


def _settings(secret: str) -> Settings:
    return Settings(database_url="postgresql://x@localhost/x", secret_key=secret)


def test_a_flash_message_is_signed_and_a_forged_or_altered_one_is_ignored() -> None:
    settings = _settings("k" * 40)
    value = pages._encode_flash(settings, "Lot L1 disposed of.", "done")
    assert pages._decode_flash(settings, value) == {"message": "Lot L1 disposed of.", "kind": "done"}
    payload, _, signature = value.rpartition(".")
    assert pages._decode_flash(settings, payload + "." + "0" * len(signature)) is None
    assert pages._decode_flash(_settings("other" * 10), value) is None
    assert pages._decode_flash(settings, "garbage") is None
    assert pages._decode_flash(settings, None) is None
