"""The synthetic platform as data: its tables (four, and flags when asked for) and their ground truth."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from graphkit.errors import ConfigError, InputError
from graphkit.io import Tables
from graphkit.util.atomic import atomic_directory, output_lock

__all__ = ["Platform", "FORMATS", "TRUTH_FILE"]

FORMATS = ("csv", "parquet")
TRUTH_FILE = "truth.json"
TABLE_NAMES = ("users", "streams", "devices", "gifts", "flags")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_OWNED = tuple(f"{name}.{fmt}" for name in TABLE_NAMES for fmt in FORMATS) + (TRUTH_FILE,)
"""The names :meth:`Platform.write` writes (in either format): replaced by the next write, the rest kept."""


@dataclass(frozen=True)
class Platform:
    """A generated livestream platform: four tables (and optionally ``flags``) and the rings planted in them.

    Attributes
    ----------
    users, streams, devices, gifts : polars.DataFrame
        The tables of the data contract, with canonical column names and
        types (ids ``Utf8``, times ``Datetime("us", "UTC")``, coins ``Float64``).
        ``users.label`` is ``"bad"`` for every member of a planted ring
        (beneficiary hosts included) and ``"good"`` otherwise.
    truth : dict
        ``{"generator", "seed", "params", "summary", "rings": [...], "lookalikes": [...]}``;
        see :func:`graphkit.synth.generate`.
    """

    users: pl.DataFrame
    streams: pl.DataFrame
    devices: pl.DataFrame
    gifts: pl.DataFrame
    truth: dict
    flags: pl.DataFrame | None = None
    """What the platform already knows (``user_id, kind, at``), or None: :func:`graphkit.synth.flags.with_flags`."""

    def frames(self) -> dict[str, pl.DataFrame]:
        """The tables by name (``flags`` only when there are flags)."""
        return {name: getattr(self, name) for name in TABLE_NAMES if getattr(self, name) is not None}

    def tables(self) -> Tables:
        """The tables validated as :class:`graphkit.io.Tables` (what ``read_tables`` would return).

        Examples
        --------
        >>> from graphkit.synth import generate
        >>> tables = generate(users=2_000, gifts=10_000, seed=1).tables()
        >>> tables.rejected_rows
        0
        """
        return Tables.from_frames(**self.frames())

    def write(self, out_dir: str | Path, format: str = "csv") -> list[Path]:
        """Write ``users``, ``streams``, ``devices``, ``gifts`` (and ``flags`` when there are some; CSV or Parquet)
        and ``truth.json``.

        The folder is written atomically: it is filled under a temporary name
        and swapped in, so a reader never sees half a data set. An existing
        ``out_dir`` is replaced only when it is empty or an earlier synth output
        (it holds a ``truth.json`` written by ``graphkit synth``); files the
        user added to it (a ``graphkit.toml``) are carried into the new one.

        Parameters
        ----------
        out_dir : path
            The data directory to create.
        format : {"csv", "parquet"}
            CSV times are ISO-8601 UTC with ``Z`` (second resolution).

        Returns
        -------
        list of Path
            The files written, in ``out_dir``.

        Raises
        ------
        ConfigError
            For an unknown format.
        InputError
            When ``out_dir`` is a file, or a non-empty folder that is not a synth output.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from graphkit.synth import generate
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "platform"
        >>> [p.name for p in generate(users=2_000, gifts=10_000, seed=1).write(out)]
        ['users.csv', 'streams.csv', 'devices.csv', 'gifts.csv', 'truth.json']
        """
        if format not in FORMATS:
            raise ConfigError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
        out_dir = Path(out_dir)
        with output_lock(out_dir):
            _check_replaceable(out_dir)
            with atomic_directory(out_dir, owned=_OWNED) as tmp:
                names = self.write_files(tmp, format)
        return [out_dir / n for n in names]

    def write_files(self, folder: Path, format: str = "csv") -> list[str]:
        """Write the four tables and ``truth.json`` into an existing ``folder`` (no lock, no swap: the
        caller's folder is already a temporary one); returns the file names."""
        names = []
        for name, frame in self.frames().items():
            path = Path(folder) / f"{name}.{format}"
            if format == "csv":
                frame.write_csv(path, datetime_format=_TIME_FORMAT)
            else:
                frame.write_parquet(path)
            names.append(path.name)
        (Path(folder) / TRUTH_FILE).write_text(json.dumps(self.truth, indent=1) + "\n", encoding="utf-8")
        names.append(TRUTH_FILE)
        return names


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder; choose a new output folder")
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return
    truth = out_dir / TRUTH_FILE
    try:
        previous = json.loads(truth.read_text(encoding="utf-8")).get("generator")
    except (OSError, ValueError, AttributeError):
        previous = None
    if previous != "graphkit synth":
        raise InputError(
            f"{out_dir}: folder exists and is not an earlier synth output (no truth.json from graphkit synth); "
            "choose a new or empty output folder"
        )
