"""Time drawing HTML views in headless Chromium (Debian's chromium; ``make browser``).

Renders random evidence-like networks of 300, 2,000 and 10,000 nodes (three
edges per node) with :func:`graphkit.viz.render_network`, opens each file
offline and measures, from navigation start, the time until vis-network's
first ``afterDrawing`` (``window.gkFirstDrawn``) and until the view is ready
(stabilised when physics is on). Views above ``max_nodes`` are capped, so the
10,000-node run is also measured uncapped.

Run: ``.venv/bin/python -m benchmarks.bench_views`` (or ``python -m benchmarks views``)
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from graphkit.viz import render_network

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
TYPES = np.array(["account", "account", "account", "device", "ip", "stream"])


def network(n: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.array([f"n{i}" for i in range(n)])
    nodes = pl.DataFrame({"id": ids, "label": ids, "type": rng.choice(TYPES, n), "group": rng.choice(TYPES, n),
                          "size": rng.uniform(8, 40, n), "tooltip": [f"account n{i}\nscore 0.5" for i in range(n)],
                          "importance": rng.random(n)})
    m = 3 * n
    edges = pl.DataFrame({"source": ids[rng.integers(0, n, m)], "target": ids[rng.integers(0, n, m)],
                          "relation": rng.choice(["gifted", "used_device", "used_ip"], m),
                          "width": rng.uniform(1, 6, m), "tooltip": ["gift"] * m})
    return nodes, edges


def measure(cases: list[tuple[int, int]] | None = None) -> list[dict]:
    """Render and draw each ``(nodes, max_nodes)`` case; one dict of timings per case."""
    from playwright.sync_api import sync_playwright

    cases = cases or [(300, 2000), (2000, 2000), (10_000, 2000), (10_000, 10_000)]
    out = Path(tempfile.mkdtemp(prefix="gk-bench-views-"))
    found = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for n, cap in cases:
            nodes, edges = network(n)
            t0 = time.perf_counter()
            page = render_network(nodes, edges, title=f"bench {n}", max_nodes=cap)
            render_s = time.perf_counter() - t0
            path = out / f"view-{n}-{cap}.html"
            path.write_text(page, encoding="utf-8")
            tab = browser.new_page(viewport={"width": 1280, "height": 800})
            tab.route("**/*", lambda r: r.abort() if r.request.url.startswith("http") else r.continue_())
            tab.goto(path.as_uri())
            tab.wait_for_function("window.gkReady === true", timeout=300_000)
            found.append({
                "nodes": n, "max_nodes": cap, "drawn": tab.evaluate("window.gkNetwork.body.data.nodes.length"),
                "render_s": round(render_s, 3), "html_mb": round(len(page) / 1e6, 2),
                "first_draw_s": round(tab.evaluate("window.gkFirstDrawn") / 1000, 3),
                "ready_s": round(tab.evaluate("performance.now()") / 1000, 3),
            })
            tab.close()
        browser.close()
    return found


def main() -> None:
    print(f"{'nodes':>7} {'drawn':>7} {'render s':>9} {'html MB':>8} {'first draw s':>13} {'ready s':>8}")
    for r in measure():
        print(f"{r['nodes']:>7,} {r['drawn']:>7,} {r['render_s']:>9.2f} {r['html_mb']:>8.2f} "
              f"{r['first_draw_s']:>13.2f} {r['ready_s']:>8.2f}")


if __name__ == "__main__":
    main()
