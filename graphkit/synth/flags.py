"""Flags for a synthetic platform: what its trust & safety team would already know.

:func:`with_flags` adds a ``flags`` table to a :class:`~graphkit.synth.Platform`:
chargebacks on a share of the members of some planted rings, and a little
noise on honest accounts (user reports and the odd chargeback), all dated
inside the data's span so that a report uses them.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import polars as pl

from graphkit.synth.platform import Platform

__all__ = ["with_flags"]


def with_flags(
    platform: Platform,
    *,
    seed: int = 0,
    ring_share: float = 0.5,
    member_share: float = 0.2,
    noise: float = 0.002,
) -> Platform:
    """``platform`` with a ``flags`` table, and ``truth["flags"]`` saying which rings were flagged.

    Parameters
    ----------
    platform : Platform
        From :func:`graphkit.synth.generate`.
    seed : int
        Seed of every choice here.
    ring_share : float
        Share of the planted rings (at least one) that get flags.
    member_share : float
        Share of a flagged ring's members (at least one) with a ``chargeback``.
    noise : float
        Share of the honest accounts with a flag: three in four a ``report``, the rest a ``chargeback``.

    Returns
    -------
    Platform
        The same tables and a ``flags`` frame (``user_id, kind, at``); ``truth["flags"]`` holds
        ``rings`` (the flagged rings' ids), ``ring_accounts`` and ``noise_accounts``.

    Examples
    --------
    >>> from graphkit.synth import generate
    >>> p = with_flags(generate(users=2_000, gifts=10_000, seed=1), seed=1)
    >>> sorted(p.flags["kind"].unique().to_list())
    ['chargeback', 'report']
    >>> p.truth["flags"]["ring_accounts"] > 0
    True
    """
    rng = np.random.default_rng(seed)
    rings = platform.truth["rings"]
    chosen = sorted(rng.choice(len(rings), size=max(1, round(ring_share * len(rings))), replace=False).tolist())
    flagged_ring_members: list[str] = []
    for i in chosen:
        members = sorted(rings[i]["members"])
        k = max(1, round(member_share * len(members)))
        flagged_ring_members.extend(rng.choice(members, size=k, replace=False).tolist())
    bad = {m for ring in rings for m in ring["members"]}
    honest = sorted(set(platform.users["user_id"].to_list()) - bad)
    n_noise = round(noise * len(honest))
    noisy = rng.choice(honest, size=n_noise, replace=False).tolist() if n_noise else []
    noise_kinds = np.where(rng.random(len(noisy)) < 0.75, "report", "chargeback").tolist()
    start, end = platform.gifts["sent_at"].min(), platform.gifts["sent_at"].max()
    span = (end - start).total_seconds()

    def times(n: int) -> list:
        # chargebacks and reports arrive after the gifts they are about: the second half of the data
        return [start + timedelta(seconds=float(span * (0.5 + 0.5 * x))) for x in rng.random(n)]

    flags = pl.DataFrame(
        {
            "user_id": flagged_ring_members + noisy,
            "kind": ["chargeback"] * len(flagged_ring_members) + noise_kinds,
            "at": times(len(flagged_ring_members) + len(noisy)),
        },
        schema={"user_id": pl.Utf8, "kind": pl.Utf8, "at": pl.Datetime("us", "UTC")},
    ).with_columns(pl.col("at").dt.truncate("1s")).sort("at", "user_id")
    truth = {**platform.truth, "flags": {
        "rings": [rings[i]["ring_id"] for i in chosen],
        "ring_accounts": len(flagged_ring_members),
        "noise_accounts": len(noisy),
    }}
    return dataclasses.replace(platform, flags=flags, truth=truth)
