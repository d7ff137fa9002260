"""From what a scanner typed to a product, pack size and lot, using the catalog to settle ambiguity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from inventory.db import Connection
from inventory.domain.errors import BarcodeAmbiguous, BarcodeInvalid, InventoryError, NotFound
from inventory.domain.gs1 import Reading, read_barcode
from inventory.domain.lots import lot_key
from inventory.store import catalog, lots

MAX_BARCODE_LENGTH = 512


@dataclass(frozen=True)
class Resolved:
    """A barcode resolved against the catalog."""

    reading: Reading
    product_id: int
    units: int
    gtin: str | None
    lot: dict[str, Any] | None  # the known lot the barcode names, if any


@dataclass(frozen=True)
class LookedUp:
    """A GTIN-and-lot look-up made already (`found` as lots.find_by_gtin_and_key returns it)."""

    gtin: str
    key: str | None
    found: dict[str, Any] | None


def single_lookup(raw: str, *, today: date) -> tuple[str, str | None] | None:
    """The (GTIN, lot key) look-up that resolving the barcode will need, when it is its only one; never raises.

    For a caller that makes it ahead, riding on a statement of its own: `resolve` reads the barcode again on the
    location's day and uses the look-up only if that reading asks for the same one.
    """
    try:
        readings = read_barcode(raw[: MAX_BARCODE_LENGTH + 1], today=today, hri_guesses=True)
    except InventoryError:
        return None
    if len(readings) != 1 or readings[0].kind == "label" or readings[0].gtin is None:
        return None
    return readings[0].gtin, _key(readings[0])


def _key(reading: Reading) -> str | None:
    return lot_key(reading.lot_number) if reading.lot_number is not None else None


async def resolve(conn: Connection, raw: str, *, today: date, looked_up: LookedUp | None = None) -> Resolved:
    """Resolve a barcode; raises BarcodeInvalid, BarcodeAmbiguous or NotFound(product_unknown)."""
    readings = read_barcode(raw[: MAX_BARCODE_LENGTH + 1], today=today, hri_guesses=True)
    candidates: list[Resolved] = []
    for reading in readings:
        resolved = await _resolve_reading(conn, reading, looked_up)
        # A guessed reading counts only when it names a known lot: it must never create a lot.
        if resolved is not None and (not reading.guessed or resolved.lot is not None):
            candidates.append(resolved)
    if not candidates:
        first = readings[0]
        if first.kind == "gs1" and first.gtin is None:
            raise BarcodeInvalid(
                "The barcode carries no product number (AI 01) and its lot does not name exactly one known lot;"
                " scan the product's own barcode.",
                readings=[r.as_element_string() for r in readings],
            )
        if first.kind == "label":
            raise NotFound("This label names a lot that does not exist.", code="product_unknown")
        raise NotFound(
            f"No product has GTIN {first.gtin}; add it to the catalog first.", code="product_unknown", gtin=first.gtin
        )
    if len(candidates) == 1:
        return candidates[0]
    # Separators were lost: keep the readings naming a lot this product already has.
    known = [c for c in candidates if c.lot is not None]
    if len(known) == 1:
        return known[0]
    if not known:
        # A split that only conjures AIs we ignore (say "400" out of lot "SR2400A") is not a plausible
        # reading when another split explains every character with the AIs an ampoule carries.
        plain = [c for c in candidates if not c.reading.other]
        if len(plain) == 1:
            return plain[0]
    raise BarcodeAmbiguous(
        "The scanner dropped a separator and the barcode can be read several ways; scan again or type the lot.",
        readings=[c.reading.as_element_string() for c in candidates],
    )


async def _resolve_reading(conn: Connection, reading: Reading, looked_up: LookedUp | None) -> Resolved | None:
    if reading.kind == "label":
        assert reading.lot_id is not None
        lot = await lots.get(conn, reading.lot_id)
        if lot is None:
            return None
        gtin = await catalog.unit_gtin(conn, lot["product_id"])
        return Resolved(reading=reading, product_id=lot["product_id"], units=1, gtin=gtin, lot=lot)
    if reading.gtin is None:
        return await _resolve_without_gtin(conn, reading)
    # One round trip (none when made already): the product behind the GTIN and, when the barcode names one, its lot.
    if looked_up is not None and (looked_up.gtin, looked_up.key) == (reading.gtin, _key(reading)):
        found = looked_up.found
    else:
        found = await lots.find_by_gtin_and_key(conn, reading.gtin, _key(reading))
    if found is None:
        return None
    lot = None
    if found["id"] is not None:
        lot = {k: found[k] for k in ("id", "lot_number", "expiry_date", "status", "not_received")}
        lot["product_id"] = found["product_id"]
    return Resolved(
        reading=reading, product_id=found["product_id"], units=int(found["units"]), gtin=reading.gtin, lot=lot
    )


async def _resolve_without_gtin(conn: Connection, reading: Reading) -> Resolved | None:
    """A secondary GS1 barcode (lot and expiry, no GTIN) names a lot only when exactly one lot has that number."""
    if reading.lot_number is None:
        return None
    rows = await lots.first_two_with_key(conn, lot_key(reading.lot_number))
    if len(rows) != 1:
        return None
    lot = rows[0]
    gtin = lot.pop("gtin")
    return Resolved(reading=reading, product_id=lot["product_id"], units=1, gtin=gtin, lot=lot)
