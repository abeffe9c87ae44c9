"""Per-account evidence (``user_evidence``, the ``scores.csv`` score outside rings) on hand-built platforms.

Every expected value is computed here from the definition in the docstring of
:func:`graphkit.score.user_evidence`, not by the code under test.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from graphkit.config import Config
from graphkit.detect.signals import Baseline, user_activity
from graphkit.graphs.relays import relay_hops
from graphkit.score import USER_COMPONENTS, user_evidence

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
U32 = pl.UInt32
BASELINE = Baseline(young_days=7.0, large_gift=100.0, popular_senders=50.0, household=2.0)


def _evidence(n_users: int, links: list[tuple[int, str, bool]], gifts: list[tuple[int, int, float]] = (),
              placeholders: frozenset[str] = frozenset()) -> pl.DataFrame:
    """``links``: (uid, identifier, hub), the kind read from the identifier (``device:...``, ``ip:...``);
    ``gifts``: (src, dst, coins), one second apart; ``placeholders``: identifiers that are placeholder devices."""
    gift_frame = pl.DataFrame(
        {
            "src": [g[0] for g in gifts], "dst": [g[1] for g in gifts], "coins": [float(g[2]) for g in gifts],
            "sent_at": [T0 + timedelta(seconds=i) for i in range(len(gifts))], "sid": [None] * len(gifts),
        },
        schema={"src": U32, "dst": U32, "coins": pl.Float64, "sent_at": pl.Datetime("us", "UTC"), "sid": U32},
    )
    users = pl.DataFrame({"uid": range(n_users), "created_at": [None] * n_users},
                         schema={"uid": U32, "created_at": pl.Datetime("us", "UTC")})
    activity = user_activity(gift_frame, users, n_users)
    flow = gift_frame.group_by("src", "dst").agg(pl.col("coins").sum(), pl.len().cast(U32).alias("count"))
    device_links = pl.DataFrame(
        {"uid": [u for u, _, _ in links], "identifier": [i for _, i, _ in links],
         "kind": [i.split(":")[0] for _, i, _ in links], "hub": [h or i in placeholders for _, i, h in links],
         "placeholder": [i in placeholders for _, i, _ in links]},
        schema={"uid": U32, "identifier": pl.Utf8, "kind": pl.Utf8, "hub": pl.Boolean, "placeholder": pl.Boolean},
    )
    cogift = pl.DataFrame(schema={"a": U32, "b": U32, "weight": pl.Float64, "streams": U32})
    relays = relay_hops(gift_frame, max_delay_s=Config().flow_max_delay_s, amount_tolerance=Config().flow_amount_tolerance,
                        max_chance=Config().flow_max_amount_chance)
    return user_evidence(activity, device_links, cogift, flow, BASELINE, Config(), relays=relays)


def _expected_crowding(n_users: int, links: list[tuple[int, str, bool]]) -> list[float]:
    """``clip((accounts on the account's most crowded device or non-hub IP - 2) / 10, 0, 1)``; 0 without one."""
    accounts: dict[str, set[int]] = {}
    for uid, ident, hub in links:
        if not hub or ident.startswith("device:"):
            accounts.setdefault(ident, set()).add(uid)
    most = [0] * n_users
    for members in accounts.values():
        for uid in members:
            most[uid] = max(most[uid], len(members))
    return [min(max((m - 2) / 10, 0.0), 1.0) for m in most]


def test_an_account_alone_on_its_device_or_without_one_is_not_crowded():
    # uid 0: no device; 1: a device nobody else uses; 2, 3: a device shared by two; 4..18: fifteen on one device
    links = [(1, "device:solo", False), (2, "device:pair", False), (3, "device:pair", False)]
    links += [(u, "device:farm", False) for u in range(4, 19)]
    frame = _evidence(19, links)
    crowded = dict(zip(frame["uid"].to_list(), frame["crowded_identifier"].to_list()))
    assert crowded[0] == 0.0, "an account with no device is not on a crowded identifier"
    assert crowded[1] == 0.0, "an account alone on its device is not on a crowded identifier"
    assert crowded[2] == crowded[3] == 0.0, "two accounts on a device are a household"
    assert crowded[4] == 1.0, "fifteen accounts on a device are a crowd"
    evidence = dict(zip(frame["uid"].to_list(), frame["evidence"].to_list()))
    assert evidence[0] == evidence[1] == evidence[2] == 0.0, "no evidence at all scores 0"
    assert evidence[4] == pytest.approx(USER_COMPONENTS["crowded_identifier"])


def test_a_crowded_device_is_a_crowd_whatever_its_size_but_a_hub_ip_or_a_placeholder_is_not():
    # 0..59: one device with sixty accounts (a hub); 60..119: one IP with sixty (a hub); 120..179: a zero IMEI
    links = [(u, "device:emulator", True) for u in range(60)] + [(u, "ip:nat", True) for u in range(60, 120)]
    links += [(u, "device:000000000000000", True) for u in range(120, 180)]
    frame = _evidence(180, links, placeholders=frozenset({"device:000000000000000"}))
    crowded = frame["crowded_identifier"].to_list()
    assert crowded[0] == 1.0 and crowded[60] == 0.0 and crowded[120] == 0.0


_LINKS = st.integers(1, 14).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.sampled_from(["device:a", "device:b", "ip:c"]), st.booleans()),
                 max_size=40),
    )
)


@settings(max_examples=150, deadline=None)
@given(_LINKS)
@example((3, []))
@example((3, [(0, "device:a", False)]))
@example((3, [(0, "device:a", False), (1, "device:a", False)]))
@example((14, [(u, "device:a", False) for u in range(14)]))
def test_crowded_identifier_follows_its_definition(case):
    n_users, links = case
    # one row per distinct (account, identifier), as device_links gives; hub is a property of the identifier
    hub = {ident: h for _, ident, h in links}
    links = sorted({(u, ident, hub[ident]) for u, ident, _ in links})
    frame = _evidence(n_users, links)
    assert frame["uid"].to_list() == list(range(n_users))
    assert frame["crowded_identifier"].to_list() == pytest.approx(_expected_crowding(n_users, links))
    weight = USER_COMPONENTS["crowded_identifier"]
    # no gifts: crowding is the only evidence an account can have
    assert frame["evidence"].to_list() == pytest.approx([weight * c for c in _expected_crowding(n_users, links)])


def test_a_one_shot_large_sender_is_evidence_but_an_account_that_mostly_receives_and_paid_once_is_not():
    # 0: a throwaway, one large gift (150 >= large_gift 100) to host 9 and nothing received;
    # 1: a host paid by 2..6 (five small gifts) that sent one large gift to 9;
    # 7: received two small gifts and sent two, one large: as many received as sent, still a one-shot sender
    gifts = [(0, 9, 150.0), *[(u, 1, 5.0) for u in range(2, 7)], (1, 9, 150.0),
             (8, 7, 5.0), (8, 7, 5.0), (7, 9, 150.0), (7, 9, 5.0)]
    frame = _evidence(10, [], gifts)
    one_shot = dict(zip(frame["uid"].to_list(), frame["one_shot_large"].to_list()))
    assert one_shot[0] is True, "sent one large gift and received nothing"
    assert one_shot[1] is False, "received five gifts and sent one: a host that paid once, not a throwaway sender"
    assert one_shot[7] is True, "received no more gifts than it sent"
    evidence = dict(zip(frame["uid"].to_list(), frame["evidence"].to_list()))
    assert evidence[0] == pytest.approx(USER_COMPONENTS["one_shot_large"])
    assert evidence[1] == 0.0
