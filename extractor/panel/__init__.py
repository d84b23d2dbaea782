"""The agency-year panel: what a researcher loads into pandas, R, Stata or DuckDB.

`build_panel(feeds, dir)` writes three tables (reports, cells, findings) as CSV and Parquet; the
cross-report knowledge (cells settled from other years, cross-year findings, copied sections)
lives here and never in the per-report record. docs/panel.md describes every column.
"""
from .build import PanelSummary, build_panel

__all__ = ["PanelSummary", "build_panel"]
