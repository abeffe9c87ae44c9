"""graphkit.synth and ``graphkit synth``: deterministic per seed, truth consistent with the tables."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from graphkit.errors import ConfigError, InputError
from graphkit.io import read_tables
from graphkit.synth import LOOKALIKE_KINDS, PRICES, RING_KINDS, generate
from graphkit_cli.main import cli

USERS, GIFTS = 2_500, 15_000


@pytest.fixture(scope="module")
def platform():
    return generate(users=USERS, gifts=GIFTS, seed=11)


def _ring_gifts(platform, ring) -> pl.DataFrame:
    members = set(ring["members"]) - set(ring["beneficiaries"])
    return platform.gifts.filter(
        pl.col("sender_id").is_in(list(members)) & pl.col("receiver_id").is_in(ring["beneficiaries"])
    )


def test_same_seed_gives_identical_tables_and_truth(platform):
    again = generate(users=USERS, gifts=GIFTS, seed=11)
    for name, frame in platform.frames().items():
        assert_frame_equal(frame, again.frames()[name])
    assert again.truth == platform.truth


def test_different_seeds_give_different_layouts(platform):
    other = generate(users=USERS, gifts=GIFTS, seed=12)
    def layout(p):
        return sorted((r["kind"], len(r["members"])) for r in p.truth["rings"])
    assert layout(other) != layout(platform)
    assert other.truth["rings"][0]["params"] != platform.truth["rings"][0]["params"]
    assert not other.gifts["sender_id"].equals(platform.gifts["sender_id"])


def test_sizes_are_the_targets_and_tables_pass_validation(platform):
    assert platform.users.height == USERS
    assert platform.gifts.height == GIFTS
    tables = platform.tables()
    assert tables.rejected_rows == 0
    assert tables.unknown_accounts == 0
    for name, frame in platform.frames().items():
        assert tables.table(name).height == frame.height


def test_every_kind_of_ring_and_lookalike_is_planted(platform):
    kinds = Counter(r["kind"] for r in platform.truth["rings"])
    assert set(kinds) == set(RING_KINDS)
    assert min(kinds.values()) >= 2
    assert {g["kind"] for g in platform.truth["lookalikes"]} == set(LOOKALIKE_KINDS)
    assert platform.truth["generator"] == "graphkit synth"
    assert platform.truth["seed"] == 11


def test_labels_match_truth_and_rings_are_disjoint(platform):
    users = set(platform.users["user_id"])
    members = [m for r in platform.truth["rings"] for m in r["members"]]
    assert len(members) == len(set(members)), "a user belongs to at most one ring"
    assert set(members) <= users
    bad = set(platform.users.filter(pl.col("label") == "bad")["user_id"])
    assert bad == set(members)
    for ring in platform.truth["rings"]:
        assert ring["beneficiaries"] and set(ring["beneficiaries"]) <= set(ring["members"])
        assert ring["members"] == sorted(ring["members"])
    for group in platform.truth["lookalikes"]:
        assert len(group["members"]) >= 2
        assert set(group["members"]) <= users
        assert not set(group["members"]) & bad, f"{group['group_id']} ({group['kind']}) holds ring members"


def test_beneficiaries_receive_gifts_from_their_ring(platform):
    hosts = set(platform.streams["host_id"])
    for ring in platform.truth["rings"]:
        received = _ring_gifts(platform, ring).group_by("receiver_id").agg(pl.col("coins").sum())
        assert set(received["receiver_id"]) == set(ring["beneficiaries"]), ring["ring_id"]
        assert set(ring["beneficiaries"]) <= hosts


def test_farm_members_share_devices(platform):
    for ring in (r for r in platform.truth["rings"] if r["kind"] == "account_farm"):
        accounts = set(ring["members"]) - set(ring["beneficiaries"])
        devs = platform.devices.filter(pl.col("user_id").is_in(list(accounts)))
        per_device = devs.group_by("device_id").agg(pl.col("user_id").n_unique().alias("n"))
        assert per_device.height <= 5
        shared = set(devs.join(per_device.filter(pl.col("n") >= 2), on="device_id")["user_id"])
        assert shared == accounts, ring["ring_id"]


def test_burst_members_gift_the_same_stream_within_a_minute(platform):
    for ring in (r for r in platform.truth["rings"] if r["kind"] == "gifting_burst"):
        gifts = _ring_gifts(platform, ring)
        bursts = 0
        for (stream,), part in gifts.group_by("stream_id"):
            t = np.sort(part["sent_at"].dt.epoch("s").to_numpy())
            # the most ring gifts inside any 60-second window of this stream
            most = int((np.searchsorted(t, t + 60, side="right") - np.arange(len(t))).max())
            bursts += most >= 15
        assert bursts >= 3, ring["ring_id"]


def test_laundering_alts_share_a_device_with_a_loop_host(platform):
    for ring in (r for r in platform.truth["rings"] if r["kind"] == "gift_laundering"):
        host_devices = set(platform.devices.filter(pl.col("user_id").is_in(ring["beneficiaries"]))["device_id"])
        sharing = platform.devices.filter(
            pl.col("device_id").is_in(list(host_devices)) & ~pl.col("user_id").is_in(ring["beneficiaries"])
        )
        alts = set(sharing["user_id"]) & set(ring["members"])
        assert len(alts) >= 2 * len(ring["beneficiaries"]), ring["ring_id"]


def test_mules_send_one_or_two_big_gifts(platform):
    for ring in (r for r in platform.truth["rings"] if r["kind"] == "cashout_mules"):
        gifts = _ring_gifts(platform, ring)
        per_mule = gifts.group_by("sender_id").len()
        assert per_mule["len"].max() <= 2
        assert per_mule.height == len(ring["members"]) - len(ring["beneficiaries"])
        assert gifts["coins"].min() >= 999


def test_gifts_are_consistent_with_streams_and_accounts(platform):
    g = platform.gifts.join(platform.streams, on="stream_id", how="left")
    assert g["host_id"].null_count() == 0
    assert (g["host_id"] == g["receiver_id"]).all()
    assert g.filter((pl.col("sent_at") < pl.col("started_at")) | (pl.col("sent_at") > pl.col("ended_at"))).height == 0
    created = platform.users.select("user_id", "created_at")
    late = g.join(created, left_on="sender_id", right_on="user_id").filter(pl.col("sent_at") < pl.col("created_at"))
    assert late.height == 0
    seen = platform.devices.join(created, on="user_id").filter(pl.col("seen_at") < pl.col("created_at"))
    assert seen.height == 0
    assert (g["sender_id"] != g["receiver_id"]).all()
    assert set(platform.gifts["coins"].unique()) <= set(PRICES.tolist())
    assert platform.gifts["gift_id"].n_unique() == platform.gifts.height


def test_shared_ips_look_like_a_real_platform(platform):
    per_ip = platform.devices.group_by("ip").agg(pl.col("user_id").n_unique().alias("n"))
    assert per_ip["n"].max() >= 500, "carrier NAT IPs are shared by a large crowd"
    nat = [g for g in platform.truth["lookalikes"] if g["kind"] == "carrier_nat"]
    assert max(len(g["members"]) for g in nat) >= 500


def test_too_few_gifts_or_users_is_a_config_error():
    with pytest.raises(ConfigError, match="users"):
        generate(users=10, gifts=1_000)
    with pytest.raises(ConfigError, match="gifts"):
        generate(users=2_000, gifts=2_000, seed=1)


def test_write_and_read_back(platform, tmp_path):
    out = tmp_path / "platform"
    paths = platform.write(out, format="parquet")
    assert sorted(p.name for p in paths) == sorted(
        ["users.parquet", "streams.parquet", "devices.parquet", "gifts.parquet", "truth.json"])
    tables = read_tables(out)
    assert tables.rejected_rows == 0
    assert_frame_equal(tables.gifts, platform.gifts)
    assert json.loads((out / "truth.json").read_text()) == platform.truth
    with pytest.raises(ConfigError, match="format"):
        platform.write(tmp_path / "x", format="xlsx")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not an earlier synth output"):
        platform.write(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_rewrite_keeps_a_mapping_file_the_user_added_and_drops_the_other_format(platform, tmp_path):
    out = tmp_path / "platform"
    platform.write(out, format="csv")
    (out / "graphkit.toml").write_text("[params]\ntop = 5\n")
    platform.write(out, format="parquet")
    assert sorted(p.name for p in out.iterdir()) == [
        "devices.parquet", "gifts.parquet", "graphkit.toml", "streams.parquet", "truth.json", "users.parquet"]
    assert (out / "graphkit.toml").read_text() == "[params]\ntop = 5\n"


def test_cli_writes_a_data_set_that_reads_back(tmp_path):
    out = tmp_path / "platform"
    runner = CliRunner()
    result = runner.invoke(cli, ["synth", str(out), "--users", "2000", "--gifts", "10000", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "graphkit report" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["devices.csv", "gifts.csv", "streams.csv", "truth.json",
                                                      "users.csv"]
    assert (out / "gifts.csv").read_text().splitlines()[1].split(",")[3].endswith("Z")
    tables = read_tables(out)
    assert tables.rejected_rows == 0 and tables.gifts.height == 10_000
    truth = json.loads((out / "truth.json").read_text())
    assert truth["seed"] == 3
    # the same command again replaces its own earlier output, byte for byte the same
    before = (out / "gifts.csv").read_bytes()
    result = runner.invoke(cli, ["synth", str(out), "--users", "2000", "--gifts", "10000", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert (out / "gifts.csv").read_bytes() == before


@pytest.mark.parametrize("args", [["--users", "0"], ["--gifts", "-5"], ["--format", "xlsx"], ["--seed", "-1"]])
def test_cli_bad_option_exits_2(tmp_path, args):
    result = CliRunner().invoke(cli, ["synth", str(tmp_path / "out"), *args])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "out").exists()


def test_cli_too_few_gifts_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["synth", str(tmp_path / "out"), "--users", "2000", "--gifts", "2000"])
    assert result.exit_code == 2, result.output
    assert "--gifts" in result.output and "Traceback" not in result.output


def test_cli_help_has_an_example():
    result = CliRunner().invoke(cli, ["synth", "-h"])
    assert result.exit_code == 0
    assert "Example: graphkit synth out/platform --users 20000 --gifts 200000 --seed 7" in result.output


def test_ring_size_max_gives_heavy_tailed_rings_in_every_band_and_big_lookalikes():
    from graphkit.synth import BIG_LOOKALIKE_KINDS
    big = generate(users=20_000, gifts=100_000, seed=5, ring_size_max=2_000)
    sizes = sorted(len(r["members"]) for r in big.truth["rings"])
    assert sizes[0] >= 5 and sizes[-1] <= 2_000 + 16  # members include beneficiaries
    assert any(s < 50 for s in sizes) and any(50 <= s < 200 for s in sizes) and any(s >= 200 for s in sizes), sizes
    assert {g["kind"] for g in big.truth["lookalikes"]} >= set(BIG_LOOKALIKE_KINDS)
    assert big.truth["params"]["ring_size_max"] == 2_000
    assert "ring_size_max" not in generate(users=USERS, gifts=GIFTS, seed=11).truth["params"]


def test_synth_refuses_a_ring_size_max_out_of_range_in_one_line(tmp_path):
    from click.testing import CliRunner
    from graphkit_cli.main import cli
    result = CliRunner().invoke(cli, ["synth", str(tmp_path / "p"), "--users", "1000", "--gifts", "5000",
                                      "--ring-size-max", "2000"])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1 and "ring_size_max" in result.stderr
    result = CliRunner().invoke(cli, ["synth", str(tmp_path / "p"), "--ring-size-max", "4"])
    assert result.exit_code == 2 and "--ring-size-max" in result.stderr


def test_flows_plant_every_money_flow_typology_hop_after_hop_at_one_price():
    from graphkit.graphs.relays import relay_hops
    from graphkit.synth import FLOW_KINDS

    flows = generate(users=3_000, gifts=20_000, seed=4, flows=True)
    kinds = Counter(r["kind"] for r in flows.truth["rings"])
    assert set(kinds) == set(RING_KINDS) | set(FLOW_KINDS) and min(kinds.values()) >= 2
    assert flows.truth["params"]["flows"] is True
    tables = flows.tables()
    assert tables.rejected_rows == 0
    gifts = tables.gifts.with_columns(pl.col("sender_id").alias("src"), pl.col("receiver_id").alias("dst"))
    ids = {u: i for i, u in enumerate(sorted(set(gifts["src"]) | set(gifts["dst"])))}
    coded = gifts.select(pl.col("src").replace_strict(ids, return_dtype=pl.UInt32),
                         pl.col("dst").replace_strict(ids, return_dtype=pl.UInt32), "coins", "sent_at")
    middles = set(relay_hops(coded, max_delay_s=3600, amount_tolerance=0.0, max_chance=1.0)["m"].to_list())
    for ring in flows.truth["rings"]:
        if ring["kind"] == "flow_chain":  # every account but the two ends passes each gift on, unchanged, within minutes
            members = [ids[u] for u in ring["members"]]
            inner = {m for m in members if coded.filter((pl.col("src") == m) & (pl.col("coins") >= 999)).height
                     and coded.filter((pl.col("dst") == m) & (pl.col("coins") >= 999)).height}
            assert len(inner) == len(members) - 2 and inner <= middles


def test_the_default_platform_has_no_flow_rings(platform):
    assert not any(r["kind"].startswith("flow_") for r in platform.truth["rings"])
    assert "flows" not in platform.truth["params"]
