"""Printing lot labels from a page: the templates the labels service offers, the checks, and the download."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Response

from inventory.domain.errors import InventoryError
from inventory.services import labels
from inventory.web.forms import Fields
from inventory.web.i18n import N_, gettext
from inventory.web.pages import CONTENT_SECURITY_POLICY, PAGE_HEADERS


@dataclass(frozen=True)
class LabelTemplate:
    """Label stock to print on: an A4 sheet (PDF, any lots and copies) or a single or roll label (one file)."""

    value: str  # the labels service's template name
    name: str
    layout: str | None = None  # the sheet layout of an A4 template


# What people call each stock, in their language (the service's own titles are English).
_TITLES = {
    "sheet-3x8": N_("A4 sheet, 24 labels of 70 x 37 mm"),
    "sheet-5x13": N_("A4 sheet, 65 labels of 38 x 21 mm"),
    "sheet-7x27": N_("A4 sheet, 189 vial labels of 25 x 10 mm"),
    "ampoule": N_("Ampoule or vial label, 25 x 10 mm (Data Matrix)"),
    "standard": N_("Standard label, 38 x 21 mm"),
    "box": N_("Box label, 100 x 40 mm"),
    "shelf": N_("Shelf label, 80 x 30 mm"),
    "roll-25x13": N_("Thermal roll, 25 x 13 mm"),
    "roll-38x25": N_("Thermal roll, 38 x 25 mm"),
    "roll-50x25": N_("Thermal roll, 50 x 25 mm"),
}
TEMPLATES = tuple(
    LabelTemplate(view.name, _TITLES.get(view.name, view.title), layout=view.layout)
    for view in sorted(
        labels.templates(), key=lambda view: list(_TITLES).index(view.name) if view.name in _TITLES else 99
    )
)
DEFAULT_TEMPLATE = TEMPLATES[0].value
_BY_VALUE = {template.value: template for template in TEMPLATES}
# The file of a single label (a sheet is always a PDF), and the printer's resolution its dots are laid out for.
FILE_FORMATS = {
    "pdf": N_("PDF"),
    "png": N_("PNG image"),
    "zpl": N_("Zebra printer (ZPL)"),
    "svg": N_("SVG drawing"),
}
DEFAULT_FORMAT = "pdf"
PRINTER_DPIS = ("203", "300", "600")
DEFAULT_DPI = "300"
MAX_COPIES = labels.MAX_COPIES
_ONE_LABEL = N_("This template prints one label of one lot: choose an A4 sheet to print more.")
# Where a refusal of the labels service belongs on a print form.
_FIELD_BY_CODE = {
    "not_found": "lots",
    "label_format_invalid": "template",
    "label_unrenderable": "template",
    "label_sheet_too_large": "copies",
    "validation_error": "copies",
}


def template_options() -> list[dict[str, str]]:
    """The templates for a select, in the page's language."""
    return [{"value": template.value, "name": gettext(template.name)} for template in TEMPLATES]


def choice_context(posted: Mapping[str, Any]) -> dict[str, Any]:
    """What a print form's selects need: the options, and what was chosen (or the defaults)."""
    return {
        "templates": template_options(),
        "chosen_template": str(posted.get("template") or DEFAULT_TEMPLATE),
        "formats": format_options(),
        "chosen_format": str(posted.get("format") or DEFAULT_FORMAT),
        "dpis": PRINTER_DPIS,
        "chosen_dpi": str(posted.get("dpi") or DEFAULT_DPI),
    }


def format_options() -> list[dict[str, str]]:
    """The single-label file formats for a select, in the page's language."""
    return [{"value": value, "name": gettext(name)} for value, name in FILE_FORMATS.items()]


@dataclass(frozen=True)
class PrintChoice:
    """What a print form asks for: the stock, the file of a single label, and the printer's resolution."""

    template: LabelTemplate
    fmt: str
    dpi: int


def read_template(fields: Fields, name: str = "template") -> PrintChoice | None:
    """The chosen stock, file format and printer dpi (an unknown one is an error next to its field)."""
    value = fields.choice(name, list(_BY_VALUE))
    fmt = fields.choice("format", list(FILE_FORMATS), required=False) or DEFAULT_FORMAT
    dpi = fields.choice("dpi", list(PRINTER_DPIS), required=False) or DEFAULT_DPI
    template = _BY_VALUE.get(value) if value else None
    if template is None or "format" in fields.errors or "dpi" in fields.errors:
        return None
    return PrintChoice(template, fmt, int(dpi))


def check_items(fields: Fields, choice: PrintChoice, items: Sequence[tuple[int, int]], name: str) -> bool:
    """Whether a single-label template gets exactly one label; else an error next to `name`."""
    if choice.template.layout is None and (len(items) != 1 or items[0][1] != 1):
        fields.errors.setdefault(name, gettext(_ONE_LABEL))
        return False
    return True


async def print_labels(
    fields: Fields, choice: PrintChoice, items: Sequence[tuple[int, int]], *, field_names: dict[str, str]
) -> Response[bytes] | None:
    """The labels as a download, or None with the service's refusal next to its field (`field_names` maps
    lots/template/copies to the form's own names)."""
    template = choice.template
    try:
        if template.layout is not None:
            rendered = await labels.render_sheet(items, template.layout, dpi=choice.dpi)
        else:
            rendered = await labels.render_lot_label(items[0][0], choice.fmt, dpi=choice.dpi, template=template.value)
    except InventoryError as refusal:
        field = _FIELD_BY_CODE.get(refusal.code, "template")
        fields.refuse(refusal, default=field_names.get(field, field))
        return None
    return Response(
        content=rendered.content,
        media_type=rendered.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{rendered.filename}"',
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            **PAGE_HEADERS,
        },
    )
