"""Review site: a static, offline HTML view of a feed for the people who check reports by hand.

`build_site(feed, out, panel=None)` writes `index.html` (all records, filterable), one page per
record (tables as printed, every cell's state and source span, checks, narrative, errors, the
agency's other years) and, with a panel folder, its cross-year findings and settled cells.
"""
from .site import build_site, SiteSummary

__all__ = ["build_site", "SiteSummary"]
