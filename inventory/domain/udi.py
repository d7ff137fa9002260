"""The UDI of an implanted device (EU MDR Art. 27): the GS1 element string kept with its use (pure)."""

from __future__ import annotations

from datetime import date

from inventory.domain.errors import GtinInvalid, Unprocessable
from inventory.domain.gs1 import format_hri


def implant_udi(*, gtin: str | None, expiry: date | None, lot_number: str | None, serial: str | None) -> str | None:
    """ "(01)…(17)…(10)…(21)…" of one device as scanned; None when it carries no valid GTIN (no UDI-DI to keep).

    A lot or serial with characters GS1 cannot encode (typed by hand, say) is left out rather than refusing the
    use: the usage keeps the lot id and serial anyway, and the UDI keeps what GS1 can say.
    """
    if gtin is None:
        return None
    try:
        return format_hri(gtin=gtin, expiry=expiry, lot_number=lot_number, serial=serial)
    except GtinInvalid:
        return None
    except Unprocessable:
        pass
    return format_hri(
        gtin=gtin, expiry=expiry, lot_number=_encodable(gtin, lot_number), serial=_encodable(gtin, serial)
    )


def _encodable(gtin: str, value: str | None) -> str | None:
    """`value` when GS1 can encode it as a lot or serial, else None."""
    try:
        format_hri(gtin=gtin, lot_number=value)
    except Unprocessable:
        return None
    return value
