"""``report.md``: the cluster report for people (CONTRACT.md, Output).

A summary of the data, the method and its settings in one paragraph, then
each top ring: score, members, the money moved and to whom, the reasons, a
members table and the link to its HTML view.

Every string that comes from the data (ids, file names, reasons that quote
ids) is escaped with :func:`escape_markdown` before it is written: ids are
chosen by attackers, and nothing in them may render as a link, an image,
emphasis or HTML.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import polars as pl

from graphkit.config import Config
from graphkit.detect.signals import account_ages
from graphkit.graphs.window import apply_window
from graphkit.model import Report, Ring
from graphkit.score import young_account
from graphkit.util.display import display_text
from graphkit.util.format import format_coins, format_number, name_words, plural

__all__ = ["escape_markdown", "render_markdown"]

# Characters that may start markup anywhere in a line (CommonMark and GitHub's dialect): emphasis,
# code, links and images (``[`` and ``]``: with them escaped, ``(``, ``)`` and ``!`` cannot form a
# link or an image), raw HTML and autolinks in angle brackets (``<``: with it escaped, ``>`` cannot
# close a tag), entities, table cells, strikethrough, and ``@`` (GitHub's e-mail autolinks).
_INLINE = re.compile(r"([\\`*_{}\[\]<&|~@])")
# GitHub's extended autolinks: ``www.`` and ``scheme:`` (http://, mailto:, xmpp:); a colon that
# follows a letter and is followed by text is escaped, a colon in a sentence ("loops: a") is not
_WWW = re.compile(r"(?i)\b(www)\.")
_SCHEME = re.compile(r"(?<=[A-Za-z]):(?=\S)")
# GitHub's emoji shortcodes (:smile:, :+1:) open with a colon; a time (18:56:48) keeps its colons
_SHORTCODE = re.compile(r"(?<![0-9\\]):(?=[A-Za-z0-9_+\-]+:)")
# what starts a block only at the start of a line: a list, a heading, a quote, a setext underline
_LINE_START = re.compile(r"^([-+=>#]|\d+(?=[.)]))")


def escape_markdown(text: Any) -> str:
    """Escape a data-derived string so it renders as its display form, and as nothing else.

    The string is first put in its display form
    (:func:`graphkit.util.display.display_text`: line breaks, controls, bidi
    controls such as U+202E and zero-width characters shown as ``\\u202e``),
    so it stays on one line and cannot spoof what is around it. Then only what
    Markdown (CommonMark and GitHub's dialect) could read as markup *where it
    stands* is backslash-escaped: emphasis, code, links and images, raw HTML,
    table cell breaks and autolinks anywhere; a colon only after a scheme-like
    word (``http\\://``) or before an emoji shortcode (``\\:smile:``), ``www.``;
    a list, heading or quote marker only at the start. Plain sentences (``a -> b, then c (same device as b): 48%``) come
    out unchanged, so ``report.md`` pastes cleanly. Surrounding whitespace is
    dropped.

    Parameters
    ----------
    text : object
        Converted with ``str``; ``None`` becomes an empty string.

    Returns
    -------
    str

    Examples
    --------
    >>> escape_markdown("[click](http://x.y)")
    '\\\\[click\\\\](http\\\\://x.y)'
    >>> escape_markdown("a|b_c")
    'a\\\\|b\\\\_c'
    >>> escape_markdown("x\\x1b[2J")
    'x\\\\\\\\x1b\\\\[2J'
    >>> escape_markdown("58 coins (48%) went round in loops: a -> b, then c (same device as b) -> a")
    '58 coins (48%) went round in loops: a -> b, then c (same device as b) -> a'
    >>> escape_markdown("> quote")
    '\\\\> quote'
    """
    if text is None:
        return ""
    value = display_text(text).strip()
    value = _INLINE.sub(r"\\\1", value)
    value = _SCHEME.sub(r"\\:", value)
    value = _SHORTCODE.sub(r"\\:", value)
    value = _WWW.sub(r"\1\\.", value)
    match = _LINE_START.match(value)
    if match:
        if match.group(1)[0].isdigit():
            end = match.end()
            value = value[:end] + "\\" + value[end:]
        else:
            value = "\\" + value
    return value


def render_markdown(
    report: Report,
    *,
    top: int | None = None,
    links: Mapping[str, str] | None = None,
    generator: str = "graphkit",
    max_members: int = 50,
) -> str:
    """Render ``report.md``.

    Parameters
    ----------
    report : Report
        The result of :func:`graphkit.pipeline.analyze`.
    top : int, optional
        Describe at most this many rings in detail (all by default).
    links : mapping, optional
        ``ring_id`` -> path of its HTML view relative to the report folder
        (``rings/R0001.html``); rings without one get no link.
    generator : str
        Named in the first line.
    max_members : int
        Rows of a ring's members table; the rest are counted (all are in
        ``rings.json``).

    Returns
    -------
    str
        Markdown text ending with a newline.
    """
    links = dict(links or {})
    shown = report.rings if top is None else report.rings[:top]
    parts = [f"# graphkit report\n\nGenerated by {escape_markdown(generator)}.\n"]
    parts.append(_data_section(report))
    parts.append(_method_section(report.params, report.summary.get("baseline")))
    parts.append(_rings_overview(report, shown, links))
    if report.decisions is not None:
        parts.append(_decisions_section(report))
    details = _member_details(report, shown)
    for ring in shown:
        parts.append(_ring_section(ring, details.get(ring.ring_id), links.get(ring.ring_id), max_members))
    return "\n".join(parts).rstrip("\n") + "\n"


# --- sections -----------------------------------------------------------------


def _data_section(report: Report) -> str:
    lines = ["## Data", ""]
    tables = report.tables
    if tables is not None and tables.stats:
        if tables.source is not None:
            lines += [f"Read from {escape_markdown(tables.source)}.", ""]
        # a window read only its rows: the rows skipped outside it get a column of their own
        windowed = any(stats.out_of_window for stats in tables.stats.values())
        lines += [
            "| table | file | rows read | accepted | rejected |" + (" out of window |" if windowed else "")
            + " time range (UTC) |",
            "|---|---|---:|---:|---:|" + ("---:|" if windowed else "") + "---|",
        ]
        optional = tuple(name for name in ("flags",) if name in tables.stats)  # a row only when given
        for name in ("users", "streams", "devices", "gifts", *optional):
            stats = tables.stats.get(name)
            if stats is None:
                lines.append(f"| {name} | absent | | | |" + (" |" if windowed else "") + " |")
                continue
            span = (
                f"{stats.time_min:%Y-%m-%d %H:%M} to {stats.time_max:%Y-%m-%d %H:%M}"
                if stats.time_min is not None and stats.time_max is not None else ""
            )
            file = escape_markdown(stats.path.name) if stats.path is not None else "(frame)"
            lines.append(
                f"| {name} | {file} | {stats.rows_read:,} | {stats.accepted:,} | {stats.rejected:,} |"
                + (f" {stats.out_of_window:,} |" if windowed else "") + f" {span} |"
            )
        lines.append("")
        notes = []
        flags = report.summary.get("flags")
        if flags:
            notes.append(
                f"{flags['flags_used']:,} of {flags['flags_read']:,} flags were known by the end of the data and "
                f"used, on {flags['accounts_flagged']:,} accounts (chargebacks, bans, reports: the known-bad signal)."
            )
        if tables.unknown_accounts:
            notes.append(
                f"{tables.unknown_accounts:,} accounts appear in gifts, devices or streams but not in users "
                "(allowed, counted here)."
            )
        if tables.rejected_rows:
            reasons = [
                f"{count:,} {escape_markdown(reason)} in {name}"
                for name in sorted(tables.stats)
                for reason, count in tables.stats[name].rejected_by_reason.items()
            ]
            notes.append(
                f"{plural(tables.rejected_rows, 'row')} broke the data contract ({'; '.join(reasons)}); "
                "they are in `rejected/` with their reasons."
            )
        placeholders = report.summary.get("placeholder_devices") or []
        if placeholders:
            shown = ", ".join(f"{escape_markdown(repr(p['device_id']))} ({plural(p['accounts'], 'account')})"
                              for p in placeholders[:10])
            more = f" and {len(placeholders) - 10:,} more" if len(placeholders) > 10 else ""
            notes.append(
                f"Device ids that are placeholders, not devices (`placeholder_device_ids`): {shown}{more}; "
                "they link no one."
            )
        if notes:
            lines += [" ".join(notes), ""]
    counts = {k: v for k, v in report.summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if counts:
        lines.append(
            "Counts: " + ", ".join(f"{format_number(v)} {escape_markdown(name_words(k))}" for k, v in counts.items()) + "."
        )
        lines.append("")
    return "\n".join(lines)


def _method_section(params: Mapping[str, Any], baseline: Mapping[str, Any] | None = None) -> str:
    params = {**Config().to_params(), **params}
    young_days = (baseline or {}).get("young_days")
    young = (
        f"{young_account(young_days)}, the platform's 10th percentile of that age, capped at "
        f"{_days(params.get('new_account_days'))} days"
        if isinstance(young_days, (int, float))
        else f"younger at the first gift they sent than the platform's 10th percentile, capped at "
        f"{_days(params.get('new_account_days'))} days"
    )

    def get(name: str) -> Any:
        return params.get(name)

    method = str(get("community_method"))
    if method == "leiden":
        community = (
            f"Leiden ({get('leiden_objective')} objective, resolution {get('resolution')}, seed {get('seed')}; "
            f"communities above {get('max_community_size')} accounts are split again)"
        )
    else:
        community = f"{escape_markdown(method)} (seed {get('seed')})"
    dropped = f"Rings scoring under {get('min_score'):g} are dropped. " if get("min_score") else ""
    window = params.get("since"), params.get("until")
    span = ""
    if any(window):
        span = (
            f" Only events from {escape_markdown(window[0] or 'the start')} to "
            f"{escape_markdown(window[1] or 'the end')} are used."
        )
    text = (
        "Accounts are linked by the coins they gift each other (weight "
        f"{get('weight_gift')}), by the devices and IPs they share (weight {get('weight_shared')}; "
        f"a device or IP seen with more than {get('hub_cap')} accounts is a hub, such as a carrier NAT or a "
        "campus network, and links no one pair by pair; a placeholder device id links no one at all) and by "
        f"gifting the same stream within {get('cogift_window_s')} s "
        f"of each other (weight {get('weight_cogift')}). Groups are found with {community}, and also proposed "
        "by the dense-block, synchrony, money-loop and fan-in detectors; the accounts behind each hub, and the "
        f"gifters of each stream's {get('cogift_window_s')} s bucket with more than {get('cogift_stream_cap')} "
        f"gifters and {get('burst_min_excess'):g}x its chance level, are proposed as whole groups, whatever their "
        "size, and their signals tell a farm from a carrier NAT or a viral moment. Each group of at least "
        f"{get('min_ring_size')} accounts gets a score in [0, 1] from its signals (shared devices; young "
        f"accounts: {young}; synchronised gifting; coins concentrated on few receivers; coins flowing back), "
        "with the reasons below. "
        f"{dropped}The top {get('top')} rings are reported."
        f"{span} Every setting is in `rings.json` under `params`."
    )
    return f"## Method\n\n{text}\n"


def _rings_overview(report: Report, shown: tuple[Ring, ...], links: Mapping[str, str]) -> str:
    lines = ["## Rings", ""]
    total = len(report.rings)
    if not total:
        lines += ["No ring was found with these settings.", ""]
        return "\n".join(lines)
    more = f"; the top {len(shown)} are described below" if len(shown) < total else ""
    lines += [f"{plural(total, 'ring')} found, most suspicious first{more}.", ""]
    lines += ["| rank | ring | score | members | coins | kind | first reason |", "|---:|---|---:|---:|---:|---|---|"]
    for ring in shown:
        anchor = _anchor(ring)
        lines.append(
            f"| {ring.rank} | [{escape_markdown(ring.ring_id)}](#{anchor}) | {ring.score:.2f} | {ring.size:,} | "
            f"{format_coins(ring.coins_total)} | {escape_markdown(_kind(ring.kind))} | "
            f"{escape_markdown(ring.reasons[0]) if ring.reasons else ''} |"
        )
    lines += [
        "",
        "In the members tables, account age is the days from the account's creation to the first gift it "
        "sent in the data used (blank when it sent none), and devices counts the devices the account was "
        "seen on there, in brackets those also used by another member of the ring.",
        "",
    ]
    return "\n".join(lines)


def _decisions_section(report: Report, max_trail: int = 200) -> str:
    """Groups held back by benign decisions (each with why), confirmed rings' new members, and the audit trail."""
    lines = ["## Investigators' decisions", ""]
    held = report.held_back
    if held:
        lines += [f"Held back, not reported above: {plural(len(held), 'group')} that scored as rings, that "
                  "investigators judged benign, and that stayed materially the same since "
                  "(`decision_min_jaccard`, `benign_max_growth`); `rings.json` lists them under `held_back`.", ""]
        lines += ["| group | score | members | coins | why |", "|---|---:|---:|---:|---|"]
        for group in held:
            lines.append(f"| {escape_markdown(group.ring_id)} | {group.score:.2f} | {group.size:,} | "
                         f"{format_coins(group.coins_total)} | {escape_markdown(group.reason())} |")
        lines.append("")
    else:
        lines += ["No group was held back by a benign decision.", ""]
    tracked = [r for r in report.rings if any(d.verdict == "confirmed" and d.ring_id is not None for d in r.decisions or ())]
    for ring in tracked:
        new = ", ".join(escape_markdown(m) for m in ring.new_members[:50])
        more = f" and {len(ring.new_members) - 50:,} more" if len(ring.new_members) > 50 else ""
        lines.append(f"- Ring {escape_markdown(ring.ring_id)} was confirmed earlier; "
                     + (f"new members since: {new}{more}." if ring.new_members else "no new member since."))
    if tracked:
        lines.append("")
    trail = report.decisions or ()
    lines += [f"The audit trail: {plural(len(trail), 'decision')}, oldest first (the latest about each ring or "
              "account holds; all are in `rings.json` under `decisions`).", ""]
    if trail:
        lines += ["| about | verdict | decided | by | note |", "|---|---|---|---|---|"]
        for decision in trail[:max_trail]:
            about = (f"ring {escape_markdown(decision.ring_id)}" if decision.ring_id is not None
                     else f"account {escape_markdown(decision.user_id)}")
            lines.append(f"| {about} | {decision.verdict} | {escape_markdown(decision.decided_at or '')} | "
                         f"{escape_markdown(decision.by or '')} | {escape_markdown(decision.note or '')} |")
        if len(trail) > max_trail:
            lines.append(f"\n{len(trail) - max_trail:,} more decisions are in `rings.json`.")
        lines.append("")
    return "\n".join(lines)


def _ring_section(ring: Ring, members: pl.DataFrame | None, link: str | None, max_members: int) -> str:
    lines = [f"### {ring.rank}. Ring {escape_markdown(ring.ring_id)}: score {ring.score:.2f}", ""]
    lines.append(f"- **Members:** {ring.size:,} accounts; pattern: {escape_markdown(_kind(ring.kind))}.")
    money = f"- **Money moved:** {format_coins(ring.coins_total)} coins sent by the members"
    if ring.beneficiaries:
        to = [
            f"{escape_markdown(b.user_id)} received {format_coins(b.coins_in)} ({b.share_of_ring:.0%} of the ring's "
            f"coins, {b.share_of_income:.0%} of its income)"
            for b in ring.beneficiaries
        ]
        money += "; " + "; ".join(to)
    lines.append(money + ".")
    if ring.money_path:
        path = escape_markdown(ring.describe_money_path())
        lines.append(f"- **Coins went round:** {path}.")
    if ring.sources:
        lines.append(f"- **Found by:** {', '.join(escape_markdown(s.replace('_', ' ')) for s in ring.sources)}.")
    if link:
        lines.append(f"- **View:** [{escape_markdown(link)}](<{_link_target(link)}>)")
    lines.append("")
    if ring.reasons:
        lines += ["Reasons:", ""] + [f"- {escape_markdown(r)}" for r in ring.reasons] + [""]
    if members is not None and members.height:
        lines += [
            "| member | role | score | account age (days) | devices (shared in ring) |",
            "|---|---|---:|---:|---:|",
        ]
        for row in members.head(max_members).iter_rows(named=True):
            age = "" if row["age_days"] is None else f"{row['age_days']:.0f}"
            score = "" if row["score"] is None else f"{row['score']:.2f}"
            devices = f"{row['devices']} ({row['shared_devices']})" if row["devices"] else "0"
            lines.append(
                f"| {escape_markdown(row['user_id'])} | {escape_markdown(row['role'] or '')} | {score} | {age} | "
                f"{devices} |"
            )
        if members.height > max_members:
            lines.append("")
            lines.append(f"And {plural(members.height - max_members, 'more member')} (all are in `rings.json`).")
        lines.append("")
    return "\n".join(lines)


# --- member details -------------------------------------------------------------

_ROLE_ORDER = {"beneficiary": 0, "funder": 1, "member": 2}


def _member_details(report: Report, rings: tuple[Ring, ...]) -> dict[str, pl.DataFrame]:
    """Per ring: user_id, role, score, age_days, devices, shared_devices (one vectorised pass)."""
    if not rings:
        return {}
    members = pl.DataFrame(
        {
            "ring": [r.ring_id for r in rings for _ in r.members],
            "user_id": [u for r in rings for u in r.members],
        },
        schema={"ring": pl.Utf8, "user_id": pl.Utf8},
    )
    scores = report.user_scores.select(
        pl.col("user_id").cast(pl.Utf8),
        pl.col("score").cast(pl.Float64),
        (pl.col("role") if "role" in report.user_scores.columns else pl.lit(None, pl.Utf8)).cast(pl.Utf8),
    ).unique("user_id", keep="first")
    members = members.join(scores, on="user_id", how="left")
    tables = report.tables
    if tables is not None:
        # the run's own time window (gifts and device observations) and account age (one definition:
        # graphkit.detect.signals.age_days)
        window = apply_window(tables, report.params.get("since"), report.params.get("until"))
        age = account_ages(window.gifts, tables.users, accounts=members["user_id"])
        seen = (
            window.devices.filter(pl.col("device_id").is_not_null())
            .select("user_id", "device_id")
            .unique()
            .join(members.select("ring", "user_id"), on="user_id", how="inner")
        )
        seen = seen.with_columns(pl.len().over("ring", "device_id").alias("_users"))
        devices = seen.group_by("ring", "user_id").agg(
            pl.len().alias("devices"), (pl.col("_users") > 1).sum().alias("shared_devices")
        )
        members = members.join(age, on="user_id", how="left").join(devices, on=["ring", "user_id"], how="left")
    else:
        members = members.with_columns(
            pl.lit(None, pl.Float64).alias("age_days"),
            pl.lit(None, pl.UInt32).alias("devices"),
            pl.lit(None, pl.UInt32).alias("shared_devices"),
        )
    members = members.with_columns(
        pl.col("devices").fill_null(0),
        pl.col("shared_devices").fill_null(0),
        pl.col("role").replace_strict(_ROLE_ORDER, default=3, return_dtype=pl.Int8).alias("_order"),
    ).sort(["ring", "_order", "score", "user_id"], descending=[False, False, True, False], nulls_last=True)
    return {key[0]: frame.drop("ring", "_order") for key, frame in members.group_by("ring", maintain_order=True)}


# --- formatting -------------------------------------------------------------------


def _anchor(ring: Ring) -> str:
    """The GitHub-style anchor of a ring's heading (lower case, punctuation dropped)."""
    title = f"{ring.rank}. ring {ring.ring_id}: score {ring.score:.2f}".lower()
    return re.sub(r"[^\w\- ]", "", title).replace(" ", "-")


def _link_target(path: str) -> str:
    """A link destination for a file we wrote: only safe path characters, no scheme."""
    return re.sub(r"[^A-Za-z0-9._/\-]", "_", path)


def _days(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else escape_markdown(value)


def _kind(kind: str) -> str:
    return kind.replace("_", " ")


