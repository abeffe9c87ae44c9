"""Engines other than the local one (polars + igraph, :func:`graphkit.pipeline.analyze`).

Each engine runs the same stages on its own frames and calls graphkit's own
graph functions per work unit; see ``docs/architecture.md`` ("An engine").
"""
