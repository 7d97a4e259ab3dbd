"""The ``autotune`` command line: click commands only, each a thin layer over the library.

User errors print one ``Error: …`` line on stderr and exit non-zero, with no traceback.
Heavy imports (torch, optuna) happen inside the commands so ``--help`` stays instant.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click

from autotune.base.version import __version__
from autotune.cli.clusters import slurm
from autotune.cli.results import export, import_, report
from autotune.cli.search import run, worker
from autotune.cli.seeds import ablate, confirm, replay, sweep
from autotune.cli.studies import dashboard, studies
from autotune.errors import AutotuneError, Interrupted, storage_failure


class _Group(click.Group):
    """A click group that reports every user error as a single ``Error: …`` line."""

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


cli.add_command(run)
cli.add_command(worker)
for command in (replay, ablate, sweep, confirm, import_, report, export, dashboard, studies):
    cli.add_command(command)
cli.add_command(slurm)


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
