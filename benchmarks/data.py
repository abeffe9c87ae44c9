"""Synthetic platforms for the benchmarks, generated once and cached as Parquet.

``benchmarks/.cache/synth-<gifts>-s<seed>/`` (git-ignored) holds what
``graphkit synth OUT --users U --gifts G --seed S --format parquet`` writes.
Accounts are 15% of the gift count (10^7 gifts on 1.5M accounts), as on a
platform where most viewers gift a few times a month.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["CACHE", "OUT", "ROOT", "platform_dir", "users_for"]

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
OUT = ROOT / "benchmarks" / "out"
USERS_PER_GIFT = 0.15


def users_for(gifts: int) -> int:
    """Accounts generated for ``gifts`` gifts (at least graphkit synth's minimum of 1,000)."""
    return max(1_000, int(gifts * USERS_PER_GIFT))


def platform_dir(gifts: int, seed: int, *, users: int | None = None, ring_size_max: int | None = None) -> Path:
    """The cached synth platform of ``gifts`` gifts and ``seed``; generated (in a child process) when missing.

    With ``ring_size_max``, ``graphkit synth --ring-size-max`` (heavy-tailed ring sizes and the big look-alikes).
    """
    users = users or users_for(gifts)
    path = CACHE / (f"synth-{gifts}-u{users}-s{seed}" + (f"-r{ring_size_max}" if ring_size_max else ""))
    if not (path / "truth.json").is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-c", "from graphkit_cli.main import cli; cli()", "synth", str(path), "--users", str(users), "--gifts",
             str(gifts), "--seed", str(seed), "--format", "parquet",
             *(["--ring-size-max", str(ring_size_max)] if ring_size_max else [])],
            check=True, stdout=subprocess.DEVNULL,
        )
    return path
