"""Property tests for the readers: ids and timestamps survive every format,
and no row is ever lost (accepted + rejected = rows read)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphkit.io import read_tables
from graphkit.io.parse import parse_time, parse_time_value

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ids as warehouses export them: leading zeros, 19-digit numbers, unicode,
# commas, quotes, newlines and surrounding spaces that need CSV quoting
_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=12)
_ids = st.one_of(
    _text,
    st.from_regex(r"0[0-9]{1,18}", fullmatch=True),
    st.integers(10**18, 10**19 - 1).map(str),
    st.sampled_from(['a,b', 'say "hi"', ' padded ', "line\nbreak", "crlf\r\nid", "é中🙂", "-0", "1e5", "NaN", "null"]),
)


def _write(frame: pl.DataFrame, directory: Path, fmt: str) -> None:
    if fmt == "csv":
        frame.write_csv(directory / "gifts.csv")
    elif fmt == "parquet":
        frame.write_parquet(directory / "gifts.parquet")
    else:
        frame.write_ndjson(directory / "gifts.ndjson")


def _gifts(senders: list[str]) -> pl.DataFrame:
    n = len(senders)
    return pl.DataFrame(
        {
            "sender_id": senders,
            "receiver_id": senders[::-1],
            "coins": [1.5] * n,
            "sent_at": ["2024-05-01T10:00:00Z"] * n,
            "gift_id": [f"g{i}" for i in range(n)],
        }
    )


@SETTINGS
@given(ids=st.lists(_ids, min_size=1, max_size=20), fmt=st.sampled_from(["csv", "parquet", "ndjson"]))
def test_ids_round_trip_unchanged(ids: list[str], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _write(_gifts(ids), Path(tmp), fmt)
        tables = read_tables(tmp, max_bad_share=0.0)
    assert tables.gifts["sender_id"].to_list() == ids
    assert tables.gifts["receiver_id"].to_list() == ids[::-1]
    assert tables.gifts["gift_id"].to_list() == [f"g{i}" for i in range(len(ids))]


@SETTINGS
@given(
    numbers=st.lists(st.integers(10**18, 2**63 - 1), min_size=1, max_size=20),
    unsigned=st.lists(st.integers(10**18, 10**19 - 1), min_size=1, max_size=20),
    fmt=st.sampled_from(["parquet", "ndjson", "csv"]),
)
def test_19_digit_integer_ids_come_back_as_the_same_decimal_strings(
    numbers: list[int], unsigned: list[int], fmt: str
) -> None:
    n = min(len(numbers), len(unsigned))
    frame = pl.DataFrame(
        {
            "sender_id": pl.Series(numbers[:n], dtype=pl.Int64),
            "receiver_id": pl.Series(unsigned[:n], dtype=pl.UInt64),
            "coins": pl.Series([7] * n, dtype=pl.Int32),
            "sent_at": pl.Series([1714557600] * n, dtype=pl.Int64),
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        _write(frame, Path(tmp), fmt)
        gifts = read_tables(tmp).gifts
    assert gifts.schema["sender_id"] == pl.Utf8
    assert gifts["sender_id"].to_list() == [str(x) for x in numbers[:n]]
    assert gifts["receiver_id"].to_list() == [str(x) for x in unsigned[:n]]
    assert gifts["coins"].to_list() == [7.0] * n
    assert gifts["sent_at"].to_list() == [dt.datetime(2024, 5, 1, 10, tzinfo=UTC)] * n


# --- timestamps ----------------------------------------------------------------

_instants = st.datetimes(min_value=dt.datetime(1000, 1, 2), max_value=dt.datetime(9998, 12, 30)).map(
    lambda d: d.replace(tzinfo=UTC)
)
_offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timedelta(minutes=m))
FORMATS = ("Z", "+hh:mm", "+hhmm", "+hh", "naive", "epoch", "date")


def _render(instant: dt.datetime, offset: dt.timedelta, fmt: str, sep: str) -> tuple[str, dt.datetime]:
    """``instant`` written in ``fmt``, and the instant that text stands for."""
    if fmt == "epoch":
        instant = instant.replace(microsecond=0)
        return str((instant - EPOCH) // dt.timedelta(seconds=1)), instant
    if fmt == "date":
        instant = instant.replace(hour=0, minute=0, second=0, microsecond=0)
        return f"{instant:%Y-%m-%d}" if instant.year >= 1000 else instant.date().isoformat(), instant
    if fmt in ("Z", "naive"):
        offset = dt.timedelta(0)
    if fmt == "+hh":
        offset = dt.timedelta(hours=round(offset.total_seconds() / 3600))
    local = (instant + offset).replace(tzinfo=None)
    text = local.isoformat(sep=sep)
    minutes = int(offset.total_seconds() // 60)
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    suffix = {
        "Z": "Z",
        "naive": "",
        "+hh:mm": f"{sign}{minutes // 60:02d}:{minutes % 60:02d}",
        "+hhmm": f"{sign}{minutes // 60:02d}{minutes % 60:02d}",
        "+hh": f"{sign}{minutes // 60:02d}",
    }[fmt]
    return text + suffix, instant


@SETTINGS
@given(
    st.lists(
        st.tuples(_instants, _offsets, st.sampled_from(FORMATS), st.sampled_from(["T", " "])),
        min_size=1,
        max_size=30,
    )
)
def test_timestamps_in_every_accepted_format_parse_to_the_same_utc_instant(cases) -> None:
    rendered = [_render(*case) for case in cases]
    texts = [text for text, _ in rendered]
    parsed = pl.select(parse_time(pl.Series("t", texts))).to_series().to_list()
    assert parsed == [instant for _, instant in rendered], texts
    # the same rule for one value given on the command line (--since)
    assert parse_time_value(texts[0]) == rendered[0][1]


@SETTINGS
@given(st.lists(st.tuples(_instants, _offsets, st.sampled_from(FORMATS), st.just("T")), min_size=1, max_size=10))
def test_timestamps_survive_csv_and_ndjson(cases) -> None:
    rendered = [_render(*case) for case in cases]
    frame = pl.DataFrame(
        {"sender_id": "a", "receiver_id": "b", "coins": 1, "sent_at": [text for text, _ in rendered]}
    )
    for fmt in ("csv", "ndjson"):
        with tempfile.TemporaryDirectory() as tmp:
            _write(frame, Path(tmp), fmt)
            gifts = read_tables(tmp, max_bad_share=0.0).gifts
        assert gifts["sent_at"].to_list() == [instant for _, instant in rendered]


_ns_instants = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@SETTINGS
@given(
    st.lists(_ns_instants, min_size=1, max_size=10),
    st.sampled_from([None, "UTC", "Asia/Kolkata", "America/New_York"]),
    st.sampled_from(["ns", "us", "ms"]),
)
def test_native_parquet_datetimes_are_normalised_to_utc(instants, zone, unit) -> None:
    if unit == "ms":
        instants = [i.replace(microsecond=i.microsecond // 1000 * 1000) for i in instants]
    column = pl.Series("sent_at", [i.replace(tzinfo=None) for i in instants]).cast(pl.Datetime(unit))
    if zone is not None:  # tz-aware: the wall-clock time of the zone, which stands for the same instant
        column = column.dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
    n = len(instants)
    frame = pl.DataFrame({"sender_id": ["a"] * n, "receiver_id": ["b"] * n, "coins": [1.0] * n, "sent_at": column})
    with tempfile.TemporaryDirectory() as tmp:
        frame.write_parquet(Path(tmp) / "gifts.parquet")
        gifts = read_tables(tmp, max_bad_share=0.0).gifts
    assert gifts.schema["sent_at"] == pl.Datetime("us", "UTC")
    assert gifts["sent_at"].to_list() == instants


# --- nothing lost -----------------------------------------------------------------

_row = st.fixed_dictionaries(
    {
        "sender_id": st.sampled_from(["u1", "u2", "0042", "", " "]),
        "receiver_id": st.sampled_from(["h1", "h2", ""]),
        "coins": st.sampled_from(["5", "0", "2.5", "1e3", "-1", "-0.5", "abc", "", "nan", "inf", " 7 "]),
        "sent_at": st.sampled_from(
            ["2024-05-01T10:00:00Z", "1714557600", "2024-05-01", "yesterday", "", "2024-13-01", "1714557600000"]
        ),
        "gift_id": st.sampled_from(["g1", "g2", "g3", "g4", ""]),
    }
)


def _expected_reason(row: dict[str, str]) -> str | None:
    """An independent statement of the contract's row checks, in the reader's order."""
    import math

    if not row["sender_id"]:
        return "missing sender_id"
    if not row["receiver_id"]:
        return "missing receiver_id"
    if not row["coins"]:
        return "missing coins"
    try:
        coins = float(row["coins"])
    except ValueError:
        return "coins not a number"
    if coins < 0:
        return "negative coins"
    if math.isnan(coins) or math.isinf(coins):
        return "coins not a number"
    if not row["sent_at"]:
        return "missing sent_at"
    if row["sent_at"] in ("yesterday", "2024-13-01", "1714557600000"):
        return "unparseable sent_at"
    return None


@SETTINGS
@given(rows=st.lists(_row, min_size=1, max_size=40), fmt=st.sampled_from(["csv", "ndjson", "parquet"]))
def test_accepted_plus_rejected_is_rows_read(rows: list[dict[str, str]], fmt: str) -> None:
    schema = dict.fromkeys(["sender_id", "receiver_id", "coins", "sent_at", "gift_id"], pl.Utf8)
    frame = pl.DataFrame(rows, schema=schema)
    if fmt != "csv":  # CSV reads an empty field as missing; the other formats say so with null
        frame = frame.with_columns(pl.all().replace("", None))
    with tempfile.TemporaryDirectory() as tmp:
        _write(frame, Path(tmp), fmt)
        tables = read_tables(tmp, max_bad_share=1.0)
    stats = tables.stats["gifts"]
    assert stats.rows_read == len(rows)
    assert stats.accepted + stats.rejected == stats.rows_read
    assert tables.gifts.height == stats.accepted
    rejected = tables.rejected.get("gifts", pl.DataFrame({"row": [], "reason": []}))
    assert rejected.height == stats.rejected

    expected, seen = {}, set()
    for number, row in enumerate(rows, start=1):
        reason = _expected_reason(row)
        if reason is None and row["gift_id"]:
            reason = "duplicate gift_id" if row["gift_id"] in seen else None
            seen.add(row["gift_id"])
        if reason is not None:
            expected[number] = reason
    assert dict(zip(rejected["row"].to_list(), rejected["reason"].to_list())) == expected
    assert stats.rejected_by_reason == {
        r: list(expected.values()).count(r) for r in sorted(set(expected.values()))
    }
    # ids and values of the accepted rows are the file's, unchanged
    kept = [row for number, row in enumerate(rows, start=1) if number not in expected]
    assert tables.gifts["sender_id"].to_list() == [row["sender_id"] for row in kept]
    assert tables.gifts["coins"].to_list() == [float(row["coins"]) for row in kept]
