"""Keyed pseudonyms for views shared outside the team (``--redact``).

Every id in a redacted view (accounts, devices, IPs, streams) is replaced by
``HMAC-SHA256(key, kind + id)``, shortened: ``acct-3f9a1c02b7``. The same key
gives the same pseudonyms, so colleagues can discuss ``acct-3f9a1c02b7``
across views, and only whoever holds the key file can map a pseudonym back
(by recomputing it for a candidate id). The key lives in its own file, which
the investigator keeps: it is never written into the output folder.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import polars as pl

from graphkit.errors import ConfigError

__all__ = ["Redactor", "load_or_create_key"]

_PREFIX = {"account": "acct", "device": "dev", "ip": "ip", "stream": "strm"}


@dataclass(frozen=True)
class Redactor:
    """Replaces ids by keyed pseudonyms.

    Examples
    --------
    >>> r = Redactor(b"k" * 32)
    >>> r.pseudonym("u17") == r.pseudonym("u17") != Redactor(b"x" * 32).pseudonym("u17")
    True
    >>> r.pseudonym("u17").startswith("acct-")
    True
    """

    key: bytes
    digits: int = 10

    def __post_init__(self) -> None:
        if len(self.key) < 16:
            raise ConfigError("a redaction key needs at least 16 bytes")

    def pseudonym(self, value: str, kind: str = "account") -> str:
        """The pseudonym of one id of the given kind (account, device, ip, stream)."""
        mac = hmac.new(self.key, f"{kind}\x00{value}".encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{_PREFIX.get(kind, kind)}-{mac[: self.digits]}"

    def series(self, values: pl.Series, kinds: pl.Series | str = "account") -> pl.Series:
        """Pseudonyms of a column of ids (one HMAC per distinct (kind, id))."""
        kind_s = pl.Series([kinds] * len(values), dtype=pl.Utf8) if isinstance(kinds, str) else kinds
        frame = pl.DataFrame({"kind": kind_s, "value": values.cast(pl.Utf8)})
        distinct = frame.unique().drop_nulls()
        mapped = distinct.with_columns(
            pl.Series("alias", [self.pseudonym(v, k) for k, v in distinct.select("kind", "value").rows()],
                      dtype=pl.Utf8)
        )
        return frame.join(mapped, on=["kind", "value"], how="left", maintain_order="left").get_column("alias").alias(
            values.name
        )

    def text(self, text: str, ids: Iterable[tuple[str, str]]) -> str:
        """Replace every whole-word occurrence of the given ``(kind, id)`` pairs in free text."""
        return self.text_replacer(ids)(text)

    def text_replacer(self, ids: Iterable[tuple[str, str]]) -> Callable[[str], str]:
        """:meth:`text` for many sentences about the same ids: the pattern is built once.

        Examples
        --------
        >>> r = Redactor(b"k" * 32)
        >>> red = r.text_replacer([("account", "u1"), ("device", "d7")])
        >>> red("u1 used d7; u12 did not") == f"{r.pseudonym('u1')} used {r.pseudonym('d7', 'device')}; u12 did not"
        True
        """
        table: dict[str, str] = {}
        for kind, value in ids:  # an id of several kinds takes the first kind given
            if value and value not in table:
                table[value] = self.pseudonym(value, kind)
        if not table:
            return lambda text: text
        pattern = re.compile(
            r"(?<![\w.:-])(" + "|".join(re.escape(v) for v in sorted(table, key=len, reverse=True)) + r")(?![\w:-])"
        )
        return lambda text: pattern.sub(lambda m: table[m.group(1)], text) if text else text


def load_or_create_key(path: str | Path, *, outside: str | Path | None = None) -> Redactor:
    """Read the redaction key at ``path``, or create it (32 random bytes, hex, mode 0600).

    Parameters
    ----------
    path : path
        The key file the investigator keeps.
    outside : path, optional
        A folder the key must not be inside (the output folder being shared).

    Raises
    ------
    ConfigError
        When the key file is inside ``outside`` or is not a key graphkit wrote.
    """
    path = Path(path)
    if outside is not None:
        out = Path(outside).resolve()
        if path.resolve() == out or out in path.resolve().parents:
            raise ConfigError(f"{path}: the redaction key must not be inside the shared folder {outside};"
                              " keep it elsewhere")
    if path.exists():
        try:
            key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        except (ValueError, UnicodeDecodeError):
            raise ConfigError(f"{path}: not a graphkit redaction key (expected hex); use another file name") from None
        if len(key) < 16:
            raise ConfigError(f"{path}: a redaction key needs at least 16 bytes (32 hex digits); "
                              "remove the file to have a new key made")
        return Redactor(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    return Redactor(key)
