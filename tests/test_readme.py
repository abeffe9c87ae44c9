"""Every ``console`` and ``python`` example of README.md runs on the bundled demo, as written.

``console`` blocks hold ``$ .venv/bin/graphkit ...`` commands, each followed by
what it prints (or nothing). They run in order, in one temporary folder that
holds a copy of ``fixtures/``, through the CLI (click's CliRunner), so one
example may read what an earlier one wrote (``eval out/`` after ``report ...
--out out/``). A command must exit 0 and print every line its transcript
shows: plain lines as lines, tables cell by cell (so that the terminal width
does not matter; a ``...`` row stands for rows left out), and a transcript that
shows some of a command's lines shows its table too. ``python`` blocks
run in the same folder. Examples that need the shared data sets
(``/work/shared/datasets``) are skipped, with the reason, when they are absent.
Other instructions (``make``, ``pip``, ``jupyter``) live in ``sh`` blocks.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphkit_cli.main import cli

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
SHARED = Path("/work/shared/datasets")
_BOX = re.compile(r"[│┃┏┓┗┛┡┩┣┫┳┻╇━─┌┐└┘├┤┬┴┼]")
_PROMPT = "$ "
_GRAPHKIT = (".venv/bin/graphkit", "graphkit")


@dataclass
class Example:
    line: int
    lang: str
    code: str
    output: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"README.md:{self.line}"


def _examples() -> list[Example]:
    """The runnable examples in README order: one per ``$`` command, one per python block."""
    examples: list[Example] = []
    lines = README.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = re.fullmatch(r"```(\w*)", lines[i])
        if not match:
            i += 1
            continue
        lang, start = match.group(1), i + 1
        end = next(j for j in range(start, len(lines)) if lines[j] == "```")
        body = lines[start:end]
        if lang == "python":
            examples.append(Example(start + 1, "python", "\n".join(body)))
        elif lang == "console" and not (body and body[0].startswith(_PROMPT)):
            examples.append(Example(start + 1, "malformed", "\n".join(body)))
        elif lang == "console":
            for k, text in enumerate(body):
                if text.startswith(_PROMPT):
                    examples.append(Example(start + k + 1, "console", text[len(_PROMPT):]))
                else:
                    examples[-1].output.append(text)
        i = end + 1
    return examples


EXAMPLES = _examples()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """One folder for all examples, holding a copy of fixtures/ (nothing can write into the repository)."""
    root = tmp_path_factory.mktemp("readme")
    shutil.copytree(REPO / "fixtures", root / "fixtures")
    return root


@pytest.fixture(autouse=True)
def _wide(wide_console):
    """Fewer wrapped cells (tables are compared cell by cell anyway)."""


def test_the_readme_has_examples_of_both_kinds():
    assert sum(e.lang == "console" for e in EXAMPLES) >= 10
    assert sum(e.lang == "python" for e in EXAMPLES) >= 2


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_readme_example_runs(example: Example, workdir: Path, monkeypatch):
    monkeypatch.chdir(workdir)
    needs = [p for p in re.findall(r"/work/shared/datasets/[\w.-]+", example.code)]
    for path in needs:
        if not Path(path).is_dir():
            pytest.skip(f"{example.id} needs the shared data set {path}, which is absent on this machine")
    assert example.lang != "malformed", f"{example.id}: a console block starts with '$ ' (else use a sh block)"
    if example.lang == "python":
        exec(compile(example.code, example.id, "exec"), {"__name__": "__readme__"})
        return
    args = shlex.split(example.code, comments=True)
    assert args[0] in _GRAPHKIT, f"{example.id}: console examples are graphkit commands; put others in a sh block"
    result = CliRunner().invoke(cli, args[1:], catch_exceptions=False)
    assert result.exit_code == 0, f"{example.id}: {example.code}\n{result.output}"
    _check_transcript(example, result.stdout)


def _check_transcript(example: Example, actual: str) -> None:
    wanted_lines = [_norm(x) for x in example.output if x.strip() and not _BOX.search(x)]
    got_lines = {_norm(x) for x in actual.splitlines()}
    for line in wanted_lines:
        assert line in got_lines, f"{example.id}: the README shows {line!r}, the command printed:\n{actual}"
    if wanted_lines and any(x.lstrip().startswith("┏") for x in actual.splitlines()):
        # a reader takes the lines shown for all the command prints: a report --quiet seemed to print no table
        assert any(_BOX.search(x) for x in example.output), (
            f"{example.id}: the README shows some of what the command printed but not its table "
            f"(draw it, with a '...' row for rows left out):\n{actual}")
    wanted_rows = _table_rows(example.output)
    got_rows = set(_table_rows(actual.splitlines()))
    for row in wanted_rows:
        assert row in got_rows, f"{example.id}: the README's table row {row} is not in the output:\n{actual}"


def _table_rows(lines: list[str]) -> list[tuple[str, ...]]:
    """Logical table rows: cells of continuation lines joined, whitespace normalised, '...' rows dropped."""
    rows: list[list[str]] = []
    for text in lines:
        if "│" not in text or not text.lstrip().startswith("│"):
            continue
        cells = [c.strip() for c in text.strip().strip("│").split("│")]
        if rows and cells and not cells[0] and len(cells) == len(rows[-1]):
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells)]
        else:
            rows.append(cells)
    return [tuple(_norm(c) for c in row) for row in rows if not (len(row) == 1 and row[0].strip() == "...")]


def _norm(text: str) -> str:
    return " ".join(text.split())
