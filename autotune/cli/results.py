"""The ``autotune`` commands that bring tables in and results out: ``import``, ``report`` and ``export``."""

from __future__ import annotations

import json

import click

import autotune
from autotune.cli.options import (
    STORAGE_HELP,
    SubsetType,
    batch_seeds_option,
    lang_option,
    quiet_libraries,
    stored_study_options,
)
from autotune.cli.output import print_import
from autotune.words.figures import value_text
from autotune.words.tables import mean_std


@click.command("import")
@click.option(
    "--study",
    "study",
    required=True,
    metavar="NAME|PATH",
    help="The spec (a shipped name or a YAML file) whose study takes the table, created if missing; or a "
    "stored study's name.",
)
@click.option(
    "--table",
    "table",
    required=True,
    metavar="FILE[#N]",
    help="A CSV file, or a file of Markdown pipe tables: all of them, or the N-th with FILE#N.",
)
@click.option(
    "--base",
    default=None,
    metavar="FILE",
    help="A configuration file (as `replay --config` takes) for the parameters the table does not give. "
    "[default: the spec's defaults]",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=PARAM",
    help="What a column holds, where its header is unknown or ambiguous (repeatable), e.g. "
    "--map 隐藏层神经元=fc_units; PARAM may be a figure (val_accuracy), remark or ignore.",
)
@click.option(
    "--rerun",
    is_flag=True,
    help="Queue every row to be trained by `autotune run` under the study's budget and seed, instead of "
    "storing the recorded results.",
)
@click.option(
    "--keep-duplicates",
    is_flag=True,
    help="Add rows with the same configuration and result as trials imported before (from any file or "
    "format); by default they are left out with a warning, so no experiment counts twice.",
)
@click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP)
@click.option(
    "--study-name", default=None, metavar="NAME", help="Name of the study in the storage. [default: the spec's name]"
)
@click.option("--json", "as_json", is_flag=True, help="Print what was imported as JSON.")
def import_(
    study: str,
    table: str,
    base: str | None,
    maps: tuple[str, ...],
    rerun: bool,
    keep_duplicates: bool,
    storage: str | None,
    study_name: str | None,
    as_json: bool,
) -> None:
    """Import a hand-filled tuning table (CSV or Markdown) into a study.

    Each row with a result becomes a complete trial carrying it (user attribute source: hand); rows
    without one are queued for `autotune run`. Headers in English or Chinese (学习率, 批处理大小,
    网络结构, 验证集准确率 …), values as people write them (97.45%, [784,256,128,10], 正态).
    Importing the same table again, in any file or format, adds nothing. No data are loaded.
    """

    quiet_libraries()
    result = autotune.import_table(
        study,
        table,
        base=base,
        maps=list(maps),
        rerun=rerun,
        storage=storage,
        study_name=study_name,
        keep_duplicates=keep_duplicates,
    )
    print_import(result, as_json)


#: ``autotune report --format``'s choices and the files each writes
REPORT_CHOICES = {
    "html": ("html",),
    "md": ("md",),
    "both": ("html", "md"),
    "docx": ("docx",),
    "all": ("html", "md", "docx"),
}


@click.command()
@stored_study_options("report")
@lang_option("The report's language: English, or Chinese throughout (headings, tables, figures, analysis).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(REPORT_CHOICES)),
    default="both",
    show_default=True,
    help="Write index.html, report.md, both, report.docx (a Word document to hand in), or all three "
    "(figures and data always).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def report(
    study: str, storage: str | None, study_name: str | None, out_dir: str | None, lang: str, fmt: str, as_json: bool
) -> None:
    """Write a report folder: summary, the seed-format trial table, importance, plots, analysis.

    index.html opens offline (no CDN); report.md, PNG figures and the data behind every
    figure (CSV/JSON) sit beside it.
    """

    quiet_libraries()
    result = autotune.report(
        study, storage=storage, study_name=study_name, out_dir=out_dir, lang=lang, formats=REPORT_CHOICES[fmt]
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    for note in result.notes:
        click.echo(f"Note: {note}", err=True)
    click.echo(
        f"Report written to {result.out}/ ({len(result.files)} files, {len(result.figures)} figures)"
        + (f"; the Word document is {result.document}" if result.document else "")
    )


@click.command()
@stored_study_options("export")
@click.option(
    "--retrain-on",
    type=click.Choice(["train+val", "train"]),
    default="train+val",
    show_default=True,
    help="Data the final model is retrained on before its one evaluation on the test split.",
)
@click.option("--no-retrain", is_flag=True, help="Skip the final model (no test-set evaluation).")
@click.option(
    "--threads", type=click.IntRange(min=1), default=None, metavar="N", help="Torch CPU threads. [default: 1]"
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    envvar="AUTOTUNE_DATA_DIR",
    help="Folder with the original dataset files [env: AUTOTUNE_DATA_DIR].",
)
@click.option(
    "--trial",
    "trial_number",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Export trial N (e.g. a Pareto trial from the report) instead of the (confirmed) best.",
)
@click.option(
    "--objective",
    default=None,
    metavar="K|METRIC",
    help="Multi-objective study: export the best trial by this objective. [default: the first]",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="K",
    help="Retrain the final model K times (seeds derived from the trial's) and report the test "
    "figures as mean ± std; model.pt keeps the first.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Train the final model for N epochs. [default: the spec's final.max_epochs, else the trials']",
)
@click.option(
    "--train-subset",
    type=SubsetType(),
    default=None,
    metavar="N|all",
    help="Train the final model on N training examples, or all of them. "
    "[default: the spec's final.train_subset, else the trials']",
)
@batch_seeds_option()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def export(
    study: str,
    storage: str | None,
    study_name: str | None,
    out_dir: str | None,
    retrain_on: str,
    no_retrain: bool,
    threads: int | None,
    data_dir: str | None,
    trial_number: int | None,
    objective: str | None,
    seeds: int,
    epochs: int | None,
    train_subset: int | str | None,
    batch_seeds: bool | None,
    as_json: bool,
) -> None:
    """Export the best trial: best.yaml/.json, trials.csv, a final model tested once, provenance.json.

    The best trial is the confirmed best once `autotune confirm` (or the spec's confirm: block)
    has ranked the top trials over several seeds, else the best single-seed value.

    The final model is the best configuration retrained on train+validation (or train only)
    and evaluated exactly once on the held-out test split; its checkpoint (model.pt) carries
    the weights, model arguments, spec and package versions and loads with weights_only=True.
    Search cheaply, train the final model fully: its budget (--epochs, --train-subset) may
    exceed the trials', as the spec's ``final:`` block declares.
    """

    quiet_libraries()
    result = autotune.export(
        study,
        storage=storage,
        study_name=study_name,
        out_dir=out_dir,
        retrain_on=None if no_retrain else retrain_on,
        trial=trial_number,
        objective=objective,
        seeds=seeds,
        epochs=epochs,
        train_subset=train_subset,
        data_dir=data_dir,
        threads=threads,
        batch_seeds=batch_seeds,
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    best = result.best
    values = ", ".join(f"{m} {value_text(m, v)}" for m, v in best.values.items())
    click.echo(f"Trial {best.trial} ({best.chosen_by}): {values} -> {result.out}/ ({', '.join(result.files)})")
    confirmed = best.confirmed
    if confirmed and confirmed.trial != confirmed.single_seed_best:
        click.echo(
            f"The confirmed best, trial {confirmed.trial} (mean {best.metric} "
            f"{value_text(best.metric, confirmed.mean)} over {confirmed.seeds} seeds), is exported "
            f"instead of the single-seed best, trial {confirmed.single_seed_best} "
            f"({value_text(best.metric, confirmed.single_seed_value)} on one seed); "
            f"--trial {confirmed.single_seed_best} exports that one."
        )
    if confirmed and confirmed.tie_with is not None:
        click.echo(
            f"Trial {confirmed.tie_with} had the best mean {best.metric} over {confirmed.seeds} seeds, "
            f"but the confirmation measured no difference from the single-seed best, trial "
            f"{confirmed.single_seed_best}: a tie, so the single-seed best is exported; --trial "
            f"{confirmed.tie_with} exports the other."
        )
    if best.since_confirmation:
        click.echo(
            f"Note: the study has {best.since_confirmation} complete trial(s) more than when it was "
            "confirmed; `autotune confirm` again to include them.",
            err=True,
        )
    final = result.final_model
    if final:
        metric = (
            f"test accuracy {value_text('val_accuracy', final.test_accuracy)}"
            if final.test_accuracy is not None
            else f"test loss {final.test_loss:.4g}"
            if final.test_loss is not None
            else "not tested (the dataset has no test split)"
        )
        click.echo(
            f"Final model retrained on {final.trained_on} ({final.train_examples} examples, "
            f"{final.epochs} epochs, {final.seconds:.1f}s): {metric} on {final.test_examples} "
            f"test examples."
        )
        if len(final.runs) > 1:
            accuracy = final.test_accuracy is not None
            mean, std = (
                (final.test_accuracy_mean, final.test_accuracy_std)
                if accuracy
                else (final.test_loss_mean, final.test_loss_std)
            )
            click.echo(
                f"Over {len(final.runs)} seeds ({', '.join(str(r.seed) for r in final.runs)}): "
                f"{'test accuracy' if accuracy else 'test loss'} {mean_std(mean, std, percent=accuracy)}"
                + (" (percentage points)" if accuracy else "")
                + ("; the seeds trained at once, as one batched model" if final.batch else "")
                + "."
            )
