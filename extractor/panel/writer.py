"""A panel table written as it streams: UTF-8 CSV with BOM (Excel opens it) and Parquet, in
batches, so no table is ever held whole in memory."""
from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from ..audit import COUNT_KEYS

COUNT_COLUMNS = tuple(k.replace(":", "_") for k in COUNT_KEYS)
import pyarrow.parquet as pq

BATCH = 20_000

REPORTS = pa.schema([
    ("record_id", pa.string()), ("file", pa.string()), ("source_row", pa.int64()),
    ("agency", pa.string()), ("agency_key", pa.string()), ("province", pa.string()),
    ("city", pa.string()), ("county", pa.string()), ("level", pa.string()), ("year", pa.int64()),
    ("template", pa.string()), ("is_report", pa.bool_()), ("checks_failed", pa.string()),
    ("errors", pa.int64()),
    # issue 16: failed check items per kind and responsibility (the report's fault or the reading's)
    ("source_problems", pa.int64()), ("extraction_problems", pa.int64()),
    *((name, pa.int64()) for name in COUNT_COLUMNS),
])
CELLS = pa.schema([
    ("record_id", pa.string()), ("file", pa.string()), ("source_row", pa.int64()),
    ("agency_key", pa.string()), ("year", pa.int64()), ("table", pa.string()), ("row", pa.string()),
    ("column", pa.string()), ("value", pa.float64()), ("how", pa.string()), ("note", pa.string()),
])
FINDINGS = pa.schema([
    ("kind", pa.string()), ("agency_key", pa.string()), ("file_a", pa.string()), ("year_a", pa.int64()),
    ("file_b", pa.string()), ("year_b", pa.int64()), ("section", pa.string()), ("similarity", pa.float64()),
    ("expected", pa.float64()), ("found", pa.float64()), ("message", pa.string()),
])


def _csv_value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class TableWriter:
    """Rows (dicts with the schema's columns) to DIR/NAME.csv and DIR/NAME.parquet."""

    def __init__(self, out_dir: Path, name: str, schema: pa.Schema, batch: int = BATCH):
        self.schema = schema
        self.batch = batch
        self.names = schema.names
        self.rows = 0
        self._csv_fh = open(out_dir / f"{name}.csv", "w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._csv_fh)
        self._csv.writerow(self.names)
        self._parquet = pq.ParquetWriter(out_dir / f"{name}.parquet", schema, compression="zstd")
        self._batch: dict[str, list] = {n: [] for n in self.names}
        self._pending = 0

    def add(self, row: dict) -> None:
        values = [row.get(n) for n in self.names]
        self._csv.writerow([_csv_value(v) for v in values])
        for n, v in zip(self.names, values):
            self._batch[n].append(v)
        self._pending += 1
        self.rows += 1
        if self._pending >= self.batch:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._parquet.write_batch(pa.RecordBatch.from_pydict(self._batch, schema=self.schema))
            self._batch = {n: [] for n in self.names}
            self._pending = 0

    def close(self) -> None:
        self._flush()
        self._parquet.close()
        self._csv_fh.close()
