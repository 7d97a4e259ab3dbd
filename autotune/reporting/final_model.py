"""The final model of an export (``FinalModel``): the chosen configuration retrained on train+validation (or train
only) over one or more seeds (``FinalRun``), each model tested once on the test split, the first saved as ``model.pt``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotune.data.datasets import Split, Splits, has_test, load_test
from autotune.hardware.precision import emulation_note, recorded
from autotune.hardware.steps import recorded_step
from autotune.reporting.chosen_trial import ChosenTrial
from autotune.search.prepare import prepare
from autotune.spec.study import StudySpec
from autotune.storage.artifacts import checkpoint_payload
from autotune.storage.replays import batch_of, seeds_for


@dataclass(frozen=True)
class FinalRun:
    """One retraining of the final model and its one test."""

    seed: int
    seconds: float
    #: None where the dataset has no test split
    test_loss: float | None
    test_accuracy: float | None  # None for a regression, too
    diverged: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "seconds": self.seconds,
            "test_loss": self.test_loss,
            "test_accuracy": self.test_accuracy,
            "diverged": self.diverged,
        }


@dataclass(frozen=True)
class FinalModel:
    """The final model's budget and test figures: those of its first seed (the one in ``model.pt``), every seed's
    run, and the test figures' mean and standard deviation over the seeds (no deviation for one seed)."""

    #: ``train+val`` or ``train``
    trained_on: str
    train_examples: int
    epochs: int
    #: A count of training examples, or ``"all"``
    train_subset: int | str
    precision: str
    #: The training step the chosen trial recorded, which the final model trained with too
    step: str
    seed: int
    seconds: float
    #: The seeds trained at once as one batched model, in order (None: one after another)
    batch: list[int] | None
    test_loss: float | None
    test_accuracy: float | None
    #: 0 where the dataset has no test split
    test_examples: int
    diverged: bool
    #: Every seed's run, the first one's model in ``model.pt``
    runs: list[FinalRun]
    test_accuracy_mean: float | None
    test_accuracy_std: float | None
    test_loss_mean: float | None
    test_loss_std: float | None

    def to_dict(self) -> dict[str, Any]:
        """What ``export --json`` prints and ``provenance.json`` records (the runs under ``seeds``)."""
        return {
            "trained_on": self.trained_on,
            "train_examples": self.train_examples,
            "epochs": self.epochs,
            "train_subset": self.train_subset,
            "precision": self.precision,
            "step": self.step,
            "batch": self.batch,
            "seed": self.seed,
            "seconds": self.seconds,
            "test_loss": self.test_loss,
            "test_accuracy": self.test_accuracy,
            "test_examples": self.test_examples,
            "diverged": self.diverged,
            "seeds": [run.to_dict() for run in self.runs],
            "test_accuracy_mean": self.test_accuracy_mean,
            "test_accuracy_std": self.test_accuracy_std,
            "test_loss_mean": self.test_loss_mean,
            "test_loss_std": self.test_loss_std,
        }


def retrain_and_test(
    spec: StudySpec,
    chosen: ChosenTrial,
    *,
    retrain_on: str,
    data_dir: str | None,
    out: Path,
    seeds: int = 1,
    epochs: int | None = None,
    train_subset: int | str | None = None,
) -> FinalModel:
    """Retrain the chosen configuration, evaluate it once on the test split, save a checkpoint.

    With ``seeds`` > 1 it is retrained that many times (the trial's seed first, then seeds derived
    from it) and each model is tested once: the test figures get a mean and a standard deviation.
    ``model.pt`` holds the model of the first seed. The budget is ``epochs``/``train_subset``, else
    the spec's ``final:`` block, else the trials' own (see :meth:`StudySpec.for_final`).
    """
    import torch

    # imported here, not at the top: keeps torch off the import of this module
    from autotune.training.loop import evaluate, fit
    from autotune.training.seed_batch import fit_seeds

    first = chosen.seed if isinstance(chosen.seed, int) else spec.seed
    seed_list = seeds_for(first, seeds)  # checked before any data are loaded
    spec = spec.for_final(max_epochs=epochs, train_subset=train_subset)
    splits = prepare(spec, data_dir=data_dir, device="cpu")
    if retrain_on == "train+val":
        merged = Split(torch.cat([splits.train.x, splits.val.x]), torch.cat([splits.train.y, splits.val.y]))
        splits = Splits(splits.info, merged, splits.val, splits.mean, splits.std, splits.source)
    tested = has_test(spec.dataset)
    if not tested:
        print(
            f"Note: dataset '{spec.dataset_name}' has no test split (dataset.test in the spec): the exported model "
            "is retrained but not tested",
            file=sys.stderr,
        )
    used = recorded(chosen.user_attrs)  # the chosen trial's precision, for training and the test alike
    step = recorded_step(chosen.user_attrs)  # and its training step
    slow = emulation_note(used, f"trial {chosen.trial}")
    if slow:
        print(f"Note: {slow}", file=sys.stderr)
    test = None
    classification = splits.info.task == "classification"
    runs: list[FinalRun] = []
    train = dict(family=spec.model, max_epochs=spec.max_epochs, precision=used, step=step)
    batch = batch_of(spec, seed_list)
    if batch is not None:  # the seeds at once, each its share of the time
        start = time.perf_counter()
        batched = fit_seeds(chosen.config, splits, seeds=batch, evaluate_val=retrain_on == "train", **train)
        share = (time.perf_counter() - start) / len(batch)
    for i, seed in enumerate(seed_list):
        if batch is not None:
            result, seconds = batched[i], share
        else:
            start = time.perf_counter()
            result = fit(chosen.config, splits, seed=seed, evaluate_val=retrain_on == "train", **train)
            seconds = time.perf_counter() - start
        assert result.model is not None
        if test is None and tested:
            test = load_test(splits, data_dir=data_dir)  # the only place the test split is touched
        test_loss, test_accuracy = (
            evaluate(result.model, test, classification=classification, precision=used)
            if test is not None
            else (None, None)
        )
        runs.append(FinalRun(seed, round(seconds, 2), test_loss, test_accuracy, result.diverged))
        if len(runs) == 1:
            payload = checkpoint_payload(
                result.model,
                family=spec.model,
                config=chosen.config,
                input_shape=splits.info.shape,
                n_outputs=splits.info.n_outputs,
                spec=spec.to_dict(),
                seed=seed,
            )
            payload.update(
                trained_on=retrain_on,
                precision=used,
                step=step,
                batch=batch,
                normalization={"mean": _plain(splits.mean), "std": _plain(splits.std)},
                test={"loss": test_loss, "accuracy": test_accuracy, "examples": len(test) if test is not None else 0},
            )
            if splits.info.classes:
                payload["classes"] = list(splits.info.classes)
            torch.save(payload, out / "model.pt")

    (acc_mean, acc_std) = _spread([r.test_accuracy for r in runs])
    (loss_mean, loss_std) = _spread([r.test_loss for r in runs])
    first_run = runs[0]
    return FinalModel(
        trained_on=retrain_on,
        train_examples=len(splits.train),
        epochs=spec.max_epochs,
        train_subset="all" if spec.train_subset is None else spec.train_subset,
        precision=used,
        step=step,
        batch=batch,
        seed=first_run.seed,
        seconds=first_run.seconds,
        test_loss=first_run.test_loss,
        test_accuracy=first_run.test_accuracy,
        test_examples=len(test) if test is not None else 0,
        diverged=first_run.diverged,
        runs=runs,
        test_accuracy_mean=acc_mean,
        test_accuracy_std=acc_std,
        test_loss_mean=loss_mean,
        test_loss_std=loss_std,
    )


def _spread(figures: Sequence[float | None]) -> tuple[float | None, float | None]:
    """The mean and standard deviation of the figures that exist; one seed has no spread."""
    values = [v for v in figures if v is not None]
    if not values:
        return None, None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def _plain(value: Any) -> Any:
    """A float, or a tensor of per-feature statistics as a list."""
    return value.tolist() if hasattr(value, "tolist") else value
