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
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import optuna

from autotune.base.paths import cache_dir
from autotune.data.datasets import DATASETS
from autotune.errors import OptionError
from autotune.reporting.chosen_trial import ChosenTrial, choose
from autotune.reporting.final_model import FinalModel, retrain_and_test
from autotune.spec.study import StudySpec
from autotune.storage.replays import check_seeds

RETRAIN_CHOICES = ("train+val", "train")

#: What ``export --json`` says of the chosen trial (``best.yaml`` holds all of it)
SUMMARY_KEYS = (
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


@dataclass(frozen=True)
class ExportResult:
    """What :func:`autotune.api.export` wrote: the chosen trial (``best``, as ``best.yaml`` records it), the final
    model's budget and test figures (None without one) and the files in ``out``."""

    out: str
    best: ChosenTrial
    final_model: FinalModel | None
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        """What ``export --json`` prints: the chosen trial's :data:`SUMMARY_KEYS`, the final model, the files."""
        best = self.best.to_dict()
        return {
            "out": self.out,
            "best": {key: best[key] for key in SUMMARY_KEYS},
            "final_model": None if self.final_model is None else self.final_model.to_dict(),
            "files": self.files,
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


def provenance(
    spec: StudySpec, *, storage: str, chosen: ChosenTrial, final: FinalModel | None, data_dir: str | None
) -> dict[str, Any]:
    """What ``provenance.json`` says produced an export: the code, the packages, the data, the seeds, the storage."""

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
        "seeds": {"study": spec.seed, "best_trial": chosen.seed, "final_model": None if final is None else final.seed},
        "storage": storage,
        "best_trial": chosen.trial,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


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
) -> ExportResult:
    """Write best.yaml/.json, trials.csv, model.pt (unless ``retrain_on`` is None) and provenance.json.

    The exported trial is the best one (by ``objective`` in a multi-objective study, default the
    first) or trial number ``trial``; best.yaml keeps its name for ``replay --config``. The final
    model trains for ``epochs`` on ``train_subset`` (else the spec's ``final:`` budget, else the trials').
    """
    import yaml

    chosen = choose(study, spec, trial=trial, objective=objective)  # fails early: nothing to export
    if retrain_on is not None:
        if retrain_on not in RETRAIN_CHOICES:
            raise OptionError(f"«retrain_on» must be one of {', '.join(RETRAIN_CHOICES)}, got '{retrain_on}'")
        check_seeds(seeds)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = chosen.to_dict()
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
            chosen,
            retrain_on=retrain_on,
            data_dir=data_dir,
            out=out,
            seeds=seeds,
            epochs=epochs,
            train_subset=train_subset,
        )
    prov = provenance(spec, storage=storage, chosen=chosen, final=final, data_dir=data_dir)
    prov["final_model"] = None if final is None else final.to_dict()
    (out / "provenance.json").write_text(json.dumps(prov, indent=2, default=str), encoding="utf-8")
    return ExportResult(out=str(out), best=chosen, final_model=final, files=sorted(p.name for p in out.iterdir()))
