"""The display form of an untrusted string: what people see of an id, in every output made for reading.

Attackers choose their ids. Characters that are invisible or that change how
the text around them is laid out (controls, line and paragraph separators,
bidirectional overrides and isolates such as U+202E, zero-width characters
such as U+200B) can make one id look like another, reverse the text after it
or start a new line in a terminal, a Markdown file or an HTML page. The
terminal (``graphkit_cli``), ``report.md`` (:mod:`graphkit.report.markdown`)
and the HTML views (:mod:`graphkit.viz`) show them escaped, ``\\u202e``, with
:func:`display_text`. Data files (``rings.json``, the CSV files, the report's
store) keep every id exactly as read: that is the contract.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache
from typing import Any

__all__ = ["display_text", "hidden_pattern", "is_hidden"]

_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
"""Unicode categories shown escaped: controls, format characters (bidi controls, zero-width
characters, the byte-order mark, tags), line and paragraph separators, lone surrogates."""

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


@lru_cache(maxsize=1)
def hidden_pattern() -> re.Pattern[str]:
    """A regular expression matching every hidden character (:func:`is_hidden`), built once (about 0.1 s)."""
    ranges: list[list[int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) in _HIDDEN_CATEGORIES:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")


def is_hidden(char: str) -> bool:
    """Whether ``char`` is shown escaped by :func:`display_text`.

    Examples
    --------
    >>> [is_hidden(c) for c in ("a", " ", "\\u202e", "\\u200b", "\\u2028", "\\x1b", "\\u00e9")]
    [False, False, True, True, True, True, False]
    """
    return unicodedata.category(char) in _HIDDEN_CATEGORIES


def _escape(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def display_text(value: Any) -> str:
    """The display form of a string from the data: hidden and layout characters escaped.

    Every character that is a control, a format character (bidi controls
    U+202A-U+202E and U+2066-U+2069, U+200E/U+200F, zero-width characters
    U+200B-U+200D and U+2060, U+FEFF, tag characters), a line or paragraph
    separator (U+2028, U+2029) or a lone surrogate is written as a Python-style
    escape: ``\\n``, ``\\r``, ``\\t``, ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``.
    Everything else, other languages and emoji included, is kept. The result is
    one line and holds no hidden character, so applying the function again
    changes nothing.

    Parameters
    ----------
    value : object
        Converted with ``str``; ``None`` becomes an empty string.

    Returns
    -------
    str

    Examples
    --------
    >>> display_text("u1\\u202egpj.exe")
    'u1\\\\u202egpj.exe'
    >>> display_text("two\\nlines\\u2028and\\u200bmore")
    'two\\\\nlines\\\\u2028and\\\\u200bmore'
    >>> display_text("café 🎁 用户")
    'café 🎁 用户'
    >>> display_text(None)
    ''
    """
    text = "" if value is None else str(value)
    if text.isprintable():  # no Cc, Cf, Cs, Zl or Zp character (nor Zs but the space): nothing to escape
        return text
    return hidden_pattern().sub(lambda m: _escape(m.group()), text)
