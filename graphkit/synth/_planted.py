"""Planted rings (the abuse to find) and benign look-alike groups (the traps).

Each ring's size and parameters are drawn from ranges per ring, so the layout
changes with the seed. Loops here run once per ring or group (there are few);
the work inside each is vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graphkit.errors import ConfigError
from graphkit.synth._world import COUNTRIES, COUNTRY_P, DAY, HOUR, PRICES, Organic, World

YEAR = 365 * DAY
RING_KINDS = ("account_farm", "gift_laundering", "gifting_burst", "cashout_mules")
LOOKALIKE_KINDS = ("family_device", "carrier_nat", "campus_ip", "promotion_wave", "fan_club", "internet_cafe")
FLOW_KINDS = ("flow_fan_in", "flow_fan_out", "flow_cycle", "flow_scatter_gather", "flow_gather_scatter", "flow_chain")
"""Money-flow typologies (as AMLSim plants them), planted with ``flows`` only (the default platform stays as it was)."""
BIG_LOOKALIKE_KINDS = ("viral_moment", "giveaway")
"""Look-alikes planted with ``ring_size_max`` only (the default platform stays as it was)."""


@dataclass
class RingPlan:
    kind: str
    params: dict = field(default_factory=dict)

    @property
    def new_accounts(self) -> int:
        p = self.params
        if self.kind == "gift_laundering":
            return sum(p["alts_per_host"]) + p["funders"]
        return p["accounts"]


def plan_rings(rng: np.random.Generator, users: int, ring_size_max: int | None = None) -> list[RingPlan]:
    """How many rings of each kind, and their sizes (at least 2 rings of each kind).

    With ``ring_size_max``, ring sizes are heavy-tailed instead of the default
    ranges: log-uniform from :data:`RING_SIZE_MIN` to ``ring_size_max``
    accounts, stratified over the rings (ring ``i`` of ``n`` at the ``(i + u) / n``
    quantile, ``u`` uniform) so that every size band gets rings, then shuffled
    over the kinds. Farms keep 2-5 devices (hundreds of accounts per device
    when they are big), bursts and mules grow in accounts, laundering loops
    in funders and hosts.
    """
    plans = []
    for kind in RING_KINDS:
        for _ in range(max(2, int(rng.poisson(users / rng.uniform(4000, 8000))))):
            if kind == "account_farm":
                params = {"accounts": int(rng.integers(15, 61)), "devices": int(rng.integers(2, 6)),
                          "ips": int(rng.integers(1, 4)), "beneficiaries": int(rng.integers(1, 3)),
                          "created_span_days": round(float(rng.uniform(1, 2)), 2)}
            elif kind == "gift_laundering":
                hosts = int(rng.integers(2, 5))
                params = {"hosts": hosts, "alts_per_host": [int(a) for a in rng.integers(2, 6, hosts)],
                          "funders": int(rng.integers(5, 16))}
            elif kind == "gifting_burst":
                params = {"accounts": int(rng.integers(20, 51)), "beneficiaries": int(rng.integers(1, 3)),
                          "bursts": int(rng.integers(3, 11)), "window_s": int(rng.integers(20, 61))}
            else:
                params = {"accounts": int(rng.integers(10, 31)), "beneficiaries": int(rng.integers(1, 4))}
            plans.append(RingPlan(kind, params))
    order = rng.permutation(len(plans))
    plans = [plans[i] for i in order]
    if ring_size_max is not None:
        plans = _resized(rng, plans, ring_size_max)
    return plans


RING_SIZE_MIN = 5
"""The smallest ring of ``--ring-size-max`` (heavy-tailed sizes)."""


def _resized(rng: np.random.Generator, plans: list[RingPlan], ring_size_max: int) -> list[RingPlan]:
    """Each plan with a heavy-tailed size (:func:`plan_rings`); its other parameters are kept."""
    n = len(plans)
    q = (rng.permutation(n) + rng.random(n)) / n
    sizes = np.round(RING_SIZE_MIN * (ring_size_max / RING_SIZE_MIN) ** q).astype(int)
    out = []
    for plan, size in zip(plans, sizes):
        p = dict(plan.params)
        size = int(size)
        if plan.kind == "gift_laundering":
            # as in the default ranges: about a third funders, the rest hosts with their alts (2-20 hosts)
            funders = max(3, int(round(0.3 * size)))
            hosts = int(np.clip(round((size - funders) / 5), 2, 20))
            n_alts = max(hosts, size - funders - hosts)
            alts = np.bincount(rng.integers(0, hosts, n_alts - hosts), minlength=hosts) + 1
            p.update(hosts=hosts, alts_per_host=[int(a) for a in alts], funders=funders)
        else:
            p["accounts"] = max(size, 5)
        if plan.kind == "gifting_burst":
            p["bursts"] = int(np.clip(p["bursts"], 3, 5)) if size > 200 else p["bursts"]
        out.append(RingPlan(plan.kind, p))
    return out


def plan_flows(rng: np.random.Generator, users: int) -> list[RingPlan]:
    """Money-flow rings (:data:`FLOW_KINDS`, at least 2 of each, more with more users).

    ``branches`` (3-8) is the fan width, the middles of a scatter-gather, the
    sources and sinks of a gather-scatter, the length of a cycle or a chain's
    middles; ``rounds`` (2-5) is how many times the pattern moves money.
    """
    plans = []
    for kind in FLOW_KINDS:
        for _ in range(max(2, int(rng.poisson(users / rng.uniform(6000, 10000))))):
            k = int(rng.integers(3, 9))
            accounts = {"flow_cycle": k, "flow_gather_scatter": 2 * k + 1, "flow_scatter_gather": k + 2,
                        "flow_chain": k + 2}.get(kind, k + 1)
            plans.append(RingPlan(kind, {"accounts": accounts, "branches": k, "rounds": int(rng.integers(2, 6))}))
    return [plans[i] for i in rng.permutation(len(plans))]


def plant_rings(w: World, org: Organic, plans: list[RingPlan]) -> list[dict]:
    """Add every planned ring to the world; returns ``{"kind", "members", "beneficiaries", "params"}``."""
    planters = {"account_farm": _farm, "gift_laundering": _laundering,
                "gifting_burst": _burst, "cashout_mules": _mules, **{kind: _flow for kind in FLOW_KINDS}}
    rings = []
    for plan in plans:
        members, beneficiaries = (_flow(w, org, plan.params, plan.kind) if plan.kind in FLOW_KINDS
                                  else planters[plan.kind](w, org, plan.params))
        rings.append({"kind": plan.kind, "members": np.union1d(members, beneficiaries),
                      "beneficiaries": np.unique(beneficiaries), "params": plan.params})
    return rings


def plant_lookalikes(w: World, org: Organic, users: int, *, big: bool = False) -> list[dict]:
    """Benign groups that resemble rings: promotion waves, fan clubs, internet cafés; with ``big``
    (``--ring-size-max``) also viral moments and giveaways of hundreds of accounts."""
    rng = w.rng
    groups = []
    makers = [("promotion_wave", _promotion), ("fan_club", _fan_club), ("internet_cafe", _cafe)]
    if big:
        makers += list(zip(BIG_LOOKALIKE_KINDS, (_viral, _giveaway)))
    for kind, make in makers:
        for _ in range(max(1, int(round(users / rng.uniform(12_000, 25_000))))):
            members = make(w, org)
            if len(members):
                groups.append({"kind": kind, "members": np.unique(members)})
    return groups


# ---- helpers ------------------------------------------------------------------------------------

def _take_hosts(w: World, org: Organic, k: int, lo: float, hi: float) -> np.ndarray:
    """``k`` free hosts from a popularity band (widened when the band is used up); marks them taken."""
    rng = w.rng
    for band in (org.band(lo, hi), org.band(0.03, 1.0)):
        free = band[~org.taken[band]]
        if len(free) >= k:
            chosen = rng.choice(free, size=k, replace=False)
            org.taken[chosen] = True
            return chosen
    raise ConfigError(f"too few hosts for the planted rings ({len(org.hosts)}); raise --users")


def _take_users(w: World, org: Organic, k: int, *, min_age_days: int = 0) -> np.ndarray:
    """``k`` free honest non-host accounts (optionally older than ``min_age_days``); marks them taken."""
    free = ~org.taken.copy()
    free[org.hosts] = False
    if min_age_days:
        free &= w.created[0][: org.n] < w.start - min_age_days * DAY
    cand = np.flatnonzero(free)
    k = min(k, len(cand))
    chosen = w.rng.choice(cand, size=k, replace=False)
    org.taken[chosen] = True
    return chosen


def _seen_after(w: World, created: np.ndarray) -> np.ndarray:
    lo = np.maximum(created, w.start)
    return lo + (w.rng.random(len(created)) * np.maximum(w.end - lo, 1)).astype(np.int64)


def _country(rng: np.random.Generator, k: int) -> np.ndarray:
    """Mostly one country (rings are run from one place), some noise."""
    main = rng.choice(len(COUNTRIES), p=COUNTRY_P)
    c = np.full(k, main, np.int64)
    other = rng.random(k) < 0.2
    c[other] = rng.choice(len(COUNTRIES), size=int(other.sum()), p=COUNTRY_P)
    return c


def _camouflage(w: World, org: Organic, members: np.ndarray, created: np.ndarray, share: float) -> None:
    """Some members also send small gifts to popular honest hosts, to look normal."""
    rng = w.rng
    pick = np.flatnonzero(rng.random(len(members)) < share)
    if not len(pick):
        return
    times = rng.integers(1, 5, len(pick))
    senders = np.repeat(members[pick], times)
    after = np.repeat(created[pick], times) + rng.integers(10 * 60, 5 * DAY, len(senders))
    hosts = rng.choice(org.popular(), size=len(senders))
    w.gifts_to(senders, hosts, w.prices(len(senders), hi=5), after)


def _observe(w: World, users, device, ip, created, lam: float = 0.8) -> None:
    users = np.asarray(users, np.int64)
    device = np.broadcast_to(np.asarray(device, np.int64), users.shape)
    ip = np.broadcast_to(np.asarray(ip, np.int64), users.shape)
    created = np.broadcast_to(np.asarray(created, np.int64), users.shape)
    times = 1 + w.rng.poisson(lam, len(users))
    c = np.repeat(created, times)
    w.add_devices(np.repeat(users, times), np.repeat(device, times), np.repeat(ip, times), _seen_after(w, c))


# ---- rings --------------------------------------------------------------------------------------

def _farm(w: World, org: Organic, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Young accounts on a few emulators and datacenter IPs, gifting one or two hosts."""
    rng = w.rng
    m = p["accounts"]
    base = w.start + int(rng.uniform(-12, 18) * DAY)
    created = base + (rng.random(m) * p["created_span_days"] * DAY).astype(np.int64)
    members = w.new_users(created, _country(rng, m))
    devices = w.new_devices(p["devices"])
    ips = w.new_ips(p["ips"], "datacenter")
    first = devices[rng.integers(0, len(devices), m)]
    _observe(w, members, first, ips[rng.integers(0, len(ips), m)], created, lam=1.5)
    two = np.flatnonzero(rng.random(m) < rng.uniform(0.2, 0.6))
    _observe(w, members[two], devices[rng.integers(0, len(devices), len(two))],
             ips[rng.integers(0, len(ips), len(two))], created[two])
    if rng.random() < 0.35:  # some farms also route through mobile proxies
        mob = np.flatnonzero(rng.random(m) < 0.5)
        _observe(w, members[mob], first[mob], rng.choice(org.nat_ips, size=len(mob), p=org.nat_p), created[mob])
    hosts = _take_hosts(w, org, p["beneficiaries"], 0.15, 0.8)
    per = rng.integers(3, 26, m)
    senders = np.repeat(members, per)
    favour = rng.uniform(0.6, 0.9)
    target = np.where(rng.random(len(senders)) < favour, hosts[0], hosts[-1])
    lo = int(rng.integers(1, 4))
    after = np.repeat(created, per) + rng.integers(HOUR, 3 * DAY, len(senders))
    w.gifts_to(senders, target, w.prices(len(senders), lo=lo, hi=lo + 5), after)
    _camouflage(w, org, members, created, rng.uniform(0.3, 0.8))
    return members, hosts


def _laundering(w: World, org: Organic, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Hosts with alt accounts (sharing the host's device) and fresh funders: coins go round."""
    rng = w.rng
    hosts = _take_hosts(w, org, p["hosts"], 0.2, 0.9)
    alts_per = np.asarray(p["alts_per_host"])
    owner = np.repeat(hosts, alts_per)
    alt_created = w.start - (rng.uniform(5, 400, len(owner)) * DAY).astype(np.int64)
    alts = w.new_users(alt_created, _country(rng, len(owner)))
    _observe(w, alts, org.phone[owner], org.home_ip[owner], alt_created, lam=1.2)
    own = np.flatnonzero(rng.random(len(alts)) < 0.6)
    _observe(w, alts[own], w.new_devices(len(own)), rng.choice(org.nat_ips, size=len(own), p=org.nat_p),
             alt_created[own])

    f = p["funders"]
    base = w.start + int(rng.uniform(-5, 18) * DAY)
    f_created = base + (rng.random(f) * rng.uniform(1, 6) * DAY).astype(np.int64)
    funders = w.new_users(f_created, _country(rng, f))
    if rng.random() < 0.6:
        vpn = w.new_ips(int(rng.integers(1, 3)), "datacenter")
        f_ip = vpn[rng.integers(0, len(vpn), f)]
    else:
        f_ip = w.new_ips(f, "home")
    _observe(w, funders, w.new_devices(f), f_ip, f_created)

    # funders: big gifts to the loop's hosts
    per = rng.integers(2, 9, f)
    s = np.repeat(funders, per)
    after = np.repeat(f_created, per) + rng.integers(10 * 60, DAY, len(s))
    w.gifts_to(s, rng.choice(hosts, size=len(s)), w.prices(len(s), lo=6), after)
    # alts pass the coins on to the other hosts of the loop
    per = rng.integers(3, 11, len(alts))
    s = np.repeat(alts, per)
    own_host = np.repeat(owner, per)
    shift = rng.integers(1, len(hosts), len(s))
    pos = np.searchsorted(np.sort(hosts), own_host)
    target = np.sort(hosts)[(pos + shift) % len(hosts)]
    w.gifts_to(s, target, w.prices(len(s), lo=5), np.full(len(s), w.start))
    # hosts gift each other's streams now and then
    per = rng.integers(1, 5, len(hosts))
    s = np.repeat(hosts, per)
    pos = np.searchsorted(np.sort(hosts), s)
    target = np.sort(hosts)[(pos + rng.integers(1, len(hosts), len(s))) % len(hosts)]
    w.gifts_to(s, target, w.prices(len(s), lo=4), np.full(len(s), w.start))
    _camouflage(w, org, np.concatenate([alts, funders]), np.concatenate([alt_created, f_created]),
                rng.uniform(0.3, 0.8))
    return np.concatenate([alts, funders]), hosts


def _burst(w: World, org: Organic, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Organic-looking accounts that gift the same stream within the same minute, again and again."""
    rng = w.rng
    m = p["accounts"]
    age = np.clip(rng.exponential(1.5 * YEAR, m), 30 * DAY, 6 * YEAR)
    created = (w.start - age).astype(np.int64)
    members = w.new_users(created)
    _observe(w, members, w.new_devices(m), w.new_ips(m, "home"), created)
    mob = np.flatnonzero(rng.random(m) < 0.6)
    _observe(w, members[mob], w.new_devices(len(mob)), rng.choice(org.nat_ips, size=len(mob), p=org.nat_p),
             created[mob])
    hosts = _take_hosts(w, org, p["beneficiaries"], 0.05, 0.6)

    burst_host = hosts[np.arange(p["bursts"]) % len(hosts)]
    streams = []
    for h in np.unique(burst_host):
        k = int((burst_host == h).sum())
        mine = np.flatnonzero((w.s_host == h) & (w.s_end - w.s_start >= 10 * 60))
        chosen = rng.choice(mine, size=min(k, len(mine)), replace=False) if len(mine) else np.zeros(0, np.int64)
        if len(chosen) < k:
            extra = k - len(chosen)
            begin = w.start + (rng.random(extra) * (w.end - w.start - 6 * HOUR)).astype(np.int64)
            new = w.new_streams(np.full(extra, h), begin, begin + rng.integers(HOUR, 4 * HOUR, extra))
            chosen = np.concatenate([chosen, new])
        streams.append(chosen)
    streams = np.concatenate(streams)
    window = p["window_s"]
    for s in streams:
        share = rng.uniform(0.6, 1.0)
        who = members[rng.random(m) < share]
        if len(who) < min(m, 15):
            who = rng.choice(members, size=min(m, 15), replace=False)
        t0 = w.s_start[s] + int(rng.random() * (w.s_end[s] - w.s_start[s] - window))
        sent = t0 + rng.integers(0, window + 1, len(who))
        price = rng.choice(PRICES[3:7])
        coins = np.where(rng.random(len(who)) < 0.7, price, w.prices(len(who), lo=2, hi=7))
        w.add_gifts(who, np.full(len(who), w.s_host[s]), coins, sent, np.full(len(who), s))
    # the rest of their activity looks organic: small gifts to hosts they like
    per = rng.integers(2, 12, m)
    s = np.repeat(members, per)
    target = org.hosts[rng.choice(len(org.hosts), size=len(s), p=org.pop)]
    mine = rng.random(len(s)) < 0.25
    target[mine] = rng.choice(hosts, size=int(mine.sum()))
    w.gifts_to(s, target, w.prices(len(s), hi=6), np.full(len(s), w.start))
    return members, hosts


def _mules(w: World, org: Organic, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Fresh accounts each used once or twice for the biggest gifts, to hosts nobody watches."""
    rng = w.rng
    m = p["accounts"]
    created = w.start + (rng.uniform(0, 27, m) * DAY).astype(np.int64)
    members = w.new_users(created, _country(rng, m))
    if rng.random() < 0.4:
        devices = w.new_devices(max(1, int(np.ceil(m / rng.uniform(2, 3.5)))))
        dev = devices[rng.integers(0, len(devices), m)]
    else:
        dev = w.new_devices(m)
    if rng.random() < 0.5:
        proxies = w.new_ips(int(rng.integers(1, 4)), "datacenter")
        ip = proxies[rng.integers(0, len(proxies), m)]
    else:
        ip = w.new_ips(m, "home")
    _observe(w, members, dev, ip, created, lam=0.3)
    hosts = _take_hosts(w, org, p["beneficiaries"], 0.6, 1.0)
    per = np.where(rng.random(m) < 0.6, 1, 2)
    s = np.repeat(members, per)
    after = np.repeat(created, per) + rng.integers(5 * 60, DAY, len(s))
    w.gifts_to(s, rng.choice(hosts, size=len(s)), w.prices(len(s), lo=7), after)
    _camouflage(w, org, members, created, rng.uniform(0.05, 0.25))
    return members, hosts


def _flow(w: World, org: Organic, p: dict, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Aged accounts (30-700 days old, a device and home IP each) that move one of the biggest gifts'
    worth through a money-flow typology, ``rounds`` times, each hop 1-30 minutes after the one before."""
    rng = w.rng
    n, k = p["accounts"], p["branches"]
    created = w.start - (rng.uniform(30, 700, n) * DAY).astype(np.int64)
    m = w.new_users(created, _country(rng, n))
    _observe(w, m, w.new_devices(n), w.new_ips(n, "home"), created)
    hop = lambda size: rng.integers(60, 30 * 60, size)  # noqa: E731 (one hop's delay, seconds)
    beneficiaries = m[-1:]
    for coins in w.prices(p["rounds"], lo=7):
        t0 = w.start + int(rng.uniform(0, (w.end - w.start) / DAY - 1) * DAY)
        if kind == "flow_fan_in":
            _hops(w, m[:-1], np.full(n - 1, m[-1]), coins, t0 + rng.integers(0, HOUR, n - 1))
        elif kind == "flow_fan_out":
            _hops(w, np.full(n - 1, m[0]), m[1:], coins, t0 + rng.integers(0, 30 * 60, n - 1))
            beneficiaries = m[1:]
        elif kind in ("flow_cycle", "flow_chain"):
            ring = np.r_[m, m[:1]] if kind == "flow_cycle" else m
            _hops(w, ring[:-1], ring[1:], coins, t0 + np.cumsum(hop(len(ring) - 1)))
        elif kind == "flow_scatter_gather":
            middles = m[1:-1]
            first = t0 + hop(len(middles))
            _hops(w, np.full(len(middles), m[0]), middles, coins, first)
            _hops(w, middles, np.full(len(middles), m[-1]), coins, first + hop(len(middles)))
        else:  # gather-scatter: sources -> collector -> sinks
            sources, sinks = m[1:k + 1], m[k + 1:]
            first = t0 + hop(k)
            _hops(w, sources, np.full(k, m[0]), coins, first)
            _hops(w, np.full(len(sinks), m[0]), sinks, coins, first.max() + hop(len(sinks)))
            beneficiaries = sinks
    _camouflage(w, org, m, created, rng.uniform(0.3, 0.8))
    return m, beneficiaries


def _hops(w: World, senders: np.ndarray, receivers: np.ndarray, coins: float, at: np.ndarray) -> None:
    """Gifts at exactly ``at``, each in a short stream of its receiver opened a minute before."""
    at = np.minimum(np.asarray(at, np.int64), w.end - HOUR)
    streams = w.new_streams(receivers, at - 60, at + HOUR)
    w.add_gifts(senders, receivers, np.full(len(senders), coins), at, streams)


# ---- look-alikes ----------------------------------------------------------------------------------

def _promotion(w: World, org: Organic) -> np.ndarray:
    """Hundreds of accounts opened the same day by a campaign, gifting small amounts to popular hosts."""
    rng = w.rng
    k = min(int(rng.integers(150, 501)), max(20, org.n // 20))
    members = _take_users(w, org, k)
    day = w.start + int(rng.integers(1, 22)) * DAY
    created = day + rng.integers(0, DAY, len(members))
    w.created[0][members] = created
    org.activity[members] = 0.0
    per = rng.integers(1, 5, len(members))
    s = np.repeat(members, per)
    after = np.repeat(created, per) + rng.integers(10 * 60, 3 * DAY, len(s))
    top = org.hosts[: max(10, len(org.hosts) // 20)]
    w.gifts_to(s, rng.choice(top, size=len(s)), w.prices(len(s), hi=3), after)
    return members


def _fan_club(w: World, org: Organic) -> np.ndarray:
    """Long-standing accounts gifting one popular host in many of its streams (sometimes all at once)."""
    rng = w.rng
    host = _take_hosts(w, org, 1, 0.0, 0.05)[0]
    members = _take_users(w, org, int(rng.integers(30, 81)), min_age_days=365)
    streams = np.flatnonzero(w.s_host == host)
    q = rng.uniform(0.25, 0.6)
    joins = rng.random((len(streams), len(members))) < q
    si, mi = np.nonzero(joins)
    times = 1 + rng.poisson(0.6, len(si))
    si, mi = np.repeat(si, times), np.repeat(mi, times)
    stream = streams[si]
    sent = w.times_in(stream)
    hype = rng.random(len(streams)) < 0.3  # a moment in the stream when the club gifts together
    moment = w.s_start[streams] + (rng.random(len(streams)) * (w.s_end[streams] - w.s_start[streams] - 90)).astype(np.int64)
    in_hype = hype[si] & (rng.random(len(si)) < 0.5)
    sent[in_hype] = moment[si[in_hype]] + rng.integers(0, 91, int(in_hype.sum()))
    w.add_gifts(members[mi], np.full(len(mi), host), w.prices(len(mi), hi=6), sent, stream)
    return members


def _viral(w: World, org: Organic) -> np.ndarray:
    """A viral moment: hundreds of aged accounts, each with its own history, gift one popular stream within a minute."""
    rng = w.rng
    host = _take_hosts(w, org, 1, 0.0, 0.05)[0]
    streams = np.flatnonzero((w.s_host == host) & (w.s_end - w.s_start >= 10 * 60))
    if not len(streams):
        return np.zeros(0, np.int64)
    s = int(rng.choice(streams))
    members = _take_users(w, org, min(int(rng.integers(200, 801)), max(20, org.n // 10)), min_age_days=180)
    moment = w.s_start[s] + int(rng.random() * (w.s_end[s] - w.s_start[s] - 60))
    sent = moment + rng.integers(0, 61, len(members))
    w.add_gifts(members, np.full(len(members), host), w.prices(len(members), hi=5), sent, np.full(len(members), s))
    return members


def _giveaway(w: World, org: Organic) -> np.ndarray:
    """A giveaway: a host asks for one cheap gift to enter; hundreds of viewers of every age, some of them
    opened for it, send it within a few minutes of one stream."""
    rng = w.rng
    host = _take_hosts(w, org, 1, 0.02, 0.3)[0]
    streams = np.flatnonzero((w.s_host == host) & (w.s_end - w.s_start >= 15 * 60))
    if not len(streams):
        return np.zeros(0, np.int64)
    s = int(rng.choice(streams))
    members = _take_users(w, org, min(int(rng.integers(150, 601)), max(20, org.n // 10)))
    opened = members[rng.random(len(members)) < 0.2]  # accounts opened the day of the giveaway
    w.created[0][opened] = w.s_start[s] - rng.integers(HOUR, DAY, len(opened))
    org.activity[opened] = 0.0  # opened for the giveaway: no history before it
    start = w.s_start[s] + int(rng.random() * (w.s_end[s] - w.s_start[s] - 600))
    sent = start + rng.integers(0, 601, len(members))
    w.add_gifts(members, np.full(len(members), host), np.full(len(members), PRICES[0]), sent, np.full(len(members), s))
    return members


def _cafe(w: World, org: Organic) -> np.ndarray:
    """An internet café: a couple of PCs on one IP used by unrelated accounts."""
    rng = w.rng
    members = _take_users(w, org, int(rng.integers(20, 41)))
    pcs = w.new_devices(int(rng.integers(1, 4)))
    ip = w.new_ips(1, "cafe")[0]
    _observe(w, members, pcs[rng.integers(0, len(pcs), len(members))], ip, w.created[0][members], lam=1.0)
    return members
