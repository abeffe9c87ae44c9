"""Names a package exports but imports on first use (PEP 562), so that importing it stays light.

``graphkit``, ``graphkit.graphs`` and ``graphkit.report`` export functions
whose modules import igraph, networkx or the detectors. Importing one of
their light members (a constant, a submodule such as ``graphkit.report.reader``)
must not load those: ``graphkit -h`` reads only the command modules.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable

__all__ = ["lazy_exports"]


def lazy_exports(package: str, names: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` that import each of ``names`` from its module on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : dict
        Exported name -> the module that defines it.

    Returns
    -------
    (callable, callable)
        To assign to the package's ``__getattr__`` and ``__dir__``. A name,
        once imported, is stored in the package, so later accesses are
        plain attribute lookups; an unknown name raises ``AttributeError``.

    Examples
    --------
    >>> getattr_, dir_ = lazy_exports("graphkit", {"analyze": "graphkit.pipeline"})
    >>> getattr_("analyze").__module__, "analyze" in dir_()
    ('graphkit.pipeline', True)
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
