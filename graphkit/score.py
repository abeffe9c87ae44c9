"""Ring score in [0, 1] and the reasons an investigator can paste into a case.

The score multiplies three readable parts, each monotone in its signals:

``coordination``
    A noisy-or of the coordination signals: ``1 - prod(1 - w_i * c_i)`` over
    shared identifiers (crowded beyond a household), young accounts crowded on
    them together (a farm: an internet cafe's accounts are old), young accounts, creation burst, lockstep gifting,
    one-shot large senders and coins on loops (weights in :class:`Config`).
    Any one strong signal raises it; several together raise it further.
``incentive``
    How much of the group's money concentrates on its top beneficiaries,
    times how much of their income the group is:
    ``top3_share * (0.5 + 0.5 * income_share)``. Families and internet cafes
    share devices but pay nobody in particular; rings pay someone.
    The score keeps ``incentive_floor`` of the coordination without it.
``size``
    ``1 - exp(-(size - 1) / size_half)``: three accounts are weaker evidence than thirty.

``score = coordination * (floor + (1 - floor) * incentive) * size_factor``

With a flags table the coordination's noisy-or has one more part,
``weight_known_bad * known_bad`` (the members' nearness to flagged accounts,
:mod:`graphkit.detect.known_bad`), and ``score_without_flags`` keeps the score
without it; without a flags table neither column exists and nothing changes.

Examples
--------
>>> import polars as pl
>>> from graphkit.config import Config
>>> signals = pl.DataFrame({"group": [1, 2], "size": [30, 30], "crowding": [1.0, 0.0],
...     "new_account_ratio": [1.0, 0.0], "creation_burst": [0.9, 0.1], "synchrony": [0.0, 0.0],
...     "one_shot_large_ratio": [0.0, 0.0], "cycle_coin_share": [0.0, 0.0], "relay_coin_share": [0.0, 0.0], "fan_coin_share": [0.0, 0.0],
...     "beneficiary_top3_share": [0.9, 0.9], "beneficiary_income_share": [0.95, 0.1]})
>>> scored = score_groups(signals, Config())
>>> scored["score"].round(2).to_list()
[0.79, 0.02]
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

import igraph as ig
import numpy as np
import polars as pl

from graphkit.graphs.build import graph_from_edges
from graphkit.config import Config
from graphkit.detect.signals import Baseline, evidence_links, fan_in_receivers
from graphkit.model import describe_path
from graphkit.util.format import format_coins, plural


__all__ = [
    "COMPONENTS", "FLAG_COMPONENT", "KINDS", "LEARNED_COMPONENT", "USER_COMPONENTS", "account_score", "contributions",
    "exposure", "flag_reason", "flag_rate_reasons", "with_exposure",
    "score_groups", "ring_reasons", "user_evidence",
    "young_account",
]

COMPONENTS: dict[str, tuple[str, str]] = {
    # component -> (signal column, Config weight field)
    "shared_identifiers": ("crowding", "weight_shared_identifiers"),
    "young_crowd": ("young_crowding", "weight_young_crowd"),
    "new_accounts": ("new_account_ratio", "weight_new_accounts"),
    "creation_burst": ("creation_burst", "weight_creation_burst"),
    "synchrony": ("synchrony", "weight_synchrony"),
    "one_shot": ("one_shot_large_ratio", "weight_one_shot"),
    "cycles": ("cycle_coin_share", "weight_cycles"),
    "relay": ("relay_coin_share", "weight_relay"),
    "fan": ("fan_coin_share", "weight_fan"),
}

FLAG_COMPONENT = ("known_bad", "known_bad", "weight_known_bad")
"""(component, signal column, Config weight field) of the flags' part: present only when the signals have
the column (a flags table was given), so that reports without flags stay as they were."""
LEARNED_COMPONENT = ("learned", "learned_score", "weight_learned")
"""(component, signal column, Config weight) of a trained model's signal: present only with ``report --model``."""

KINDS: dict[str, tuple[str, ...]] = {
    "account_farm": ("young_crowd", "shared_identifiers", "new_accounts", "creation_burst"),
    "gift_laundering": ("cycles", "relay", "fan"),
    "gifting_burst": ("synchrony",),
    "cashout_mules": ("one_shot",),
}


def score_groups(signals: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Add ``coordination``, ``incentive``, ``size_factor``, ``score``, ``kind`` and
    one ``part_<component>`` column (its weighted signal) to a signals frame."""
    frame = signals.with_columns(
        (pl.col("crowding") * pl.max_horizontal("new_account_ratio", "creation_burst")).alias("young_crowding")
    )
    parts = [
        (pl.col(column).clip(0.0, 1.0) * getattr(config, weight)).alias(f"part_{name}")
        for name, (column, weight) in COMPONENTS.items()
    ]
    part_cols = [f"part_{name}" for name in COMPONENTS]
    flagged = FLAG_COMPONENT[1] in signals.columns
    if flagged:
        name, column, weight = FLAG_COMPONENT
        parts.append((pl.col(column).clip(0.0, 1.0) * getattr(config, weight)).alias(f"part_{name}"))
        part_cols.append(f"part_{name}")
    if LEARNED_COMPONENT[1] in frame.columns:  # report --model: the members' mean probability, one more part
        parts.append((pl.col(LEARNED_COMPONENT[1]).clip(0.0, 1.0) * config.weight_learned).alias(f"part_{LEARNED_COMPONENT[0]}"))
        part_cols.append(f"part_{LEARNED_COMPONENT[0]}")
    frame = frame.with_columns(parts)

    def noisy_or(columns: list[str]) -> pl.Expr:
        return 1.0 - pl.reduce(lambda acc, x: acc * x, [1.0 - pl.col(c) for c in columns])

    coordination = noisy_or(part_cols)
    incentive = pl.col("beneficiary_top3_share").clip(0.0, 1.0) * (
        0.5 + 0.5 * pl.col("beneficiary_income_share").clip(0.0, 1.0)
    )
    floor = float(config.incentive_floor)
    size_factor = 1.0 - (-(pl.col("size").cast(pl.Float64) - 1.0).clip(lower_bound=0.0) / config.size_half).exp()

    def scored(coordination: pl.Expr) -> pl.Expr:
        return (coordination * (floor + (1.0 - floor) * pl.col("incentive")) * pl.col("size_factor")).clip(0.0, 1.0)

    frame = frame.with_columns(
        coordination.alias("coordination"), incentive.alias("incentive"), size_factor.alias("size_factor")
    ).with_columns(scored(pl.col("coordination")).alias("score"))
    if flagged:
        without_flags = [c for c in part_cols if c != f"part_{FLAG_COMPONENT[0]}"]
        frame = frame.with_columns(scored(noisy_or(without_flags)).alias("score_without_flags"))
    kind_strength = [
        pl.max_horizontal([pl.col(f"part_{c}") for c in comps]).alias(f"kind_{kind}") for kind, comps in KINDS.items()
    ]
    frame = frame.with_columns(kind_strength)
    kind_cols = [f"kind_{k}" for k in KINDS]
    best = pl.concat_list(kind_cols).list.arg_max()
    return frame.with_columns(
        pl.when(pl.max_horizontal(kind_cols) >= 0.2)
        .then(best.replace_strict(list(range(len(KINDS))), list(KINDS), return_dtype=pl.Utf8))
        .otherwise(pl.lit("mixed"))
        .alias("kind")
    ).drop(kind_cols)


def contributions(row: Mapping[str, Any]) -> dict[str, float]:
    """Each signal's share of a scored group's evidence, keyed by its signal column.

    The weighted part of every :data:`COMPONENTS` entry, named by the signal
    column it weighs (the names of ``Ring.signals`` and ``rings.json``), and
    ``incentive``; shares sum to 1 (all 0 without evidence). ``rings.csv``
    ``top_signals`` lists the largest with their values.

    Parameters
    ----------
    row : mapping
        A row of :func:`score_groups` output.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.config import Config
    >>> row = score_groups(pl.DataFrame({"group": [1], "size": [30], "crowding": [0.0], "new_account_ratio": [0.0],
    ...     "creation_burst": [0.0], "synchrony": [0.0], "one_shot_large_ratio": [0.8], "cycle_coin_share": [0.0], "relay_coin_share": [0.0], "fan_coin_share": [0.0],
    ...     "beneficiary_top3_share": [0.9], "beneficiary_income_share": [0.9]}), Config()).row(0, named=True)
    >>> shares = contributions(row)
    >>> max(shares, key=shares.get), shares["cycle_coin_share"]
    ('incentive', 0.0)
    >>> sorted(shares, key=shares.get)[-2]
    'one_shot_large_ratio'
    """
    parts = {column: float(row[f"part_{name}"]) for name, (column, _) in COMPONENTS.items()}
    if f"part_{FLAG_COMPONENT[0]}" in row:
        parts[FLAG_COMPONENT[1]] = float(row[f"part_{FLAG_COMPONENT[0]}"])
    if f"part_{LEARNED_COMPONENT[0]}" in row:
        parts[LEARNED_COMPONENT[1]] = float(row[f"part_{LEARNED_COMPONENT[0]}"])
    parts["incentive"] = float(row["incentive"])
    total = sum(parts.values())
    return {name: round(value / total, 4) if total > 0 else 0.0 for name, value in sorted(parts.items())}


def young_account(young_days: float) -> str:
    """The young-account rule in words: the same in the reasons and in ``report.md``'s method text.

    ``young_days`` is :attr:`graphkit.detect.signals.Baseline.young_days`; account age is
    :func:`graphkit.detect.signals.age_days` (at the first gift the account sent).

    Examples
    --------
    >>> young_account(6.9)
    'less than 6.9 days old at the first gift they sent'
    """
    return f"less than {young_days:g} days old at the first gift they sent"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _delay(seconds: float) -> str:
    """A delay in words: ``45 s``, ``12 min``, ``3 h``, ``2 days``.

    Examples
    --------
    >>> _delay(0), _delay(720), _delay(3600), _delay(172800)
    ('0 s', '12 min', '1 h', '2 days')
    """
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.0f} h"
    return plural(round(seconds / 86400), "day")


def _accounts(n: float) -> str:
    return plural(n, "account")


def ring_reasons(
    row: dict,
    *,
    beneficiaries: list[tuple[str, float, float]],
    money_path: list[tuple[str, str]],
    config: Config,
    young_days: float,
    large_gift: float,
    burst: tuple[str, datetime] | None = None,
    relay: tuple[str, str, str] | None = None,
    fan_center: str | None = None,
    member_flags: Mapping[str, int] | None = None,
    beneficiary_flags: Mapping[str, tuple[str, datetime]] | None = None,
) -> list[str]:
    """Sentences with numbers for one scored group, strongest evidence first.

    Parameters
    ----------
    row : dict
        The group's row of :func:`score_groups` output.
    beneficiaries : list of (user_id, coins_in, share_of_income)
        Most first.
    money_path : list of (user_id, how)
        One loop of coins (first id repeated at the end), or empty; ``how`` is
        ``"gift"`` or ``"device"`` (another account on the same device).
    config : Config
    young_days : float
        The young-account age (``Baseline.young_days``), worded by :func:`young_account`.
    large_gift : float
    burst : (stream_id, datetime), optional
        The stream and the first gift of the group's biggest burst (``sync_sid``, ``sync_start``),
        named in the synchrony reason so that an investigator can look it up.
    relay : (user_id, user_id, user_id), optional
        The group's biggest relay hop (``relay_a``, ``relay_m``, ``relay_c``), named in the relay reason.
    fan_center : str, optional
        The user id at the center of the group's biggest equal-amount fan (``fan_center``).
    member_flags : mapping, optional
        Flag kind -> members with a flag of that kind (with a flags table): "3 of 21 members had chargebacks".
    beneficiary_flags : mapping, optional
        Beneficiary user_id -> (kind, time) of its first flag: "the ring paid 80% of its coins to h3,
        an account banned on 2026-10-03".

    Examples
    --------
    >>> flag_reason({"chargeback": 3}, 21, 3)
    '3 of 21 members had chargebacks'
    >>> flag_reason({"ban": 1, "chargeback": 2}, 21, 3)
    '3 of 21 members were flagged: 2 had chargebacks, 1 was banned'
    >>> flag_reason({"negative_rating": 11}, 11, 11)
    '11 of 11 members had negative_rating flags'
    """
    size = int(row["size"])
    candidates: list[tuple[float, str]] = []
    if row.get("n_shared_identifiers", 0) > 0:
        devices, ips = int(row.get("n_shared_devices", 0)), int(row.get("n_shared_ips", 0))
        what = " and ".join(
            p for p in (
                f"{devices} device{'s' if devices != 1 else ''}" if devices else "",
                f"{ips} IP{'s' if ips != 1 else ''}" if ips else "",
            ) if p
        )
        candidates.append((
            max(row["part_shared_identifiers"], row.get("part_young_crowd", 0.0)),
            f"{int(row['n_sharing'])} of {size} accounts share {what}",
        ))
    if row.get("n_young", 0) > 0:
        candidates.append((
            row["part_new_accounts"],
            f"{int(row['n_young'])} of {size} accounts were {young_account(young_days)}",
        ))
    if row.get("max_created_24h", 0) >= 3:
        candidates.append((row["part_creation_burst"], f"{int(row['max_created_24h'])} accounts were created within 24 hours"))
    if row.get("sync_streams", 0) > 0:
        streams = int(row["sync_streams"])
        where = (
            f"stream {burst[0]} within {config.cogift_window_s} s from {burst[1]:%Y-%m-%d %H:%M:%S} UTC"
            if burst is not None else f"the same stream within {config.cogift_window_s} s"
        )
        candidates.append((
            row["part_synchrony"],
            f"{int(row['sync_accounts'])} accounts gifted {where}; "
            f"{streams} stream{'s' if streams != 1 else ''} saw such a burst, far above the stream's normal rate",
        ))
    if row.get("n_one_shot_large", 0) > 0:
        candidates.append((
            row["part_one_shot"],
            f"{_accounts(row['n_one_shot_large'])} sent only one or two gifts, at least one of {format_coins(large_gift)}+ coins",
        ))
    if row.get("coins_on_cycles", 0) > 0:
        loop = describe_path(money_path)
        candidates.append((
            row["part_cycles"],
            f"{format_coins(row['coins_on_cycles'])} coins ({_pct(row['cycle_coin_share'])} of the coins between members) went round in loops"
            + (f": {loop}" if loop else ""),
        ))
    if row.get("coins_relayed", 0) > 0:
        middles = int(row["n_relay_middles"])
        hop = (
            f": {relay[0]} -> {relay[1]} -> {relay[2]}, {format_coins(row['relay_coins'])} coins passed on after "
            f"{_delay(row['relay_delay_s'])}" if relay is not None else ""
        )
        candidates.append((
            row["part_relay"],
            f"{format_coins(row['coins_relayed'])} coins ({_pct(row['relay_coin_share'])} of the ring's coins) were "
            f"passed on by {_accounts(middles)} of the ring to another member, each within "
            f"{_delay(config.flow_max_delay_s)} of receiving about as much (within "
            f"{_pct(config.flow_amount_tolerance)}) from a member{hop}",
        ))
    if row.get("coins_in_fans", 0) > 0:
        who = fan_center if fan_center is not None else "one member"
        paid = (f"{who} paid {_accounts(row['fan_size'])} of the ring" if row.get("fan_side") == "out"
                else f"{_accounts(row['fan_size'])} of the ring paid {who}")
        candidates.append((
            row["part_fan"],
            f"{format_coins(row['coins_in_fans'])} coins ({_pct(row['fan_coin_share'])} of the ring's coins) moved in "
            f"equal-amount fans: {paid} the same amount (within {_pct(config.flow_amount_tolerance)}) within "
            f"{_delay(config.flow_max_delay_s)}",
        ))
    n_flagged = int(row.get("n_flagged", 0) or 0)
    if member_flags and n_flagged > 0:
        candidates.append((row.get("part_known_bad", 0.0), flag_reason(member_flags, size, n_flagged)))
    reasons = [text for _, text in sorted(candidates, key=lambda c: -c[0])]
    if beneficiaries and row.get("coins_total", 0) > 0:
        coins_to = sum(b[1] for b in beneficiaries)
        names = ", ".join(b[0] for b in beneficiaries[:3]) + (" and others" if len(beneficiaries) > 3 else "")
        reasons.insert(
            min(1, len(reasons)),
            f"{_pct(coins_to / row['coins_total'])} of the ring's {format_coins(row['coins_total'])} coins went to "
            f"{len(beneficiaries)} account{'s' if len(beneficiaries) != 1 else ''}: {names}",
        )
        top = beneficiaries[0]
        if top[2] >= 0.5:
            reasons.append(f"{_pct(top[2])} of all the coins {top[0]} received came from this ring")
        flagged_bens = [b for b in beneficiaries if b[0] in (beneficiary_flags or {})]
        if flagged_bens:
            who = flagged_bens[0]
            kind, at = beneficiary_flags[who[0]]  # type: ignore[index]
            reasons.append(
                f"the ring paid {_pct(who[1] / row['coins_total'])} of its coins to {who[0]}, "
                f"an account {_FLAGGED_ON.get(kind, f'with a {kind} flag')} on {at:%Y-%m-%d}"
            )
    if row.get("camouflage", 0) >= 0.05:
        reasons.append(f"{_pct(row['camouflage'])} of the ring's coins went to popular hosts outside it (camouflage)")
    if LEARNED_COMPONENT[1] in row:  # report --model: after the evidence an investigator can check
        reasons.append(f"the trained model gives its {size} accounts a mean probability of "
                       f"{row[LEARNED_COMPONENT[1]]:.2f} of being bad")
    return reasons


_FLAG_PHRASES: dict[str, tuple[str, str]] = {
    "chargeback": ("had a chargeback", "had chargebacks"),
    "ban": ("was banned", "were banned"),
    "report": ("was reported", "were reported"),
    "refund": ("had a refund", "had refunds"),
    "manual": ("was flagged by an investigator", "were flagged by investigators"),
}
_FLAGGED_ON = {"chargeback": "with a chargeback", "ban": "banned", "report": "reported", "refund": "with a refund",
               "manual": "flagged by an investigator"}


def flag_reason(member_flags: Mapping[str, int], size: int, n_flagged: int) -> str:
    """The flags of a group's members in one sentence (kinds most frequent first; see :func:`ring_reasons`)."""
    def phrase(kind: str, n: int) -> str:
        one, many = _FLAG_PHRASES.get(kind, (f"had a {kind} flag", f"had {kind} flags"))
        return one if n == 1 else many

    kinds = sorted(member_flags.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(kinds) == 1:
        return f"{kinds[0][1]} of {size} members {phrase(*kinds[0])}"
    return f"{n_flagged} of {size} members were flagged: " + ", ".join(f"{n} {phrase(k, n)}" for k, n in kinds)


def flag_rate_reasons(seeds: pl.DataFrame, rates: pl.DataFrame) -> pl.DataFrame:
    """The sentence an investigator pastes about an account's own flags: ``uid, flag_reason``, one row per flagged account.

    Parameters
    ----------
    seeds : polars.DataFrame
        The flags used (``uid, kind``; :func:`graphkit.detect.known_bad.account_flags`).
    rates : polars.DataFrame
        ``uid, senders, flag_rate`` (:func:`graphkit.detect.known_bad.flag_rates`).

    Examples
    --------
    >>> seeds = pl.DataFrame({"uid": [0] * 5 + [1, 1, 1], "kind": ["negative_rating"] * 5 + ["chargeback", "ban", "chargeback"]})
    >>> rates = pl.DataFrame({"uid": [0, 1, 2], "senders": [300, 1, 4], "flag_rate": [2.5 / 304.5, 3 / 6, 0.0]})
    >>> for text in flag_rate_reasons(seeds, rates)["flag_reason"]:
    ...     print(text)
    flag rate 0.8%: 5 negative_rating flags against gifts from 300 distinct accounts
    flag rate 50.0%: 3 flags (2 chargeback, 1 ban) against gifts from 1 distinct account
    >>> seeds = pl.DataFrame({"uid": [3], "kind": ["chargeback"]})
    >>> flag_rate_reasons(seeds, pl.DataFrame({"uid": [3], "senders": [0], "flag_rate": [1 / 3]}))["flag_reason"][0]
    'flag rate 33.3%: 1 chargeback flag and no gift received'
    """
    per_kind = seeds.group_by("uid", "kind").agg(pl.len().alias("n")).sort(["uid", "n", "kind"], descending=[False, True, False])
    kinds = per_kind.group_by("uid", maintain_order=True).agg(
        pl.col("n").sum().alias("n_flags"),
        pl.len().alias("n_kinds"),
        pl.format("{} {}", "n", "kind").str.join(", ").alias("kinds"),
        pl.col("kind").first().alias("kind"),
    )
    n_flags, senders = pl.col("n_flags"), pl.col("senders").fill_null(0)
    flags_text = (
        pl.when(pl.col("n_kinds") > 1).then(pl.format("{} flags ({})", n_flags, "kinds"))
        .otherwise(pl.format("{} {} flag{}", n_flags, "kind", pl.when(n_flags == 1).then(pl.lit("")).otherwise(pl.lit("s"))))
    )
    senders_text = pl.format("{} distinct account{}", senders, pl.when(senders == 1).then(pl.lit("")).otherwise(pl.lit("s")))
    rate = (pl.col("flag_rate").fill_null(0.0) * 100).round(1)
    against = pl.when(senders > 0).then(pl.format("against gifts from {}", senders_text)).otherwise(pl.lit("and no gift received"))
    return kinds.join(rates.select("uid", "senders", "flag_rate"), on="uid", how="left").select(
        "uid", pl.format("flag rate {}%: {} {}", rate, flags_text, against).alias("flag_reason")
    ).sort("uid")


USER_COMPONENTS: dict[str, float] = {
    "young": 0.3,
    "one_shot_large": 0.45,
    "crowded_identifier": 0.35,
    "on_loop": 0.4,
    "lockstep": 0.4,
    "fan_in": 0.5,
    "closed_triads": 0.5,
    "relay": 0.4,
    "reciprocal": 0.4,
}
"""Individual evidence and the most each adds (noisy-or), for accounts scored on their own."""


def user_evidence(
    activity: pl.DataFrame,
    device_links: pl.DataFrame,
    cogift: pl.DataFrame,
    gift_flow: pl.DataFrame,
    baseline: Baseline,
    config: Config,
    *,
    gift_graph: ig.Graph | None = None,
    relays: pl.DataFrame,
    flags: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Each account's own evidence in [0, 1], whatever group it is in.

    Returns ``uid, evidence, funder`` and one boolean/float column per
    :data:`USER_COMPONENTS` entry: young at first gift; one or two gifts, one
    large, and received no more gifts than it sent (an account that mostly
    receives and paid once is no throwaway sender); uses a device, or a non-hub IP, shared by many accounts
    (:func:`graphkit.detect.signals.evidence_links`); on a loop of coins (a
    strongly connected piece of the gift flow no larger than
    ``max_community_size``); co-gifted in lockstep with several accounts on
    two or more streams; paid mostly by one-shot large senders; trades
    with accounts that trade with each other (local clustering coefficient of
    the undirected gift graph: honest gifting is viewers -> hosts, a star with
    no triangles, while colluding accounts close triangles); passed coins
    on at a near-equal amount soon after receiving them (``relays``, from
    :func:`graphkit.graphs.relays.relay_hops`; half the weight for one
    relay hop, all of it from two on); gifted an account that gifted it
    back (coins straight back: viewers gift hosts, hosts do not gift their
    viewers).

    ``gift_graph`` is the directed gift flow without self-gifts, one vertex
    per account (:func:`graphkit.detect.centrality.gift_centrality_graph`),
    when the caller has it already; it is built from ``gift_flow`` otherwise.

    ``flags`` (``uid, flagged, known_bad, flag_rate``, :func:`graphkit.detect.known_bad.known_bad`),
    when a flags table was given, adds two parts to the noisy-or: the account's own flags, weighed
    against the accounts that gifted it (its ``flag_rate`` over ``Config.flag_rate_full``, at most 1,
    times ``Config.weight_flag_rate_account``: many accounts gifting it dilute a few flags), and,
    for an account without a flag of its own, its nearness to flagged accounts (``known_bad`` times
    ``Config.weight_near_flags_account``; an account's own flags seed its ``known_bad`` too, and
    they are already in its flag rate). The columns ``flagged``, ``flag_rate``, ``known_bad`` and
    ``evidence_without_flags`` follow the others. Without it the result is as before
    (tests/test_flag_rate.py pins the honest trader below the scammer).
    """
    n = activity.height
    crowd = (
        device_links.filter(evidence_links())
        .join(device_links.filter(evidence_links()).group_by("identifier").len().rename({"len": "accounts"}), on="identifier")
        .group_by("uid")
        .agg(pl.col("accounts").max().alias("max_accounts"))
    )
    partners = pl.concat(
        [cogift.filter(pl.col("streams") >= 2).select(pl.col("a").alias("uid")),
         cogift.filter(pl.col("streams") >= 2).select(pl.col("b").alias("uid"))]
    ).group_by("uid").len().rename({"len": "lockstep_partners"})
    flow = gift_flow.filter(pl.col("src") != pl.col("dst"))
    loop = np.zeros(n, dtype=bool)
    clustering = np.zeros(n, dtype=np.float64)
    if flow.height:
        graph = gift_graph if gift_graph is not None else graph_from_edges(n, flow["src"], flow["dst"], directed=True)
        membership = np.asarray(graph.connected_components(mode="strong").membership)
        sizes = np.bincount(membership)
        loop = (sizes[membership] >= 2) & (sizes[membership] <= config.max_community_size)
        undirected = graph.as_undirected(mode="collapse")
        clustering = np.nan_to_num(np.asarray(undirected.transitivity_local_undirected(mode="zero"), dtype=np.float64))
    fan_in = fan_in_receivers(gift_flow, activity, baseline, min_senders=config.min_ring_size).select(
        "uid", pl.lit(True).alias("fan_in")
    )
    relayed = relays.group_by(pl.col("m").alias("uid")).agg(pl.len().alias("relay_hops"))
    back = flow.select(pl.col("dst").alias("src"), pl.col("src").alias("dst"))
    reciprocal = flow.join(back, on=["src", "dst"], how="semi").select(pl.col("src").alias("uid")).unique().with_columns(
        pl.lit(True).alias("reciprocal"))
    frame = (
        activity.select("uid", "age_days", "n_sent", "n_received", "max_gift", "coins_received")
        .join(crowd, on="uid", how="left")
        .join(partners, on="uid", how="left")
        .join(fan_in, on="uid", how="left")
        .join(relayed, on="uid", how="left")
        .join(reciprocal, on="uid", how="left")
        .sort("uid")  # uid is 0..n-1: row i is account i again, aligned with the arrays below
        .with_columns(pl.Series("on_loop", loop), pl.Series("closed_triads", clustering))
        .with_columns(
            ((pl.col("age_days") < baseline.young_days) & (pl.col("n_sent") > 0)).fill_null(False).alias("young"),
            # a throwaway that exists to send one or two large gifts, not an account that mostly receives and paid once
            (baseline.one_shot_large() & (pl.col("n_received") <= pl.col("n_sent"))).fill_null(False)
            .alias("one_shot_large"),
            ((pl.col("max_accounts").cast(pl.Int64).fill_null(0) - 2) / 10).clip(0.0, 1.0).alias("crowded_identifier"),
            (pl.col("lockstep_partners").fill_null(0) / 5).clip(0.0, 1.0).alias("lockstep"),
            pl.col("fan_in").fill_null(False),
            ((pl.col("n_received") == 0) & (pl.col("n_sent") > 0)).alias("funder"),
            (pl.col("relay_hops").fill_null(0).cast(pl.Float64) / 2).clip(0.0, 1.0).alias("relay"),
            pl.col("reciprocal").fill_null(False),
        )
    )
    terms = [1.0 - pl.col(name).cast(pl.Float64) * weight for name, weight in USER_COMPONENTS.items()]
    keep = 1.0 - pl.reduce(lambda acc, x: acc * x, terms)
    if flags is None:
        return frame.select("uid", keep.alias("evidence"), "funder", *USER_COMPONENTS)
    frame = frame.join(flags.select("uid", "flagged", "flag_rate", "known_bad"), on="uid", how="left").with_columns(
        pl.col("flagged", "flag_rate", "known_bad").fill_null(0.0)
    )
    own = (pl.col("flag_rate") / config.flag_rate_full).clip(0.0, 1.0)
    near = pl.when(pl.col("flag_rate") > 0).then(0.0).otherwise(pl.col("known_bad"))
    flag_terms = [1.0 - own * config.weight_flag_rate_account, 1.0 - near * config.weight_near_flags_account]
    with_flags = 1.0 - pl.reduce(lambda acc, x: acc * x, terms + flag_terms)
    return frame.select("uid", with_flags.alias("evidence"), "funder", *USER_COMPONENTS, "flagged", "flag_rate",
                        "known_bad", keep.alias("evidence_without_flags"))


def exposure(evidence: pl.DataFrame, gift_flow: pl.DataFrame, *, column: str = "evidence") -> pl.DataFrame:
    """Each account's exposure: the noisy-or of the evidence of the accounts it exchanged gifts with.

    ``1 - prod(1 - e_j)`` over its gift partners ``j`` (either direction, each
    partner once, self-gifts left out): how likely it is that at least one of
    them is bad, if each is bad with the probability of its own evidence. An
    account with no evidence of its own that trades with accounts that have some
    is likelier to be bad than one that does not; :func:`account_score` uses it
    only to order accounts of equal evidence.

    Parameters
    ----------
    evidence : polars.DataFrame
        ``uid`` and ``column`` (:func:`user_evidence`).
    gift_flow : polars.DataFrame
        ``src, dst`` (the graph's gift flow).
    column : str
        The evidence column (``evidence_without_flags`` for the scores without the flags).

    Returns
    -------
    polars.DataFrame
        ``uid, exposure`` for every account with a gift partner (0 where the partners have no evidence).

    Examples
    --------
    >>> ev = pl.DataFrame({"uid": [0, 1, 2, 3], "evidence": [0.5, 0.0, 0.2, 0.0]})
    >>> flow = pl.DataFrame({"src": [1, 1, 2, 3], "dst": [0, 2, 1, 3]})
    >>> exposure(ev, flow).sort("uid").rows()
    [(0, 0.0), (1, 0.6), (2, 0.0)]
    """
    flow = gift_flow.filter(pl.col("src") != pl.col("dst")).select("src", "dst")
    pairs = pl.concat([flow, flow.select(pl.col("dst").alias("src"), pl.col("src").alias("dst"))]).unique()
    partner = evidence.select(pl.col("uid").alias("dst"), pl.col(column).fill_null(0.0).clip(0.0, 1.0).alias("e"))
    return (
        pairs.join(partner, on="dst", how="left")
        # a float product depends on the order of its terms, and a group keeps its rows' order: sorted, the
        # same in every run (maintain_order, or polars drops the sort from the plan)
        .sort("src", "dst")
        .group_by(pl.col("src").alias("uid"), maintain_order=True)
        .agg((1.0 - (1.0 - pl.col("e").fill_null(0.0)).product()).alias("exposure"))
    )


def with_exposure(evidence: pl.DataFrame, gift_flow: pl.DataFrame) -> pl.DataFrame:
    """``evidence`` with ``exposure`` (:func:`exposure`, 0 without gift partners) and, when it has
    ``evidence_without_flags`` (a flags table), ``exposure_without_flags`` from that column.

    Examples
    --------
    >>> ev = pl.DataFrame({"uid": [0, 1, 2], "evidence": [0.5, 0.0, 0.0]})
    >>> with_exposure(ev, pl.DataFrame({"src": [1], "dst": [0]}))["exposure"].to_list()
    [0.0, 0.5, 0.0]
    """
    parts = [("evidence", "exposure")]
    if "evidence_without_flags" in evidence.columns:
        parts.append(("evidence_without_flags", "exposure_without_flags"))
    for column, name in parts:
        found = exposure(evidence, gift_flow, column=column).rename({"exposure": name})
        evidence = (evidence.join(found, on="uid", how="left", maintain_order="left")
                    .with_columns(pl.col(name).fill_null(0.0)))
    return evidence


SCORE_DECIMALS = 6
"""Decimals of an account's score: four for its evidence (as ring scores), two more for the exposure tie-break."""


def account_score(evidence: pl.Expr, exposure: pl.Expr, config: Config) -> pl.Expr:
    """The score of an account outside the reported rings: half its evidence, ties ordered by its exposure.

    ``round(0.5 * evidence, 4) + floor(exposure * weight_exposure * 100) / 10**6``:
    the evidence fixes the first four decimals (below 0.5, under every ring
    member), the exposure (:func:`exposure`, in [0, 1]) the next two, and
    ``Config.weight_exposure`` is at most 0.5, so the tie-break adds less than
    half a step of 0.0001. Accounts of equal evidence (at 4 decimals) are
    therefore ordered by their exposure, an account is never lifted above one
    with more evidence, and the score rounded to 4 decimals is the score without
    the tie-break.

    Examples
    --------
    >>> from graphkit.config import Config
    >>> frame = pl.DataFrame({"evidence": [0.0, 0.0, 0.0002, 0.4], "exposure": [0.0, 0.9, 0.0, 0.99]})
    >>> frame.select(account_score(pl.col("evidence"), pl.col("exposure"), Config()))["score"].to_list()
    [0.0, 4.5e-05, 0.0001, 0.200049]
    """
    tie = (exposure.fill_null(0.0).clip(0.0, 1.0 - 1e-9) * (config.weight_exposure * 100)).floor() / 10**SCORE_DECIMALS
    return ((0.5 * evidence.fill_null(0.0)).round(4) + tie).round(SCORE_DECIMALS).alias("score")
