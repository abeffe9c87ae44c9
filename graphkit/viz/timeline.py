"""The timeline under a view: coins gifted over time, per series, and which bins each gift edge has gifts in.

:func:`gift_timeline` bins gifts into at most ``max_bins`` equal steps of a round length
(a minute, five minutes, ... a week); :func:`edge_bins` says, per gift edge of a view, in which of
those bins it has gifts, so that brushing a range on the page keeps only the edges with a gift in
that range; :func:`reason_marks` finds the times that reason sentences name (a burst "within 60 s
from 2024-03-01 10:00:00 UTC") and marks them on the timeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

import polars as pl

__all__ = ["STEPS", "Timeline", "edge_bins", "gift_timeline", "reason_marks"]

STEPS: tuple[int, ...] = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400,
                          30 * 86400, 365 * 86400)
"""The bin lengths a timeline may use, in seconds: the shortest that fits the span into ``max_bins``."""


@dataclass(frozen=True)
class Timeline:
    """Coins over time in equal bins, one series per role, with marked ranges.

    Attributes
    ----------
    start : int
        Epoch seconds (UTC) at which bin 0 starts; a multiple of ``step``.
    step : int
        Seconds per bin (one of :data:`STEPS`).
    bins : int
        Number of bins.
    series : tuple of (label, coins per bin)
        One per role present, in the order given to :func:`gift_timeline`.
    marks : tuple of (first bin, last bin, sentence)
        Ranges named by the reasons (:func:`reason_marks`).
    """

    start: int
    step: int
    bins: int
    series: tuple[tuple[str, tuple[float, ...]], ...]
    marks: tuple[tuple[int, int, str], ...] = ()

    def bin_of(self, when: datetime) -> int:
        """The bin a time falls in (may be outside ``0 .. bins - 1``)."""
        return (int(when.timestamp()) - self.start) // self.step

    def to_json(self) -> dict:
        """The form the page's script reads."""
        return {"start": self.start, "step": self.step, "bins": self.bins,
                "series": [{"label": label, "coins": list(coins)} for label, coins in self.series],
                "marks": [{"from": a, "to": b, "text": text} for a, b, text in self.marks]}


def _epoch(column: str) -> pl.Expr:
    return pl.col(column).dt.epoch("s")


def gift_timeline(gifts: pl.DataFrame, series_of: pl.DataFrame, *, order: Sequence[str] = (),
                  reasons: Sequence[str] = (), max_bins: int = 120) -> Timeline | None:
    """Bin the coins that the accounts of ``series_of`` sent, one series per label.

    Parameters
    ----------
    gifts : polars.DataFrame
        ``sender_id, coins, sent_at`` (a Datetime column).
    series_of : polars.DataFrame
        ``user_id, series``: the senders counted and the series (role) each one's gifts go to.
    order : sequence of str
        Series labels in the order drawn (bottom first); others follow, sorted.
    reasons : sequence of str
        Sentences whose times are marked (:func:`reason_marks`).
    max_bins : int
        At most this many bins.

    Returns
    -------
    Timeline or None
        None when those accounts sent no gift.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> at = lambda m: datetime(2024, 3, 1, 10, m, tzinfo=timezone.utc)
    >>> gifts = pl.DataFrame({"sender_id": ["a", "b", "a"], "coins": [5.0, 7.0, 1.0],
    ...                       "sent_at": [at(0), at(1), at(9)]})
    >>> t = gift_timeline(gifts, pl.DataFrame({"user_id": ["a", "b"], "series": ["member", "funder"]}),
    ...                   order=["funder", "member"])
    >>> t.step, t.bins, t.series
    (60, 10, (('funder', (0.0, 7.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)), ('member', (5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0))))
    """
    sent = gifts.join(series_of.rename({"user_id": "sender_id"}), on="sender_id", how="inner").filter(
        pl.col("sent_at").is_not_null())
    if sent.height == 0:
        return None
    first, last = sent.select(_epoch("sent_at").min().alias("a"), _epoch("sent_at").max().alias("b")).row(0)
    # the shortest step whose bins, counted from the step boundary at or before the first gift, fit in
    # max_bins (aligning the start down can add a bin to what the span alone needs)
    step = next((s for s in STEPS if int(last) // s - int(first) // s + 1 <= max_bins), STEPS[-1])
    start = int(first) // step * step
    bins = (int(last) - start) // step + 1
    per = (sent.group_by("series", ((_epoch("sent_at") - start) // step).alias("bin"))
           .agg(pl.col("coins").sum()).sort("series", "bin"))
    present = per.get_column("series").unique().to_list()
    labels = [s for s in order if s in present] + sorted(s for s in present if s not in order)
    series = []
    for label in labels:
        counts = [0.0] * bins
        for b, c in per.filter(pl.col("series") == label).select("bin", "coins").rows():
            counts[int(b)] = round(float(c), 2)
        series.append((label, tuple(counts)))
    timeline = Timeline(start=start, step=step, bins=bins, series=tuple(series))
    return Timeline(start, step, bins, tuple(series), reason_marks(reasons, timeline))


_WHEN = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC")
_WITHIN = re.compile(r"within (\d+) s\b")


def reason_marks(reasons: Sequence[str], timeline: Timeline) -> tuple[tuple[int, int, str], ...]:
    """The ranges of the timeline that reason sentences name.

    A sentence naming a time (``2024-03-01 10:00:00 UTC``, as the gifting-burst reason of
    :func:`graphkit.score.reasons` does) marks the bins from that time to ``within N s`` after it
    (one bin when no length is named). Times outside the timeline are not marked.

    Examples
    --------
    >>> t = Timeline(start=1709287200, step=60, bins=10, series=())
    >>> reason_marks(["12 accounts gifted stream s1 within 90 s from 2024-03-01 10:02:00 UTC"], t)
    ((2, 3, '12 accounts gifted stream s1 within 90 s from 2024-03-01 10:02:00 UTC'),)
    """
    marks = []
    for sentence in reasons:
        when = _WHEN.search(sentence)
        if when is None:
            continue
        at = datetime.strptime(when.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
        within = _WITHIN.search(sentence)
        first = timeline.bin_of(at)
        last = (int(at.timestamp()) + int(within.group(1)) - timeline.start) // timeline.step if within else first
        if last < 0 or first >= timeline.bins:
            continue
        marks.append((max(first, 0), min(last, timeline.bins - 1), sentence))
    return tuple(marks)


def edge_bins(gifts: pl.DataFrame, timeline: Timeline, devices: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per gift edge (and dated device or IP sighting), the bins of ``timeline`` it has events in.

    Parameters
    ----------
    gifts : polars.DataFrame
        ``sender_id, receiver_id, stream_id, sent_at``: the gifts of the edges drawn.
    timeline : Timeline
    devices : polars.DataFrame, optional
        ``user_id, device_id, ip, seen_at``: sightings of the accounts drawn; those
        without a ``seen_at`` give no bins (their edges are not dated).

    Returns
    -------
    polars.DataFrame
        ``source, target, relation, bins``: node ids as in
        :mod:`graphkit.detect.evidence` (``account:u1``, ``stream:s1``), relation
        ``gifted`` (sender to receiver), ``gifted_in`` (sender to stream),
        ``used_device`` or ``used_ip``, and the sorted distinct bins (a list; bins
        before the timeline are -1, after it ``bins``).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> t = Timeline(start=1709287200, step=60, bins=10, series=())
    >>> gifts = pl.DataFrame({"sender_id": ["a", "a"], "receiver_id": ["h", "h"], "stream_id": ["s", None],
    ...                       "sent_at": [datetime(2024, 3, 1, 10, 3, tzinfo=timezone.utc),
    ...                                   datetime(2024, 3, 2, tzinfo=timezone.utc)]})
    >>> edge_bins(gifts, t).rows()
    [('account:a', 'account:h', 'gifted', [3, 10]), ('account:a', 'stream:s', 'gifted_in', [3])]
    """
    binned = gifts.filter(pl.col("sent_at").is_not_null()).with_columns(
        ((_epoch("sent_at") - timeline.start) // timeline.step).clip(-1, timeline.bins).cast(pl.Int32).alias("bin"))
    to_account = binned.select((pl.lit("account:") + pl.col("sender_id")).alias("source"),
                               (pl.lit("account:") + pl.col("receiver_id")).alias("target"),
                               pl.lit("gifted").alias("relation"), "bin")
    in_stream = binned.filter(pl.col("stream_id").is_not_null()).select(
        (pl.lit("account:") + pl.col("sender_id")).alias("source"), (pl.lit("stream:") + pl.col("stream_id")).alias("target"),
        pl.lit("gifted_in").alias("relation"), "bin")
    parts = [to_account, in_stream]
    if devices is not None:
        seen = devices.filter(pl.col("seen_at").is_not_null()).with_columns(
            ((_epoch("seen_at") - timeline.start) // timeline.step).clip(-1, timeline.bins).cast(pl.Int32).alias("bin"))
        for column, kind, relation in (("device_id", "device", "used_device"), ("ip", "ip", "used_ip")):
            parts.append(seen.filter(pl.col(column).is_not_null()).select(
                (pl.lit("account:") + pl.col("user_id")).alias("source"),
                (pl.lit(f"{kind}:") + pl.col(column)).alias("target"), pl.lit(relation).alias("relation"), "bin"))
    return (pl.concat(parts).group_by("source", "target", "relation")
            .agg(pl.col("bin").unique().sort().alias("bins")).sort("source", "target", "relation"))
