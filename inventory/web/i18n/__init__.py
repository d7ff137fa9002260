"""The pages' languages: English source strings, French from Babel catalogs, and formats per locale.

Every `.po` file under `i18n/<locale>/` is one catalog of that locale (one file per page family, merged at
start-up), so page families can be translated side by side. The locale of the request being served lives in a
context variable set by the pages' router; `gettext` and the formatters read it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.extract import extract_javascript
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "fr")
DEFAULT_LOCALE = "en"
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}
# The region whose conventions each language's dates and numbers follow (clinics are European: 1 Mar 2027).
_FORMAT_LOCALES = {"en": Locale.parse("en_GB"), "fr": Locale.parse("fr_FR")}
CATALOGS = Path(__file__).parent
STATIC = Path(__file__).parent.parent / "static"

_current: ContextVar[str] = ContextVar("page_locale", default=DEFAULT_LOCALE)


def _load(locale: str) -> NullTranslations:
    """Every catalog of `locale` merged into one Translations (English is the source: no catalog)."""
    merged: NullTranslations = NullTranslations()
    for path in sorted((CATALOGS / locale).rglob("*.po")):
        with path.open("rb") as source:
            catalog = read_po(source, locale=locale)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        translations = Translations(compiled)
        if isinstance(merged, Translations):
            merged.merge(translations)
        else:
            merged = translations
    return merged


_TRANSLATIONS = {locale: _load(locale) for locale in LOCALES}


def current() -> str:
    """The locale of the page being served."""
    return _current.get()


def use(locale: str) -> None:
    """Serve the rest of this request in `locale` (one of LOCALES)."""
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def negotiate(accept_language: str | None, choice: str | None = None) -> str:
    """The locale to serve: the user's choice if it is one we have, else the best of Accept-Language, else English."""
    if choice in LOCALES:
        return str(choice)
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = tag.strip().lower().replace("_", "-").split("-")[0]
        if language and quality > 0:
            wanted.append((-quality, index, language))
    for _, _, language in sorted(wanted):
        if language in LOCALES:
            return language
    return DEFAULT_LOCALE


class ContextMessage(str):
    """A message marked with its context (NP_), for words whose translation depends on what they qualify."""

    context: str


def gettext(message: str) -> str:
    """`message` in the current locale (in its context when it was marked with NP_)."""
    context = getattr(message, "context", None)
    if context is not None:
        return str(_TRANSLATIONS[_current.get()].pgettext(context, message))
    return _TRANSLATIONS[_current.get()].gettext(message)


def pgettext(context: str, message: str) -> str:
    """`message` in the current locale, as used in `context` ("Open" of a session is "Ouverte", of a case "Ouvert")."""
    return str(_TRANSLATIONS[_current.get()].pgettext(context, message))


def npgettext(context: str, singular: str, plural: str, count: int) -> str:
    """The singular or plural of a message in `context` for `count`, in the current locale."""
    return str(_TRANSLATIONS[_current.get()].npgettext(context, singular, plural, count))


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural of a message for `count`, in the current locale."""
    return _TRANSLATIONS[_current.get()].ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark a module-level message for the catalogs; translate it with gettext where it is shown."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark a module-level message with its context; gettext then translates it in that context."""
    marked = ContextMessage(message)
    marked.context = context
    return marked


def format_date(value: date | None) -> str:
    """A date in the current locale's one date format (1 Mar 2027, 1 mars 2027)."""
    if value is None:
        return ""
    return babel_dates.format_date(value, format="medium", locale=_FORMAT_LOCALES[_current.get()])


def format_datetime(value: datetime | None, timezone: str | ZoneInfo | None = None) -> str:
    """A moment as the location's local date and time, in the current locale (1 Mar 2027, 14:05)."""
    if value is None:
        return ""
    zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    local = value.astimezone(zone) if zone is not None else value
    locale = _FORMAT_LOCALES[_current.get()]
    return f"{format_date(local.date())}, {babel_dates.format_time(local, format='short', locale=locale)}"


def format_number(value: int | float | Decimal | None) -> str:
    """A number with the current locale's separators (1,234.5; 1 234,5)."""
    if value is None:
        return ""
    return babel_numbers.format_decimal(value, locale=_FORMAT_LOCALES[_current.get()])


def format_quantity(value: int | Decimal | None, unit: str | None = "each") -> str:
    """A quantity with its unit, in the current locale (3; 1,7 ml; 0.2 U): `each` counts show the bare number."""
    if value is None:
        return ""
    number = format_number(value)
    return number if unit in (None, "each") else f"{number}\N{NO-BREAK SPACE}{unit}"


def input_number(value: int | Decimal) -> str:
    """A number as a form field shows it: no grouping, the locale's decimal mark (1.7; 1,7), read back by forms."""
    text = str(value)
    return text.replace(".", ",") if _current.get() == "fr" else text


def _script_messages(paths: Iterable[Path]) -> tuple[str, ...]:
    """The message ids our own scripts pass to t("…") (Babel's JavaScript extractor)."""
    found: dict[str, None] = {}
    for path in paths:
        with path.open("rb") as source:
            for _, _, message, _ in extract_javascript(source, keywords={"t": None}, comment_tags=(), options={}):
                # A call with more arguments than the message (t("…", { a, b })) comes as a tuple: the first is it.
                text = message[0] if isinstance(message, tuple) else message
                if isinstance(text, str) and text:
                    found[text] = None
    return tuple(found)


@cache
def script_catalog(locale: str) -> dict[str, str]:
    """The translations our scripts need in `locale`, by English message (embedded in each page as JSON)."""
    translations = _TRANSLATIONS[locale if locale in LOCALES else DEFAULT_LOCALE]
    messages = _script_messages(sorted(STATIC.glob("*.js")))
    return {message: translations.gettext(message) for message in messages}
