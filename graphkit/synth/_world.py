"""The mutable scratch space the generator fills: integer arrays, appended in chunks.

Every entity is an integer index while the platform is generated (users,
devices, IPs, streams); ids become strings once, in :func:`World.frames`.
Times are int64 seconds since the Unix epoch. Nothing here is public.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

DAY = 86_400
HOUR = 3_600

# A realistic gift price list (coins) and how often each price is sent organically:
# most gifts are cheap roses and hearts; a few whales send the big ones.
PRICES = np.array([1, 5, 10, 30, 99, 199, 499, 999, 2999, 9999], dtype=np.float64)
PRICE_P = np.array([0.36, 0.22, 0.15, 0.10, 0.07, 0.045, 0.03, 0.017, 0.006, 0.002])
PRICE_P = PRICE_P / PRICE_P.sum()

COUNTRIES = np.array(["US", "BR", "ID", "PH", "MX", "IN", "TR", "VN", "DE", "GB", "EG", "TH"])
COUNTRY_P = np.array([0.16, 0.14, 0.13, 0.1, 0.09, 0.09, 0.06, 0.06, 0.05, 0.05, 0.04, 0.03])
COUNTRY_P = COUNTRY_P / COUNTRY_P.sum()

# first octets by kind of address (the rest is random): residential ISPs, mobile
# carriers' NAT gateways, universities, cloud/datacenter ranges, proxies.
IP_OCTETS = {
    "home": (24, 49, 73, 98, 112, 177, 180, 186, 189, 201, 223),
    "carrier": (100, 117, 172, 174, 182),
    "campus": (128, 129, 130, 131, 141),
    "datacenter": (34, 35, 45, 104, 138, 159, 167, 185),
    "cafe": (36, 58, 110, 125),
}
IP_KINDS = tuple(IP_OCTETS)


@dataclass
class World:
    """Integer-indexed platform under construction."""

    rng: np.random.Generator
    start: int
    end: int
    n_users: int = 0
    n_devices: int = 0
    n_streams: int = 0
    ip_kinds: list[np.ndarray] = field(default_factory=list)
    created: list[np.ndarray] = field(default_factory=list)
    country: list[np.ndarray] = field(default_factory=list)
    stream_parts: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    device_parts: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    gift_parts: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    # host -> its streams (filled by the organic stage; ring streams are added to the arrays too)
    s_host: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    s_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    s_end: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    _by_host: tuple | None = None
    _stale: bool = True

    @property
    def n_ips(self) -> int:
        return sum(len(k) for k in self.ip_kinds)

    # ---- allocation -------------------------------------------------------------------------
    def new_users(self, created: np.ndarray, country: np.ndarray | None = None) -> np.ndarray:
        created = np.asarray(created, dtype=np.int64)
        k = len(created)
        if country is None:
            country = self.rng.choice(len(COUNTRIES), size=k, p=COUNTRY_P)
        idx = np.arange(self.n_users, self.n_users + k, dtype=np.int64)
        self.n_users += k
        self.created.append(created)
        self.country.append(np.asarray(country, dtype=np.int64))
        return idx

    def new_devices(self, k: int) -> np.ndarray:
        idx = np.arange(self.n_devices, self.n_devices + k, dtype=np.int64)
        self.n_devices += k
        return idx

    def new_ips(self, k: int, kind: str) -> np.ndarray:
        first = self.n_ips
        self.ip_kinds.append(np.full(k, IP_KINDS.index(kind), dtype=np.int8))
        return np.arange(first, first + k, dtype=np.int64)

    def new_streams(self, host: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        k = len(host)
        idx = np.arange(self.n_streams, self.n_streams + k, dtype=np.int64)
        self.n_streams += k
        self.s_host = np.concatenate([self.s_host, np.asarray(host, np.int64)])
        self.s_start = np.concatenate([self.s_start, np.asarray(start, np.int64)])
        self.s_end = np.concatenate([self.s_end, np.asarray(end, np.int64)])
        self._stale = True
        return idx

    def add_devices(self, user, device, ip, seen=None) -> None:
        """One observation per row; ``seen`` -1 means 'any time the account was active'."""
        user = np.asarray(user, np.int64)
        device = np.broadcast_to(np.asarray(device, np.int64), user.shape)
        ip = np.broadcast_to(np.asarray(ip, np.int64), user.shape)
        seen = np.full(user.shape, -1, np.int64) if seen is None else np.broadcast_to(np.asarray(seen, np.int64), user.shape)
        self.device_parts.append((user, device.copy(), ip.copy(), seen.copy()))

    def add_gifts(self, sender, receiver, coins, sent_at, stream) -> None:
        self.gift_parts.append(tuple(np.asarray(a) for a in (sender, receiver, coins, sent_at, stream)))

    @property
    def planted_gifts(self) -> int:
        return sum(len(p[0]) for p in self.gift_parts)

    # ---- streams and times ------------------------------------------------------------------
    def host_streams(self, fresh: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Streams by host: (order, offset per host, count per host, last-ending stream per host).

        Indexed by user index up to the highest host. Cached: streams added
        since the last call are left out unless ``fresh`` (the cached indices
        stay valid, as streams are only ever appended).
        """
        if self._by_host is None or (fresh and self._stale):
            self._stale = False
            order = np.lexsort((self.s_end, self.s_host))
            counts = np.bincount(self.s_host)
            offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
            last = np.where(counts > 0, order[np.maximum(offsets + counts - 1, 0)], -1)
            self._by_host = (order, offsets, counts, last)
        return self._by_host

    def streams_for(self, hosts: np.ndarray, after: np.ndarray, min_left: int = 300) -> np.ndarray:
        """A random stream of each host still live ``min_left`` seconds after ``after``.

        Draws a few times among the host's streams, falls back to its last
        stream, and opens a new stream for the host when none is left.
        """
        rng = self.rng
        hosts = np.asarray(hosts, np.int64)
        after = np.asarray(after, np.int64)
        order, offsets, counts, last = self.host_streams()
        out = np.full(len(hosts), -1, np.int64)
        has = counts[hosts] > 0
        for _ in range(6):
            todo = np.flatnonzero((out < 0) & has)
            if not len(todo):
                break
            pick = order[offsets[hosts[todo]] + (rng.random(len(todo)) * counts[hosts[todo]]).astype(np.int64)]
            ok = self.s_end[pick] >= after[todo] + min_left
            out[todo[ok]] = pick[ok]
        todo = np.flatnonzero(out < 0)
        if len(todo):
            # the host's latest-ending stream, when it is late enough
            cand = last[hosts[todo]]
            ok = (cand >= 0) & (self.s_end[np.maximum(cand, 0)] >= after[todo] + min_left)
            out[todo[ok]] = cand[ok]
            todo = todo[~ok]
        if len(todo):
            # open one new stream per (host) that needs one, starting soon after the latest need
            need_host, inv = np.unique(hosts[todo], return_inverse=True)
            latest = np.zeros(len(need_host), np.int64)
            np.maximum.at(latest, inv, after[todo])
            begin = np.minimum(latest + rng.integers(60, 2 * HOUR, len(need_host)), self.end - 2 * HOUR)
            begin = np.maximum(begin, self.start)
            dur = rng.integers(45 * 60, 4 * HOUR, len(need_host))
            new = self.new_streams(need_host, begin, np.minimum(begin + dur, self.end))
            out[todo] = new[inv]
            # a time that still falls after the new stream's end is clipped by times_in()
        return out

    def times_in(self, streams: np.ndarray, after: np.ndarray | None = None) -> np.ndarray:
        """A uniform time inside each stream (and not before ``after``)."""
        lo = self.s_start[streams]
        hi = self.s_end[streams]
        if after is not None:
            lo = np.minimum(np.maximum(lo, np.asarray(after, np.int64)), hi)
        return lo + (self.rng.random(len(streams)) * (hi - lo)).astype(np.int64)

    def gifts_to(self, senders, hosts, coins, after) -> None:
        """Gifts from ``senders`` to ``hosts`` during one of the host's streams after ``after``."""
        senders = np.asarray(senders, np.int64)
        hosts = np.asarray(hosts, np.int64)
        after = np.broadcast_to(np.asarray(after, np.int64), senders.shape)
        streams = self.streams_for(hosts, after)
        self.add_gifts(senders, hosts, np.broadcast_to(coins, senders.shape), self.times_in(streams, after), streams)

    def prices(self, k: int, p: np.ndarray | None = None, lo: int = 0, hi: int = len(PRICES)) -> np.ndarray:
        """``k`` gift prices drawn from the price list (optionally a slice of it)."""
        p = PRICE_P if p is None else np.asarray(p, np.float64)
        p = p[lo:hi] / p[lo:hi].sum()
        return PRICES[lo:hi][self.rng.choice(hi - lo, size=k, p=p)]

    # ---- finishing --------------------------------------------------------------------------
    def ip_strings(self) -> pl.Series:
        """Distinct dotted quads, one per IP index, with first octets by kind."""
        rng = self.rng
        kinds = np.concatenate(self.ip_kinds) if self.ip_kinds else np.zeros(0, np.int8)
        n = len(kinds)
        first = np.zeros(n, np.int64)
        for k, name in enumerate(IP_KINDS):
            sel = kinds == k
            octets = np.asarray(IP_OCTETS[name], np.int64)
            first[sel] = octets[rng.integers(0, len(octets), int(sel.sum()))]
        def draw(k: int) -> np.ndarray:
            return (rng.integers(0, 1 << 16, k) << 8) | rng.integers(1, 255, k)

        value = (first << 24) | draw(n)
        for _ in range(50):
            _, first_pos = np.unique(value, return_index=True)
            dup = np.ones(n, bool)
            dup[first_pos] = False
            if not dup.any():
                break
            value[dup] = (first[dup] << 24) | draw(int(dup.sum()))
        octets = pl.DataFrame({f"o{s}": (value >> s) & 255 for s in (24, 16, 8, 0)})
        return octets.select(
            pl.concat_str([pl.col(f"o{s}").cast(pl.Utf8) for s in (24, 16, 8, 0)], separator=".")
        ).to_series()


@dataclass
class Organic:
    """The honest population, indices ``0..n-1`` of the world's users."""

    n: int
    hosts: np.ndarray          # user index of each host, most popular first
    pop: np.ndarray            # popularity share of each host (sums to 1), same order
    phone: np.ndarray          # user -> main device
    home_ip: np.ndarray        # user -> household IP
    nat_ips: np.ndarray        # carrier NAT IP indices
    nat_p: np.ndarray          # how often each NAT IP is used
    activity: np.ndarray       # user -> organic gifting weight (0: not an organic sender)
    taken: np.ndarray          # user -> already in a planted group or look-alike (bool)

    def band(self, lo: float, hi: float) -> np.ndarray:
        """Hosts whose popularity rank (as a share of all hosts) is in [lo, hi)."""
        k = len(self.hosts)
        return self.hosts[int(np.floor(lo * k)):max(int(np.floor(hi * k)), int(np.floor(lo * k)) + 1)]

    def popular(self) -> np.ndarray:
        """The most popular hosts (top 3%, at least 5): the ones camouflage goes to."""
        return self.hosts[: max(5, int(0.03 * len(self.hosts)))]
