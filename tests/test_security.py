"""Hostile content: pickle payloads in checkpoints, markup in user-controlled text, passwords in URLs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
import yaml

import autotune
from autotune.errors import CheckpointError
from tests.conftest import invoke, tiny_digits_spec


class _Payload:
    """Unpickling this runs ``touch <marker>``: what a hostile checkpoint would do with full pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _exported(tmp_path) -> Path:
    spec = tiny_digits_spec(trials=2)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    assert invoke("run", "--study", "s.yaml", "-q").exit_code == 0
    result = invoke("export", "--study", "s.yaml", "--out", "exp", "--json")
    assert result.exit_code == 0, result.output
    return tmp_path / "exp" / "model.pt"


def test_an_exported_checkpoint_rebuilds_the_model_it_was_tested_with(tmp_path):
    path = _exported(tmp_path)
    model, payload = autotune.load_checkpoint(path)
    assert not model.training and payload["model"]["family"] == "mlp"
    x = torch.randn(4, 1, 8, 8)
    state = torch.load(path, weights_only=True)["state_dict"]
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    assert model(x).shape == (4, 10)


def test_a_checkpoint_carrying_a_pickle_payload_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    path = _exported(tmp_path)
    payload = torch.load(path, weights_only=True)
    payload["extra"] = _Payload(marker)
    torch.save(payload, tmp_path / "hostile.pt")
    with pytest.raises(
        CheckpointError,
        match=r"checkpoint '.*hostile.pt' carries more than tensors and plain data "
        r"\(.*\); refused: autotune loads checkpoints with weights_only=True",
    ):
        autotune.load_checkpoint(tmp_path / "hostile.pt")
    assert not marker.exists()
    torch.load(tmp_path / "hostile.pt", weights_only=False)  # the payload is real: full unpickling runs it
    assert marker.exists()


@pytest.mark.parametrize(
    "content, fragment",
    [
        (None, "cannot read checkpoint '{path}': No such file or directory"),
        (b"not a zip at all", "'{path}' is not a readable torch checkpoint (damaged or another format)"),
        ({"weights": torch.zeros(2)}, "'{path}' is a torch file but not an autotune checkpoint"),
    ],
)
def test_missing_damaged_and_foreign_checkpoints(tmp_path, content, fragment):
    path = tmp_path / "m.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        torch.save(content, path)
    with pytest.raises(CheckpointError) as info:
        autotune.load_checkpoint(path)
    assert fragment.format(path=path) in str(info.value)


def test_a_truncated_checkpoint_is_refused(tmp_path):
    path = _exported(tmp_path)
    data = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="is not a readable torch checkpoint"):
        autotune.load_checkpoint(tmp_path / "cut.pt")


HOSTILE = "<script>alert(1)</script>"


def test_user_text_in_parameter_values_and_descriptions_is_escaped_in_reports(tmp_path):
    (tmp_path / "m.py").write_text(
        "from torch import nn\n"
        "def build(params, input_shape, n_outputs):\n"
        "    return nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, n_outputs))\n"
    )
    spec = {
        "name": "hostile",
        "description": "<img src=x onerror=alert(2)>",
        "dataset": "sine",
        "model": "m.py:build",
        "max_epochs": 1,
        "space": {"lr": {"low": 0.001, "high": 0.1}, "tag": [HOSTILE, "plain"]},
        "fixed": {"optimizer": "adam"},
    }
    (tmp_path / "h.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    assert invoke("run", "--study", "h.yaml", "--trials", "4", "-q").exit_code == 0
    result = invoke("report", "--study", "h.yaml", "--out", "rep")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "rep" / "index.html").read_text()
    assert HOSTILE in (tmp_path / "rep" / "data" / "trials.csv").read_text()  # the value is there, as data
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


PASSWORD = "hunter2-Sekret"


def test_a_password_in_the_storage_url_never_reaches_output_reports_or_exports(tmp_path, pg_url, monkeypatch):
    """PostgreSQL only: an SQLite URL carries no password."""
    url = pg_url.replace("postgresql+psycopg://postgres@", f"postgresql+psycopg://postgres:{PASSWORD}@")
    assert PASSWORD in url  # the test server trusts local connections, so any password is accepted
    monkeypatch.setenv("AUTOTUNE_PROGRESS", "lines")
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(tiny_digits_spec(trials=2), sort_keys=False))
    outputs = [
        invoke("run", "--study", "s.yaml", "--storage", url),
        invoke("run", "--study", "s.yaml", "--storage", url, "--trials", "3", "--json"),
        invoke("studies", "--storage", url),
        invoke("studies", "--storage", url, "--json"),
        invoke("report", "--study", "s.yaml", "--storage", url, "--out", "rep"),
        invoke("export", "--study", "s.yaml", "--storage", url, "--out", "exp"),
        invoke("replay", "--study", "s.yaml", "--storage", url, "--trial", "best", "--json"),
        invoke("run", "--study", "s.yaml", "--storage", url.replace("/t_", "/missing_t_")),
    ]
    assert [r.exit_code for r in outputs] == [0, 0, 0, 0, 0, 0, 0, 1]
    assert "postgres:***@" in outputs[0].stdout + outputs[2].stdout
    for result in outputs:
        assert PASSWORD not in result.stdout + result.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "provenance.json" for p in written) and any(p.name == "index.html" for p in written)
    for path in written:
        assert PASSWORD.encode() not in path.read_bytes(), path
    stored = json.loads(outputs[3].stdout)
    assert PASSWORD not in json.dumps(stored)
