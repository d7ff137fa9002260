"""Label rendering: LabelData -> PNG, SVG, PDF, ZPL. Pure; the only importer of `barcode` and `zxingcpp`."""

from labels.gs1 import barcode_payload
from labels.model import FORMATS, LAYOUTS, SYMBOLOGIES, LabelData, SheetLayout
from labels.render import content_type, render_label, render_sheet
from labels.templates import DEFAULT_TEMPLATE, TEMPLATES, Template

__all__ = [
    "DEFAULT_TEMPLATE",
    "FORMATS",
    "LAYOUTS",
    "SYMBOLOGIES",
    "TEMPLATES",
    "LabelData",
    "SheetLayout",
    "Template",
    "barcode_payload",
    "content_type",
    "render_label",
    "render_sheet",
]
