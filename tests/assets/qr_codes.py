"""Reading the QR codes the pages draw, as a phone would: the SVG a page embeds is drawn into a
bitmap and decoded by zxing-cpp, so a test states what a scan gives, never what the app's own QR
code function would make."""

from __future__ import annotations

import re
from urllib.parse import unquote

import numpy as np
import numpy.typing as npt
import zxingcpp


def draw_svg_qr_code(data_uri: str, scale: int = 4) -> npt.NDArray[np.uint8]:
    """A greyscale bitmap of an SVG QR code drawn as 1-unit-wide axis-parallel strokes
    (what segno writes), for a barcode reader. Anything else is refused, not guessed at."""
    header, _, body = data_uri.partition(",")
    assert header.startswith("data:image/svg+xml"), header
    svg = unquote(body.replace("&#39;", "'"))
    [viewbox] = re.findall(r"viewBox='0 0 (\d+) (\d+)'", svg)
    [path] = re.findall(r"<path [^>]*\bd='([^']+)'", svg)
    width, height = int(viewbox[0]), int(viewbox[1])
    margin = 4  # white around the code, as the label paper is
    dark = np.zeros((height + 2 * margin, width + 2 * margin), dtype=bool)
    x = y = 0.0

    def draw(x0: float, y0: float, x1: float, y1: float) -> None:
        if y0 == y1:  # a horizontal stroke covers the row it is centred in
            row = int(y0 - 0.5) + margin
            dark[row, int(min(x0, x1)) + margin : int(max(x0, x1)) + margin] = True
        elif x0 == x1:
            column = int(x0 - 0.5) + margin
            dark[int(min(y0, y1)) + margin : int(max(y0, y1)) + margin, column] = True
        else:
            raise AssertionError(f"not an axis-parallel stroke: {(x0, y0, x1, y1)}")

    for command, arguments in re.findall(r"([MmLlHhVv])([^MmLlHhVvZz]*)", path):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", arguments)]
        relative = command.islower()
        if command in "HhVv":
            for n in numbers:
                nx, ny = (x + n if relative else n, y) if command in "Hh" else (x, y + n if relative else n)
                draw(x, y, nx, ny)
                x, y = nx, ny
            continue
        pairs = list(zip(numbers[::2], numbers[1::2], strict=True))
        for i, (a, b) in enumerate(pairs):
            nx, ny = (x + a, y + b) if relative else (a, b)
            if command in "Ll" or i > 0:  # after a move, further pairs are lines
                draw(x, y, nx, ny)
            x, y = nx, ny
    image = np.where(dark, 0, 255).astype(np.uint8)
    return np.kron(image, np.ones((scale, scale), dtype=np.uint8))


def decode_qr_data_uri(data_uri: str) -> str:
    """The text of the one QR code in a ``data:image/svg+xml`` image."""
    found = zxingcpp.read_barcodes(draw_svg_qr_code(data_uri), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"{len(found)} QR codes in the image"
    return found[0].text
