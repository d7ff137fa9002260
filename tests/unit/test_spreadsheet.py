"""One CSV rule for every export: formulas quoted, phone numbers and numbers kept, UTF-8 with a BOM."""

from __future__ import annotations

import csv
import io

import pytest

from inventory.domain.spreadsheet import BOM, cell, csv_file, csv_lines


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("+33 6 12 34 56 78", "+33 6 12 34 56 78"),
        ("-3", "-3"),
        ("(01) 23.45-67/89", "(01) 23.45-67/89"),
        ("Léa Martin", "Léa Martin"),
        ("", ""),
        (None, ""),
        (-4, "-4"),
        (2.5, "2.5"),
    ],
)
def test_a_cell_never_runs_as_a_formula(value: object, expected: str) -> None:
    assert cell(value) == expected


def test_lines_end_in_crlf_and_quote_what_csv_needs() -> None:
    text = csv_lines([["a", 'say "hi"', "x,y"], [1, None, "=1+1"]])
    assert text == 'a,"say ""hi""","x,y"\r\n1,,\'=1+1\r\n'


def test_a_file_starts_with_the_bom_and_reads_back() -> None:
    data = csv_file(["name", "phone"], [["Léa", "+33 6 12"], ["=evil()", None]])
    assert data.startswith(BOM.encode("utf-8"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["name", "phone"], ["Léa", "+33 6 12"], ["'=evil()", ""]]
