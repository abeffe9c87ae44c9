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

__all__ = ["RELAY_SCHEMA", "amount_chance", "relay_hops"]

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
        :data:`RELAY_SCHEMA`, sorted by ``m, a, c, delay_s``.

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
    return hops.filter(~pl.Series(common, dtype=pl.Boolean)).sort("m", "a", "c", "delay_s").cast(RELAY_SCHEMA)  # type: ignore[arg-type]
