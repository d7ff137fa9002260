"""ZPL II backend for Zebra thermal printers: one ^XA…^XZ label in printer dots."""

from __future__ import annotations

from labels.layout import Bars, Cells, Plan, Text
from labels.matrix import MatrixSymbol
from labels.symbols import CODE_A, CODE_B, CODE_C, FNC1, START_A, START_B, START_C, Symbol

# ZPL II ^BC invocation codes (Programming Guide, "Code 128 Invocation Characters").
_START = {START_A: (">9", "A"), START_B: (">:", "B"), START_C: (">;", "C")}
# '>' introduces an invocation code and '^'/'~' are command prefixes, so those three data characters
# are themselves written as invocation codes.
_SPECIAL = {">": ">0", "^": "><", "~": ">="}
# ^FH hex escapes (default indicator '_') for text fields: command prefixes and the indicator itself.
_TEXT_ESCAPES = str.maketrans({"_": "_5F", "^": "_5E", "~": "_7E"})


def field_data(symbol: Symbol) -> str:
    """^FD data for ^BC mode N spelling out `symbol`'s codewords, so the printer encodes the same bars.

    Mode N follows explicit start, subset and FNC1 codes (">;>8…" is GS1-128). Mode D was not used: it
    strips parentheses from the data, and '(' and ')' are legal in a GS1 lot number.
    """
    start, subset = _START[symbol.codewords[0]]
    out = [start]
    for value in symbol.codewords[1:]:
        if subset == "C" and value < 100:
            out.append(f"{value:02d}")
        elif value == FNC1:
            out.append(">8")
        elif value == CODE_C:
            out.append(">5")
            subset = "C"
        elif value == CODE_B and subset != "B":
            out.append(">6")
            subset = "B"
        elif value == CODE_A and subset != "A":
            out.append(">7")
            subset = "A"
        elif value < 64 or (subset == "B" and value < 95):
            char = chr(value + 32)
            out.append(_SPECIAL.get(char, char))
        else:  # control characters and FNC2-4 never come from printable-ASCII input
            raise ValueError(f"Code 128 value {value} in subset {subset} has no ZPL spelling here")
    return "".join(out)


# ^BX escape sequences (ECC 200) after the escape character chosen in ^BX, here '_': "_1" is FNC1 and
# "_dNNN" a character by its decimal code, so a '_' in the data (CSET 82 allows it) is spelled "_d095".
MATRIX_ESCAPE = "_"


def matrix_field_data(symbol: MatrixSymbol) -> str:
    """^FD data for ^BX spelling out `symbol`'s data: FNC1 first and as the separator for GS1, '_' escaped."""
    body = symbol.data.replace("_", "_d095")
    if not symbol.gs1:
        return body
    return "_1" + body.replace("\x1d", "_1")


def _code(code: Bars | Cells, dpmm: float) -> str:
    at = f"^FO{round(code.x_mm * dpmm)},{round(code.y_mm * dpmm)}"
    module = max(round(code.module_mm * dpmm), 1)
    if isinstance(code, Bars):
        return f"{at}^BY{module}^BCN,{round(code.height_mm * dpmm)},N,N,N,N^FD{field_data(code.symbol)}^FS"
    rows, columns = len(code.symbol.rows), len(code.symbol.rows[0])
    # The symbol's own size, so the printer draws exactly the matrix the other formats draw.
    return f"{at}^BXN,{module},200,{columns},{rows},,{MATRIX_ESCAPE}^FD{matrix_field_data(code.symbol)}^FS"


def _text(text: Text, width_dots: int, dpmm: float, dpi: int) -> str:
    height = max(round(text.size_pt * dpi / 72), 10)
    font = f"^A0N,{height},{height}"
    data = text.text.translate(_TEXT_ESCAPES)
    x = round(text.x_mm * dpmm)
    if text.anchor == "start":
        # ^FT places a text field by the left end of its baseline, as the plan does.
        return f"^FT{x},{round(text.baseline_mm * dpmm)}{font}^FH^FD{data}^FS"
    # Font 0 is narrower than the layout face, so centred and right-aligned lines use a one-line ^FB
    # block to align on the printer; ^FB places by the top of the line and reads '\\' as an escape.
    top = round(text.baseline_mm * dpmm - 0.8 * height)
    if text.anchor == "middle":
        half = min(x, width_dots - x)
        left, block, align = x - half, 2 * half, "C"
    else:
        left, block, align = 0, x, "R"
    data = data.replace("\\", "\\\\")
    return f"^FO{left},{top}{font}^FB{block},1,0,{align},0^FH^FD{data}^FS"


def render_zpl(plan: Plan, dpi: int) -> bytes:
    """The label as ZPL II for a `dpi` printer: UTF-8 text, Code 128 with ^BC or Data Matrix with ^BX."""
    dpmm = dpi / 25.4
    width, height = round(plan.width_mm * dpmm), round(plan.height_mm * dpmm)
    lines = [
        "^XA",
        "^CI28",  # field data is UTF-8
        f"^PW{width}",
        f"^LL{height}",
        "^LH0,0",
        _code(plan.code, dpmm),
    ]
    lines += [_text(text, width, dpmm, dpi) for text in plan.texts]
    lines += ["^PQ1", "^XZ", ""]
    return "\n".join(lines).encode("utf-8")
