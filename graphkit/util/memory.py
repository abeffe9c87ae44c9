"""How much memory a run may still use: the kernel's estimate, within the container's limit.

psutil is not a dependency: on Linux this reads ``MemAvailable`` from
``/proc/meminfo`` (what the kernel can give without swapping) and, under a
cgroup v2 memory limit, the room left below it; elsewhere it asks
``os.sysconf`` for the free physical pages.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["available_memory"]


def available_memory(meminfo: str | Path = "/proc/meminfo", cgroup: str | Path = "/sys/fs/cgroup") -> int | None:
    """Bytes of memory available to this process now, or None when it cannot be told.

    Parameters
    ----------
    meminfo, cgroup : path
        Where Linux publishes them (other paths for tests).

    Returns
    -------
    int or None
        The smallest of ``MemAvailable`` and, under a cgroup v2 limit,
        ``memory.max - memory.current``; ``os.sysconf`` free pages where
        ``/proc/meminfo`` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "meminfo").write_text("MemTotal: 8000 kB\\nMemAvailable: 4000 kB\\n")
    >>> available_memory(folder / "meminfo", cgroup=folder)
    4096000
    >>> _ = (folder / "memory.max").write_text("3000000\\n"); _ = (folder / "memory.current").write_text("1000000\\n")
    >>> available_memory(folder / "meminfo", cgroup=folder)
    2000000
    """
    found = []
    try:
        for line in Path(meminfo).read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path(cgroup, "memory.max").read_text().strip()
        if limit != "max":
            found.append(max(0, int(limit) - int(Path(cgroup, "memory.current").read_text().strip())))
    except (OSError, ValueError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError, AttributeError):
            return None
    return min(found)
