"""Lot labels: one query reads each lot with its product, brand and unit GTIN; `labels` draws them off the loop."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

import labels
from inventory import db
from inventory.domain.errors import NotFound, Unprocessable
from inventory.domain.labelcode import format_lot_code
from inventory.store import labels as label_store

T = TypeVar("T")
log = logging.getLogger("inventory")

MAX_COPIES = 500
MAX_SHEET_ITEMS = 500
MAX_SHEET_LABELS = 2000
MAX_LOT_ID = 2_147_483_647
MAX_FOUND = 50
PNG_DPI_RANGE = (100, 1200)
ZPL_DPIS = (203, 300, 600)
DEFAULT_DPI = 300
# Rendering is CPU-bound pure Python (reportlab, python-barcode, Pillow). In a worker thread it still holds
# the GIL, and each await of a scan then waits up to a switch interval for it: measured on 2 cores, scans
# fell from ~270/s to ~20/s (p99 ~190-500 ms) while sheets were printed. So labels are drawn in a separate
# process, one per server worker; requests queue for it and a cancelled request's queued job is dropped.
RENDER_PROCESSES = 1

STORAGE_NOTES = {"fridge": "Store at 2\u20138 °C", "room": "Store below 25 °C"}
EXTENSIONS = {"png": "png", "svg": "svg", "pdf": "pdf", "zpl": "zpl"}

_processes: ProcessPoolExecutor | None = None


@dataclass(frozen=True)
class Rendered:
    """Label bytes and how to serve them."""

    content: bytes
    media_type: str
    filename: str


def label_data(row: label_store.LabelRow) -> labels.LabelData:
    """The printed content of a lot's label."""
    return labels.LabelData(
        brand=row.brand_name,
        product=row.product_name,
        lot_number=row.lot_number,
        expiry=row.expiry_date,
        gtin=row.gtin,
        own_code=format_lot_code(row.id),
        storage_note=STORAGE_NOTES.get(row.storage),
    )


async def _load(lot_ids: Sequence[int]) -> dict[int, labels.LabelData]:
    """LabelData per lot id; raises NotFound naming every lot id that does not exist."""
    wanted = sorted(set(lot_ids))
    valid = [lot_id for lot_id in wanted if 1 <= lot_id <= MAX_LOT_ID]
    rows: list[label_store.LabelRow] = []
    if valid:
        async with db.connection() as conn:
            rows = await label_store.label_rows(conn, valid)
    found = {row.id: label_data(row) for row in rows}
    missing = [lot_id for lot_id in wanted if lot_id not in found]
    if missing:
        noun = "Lot" if len(missing) == 1 else "Lots"
        verb = "does" if len(missing) == 1 else "do"
        raise NotFound(
            f"{noun} {', '.join(map(str, missing))} {verb} not exist.",
            code="not_found",
            entity="lot",
            lot_ids=missing,
        )
    return found


@dataclass(frozen=True)
class TemplateView:
    """A label template as the API and the pages list it."""

    name: str
    title: str
    kind: str
    width_mm: float
    height_mm: float
    symbology: str
    per_page: int
    layout: str | None


def templates() -> list[TemplateView]:
    """Every label template with its size, kind (label, roll, sheet) and default symbology."""
    return [
        TemplateView(t.name, t.title, t.kind, t.width_mm, t.height_mm, t.symbology, t.per_page, t.sheet)
        for t in labels.TEMPLATES.values()
    ]


def _check_choice(template: str, symbology: str | None) -> labels.Template:
    """The named template; raises Unprocessable(label_format_invalid) for an unknown template or symbology."""
    chosen = labels.TEMPLATES.get(template)
    if chosen is None:
        raise Unprocessable(
            f"Unknown label template {template!r}; expected one of {', '.join(labels.TEMPLATES)}.",
            code="label_format_invalid",
            templates=list(labels.TEMPLATES),
        )
    if symbology is not None and symbology not in labels.SYMBOLOGIES:
        raise Unprocessable(
            f"Unknown symbology {symbology!r}; expected one of {', '.join(labels.SYMBOLOGIES)}.",
            code="label_format_invalid",
            symbologies=list(labels.SYMBOLOGIES),
        )
    return chosen


async def find_lots(*, query: str | None = None, chosen: Sequence[int] = ()) -> list[label_store.LabelLot]:
    """Lots to label: the `chosen` ones first, then up to MAX_FOUND whose number, product or brand has `query`."""
    wanted = [lot_id for lot_id in dict.fromkeys(chosen) if 1 <= lot_id <= MAX_LOT_ID]
    async with db.connection() as conn:
        first = await label_store.lots_by_ids(conn, wanted) if wanted else []
        found = await label_store.find_lots(conn, query.strip() if query else None, limit=MAX_FOUND)
    return first + [lot for lot in found if lot.id not in set(wanted)]


def _check_format(fmt: str, dpi: int | None) -> int:
    """The dpi to render `fmt` with; raises Unprocessable(label_format_invalid)."""
    if fmt not in labels.FORMATS:
        raise Unprocessable(
            f"Unknown label format {fmt!r}; expected one of {', '.join(labels.FORMATS)}.",
            code="label_format_invalid",
            formats=list(labels.FORMATS),
        )
    if dpi is None:
        return DEFAULT_DPI
    if fmt == "zpl" and dpi not in ZPL_DPIS:
        raise Unprocessable(
            f"ZPL labels are made for 203, 300 or 600 dpi printers, not {dpi}.", code="label_format_invalid"
        )
    if not PNG_DPI_RANGE[0] <= dpi <= PNG_DPI_RANGE[1]:
        raise Unprocessable(
            f"dpi must be between {PNG_DPI_RANGE[0]} and {PNG_DPI_RANGE[1]}, not {dpi}.",
            code="label_format_invalid",
        )
    return dpi


def _exit_with_parent(parent_pid: int) -> None:
    """Rendering-process initializer: exit once the server process is gone, however it ended.

    uvicorn re-raises SIGTERM after its graceful shutdown, so atexit never stops the pool; a worker blocked
    on its task queue would otherwise live on as an orphan after every restart.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _executor() -> ProcessPoolExecutor:
    global _processes
    if _processes is None:
        # spawn, not fork: the server process has threads and open sockets a fork would copy.
        _processes = ProcessPoolExecutor(
            RENDER_PROCESSES,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )
    return _processes


def shutdown() -> None:
    """Stop the rendering process (the next render starts a new one)."""
    global _processes
    executor, _processes = _processes, None
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)


async def _off_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`function(*args, **kwargs)` in the rendering process; it must be picklable (a module-level function).

    A crashed rendering process is replaced once; if the new one fails too, the call runs in a thread.
    """
    for _ in range(2):
        try:
            return await asyncio.wrap_future(_executor().submit(function, *args, **kwargs))
        except BrokenProcessPool:
            log.warning("label rendering process died; starting a new one")
            shutdown()
    log.error("label rendering processes keep dying; rendering in a thread")
    return await asyncio.to_thread(function, *args, **kwargs)


def _render_error(error: ValueError) -> Unprocessable:
    # labels/ refuses data it cannot barcode, and a barcode that does not fit the chosen template.
    return Unprocessable(f"This label cannot be drawn: {error}", code="label_unrenderable")


async def render_lot_label(
    lot_id: int,
    fmt: str = "png",
    *,
    dpi: int | None = None,
    template: str = labels.DEFAULT_TEMPLATE,
    symbology: str | None = None,
) -> Rendered:
    """One lot's label as PNG, SVG, PDF or ZPL on a template; raises NotFound (lot) or Unprocessable
    (label_format_invalid: format, dpi, template, symbology; label_unrenderable: the barcode does not fit).

    `dpi` is the printer's (PNG pixels, ZPL density 203/300/600; the dot grid of SVG and PDF), default 300.
    """
    resolution = _check_format(fmt, dpi)
    chosen = _check_choice(template, symbology)
    if chosen.kind == "sheet":
        raise Unprocessable(
            f"The {template} template is an A4 sheet: print it with POST /api/labels/sheet.",
            code="label_format_invalid",
        )
    data = (await _load([lot_id]))[lot_id]
    try:
        content = await _off_loop(
            labels.render_label, data, fmt, dpi=resolution, template=template, symbology=symbology
        )
    except ValueError as error:
        raise _render_error(error) from None
    return Rendered(content, labels.content_type(fmt), f"lot-{lot_id}.{EXTENSIONS[fmt]}")


async def render_sheet(
    items: Sequence[tuple[int, int]], layout: str = "3x8", *, dpi: int | None = None, symbology: str | None = None
) -> Rendered:
    """A PDF of A4 label sheets with `copies` labels of each `(lot_id, copies)`, in order; with `dpi`, every
    module is whole printer dots.

    Raises Unprocessable (validation_error, label_sheet_too_large) before reading anything, and NotFound
    naming every unknown lot before drawing anything.
    """
    if layout not in labels.LAYOUTS:
        raise Unprocessable(
            f"Unknown sheet layout {layout!r}; expected one of {', '.join(labels.LAYOUTS)}.",
            code="validation_error",
            layouts=list(labels.LAYOUTS),
        )
    if dpi is not None:
        _check_format("pdf", dpi)
    if symbology is not None:
        _check_choice(labels.DEFAULT_TEMPLATE, symbology)
    if not items:
        raise Unprocessable("A sheet needs at least one item.", code="validation_error")
    if len(items) > MAX_SHEET_ITEMS:
        raise Unprocessable(f"A sheet takes at most {MAX_SHEET_ITEMS} items.", code="validation_error")
    for _, copies in items:
        if isinstance(copies, bool) or not 1 <= copies <= MAX_COPIES:
            raise Unprocessable(f"copies must be 1 to {MAX_COPIES}, not {copies}.", code="validation_error")
    total = sum(copies for _, copies in items)
    if total > MAX_SHEET_LABELS:
        raise Unprocessable(
            f"{total} labels asked for; one sheet request prints at most {MAX_SHEET_LABELS}.",
            code="label_sheet_too_large",
            requested=total,
            max_labels=MAX_SHEET_LABELS,
        )
    found = await _load([lot_id for lot_id, _ in items])
    plan = [(found[lot_id], copies) for lot_id, copies in items]
    try:
        content = await _off_loop(labels.render_sheet, plan, layout, dpi=dpi, symbology=symbology)
    except ValueError as error:
        raise _render_error(error) from None
    return Rendered(content, labels.content_type("pdf"), f"labels-{layout}.pdf")
