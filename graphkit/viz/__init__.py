"""Self-contained, offline, script-safe HTML views (vis-network from the pyvis package).

- :func:`render_network`: any node/edge frames -> one HTML page.
- :func:`ring_view`, :func:`overview`, :func:`write_views`: the report's pages.
- :func:`expand_view`: the escalation view of ``graphkit expand``.
- :func:`diff_view`: the overview of ``graphkit diff`` (``diff.html``), rings coloured by status.
- :func:`show`: display a view inline in a notebook.
- :class:`Redactor`, :func:`load_or_create_key`: keyed pseudonyms (``--redact``).
- :mod:`~graphkit.viz.timeline`: the coins-over-time histogram under a view and its brush.
"""

from graphkit.viz.diff_page import diff_view
from graphkit.viz.network import LegendItem, TableBlock, render_network, script_json
from graphkit.viz.redact import Redactor, load_or_create_key
from graphkit.viz.views import evidence_view, expand_view, overview, ring_view, show, write_views

__all__ = [
    "LegendItem",
    "diff_view",
    "Redactor",
    "TableBlock",
    "evidence_view",
    "expand_view",
    "load_or_create_key",
    "overview",
    "render_network",
    "ring_view",
    "script_json",
    "show",
    "write_views",
]
