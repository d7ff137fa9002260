"""Routes for printable lot labels: one label in PNG, SVG, PDF or ZPL, or A4 sheets of labels as PDF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta, Struct

from inventory.api.params import PathId
from inventory.api.schemas import Id
from inventory.api.security import staff
from inventory.services import labels

LabelFormat = Literal["png", "svg", "pdf", "zpl"]
SheetLayout = Literal["3x8", "5x13", "7x27"]
Symbology = Literal["datamatrix", "gs1-128", "code128"]

LABEL_MEDIA_TYPES = {
    "image/png": "PNG image, `dpi` pixels per inch (default 300).",
    "image/svg+xml": "SVG vector image in millimetres.",
    "application/pdf": "PDF, one page of the label's size.",
    "application/zpl": "ZPL II commands for a 203, 300 or 600 dpi Zebra printer (^BC or ^BX).",
}
PROBLEM_MEDIA_TYPE = "application/problem+json"


class SheetItemIn(Struct, forbid_unknown_fields=True):
    """A lot and how many of its labels to print."""

    lot_id: Id
    copies: Annotated[int, Meta(ge=1, le=labels.MAX_COPIES)] = 1


class SheetIn(Struct, forbid_unknown_fields=True):
    """The labels of a sheet print, in order; at most 2,000 labels in all."""

    items: Annotated[list[SheetItemIn], Meta(min_length=1, max_length=labels.MAX_SHEET_ITEMS)]
    layout: SheetLayout = "3x8"
    dpi: Annotated[int, Meta(ge=labels.PNG_DPI_RANGE[0], le=labels.PNG_DPI_RANGE[1])] | None = None
    symbology: Symbology | None = None


class TemplateOut(Struct):
    """A label template: its stock, size and default symbology."""

    name: str
    title: str
    kind: Annotated[str, Meta(description="label, roll or sheet (A4)")]
    width_mm: float
    height_mm: float
    symbology: Annotated[str, Meta(description="The default: datamatrix, or gs1-128 (Code 128 without a GTIN)")]
    per_page: int
    layout: str | None


class TemplatesOut(Struct):
    """Every label template."""

    items: list[TemplateOut]


class LabelProblem(Struct):
    """An RFC 9457 problem: `code` is the stable machine-readable reason; other members vary by code."""

    type: str
    title: str
    status: int
    detail: str
    code: str


def _binary(description: str, media_types: dict[str, str]) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={
            media_type: OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description=about)
            )
            for media_type, about in media_types.items()
        },
        headers=None,
    )


def _binary_success(operation: Operation, success: OpenAPIResponse) -> None:
    # Litestar documents a generic 400 for request validation; this service answers 422 problems instead.
    if operation.responses is not None:
        operation.responses.pop("400", None)
        operation.responses["200"] = success


@dataclass
class LabelOperation(Operation):
    """The label operation: its 200 response is binary in the media type the `format` query picks."""

    def __post_init__(self) -> None:
        """Replace the generated 200 response by the four binary label media types."""
        _binary_success(self, _binary("The label; Content-Disposition names it lot-<id>.<ext>.", LABEL_MEDIA_TYPES))


@dataclass
class SheetOperation(Operation):
    """The sheet operation: its 200 response is a PDF."""

    def __post_init__(self) -> None:
        """Replace the generated 200 response by a binary PDF."""
        _binary_success(self, _binary("A4 pages of labels, filled row by row.", {"application/pdf": "PDF, A4 pages."}))


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(LabelProblem, description=description, media_type=PROBLEM_MEDIA_TYPE, generate_examples=False)


def _respond(rendered: labels.Rendered, disposition: str) -> Response[bytes]:
    return Response(
        content=rendered.content,
        media_type=rendered.media_type,
        # Cache-Control and X-Content-Type-Options come with every /api response (api/headers.py).
        headers={"Content-Disposition": f'{disposition}; filename="{rendered.filename}"'},
    )


class LabelController(Controller):
    """Printable labels whose barcode scans back to exactly their lot (staff and above)."""

    path = "/api"
    tags = ["labels"]
    guards = [staff]

    @get(
        "/lots/{lot_id:int}/label",
        operation_id="getLotLabel",
        operation_class=LabelOperation,
        responses={
            404: _problem("The lot does not exist (code not_found)."),
            422: _problem(
                "Unknown format, or a dpi the format does not take (code validation_error or label_format_invalid)."
            ),
        },
    )
    async def label(
        self,
        lot_id: PathId,
        fmt: Annotated[
            LabelFormat,
            QueryParameter(name="format", description="Output format; the Content-Type follows it."),
        ] = "png",
        dpi: Annotated[
            int | None,
            QueryParameter(
                ge=labels.PNG_DPI_RANGE[0],
                le=labels.PNG_DPI_RANGE[1],
                description="The printer's resolution, default 300: PNG pixels per inch (100-1200), ZPL density "
                "(203, 300 or 600); SVG and PDF are laid out on its dot grid, so every module is whole dots.",
            ),
        ] = None,
        template: Annotated[
            str,
            QueryParameter(description="A label template (GET /api/labels/templates); not a sheet."),
        ] = "standard",
        symbology: Annotated[
            Symbology | None,
            QueryParameter(description="datamatrix, gs1-128 or code128; default: the template's."),
        ] = None,
    ) -> Response[bytes]:
        """One lot's label: product, lot, expiry and a barcode that scans back to this lot.

        GS1 DataMatrix (ECC 200, FNC1 first) or GS1-128 with (01) GTIN, (17) expiry and (10) lot when the product
        has a unit GTIN and the lot number fits GS1; otherwise a Data Matrix or Code 128 of this service's lot
        code (MIL…). The ampoule and small roll templates default to DataMatrix. A barcode that does not fit
        the template is refused (422 label_unrenderable), never shrunk below what a scanner reads.
        """
        rendered = await labels.render_lot_label(lot_id, fmt, dpi=dpi, template=template, symbology=symbology)
        return _respond(rendered, "attachment" if fmt == "zpl" else "inline")

    @post(
        "/labels/sheet",
        operation_id="renderLabelSheet",
        status_code=200,
        operation_class=SheetOperation,
        responses={
            404: _problem("A lot does not exist (code not_found, `lot_ids` lists them); nothing is drawn."),
            422: _problem(
                "No items, copies outside 1-500, an unknown layout (code validation_error), or more "
                "than 2,000 labels (code label_sheet_too_large)."
            ),
        },
    )
    async def sheet(self, data: JSONBody[SheetIn]) -> Response[bytes]:
        """A PDF of A4 label sheets: `copies` labels of each lot, in order, on the 3x8, 5x13 or 7x27 layout."""
        rendered = await labels.render_sheet(
            [(item.lot_id, item.copies) for item in data.items], data.layout, dpi=data.dpi, symbology=data.symbology
        )
        return _respond(rendered, "inline")

    @get("/labels/templates", operation_id="listLabelTemplates")
    async def templates(self) -> TemplatesOut:
        """The label templates: single labels, thermal rolls and A4 sheets, with their sizes in mm."""
        return TemplatesOut(items=[TemplateOut(**vars(t)) for t in labels.templates()])


HANDLERS: list[Any] = [LabelController]
