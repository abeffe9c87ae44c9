"""Every command has -h, a help text ending with an Example: line, and a README section.

Commands are taken from the click group, so a command added later is checked
without touching this file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphkit_cli.main import cli

README = Path(__file__).resolve().parent.parent / "README.md"
COMMANDS = sorted(cli.commands)


def test_the_group_has_commands():
    assert {"report", "demo", "validate"} <= set(COMMANDS)


@pytest.mark.parametrize("name", [None, *COMMANDS])
def test_help_ends_with_an_example(name):
    args = [name, "-h"] if name else ["-h"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    command = cli.commands[name] if name else cli
    lines = [line.strip() for line in (command.help or "").strip().splitlines() if line.strip()]
    assert lines, f"graphkit {name} has no help text"
    assert lines[-1].startswith("Example: graphkit"), f"graphkit {name}: help must end with an Example: line"
    assert lines[-1] in " ".join(result.output.split()), "the Example: line must survive click's formatting"


@pytest.mark.parametrize("name", COMMANDS)
def test_readme_has_a_section_per_command(name):
    readme = README.read_text(encoding="utf-8")
    commands = readme.split("\n## Commands\n", 1)
    assert len(commands) == 2, "README.md needs a ## Commands section"
    section = re.split(r"\n## ", commands[1], maxsplit=1)[0]
    assert f"\n### graphkit {name}\n" in section, f"README.md ## Commands has no ### graphkit {name} section"


def test_report_help_names_every_folder_it_writes_including_the_store():
    """The store (graph/) is what show, expand and path --report read; a user who deletes it loses them."""
    result = CliRunner().invoke(cli, ["report", "-h"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for folder in ("rings/", "rejected/", "graph/", "redacted/"):
        assert folder in text, f"graphkit report -h does not name {folder}"
