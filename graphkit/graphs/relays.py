"""Relayed coins: gifts an account passes on at a near-equal amount soon after receiving them.

Laundering moves money through intermediaries hop by hop: an account
receives coins and sends about the same amount on within a short delay.
Honest viewers send coins they bought; honest hosts receive and cash out.
One rule, :func:`relay_hops`, says what a relay is; the ``relay_chain``
detector (:mod:`graphkit.detect.flow`), the ``relay_coin_share`` group
signal and the ``relay`` account evidence all read it.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

__all__ = ["FAN_SCHEMA", "RELAY_SCHEMA", "amount_chance", "equal_fans", "relay_hops"]

FAN_SCHEMA: dict[str, pl.DataType] = {
    "side": pl.Utf8, "center": pl.UInt32, "src": pl.UInt32, "dst": pl.UInt32, "coins": pl.Float64, "t_us": pl.Int64,
}
"""One row per gift of an equal-amount fan: ``side`` ``out`` (the center paid ``dst``) or ``in`` (``src`` paid the
center), ``t_us`` the gift's time in microseconds since the epoch (a gift of both sides is listed twice)."""

RELAY_SCHEMA: dict[str, pl.DataType] = {
    "a": pl.UInt32, "m": pl.UInt32, "c": pl.UInt32, "coins_in": pl.Float64, "coins_out": pl.Float64,
    "delay_s": pl.Float64,
}
"""One row per relay hop: ``a`` paid ``coins_in`` to ``m``, who paid ``coins_out`` on to ``c`` ``delay_s`` later."""


def amount_chance(coins: np.ndarray, amounts: np.ndarray, *, tolerance: float) -> np.ndarray:
    """The share of the platform's gifts (``coins``) within ``tolerance`` (a share) of each of ``amounts``.

    How likely a gift of that value is by chance: on a platform whose gifts
    come from a price list, a 1-coin rose passed on after a 1-coin rose means
    nothing (a third of all gifts are roses), while 2,999 coins passed on
    after 3,000 does.

    Examples
    --------
    >>> coins = np.array([1.0] * 6 + [5.0, 5.0, 99.0, 2999.0])
    >>> amount_chance(coins, np.array([1.0, 99.0, 3000.0]), tolerance=0.01).tolist()
    [0.6, 0.1, 0.1]
    """
    ordered = np.sort(np.asarray(coins, dtype=np.float64))
    amounts = np.asarray(amounts, dtype=np.float64)
    within = (np.searchsorted(ordered, amounts * (1 + tolerance), side="right")
              - np.searchsorted(ordered, amounts * (1 - tolerance), side="left"))
    return within / max(len(ordered), 1)


def equal_fans(
    gifts: pl.DataFrame, *, window_s: int, amount_tolerance: float, max_chance: float, min_fan: int,
    popular_senders: float,
) -> pl.DataFrame:
    """Gifts of equal-amount fans: one account paying (fan-out) or paid by (fan-in) many accounts the same
    uncommon amount within a short window.

    Gifts are bucketed by time, ``window_s`` long, at two phases (shifted by
    half a window, so that a fan across a bucket edge is whole in one of
    them). A fan-out is a (sender, bucket) whose gifts reach at least
    ``min_fan`` distinct receivers; a fan-in a (receiver, bucket) paid by at
    least ``min_fan`` distinct senders. Its amounts must spread by at most
    ``amount_tolerance`` of their median, and that median must be
    uncommon on the platform (:func:`amount_chance` at most ``max_chance``:
    five roses to five hosts is a viewer's evening). Receivers with at least
    ``popular_senders`` distinct senders are left out (the platform's stars:
    their crowds are no fan of one account).

    Returns
    -------
    polars.DataFrame
        :data:`FAN_SCHEMA`, each gift once per side, sorted.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    >>> gifts = pl.DataFrame({"src": [0, 0, 0, 5, 6, 7], "dst": [1, 2, 3, 9, 9, 9],
    ...                       "coins": [500.0, 500.0, 505.0, 80.0, 80.0, 80.0], "sent_at": [t] * 6},
    ...                      schema_overrides={"src": pl.UInt32, "dst": pl.UInt32})
    >>> equal_fans(gifts, window_s=3600, amount_tolerance=0.05, max_chance=1.0, min_fan=3,
    ...            popular_senders=100.0).select("side", "center", "src", "dst").rows()
    [('in', 9, 5, 9), ('in', 9, 6, 9), ('in', 9, 7, 9), ('out', 0, 0, 1), ('out', 0, 0, 2), ('out', 0, 0, 3)]
    """
    bucket_us = max(int(window_s), 1) * 1_000_000
    events = gifts.lazy().filter(pl.col("src") != pl.col("dst")).select(
        pl.col("src").cast(pl.UInt32), pl.col("dst").cast(pl.UInt32), pl.col("coins").cast(pl.Float64),
        pl.col("sent_at").dt.epoch("us").alias("__t"))
    popular = (events.group_by("dst").agg(pl.col("src").n_unique().alias("__n"))
               .filter(pl.col("__n") >= popular_senders).select("dst"))
    events = events.join(popular, on="dst", how="anti")
    phased = pl.concat([events.with_columns(((pl.col("__t") + phase) // bucket_us).alias("__bucket"),
                                            pl.lit(phase, dtype=pl.Int64).alias("__phase"))
                        for phase in (0, bucket_us // 2)])
    sides = []
    for side, center, other in (("out", "src", "dst"), ("in", "dst", "src")):
        keyed = phased.with_columns(pl.lit(side).alias("side"), pl.col(center).alias("center"))
        fans = (
            keyed.group_by("center", "__phase", "__bucket")
            .agg(pl.col(other).n_unique().alias("__fan"), pl.col("coins").min().alias("__lo"),
                 pl.col("coins").max().alias("__hi"), pl.col("coins").median().alias("__mid"))
            .filter((pl.col("__fan") >= min_fan) & (pl.col("__hi") - pl.col("__lo") <= amount_tolerance * pl.col("__mid")))
            .collect()
        )
        rare = amount_chance(gifts["coins"].to_numpy(), fans["__mid"].to_numpy(), tolerance=amount_tolerance) <= max_chance
        fans = fans.filter(pl.Series(rare, dtype=pl.Boolean)).select("center", "__phase", "__bucket")
        sides.append(keyed.join(fans.lazy(), on=["center", "__phase", "__bucket"], how="semi")
                     .select("side", "center", "src", "dst", "coins", "__t"))
    found = pl.concat(sides).unique().sort("side", "center", "src", "dst", "__t", "coins").rename({"__t": "t_us"}).collect()
    return found.cast(FAN_SCHEMA)  # type: ignore[arg-type]


def relay_hops(gifts: pl.DataFrame, *, max_delay_s: int, amount_tolerance: float, max_chance: float) -> pl.DataFrame:
    """The relay hops of the gift events: coins received and passed on at a near-equal amount.

    For each gift ``a -> m`` (``coins_in`` at ``t1``), the first gift ``m``
    sends at or after ``t1`` (of equal times, the lowest receiver; an as-of join per account, so the work is linear
    in the gifts however busy an account is). It is a relay hop when it goes
    to someone else than ``a``, within ``max_delay_s`` seconds, and its value
    ``coins_out`` is within ``amount_tolerance`` (a share) of ``coins_in``.
    Each gift sent is matched to one receipt only, the latest before it (a
    host's next gift is not a relay of every fan's gift before it). Amounts
    that are common on the platform are no evidence: hops whose amount has
    a chance above ``max_chance`` (:func:`amount_chance`: the share of all
    gifts within the tolerance of it, a price list's rose) are left out.
    Self-gifts are left out.

    Parameters
    ----------
    gifts : polars.DataFrame
        Gift events ``src, dst, coins, sent_at`` (encoded uids, a datetime).
    max_delay_s : int
        The longest delay between receiving and passing on (``Config.flow_max_delay_s``).
    amount_tolerance : float
        How far the passed-on amount may be from the received one, as a share
        of the received one (``Config.flow_amount_tolerance``).
    max_chance : float
        The largest share of the platform's gifts near the relayed amount
        (``Config.flow_max_amount_chance``).

    Returns
    -------
    polars.DataFrame
        :data:`RELAY_SCHEMA`, sorted by every column (``m, a, c, delay_s, coins_in, coins_out``).

    Notes
    -----
    Only the first gift after each receipt is considered: a relay that goes
    out after an unrelated gift of the same account is missed, so the count
    is a lower bound. Whole-number steps (AMLSim's days) read as their
    seconds (``[tables.gifts.units]`` in the mapping): with a one-day step, a
    delay of 0 means "the same step".

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = [datetime(2024, 5, 1, 10, m, tzinfo=timezone.utc) for m in (0, 5, 30, 31)]
    >>> gifts = pl.DataFrame({"src": [0, 1, 2, 2], "dst": [1, 2, 5, 6], "coins": [100.0, 98.0, 40.0, 7.0], "sent_at": t},
    ...                      schema_overrides={"src": pl.UInt32, "dst": pl.UInt32})
    >>> relay_hops(gifts, max_delay_s=3600, amount_tolerance=0.05, max_chance=0.5).select("a", "m", "c", "delay_s").rows()
    [(0, 1, 2, 300.0)]
    """
    events = gifts.lazy().filter(pl.col("src") != pl.col("dst")).select(
        pl.col("src").cast(pl.UInt32), pl.col("dst").cast(pl.UInt32), pl.col("coins").cast(pl.Float64), "sent_at"
    )
    received = events.select(pl.col("src").alias("a"), pl.col("dst").alias("m"), pl.col("coins").alias("coins_in"),
                             pl.col("sent_at").alias("t_in")).sort("t_in", "m", "a", "coins_in")
    sent = events.select(pl.col("src").alias("m"), pl.col("dst").alias("c"), pl.col("coins").alias("coins_out"),
                         pl.col("sent_at").alias("t_out")).sort("t_out", "m", "c", "coins_out")
    # senders only: the receipts of accounts that never send cannot be relayed
    received = received.join(sent.select("m").unique(), on="m", how="semi")
    hops = (
        received.join_asof(sent, left_on="t_in", right_on="t_out", by="m", strategy="forward",
                           tolerance=timedelta(seconds=int(max_delay_s)), check_sortedness=False)  # sorted above
        .filter(pl.col("c").is_not_null() & (pl.col("c") != pl.col("a"))
                & ((pl.col("coins_out") - pl.col("coins_in")).abs() <= amount_tolerance * pl.col("coins_in")))
        .select("a", "m", "c", "coins_in", "coins_out", "t_out",
                (pl.col("t_out") - pl.col("t_in")).dt.total_microseconds().cast(pl.Float64).truediv(1e6).alias("delay_s"))
        # one receipt per gift sent: the latest (then the closest amount, then the lowest sender)
        .sort("delay_s", (pl.col("coins_out") - pl.col("coins_in")).abs(), "a")
        .unique(["m", "c", "t_out", "coins_out"], keep="first")
        .drop("t_out")
        .collect()
    )
    common = amount_chance(gifts["coins"].to_numpy(), hops["coins_in"].to_numpy(), tolerance=amount_tolerance) > max_chance
    return hops.filter(~pl.Series(common, dtype=pl.Boolean)).sort("m", "a", "c", "delay_s", "coins_in", "coins_out").cast(RELAY_SCHEMA)  # type: ignore[arg-type]
