"""What the catalogs must hold: every message of the pages' code, templates and scripts, per locale."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).parent.parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "N_": None,
    "NP_": ((1, "c"), 2),
    "t": None,
}
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
    context: str | None = None


Key = tuple[str | None, str]  # (context, message id)


def messages() -> dict[Key, str]:
    """Every message id of the pages (with its context, if any), with the first place it is used."""
    found: dict[Key, str] = {}
    for filename, lineno, message, _, context in extract_from_dir(
        WEB, method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault((context, text), f"{filename}:{lineno}")
    return found


def translations(locale: str) -> dict[Key, str]:
    """Every translated message of `locale`'s catalogs (fuzzy entries do not count)."""
    result: dict[Key, str] = {}
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
                    result[(entry.context, message_id)] = translated
    return result


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in _PLACEHOLDER.findall(text)}


def gaps(locale: str) -> list[Gap]:
    """Messages missing from `locale`, or translated with other placeholders than the English."""
    have = translations(locale)
    found: list[Gap] = []
    for (context, message), where in messages().items():
        translated = have.get((context, message))
        if translated is None:
            found.append(Gap(message, where, "missing", context))
        elif _placeholders(translated) != _placeholders(message):
            found.append(Gap(message, where, f"placeholders differ: {translated!r}", context))
    return found


def conflicts(locale: str) -> list[tuple[Key, set[str]]]:
    """Messages translated differently by two of `locale`'s catalogs (the merge would keep only one)."""
    seen: dict[Key, set[str]] = {}
    for path in sorted((WEB / "i18n" / locale).rglob("*.po")):
        with path.open("rb") as source:
            for entry in read_po(source, locale=locale):
                if entry.id and isinstance(entry.id, str) and isinstance(entry.string, str) and entry.string:
                    seen.setdefault((entry.context, entry.id), set()).add(entry.string)
    return [(key, strings) for key, strings in seen.items() if len(strings) > 1]


if __name__ == "__main__":
    import sys

    locale = sys.argv[1] if len(sys.argv) > 1 else "fr"
    for gap in gaps(locale):
        # A .po stub to fill in, with where the message is used.
        escaped = gap.message.replace("\\", "\\\\").replace('"', '\\"')
        line = f'msgctxt "{gap.context}"\n' if gap.context else ""
        print(f'#: {gap.where}\n# {gap.problem}\n{line}msgid "{escaped}"\nmsgstr ""\n')
    for (context, message), strings in conflicts(locale):
        print(f"# translated differently by two catalogs: {context or ''} {message!r}: {sorted(strings)}")
