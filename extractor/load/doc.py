"""Legacy Word files (.doc) and WPS Office files (.wps): converted to .docx by LibreOffice, then
read by the .docx loader, so tables keep their merged cells exactly as a .docx does.

Why LibreOffice (headless `soffice --convert-to docx`) and not antiword or catdoc: those two
print plain text, with table rows flattened to separated text and merged cells lost, which the
table reader cannot always put back in the right columns; LibreOffice rebuilds the Word table
grid (gridSpan / vMerge) so the .docx loader writes every number in its column. See
docs/formats.md for the figures.

A .wps from WPS Office is nearly always a Word 97 binary (the OLE2 file a .doc is) under another
name; LibreOffice detects the format from the bytes, and also opens Microsoft Works .wps files.
A file that is really a .docx (ZIP) under either name goes straight to the .docx loader.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

from ..document import Document, LoadError
from . import register

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound-file signature of .doc / WPS files
# Stream names (stored UTF-16LE in the OLE2 directory) of a Word 97 / WPS Office file, and of a
# Microsoft Works .wps (CONTENTS).
_DOCUMENT_STREAMS = ("WordDocument", "CONTENTS")
DEBIAN_PACKAGE = "libreoffice-writer-nogui"
CONVERT_TIMEOUT = float(os.environ.get("EXTRACTOR_SOFFICE_TIMEOUT", "180"))


def soffice() -> str | None:
    """The LibreOffice executable, or None when LibreOffice is not installed."""
    given = os.environ.get("EXTRACTOR_SOFFICE")
    if given:
        return given if Path(given).exists() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def missing_converter_message(kind: str) -> str:
    return (f"{kind} files are converted by LibreOffice, which is not installed: "
            f"`apt-get install {DEBIAN_PACKAGE}` (Debian/Ubuntu), or save the file as .docx or PDF")


def convert_to_docx(data: bytes, suffix: str) -> bytes:
    """The bytes of a .docx that LibreOffice writes for a .doc/.wps/.rtf file's bytes."""
    exe = soffice()
    if exe is None:
        raise LoadError(missing_converter_message(suffix))
    with tempfile.TemporaryDirectory(prefix="extractor-soffice-") as tmp:
        work = Path(tmp)
        src = work / f"input{suffix}"
        src.write_bytes(data)
        # A profile of its own for each conversion: two LibreOffice processes sharing one
        # profile (parallel workers, or a desktop session) make the second exit doing nothing.
        profile = (work / "profile").as_uri()
        cmd = [exe, "--headless", "--norestore", "--nologo", f"-env:UserInstallation={profile}",
               "--convert-to", "docx", "--outdir", str(work / "out"), str(src)]
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=CONVERT_TIMEOUT, env={**os.environ, "HOME": tmp})
        except subprocess.TimeoutExpired:
            raise LoadError(f"LibreOffice did not convert the file within {CONVERT_TIMEOUT:g} s")
        except OSError as exc:
            raise LoadError(f"LibreOffice could not be started ({exc.strerror or exc}): "
                            f"`apt-get install {DEBIAN_PACKAGE}`")
        out = work / "out" / "input.docx"
        if not out.exists():
            # Damaged or password-protected files: LibreOffice exits 0 and writes nothing.
            detail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
            detail = [d for d in detail if "javaldx" not in d]
            raise LoadError("LibreOffice could not convert the file (damaged, password-protected, "
                            "or not a Word/WPS document)" + (f": {detail[-1]}" if detail else ""))
        return out.read_bytes()


def _kind(data: bytes) -> str:
    if data[:8] == OLE2:
        return "ole2"
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if data.lstrip()[:5] == b"{\\rtf":
        return "rtf"  # Word saves RTF under .doc too; LibreOffice reads it
    return "other"


@register(".doc", ".wps")
def load_doc(path: Path, data: bytes, sha: str) -> Iterator[Document]:
    from .docx import load_docx

    suffix = path.suffix.lower()
    fmt = suffix.lstrip(".")
    kind = _kind(data)
    if not data.strip(b"\x00 \r\n\t"):
        raise LoadError("empty file")
    if kind == "zip":  # a .docx under a .doc/.wps name
        for doc in load_docx(path, data, sha):
            doc.warnings.append(f"{fmt}: the file is a .docx (ZIP) under a {suffix} name")
            yield dataclasses.replace(doc, format=fmt)
        return
    if kind == "other":
        raise LoadError(f"not a Word or WPS document: no OLE2, RTF or ZIP signature at the start of the {suffix} file")
    if kind == "ole2" and not any(name.encode("utf-16-le") in data for name in _DOCUMENT_STREAMS):
        raise LoadError(f"not a Word or WPS document: the {suffix} file is an OLE2 container without a "
                        f"WordDocument stream (an Excel or PowerPoint file under this name, or damaged)")
    converted = convert_to_docx(data, ".rtf" if kind == "rtf" else suffix)
    for doc in load_docx(path, converted, sha):
        # A damaged file LibreOffice cannot parse as Word it imports as raw text: the bytes
        # show up as replacement characters, and the file's signature with them.
        garbage = doc.text.count("\ufffd")
        if garbage > 20 or garbage > 0.01 * len(doc.text):
            raise LoadError(f"LibreOffice could not convert the file as a Word/WPS document (damaged?): "
                            f"it read as raw bytes ({garbage} undecodable characters)")
        yield dataclasses.replace(doc, format=fmt, warnings=doc.warnings + [f"{fmt}: converted to .docx by LibreOffice"])
