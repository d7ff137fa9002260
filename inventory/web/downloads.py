"""Files the pages hand out: attachments, CSV ones built by the one spreadsheet rule (inventory.domain.spreadsheet)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from litestar import Response

from inventory.domain.spreadsheet import csv_file
from inventory.web.pages import PAGE_HEADERS

# Litestar adds "; charset=utf-8" to text media types itself (naming it here would give it twice).
CSV_MEDIA_TYPE = "text/csv"


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Response[bytes]:
    """A CSV attachment: UTF-8 with BOM, CRLF lines, the header row first."""
    return csv_attachment(filename, csv_file(header, rows))


def csv_attachment(filename: str, content: bytes) -> Response[bytes]:
    """CSV bytes (already with their BOM) as an attachment of the pages."""
    return attachment(filename, content, CSV_MEDIA_TYPE)


def attachment(filename: str, content: bytes, media_type: str) -> Response[bytes]:
    """A file the pages hand out to be saved (a PDF, a CSV), with the pages' headers."""
    return Response(
        content=content,
        media_type=media_type,
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
    )
