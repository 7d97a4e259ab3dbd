"""A real multi-objective study on digits, through the CLI: run, report, export, replay, ablate."""

import csv
import json
from pathlib import Path

import optuna
import pytest
import yaml

from tests.conftest import assert_one_error_line, file_digest, invoke, tiny_digits_spec

PARAMS_BOUND = 2500  # digits MLPs: 64 inputs, 16..64 units per layer, so some trials break it


def mo_spec(**overrides) -> dict:
    spec = tiny_digits_spec(
        name="mo-digits",
        trials=10,
        objectives=["val_accuracy", "train_seconds"],
        constraints=[f"params <= {PARAMS_BOUND}", "latency_ms <= 1000"],
    )
    del spec["pruner"]
    spec.update(overrides)
    return spec


@pytest.fixture(scope="module")
def mo_study(tmp_path_factory):
    """One 10-trial study shared by the tests below (they only read it, or write elsewhere)."""
    folder = tmp_path_factory.mktemp("mo")
    path = folder / "mo.yaml"
    path.write_text(yaml.safe_dump(mo_spec(), sort_keys=False))
    url = f"sqlite:///{folder / 'mo.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        result = invoke("run", "--study", str(path), "--storage", url, "--quiet")
    assert result.exit_code == 0, result.output
    study = optuna.load_study(study_name="mo-digits", storage=url)
    return {"path": str(path), "url": url, "study": study, "output": result.output}


def test_run_creates_a_multi_objective_study_with_stored_constraints(mo_study):
    study = mo_study["study"]
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert study.metric_names == ["val_accuracy", "train_seconds"]
    trials = study.trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 10  # nothing pruned: no pruner for 2 objectives
    for t in trials:
        assert t.values == [t.user_attrs["val_accuracy"], t.user_attrs["wall_time_s"]]
        assert t.constraints[f"params <= {PARAMS_BOUND}"] == t.user_attrs["n_params"] - PARAMS_BOUND
        assert 0 < t.user_attrs["latency_ms"] < 1000
        assert t.constraints["latency_ms <= 1000"] == pytest.approx(t.user_attrs["latency_ms"] - 1000)
        assert t.intermediate_values == {}
    feasible = [t.user_attrs["n_params"] <= PARAMS_BOUND for t in trials]
    assert any(feasible) and not all(feasible), "the test needs feasible and infeasible trials"
    listing = invoke("studies", "--storage", mo_study["url"]).output.splitlines()
    assert next(line for line in listing if "mo-digits " in line).split()[:4] == [
        "mo-digits",
        "10",
        "complete=10",
        "maximize/minimize",
    ]


def test_run_summary_prints_the_pareto_front_of_feasible_trials(mo_study):
    study, out = mo_study["study"], mo_study["output"]
    front = sorted(t.number for t in study.best_trials)
    infeasible = sum(t.user_attrs["n_params"] > PARAMS_BOUND for t in study.trials)
    assert f"{infeasible} complete trial(s) break a constraint (kept, marked infeasible)." in out
    assert f"Pareto front ({len(front)} trials, feasible only; `autotune report` draws it):" in out
    table, hint = out.split("draws it):\n", 1)[1].splitlines()[:-1], out.splitlines()[-1]
    assert table[0].split() == ["trial", "val_accuracy", "train_seconds"]
    assert [int(line.split()[0]) for line in table[1:]] == front
    assert hint.startswith("Next: autotune report --study mo-digits")
    assert all(study.trials[n].user_attrs["n_params"] <= PARAMS_BOUND for n in front)


def test_report_pareto_set_matches_optunas_best_trials(mo_study, tmp_path):
    result = invoke("report", "--study", mo_study["path"], "--storage", mo_study["url"], "--out", "rep")
    assert result.exit_code == 0, result.output
    study = mo_study["study"]
    pareto = json.loads(Path("rep/data/pareto.json").read_text())
    assert [p["number"] for p in pareto] == sorted(t.number for t in study.best_trials)
    for p in pareto:
        trial = study.trials[p["number"]]
        assert [p["val_accuracy"], p["train_seconds"]] == trial.values and p["params"] == trial.params
    with open("rep/data/pareto.csv", newline="") as fh:
        assert [int(r["number"]) for r in csv.DictReader(fh)] == [p["number"] for p in pareto]
    summary = json.loads(Path("rep/data/summary.json").read_text())
    infeasible = [t.number for t in study.trials if t.user_attrs["n_params"] > PARAMS_BOUND]
    assert summary["infeasible"] == infeasible and summary["feasible"] == 10 - len(infeasible)
    importance = json.loads(Path("rep/data/importance.json").read_text())
    assert set(importance) == {"val_accuracy", "train_seconds"}  # one table per objective
    for name in ("pareto_front.png", "importance_val_accuracy.png", "importance_train_seconds.png"):
        assert Path("rep", name).stat().st_size > 10_000, name
    md = Path("rep/report.md").read_text()
    assert "## Pareto front" in md and "## Hyperparameter importance for train_seconds" in md
    for p in pareto:
        assert f"\n| {p['number']} | " in md.split("## Pareto front", 1)[1].split("## Trials", 1)[0]
    assert (
        f"Constraints: params <= {PARAMS_BOUND}; latency_ms <= 1000: {10 - len(infeasible)} complete trials "
        f"feasible, infeasible: {', '.join(map(str, infeasible))}" in md
    )


def test_export_a_chosen_pareto_trial_and_the_best_by_each_objective(mo_study):
    study = mo_study["study"]
    front = sorted(study.best_trials, key=lambda t: t.number)
    chosen = front[-1]
    args = ["export", "--study", mo_study["path"], "--storage", mo_study["url"], "--no-retrain"]
    result = invoke(*args, "--trial", str(chosen.number), "--out", "pareto")
    assert result.exit_code == 0, result.output
    record = json.loads(Path("pareto/best.json").read_text())
    assert (record["trial"], record["on_pareto_front"], record["feasible"]) == (chosen.number, True, True)
    assert record["values"] == {"val_accuracy": chosen.values[0], "train_seconds": chosen.values[1]}
    assert record["chosen_by"] == f"--trial {chosen.number}"
    with open("pareto/trials.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert float(rows[chosen.number]["value_train_seconds"]) == chosen.values[1]
    assert (
        float(rows[0][f"constraint_params <= {PARAMS_BOUND}"])
        == study.trials[0].constraints[f"params <= {PARAMS_BOUND}"]
    )

    feasible = [t for t in study.trials if t.user_attrs["n_params"] <= PARAMS_BOUND]
    fastest = min(feasible, key=lambda t: (t.values[1], t.number))
    result = invoke(*args, "--objective", "train_seconds", "--out", "fastest")
    assert result.exit_code == 0, result.output
    assert json.loads(Path("fastest/best.json").read_text())["trial"] == fastest.number
    assert result.output.startswith(f"Trial {fastest.number} (best train_seconds (feasible)): ")
    most_accurate = max(feasible, key=lambda t: (t.values[0], -t.number))
    invoke(*args, "--objective", "0", "--out", "accurate")
    assert json.loads(Path("accurate/best.json").read_text())["trial"] == most_accurate.number


def test_export_refuses_an_infeasible_choice_of_objective_or_trial_clearly(mo_study):
    args = ["export", "--study", mo_study["path"], "--storage", mo_study["url"], "--no-retrain"]
    assert_one_error_line(
        invoke(*args, "--objective", "params"),
        "--objective 'params' is not an objective of this study; allowed: 0 or val_accuracy, 1 or train_seconds",
    )
    assert_one_error_line(invoke(*args, "--trial", "99"), "study 'mo-digits' has no trial 99; trials are 0..9")
    assert_one_error_line(invoke(*args, "--trial", "1", "--objective", "1"), "give --trial N or --objective K")


def test_replay_and_ablate_report_every_objective(mo_study):
    study = mo_study["study"]
    best = max(
        (t for t in study.trials if t.user_attrs["n_params"] <= PARAMS_BOUND), key=lambda t: (t.values[0], -t.number)
    )
    common = ["--study", mo_study["path"], "--storage", mo_study["url"]]
    result = invoke("replay", *common, "--trial", "best", "--seeds", "1")
    assert result.exit_code == 0, result.output
    assert "'best' in a multi-objective study is the best feasible trial by val_accuracy" in result.output
    assert (
        f"Reproduced exactly: val_accuracy {best.values[0]!r} equals the stored value of trial {best.number}."
        in result.output
    )
    also = next(line for line in result.output.splitlines() if line.startswith("also: "))
    assert also.startswith("also: train_seconds ") and f"params {best.user_attrs['n_params']}," in also
    assert "±" not in also  # one seed: no spread is printed (it was a made-up '± 0')

    result = invoke("ablate", *common, "--seeds", "2", "--out", "abl")
    assert result.exit_code == 0, result.output
    data = json.loads(Path("abl/ablation.json").read_text())
    best_row = data["rows"][0]
    for row in data["rows"]:
        assert set(row["deltas"]) == {"val_accuracy", "train_seconds"}
        assert row["deltas"]["val_accuracy"] == pytest.approx(
            row["val_accuracy"]["mean"] - best_row["val_accuracy"]["mean"]
        )
    assert any(line.startswith("For train_seconds (minimize): removing ") for line in data["verdict"])
    head = next(line for line in Path("abl/ablation.md").read_text().splitlines() if line.startswith("|"))
    assert "| train_seconds |" in head + " |"


def test_bad_multi_objective_input_is_refused_before_anything_is_written(write_spec, tmp_path):
    db = tmp_path / "autotune.db"
    good = write_spec(mo_spec(trials=1), name="good.yaml")
    assert invoke("run", "--study", good, "--quiet").exit_code == 0
    before = file_digest(db)
    cases = [
        (mo_spec(objectives=["val_accuracy", "flops"]), "objectives[1].metric: must be one of"),
        (
            mo_spec(objectives=["val_accuracy", {"metric": "params", "direction": "down"}]),
            "objectives[1].direction: must be one of maximize, minimize; got 'down'",
        ),
        (mo_spec(constraints=["flops <= 3"]), "constraints[0]: unknown metric 'flops'"),
        (mo_spec(constraints=["params <= three"]), "constraints[0]: the bound must be a finite number, got 'three'"),
    ]
    for i, (spec, fragment) in enumerate(cases):
        assert_one_error_line(invoke("run", "--study", write_spec(spec, name=f"bad{i}.yaml")), fragment)
        assert file_digest(db) == before
    assert_one_error_line(
        invoke("run", "--study", good, "--pruner", "median"),
        "--pruner median: Optuna's pruners work on one objective only, and study 'mo-digits' "
        "has 2 (val_accuracy, train_seconds); use --pruner none",
    )
    assert file_digest(db) == before
    other = write_spec(mo_spec(trials=1, objectives=["val_accuracy", "params"]), name="other.yaml")
    assert_one_error_line(invoke("run", "--study", other), "was made from a different spec")
    assert file_digest(db) == before


def test_two_workers_share_a_multi_objective_study(write_spec, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    path = write_spec(mo_spec(max_epochs=2, sampler={"name": "nsga2", "population_size": 4}))
    result = invoke("run", "--study", path, "--trials", "6", "--workers", "2", "--storage", url, "--json")
    assert result.exit_code == 0, result.output
    study = optuna.load_study(study_name="mo-digits", storage=url)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 6
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2
    summary = json.loads(result.stdout)
    assert (summary["workers"], summary["metrics"], summary["best_value"]) == (
        2,
        ["val_accuracy", "train_seconds"],
        None,
    )
    assert [p["trial"] for p in summary["pareto"]] == sorted(t.number for t in study.best_trials)
