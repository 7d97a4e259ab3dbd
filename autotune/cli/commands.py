"""The ``autotune`` command line: click commands only, each a thin layer over the library.

User errors print one ``Error: …`` line on stderr and exit non-zero, with no traceback. A command's module (and
with it optuna, and torch where the command trains) is imported only when that command runs or shows its own help,
so ``autotune --help`` and ``--version`` stay instant.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import click
from click.utils import make_default_short_help

from autotune.base.version import __version__
from autotune.errors import AutotuneError, Interrupted, storage_failure

#: Every command: the module of ``autotune.cli`` that defines it, its function there, and the first paragraph of its
#: help, which ``autotune --help`` lists without importing the module (tests/cli/test_cli.py checks that each is the
#: command's own).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("search", "run", "Search a study's space until it holds N finished trials (or the stopping rule fires)."),
    "worker": ("search", "worker", "Join an existing study from this host and work until its trial target is met."),
    "replay": (
        "seeds",
        "replay",
        "Re-run a stored trial (or a configuration file) exactly, with optional overrides and seeds.",
    ),
    "ablate": (
        "seeds",
        "ablate",
        "Ablation table: the best trial vs a baseline, leave-one-out and a greedy ablation path.",
    ),
    "sweep": (
        "seeds",
        "sweep",
        "One factor at a time: vary one parameter over values, holding the others at a trial's.",
    ),
    "confirm": (
        "seeds",
        "confirm",
        "Re-train the top K trials over N seeds and rank them by mean: which best is real.",
    ),
    "import": ("results", "import_", "Import a hand-filled tuning table (CSV or Markdown) into a study."),
    "report": (
        "results",
        "report",
        "Write a report folder: summary, the seed-format trial table, importance, plots, analysis.",
    ),
    "export": (
        "results",
        "export",
        "Export the best trial: best.yaml/.json, trials.csv, a final model tested once, provenance.json.",
    ),
    "dashboard": (
        "studies",
        "dashboard",
        "Watch the studies of a storage live in optuna-dashboard (Ctrl-C stops it).",
    ),
    "studies": (
        "studies",
        "studies",
        "List the shipped study specs and the studies in a storage (trials by state, best value).",
    ),
    "slurm": ("clusters", "slurm", "Run a study's workers as a Slurm job array: one array task per worker."),
}


class _Commands(MutableMapping[str, click.Command]):
    """The group's commands by name: those of :data:`COMMANDS`, each imported from its module when it is asked
    for, and any a program adds with ``cli.add_command``."""

    def __init__(self) -> None:
        self._added: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name in self._added:
            return self._added[name]
        module, function, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"autotune.cli.{module}"), function)

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._added[name] = command

    def __delitem__(self, name: str) -> None:
        del self._added[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*COMMANDS, *(name for name in self._added if name not in COMMANDS)])

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._added))


class _Group(click.Group):
    """A click group that loads a command only when it is used, and reports every user error as a single
    ``Error: …`` line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands()

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``autotune --help``, as click writes it, from :data:`COMMANDS` alone."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        with formatter.section("Commands"):
            rows = []
            for name in names:
                text = COMMANDS[name][2] if name in COMMANDS else (self.commands[name].help or "")
                rows.append((name, make_default_short_help(text, limit)))
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # A Ctrl-C that no command turned into its own message (it came before the command's work began, or
            # between its steps). Click would print an empty line and "Aborted"; say what holds instead.
            command = " ".join(["autotune", *filter(None, [ctx.invoked_subcommand])])
            raise Interrupted(
                f"interrupted: {command} stopped; what it finished is stored; run the same command again to continue"
            ) from None

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        # SQLAlchemy logs a cursor it could not close after a Ctrl-C cut a query short ("Error closing cursor" and
        # a traceback); with no handler of ours, Python's last-resort handler would print that on stderr beside
        # our one Error line. The interrupt itself is reported; the log record adds nothing for a user.
        logging.getLogger("sqlalchemy").addHandler(logging.NullHandler())
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", 130)
        except AutotuneError as exc:
            _fail(exc.for_flags(), getattr(exc, "exit_code", 1))
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # a failing database (full disk, read-only file) is not a bug: one line
            reason = storage_failure(exc)
            if reason is None:
                raise
            _fail(
                f"the study database failed: {reason}; nothing else was changed; fix the cause and run the "
                "command again",
                1,
            )
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


def _fail(message: str, code: int) -> None:
    click.echo("Error: " + " ".join(message.split()), err=True)
    sys.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autotune")
def cli() -> None:
    """autotune: automated, reproducible hyperparameter search for small PyTorch networks.

    A study spec (YAML; `autotune studies` lists the shipped ones) declares the search space and the training set-up;
    `autotune run` searches it with Optuna and stores every trial in a database.
    """


def main() -> None:
    try:
        cli()
    except SystemExit as exc:
        if exc.code == Interrupted.exit_code:
            # CPython remembers a KeyboardInterrupt that once escaped code it ran through PyRun_*
            # (libraries do), even one caught later, and then kills itself with SIGINT at exit:
            # the caller would see "killed by SIGINT" (-2) instead of the 130 we promise. Every
            # with-block has been unwound by now, so only the final flush is left to do.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(Interrupted.exit_code)
        raise


if __name__ == "__main__":
    main()
