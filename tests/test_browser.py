"""The HTML views in a real headless Chromium, offline, with hostile ids.

Needs Debian's chromium at /usr/bin/chromium (``make browser``); the tests
fail, not skip, without it. Every http/https request is aborted and recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from graphkit.config import Config
from graphkit.detect.evidence import evidence_graph
from graphkit.viz import expand_view, render_network, write_views
from views_fixtures import XSS, XSS_DEVICE, report, tables

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing at /usr/bin/chromium: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Opened:
    def __init__(self, page, requests, errors):
        self.page, self.requests, self.errors = page, requests, errors

    def eval(self, script: str):
        return self.page.evaluate(script)

    def node_count(self) -> int:
        return self.eval("window.gkNetwork.body.data.nodes.length")

    def painted_pixels(self) -> int:
        return self.eval("""() => {
            const c = document.querySelector('#gk-graph canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }
            return n;
        }""")

    def hover(self, node_id: str) -> str:
        """Move the mouse onto a node; return the tooltip's text."""
        xy = self.eval(f"""() => {{
            const net = window.gkNetwork, id = {json.dumps(node_id)};
            net.moveTo({{position: net.getPosition(id), scale: 1.5, animation: false}});
            const p = net.canvasToDOM(net.getPosition(id));
            const r = document.getElementById('gk-graph').getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }}""")
        self.page.mouse.move(xy[0] + 40, xy[1] + 40)
        self.page.mouse.move(xy[0], xy[1], steps=4)
        tip = self.page.locator("div.vis-tooltip")
        tip.wait_for(state="visible", timeout=5000)
        return tip.inner_text()


@pytest.fixture
def open_page(browser):
    pages = []

    def _open(path: Path) -> Opened:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        pages.append(page)
        requests, errors = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        def _abort(route):
            route.abort() if route.request.url.startswith(("http:", "https:")) else route.continue_()

        page.route("**/*", _abort)
        page.goto(path.resolve().as_uri())
        page.wait_for_function("window.gkReady === true", timeout=20000)
        return Opened(page, requests, errors)

    yield _open
    for page in pages:
        page.close()


def _assert_offline_clean(opened: Opened, path: Path) -> None:
    outside = [u for u in opened.requests if u != path.resolve().as_uri()]
    assert outside == [], f"the page requested {outside}"
    assert opened.errors == [], f"console errors: {opened.errors}"
    assert opened.eval("window.__xss") is None


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    out = tmp_path_factory.mktemp("views")
    write_views(report(), out)
    return out


def test_ring_view_draws_offline_with_tooltips(open_page, views):
    path = views / "rings" / "R0001.html"
    opened = open_page(path)
    _assert_offline_clean(opened, path)
    ev = evidence_graph(tables(), [f"account:{m}" for m in report().ring("R0001").members], hops=1)
    assert opened.node_count() == ev.nodes.height + 4  # and one collapsed group per kind of context
    assert opened.painted_pixels() > 500
    text = opened.hover("account:h1")
    assert "account h1" in text and "score: 0.95" in text and "ring: R0001 (beneficiary)" in text
    assert "coins sent: 200; received: 4,990" in text


def test_hostile_ids_render_as_text_and_never_run(open_page, views):
    path = views / "rings" / "R0001.html"
    opened = open_page(path)
    _assert_offline_clean(opened, path)
    assert opened.eval("document.querySelectorAll('img, svg, iframe, object').length") == 0
    # exactly three scripts: the data block, vis-network, the view's own script; none from the data
    assert opened.eval("document.scripts.length") == 3
    aside = opened.page.locator("aside").inner_text()
    assert XSS in aside
    tip = opened.hover(f"account:{XSS}")
    assert f"account {XSS}" in tip
    opened.page.click("#gk-context")  # the device is context: collapsed until shown
    tip = opened.hover(f"device:{XSS_DEVICE}")
    assert f"device {XSS_DEVICE}" in tip
    opened.page.fill("#gk-search", XSS)
    opened.page.press("#gk-search", "Enter")
    assert opened.eval("window.gkNetwork.getSelectedNodes()") == [f"account:{XSS}"]
    assert opened.eval("window.__xss") is None


def test_overview_links_rings_and_sorts(open_page, views):
    path = views / "index.html"
    opened = open_page(path)
    _assert_offline_clean(opened, path)
    assert opened.node_count() == 2
    assert opened.painted_pixels() > 500
    assert "R0002" in opened.hover("R0002")
    hrefs = opened.eval("Array.from(document.querySelectorAll('#gk-table a')).map(a => a.getAttribute('href'))")
    assert hrefs == ["rings/R0001.html", "rings/R0002.html"]
    opened.page.click("#gk-table th:nth-child(3)")  # score, ascending
    first = opened.eval("document.querySelector('#gk-table tbody tr td').textContent")
    assert first == "R0002"
    assert XSS in opened.hover("R0001")  # the ring's second reason names the hostile id


def test_large_view_is_capped_and_drawn_without_physics(open_page, tmp_path):
    n = 2600
    rng = np.random.default_rng(1)
    ids = [f"n{i}" for i in range(n)]
    nodes = pl.DataFrame({"id": ids, "label": ids, "type": ["account"] * n, "group": ["account"] * n,
                          "size": [10.0] * n, "tooltip": [f"node n{i}" for i in range(n)],
                          "importance": rng.random(n)})
    s, t = rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n)
    edges = pl.DataFrame({"source": [ids[i] for i in s], "target": [ids[i] for i in t],
                          "relation": ["gifted"] * (3 * n), "width": [1.0] * (3 * n), "tooltip": ["e"] * (3 * n)})
    path = tmp_path / "big.html"
    path.write_text(render_network(nodes, edges, title="big", max_nodes=2000), encoding="utf-8")
    opened = open_page(path)
    _assert_offline_clean(opened, path)
    assert opened.node_count() == 2000
    assert opened.eval("window.gkNetwork.physics.physicsEnabled") is False
    assert opened.painted_pixels() > 1000
    assert "left out: 600 account" in opened.page.locator("aside").inner_text()
    # hover one of the most important nodes that no other node covers at this zoom
    candidates = nodes.sort("importance", descending=True).get_column("id").head(50).to_list()
    free = opened.eval(f"""() => {{
        const net = window.gkNetwork;
        return {json.dumps(candidates)}.find(id => {{
            net.moveTo({{position: net.getPosition(id), scale: 1.5, animation: false}});
            return net.getNodeAt(net.canvasToDOM(net.getPosition(id))) === id;
        }});
    }}""")
    assert free is not None
    assert f"node {free}" in opened.hover(free)


def test_expand_view_file_works_offline(open_page, tmp_path):
    ev = evidence_graph(tables(), ["u8"], hops=2)
    path = tmp_path / "expand.html"
    path.write_text(expand_view(ev, tables(), config=Config(), hops=2), encoding="utf-8")
    opened = open_page(path)
    _assert_offline_clean(opened, path)
    assert opened.node_count() == ev.nodes.height
    assert "starting point" in opened.page.locator("aside").inner_text()
    assert "reached in 1 hop: used by u8" in opened.hover("device:d8")


def _visible(opened: Opened) -> list[str]:
    return opened.eval("window.gkNetwork.body.data.nodes.get({filter: n => !n.hidden}).map(n => n.id)")


def test_ring_view_shows_the_ring_and_collapses_its_context_until_asked(open_page, views):
    """Issue 18 item 20: members and beneficiaries drawn big with labels; context collapsed, then shown."""
    path = views / "rings" / "R0001.html"
    opened = open_page(path)
    _assert_offline_clean(opened, path)
    members = [f"account:{m}" for m in report().ring("R0001").members]
    groups = ["context:IPs", "context:devices", "context:other accounts", "context:streams"]
    assert sorted(_visible(opened)) == sorted(members + groups)
    assert opened.eval("document.body.dataset.context") == "collapsed"
    drawn = opened.eval(f"""() => {{
        const net = window.gkNetwork;
        return {json.dumps(members)}.map(id => {{
            const n = net.body.nodes[id];
            return [n.options.label, n.options.font.size * net.getScale(), n.options.size];
        }});
    }}""")
    assert [label for label, _, _ in drawn] == [m.split(":", 1)[1][:29] + ("\u2026" if len(m) > 38 else "")
                                                for m in members]
    assert min(font for _, font, _ in drawn) >= 11  # legible at 1280x800 without zooming
    labels = opened.eval("window.gkNetwork.body.data.nodes.get(" + json.dumps(groups) + ").map(n => n.label)")
    assert labels == ["2 IPs", "2 devices", "1 other account", "1 stream"]
    opened.page.click("#gk-context")  # show context: every node, and no group
    shown = _visible(opened)
    assert len(shown) == 11 and not set(groups) & set(shown) and f"device:{XSS_DEVICE}" in shown
    assert opened.eval("document.body.dataset.context") == "shown"
    assert opened.page.locator("#gk-context").inner_text() == "hide context"
    opened.page.click("#gk-context")
    assert sorted(_visible(opened)) == sorted(members + groups)
    # a click on one group shows its nodes only
    xy = opened.eval("""() => {
        const net = window.gkNetwork, p = net.canvasToDOM(net.getPosition("context:devices"));
        const r = document.getElementById('gk-graph').getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }""")
    opened.page.mouse.click(xy[0], xy[1])
    shown = _visible(opened)
    assert "device:d1" in shown and "context:devices" not in shown and "ip:10.0.0.1" not in shown
    # the member table: a row focuses its node, the hostile id included, and nothing runs
    opened.page.click("#gk-table tbody tr:nth-child(1) td:nth-child(2)")
    assert opened.eval("window.gkNetwork.getSelectedNodes()") == ["account:h1"]
    opened.page.locator("#gk-table tbody tr").nth(1).click()
    assert opened.eval("window.gkNetwork.getSelectedNodes()") == [f"account:{XSS}"]
    _assert_offline_clean(opened, path)


def test_collapsed_page_of_2000_nodes_stays_interactive(open_page, tmp_path):
    n, focus = 2000, 60
    rng = np.random.default_rng(2)
    ids = [f"n{i}" for i in range(n)]
    kinds = ["devices", "IPs", "streams", "other accounts"]
    nodes = pl.DataFrame({"id": ids, "label": ids, "type": ["account"] * n, "group": ["member"] * n,
                          "size": [10.0] * n, "tooltip": ids,
                          "context": [None] * focus + [kinds[i % 4] for i in range(n - focus)]})
    s, t = rng.integers(0, focus, 3 * n), rng.integers(0, n, 3 * n)
    edges = pl.DataFrame({"source": [ids[i] for i in s], "target": [ids[i] for i in t],
                          "relation": ["gifted"] * (3 * n), "width": [1.0] * (3 * n), "tooltip": ["e"] * (3 * n)})
    path = tmp_path / "big-ring.html"
    page = render_network(nodes, edges, title="big ring", max_nodes=2000)
    path.write_text(page, encoding="utf-8")
    opened = open_page(path)
    _assert_offline_clean(opened, path)
    assert opened.eval("window.gkVisibleNodes()") == focus + 4
    took = opened.eval("""() => {
        const t0 = performance.now();
        document.getElementById('gk-context').click();
        window.gkNetwork.redraw();
        return performance.now() - t0;
    }""")
    assert opened.eval("window.gkVisibleNodes()") == n
    assert took < 2000
    assert opened.painted_pixels() > 1000
