"""Money-flow detectors: relay chains, scatter-gather and gather-scatter motifs, equal-amount fans.

Laundering typologies (as AMLSim plants them, and as they arrive on a
gifting platform) move coins through intermediaries rather than around one
hop: a *relay chain* passes coins on hop by hop at near-equal amounts within
short delays (source -> middles -> sink); a *scatter-gather* spreads one
source's coins over several middles that all pay the same sink; a
*gather-scatter* collects from several sources into one account that pays
about as much out to several sinks; a *fan-out* pays many receivers
near-equal amounts at once, and a *fan-in* gathers them from many. Each function here proposes such groups as
candidates (``cand, uid, source``); they are scored like every other
candidate (:mod:`graphkit.score`), where the ``relay_coin_share`` and
``fan_coin_share`` signals say how much of a group's coins were relayed or
moved in equal-amount fans.

All four are joins and group-bys over the gift events and the gift flow
(no loop over accounts or edges); the groups are connected components
(scipy) of the motifs found.

References
----------
Li, X., Liu, S., Li, Z., Han, X., Shi, C., Hooi, B., Huang, H., & Cheng, X.
(2020). FlowScope: Spotting money laundering based on graphs. AAAI '20
(dense source -> middle -> sink flow whose middles pass on what they receive;
graphkit finds the hops by their amounts and delays instead of by peeling).

Suzumura, T., & Kanezashi, H. (2021). Anti-Money Laundering Datasets:
AMLSim (fan-in, fan-out, cycle, scatter-gather, gather-scatter typologies).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from graphkit.graphs.build import weak_components
from graphkit.graphs.relays import equal_fans, relay_hops

from graphkit.detect.candidates import CANDIDATE_SCHEMA

__all__ = [
    "equal_fan_candidates",
    "equal_fans",
    "flow_motif_candidates",
    "relay_chain_candidates",
    "relay_hops",
]


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=CANDIDATE_SCHEMA)


def _components(src: np.ndarray, dst: np.ndarray, source: str, *, n_users: int, min_size: int,
                max_size: int) -> pl.DataFrame:
    """The connected components of the links ``src[i] - dst[i]`` as candidates of ``min_size`` to ``max_size``."""
    if len(src) == 0:
        return _empty()
    membership = weak_components(n_users, src, dst)
    involved = np.zeros(n_users, dtype=bool)
    involved[src] = involved[dst] = True
    frame = pl.DataFrame({"uid": np.flatnonzero(involved).astype(np.uint32),
                          "comp": membership[involved].astype(np.int64)})
    sizes = frame.group_by("comp").len().filter((pl.col("len") >= min_size) & (pl.col("len") <= max_size))
    kept = frame.join(sizes.select("comp"), on="comp", how="semi")
    renumber = kept.select("comp").unique().sort("comp").with_row_index("cand")
    return kept.join(renumber, on="comp").select(
        pl.col("cand").cast(pl.Int64), "uid", pl.lit(source).alias("source")
    ).sort("cand", "uid")


def relay_chain_candidates(relays: pl.DataFrame, *, n_users: int, min_size: int, max_size: int) -> pl.DataFrame:
    """Accounts linked by relay hops (:func:`graphkit.graphs.relays.relay_hops`), one candidate per chain.

    Every hop ``a -> m -> c`` links its three accounts; hops that share an
    account chain into one group (source -> middles -> sink, a multi-hop
    flow). Groups of ``min_size`` to ``max_size`` accounts are candidates,
    ``source`` ``relay_chain``.

    Examples
    --------
    >>> relays = pl.DataFrame({"a": [0, 1, 7], "m": [1, 2, 8], "c": [2, 3, 9]}, schema={"a": pl.UInt32, "m": pl.UInt32,
    ...                       "c": pl.UInt32})
    >>> found = relay_chain_candidates(relays, n_users=10, min_size=4, max_size=500)
    >>> found["uid"].to_list()  # 0 -> 1 -> 2 -> 3 is one chain; 7 -> 8 -> 9 is too small
    [0, 1, 2, 3]
    """
    if relays.height == 0:
        return _empty()
    src = np.r_[relays["a"].to_numpy(), relays["m"].to_numpy()]
    dst = np.r_[relays["m"].to_numpy(), relays["c"].to_numpy()]
    return _components(src, dst, "relay_chain", n_users=n_users, min_size=min_size, max_size=max_size)


def flow_motif_candidates(
    gift_flow: pl.DataFrame, *, n_users: int, min_branches: int, max_middle_degree: int, balance_tolerance: float,
    min_size: int, max_size: int,
) -> pl.DataFrame:
    """Scatter-gather and gather-scatter motifs of the gift flow, found with joins.

    Scatter-gather (``source`` ``flow_motif_scatter_gather``): a source ``s``
    pays at least ``min_branches`` distinct middles that each pay the same
    sink ``t`` (``s -> m_i -> t``). Middles are accounts with at most
    ``max_middle_degree`` distinct senders and receivers (a popular host is
    no intermediary, and its fans x its receivers would be a huge join).
    Motifs that share an account are one group: sources, middles and sinks.

    Gather-scatter (``flow_motif_gather_scatter``): one account that pays
    out about as much as it received (out within ``balance_tolerance`` of
    in), with at least ``min_branches`` dedicated sources (that send it at
    least half of all they send) and ``min_branches`` dedicated sinks (that
    get at least half of their income from it): the collector with those. A
    host that cashes out pays little on; a collector that passes the money
    on pays it all, and its mules deal with it alone.

    Groups of ``min_size`` to ``max_size`` accounts are candidates.

    Examples
    --------
    >>> flow = pl.DataFrame({"src": [0, 0, 1, 2, 10, 11, 12, 12], "dst": [1, 2, 3, 3, 12, 12, 13, 14],
    ...                      "coins": [50.0, 50.0, 49.0, 49.0, 30.0, 30.0, 31.0, 29.0]},
    ...                     schema_overrides={"src": pl.UInt32, "dst": pl.UInt32})
    >>> found = flow_motif_candidates(flow, n_users=15, min_branches=2, max_middle_degree=50, balance_tolerance=0.2,
    ...                               min_size=3, max_size=500)
    >>> found.group_by("source").agg(pl.col("uid").sort()).sort("source").rows()
    [('flow_motif_gather_scatter', [10, 11, 12, 13, 14]), ('flow_motif_scatter_gather', [0, 1, 2, 3])]
    """
    flow = gift_flow.lazy().filter(pl.col("src") != pl.col("dst")).select("src", "dst", "coins")
    senders = flow.group_by(pl.col("dst").alias("uid")).agg(pl.len().alias("n_in"), pl.col("coins").sum().alias("in"))
    receivers = flow.group_by(pl.col("src").alias("uid")).agg(pl.len().alias("n_out"), pl.col("coins").sum().alias("out"))
    degrees = senders.join(receivers, on="uid", how="inner")
    middles = degrees.filter((pl.col("n_in") <= max_middle_degree) & (pl.col("n_out") <= max_middle_degree)).select("uid")
    # s -> m -> t through small middles, grouped by (s, t): a sink met through several middles
    paths = (
        flow.select("src", pl.col("dst").alias("m")).join(middles.rename({"uid": "m"}), on="m", how="semi")
        .join(flow.select(pl.col("src").alias("m"), pl.col("dst").alias("t")), on="m")
        .filter(pl.col("src") != pl.col("t"))
    )
    gathered = paths.group_by("src", "t").agg(pl.col("m").n_unique().alias("branches")).filter(
        pl.col("branches") >= min_branches)
    triples = paths.join(gathered.select("src", "t"), on=["src", "t"], how="semi").collect()
    scatter_gather = _components(
        np.r_[triples["src"].to_numpy(), triples["m"].to_numpy()], np.r_[triples["m"].to_numpy(), triples["t"].to_numpy()],
        "flow_motif_scatter_gather", n_users=n_users, min_size=min_size, max_size=max_size,
    )
    collectors = degrees.filter(
        (pl.col("n_in") >= min_branches) & (pl.col("n_out") >= min_branches)
        & ((pl.col("out") - pl.col("in")).abs() <= balance_tolerance * pl.col("in"))
        & (pl.col("n_in") + pl.col("n_out") + 1 <= max_size)
    ).select("uid")
    # the collector's own sources and sinks: most of what the source sends goes to it, most of what the sink
    # receives comes from it (a collector's honest trade partners, who deal with many others, stay out)
    sources = (
        flow.select(pl.col("dst").alias("cand"), pl.col("src").alias("uid"), "coins")
        .join(receivers.select("uid", "out"), on="uid").filter(pl.col("coins") >= 0.5 * pl.col("out"))
    )
    sinks = (
        flow.select(pl.col("src").alias("cand"), pl.col("dst").alias("uid"), "coins")
        .join(senders.select("uid", "in"), on="uid").filter(pl.col("coins") >= 0.5 * pl.col("in"))
    )
    ends = pl.concat([sources.select("cand", "uid", pl.lit(0).alias("side")), sinks.select("cand", "uid", pl.lit(1).alias("side"))])
    ends = ends.join(collectors.rename({"uid": "cand"}), on="cand", how="semi").collect()
    enough = ends.group_by("cand").agg((pl.col("side") == 0).sum().alias("n_src"), (pl.col("side") == 1).sum().alias("n_snk")).filter(
        (pl.col("n_src") >= min_branches) & (pl.col("n_snk") >= min_branches))
    around = pl.concat([ends.select("cand", "uid"), enough.select("cand", pl.col("cand").alias("uid"))]).join(
        enough.select("cand"), on="cand", how="semi").unique()
    around = around.filter(pl.len().over("cand") >= min_size)
    renumber = around.select("cand").unique().sort("cand").with_row_index("new")
    gather_scatter = around.join(renumber, on="cand").select(
        pl.col("new").cast(pl.Int64).alias("cand"), pl.col("uid").cast(pl.UInt32),
        pl.lit("flow_motif_gather_scatter").alias("source"),
    ).sort("cand", "uid")
    offset = int(scatter_gather["cand"].max()) + 1 if scatter_gather.height else 0
    return pl.concat([scatter_gather, gather_scatter.with_columns(pl.col("cand") + offset)]).cast(CANDIDATE_SCHEMA)  # type: ignore[arg-type]


def equal_fan_candidates(fans: pl.DataFrame, *, min_size: int) -> pl.DataFrame:
    """Each equal-amount fan's center with its counterparts (:func:`graphkit.graphs.relays.equal_fans`).

    A sender that paid many accounts the same uncommon amount within a short
    window (``source`` ``equal_fan_out``: a mule splitting a sum), or a
    receiver paid the same uncommon amount by many accounts within one
    (``equal_fan_in``: money gathered), with those accounts; all the fans of
    one center and side are one candidate of at least ``min_size`` accounts.

    Examples
    --------
    >>> fans = pl.DataFrame({"side": ["out"] * 3, "center": [0, 0, 0], "src": [0, 0, 0], "dst": [1, 2, 3],
    ...                      "coins": [500.0] * 3, "t_us": [0] * 3}, schema_overrides={"center": pl.UInt32, "src": pl.UInt32,
    ...                      "dst": pl.UInt32})
    >>> equal_fan_candidates(fans, min_size=3).rows()
    [(0, 0, 'equal_fan_out'), (0, 1, 'equal_fan_out'), (0, 2, 'equal_fan_out'), (0, 3, 'equal_fan_out')]
    """
    if fans.height == 0:
        return _empty()
    members = pl.concat([
        fans.select("side", "center", pl.col("center").alias("uid")),
        fans.select("side", "center", pl.when(pl.col("side") == "out").then(pl.col("dst")).otherwise(pl.col("src")).alias("uid")),
    ]).unique().filter(pl.len().over("side", "center") >= min_size)
    ids = members.select("side", "center").unique().sort("side", "center").with_row_index("cand")
    return members.join(ids, on=["side", "center"]).select(
        pl.col("cand").cast(pl.Int64), pl.col("uid").cast(pl.UInt32), ("equal_fan_" + pl.col("side")).alias("source")
    ).sort("cand", "uid")
