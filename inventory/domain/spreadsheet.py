"""CSV that spreadsheets open as UTF-8 and never run as formulas: one rule for every export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

# Excel reads a file as UTF-8 only when it starts with a byte order mark (otherwise "Léa" becomes "LÃ©a").
BOM = "\ufeff"
# A leading + or - is harmless when the rest is a phone number or a number: no formula can be spelt with these.
_NUMBER_OR_PHONE = re.compile(r"[+\-][0-9 ().\-/]*")


def cell(value: object) -> str:
    """A value as CSV text; text a spreadsheet would run as a formula (=, @, tab, CR, or +/- then letters) gets a quote.

    OWASP's CSV-injection rule, keeping "+33 6 12 34 56 78" and "-3" as they are.
    """
    text = "" if value is None else str(value)
    if text and (text[0] in "=@\t\r" or (text[0] in "+-" and not _NUMBER_OR_PHONE.fullmatch(text))):
        return "'" + text
    return text


def csv_lines(rows: Iterable[Sequence[object]]) -> str:
    """Rows as CSV text with CRLF line ends (RFC 4180), every cell guarded by `cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return out.getvalue()


def csv_file(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A whole CSV file: UTF-8 with a BOM, the header row first."""
    return (BOM + csv_lines([header, *rows])).encode("utf-8")
