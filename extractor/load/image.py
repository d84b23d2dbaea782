"""Image files (.png, .jpg, .jpeg, .tif, .tiff): a photographed or scanned report page read by
OCR (`ocr.py`). A multi-page TIFF is one page per frame. Boxes in provenance are in pixels."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Iterator

from ..document import Document, LoadError
from . import ocr, register

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


@register(*IMAGE_SUFFIXES)
def load_image(path: Path, data: bytes, sha: str) -> Iterator[Document]:
    if ocr.MODE == "never":
        raise LoadError("an image: its text needs OCR, which is off (--ocr never)")
    if not ocr.available():
        raise LoadError(f"an image: its text needs OCR. {ocr.MISSING}")
    try:
        from PIL import Image, ImageSequence
        image = Image.open(io.BytesIO(data))
        frames = [f.copy() for f in ImageSequence.Iterator(image)]
    except Exception as exc:  # PIL raises UnidentifiedImageError, OSError, SyntaxError…
        raise LoadError(f"cannot open image: {type(exc).__name__} {exc}".strip())
    progress = ocr.Progress(path.name, len(frames))
    out: list[str] = []
    regions: list = []
    offset = 0
    for n, frame in enumerate(frames, 1):
        for line in ocr.layout(ocr.read_image(frame)):
            regions.extend(ocr.regions_of(line, n, offset=offset))
            out.append(line.text)
            offset += len(line.text) + 1
        progress.page(n)
    text = "\n".join(out) + "\n"
    if not text.strip():
        raise LoadError("an image with no text that OCR could read")
    warnings = [f"image: read by OCR (rapidocr), {len(frames)} page(s); OCR'd numbers are held to the table identities"]
    yield Document(text=text, path=str(path), sha256=sha, format="image", encoding=None,
                   warnings=warnings, regions=regions)
