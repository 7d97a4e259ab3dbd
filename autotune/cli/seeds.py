"""The ``autotune`` commands that re-train over seeds: ``replay``, ``ablate``, ``sweep`` and ``confirm``."""

from __future__ import annotations

import json

import click

import autotune
from autotune.analysis.ablation import ProgressLines
from autotune.cli.options import (
    STORAGE_HELP,
    STUDY_HELP,
    batch_seeds_option,
    lang_option,
    out_option,
    quiet_libraries,
    replay_options,
)
from autotune.cli.output import num, pct, print_confirmation, print_table_result, table
from autotune.search.configs import parse_set
from autotune.storage.replays import METRIC_KEYS
from autotune.words.tables import mean_std


@click.command()
@replay_options
@click.option("--trial", "which", default=None, metavar="N|best", help="The stored trial to replay.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Replay a configuration from a YAML/JSON file instead (no stored study needed).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a parameter (repeatable), e.g. --set lr=0.01 --set units=[256,128].",
)
def replay(
    study: str | None,
    storage: str | None,
    study_name: str | None,
    seeds: int | None,
    epochs: int | None,
    train_subset: int | None,
    threads: int | None,
    batch_seeds: bool | None,
    data_dir: str | None,
    as_json: bool,
    which: str | None,
    config_file: str | None,
    sets: tuple[str, ...],
) -> None:
    """Re-run a stored trial (or a configuration file) exactly, with optional overrides and seeds.

    Prints train/validation loss and accuracy per seed and mean ± std; without overrides,
    with the trial's own seed, it checks that the stored metric is reproduced exactly.
    Replays are recorded in the companion study '<study>:replays'.
    """

    if (which is None) == (config_file is None):  # a usage error, exit code 2, before anything is opened
        raise click.UsageError("give exactly one of --trial N|best and --config FILE")
    quiet_libraries()
    _check_seeds(seeds)
    result = autotune.replay(
        study,
        trial=which,
        config=config_file,
        overrides=parse_set(sets),
        seeds=seeds or 1,
        epochs=epochs,
        train_subset=train_subset,
        storage=storage,
        study_name=study_name,
        data_dir=data_dir,
        threads=threads,
        batch_seeds=batch_seeds,
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    for note in result.notes:
        click.echo(f"Note: {note}")
    table(
        ["seed", "epochs", "train loss", "train acc (%)", "val loss", "val acc (%)", "seconds", ""],
        [
            [
                r.seed,
                r.epochs,
                num(r.train_loss),
                pct(r.train_accuracy),
                num(r.val_loss),
                pct(r.val_accuracy),
                f"{r.seconds:.1f}",
                "(recorded earlier)" if r.reused else "",
            ]
            for r in result.runs
        ],
    )
    rep = result.replay
    if len(result.runs) > 1:  # one seed has no spread to show
        click.echo(
            "mean ± std: "
            + ", ".join(
                f"{key} {mean_std(rep.mean(key), rep.std(key), percent=key.endswith('accuracy'))}"
                for key in METRIC_KEYS
                if rep.mean(key) is not None
            )
        )
    costs = [
        m for m in (*result.spec.metrics[1:], *(c.metric for c in result.spec.constraints)) if m not in METRIC_KEYS
    ]
    if costs:  # the further objectives and constrained metrics of this study, measured on these runs
        click.echo(
            "also: "
            + ", ".join(
                f"{m} {rep.mean(m):.4g}" + ("" if rep.std(m) is None else f" ± {rep.std(m):.2g}")
                for m in dict.fromkeys(costs)
                if rep.mean(m) is not None
            )
        )
    batch = result.runs[0].batch if result.runs else None
    if batch and not result.reproduction:  # the reproduction line says it for a trial's own seeds
        click.echo(f"Seeds {', '.join(map(str, batch))} were trained at once, as one batched model.")
    if result.reproduction:
        click.echo(result.reproduction)


def _check_seeds(seeds: int | None) -> None:
    if seeds is not None and seeds < 1:
        raise click.BadParameter(f"{seeds} is not >= 1", param_hint="'--seeds'")


@click.command()
@replay_options
@click.option(
    "--baseline",
    default="defaults",
    show_default=True,
    metavar="defaults|trial:N|FILE",
    help="What the best trial is compared with: the spec's defaults, a stored trial, or a config file.",
)
@lang_option("Table headers in English or in the seed reports' Chinese.")
@out_option("ablation")
def ablate(
    study: str | None,
    storage: str | None,
    study_name: str | None,
    seeds: int | None,
    epochs: int | None,
    train_subset: int | None,
    threads: int | None,
    batch_seeds: bool | None,
    data_dir: str | None,
    as_json: bool,
    baseline: str,
    lang: str,
    out_dir: str | None,
) -> None:
    """Ablation table: the best trial vs a baseline, leave-one-out and a greedy ablation path.

    Every row is mean ± std over K seeds (default 3) with the change against the best
    configuration, its share of the total gain and a paired test across seeds. Writes
    ablation.md/.csv/.json and ablation.png.
    """

    quiet_libraries()
    _check_seeds(seeds)
    progress = ProgressLines()
    result = autotune.ablate(
        study,
        baseline=baseline,
        seeds=3 if seeds is None else seeds,
        epochs=epochs,
        train_subset=train_subset,
        out_dir=out_dir,
        lang=lang,
        storage=storage,
        study_name=study_name,
        data_dir=data_dir,
        threads=threads,
        batch_seeds=batch_seeds,
        on_row=None if as_json else lambda r: click.echo(progress(r), err=True),
    )
    print_table_result(result, as_json)


@click.command()
@replay_options
@click.option("--param", required=True, metavar="P", help="The parameter to vary (or 'epochs').")
@click.option("--values", "values_text", required=True, metavar="V1,V2,...", help="Comma-separated values.")
@click.option(
    "--from",
    "from_",
    default="best",
    show_default=True,
    metavar="best|trial:N",
    help="The trial whose other parameters are held fixed.",
)
@lang_option("Table headers in English or in the seed reports' Chinese.")
@out_option("sweep")
def sweep(
    study: str | None,
    storage: str | None,
    study_name: str | None,
    seeds: int | None,
    epochs: int | None,
    train_subset: int | None,
    threads: int | None,
    batch_seeds: bool | None,
    data_dir: str | None,
    as_json: bool,
    param: str,
    values_text: str,
    from_: str,
    lang: str,
    out_dir: str | None,
) -> None:
    """One factor at a time: vary one parameter over values, holding the others at a trial's.

    Like the seed reports' learning-rate, batch-size, hidden-units and epochs tables; records
    wall time per setting too. Writes sweep-P.md/.csv/.json and sweep-P.png.
    """

    quiet_libraries()
    _check_seeds(seeds)
    values = [parse_set([f"{param}={text}"])[param] for text in values_text.split(",")]
    result = autotune.sweep(
        study,
        param=param,
        values=values,
        start=from_,
        seeds=seeds or 1,
        epochs=epochs,
        train_subset=train_subset,
        out_dir=out_dir,
        lang=lang,
        storage=storage,
        study_name=study_name,
        data_dir=data_dir,
        threads=threads,
        batch_seeds=batch_seeds,
    )
    print_table_result(result, as_json)


@click.command()
@click.option("--study", "study", required=True, metavar="NAME|PATH", help=STUDY_HELP)
@click.option(
    "--top",
    type=int,
    default=5,
    show_default=True,
    metavar="K",
    help="Confirm the K best complete trials (by their single-seed value).",
)
@click.option(
    "--seeds",
    type=int,
    default=3,
    show_default=True,
    metavar="N",
    help="Seeds per trial, the same for every trial (at least 2; a paired test needs 3).",
)
@click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP)
@click.option(
    "--study-name", default=None, metavar="NAME", help="Name of the study in the storage. [default: the spec's name]"
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Torch CPU threads. [default: the best trial's, else 1]",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    envvar="AUTOTUNE_DATA_DIR",
    help="Folder with the original dataset files [env: AUTOTUNE_DATA_DIR].",
)
@click.option(
    "--docx",
    "docx",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Also write the confirmation table alone as a Word document (FILE.docx), to paste from.",
)
@lang_option("The --docx table's language: English or the seed reports' Chinese.")
@batch_seeds_option()
@click.option("--json", "as_json", is_flag=True, help="Print the confirmation as JSON.")
def confirm(
    study: str,
    top: int,
    seeds: int,
    storage: str | None,
    study_name: str | None,
    threads: int | None,
    batch_seeds: bool | None,
    data_dir: str | None,
    docx: str | None,
    lang: str,
    as_json: bool,
) -> None:
    """Re-train the top K trials over N seeds and rank them by mean: which best is real.

    The search's best won on one seed. Every confirmed trial is trained with the same N fresh
    seeds (runs already in '<study>:replays' are reused), ranked by mean with a 95% interval,
    and the others are tested against the top one (paired t-test, Holm-corrected, from 3 seeds).
    The result is recorded in the study; `autotune export` then exports the confirmed best.
    """

    quiet_libraries()
    result = autotune.confirm(
        study,
        top=top,
        seeds=seeds,
        storage=storage,
        study_name=study_name,
        data_dir=data_dir,
        threads=threads,
        batch_seeds=batch_seeds,
        docx=docx,
        lang=lang,
        on_run=None
        if as_json
        else lambda trial, run: click.echo(
            f"  trial {trial}, seed {run.seed}: done"
            + (
                " (recorded earlier)"
                if run.reused
                else f" ({run.seconds:.1f}s{', its share of the batch' if run.batch else ''})"
            ),
            err=True,
        ),
    )
    print_confirmation(result, as_json)
