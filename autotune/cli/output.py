"""What the ``autotune`` commands print: run summaries, tables, results as text or JSON."""

from __future__ import annotations

import json
import shlex
from typing import Any

import click

from autotune.analysis import confirmation, stopping
from autotune.base.timing import time_line
from autotune.execution.run_summary import RunSummary
from autotune.storage.studies import storage_option
from autotune.storage.warm_start import lines
from autotune.words.figures import value_text
from autotune.words.tables import short


def print_summary(summary: RunSummary, metric: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2, default=str))
        return
    if summary.warm_start is not None:  # trials copied from another study before this run searched
        for line in lines(summary.warm_start):
            click.echo(line)
    new = summary.finished - summary.finished_before
    finished = ", ".join(f"{summary.states[s]} {s.lower()}" for s in ("COMPLETE", "PRUNED") if s in summary.states)
    others = ", ".join(f"{n} {s.lower()}" for s, n in summary.states.items() if s not in ("COMPLETE", "PRUNED"))
    click.echo(
        f"Study '{summary.study_name}' in {summary.storage}: {summary.finished} of {summary.target} "
        f"finished trials ({finished or 'none yet'}){f'; not counted: {others}' if others else ''}; "
        f"{new} finished during this command ({summary.seconds:.1f}s), {summary.pruned_this_run} of them pruned."
    )
    if summary.hand_rows:  # imported rows fill part of the target: say so, and how to train N trials here
        own = summary.finished - summary.hand_rows
        click.echo(
            f"{summary.hand_rows} of the {summary.finished} finished trials are imported hand rows; they count "
            f"towards the {summary.target}, so autotune has trained {own} here; to train N trials of its own, "
            f"pass --trials {summary.hand_rows}+N (e.g. --trials {summary.hand_rows + summary.target})."
        )
    if summary.best_value is not None:
        params = ", ".join(f"{k}={short(v)}" for k, v in summary.best_params.items())

        whose = ", autotune's trials only" if summary.hand_rows else ""
        click.echo(
            f"Best {metric} {value_text(metric, summary.best_value)} (trial {summary.best_trial}, one seed"
            f"{whose}): {params}"
        )
    if summary.stopped is not None:  # the study's search ended at the noise floor (autotune.analysis.stopping)
        click.echo(stopping.line(summary.stopped, finished=summary.finished, target=summary.target))
    if summary.infeasible:
        click.echo(f"{summary.infeasible} complete trial(s) break a constraint (kept, marked infeasible).")
    if summary.time_s:
        line = time_line(summary.time_s)
        if line:
            click.echo(line)
    if len(summary.metrics) > 1:
        click.echo(f"Pareto front ({len(summary.pareto)} trials, feasible only; `autotune report` draws it):")
        table(
            ["trial", *summary.metrics],
            [[p.trial, *(short(p.values[m]) for m in summary.metrics)] for p in summary.pareto],
        )
    if summary.confirmation is not None:  # the spec's confirm: block ran after the search
        click.echo(confirmation.table(summary.confirmation))
        for line in confirmation.lines(summary.confirmation):
            click.echo(line)
    if summary.confirmation_note:
        click.echo(f"Note: {summary.confirmation_note}.")
    if summary.finished:
        where, tail = storage_option(summary.storage)
        study = shlex.quote(summary.study_name)
        confirm = (
            f"autotune confirm --study {study}{where} (the top 5 over 3 seeds: is the best real?); "
            if summary.confirmation is None and len(summary.metrics) == 1
            else ""
        )
        click.echo(
            f"Next: autotune report --study {study}{where} (tables, figures, analysis); {confirm}"
            f"autotune export --study {study}{where} (best configuration, final model); "
            f"autotune dashboard{where} (live view).{tail}"
        )


def print_table_result(result: Any, as_json: bool) -> None:
    """An ablation's or a sweep's result: as JSON, or its table and where its files went."""
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    click.echo(result.markdown)
    click.echo(f"Written to {result.out}/ ({', '.join(result.files)})")


def print_confirmation(result: Any, as_json: bool) -> None:
    """A confirmation: as JSON, or its table, its verdict lines and what it cost."""
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    click.echo(result.markdown)
    for line in result.lines:
        click.echo(line)
    click.echo(
        f"{result.trained} run(s) trained, {result.reused} read back from the replay store; recorded in the "
        "study (`autotune export` now exports trial "
        f"{result.chosen})."
        if result.best_trial is not None
        else f"{result.trained} run(s) trained, {result.reused} read back from the replay store; recorded in the study."
    )
    if result.document:
        click.echo(f"The table alone, as a Word document: {result.document}")


def print_import(result: Any, as_json: bool) -> None:
    """An import: as JSON, or its lines and the command that searches on from it."""
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str, ensure_ascii=False))
        return
    for line in result.lines:
        click.echo(line)
    where, tail = storage_option(result.storage)
    click.echo(
        f"Next: autotune report --study {shlex.quote(result.study)}{where}; `autotune run` on this "
        f"study searches on from these trials (they count towards its --trials).{tail}"
    )


def table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def num(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


def pct(value: Any) -> str:
    """A fraction (an accuracy) in percent, as every text output prints accuracies (97.91)."""
    return "-" if value is None else f"{value * 100:.2f}"
