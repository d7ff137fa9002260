"""Label rendering: LabelData -> PNG, SVG, PDF, ZPL. Pure; the only importer of `barcode`."""

from labels.gs1 import barcode_payload
from labels.model import FORMATS, LAYOUTS, LabelData, SheetLayout
from labels.render import content_type, render_label, render_sheet

__all__ = [
    "FORMATS",
    "LAYOUTS",
    "LabelData",
    "SheetLayout",
    "barcode_payload",
    "content_type",
    "render_label",
    "render_sheet",
]
