"""Edge tables of the user graphs, as joins and group-bys over polars frames.

Each function takes encoded frames (integer ids, see :mod:`graphkit.graphs.ids`)
and returns an edge frame; none loops over rows in Python, so the same stages
can run on a bigger engine later.

- :func:`gift_flow`: directed sender -> receiver, ``coins`` (sum) and ``count``.
- :func:`shared_projection`: user <-> user through shared devices and IPs,
  each identifier weighted ``1 / log2(accounts)``; identifiers seen with more
  than ``hub_cap`` accounts (carrier NAT, campus IPs) are left out.
- :func:`cogift_projection`: user <-> user when both gift the same stream
  within ``window_s`` seconds, weighted by the number of distinct streams.
- :func:`estimate_pairs`, :func:`check_memory`: how many pairs the two
  projections above will make, from the identifier and bucket sizes alone,
  and a one-line refusal naming the setting when that needs more memory
  than the machine has (before any of it is spent).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from graphkit.errors import NotEnoughMemoryError

__all__ = [
    "BYTES_PER_COGIFT_PAIR",
    "BYTES_PER_SHARED_PAIR",
    "ESTIMATE_FLOOR",
    "PairEstimate",
    "check_memory",
    "cogift_events",
    "estimate_pairs",
    "encode_gifts",
    "encode_devices",
    "gift_flow",
    "identifier_links",
    "identifiers_frame",
    "is_hub",
    "is_placeholder",
    "shared_projection",
    "cogift_projection",
    "saturate",
]

_UID = pl.UInt32
_PAIR = 1 << 32
"""Two uids packed in one UInt64 key: ``a * _PAIR + b``."""


def pack_pair(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """Two UInt32 ids as one UInt64 key (``a * 2**32 + b``): one-column group-bys and sorts, in (a, b) order."""
    return a.cast(pl.UInt64) * _PAIR + b.cast(pl.UInt64)


def unpack_pair(key: str, a: str = "a", b: str = "b") -> list[pl.Expr]:
    """The two ids of a :func:`pack_pair` column ``key``, as UInt32 columns ``a`` and ``b``."""
    return [(pl.col(key) // _PAIR).cast(_UID).alias(a), (pl.col(key) % _PAIR).cast(_UID).alias(b)]


_ROWS_PER_SLICE = 10_000_000
"""Co-gifting meetings counted per slice of pairs when they do not pack (:func:`cogift_projection`)."""
_PACKED_LIMIT = 1 << 64
"""(pair, stream) meetings pack into one UInt64 key when ``n_ids**2 * n_streams`` is below this."""


def encode_gifts(gifts: pl.DataFrame, index) -> pl.DataFrame:  # noqa: ANN001 (IdIndex: import cycle)
    """The gifts table with integer ids: ``src``, ``dst`` (uid), ``coins``, ``sent_at``, ``sid`` (nullable)."""
    frame = gifts.select(
        pl.col("sender_id").alias("src"), pl.col("receiver_id").alias("dst"), "coins", "sent_at",
        pl.col("stream_id").alias("sid"),
    )
    frame = index.encode(frame, "src")
    frame = index.encode(frame, "dst")
    return index.encode(frame, "sid", kind="stream")


def gift_flow(gifts: pl.DataFrame) -> pl.DataFrame:
    """One row per distinct (sender, receiver) pair.

    Parameters
    ----------
    gifts : polars.DataFrame
        Encoded gifts (``src``, ``dst``, ``coins``, ``sent_at``).

    Returns
    -------
    polars.DataFrame
        ``src``, ``dst``, ``coins`` (sum), ``count`` (gifts), ``first_at``,
        ``last_at``; sorted by ``src``, ``dst``. Self-gifts are kept (a row
        with ``src == dst``); the user graphs drop them.

    Examples
    --------
    >>> import polars as pl
    >>> g = pl.DataFrame({"src": [0, 0, 1], "dst": [2, 2, 2], "coins": [1.0, 2.0, 5.0],
    ...                   "sent_at": [1, 2, 3]}, schema_overrides={"src": pl.UInt32, "dst": pl.UInt32})
    >>> gift_flow(g).select("src", "dst", "coins", "count").rows()
    [(0, 2, 3.0, 2), (1, 2, 5.0, 1)]
    """
    return (
        gifts.lazy()
        .group_by("src", "dst")
        .agg(
            pl.col("coins").sum().alias("coins"),
            pl.len().cast(pl.UInt32).alias("count"),
            pl.col("sent_at").min().alias("first_at"),
            pl.col("sent_at").max().alias("last_at"),
        )
        .sort("src", "dst")
        .collect()
    )


def encode_devices(devices: pl.DataFrame, index) -> pl.DataFrame:  # noqa: ANN001 (IdIndex: import cycle)
    """The devices table with integer ids: ``uid``, ``did`` and ``iid`` (nullable), ``seen_at``."""
    frame = devices.select(pl.col("user_id").alias("uid"), pl.col("device_id").alias("did"), pl.col("ip").alias("iid"), "seen_at")
    frame = index.encode(frame, "uid")
    frame = index.encode(frame, "did", kind="device")
    return index.encode(frame, "iid", kind="ip")


def identifier_links(devices: pl.DataFrame) -> pl.DataFrame:
    """Distinct (identifier, account) links: ``kind`` ("device"/"ip"), ``ident`` (did or iid), ``uid``.

    ``devices`` is the encoded devices table (:func:`encode_devices`).
    """
    kind = pl.Enum(["device", "ip"])

    def distinct(column: str, name: str) -> pl.LazyFrame:
        # (identifier, account) packed in one UInt64 (both are UInt32): one radix sort instead of a
        # two-column unique and sort (6x faster at 10^7 gifts)
        return (
            devices.lazy()
            .filter(pl.col(column).is_not_null())
            .select(pack_pair(pl.col(column), pl.col("uid")).alias("__key"))
            .unique()
            .sort("__key")
            .select(pl.lit(name, dtype=kind).alias("kind"), *unpack_pair("__key", "ident", "uid"))
        )

    return pl.concat([distinct("did", "device"), distinct("iid", "ip")]).collect()


def is_hub(accounts: pl.Expr, hub_cap: int, placeholder: pl.Expr | None = None) -> pl.Expr:
    """The one hub rule: an identifier seen with more than ``hub_cap`` accounts (carrier NAT, campus
    IP, a popular stream), or a placeholder device id (:func:`is_placeholder`), links no one.

    Every stage that decides whether an identifier links accounts uses it: the shared projection,
    its memory estimate, the evidence graph of ``expand``/``path`` and the overview page.

    Examples
    --------
    >>> frame = pl.DataFrame({"accounts": [2, 50, 51], "placeholder": [True, False, False]})
    >>> frame.select(is_hub(pl.col("accounts"), 50, pl.col("placeholder")))["accounts"].to_list()
    [True, False, True]
    """
    hub = accounts > hub_cap
    return hub if placeholder is None else hub | placeholder


def is_placeholder(key: pl.Expr, placeholders: tuple[str, ...]) -> pl.Expr:
    """Whether a device id is a default or blank one (``Config.placeholder_device_ids``),
    compared after trimming and lower-casing.

    Examples
    --------
    >>> frame = pl.DataFrame({"device_id": [" UNKNOWN", "d7"]})
    >>> frame.select(is_placeholder(pl.col("device_id"), ("unknown",)))["device_id"].to_list()
    [True, False]
    """
    known = pl.Series([p.strip().lower() for p in placeholders], dtype=pl.Utf8).implode()
    return key.cast(pl.Utf8).str.strip_chars().str.to_lowercase().is_in(known).fill_null(False)


def identifiers_frame(links: pl.DataFrame, index, hub_cap: int, placeholders: tuple[str, ...] = ()) -> pl.DataFrame:  # noqa: ANN001
    """Every device and IP with its account count and whether it is a hub or a placeholder.

    Parameters
    ----------
    links : polars.DataFrame
        Distinct ``kind``, ``ident``, ``uid`` (from :func:`identifier_links`).
    index : IdIndex
        Decodes ``ident`` to the id string.
    hub_cap : int
        Identifiers seen with more accounts than this are hubs.
    placeholders : tuple of str
        Device ids that are defaults or blanks (``Config.placeholder_device_ids``),
        compared after trimming and lower-casing.

    Returns
    -------
    polars.DataFrame
        ``kind`` ("device"/"ip"), ``ident`` (did/iid), ``key`` (the id string),
        ``accounts`` (distinct accounts seen with it), ``hub`` (``accounts >
        hub_cap``, or a placeholder device: left out of the shared projection),
        ``placeholder`` (a device id listed in ``placeholders``); sorted by
        accounts (most first), then kind and key.
    """
    counts = links.group_by("kind", "ident").agg(pl.len().cast(pl.UInt32).alias("accounts"))
    dev = index.decode(counts.filter(pl.col("kind") == "device"), "ident", kind="device", as_="key")
    ips = index.decode(counts.filter(pl.col("kind") == "ip"), "ident", kind="ip", as_="key")
    placeholder = (pl.col("kind") == "device") & is_placeholder(pl.col("key"), placeholders)
    # ident numbers follow the sorted id strings (graphkit.graphs.ids): sorting by ident sorts by key
    return (
        pl.concat([dev, ips])
        .with_columns(placeholder.fill_null(False).alias("placeholder"))
        .with_columns(is_hub(pl.col("accounts"), hub_cap, pl.col("placeholder")).alias("hub"))
        .sort(["accounts", "kind", "ident"], descending=[True, False, False])
        .select("kind", "ident", "key", "accounts", "hub", "placeholder")
    )


def shared_projection(links: pl.DataFrame, hub_cap: int) -> pl.DataFrame:
    """User <-> user edges through shared devices and IPs.

    Parameters
    ----------
    links : polars.DataFrame
        Distinct ``kind``, ``ident``, ``uid`` (from :func:`identifier_links`).
    hub_cap : int
        Identifiers seen with more accounts than this are left out.

    Returns
    -------
    polars.DataFrame
        ``a < b`` (uids), ``strength`` (sum over the shared identifiers of
        ``1 / log2(accounts)``: 1.0 for a device only the two of them use,
        0.19 for one shared by 40), ``weight`` (``min(1, strength)``, the
        relation's weight in the combined user graph), ``devices`` and ``ips``
        (how many of each they share); sorted by ``a``, ``b``.

    Examples
    --------
    >>> import polars as pl
    >>> links = pl.DataFrame({"kind": ["device"] * 3, "ident": [0, 0, 1], "uid": [0, 1, 1]},
    ...                      schema_overrides={"ident": pl.UInt32, "uid": pl.UInt32})
    >>> shared_projection(links, hub_cap=50).rows()
    [(0, 1, 1.0, 1.0, 1, 0)]
    """
    counted = (
        links.lazy()
        .with_columns(pl.len().over("kind", "ident").alias("__n"))
        .filter((pl.col("__n") >= 2) & ~is_hub(pl.col("__n"), hub_cap))
        .select("kind", "ident", "uid", (1.0 / pl.col("__n").cast(pl.Float64).log(2)).alias("__w"))
    )
    pairs = (
        counted.join(counted.select("kind", "ident", pl.col("uid").alias("b")), on=["kind", "ident"])
        .filter(pl.col("uid") < pl.col("b"))
        .rename({"uid": "a"})
        # a float sum depends on the order of its terms, and a group keeps its rows' order: in the join's order
        # the last bits varied between runs (threads). maintain_order, or polars drops the sort from the plan
        .sort("a", "b", "kind", "ident")
        .group_by("a", "b", maintain_order=True)
        .agg(
            pl.col("__w").sum().alias("strength"),
            (pl.col("kind") == "device").sum().cast(pl.UInt32).alias("devices"),
            (pl.col("kind") == "ip").sum().cast(pl.UInt32).alias("ips"),
        )
        .select("a", "b", "strength", saturate(pl.col("strength"), 1.0).alias("weight"), "devices", "ips")
        .sort("a", "b")
    )
    return pairs.collect()


def cogift_events(gifts: pl.DataFrame, window_s: int) -> pl.DataFrame:
    """One row per (stream, time bucket, gifter): the input of :func:`cogift_projection` and of :func:`estimate_pairs`.

    Returns
    -------
    polars.DataFrame
        ``sid``, ``__bucket`` (``sent_at // window_s``), ``src``, ``__first``
        and ``__last`` (epoch microseconds of the gifter's first and last gift
        in the bucket), ``__n`` (gifts); gifts without a stream are left out.
    """
    w_us = int(window_s) * 1_000_000
    return (
        gifts.lazy()
        .filter(pl.col("sid").is_not_null())
        .select("sid", "src", pl.col("sent_at").dt.epoch("us").alias("__t"))
        .with_columns((pl.col("__t") // max(w_us, 1)).alias("__bucket"))
        .group_by("sid", "__bucket", "src")
        .agg(pl.col("__t").min().alias("__first"), pl.col("__t").max().alias("__last"), pl.len().alias("__n"))
        .collect()
    )


def cogift_projection(
    gifts: pl.DataFrame, window_s: int, stream_cap: int, min_streams: int = 1, *, events: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """User <-> user edges between accounts that gift the same stream within ``window_s`` seconds.

    Parameters
    ----------
    gifts : polars.DataFrame
        Encoded gifts (``src``, ``sent_at``, ``sid``); gifts without a stream are ignored.
    window_s : int
        Two gifts are synchronous when at most this many seconds apart (inclusive).
    stream_cap : int
        Within one stream and one window-long time bucket, at most this many
        gifters take part: those with the most gifts in that bucket (ties: the
        smaller uid). A 10k-viewer stream does not explode into all pairs.
    min_streams : int
        Pairs that co-gift in fewer distinct streams are left out.
    events : polars.DataFrame, optional
        :func:`cogift_events` of the same gifts and window, when the caller
        already has them (:func:`graphkit.graphs.build_graphs` estimates the
        pairs from them first).

    Returns
    -------
    polars.DataFrame
        ``a < b`` (uids), ``streams`` (distinct streams where they gifted within
        the window of each other), ``weight`` (``min(1, streams / 3)``: three
        streams in sync is a strong tie; one shared moment is weak); sorted by
        ``a``, ``b``.

    Notes
    -----
    Time is cut into buckets ``window_s`` long. Two gifts within ``window_s``
    are in the same or in adjacent buckets, so each (stream, sender, bucket)
    is reduced to its first and last gift time and joined with its own bucket
    (always within the window) and with the next one (within the window when
    ``next.first - this.last <= window_s``). The work per stream is bounded by
    ``buckets * stream_cap**2`` rows, whatever the stream's audience. The
    meetings are then packed into one integer per (pair, stream), sorted,
    and counted per pair; when ids and streams are too many to pack into 64
    bits, they are counted with a group-by in slices of about 10M rows.

    Examples
    --------
    >>> import polars as pl
    >>> g = pl.DataFrame({"src": [0, 1, 2], "sid": [0, 0, 0], "sent_at": [0, 120_000_000, 241_000_000]},
    ...                  schema_overrides={"src": pl.UInt32, "sid": pl.UInt32,
    ...                                    "sent_at": pl.Datetime("us", "UTC")})
    >>> cogift_projection(g, window_s=120, stream_cap=200).select("a", "b", "streams").rows()
    [(0, 1, 1)]
    """
    w_us = int(window_s) * 1_000_000
    ev = (events if events is not None else cogift_events(gifts, window_s)).lazy()
    if stream_cap is not None:
        # most (stream, bucket)s hold a gifter or two: only the crowded ones are ranked (2.5x faster)
        ev = ev.with_columns(pl.len().over("sid", "__bucket").alias("__gifters"))
        crowded = (
            ev.filter(pl.col("__gifters") > stream_cap)
            .sort(["sid", "__bucket", "__n", "src"], descending=[False, False, True, False])
            .filter(pl.int_range(pl.len()).over("sid", "__bucket") < stream_cap)
        )
        ev = pl.concat([ev.filter(pl.col("__gifters") <= stream_cap), crowded])
    # collected once: both joins below read it (a lazy plan would compute it twice)
    ev = ev.select("sid", "__bucket", "src", "__first", "__last").collect().lazy()
    n_ids = int(gifts["src"].max() or 0) + 1
    n_streams = int(gifts["sid"].max() or 0) + 1
    if n_ids * n_ids * n_streams < _PACKED_LIMIT:
        counted = _count_packed(ev, w_us, n_ids, n_streams, min_streams)
    else:
        counted = _count_sliced(ev, w_us, min_streams)
    return counted.select(
        "a", "b", saturate(pl.col("streams").cast(pl.Float64), 3.0).alias("weight"), "streams",
    )


def _meetings(ev: pl.LazyFrame, w_us: int, *keys: pl.Expr) -> pl.LazyFrame:
    """One row per (pair, stream, bucket) meeting within the window, as the columns ``keys``.

    ``keys`` are expressions of ``src`` and ``__o`` (the two gifters, in
    either order) and ``sid``.
    """
    other = ev.select(
        "sid", pl.col("__bucket").alias("__ob"), pl.col("src").alias("__o"), pl.col("__first").alias("__ofirst"),
    )
    same = (
        ev.join(other, left_on=["sid", "__bucket"], right_on=["sid", "__ob"])
        .filter(pl.col("src") < pl.col("__o"))
        .select(*keys)
    )
    nxt = (
        ev.with_columns((pl.col("__bucket") + 1).alias("__nb"))
        .join(other, left_on=["sid", "__nb"], right_on=["sid", "__ob"])
        .filter((pl.col("src") != pl.col("__o")) & (pl.col("__ofirst") - pl.col("__last") <= w_us))
        .select(*keys)
    )
    return pl.concat([same, nxt])


def _count_packed(ev: pl.LazyFrame, w_us: int, n_ids: int, n_streams: int, min_streams: int) -> pl.DataFrame:
    """Distinct streams per pair when ``(a, b, sid)`` packs into one UInt64 (``n_ids**2 * n_streams < 2**64``).

    One sort of the packed meetings (radix-fast on one integer column), then
    each distinct (pair, stream) once and the run length per pair: about
    2.5x faster than a group-by with ``n_unique`` at 10^7 gifts, and the
    result comes out sorted by ``a``, ``b``.
    """
    lo = pl.min_horizontal("src", "__o").cast(pl.UInt64)
    hi = pl.max_horizontal("src", "__o").cast(pl.UInt64)
    key = ((lo * n_ids + hi) * n_streams + pl.col("sid").cast(pl.UInt64)).alias("__key")
    keys = _meetings(ev, w_us, key).sort("__key").collect()
    return (
        keys.lazy()
        .filter((pl.col("__key") != pl.col("__key").shift(1)).fill_null(True))
        .select((pl.col("__key") // n_streams).set_sorted().alias("__pair"))
        .group_by("__pair")
        .agg(pl.len().cast(pl.UInt32).alias("streams"))
        .filter(pl.col("streams") >= min_streams)
        .sort("__pair")
        .select(
            (pl.col("__pair") // n_ids).cast(_UID).alias("a"), (pl.col("__pair") % n_ids).cast(_UID).alias("b"),
            "streams",
        )
        .collect()
    )


def _count_sliced(ev: pl.LazyFrame, w_us: int, min_streams: int) -> pl.DataFrame:
    """Distinct streams per pair for id spaces too big to pack: ``n_unique`` per slice of the pairs.

    Every row of a pair is in one slice (by the first uid), so each slice's
    counts are final, and the hash tables stay a slice's size.
    """
    pair = pack_pair(pl.min_horizontal("src", "__o"), pl.max_horizontal("src", "__o"))
    met = _meetings(ev, w_us, pair.alias("__pair"), "sid").collect()
    slices = max(1, met.height // _ROWS_PER_SLICE)
    counted = [
        met.lazy()
        .filter((pl.col("__pair") // _PAIR) % slices == k)
        .group_by("__pair")
        .agg(pl.col("sid").n_unique().cast(pl.UInt32).alias("streams"))
        .filter(pl.col("streams") >= min_streams)
        .collect()
        for k in range(slices)
    ]
    return (
        pl.concat(counted)
        .lazy()
        .select(*unpack_pair("__pair"), "streams")
        .sort("a", "b")
        .collect()
    )


BYTES_PER_SHARED_PAIR = 200
"""Peak memory per estimated shared-identifier pair while :func:`shared_projection` runs: measured in a
process of its own on ``graphkit synth`` platforms (peak RSS less the inputs'), 142-195 bytes from 10^6 to
10^7 gifts (0.2-3M pairs), 334 at 10^5 where fixed costs weigh most."""
BYTES_PER_COGIFT_PAIR = 20
"""The same for :func:`cogift_projection`, per estimated co-gifting pair: 15-19 bytes at 10^6 gifts
(16-17M pairs) and 7-9 at 10^7 (144-191M pairs; its estimate counts every adjacent-bucket pair, about
1.45x the meetings made), 85 at 10^5 (0.3M pairs, 25 MB in all). Each meeting is one packed 64-bit key,
sorted once."""
ESTIMATE_FLOOR = 64 * 2**20
"""What the projections need whatever their pairs (frames of a few rows, the allocator): 64 MB."""


@dataclass(frozen=True)
class PairEstimate:
    """How many pairs the projections will make, from identifier and bucket sizes alone.

    Attributes
    ----------
    shared : int
        Sum over the devices and IPs with ``2 <= k <= hub_cap`` accounts of
        ``k * (k - 1) / 2`` (:func:`shared_projection`; crowded identifiers
        are left out, so they add nothing).
    cogift : int
        Sum over the (stream, time bucket)s, with ``k = min(gifters,
        stream_cap)``, of ``k * (k - 1) / 2`` within the bucket plus ``k *
        k_next`` with the next bucket (:func:`cogift_projection`; the second
        term is an upper bound: only gifts within the window meet).
    """

    shared: int
    cogift: int

    @property
    def bytes(self) -> int:
        """The memory the projections will need at their peak: :data:`BYTES_PER_SHARED_PAIR` and
        :data:`BYTES_PER_COGIFT_PAIR` per estimated pair, and :data:`ESTIMATE_FLOOR` (an upper bound: the
        two run one after the other)."""
        return ESTIMATE_FLOOR + self.shared * BYTES_PER_SHARED_PAIR + self.cogift * BYTES_PER_COGIFT_PAIR


def estimate_pairs(links: pl.DataFrame, events: pl.DataFrame, *, hub_cap: int, stream_cap: int) -> PairEstimate:
    """Count the pairs :func:`shared_projection` and :func:`cogift_projection` will make, without making them.

    Parameters
    ----------
    links : polars.DataFrame
        Distinct ``kind``, ``ident``, ``uid`` (:func:`identifier_links`).
    events : polars.DataFrame
        ``sid``, ``__bucket``, ``src`` (:func:`cogift_events`).
    hub_cap, stream_cap : int
        ``Config.hub_cap`` and ``Config.cogift_stream_cap``.

    Returns
    -------
    PairEstimate

    Examples
    --------
    >>> links = pl.DataFrame({"kind": ["device"] * 5, "ident": [0, 0, 0, 1, 1], "uid": [0, 1, 2, 3, 4]})
    >>> events = pl.DataFrame({"sid": [0] * 4 + [0] * 2, "__bucket": [7] * 4 + [8] * 2, "src": [0, 1, 2, 3, 0, 5]})
    >>> estimate_pairs(links, events, hub_cap=50, stream_cap=3)  # 3 + 1; 3 within bucket 7 + 1 in 8 + 3 * 2 across
    PairEstimate(shared=4, cogift=10)
    """
    sizes = links.group_by("kind", "ident").agg(pl.len().cast(pl.Int64).alias("k")).filter(
        (pl.col("k") >= 2) & ~is_hub(pl.col("k"), hub_cap)
    )
    shared = int(sizes.select((pl.col("k") * (pl.col("k") - 1) // 2).sum()).item() or 0)
    buckets = events.group_by("sid", "__bucket").agg(
        pl.min_horizontal(pl.len(), pl.lit(stream_cap)).cast(pl.Int64).alias("k")
    )
    following = buckets.select("sid", (pl.col("__bucket") - 1).alias("__bucket"), pl.col("k").alias("k_next"))
    met = buckets.join(following, on=["sid", "__bucket"], how="left").with_columns(pl.col("k_next").fill_null(0))
    cogift = int(met.select((pl.col("k") * (pl.col("k") - 1) // 2 + pl.col("k") * pl.col("k_next")).sum()).item() or 0)
    return PairEstimate(shared=shared, cogift=cogift)


def check_memory(estimate: PairEstimate, *, hub_cap: int, stream_cap: int, available: int | None) -> None:
    """Refuse, in one line naming the setting, projections that would need more memory than ``available``.

    Parameters
    ----------
    estimate : PairEstimate
        From :func:`estimate_pairs`.
    hub_cap, stream_cap : int
        The settings behind ``estimate.shared`` and ``estimate.cogift``, for the message.
    available : int or None
        Bytes of memory the run may still use (``None``: unknown, no check).

    Raises
    ------
    NotEnoughMemoryError
        When ``estimate.bytes > available``. The message names the settings
        that make most of the pairs (each with at least a quarter of them).

    Examples
    --------
    >>> check_memory(PairEstimate(shared=10, cogift=0), hub_cap=50, stream_cap=50, available=10**9)
    >>> check_memory(PairEstimate(shared=10**8, cogift=10), hub_cap=700, stream_cap=50, available=10**9)
    Traceback (most recent call last):
    ...
    graphkit.errors.NotEnoughMemoryError: hub_cap = 700 would make about 100,000,010 pairs ...
    """
    if available is None or estimate.bytes <= available:
        return
    total = estimate.shared + estimate.cogift
    parts = sorted(
        [(estimate.shared, f"hub_cap = {hub_cap}", "shared-identifier"),
         (estimate.cogift, f"cogift_stream_cap = {stream_cap}", "co-gifting")],
        reverse=True,
    )
    named = [(setting, what, n) for n, setting, what in parts if n * 4 >= total]
    settings = " and ".join(setting for setting, _, _ in named)
    detail = ", ".join(f"{n:,} {what}" for _, what, n in named)
    raise NotEnoughMemoryError(
        f"{settings} would make about {total:,} pairs ({detail}), about {_size(estimate.bytes)} of memory, "
        f"while {_size(available)} is available; lower {' or '.join(s.split(' = ')[0] for s, _, _ in named)} "
        "(pairs grow with the square of each cap) or run on a machine with more memory"
    )


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def saturate(expr: pl.Expr, strong: float) -> pl.Expr:
    """``min(1, expr / strong)``: a relation's raw strength on a 0..1 scale where ``strong`` maps to 1."""
    return pl.min_horizontal(expr / strong, pl.lit(1.0))
