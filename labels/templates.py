"""Label templates: real label stock, each with its size and the symbology it gets by default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from labels.model import LAYOUTS

Kind = Literal["label", "roll", "sheet"]


@dataclass(frozen=True)
class Template:
    """One kind of label stock: a single label (or roll label) of a size, or an A4 sheet of cells."""

    name: str
    title: str
    kind: Kind
    width_mm: float  # a sheet's cell
    height_mm: float
    symbology: Literal["datamatrix", "gs1-128"]  # the default; gs1-128 falls back to Code 128 without GS1 data
    sheet: str | None = None  # the LAYOUTS entry of a sheet template
    grow: bool = False  # the label may widen to keep the barcode's minimum module (the standard label)

    @property
    def per_page(self) -> int:
        """Labels per A4 sheet (1 for single labels)."""
        return LAYOUTS[self.sheet].per_page if self.sheet else 1


TEMPLATES: dict[str, Template] = {
    template.name: template
    for template in (
        Template("standard", "Standard, 38 x 21 mm (widens for long lots)", "label", 38.0, 21.0, "gs1-128", grow=True),
        Template("ampoule", "Ampoule or vial, 25 x 10 mm", "label", 25.0, 10.0, "datamatrix"),
        Template("box", "Box, 100 x 40 mm", "label", 100.0, 40.0, "gs1-128"),
        Template("shelf", "Shelf edge, 80 x 30 mm", "label", 80.0, 30.0, "gs1-128"),
        Template("roll-25x13", "Thermal roll, 25 x 13 mm", "roll", 25.0, 13.0, "datamatrix"),
        Template("roll-38x25", "Thermal roll, 38 x 25 mm", "roll", 38.0, 25.0, "datamatrix"),
        Template("roll-50x25", "Thermal roll, 50 x 25 mm", "roll", 50.0, 25.0, "datamatrix"),
        Template("sheet-3x8", "A4 sheet, 24 labels of 70 x 37 mm", "sheet", 70.0, 37.0, "gs1-128", sheet="3x8"),
        Template("sheet-5x13", "A4 sheet, 65 labels of 38.1 x 21.2 mm", "sheet", 38.1, 21.2, "gs1-128", sheet="5x13"),
        Template("sheet-7x27", "A4 sheet, 189 vials, 25.4 x 10 mm", "sheet", 25.4, 10.0, "datamatrix", sheet="7x27"),
    )
}  # fmt: skip
DEFAULT_TEMPLATE = "standard"
