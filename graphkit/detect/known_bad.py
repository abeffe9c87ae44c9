"""Known-bad propagation: what the platform already knows (the flags table), spread to the accounts near it.

Trust & safety teams hold chargebacks, bans, user reports and past
enforcement. The strongest evidence that an account is in a ring is often
that its neighbours were already caught (LIFE, Taobao Live, KDD 2021, works
this way). Each flagged account is a seed, weighted by its flags' kinds
(``Config.flag_weight_*``) and their ``weight`` column; a personalised
PageRank over the links that can join a ring spreads the seeds' weight to
their neighbours.

The links are the ones a ring is made of, never a popular host's audience:

- shared devices and IPs, hubs left out (:attr:`graphkit.graphs.Graphs.shared`);
- co-gifting in lockstep (:attr:`graphkit.graphs.Graphs.cogift`);
- strong gift ties: a pair where at least ``Config.flag_min_gift_tie`` of the
  sender's coins went to the receiver, unless the receiver is a hub host
  (more than ``Config.hub_cap`` distinct senders, the one hub rule,
  :func:`graphkit.graphs.projections.is_hub`): a ban on one fan of a star
  says nothing about the star's other fans.

Each relation weighs 0..1 (as in :meth:`graphkit.graphs.Graphs.user_edges`),
and a pair's weight is their sum.

What an account gets, ``near_flags``, is the expected seed weight where a
random walk from the account stops, when it stops with probability
``1 - flag_damping`` at each step: 0 far from every flag, the share of a
clique's members that are flagged inside an isolated clique. On an
undirected graph it is one personalised PageRank for all accounts at once:
``pi_i(s) * d_i = pi_s(i) * d_s`` for strengths ``d``, so
``near_flags_i = Z * PPR(reset = w * d)_i / d_i`` with ``Z = sum(w * d)``.
The account signal ``known_bad`` is ``near_flags / flag_share_full``
clipped to 1.

A flag dated after the data's last event (``as_of``) is never a seed:
scores must not know what happened later (:func:`account_flags`).

An account's own flags are weighed against what else it received: its
``flag_rate`` (:func:`flag_rates`) is its weighted flags over those flags plus
the distinct accounts that gifted it, with ``Config.flag_rate_prior`` (the
rule of the share signals, :func:`graphkit.detect.signals.share`). An honest
trader with 300 positive and 5 negative ratings has a low rate; a scammer with
5 negative ratings and nothing else a high one.

References
----------
Wang et al., "Live-streaming fraud detection: a heterogeneous graph neural
network approach" (LIFE), KDD 2021. Page et al., "The PageRank citation
ranking", 1999; Jeh and Widom, "Scaling personalized web search", WWW 2003.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from graphkit.config import Config
from graphkit.graphs import Graphs
from graphkit.graphs.build import graph_from_edges
from graphkit.graphs.projections import is_hub
from graphkit.detect.signals import share

__all__ = ["FLAG_KINDS", "FLAG_SCHEMA", "account_flags", "flag_rates", "flag_weight", "known_bad", "propagation_edges",
           "near_flags"]

FLAG_KINDS = ("chargeback", "ban", "report", "refund", "manual")
"""The kinds with a weight of their own in :class:`Config` (``flag_weight_<kind>``); any other kind
weighs ``flag_weight_other``."""

FLAG_SCHEMA = {"uid": pl.UInt32, "kind": pl.Utf8, "at": pl.Datetime("us", "UTC"), "weight": pl.Float64}
"""The flags as seeds: one row per flag of an account in the graph, ``weight`` its seed weight in [0, 1]."""


def flag_weight(config: Config) -> pl.Expr:
    """A flag's seed weight: its kind's ``Config.flag_weight_<kind>`` times its ``weight`` (1 when null).

    Examples
    --------
    >>> flags = pl.DataFrame({"kind": ["ban", "report", "spam"], "weight": [None, 0.5, None]})
    >>> flags.select(flag_weight(Config())).to_series().to_list()
    [1.0, 0.15, 0.5]
    """
    kinds = list(FLAG_KINDS)
    by_kind = pl.col("kind").replace_strict(
        kinds, [getattr(config, f"flag_weight_{k}") for k in kinds], default=config.flag_weight_other,
        return_dtype=pl.Float64,
    )
    return (by_kind * pl.col("weight").cast(pl.Float64).fill_null(1.0)).clip(0.0, 1.0)


def account_flags(flags: pl.DataFrame, graphs: Graphs, config: Config, *, as_of: datetime | None) -> pl.DataFrame:
    """The flags of accounts in the graph, dated at or before ``as_of``, as seeds (:data:`FLAG_SCHEMA`).

    Parameters
    ----------
    flags : polars.DataFrame
        ``Tables.flags``: ``user_id, kind, at, weight``.
    graphs : Graphs
        Its id index encodes the accounts; flags of accounts outside the graph are left out.
    config : Config
        The kind weights.
    as_of : datetime or None
        The data's last gift or device sighting in the window; later flags are left out
        (None: no dated event, every flag is kept).

    Examples
    --------
    >>> from graphkit import Tables
    >>> from graphkit.graphs import build_graphs
    >>> from datetime import datetime, timezone
    >>> t = Tables.from_frames(devices=pl.DataFrame({"user_id": ["a", "b"], "device_id": ["d", "d"],
    ...     "seen_at": ["2024-01-02", "2024-01-03"]}),
    ...     flags=pl.DataFrame({"user_id": ["a", "b"], "kind": ["ban", "report"], "at": ["2024-01-01", "2024-01-03"]}))
    >>> g = build_graphs(t)
    >>> account_flags(t.flags, g, Config(), as_of=datetime(2024, 1, 2, tzinfo=timezone.utc)).rows()
    [(0, 'ban', datetime.datetime(2024, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 1.0)]
    """
    known = flags if as_of is None else flags.filter(pl.col("at") <= as_of)
    encoded = graphs.index.encode(known.select("user_id", "kind", "at", "weight"), "user_id", as_="uid")
    return encoded.filter(pl.col("uid").is_not_null()).select(
        pl.col("uid").cast(pl.UInt32), "kind", "at", flag_weight(config).alias("weight")
    ).sort("uid", "at", "kind")


def propagation_edges(graphs: Graphs, config: Config) -> pl.DataFrame:
    """The links the flags spread over: ``a < b, weight`` (see the module notes).

    Examples
    --------
    >>> from graphkit import Tables
    >>> from graphkit.graphs import build_graphs
    >>> gifts = pl.DataFrame({"sender_id": ["a", "a", "b"], "receiver_id": ["h", "x", "h"],
    ...     "coins": [90.0, 10.0, 5.0], "sent_at": ["2024-01-01"] * 3})
    >>> g = build_graphs(Tables.from_frames(gifts=gifts))
    >>> g.index.decode(g.index.decode(propagation_edges(g, Config()), "a"), "b").rows()
    [('a', 'h', 0.9), ('b', 'h', 1.0)]
    >>> propagation_edges(g, Config(hub_cap=2, flag_min_gift_tie=0.05)).height  # h has 2 senders: not a hub
    3
    """
    flow = graphs.gift_flow.lazy().filter(pl.col("src") != pl.col("dst"))
    total = pl.col("coins").sum().over("src")
    share = pl.when(total > 0).then(pl.col("coins") / total).otherwise(pl.col("count") / pl.col("count").sum().over("src"))
    hub_hosts = flow.group_by("dst").agg(pl.len().alias("senders")).filter(is_hub(pl.col("senders"), config.hub_cap))
    ties = (
        flow.with_columns(share.alias("weight"))
        .filter(pl.col("weight") >= config.flag_min_gift_tie)
        .join(hub_hosts, on="dst", how="anti")
        .select(pl.min_horizontal("src", "dst").alias("a"), pl.max_horizontal("src", "dst").alias("b"), "weight")
        .group_by("a", "b").agg(pl.col("weight").sum().clip(upper_bound=1.0))
    )
    relations = [ties, graphs.shared.lazy().select("a", "b", "weight"), graphs.cogift.lazy().select("a", "b", "weight")]
    return (
        pl.concat([r.select(pl.col("a").cast(pl.UInt32), pl.col("b").cast(pl.UInt32), pl.col("weight").cast(pl.Float64))
                   for r in relations])
        .group_by("a", "b").agg(pl.col("weight").sum())
        .filter(pl.col("weight") > 0)
        .sort("a", "b")
        .collect()
    )


def near_flags(n: int, edges: pl.DataFrame, seeds: pl.DataFrame, *, damping: float) -> np.ndarray:
    """For every account, the expected seed weight where a walk from it stops (see the module notes).

    Parameters
    ----------
    n : int
        Accounts (vertices ``0..n-1``).
    edges : polars.DataFrame
        ``a, b, weight`` (undirected).
    seeds : polars.DataFrame
        ``uid, weight``: one row per seed account, weight in [0, 1].
    damping : float
        The probability that the walk goes on at each step.

    Returns
    -------
    numpy.ndarray
        ``n`` values in [0, max seed weight]; 0 for accounts without links.

    Examples
    --------
    A triangle with one flagged corner (0) and an account (3) hanging from corner 2:
    the further from the flag, and the more other links, the less often a walk stops there.

    >>> edges = pl.DataFrame({"a": [0, 0, 1, 2], "b": [1, 2, 2, 3], "weight": [1.0, 1.0, 1.0, 1.0]})
    >>> near_flags(4, edges, pl.DataFrame({"uid": [0], "weight": [1.0]}), damping=0.5).round(3).tolist()
    [0.579, 0.179, 0.138, 0.069]
    """
    out = np.zeros(n, dtype=np.float64)
    if n == 0 or edges.height == 0 or seeds.height == 0:
        return out
    g = graph_from_edges(n, edges["a"], edges["b"], False, {"weight": edges["weight"]})
    strength = np.asarray(g.strength(weights="weight"), dtype=np.float64)
    w = np.zeros(n, dtype=np.float64)
    w[seeds["uid"].to_numpy()] = seeds["weight"].to_numpy()
    reset = w * strength
    z = reset.sum()
    if z <= 0:
        return out
    ppr = np.asarray(g.personalized_pagerank(damping=damping, reset=reset.tolist(), weights="weight"), dtype=np.float64)
    linked = strength > 0
    out[linked] = z * ppr[linked] / strength[linked]
    return np.clip(out, 0.0, 1.0)


def flag_rates(n: int, flags: pl.DataFrame, gift_flow: pl.DataFrame, *, prior: float) -> pl.DataFrame:
    """Each account's flags weighed against the accounts that gifted it: ``uid, flags_received, senders, flag_rate``.

    ``flags_received`` is the sum of its flags' seed weights, ``senders`` the distinct other
    accounts that gifted it, and ``flag_rate = share(flags_received, flags_received + senders, prior)``
    (:func:`graphkit.detect.signals.share`, the rule of the share signals): 0 without a flag,
    never above 1, lower the more accounts gifted it, higher the more it was flagged.

    Parameters
    ----------
    n : int
        Accounts (``uid`` 0..n-1); one row each.
    flags : polars.DataFrame
        From :func:`account_flags` (``uid, weight``).
    gift_flow : polars.DataFrame
        ``Graphs.gift_flow`` (``src, dst``); self-gifts are not counted.
    prior : float
        ``Config.flag_rate_prior``.

    Examples
    --------
    Account 0 has five flags of weight 0.5 and gifts from nobody, account 1 the same five flags
    and gifts from accounts 2 and 3 (account 2 gifted it twice: one sender), account 2 no flag:

    >>> flags = pl.DataFrame({"uid": [0] * 5 + [1] * 5, "weight": [0.5] * 10})
    >>> flow = pl.DataFrame({"src": [2, 2, 3], "dst": [1, 1, 1]})
    >>> rates = flag_rates(4, flags, flow, prior=2.0)
    >>> rates["flags_received"].to_list(), rates["senders"].to_list()
    ([2.5, 2.5, 0.0, 0.0], [0, 2, 0, 0])
    >>> rates["flag_rate"].round(3).to_list()
    [0.556, 0.385, 0.0, 0.0]
    """
    received = flags.group_by("uid").agg(pl.col("weight").sum().alias("flags_received"))
    senders = (
        gift_flow.filter(pl.col("src") != pl.col("dst"))
        .group_by(pl.col("dst").alias("uid")).agg(pl.col("src").n_unique().cast(pl.Int64).alias("senders"))
    )
    flagged = pl.col("flags_received")
    return (
        pl.DataFrame({"uid": np.arange(n, dtype=np.uint32)})
        .join(received.with_columns(pl.col("uid").cast(pl.UInt32)), on="uid", how="left")
        .join(senders.with_columns(pl.col("uid").cast(pl.UInt32)), on="uid", how="left")
        .with_columns(flagged.fill_null(0.0), pl.col("senders").fill_null(0))
        .with_columns(
            pl.when(flagged > 0).then(share(flagged, flagged + pl.col("senders").cast(pl.Float64), prior))
            .otherwise(0.0).alias("flag_rate")
        )
        .sort("uid")
    )


def known_bad(graphs: Graphs, flags: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Each account's flags and its nearness to flagged accounts.

    Parameters
    ----------
    graphs : Graphs
    flags : polars.DataFrame
        From :func:`account_flags` (:data:`FLAG_SCHEMA`).
    config : Config
        ``flag_damping``, ``flag_share_full``, ``flag_min_gift_tie``, ``hub_cap``.

    Returns
    -------
    polars.DataFrame
        One row per account (``uid`` 0..n-1): ``flagged`` (its own seed weight: a noisy-or
        of its flags' weights, 0 when none), ``near_flags`` (see :func:`near_flags`),
        ``known_bad`` (``near_flags / flag_share_full``, at most 1), and ``flags_received``,
        ``senders``, ``flag_rate`` (:func:`flag_rates`, with ``Config.flag_rate_prior``).

    Examples
    --------
    >>> from graphkit import Tables
    >>> from graphkit.graphs import build_graphs
    >>> devices = pl.DataFrame({"user_id": ["a", "b", "c", "d"], "device_id": ["x", "x", "x", "y"]})
    >>> t = Tables.from_frames(devices=devices,
    ...     flags=pl.DataFrame({"user_id": ["a"], "kind": ["chargeback"], "at": ["2024-01-01"]}))
    >>> g = build_graphs(t)
    >>> kb = known_bad(g, account_flags(t.flags, g, Config(), as_of=None), Config())
    >>> kb["flagged"].to_list(), kb["known_bad"].round(2).to_list()
    ([1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0])
    """
    n = graphs.n_users
    seeds = flags.group_by("uid").agg((1.0 - (1.0 - pl.col("weight")).product()).alias("weight")).sort("uid")
    near = near_flags(n, propagation_edges(graphs, config), seeds, damping=config.flag_damping)
    flagged = np.zeros(n, dtype=np.float64)
    flagged[seeds["uid"].to_numpy()] = seeds["weight"].to_numpy()
    return pl.DataFrame({
        "uid": np.arange(n, dtype=np.uint32),
        "flagged": flagged,
        "near_flags": near,
        "known_bad": np.clip(near / config.flag_share_full, 0.0, 1.0),
    }).join(flag_rates(n, flags, graphs.gift_flow, prior=config.flag_rate_prior), on="uid", how="left")
