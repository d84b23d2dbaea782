"""Scan-like inputs made from real report PDFs: pages rendered with pypdfium2, turned slightly
and JPEG-compressed with Pillow as a scanner or a phone leaves them, wrapped into an image-only
PDF. Shared by the OCR tests and benchmarks/bench_ocr.py."""
from __future__ import annotations

import io
from pathlib import Path


def page_images(pdf: Path, dpi: int = 150, angle: float = 0.7, quality: int = 70,
                pages: list[int] | None = None) -> list:
    """The PDF's pages as PIL images (RGB) at `dpi`, rotated by `angle` degrees on a white
    ground and passed through JPEG at `quality`."""
    import pypdfium2
    from PIL import Image

    doc = pypdfium2.PdfDocument(str(pdf))
    out = []
    try:
        for i in range(len(doc)):
            if pages is not None and i + 1 not in pages:
                continue
            img = doc[i].render(scale=dpi / 72).to_pil().convert("RGB")
            if angle:
                img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor="white")
            if quality:
                buf = io.BytesIO()
                img.save(buf, "JPEG", quality=quality)
                img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
            out.append(img)
    finally:
        doc.close()
    return out


def image_pdf(images: list, out: Path, dpi: int = 150) -> Path:
    """An image-only PDF (no text layer), one image a page, as Pillow writes it."""
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi))
    return out


def flat(d: dict, pre: str = "") -> dict:
    """Nested tables → {"row.column": value} (labels and records compared cell by cell)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, f"{pre}{k}."))
        else:
            out[pre + k] = v
    return out
