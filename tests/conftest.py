"""Test-wide fixtures. The autouse one keeps every test out of the user's cache and environment."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """A temp LLM cache dir, and no API key or endpoint taken from the user's environment."""
    monkeypatch.setenv("EXTRACTOR_CACHE_DIR", str(tmp_path / "llm-cache"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_ORG_ID", "DEEPSEEK_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    yield
