"""``graphkit show``: one account, device, IP, stream or ring, from a report's store."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from graphkit.errors import NotFoundError
from graphkit.report.reader import read_report
from graphkit.util.format import format_coins
from graphkit_cli.common import CONTEXT_SETTINGS, safe_text, stdout, with_the_reports_rings

_KIND = {"account": "account", "device": "device", "ip": "IP", "stream": "stream"}


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option("--report", "report_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="OUT_DIR of `graphkit report`: the answer comes from its store (OUT_DIR/graph/).")
@click.option("--neighbours", "shown", type=click.IntRange(0), default=20, show_default=True,
              help="How many of each node's links to list (most coins first).")
@click.option("--json", "as_json", is_flag=True,
              help="Print [{node_id, kind, key, facts, links, neighbours, more_neighbours}] (or a ring of rings.json) "
                   "as JSON on stdout.")
def show(ids: tuple[str, ...], report_dir: Path, shown: int, as_json: bool) -> None:
    """Show what a report knows of one account, device, IP, stream or ring:
    its facts (score, ring and role, coins sent and received, the accounts
    behind an identifier, whether it is a hub or a popular host, when an
    account was created), and its strongest links. Read from the report's
    store, without the tables: a lookup reads only the rows of its ids. An ID
    may name its kind (device:d7, ip:10.0.0.1, stream:s3, ring:R0002); a bare
    ID matches every kind it exists as.

    Example: graphkit show u007282 R0004 --report out/
    """
    from graphkit.report.store import open_store  # polars: for this command only, not for `graphkit -h`

    saved = read_report(report_dir, scores=False)
    store = open_store(report_dir)
    answers: list[dict] = []
    for raw in ids:
        ring_id = raw.removeprefix("ring:")
        if raw.startswith("ring:") or any(r.get("ring_id") == ring_id for r in [*saved.rings, *saved.held_back]):
            answers.append({"ring": saved.ring(ring_id)})
            continue
        try:
            nodes = store.lookup([raw])
        except NotFoundError as exc:  # a mistyped or yesterday's ring id: say which rings this report has
            raise with_the_reports_rings(exc, report_dir, saved) from None
        answers.extend(store.describe(node, neighbours=shown) for node in nodes)
    if as_json:
        click.echo(json.dumps(answers, indent=2, ensure_ascii=False, default=str))
        return
    for answer in answers:
        if "ring" in answer:
            _print_ring(answer["ring"])
        else:
            _print_node(answer)


def _print_ring(ring: dict) -> None:
    if ring.get("held_back"):
        _print_held_back(ring)
        return
    stdout.print(safe_text(f"ring {ring['ring_id']}: rank {ring.get('rank')}, score {ring.get('score')}, "
                           f"{ring.get('size', len(ring['members'])):,} members, "
                           f"{format_coins(ring.get('coins_total') or 0.0)} coins"))
    beneficiaries = ", ".join(f"{b['user_id']} ({format_coins(b.get('coins_in') or 0.0)} coins in)"
                              for b in ring.get("beneficiaries", []))
    if beneficiaries:
        stdout.print(safe_text(f"  beneficiaries: {beneficiaries}"))
    for reason in ring.get("reasons", []):
        stdout.print(safe_text(f"  - {reason}"))
    members = ring["members"]
    stdout.print(safe_text(f"  members: {', '.join(members[:20])}" + (f" and {len(members) - 20:,} more" if len(members) > 20 else "")))


def _print_node(answer: dict) -> None:
    facts = answer["facts"]
    head = f"{_KIND[answer['kind']]} {answer['key']}"
    if "score" in facts:
        head += f": score {facts['score']:.2f}" + (f", ring {facts['ring_id']}" if "ring_id" in facts else "")
        head += f" ({facts['role']})" if "role" in facts else ""
    stdout.print(safe_text(head))
    lines = []
    if "created_at" in facts:
        lines.append(f"created {facts['created_at'][:16].replace('T', ' ')} UTC")
    if "age_days" in facts:
        lines.append(f"{facts['age_days']:.1f} days old at its first gift")
    if facts.get("host"):
        lines.append("hosts streams")
    if facts.get("coins_sent") or facts.get("coins_received"):
        lines.append(f"coins sent {format_coins(facts.get('coins_sent') or 0.0)}, "
                     f"received {format_coins(facts.get('coins_received') or 0.0)}")
    if "senders" in facts:
        lines.append(f"gifted by {facts['senders']:,} accounts" + (" (a popular host)" if facts.get("popular") else ""))
    if "accounts" in facts:
        lines.append(f"linked to {facts['accounts']:,} accounts" + (" (a hub: not walked past)" if facts.get("hub") else ""))
    for line in lines:
        stdout.print(safe_text(f"  {line}"))
    links = ", ".join(f"{n:,} {relation}" for relation, n in answer["links"].items())
    stdout.print(safe_text(f"  links: {links or 'none'}"))
    if answer["neighbours"]:
        table = Table(title=None, box=None, padding=(0, 2))
        for header, justify in (("other", "left"), ("relation", "left"), ("direction", "left"),
                                ("coins", "right"), ("count", "right")):
            table.add_column(header, justify=justify)
        for row in answer["neighbours"]:
            table.add_row(safe_text(row["other"]), row["relation"], row["direction"], format_coins(row["coins"]),
                          f"{row['count']:,}")
        stdout.print(table)
    if answer["more_neighbours"]:
        stdout.print(Text(f"  ... and {answer['more_neighbours']:,} more links (--neighbours N lists more)."))


def _print_held_back(group: dict) -> None:
    """A group investigators' benign decisions hold back: not a ring of this report, and why."""
    members = group["members"]
    stdout.print(safe_text(f"{group['ring_id']}: held back, not reported as a ring (score {group.get('score')}, "
                           f"{len(members):,} members, {format_coins(group.get('coins_total') or 0.0)} coins)"))
    if group.get("reason"):
        stdout.print(safe_text(f"  - {group['reason']}"))
    joined = group.get("joined") or []
    if joined:
        stdout.print(safe_text(f"  joined since the decision: {', '.join(joined[:20])}"
                               + (f" and {len(joined) - 20:,} more" if len(joined) > 20 else "")))
    stdout.print(safe_text(f"  members: {', '.join(members[:20])}" + (f" and {len(members) - 20:,} more" if len(members) > 20 else "")))
