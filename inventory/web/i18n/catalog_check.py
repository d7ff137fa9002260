"""What the catalogs must hold: every message of the pages' code, templates and scripts, per locale."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "t": None}
METHODS = [
    ("i18n/**.py", "ignore"),
    ("**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("static/vendor/**", "ignore"),
    ("static/*.js", "javascript"),
]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


@dataclass(frozen=True)
class Gap:
    """A message of the pages and what is wrong with its translation."""

    message: str
    where: str
    problem: str


def messages() -> dict[str, str]:
    """Every message id of the pages, with the first place it is used."""
    found: dict[str, str] = {}
    for filename, lineno, message, _, _ in extract_from_dir(
        WEB, method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"{filename}:{lineno}")
    return found


def translations(locale: str) -> dict[str, str]:
    """Every translated message of `locale`'s catalogs (fuzzy entries do not count)."""
    result: dict[str, str] = {}
    for path in sorted((WEB / "i18n" / locale).rglob("*.po")):
        with path.open("rb") as source:
            catalog = read_po(source, locale=locale)
        for entry in catalog:
            if not entry.id or entry.fuzzy:
                continue
            ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
            strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            for message_id, translated in zip(ids, strings, strict=False):
                if isinstance(message_id, str) and isinstance(translated, str) and translated:
                    result[message_id] = translated
    return result


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in _PLACEHOLDER.findall(text)}


def gaps(locale: str) -> list[Gap]:
    """Messages missing from `locale`, or translated with other placeholders than the English."""
    have = translations(locale)
    found: list[Gap] = []
    for message, where in messages().items():
        translated = have.get(message)
        if translated is None:
            found.append(Gap(message, where, "missing"))
        elif _placeholders(translated) != _placeholders(message):
            found.append(Gap(message, where, f"placeholders differ: {translated!r}"))
    return found


if __name__ == "__main__":
    import sys

    locale = sys.argv[1] if len(sys.argv) > 1 else "fr"
    for gap in gaps(locale):
        # A .po stub to fill in, with where the message is used.
        escaped = gap.message.replace("\\", "\\\\").replace('"', '\\"')
        print(f'#: {gap.where}\n# {gap.problem}\nmsgid "{escaped}"\nmsgstr ""\n')
