"""``graphkit diff``: what changed between two reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from graphkit.config import Config
from graphkit.util.format import format_coins
from graphkit_cli.common import CONTEXT_SETTINGS, safe_text, stdout

if TYPE_CHECKING:
    from graphkit.history.diff import ReportDiff

__all__ = ["diff"]

_SHOWN = 30


@click.command("diff", context_settings=CONTEXT_SETTINGS)
@click.argument("old_out", type=click.Path(path_type=Path, file_okay=False), metavar="OLD_OUT")
@click.argument("new_out", type=click.Path(path_type=Path, file_okay=False), metavar="NEW_OUT")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder for diff.json, diff.md and diff.html (other files there are kept).")
@click.option("--min-jaccard", type=click.FloatRange(0.0, 1.0, min_open=True), default=Config().match_min_jaccard,
              show_default=True,
              help="The least member overlap (Jaccard) for a ring to continue an earlier one.")
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON on stdout.")
def diff(old_out: Path, new_out: Path, out_dir: Path | None, min_jaccard: float, as_json: bool) -> None:
    """Show what changed between two reports of graphkit report.

    Each ring of NEW_OUT is matched to the rings of OLD_OUT by member overlap
    (one to one, Hungarian assignment on Jaccard) and gets a status: new,
    stable, grown, shrunk, merged (it holds large parts of several earlier
    rings), split (an earlier ring's members went into several) or re-formed
    (new accounts on the devices and IPs of an earlier ring that nothing else
    continues: at least 2 in common, making at least half of those of the ring
    with fewer); earlier
    rings that nothing continues went quiet, and a group NEW_OUT held back
    because investigators judged it benign is held_back (with their
    decision), not quiet. For each ring: members who
    joined or left, and coins and beneficiaries before and now. --out also
    writes diff.html, an offline overview with the rings coloured by status.

    Example: graphkit diff out-monday/ out-tuesday/ --out diff-tuesday/
    """
    from graphkit.history import diff_reports, match_settings, write_diff  # scipy: not for `graphkit -h`

    result = diff_reports(old_out, new_out, **{**match_settings(Config()), "min_jaccard": min_jaccard})
    written = write_diff(result, out_dir, old=str(old_out), new=str(new_out)) if out_dir is not None else []
    if as_json:
        click.echo(json.dumps({**result.to_dict(), "files": [str(p) for p in written]}, indent=2, ensure_ascii=False))
        return
    stdout.print(_table(result))
    for path in written:
        stdout.print(f"Wrote {path}", markup=False)


def _table(result: ReportDiff) -> Table:
    counts = ", ".join(f"{n} {status}" for status, n in result.counts().items() if n) or "no rings in either report"
    table = Table(title=f"What changed: {counts}", title_justify="left")
    for column, justify in (("ring", "left"), ("status", "left"), ("before", "left"), ("joined", "right"),
                            ("left", "right"), ("coins before", "right"), ("coins now", "right")):
        table.add_column(column, justify=justify)
    changed = [c for c in result.changes if c.status != "stable"]
    for change in changed[:_SHOWN]:
        table.add_row(safe_text(change.ring_id or "-"), change.status, safe_text(", ".join(change.previous_ids) or "-"),
                      f"{len(change.joined):,}", f"{len(change.left):,}",
                      "-" if change.coins_before is None else format_coins(change.coins_before),
                      "-" if change.coins_after is None else format_coins(change.coins_after))
    if len(changed) > _SHOWN:
        table.caption = f"... and {len(changed) - _SHOWN:,} more changed rings (all in diff.json)"
    return table
