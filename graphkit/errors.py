"""The exceptions graphkit raises for expected failures.

Every expected failure is a :class:`GraphkitError`; its message is one line an
investigator can act on (the file, the column, what to do). The CLI prints that
line and exits with code 2. Anything else is a bug and exits with code 1.
"""

from __future__ import annotations

__all__ = [
    "GraphkitError",
    "InputError",
    "ColumnNotFoundError",
    "SchemaError",
    "TooManyRejectedError",
    "ConfigError",
    "NotEnoughMemoryError",
    "NotFoundError",
    "OutputBusyError",
]


class GraphkitError(Exception):
    """Base class of the failures that are the user's to fix (exit code 2)."""


class InputError(GraphkitError):
    """A data directory, file or table cannot be used as it is."""


class ColumnNotFoundError(InputError):
    """A required column is missing from a table."""


class SchemaError(InputError):
    """A file's structure is wrong: delimiter, encoding, types."""


class TooManyRejectedError(InputError):
    """More of a table broke the contract than ``Config.max_bad_share`` allows.

    ``rejected`` holds the rejected rows (table name -> polars frame) so that a
    command can still write them: nothing is lost, even when the run fails.
    """

    def __init__(self, message: str, rejected: dict | None = None) -> None:
        super().__init__(message)
        self.rejected = rejected or {}


class ConfigError(GraphkitError):
    """A configuration file, mapping file or option value is wrong."""


class NotEnoughMemoryError(ConfigError):
    """A setting would make the run need more memory than the machine has (said before it is spent)."""


class NotFoundError(GraphkitError):
    """An id asked for (account, device, IP, stream) is not in the data."""


class OutputBusyError(GraphkitError):
    """Another graphkit run is writing the same output folder (it holds the folder's lock)."""
