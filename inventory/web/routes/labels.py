"""Printing labels: find lots by number or product, tick them, choose a template and copies, download."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from inventory.services import labels
from inventory.web import label_printing
from inventory.web.forms import Fields
from inventory.web.i18n import N_, gettext
from inventory.web.pages import read_form, render, staff_page

MAX_QUERY = 64
_NO_LOT = N_("Tick at least one lot.")


async def _page(
    request: Request[Any, Any, Any],
    *,
    query: str,
    chosen: list[int],
    fields: Fields | None = None,
    status: int = 200,
) -> Template:
    found = await labels.find_lots(query=query or None, chosen=chosen)
    posted = fields.form if fields is not None else {}
    errors = fields.errors if fields is not None else {}
    return await render(
        request,
        "labels/index.html",
        status=status,
        query=query,
        lots=found,
        chosen=set(chosen),
        **label_printing.choice_context(posted),
        copies=str(posted.get("copies") or "1"),
        errors=errors,
        focus=next(iter(errors), "") if errors else "",
    )


@get("/labels", guards=[staff_page], include_in_schema=False, security=[])
async def labels_page(request: Request[Any, Any, Any]) -> Template:
    """The lots matching `q` (the newest without one), those named by `lot` already ticked."""
    query = str(request.query_params.get("q") or "").strip()[:MAX_QUERY]
    chosen = Fields({"lot": request.query_params.getall("lot", [])}).ids("lot")
    return await _page(request, query=query, chosen=chosen)


@post("/labels", guards=[staff_page], include_in_schema=False, security=[], status_code=200)
async def print_labels(request: Request[Any, Any, Any]) -> Response[bytes] | Template:
    """The ticked lots' labels as one download, or the page again with what is wrong next to each field."""
    fields = Fields(await read_form(request))
    query = fields.raw("q")[:MAX_QUERY]
    chosen = fields.ids("lot")
    template = label_printing.read_template(fields)
    copies = fields.integer("copies", minimum=1, maximum=label_printing.MAX_COPIES)
    if not chosen:
        fields.errors["lots"] = gettext(_NO_LOT)
    if fields.errors or template is None or copies is None:
        return await _page(request, query=query, chosen=chosen, fields=fields, status=422)
    items = [(lot_id, copies) for lot_id in chosen]
    if not label_printing.check_items(fields, template, items, "template"):
        return await _page(request, query=query, chosen=chosen, fields=fields, status=422)
    download = await label_printing.print_labels(fields, template, items, field_names={})
    if download is None:
        return await _page(request, query=query, chosen=chosen, fields=fields, status=422)
    return download


HANDLERS: list[Any] = [labels_page, print_labels]
