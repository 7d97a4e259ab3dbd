"""Your own data and model, end to end: the glyphs example and an .npz regression set through the CLI
and the Python API, and every bad dataset, builder or device as one Error line with no study written."""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import optuna
import pytest
import torch
import yaml
from PIL import Image

import autotune
from tests.conftest import (
    REPO,
    assert_one_error_line,
    empty_study,
    file_digest,
    invoke,
    make_glyph_folder,
    tiny_digits_spec,
)

EXAMPLE = REPO / "examples" / "glyphs"


def glyphs_example(tmp_path, **overrides) -> str:
    """The shipped glyphs spec and model beside a small generated copy of its data, on a test budget."""
    shutil.copy(EXAMPLE / "model.py", tmp_path / "model.py")
    make_glyph_folder(tmp_path / "data", per_class=16, test_per_class=6, size=16)
    spec = yaml.safe_load((EXAMPLE / "glyphs.yaml").read_text())
    spec.update({"max_epochs": 2, "trials": 3, **overrides})
    spec["space"]["depth"] = [2, 3]
    (tmp_path / "glyphs.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(tmp_path / "glyphs.yaml")


def test_the_shipped_example_spec_parses_against_its_own_folder():
    spec = autotune.load_spec(str(EXAMPLE / "glyphs.yaml"))
    assert spec.model == f"{EXAMPLE / 'model.py'}:build"
    assert spec.dataset.path == str(EXAMPLE / "data" / "train") and spec.dataset.test == str(EXAMPLE / "data" / "test")
    assert [p.name for p in spec.space] == ["lr", "width", "depth", "dropout"]


@pytest.mark.slow
def test_glyphs_example_through_the_cli_run_replay_export_report(tmp_path):
    path = glyphs_example(tmp_path)
    result = invoke("run", "--study", path, "--json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["finished"] == 3 and summary["states"] == {"COMPLETE": 3}
    study = optuna.load_study(study_name="glyphs", storage="sqlite:///autotune.db")
    for trial in study.trials:
        assert set(trial.params) == {"lr", "width", "depth", "dropout"}
        assert trial.user_attrs["structure"] == (
            f"build(width={trial.params['width']}, depth={trial.params['depth']}, "
            f"dropout={trial.params['dropout']:.4g})"
        )
        assert trial.user_attrs["device"] == "cpu" and trial.user_attrs["n_params"] > 0

    replayed = invoke("replay", "--study", path, "--trial", "best")
    assert replayed.exit_code == 0, replayed.output
    assert "Reproduced exactly: val_accuracy" in replayed.stdout

    exported = invoke("export", "--study", path, "--json")
    assert exported.exit_code == 0, exported.output
    final = json.loads(exported.stdout)["final_model"]
    assert final["test_examples"] == 30 and 0 <= final["test_accuracy"] <= 1
    payload = torch.load(tmp_path / "export-glyphs" / "model.pt", weights_only=True)
    assert payload["classes"] == ["circle", "cross", "square", "star", "triangle"]

    report = invoke("report", "--study", path, "--format", "md")
    assert report.exit_code == 0, report.output
    assert "build(" in (tmp_path / "report-glyphs" / "report.md").read_text()


@pytest.mark.slow
def test_glyphs_example_with_two_worker_processes(tmp_path):
    path = glyphs_example(tmp_path, trials=2)
    result = invoke("run", "--study", path, "--workers", "2", "--threads", "1", "--json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["finished"] == 2


def regression_npz(tmp_path) -> str:
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(400, 2))
    np.savez(tmp_path / "wave.npz", x=x, y=np.sin(x[:, 0]) * x[:, 1])
    spec = {
        "name": "wave",
        "dataset": {"type": "npz", "path": "wave.npz", "task": "regression"},
        "model": "mlp",
        "max_epochs": 3,
        "trials": 3,
        "validation_size": 0.25,
        "seed": 5,
        "fixed": {"optimizer": "adam", "batch_size": 32, "activation": "tanh"},
        "space": {"lr": {"low": 0.003, "high": 0.03, "log": True}, "units": {"low": 8, "high": 32}},
    }
    (tmp_path / "wave.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(tmp_path / "wave.yaml")


def test_npz_regression_through_the_cli(tmp_path):
    path = regression_npz(tmp_path)
    result = invoke("run", "--study", path, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["finished"] == 3 and summary["metrics"] == ["val_loss"]
    assert 0 < summary["best_value"] < 1  # validation MSE of sin(x0)*x1, whose variance is ~0.6


def test_npz_regression_through_the_python_api(tmp_path):
    spec = autotune.load_spec(regression_npz(tmp_path))
    summary = autotune.run_study(spec, n_trials=3, storage="sqlite:///api.db", device="cpu")
    assert summary.finished == 3
    best = autotune.best_config(spec, storage="sqlite:///api.db")
    assert best["trial"] == summary.best_trial and best["value"] == summary.best_value
    again = autotune.replay_config(spec, best["config"], seeds=2, first_seed=best["seed"])
    assert again.runs[0].val_loss == best["value"]  # the same seed on the CPU: bit-identical
    assert again.runs[1].seed != best["seed"] and again.std("val_loss") is not None


def test_a_spec_built_in_code_runs_through_the_api(tmp_path):
    make_glyph_folder(tmp_path / "g", per_class=8, test_per_class=2, size=12)
    (tmp_path / "model.py").write_text((EXAMPLE / "model.py").read_text())
    spec = autotune.parse_spec(
        {
            "name": "in-code",
            "dataset": {"type": "image_folder", "path": "g/train", "grayscale": True},
            "model": "model.py:build",
            "max_epochs": 1,
            "validation_size": 0.25,
            "space": {"width": [4, 8]},
            "fixed": {"depth": 2, "dropout": 0.0, "optimizer": "adam", "batch_size": 8},
        },
        base_dir=tmp_path,
    )
    summary = autotune.run_study(spec, n_trials=2, storage="sqlite:///code.db", device="auto")
    assert summary.finished == 2 and set(autotune.best_config(spec, storage="sqlite:///code.db")["params"]) == {"width"}


# --------------------------------------------------------------------------------------
# Bad data, builders and devices: one Error line, exit != 0, the database untouched


def _image(path, size=(8, 8)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, 100).save(path)


def _setup(case: str, root) -> dict:
    """Write the files of one bad case and return the spec's dataset/model entries."""
    folder = {"type": "image_folder", "path": "imgs", "grayscale": True}
    (root / "models.py").write_text(
        "from torch import nn\n"
        "def ok(params, input_shape, n_outputs):\n    return nn.Sequential(nn.Flatten(), nn.LazyLinear(n_outputs))\n"
        "def boom(params, input_shape, n_outputs):\n    raise RuntimeError('out of ideas')\n"
        "def text(params, input_shape, n_outputs):\n    return 'model'\n"
        "def narrow(params, input_shape, n_outputs):\n    return nn.Sequential(nn.Flatten(), nn.LazyLinear(3))\n"
    )
    if case not in ("missing-folder",):
        for cls in ("a", "b"):
            _image(root / "imgs" / cls / "0.png")
            _image(root / "imgs" / cls / "1.png")
    if case == "one-class":
        shutil.rmtree(root / "imgs" / "b")
    if case == "empty-class":
        shutil.rmtree(root / "imgs" / "b")
        (root / "imgs" / "b").mkdir()
    if case == "corrupt-image":
        (root / "imgs" / "b" / "1.png").write_bytes(b"GIF89a broken")
    if case == "labels-out-of-range":
        np.savez(root / "arr.npz", x=np.zeros((6, 4)), y=np.array([0, 1, 2, 3, 1, 0]))
        return {"dataset": {"type": "npz", "path": "arr.npz", "classes": 3}, "model": "models.py:ok"}
    if case == "npz-without-arrays":
        np.savez(root / "arr.npz", inputs=np.zeros((6, 4)), y=np.arange(6) % 2)
        return {"dataset": {"type": "npz", "path": "arr.npz"}, "model": "models.py:ok"}
    if case == "cnn-on-tabular":
        np.savez(root / "arr.npz", x=np.zeros((6, 4)), y=np.arange(6) % 2)
        return {"dataset": {"type": "npz", "path": "arr.npz"}, "model": "cnn"}
    model = {
        "model-raises": "models.py:boom",
        "model-not-module": "models.py:text",
        "model-wrong-output": "models.py:narrow",
        "model-import-error": "broken.py:build",
    }.get(case, "models.py:ok")
    if case == "model-import-error":
        (root / "broken.py").write_text("raise ImportError('needs a GPU library')\n")
    return {"dataset": folder, "model": model}


BAD_CASES = [
    ("missing-folder", [], "image folder '{root}/imgs' does not exist"),
    ("one-class", [], "has one class folder ('a'); a classifier needs at least 2"),
    ("empty-class", [], "class folder '{root}/imgs/b' has no images"),
    ("corrupt-image", [], "cannot read image '{root}/imgs/b/1.png'"),
    ("labels-out-of-range", [], "label 3 of example 3 is out of range; allowed: 0..2 (dataset.classes: 3)"),
    ("npz-without-arrays", [], "'{root}/arr.npz' has no array 'x' (dataset.features); it holds: inputs, y"),
    ("cnn-on-tabular", [], "model 'cnn' needs images"),
    ("model-raises", [], "model function '{root}/models.py:boom' raised RuntimeError: out of ideas"),
    ("model-not-module", [], "model function '{root}/models.py:text' returned str, not a torch.nn.Module"),
    ("model-wrong-output", [], "returns (2, 3) for 2 examples; expected a tensor of shape (2, 2)"),
    (
        "model-import-error",
        [],
        "cannot import '{root}/broken.py' for model '{root}/broken.py:build': ImportError: needs a GPU library",
    ),
    ("device-cuda", ["--device", "cuda"], "--device cuda: no CUDA GPU is available here"),
    ("device-cuda-9", ["--device", "cuda:9"], "--device cuda:9: no CUDA GPU is available here"),
    ("device-unknown", ["--device", "tpu"], "--device 'tpu' is not a device; allowed: auto, cpu, cuda, cuda:N, mps"),
]


@pytest.mark.parametrize("case, extra, fragment", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_data_models_and_devices_leave_the_database_untouched(tmp_path, write_spec, case, extra, fragment):
    if case.startswith("device-cuda") and torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    existing = write_spec(tiny_digits_spec(), "existing.yaml")
    empty_study(existing)
    before = file_digest(tmp_path / "autotune.db")
    spec = {
        "name": "mine",
        "max_epochs": 1,
        "validation_size": 0.5,
        "space": {"lr": {"low": 0.001, "high": 0.1}},
        "fixed": {"batch_size": 2},
        **_setup(case, tmp_path),
    }
    if spec["model"] == "cnn":
        spec["space"] = {"lr": {"low": 0.001, "high": 0.1}}
    result = invoke("run", "--study", write_spec(spec, "mine.yaml"), "--trials", "1", *extra)
    assert_one_error_line(result, fragment.format(root=tmp_path))
    assert file_digest(tmp_path / "autotune.db") == before
    with sqlite3.connect(tmp_path / "autotune.db") as db:
        assert [r[0] for r in db.execute("select study_name from studies")] == ["tiny-digits"]


@pytest.mark.slow
def test_the_documented_python_api_example_runs(tmp_path, capsys):
    page = (REPO / "docs" / "python-api.md").read_text()
    code = page.split("## A first example", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    folder = tmp_path / "examples" / "glyphs"
    folder.mkdir(parents=True)
    glyphs_example(folder)  # the shipped spec and model, small data, a 2-epoch budget
    exec(compile(code.replace("n_trials=12", "n_trials=3"), "docs/python-api.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2 and printed[1].startswith("True ")
