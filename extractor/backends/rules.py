"""The `rules` backend: offline, deterministic narrative extraction (extractor.narrative.rules)."""
from __future__ import annotations

import argparse

from ..models import Narrative, Sections
from ..narrative import rules, typed
from . import NarrativeResult, register

# Recorded as the record's prompt_version: which rules made the narrative. v2: issue 11's rules
# (cue words and platform lexicon as data in extractor/narrative/data/).
RULES_VERSION = "rules.v2"


class RulesBackend:
    """No model, no network, no cache needed: the report's own enumerations and cue words;
    the typed fields (area, addresses, rectification, fees) from extractor.narrative.typed."""

    name = "rules"
    needs_key = False
    concurrency = 0  # no limit: pure CPU work, thread-safe (no shared mutable state)
    runs_in_workers = True  # cheap, picklable, CPU-bound: the batch narrates inside its worker processes

    def narrate(self, text: str, sections: Sections, record_id: str | None = None) -> NarrativeResult:
        try:
            problems, improvements, platforms = rules.extract(text, sections)
            problems, improvements, rectification, fees = typed.fill(text, sections, problems, improvements)
        except Exception as exc:  # noqa: BLE001 - a rule bug becomes an error on this record
            return NarrativeResult(narrative=Narrative(method=self.name, status="failed",
                                                       error=f"{type(exc).__name__}: {exc}"),
                                   prompt_version=RULES_VERSION)
        return NarrativeResult(
            narrative=Narrative(method=self.name, status="ok", problems=problems,
                                improvements=improvements, platforms=platforms,
                                prior_year_rectification=rectification, information_fees=fees),
            prompt_version=RULES_VERSION)

    def close(self) -> None:
        pass


@register("rules")
def _from_args(args: argparse.Namespace) -> RulesBackend:
    return RulesBackend()
