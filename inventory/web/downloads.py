"""Files the pages hand out: CSV that spreadsheets open as UTF-8 and never run as formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from litestar import Response

from inventory.web.pages import PAGE_HEADERS

# Litestar adds "; charset=utf-8" to text media types itself (naming it here would give it twice).
CSV_MEDIA_TYPE = "text/csv"
# Excel reads a file as UTF-8 only when it starts with a byte order mark (otherwise "Léa" becomes "LÃ©a").
BOM = "\ufeff"


def spreadsheet_cell(value: object) -> str:
    """A value as CSV text; text a spreadsheet would run as a formula (=, +, -, @ first) gets a leading quote."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r" and not isinstance(value, int | float):
        return "'" + text
    return text


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Response[bytes]:
    """A CSV attachment: UTF-8 with BOM, CRLF lines, the header row first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([spreadsheet_cell(name) for name in header])
    for row in rows:
        writer.writerow([spreadsheet_cell(value) for value in row])
    return Response(
        content=(BOM + out.getvalue()).encode("utf-8"),
        media_type=CSV_MEDIA_TYPE,
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
    )
