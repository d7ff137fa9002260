"""GS1 rules for the label barcode: which symbol a label gets and what it carries."""

from __future__ import annotations

import string

from labels.matrix import MatrixSymbol, datamatrix, gs1_datamatrix
from labels.model import SYMBOLOGIES, LabelData
from labels.symbols import Symbol, code128, gs1_128

# GS1 General Specifications, "GS1 AI encodable character set 82", the only characters AI (10) may hold.
CSET82 = frozenset("!\"%&'()*+,-./" + string.digits + ":;<=>?" + string.ascii_uppercase + "_" + string.ascii_lowercase)
LOT_MAX_LEN = 20  # AI (10) is X..20


def lot_is_gs1(lot: str) -> bool:
    """Whether `lot` can be carried in GS1 AI (10): 1 to 20 characters of CSET 82."""
    return 1 <= len(lot) <= LOT_MAX_LEN and all(char in CSET82 for char in lot)


def _check_gtin(gtin: str) -> None:
    # The service validates GTINs (check digit included); this only guards the barcode's structure,
    # since a wrong length would shift every following AI.
    if len(gtin) != 14 or not all(char in string.digits for char in gtin):
        raise ValueError(f"GTIN must be 14 digits: {gtin!r}")


def _gs1_parts(data: LabelData) -> list[tuple[str, str]]:
    assert data.gtin is not None
    # The lot is variable-length, so it goes last: no FNC1 separator is needed after it.
    return [("01", data.gtin), ("17", data.expiry.strftime("%y%m%d")), ("10", data.lot_number)]


def _uses_gs1(data: LabelData) -> bool:
    if data.gtin is None:
        return False
    _check_gtin(data.gtin)
    return lot_is_gs1(data.lot_number)


def _fallback_code(data: LabelData) -> str:
    if data.own_code:
        return data.own_code
    if data.gtin is not None:
        raise ValueError(
            f"lot {data.lot_number!r} cannot go in a GS1-128 barcode (AI 10 takes 1 to {LOT_MAX_LEN} "
            "characters of the GS1 82-character set: letters, digits and !\"%&'()*+,-./:;<=>?_) "
            "and the label has no own_code to fall back on"
        )
    raise ValueError("a label needs a GTIN or an own_code for its barcode")


def barcode_payload(data: LabelData) -> str:
    """The barcode's human-readable text: GS1 HRI such as "(01)…(17)…(10)…", or the own code."""
    if _uses_gs1(data):
        return "".join(f"({ai}){value}" for ai, value in _gs1_parts(data))
    return _fallback_code(data)


def element_string(data: LabelData) -> str:
    """What a scanner transmits for a GS1 label (no parentheses, no FNC1), e.g. "0103…17…10…"."""
    if not _uses_gs1(data):
        raise ValueError("label does not carry a GS1 barcode")
    return "".join(ai + value for ai, value in _gs1_parts(data))


def symbol_for(data: LabelData, symbology: str | None = None) -> Symbol | MatrixSymbol:
    """The barcode symbol for a label.

    "datamatrix": GS1 DataMatrix when the label has a GTIN and a GS1-safe lot, else a Data Matrix of the own
    code; "gs1-128": GS1-128 (ValueError without GS1 data); "code128": Code 128 of the own code; None: GS1-128
    when it can, else Code 128. Raises ValueError for an unknown symbology.
    """
    if symbology is not None and symbology not in SYMBOLOGIES:
        raise ValueError(f"unknown symbology {symbology!r}; expected one of {', '.join(SYMBOLOGIES)}")
    gs1 = _uses_gs1(data)
    if symbology == "datamatrix":
        return gs1_datamatrix(_gs1_parts(data), barcode_payload(data)) if gs1 else datamatrix(_fallback_code(data))
    if symbology == "gs1-128" and not gs1:
        raise ValueError("a GS1-128 label needs a product GTIN and a lot of 1 to 20 GS1 characters")
    if symbology == "code128":
        return code128(data.own_code or _fallback_code(data))
    if gs1:
        return gs1_128(element_string(data), barcode_payload(data))
    return code128(_fallback_code(data))
