"""``graphkit synth --days N``: one platform observed day by day, with farms that live through the days.

:func:`generate_days` builds one platform over ``N`` days (the honest world and
its look-alikes as :func:`graphkit.synth.generate` makes them) and plants
account farms whose life is scripted: each keeps its devices, datacenter IPs
and host from day to day, and on one day of the window it grows, shrinks,
splits in two, goes quiet, re-forms (every account banned and replaced by a
fresh one on the same devices and IPs), or appears. It also plants look-alikes
that live through the days: fan clubs of long-standing accounts that cheer one
host in bursts every day (:data:`CLUB_KIND`), the same fans day after day with
slight churn, so that an investigator's benign decision has something to
apply to. :meth:`Timeline.write`
writes one data folder per day (``day-01/``, ...: that day's gifts, device
sightings and streams, and the accounts opened by its end or active that day) with that day's
``truth.json``, and ``timeline.json`` with the whole story: for every day,
which farm is which (a persistent ``identity``) and the status a diff against
the day before should give it, and which members each persistent look-alike had
that day (its ``identity``, ``C01``, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

from graphkit.errors import ConfigError, InputError
from graphkit.synth import _organic, _planted
from graphkit.synth._world import DAY, HOUR, World
from graphkit.synth.generator import DEFAULT_START, MIN_USERS, _assemble
from graphkit.synth.platform import FORMATS, Platform
from graphkit.util.atomic import atomic_directory, output_lock

__all__ = ["CLUB_KIND", "EVENTS", "MAX_DAYS", "TIMELINE_FILE", "Timeline", "day_folder", "generate_days"]

TIMELINE_FILE = "timeline.json"
MAX_DAYS = 90
EVENTS = ("stable", "grown", "shrunk", "split", "quiet", "re-formed", "returns", "new")
"""What happens to a planted farm during the window: nothing (``stable``), or once, on its event day
(``returns``: it is away for its event day and re-forms with new accounts the day after)."""
_SCRIPT = ("stable", "stable", "grown", "shrunk", "split", "quiet", "re-formed", "re-formed", "returns", "new")
"""The farms of each batch of 10,000 users, by what happens to them (the day of each is drawn)."""
_ACTIVE = 0.96
"""The chance that a farm account is active on a given day of its farm's life."""
CLUB_KIND = "fan_club_burst"
"""The look-alike kind of the fan clubs that live through the days (truth ``lookalikes`` with an ``identity``)."""
_CLUBS = 1
"""Persistent fan clubs per batch of 10,000 users."""
_CLUB_ACTIVE = 0.9
"""The chance that a fan is at its host's stream on a given day."""
_CLUB_JOIN = 0.25
"""The chance, each day after the first, that one more long-standing fan joins the club (slight churn)."""


def day_folder(day: int) -> str:
    """The folder of day ``day`` (1-based) in :meth:`Timeline.write`'s output.

    Examples
    --------
    >>> day_folder(3)
    'day-03'
    """
    return f"day-{day:02d}"


@dataclass(frozen=True)
class Timeline:
    """A platform observed day by day.

    Attributes
    ----------
    days : tuple of Platform
        One data set per day, each with its own ``truth`` (``rings`` with their
        ``identity``, ``status`` and ``previous_ids``; ``quiet``; ``lookalikes``).
    truth : dict
        ``timeline.json``: ``generator``, ``seed``, ``params``, ``farms`` (each
        identity with its ``event`` and ``event_day``) and ``days`` (per day: the
        folder, the rings with identity, status and members, the quiet ones, and the
        persistent fan clubs under ``lookalikes`` with identity, kind and that day's fans).
    """

    days: tuple[Platform, ...]
    truth: dict = field(default_factory=dict)

    def write(self, out_dir: str | Path, format: str = "csv") -> list[Path]:
        """Write ``day-01/ .. day-NN/`` (each a data folder with its ``truth.json``) and ``timeline.json``.

        Atomic like :meth:`Platform.write`: ``out_dir`` must be new, empty or an
        earlier ``graphkit synth --days`` output; other files in it are kept.

        Returns
        -------
        list of Path
            The day folders, then ``timeline.json``.
        """
        if format not in FORMATS:
            raise ConfigError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
        out_dir = Path(out_dir)
        owned = (*(day_folder(d) for d in range(1, MAX_DAYS + 1)), TIMELINE_FILE)
        with output_lock(out_dir):
            _check_replaceable(out_dir)
            with atomic_directory(out_dir, owned=owned) as tmp:
                for day, platform in enumerate(self.days, start=1):
                    (tmp / day_folder(day)).mkdir()
                    platform.write_files(tmp / day_folder(day), format)
                (tmp / TIMELINE_FILE).write_text(json.dumps(self.truth, indent=1) + "\n", encoding="utf-8")
        return [out_dir / day_folder(d) for d in range(1, len(self.days) + 1)] + [out_dir / TIMELINE_FILE]


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder; choose a new output folder")
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return
    try:
        previous = json.loads((out_dir / TIMELINE_FILE).read_text(encoding="utf-8")).get("generator")
    except (OSError, ValueError, AttributeError):
        previous = None
    if previous != "graphkit synth":
        raise InputError(f"{out_dir}: folder exists and is not an earlier graphkit synth --days output (no "
                         f"{TIMELINE_FILE}); choose a new or empty output folder")


@dataclass
class _Farm:
    identity: str
    event: str
    event_day: int
    start_day: int
    size: int
    devices: np.ndarray
    ips: np.ndarray
    host: int
    price_lo: int
    accounts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    primary: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """The device of each account (an index into ``devices``)."""
    parent: str | None = None
    split: bool = False
    """After its split: each piece keeps to its own devices."""


def generate_days(
    days: int = 7,
    users: int = 20_000,
    gifts: int = 200_000,
    *,
    seed: int = 0,
    start: datetime = DEFAULT_START,
) -> Timeline:
    """A platform over ``days`` days, one data set per day, with account farms whose life is scripted.

    Per 10,000 users (at least one batch) ten farms are planted, each of
    15-40 accounts (20-40 for the one that shrinks, 25-40 for the one that
    splits) on 2-4 emulator devices (5 for the one that splits) and 1-2
    datacenter IPs, gifting one host big gifts in one of its streams every day:
    two stay as they are; one grows by 60% (new accounts on its devices), one
    loses 45% of its accounts, one splits (the accounts of two of its five
    devices move with them to a new IP and a new host: both pieces are
    ``split``, the bigger one keeps the identity, the moving one is a new
    identity), one goes quiet, two re-form (every account replaced by a
    fresh one on the same devices, IPs and host), one returns (away for a
    day, then re-formed like those), and one appears after the first day. Each event falls on a day drawn from the second day on. Every
    farm account is active on 96% of its farm's days, so no day is a copy of
    the one before. The honest world, its streams and look-alikes (family
    tablets, carrier NAT, campus IPs, promotion waves, fan clubs, internet
    cafés) are those of :func:`graphkit.synth.generate` over the whole window,
    cut into days like the farms. Besides, per 10,000 users one fan club of
    15-30 long-standing accounts (a year old or more) lives through the days:
    every day its host streams once, and in two to four moments of the stream
    each fan who is there (90% a day) sends one to three cheap gifts within
    90 seconds of the others; each day after the first, one more
    long-standing fan joins with a chance of 25%. It is honest (truth
    ``lookalikes``, kind :data:`CLUB_KIND`, with an ``identity`` ``C01``, ...,
    and that day's fans as members), but its bursts look like a ring's.

    Parameters
    ----------
    days : int
        From 2 to :data:`MAX_DAYS`.
    users, gifts : int
        Accounts and gifts over the whole window (farm accounts and gifts included).
    seed : int
        Seed of every random choice.
    start : datetime
        The first day's midnight (UTC).

    Returns
    -------
    Timeline
        Per day, a :class:`Platform` whose ``truth["rings"]`` name each farm by
        its ``identity`` with the ``status`` a diff against the day before should
        give (``new`` on its first day, then ``stable`` unless its event falls on
        the day) and its ``previous_ids``; ``truth["quiet"]`` lists the farms of
        the day before that are gone; ``truth["lookalikes"]`` holds each persistent fan club with its
        ``identity`` and the fans at its host's stream that day.

    Examples
    --------
    >>> timeline = generate_days(3, users=2_000, gifts=12_000, seed=1)
    >>> len(timeline.days), sorted({r["status"] for d in timeline.truth["days"] for r in d["rings"]}) != []
    (3, True)
    """
    if not isinstance(days, (int, np.integer)) or isinstance(days, bool) or not 2 <= days <= MAX_DAYS:
        raise ConfigError(f"days must be a whole number from 2 to {MAX_DAYS} (got {days!r})")
    if not isinstance(users, (int, np.integer)) or users < MIN_USERS:
        raise ConfigError(f"users must be an integer of at least {MIN_USERS:,} (got {users!r})")
    if not isinstance(gifts, (int, np.integer)) or gifts < users:
        raise ConfigError(f"gifts must be an integer of at least the number of users ({users:,}; got {gifts!r})")
    rng = np.random.default_rng(seed)
    start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
    t0 = int(start.astimezone(timezone.utc).timestamp()) // DAY * DAY
    w = World(rng=rng, start=t0, end=t0 + days * DAY)

    script = [event for _ in range(max(1, users // 10_000)) for event in _SCRIPT]
    smallest = {"split": 25, "shrunk": 20}  # so that what is left of them is still a farm of 9 accounts or more
    sizes = np.array([int(rng.integers(smallest.get(event, 15), 41)) for event in script])
    extra = sum(int(np.ceil(0.6 * s)) if e == "grown" else int(s) if e in ("re-formed", "returns") else 0
                for e, s in zip(script, sizes))
    org, natural = _organic.population(w, users - int(sizes.sum()) - extra)
    lookalikes = natural + _planted.plant_lookalikes(w, org, users)

    farms = []
    for k, (event, size) in enumerate(zip(script, sizes)):
        last = days - 1 if event == "returns" else days  # a farm that returns needs a day to come back on
        event_day = int(rng.integers(1, max(last, 2))) if event != "stable" else 0
        devices = w.new_devices(5 if event == "split" else int(rng.integers(2, 5)))
        farms.append(_Farm(
            identity=f"F{k + 1:02d}", event=event, event_day=event_day,
            start_day=event_day if event == "new" else 0, size=int(size), devices=devices,
            ips=w.new_ips(int(rng.integers(1, 3)), "datacenter"),
            host=int(_planted._take_hosts(w, org, 1, 0.15, 0.8)[0]), price_lo=int(rng.integers(3, 6)),
        ))
    cohorts: list[dict] = []
    children: list[_Farm] = []
    for day in range(days):
        for farm in [*farms, *children]:
            child = _live_one_day(w, org, farm, day, cohorts, next_identity=f"F{len(farms) + len(children) + 1:02d}")
            if child is not None:
                children.append(child)
    clubs = [_Club(identity=f"C{k + 1:02d}", host=int(_planted._take_hosts(w, org, 1, 0.05, 0.5)[0]),
                   members=_planted._take_users(w, org, int(rng.integers(15, 31)), min_age_days=365))
             for k in range(_CLUBS * max(1, users // 10_000))]
    for day in range(days):
        for club in clubs:
            lookalikes.append(_club_one_day(w, org, club, day))
    _organic.gifts(w, org, max(gifts - w.planted_gifts, 0))
    params = {"users": users, "gifts": gifts, "seed": seed, "days": days,
              "start": datetime.fromtimestamp(t0, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    whole = _assemble(w, cohorts, lookalikes, params={**params})
    return _by_day(whole, cohorts, [*farms, *children], t0, days, params)


def _live_one_day(w: World, org: _organic.Organic, farm: _Farm, day: int, cohorts: list[dict], *,
                  next_identity: str) -> _Farm | None:
    """One day of a farm: its event if the day is its event day, then its accounts' activity.

    Appends ``{"members", "beneficiaries", "kind", "params"}`` (the day's active
    accounts and the host) to ``cohorts``; returns the new piece on a split day.
    """
    rng = w.rng
    d0 = w.start + day * DAY
    if day < farm.start_day or (farm.event == "quiet" and day >= farm.event_day) or (
            farm.event == "returns" and day == farm.event_day):
        return None
    status, previous, child = ("new" if day == farm.start_day else "stable"), [], None
    if day == farm.start_day and farm.parent is None:
        farm.accounts = w.new_users(d0 - (rng.uniform(0.2, 2.0, farm.size) * DAY).astype(np.int64))
        farm.primary = np.arange(farm.size) % len(farm.devices)
    elif farm.parent is not None and day == farm.start_day:
        status, previous = "split", [farm.parent]
    else:
        previous = [farm.identity]
    if farm.event == "returns" and day == farm.event_day + 1:  # back after a day away, on the same equipment
        status = "re-formed"
        farm.accounts = w.new_users(d0 - rng.integers(HOUR, 20 * HOUR, farm.size))
        farm.primary = np.arange(farm.size) % len(farm.devices)
    elif day == farm.event_day and day > farm.start_day:
        status = farm.event
        if farm.event == "grown":
            grown = int(np.ceil(0.6 * farm.size))
            fresh = w.new_users(d0 - rng.integers(HOUR, 20 * HOUR, grown))
            farm.primary = np.concatenate([farm.primary, np.arange(grown) % len(farm.devices)])
            farm.accounts = np.concatenate([farm.accounts, fresh])
        elif farm.event == "shrunk":
            keep = np.sort(rng.permutation(len(farm.accounts))[int(0.45 * len(farm.accounts)):])
            farm.accounts, farm.primary = farm.accounts[keep], farm.primary[keep]
        elif farm.event == "re-formed":
            farm.accounts = w.new_users(d0 - rng.integers(HOUR, 20 * HOUR, farm.size))
            farm.primary = np.arange(farm.size) % len(farm.devices)
        elif farm.event == "split":
            moving = farm.primary >= 3  # the accounts of devices 4 and 5 (two fifths) leave with them
            child = _Farm(identity=next_identity, event="stable", event_day=0, start_day=day, size=int(moving.sum()),
                          devices=farm.devices[3:], ips=w.new_ips(1, "datacenter"),
                          host=int(_planted._take_hosts(w, org, 1, 0.15, 0.8)[0]), price_lo=farm.price_lo,
                          accounts=farm.accounts[moving], primary=farm.primary[moving] - 3, parent=farm.identity,
                          split=True)
            farm.accounts, farm.primary, farm.devices, farm.split = (farm.accounts[~moving], farm.primary[~moving],
                                                                     farm.devices[:3], True)
    active = rng.random(len(farm.accounts)) < _ACTIVE
    accounts, primary = farm.accounts[active], farm.primary[active]
    _farm_activity(w, farm, accounts, primary, d0)
    cohorts.append({"kind": "account_farm", "members": np.union1d(accounts, [farm.host]),
                    "beneficiaries": np.array([farm.host]),
                    "params": {"identity": farm.identity, "day": day + 1, "status": status,
                               "previous_ids": previous}})
    if child is not None:
        _live_one_day(w, org, child, day, cohorts, next_identity="")
    return child


@dataclass
class _Club:
    identity: str
    host: int
    members: np.ndarray


def _club_one_day(w: World, org: _organic.Organic, club: _Club, day: int) -> dict:
    """One day of a fan club: maybe a new fan, then bursts of cheap gifts in the host's stream of the day.

    Returns the day's look-alike group ``{"kind", "identity", "day", "members"}`` (the fans who cheered).
    """
    rng = w.rng
    d0 = w.start + day * DAY
    if day > 0 and rng.random() < _CLUB_JOIN:
        club.members = np.concatenate([club.members, _planted._take_users(w, org, 1, min_age_days=365)])
    there = club.members[rng.random(len(club.members)) < _CLUB_ACTIVE]
    shows = int(rng.integers(2, 4))  # the host streams two or three times a day, about as long each
    begin = d0 + np.sort(rng.choice(np.arange(shows * 2) * 3, shows, replace=False)) * HOUR + int(rng.integers(0, HOUR))
    length = rng.integers(HOUR, 2 * HOUR, shows)
    streams = w.new_streams(np.full(shows, club.host), begin, begin + length)
    hype = int(rng.integers(2, 5))  # moments per stream when the club cheers together
    moments = (begin[:, None] + (rng.random((shows, hype)) * (length - 120)[:, None]).astype(np.int64)).ravel()
    moment, fan = np.nonzero(rng.random((len(moments), len(there))) < 0.8)
    per = rng.integers(1, 4, len(fan))
    moment, fan = np.repeat(moment, per), np.repeat(fan, per)
    w.add_gifts(there[fan], np.full(len(fan), club.host), w.prices(len(fan), hi=6),
                moments[moment] + rng.integers(0, 91, len(fan)), streams[moment // hype])
    return {"kind": CLUB_KIND, "identity": club.identity, "day": day + 1, "members": there[np.unique(fan)]}


def _farm_activity(w: World, farm: _Farm, accounts: np.ndarray, primary: np.ndarray, d0: int) -> None:
    """Device sightings and big gifts to the host during one stream of its, all within the day from ``d0``."""
    rng = w.rng
    if not len(accounts):
        return
    seen = 1 + rng.poisson(0.5, len(accounts))
    who = np.repeat(accounts, seen)
    device = farm.devices[np.repeat(primary, seen)]
    ip = farm.ips[rng.integers(0, len(farm.ips), len(who))]
    w.add_devices(who, device, ip, d0 + rng.integers(0, DAY, len(who)))
    if not farm.split:  # before a split, accounts also pick up another device of the farm now and then
        other = np.flatnonzero(rng.random(len(accounts)) < 0.4)
        w.add_devices(accounts[other], farm.devices[rng.integers(0, len(farm.devices), len(other))],
                      farm.ips[rng.integers(0, len(farm.ips), len(other))], d0 + rng.integers(0, DAY, len(other)))
    begin = d0 + int(rng.integers(HOUR, 19 * HOUR))
    stream = w.new_streams(np.array([farm.host]), np.array([begin]), np.array([begin + int(rng.integers(HOUR, 4 * HOUR))]))
    per = rng.integers(2, 7, len(accounts))
    senders = np.repeat(accounts, per)
    streams = np.repeat(stream, len(senders))
    w.add_gifts(senders, np.full(len(senders), farm.host), w.prices(len(senders), lo=farm.price_lo, hi=farm.price_lo + 4),
                w.times_in(streams), streams)


def _by_day(whole: Platform, cohorts: list[dict], farms: list[_Farm], t0: int, days: int, params: dict) -> Timeline:
    """Cut the whole platform into days, with each day's truth."""
    named = whole.truth["rings"]  # one per cohort, in order, members as ids
    story: list[dict] = []
    platforms = []
    previous_identities: set[str] = set()
    for day in range(days):
        lo = datetime.fromtimestamp(t0 + day * DAY, timezone.utc)
        hi = datetime.fromtimestamp(t0 + (day + 1) * DAY, timezone.utc)
        gifts = whole.gifts.filter((pl.col("sent_at") >= lo) & (pl.col("sent_at") < hi))
        devices = whole.devices.filter((pl.col("seen_at") >= lo) & (pl.col("seen_at") < hi))
        used = gifts.get_column("stream_id").unique().implode()
        streams = whole.streams.filter(((pl.col("started_at") < hi) & (pl.col("ended_at") >= lo))
                                       | pl.col("stream_id").is_in(used))
        seen = pl.concat([gifts.get_column("sender_id"), gifts.get_column("receiver_id"),
                          devices.get_column("user_id")]).unique().implode()
        # the accounts opened by the day's end, and any account active that day (the organic world of
        # graphkit.synth.generate does not hold every early gift back until its sender's creation)
        users = whole.users.filter((pl.col("created_at") < hi) | pl.col("user_id").is_in(seen))
        rings = [{"ring_id": c["params"]["identity"], "identity": c["params"]["identity"], "kind": n["kind"],
                  "status": c["params"]["status"], "previous_ids": c["params"]["previous_ids"],
                  "members": n["members"], "beneficiaries": n["beneficiaries"]}
                 for c, n in zip(cohorts, named) if c["params"]["day"] == day + 1]
        today = {r["identity"] for r in rings}
        quiet = sorted(previous_identities - today)
        previous_identities = today
        active = set(users.filter(pl.col("user_id").is_in(seen)).get_column("user_id").to_list())
        lookalikes = [{**g, "members": [m for m in g["members"] if m in active]} for g in whole.truth["lookalikes"]
                      if "day" not in g]
        lookalikes = [g for g in lookalikes if len(g["members"]) >= 2]
        clubs = [{k: v for k, v in g.items() if k != "day"} for g in whole.truth["lookalikes"] if g.get("day") == day + 1]
        lookalikes += clubs
        truth = {
            "generator": "graphkit synth", "seed": params["seed"], "params": {**params, "day": day + 1},
            "summary": {"users": users.height, "streams": streams.height, "devices": devices.height,
                        "gifts": gifts.height, "bad_users": len({m for r in rings for m in r["members"]}),
                        "rings": len(rings), "lookalikes": len(lookalikes)},
            "rings": rings, "quiet": quiet, "lookalikes": lookalikes,
        }
        platforms.append(Platform(users=users, streams=streams, devices=devices, gifts=gifts, truth=truth))
        story.append({"day": day + 1, "folder": day_folder(day + 1), "date": lo.strftime("%Y-%m-%d"),
                      "rings": [{k: r[k] for k in ("identity", "status", "previous_ids", "members", "beneficiaries")}
                                for r in rings],
                      "quiet": quiet,
                      "lookalikes": [{k: g[k] for k in ("identity", "kind", "members")} for g in clubs]})
    timeline = {
        "generator": "graphkit synth", "seed": params["seed"], "params": params,
        "farms": [{"identity": f.identity, "event": f.event if f.parent is None else "split",
                   "event_day": (f.start_day + 1) if f.parent is not None else (f.event_day + 1) if f.event != "stable" else None,
                   **({"back_day": f.event_day + 2} if f.event == "returns" else {}),
                   "split_from": f.parent} for f in farms],
        "days": story,
    }
    return Timeline(days=tuple(platforms), truth=timeline)
