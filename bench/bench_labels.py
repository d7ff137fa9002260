"""Throughput of the label renderer per format and symbology, against the bare encoders of each symbology."""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Callable

from labels import FORMATS, LabelData, render_label, render_sheet

# Distinct lots so no run is a repeat of the previous one.
LABELS = [
    LabelData(
        brand="Filorga",
        product="NCEF-Shot 5x3ml",
        lot_number=f"A{index:03d}B",
        expiry=datetime.date(2028, 12, 31),
        gtin="03760001234565",
        storage_note="Store at 2-8 °C",
    )
    for index in range(16)
]
MIN_SECONDS = 1.5


def per_second(work: Callable[[int], object]) -> float:
    """Calls of `work(i)` per second, measured over at least MIN_SECONDS after one warm-up call."""
    work(0)
    calls = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < MIN_SECONDS:
        work(calls)
        calls += 1
    return calls / elapsed


def baseline_per_second() -> float:
    """Bare python-barcode GS1-128 PNG images per second (no label, no text layout)."""
    # The one import of `barcode` outside labels/: it is the yardstick, not part of the service.
    from barcode.codex import Gs1_128
    from barcode.writer import ImageWriter

    def bare(index: int) -> object:
        data = LABELS[index % len(LABELS)]
        return Gs1_128(f"01{data.gtin}17281231" + f"10{data.lot_number}", writer=ImageWriter()).render()

    return per_second(bare)


def matrix_baseline_per_second() -> float:
    """Bare zxing-cpp GS1 DataMatrix encodes per second, with their module image (no label, no text)."""
    # The yardstick: the encoder labels/matrix.py wraps, called directly.
    import zxingcpp

    def bare(index: int) -> object:
        data = LABELS[index % len(LABELS)]
        content = f"[01]{data.gtin}[17]281231[10]{data.lot_number}"
        barcode = zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
        return barcode.to_image(scale=1, add_quiet_zones=False)

    return per_second(bare)


def _render(fmt: str, index: int) -> bytes:
    return render_label(LABELS[index % len(LABELS)], fmt)


def _render_ampoule(fmt: str, index: int) -> bytes:
    return render_label(LABELS[index % len(LABELS)], fmt, dpi=203, template="ampoule")


def main() -> None:
    """Print labels per second for each format, the 100-label sheet time and the baseline ratio."""
    rates: dict[str, float] = {}
    for fmt in FORMATS:
        rates[fmt] = per_second(functools.partial(_render, fmt))
        print(f"{fmt:>4}: {rates[fmt]:8.0f} labels/s (standard, GS1-128)")
    matrix_rates: dict[str, float] = {}
    for fmt in FORMATS:
        matrix_rates[fmt] = per_second(functools.partial(_render_ampoule, fmt))
        print(f"{fmt:>4}: {matrix_rates[fmt]:8.0f} labels/s (ampoule, GS1 DataMatrix, 203 dpi)")

    sheet_items = [(data, 100 // len(LABELS) + (index < 100 % len(LABELS))) for index, data in enumerate(LABELS)]
    assert sum(copies for _, copies in sheet_items) == 100
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        render_sheet(sheet_items, "3x8")
        runs.append(time.perf_counter() - start)
    print(f"sheet: 100 labels on 3x8 A4 in {min(runs) * 1000:.0f} ms (best of 5)")

    bare = baseline_per_second()
    print(f"python-barcode Gs1_128(...).render() with ImageWriter: {bare:8.0f} /s")
    print(f"png labels/s vs bare python-barcode render: {rates['png'] / bare:.2f}x")
    bare_matrix = matrix_baseline_per_second()
    print(f"zxing-cpp create_barcode(DataMatrix, gs1) + module image: {bare_matrix:8.0f} /s")
    print(f"ampoule png labels/s vs bare DataMatrix encode: {matrix_rates['png'] / bare_matrix:.2f}x")


if __name__ == "__main__":
    main()
