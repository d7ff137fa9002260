"""A fake camera for Chromium: barcodes on a white frame, written as a YUV4MPEG2 file it plays in a loop."""

from __future__ import annotations

from pathlib import Path

import zxingcpp
from PIL import Image

WIDTH, HEIGHT = 640, 480


def symbol(
    content: str, barcode_format: zxingcpp.BarcodeFormat, *, gs1: bool = False, module_px: int = 8, height_px: int = 0
) -> Image.Image:
    """A barcode, `module_px` pixels a module, with a 4-module quiet zone (a linear one `height_px` tall).

    For GS1, `content` is in HRI form, "(01)…(17)…(10)…". A DataMatrix is square, as on ampoule labels: for a
    long message zxing-cpp would otherwise pick a DMRE rectangle (8x64), which it reads back as "]d8", not "]d2".
    """
    options = {"force_square": True} if barcode_format == zxingcpp.BarcodeFormat.DataMatrix else {}
    code = zxingcpp.create_barcode(content, barcode_format, gs1=gs1, **options)
    image = Image.fromarray(code.to_image(scale=module_px, add_quiet_zones=False))
    if height_px:
        image = image.resize((image.width, height_px), Image.Resampling.NEAREST)
    framed = Image.new("L", (image.width + 8 * module_px, image.height + 8 * module_px), 255)
    framed.paste(image, (4 * module_px, 4 * module_px))
    return framed


def arrange(*rows: list[Image.Image]) -> Image.Image:
    """Pictures in rows, left to right, each row under the one before, on white."""
    width = max(sum(p.width for p in row) for row in rows)
    height = sum(max(p.height for p in row) for row in rows)
    sheet = Image.new("L", (width, height), 255)
    y = 0
    for row in rows:
        x = 0
        for picture in row:
            sheet.paste(picture, (x, y))
            x += picture.width
        y += max(p.height for p in row)
    return sheet


def write_y4m(path: Path, picture: Image.Image, *, frames: int = 2, fps: int = 10) -> Path:
    """`picture` centred on a white WIDTH x HEIGHT frame, as grey YUV 4:2:0 frames (luma only, flat chroma)."""
    assert picture.width <= WIDTH and picture.height <= HEIGHT, picture.size
    canvas = Image.new("L", (WIDTH, HEIGHT), 255)
    canvas.paste(picture, ((WIDTH - picture.width) // 2, (HEIGHT - picture.height) // 2))
    luma = canvas.tobytes()
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii")
    path.write_bytes(header + (b"FRAME\n" + luma + chroma + chroma) * frames)
    return path
