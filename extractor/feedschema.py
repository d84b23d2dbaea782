"""The feed contract as JSON Schema, and the check every feed line passes before it is used.

`record_json_schema()` is generated from `extractor.models.Record`, never written by hand;
docs/record.schema.json is its committed copy (`extractor schema > docs/record.schema.json`),
kept equal by tests/test_schema.py. `validate_line` is what the index and the exports call on
each JSONL line, so a bad line is reported with its line number and the field at fault.
"""
from __future__ import annotations

import json

from pydantic import ValidationError

from .models import Record


def record_json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of one feed line."""
    return Record.model_json_schema()


def schema_text() -> str:
    """The schema as `extractor schema` prints it and docs/record.schema.json stores it."""
    return json.dumps(record_json_schema(), ensure_ascii=False, indent=2) + "\n"


class FeedLineError(ValueError):
    """A feed line that is not a valid record; `field` is the dotted path of the first fault."""

    def __init__(self, lineno: int, field: str | None, message: str):
        self.lineno = lineno
        self.field = field
        self.detail = message
        where = f"field {field}: " if field else ""
        super().__init__(f"line {lineno}: {where}{message}")


def _field_path(loc: tuple, data) -> str:
    """The dotted path of an error location, read against the data so that pydantic's union
    member tags (`total.int`, `total.float`) are dropped: the path names a field of the line."""
    out = ""
    node = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str):
            out += ("." if out else "") + part
            if part not in node:
                break  # a missing field: name it and stop
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out += f"[{part}]"
            node = node[part]
        else:
            break  # below a scalar: the rest is the validator's own naming
    return out or "(record)"


def validate_line(line: str, lineno: int) -> Record:
    """One JSONL line → a Record, or FeedLineError (a ValueError) naming the line and field.

    Validation is strict (no "2024" for 2024, no 1 for true): a line is accepted exactly when
    it satisfies the published JSON Schema, so what the index accepts is what the schema says.
    """
    try:
        return Record.model_validate_json(line, strict=True)
    except ValidationError as exc:
        # Parsed again only to explain the fault: a good line is parsed once (pydantic's).
        try:
            data = json.loads(line)
        except json.JSONDecodeError as jexc:
            raise FeedLineError(lineno, None, f"not valid JSON: {jexc.msg} at column {jexc.colno}") from None
        errors = exc.errors(include_url=False)
        fields = list(dict.fromkeys(_field_path(e["loc"], data) for e in errors))
        first = errors[0]
        more = f" (and {len(fields) - 1} more fields)" if len(fields) > 1 else ""
        got = first.get("input")
        if first["type"] == "missing":
            shown = ""
        else:
            shown = ", got " + ("{…}" if isinstance(got, dict) else json.dumps(got, ensure_ascii=False)[:60])
        raise FeedLineError(lineno, fields[0], f"{first['msg']}{shown}{more}") from None
