"""The look-up a scan makes ahead, on its session lock (barcodes.single_lookup): only a barcode's one GTIN read."""

from __future__ import annotations

from datetime import date

from inventory.domain.gs1 import format_element_string
from inventory.domain.labelcode import format_lot_code
from inventory.services.barcodes import single_lookup

TODAY = date(2026, 12, 1)
GTIN = "03760012345670"


def test_a_gs1_barcode_looks_up_its_gtin_and_lot_key() -> None:
    code = format_element_string(gtin=GTIN, expiry=date(2027, 6, 30), lot_number="ab12", serial=None)
    assert single_lookup(code, today=TODAY) == (GTIN, "AB12")


def test_a_plain_gtin_looks_up_no_lot() -> None:
    assert single_lookup(f"(01){GTIN}", today=TODAY) == (GTIN, None)


def test_nothing_is_looked_up_ahead_for_a_label_an_unreadable_code_or_no_gtin() -> None:
    assert single_lookup(format_lot_code(42), today=TODAY) is None
    assert single_lookup("not a barcode at all", today=TODAY) is None
    assert single_lookup("(10)LOT1(17)270630", today=TODAY) is None
    assert single_lookup("", today=TODAY) is None
