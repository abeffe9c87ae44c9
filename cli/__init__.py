"""The ``graphkit`` command line (import name ``graphkit_cli``)."""
