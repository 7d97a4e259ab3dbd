"""Export a study: the best configuration, every trial as a flat row, a final model tested once.

``best.yaml``/``best.json`` feed ``autotune replay --config``; ``trials.csv`` has one row per
trial with every parameter and user attribute; ``model.pt`` is the best configuration
retrained on train+validation (or train only) and evaluated **once** on the test split;
``provenance.json`` says exactly what produced it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import optuna

from autotune.base.paths import cache_dir
from autotune.data.datasets import DATASETS, Split, Splits, has_test, load_test
from autotune.errors import OptionError, TrialNotFoundError
from autotune.hardware.precision import emulation_note, recorded
from autotune.search import goals
from autotune.search.configs import config_of
from autotune.search.prepare import prepare
from autotune.spec.study import StudySpec
from autotune.storage.artifacts import checkpoint_payload
from autotune.storage.replays import seeds_for

RETRAIN_CHOICES = ("train+val", "train")


def best_record(
    study: optuna.Study, spec: StudySpec, *, trial: int | None = None, objective: str | None = None
) -> dict[str, Any]:
    """What export writes about the chosen trial: the confirmed best where the study has a confirmation
    (see :func:`confirmed_choice`), else the best (by ``objective`` where there are several), or trial
    number ``trial`` (any complete one, e.g. a Pareto trial the report lists)."""

    if trial is not None and objective is not None:
        raise OptionError("give «trial» N or «objective» K, not both")
    index = goals.objective_index(spec, objective)
    confirmed, since = None, 0  # since: complete trials gained after the confirmation (the one best's only)
    if trial is None and objective is None and not spec.multi_objective:
        best = goals.the_best(study)
        chosen, chosen_by = best.trial, choice_words(best, spec)
        confirmed, since = confirmed_choice(best), best.since_confirmation
    elif trial is None:
        chosen = goals.best_trial(study, index)
        chosen_by = f"best {spec.metrics[index]}" + (" (feasible)" if spec.constraints else "")
    else:
        trials = study.get_trials(deepcopy=False)
        if not 0 <= trial < len(trials):
            raise TrialNotFoundError(
                f"study '{study.study_name}' has no trial {trial}; trials are 0..{len(trials) - 1}"
            )
        chosen = trials[trial]
        if chosen.state != optuna.trial.TrialState.COMPLETE:
            raise TrialNotFoundError(f"trial {trial} is {chosen.state.name.lower()}; export needs a complete trial")
        chosen_by = f"--trial {trial}" + (
            " (a hand row: its value is the hand table's, from its own budget)" if goals.by_hand(chosen) else ""
        )
    front = {t.number for t in goals.pareto_front(study)} if spec.multi_objective else set()
    return {
        "study": study.study_name,
        "trial": chosen.number,
        "chosen_by": chosen_by,
        "metric": spec.metric,
        "value": chosen.values[0],
        "values": dict(zip(spec.metrics, chosen.values)),
        "feasible": goals.feasible(chosen),
        "constraints": dict(chosen.constraints),
        "on_pareto_front": chosen.number in front if spec.multi_objective else None,
        "confirmed": confirmed,
        "since_confirmation": since,
        "seed": chosen.user_attrs.get("seed"),
        "params": dict(chosen.params),
        "config": config_of(spec, chosen),
        "user_attrs": {k: v for k, v in chosen.user_attrs.items() if not k.endswith("_artifact")},
        "spec": spec.to_dict(),
    }


def choice_words(best: Any, spec: StudySpec) -> str:
    """Why ``best`` (a :class:`autotune.search.goals.Best`) is the best, as export's ``chosen_by`` says it."""
    feasible = " (feasible)" if spec.constraints else ""
    if best.basis == "search":
        return f"best {spec.metric}{feasible} of autotune's trials, one seed each"
    record = best.confirmation
    n, k = record["seeds"], len(record["ranking"])
    if best.basis == "tie":
        return (
            f"best {spec.metric}{feasible} of autotune's trials; the confirmation over {n} seeds found no "
            f"measurable difference from trial {best.tied_with}, so it is kept"
        )
    if best.trial.number == best.search_best.number:
        return f"confirmed best: best mean {spec.metric} over {n} seeds among the top {k} trials"
    return (
        f"confirmed best: the single-seed best, trial {best.search_best.number}, measured worse over {n} seeds "
        f"among the top {k} trials"
    )


def confirmed_choice(best: Any) -> dict[str, Any] | None:
    """What export records of the confirmation behind ``best`` (a :class:`autotune.search.goals.Best`), or None without
    one: the chosen trial and its mean, the seeds and trials behind it, the single-seed best, whether the two tie,
    and how many complete trials the study gained since it was confirmed."""
    record = best.confirmation
    if record is None or best.basis == "search":
        return None
    rows = {r["trial"]: r for r in record["ranking"]}
    return {
        "trial": best.trial.number,
        "mean": rows[best.trial.number]["mean"],
        "seeds": record["seeds"],
        "confirmed": len(record["ranking"]),
        "single_seed_best": best.search_best.number,
        "single_seed_value": best.search_best.values[0],
        "tie_with": best.tied_with,
        "complete_trials_since": best.since_confirmation,
    }


def trial_rows(study: optuna.Study) -> tuple[list[str], list[list[Any]]]:
    """One flat row per trial; parameters that did not apply (conditional widths) are left empty."""
    trials = study.get_trials(deepcopy=False)
    params = sorted({p for t in trials for p in t.params})
    attrs = sorted({a for t in trials for a in t.user_attrs})
    constraints = sorted({c for t in trials for c in t.constraints})
    names = study.metric_names or [f"objective_{i}" for i in range(len(study.directions))]
    value_cols = ["value"] if len(names) == 1 else [f"value_{m}" for m in names]
    header = (
        ["number", "state", *value_cols, "duration_s", "datetime_start", "datetime_complete"]
        + [f"param_{p}" for p in params]
        + [f"attr_{a}" for a in attrs]
        + [f"constraint_{c}" for c in constraints]
    )
    rows = []
    for t in trials:
        duration = t.duration.total_seconds() if t.duration is not None else None
        values = list(t.values) if t.values else [None] * len(value_cols)
        rows.append(
            [
                t.number,
                t.state.name,
                *values,
                None if duration is None else round(duration, 3),
                t.datetime_start,
                t.datetime_complete,
            ]
            + [t.params.get(p) for p in params]
            + [_cell(t.user_attrs.get(a)) for a in attrs]
            + [t.constraints.get(c) for c in constraints]
        )
    return header, rows


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (dict, list)) else value


def retrain_and_test(
    spec: StudySpec,
    record: dict[str, Any],
    *,
    retrain_on: str,
    data_dir: str | None,
    out: Path,
    seeds: int = 1,
    epochs: int | None = None,
    train_subset: int | str | None = None,
) -> dict[str, Any]:
    """Retrain the chosen configuration, evaluate it once on the test split, save a checkpoint.

    With ``seeds`` > 1 it is retrained that many times (the trial's seed first, then seeds derived
    from it) and each model is tested once: the test figures get a mean and a standard deviation.
    ``model.pt`` holds the model of the first seed. The budget is ``epochs``/``train_subset``, else
    the spec's ``final:`` block, else the trials' own (see :meth:`StudySpec.for_final`).
    """
    import statistics

    import torch

    # imported here, not at the top: keeps torch off the import of this module
    from autotune.training.loop import evaluate, fit

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
    first = record["seed"] if isinstance(record["seed"], int) else spec.seed
    used = recorded(record["user_attrs"])  # the chosen trial's precision, for training and the test alike
    slow = emulation_note(used, f"trial {record['trial']}")
    if slow:
        print(f"Note: {slow}", file=sys.stderr)
    test = None
    classification = splits.info.task == "classification"
    runs = []
    for seed in seeds_for(first, seeds):
        start = time.perf_counter()
        result = fit(
            record["config"],
            splits,
            family=spec.model,
            max_epochs=spec.max_epochs,
            seed=seed,
            precision=used,
            evaluate_val=retrain_on == "train",
        )
        seconds = time.perf_counter() - start
        assert result.model is not None
        if test is None and tested:
            test = load_test(splits, data_dir=data_dir)  # the only place the test split is touched
        test_loss, test_accuracy = (
            evaluate(result.model, test, classification=classification, precision=used)
            if test is not None
            else (None, None)
        )
        runs.append(
            {
                "seed": seed,
                "seconds": round(seconds, 2),
                "test_loss": test_loss,
                "test_accuracy": test_accuracy,
                "diverged": result.diverged,
            }
        )
        if len(runs) == 1:
            payload = checkpoint_payload(
                result.model,
                family=spec.model,
                config=record["config"],
                input_shape=splits.info.shape,
                n_outputs=splits.info.n_outputs,
                spec=spec.to_dict(),
                seed=seed,
            )
            payload.update(
                trained_on=retrain_on,
                precision=used,
                normalization={"mean": _plain(splits.mean), "std": _plain(splits.std)},
                test={"loss": test_loss, "accuracy": test_accuracy, "examples": len(test) if test is not None else 0},
            )
            if splits.info.classes:
                payload["classes"] = list(splits.info.classes)
            torch.save(payload, out / "model.pt")

    def spread(key: str) -> tuple[float | None, float | None]:
        values = [r[key] for r in runs if r[key] is not None]
        if not values:
            return None, None
        return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None  # one seed: no spread

    (acc_mean, acc_std), (loss_mean, loss_std) = spread("test_accuracy"), spread("test_loss")
    return {
        "trained_on": retrain_on,
        "train_examples": len(splits.train),
        "epochs": spec.max_epochs,
        "train_subset": "all" if spec.train_subset is None else spec.train_subset,
        "precision": used,
        "seed": runs[0]["seed"],
        "seconds": runs[0]["seconds"],
        "test_loss": runs[0]["test_loss"],
        "test_accuracy": runs[0]["test_accuracy"],
        "test_examples": len(test) if test is not None else 0,
        "diverged": runs[0]["diverged"],
        "seeds": runs,
        "test_accuracy_mean": acc_mean,
        "test_accuracy_std": acc_std,
        "test_loss_mean": loss_mean,
        "test_loss_std": loss_std,
    }


def provenance(
    spec: StudySpec, *, storage: str, record: dict[str, Any], final: dict[str, Any] | None, data_dir: str | None
) -> dict[str, Any]:

    packages = {}
    for name in (
        "autotune",
        "torch",
        "torchvision",
        "optuna",
        "optuna-dashboard",
        "sqlalchemy",
        "numpy",
        "scikit-learn",
    ):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    data_files = {}
    if isinstance(spec.dataset, str):
        info = DATASETS[spec.dataset]
        description = info.description
        if info.torchvision_class:
            raw = cache_dir() / "data" / info.torchvision_class / "raw"
            for path in sorted(raw.glob("*.gz")):
                data_files[path.name] = hashlib.md5(path.read_bytes()).hexdigest()
    else:  # a user's dataset: its declaration (paths included) stands for it
        description = json.dumps(spec.dataset.to_dict(), sort_keys=True)
    return {
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "packages": packages,
        "dataset": {"name": spec.dataset_name, "description": description, "files_md5": data_files},
        "spec_fingerprint": spec.fingerprint(),
        "seeds": {"study": spec.seed, "best_trial": record["seed"], "final_model": (final or {}).get("seed")},
        "storage": storage,
        "best_trial": record["trial"],
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _plain(value: Any) -> Any:
    """A float, or a tensor of per-feature statistics as a list."""
    return value.tolist() if hasattr(value, "tolist") else value


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def export_study(
    study: optuna.Study,
    spec: StudySpec,
    *,
    out_dir: str | Path,
    storage: str,
    retrain_on: str | None = "train+val",
    data_dir: str | None = None,
    trial: int | None = None,
    objective: str | None = None,
    seeds: int = 1,
    epochs: int | None = None,
    train_subset: int | str | None = None,
) -> dict[str, Any]:
    """Write best.yaml/.json, trials.csv, model.pt (unless ``retrain_on`` is None) and provenance.json.

    The exported trial is the best one (by ``objective`` in a multi-objective study, default the
    first) or trial number ``trial``; best.yaml keeps its name for ``replay --config``. The final
    model trains for ``epochs`` on ``train_subset`` (else the spec's ``final:`` budget, else the trials').
    """
    import yaml

    record = best_record(study, spec, trial=trial, objective=objective)  # fails early: nothing to export
    if retrain_on is not None and retrain_on not in RETRAIN_CHOICES:
        raise OptionError(f"«retrain_on» must be one of {', '.join(RETRAIN_CHOICES)}, got '{retrain_on}'")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "best.yaml").write_text(yaml.safe_dump(record, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (out / "best.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    header, rows = trial_rows(study)
    with open(out / "trials.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(
            [["" if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in row] for row in rows]
        )
    final = None
    if retrain_on is not None:
        final = retrain_and_test(
            spec,
            record,
            retrain_on=retrain_on,
            data_dir=data_dir,
            out=out,
            seeds=seeds,
            epochs=epochs,
            train_subset=train_subset,
        )
    prov = provenance(spec, storage=storage, record=record, final=final, data_dir=data_dir)
    prov["final_model"] = final
    (out / "provenance.json").write_text(json.dumps(prov, indent=2, default=str), encoding="utf-8")
    return {
        "out": str(out),
        "best": {
            k: record[k]
            for k in (
                "trial",
                "chosen_by",
                "metric",
                "value",
                "values",
                "feasible",
                "params",
                "confirmed",
                "since_confirmation",
            )
        },
        "final_model": final,
        "files": sorted(p.name for p in out.iterdir()),
    }
