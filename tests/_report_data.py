"""A small platform and a hand-built Report for the writer and CLI tests.

The report is built by hand (not by the pipeline) so that the writers are
tested on their own; the rings are the ones planted in the data.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from graphkit.io import Tables
from graphkit.model import Beneficiary, Report, Ring

BIG_ID = "1234567890123456789"      # a 19-digit id: must survive as text
ZERO_ID = "0000123"                 # leading zeros
NASTY_ID = "x|y_*[a](http://e.vil)<b>`"   # an attacker's id: markdown and HTML
HOST = "h1"
FARM = [BIG_ID, ZERO_ID, NASTY_ID, "f4", "f5"]
LOOP = ["a", "b", "c"]
HONEST = [f"u{i:02d}" for i in range(12)]
HONEST_HOST = "h2"

USERS = FARM + [HOST] + LOOP + HONEST + [HONEST_HOST]


def frames() -> dict[str, pl.DataFrame]:
    """users, devices and gifts (one gift row with negative coins: rejected)."""
    created = {u: "2024-01-01T00:00:00Z" for u in USERS}
    created.update({u: "2024-03-01T00:00:00Z" for u in FARM})
    users = pl.DataFrame({"user_id": USERS, "created_at": [created[u] for u in USERS]})
    devices = pl.DataFrame(
        {
            "user_id": FARM + HONEST,
            "device_id": ["dev-farm"] * 4 + ["dev-farm-2"] + [f"d-{u}" for u in HONEST],
            "ip": ["10.0.0.1"] * len(FARM) + [f"192.168.0.{i}" for i in range(len(HONEST))],
        }
    )
    senders, receivers, coins, times = [], [], [], []
    for i, u in enumerate(FARM):
        senders.append(u), receivers.append(HOST), coins.append(1000.0), times.append(f"2024-03-02T10:00:{i:02d}Z")
    for i, (s, r) in enumerate(zip(LOOP, LOOP[1:] + LOOP[:1])):
        senders.append(s), receivers.append(r), coins.append(500.0), times.append(f"2024-03-03T10:0{i}:00Z")
    for i, u in enumerate(HONEST):
        for j in range(2):
            senders.append(u), receivers.append(HONEST_HOST), coins.append(10.0 + j)
            times.append(f"2024-02-{10 + i:02d}T1{j}:00:00Z")
    senders.append("u00"), receivers.append(HONEST_HOST), coins.append(-5.0), times.append("2024-02-01T00:00:00Z")
    gifts = pl.DataFrame({"sender_id": senders, "receiver_id": receivers, "coins": coins, "sent_at": times})
    return {"users": users, "devices": devices, "gifts": gifts}


def write_data_dir(path: Path) -> Path:
    """The same data as CSV files in ``path`` (ids written as text)."""
    path.mkdir(parents=True, exist_ok=True)
    for name, frame in frames().items():
        frame.write_csv(path / f"{name}.csv")
    return path


def make_report(tables: Tables | None = None, *, params: dict | None = None) -> Report:
    """Two rings (the farm and the loop) and a score for every account."""
    tables = tables if tables is not None else Tables.from_frames(**frames())
    farm = Ring(
        ring_id="R0001",
        rank=1,
        score=0.9312345,
        members=tuple(sorted(FARM + [HOST])),
        coins_total=5000.0,
        beneficiaries=(Beneficiary(HOST, 5000.0, 1.0, 1.0),),
        signals={"shared_device_ratio": 0.8, "new_account_ratio": 1.0, "receiver_concentration": 1.0},
        reasons=(f"5 accounts share 1 device, among them {NASTY_ID}", f"100% of the ring's coins go to {HOST}"),
        kind="account_farm",
        sources=("community",),
        contributions={"shared_device_ratio": 0.5, "new_account_ratio": 0.3, "receiver_concentration": 0.2},
    )
    loop = Ring(
        ring_id="R0002",
        rank=2,
        score=0.61,
        members=tuple(LOOP),
        coins_total=1500.0,
        beneficiaries=(Beneficiary("a", 500.0, 0.3333, 1.0),),
        signals={"loop_coins_ratio": 1.0},
        reasons=("1,500 coins went round a → b → c → a",),
        kind="gift_laundering",
        sources=("money_loop",),
        money_path=("a", "b", "c", "a"),
        contributions={"loop_coins_ratio": 1.0},
    )
    ring_of = {u: "R0001" for u in farm.members} | {u: "R0002" for u in loop.members}
    role = {u: "member" for u in ring_of} | {HOST: "beneficiary", "a": "beneficiary"}
    score = {u: 0.9 for u in farm.members} | {u: 0.6 for u in loop.members}
    seen = pl.concat(
        [
            tables.users.select("user_id"),
            tables.gifts.select(pl.col("sender_id").alias("user_id")),
            tables.gifts.select(pl.col("receiver_id").alias("user_id")),
            tables.devices.select("user_id"),
        ]
    )
    everyone = sorted(seen["user_id"].unique().to_list())  # ids as the reader gave them
    scores = pl.DataFrame(
        {
            "user_id": everyone,
            "score": [score.get(u, 0.05) for u in everyone],
            "ring_id": [ring_of.get(u) for u in everyone],
            "role": [role.get(u) for u in everyone],
        },
        schema={"user_id": pl.Utf8, "score": pl.Float64, "ring_id": pl.Utf8, "role": pl.Utf8},
    ).sort(["score", "user_id"], descending=[True, False])
    return Report(
        rings=(farm, loop),
        user_scores=scores,
        params=params if params is not None else {"seed": 0, "hub_cap": 50, "resolution": 0.05, "top": 50},
        summary={"users": len(everyone), "gifts": tables.gifts.height, "rings": 2,
                 "rejected_rows": tables.rejected_rows},
        tables=tables,
    )
