"""Usage errors of every command are one line on stderr with exit code 2 (CONTRACT.md, exit codes).

Commands are taken from the click group, so a command added later is checked
without touching this file.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from graphkit_cli.main import cli

COMMANDS = sorted(cli.commands)


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def one_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("graphkit: error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_an_out_of_range_option_is_one_line_naming_option_value_range_and_help():
    line = one_line(invoke("report", "fixtures/demo", "--out", "x", "--top", "0"))
    assert line == "graphkit: error: --top: 0 is not in the range x>=1 (see graphkit report -h)"


@pytest.mark.parametrize("name", COMMANDS)
def test_an_unknown_option_is_one_line_for_every_command(name):
    line = one_line(invoke(name, "--no-such-option"))
    assert "--no-such-option" in line and f"graphkit {name} -h" in line


@pytest.mark.parametrize("name", [n for n in COMMANDS if cli.commands[n].params
                                  and any(p.required for p in cli.commands[n].params)])
def test_a_missing_argument_or_option_is_one_line_for_every_command(name):
    line = one_line(invoke(name))
    assert "missing" in line.lower() and f"graphkit {name} -h" in line


def test_an_unknown_command_is_one_line_with_a_suggestion():
    line = one_line(invoke("reprot"))
    assert "reprot" in line and "report" in line and "graphkit -h" in line


def test_an_unknown_group_option_is_one_line():
    assert "--nope" in one_line(invoke("--nope", "report"))


def test_a_bad_choice_is_one_line():
    line = one_line(invoke("export", "fixtures/demo", "--graph", "money", "--out", "x.graphml"))
    assert line.startswith("graphkit: error: --graph: 'money' is not one of")


def test_no_arguments_still_prints_the_help():
    result = CliRunner().invoke(cli, [])
    assert "Usage: graphkit" in result.output
