"""escape_markdown: any string from the data renders as that same text, never as markup."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from graphkit.report import escape_markdown
from graphkit.util.display import display_text

_MD = MarkdownIt("commonmark").enable("table")

# printable text, heavy on the characters Markdown cares about
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("\\`*_{}[]()<>#+-.!|~&:@=\"' \n\t0123456789wW/")),
        st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
    ),
    max_size=40,
)


def _inline_children(source: str):
    tokens = _MD.parse(source)
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"], source
    return tokens[1].children


@settings(max_examples=400, deadline=None)
@given(_TEXT)
@example("    indented code")
@example("  - a list")
@example("x\u00a0")
@example("a  \nb")
def test_escaped_text_renders_as_itself(text):
    expected = display_text(text).strip()
    escaped = escape_markdown(text)
    if not expected.strip():
        return
    children = _inline_children(escaped)
    assert {c.type for c in children} <= {"text"}, (text, escaped, [c.type for c in children])
    assert "".join(c.content for c in children) == expected


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_escaped_text_stays_in_its_table_cell(text):
    source = "| a | b |\n|---|---|\n| " + escape_markdown(text) + " | end |\n"
    html = _MD.render(source)
    body = html.split("<tbody>")[1]
    assert body.count("<td>") == 2, (text, source)
    assert body.rstrip().endswith("<td>end</td>\n</tr>\n</tbody>\n</table>".rstrip())
    assert "<a " not in html and "<em>" not in html and "<code>" not in html


def test_known_attacks_are_plain_text():
    for attack in ("<script>alert(1)</script>", "[x](javascript:alert(1))", "![i](http://e/x.png)",
                   "<http://evil>", "**bold**", "`code`", "1. list", "- item", "# heading", "> quote",
                   "www.evil.com", "a@b.co", "&lt;b&gt;"):
        children = _inline_children(escape_markdown(attack))
        assert [c.type for c in children] == ["text"]
        assert children[0].content == attack


PLAIN = [
    "58,295 coins (48% of the coins between members) went round in loops: u003694 -> u000385, "
    "then u006329 (same device as u000385) -> u004953",
    "99% of the ring's 57,613 coins went to 2 accounts: u000253, u004459",
    "29 accounts gifted stream s001136 within 120 s from 2024-05-12 18:56:48 UTC; 3 streams saw such a burst, "
    "far above the stream's normal rate",
    "9 of 22 accounts were less than 6.9 days old at the first gift they sent",
    "Ring R0008: score 0.30 (gifting burst)!",
]


def test_plain_sentences_are_written_as_they_are():
    for sentence in PLAIN:
        assert escape_markdown(sentence) == sentence


def test_report_md_of_the_demo_pastes_without_escapes(repo_root):
    from graphkit import Config, analyze, read_tables
    from graphkit.report.markdown import render_markdown

    text = render_markdown(analyze(read_tables(repo_root / "fixtures" / "demo"), Config(), workers=1))
    assert "\\" not in text, [line for line in text.splitlines() if "\\" in line][:3]


@settings(max_examples=400, deadline=None)
@given(_TEXT)
@example("http://e.vil")
@example("mailto:a@b.co")
@example("xmpp:a@b.co")
@example("WWW.e.vil")
@example("see https://e.vil/x")
def test_escaped_text_gives_no_autolink(text):
    # GitHub's extended autolinks (not in the CommonMark parser above): www., scheme: and e-mail addresses
    escaped = escape_markdown(text)
    assert not re.search(r"(?<!\\)[A-Za-z]:\S", escaped.replace("\\\\", "")), escaped
    assert not re.search(r"(?i)www\.", escaped), escaped
    assert not re.search(r"(?<!\\)@", escaped.replace("\\\\", "")), escaped


def test_emoji_shortcodes_stay_text_and_times_keep_their_colons():
    assert escape_markdown(":smile: and :+1:") == "\\:smile: and \\:+1:"
    assert escape_markdown("at 18:56:48 UTC") == "at 18:56:48 UTC"


def test_report_md_counts_ips_as_ips():
    import dataclasses

    from views_fixtures import report
    from graphkit.report.markdown import render_markdown

    r = dataclasses.replace(report(), summary={**report().summary, "ips": 4242})  # analyze counts them
    counts = next(line for line in render_markdown(r).splitlines() if line.startswith("Counts: "))
    assert "4,242 IPs" in counts and not re.search(r"\bips\b", counts), counts
