"""The Optuna glue: sample a configuration, train it, report, prune, record user attributes."""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import optuna

from autotune.base.seeding import trial_seed
from autotune.base.timing import time_breakdown
from autotune.data.datasets import Splits
from autotune.hardware import precision
from autotune.hardware.steps import recorded_step
from autotune.search import goals
from autotune.search.space import suggest
from autotune.spec.study import PrunerSpec, StudySpec
from autotune.storage import artifacts
from autotune.training.loop import EpochStats, FitResult, fit
from autotune.training.models import describe_structure

#: Called after every epoch with (trial number, epoch stats, reported value) — for progress display.
EpochHook = Callable[[int, EpochStats, float], None]


def metric_value(spec: StudySpec, stats: EpochStats) -> float:
    """The value of ``spec.metric`` in ``stats``."""
    value = stats.val_accuracy if spec.metric == "val_accuracy" else stats.val_loss
    assert value is not None
    return value


def diverged_value(spec: StudySpec, stats: EpochStats) -> float:
    """The poor-but-valid value stored for a diverged trial, so the sampler learns to avoid it.

    Accuracy: the accuracy the broken network still measures (near chance). Loss: +inf.
    """
    if spec.metric == "val_accuracy" and stats.val_accuracy is not None:
        return stats.val_accuracy
    return math.inf


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def placement() -> dict[str, str]:
    """Where a scheduler placed this worker, for the trial's user attributes: ``slurm_job`` (``JOB_TASK`` in
    a job array), ``ray_node`` (the Ray node's id, which ``run --ray`` tasks set in $AUTOTUNE_RAY_NODE),
    ``ray_run`` (which ``run --ray`` command started the task: $AUTOTUNE_RAY_RUN); empty when started by hand."""
    env, out = os.environ, {}
    if env.get("SLURM_ARRAY_JOB_ID") and env.get("SLURM_ARRAY_TASK_ID"):
        out["slurm_job"] = f"{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"
    elif env.get("SLURM_JOB_ID"):
        out["slurm_job"] = env["SLURM_JOB_ID"]
    if env.get("AUTOTUNE_RAY_NODE"):
        out["ray_node"] = env["AUTOTUNE_RAY_NODE"]
    if env.get("AUTOTUNE_RAY_RUN"):
        out["ray_run"] = env["AUTOTUNE_RAY_RUN"]
    return out


class Objective:
    """Callable objective for ``study.optimize``: one trial = one :func:`autotune.training.loop.fit`."""

    def __init__(
        self,
        spec: StudySpec,
        splits: Splits,
        *,
        device: str = "cpu",
        on_epoch: EpochHook | None = None,
        artifacts: Any = None,
        artifact_folder: Any = None,
        retry: Callable[[Callable[[], Any]], Any] = lambda fn: fn(),
    ) -> None:
        self._retry = retry  # wraps every storage call: the runner retries a lost connection with back-off
        self._storage_s = 0.0  # seconds spent in storage calls during the current trial (time_s["storage"])
        self.spec = spec
        self.splits = splits
        self.device = device
        self.on_epoch = on_epoch
        self.artifacts = artifacts  # an Optuna artifact store, or None
        self.artifact_folder = artifact_folder  # where that store writes, for error messages
        self.artifact_failure: str | None = None  # set when a trial's artifacts could not be written (disk full)

    def retry(self, call: Callable[[], Any]) -> Any:
        """One storage call, retried by the runner's policy and timed."""
        t0 = time.perf_counter()
        try:
            return self._retry(call)
        finally:
            self._storage_s += time.perf_counter() - t0

    def __call__(self, trial: optuna.Trial) -> float | list[float]:
        started, self._storage_s = time.perf_counter(), 0.0
        spec, info = self.spec, self.splits.info
        config = suggest(trial, spec)
        seed = trial_seed(spec.seed, trial.number)
        import torch

        structure = describe_structure(spec.model, input_shape=info.shape, n_outputs=info.n_outputs, config=config)
        used = precision.resolve(spec.precision, device=str(self.device), family=spec.model, config=config)
        # threads, precision and step: bit-exact replays need the same
        self._set_attrs(
            trial,
            {
                "seed": seed,
                "worker": worker_id(),
                "threads": torch.get_num_threads(),
                "device": str(self.device),
                "precision": used,
                "step": spec.step,
                "structure": structure,
                **placement(),
            },
        )

        def report(stats: EpochStats) -> bool:
            value = metric_value(spec, stats)
            if not math.isfinite(value):
                return False  # fit() stops a diverged run itself; never report a non-finite value
            # Several objectives: Optuna cannot report or prune; the curve is kept as an artifact.
            if not spec.multi_objective:
                self.retry(lambda: trial.report(value, stats.epoch))
            if self.on_epoch is not None:
                self.on_epoch(trial.number, stats, value)
            # a trial that has trained its last epoch is complete: pruning it then saves nothing and hides its value
            return not spec.multi_objective and stats.epoch < spec.max_epochs and self.retry(trial.should_prune)

        result = fit(
            config,
            self.splits,
            family=spec.model,
            max_epochs=spec.max_epochs,
            seed=seed,
            device=self.device,
            precision=used,
            step=spec.step,
            on_epoch=report,
        )
        attrs = trial_attributes(result, classification=info.task == "classification", pruner=spec.pruner)
        measured = goals.measure(spec, result, self.splits, self.device, precision=used)
        if measured.get("latency_ms") is not None:
            attrs["latency_ms"] = round(measured["latency_ms"], 6)
        self._set_attrs(trial, attrs)
        last = result.last
        assert last is not None
        value = diverged_value(spec, last) if result.diverged else metric_value(spec, last)
        values = [value] + [_as_value(measured[m]) for m in spec.metrics[1:]]
        violations = goals.violations(spec, {**measured, spec.metric: value})
        for key, violation in violations.items():
            self.retry(lambda: trial.set_constraint(key, violation))
        storage_s, recording = self._storage_s, time.perf_counter()
        try:
            self._record(trial, result, config, seed, attrs, values, feasible=all(v <= 0 for v in violations.values()))
        except OSError as exc:  # the trial's result stands; its artifacts are lost, and the run stops after it
            where = f"'{self.artifact_folder}'" if self.artifact_folder is not None else "the artifact folder"
            self.artifact_failure = f"cannot write trial {trial.number}'s artifacts to {where}: {exc.strerror or exc}"
        self._set_attrs(
            trial,
            {
                "time_s": time_breakdown(
                    result,
                    storage=storage_s,
                    artifacts=time.perf_counter() - recording,
                    total=time.perf_counter() - started,
                )
            },
        )
        if result.stopped_early:
            raise optuna.TrialPruned(f"pruned after epoch {last.epoch}")
        return values if spec.multi_objective else value

    def _record(
        self,
        trial: optuna.Trial,
        result: FitResult,
        config: dict[str, Any],
        seed: int,
        attrs: dict[str, Any],
        values: list[float],
        *,
        feasible: bool,
    ) -> None:
        """The trial's note, its learning curve and, when it is the best so far, its checkpoint."""
        from optuna_dashboard import save_note

        self.retry(
            lambda: save_note(trial, trial_note(trial.number, seed, trial.user_attrs.get("structure", ""), attrs))
        )
        if self.artifacts is None:
            return

        curve = self.retry(
            lambda: artifacts.upload_json(
                self.artifacts, trial, f"learning-curve-trial-{trial.number}.json", artifacts.learning_curve(result)
            )
        )
        self._set_attrs(trial, {"curve_artifact": curve})
        if result.stopped_early or result.diverged or not feasible or not _beats_best(trial, values, self.spec):
            return
        info = self.splits.info
        assert result.model is not None
        payload = artifacts.checkpoint_payload(
            result.model,
            family=self.spec.model,
            config=config,
            input_shape=info.shape,
            n_outputs=info.n_outputs,
            spec=self.spec.to_dict(),
            seed=seed,
        )
        payload["precision"] = precision.recorded(trial.user_attrs)
        payload["step"] = recorded_step(trial.user_attrs)
        checkpoint = self.retry(lambda: artifacts.upload_checkpoint(self.artifacts, trial, payload))
        self._set_attrs(trial, {"checkpoint_artifact": checkpoint})

    def _set_attrs(self, trial: optuna.Trial, attrs: dict[str, Any]) -> None:
        for key, value in attrs.items():
            self.retry(lambda: trial.set_user_attr(key, value))


def _beats_best(trial: optuna.Trial, values: list[float], spec: StudySpec) -> bool:
    """Better than the best feasible trial so far; with several objectives, dominated by none on the front."""
    if spec.multi_objective:
        return not any(goals.dominates(t.values, values, spec.directions) for t in goals.pareto_front(trial.study))
    try:
        best = trial.study.best_value
    except ValueError:  # no complete (feasible) trial yet
        return True
    value = values[0]
    return value > best if trial.study.direction == optuna.study.StudyDirection.MAXIMIZE else value < best


def _as_value(value: float | None) -> float:
    return math.inf if value is None else float(value)


def trial_note(number: int, seed: int, structure: str, attrs: dict[str, Any]) -> str:
    """A short Markdown note for the dashboard's trial view."""

    def fmt(v: Any) -> str:
        return "-" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)

    return (
        f"**Trial {number}: {attrs['remark']}**\n\n"
        "| seed | structure | epochs | train loss | train acc | val loss | val acc | params | seconds |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        f"| {seed} | {structure} | {attrs['epochs']} | {fmt(attrs['train_loss'])} | {fmt(attrs['train_accuracy'])} "
        f"| {fmt(attrs['val_loss'])} | {fmt(attrs['val_accuracy'])} | {attrs['n_params']} | {attrs['wall_time_s']} |\n"
    )


def trial_attributes(result: FitResult, *, classification: bool, pruner: PrunerSpec | None = None) -> dict[str, Any]:
    """The user attributes stored for a finished trial (JSON-safe: non-finite numbers become None)."""
    last = result.last
    assert last is not None
    status = "diverged" if result.diverged else "pruned" if result.stopped_early else "complete"
    return {
        "status": status,
        "epochs": last.epoch,
        "train_loss": _finite(last.train_loss),
        "train_accuracy": last.train_accuracy,
        "val_loss": _finite(last.val_loss),
        "val_accuracy": last.val_accuracy,
        "n_params": result.n_params,
        "wall_time_s": round(result.seconds, 3),
        "remark": remark(result, classification=classification, pruner=pruner),
    }


def pruned_because(pruner: PrunerSpec | None) -> str:
    """Why the spec's pruner stops a trial, in words."""
    if pruner is not None and pruner.name == "successive_halving":
        return f"not in the best 1/{pruner.reduction_factor} of the trials at this rung (successive halving)"
    if pruner is not None and pruner.name == "hyperband":
        return f"not in the best 1/{pruner.reduction_factor} of its Hyperband bracket at this rung"
    return "below the median of earlier trials at that epoch"


def remark(result: FitResult, *, classification: bool, pruner: PrunerSpec | None = None) -> str:
    """A one-line remark in the spirit of the seed reports' 备注 column, from the numbers only."""
    hist, last = result.history, result.last
    assert last is not None
    if result.diverged:
        return f"diverged: non-finite loss in epoch {result.diverged_epoch}"
    if result.stopped_early:
        return f"pruned after epoch {last.epoch}: {pruned_because(pruner)}"
    if classification:
        assert last.val_accuracy is not None and last.train_accuracy is not None
        if last.val_accuracy < 0.5:
            return f"did not converge: validation accuracy {last.val_accuracy:.1%}"
        gap = last.train_accuracy - last.val_accuracy
        best_val_loss = min(h.val_loss for h in hist)
        loss_rose = len(hist) >= 3 and last.val_loss > 1.1 * best_val_loss
        if gap > 0.03:  # the accuracy gap alone is the evidence
            return (
                f"overfitting: train {last.train_accuracy:.1%} vs validation {last.val_accuracy:.1%}, "
                f"validation loss {last.val_loss:.3f} (best {best_val_loss:.3f})"
            )
        if loss_rose and gap >= 0:  # a small gap: the rising validation loss is the evidence, so it comes first
            return (
                f"overfitting: validation loss rose to {last.val_loss:.3f} from its best {best_val_loss:.3f} "
                f"(train {last.train_accuracy:.1%} vs validation {last.val_accuracy:.1%})"
            )
        if loss_rose:
            return (
                f"unstable: validation loss rose to {last.val_loss:.3f} (best {best_val_loss:.3f}) "
                f"while training accuracy stayed at {last.train_accuracy:.1%}"
            )
        if len(hist) >= 2 and last.val_accuracy - hist[-2].val_accuracy > 0.005:
            gain = (last.val_accuracy - hist[-2].val_accuracy) * 100
            return f"slow convergence: still +{gain:.1f} pp in the last epoch, more epochs may help"
        return f"converged: validation accuracy {last.val_accuracy:.2%}"
    if len(hist) >= 2 and last.val_loss < 0.95 * hist[-2].val_loss:
        fell = 1 - last.val_loss / hist[-2].val_loss
        return f"slow convergence: validation loss still fell {fell:.0%} in the last epoch"
    return f"converged: validation MSE {last.val_loss:.3g}"


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
