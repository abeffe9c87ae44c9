"""``graphkit demo``: ``graphkit report`` on the bundled demo data (``fixtures/demo``)."""

from __future__ import annotations

from pathlib import Path

import click

import graphkit
from graphkit import load_config
from graphkit.errors import InputError
from graphkit_cli.common import CONTEXT_SETTINGS
from graphkit_cli.report import report_options, run_report

__all__ = ["demo", "demo_data_dir"]


def demo_data_dir() -> Path:
    """``fixtures/demo`` of the source checkout graphkit runs from.

    Raises :class:`InputError` when it is not there (graphkit installed
    without its repository).
    """
    path = Path(graphkit.__file__).resolve().parent.parent / "fixtures" / "demo"
    if not path.is_dir():
        raise InputError(
            f"{path}: demo data not found; the demo runs from a clone of the graphkit repository "
            "(or run graphkit synth DIR and graphkit report DIR --out OUT_DIR)"
        )
    return path


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("graphkit-demo"), show_default=True,
              help="Folder for the report: new, empty or a previous graphkit report (graphkit replaces its own "
                   "files there and keeps any other file you added).")
@report_options
def demo(out_dir: Path, top: int | None, no_html: bool, redact_key: Path | None, workers: int | None, quiet: bool,
         as_json: bool) -> None:
    """Run graphkit report on the bundled demo data (fixtures/demo, a synthetic
    platform with planted rings and look-alikes) and say how to open the views.

    Example: graphkit demo --out graphkit-demo/
    """
    data_dir = demo_data_dir()
    run_report(  # which says where index.html is, and to open it in a browser
        data_dir, out_dir, config=load_config(None, top=top), html=not no_html, redact_key=redact_key,
        workers=workers, quiet=quiet, as_json=as_json,
    )
