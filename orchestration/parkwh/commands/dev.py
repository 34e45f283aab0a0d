"""``parkwh dev``: start ``dagster dev`` on the warehouse's own Dagster instance."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

import typer

from parkwh.commands import app, console
from parkwh.config import project_dir, warehouse


def prepare_dagster_home() -> Path:
    """Create the instance folder under the warehouse and install the repo's dagster.yaml in it."""
    home = warehouse().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(project_dir() / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    return home


@app.command()
def dev(
    host: str = typer.Option("127.0.0.1", help="Interface to serve the UI on."),
    port: int = typer.Option(3000, help="Port to serve the UI on."),
) -> None:
    """Start the Dagster UI, daemon, schedules and the inbox sensor.

    Example: parkwh dev --port 3000   (then open http://127.0.0.1:3000; Ctrl-C stops everything)
    """
    from parkwh.transform import dbt_env, prepare_manifest

    home = prepare_dagster_home()
    prepare_manifest()
    env = {**dbt_env(dict(os.environ)), "DAGSTER_HOME": str(home)}
    dagster = Path(sys.executable).with_name("dagster")
    console.print(f"[bold]parkwh[/] Dagster instance: {home}")
    console.print(f"Open http://{host}:{port} — Ctrl-C stops the UI and the daemon.")
    # A process started from a script may inherit ignored SIGINT/SIGTERM; restore the defaults
    # so that Ctrl-C (and a test's terminate) reaches dagster dev and its children.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.execve(
        str(dagster),
        [str(dagster), "dev", "-m", "parkwh.definitions", "-h", host, "-p", str(port)],
        env,
    )
