"""Reading a page's form into typed values, and turning refusals into a message next to the field at fault.

A controller reads its fields with `Fields`, stops with the page re-rendered when `fields.errors` is not empty
(nothing written), calls one service, and on an InventoryError puts `refusal_message(error)` next to the field
`field_of(error, …)` names. Messages are in the page's language; the service's English detail is never shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from inventory.domain import dates, quantities
from inventory.domain.errors import InventoryError
from inventory.domain.quantities import Quantity
from inventory.web.i18n import N_, gettext

# What staff and managers read for each refusal code of the service (the code itself stays in the page for support).
ERROR_MESSAGES = {
    "validation_error": N_("This value is not valid."),
    "duplicate": N_("This already exists."),
    "not_found": N_("This does not exist (any more)."),
    "product_unknown": N_("No product in the catalog has this code."),
    "gtin_invalid": N_("This GTIN is not valid (wrong length or check digit)."),
    "gtin_duplicate": N_("Another product or pack already has this GTIN."),
    "barcode_invalid": N_("This code could not be read as a GS1 barcode."),
    "barcode_incomplete": N_("This code lacks the lot or the expiry; type them in."),
    "lot_number_invalid": N_("This lot number is not valid."),
    "lot_required": N_("The lot number is missing."),
    "lot_expired": N_("This lot has expired: it cannot be received or used."),
    "lot_expiry_mismatch": N_("This lot is already known with another expiry date. Check the box."),
    "lot_recalled": N_("This lot is recalled."),
    "lot_quarantined": N_("This lot is in quarantine."),
    "lot_not_quarantined": N_("This lot is not in quarantine."),
    "lot_ambiguous": N_("Several lots have this number; choose the product."),
    "insufficient_stock": N_("There is not that much on hand here."),
    "quantity_not_whole": N_("This product is counted in whole units: enter a whole number."),
    "quantity_precision": N_("Enter at most 2 decimal places."),
    "timezone_unknown": N_("This is not a known time zone (for example Europe/Paris)."),
    "date_out_of_range": N_("This date is out of range."),
    "session_closed": N_("This session is closed."),
    "recall_closed": N_("This recall case is closed."),
    "invalid_transition": N_("This cannot be done in the current state."),
    "alert_resolved": N_("This alert is already resolved."),
    "usage_voided": N_("This use is already voided."),
    "last_admin": N_("This would leave no active administrator."),
    "cannot_change_self": N_("You cannot change your own account here."),
    "forbidden": N_("Your role may not do this."),
    "label_format_invalid": N_("This label format is not available."),
    "label_unrenderable": N_("This label cannot be printed with this template."),
    "label_sheet_too_large": N_("Too many labels for one sheet; print fewer at a time."),
    "password_invalid": N_("The password must not contain control characters."),
    "password_too_short": N_("The password is too short (at least 10 characters)."),
    "password_too_long": N_("The password is too long."),
    "password_too_simple": N_("The password is a repetition or a sequence; choose a longer phrase."),
    "password_too_common": N_("This password is among the most common ones; choose another."),
    "password_contains_context": N_("The password must not contain the e-mail address or the product's name."),
    "too_many_attempts": N_("Too many attempts; wait a moment and try again."),
    "idempotency_key_reused": N_("This form was already sent with other values; reload the page."),
    "idempotency_key_in_flight": N_("This form is already being saved; wait a moment."),
}
_REQUIRED = N_("This field is required.")
_WHOLE = N_("Enter a whole number.")
_AT_LEAST = N_("Enter a number of at least %(minimum)s.")
_AT_MOST = N_("Enter a number of at most %(maximum)s.")
_NUMBER = N_("Enter a number (up to %(places)s decimal places).")
_ABOVE_ZERO = N_("Enter a number above 0.")
_DATE = N_("Enter a date.")
_TOO_LONG = N_("At most %(length)s characters.")
_CHOICE = N_("Choose one of the options.")
_WHOLE_NUMBER = re.compile(r"^[+-]?\d+$")
# Dates a clinic types: anything outside is a typo (the service refuses it too, with date_out_of_range).
_EARLIEST = date(1900, 1, 1)
_LATEST = date(2199, 12, 31)


def refusal_message(error: InventoryError) -> str:
    """The sentence for a refusal in the page's language."""
    message = ERROR_MESSAGES.get(error.code)
    if message is None:
        return gettext("This was refused (code %(code)s).") % {"code": error.code}
    return gettext(message)


def field_of(error: InventoryError, by_code: dict[str, str] | None = None, default: str = "form") -> str:
    """The form field a refusal belongs to: the one the service named, the page's choice per code, or `default`."""
    named = error.extra.get("field")
    if isinstance(named, str) and named:
        return named
    return (by_code or {}).get(error.code, default)


@dataclass
class Fields:
    """A submitted form read field by field; each bad field gets its message in `errors` (the value is None)."""

    form: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    def raw(self, name: str) -> str:
        """The field as typed, trimmed ("" when absent)."""
        value = self.form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def _fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def text(self, name: str, *, required: bool = True, max_length: int = 200) -> str | None:
        """A line of text; None when empty (and required: an error)."""
        value = self.raw(name)
        if not value:
            if required:
                self._fail(name, gettext(_REQUIRED))
            return None
        if len(value) > max_length:
            self._fail(name, gettext(_TOO_LONG) % {"length": max_length})
            return None
        return value

    def integer(
        self, name: str, *, required: bool = True, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        """A whole number within bounds."""
        value = self.raw(name)
        if not value:
            if required:
                self._fail(name, gettext(_REQUIRED))
            return None
        if not _WHOLE_NUMBER.match(value) or len(value) > 12:
            self._fail(name, gettext(_WHOLE))
            return None
        number = int(value)
        if minimum is not None and number < minimum:
            self._fail(name, gettext(_AT_LEAST) % {"minimum": minimum})
            return None
        if maximum is not None and number > maximum:
            self._fail(name, gettext(_AT_MOST) % {"maximum": maximum})
            return None
        return number

    def decimal(
        self, name: str, *, required: bool = True, places: int = 2, minimum: Decimal | None = None
    ) -> Decimal | None:
        """A decimal number with at most `places` decimals (a comma is accepted as the decimal mark)."""
        value = self.raw(name).replace(",", ".").replace(" ", "")
        if not value:
            if required:
                self._fail(name, gettext(_REQUIRED))
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or len(value) > 16 or -number.as_tuple().exponent > places:  # type: ignore[operator]
            self._fail(name, gettext(_NUMBER) % {"places": places})
            return None
        if minimum is not None and number < minimum:
            self._fail(name, gettext(_AT_LEAST) % {"minimum": minimum})
            return None
        return number

    def amount(
        self, name: str, *, required: bool = True, minimum: int = 0, maximum: int = 100_000, positive: bool = True
    ) -> Quantity | None:
        """A quantity in a product's unit ("1,7" or "1.7"; up to 2 decimals): an int when whole, else a Decimal.

        Whether the product takes decimals at all is the service's rule (422 quantity_not_whole for `each`).
        """
        floor = None if positive else Decimal(minimum)
        number = self.decimal(name, required=required, places=quantities.PLACES, minimum=floor)
        if number is None:
            return None
        if positive and number <= 0:
            self._fail(name, gettext(_ABOVE_ZERO))
            return None
        if number > maximum:
            self._fail(name, gettext(_AT_MOST) % {"maximum": maximum})
            return None
        return quantities.plain(number)

    def date(self, name: str, *, required: bool = True) -> date | None:
        """A date from a date input (YYYY-MM-DD), within the service's range."""
        value = self.raw(name)
        if not value:
            if required:
                self._fail(name, gettext(_REQUIRED))
            return None
        try:
            parsed = date.fromisoformat(value)
            dates.require_between(parsed, _EARLIEST, _LATEST, what=name)
        except (ValueError, InventoryError):
            self._fail(name, gettext(_DATE))
            return None
        return parsed

    def choice(self, name: str, choices: tuple[str, ...] | list[str], *, required: bool = True) -> str | None:
        """One of `choices`."""
        value = self.raw(name)
        if not value:
            if required:
                self._fail(name, gettext(_REQUIRED))
            return None
        if value not in choices:
            self._fail(name, gettext(_CHOICE))
            return None
        return value

    def ids(self, name: str) -> list[int]:
        """Every positive id submitted under `name[]` (checkboxes), in order, once each."""
        values = self.form.get(name, [])
        if isinstance(values, str):
            values = [values]
        found: dict[int, None] = {}
        for value in values:
            if isinstance(value, str) and value.isdigit() and 0 < int(value) < 2**31:
                found[int(value)] = None
        return list(found)

    def refuse(self, error: InventoryError, by_code: dict[str, str] | None = None, default: str = "form") -> None:
        """Put a service's refusal next to its field."""
        self._fail(field_of(error, by_code, default), refusal_message(error))
