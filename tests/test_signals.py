"""Group signals against hand-computed values on tiny platforms."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.config import Config
from graphkit.detect.signals import (
    Baseline,
    group_signals,
    person_of,
    platform_baseline,
    signal_context,
    user_activity,
)

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
U32 = pl.UInt32


def _gifts(rows):
    """rows: (src, dst, coins, seconds after T0, sid)."""
    return pl.DataFrame(
        {
            "src": [r[0] for r in rows], "dst": [r[1] for r in rows], "coins": [float(r[2]) for r in rows],
            "sent_at": [T0 + timedelta(seconds=r[3]) for r in rows], "sid": [r[4] for r in rows],
        },
        schema={"src": U32, "dst": U32, "coins": pl.Float64, "sent_at": pl.Datetime("us", "UTC"), "sid": U32},
    )


def _flow(gifts):
    return gifts.group_by("src", "dst").agg(pl.col("coins").sum(), pl.len().alias("count"))


def _links(rows):
    return pl.DataFrame(
        {"uid": [r[0] for r in rows], "identifier": [r[1] for r in rows], "kind": [r[2] for r in rows],
         "hub": [r[3] for r in rows], "placeholder": [False] * len(rows)},
        schema={"uid": U32, "identifier": pl.Utf8, "kind": pl.Utf8, "hub": pl.Boolean, "placeholder": pl.Boolean},
    )


def _signals(members, gifts, links, created=None, n_users=8, baseline=None, config=Config()):
    users = pl.DataFrame({"uid": list(range(n_users)), "created_at": created or [None] * n_users},
                         schema={"uid": U32, "created_at": pl.Datetime("us", "UTC")})
    activity = user_activity(gifts, users, n_users)
    baseline = baseline or Baseline(young_days=7.0, large_gift=100.0, popular_senders=50.0, household=2.0)
    empty = pl.DataFrame(schema={"a": U32, "b": U32, "weight": pl.Float64, "streams": U32})
    frame = pl.DataFrame({"group": [g for g, _ in members], "uid": [u for _, u in members]},
                         schema={"group": pl.Int64, "uid": U32})
    context = signal_context(gifts=gifts, gift_flow=_flow(gifts), shared=empty, cogift=empty,
                             device_links=links, person=person_of(links, n_users), activity=activity,
                             baseline=baseline, config=config)
    return group_signals(frame, context)


def test_money_signals_follow_the_coins():
    # group 0 = {0, 1, 2, 3}: 0 and 1 pay host 3 (90 + 90), 2 pays outsider 5 (20); host 3 also earns 20 from 6
    gifts = _gifts([(0, 3, 90, 0, 1), (1, 3, 90, 5, 1), (2, 5, 20, 10, 2), (6, 3, 20, 20, 1)])
    row = _signals([(0, 0), (0, 1), (0, 2), (0, 3)], gifts, _links([])).row(0, named=True)
    assert row["coins_total"] == 200.0
    assert row["coins_internal"] == 180.0
    assert row["beneficiary_top1_share"] == pytest.approx(0.9)
    assert row["beneficiary_top3_share"] == pytest.approx(1.0)
    # top receivers: 3 (180 of its 200) and 5 (20 of its 20)
    assert row["beneficiary_income_share"] == pytest.approx(200 / 220)


def test_shared_identifiers_skip_hubs_and_shrink_for_small_groups():
    links = _links([(0, "device:1", "device", False), (1, "device:1", "device", False), (2, "device:1", "device", False),
                    (3, "ip:9", "ip", True), (0, "ip:9", "ip", True)])
    row = _signals([(0, 0), (0, 1), (0, 2), (0, 3)], _gifts([(0, 5, 1, 0, 1)]), links).row(0, named=True)
    assert row["n_shared_devices"] == 1 and row["n_shared_ips"] == 0  # the hub IP does not count
    assert row["n_sharing"] == 3
    assert row["shared_identifier_ratio"] == pytest.approx(3 / (4 + 2))
    assert row["accounts_per_identifier"] == 3.0
    assert row["crowding"] == pytest.approx(3 / 6 * min(1.0, 3.0 / 2.0))


def test_age_and_creation_burst():
    created = [T0 - timedelta(days=1), T0 - timedelta(days=1, hours=3), T0 - timedelta(days=400), T0 - timedelta(days=1, hours=12),
               None, None, None, None]
    gifts = _gifts([(0, 5, 1, 0, 1), (1, 5, 1, 0, 1), (2, 5, 1, 0, 1), (3, 5, 1, 0, 1)])
    row = _signals([(0, 0), (0, 1), (0, 2), (0, 3)], gifts, _links([]), created=created).row(0, named=True)
    assert row["n_young"] == 3  # 1, 1.1 and 1.5 days old at the first gift; the 400-day account is not
    assert row["new_account_ratio"] == pytest.approx(3 / 6)
    assert row["max_created_24h"] == 3  # days -1.5, -1.125 and -1 fall in one 24 h window
    assert row["creation_burst"] == pytest.approx(3 / 6)


def test_synchrony_counts_a_burst_above_the_streams_normal_rate():
    # stream 1: members 0..4 gift within 60 s; the stream otherwise has 20 gifters spread over 10 hours
    burst = [(u, 7, 10, 60 * 60 + 10 * u, 1) for u in range(5)]
    background = [(10 + i, 7, 1, 1800 * i, 1) for i in range(20)]
    gifts = _gifts(burst + background)
    row = _signals([(0, u) for u in range(5)], gifts, _links([]), n_users=30).row(0, named=True)
    assert row["sync_accounts"] == 5
    windows = 1800 * 19 / 120  # the stream's 9.5 h gifting span in 2-minute windows
    lam = 25 / windows  # 25 gifters spread at random: per window, and the busiest window by chance
    busiest_by_chance = lam + math.sqrt(2 * lam * math.log(windows))
    assert row["synchrony"] == pytest.approx((5 - busiest_by_chance) / 3 / (5 + 2))
    # the same five accounts spread over the stream are not in sync
    spread = _gifts([(u, 7, 10, 3600 * u, 1) for u in range(5)] + background)
    assert _signals([(0, u) for u in range(5)], spread, _links([]), n_users=30)["synchrony"].item() == 0.0


def test_cycle_signals_find_coins_that_come_back():
    gifts = _gifts([(0, 1, 100, 0, None), (1, 2, 80, 10, None), (2, 0, 60, 20, None), (3, 0, 40, 30, None)])
    row = _signals([(0, 0), (0, 1), (0, 2), (0, 3)], gifts, _links([])).row(0, named=True)
    assert row["coins_on_cycles"] == 240.0
    assert row["cycle_coin_share"] == pytest.approx(240 / 280)
    assert row["reciprocity"] == 0.0


def test_one_shot_large_senders():
    gifts = _gifts([(0, 5, 500, 0, 1), (1, 5, 300, 0, 1), (2, 5, 5, 0, 1), (2, 5, 5, 9, 1), (2, 5, 5, 99, 1)])
    row = _signals([(0, 0), (0, 1), (0, 2)], gifts, _links([])).row(0, named=True)
    assert row["n_one_shot_large"] == 2
    assert row["one_shot_large_ratio"] == pytest.approx(2 / (3 + 2))


def test_baseline_comes_from_the_platform():
    gifts = _gifts([(i % 4, 4 + i % 2, float(i + 1), i, 1) for i in range(100)])
    users = pl.DataFrame({"uid": list(range(8)), "created_at": [T0 - timedelta(days=d) for d in (1, 3, 50, 90, 400, 400, 400, 400)]},
                         schema={"uid": U32, "created_at": pl.Datetime("us", "UTC")})
    activity = user_activity(gifts, users, 8)
    links = _links([(0, "device:1", "device", False), (1, "device:1", "device", False), (2, "device:2", "device", False),
                    (3, "device:2", "device", False), (4, "device:2", "device", False)])
    base = platform_baseline(activity, gifts, links, Config(new_account_days=30))
    assert base.large_gift == pytest.approx(pl.Series(range(1, 101), dtype=pl.Float64).quantile(0.95))
    assert 1.0 <= base.young_days <= 30.0
    assert base.household == pytest.approx(pl.Series([2.0, 3.0]).quantile(0.95))


@settings(max_examples=40, deadline=None)
@given(
    gift_rows=st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 7), st.integers(1, 500), st.integers(0, 600), st.integers(0, 2)),
        min_size=1, max_size=40,
    ),
    groups=st.lists(st.sets(st.integers(0, 7), min_size=1, max_size=8), min_size=1, max_size=4),
)
def test_a_groups_signals_do_not_depend_on_the_other_groups(gift_rows, groups):
    # candidates overlap (an account in a community, a lockstep group and a dense block): each group's
    # signals must be the ones it has on its own, so that a group that keeps its members keeps its score
    gifts = _gifts(gift_rows)
    members = [(g, u) for g, uids in enumerate(groups) for u in sorted(uids)]
    together = _signals(members, gifts, _links([]))
    for g, uids in enumerate(groups):
        alone = _signals([(g, u) for u in sorted(uids)], gifts, _links([]))
        [row_together], [row_alone] = together.filter(pl.col("group") == g).to_dicts(), alone.to_dicts()
        assert row_together.keys() == row_alone.keys()
        for name, value in row_alone.items():  # floats: the same up to the order of summation
            assert row_together[name] == (pytest.approx(value, rel=1e-9, abs=1e-12) if isinstance(value, float) else value), name


def test_internal_density_of_a_group_bigger_than_65536_accounts():
    # n * (n - 1) on the UInt32 group size wraps above 65,536 members: the density must use the true pair count
    n = 70_000
    gifts = _gifts([(0, 1, 10, 0, None)])
    row = _signals([(0, u) for u in range(n)], gifts, _links([]), n_users=n).row(0, named=True)
    assert row["internal_density"] == pytest.approx(1 / (n * (n - 1) / 2))
