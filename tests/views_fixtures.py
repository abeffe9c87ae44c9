"""A tiny platform with two rings, built by hand, for the view and browser tests.

One ring member's id is an XSS payload; a device id and a reason carry
payloads too: the views must show them as text and never run them.
"""

from __future__ import annotations

import polars as pl

from graphkit.io import Tables
from graphkit.model import Beneficiary, Report, Ring

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
XSS_DEVICE = '"><svg onload="window.__xss=3">'

_T = "2024-03-01T10:{:02d}:00Z"


def tables() -> Tables:
    users = pl.DataFrame({
        "user_id": ["u1", "u2", "u3", XSS, "h1", "h2", "u7", "u8", "u9"],
        "created_at": ["2024-02-25T00:00:00Z"] * 4 + ["2022-01-01T00:00:00Z"] * 5,
    })
    streams = pl.DataFrame({"stream_id": ["s1", "s2"], "host_id": ["h1", "h2"],
                            "started_at": ["2024-03-01T10:00:00Z", "2024-03-01T09:00:00Z"]})
    devices = pl.DataFrame({
        "user_id": ["u1", "u2", "u3", XSS, "u7", "u8", "u9", "h2"],
        "device_id": ["d1", "d1", "d1", XSS_DEVICE, "d7", "d8", "d8", "d9"],
        "ip": ["10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.2", "10.9.0.1", "10.9.0.2", None, None],
    })
    senders = ["u1", "u2", "u3", XSS, "u1", "u2", "u7", "u8", "u9", "h1"]
    receivers = ["h1", "h1", "h1", "h1", "h1", "h1", "h2", "h2", "h2", "u8"]
    coins = [1000.0, 1500.0, 900.0, 1200.0, 300.0, 90.0, 50.0, 400.0, 450.0, 200.0]
    gifts = pl.DataFrame({
        "sender_id": senders, "receiver_id": receivers, "coins": coins,
        "sent_at": [_T.format(i) for i in range(len(senders))],
        "stream_id": ["s1"] * 6 + ["s2"] * 3 + [None],
    })
    return Tables.from_frames(users=users, streams=streams, devices=devices, gifts=gifts)


def report() -> Report:
    t = tables()
    ring1 = Ring(
        ring_id="R0001", rank=1, score=0.91,
        members=tuple(sorted(["u1", "u2", "u3", XSS, "h1"])), coins_total=4990.0,
        beneficiaries=(Beneficiary("h1", 4990.0, 1.0, 1.0),),
        signals={"shared_device_ratio": 0.75, "new_account_ratio": 0.8},
        reasons=("3 accounts share device d1", f"96% of the ring's coins go to h1; {XSS} sent 1,200"),
        kind="account_farm", sources=("community",),
    )
    ring2 = Ring(
        ring_id="R0002", rank=2, score=0.55, members=("h2", "u8", "u9"), coins_total=1050.0,
        beneficiaries=(Beneficiary("h2", 850.0, 0.8, 0.94),),
        reasons=("u8 and u9 share device d8",), kind="cashout_mules", sources=("fan_in",),
    )
    members = {"u1": "member", "u2": "member", "u3": "member", XSS: "funder", "h1": "beneficiary",
               "h2": "beneficiary", "u8": "member", "u9": "member"}
    ring_of = {m: "R0001" for m in ring1.members} | {m: "R0002" for m in ring2.members}
    scores = pl.DataFrame({
        "user_id": list(members) + ["u7"],
        "score": [0.9, 0.9, 0.88, 0.93, 0.95, 0.6, 0.5, 0.52, 0.1],
        "ring_id": [ring_of[m] for m in members] + [None],
        "role": list(members.values()) + [None],
    }).sort(["score", "user_id"], descending=[True, False])
    return Report(rings=(ring1, ring2), user_scores=scores, params={"top": 50, "seed": 0},
                  summary={"users": 9, "gifts": 10, "rings": 2}, tables=t)
