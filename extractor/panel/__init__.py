"""The agency-year panel: what a researcher loads into pandas, R, Stata or DuckDB.

`build_panel(feeds, dir)` writes three tables (reports, cells, findings) as CSV and Parquet; the
cross-report knowledge (cells settled from other years, cross-year findings, copied sections)
lives here and never in the per-report record. docs/panel.md describes every column.
"""
from __future__ import annotations

__all__ = ["PanelSummary", "build_panel"]


def __getattr__(name: str):
    # Loaded on first use: the build brings datasketch (and with it scipy) and pyarrow, ~85 MB
    # and half a second that every `extractor extract` paid because the review pages read
    # panel.records.
    if name in __all__:
        from . import build
        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
