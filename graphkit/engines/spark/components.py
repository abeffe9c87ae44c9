"""Connected components of a Spark edge frame: the work units of the Spark engine.

Two implementations, chosen explicitly (:func:`connected_components`):
GraphFrames' ``connectedComponents`` when its jar is on the classpath, else
the alternating large-star / small-star algorithm of Kiveris et al. on plain
DataFrames, checkpointed every few rounds so that its lineage stays short.

References
----------
R. Kiveris, S. Lattanzi, V. Mirrokni, V. Rastogi, S. Vassilvitskii,
"Connected Components in MapReduce and Beyond", SoCC 2014.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphkit.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["COMPONENT_METHODS", "connected_components", "graphframes_available", "star_components"]

COMPONENT_METHODS = ("auto", "graphframes", "star")
"""``auto``: GraphFrames when its jar is on the classpath, else ``star``."""

_CHECKPOINT_EVERY = 3
"""Rounds (one large-star and one small-star each) between checkpoints."""
_MAX_ROUNDS = 200
"""More than enough: the algorithm converges in O(log^2 n) rounds."""


def graphframes_available(spark: "SparkSession") -> bool:
    """Whether GraphFrames (its Python package and its jar) can run in ``spark``."""
    import importlib.util

    if importlib.util.find_spec("graphframes") is None:
        return False
    try:
        spark.sparkContext._jvm.java.lang.Class.forName("org.graphframes.GraphFrame")  # type: ignore[union-attr]
    except Exception:  # a Py4J error: the class is not on the classpath
        return False
    return True


def connected_components(vertices: "DataFrame", edges: "DataFrame", *, method: str = "auto") -> tuple["DataFrame", str]:
    """The component of every vertex.

    Parameters
    ----------
    vertices : pyspark.sql.DataFrame
        ``id`` (long), one row per vertex (vertices without edges are their own component).
    edges : pyspark.sql.DataFrame
        ``src``, ``dst`` (long): undirected; loops and repeats allowed.
    method : {"auto", "graphframes", "star"}
        ``graphframes`` fails when the GraphFrames jar is not on the
        classpath; ``auto`` uses it when it is, and ``star`` otherwise.

    Returns
    -------
    (pyspark.sql.DataFrame, str)
        ``id``, ``component`` (the smallest vertex id of the component), and
        the method used.
    """
    from pyspark.sql import functions as F

    if method not in COMPONENT_METHODS:
        raise ConfigError(f"components method {method!r} is not one of {', '.join(COMPONENT_METHODS)}")
    spark = vertices.sparkSession
    if method == "graphframes" or (method == "auto" and graphframes_available(spark)):
        if not graphframes_available(spark):
            raise ConfigError("components method 'graphframes' needs the graphframes package and its jar on the "
                              "classpath (--spark-conf spark.jars.packages=...); use 'star' or 'auto' without it")
        from graphframes import GraphFrame

        found = GraphFrame(vertices.select("id"), edges.select("src", "dst")).connectedComponents()
        return found.select("id", "component"), "graphframes"
    roots = star_components(edges)
    found = vertices.select("id").join(roots, on="id", how="left").select(
        "id", F.coalesce("component", "id").alias("component"))
    return found, "star"


def star_components(edges: "DataFrame") -> "DataFrame":
    """Large-star / small-star connected components of ``edges`` (``src``, ``dst``: long).

    Returns
    -------
    pyspark.sql.DataFrame
        ``id``, ``component`` (the smallest id of its component) for every
        vertex with at least one edge to another vertex.

    Notes
    -----
    Each round is a large-star step (every vertex links its larger
    neighbours to the smallest id of its neighbourhood) and a small-star step
    (every vertex links itself and its smaller neighbours to the smallest of
    them); both keep the components and shrink their diameter, and the edges
    stop changing when every vertex links straight to its component's
    smallest id. Every ``_CHECKPOINT_EVERY`` rounds the edge frame is
    checkpointed (reliably when the SparkContext has a checkpoint folder,
    else locally).
    """
    from pyspark.sql import functions as F

    current = (
        edges.select(F.least("src", "dst").alias("a"), F.greatest("src", "dst").alias("b"))
        .where(F.col("a") != F.col("b")).distinct()
    )
    current = _checkpoint(current)
    seen = _fingerprint(current)
    for round_ in range(1, _MAX_ROUNDS + 1):
        following = _small_star(_large_star(current))
        following = _checkpoint(following) if round_ % _CHECKPOINT_EVERY == 0 else following.cache()
        now = _fingerprint(following)
        current.unpersist()
        current = following
        if now == seen:  # no edge changed
            break
        seen = now
    else:  # pragma: no cover - the algorithm converges in O(log^2 n) rounds
        raise RuntimeError(f"connected components did not converge in {_MAX_ROUNDS} rounds")
    # now every edge is (root, member) with root the smallest id of the component
    members = current.select(F.col("b").alias("id"), F.col("a").alias("component"))
    roots = current.select(F.col("a").alias("id"), F.col("a").alias("component")).distinct()
    return members.unionByName(roots).groupBy("id").agg(F.min("component").alias("component"))


def _large_star(edges: "DataFrame") -> "DataFrame":
    """(a < b) edges -> for each vertex u, its larger neighbours linked to min(u, N(u))."""
    from pyspark.sql import functions as F

    both = edges.select(F.col("a").alias("u"), F.col("b").alias("v")).unionByName(
        edges.select(F.col("b").alias("u"), F.col("a").alias("v")))
    smallest = both.groupBy("u").agg(F.least(F.min("v"), F.first("u")).alias("m"))
    return (both.join(smallest, on="u").where(F.col("v") > F.col("u"))
            .select(F.least("v", "m").alias("a"), F.greatest("v", "m").alias("b"))
            .where(F.col("a") != F.col("b")).distinct())


def _small_star(edges: "DataFrame") -> "DataFrame":
    """(a < b) edges -> for each vertex u, u and its smaller neighbours linked to the smallest of them."""
    from pyspark.sql import functions as F

    down = edges.select(F.col("b").alias("u"), F.col("a").alias("v"))
    smallest = down.groupBy("u").agg(F.min("v").alias("m"))
    linked = down.join(smallest, on="u").select(F.col("v").alias("x"), "m").unionByName(
        smallest.select(F.col("u").alias("x"), "m"))
    return (linked.select(F.least("x", "m").alias("a"), F.greatest("x", "m").alias("b"))
            .where(F.col("a") != F.col("b")).distinct())


def _fingerprint(edges: "DataFrame") -> tuple[int, int, int]:
    """The edge count and two order-free 64-bit sums of the edges' hashes: equal for equal edge sets, and in
    practice only for them (one action, where comparing the sets would take two joins)."""
    from pyspark.sql import functions as F

    row = edges.agg(F.count("*").alias("n"),
                    F.sum(F.xxhash64("a", "b").cast("decimal(38,0)")).alias("h1"),
                    F.sum(F.hash("b", "a").cast("decimal(38,0)")).alias("h2")).first()
    return int(row["n"]), int(row["h1"] or 0), int(row["h2"] or 0)


def _checkpoint(frame: "DataFrame") -> "DataFrame":
    reliable = frame.sparkSession.sparkContext.getCheckpointDir() is not None
    return frame.checkpoint(eager=True) if reliable else frame.localCheckpoint(eager=True)
