"""Data Matrix (ECC 200) symbols, encoded by zxing-cpp: the one module that imports `zxingcpp`.

zxing-cpp is already the service's reader of rendered labels (tests) and writes ECC 200 with FNC1 first for
GS1 data (symbology identifier ]d2): one well-kept library for both directions, with no Python of our own
implementing Reed-Solomon or the ECC 200 placement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import zxingcpp

# GS1 General Specifications 5.6.3: a quiet zone of one module on every side of a GS1 DataMatrix.
QUIET_ZONE_MODULES = 1


@dataclass(frozen=True)
class MatrixSymbol:
    """One ECC 200 Data Matrix: its dark modules row by row, what it carries, and its readable text."""

    kind: Literal["datamatrix"]
    hri: str  # "(01)…(17)…(10)…" for GS1 data, else the text itself
    gs1: bool  # FNC1 first: scanners transmit ]d2 and the element string
    data: str  # what a scanner transmits: the element string (GS, \x1d, after variable-length AIs) or the text
    rows: tuple[str, ...]  # "1" dark / "0" light per module, top row first, quiet zone excluded

    @property
    def width_modules(self) -> int:
        """Columns including the quiet zones."""
        return len(self.rows[0]) + 2 * QUIET_ZONE_MODULES

    @property
    def height_modules(self) -> int:
        """Rows including the quiet zones."""
        return len(self.rows) + 2 * QUIET_ZONE_MODULES

    def runs(self) -> list[tuple[int, int, int]]:
        """Dark modules as (row, first column, length) runs, so backends draw one rectangle per run."""
        found: list[tuple[int, int, int]] = []
        for row_index, row in enumerate(self.rows):
            start = -1
            for column, module in enumerate(row + "0"):
                if module == "1" and start < 0:
                    start = column
                elif module == "0" and start >= 0:
                    found.append((row_index, start, column - start))
                    start = -1
        return found


def _modules(barcode: zxingcpp.Barcode) -> tuple[str, ...]:
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    height, width = image.shape[:2]
    pixels = bytes(memoryview(image))  # type: ignore[arg-type]  # nanobind's Image has the buffer protocol
    return tuple(
        "".join("1" if pixels[row * width + column] < 128 else "0" for column in range(width)) for row in range(height)
    )


def gs1_datamatrix(parts: list[tuple[str, str]], hri: str) -> MatrixSymbol:
    """A GS1 DataMatrix (FNC1 first, FNC1 after variable-length AIs not last) of (AI, value) pairs."""
    # Square brackets around each AI: values may hold parentheses (CSET 82 allows them), never brackets.
    content = "".join(f"[{ai}]{value}" for ai, value in parts)
    try:
        barcode = zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    except (ValueError, RuntimeError) as error:
        raise ValueError(f"cannot encode {hri!r} as GS1 DataMatrix: {error}") from error
    data = barcode.bytes.decode("ascii")
    return MatrixSymbol(kind="datamatrix", hri=hri, gs1=True, data=data, rows=_modules(barcode))


def datamatrix(text: str) -> MatrixSymbol:
    """A plain Data Matrix carrying `text` exactly (printable ASCII: this service's lot code)."""
    if not text or not all(" " <= char <= "~" for char in text):
        raise ValueError(f"Data Matrix label code must be non-empty printable ASCII: {text!r}")
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.DataMatrix)
    return MatrixSymbol(kind="datamatrix", hri=text, gs1=False, data=text, rows=_modules(barcode))
