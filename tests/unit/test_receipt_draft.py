"""The receive page's draft lines: what the hidden fields carry back, merging, and the booking's fingerprint."""

from __future__ import annotations

from datetime import date

from inventory.web.receipt_draft import DraftLine, added, decode, decode_all, fingerprint

CODE = "0103760000100014172708081" + "0LOT-1\x1d21SN1"


def test_a_line_survives_its_hidden_field_separators_included() -> None:
    scanned = DraftLine(quantity=2, barcode=CODE)
    typed = DraftLine(quantity=5, product_id=7, lot_number="Ab-1", expiry_date=date(2027, 3, 1))
    assert "\x1d" not in scanned.encode()  # escaped in JSON: a hidden field never holds a control character
    assert decode(scanned.encode()) == scanned
    assert decode(typed.encode()) == typed


def test_anything_but_a_line_is_refused_whole() -> None:
    good = DraftLine(quantity=1, barcode=CODE).encode()
    for bad in (
        "",
        "[]",
        "{",
        '{"barcode": "x"}',
        '{"barcode": "x", "quantity": 0}',
        '{"barcode": "x", "quantity": true}',
        '{"product_id": 1, "lot_number": "L", "expiry_date": "2027-02-30", "quantity": 1}',
        '{"barcode": "x", "quantity": 1, "product_id": 3}',
    ):
        assert decode(bad) is None, bad
        assert decode_all([good, bad]) is None
    assert decode_all([good] * 501) is None
    assert decode_all([]) == []


def test_the_same_code_or_lot_again_adds_to_its_line() -> None:
    first = DraftLine(quantity=1, barcode=CODE)
    typed = DraftLine(quantity=3, product_id=7, lot_number="ab-1", expiry_date=date(2027, 3, 1))
    lines, index = added([first, typed], DraftLine(quantity=2, barcode=CODE))
    assert (index, lines[0].quantity, len(lines)) == (0, 3, 2)
    lines, index = added(lines, DraftLine(quantity=1, product_id=7, lot_number=" AB-1 ", expiry_date=date(2027, 3, 1)))
    assert (index, lines[1].quantity) == (1, 4)
    lines, index = added(lines, DraftLine(quantity=1, product_id=7, lot_number="AB-1", expiry_date=date(2027, 3, 2)))
    assert (index, len(lines)) == (2, 3)  # another expiry is another line (and the page says it conflicts)


def test_the_fingerprint_changes_with_anything_booked() -> None:
    lines = [DraftLine(quantity=1, barcode=CODE)]
    base = fingerprint(1, None, None, lines)
    assert base == fingerprint(1, None, None, list(lines))
    assert base != fingerprint(2, None, None, lines)
    assert base != fingerprint(1, "Supplier", None, lines)
    assert base != fingerprint(1, None, None, [DraftLine(quantity=2, barcode=CODE)])
