"""Speed, memory and hub-cap measurements of graphkit.graphs / graphkit.detect (not a test).

Usage (from the repository root)::

    .venv/bin/python -m benchmarks.bench_graphs scale --users 1500000 --gifts 10000000
    .venv/bin/python -m benchmarks.bench_graphs run DATA_DIR [--workers 1]
    .venv/bin/python -m benchmarks.bench_graphs leiden --edges 1000000 [--networkx]
    .venv/bin/python -m benchmarks.bench_graphs hubcap DATA_DIR [--caps 10,20,50,100,200,1000]

``scale`` generates a platform with numpy (power-law hosts and senders,
streams, households, carrier NAT IPs, farms) into ``benchmarks/.cache/``, then
runs read -> build_graphs -> Leiden (CPM) -> PageRank in a fresh process, as
``graphkit.analyze`` does (the Leiden in a child process with ``--workers 2``,
the default, while the entity graph and PageRank are computed), and reports
each stage's time and the peak RSS of the process and of its child.

``hubcap`` reads a data directory written by ``graphkit synth`` (with its
``truth.json``) and, for each cap, reports the shared-projection size, the
share of in-ring shared pairs kept, whether each account farm stays connected,
and the largest connected component of the shared graph (the "one blob").
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks.child import rss_mb

CACHE = Path(__file__).resolve().parent / ".cache"
DAY = 86_400


def generate(users: int, gifts: int, seed: int, out: Path) -> None:
    """A plain synthetic platform written as Parquet (fast; no planted-ring truth beyond farms)."""
    rng = np.random.default_rng(seed)
    t0 = 1_714_521_600  # 2024-05-01
    n_hosts = max(users // 30, 10)
    uid = np.arange(users)
    names = pl.Series("user_id", uid).cast(pl.Utf8).str.zfill(9)
    hosts = rng.choice(users, n_hosts, replace=False)
    # streams: ~10 per host, 2 hours each, over 30 days
    n_streams = n_hosts * 10
    s_host = np.repeat(hosts, 10)
    s_start = t0 + rng.integers(0, 30 * DAY, n_streams)
    # gifts: stream by host popularity (Zipf), sender by activity (Zipf)
    pop = 1.0 / np.arange(1, n_hosts + 1) ** 1.1
    stream_p = np.repeat(pop / pop.sum() / 10, 10)
    g_stream = rng.choice(n_streams, gifts, p=stream_p / stream_p.sum())
    act = 1.0 / np.arange(1, users + 1) ** 0.8
    g_sender = rng.choice(users, gifts, p=act / act.sum())
    g_time = s_start[g_stream] + rng.integers(0, 2 * 3600, gifts)
    g_coins = rng.choice([1, 5, 10, 30, 99, 199, 999], gifts, p=[0.4, 0.25, 0.15, 0.1, 0.06, 0.03, 0.01]).astype(float)
    pl.DataFrame(
        {
            "sender_id": names.gather(g_sender),
            "receiver_id": names.gather(s_host[g_stream]),
            "coins": g_coins,
            "sent_at": pl.Series(g_time * 1_000_000).cast(pl.Datetime("us", "UTC")),
            "stream_id": pl.Series(g_stream).cast(pl.Utf8).str.zfill(8),
        }
    ).write_parquet(out / "gifts.parquet")
    pl.DataFrame(
        {"stream_id": pl.Series(np.arange(n_streams)).cast(pl.Utf8).str.zfill(8), "host_id": names.gather(s_host),
         "started_at": pl.Series(s_start * 1_000_000).cast(pl.Datetime("us", "UTC"))}
    ).write_parquet(out / "streams.parquet")
    # devices: own phone, household IP (1-4 accounts), some via carrier NAT (200 IPs), farms of 40 on 3 emulators
    household = uid // rng.integers(1, 5)
    nat = rng.integers(0, 200, users)
    via_nat = rng.random(users) < 0.5
    ip = np.where(via_nat, pl.Series(nat).cast(pl.Utf8).to_numpy().astype(object), None)
    home = ("h" + pl.Series(household).cast(pl.Utf8)).to_numpy().astype(object)
    dev = ("d" + pl.Series(uid).cast(pl.Utf8)).to_numpy().astype(object)
    farm = uid[: (users // 1000) * 40].reshape(-1, 40) if users >= 1000 else uid[:0].reshape(-1, 40)
    farm_dev = np.array([f"emu{f}_{k}" for f in range(len(farm)) for k in range(3)], dtype=object).reshape(-1, 3)
    f_users = farm.ravel()
    f_dev = farm_dev[np.arange(len(farm)).repeat(40), rng.integers(0, 3, f_users.size)]
    pl.DataFrame(
        {
            "user_id": pl.concat([names, names, names.gather(f_users)]),
            "device_id": pl.Series(np.concatenate([dev, dev, f_dev]), dtype=pl.Utf8),
            "ip": pl.Series(np.concatenate([home, ip, np.full(f_users.size, None, dtype=object)]), dtype=pl.Utf8),
        }
    ).write_parquet(out / "devices.parquet")
    pl.DataFrame({"user_id": names}).write_parquet(out / "users.parquet")


def run(data_dir: Path, resolution: float, workers: int = 2) -> dict:
    """Read, build every graph, Leiden, PageRank: seconds per stage and peak RSS (run in a fresh process).

    As in :func:`graphkit.analyze`: with ``workers=2`` the user graph's Leiden runs in a child process
    (:func:`graphkit.detect.communities.user_communities`) while this one builds the entity graph and
    runs PageRank; ``seconds_build_to_pagerank`` is the wall time from the start of the build to the
    last of the three. Peak RSS is the larger of this process's own peak and the sampled peak of this
    process and its child together.
    """
    from graphkit import Config, read_tables
    from graphkit.graphs import build_graphs
    from graphkit.detect.centrality import centrality
    from graphkit.detect.communities import user_communities

    cfg = Config(resolution=resolution)
    times: dict[str, float] = {}
    sampler = _TreeRss()
    t = time.perf_counter()
    tables = read_tables(data_dir)
    times["read_tables"] = time.perf_counter() - t
    start = t = time.perf_counter()
    graphs = build_graphs(tables, cfg)
    times["build_graphs"] = time.perf_counter() - t
    t = time.perf_counter()
    with user_communities(graphs, cfg, workers=workers) as communities:
        times["user_edges_and_start"] = time.perf_counter() - t
        t = time.perf_counter()
        n_entity_edges = graphs.entity_edges.height  # the entity graph is built on first use
        times["entity_graph"] = time.perf_counter() - t
        t = time.perf_counter()
        gg = graphs.gift_graph()
        pr = gg.pagerank(weights="coins")
        times["pagerank"] = time.perf_counter() - t
        t = time.perf_counter()
        membership = communities()
        times["waiting_for_communities"] = time.perf_counter() - t
    total = time.perf_counter() - start
    t = time.perf_counter()
    cent = centrality(graphs, cfg, with_betweenness=False)
    times["centrality_no_betweenness"] = time.perf_counter() - t
    sizes = np.bincount(membership)
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    return {
        "users": graphs.n_users,
        "gifts": graphs.gifts.height,
        "gift_pairs": graphs.gift_flow.height,
        "shared_edges": graphs.shared.height,
        "cogift_edges": graphs.cogift.height,
        "user_graph_edges": graphs.user_edges(cfg).height,
        "entity_edges": n_entity_edges,
        "workers": workers,
        "communities": len(sizes),
        "largest_community": int(sizes.max()),
        "seconds": {k: round(v, 2) for k, v in times.items()},
        "seconds_build_to_pagerank": round(total, 1),
        "peak_rss_gb": round(max(own_peak, sampler.stop()), 2),
        "_": (len(pr), cent.height),
    }


class _TreeRss:
    """Peak resident memory of this process and its children together, sampled every 0.2 s from ``/proc``.

    (``RUSAGE_CHILDREN`` would count a child's pages shared with this process right after the fork.)
    """

    def __init__(self) -> None:
        import threading

        self.peak_gb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import os

        me = os.getpid()
        while not self._done.wait(0.2):
            mb = rss_mb(lambda pid, ppid, _: pid == me or ppid == me)
            self.peak_gb = max(self.peak_gb, mb * 2**20 / 1e9)

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self.peak_gb


def leiden_bench(edges: int, with_networkx: bool) -> dict:
    import igraph as ig

    from graphkit.detect.communities import detect_communities

    rng = np.random.default_rng(0)
    n = edges // 5
    g = ig.Graph(n=n)
    pairs = rng.integers(0, n, size=(edges, 2))
    g.add_edges(pairs[pairs[:, 0] != pairs[:, 1]])
    g.es["weight"] = rng.random(g.ecount()).tolist()
    out = {"vertices": n, "edges": g.ecount()}
    for objective, res in (("CPM", 0.05), ("modularity", 1.0)):
        t = time.perf_counter()
        detect_communities(g, objective=objective, resolution=res, seed=0)
        out[f"igraph_leiden_{objective}_s"] = round(time.perf_counter() - t, 2)
    if with_networkx:
        import networkx as nx

        h = nx.Graph()
        h.add_weighted_edges_from(zip(*(np.asarray(g.get_edgelist()).T.tolist()), g.es["weight"]))
        t = time.perf_counter()
        nx.community.louvain_communities(h, weight="weight", seed=0)
        out["networkx_louvain_s"] = round(time.perf_counter() - t, 2)
    return out


def hubcap(data_dir: Path, caps: list[int]) -> list[dict]:
    from graphkit import Config, read_tables
    from graphkit.graphs import build_index
    from graphkit.graphs.projections import encode_devices, identifier_links, shared_projection

    tables = read_tables(data_dir)
    truth = json.loads((data_dir / "truth.json").read_text())
    index = build_index(tables)
    links = identifier_links(encode_devices(tables.devices, index))
    ring_of = pl.DataFrame(
        [(m, r["ring_id"], r["kind"]) for r in truth["rings"] for m in r["members"]
         if m not in set(r.get("beneficiaries", []))],
        schema=["user_id", "ring", "kind"], orient="row",
    ).unique("user_id")
    ring_of = index.encode(ring_of, "user_id", as_="uid").drop_nulls("uid")
    rows = []
    base_in_ring = None
    import igraph as ig

    for cap in caps:
        t = time.perf_counter()
        shared = shared_projection(links, cap)
        seconds = time.perf_counter() - t
        tagged = shared.join(ring_of.select(pl.col("uid").alias("a"), pl.col("ring").alias("ra")), on="a", how="left") \
            .join(ring_of.select(pl.col("uid").alias("b"), pl.col("ring").alias("rb")), on="b", how="left")
        in_ring = tagged.filter(pl.col("ra") == pl.col("rb")).height
        base_in_ring = base_in_ring or in_ring
        g = ig.Graph(n=index.n_users)
        g.add_edges(np.column_stack([shared["a"].to_numpy(), shared["b"].to_numpy()]).astype(np.int64))
        comp = np.asarray(g.connected_components().membership)
        farms = ring_of.filter(pl.col("kind") == "account_farm").with_columns(
            pl.Series("comp", comp[ring_of.filter(pl.col("kind") == "account_farm")["uid"].to_numpy()]))
        intact = farms.group_by("ring").agg(pl.col("comp").n_unique() == 1).select(pl.col("comp").sum()).item()
        rows.append({
            "hub_cap": cap,
            "shared_edges": shared.height,
            "seconds": round(seconds, 2),
            "in_ring_pairs_kept": in_ring,
            "hubs_left_out": int((links.group_by("kind", "ident").len()["len"] > cap).sum()),
            "farms_connected": f"{intact}/{farms['ring'].n_unique()}",
            "largest_component_share": round(float(np.bincount(comp).max() / index.n_users), 3),
        })
    top = max(r["in_ring_pairs_kept"] for r in rows) or 1
    for r in rows:
        r["in_ring_pairs_kept_share"] = round(r["in_ring_pairs_kept"] / top, 4)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("scale")
    s.add_argument("--users", type=int, default=1_500_000)
    s.add_argument("--gifts", type=int, default=10_000_000)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--resolution", type=float, default=0.05)
    r = sub.add_parser("run")
    r.add_argument("data_dir", type=Path)
    r.add_argument("--resolution", type=float, default=0.05)
    r.add_argument("--workers", type=int, default=2)
    lb = sub.add_parser("leiden")
    lb.add_argument("--edges", type=int, default=1_000_000)
    lb.add_argument("--networkx", action="store_true")
    h = sub.add_parser("hubcap")
    h.add_argument("data_dir", type=Path)
    h.add_argument("--caps", default="10,20,30,40,50,60,80,100,200,500,1000")
    args = parser.parse_args(argv)
    if args.cmd == "scale":
        out = CACHE / f"scale-{args.users}-{args.gifts}-{args.seed}"
        if not (out / "gifts.parquet").exists():
            out.mkdir(parents=True, exist_ok=True)
            t = time.perf_counter()
            generate(args.users, args.gifts, args.seed, out)
            print(f"generated {out} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_graphs", "run", str(out), "--resolution", str(args.resolution)],
            check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent,
        )
        print(proc.stdout.strip())
    elif args.cmd == "run":
        result = run(args.data_dir, args.resolution, args.workers)
        result.pop("_")
        print(json.dumps(result, indent=2))
    elif args.cmd == "leiden":
        print(json.dumps(leiden_bench(args.edges, args.networkx), indent=2))
    else:
        print(json.dumps(hubcap(args.data_dir, [int(c) for c in args.caps.split(",")]), indent=2))


if __name__ == "__main__":
    main()
