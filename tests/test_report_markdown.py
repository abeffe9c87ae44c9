"""escape_markdown: any string from the data renders as that same text, never as markup."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from graphkit.report import escape_markdown

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
    expected = re.sub(r"[\r\n\t\f\v]+", " ", text).strip()
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
