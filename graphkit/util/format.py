"""How numbers read in graphkit's sentences, tables and views: one rule for each kind of number.

Files for machines (rings.json, the CSV files) keep full precision; these
functions only shape what people read: reason sentences, report.md, the
terminal and the HTML views.
"""

from __future__ import annotations

__all__ = ["coins", "format_coins", "format_count", "format_number", "name_words", "plural"]


def format_coins(value: float) -> str:
    """Coins for people: thousands separators; no decimals for whole coins or 100 and more, else two.

    Examples
    --------
    >>> format_coins(12500), format_coins(136239.4), format_coins(7.5), format_coins(3.0), format_coins(-0.25)
    ('12,500', '136,239', '7.50', '3', '-0.25')
    """
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:,.2f}"


def coins(value: float) -> str:
    """An amount with its noun: ``1 coin``, else ``coins`` (``7.50 coins``, ``0 coins``).

    Examples
    --------
    >>> coins(1), coins(1.0), coins(12500), coins(7.5)
    ('1 coin', '1 coin', '12,500 coins', '7.50 coins')
    """
    return f"{format_coins(value)} coin{'' if float(value) == 1 else 's'}"


def format_count(value: float) -> str:
    """A count with thousands separators (``1,204``).

    Examples
    --------
    >>> format_count(1204), format_count(3.0)
    ('1,204', '3')
    """
    return f"{int(value):,}"


def format_number(value: float) -> str:
    """A measured value: whole numbers as counts, others with two decimals.

    Examples
    --------
    >>> format_number(20000), format_number(0.1234), format_number(2.0)
    ('20,000', '0.12', '2')
    """
    if isinstance(value, int) or float(value).is_integer():
        return format_count(value)
    return f"{float(value):,.2f}"


def plural(count: int, word: str) -> str:
    """``count`` and ``word``, with an ``s`` unless the count is one.

    Examples
    --------
    >>> plural(1, "ring"), plural(3, "account"), plural(1200, "gift")
    ('1 ring', '3 accounts', '1,200 gifts')
    """
    return f"{format_count(count)} {word}{'' if int(count) == 1 else 's'}"


_WORDS = {"ip": "IP", "ips": "IPs"}


def name_words(name: str) -> str:
    """A snake_case name (a summary key, a column) as words: underscores as spaces, IPs in capitals.

    Examples
    --------
    >>> name_words("ips"), name_words("groups_scored"), name_words("accounts_out_of_window")
    ('IPs', 'groups scored', 'accounts out of window')
    """
    return " ".join(_WORDS.get(word, word) for word in name.split("_"))
