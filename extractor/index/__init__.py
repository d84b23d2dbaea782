"""Search over the feed: an embedded SQLite FTS5 index and an OpenSearch bulk export.

The index reads the feed (JSONL of `Record`), never the pipeline's internals. Library calls:
`build_index`, `search`, `export_opensearch`; the CLI wrappers are in `commands`.
"""
from .opensearch import export_opensearch
from .sqlite_index import AgencyYear, Hit, IndexStats, NoIndex, SearchIndexError, agency_years, build_index, search

__all__ = ["build_index", "search", "agency_years", "export_opensearch", "AgencyYear", "Hit", "IndexStats",
           "NoIndex", "SearchIndexError"]
