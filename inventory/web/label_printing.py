"""Printing lot labels from a page: the templates the labels service offers, the checks, and the download."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from litestar import Response

from inventory.domain.errors import InventoryError
from inventory.services import labels
from inventory.web.forms import Fields
from inventory.web.i18n import N_, gettext
from inventory.web.pages import CONTENT_SECURITY_POLICY, PAGE_HEADERS


@dataclass(frozen=True)
class LabelTemplate:
    """A way to print: an A4 sheet layout (PDF, any lots and copies) or one label in a file format."""

    value: str
    name: str
    layout: str | None = None
    fmt: str | None = None


# The multiplication sign is meant: people read it on the page.
TEMPLATES = (
    LabelTemplate("sheet-3x8", N_("A4 sheet 3 × 8 (70 × 37 mm)"), layout="3x8"),  # noqa: RUF001
    LabelTemplate("sheet-5x13", N_("A4 sheet 5 × 13 (38 × 21 mm)"), layout="5x13"),  # noqa: RUF001
    LabelTemplate("label-pdf", N_("One label, PDF"), fmt="pdf"),
    LabelTemplate("label-png", N_("One label, PNG image"), fmt="png"),
    LabelTemplate("label-zpl", N_("One label, Zebra printer (ZPL)"), fmt="zpl"),
    LabelTemplate("label-svg", N_("One label, SVG drawing"), fmt="svg"),
)
DEFAULT_TEMPLATE = TEMPLATES[0].value
_BY_VALUE = {template.value: template for template in TEMPLATES}
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


def read_template(fields: Fields, name: str = "template") -> LabelTemplate | None:
    """The chosen template (an unknown one is an error next to the field)."""
    value = fields.choice(name, list(_BY_VALUE))
    return _BY_VALUE.get(value) if value else None


def check_items(fields: Fields, template: LabelTemplate, items: Sequence[tuple[int, int]], name: str) -> bool:
    """Whether a single-label template gets exactly one label; else an error next to `name`."""
    if template.layout is None and (len(items) != 1 or items[0][1] != 1):
        fields.errors.setdefault(name, gettext(_ONE_LABEL))
        return False
    return True


async def print_labels(
    fields: Fields, template: LabelTemplate, items: Sequence[tuple[int, int]], *, field_names: dict[str, str]
) -> Response[bytes] | None:
    """The labels as a download, or None with the service's refusal next to its field (`field_names` maps
    lots/template/copies to the form's own names)."""
    try:
        if template.layout is not None:
            rendered = await labels.render_sheet(items, template.layout)
        else:
            assert template.fmt is not None
            rendered = await labels.render_lot_label(items[0][0], template.fmt)
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
