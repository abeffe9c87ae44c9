"""graphkit's version: the one place it is written (pyproject.toml reads it from here)."""

__version__ = "0.1.0"
GENERATOR = f"graphkit {__version__}"
"""The ``generator`` field of the files graphkit writes."""
