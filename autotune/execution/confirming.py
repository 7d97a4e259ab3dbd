"""Confirming a study: its top trials re-trained over fresh seeds, the runs recorded, the result stored.

The numbers and the words come from :mod:`autotune.analysis.confirmation`; this module loads the data and
trains. ``autotune confirm`` (:func:`autotune.api.confirm`) and a spec's ``confirm:`` block at the end of
``autotune run`` both come here; :func:`confirm_after_search` decides which ``run`` takes the latter.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import optuna

from autotune.analysis import confirmation
from autotune.errors import Interrupted
from autotune.execution.progress import Progress
from autotune.execution.retries import retry
from autotune.execution.run_summary import RunSummary
from autotune.search import goals
from autotune.search.prepare import replay_data
from autotune.spec.study import StudySpec
from autotune.storage import recovery
from autotune.storage.replays import SeedRun
from autotune.storage.stored import open_context


@dataclass(frozen=True)
class ConfirmResult:
    """A confirmation: ``record`` is what was stored in the study's ``confirmation`` user attribute
    (ranking, best trial, indistinguishable trials, overstatement), ``markdown`` its table, ``lines``
    the verdict, and how many runs were trained and how many read back from the replay store."""

    record: dict[str, Any]
    markdown: str
    lines: list[str]
    trained: int
    reused: int
    #: The trial every command now calls the best (:func:`autotune.search.goals.the_best`): the confirmation's top where
    #: it measured the single-seed best worse, else the single-seed best (a tie keeps it).
    chosen: int | None = None
    #: The Word document of the table alone (``docx``), or None
    document: str | None = None

    @property
    def best_trial(self) -> int | None:
        """The trial with the best mean over the seeds (None if every confirmed trial diverged)."""
        return self.record["best_trial"]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.record,
            "chosen_best": self.chosen,
            "lines": self.lines,
            "runs": {"trained": self.trained, "reused": self.reused},
            "document": self.document,
        }


def confirm_study(
    study: StudySpec | str,
    *,
    top: int,
    seeds: int,
    storage: str | None = None,
    study_name: str | None = None,
    data_dir: str | os.PathLike | None = None,
    threads: int | None = None,
    on_run: Callable[[int, SeedRun], None] | None = None,
    workers: int = 1,
    splits: Any = None,
    lang: str = "en",
    batch_seeds: bool | None = None,
) -> ConfirmResult:
    """Re-train the ``top`` best complete trials over ``seeds`` shared seeds and record the confirmation in the
    study (see :func:`autotune.api.confirm`, which checks its arguments first)."""
    ctx = open_context(study, storage=storage, study_name=study_name, need_study=True, batch_seeds=batch_seeds)
    chosen, notes = confirmation.candidates(ctx.study, ctx.spec, top)
    splits = replay_data(ctx.spec, threads, data_dir, chosen[0].user_attrs.get("threads"), splits=splits)
    record, counts = confirmation.confirm(
        ctx.study,
        ctx.spec,
        chosen,
        seeds=seeds,
        top=top,
        splits=splits,
        store=ctx.store(),
        notes=notes,
        on_run=on_run,
        workers=workers,
    )
    return ConfirmResult(
        record=record,
        markdown=confirmation.table(record, lang),
        lines=confirmation.lines(record, lang),
        trained=counts["trained"],
        reused=counts["reused"],
        chosen=goals.the_best(ctx.study).number,
    )


#: The study user attribute that says which trial target a `run` has taken the confirmation of.
CONFIRM_CLAIM = "confirmation_claimed_at"


def confirm_after_search(
    spec: StudySpec,
    study: optuna.Study,
    summary: RunSummary,
    *,
    url: str,
    threads: int | None,
    data_dir: str | None,
    progress: Progress,
    splits: Any = None,
) -> RunSummary:
    """Run the spec's ``confirm:`` block once the study holds its target, in one ``autotune run`` only.

    The rule: the ``run`` command (never ``autotune worker``) that ends with the study at its target
    takes the confirmation of that target under the study's slot lock; a second ``run`` that gets
    there (another host, or a rerun of a finished study) finds it taken and only says so. A search
    stopped at the noise floor (``summary.stopped``) is finished too; a run that stops early
    (``--timeout``) does not confirm. An interrupted confirmation gives its claim back.
    """

    if spec.confirm is None or (summary.finished < summary.target and summary.stopped is None):
        return summary
    with recovery.slot_lock(url, study.study_name):
        taken = retry(lambda: study.user_attrs.get(CONFIRM_CLAIM), url) == summary.target
        if not taken:
            retry(lambda: study.set_user_attr(CONFIRM_CLAIM, summary.target), url)
    if taken:
        record = confirmation.stored(study)
        at = (
            f"{summary.target} trials"
            if summary.stopped is None
            else f"its noise-floor stop (target {summary.target} trials)"
        )
        if record is not None and record["complete_trials"] == len(goals.complete(study)):
            note = f"study '{study.study_name}' was confirmed at {at} already; `autotune confirm` shows it again"
        else:
            note = (
                f"another `autotune run` took the confirmation of study '{study.study_name}' at "
                f"{at}; if it was stopped, `autotune confirm` runs it"
            )
        return replace(summary, confirmation_note=note)

    progress.note(
        f"Confirming the top {spec.confirm.top} trials over {spec.confirm.seeds} seeds (the spec's confirm: block)"
    )
    try:
        result = confirm_study(
            spec,
            top=spec.confirm.top,
            seeds=spec.confirm.seeds,
            storage=url,
            study_name=study.study_name,
            data_dir=data_dir,
            threads=threads,
            workers=summary.workers,
            splits=splits,
            on_run=lambda trial, run: progress.note(
                f"  trial {trial}, seed {run.seed}: " + ("recorded earlier" if run.reused else "done")
            ),
        )
    except BaseException as exc:
        with contextlib.suppress(Exception):  # give the claim back, so the next `run` confirms
            study.set_user_attr(CONFIRM_CLAIM, None)
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted(
                f"interrupted during the confirmation: the search's {summary.finished} trials are stored, and each "
                "confirmation run that finished is kept in the replay store; run the same command again (or "
                f"`autotune confirm --study {study.study_name} --top {spec.confirm.top} --seeds "
                f"{spec.confirm.seeds}`) to finish it: finished runs are read back, not trained again"
            ) from None
        raise
    return replace(summary, confirmation=result.to_dict())
