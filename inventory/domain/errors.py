"""The one exception tree of the service; the API maps it to RFC 9457 problem details in one place.

InventoryError                      400 bad_request
├── JsonTooDeep                     400 json_too_deep
├── Unauthorized                    401 unauthorized
├── Forbidden                       403 forbidden
├── NotFound                        404 not_found (product_unknown, …)
├── Conflict                        409 duplicate, lot_expired, insufficient_stock, …
├── Unprocessable                   422 validation_error, gtin_invalid, barcode_invalid, …
│   └── DateOutOfRange              422 date_out_of_range
└── TooManyRequests                 429 too_many_attempts

(Database outages are not domain refusals: the API maps driver errors to 503 itself.)
"""

from __future__ import annotations

from typing import Any


class InventoryError(Exception):
    """Base of every refusal the service gives; carries a stable machine-readable code."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra: dict[str, Any] = extra


class JsonTooDeep(InventoryError):
    """A request body nests arrays or objects deeper than the service decodes."""

    code = "json_too_deep"
    title = "JSON nested too deeply"


class Unauthorized(InventoryError):
    """Missing, bad or expired credentials."""

    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class Forbidden(InventoryError):
    """The caller's role may not do this."""

    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(InventoryError):
    """A referenced entity does not exist."""

    status = 404
    code = "not_found"
    title = "Not found"

    @classmethod
    def of(cls, entity: str, entity_id: int) -> NotFound:
        """The standard refusal for an unknown id: "Location 7 does not exist." with `entity`."""
        label = entity.replace("_", " ").capitalize()
        return cls(f"{label} {entity_id} does not exist.", code="not_found", entity=entity)


class Conflict(InventoryError):
    """The request is well-formed but conflicts with the current state."""

    status = 409
    code = "conflict"
    title = "Conflict"


class Unprocessable(InventoryError):
    """The request is well-formed JSON but its content is invalid."""

    status = 422
    code = "validation_error"
    title = "Unprocessable content"


class TooManyRequests(InventoryError):
    """Too many attempts in a short time."""

    status = 429
    code = "too_many_attempts"
    title = "Too many requests"


class BarcodeInvalid(Unprocessable):
    """The scanned text cannot be read as any barcode this service understands."""

    code = "barcode_invalid"
    title = "Barcode not readable"


class BarcodeAmbiguous(Unprocessable):
    """Separators were lost and several readings of the barcode remain."""

    code = "barcode_ambiguous"
    title = "Barcode ambiguous"


class GtinInvalid(Unprocessable):
    """A GTIN has the wrong length, non-digits or a bad check digit."""

    code = "gtin_invalid"
    title = "GTIN invalid"


class DateOutOfRange(Unprocessable):
    """A date from input lies outside the range the service plans with (date arithmetic would overflow)."""

    code = "date_out_of_range"
    title = "Date out of range"
