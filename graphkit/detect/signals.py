"""Per-account activity and per-group ring signals, computed with polars.

Every signal is documented in :data:`SIGNALS` with its meaning; a ring's
signals are computed for all candidate groups at once (group-bys and joins
over a ``group, uid`` membership frame), never group by group.

Share signals (of members sharing devices, young, created together, sending
one-shot large gifts) are shrunk towards zero for small groups: ``count /
(n + 2)``, so that two accounts of two is not read as certain as forty of forty.

Thresholds that decide what is "young", "large" or "popular" come from the
platform itself (:class:`Baseline`: quantiles of its own accounts and gifts),
not from constants tuned to one data set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from graphkit.graphs.build import graph_from_edges, weak_components
from graphkit.graphs.projections import pack_pair, unpack_pair
from graphkit.graphs.relays import equal_fans, relay_hops

from graphkit.config import Config

__all__ = [
    "EVIDENCE_IDS",
    "LEARNED_SIGNAL",
    "SIGNALS",
    "account_ages",
    "age_days",
    "Baseline",
    "SignalContext",
    "share",
    "evidence_links",
    "fan_in_receivers",
    "group_signals",
    "internal_flow",
    "person_of",
    "platform_baseline",
    "popular_senders",
    "signal_context",
    "user_activity",
]

SIGNALS: dict[str, str] = {
    "size": "number of member accounts",
    "internal_density": "share of member pairs linked by a gift, a shared identifier or co-gifting",
    "conductance": "share of the members' link weight that leaves the group (low: a closed group)",
    "shared_identifier_ratio": "share of members sharing a device (any, but placeholder ids) or a non-hub IP with another member",
    "accounts_per_identifier": "members per identifier shared inside the group (3 emulators for 40 accounts: 13)",
    "crowding": "shared_identifier_ratio, scaled down when the group's identifiers hold no more accounts than a household",
    "new_account_ratio": "share of members that were young (below the platform's young-account age) at their first gift",
    "creation_burst": "share of members created within the group's tightest 24 hours",
    "coins_total": "coins sent by members, to anyone",
    "coins_internal": "coins members sent to other members",
    "beneficiary_top1_share": "share of the coins members sent that went to their top receiver",
    "beneficiary_top3_share": "share of the coins members sent that went to their top three receivers",
    "beneficiary_hhi": "Herfindahl index of the coins members sent, by receiver",
    "beneficiary_income_share": "share of the top three receivers' whole income that came from the group",
    "reciprocity": "share of member-to-member gift pairs that also flow back",
    "cycle_coin_share": "share of internal coins on edges that lie on a cycle inside the group, accounts on one device counted as one person",
    "synchrony": "share of the group gifting the same stream within one co-gifting window (mean of its three best streams)",
    "one_shot_large_ratio": "share of sending members with at most two gifts, at least one of them large for the platform",
    "camouflage": "share of members' coins sent to popular hosts outside the group",
    "relay_coin_share": "share of the coins members sent that a member passed on to another member at a near-equal "
                        "amount soon after receiving them from a member (relay hops inside the group)",
    "n_relay_middles": "members that relayed coins inside the group",
    "coins_relayed": "coins members passed on to members in relay hops inside the group",
    "fan_coin_share": "share of the coins members sent that moved between members in equal-amount fans (one member "
                      "paying, or paid by, many members the same uncommon amount within a short window)",
    "coins_in_fans": "coins members sent to members in equal-amount fans",
    "flagged_ratio": "share of members with a flag of their own (chargeback, ban, report, ...); only with a flags table",
    "known_bad": "mean of the members' nearness to flagged accounts (graphkit.detect.known_bad), 0 with fewer than "
                 "flag_min_members flagged members; only with a flags table",
}
LEARNED_SIGNAL = {"learned_score": "mean over members of the trained model's calibrated probability (report --model only)"}
"""The signal a trained account model adds (:mod:`graphkit.learn`); absent without ``--model``."""


def _float(name: str) -> pl.Expr:
    """A count column (``pl.len()`` and ``n_unique()`` give UInt32) as Float64, for arithmetic that must not wrap.

    ``UInt32`` arithmetic wraps silently in polars: ``n - 2`` of 1 is 4,294,967,295 and ``n * (n - 1)``
    overflows above 65,536. Cast before subtracting or multiplying counts.
    """
    return pl.col(name).cast(pl.Float64)


EVIDENCE_IDS = ("top_beneficiary", "sync_sid", "relay_a", "relay_m", "relay_c", "fan_center")
"""Columns of :func:`group_signals` that hold ids (encoded uid, sid), not signals: the reasons quote them."""

_PRIOR = 2.0
"""Share signals are ``count / (n + _PRIOR)``: 2 of 2 accounts is weaker evidence than 40 of 40."""


def share(count: pl.Expr, n: pl.Expr, prior: float = _PRIOR) -> pl.Expr:
    """The one rule of every share signal: ``count / (n + prior)``, a share shrunk towards 0 when ``n`` is small.

    The group signals use the default prior (``_PRIOR``, 2): 2 of 2 accounts is weaker
    evidence than 40 of 40. An account's flag rate uses ``Config.flag_rate_prior``
    (:func:`graphkit.detect.known_bad.flag_rates`).

    Examples
    --------
    >>> counts = pl.DataFrame({"n_young": [2.0, 40.0], "n": [2.0, 40.0]})
    >>> counts.select(share(pl.col("n_young"), pl.col("n"))).to_series().round(3).to_list()
    [0.5, 0.952]
    """
    return count / (n + prior)


@dataclass(frozen=True)
class Baseline:
    """What is normal on this platform, measured on its own data.

    Attributes
    ----------
    young_days : float
        An account younger than this at the first gift it sent is young
        (:func:`age_days`): the platform's 10th percentile of that age, at
        most ``Config.new_account_days`` and at least one day, rounded to a
        tenth of a day (the value the reasons print is the one applied).
    large_gift : float
        The platform's 95th percentile of gift value.
    popular_senders : float
        Receivers with at least this many distinct senders are popular (99th percentile).
    household : float
        Accounts a shared (non-hub) device or IP normally has: the 95th
        percentile over identifiers with two or more accounts (a family
        tablet, a home router). Groups crowding more accounts than this onto
        their identifiers look like farms.
    """

    young_days: float
    large_gift: float
    popular_senders: float
    household: float = 2.0

    def one_shot_large(self) -> pl.Expr:
        """On :func:`user_activity` rows: sent one or two gifts, at least one of them large."""
        return (pl.col("n_sent") >= 1) & (pl.col("n_sent") <= 2) & (pl.col("max_gift") >= self.large_gift)

    def to_dict(self) -> dict[str, float]:
        return {
            "young_days": self.young_days,
            "large_gift": self.large_gift,
            "popular_senders": self.popular_senders,
            "household": self.household,
        }


def age_days(created_at: str = "created_at", first_sent_at: str = "first_sent_at") -> pl.Expr:
    """Account age, defined once for the whole of graphkit: days from creation to the first gift sent.

    The young-account signal, the reasons, ``report.md``'s members tables and
    the views all use it. Computed on the gifts of the report's time window;
    null when the account sent no gift there or its creation time is unknown.

    Examples
    --------
    >>> from datetime import datetime
    >>> frame = pl.DataFrame({"created_at": [datetime(2024, 5, 1), None], "first_sent_at": [datetime(2024, 5, 4, 12), None]})
    >>> frame.select(age_days())["age_days"].to_list()
    [3.5, None]
    """
    return ((pl.col(first_sent_at) - pl.col(created_at)).dt.total_seconds() / 86_400.0).alias("age_days")


def account_ages(gifts: pl.DataFrame, users: pl.DataFrame, *, sender: str = "sender_id", user: str = "user_id",
                 accounts: pl.Series | None = None) -> pl.DataFrame:
    """:func:`age_days` of the accounts of ``users`` that sent a gift: ``user, age_days``.

    Parameters
    ----------
    gifts : polars.DataFrame
        Gift events with ``sender`` and ``sent_at`` (already cut to the time window).
    users : polars.DataFrame
        ``user`` and ``created_at``.
    accounts : polars.Series, optional
        Only these accounts (a report's ring members): their gifts alone are
        grouped, not the whole platform's. The ages are the same.

    Examples
    --------
    >>> from datetime import datetime
    >>> gifts = pl.DataFrame({"sender_id": ["a", "a", "b"], "sent_at": [datetime(2024, 5, 3), datetime(2024, 5, 2), datetime(2024, 5, 9)]})
    >>> users = pl.DataFrame({"user_id": ["a", "b", "c"], "created_at": [datetime(2024, 5, 1), None, datetime(2024, 5, 1)]})
    >>> account_ages(gifts, users).rows()
    [('a', 1.0), ('b', None)]
    >>> account_ages(gifts, users, accounts=pl.Series(["a", "c"])).rows()
    [('a', 1.0)]
    """
    if accounts is not None:
        wanted = accounts.unique().implode()
        gifts = gifts.filter(pl.col(sender).is_in(wanted))
        users = users.filter(pl.col(user).is_in(wanted))
    first = gifts.group_by(sender).agg(pl.col("sent_at").min().alias("first_sent_at"))
    return (
        users.select(user, "created_at")
        .unique(user, keep="first")
        .join(first, left_on=user, right_on=sender, how="inner")
        .select(user, age_days())
        .sort(user)
    )


def user_activity(gifts: pl.DataFrame, users: pl.DataFrame, n_users: int) -> pl.DataFrame:
    """One row per account (``uid`` 0..n-1) with its gifting activity.

    Parameters
    ----------
    gifts : polars.DataFrame
        Encoded gift events ``src, dst, coins, sent_at, sid``.
    users : polars.DataFrame
        ``uid, created_at`` (created_at may be null).
    n_users : int

    Returns
    -------
    polars.DataFrame
        ``uid, created_at, first_sent_at, last_sent_at, n_sent, coins_sent,
        max_gift, n_received, coins_received, n_senders, age_days`` (age at
        the first gift sent, null when unknown).
    """
    sent = gifts.group_by("src").agg(
        pl.col("sent_at").min().alias("first_sent_at"),
        pl.col("sent_at").max().alias("last_sent_at"),
        pl.len().alias("n_sent"),
        pl.col("coins").sum().alias("coins_sent"),
        pl.col("coins").max().alias("max_gift"),
    ).rename({"src": "uid"})
    received = gifts.group_by("dst").agg(
        pl.len().alias("n_received"),
        pl.col("coins").sum().alias("coins_received"),
        pl.col("src").n_unique().alias("n_senders"),
    ).rename({"dst": "uid"})
    base = pl.DataFrame({"uid": np.arange(n_users, dtype=np.uint32)})
    frame = (
        base.join(users.select("uid", "created_at"), on="uid", how="left")
        .join(sent, on="uid", how="left")
        .join(received, on="uid", how="left")
        .with_columns(
            pl.col("n_sent", "n_received", "n_senders").fill_null(0),
            pl.col("coins_sent", "coins_received").fill_null(0.0),
            age_days(),
        )
    )
    return frame.sort("uid")


def popular_senders(senders: pl.Series) -> float:
    """The platform's bar for a popular host: receivers with at least this many distinct senders.

    The 99th percentile of the distinct senders of every account that
    received a gift, and at least 2. The one rule for "popular host": the
    camouflage signal (:class:`Baseline`) and the evidence paths and
    neighbourhoods (:func:`graphkit.detect.evidence.popular_hosts`) use it.

    Parameters
    ----------
    senders : polars.Series
        Distinct senders of each receiver (one value per receiver, all > 0).

    Returns
    -------
    float

    Examples
    --------
    >>> import polars as pl
    >>> popular_senders(pl.Series([1] * 99 + [40, 500]))
    40.0
    >>> popular_senders(pl.Series([], dtype=pl.UInt32))
    2.0
    """
    bar = float(senders.quantile(0.99)) if senders.len() else 0.0
    return max(bar, 2.0)


def platform_baseline(
    activity: pl.DataFrame, gifts: pl.DataFrame, device_links: pl.DataFrame, config: Config
) -> Baseline:
    """Measure the platform's own young-account age, large gift, popular host and household size."""
    ages = activity["age_days"].drop_nulls()
    q10 = float(ages.quantile(0.10)) if ages.len() else config.new_account_days
    # to a tenth of a day: the threshold the reasons and report.md print is the one applied
    young = round(float(min(max(q10, 1.0), config.new_account_days)), 1)
    large = float(gifts["coins"].quantile(0.95)) if gifts.height else 0.0
    popular = popular_senders(activity.filter(pl.col("n_senders") > 0)["n_senders"])
    shared = (
        device_links.filter(~pl.col("hub")).group_by("identifier").agg(pl.col("uid").n_unique().alias("accounts"))
        .filter(pl.col("accounts") >= 2)["accounts"]
    )
    household = float(shared.quantile(0.95)) if shared.len() else 2.0
    return Baseline(young_days=young, large_gift=large, popular_senders=popular, household=max(household, 2.0))


@dataclass(frozen=True)
class SignalContext:
    """Everything the group signals read, prepared once per run (:func:`signal_context`).

    Attributes
    ----------
    gifts, gift_flow : polars.DataFrame
        From :class:`graphkit.graphs.Graphs` (encoded uids).
    device_links : polars.DataFrame
        ``uid, identifier, kind, hub, placeholder`` (:func:`graphkit.pipeline.device_links`).
    person : numpy.ndarray
        ``person[uid]`` from :func:`person_of`.
    activity : polars.DataFrame
        From :func:`user_activity`.
    baseline : Baseline
    config : Config
    links : polars.DataFrame
        ``a < b, w``: how many relations (gift either way, shared identifier,
        co-gifting) link each pair of accounts.
    degree : polars.DataFrame
        ``uid, deg``: the sum of ``w`` over each account's links.
    stream_baseline : polars.DataFrame
        ``sid, expected``: accounts the busiest co-gifting window of the stream
        holds by chance (see :func:`_synchrony_signals`).
    relays : polars.DataFrame
        The relay hops of the gifts (:func:`graphkit.graphs.relays.relay_hops`).
    fans : polars.DataFrame
        The gifts of equal-amount fans (:func:`graphkit.graphs.relays.equal_fans`).
    identifier_links : polars.DataFrame
        ``uid, identifier, kind``: the distinct links of ``device_links`` that
        are evidence (what the identifier signals count): identifiers that are
        not hubs, and crowded devices. A carrier NAT or campus IP joins
        thousands of honest accounts, so a crowded IP is no evidence by its
        size; a physical device is used by a household at most, so one
        seen with more than ``hub_cap`` accounts is a farm's emulator or
        phone, unless its id is a placeholder (``Config.placeholder_device_ids``).
    """

    gifts: pl.DataFrame
    gift_flow: pl.DataFrame
    device_links: pl.DataFrame
    person: np.ndarray
    activity: pl.DataFrame
    baseline: Baseline
    config: Config
    links: pl.DataFrame
    degree: pl.DataFrame
    stream_baseline: pl.DataFrame
    identifier_links: pl.DataFrame
    relays: pl.DataFrame
    fans: pl.DataFrame
    flags: pl.DataFrame | None = None
    """``uid, flagged, near_flags, known_bad`` (:func:`graphkit.detect.known_bad.known_bad`), or None
    without a flags table: then no group has the flag signals, and the scores are as without flags."""
    learned: pl.DataFrame | None = None
    """``uid, learned``: each account's probability from a trained model (``analyze(learned=...)``),
    or None without one; the groups' ``learned_score`` is its mean over their members."""


def signal_context(
    *,
    gifts: pl.DataFrame,
    gift_flow: pl.DataFrame,
    shared: pl.DataFrame,
    cogift: pl.DataFrame,
    device_links: pl.DataFrame,
    person: np.ndarray,
    activity: pl.DataFrame,
    baseline: Baseline,
    config: Config,
    relays: pl.DataFrame | None = None,
    fans: pl.DataFrame | None = None,
    flags: pl.DataFrame | None = None,
) -> SignalContext:
    """Prepare what :func:`group_signals` reads; the parameters are named as in :class:`SignalContext`.

    ``relays`` and ``fans`` are computed from ``gifts`` with ``config``'s settings when not given (the
    pipeline passes the detectors' own, :func:`graphkit.pipeline.detection_inputs`).
    """
    # each relation's pairs as one UInt64 key: one-column group-bys, 3x faster at 10^7 gifts
    gift_pairs = (
        gift_flow.lazy()
        .filter(pl.col("src") != pl.col("dst"))
        .select(pack_pair(pl.min_horizontal("src", "dst"), pl.max_horizontal("src", "dst")).alias("__pair"))
        .unique()
    )
    links = (
        pl.concat([gift_pairs, *(f.lazy().select(pack_pair(pl.col("a"), pl.col("b")).alias("__pair")) for f in (shared, cogift))])
        .group_by("__pair")
        .agg(pl.len().cast(pl.Float64).alias("w"))
        .select(*unpack_pair("__pair"), "w")
        .collect()
    )
    degree = (
        pl.concat([links.lazy().select(pl.col("a").alias("uid"), "w"), links.lazy().select(pl.col("b").alias("uid"), "w")])
        .group_by("uid")
        .agg(pl.col("w").sum().alias("deg"))
        .collect()
    )
    return SignalContext(
        gifts=gifts, gift_flow=gift_flow, device_links=device_links, person=person, activity=activity,
        baseline=baseline, config=config, links=links, degree=degree,
        stream_baseline=_stream_baseline(gifts, config),
        identifier_links=device_links.filter(evidence_links()).select("uid", "identifier", "kind").unique(),
        relays=relay_hops(gifts, max_delay_s=config.flow_max_delay_s, amount_tolerance=config.flow_amount_tolerance,
                          max_chance=config.flow_max_amount_chance) if relays is None else relays,
        fans=equal_fans(gifts, window_s=config.flow_max_delay_s, amount_tolerance=config.flow_amount_tolerance,
                        max_chance=config.flow_max_amount_chance, min_fan=config.flow_min_fan,
                        popular_senders=baseline.popular_senders) if fans is None else fans,
        flags=flags,
    )


def evidence_links() -> pl.Expr:
    """On :func:`graphkit.pipeline.device_links` rows: the links that are evidence of a shared owner.

    Identifiers that are not hubs, and devices whatever their size unless
    their id is a placeholder: a crowded device is a farm's, a crowded IP is
    a carrier's or a campus's (see :class:`SignalContext`).

    Examples
    --------
    >>> links = pl.DataFrame({"kind": ["device", "device", "ip", "ip"], "hub": [True, True, True, False],
    ...                       "placeholder": [False, True, False, False]})
    >>> links.select(evidence_links()).to_series().to_list()
    [True, False, False, True]
    """
    return ~pl.col("hub") | ((pl.col("kind") == "device") & ~pl.col("placeholder"))


def fan_in_receivers(
    gift_flow: pl.DataFrame, activity: pl.DataFrame, baseline: Baseline, *, min_senders: int
) -> pl.DataFrame:
    """Receivers paid mostly by one-shot large senders (:meth:`Baseline.one_shot_large`): cash-out mules.

    Returns ``uid, from_one_shot, one_shot_senders`` for the receivers with at
    least ``min_senders`` such senders, who make at least half of their income.
    """
    senders = activity.filter(baseline.one_shot_large()).select(pl.col("uid").alias("src"))
    return (
        gift_flow.join(senders, on="src", how="semi")
        .group_by("dst")
        .agg(pl.col("coins").sum().alias("from_one_shot"), pl.len().alias("one_shot_senders"))
        .join(activity.select(pl.col("uid").alias("dst"), "coins_received"), on="dst")
        .filter((pl.col("one_shot_senders") >= min_senders) & (pl.col("from_one_shot") >= 0.5 * pl.col("coins_received")))
        .select(pl.col("dst").alias("uid"), "from_one_shot", "one_shot_senders")
        .sort("uid")
    )


def group_signals(members: pl.DataFrame, context: SignalContext) -> pl.DataFrame:
    """Compute every signal of :data:`SIGNALS` for every group in ``members``.

    Parameters
    ----------
    members : polars.DataFrame
        ``group, uid``: one row per (group, member); a uid may sit in several groups.
    context : SignalContext
        From :func:`signal_context`, once per run.

    Returns
    -------
    polars.DataFrame
        One row per group: ``group`` and one column per signal, plus the
        evidence numbers the reasons quote (``n_shared_identifiers``,
        ``sync_streams``, ``sync_accounts``, ``sync_sid`` and ``sync_start`` (the stream
        and the first gift of the biggest burst), ``top_beneficiary``, ...).
    """
    c = context
    members = members.select(pl.col("group").cast(pl.Int64), pl.col("uid").cast(pl.UInt32)).unique()
    size = members.group_by("group").agg(pl.len().alias("size"))
    out = size
    for part in (
        _link_signals(members, c.links, c.degree),
        _identifier_signals(members, c.identifier_links, c.baseline),
        _age_signals(members, c.activity, c.baseline),
        _money_signals(members, c.gift_flow, c.activity, c.baseline),
        _cycle_signals(members, c.gift_flow, c.person),
        _synchrony_signals(members, c.gifts, c.stream_baseline, c.config),
        _one_shot_signals(members, c.activity, c.baseline),
        _relay_signals(members, c.relays),
        _fan_signals(members, c.fans),
        *((_flag_signals(members, c.flags, min_flagged=c.config.flag_min_members),) if c.flags is not None else ()),
        *((_learned_signals(members, c.learned),) if c.learned is not None else ()),
    ):
        out = out.join(part, on="group", how="left")
    out = out.with_columns(
        pl.when(pl.col("coins_total") > 0).then(pl.col("coins_relayed").fill_null(0.0) / pl.col("coins_total"))
        .otherwise(0.0).clip(0.0, 1.0).alias("relay_coin_share"),
        pl.when(pl.col("coins_total") > 0).then(pl.col("coins_in_fans").fill_null(0.0) / pl.col("coins_total"))
        .otherwise(0.0).clip(0.0, 1.0).alias("fan_coin_share"),
    )
    float_cols = [col for col, t in out.schema.items() if t.is_float()]
    int_cols = [col for col, t in out.schema.items() if t.is_integer() and col not in ("group", *EVIDENCE_IDS)]
    return out.with_columns(
        pl.col(float_cols).fill_null(0.0).fill_nan(0.0), pl.col(int_cols).fill_null(0)
    ).sort("group")


# --- the parts --------------------------------------------------------------


def _flag_signals(members: pl.DataFrame, flags: pl.DataFrame, *, min_flagged: int) -> pl.DataFrame:
    """``n_flagged``, ``flagged_ratio`` (a share with the prior of the other share signals) and ``known_bad``
    (the members' mean nearness to flags, 0 when fewer than ``min_flagged`` members have flags of their
    own: one flagged account near honest friends is not a flagged ring) per group."""
    return (
        members.join(flags.select("uid", "flagged", "known_bad"), on="uid", how="left")
        .group_by("group")
        .agg(
            (pl.col("flagged").fill_null(0.0) > 0).sum().cast(pl.Int64).alias("n_flagged"),
            pl.len().cast(pl.Float64).alias("__n"),
            pl.col("known_bad").fill_null(0.0).mean().alias("known_bad"),
        )
        .with_columns(
            share(pl.col("n_flagged").cast(pl.Float64), pl.col("__n")).alias("flagged_ratio"),
            pl.when(pl.col("n_flagged") >= min_flagged).then(pl.col("known_bad")).otherwise(0.0).alias("known_bad"),
        )
        .drop("__n")
    )


def _pairs_in_groups(members: pl.DataFrame, edges: pl.DataFrame, a: str, b: str) -> pl.DataFrame:
    """Edges whose both ends are in the same group, with that group (once per group holding both)."""
    # edges with an end outside every group are dropped before the join fans out over the groups
    uids = members.get_column("uid").unique().implode()
    return (
        edges.lazy()
        .filter(pl.col(a).is_in(uids) & pl.col(b).is_in(uids))
        .join(members.lazy().rename({"uid": a}), on=a, how="inner")
        .join(members.lazy().rename({"uid": b}), on=["group", b], how="semi")
        .collect()
    )


def internal_flow(members: pl.DataFrame, gift_flow: pl.DataFrame) -> pl.DataFrame:
    """Gifts between two members of the same group, self-gifts left out: ``src, dst, coins, group``.

    ``members`` is ``group, uid``; a uid may sit in several groups.
    """
    return _pairs_in_groups(members, gift_flow.select("src", "dst", "coins"), "src", "dst").filter(
        pl.col("src") != pl.col("dst")
    )


def _learned_signals(members: pl.DataFrame, learned: pl.DataFrame) -> pl.DataFrame:
    """``group, learned_score``: the mean of the members' probabilities from a trained model (0 for an account
    it did not score)."""
    return (
        members.join(learned.select(pl.col("uid").cast(pl.UInt32), pl.col("learned").cast(pl.Float64)), on="uid", how="left")
        .group_by("group")
        .agg(pl.col("learned").fill_null(0.0).mean().alias("learned_score"))
    )


def _link_signals(members: pl.DataFrame, links: pl.DataFrame, degree: pl.DataFrame) -> pl.DataFrame:
    internal = _pairs_in_groups(members, links, "a", "b").group_by("group").agg(
        pl.len().alias("internal_pairs"), pl.col("w").sum().alias("internal_w")
    )
    volume = members.join(degree, on="uid", how="left").group_by("group").agg(pl.col("deg").fill_null(0).sum().alias("vol"))
    n = members.group_by("group").agg(pl.len().alias("n"))
    return (
        n.join(internal, on="group", how="left")
        .join(volume, on="group", how="left")
        .with_columns(pl.col("internal_pairs", "internal_w").fill_null(0), pl.col("vol").fill_null(0))
        .select(
            "group",
            (pl.col("internal_pairs") / (_float("n") * (_float("n") - 1.0) / 2.0).clip(lower_bound=1.0)).alias("internal_density"),
            pl.when(pl.col("vol") > 0)
            .then((pl.col("vol") - 2 * pl.col("internal_w")) / pl.col("vol"))
            .otherwise(1.0)
            .alias("conductance"),
        )
    )


def _identifier_signals(members: pl.DataFrame, identifier_links: pl.DataFrame, baseline: Baseline) -> pl.DataFrame:
    used = members.join(identifier_links, on="uid", how="inner")
    per_id = used.group_by("group", "identifier", "kind").agg(pl.col("uid").n_unique().alias("accounts"))
    shared_ids = per_id.filter(pl.col("accounts") >= 2)
    sharing_members = used.join(shared_ids.select("group", "identifier"), on=["group", "identifier"], how="semi")
    n = members.group_by("group").agg(pl.len().alias("n"))
    counts = shared_ids.group_by("group").agg(
        pl.len().alias("n_shared_identifiers"),
        (pl.col("kind") == "device").sum().alias("n_shared_devices"),
        (pl.col("kind") == "ip").sum().alias("n_shared_ips"),
    )
    sharers = sharing_members.group_by("group").agg(pl.col("uid").n_unique().alias("n_sharing"))
    return (
        n.join(counts, on="group", how="left")
        .join(sharers, on="group", how="left")
        .with_columns(pl.col("n_shared_identifiers", "n_shared_devices", "n_shared_ips", "n_sharing").fill_null(0))
        .select(
            "group",
            share(pl.col("n_sharing"), pl.col("n")).alias("shared_identifier_ratio"),
            pl.when(pl.col("n_shared_identifiers") > 0)
            .then(pl.col("n_sharing") / pl.col("n_shared_identifiers"))
            .otherwise(0.0)
            .alias("accounts_per_identifier"),
            "n_sharing",
            "n_shared_identifiers",
            "n_shared_devices",
            "n_shared_ips",
        )
        .with_columns(
            (
                pl.col("shared_identifier_ratio")
                * (pl.col("accounts_per_identifier") / baseline.household).clip(0.0, 1.0)
            ).alias("crowding")
        )
    )


def _age_signals(members: pl.DataFrame, activity: pl.DataFrame, baseline: Baseline) -> pl.DataFrame:
    joined = members.join(activity.select("uid", "created_at", "age_days", "n_sent"), on="uid", how="left")
    ages = joined.group_by("group").agg(
        pl.len().alias("n"),
        ((pl.col("age_days") < baseline.young_days) & (pl.col("n_sent") > 0)).sum().alias("n_young"),
        pl.col("age_days").median().alias("median_age_days"),
        pl.col("created_at").is_not_null().sum().alias("n_created"),
    )
    created = joined.filter(pl.col("created_at").is_not_null()).sort("group", "created_at")
    burst = (
        created.rolling(index_column="created_at", period="24h", group_by="group")
        .agg(pl.len().alias("in_window"))
        .group_by("group")
        .agg(pl.col("in_window").max().alias("max_created_24h"))
    )
    return ages.join(burst, on="group", how="left").select(
        "group",
        share(pl.col("n_young"), pl.col("n")).alias("new_account_ratio"),
        pl.when(pl.col("n_created") >= 2)
        .then(share(pl.col("max_created_24h").fill_null(0), pl.col("n")))
        .otherwise(0.0)
        .alias("creation_burst"),
        "n_young",
        pl.col("max_created_24h").fill_null(0).alias("max_created_24h"),
        "median_age_days",
    )


def _money_signals(members: pl.DataFrame, gift_flow: pl.DataFrame, activity: pl.DataFrame, baseline: Baseline) -> pl.DataFrame:
    """Where the members' coins go: totals, concentration on the top receivers, camouflage.

    Concentration is measured over every receiver, member or not, so a ring
    whose beneficiary was left outside the group still shows who got paid.
    """
    flow = gift_flow.select("src", "dst", "coins")
    sent = flow.join(members.rename({"uid": "src"}), on="src", how="inner")
    # internal: the receiver is a member of the same group (it may sit in other groups as well)
    member_dst = members.select("group", pl.col("uid").alias("dst"), pl.lit(True).alias("internal"))
    inside = sent.join(member_dst, on=["group", "dst"], how="left").with_columns(pl.col("internal").fill_null(False))
    popular = activity.filter(pl.col("n_senders") >= baseline.popular_senders).select(pl.col("uid").alias("dst"))
    totals = inside.with_columns(pl.col("dst").is_in(popular["dst"].implode()).alias("to_popular")).group_by("group").agg(
        pl.col("coins").sum().alias("coins_total"),
        pl.col("coins").filter(pl.col("internal")).sum().alias("coins_internal"),
        pl.col("coins").filter(~pl.col("internal") & pl.col("to_popular")).sum().alias("coins_camouflage"),
    )
    by_receiver = (
        inside.filter(pl.col("src") != pl.col("dst"))
        .group_by("group", "dst")
        .agg(pl.col("coins").sum().alias("coins_in"))
        .join(activity.select(pl.col("uid").alias("dst"), "coins_received"), on="dst", how="left")
    )
    ranked = by_receiver.sort(["group", "coins_in", "dst"], descending=[False, True, False])
    conc = ranked.group_by("group", maintain_order=True).agg(
        pl.col("dst").first().alias("top_beneficiary"),
        pl.col("coins_in").first().alias("top_coins_in"),
        pl.col("coins_in").head(3).sum().alias("top3_coins_in"),
        (pl.col("coins_in").head(3).sum() / pl.col("coins_received").head(3).sum()).alias("beneficiary_income_share"),
        ((pl.col("coins_in") / pl.col("coins_in").sum()) ** 2).sum().alias("beneficiary_hhi"),
        pl.len().alias("n_receivers"),
    )
    return totals.join(conc, on="group", how="left").select(
        "group",
        "coins_total",
        "coins_internal",
        pl.when(pl.col("coins_total") > 0).then(pl.col("top_coins_in").fill_null(0) / pl.col("coins_total")).otherwise(0.0)
        .alias("beneficiary_top1_share"),
        pl.when(pl.col("coins_total") > 0).then(pl.col("top3_coins_in").fill_null(0) / pl.col("coins_total")).otherwise(0.0)
        .alias("beneficiary_top3_share"),
        pl.col("beneficiary_hhi").fill_null(0.0),
        pl.col("beneficiary_income_share").fill_null(0.0),
        pl.when(pl.col("coins_total") > 0).then(pl.col("coins_camouflage") / pl.col("coins_total")).otherwise(0.0)
        .alias("camouflage"),
        "top_beneficiary",
        pl.col("n_receivers").fill_null(0),
    )


def person_of(device_links: pl.DataFrame, n_users: int) -> np.ndarray:
    """``person[uid]``: accounts linked by shared devices are one person.

    A host and the alt accounts it logs into from the same phone are one
    person; coins that go from the host's alt to another host and come back
    through that host's alt went round in a loop, even though no single
    account both sent and received them. Components of the account-device
    graph; an account without a shared device is a person of its own.

    Every device counts, however many accounts it holds, except the
    placeholder ids (``Config.placeholder_device_ids``): a physical device
    shared by hundreds of accounts is one operator's, and leaving it out as a
    hub (as before issue 21) let a host with 60 alts on its phone launder
    coins without a loop ever being seen. IPs never join persons.

    Examples
    --------
    >>> links = pl.DataFrame({"uid": [0, 2], "identifier": ["device:a", "device:a"], "kind": ["device"] * 2,
    ...                       "placeholder": [False, False]}, schema_overrides={"uid": pl.UInt32})
    >>> p = person_of(links, 3)
    >>> bool(p[0] == p[2]), bool(p[0] == p[1])
    (True, False)
    """
    devices = device_links.filter(~pl.col("placeholder") & (pl.col("kind") == "device")).select("uid", "identifier").unique()
    ids = devices.select("identifier").unique().sort("identifier").with_row_index("d")
    edges = devices.join(ids, on="identifier")
    return weak_components(n_users + ids.height, edges["uid"].cast(pl.Int64), edges["d"].cast(pl.Int64) + n_users)[:n_users]


def _cycle_signals(members: pl.DataFrame, gift_flow: pl.DataFrame, person: np.ndarray) -> pl.DataFrame:
    """Coins that come back: edges on a cycle of the group's gift flow between persons (:func:`person_of`)."""
    internal = internal_flow(members, gift_flow)
    if internal.height == 0:
        return pl.DataFrame(schema={"group": pl.Int64, "reciprocity": pl.Float64, "cycle_coin_share": pl.Float64,
                                    "coins_on_cycles": pl.Float64})
    # one vertex per (group, person): a person may sit in several candidate groups
    ps, pd = person[internal["src"].to_numpy()], person[internal["dst"].to_numpy()]
    keys = pl.DataFrame({"group": internal["group"], "ps": ps, "pd": pd})
    vertex = pl.concat([keys.select("group", pl.col("ps").alias("p")), keys.select("group", pl.col("pd").alias("p"))]).unique().with_row_index("v")
    ends = keys.join(vertex.rename({"p": "ps", "v": "vs"}), on=["group", "ps"], how="left", maintain_order="left").join(
        vertex.rename({"p": "pd", "v": "vd"}), on=["group", "pd"], how="left", maintain_order="left"
    )
    vs, vd = ends["vs"].to_numpy(), ends["vd"].to_numpy()
    between = ps != pd
    graph = graph_from_edges(vertex.height, vs[between], vd[between], directed=True)
    scc = np.asarray(graph.connected_components(mode="strong").membership)
    on_cycle = (scc[vs] == scc[vd]) & between
    back = internal.select(pl.col("src").alias("dst"), pl.col("dst").alias("src"), "group").with_columns(pl.lit(True).alias("rev"))
    edges = internal.with_columns(pl.Series("on_cycle", on_cycle)).join(back, on=["group", "src", "dst"], how="left")
    return edges.group_by("group").agg(
        (pl.col("rev").fill_null(False).sum() / pl.len()).alias("reciprocity"),
        (pl.col("coins").filter(pl.col("on_cycle")).sum() / pl.col("coins").sum()).alias("cycle_coin_share"),
        pl.col("coins").filter(pl.col("on_cycle")).sum().alias("coins_on_cycles"),
    )


def _stream_baseline(gifts: pl.DataFrame, config: Config) -> pl.DataFrame:
    """``sid, expected``: accounts the busiest window of each stream holds by chance.

    Its gifters spread at random over its gifting time (Poisson, mean ``lam``
    per window): the maximum over its ``n`` windows is about
    ``lam + sqrt(2 lam ln n)``.
    """
    window_s = max(int(config.cogift_window_s), 1)
    return (
        gifts.filter(pl.col("sid").is_not_null())
        .group_by("sid")
        .agg(
            pl.col("src").n_unique().alias("gifters"),
            ((pl.col("sent_at").max() - pl.col("sent_at").min()).dt.total_seconds()).alias("span_s"),
        )
        .with_columns((pl.col("span_s").clip(lower_bound=window_s) / window_s).alias("windows"))
        .with_columns((pl.col("gifters") / pl.col("windows")).alias("lam"))
        .select(
            "sid",
            (pl.col("lam") + (2.0 * pl.col("lam") * pl.col("windows").clip(lower_bound=2.0).log()).sqrt()).alias("expected"),
        )
    )


def _synchrony_signals(
    members: pl.DataFrame, gifts: pl.DataFrame, stream_baseline: pl.DataFrame, config: Config
) -> pl.DataFrame:
    """Lockstep gifting: how much of the group gifted the same stream inside one short window, repeatedly.

    For every (group, stream) the densest window of ``cogift_window_s``
    seconds is found with a rolling count of distinct members, less what the
    busiest window of that stream would hold by chance (its gifters spread at
    random over its gifting time: the stream's own baseline). ``synchrony`` is the mean of the
    three largest such excesses over the group's streams, divided by the
    group's size: a coordinated burst puts most of its accounts in one window
    on several streams (near 1); a fan club gifting all through a host's
    streams, or strangers in a busy stream, stay near the baseline (low).
    """
    window_s = max(int(config.cogift_window_s), 1)
    schema = {"group": pl.Int64, "synchrony": pl.Float64, "sync_streams": pl.UInt32, "sync_accounts": pl.UInt32,
              "sync_sid": pl.UInt32, "sync_start": gifts.schema["sent_at"]}
    streamed = gifts.lazy().filter(pl.col("sid").is_not_null())
    member_of = members.lazy().rename({"uid": "src"})
    # a window holds at most the members that gifted the stream at all: (group, stream) pairs with too few
    # to beat 3 accounts and the stream's baseline are dropped before the (costly) rolling count; they are
    # counted on the distinct (gifter, stream) pairs, not on every gift
    busy = (
        streamed.select("src", "sid").unique()
        .join(member_of, on="src")
        .group_by("group", "sid")
        .agg(pl.len().alias("__members"))
        .join(stream_baseline.lazy(), on="sid", how="left")
        .filter((pl.col("__members") >= 3) & (pl.col("__members") > pl.col("expected").fill_null(0.0)))
        .select("group", "sid")
        .collect()
        .lazy()
    )
    # only the gifts of busy (group, stream)s are joined to their members
    g = (
        streamed.select("src", "sid", "sent_at")
        .join(busy.select("sid").unique(), on="sid", how="semi")
        .join(member_of.join(busy.select("group").unique(), on="group", how="semi"), on="src")
        .join(busy, on=["group", "sid"], how="semi")
        .sort("group", "sid", "sent_at")
        .collect()
    )
    if g.height == 0:
        return pl.DataFrame(schema=schema)
    windows = g.rolling(index_column="sent_at", period=f"{window_s}s", group_by=["group", "sid"]).agg(
        pl.col("src").n_unique().alias("accounts_in_window"), pl.col("sent_at").min().alias("window_start")
    )
    # per (group, stream): its busiest window, the earliest of equals (reduced first, then the few rows sorted)
    busiest = pl.col("accounts_in_window").max()
    per_stream = (
        windows.group_by("group", "sid")
        .agg(busiest.alias("burst_accounts"),
             pl.col("window_start").filter(pl.col("accounts_in_window") == busiest).min())
        .sort("group", "sid")
        .filter(pl.col("burst_accounts") >= 3)
        .join(stream_baseline, on="sid", how="left")
        .with_columns((pl.col("burst_accounts") - pl.col("expected").fill_null(0.0)).clip(lower_bound=0.0).alias("excess"))
        .filter(pl.col("excess") > 0)
    )
    sizes = members.group_by("group").agg(pl.len().alias("n"))
    # the biggest burst (most accounts; then the earliest, then the lowest stream) is the one the reason names
    biggest = per_stream.sort(["group", "burst_accounts", "window_start", "sid"], descending=[False, True, False, False])
    top3 = per_stream.sort(["group", "excess"], descending=[False, True]).group_by("group", maintain_order=True).agg(
        pl.col("excess").head(3).sum().alias("top3"),
        (pl.col("excess") >= 3).sum().cast(pl.UInt32).alias("sync_streams"),
    )
    named = biggest.group_by("group", maintain_order=True).agg(
        pl.col("burst_accounts").first().cast(pl.UInt32).alias("sync_accounts"),
        pl.col("sid").first().cast(pl.UInt32).alias("sync_sid"),
        pl.col("window_start").first().alias("sync_start"),
    )
    return top3.join(named, on="group").join(sizes, on="group").select(
        "group",
        share(pl.col("top3") / 3.0, pl.col("n")).clip(0.0, 1.0).alias("synchrony"),
        "sync_streams",
        "sync_accounts",
        "sync_sid",
        "sync_start",
    )


def _relay_signals(members: pl.DataFrame, relays: pl.DataFrame) -> pl.DataFrame:
    """Relay hops ``a -> m -> c`` with all three accounts in the group: the coins passed on, the relaying
    members, and the biggest hop (``relay_a, relay_m, relay_c, relay_coins, relay_delay_s``) for the reason."""
    inside = (
        relays.lazy()
        .join(members.lazy().rename({"uid": "m"}), on="m")
        .join(members.lazy().rename({"uid": "a"}), on=["group", "a"], how="semi")
        .join(members.lazy().rename({"uid": "c"}), on=["group", "c"], how="semi")
        .collect()
    )
    # the biggest hop; of equals the lowest ids, then the shortest delay: a total order, so the reason is reproducible
    ordered = inside.sort(["group", "coins_out", "m", "a", "c", "delay_s", "coins_in"],
                          descending=[False, True, False, False, False, False, False])
    return ordered.group_by("group", maintain_order=True).agg(
        pl.col("coins_out").sum().alias("coins_relayed"),
        pl.col("m").n_unique().alias("n_relay_middles"),
        pl.col("a").first().alias("relay_a"),
        pl.col("m").first().alias("relay_m"),
        pl.col("c").first().alias("relay_c"),
        pl.col("coins_out").first().alias("relay_coins"),
        pl.col("delay_s").first().alias("relay_delay_s"),
    ) if inside.height else pl.DataFrame(schema={
        "group": pl.Int64, "coins_relayed": pl.Float64, "n_relay_middles": pl.UInt32, "relay_a": pl.UInt32,
        "relay_m": pl.UInt32, "relay_c": pl.UInt32, "relay_coins": pl.Float64, "relay_delay_s": pl.Float64,
    })


def _fan_signals(members: pl.DataFrame, fans: pl.DataFrame) -> pl.DataFrame:
    """Equal-amount fan gifts with both ends in the group: their coins, and the biggest fan (its side, center
    and the members it reached: ``fan_side, fan_center, fan_size``) for the reason."""
    inside = (
        fans.lazy()
        .join(members.lazy().rename({"uid": "src"}), on="src")
        .join(members.lazy().rename({"uid": "dst"}), on=["group", "dst"], how="semi")
        .collect()
    )
    if inside.height == 0:
        return pl.DataFrame(schema={"group": pl.Int64, "coins_in_fans": pl.Float64, "fan_side": pl.Utf8,
                                    "fan_center": pl.UInt32, "fan_size": pl.UInt32})
    coins = inside.unique(["group", "src", "dst", "coins", "t_us"]).group_by("group").agg(pl.col("coins").sum().alias("coins_in_fans"))
    biggest = (
        inside.group_by("group", "side", "center")
        .agg(pl.when(pl.col("side").first() == "out").then(pl.col("dst")).otherwise(pl.col("src")).n_unique()
             .cast(pl.UInt32).alias("fan_size"))
        .sort(["group", "fan_size", "side", "center"], descending=[False, True, True, False])
        .unique("group", keep="first", maintain_order=True)
        .select("group", pl.col("side").alias("fan_side"), pl.col("center").alias("fan_center"), "fan_size")
    )
    return coins.join(biggest, on="group")


def _one_shot_signals(members: pl.DataFrame, activity: pl.DataFrame, baseline: Baseline) -> pl.DataFrame:
    joined = members.join(activity.select("uid", "n_sent", "max_gift"), on="uid", how="left")
    return joined.group_by("group").agg(
        (
            share(baseline.one_shot_large().sum(), (pl.col("n_sent") >= 1).sum())
        ).alias("one_shot_large_ratio"),
        baseline.one_shot_large().sum().alias("n_one_shot_large"),
    )
