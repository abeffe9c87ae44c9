"""graphkit: find coordinated abuse rings on livestreaming platforms.

The pipeline reads the platform's tables (:func:`read_tables`), builds graphs
from them, detects communities and ring signals, and scores the rings with
reasons an investigator can paste into a case.
"""

from graphkit.config import Config, load_config
from graphkit.errors import GraphkitError
from graphkit.io import Tables, read_tables
from graphkit.model import Report, Ring
from graphkit.pipeline import analyze
from graphkit.util.version import __version__

__all__ = ["Config", "GraphkitError", "Report", "Ring", "Tables", "__version__", "analyze", "load_config", "read_tables"]
