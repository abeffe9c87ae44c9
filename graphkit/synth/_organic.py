"""The honest platform: hosts with power-law popularity, households, shared IPs, organic gifting.

Everything is vectorised over users and gifts (numpy); nothing here loops
per user or per gift.
"""

from __future__ import annotations

import numpy as np

from graphkit.synth._world import DAY, HOUR, PRICE_P, PRICES, Organic, World

YEAR = 365 * DAY


def population(w: World, n: int) -> tuple[Organic, list[dict]]:
    """Create ``n`` honest users with hosts, streams, devices and IPs.

    Returns the :class:`Organic` arrays and the look-alike groups that
    occur naturally (family devices, carrier NAT IPs, campus IPs), as
    ``{"kind", "members"}`` dicts of user indices.
    """
    rng = w.rng
    # accounts: most are months to years old; a few were opened during the window
    age = np.clip(rng.exponential(rng.uniform(1.0, 2.0) * YEAR, n), DAY, 9 * YEAR)
    created = (w.start - age).astype(np.int64)
    fresh = rng.random(n) < rng.uniform(0.04, 0.08)
    created[fresh] = w.start + (rng.random(int(fresh.sum())) * (w.end - w.start)).astype(np.int64)
    users = w.new_users(created)

    # hosts: a few percent of accounts, Zipf-like popularity
    n_hosts = max(40, int(round(n * rng.uniform(0.02, 0.05))))
    hosts = rng.choice(users, size=n_hosts, replace=False)
    w.created[0][hosts] = np.minimum(w.created[0][hosts], w.start - rng.integers(60, 2000, n_hosts) * DAY)
    alpha = rng.uniform(0.85, 1.2)
    weight = (np.arange(n_hosts) + 1 + rng.uniform(0.5, 4.0)) ** -alpha
    pop = weight / weight.sum()

    # streams: popular hosts stream more often
    per_host = 1 + rng.poisson(rng.uniform(2, 5) + rng.uniform(8, 22) * np.sqrt(weight / weight[0]))
    s_host = np.repeat(hosts, per_host)
    dur = np.clip(rng.lognormal(np.log(80 * 60), 0.6, len(s_host)), 15 * 60, 8 * HOUR).astype(np.int64)
    begin = w.start + (rng.random(len(s_host)) * (w.end - w.start - dur)).astype(np.int64)
    w.new_streams(s_host, begin, begin + dur)

    # households of 1-5 people behind one home IP; some share a tablet
    hh_p = rng.dirichlet(np.array([50, 20, 15, 10, 5], np.float64) * 4)
    sizes = rng.choice(np.arange(1, 6), size=n, p=hh_p)
    bounds = np.cumsum(sizes)
    n_hh = int(np.searchsorted(bounds, n)) + 1
    order = rng.permutation(n)
    household = np.empty(n, np.int64)
    household[order] = np.searchsorted(bounds[:n_hh], np.arange(n), side="right")
    hh_size = np.bincount(household, minlength=n_hh)
    hh_ip = w.new_ips(n_hh, "home")
    home_ip = hh_ip[household]
    phone = w.new_devices(n)
    _observe(w, users, phone, home_ip)

    laptop_users = users[rng.random(n) < rng.uniform(0.15, 0.35)]
    _observe(w, laptop_users, w.new_devices(len(laptop_users)), home_ip[laptop_users])

    tablet_hh = np.flatnonzero((hh_size >= 2) & (rng.random(n_hh) < rng.uniform(0.35, 0.6)))
    hh_tablet = np.full(n_hh, -1, np.int64)
    hh_tablet[tablet_hh] = w.new_devices(len(tablet_hh))
    tablet_users = users[hh_tablet[household] >= 0]
    _observe(w, tablet_users, hh_tablet[household[tablet_users]], home_ip[tablet_users])

    # mobile carriers: a few NAT gateways, each shared by thousands of phones
    mobile = users[rng.random(n) < rng.uniform(0.55, 0.7)]
    n_nat = max(2, int(round(len(mobile) / rng.uniform(1500, 4000))))
    nat_ips = w.new_ips(n_nat, "carrier")
    nat_p = rng.dirichlet(np.full(n_nat, 3.0))
    on_nat = nat_ips[rng.choice(n_nat, size=len(mobile), p=nat_p)]
    _observe(w, mobile, phone[mobile], on_nat)

    # campuses: hundreds of students behind one IP
    young = users[w.created[0][users] > w.start - 4 * YEAR]
    n_campus = max(2, int(round(n / rng.uniform(2500, 5000))))
    students = young[rng.random(len(young)) < rng.uniform(0.05, 0.12)]
    campus_ips = w.new_ips(n_campus, "campus")
    on_campus = campus_ips[rng.integers(0, n_campus, len(students))]
    _observe(w, students, phone[students], on_campus)

    # commercial VPNs: honest users behind a few datacenter exit IPs
    vpn_users = users[rng.random(n) < rng.uniform(0.01, 0.04)]
    vpn_ips = w.new_ips(max(2, int(round(len(vpn_users) / rng.uniform(40, 150)))), "datacenter")
    _observe(w, vpn_users, phone[vpn_users], vpn_ips[rng.integers(0, len(vpn_ips), len(vpn_users))])

    activity = rng.lognormal(0.0, rng.uniform(1.1, 1.6), n)
    activity[rng.random(n) < rng.uniform(0.3, 0.5)] = 0.0  # viewers who never gift
    org = Organic(n=n, hosts=hosts, pop=pop, phone=phone, home_ip=home_ip, nat_ips=nat_ips, nat_p=nat_p,
                  activity=activity, taken=np.zeros(n, bool))

    groups = _groups("family_device", household[tablet_users], tablet_users)
    groups += _groups("carrier_nat", on_nat, mobile)
    groups += _groups("campus_ip", on_campus, students)
    return org, groups


def gifts(w: World, org: Organic, count: int) -> None:
    """``count`` organic gifts: viewers gift their favourite hosts during their streams."""
    rng = w.rng
    if count <= 0:
        return
    n, n_hosts = org.n, len(org.hosts)
    n_fav = 1 + rng.binomial(4, rng.uniform(0.25, 0.45), n)
    fav = rng.choice(n_hosts, size=(n, 5), p=org.pop)
    draw = int(count * 1.03) + 16
    p = org.activity / org.activity.sum()
    sender = rng.choice(n, size=draw, p=p)
    slot = (rng.random(draw) * n_fav[sender]).astype(np.int64)
    host = fav[sender, slot]
    explore = rng.random(draw) < rng.uniform(0.08, 0.15)
    host[explore] = rng.choice(n_hosts, size=int(explore.sum()), p=org.pop)
    receiver = org.hosts[host]
    keep = np.flatnonzero(receiver != sender)[:count]
    sender, receiver = sender[keep], receiver[keep]

    order, offsets, counts, _ = w.host_streams(fresh=True)
    stream = order[offsets[receiver] + (rng.random(len(receiver)) * counts[receiver]).astype(np.int64)]
    sent_at = w.times_in(stream)

    price = rng.choice(len(PRICES), size=len(sender), p=PRICE_P)
    whale = rng.random(n) < rng.uniform(0.01, 0.03)
    price = np.where(whale[sender], np.minimum(price + rng.integers(1, 4, len(sender)), len(PRICES) - 1), price)
    w.add_gifts(sender, receiver, PRICES[price], sent_at, stream)

    # accounts opened during the window were opened before their first gift
    first = np.full(n, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, sender, sent_at)
    created = w.created[0]
    late = np.flatnonzero((created > first - HOUR) & (first < np.iinfo(np.int64).max))
    created[late] = first[late] - rng.integers(HOUR, 3 * DAY, len(late))


def _observe(w: World, users: np.ndarray, device: np.ndarray, ip: np.ndarray) -> None:
    """Device/IP observations: each (user, device, ip) seen one or more times."""
    times = 1 + w.rng.poisson(0.8, len(users))
    w.add_devices(np.repeat(users, times), np.repeat(device, times), np.repeat(ip, times))


def _groups(kind: str, key: np.ndarray, members: np.ndarray) -> list[dict]:
    """One look-alike group per distinct key (tablet, NAT IP, campus IP), of at least 2 accounts."""
    order = np.argsort(key, kind="stable")
    key, members = key[order], members[order]
    cuts = np.flatnonzero(np.diff(key)) + 1
    return [{"kind": kind, "members": part} for part in np.split(members, cuts) if len(part) >= 2]
