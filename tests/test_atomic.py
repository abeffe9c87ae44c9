"""Atomic writes: what an output folder keeps, file modes, leftovers of dead runs, the lock.

The same mechanism writes every output folder (report, synth) and file
(export, views), so these tests drive it directly; the kill and concurrency
cases with real processes are in test_outdir_processes.py.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import polars as pl
import pytest

from graphkit.errors import InputError, OutputBusyError
from graphkit.util import atomic_directory, atomic_write_text, output_lock
from graphkit.report.export import write_graph
from graphkit.synth import generate


@pytest.fixture()
def umask_027():
    previous = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(previous)


def _modes(root: Path) -> dict[str, int]:
    paths = [root, *root.rglob("*")] if root.is_dir() else [root]
    return {str(p.relative_to(root.parent)): stat.S_IMODE(p.stat().st_mode) for p in paths}


def test_folders_and_files_follow_the_umask(tmp_path, umask_027):
    out = tmp_path / "out"
    with atomic_directory(out) as tmp:
        (tmp / "sub").mkdir()
        atomic_write_text("x", tmp / "sub" / "a.html")  # the views' writer
        (tmp / "b.csv").write_text("y")
    assert _modes(out) == {"out": 0o750, "out/sub": 0o750, "out/sub/a.html": 0o640, "out/b.csv": 0o640}


def test_export_and_synth_follow_the_umask(tmp_path, umask_027):
    nodes = pl.DataFrame({"id": ["a", "b"]})
    edges = pl.DataFrame({"source": ["a"], "target": ["b"], "weight": [1.0]})
    (path,) = write_graph(nodes, edges, tmp_path / "g.graphml")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    generate(users=1_000, gifts=5_000, seed=1).write(tmp_path / "platform")
    modes = _modes(tmp_path / "platform")
    assert modes.pop("platform") == 0o750
    assert set(modes.values()) == {0o640}, modes


def test_files_outside_owned_names_are_carried_into_the_new_folder(tmp_path):
    out = tmp_path / "out"
    with atomic_directory(out, owned=("data.csv", "views")) as tmp:
        (tmp / "data.csv").write_text("old")
        (tmp / "views").mkdir()
        (tmp / "views" / "R9.html").write_text("old view")
    (out / "case-notes.md").write_text("my notes")
    (out / "evidence").mkdir()
    (out / "evidence" / "shot.png").write_bytes(b"\x89PNG")
    with atomic_directory(out, owned=("data.csv", "views")) as tmp:
        (tmp / "data.csv").write_text("new")
    assert (out / "data.csv").read_text() == "new"
    assert not (out / "views").exists()  # owned, and not written this time: gone
    assert (out / "case-notes.md").read_text() == "my notes"
    assert (out / "evidence" / "shot.png").read_bytes() == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_by_default_only_the_names_written_are_replaced(tmp_path):
    out = tmp_path / "out"
    with atomic_directory(out) as tmp:
        (tmp / "a.txt").write_text("1")
    (out / "mine.txt").write_text("keep")
    with atomic_directory(out) as tmp:
        (tmp / "a.txt").write_text("2")
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a.txt": "2", "mine.txt": "keep"}


def test_writing_a_name_not_declared_owned_is_a_bug_and_commits_nothing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="surprise.txt"):
        with atomic_directory(out, owned=("a.txt",)) as tmp:
            (tmp / "surprise.txt").write_text("x")
    assert list(tmp_path.iterdir()) == []


def test_leftovers_of_a_dead_run_are_removed_and_a_swapped_out_folder_is_restored(tmp_path):
    out = tmp_path / "out"
    with atomic_directory(out) as tmp:
        (tmp / "a.txt").write_text("previous")
    (out / "notes.md").write_text("mine")
    # a run killed between its two renames: the previous folder is set aside, the new one not yet in place
    out.rename(tmp_path / ".out.999999-0badc0de.old")
    (tmp_path / ".out.999999-deadbeef.partial").mkdir()
    (tmp_path / ".out.abc_1234.partial").mkdir()  # the name older versions gave their partial folders
    (tmp_path / ".out.other.999999-deadbeef.partial").mkdir()  # not out's: another folder's
    with atomic_directory(out) as tmp:
        (tmp / "a.txt").write_text("next")
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a.txt": "next", "notes.md": "mine"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.other.999999-deadbeef.partial", "out"]


def test_a_second_writer_of_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    with output_lock(out):
        with atomic_directory(out) as tmp:  # the holder itself may write (the lock is re-entrant)
            (tmp / "a.txt").write_text("1")
        fd = os.open(tmp_path / ".out.lock", os.O_RDWR)
        try:
            import fcntl

            with pytest.raises(BlockingIOError):  # another process (another open file) cannot take it
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the lock file goes with the lock


def test_busy_error_names_the_folder_and_the_other_run(tmp_path):
    out = tmp_path / "out"
    lock = tmp_path / ".out.lock"
    lock.write_text("4242\n")
    import fcntl

    fd = os.open(lock, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a lock held through another open file: as another process holds it
    try:
        with pytest.raises(OutputBusyError, match=rf"another graphkit run \(pid 4242\) is writing {out}"):
            with atomic_directory(out):
                pass
    finally:
        os.close(fd)
    assert not out.exists()


def test_an_unwritable_parent_is_one_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match=r"cannot write .*file"):
        with output_lock(tmp_path / "file" / "out"):
            pass


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_parent_is_one_clear_error(tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir(mode=0o500)
    try:
        with pytest.raises(InputError, match="cannot write"):
            with output_lock(parent / "out"):
                pass
    finally:
        parent.chmod(0o700)


def test_an_out_dir_that_is_a_link_writes_into_the_folder_it_points_to(tmp_path):
    """``latest -> 2024-05-02``: the report goes into the linked folder (the link stays a link, one lock
    for both names); before, the link was replaced by a new folder and the target went stale."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "a.txt").write_text("theirs")
    (target / "notes.md").write_text("mine")
    (tmp_path / "out").symlink_to(target)
    with atomic_directory(tmp_path / "out", owned=("a.txt",)) as tmp:
        (tmp / "a.txt").write_text("new")
    out = tmp_path / "out"
    assert out.is_symlink() and out.resolve() == target.resolve()
    assert {p.name: p.read_text() for p in target.iterdir()} == {"a.txt": "new", "notes.md": "mine"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "out"]


def test_an_out_dir_that_is_a_dangling_link_is_refused(tmp_path):
    (tmp_path / "out").symlink_to(tmp_path / "gone")
    with pytest.raises(InputError, match="does not exist"):
        with atomic_directory(tmp_path / "out", owned=("a.txt",)) as tmp:
            (tmp / "a.txt").write_text("new")
    assert not (tmp_path / "gone").exists()


def test_a_file_where_the_folder_should_go_is_refused_and_kept(tmp_path):
    (tmp_path / "out").write_text("someone's file")
    with pytest.raises(InputError, match="exists and is not a folder"):
        with atomic_directory(tmp_path / "out") as tmp:
            (tmp / "a.txt").write_text("x")
    assert (tmp_path / "out").read_text() == "someone's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
