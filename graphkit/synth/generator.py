"""``generate()``: a synthetic livestream platform with planted rings and look-alike traps."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import polars as pl

from graphkit.errors import ConfigError
from graphkit.synth import _organic, _planted
from graphkit.synth._world import COUNTRIES, DAY, World
from graphkit.synth.platform import Platform

__all__ = ["generate", "DEFAULT_START", "MIN_USERS"]

DEFAULT_START = datetime(2024, 5, 1, tzinfo=timezone.utc)
MIN_USERS = 1_000
_MAX_PLANTED_SHARE = 0.6


def generate(
    users: int = 20_000,
    gifts: int = 200_000,
    *,
    seed: int = 0,
    days: int = 30,
    start: datetime = DEFAULT_START,
    ring_size_max: int | None = None,
    flows: bool = False,
) -> Platform:
    """Generate a livestream platform with planted abuse rings and benign look-alikes.

    Honest activity: a few percent of accounts are hosts with power-law
    popularity, each with live streams; viewers live in households (some
    share a tablet) behind home IPs, phones go through carrier NAT gateways
    shared by thousands, students through campus IPs shared by hundreds;
    viewers gift their few favourite hosts during their streams, mostly
    cheap gifts from the price list ``1, 5, 10, 30, 99, 199, 499, 999, 2999,
    9999`` coins, with a few whales.

    Planted rings (at least two of each kind, more with more users; sizes and
    parameters drawn per ring, so the layout changes with the seed):

    - ``account_farm``: 15-60 accounts opened within 1-2 days on 2-5
      emulator devices and 1-3 datacenter IPs, gifting 1-2 hosts heavily;
    - ``gift_laundering``: 2-4 hosts, each with 2-5 alt accounts sharing the
      host's device, and 5-15 fresh funders sending big gifts to the hosts;
      alts and hosts gift the other hosts of the loop;
    - ``gifting_burst``: 20-50 organic-looking accounts gifting the same
      stream within one minute, on 3-10 streams of 1-2 hosts;
    - ``cashout_mules``: 10-30 fresh accounts each sending one or two of the
      biggest gifts to 1-3 hosts with little real audience;

    with camouflage gifts to popular honest hosts. With ``ring_size_max``,
    ring sizes are heavy-tailed instead: from 5 to ``ring_size_max`` accounts,
    log-uniform and spread over every size band (device farms of hundreds of
    accounts on 2-5 devices, bursts and mule networks of hundreds), and two
    big look-alikes join: ``viral_moment`` (200-800 aged accounts with their
    own history gifting one popular stream within a minute) and ``giveaway``
    (150-600 viewers, a fifth of them opened that day, sending the cheapest
    gift within ten minutes of one stream). Look-alikes (honest):
    ``family_device``, ``carrier_nat``, ``campus_ip``, ``promotion_wave``
    (hundreds of accounts opened the same day), ``fan_club`` (old accounts
    gifting one popular host stream after stream) and ``internet_cafe``.

    Parameters
    ----------
    users : int
        Number of accounts (hosts and ring members included); at least 1,000.
    gifts : int
        Number of gifts, planted ones included; at least ``users``.
    seed : int
        Seed of every random choice: the same seed gives the same platform.
    days : int
        Length of the observed window (at least 7).
    start : datetime
        Start of the window (UTC).
    flows : bool
        Also plant money-flow rings (:data:`graphkit.synth.FLOW_KINDS`, at least two of
        each): ``flow_fan_in``, ``flow_fan_out``, ``flow_cycle``, ``flow_scatter_gather``,
        ``flow_gather_scatter`` and ``flow_chain``, each of aged accounts (30-700 days, a
        device and home IP each) moving one of the three biggest gift values through the
        pattern 2-5 times, hop after hop within 1-30 minutes; with camouflage gifts.
        Default off: the default platform stays byte for byte.
    ring_size_max : int, optional
        Heavy-tailed ring sizes up to this many accounts (at least 5), and
        the big look-alikes; default: the ranges above, which the default
        platform keeps byte for byte.

    Returns
    -------
    Platform
        ``users``, ``streams``, ``devices``, ``gifts`` frames and ``truth``:
        ``{"generator": "graphkit synth", "seed", "params", "summary",
        "rings": [{"ring_id", "kind", "members", "beneficiaries", "params"}],
        "lookalikes": [{"group_id", "kind", "members"}]}``. Ring ``members``
        include the beneficiaries; every ring member is labelled ``bad``.

    Raises
    ------
    ConfigError
        When a size is out of range.

    Examples
    --------
    >>> platform = generate(users=2_000, gifts=10_000, seed=7)
    >>> platform.gifts.height, platform.users.height
    (10000, 2000)
    >>> sorted({ring["kind"] for ring in platform.truth["rings"]})
    ['account_farm', 'cashout_mules', 'gift_laundering', 'gifting_burst']
    """
    _check(users, gifts, seed, days)
    if ring_size_max is not None and (not isinstance(ring_size_max, (int, np.integer)) or isinstance(ring_size_max, bool)
                                      or not _planted.RING_SIZE_MIN <= ring_size_max <= users // 4):
        raise ConfigError(f"ring_size_max must be an integer from {_planted.RING_SIZE_MIN} to a quarter of the users "
                          f"({users // 4:,}; got {ring_size_max!r}): the planted rings need a crowd to hide in")
    rng = np.random.default_rng(seed)
    t0 = int(start.astimezone(timezone.utc).timestamp()) if start.tzinfo else int(
        start.replace(tzinfo=timezone.utc).timestamp())
    w = World(rng=rng, start=t0, end=t0 + days * DAY)

    plans = _planted.plan_rings(rng, users, ring_size_max)
    if flows:
        plans += _planted.plan_flows(rng, users)
    ring_accounts = sum(p.new_accounts for p in plans)
    org, natural = _organic.population(w, users - ring_accounts)
    rings = _planted.plant_rings(w, org, plans)
    lookalikes = natural + _planted.plant_lookalikes(w, org, users, big=ring_size_max is not None)
    planted = w.planted_gifts
    if planted > _MAX_PLANTED_SHARE * gifts:
        raise ConfigError(
            f"--gifts {gifts:,} is too few for {users:,} users: the planted rings alone send {planted:,} gifts; "
            f"use --gifts {int(np.ceil(planted / _MAX_PLANTED_SHARE * 2)):,} or more"
        )
    _organic.gifts(w, org, gifts - planted)
    return _assemble(w, rings, lookalikes, params={
        "users": users, "gifts": gifts, "seed": seed, "days": days,
        "start": datetime.fromtimestamp(t0, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **({"ring_size_max": ring_size_max} if ring_size_max is not None else {}),
        **({"flows": True} if flows else {}),
    })


def _check(users: int, gifts: int, seed: int, days: int) -> None:
    if not isinstance(users, (int, np.integer)) or users < MIN_USERS:
        raise ConfigError(f"users must be an integer of at least {MIN_USERS:,} (got {users!r}): "
                          "the planted rings need a crowd to hide in")
    if not isinstance(gifts, (int, np.integer)) or gifts < users:
        raise ConfigError(f"gifts must be an integer of at least the number of users ({users:,}; got {gifts!r})")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer (got {seed!r})")
    if not isinstance(days, (int, np.integer)) or days < 7:
        raise ConfigError(f"days must be an integer of at least 7 (got {days!r})")


def _ids(prefix: str, n: int, rng: np.random.Generator) -> pl.Series:
    """``n`` ids like ``u000123``, shuffled so that neighbours in the data are not neighbours in id."""
    width = max(6, len(str(max(n - 1, 0))))
    numbers = pl.Series(rng.permutation(n)).cast(pl.Utf8).str.zfill(width)
    return pl.select(pl.lit(prefix) + numbers).to_series()


def _times(seconds: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(seconds, np.int64) * 1_000_000).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _assemble(w: World, rings: list[dict], lookalikes: list[dict], params: dict) -> Platform:
    rng = w.rng
    user_ids = _ids("u", w.n_users, rng)
    device_ids = _ids("d", w.n_devices, rng)
    stream_ids = _ids("s", w.n_streams, rng)
    ips = w.ip_strings()
    created = np.concatenate(w.created)
    bad = np.zeros(w.n_users, bool)
    for ring in rings:
        bad[ring["members"]] = True

    users = pl.DataFrame({
        "user_id": user_ids,
        "created_at": _times(created),
        "country": pl.Series(COUNTRIES[np.concatenate(w.country)]),
        "label": pl.Series(np.where(bad, "bad", "good")),
    }).sort("user_id")

    streams = pl.DataFrame({
        "stream_id": stream_ids,
        "host_id": user_ids.gather(w.s_host),
        "started_at": _times(w.s_start),
        "ended_at": _times(w.s_end),
        "_start": w.s_start,
    }).sort("_start", "stream_id").drop("_start")

    d_user, d_dev, d_ip, d_seen = (np.concatenate(a) for a in zip(*w.device_parts))
    fill = d_seen < 0
    lo = np.maximum(created[d_user[fill]], w.start)
    d_seen[fill] = lo + (rng.random(int(fill.sum())) * np.maximum(w.end - lo, 1)).astype(np.int64)
    order = np.lexsort((d_dev, d_user, d_seen))
    devices = pl.DataFrame({
        "user_id": user_ids.gather(d_user[order]),
        "device_id": device_ids.gather(d_dev[order]),
        "ip": ips.gather(d_ip[order]),
        "seen_at": _times(d_seen[order]),
    })

    g_send, g_recv, g_coins, g_time, g_stream = (np.concatenate(a) for a in zip(*w.gift_parts))
    order = np.lexsort((g_recv, g_send, g_time))
    width = max(8, len(str(len(order))))
    gifts = pl.DataFrame({
        "sender_id": user_ids.gather(g_send[order]),
        "receiver_id": user_ids.gather(g_recv[order]),
        "coins": g_coins[order].astype(np.float64),
        "sent_at": _times(g_time[order]),
        "stream_id": stream_ids.gather(g_stream[order]),
        "gift_id": pl.select(pl.lit("g") + pl.Series(np.arange(len(order))).cast(pl.Utf8).str.zfill(width)).to_series(),
    })

    id_array = user_ids.to_numpy()

    def names(idx: np.ndarray) -> list[str]:
        return sorted(id_array[np.asarray(idx, np.int64)].tolist())

    # look-alike groups are honest: ring hosts living in a family or behind a NAT are left out of them
    lookalikes = [{**g, "members": g["members"][~bad[g["members"]]]} for g in lookalikes]
    lookalikes = [g for g in lookalikes if len(g["members"]) >= 2]
    rw = max(2, len(str(len(rings))))
    lw = max(2, len(str(len(lookalikes))))
    truth = {
        "generator": "graphkit synth",
        "seed": params["seed"],
        "params": params,
        "summary": {
            "users": users.height, "streams": streams.height, "devices": devices.height,
            "gifts": gifts.height, "bad_users": int(bad.sum()), "rings": len(rings),
            "lookalikes": len(lookalikes),
        },
        "rings": [
            {"ring_id": f"T{i + 1:0{rw}d}", "kind": r["kind"], "members": names(r["members"]),
             "beneficiaries": names(r["beneficiaries"]), "params": r["params"]}
            for i, r in enumerate(rings)
        ],
        "lookalikes": [
            {"group_id": f"L{i + 1:0{lw}d}", "kind": g["kind"],
             **{k: v for k, v in g.items() if k not in ("kind", "members")}, "members": names(g["members"])}
            for i, g in enumerate(lookalikes)
        ],
    }
    return Platform(users=users, streams=streams, devices=devices, gifts=gifts, truth=truth)
