"""The normalised document every loader produces and every later stage reads."""
from __future__ import annotations

from dataclasses import dataclass, field


class LoadError(Exception):
    """A file that cannot be read as a report: the message says why, for that one file."""


@dataclass
class Document:
    """One report as text. Loaders render real table grids into `text` as tab-separated rows
    (one grid row a line, merged cells as empty cells), so the table reader sees one layout;
    every span in a record is an offset into `text`."""
    text: str
    path: str
    sha256: str
    format: str
    encoding: str | None = None
    row: int | None = None
    title: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # scraper/crawler header fields (发布时间 …)
    not_report: str | None = None  # why this input is not an annual report, when it is not
    warnings: list[str] = field(default_factory=list)
    # OCR boxes (load/ocr.py regions_of): (start, end, page, box, text, raw), sorted by start
    regions: list[tuple] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.sha256[:16] + (f"-r{self.row}" if self.row is not None else "")
