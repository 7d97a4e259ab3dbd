"""One worker on a study: claim a slot under the study's lock, run the trial, and again, until the study holds its
target (:func:`work`); and a worker's whole session around that loop, from its objective, the stopping rule the last
``run`` set and its progress display to its run summary (:func:`work_and_summarize`).

Every storage call retries a lost connection (:mod:`autotune.execution.retries`). A trial the loop leaves, by
Ctrl-C, SIGTERM or a bug, is marked FAIL first, so none is left RUNNING.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import TrialState

from autotune.analysis import stopping
from autotune.base import interrupts
from autotune.errors import Interrupted, StorageError
from autotune.execution.progress import Progress
from autotune.execution.retries import retry, storage_failed
from autotune.execution.run_summary import RunSummary, finished_and_pruned, summarize
from autotune.execution.shared_study import load_data
from autotune.hardware.steps import recorded_step
from autotune.search.goals import by_hand
from autotune.spec.study import StudySpec
from autotune.storage import recovery
from autotune.storage.artifacts import artifact_dir as default_artifact_dir
from autotune.storage.artifacts import open_store
from autotune.storage.studies import count_finished, open_storage

#: How often an idle worker checks whether the last running trials finished (or died).
POLL_SECONDS = 1.0


def work_and_summarize(
    spec: StudySpec,
    study: optuna.Study,
    *,
    url: str,
    target: int,
    splits: Any,
    device: str,
    progress: Progress,
    timeout: float | None,
    artifact_dir: str | None,
    data_dir: str | None,
) -> RunSummary:
    """One worker's session: :func:`work` on ``study`` with the spec's objective, until it holds ``target`` finished
    trials, ``timeout`` seconds pass or the stopping rule the last ``run`` set fires; then the run summary. A storage
    that failed for good, and Ctrl-C, end in one error that says what is kept."""
    from sqlalchemy.exc import DBAPIError

    # imported here, not at the top: keeps torch off the import of this module
    from autotune.execution.objective import Objective

    before, pruned_before = retry(lambda: finished_and_pruned(study), url)
    start = time.perf_counter()
    if before < target:
        folder = default_artifact_dir(url, artifact_dir)
        store = open_store(folder)

        def on_epoch(number: int, stats: Any, value: float) -> None:
            interrupts.check()  # a stop whose first KeyboardInterrupt was swallowed (see interrupts)
            progress.epoch(number, stats, value)

        objective = Objective(
            spec,
            splits,
            device=device,
            on_epoch=on_epoch,
            artifacts=store,
            artifact_folder=folder,
            retry=lambda fn: retry(fn, url),
        )
        rule = retry(lambda: stopping.rule_of(study), url)  # what the last `run` set, for every worker alike
        stop = (
            None
            if rule is None
            else stopping.NoiseFloor(
                spec,
                rule,
                storage=open_storage(url),
                note=progress.note,
                load_splits=lambda: splits if device == "cpu" else load_data(spec, data_dir, "cpu"),
            )
        )
        progress.note(splits.describe())
        other = retry(lambda: step_note(study, spec.step), url)
        if other is not None:
            progress.note(other)
        progress.start(
            study_name=study.study_name,
            done=before,
            target=target,
            max_epochs=spec.max_epochs,
            metric=spec.metric,
            metrics=spec.metrics,
        )
        try:
            work(
                study,
                objective,
                target=target,
                url=url,
                on_trial=progress.trial_finished,
                deadline=None if timeout is None else time.monotonic() + timeout,
                stop=stop,
            )
        except (optuna.exceptions.StorageInternalError, DBAPIError) as exc:  # e.g. a full disk, mid-trial
            progress.stop()
            raise storage_failed(url, exc) from None
        except KeyboardInterrupt:
            progress.stop()
            done = count_finished(study)
            raise Interrupted(
                f"interrupted: {done} of {target} trials finished in study '{study.study_name}'; "
                f"the running trial was marked FAIL; run the same command again to continue"
            ) from None
        progress.stop()
    return summarize(
        study,
        storage_url=url,
        target=target,
        finished_before=before,
        pruned_before=pruned_before,
        seconds=time.perf_counter() - start,
    )


def work(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    *,
    target: int,
    url: str | None,
    on_trial: Callable[[optuna.Study, optuna.trial.FrozenTrial], None] | None = None,
    deadline: float | None = None,
    stop: Callable[[optuna.Study, int], bool] | None = None,
) -> None:
    """Claim and run trials until the study holds ``target`` finished trials (or ``deadline`` passes, or
    ``stop(study, target)``, asked under the slot lock before each claim, says the search is over)."""
    lock = recovery.slot_lock(url, study.study_name)
    while deadline is None or time.monotonic() < deadline:
        interrupts.check()
        trial = None
        try:
            # Ctrl-C/SIGTERM wait until the claimed trial is known, so it can never be left RUNNING.
            with interrupts.deferred(), lock:
                # Failing a dead worker's trial and re-queueing it (WAITING) happen under the slot lock too:
                # a claim between the two saw the slot free, started a new trial, and the re-queued one then
                # ran as trial N+1 (the SIGKILL storm on PostgreSQL showed it, 1 run in 30).
                retry(lambda: recovery.fail_stale_trials(study), url)
                if stop is not None and retry(lambda: stop(study, target), url):
                    return  # under the lock: the worker that records the stop is the only one to judge it
                trial, done = retry(lambda: recovery.claim(study, target), url)
            if done:
                return
            if trial is None:  # every slot is taken by a running trial; wait in case one of them dies
                time.sleep(POLL_SECONDS)
                continue
            frozen = _run_trial(study, trial, objective, url)
        except BaseException:  # KeyboardInterrupt (Ctrl-C/SIGTERM) or a bug: mark the trial FAIL first
            if trial is not None:
                with interrupts.deferred():  # a second Ctrl-C must not cut the FAIL write in two
                    recovery.fail_quietly(study, trial, url)
            raise
        if on_trial is not None:
            on_trial(study, frozen)
        failure = getattr(objective, "artifact_failure", None)
        if failure:
            raise StorageError(
                f"{failure}; the trial itself finished and is stored; free space (or fix the "
                "folder) and run the same command again"
            )


def _run_trial(
    study: optuna.Study, trial: optuna.Trial, objective: Callable[[optuna.Trial], float], url: str | None
) -> optuna.trial.FrozenTrial:
    with recovery.heartbeat(study, trial):
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            return retry(lambda: study.tell(trial, state=TrialState.PRUNED), url)
    return retry(lambda: study.tell(trial, value), url)


def step_note(study: optuna.Study, step: str) -> str | None:
    """What to say when this run trains with another training step than earlier trials of the study recorded (the
    step is how a trial computes, not what it is, so one study may hold both); None when they all agree."""
    finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    others = Counter(recorded_step(t.user_attrs) for t in finished if not by_hand(t))
    others.pop(step, None)
    if not others:
        return None
    earlier = ", ".join(f"{n} earlier trial(s) with the {other} step" for other, n in sorted(others.items()))
    again = " or ".join(f"--step {other}" for other in sorted(others))
    return (
        f"step: this run trains with the {step} step, the study holds {earlier} ({again} trains as they did); "
        "each trial replays in its own"
    )
