"""``graphkit path``: the strongest chain of evidence linking two accounts."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.text import Text

from graphkit.config import load_config
from graphkit_cli.common import (
    CONTEXT_SETTINGS,
    columns_option,
    config_option,
    data_source,
    outside_data_dir_option,
    read_data,
    report_store,
    safe_text,
    stdout,
    window_options,
)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--data", "data_dir", default=None, type=click.Path(path_type=Path, file_okay=False),
              help="The data directory (users, streams, devices, gifts).")
@click.option("--report", "report_dir", default=None, type=click.Path(path_type=Path, file_okay=False),
              help="OUT_DIR of `graphkit report`: answer from its store (OUT_DIR/graph/) when the window and hub "
                   "settings are the report's, else read the data that report read (instead of --data).")
@columns_option
@outside_data_dir_option
@config_option
@window_options
@click.option("--json", "as_json", is_flag=True,
              help="Print {a, b, linked, hub_cap, steps: [{source, target, relation, text, hubs}]} as JSON on "
                   "stdout (hubs: the popular hosts a step passes through).")
def path(a: str, b: str, data_dir: Path | None, report_dir: Path | None, columns: Path | None,
         allow_outside_data_dir: bool, config_path: Path | None, since: str | None, until: str | None,
         as_json: bool) -> None:
    """Print the strongest chain of evidence linking accounts A and B across
    every relation (shared device or IP, gift, co-gifting in a stream), step
    by step. A link costs more the more common and the weaker it is (a device
    of 2 accounts is cheap; a 1-coin gift to a host with hundreds of senders
    is dear). Shared identifiers linked to more than hub_cap accounts are not
    used; popular hosts only when no other chain exists, and then each step
    through one says so.

    A and B are read from --data, or from the store of a --report OUT_DIR
    (the data it read when asked with another window).

    Example: graphkit path u000236 u004242 --data fixtures/demo
    """
    from graphkit.detect.evidence import evidence_path  # for this command only, not for `graphkit -h`

    config = load_config(config_path, since=since, until=until)
    store = report_store(report_dir, data_dir, config)
    if store is not None:  # the report's store answers: the links of the nodes the search settles, read by key
        steps = store.path(a, b)
    else:
        data_dir, columns, allow_outside_data_dir = data_source(data_dir, columns, allow_outside_data_dir, report_dir)
        tables = read_data(data_dir, columns=columns, config=config, allow_outside_data_dir=allow_outside_data_dir)
        steps = evidence_path(tables, a, b, config=config)
    if as_json:
        click.echo(json.dumps({
            "a": a, "b": b, "linked": bool(steps), "hub_cap": config.hub_cap,
            "steps": [{"source": s.source, "target": s.target, "relation": s.relation, "text": s.text,
                       "hubs": list(s.hubs)} for s in steps],
        }, indent=2, ensure_ascii=False))
        return
    if not steps and a == b:
        stdout.print(safe_text(f"{a} and {b} are the same id: there is no chain to find."))
        return
    if not steps:
        stdout.print(safe_text(f"{a} and {b} are not linked by any chain of evidence "
                               f"(hubs with more than {config.hub_cap} accounts are not followed)."))
        return
    # ids come from the data: no markup, no escape sequences or line breaks
    stdout.print(safe_text(f"{a} -> {b}: {len(steps)} step{'s' if len(steps) != 1 else ''}"))
    for i, step in enumerate(steps, 1):
        stdout.print(safe_text(f"{i:>3}. {step.text}"))
    hubs = sorted({h for step in steps for h in step.hubs})
    if hubs:
        names = ", ".join(h.split(":", 1)[1] for h in hubs)
        stdout.print(Text("note: ", style="yellow") + safe_text(
            f"no chain avoids popular hosts ({names}): a gift to a host that many accounts gift is weak evidence."))
