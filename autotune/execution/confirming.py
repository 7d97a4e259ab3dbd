"""Confirming a study: its top trials re-trained over fresh seeds, the runs recorded, the result stored.

The numbers and the words come from :mod:`autotune.analysis.confirmation`; this module loads the data and
trains. ``autotune confirm`` (:func:`autotune.api.confirm`) and a spec's ``confirm:`` block at the end of
``autotune run`` both come here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autotune.analysis import confirmation
from autotune.search import goals
from autotune.search.prepare import replay_data
from autotune.spec.study import StudySpec
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
) -> ConfirmResult:
    """Re-train the ``top`` best complete trials over ``seeds`` shared seeds and record the confirmation in the
    study (see :func:`autotune.api.confirm`, which checks its arguments first)."""
    ctx = open_context(study, storage=storage, study_name=study_name, need_study=True)
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
