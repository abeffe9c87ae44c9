"""``graphkit synth``: write a synthetic platform with planted rings and their ground truth."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from graphkit.synth import FORMATS, MAX_DAYS, MIN_USERS, TIMELINE_FILE, generate, generate_days
from graphkit.synth.flags import with_flags
from graphkit_cli.common import CONTEXT_SETTINGS, UserError, stdout


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("out_dir", type=click.Path(path_type=Path), metavar="OUT_DIR")
@click.option("--users", type=click.IntRange(min=MIN_USERS), default=20_000, show_default=True,
              help="Number of accounts, hosts and ring members included.")
@click.option("--gifts", type=click.IntRange(min=1), default=200_000, show_default=True,
              help="Number of gifts, the planted rings' gifts included.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of every random choice: the same seed writes the same files.")
@click.option("--ring-size-max", type=click.IntRange(min=5), default=None,
              help="Heavy-tailed ring sizes, from 5 to this many accounts (at most a quarter of --users), "
                   "with big look-alikes (viral moments, giveaways). Default: rings of 10-60 accounts.")
@click.option("--flows", is_flag=True, default=False,
              help="Also plant money-flow rings (fan-in, fan-out, cycle, scatter-gather, gather-scatter, chain: "
                   "aged accounts moving big gifts hop after hop within minutes). Default: off.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="File format of the tables.")
@click.option("--days", type=click.IntRange(2, MAX_DAYS), default=None,
              help="Observe the platform day by day: one data folder per day (day-01/, ...) with its "
                   "truth.json, and timeline.json saying which farm is which on each day and the status a "
                   "diff should give it. Farms persist, grow, shrink, split, go quiet, re-form on the same "
                   "devices with new accounts, and appear. --users and --gifts are totals over the days.")
@click.option("--flags", "flags", is_flag=True,
              help="Also write flags.csv, what a trust & safety team already knows: chargebacks on 20%% of the "
                   "members of half the planted rings, and reports or chargebacks on 0.2%% of honest accounts.")
def synth(out_dir: Path, users: int, gifts: int, seed: int, ring_size_max: int | None, flows: bool, fmt: str,
          days: int | None, flags: bool) -> None:
    """Write a synthetic livestream platform to OUT_DIR: users, streams, devices
    and gifts tables with planted rings (account farms, gift laundering loops,
    gifting bursts, cash-out mules) among honest look-alikes (family tablets,
    carrier NAT and campus IPs, promotion waves, fan clubs, internet cafés),
    and truth.json naming each ring's members and beneficiaries.
    --ring-size-max makes ring sizes heavy-tailed (farms of hundreds of
    accounts on a few devices, bursts and mule networks of hundreds) and adds
    viral moments and giveaways to the look-alikes. --flows adds money-flow
    rings (fan-in, fan-out, cycle, scatter-gather, gather-scatter, chain).
    --flags adds a flags table (truth.json then names the flagged rings
    under "flags").

    users.label is "bad" for ring members and "good" for everyone else.
    OUT_DIR must be new, empty or an earlier synth output; writing again
    replaces the tables and truth.json and keeps any other file you added
    (a graphkit.toml).

    With --days N, OUT_DIR holds day-01/ .. day-NN/ (report each one with
    --previous set to the day before's report) and timeline.json.

    Example: graphkit synth out/platform --users 20000 --gifts 200000 --seed 7
    """
    if days is not None:
        if ring_size_max is not None or flows or flags:
            other = "--ring-size-max" if ring_size_max is not None else "--flows" if flows else "--flags"
            raise UserError(f"{other} and --days cannot be combined; leave one out")
        _synth_days(out_dir, users, gifts, seed, fmt, days)
        return
    with stdout.status(f"generating {users:,} users and {gifts:,} gifts (seed {seed})"):
        platform = generate(users=users, gifts=gifts, seed=seed, ring_size_max=ring_size_max, flows=flows)
        if flags:
            platform = with_flags(platform, seed=seed)
        paths = platform.write(out_dir, format=fmt)
    stdout.print(written_table(platform, paths))
    counts: dict[str, int] = {}
    for ring in platform.truth["rings"]:
        counts[ring["kind"]] = counts.get(ring["kind"], 0) + 1
    stdout.print(
        f"{len(platform.truth['rings'])} planted rings ("
        + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        + f"), {platform.truth['summary']['bad_users']:,} accounts labelled bad, "
        f"{len(platform.truth['lookalikes']):,} look-alike groups."
    )
    if flags:
        known = platform.truth["flags"]
        stdout.print(f"flags: chargebacks on {known['ring_accounts']:,} members of {len(known['rings'])} rings, "
                     f"{known['noise_accounts']:,} honest accounts flagged.")
    stdout.print(f"Next: graphkit report {out_dir} --out {out_dir}-report")


def _synth_days(out_dir: Path, users: int, gifts: int, seed: int, fmt: str, days: int) -> None:
    with stdout.status(f"generating {users:,} users and {gifts:,} gifts over {days} days (seed {seed})"):
        timeline = generate_days(days, users=users, gifts=gifts, seed=seed)
        paths = timeline.write(out_dir, format=fmt)
    table = Table(title=f"graphkit synth --days {days}", title_justify="left")
    for column, justify in (("folder", "left"), ("gifts", "right"), ("farms", "right"), ("changes", "left")):
        table.add_column(column, justify=justify)
    for path, platform, story in zip(paths, timeline.days, timeline.truth["days"]):
        changes = [f"{r['identity']} {r['status']}" for r in story["rings"] if r["status"] != "stable" and story["day"] > 1]
        changes += [f"{identity} quiet" for identity in story["quiet"]]
        table.add_row(str(path), f"{platform.gifts.height:,}", f"{len(story['rings']):,}", ", ".join(changes) or "-")
    stdout.print(table)
    stdout.print(f"Wrote {out_dir / TIMELINE_FILE}", markup=False)
    stdout.print(f"Next: graphkit report {paths[0]} --out {out_dir}-report/day-01, then each next day with "
                 f"--previous {out_dir}-report/<the day before>", markup=False)


def written_table(platform, paths: list[Path]) -> Table:
    table = Table(title="graphkit synth", title_justify="left")
    table.add_column("file")
    table.add_column("rows", justify="right")
    table.add_column("size", justify="right")
    frames = platform.frames()
    for path in paths:
        name = path.name.split(".")[0]
        rows = f"{frames[name].height:,}" if name in frames else ""
        table.add_row(str(path), rows, f"{path.stat().st_size / 1e6:,.1f} MB")
    return table
