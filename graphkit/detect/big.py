"""Detectors for groups bigger than the projections' caps: crowded identifiers and bursts.

The shared-identifier projection leaves out identifiers seen with more than
``Config.hub_cap`` accounts, and the co-gifting projection takes at most
``Config.cogift_stream_cap`` gifters of one stream's time bucket: both caps
bound the number of pairs (a carrier NAT of 4,000 accounts is 8 million
pairs). A ring that grows past them would hide behind them, so each cap has a
detector that takes over exactly where it stops, at the group's own scale and
without pairs:

``crowded_identifier``
    The accounts behind one identifier seen with more than ``hub_cap``
    accounts are one candidate group. Whether it is a farm or a carrier NAT is
    left to the usual signals (:mod:`graphkit.detect.signals`): a farm's
    accounts are young, created together, on few devices, and pay the same
    few hosts; a carrier's or a campus's are of every age and pay everyone.
    Placeholder device ids (``Config.placeholder_device_ids``) are no
    evidence and are left out.
``burst_bucket``
    The gifters of one stream's time bucket (``cogift_window_s`` long) are one
    candidate group when there are more of them than ``cogift_stream_cap`` and
    at least ``burst_min_excess`` times what the stream's busiest bucket holds
    by chance. Buckets are taken at two phases (shifted by half a window), so
    a burst shorter than half a window lies whole in one of them.

Both are one group-by over their input: no pairs, no size ceiling.
"""

from __future__ import annotations

import polars as pl

from graphkit.detect.candidates import CANDIDATE_SCHEMA

__all__ = ["burst_bucket_candidates", "crowded_identifier_candidates"]


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=CANDIDATE_SCHEMA)


def crowded_identifier_candidates(device_links: pl.DataFrame, *, min_size: int) -> pl.DataFrame:
    """The accounts behind each hub identifier (more than ``hub_cap`` accounts), one candidate each.

    Parameters
    ----------
    device_links : polars.DataFrame
        ``uid, identifier, kind, hub, placeholder`` (:func:`graphkit.pipeline.device_links`).
    min_size : int
        Groups smaller than this are left out (``Config.min_ring_size``; hubs are bigger anyway).

    Returns
    -------
    polars.DataFrame
        ``cand, uid, source`` (:data:`~graphkit.detect.candidates.CANDIDATE_SCHEMA`), ``source``
        ``crowded_identifier_device`` or ``crowded_identifier_ip``; candidates numbered in the
        order of their identifiers. Placeholder devices are left out.

    Examples
    --------
    >>> links = pl.DataFrame({"uid": [0, 1, 2, 3, 0, 1], "identifier": ["device:0"] * 4 + ["ip:0"] * 2,
    ...                       "kind": ["device"] * 4 + ["ip"] * 2, "hub": [True] * 4 + [False] * 2,
    ...                       "placeholder": [False] * 6}, schema_overrides={"uid": pl.UInt32})
    >>> crowded_identifier_candidates(links, min_size=3)["uid"].to_list()
    [0, 1, 2, 3]
    """
    crowded = device_links.filter(pl.col("hub") & ~pl.col("placeholder")).select("identifier", "kind", "uid").unique()
    if crowded.height == 0:
        return _empty()
    sizes = crowded.group_by("identifier").len().filter(pl.col("len") >= min_size).select("identifier")
    crowded = crowded.join(sizes, on="identifier", how="semi")
    return crowded.select(
        pl.col("identifier").rank("dense").cast(pl.Int64).sub(1).alias("cand"),
        pl.col("uid").cast(pl.UInt32),
        pl.concat_str(pl.lit("crowded_identifier_"), pl.col("kind")).alias("source"),
    ).sort("cand", "uid")


def burst_bucket_candidates(
    gifts: pl.DataFrame, *, window_s: int, min_gifters: int, min_excess: float
) -> pl.DataFrame:
    """The gifters of each stream bucket far busier than its stream's chance level, one candidate each.

    Parameters
    ----------
    gifts : polars.DataFrame
        Gift events ``src, sid, sent_at`` (gifts without a stream are left out).
    window_s : int
        Bucket length in seconds (``Config.cogift_window_s``).
    min_gifters : int
        A bucket needs more distinct gifters than this (``Config.cogift_stream_cap``:
        up to that many, every gifter takes part in co-gifting pairs already).
    min_excess : float
        ... and at least this many times the gifters the stream's busiest bucket would
        hold by chance (``Config.burst_min_excess``).

    Returns
    -------
    polars.DataFrame
        ``cand, uid, source`` with ``source`` ``burst_bucket``.

    Notes
    -----
    The chance level of a bucket comes from the rest of its stream: with ``n``
    buckets over the stream's gifting time and ``lam`` distinct gifters per
    bucket in the other buckets, the busiest bucket of a Poisson crowd holds
    about ``lam + sqrt(2 lam ln n)`` (as in the synchrony signal); the bucket
    itself is left out so that a burst does not raise its own bar. Two
    candidates with the same members (the two phases of one burst) are one.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
    >>> calm = [(u, t0 + timedelta(minutes=10 * u)) for u in range(100, 130)]  # one gifter every 10 minutes
    >>> burst = [(u, t0 + timedelta(hours=2, seconds=u % 50)) for u in range(60)]  # 60 within a minute
    >>> rows = calm + burst
    >>> gifts = pl.DataFrame({"src": [u for u, _ in rows], "sid": [7] * len(rows), "sent_at": [t for _, t in rows]},
    ...                      schema={"src": pl.UInt32, "sid": pl.UInt32, "sent_at": pl.Datetime("us", "UTC")})
    >>> found = burst_bucket_candidates(gifts, window_s=120, min_gifters=50, min_excess=4.0)
    >>> found["cand"].n_unique(), found.height, found["uid"].max()
    (1, 60, 59)
    """
    bucket_us = max(int(window_s), 1) * 1_000_000
    streamed = gifts.lazy().filter(pl.col("sid").is_not_null()).select(
        "src", "sid", pl.col("sent_at").dt.epoch("us").alias("__t")
    )
    phases = [
        streamed.with_columns(pl.lit(phase, dtype=pl.Int64).alias("__phase"),
                              ((pl.col("__t") + phase) // bucket_us).alias("__bucket"))
        for phase in (0, bucket_us // 2)
    ]
    per_bucket = (
        pl.concat(phases)
        .group_by("sid", "__phase", "__bucket")
        .agg(pl.col("src").n_unique().alias("__gifters"))
    )
    # the stream's rate, from its phase-0 buckets: gifter-buckets over its gifting time in windows
    rate = (
        streamed.group_by("sid").agg(((pl.col("__t").max() - pl.col("__t").min()) / bucket_us).alias("__span"))
        .join(per_bucket.filter(pl.col("__phase") == 0).group_by("sid").agg(pl.col("__gifters").sum().alias("__total")),
              on="sid")
        .with_columns(pl.col("__span").clip(lower_bound=1.0).alias("__windows"))
    )
    lam = ((pl.col("__total") - pl.col("__gifters")).clip(lower_bound=0) / (pl.col("__windows") - 1.0).clip(lower_bound=1.0))
    chance = lam + (2.0 * lam * pl.col("__windows").clip(lower_bound=2.0).log()).sqrt()
    bursts = (
        per_bucket.filter(pl.col("__gifters") > min_gifters)
        .join(rate, on="sid")
        .filter(pl.col("__gifters") >= min_excess * pl.max_horizontal(chance, pl.lit(1.0)))
        .select("sid", "__phase", "__bucket")
        .collect()
    )
    if bursts.height == 0:
        return _empty()
    members = (
        pl.concat(phases)
        .join(bursts.lazy(), on=["sid", "__phase", "__bucket"], how="semi")
        .select("sid", "__phase", "__bucket", pl.col("src").alias("uid"))
        .unique()
        .collect()
    )
    # one id per bucket, in (stream, phase, bucket) order; the same members found at both phases are one group
    keyed = members.with_columns(pl.struct("sid", "__phase", "__bucket").rank("dense").cast(pl.Int64).sub(1).alias("cand"))
    sets = keyed.group_by("cand").agg(pl.col("uid").sort().alias("__set")).sort("cand")
    keep = sets.with_columns(pl.col("__set").hash().alias("__h")).unique("__h", keep="first").select("cand")
    kept = keyed.join(keep, on="cand", how="semi")
    renumber = kept.select("cand").unique().sort("cand").with_row_index("__new")
    return kept.join(renumber, on="cand").select(
        pl.col("__new").cast(pl.Int64).alias("cand"), pl.col("uid").cast(pl.UInt32), pl.lit("burst_bucket").alias("source")
    ).sort("cand", "uid")
