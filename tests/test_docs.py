"""The docs cannot drift from the CLI (in the manner of sqlite-utils' test_docs.py): docs/cli.md is
every command's --help as generated now, every command is introduced in the README, and every
option of every command appears in the README or docs/. Commands and options are read from the
parser, so a command another module registers is checked like the built-in ones."""
from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from helpers import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import cli_docs  # noqa: E402

from extractor.cli import build_parser  # noqa: E402


def _docs_text() -> str:
    texts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(texts)


def missing_from_docs(parser: argparse.ArgumentParser, docs: str, readme: str) -> list[str]:
    """What a user could not find: commands the README does not introduce, options no doc names."""
    missing = []
    for name, sub in cli_docs.subcommands(parser).items():
        if f"extractor {name}" not in readme:
            missing.append(f"command `extractor {name}` is not in README.md")
        for action in sub._actions:
            for opt in action.option_strings:
                if opt.startswith("--") and opt != "--help" and opt not in docs:
                    missing.append(f"option {opt} of `extractor {name}` is not in README.md or docs/")
    return missing


COMMANDS = sorted(cli_docs.subcommands(build_parser()))


def test_cli_md_is_the_current_help():
    """docs/cli.md is regenerated from --help; a new command or option makes it stale."""
    want = cli_docs.render()
    have = cli_docs.DOC.read_text(encoding="utf-8") if cli_docs.DOC.exists() else ""
    assert have == want, "docs/cli.md is stale: run python scripts/cli_docs.py"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "cli_docs.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme_and_its_help_in_cli_md(command):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"extractor {command}" in readme, f"README.md does not mention `extractor {command}`"
    assert f"## extractor {command}\n" in cli_docs.DOC.read_text(encoding="utf-8")


def test_every_option_is_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert missing_from_docs(build_parser(), _docs_text(), readme) == []


def test_the_check_fails_for_an_undocumented_command_or_option():
    """The checks can fail: a command and an option nobody documented are both reported."""
    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    extra = subs.add_parser("frobnicate", help="a command nobody documented")
    extra.add_argument("--wibble")
    cli_docs.subcommands(parser)["extract"].add_argument("--undocumented-flag", action="store_true")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = missing_from_docs(parser, _docs_text(), readme)
    assert "command `extractor frobnicate` is not in README.md" in missing
    assert "option --wibble of `extractor frobnicate` is not in README.md or docs/" in missing
    assert "option --undocumented-flag of `extractor extract` is not in README.md or docs/" in missing
