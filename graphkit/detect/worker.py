"""``python -m graphkit.detect.worker DIR``: the lockstep Leiden run in a second process.

:func:`graphkit.detect.candidates.lockstep_groups` writes the repeated
co-gifting pairs to ``DIR`` (``a.npy``, ``b.npy``, ``weight.npy`` and
``settings.json``), starts this module with the same Python, and reads back
``membership.npy``. A plain child process (not :mod:`multiprocessing`) so
that nothing of the caller's program is imported again: a script without an
``if __name__ == "__main__"`` guard, a notebook, a CLI all work the same.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def run(folder: Path) -> None:
    """Read the inputs in ``folder``, write ``membership.npy`` there (atomically: a temporary name, then a rename)."""
    from graphkit.detect.candidates import lockstep_membership

    settings = json.loads((folder / "settings.json").read_text())
    arrays = {name: np.load(folder / f"{name}.npy") for name in ("a", "b", "weight")}
    membership = lockstep_membership(arrays["a"], arrays["b"], arrays["weight"], **settings)
    np.save(folder / "membership.tmp.npy", membership)
    (folder / "membership.tmp.npy").rename(folder / "membership.npy")


if __name__ == "__main__":
    run(Path(sys.argv[1]))
