"""The option groups the ``autotune`` commands share, in the order ``--help`` lists them."""

from __future__ import annotations

import warnings
from typing import Any

import click

from autotune.hardware.precision import PRECISIONS
from autotune.hardware.steps import STEPS
from autotune.spec.study import FinalSpec
from autotune.words.i18n import LANGS

STUDY_HELP = (
    "A stored study's name, or its spec (a shipped name or a YAML file); the spec stored with the study is used."
)
STORAGE_HELP = (
    "SQLAlchemy URL of the study database [default: $AUTOTUNE_STORAGE, else sqlite:///autotune.db]; "
    "e.g. postgresql+psycopg://user@host:5432/db."
)


def worker_options(func: Any) -> Any:
    """The options `run` and `worker` share, in the order --help lists them."""
    options = [
        click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP),
        click.option(
            "--study-name",
            default=None,
            metavar="NAME",
            help="Name of the study in the storage. [default: the spec's name]",
        ),
        click.option(
            "--threads",
            type=click.IntRange(min=1),
            default=None,
            metavar="N",
            help="Torch CPU threads. [default: 1, the fastest on a busy machine; more cores: --workers auto]",
        ),
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False),
            default=None,
            envvar="AUTOTUNE_DATA_DIR",
            help="Folder with the original dataset files (e.g. MNIST/raw/*.gz) [env: AUTOTUNE_DATA_DIR].",
        ),
        click.option(
            "--device",
            default="auto",
            show_default=True,
            envvar="AUTOTUNE_DEVICE",
            metavar="DEVICE",
            help="auto, cpu, cuda, cuda:N or mps; auto takes a GPU when there is one "
            "[env: AUTOTUNE_DEVICE]. Replays run on the CPU.",
        ),
        click.option(
            "--precision",
            type=click.Choice(list(PRECISIONS)),
            default=None,
            help="fp32; bf16 (autocast, fp32 weights; needs bf16 hardware); auto: bf16 where the device "
            "has it and the model is one it pays for. Each trial records its own. "
            "[default: the spec's 'precision', else fp32]",
        ),
        click.option(
            "--step",
            type=click.Choice(list(STEPS)),
            default=None,
            help="plain; fused: the optimiser as one fused kernel and a cheaper augmentation grid, from the same "
            "random draws (other rounding). Each trial records its own. [default: the spec's 'step', else plain]",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            metavar="SECONDS",
            help="Stop starting new trials after this many seconds.",
        ),
        click.option(
            "--artifact-dir",
            type=click.Path(file_okay=False),
            default=None,
            envvar="AUTOTUNE_ARTIFACT_DIR",
            help="Folder for trial artifacts (learning curves, checkpoints) [env: AUTOTUNE_ARTIFACT_DIR; "
            "default: beside the SQLite file, e.g. autotune-artifacts/].",
        ),
        click.option("--quiet", "-q", is_flag=True, help="No progress display; print only the final summary."),
        click.option("--json", "as_json", is_flag=True, help="Print the final summary as JSON."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def replay_options(func: Any) -> Any:
    """Options shared by replay, ablate and sweep."""
    options = [
        click.option("--study", "study", default=None, metavar="NAME|PATH", help=STUDY_HELP),
        click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP),
        click.option(
            "--study-name",
            default=None,
            metavar="NAME",
            help="Name of the study in the storage. [default: the spec's name]",
        ),
        click.option("--seeds", type=int, default=None, metavar="K", help="Seeds per configuration."),
        click.option(
            "--epochs",
            type=click.IntRange(min=1),
            default=None,
            metavar="E",
            help="Training epochs per run. [default: the spec's max_epochs]",
        ),
        click.option(
            "--train-subset",
            type=click.IntRange(min=1),
            default=None,
            metavar="N",
            help="Train on the first N examples of the training split only (a smaller budget).",
        ),
        click.option(
            "--threads",
            type=click.IntRange(min=1),
            default=None,
            metavar="N",
            help="Torch CPU threads. [default: the source trial's, else 1]",
        ),
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False),
            default=None,
            envvar="AUTOTUNE_DATA_DIR",
            help="Folder with the original dataset files [env: AUTOTUNE_DATA_DIR].",
        ),
        batch_seeds_option(),
        click.option("--json", "as_json", is_flag=True, help="Print the results as JSON."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def batch_seeds_option() -> Any:
    """``--batch-seeds/--seeds-one-by-one``: None where neither is given (the spec's ``batch_seeds`` decides)."""
    return click.option(
        "--batch-seeds/--seeds-one-by-one",
        "batch_seeds",
        default=None,
        help="Train the seeds of each configuration at once, as one batched model, or one after another. "
        "Batched runs draw their dropout masks for the batch, so their results differ from one-by-one runs and are "
        "kept apart; each records its batch. Measured no faster on a CPU (BENCHMARKS.md). "
        "[default: the spec's batch_seeds, else one by one]",
    )


def lang_option(help_text: str) -> Any:
    return click.option("--lang", type=click.Choice(list(LANGS)), default="en", show_default=True, help=help_text)


def out_option(default_out: str) -> Any:
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False),
        default=None,
        metavar="DIR",
        help=f"Output folder. [default: {default_out}-<study>; {default_out}-<study>-zh with --lang zh]"
        if default_out != "export"
        else f"Output folder. [default: {default_out}-<study>]",
    )


def stored_study_options(default_out: str) -> Any:
    """--study, --storage, --study-name and --out, for commands that read a stored study."""

    def decorate(func: Any) -> Any:
        for option in reversed(
            [
                click.option("--study", "study", required=True, metavar="NAME|PATH", help=STUDY_HELP),
                click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP),
                click.option(
                    "--study-name",
                    default=None,
                    metavar="NAME",
                    help="Name of the study in the storage. [default: the spec's name]",
                ),
                out_option(default_out),
            ]
        ):
            func = option(func)
        return func

    return decorate


class SubsetType(click.ParamType):
    """A count of training examples >= 1, or ``all``."""

    name = "N|all"

    def convert(self, value, param, ctx):
        try:
            number = int(value)
        except ValueError:
            number = value  # "all", or a word valid_subset refuses
        if not FinalSpec.valid_subset(number):
            self.fail(f"{FinalSpec.RULE}, got {value!r}", param, ctx)
        return number


class WorkersType(click.ParamType):
    """``auto`` or a whole number of workers >= 1."""

    name = "K|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or str(value).strip().lower() != "auto":
            return click.IntRange(min=1).convert(value, param, ctx)
        return "auto"


WORKERS = WorkersType()


def quiet_libraries() -> None:
    import optuna

    # Our own progress display reports trials; Optuna would print a traceback for every interrupted one.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")
