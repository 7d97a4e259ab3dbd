"""Progress display for a run: a live bar on a terminal, one line per trial otherwise, or nothing."""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, TextIO

import optuna

from autotune.search import goals
from autotune.words.figures import value_text

if TYPE_CHECKING:
    from autotune.training.loop import EpochStats


class Progress:
    """Silent base class (``--quiet``); subclasses override the hooks they need."""

    def start(
        self, *, study_name: str, done: int, target: int, max_epochs: int, metric: str, metrics: tuple[str, ...] = ()
    ) -> None:
        self.study_name, self.done, self.target, self.max_epochs, self.metric = (
            study_name,
            done,
            target,
            max_epochs,
            metric,
        )
        self.metrics = metrics or (metric,)  # several: a multi-objective study
        self.best: float | None = None
        self.best_text = "-"

    def note(self, text: str) -> None:
        """A line of information before the trials start (what data were loaded, on which device)."""

    def epoch(self, trial_number: int, stats: EpochStats, value: float) -> None:
        pass

    def trial_finished(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        pass

    def stop(self) -> None:
        pass

    def worker_line(self, index: int, line: str) -> None:
        """A line local worker ``index`` (0-based) printed: its trial lines (:class:`LineProgress`'s format),
        its notes and its errors."""

    def _update_best(self, study: optuna.Study) -> None:
        # count from the study, not locally: other workers finish trials too
        self.done = len(
            study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED))
        )
        if goals.is_multi(study):
            self.best_text = f"pareto front of {len(goals.pareto_front(study))}"
            return
        try:
            self.best = study.best_value
        except ValueError:
            self.best = None
        self.best_text = "-" if self.best is None else value_text(self.metric, self.best)

    def _values(self, trial: optuna.trial.FrozenTrial) -> str:
        """``metric=value`` for each objective, and which constraints the trial broke."""
        if not trial.values:
            text = f"{self.metric}=-"
        else:
            text = " ".join(f"{m}={value_text(m, v)}" for m, v in zip(self.metrics, trial.values))
        broken = [k for k, v in trial.constraints.items() if v > 0]
        return text + (f" infeasible ({', '.join(broken)})" if broken else "")


#: A trial line as :class:`LineProgress` prints it: finished/target, trial number, state, best so far.
_TRIAL_LINE = re.compile(r"^\[(\d+)/\d+\] trial (\d+) (\w+): .* best=(.+?) \(")


class LineProgress(Progress):
    """One line per finished trial, for logs and pipes."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    def note(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def trial_finished(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self._update_best(study)
        state = trial.state.name.lower()
        epochs = trial.user_attrs.get("epochs", "-")
        print(
            f"[{self.done}/{self.target}] trial {trial.number} {state}: {self._values(trial)} "
            f"epochs={epochs} best={self.best_text} ({trial.user_attrs.get('remark', '')})",
            file=self.stream,
            flush=True,
        )

    def worker_line(self, index: int, line: str) -> None:
        print(f"w{index + 1} {line}", file=self.stream, flush=True)


class LiveProgress(Progress):
    """A rich progress bar: trials done/total, the current trial's epoch, the best value so far."""

    def __init__(self, console=None) -> None:
        self.console = console  # a rich Console; default: stderr

    def note(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def start(self, **kwargs) -> None:  # type: ignore[override]
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        super().start(**kwargs)
        self._bar = RichProgress(
            TextColumn("[bold]{task.fields[study]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            transient=False,
            console=self.console or Console(stderr=True),
        )
        self._task = self._bar.add_task(
            "trials", total=self.target, completed=self.done, study=self.study_name, status="starting…"
        )
        self._shown: set[str] = set()
        self._bar.start()

    def _status(self, now: str) -> str:
        if len(self.metrics) > 1:
            return f"{now} | {self.best_text}"
        return f"{now} | best {self.metric} {self.best_text}"

    def epoch(self, trial_number: int, stats: EpochStats, value: float) -> None:
        self._bar.update(
            self._task,
            status=self._status(
                f"trial {trial_number} epoch {stats.epoch}/{self.max_epochs} "
                f"{self.metric}={value_text(self.metric, value)}"
            ),
        )

    def trial_finished(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self._update_best(study)
        self._bar.update(
            self._task, completed=self.done, status=self._status(f"trial {trial.number} {trial.state.name.lower()}")
        )

    def stop(self) -> None:
        self._bar.stop()

    def worker_line(self, index: int, line: str) -> None:
        """A worker's trial line moves the bar; its other lines (the same note from every worker) show once."""
        trial = _TRIAL_LINE.match(line)
        if trial is None:
            if line not in self._shown:
                self._shown.add(line)
                self._bar.console.print(line, markup=False, highlight=False)
            return
        done, number, state, best = trial.groups()
        self.done, self.best_text = int(done), best
        self._bar.update(self._task, completed=self.done, status=self._status(f"w{index + 1} trial {number} {state}"))


def make_progress(*, quiet: bool) -> Progress:
    """Nothing with ``quiet``; a live bar on a terminal; lines otherwise or with $AUTOTUNE_PROGRESS=lines."""
    if quiet:
        return Progress()
    if sys.stderr.isatty() and os.environ.get("AUTOTUNE_PROGRESS") != "lines":
        return LiveProgress()
    return LineProgress()
