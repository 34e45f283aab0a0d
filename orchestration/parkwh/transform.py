"""Running dbt for parkwh: its environment, the prepared manifest, and one-off builds.

dbt runs in its own process. Everything it needs to find the warehouse in force comes from the
environment built here (``dbt_env``): ``profiles.yml`` reads every value with ``env_var()``, so
a test that sets ``PARKWH_WAREHOUSE_DIR`` builds its own DuckDB file and never the developer's.

A dbt command that writes (``build``, ``run``, ``seed``) works on a copy of the warehouse file,
which replaces the file in one step when dbt has finished (``building_aside``): dbt replaces
tables one at a time, so a build killed half-way in place would leave some tables rebuilt from
new rows and others not. Killed on the copy, it leaves the previous warehouse whole.

The manifest (``dbt_project/target/manifest.json``) is prepared once, by ``python -m
parkwh.transform prepare`` at install time, and again only when a file of the dbt project or a
seed has changed since: Dagster reads it at start-up, and parsing a dbt project takes seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
from filelock import FileLock

from parkwh.config import dbt_project_dir, seeds_dir, warehouse

PROFILE = "parkwh"
DEFAULT_TARGET = "duckdb"
_PROJECT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}
_WRITING_COMMANDS = {"build", "run", "seed", "snapshot"}

_building: Path | None = None
"""The copy of the warehouse file a build is writing, while one is (see ``building_aside``)."""


def venv_bin() -> Path:
    """The folder of the running interpreter's scripts: the ``dbt`` that belongs to this install."""
    return Path(sys.executable).parent


def dbt_executable() -> str:
    """The ``dbt`` of this install (dagster-dbt otherwise looks for one on PATH only)."""
    candidate = venv_bin() / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def target_name() -> str:
    """The profile target in force: ``PARKWH_TARGET`` (``duckdb`` unless set)."""
    return os.environ.get("PARKWH_TARGET", DEFAULT_TARGET)


def dbt_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment dbt runs in: this install's bin first on PATH, no usage statistics,
    the profiles folder, and the DuckDB file of the warehouse in force."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(venv_bin()), env.get("PATH", "")])
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["DO_NOT_TRACK"] = "1"
    env["DBT_PROFILES_DIR"] = str(dbt_project_dir())
    env["PARKWH_DUCKDB_PATH"] = str(_building or warehouse().database)
    env.setdefault("PARKWH_TARGET", DEFAULT_TARGET)
    return env


@contextlib.contextmanager
def dbt_environment() -> Iterator[dict[str, str]]:
    """Put ``dbt_env()`` into this process's environment while the block runs.

    dagster-dbt starts dbt with a copy of ``os.environ`` and also opens the dbt adapter in this
    process (for row counts and column metadata), so the variables must be set here, not only
    handed to a subprocess. The previous values come back afterwards.
    """
    wanted = dbt_env()
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield wanted
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def writer_lock() -> contextlib.AbstractContextManager:
    """The warehouse's single-writer lock (DuckDB allows one writing process per file)."""
    from parkwh.db import writer_lock as lock

    return lock()


def building_path() -> Path:
    """Where a build writes its copy of the warehouse file: the same name in a hidden folder
    beside it, so dbt names the database as it names the warehouse (DuckDB's database name is
    the file's stem, and dbt writes it into every relation of the manifest)."""
    database = warehouse().database
    return database.parent / ".building" / database.name


def _checkpoint(path: Path) -> None:
    # Folds a write-ahead log left by a killed writer into the file, so the file alone is whole.
    connection = duckdb.connect(str(path))
    try:
        connection.execute("CHECKPOINT")
    finally:
        connection.close()


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Build:
    """A build running aside: set ``keep`` to False to leave the warehouse as it was."""

    path: Path
    keep: bool = True


@contextlib.contextmanager
def building_aside() -> Iterator[Build]:
    """Let dbt write a copy of the warehouse file, which then replaces it in one step.

    Holds the writer lock throughout. The copy replaces the warehouse when the block ends
    normally with ``keep`` true (a dbt that ran to its end, even with failed tests, as a build in
    place would have left it); it is discarded on an exception or when ``keep`` is false (dbt
    killed). A copy left by a process that was killed is discarded by the next build.
    """
    global _building
    from parkwh import db

    if target_name() != DEFAULT_TARGET:
        # Another engine keeps its tables elsewhere: there is no warehouse file to copy.
        with writer_lock():
            yield Build(warehouse().database)
        return
    with writer_lock():
        database = warehouse().database
        aside = building_path()
        _discard(aside)
        aside.parent.mkdir(exist_ok=True)
        if not database.exists():
            with db.connect():
                pass  # created by parkwh, with the storage every DuckDB client opens
        _checkpoint(database)
        database.with_name(database.name + ".wal").unlink(missing_ok=True)
        temporary = aside.with_name(aside.name + ".copying")
        try:
            with database.open("rb") as source, temporary.open("wb") as target:
                while chunk := source.read(1 << 24):
                    target.write(chunk)
            os.replace(temporary, aside)
        finally:
            temporary.unlink(missing_ok=True)
        build = Build(aside)
        previous, _building = _building, aside
        try:
            yield build
        except BaseException:
            _discard(aside)
            raise
        finally:
            _building = previous
        if not build.keep:
            _discard(aside)
            return
        _checkpoint(aside)
        _fsync(aside)
        os.replace(aside, database)
        _fsync(database.parent)


def release_duckdb_connections() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process.

    dagster-dbt fetches row counts and column metadata through a dbt adapter inside the Dagster
    process, and dbt-duckdb caches that database handle for the life of the process. Left open,
    it would lock the warehouse file against every writer in any other process (and against a
    read-only connection in this one), so a dbt step releases it when it is done.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another target's adapter: nothing cached here
        return
    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
        DuckDBConnectionManager.close_all_connections()


def manifest_path() -> Path:
    return dbt_project_dir() / "target" / "manifest.json"


def _project_files() -> Iterator[Path]:
    project = dbt_project_dir()
    for folder in (project, seeds_dir()):
        for path in folder.rglob("*"):
            if path.suffix in _PROJECT_SUFFIXES and not {"target", "logs"} & set(
                path.relative_to(folder).parts
            ):
                yield path


def manifest_is_current() -> bool:
    """True when the manifest exists and no project file or seed is newer than it."""
    manifest = manifest_path()
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    return all(path.stat().st_mtime <= built for path in _project_files())


def prepare_manifest(force: bool = False) -> Path:
    """Run ``dbt parse`` if the manifest is missing or older than the project; return its path."""
    if not force and manifest_is_current():
        return manifest_path()
    project = dbt_project_dir()
    (project / "target").mkdir(exist_ok=True)
    # Two processes starting at once (a test run, dagster dev) must not parse into one folder.
    with FileLock(str(project / "target" / ".prepare.lock"), timeout=600):
        if not force and manifest_is_current():
            return manifest_path()
        env = dbt_env()
        # The manifest Dagster reads lives in the project's own target folder, whatever a caller's
        # DBT_TARGET_PATH says.
        env["DBT_TARGET_PATH"] = str(project / "target")
        # Parsed with the path builds use (they write aside), so that a build's profile is the
        # parsed one and dbt parses only what changed since, not the whole project again.
        env["PARKWH_DUCKDB_PATH"] = str(building_path())
        env["DBT_LOG_PATH"] = str(project / "logs")
        result = subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(project),
            ],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}".strip())
    return manifest_path()


def run_dbt(
    args: Sequence[str],
    *,
    target_path: Path | None = None,
    log_path: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command on the warehouse in force, as the only writer; output is captured.

    ``target_path`` and ``log_path`` keep concurrent runs (tests) from sharing dbt's artefacts.
    """
    project = dbt_project_dir()
    env = dbt_env()
    if target_path is not None:
        env["DBT_TARGET_PATH"] = str(target_path)
    if log_path is not None:
        env["DBT_LOG_PATH"] = str(log_path)
    warehouse().root.mkdir(parents=True, exist_ok=True)
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
    ]
    with writer_lock():
        if not (set(args[:1]) & _WRITING_COMMANDS):
            return subprocess.run(
                command, cwd=project, env=env, capture_output=True, text=True, check=False
            )
        with building_aside() as build:
            env["PARKWH_DUCKDB_PATH"] = str(build.path)
            result = subprocess.run(
                command, cwd=project, env=env, capture_output=True, text=True, check=False
            )
            # Killed by a signal, dbt may have stopped anywhere: the warehouse stays as it was.
            build.keep = result.returncode >= 0
        return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m parkwh.transform", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser(
        "prepare", help="parse the dbt project into its manifest (if stale)"
    )
    prepare.add_argument(
        "--force", action="store_true", help="parse even if the manifest is current"
    )
    build = commands.add_parser("build", help="dbt build on the warehouse in force")
    build.add_argument("dbt_args", nargs=argparse.REMAINDER, help="further dbt arguments")
    options = parser.parse_args(argv)
    if options.command == "prepare":
        try:
            path = prepare_manifest(force=options.force)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"dbt manifest: {path}")
        return 0
    result = run_dbt(["build", *options.dbt_args])
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
