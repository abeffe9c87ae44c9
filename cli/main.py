"""``graphkit``: the command group. Each command lives in its own module."""

from __future__ import annotations

import click

from graphkit import __version__
from graphkit_cli.common import CONTEXT_SETTINGS, GraphkitGroup, debug_state


@click.group("graphkit", cls=GraphkitGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="graphkit")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
def cli(debug: bool) -> None:
    """Find coordinated abuse rings on livestreaming platforms.

    Reads users, streams, devices and gifts tables (and, optionally, flags:
    the chargebacks, bans and reports the platform already knows), builds
    graphs from them and reports the rings behind the abuse with the money
    they moved.

    Example: graphkit report fixtures/demo --out out/
    """
    debug_state.enabled = debug


def _register() -> None:
    from graphkit_cli import demo, diff, eval, expand, export, features, path, report, show, synth, train, validate

    for command in (
        report.report, validate.validate, expand.expand, path.path, show.show, export.export, synth.synth,
        eval.eval_command, diff.diff, features.features, train.train, demo.demo,
    ):
        cli.add_command(command)


_register()
