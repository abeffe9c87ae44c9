"""Memory is estimated before it is spent (issue 21): the pairs of the projections, counted from sizes alone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from click.testing import CliRunner

import graphkit.graphs.build as build
from graphkit import Config, Tables
from graphkit.errors import ConfigError, NotEnoughMemoryError
from graphkit.graphs import build_graphs
from graphkit.graphs.ids import build_index
from graphkit.graphs.projections import (
    ESTIMATE_FLOOR,
    cogift_events,
    encode_devices,
    encode_gifts,
    estimate_pairs,
    identifier_links,
)
from graphkit_cli.main import cli

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)


def _farm(accounts: int, *, devices: int = 1) -> pl.DataFrame:
    """``accounts`` accounts on ``devices`` devices, and two accounts on a device of their own."""
    users = [f"u{i}" for i in range(accounts)]
    return pl.DataFrame({
        "user_id": users + ["x", "y"],
        "device_id": [f"farm{i % devices}" for i in range(accounts)] + ["home", "home"],
        "ip": [None] * (accounts + 2),
    }, schema_overrides={"ip": pl.Utf8})


def _burst(gifters: int, *, seconds: int = 60) -> pl.DataFrame:
    """``gifters`` accounts gifting one stream within ``seconds``, twice (two streams) so the pairs repeat."""
    rows = []
    for stream in ("s1", "s2"):
        for i in range(gifters):
            rows.append((f"g{i}", "host", 1.0, T0 + timedelta(seconds=i * seconds // gifters), stream))
    return pl.DataFrame(rows, schema=["sender_id", "receiver_id", "coins", "sent_at", "stream_id"], orient="row")


def _estimate(tables: Tables, config: Config):
    index = build_index(tables)
    links = identifier_links(encode_devices(tables.devices, index))
    events = cogift_events(encode_gifts(tables.gifts, index), config.cogift_window_s)
    return estimate_pairs(links, events, hub_cap=config.hub_cap, stream_cap=config.cogift_stream_cap)


def test_the_estimate_counts_the_pairs_each_cap_lets_through():
    tables = Tables.from_frames(devices=_farm(200), gifts=_burst(600))
    # hub_cap 50: the 200-account device is a hub, left out; the home device makes 1 pair
    # cogift_stream_cap 50: each stream's minute holds 600 gifters, 50 take part: 1,225 pairs per stream
    got = _estimate(tables, Config())
    assert (got.shared, got.cogift) == (1, 2 * 1225)
    got = _estimate(tables, Config(hub_cap=700, cogift_stream_cap=800))
    assert (got.shared, got.cogift) == (200 * 199 // 2 + 1, 2 * 600 * 599 // 2)


def test_the_estimate_bounds_the_pairs_the_projections_make():
    tables = Tables.from_frames(devices=_farm(120, devices=3), gifts=_burst(90))
    config = Config(hub_cap=100, cogift_stream_cap=100, cogift_min_streams=1)
    got = _estimate(tables, config)
    graphs = build_graphs(tables, config)
    assert graphs.shared.height <= got.shared <= graphs.shared.height + 1
    assert graphs.cogift.height <= got.cogift


@pytest.mark.parametrize(
    ("frames", "config", "setting"),
    [
        ({"devices": _farm(2000)}, Config(hub_cap=5000), "hub_cap = 5000"),
        ({"gifts": _burst(600)}, Config(cogift_stream_cap=800), "cogift_stream_cap = 800"),
    ],
    ids=["a farm device under a raised hub_cap", "a burst under a raised cogift_stream_cap"],
)
def test_a_setting_that_would_exceed_the_memory_is_refused_by_name_before_the_pairs_are_made(frames, config, setting):
    tables = Tables.from_frames(**frames)
    need = _estimate(tables, config).bytes
    with pytest.raises(NotEnoughMemoryError) as caught:
        build_graphs(tables, config, memory_budget=need - 1)
    message = str(caught.value)
    assert message.startswith(f"{setting} would make about ") and "\n" not in message
    assert f"lower {setting.split(' = ')[0]} " in message
    assert isinstance(caught.value, ConfigError)
    build_graphs(tables, config, memory_budget=need)  # just enough: no refusal


def test_both_settings_are_named_when_both_make_many_pairs():
    tables = Tables.from_frames(devices=_farm(700), gifts=_burst(700))
    with pytest.raises(NotEnoughMemoryError, match=r"^cogift_stream_cap = 800 and hub_cap = 1000 would make about "):
        build_graphs(tables, Config(hub_cap=1000, cogift_stream_cap=800), memory_budget=ESTIMATE_FLOOR)


def test_the_defaults_on_the_same_data_fit_a_small_budget():
    tables = Tables.from_frames(devices=_farm(2000), gifts=_burst(600))
    build_graphs(tables, Config(), memory_budget=_estimate(tables, Config()).bytes)


def test_report_says_it_in_one_line_with_exit_code_2(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    _farm(300).write_csv(data / "devices.csv")
    (tmp_path / "graphkit.toml").write_text("[params]\nhub_cap = 400\n")
    monkeypatch.setattr(build, "available_memory", lambda: 1_000_000)  # the probe, not /proc: a 1 MB machine
    result = CliRunner().invoke(cli, ["report", str(data), "--out", str(tmp_path / "out"), "-q",
                                      "--config", str(tmp_path / "graphkit.toml")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("graphkit: error: hub_cap = 400 would make about 44,851 pairs")
    assert "1.0 MB is available" in lines[0]
    assert not (tmp_path / "out").exists()
