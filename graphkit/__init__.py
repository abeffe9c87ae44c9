"""graphkit: find coordinated abuse rings on livestreaming platforms.

The pipeline reads the platform's tables (:func:`read_tables`), builds graphs
from them, detects communities and ring signals, and scores the rings with
reasons an investigator can paste into a case.

``import graphkit`` is light: the names that need polars, igraph or the
pipeline (:func:`analyze`, :func:`read_tables`, :class:`Tables`,
:class:`Report`, :class:`Ring`) are imported on first use (PEP 562), so that
``graphkit -h`` and the commands that do not analyse start without loading
igraph, networkx or matplotlib.

Examples
--------
>>> import graphkit
>>> graphkit.Config().hub_cap
50
>>> graphkit.analyze.__module__
'graphkit.pipeline'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphkit.config import Config, load_config
from graphkit.errors import GraphkitError
from graphkit.util.lazy import lazy_exports
from graphkit.util.version import __version__

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from graphkit.io import Tables, read_tables
    from graphkit.model import Report, Ring
    from graphkit.pipeline import analyze
    from graphkit.report.store import open_report

__all__ = ["Config", "GraphkitError", "Report", "Ring", "Tables", "__version__", "analyze", "load_config", "open_report", "read_tables"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "Tables": "graphkit.io",
    "read_tables": "graphkit.io",
    "Report": "graphkit.model",
    "Ring": "graphkit.model",
    "analyze": "graphkit.pipeline",
    "open_report": "graphkit.report.store",
})
