"""Reading investigators' decisions (graphkit.io.labels.read_labels): what is accepted, what is rejected and why."""

from __future__ import annotations

import csv
from datetime import datetime, timezone

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphkit.errors import ColumnNotFoundError, InputError, TooManyRejectedError
from graphkit.io.labels import VERDICTS, read_labels

HEADER = ["ring_id", "user_id", "verdict", "note", "decided_at", "by"]
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _write(path, rows, header=HEADER):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _rejected(path, **known):
    with pytest.raises(TooManyRejectedError) as caught:
        read_labels(path, now=NOW, **known)
    return caught.value, {row["row"]: row["reason"] for row in caught.value.rejected["labels"].iter_rows(named=True)}


def test_a_good_file_gives_one_decision_per_row_with_verdicts_in_lower_case_and_times_in_utc(tmp_path):
    path = _write(tmp_path / "labels.csv", [
        ["R0003", "", " Benign ", "fan club, of h1", "2024-05-02 12:00:00+02:00", "ana"],
        ["", "007", "CONFIRMED", "", "1714557600", ""],
        ["", "u9", "unsure", "", "", "bo"],
    ])
    labels = read_labels(path, known_users={"007", "u9"}, known_rings={"R0003"}, now=NOW)
    rows = labels.decisions.rows(named=True)
    assert [(r["row"], r["ring_id"], r["user_id"], r["verdict"]) for r in rows] == [
        (1, "R0003", None, "benign"), (2, None, "007", "confirmed"), (3, None, "u9", "unsure")]
    assert rows[0]["note"] == "fan club, of h1" and rows[0]["by"] == "ana" and rows[1]["note"] is None
    assert rows[0]["decided_at"] == datetime(2024, 5, 2, 10, tzinfo=timezone.utc)
    assert rows[1]["decided_at"] == datetime(2024, 5, 1, 10, tzinfo=timezone.utc) and rows[2]["decided_at"] is None
    assert labels.rows_read == 3


def test_each_kind_of_bad_row_is_rejected_with_its_reason_and_the_message_names_file_row_column_and_fix(tmp_path):
    path = _write(tmp_path / "labels.csv", [
        ["R1", "", "benign", "", "2024-05-02", "ana"],           # 1 conflicts with 2
        ["R1", "", "confirmed", "", "2024-05-02", "bo"],         # 2
        ["", "u1", "benign", "", "2024-05-03", "ana"],           # 3 fine
        ["", "u1", "Benign", "again", "2024-05-03", "bo"],       # 4 repeats 3
        ["", "u2", "benign", "", "next week", ""],               # 5
        ["R2", "u3", "benign", "", "", ""],                      # 6
        ["", "ghost", "benign", "", "", ""],                     # 7
        ["R9", "", "benign", "", "", ""],                        # 8
        ["", "u4", "benign", "", "2030-01-01", ""],              # 9 after NOW
        ["", "", "benign", "", "", ""],                          # 10
        ["", "u5", "", "", "", ""],                              # 11
        ["", "u5", "maybe", "", "", ""],                         # 12
        ["", "u1", "confirmed", "", "2024-05-09", ""],           # 13 fine: a later decision about u1
    ])
    error, reasons = _rejected(path, known_users={"u1", "u2", "u3", "u4", "u5"}, known_rings={"R1", "R2"})
    assert reasons == {
        1: "conflicting verdicts", 2: "conflicting verdicts", 4: "duplicate decision", 5: "unparseable decided_at",
        6: "ring_id and user_id both given", 7: "unknown user_id", 8: "unknown ring_id", 9: "decided_at in the future",
        10: "missing ring_id and user_id", 11: "missing verdict", 12: "unknown verdict",
    }
    message = str(error)
    assert "\n" not in message and message.startswith(f"{path}: 11 of 13 rows rejected; row 1, column verdict:")
    assert "keep the verdict that holds" in message and "1 unknown ring_id" in message
    # the rows are kept as read, with their reasons
    rejected = error.rejected["labels"]
    assert rejected.columns == ["row", *HEADER, "reason"]
    assert rejected.filter(pl.col("row") == 5)["decided_at"].to_list() == ["next week"]


@pytest.mark.parametrize(("row", "column", "fix"), [
    (["", "u1", "perhaps", "", "", ""], "verdict", "write confirmed, benign or unsure"),
    (["", "nobody", "benign", "", "", ""], "user_id", "name an account of the data"),
    (["R7", "", "benign", "", "", ""], "ring_id", "name a ring of --previous out/day1"),
    (["", "u1", "benign", "", "31/12/2024", ""], "decided_at", "write decided_at as ISO-8601"),
])
def test_the_one_line_error_names_the_column_and_the_fix(tmp_path, row, column, fix):
    path = _write(tmp_path / "labels.csv", [row])
    error, _ = _rejected(path, known_users={"u1"}, known_rings={"R1"}, rings_from="--previous out/day1")
    assert f"row 1, column {column}:" in str(error) and fix in str(error)


def test_a_file_without_verdict_or_without_any_id_column_is_one_clear_error(tmp_path):
    with pytest.raises(ColumnNotFoundError, match=r"column 'verdict' is missing \(found 'Verdict'"):
        read_labels(_write(tmp_path / "a.csv", [["u1", "benign"]], header=["user_id", "Verdict"]))
    with pytest.raises(ColumnNotFoundError, match="needs a column 'ring_id' or 'user_id'"):
        read_labels(_write(tmp_path / "b.csv", [["u1", "benign"]], header=["account", "verdict"]))
    with pytest.raises(InputError, match="labels file not found"):
        read_labels(tmp_path / "missing.csv")


def test_parquet_and_ndjson_files_are_read_like_csv(tmp_path):
    frame = pl.DataFrame({"user_id": ["0042"], "verdict": ["benign"],
                          "decided_at": [datetime(2024, 5, 2, tzinfo=timezone.utc)]})
    frame.write_parquet(tmp_path / "labels.parquet")
    (tmp_path / "labels.ndjson").write_text('{"user_id": "0042", "verdict": "benign", "decided_at": "2024-05-02"}\n')
    for name in ("labels.parquet", "labels.ndjson"):
        got = read_labels(tmp_path / name, known_users={"0042"}).decisions
        assert got.select("user_id", "verdict", "decided_at").rows() == frame.rows()


# --- hypothesis: the reader against a plain-Python statement of the rules ----------------------------------------

_IDS = ["", "R1", "R2", "u1", "u2", "a,b", 'q"t', "é"]
_KNOWN_RINGS = {"R1", "R2", "a,b"}
_KNOWN_USERS = {"u1", "u2", 'q"t', "é", "R1"}
_VERDICT_TEXT = ["confirmed", "Benign", " unsure ", "CONFIRMED", "maybe", "", "benign "]
_TIMES = {"": None, "2024-05-01T10:00:00Z": "t1", "1714557600": "t1", "2024-05-02": "t2"}


def _expected(rows):
    """The rejected rows' reasons by the module's rules, written out row by row."""
    reasons = {}
    for i, (ring, user, verdict, _note, when, _by) in enumerate(rows, start=1):
        v = verdict.strip().lower()
        if verdict == "":
            reasons[i] = "missing verdict"
        elif not ring and not user:
            reasons[i] = "missing ring_id and user_id"
        elif ring and user:
            reasons[i] = "ring_id and user_id both given"
        elif v not in VERDICTS:
            reasons[i] = "unknown verdict"
        elif user and user not in _KNOWN_USERS:
            reasons[i] = "unknown user_id"
        elif ring and ring not in _KNOWN_RINGS:
            reasons[i] = "unknown ring_id"
    groups: dict[tuple, list[tuple[int, str]]] = {}
    for i, (ring, user, verdict, _note, when, _by) in enumerate(rows, start=1):
        if i not in reasons:
            groups.setdefault((ring, user, _TIMES[when]), []).append((i, verdict.strip().lower()))
    for members in groups.values():
        if len({v for _, v in members}) > 1:
            reasons.update({i: "conflicting verdicts" for i, _ in members})
        else:
            reasons.update({i: "duplicate decision" for i, _ in members[1:]})
    return reasons


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(_IDS), st.sampled_from(_IDS), st.sampled_from(_VERDICT_TEXT),
                          st.sampled_from(["", "a note, with a comma", "ünïcode"]), st.sampled_from(sorted(_TIMES)),
                          st.sampled_from(["", "ana"])), min_size=1, max_size=12))
def test_every_row_is_accepted_or_rejected_exactly_as_the_rules_say(tmp_path, rows):
    path = _write(tmp_path / "labels.csv", rows)
    expected = _expected(rows)
    if not expected:
        labels = read_labels(path, known_users=_KNOWN_USERS, known_rings=_KNOWN_RINGS, now=NOW)
        got = labels.decisions
        assert got["row"].to_list() == list(range(1, len(rows) + 1))
        assert got["verdict"].to_list() == [r[2].strip().lower() for r in rows]
        assert got["ring_id"].to_list() == [r[0] or None for r in rows]  # ids exactly as written
        assert got["user_id"].to_list() == [r[1] or None for r in rows]
        assert got["note"].to_list() == [r[3] or None for r in rows]
    else:
        error, reasons = _rejected(path, known_users=_KNOWN_USERS, known_rings=_KNOWN_RINGS)
        assert reasons == expected
        assert f"{len(expected)} of {len(rows)} rows rejected" in str(error) and "\n" not in str(error)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12),
                          st.sampled_from(VERDICTS),
                          st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2025, 12, 31),
                                       timezones=st.just(timezone.utc))),
                min_size=1, max_size=8, unique_by=lambda r: r[0]))
def test_any_account_id_and_time_written_by_polars_reads_back_unchanged(tmp_path, rows):
    frame = pl.DataFrame({"user_id": [r[0] for r in rows], "verdict": [r[1] for r in rows],
                          "decided_at": [r[2] for r in rows]}, schema={"user_id": pl.Utf8, "verdict": pl.Utf8,
                                                                        "decided_at": pl.Datetime("us", "UTC")})
    # an id that is blank once trimmed is "missing" in every table; the contract keeps other ids as they are
    frame = frame.filter(pl.col("user_id").str.len_bytes() > 0)
    if frame.height == 0:
        return
    frame.write_csv(tmp_path / "labels.csv")
    got = read_labels(tmp_path / "labels.csv", known_users=frame["user_id"], now=NOW).decisions
    assert got.select("user_id", "verdict", "decided_at").rows() == frame.rows()
