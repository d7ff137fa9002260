"""Typed wrapper around python-barcode: the one module that imports `barcode`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from barcode.charsets import code128 as _charset
from barcode.codex import Code128 as _Code128
from barcode.codex import Gs1_128 as _Gs1_128

# Code 128 symbol values that are not data characters in every subset.
SHIFT = 98
CODE_C = 99
CODE_B = 100  # FNC4 while in subset B
CODE_A = 101  # FNC4 while in subset A
FNC1 = 102
START_A = 103
START_B = 104
START_C = 105

QUIET_ZONE_MODULES = 10  # ISO/IEC 15417 minimum on each side


@dataclass(frozen=True)
class Symbol:
    """One Code 128 symbol: its codewords, its bar pattern and its human-readable text."""

    kind: Literal["gs1-128", "code128"]
    hri: str  # the line printed under the bars
    codewords: tuple[int, ...]  # start code and data, without the check character and stop
    modules: str  # "1" bar / "0" space per module, start to stop, quiet zones excluded

    @property
    def width_modules(self) -> int:
        """Width of the symbol including both quiet zones, in modules."""
        return len(self.modules) + 2 * QUIET_ZONE_MODULES

    def bars(self) -> list[tuple[int, int]]:
        """The bars as (first module, width in modules), so backends draw one shape per bar."""
        runs: list[tuple[int, int]] = []
        start = -1
        for index, module in enumerate(self.modules):
            if module == "1" and start < 0:
                start = index
            elif module == "0" and start >= 0:
                runs.append((start, index - start))
                start = -1
        if start >= 0:
            runs.append((start, len(self.modules) - start))
        return runs


def _printable_ascii(text: str) -> bool:
    # python-barcode maps a few Latin-1 letters (ñ, ò, ó, ô) to FNC codes, so anything outside
    # printable ASCII would silently become a function character rather than fail.
    return all(" " <= char <= "~" for char in text)


def _symbol(kind: Literal["gs1-128", "code128"], hri: str, make: type[_Code128], data: str) -> Symbol:
    # python-barcode keeps the current subset on the instance, so a second build() of the same
    # object encodes differently: every read gets a fresh instance.
    codewords = tuple(int(value) for value in make(data).encoded)
    built: str = make(data).build()[0]
    checksum = (codewords[0] + sum(i * value for i, value in enumerate(codewords[1:], start=1))) % 103
    modules = "".join(_charset.CODES[value] for value in (*codewords, checksum)) + _charset.STOP + "11"
    if modules != built:  # the ZPL output is generated from the codewords, the images from `built`
        raise RuntimeError(f"python-barcode codewords and bars disagree for {data!r}")
    return Symbol(kind=kind, hri=hri, codewords=codewords, modules=modules)


def gs1_128(element_string: str, hri: str) -> Symbol:
    """A GS1-128 symbol (FNC1 first) for an element string without parentheses or separators."""
    if not _printable_ascii(element_string):
        raise ValueError(f"GS1 element string must be printable ASCII: {element_string!r}")
    return _symbol("gs1-128", hri, _Gs1_128, element_string)


def code128(text: str) -> Symbol:
    """A plain Code 128 symbol carrying `text` exactly."""
    if not text or not _printable_ascii(text):
        raise ValueError(f"Code 128 label code must be non-empty printable ASCII: {text!r}")
    return _symbol("code128", text, _Code128, text)
