"""Plain data for labels: what goes on one label, the output formats, and the A4 sheet layouts."""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class LabelData:
    """Everything printed on one label; the barcode is derived from it (see `barcode_payload`)."""

    brand: str
    product: str
    lot_number: str
    expiry: datetime.date
    gtin: str | None = None  # 14 digits, already validated, or None
    own_code: str | None = None  # this service's lot code ("MIL1234" + check digit); used without gtin
    storage_note: str | None = None  # e.g. "Store at 2-8 °C"


FORMATS: tuple[str, ...] = ("png", "svg", "pdf", "zpl")
SYMBOLOGIES: tuple[str, ...] = ("datamatrix", "gs1-128", "code128")


@dataclass(frozen=True)
class SheetLayout:
    """A grid of equal labels on an A4 sheet; all lengths in millimetres from the sheet's top-left corner."""

    name: str
    columns: int
    rows: int
    label_w_mm: float
    label_h_mm: float
    margin_top_mm: float
    margin_left_mm: float
    gap_x_mm: float
    gap_y_mm: float

    @property
    def per_page(self) -> int:
        """How many labels one sheet holds."""
        return self.columns * self.rows


# Both grids fill A4 (210 x 297 mm) exactly: 3 x 70 = 210, 0.5 + 8 x 37 + 0.5 = 297 (e.g. Avery 3475);
# 4.67 + 5 x 38.1 + 4 x 2.54 + 4.67 = 210, 10.7 + 13 x 21.2 + 10.7 = 297 (e.g. Avery L7651).
# 8.6 + 7 x 25.4 + 6 x 2.5 + 8.6 = 210, 13.5 + 27 x 10 + 13.5 = 297 (e.g. Avery L7658, 189 vial labels).
LAYOUTS: dict[str, SheetLayout] = {
    "3x8": SheetLayout("3x8", 3, 8, 70.0, 37.0, 0.5, 0.0, 0.0, 0.0),
    "5x13": SheetLayout("5x13", 5, 13, 38.1, 21.2, 10.7, 4.67, 2.54, 0.0),
    "7x27": SheetLayout("7x27", 7, 27, 25.4, 10.0, 13.5, 8.6, 2.5, 0.0),
}
